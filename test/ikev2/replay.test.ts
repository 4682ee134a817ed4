// Replayed IKEv2 messages and the NAT endpoint rule (RFC 7296 2.23, issue 20): only a fresh
// authenticated request (message ID newer than any seen) moves an IKE SA to the address it came
// from; a replayed request or response, or any response, from another address changes nothing.
import t from 'tap';
import { config, connection, natInFrontOfA, Pair, B_ADDR, type Wire } from './harness.js';
import { ExchangeType } from '../../firmware/proto/ikev2/index.js';

const PRIV = '10.0.0.1';
const PUB = '203.0.113.5';
const ATTACKER = '198.51.100.9';

/** A behind a NAT (PRIV -> PUB, 500 -> 40500, 4500 -> 44500), B the responder. */
function natPair(): { p: Pair; setPublic: (addr: string) => void } {
  const a = config([connection('to-b', PRIV, B_ADDR, { localSelectors: [{ cidr: '10.1.0.0/16' }], remoteSelectors: [{ cidr: '10.2.0.0/16' }] })]);
  const b = config([connection('any', B_ADDR, '0.0.0.0/0', { localSelectors: [{ cidr: '10.2.0.0/16' }], remoteSelectors: [{ cidr: '10.1.0.0/16' }] })]);
  const p = new Pair(a, b, 23);
  let pub = PUB;
  natInFrontOfA(p, PRIV, () => pub);
  p.a.engine.initiate('to-b');
  p.pump();
  return { p, setPublic: (addr) => { pub = addr; } };
}

const exchangeOf = (w: Wire): number => w.d.data[18]!;
const isResponse = (w: Wire): boolean => (w.d.data[19]! & 0x20) !== 0;

/** Delivers a captured datagram to `to` as if sent by `from` (address:port). */
function inject(p: Pair, to: 'a' | 'b', w: Wire, from: { address: string; port: number }, localAddress: string): void {
  p[to].engine.receive({ localAddress, localPort: 4500, remoteAddress: from.address, remotePort: from.port, data: w.d.data.slice() });
}

t.test('replayed requests from another address: the IKE SA does not move, counted, no answer to the replayer', async (t) => {
  const { p } = natPair();
  const bSa = (): { remoteAddress: string; remotePort: number } => p.b.engine.listIkeSas()[0]!;
  t.equal(bSa().remoteAddress, PUB);
  t.equal(bSa().remotePort, 44500);
  // Two DPD exchanges (INFORMATIONAL requests #2 and #3 from A), captured on the wire.
  p.a.engine.checkLiveness(p.a.engine.listIkeSas()[0]!.ikeSaId);
  p.pump();
  p.a.engine.checkLiveness(p.a.engine.listIkeSas()[0]!.ikeSaId);
  p.pump();
  const requests = p.sent.filter((w) => w.from === 'a' && !isResponse(w) && exchangeOf(w) !== ExchangeType.IKE_SA_INIT);
  t.equal(requests.length, 3, 'IKE_AUTH and two INFORMATIONAL requests captured');
  p.run(120_000, 10_000);
  const sentBefore = p.sent.length;
  for (const w of requests) inject(p, 'b', w, { address: ATTACKER, port: 4500 }, B_ADDR);
  t.equal(bSa().remoteAddress, PUB, 'still the real peer');
  t.equal(bSa().remotePort, 44500);
  t.equal(p.b.engine.counters.replays, 2, 'the two older requests counted as replays');
  const answers = p.sent.slice(sentBefore).filter((w) => w.from === 'b');
  t.ok(answers.every((w) => w.d.remoteAddress === PUB), 'the newest request (a retransmission to B) is answered to the real peer only');
  t.equal(p.ofType(p.b, 'ike-down').length, 0);
});

t.test('replayed and fresh responses from another address never move the IKE SA', async (t) => {
  const { p } = natPair();
  const aSa = (): { remoteAddress: string; remotePort: number } => p.a.engine.listIkeSas()[0]!;
  t.equal(aSa().remoteAddress, B_ADDR);
  t.equal(aSa().remotePort, 4500);
  // A replay of B's IKE_AUTH response, later, from elsewhere.
  const authResp = p.sent.find((w) => w.from === 'b' && isResponse(w) && exchangeOf(w) === ExchangeType.IKE_AUTH)!;
  p.run(60_000, 10_000);
  inject(p, 'a', authResp, { address: ATTACKER, port: 4500 }, PRIV);
  t.equal(aSa().remoteAddress, B_ADDR, 'replayed response ignored');
  t.equal(p.a.engine.counters.replays, 1);
  // A fresh (authenticated, expected) response that arrives from another address: processed, but
  // responses do not move the SA (RFC 7296 2.23: only requests do).
  p.drop = (w) => w.from === 'b';
  p.a.engine.checkLiveness(p.a.engine.listIkeSas()[0]!.ikeSaId);
  p.pump();
  const lastAnswerCount = p.sent.filter((w) => w.from === 'b').length;
  t.ok(lastAnswerCount > 0);
  const resp = p.sent.filter((w) => w.from === 'b').at(-1)!;
  t.ok(isResponse(resp), 'captured B\'s INFORMATIONAL response (dropped on the wire)');
  p.drop = () => false;
  inject(p, 'a', resp, { address: ATTACKER, port: 4500 }, PRIV);
  t.equal(aSa().remoteAddress, B_ADDR, 'a response from elsewhere did not move the SA');
  t.equal(aSa().remotePort, 4500);
  p.run(30_000, 5000);
  t.equal(p.ofType(p.a, 'ike-down').length, 0, 'DPD finished: the response was accepted');
});

t.test('a fresh authenticated request from a new NAT mapping moves the SA (RFC 7296 2.23)', async (t) => {
  const { p, setPublic } = natPair();
  setPublic('203.0.113.77');
  p.a.engine.checkLiveness(p.a.engine.listIkeSas()[0]!.ikeSaId);
  p.pump();
  const s = p.b.engine.listIkeSas()[0]!;
  t.equal(s.remoteAddress, '203.0.113.77', 'B follows the new mapping');
  t.equal(s.remotePort, 44500);
  t.equal(p.b.engine.counters.replays, 0);
});
