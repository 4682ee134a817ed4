// Replayed IKEv1 messages (issue 20): a Quick Mode or Informational message captured on the
// wire and replayed later, from another address, must change nothing (no endpoint move, no new
// IPsec SA, no answer) and be counted, whatever its age. Fresh authenticated exchanges from a
// new address (a NAT mapping that changed) still move the SA (RFC 3947 / 3948).
import t from 'tap';
import { Net, entry, ofType, pol, sel, type Peer } from './harness.js';
import { ExchangeType, HeaderFlag } from '../../firmware/proto/ikev1/index.js';
import type { TransformSet } from '../../firmware/ike/v1/policy.js';
import type { Datagram } from '../../firmware/ike/v1/engine.js';
import { MessageIdMemory } from '../../firmware/ike/v1/message-id-memory.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const A_PUBLIC = '203.0.113.9';
const ATTACKER = { address: '198.51.100.7', port: 4500 };
const aes = (): TransformSet => ({ name: 'ts', esp: { cipher: 'esp-aes', keyLenBits: 256, integrity: 'sha' }, mode: 'tunnel' });

/** A behind a NAT (A_PUBLIC, port + 10000), B the responder; both float to 4500. */
function natPair(extraB: Parameters<Net['add']>[0]['extra'] = {}, dpd?: { intervalSec: number; retrySec: number }): { net: Net; a: Peer; b: Peer } {
  const net = new Net();
  net.nat = { inside: A, outside: A_PUBLIC };
  const a = net.add({ address: A, policies: [pol(10, 'aes256', 'sha', 14)], keys: [{ address: B, key: 'k3y' }], entries: [entry(B, '192.168.1.0/24', '192.168.2.0/24', [aes()])], ...(dpd ? { dpd } : {}) });
  const b = net.add({ address: B, policies: [pol(10, 'aes256', 'sha', 14)], keys: [{ address: A_PUBLIC, key: 'k3y' }], entries: [entry(A_PUBLIC, '192.168.2.0/24', '192.168.1.0/24', [aes()])], extra: extraB });
  return { net, a, b };
}

function quickMode(net: Net, a: Peer, local = '192.168.1.0/24', remote = '192.168.2.0/24'): void {
  a.engine.initiate({
    local: { address: A, port: 500 }, remote: { address: B, port: 500 },
    quickMode: { localSel: sel(local), remoteSel: sel(remote), transformSets: [aes()], lifetimeSec: 3600, lifetimeKb: 4608000 },
  });
  net.pump();
}

/** Datagrams A sent to B of one exchange type, in order. */
function sentByA(net: Net, exchangeType: number): Datagram[] {
  return net.delivered.filter((w) => w.from === A && w.d.data[18] === exchangeType).map((w) => w.d);
}

function replay(b: Peer, d: Datagram): void {
  b.engine.receive({ data: d.data.slice(), local: { address: B, port: 4500 }, remote: { ...ATTACKER } });
}

t.test('Quick Mode message 1 replayed from another address, 5 s and 100 s later: nothing moves, counted', async (t) => {
  const { net, a, b } = natPair();
  quickMode(net, a);
  t.equal(ofType(b.events, 'ipsec-up').length, 1, 'tunnel up');
  const realPeer = { address: A_PUBLIC, port: 14500 };
  t.same(b.engine.listPhase1()[0]!.remote, realPeer, 'B knows A by its NAT mapping of 4500');
  const [qm1, qm3] = sentByA(net, ExchangeType.QUICK_MODE);
  t.ok(qm1 && qm3, 'captured QM1 and QM3');
  t.ok(qm1!.data[19]! & HeaderFlag.ENCRYPTION, 'QM1 is encrypted');
  for (const later of [5_000, 100_000]) {
    net.advance(later, 1000);
    const before = b.engine.counters.rxReplays;
    const txBefore = b.engine.counters.txPackets;
    replay(b, qm1!);
    t.same(b.engine.listPhase1()[0]!.remote, realPeer, `QM1 replayed after ${later / 1000} s did not move the ISAKMP SA`);
    t.equal(b.engine.counters.rxReplays, before + 1, 'replay counted');
    t.equal(b.engine.counters.txPackets, txBefore, 'no answer to the replayer');
    t.equal(b.engine.drainOutbox().length, 0);
    net.pump();
    t.equal(ofType(b.events, 'ipsec-up').length, 1, 'no second IPsec SA from the replay');
    t.equal(b.engine.listIpsec().length, 1);
  }
});

