// Bounded IKEv2 decoding (issue 20): a hostile datagram is rejected after work proportional to
// what the decoder accepts, never to what the attacker packed in. The proof is where decoding
// stopped (the error's offset), not a timing.
import t from 'tap';
import {
  decodeMessage, decodePayloadChain, encodeMessage, ExchangeType, LimitExceededError, InvalidSyntaxError,
  MAX_PAYLOADS, MAX_PROPOSALS, MAX_ATTRIBUTES, MAX_TRANSFORMS, PayloadType, IKE_HEADER_LENGTH, type AnyPayload,
} from '../../firmware/proto/ikev2/index.js';
import { Ikev2Engine } from '../../firmware/ike/v2/index.js';
import { config, connection, B_ADDR } from './harness.js';

const header = { spiI: 0x0102030405060708n, spiR: 0n, exchangeType: ExchangeType.IKE_SA_INIT, initiator: true, response: false, messageId: 0 };

/** The datagram: an IKE_SA_INIT of 16,000 empty, well-formed Vendor ID payloads (64 KB). */
function vendorIdBomb(n = 16_000): Uint8Array {
  const b = new Uint8Array(IKE_HEADER_LENGTH + 4 * n);
  const enc = encodeMessage(header, []);
  b.set(enc.subarray(0, IKE_HEADER_LENGTH));
  b[16] = PayloadType.VENDOR_ID;
  new DataView(b.buffer).setUint32(24, b.length);
  for (let i = 0; i < n; i++) {
    const o = IKE_HEADER_LENGTH + 4 * i;
    b[o] = i === n - 1 ? 0 : PayloadType.VENDOR_ID;
    b[o + 3] = 4;
  }
  return b;
}

t.test('16,000 empty Vendor IDs: rejected at the 65th payload, the rest never visited', async (t) => {
  const bomb = vendorIdBomb();
  t.equal(bomb.length, 64_028);
  const err = t.throws(() => decodeMessage(bomb)) as unknown;
  t.ok(err instanceof LimitExceededError, 'a typed limit error');
  const e = err as LimitExceededError;
  t.equal(e.limit, MAX_PAYLOADS);
  t.equal(e.offset, IKE_HEADER_LENGTH + 4 * MAX_PAYLOADS, `stopped at byte ${e.offset} of ${bomb.length}`);
  // exactly the limit is fine
  const ok = decodeMessage(vendorIdBomb(MAX_PAYLOADS));
  t.equal(ok.payloads.length, MAX_PAYLOADS);
});

t.test('the engine drops the bomb as a decode error, creating no state', async (t) => {
  const sent: unknown[] = [];
  const e = new Ikev2Engine({
    config: config([connection('any', B_ADDR, '0.0.0.0/0')]), clock: () => 1_000_000, send: (d) => sent.push(d), onEvent: () => undefined, log: () => undefined,
  });
  for (let i = 0; i < 20; i++) e.receive({ localAddress: B_ADDR, localPort: 500, remoteAddress: '198.51.100.1', remotePort: 500, data: vendorIdBomb() });
  t.equal(e.counters.decodeErrors, 20);
  t.equal(e.counters.halfOpen, 0);
  t.equal(e.listIkeSas().length, 0);
});

t.test('a Delete payload may not make objects out of zero bytes', async (t) => {
  // SPI size 0 with 65,535 SPIs: length 4 + 0 * 65535 = 4 was "consistent"
  const body = Uint8Array.of(1, 0, 0xff, 0xff);
  const chain = new Uint8Array(4 + body.length);
  chain[3] = chain.length;
  chain.set(body, 4);
  t.throws(() => decodePayloadChain(chain, PayloadType.DELETE), InvalidSyntaxError);
  // 1,025 four-byte SPIs: over the limit
  const n = 1025;
  const big = new Uint8Array(8 + 4 * n);
  new DataView(big.buffer).setUint16(2, big.length);
  big.set(Uint8Array.of(3, 4, n >> 8, n & 0xff), 4);
  t.throws(() => decodePayloadChain(big, PayloadType.DELETE), LimitExceededError);
  // an IKE SA delete (no SPIs) and a child delete stay fine
  const ike = Uint8Array.of(0, 0, 0, 8, 1, 0, 0, 0);
  t.match(decodePayloadChain(ike, PayloadType.DELETE)[0], { protocolId: 1, spis: [] });
});

