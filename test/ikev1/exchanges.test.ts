import t, { type Test } from 'tap';
import { Net, entry, ofType, pol, sel, type Peer } from './harness.js';
import type { TransformSet } from '../../firmware/ike/v1/policy.js';
import type { IpsecSaInfo } from '../../firmware/ike/v1/engine.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const aes256sha: TransformSet = { name: 'aasset', esp: { cipher: 'esp-aes', keyLenBits: 256, integrity: 'sha' }, mode: 'tunnel' };
const des3md5: TransformSet = { name: 't3', esp: { cipher: 'esp-3des', integrity: 'md5' }, mode: 'tunnel' };
const aes128sha256: TransformSet = { name: 't128', esp: { cipher: 'esp-aes', keyLenBits: 128, integrity: 'sha256' }, mode: 'tunnel' };

function pairKeysMatch(t: Test, a: IpsecSaInfo, b: IpsecSaInfo): void {
  t.equal(a.outbound.spi, b.inbound.spi, 'A outbound SPI = B inbound SPI');
  t.equal(a.inbound.spi, b.outbound.spi, 'A inbound SPI = B outbound SPI');
  t.same(a.outbound.encKey, b.inbound.encKey, 'enc keys A->B');
  t.same(a.outbound.authKey, b.inbound.authKey, 'auth keys A->B');
  t.same(a.inbound.encKey, b.outbound.encKey, 'enc keys B->A');
  t.notSame(a.inbound.encKey, a.outbound.encKey, 'directions differ');
}

function setup(opts: {
  polA: ReturnType<typeof pol>[]; polB: ReturnType<typeof pol>[]; setsA: TransformSet[]; setsB: TransformSet[];
  pfsA?: number; pfsB?: number; keyA?: string; keyB?: string; lifeB?: number;
}): { net: Net; a: Peer; b: Peer } {
  const net = new Net();
  const a = net.add({
    address: A, policies: opts.polA, keys: [{ address: B, key: opts.keyA ?? 'cisco123' }],
    entries: [entry(B, '192.168.1.0/24', '192.168.2.0/24', opts.setsA, opts.pfsA ? { pfsGroup: opts.pfsA } : {})],
  });
  const b = net.add({
    address: B, policies: opts.polB, keys: [{ address: A, key: opts.keyB ?? 'cisco123' }],
    entries: [entry(A, '192.168.2.0/24', '192.168.1.0/24', opts.setsB, { ...(opts.pfsB ? { pfsGroup: opts.pfsB } : {}), ...(opts.lifeB ? { lifetimeSec: opts.lifeB } : {}) })],
  });
  return { net, a, b };
}

function start(net: Net, aggressive = false, pfs?: number, sets: TransformSet[] = [aes256sha], lifetimeSec = 3600): void {
  net.peers.get(A)!.engine.initiate({
    local: { address: A, port: 500 }, remote: { address: B, port: 500 }, aggressive,
    quickMode: { localSel: sel('192.168.1.0/24'), remoteSel: sel('192.168.2.0/24'), transformSets: sets, ...(pfs ? { pfsGroup: pfs } : {}), lifetimeSec, lifetimeKb: 4608000 },
  });
  net.pump();
}

t.test('main mode aes256/sha/group2 + esp-aes 256 esp-sha-hmac', async (t) => {
  const { net, a, b } = setup({ polA: [pol(10, 'aes256', 'sha', 2)], polB: [pol(10, 'aes256', 'sha', 2)], setsA: [aes256sha], setsB: [aes256sha] });
  start(net);
  const p1a = ofType(a.events, 'phase1-up');
  const p1b = ofType(b.events, 'phase1-up');
  t.equal(p1a.length, 1);
  t.equal(p1b.length, 1);
  t.equal(p1a[0]!.sa.params.encryption, 'aes256');
  t.equal(p1a[0]!.sa.mode, 'main');
  t.equal(p1b[0]!.sa.peerId, A);
  t.equal(p1a[0]!.sa.initiatorCookie, p1b[0]!.sa.initiatorCookie);
  const ua = ofType(a.events, 'ipsec-up');
  const ub = ofType(b.events, 'ipsec-up');
  t.equal(ua.length, 1);
  t.equal(ub.length, 1);
  const sa = ua[0]!.sa;
  t.equal(sa.cipher, 'esp-aes');
  t.equal(sa.keyLenBits, 256);
  t.equal(sa.integrity, 'sha');
  t.equal(sa.outbound.encKey.length, 32);
  t.equal(sa.outbound.authKey.length, 20);
  t.equal(sa.udpEncap, false);
  t.equal(sa.mode, 'tunnel');
  t.same(ub[0]!.sa.localSel, sel('192.168.2.0/24'));
  t.same(ub[0]!.sa.remoteSel, sel('192.168.1.0/24'));
  pairKeysMatch(t, sa, ub[0]!.sa);
  t.equal(a.engine.listPhase1()[0]!.state, 'QM_IDLE');
  t.equal(a.engine.halfOpenCount(), 0);
  t.equal(b.engine.halfOpenCount(), 0);
});