t.test('Quick Mode message 3 replayed at once and 100 s later from another address: nothing moves', async (t) => {
  const { net, a, b } = natPair();
  quickMode(net, a);
  const realPeer = b.engine.listPhase1()[0]!.remote;
  const qm3 = sentByA(net, ExchangeType.QUICK_MODE)[1]!;
  // the commit bit (RFC 2409 5.5) set by a peer does not change what a replay may do
  const committed = qm3.data.slice();
  committed[19] = committed[19]! | HeaderFlag.COMMIT;
  for (const d of [qm3, { ...qm3, data: committed }]) {
    replay(b, d);
    t.same(b.engine.listPhase1()[0]!.remote, realPeer, 'replay at once did not move the SA');
  }
  net.advance(100_000, 1000);
  const before = b.engine.counters.rxReplays;
  replay(b, qm3);
  t.same(b.engine.listPhase1()[0]!.remote, realPeer, 'replay 100 s later did not move the SA');
  t.equal(b.engine.counters.rxReplays, before + 1, 'counted as a replay');
  t.equal(b.engine.listIpsec().length, 1);
});

t.test('Informational (DPD R-U-THERE) replayed from another address: no move, no ACK, counted', async (t) => {
  const { net, a, b } = natPair({}, { intervalSec: 10, retrySec: 2 });
  quickMode(net, a);
  net.advance(15_000, 1000);
  const infos = sentByA(net, ExchangeType.INFORMATIONAL);
  t.ok(infos.length >= 1, 'A sent R-U-THERE');
  const realPeer = b.engine.listPhase1()[0]!.remote;
  net.advance(60_000, 1000);
  const before = b.engine.counters.rxReplays;
  const txBefore = b.engine.counters.txPackets;
  replay(b, infos[0]!);
  t.same(b.engine.listPhase1()[0]!.remote, realPeer, 'replayed R-U-THERE did not move the SA');
  t.equal(b.engine.counters.txPackets, txBefore, 'no R-U-THERE-ACK to the replayer');
  t.equal(b.engine.counters.rxReplays, before + 1);
  t.equal(ofType(a.events, 'peer-dead').length, 0, 'the real peer is alive');
});

t.test('replayed responses to our own exchanges (QM2 at the initiator) are dropped and counted', async (t) => {
  const { net, a, b } = natPair();
  quickMode(net, a);
  const qm2 = net.delivered.filter((w) => w.from === B && w.d.data[18] === ExchangeType.QUICK_MODE)[0]!.d;
  net.advance(100_000, 1000);
  const before = a.engine.counters.rxReplays;
  a.engine.receive({ data: qm2.data.slice(), local: { address: A, port: 4500 }, remote: { address: '198.51.100.8', port: 4500 } });
  t.equal(a.engine.counters.rxReplays, before + 1);
  t.same(a.engine.listPhase1()[0]!.remote, { address: B, port: 4500 });
  t.equal(a.engine.listIpsec().length, 1);
  void b;
});

t.test('a fresh authenticated exchange from a new NAT mapping moves the SA (RFC 3947 float)', async (t) => {
  const { net, a, b } = natPair();
  quickMode(net, a);
  // The NAT rebooted: A now appears as another public address. Its next Quick Mode is fresh.
  net.nat = { inside: A, outside: '203.0.113.77' };
  quickMode(net, a, '192.168.1.0/24', '192.168.2.0/24');
  t.same(b.engine.listPhase1()[0]!.remote, { address: '203.0.113.77', port: 14500 }, 'endpoint follows the fresh exchange');
  t.equal(b.engine.counters.rxReplays, 0);
});

t.test('message ID memory is bounded: when full, the ISAKMP SA is replaced instead of forgetting', async (t) => {
  const { net, a, b } = natPair({ messageIdMemory: 3 });
  quickMode(net, a);
  quickMode(net, a);
  quickMode(net, a);
  t.equal(ofType(b.events, 'ipsec-up').length, 3, 'three exchanges fit');
  quickMode(net, a);
  t.equal(ofType(b.events, 'ipsec-up').length, 3, 'the fourth is refused: memory full');
  net.advance(1000, 500);
  t.match(ofType(b.events, 'phase1-down')[0], { reason: 'expired' }, 'SA expired so a new phase 1 replaces it');
  t.ok(b.debug.some((e) => /message ID memory full/.test(e.text)));
});

t.test('MessageIdMemory: set semantics, growth, limit', async (t) => {
  const m = new MessageIdMemory(1000);
  const ids: number[] = [];
  let x = 12345;
  for (let i = 0; i < 1000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    ids.push(x || 1);
  }
  t.ok(ids.every((id) => m.add(id)), '1000 IDs added');
  t.equal(m.size, new Set(ids).size);
  t.ok(ids.every((id) => m.has(id)), 'all remembered');
  t.notOk(m.has(0), '0 is never a phase-2 ID');
  t.ok(m.full);
  t.notOk(m.add(7), 'a new ID does not fit when full');
  t.ok(m.add(ids[3]!), 'an ID already known is fine');
  t.notOk(m.has(7));
});
