// The guide's "Mirror Image Crypto Access Lists at Each IPsec Peer": Router M permits only
// host A <-> host B, Router N permits subnet X <-> subnet Y (A in X, B in Y).
//   Case 3: M initiates for A->B: a subset of N's permits -> accepted.
//   Case 4: N initiates for X->Y: a superset of M's permits -> refused.
import t from 'tap';
import { Net, ofType, pol, sel } from './harness.js';
import type { TransformSet } from '../../firmware/ike/v1/policy.js';
import { findPermitForFlow, idToSelector, selectorToId, selectorWithin } from '../../firmware/ike/v1/selectors.js';
import { idIpv4Range } from '../../firmware/proto/ikev1/index.js';

const M = '172.16.0.1';
const N = '172.16.0.2';
const ts: TransformSet = { name: 'ts', esp: { cipher: 'esp-aes', keyLenBits: 128, integrity: 'sha' }, mode: 'tunnel' };
const hostA = sel('10.1.1.10/32');
const hostB = sel('10.2.2.20/32');
const subnetX = sel('10.1.1.0/24');
const subnetY = sel('10.2.2.0/24');

function build(): Net {
  const net = new Net();
  net.add({ address: M, policies: [pol(10, 'aes128', 'sha', 2)], keys: [{ address: N, key: 'k' }],
    entries: [{ mapName: 'm', seq: 10, peers: [N], permits: [{ local: hostA, remote: hostB }], transformSets: [ts], lifetimeSec: 3600, lifetimeKb: 4608000 }] });
  net.add({ address: N, policies: [pol(10, 'aes128', 'sha', 2)], keys: [{ address: M, key: 'k' }],
    entries: [{ mapName: 'n', seq: 10, peers: [M], permits: [{ local: subnetY, remote: subnetX }], transformSets: [ts], lifetimeSec: 3600, lifetimeKb: 4608000 }] });
  return net;
}

const qm = (localSel: typeof hostA, remoteSel: typeof hostA) => ({ localSel, remoteSel, transformSets: [ts], lifetimeSec: 3600, lifetimeKb: 4608000 });

t.test('Case 3: M requests host A <-> host B, inside N\'s subnet permits: SA established', async (t) => {
  const net = build();
  const m = net.peers.get(M)!;
  const n = net.peers.get(N)!;
  m.engine.initiate({ local: { address: M, port: 500 }, remote: { address: N, port: 500 }, quickMode: qm(hostA, hostB) });
  net.pump();
  t.equal(ofType(m.events, 'ipsec-up').length, 1);
  const sa = ofType(n.events, 'ipsec-up')[0]!.sa;
  t.same(sa.localSel, hostB, 'N protects exactly the requested flow');
  t.same(sa.remoteSel, hostA);
});

t.test('Case 4: N requests subnet X <-> subnet Y, a superset of M\'s permit: refused', async (t) => {
  const net = build();
  const m = net.peers.get(M)!;
  const n = net.peers.get(N)!;
  n.engine.initiate({ local: { address: N, port: 500 }, remote: { address: M, port: 500 }, quickMode: qm(subnetY, subnetX) });
  net.pump();
  t.equal(ofType(n.events, 'phase1-up').length, 1, 'phase 1 is fine');
  t.equal(ofType(n.events, 'ipsec-up').length, 0);
  t.equal(ofType(m.events, 'ipsec-up').length, 0);
  t.match(ofType(m.events, 'ipsec-failed')[0], { reason: /proxy identities not supported/, notifyType: 18 });
  t.match(ofType(n.events, 'ipsec-failed')[0], { notifyType: 18, reason: 'INVALID-ID-INFORMATION' });
});

t.test('mirror image lists work from both sides', async (t) => {
  const net = new Net();
  const mk = (self: string, peer: string, l: typeof hostA, r: typeof hostA) => net.add({ address: self, policies: [pol(10, 'aes128', 'sha', 2)], keys: [{ address: peer, key: 'k' }],
    entries: [{ mapName: 'x', seq: 1, peers: [peer], permits: [{ local: l, remote: r }], transformSets: [ts], lifetimeSec: 3600, lifetimeKb: 4608000 }] });
  const m = mk(M, N, subnetX, subnetY);
  const n = mk(N, M, subnetY, subnetX);
  n.engine.initiate({ local: { address: N, port: 500 }, remote: { address: M, port: 500 }, quickMode: qm(subnetY, subnetX) });
  net.pump();
  t.equal(ofType(m.events, 'ipsec-up').length, 1);
  t.equal(ofType(n.events, 'ipsec-up').length, 1);
});

t.test('selector helpers', async (t) => {
  t.ok(selectorWithin(hostA, subnetX));
  t.notOk(selectorWithin(subnetX, hostA));
  t.ok(selectorWithin(sel('10.1.1.0/24', 6, 80), sel('10.1.1.0/24')), 'protocol/port inside any');
  t.notOk(selectorWithin(sel('10.1.1.0/24'), sel('10.1.1.0/24', 6, 0)), 'any protocol not inside tcp');
  t.same(idToSelector(selectorToId(subnetX)), subnetX);
  t.same(idToSelector(selectorToId(hostA)), hostA);
  t.same(idToSelector(idIpv4Range('10.1.1.0', '10.1.1.255')), subnetX, 'range that is a prefix');
  t.equal(idToSelector(idIpv4Range('10.1.1.1', '10.1.1.5')), undefined, 'arbitrary range refused');
  t.ok(findPermitForFlow([{ local: subnetY, remote: subnetX }], hostB, hostA));
  t.notOk(findPermitForFlow([{ local: subnetY, remote: subnetX }], hostA, hostB), 'direction matters');
});