t.test('main mode 3des/md5/group2 + esp-3des esp-md5-hmac', async (t) => {
  const { net, a, b } = setup({ polA: [pol(10, '3des', 'md5', 2)], polB: [pol(20, '3des', 'md5', 2)], setsA: [des3md5], setsB: [des3md5] });
  start(net, false, undefined, [des3md5]);
  const ua = ofType(a.events, 'ipsec-up');
  const ub = ofType(b.events, 'ipsec-up');
  t.equal(ua.length, 1);
  t.equal(ub.length, 1);
  t.equal(ua[0]!.sa.outbound.encKey.length, 24);
  t.equal(ua[0]!.sa.outbound.authKey.length, 16);
  pairKeysMatch(t, ua[0]!.sa, ub[0]!.sa);
  t.equal(ofType(b.events, 'phase1-up')[0]!.sa.params.hash, 'md5');
});

t.test('aes128/sha256/group14 with PFS group14', async (t) => {
  const { net, a, b } = setup({ polA: [pol(10, 'aes128', 'sha256', 14)], polB: [pol(10, 'aes128', 'sha256', 14)], setsA: [aes128sha256], setsB: [aes128sha256], pfsA: 14, pfsB: 14 });
  start(net, false, 14, [aes128sha256]);
  const ua = ofType(a.events, 'ipsec-up');
  const ub = ofType(b.events, 'ipsec-up');
  t.equal(ua.length, 1);
  t.equal(ub.length, 1);
  t.equal(ua[0]!.sa.pfsGroup, 14);
  t.equal(ua[0]!.sa.outbound.authKey.length, 32);
  pairKeysMatch(t, ua[0]!.sa, ub[0]!.sa);
});

t.test('responder with set pfs refuses a proposal without PFS', async (t) => {
  const { net, a, b } = setup({ polA: [pol(10, 'aes128', 'sha', 14)], polB: [pol(10, 'aes128', 'sha', 14)], setsA: [aes128sha256], setsB: [aes128sha256], pfsB: 14 });
  start(net, false, undefined, [aes128sha256]);
  t.equal(ofType(a.events, 'phase1-up').length, 1);
  t.equal(ofType(a.events, 'ipsec-up').length, 0);
  t.equal(ofType(b.events, 'ipsec-up').length, 0);
  t.match(ofType(b.events, 'ipsec-failed')[0], { reason: /PFS/ });
  t.match(ofType(a.events, 'ipsec-failed')[0], { notifyType: 14 });
});

t.test('aggressive mode', async (t) => {
  const { net, a, b } = setup({ polA: [pol(10, 'aes256', 'sha', 2)], polB: [pol(10, 'aes256', 'sha', 2)], setsA: [aes256sha], setsB: [aes256sha] });
  start(net, true);
  const p1a = ofType(a.events, 'phase1-up');
  t.equal(p1a.length, 1);
  t.equal(p1a[0]!.sa.mode, 'aggressive');
  t.equal(ofType(b.events, 'phase1-up')[0]!.sa.mode, 'aggressive');
  const ua = ofType(a.events, 'ipsec-up');
  const ub = ofType(b.events, 'ipsec-up');
  t.equal(ua.length, 1);
  t.equal(ub.length, 1);
  pairKeysMatch(t, ua[0]!.sa, ub[0]!.sa);
  // aggressive: 3 phase-1 messages + 3 quick mode messages
  t.equal(net.delivered.length, 6);
});

