// Forced UDP encapsulation without a NAT (IOS `nat force-encap`, strongSwan `encap = yes`):
// the forcing side sends a NAT_DETECTION_SOURCE_IP that cannot match, so both sides float
// IKE to 4500 and install UDP-encapsulated Child SAs. Without the option nothing moves.
import t, { type Test } from 'tap';
import { decodeMessage, ExchangeType, NotifyStatus, PayloadType, type NotifyPayload } from '../../firmware/proto/ikev2/index.js';
import { natHash } from '../../firmware/ike/v2/tasks/ike-init.js';
import { A_ADDR, B_ADDR, config, connection, Pair, simplePair } from './harness.js';

function natSourceNotify(p: Pair, from: 'a' | 'b'): { data: Uint8Array; spiI: bigint; spiR: bigint; address: string; port: number } | undefined {
  for (const w of p.sent) {
    if (w.from !== from) continue;
    const m = decodeMessage(w.d.data);
    if (m.header.exchangeType !== ExchangeType.IKE_SA_INIT) continue;
    const n = m.payloads.find((x) => x.type === PayloadType.NOTIFY && (x as NotifyPayload).notifyType === NotifyStatus.NAT_DETECTION_SOURCE_IP) as NotifyPayload | undefined;
    if (n) return { data: n.data, spiI: m.header.spiI, spiR: m.header.response ? m.header.spiR : 0n, address: w.d.localAddress, port: w.d.localPort };
  }
  return undefined;
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

function established(t: Test, p: Pair): void {
  p.a.engine.initiate('to-b');
  p.pump();
  t.equal(p.ofType(p.a, 'ike-up').length, 1, 'A: IKE SA up');
  t.equal(p.ofType(p.b, 'ike-up').length, 1, 'B: IKE SA up');
  t.equal(p.ofType(p.a, 'child-up').length, 1, 'A: child up');
  t.equal(p.ofType(p.b, 'child-up').length, 1, 'B: child up');
}

function checkForced(t: Test, p: Pair, forcing: 'a' | 'b'): void {
  const ua = p.ofType(p.a, 'ike-up')[0]!.sa;
  const ub = p.ofType(p.b, 'ike-up')[0]!.sa;
  const forcer = forcing === 'a' ? ua : ub;
  const other = forcing === 'a' ? ub : ua;
  t.equal(forcer.natLocal, true, 'the forcing side considers itself behind a NAT');
  t.equal(forcer.natRemote, false, 'and sees no NAT at the peer');
  t.equal(other.natRemote, true, 'the peer believes there is a NAT in front of the forcing side');
  t.equal(other.natLocal, false);
  for (const [name, s] of [['A', ua], ['B', ub]] as const) {
    t.equal(s.localPort, 4500, `${name}: IKE on local port 4500`);
    t.equal(s.remotePort, 4500, `${name}: IKE to remote port 4500`);
  }
  const afterInit = p.sent.filter((w) => w.d.data.length >= 28 && decodeMessage(w.d.data).header.exchangeType !== ExchangeType.IKE_SA_INIT);
  t.ok(afterInit.length >= 2, 'IKE_AUTH exchanged');
  t.ok(afterInit.every((w) => w.d.localPort === 4500 && w.d.remotePort === 4500), 'everything after IKE_SA_INIT goes 4500 -> 4500');
  const ca = p.ofType(p.a, 'child-up')[0]!.child;
  const cb = p.ofType(p.b, 'child-up')[0]!.child;
  for (const [name, c] of [['A', ca], ['B', cb]] as const) {
    t.equal(c.udpEncap, true, `${name}: child SA UDP-encapsulated`);
    t.equal(c.localPort, 4500, `${name}: child local port 4500`);
    t.equal(c.remotePort, 4500, `${name}: child remote port 4500`);
  }
  const src = natSourceNotify(p, forcing)!;
  t.ok(src, 'the forcing side sent NAT_DETECTION_SOURCE_IP');
  t.equal(src.data.length, 20, 'of the hash length');
  t.notOk(sameBytes(src.data, natHash(src.spiI, src.spiR, src.address, src.port)), 'which does not match its real address');
  const honest = natSourceNotify(p, forcing === 'a' ? 'b' : 'a')!;
  t.ok(sameBytes(honest.data, natHash(honest.spiI, honest.spiR, honest.address, honest.port)), 'the other side sent its real hash');
}

t.test('no NAT, force-encap on the initiator: IKE floats to 4500, both children UDP-encapsulated', async (t) => {
  const p = simplePair({ forceEncap: true }, {}, {}, 11);
  established(t, p);
  checkForced(t, p, 'a');
  t.ok(p.a.logs.some((l) => /IKE_SA_INIT done: .*\(NAT\)/.test(l)), 'logged as NAT');
});

t.test('no NAT, force-encap on the responder (its connection for the peer address forces)', async (t) => {
  const p = simplePair({}, { forceEncap: true }, {}, 12);
  established(t, p);
  checkForced(t, p, 'b');
});

t.test('force-encap on both sides', async (t) => {
  const p = simplePair({ forceEncap: true }, { forceEncap: true }, {}, 13);
  established(t, p);
  const ua = p.ofType(p.a, 'ike-up')[0]!.sa;
  const ub = p.ofType(p.b, 'ike-up')[0]!.sa;
  t.same([ua.natLocal, ua.natRemote, ub.natLocal, ub.natRemote], [true, true, true, true], 'each sees the other "behind a NAT" and itself too');
  t.equal(ua.localPort, 4500);
  t.equal(ub.localPort, 4500);
  t.equal(p.ofType(p.a, 'child-up')[0]!.child.udpEncap, true);
  t.equal(p.ofType(p.b, 'child-up')[0]!.child.udpEncap, true);
});

t.test('without the option: IKE stays on 500, no encapsulation', async (t) => {
  const p = simplePair({}, {}, {}, 14);
  established(t, p);
  const ua = p.ofType(p.a, 'ike-up')[0]!.sa;
  const ub = p.ofType(p.b, 'ike-up')[0]!.sa;
  t.same([ua.natLocal, ua.natRemote, ub.natLocal, ub.natRemote], [false, false, false, false], 'no NAT anywhere');
  t.equal(ua.localPort, 500);
  t.equal(ua.remotePort, 500);
  t.equal(ub.localPort, 500);
  t.ok(p.sent.every((w) => w.d.localPort === 500 && w.d.remotePort === 500), 'every datagram 500 -> 500');
  t.equal(p.ofType(p.a, 'child-up')[0]!.child.udpEncap, false);
  t.equal(p.ofType(p.b, 'child-up')[0]!.child.udpEncap, false);
});

t.test('a responder connection for another peer does not force', async (t) => {
  // B also has a forcing connection, but to another address: not a candidate for A.
  const p = new Pair(
    config([connection('to-b', A_ADDR, B_ADDR)]),
    config([connection('to-a', B_ADDR, A_ADDR), connection('other', B_ADDR, '198.51.100.9', { forceEncap: true })]),
    16,
  );
  established(t, p);
  t.equal(p.ofType(p.b, 'ike-up')[0]!.sa.natLocal, false);
  t.equal(p.ofType(p.b, 'child-up')[0]!.child.udpEncap, false);
});

t.test('CHILD SA and IKE SA rekeys keep the encapsulation', async (t) => {
  const p = simplePair({ forceEncap: true }, {}, {}, 15);
  established(t, p);
  const first = p.ofType(p.a, 'child-up')[0]!.child;
  t.ok(p.a.engine.rekeyChild(first.childId), 'child rekey started');
  p.pump();
  const ra = p.ofType(p.a, 'child-up')[1]?.child;
  const rb = p.ofType(p.b, 'child-up')[1]?.child;
  t.equal(ra?.udpEncap, true, 'A: rekeyed child encapsulated');
  t.equal(rb?.udpEncap, true, 'B: rekeyed child encapsulated');
  t.equal(ra?.remotePort, 4500);
  const ike = p.ofType(p.a, 'ike-up')[0]!.sa;
  t.ok(p.b.engine.rekeyIke(p.ofType(p.b, 'ike-up')[0]!.sa.ikeSaId), 'IKE rekey started by B');
  p.pump();
  const na = p.ofType(p.a, 'ike-up')[1]?.sa;
  t.ok(na && na.ikeSaId !== ike.ikeSaId, 'new IKE SA on A');
  t.equal(na?.natLocal, true, 'still "behind a NAT"');
  t.equal(na?.localPort, 4500, 'still on 4500');
  t.ok(p.a.engine.rekeyChild(ra!.childId), 'child rekey on the new IKE SA');
  p.pump();
  t.equal(p.ofType(p.b, 'child-up')[2]?.child.udpEncap, true, 'child created on the rekeyed IKE SA encapsulated');
});