t.test('proposal and attribute counts are bounded', async (t) => {
  const transform = { type: 1, id: 12, keyLength: 256 };
  const sa = (proposals: number): AnyPayload[] => [{
    type: PayloadType.SA,
    proposals: Array.from({ length: proposals }, (_, i) => ({ num: (i % 255) + 1, protocolId: 1, spi: new Uint8Array(0), transforms: [transform] })),
  }];
  t.equal(decodeMessage(encodeMessage(header, sa(MAX_PROPOSALS))).payloads.length, 1, `${MAX_PROPOSALS} proposals accepted`);
  t.throws(() => decodeMessage(encodeMessage(header, sa(MAX_PROPOSALS + 1))), LimitExceededError);
  const attrs = (n: number): AnyPayload[] => [{
    type: PayloadType.SA,
    proposals: [{ num: 1, protocolId: 1, spi: new Uint8Array(0), transforms: [{ type: 1, id: 12, otherAttributes: Array.from({ length: n }, (_, i) => ({ type: 100 + i, value: 1 })) }] }],
  }];
  const manyTransforms = (perProposal: number): AnyPayload[] => [{
    type: PayloadType.SA,
    proposals: Array.from({ length: 4 }, (_, i) => ({ num: i + 1, protocolId: 1, spi: new Uint8Array(0), transforms: Array.from({ length: perProposal }, (_, j) => ({ type: 1 + (j % 4), id: j })) })),
  }];
  t.doesNotThrow(() => decodeMessage(encodeMessage(header, manyTransforms(MAX_TRANSFORMS / 4))), `${MAX_TRANSFORMS} transforms accepted`);
  t.throws(() => decodeMessage(encodeMessage(header, manyTransforms(MAX_TRANSFORMS / 4 + 1))), LimitExceededError);
  t.doesNotThrow(() => decodeMessage(encodeMessage(header, attrs(MAX_ATTRIBUTES))));
  t.throws(() => decodeMessage(encodeMessage(header, attrs(MAX_ATTRIBUTES + 1))), LimitExceededError);
});

t.test('show crypto ikev2 diagnose storage is bounded in count and size for unauthenticated peers', async (t) => {
  const e = new Ikev2Engine({
    config: config([connection('any', B_ADDR, '0.0.0.0/0')]), clock: () => 1_000_000, send: () => undefined, onEvent: () => undefined, log: () => undefined,
  });
  // 32 proposals of 8 transforms nobody accepts, each with a 1 KB attribute (the largest SA payload the decoder takes)
  const proposals = Array.from({ length: 32 }, (_, i) => ({
    num: i + 1, protocolId: 1, spi: new Uint8Array(0),
    transforms: Array.from({ length: 8 }, (_, j) => ({ type: 1 + (j % 4), id: 1000 + j, ...(j === 0 ? { otherAttributes: [{ type: 99, value: new Uint8Array(1000) }] } : {}) })),
  }));
  const init = (i: number): Uint8Array => encodeMessage({ ...header, spiI: BigInt(i + 1) }, [
    { type: PayloadType.SA, proposals },
    { type: PayloadType.KE, dhGroup: 14, data: new Uint8Array(256).fill(7) },
    { type: PayloadType.NONCE, data: new Uint8Array(32).fill(i & 0xff) },
  ]);
  t.ok(init(0).length > 30_000, `datagram of ${init(0).length} bytes`);
  for (let i = 0; i < 40; i++) e.receive({ localAddress: B_ADDR, localPort: 500, remoteAddress: '198.51.100.1', remotePort: 500, data: init(i) });
  t.equal(e.diagnoses().length, 4, 'one source keeps at most 4 records');
  for (let i = 0; i < 200; i++) e.receive({ localAddress: B_ADDR, localPort: 500, remoteAddress: `198.51.${100 + (i >> 8)}.${i & 0xff}`, remotePort: 500, data: init(i) });
  const all = e.diagnoses();
  t.equal(all.length, 32, 'at most 32 records in all');
  const size = JSON.stringify(all).length;
  t.ok(size < 200_000, `stored diagnoses take ${size} characters (was megabytes)`);
  const first = all[0]!;
  t.equal(first.kind, 'NO_PROPOSAL_CHOSEN');
  if (first.kind === 'NO_PROPOSAL_CHOSEN') {
    t.equal(first.offered.length, 17, '16 offered proposals and a "... more" line');
    t.match(first.offered[16], /16 more/);
    t.ok(first.offered.every((l) => l.length <= 203));
  }
});