t.test('initiator offers policies in order; responder picks the first of ITS OWN that matches', async (t) => {
  const { net, a, b } = setup({
    polA: [pol(5, 'aes256', 'sha', 2), pol(10, '3des', 'md5', 2), pol(20, 'aes128', 'sha', 2)],
    polB: [pol(1, 'aes128', 'sha', 2), pol(2, '3des', 'md5', 2)],
    setsA: [aes256sha], setsB: [aes256sha],
  });
  start(net);
  t.equal(ofType(a.events, 'phase1-up')[0]!.sa.params.encryption, 'aes128');
  t.equal(ofType(b.events, 'phase1-up')[0]!.sa.params.encryption, 'aes128');
});

t.test('lifetime: offered ISAKMP lifetime longer than the responder policy does not match', async (t) => {
  const { net, a, b } = setup({ polA: [pol(10, 'aes256', 'sha', 2, 86400), pol(20, 'aes256', 'sha', 2, 3600)], polB: [pol(10, 'aes256', 'sha', 2, 7200)], setsA: [aes256sha], setsB: [aes256sha] });
  start(net);
  t.equal(ofType(a.events, 'phase1-up')[0]!.sa.params.lifetimeSec, 3600, 'shorter offered lifetime used');
  void b;
});

t.test('policy mismatch', async (t) => {
  const { net, a, b } = setup({ polA: [pol(10, 'aes256', 'sha', 2)], polB: [pol(10, 'aes256', 'sha', 5)], setsA: [aes256sha], setsB: [aes256sha] });
  start(net);
  t.equal(ofType(a.events, 'phase1-up').length, 0);
  t.match(ofType(a.events, 'phase1-failed')[0], { notifyType: 14, reason: /NO-PROPOSAL-CHOSEN/ });
  t.match(ofType(b.events, 'phase1-failed')[0], { notifyType: 14 });
  t.match(ofType(a.events, 'ipsec-failed')[0], { reason: /phase 1 failed/ });
  t.equal(b.engine.halfOpenCount(), 0);
  t.equal(a.engine.halfOpenCount(), 0);
});

t.test('pre-shared key mismatch', async (t) => {
  for (const aggressive of [false, true]) {
    const { net, a, b } = setup({ polA: [pol(10, 'aes256', 'sha', 2)], polB: [pol(10, 'aes256', 'sha', 2)], setsA: [aes256sha], setsB: [aes256sha], keyB: 'wrong-key' });
    start(net, aggressive);
    net.advance(120_000, 1000);
    t.equal(ofType(a.events, 'phase1-up').length, 0, `${aggressive ? 'AM' : 'MM'}: initiator not up`);
    t.equal(ofType(b.events, 'phase1-up').length, 0, 'responder not up');
    t.ok(ofType(a.events, 'phase1-failed').length === 1, 'initiator failed');
    t.ok(ofType(b.events, 'phase1-failed').length >= 1, 'responder failed');
    t.equal(a.engine.halfOpenCount() + b.engine.halfOpenCount(), 0, 'no half-open state left');
    const lines = [...a.debug, ...b.debug].map((e) => e.text).join('\n');
    t.notMatch(lines, /cisco123|wrong-key/, 'keys never in debug output');
  }
});

t.test('retransmission on loss', async (t) => {
  const { net, a, b } = setup({ polA: [pol(10, 'aes256', 'sha', 2)], polB: [pol(10, 'aes256', 'sha', 2)], setsA: [aes256sha], setsB: [aes256sha] });
  let n = 0;
  // lose the 3rd (MM3) and 6th (MM6) datagrams on the wire once each
  net.drop = () => {
    n++;
    return n === 3 || n === 7;
  };
  start(net);
  t.equal(ofType(a.events, 'phase1-up').length, 0, 'not up before retransmission');
  net.advance(30_000, 500);
  t.equal(ofType(a.events, 'phase1-up').length, 1);
  t.equal(ofType(b.events, 'phase1-up').length, 1);
  t.equal(ofType(a.events, 'ipsec-up').length, 1);
  t.equal(ofType(b.events, 'ipsec-up').length, 1);
  t.ok(a.engine.counters.txRetransmits >= 2, 'initiator retransmitted');
  t.ok(b.engine.counters.rxRetransmits >= 1, 'responder saw a retransmission and answered it');
  pairKeysMatch(t, ofType(a.events, 'ipsec-up')[0]!.sa, ofType(b.events, 'ipsec-up')[0]!.sa);
});

