// IKEv1 half-open admission (issue 20): a trickle of Main Mode message 1s from one host, or a
// flood of them from spoofed sources, must not lock legitimate peers out; plus IOS call
// admission limits (`crypto call admission limit ike in-negotiation-sa N` / `ike sa N`).
import t from 'tap';
import { Net, entry, ofType, pol, sel, type Peer } from './harness.js';
import type { TransformSet } from '../../firmware/ike/v1/policy.js';
import { buildPhase1Sa } from '../../firmware/ike/v1/policy.js';
import { ExchangeType, PayloadType, ZERO_COOKIE, encodeMessage } from '../../firmware/proto/ikev1/index.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const ts: TransformSet = { name: 's', esp: { cipher: 'esp-aes', keyLenBits: 256, integrity: 'sha' }, mode: 'tunnel' };

let cookieSeed = 1;
/** An 84-byte-class Main Mode message 1 with a fresh initiator cookie. */
function mm1(): Uint8Array {
  const cky = new Uint8Array(8);
  new DataView(cky.buffer).setUint32(0, cookieSeed++);
  new DataView(cky.buffer).setUint32(4, 0x5eed0000 ^ cookieSeed);
  return encodeMessage({ initiatorCookie: cky, responderCookie: ZERO_COOKIE, exchangeType: ExchangeType.IDENTITY_PROTECTION, flags: 0, messageId: 0 },
    [buildPhase1Sa([{ priority: 1, encryption: 'aes256', hash: 'sha', authentication: 'pre-share', group: 14, lifetimeSec: 86400 }])]);
}

function pair(extraB: Parameters<Net['add']>[0]['extra'] = {}): { net: Net; a: Peer; b: Peer } {
  const net = new Net();
  const a = net.add({ address: A, policies: [pol(10, 'aes256', 'sha', 14)], keys: [{ address: B, key: 'k' }], entries: [entry(B, '192.168.1.0/24', '192.168.2.0/24', [ts])] });
  const b = net.add({ address: B, policies: [pol(10, 'aes256', 'sha', 14)], keys: [{ address: '0.0.0.0', mask: '0.0.0.0', key: 'k' }], entries: [entry(A, '192.168.2.0/24', '192.168.1.0/24', [ts])], extra: extraB });
  return { net, a, b };
}

function initiate(a: Peer, remote = B): void {
  a.engine.initiate({
    local: { address: A, port: 500 }, remote: { address: remote, port: 500 },
    quickMode: { localSel: sel('192.168.1.0/24'), remoteSel: sel('192.168.2.0/24'), transformSets: [ts], lifetimeSec: 3600, lifetimeKb: 4608000 },
  });
}

function flood(b: Peer, n: number, source: (i: number) => string): void {
  for (let i = 0; i < n; i++) b.engine.receive({ data: mm1(), local: { address: B, port: 500 }, remote: { address: source(i), port: 500 } });
  b.engine.drainOutbox();
}

t.test('a trickle of 300 MM1s from one ordinary host does not lock a legitimate peer out', async (t) => {
  const { net, a, b } = pair();
  flood(b, 300, () => '198.51.100.50');
  t.ok(b.engine.halfOpenCount() <= 8, `one source holds at most 8 half-open negotiations (${b.engine.halfOpenCount()})`);
  initiate(a);
  net.pump();
  t.equal(ofType(a.events, 'phase1-up').length, 1, 'the legitimate peer connects at once');
  t.equal(ofType(b.events, 'ipsec-up').length, 1);
  t.ok(b.engine.admission.evictedPerSource >= 292, 'the host only displaced its own negotiations');
  t.equal(b.engine.admission.incomingRequests, 301);
});

t.test('a flood of spoofed MM1s (fresh cookies, 5000 sources) while a legitimate peer connects', async (t) => {
  const { net, a, b } = pair({ halfOpenLimit: 256 });
  let next = 0;
  const spoofed = (): string => `198.51.${100 + ((next >> 8) & 0x3f)}.${next++ & 0xff}`;
  flood(b, 1000, spoofed);
  t.equal(b.engine.halfOpenCount(), 256, 'in-negotiation limit reached');
  initiate(a);
  let rounds = 0;
  // 200 spoofed MM1s arrive between every two messages of the legitimate exchange
  while (ofType(a.events, 'ipsec-up').length === 0 && rounds < 50) {
    flood(b, 200, spoofed);
    net.pump(1);
    rounds++;
  }
  t.equal(ofType(a.events, 'phase1-up').length, 1, 'legitimate phase 1 up under the flood');
  t.equal(ofType(a.events, 'ipsec-up').length, 1, 'and its quick mode');
  t.ok(rounds <= 6, `in its normal number of round trips (${rounds} rounds)`);
  t.ok(b.engine.halfOpenCount() <= 256, 'half-open state bounded');
  t.ok(b.engine.admission.evicted > 0, 'oldest unanswered negotiations evicted');
  t.comment(`flood MM1s: ${next}, rounds: ${rounds}, evicted: ${b.engine.admission.evicted}`);
  // shorter lifetime under pressure: unanswered negotiations go after 5 s, not 90 s
  net.advance(6000, 1000);
  t.equal(b.engine.halfOpenCount(), 0, 'unanswered negotiations expired early under pressure');
  t.ok(b.engine.admission.expiredUnderPressure > 0);
  t.equal(b.engine.listPhase1().filter((s) => s.established).length, 1, 'the legitimate SA stays');
});

t.test('without pressure an unanswered negotiation keeps the full 90 s', async (t) => {
  const { b, net } = pair();
  flood(b, 3, (i) => `198.51.100.${i + 1}`);
  net.advance(6000, 1000);
  t.equal(b.engine.halfOpenCount(), 3);
  net.advance(90_000, 1000);
  t.equal(b.engine.halfOpenCount(), 0);
  t.equal(b.engine.admission.expiredUnderPressure, 0);
});

t.test('crypto call admission limit ike sa: new ISAKMP SAs refused beyond the limit, both directions', async (t) => {
  const { net, a, b } = pair({ saLimit: 1 });
  initiate(a);
  net.pump();
  t.equal(ofType(b.events, 'phase1-up').length, 1);
  flood(b, 5, (i) => `198.51.100.${i + 1}`);
  t.equal(b.engine.admission.rejectedSaLimit, 5);
  t.equal(b.engine.admission.incomingRejected, 5);
  t.equal(b.engine.halfOpenCount(), 0);
  b.engine.initiate({ local: { address: B, port: 500 }, remote: { address: '10.0.0.9', port: 500 } });
  t.match(ofType(b.engine.drainEvents(), 'phase1-failed')[0], { reason: /call admission/ });
  t.equal(b.engine.admission.outgoingRejected, 1);
});

t.test('crypto call admission limit ike in-negotiation-sa: refused when nothing can be evicted', async (t) => {
  const { b } = pair({ halfOpenLimit: 2 });
  // our own outgoing negotiations are never evicted
  b.engine.initiate({ local: { address: B, port: 500 }, remote: { address: '10.0.0.8', port: 500 } });
  b.engine.initiate({ local: { address: B, port: 500 }, remote: { address: '10.0.0.9', port: 500 } });
  t.equal(b.engine.halfOpenCount(), 2);
  flood(b, 1, () => '198.51.100.1');
  t.equal(b.engine.admission.rejectedInNegotiationLimit, 1);
  t.equal(b.engine.counters.halfOpenRejected, 1);
  t.equal(b.engine.admission.outgoingAccepted, 2);
});
