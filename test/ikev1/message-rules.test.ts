// The per-message payload rows (firmware/ike/v1/message-rules.ts) and that the exchanges use
// them: a message without a payload its row requires is dropped before any work.
import t from 'tap';
import { ExchangeType, PayloadType, decodeHeader, decodePayloadChain, encodeMessage, ISAKMP_HEADER_LENGTH, type DecodedPayload } from '../../firmware/proto/ikev1/index.js';
import { MESSAGE_RULES, checkMessage, type MessageRule } from '../../firmware/ike/v1/message-rules.js';
import { Net, entry, pol, sel } from './harness.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

/** A decoded payload of `type` (only `type` and a nonce's data matter to the rows). */
const payload = (type: number, nonceLen = 32): DecodedPayload => ({ type, data: new Uint8Array(nonceLen), start: 0, end: 0, body: new Uint8Array(0) }) as unknown as DecodedPayload;

t.test('every row: its required payloads pass, each one missing fails and names the message', async (t) => {
  for (const [key, rule] of Object.entries(MESSAGE_RULES) as [string, MessageRule][]) {
    const full = rule.required.map((p) => payload(p));
    t.ok(checkMessage(rule, full).ok, `${key}: required payloads only`);
    t.ok(checkMessage(rule, [...full, ...rule.optional.map((p) => payload(p))]).ok, `${key}: with every optional payload`);
    for (const missing of rule.required) {
      if (rule.first !== undefined && missing === rule.first) continue;
      const r = checkMessage(rule, full.filter((p) => p.type !== missing));
      t.notOk(r.ok, `${key}: without payload ${missing}`);
      if (!r.ok) t.match(r.why, rule.name);
    }
  }
});

t.test('nonce length and payload order', async (t) => {
  const mm3 = MESSAGE_RULES.MAIN_R1;
  t.notOk(checkMessage(mm3, [payload(PayloadType.KE), payload(PayloadType.NONCE, 7)]).ok, 'a 7-octet nonce is refused (RFC 2409: 8 to 256)');
  t.notOk(checkMessage(mm3, [payload(PayloadType.KE), payload(PayloadType.NONCE, 257)]).ok, 'a 257-octet nonce is refused');
  t.ok(checkMessage(mm3, [payload(PayloadType.KE), payload(PayloadType.NONCE, 8)]).ok, '8 octets pass');
  const qm1 = MESSAGE_RULES.QUICK_R0;
  t.notOk(checkMessage(qm1, [payload(PayloadType.SA), payload(PayloadType.HASH), payload(PayloadType.NONCE)]).ok, 'quick mode: HASH must come first');
  const unknown = { ...payload(PayloadType.KE), unknown: true } as DecodedPayload;
  t.notOk(checkMessage(mm3, [unknown, payload(PayloadType.NONCE)]).ok, 'a payload the codec could not decode does not count');
});

t.test('main mode responder drops message 3 without a nonce (no answer, no state change)', async (t) => {
  const net = new Net();
  const ts = { name: 'ts', esp: { cipher: 'esp-aes' as const, keyLenBits: 128, integrity: 'sha' as const }, mode: 'tunnel' as const };
  const a = net.add({ address: A, policies: [pol(10, 'aes128', 'sha', 14)], keys: [{ address: B, key: 'k' }], entries: [entry(B, '192.168.1.0/24', '192.168.2.0/24', [ts])] });
  const b = net.add({ address: B, policies: [pol(10, 'aes128', 'sha', 14)], keys: [{ address: A, key: 'k' }], entries: [entry(A, '192.168.2.0/24', '192.168.1.0/24', [ts])] });
  // hold A's message 3 back
  let held: Uint8Array | undefined;
  net.drop = (d, from) => {
    if (from !== A || held) return false;
    const h = decodeHeader(d.data);
    const p = decodePayloadChain(d.data.subarray(ISAKMP_HEADER_LENGTH, h.length), h.nextPayload, ISAKMP_HEADER_LENGTH);
    if (p.some((x) => x.type === PayloadType.KE)) { held = d.data; return true; }
    return false;
  };
  a.engine.initiate({
    local: { address: A, port: 500 }, remote: { address: B, port: 500 },
    quickMode: { localSel: sel('192.168.1.0/24'), remoteSel: sel('192.168.2.0/24'), transformSets: [ts], lifetimeSec: 3600, lifetimeKb: 4608000 },
  });
  net.pump();
  t.ok(held, 'message 3 held back');
  const h = decodeHeader(held!);
  const p = decodePayloadChain(held!.subarray(ISAKMP_HEADER_LENGTH, h.length), h.nextPayload, ISAKMP_HEADER_LENGTH);
  const ke = p.find((x) => x.type === PayloadType.KE) as unknown as { keyData: Uint8Array };
  const forged = encodeMessage({ initiatorCookie: h.initiatorCookie, responderCookie: h.responderCookie, exchangeType: ExchangeType.IDENTITY_PROTECTION, flags: 0, messageId: 0 },
    [{ type: PayloadType.KE, keyData: ke.keyData }]);
  const dropped = b.engine.counters.rxDropped;
  b.engine.receive({ data: forged, local: { address: B, port: 500 }, remote: { address: A, port: 500 } });
  t.equal(b.engine.counters.rxDropped, dropped + 1, 'dropped');
  t.same(b.engine.drainOutbox(), [], 'no answer');
  t.equal(b.engine.listPhase1()[0]!.state, 'MM_SA_SETUP', 'the negotiation waits for a good message 3');
  // the real message 3 still completes the exchange
  net.drop = undefined;
  b.engine.receive({ data: held!, local: { address: B, port: 500 }, remote: { address: A, port: 500 } });
  net.pump();
  t.ok(b.engine.listPhase1()[0]!.established, 'message 3 with its nonce is answered and main mode completes');
});