t.test('quick mode HASH(3) lost: responder retransmits, initiator re-sends HASH(3)', async (t) => {
  const { net, a, b } = setup({ polA: [pol(10, 'aes256', 'sha', 2)], polB: [pol(10, 'aes256', 'sha', 2)], setsA: [aes256sha], setsB: [aes256sha] });
  let n = 0;
  net.drop = () => ++n === 9;
  start(net);
  t.equal(ofType(a.events, 'ipsec-up').length, 1);
  t.equal(ofType(b.events, 'ipsec-up').length, 0);
  net.advance(10_000, 500);
  t.equal(ofType(b.events, 'ipsec-up').length, 1);
  t.equal(ofType(a.events, 'ipsec-up').length, 1, 'initiator did not install twice');
});

t.test('no answer: initiator gives up after bounded retransmissions', async (t) => {
  const { net, a } = setup({ polA: [pol(10, 'aes256', 'sha', 2)], polB: [pol(10, 'aes256', 'sha', 2)], setsA: [aes256sha], setsB: [aes256sha] });
  net.drop = () => true;
  start(net);
  net.advance(300_000, 1000);
  t.equal(ofType(a.events, 'phase1-failed').length, 1);
  t.equal(a.engine.counters.txPackets, 6, '1 + 5 retransmissions');
  t.equal(a.engine.halfOpenCount(), 0);
});

t.test('DELETE of IPsec SA and ISAKMP SA', async (t) => {
  const { net, a, b } = setup({ polA: [pol(10, 'aes256', 'sha', 2)], polB: [pol(10, 'aes256', 'sha', 2)], setsA: [aes256sha], setsB: [aes256sha] });
  start(net);
  const sa = ofType(a.events, 'ipsec-up')[0]!.sa;
  a.engine.deleteIpsecSa(sa.inbound.spi);
  net.pump();
  t.match(ofType(a.events, 'ipsec-deleted')[0], { reason: 'cleared', inboundSpi: sa.inbound.spi });
  const del = ofType(b.events, 'ipsec-deleted');
  t.equal(del.length, 1);
  t.equal(del[0]!.reason, 'deleted-by-peer');
  t.equal(del[0]!.outboundSpi, sa.inbound.spi);
  t.equal(b.engine.listIpsec().length, 0);
  a.engine.deletePhase1(ofType(a.events, 'phase1-up')[0]!.sa.connId);
  net.pump();
  t.match(ofType(b.events, 'phase1-down')[0], { reason: 'deleted-by-peer' });
  t.equal(b.engine.listPhase1().length, 0);
  t.equal(a.engine.listPhase1().length, 0);
});

t.test('INITIAL-CONTACT clears old SAs of a rebooted peer', async (t) => {
  const { net, a, b } = setup({ polA: [pol(10, 'aes256', 'sha', 2)], polB: [pol(10, 'aes256', 'sha', 2)], setsA: [aes256sha], setsB: [aes256sha] });
  start(net);
  t.equal(b.engine.listIpsec().length, 1);
  // A "reboots": a fresh engine with the same config
  net.peers.delete(A);
  const a2 = net.add({ address: A, policies: [pol(10, 'aes256', 'sha', 2)], keys: [{ address: B, key: 'cisco123' }], entries: [entry(B, '192.168.1.0/24', '192.168.2.0/24', [aes256sha])] });
  start(net);
  t.equal(ofType(a2.events, 'ipsec-up').length, 1);
  t.match(ofType(b.events, 'phase1-down')[0], { reason: 'initial-contact' });
  t.match(ofType(b.events, 'ipsec-deleted')[0], { reason: 'initial-contact' });
  t.equal(b.engine.listIpsec().length, 1, 'only the new SA remains');
  void a;
});

