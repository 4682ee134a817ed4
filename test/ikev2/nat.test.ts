import t from 'tap';
import { config, connection, natInFrontOfA, Pair, B_ADDR } from './harness.js';

t.test('NAT between the peers: detected by NAT_DETECTION_*, IKE floats to 4500, ESP in UDP', async (t) => {
  const PRIV = '10.0.0.1';
  const PUB = '203.0.113.5';
  const a = config([connection('to-b', PRIV, B_ADDR, { localSelectors: [{ cidr: '10.1.0.0/16' }], remoteSelectors: [{ cidr: '10.2.0.0/16' }] })]);
  const b = config([connection('any', B_ADDR, '0.0.0.0/0', { localSelectors: [{ cidr: '10.2.0.0/16' }], remoteSelectors: [{ cidr: '10.1.0.0/16' }] })]);
  const p = new Pair(a, b, 17);
  natInFrontOfA(p, PRIV, () => PUB);
  p.a.engine.initiate('to-b');
  p.pump();
  const ua = p.ofType(p.a, 'ike-up')[0]?.sa;
  const ub = p.ofType(p.b, 'ike-up')[0]?.sa;
  t.equal(ua?.natLocal, true, 'A sees a NAT in front of itself');
  t.equal(ua?.natRemote, false);
  t.equal(ub?.natRemote, true, 'B sees the NAT in front of A');
  t.equal(ub?.natLocal, false);
  t.equal(ua?.localPort, 4500, 'A floated to 4500');
  t.equal(ua?.remotePort, 4500);
  t.equal(ub?.remoteAddress, PUB, 'B answers the public address');
  t.equal(ub?.remotePort, 44500, 'and the public port of the 4500 mapping');
  const auth = p.sent.find((w) => w.from === 'a' && w.d.data[18] === 35);
  t.equal(auth?.d.localPort, 4500, 'IKE_AUTH sent from 4500');
  const ca = p.ofType(p.a, 'child-up')[0]?.child;
  const cb = p.ofType(p.b, 'child-up')[0]?.child;
  t.equal(ca?.udpEncap, true, 'A encapsulates ESP');
  t.equal(cb?.udpEncap, true, 'B encapsulates ESP');
  t.equal(cb?.remotePort, 44500);
  // Without a NAT nothing floats.
  const q = new Pair(config([connection('to-b', '192.0.2.1', B_ADDR)]), config([connection('to-a', B_ADDR, '192.0.2.1')]), 3);
  q.a.engine.initiate('to-b');
  q.pump();
  t.equal(q.ofType(q.a, 'ike-up')[0]?.sa.localPort, 500);
  t.equal(q.ofType(q.a, 'child-up')[0]?.child.udpEncap, false);
});