t.test('DPD: keepalives answered, then a dead peer is detected', async (t) => {
  const dpd = { intervalSec: 10, retrySec: 2 };
  const net = new Net();
  const a = net.add({ address: A, policies: [pol(10, 'aes256', 'sha', 2)], keys: [{ address: B, key: 'k' }], entries: [entry(B, '192.168.1.0/24', '192.168.2.0/24', [aes256sha])], dpd });
  const b = net.add({ address: B, policies: [pol(10, 'aes256', 'sha', 2)], keys: [{ address: A, key: 'k' }], entries: [entry(A, '192.168.2.0/24', '192.168.1.0/24', [aes256sha])] });
  start(net);
  t.equal(ofType(a.events, 'phase1-up')[0]!.sa.dpd, true, 'DPD vendor ID exchanged');
  net.advance(60_000, 1000);
  t.equal(ofType(a.events, 'peer-dead').length, 0, 'live peer not declared dead');
  t.ok(a.debug.some((e) => /R_U_THERE sequence/.test(e.text)), 'R-U-THERE sent');
  t.ok(b.engine.counters.txPackets > 6, 'responder answered with R-U-THERE-ACK');
  net.drop = (_d, from) => from === B;
  net.advance(60_000, 1000);
  t.equal(ofType(a.events, 'peer-dead').length, 1);
  t.match(ofType(a.events, 'ipsec-deleted')[0], { reason: 'dpd' });
  t.match(ofType(a.events, 'phase1-down')[0], { reason: 'dpd' });
  t.equal(a.engine.listIpsec().length, 0);
});

t.test('NAT-D detection and float to 4500', async (t) => {
  const { net, a, b } = setup({ polA: [pol(10, 'aes256', 'sha', 2)], polB: [pol(10, 'aes256', 'sha', 2)], setsA: [aes256sha], setsB: [aes256sha] });
  net.nat = { inside: A, outside: '203.0.113.9' };
  // B must know A by its public address
  net.peers.delete(B);
  const b2 = net.add({ address: B, policies: [pol(10, 'aes256', 'sha', 2)], keys: [{ address: '203.0.113.9', key: 'cisco123' }], entries: [entry('203.0.113.9', '192.168.2.0/24', '192.168.1.0/24', [aes256sha])] });
  start(net);
  const pa = ofType(a.events, 'phase1-up')[0]!.sa;
  const pb = ofType(b2.events, 'phase1-up')[0]!.sa;
  t.equal(pa.natLocal, true, 'initiator sees itself behind NAT');
  t.equal(pa.natRemote, false);
  t.equal(pb.natRemote, true, 'responder sees the peer behind NAT');
  t.equal(pb.natLocal, false);
  t.equal(pa.local.port, 4500);
  t.equal(pa.remote.port, 4500);
  t.equal(pb.local.port, 4500);
  t.equal(pb.remote.port, 10000 + 4500, 'responder follows the NAT mapping of port 4500');
  const ua = ofType(a.events, 'ipsec-up')[0]!.sa;
  const ub = ofType(b2.events, 'ipsec-up')[0]!.sa;
  t.equal(ua.udpEncap, true);
  t.equal(ub.udpEncap, true);
  pairKeysMatch(t, ua, ub);
  // a forged message with the right cookies from elsewhere must not move the SA (RFC 3947 float)
  const hdr = net.delivered[net.delivered.length - 1]!.d.data.slice();
  hdr.fill(0x5a, 28);
  b2.engine.receive({ data: hdr, local: { address: B, port: 4500 }, remote: { address: '198.51.100.7', port: 4500 } });
  t.same(b2.engine.listPhase1()[0]!.remote, { address: '203.0.113.9', port: 14500 }, 'unauthenticated packet did not move the peer');
  void b;
});

t.test('no NAT: stays on 500, no encapsulation; forceEncap floats anyway', async (t) => {
  const { net, a } = setup({ polA: [pol(10, 'aes256', 'sha', 2)], polB: [pol(10, 'aes256', 'sha', 2)], setsA: [aes256sha], setsB: [aes256sha] });
  start(net);
  t.equal(ofType(a.events, 'phase1-up')[0]!.sa.local.port, 500);
  const net2 = new Net();
  const a2 = net2.add({ address: A, policies: [pol(10, 'aes256', 'sha', 2)], keys: [{ address: B, key: 'k' }], entries: [entry(B, '192.168.1.0/24', '192.168.2.0/24', [aes256sha])], forceEncap: true });
  const b2 = net2.add({ address: B, policies: [pol(10, 'aes256', 'sha', 2)], keys: [{ address: A, key: 'k' }], entries: [entry(A, '192.168.2.0/24', '192.168.1.0/24', [aes256sha])] });
  start(net2);
  t.equal(ofType(a2.events, 'ipsec-up')[0]!.sa.udpEncap, true);
  t.equal(ofType(b2.events, 'ipsec-up')[0]!.sa.udpEncap, true);
  t.equal(ofType(b2.events, 'phase1-up')[0]!.sa.natRemote, true);
});

t.test('RESPONDER-LIFETIME: responder with a shorter IPsec lifetime', async (t) => {
  const { net, a, b } = setup({ polA: [pol(10, 'aes256', 'sha', 2)], polB: [pol(10, 'aes256', 'sha', 2)], setsA: [aes256sha], setsB: [aes256sha], lifeB: 900 });
  start(net, false, undefined, [aes256sha], 3600);
  t.equal(ofType(b.events, 'ipsec-up')[0]!.sa.lifetimeSec, 900);
  t.equal(ofType(a.events, 'ipsec-up')[0]!.sa.lifetimeSec, 900, 'initiator applied RESPONDER-LIFETIME');
  t.ok(a.debug.some((e) => /RESPONDER_LIFETIME/.test(e.text)));
});

t.test('quick mode: the responder accepts the first offered set it also has', async (t) => {
  const { net, a, b } = setup({ polA: [pol(10, 'aes256', 'sha', 2)], polB: [pol(10, 'aes256', 'sha', 2)], setsA: [des3md5, aes128sha256, aes256sha], setsB: [aes256sha, aes128sha256] });
  start(net, false, undefined, [des3md5, aes128sha256, aes256sha]);
  t.equal(ofType(b.events, 'ipsec-up')[0]!.sa.integrity, 'sha256');
  t.equal(ofType(a.events, 'ipsec-up')[0]!.sa.keyLenBits, 128);
});

t.test('DPD on-demand: R-U-THERE only after outbound traffic without an answer', async (t) => {
  const dpd = { intervalSec: 10, retrySec: 2, mode: 'on-demand' as const };
  const net = new Net();
  const a = net.add({ address: A, policies: [pol(10, 'aes256', 'sha', 2)], keys: [{ address: B, key: 'k' }], entries: [], dpd });
  net.add({ address: B, policies: [pol(10, 'aes256', 'sha', 2)], keys: [{ address: A, key: 'k' }], entries: [entry(A, '192.168.2.0/24', '192.168.1.0/24', [aes256sha])] });
  start(net);
  net.drop = (_d, from) => from === B;
  net.advance(60_000, 1000);
  t.equal(a.debug.filter((e) => /R_U_THERE/.test(e.text)).length, 0, 'idle tunnel: no keepalives');
  t.equal(ofType(a.events, 'peer-dead').length, 0);
  a.engine.noteOutboundTraffic(B);
  net.advance(60_000, 1000);
  t.ok(a.debug.some((e) => /R_U_THERE/.test(e.text)), 'traffic sent, nothing heard: keepalive');
  t.equal(ofType(a.events, 'peer-dead').length, 1);
});

t.test('clear crypto session remote: DELETE for IPsec and ISAKMP SAs; timers', async (t) => {
  const { net, a, b } = setup({ polA: [pol(10, 'aes256', 'sha', 2)], polB: [pol(10, 'aes256', 'sha', 2)], setsA: [aes256sha], setsB: [aes256sha] });
  start(net);
  t.ok(a.engine.nextTimerAt()! > net.now, 'a timer is pending (phase-1 lifetime / exchange cleanup)');
  a.engine.clearPeer(B);
  net.pump();
  t.match(ofType(a.events, 'ipsec-deleted')[0], { reason: 'cleared' });
  t.match(ofType(b.events, 'ipsec-deleted')[0], { reason: 'deleted-by-peer' });
  t.match(ofType(a.events, 'phase1-down')[0], { reason: 'cleared' });
  t.match(ofType(b.events, 'phase1-down')[0], { reason: 'deleted-by-peer' });
  t.equal(a.engine.listIpsec().length + b.engine.listIpsec().length, 0);
  t.equal(a.engine.listPhase1().length + b.engine.listPhase1().length, 0);
  // a new trigger builds everything again
  start(net);
  t.equal(ofType(b.events, 'ipsec-up').length, 2);
});
