// Property-based fuzzing (fast-check) of the pure decoders in firmware/proto: for any bytes,
// and for mutations of valid messages, a decoder returns or throws its own typed decode error
// (never a TypeError/RangeError, never unbounded output); valid messages round-trip.
// Bounded: a fixed number of runs per property with a fixed seed (reproducible).
import t from 'tap';
import fc from 'fast-check';
import * as v1 from '../../firmware/proto/ikev1/index.js';
import * as v2 from '../../firmware/proto/ikev2/index.js';
import { classifyUdpEncap, parseUdpHeader } from '../../firmware/proto/udp-encap.js';
import { parseIpHeader } from '../../firmware/proto/ip-packet.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 3000);
const params = { numRuns: RUNS, seed: 0x1ce, endOnFailure: true };

/** Runs `fn`; only `allowed` errors may come out. */
function typedOnly(fn: () => unknown, allowed: new (...a: never[]) => Error): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (e instanceof allowed) return true;
    throw e;
  }
}

const bytes = fc.uint8Array({ minLength: 0, maxLength: 2048 });

/** IKEv2 payload lists the encoder can build (SA, KE, Nonce, Notify, VID, Delete, TS). */
const v2Payload: fc.Arbitrary<v2.AnyPayload> = fc.oneof(
  fc.record({ type: fc.constant(v2.PayloadType.NONCE), data: fc.uint8Array({ minLength: 16, maxLength: 64 }) }),
  fc.record({ type: fc.constant(v2.PayloadType.VENDOR_ID), data: fc.uint8Array({ maxLength: 40 }) }),
  fc.record({ type: fc.constant(v2.PayloadType.KE), dhGroup: fc.integer({ min: 0, max: 65535 }), data: fc.uint8Array({ maxLength: 64 }) }),
  fc.record({
    type: fc.constant(v2.PayloadType.NOTIFY), protocolId: fc.integer({ min: 0, max: 3 }), notifyType: fc.integer({ min: 0, max: 65535 }),
    spi: fc.uint8Array({ maxLength: 8 }), data: fc.uint8Array({ maxLength: 32 }),
  }),
  fc.record({ type: fc.constant(v2.PayloadType.DELETE), protocolId: fc.constant(3), spiSize: fc.constant(4), spis: fc.array(fc.uint8Array({ minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 8 }) }),
  fc.record({
    type: fc.constant(v2.PayloadType.SA),
    proposals: fc.array(fc.record({
      num: fc.integer({ min: 1, max: 255 }), protocolId: fc.integer({ min: 1, max: 3 }), spi: fc.uint8Array({ maxLength: 8 }),
      transforms: fc.array(fc.record({ type: fc.integer({ min: 1, max: 5 }), id: fc.integer({ min: 0, max: 65535 }) }), { minLength: 1, maxLength: 8 }),
    }), { minLength: 1, maxLength: 6 }),
  }),
) as fc.Arbitrary<v2.AnyPayload>;

const v2Message = fc.tuple(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer({ min: 34, max: 37 }), fc.array(v2Payload, { maxLength: 10 }))
  .map(([spi, exchangeType, payloads]) => v2.encodeMessage({ spiI: spi, spiR: 0n, exchangeType, initiator: true, response: false, messageId: 0 }, payloads));

t.test('IKEv2 decodeMessage: any bytes -> a message or an Ikev2DecodeError', async (t) => {
  fc.assert(fc.property(bytes, (b) => typedOnly(() => v2.decodeMessage(b), v2.Ikev2DecodeError)), params);
  t.pass(`${RUNS} random inputs`);
});

t.test('IKEv2: valid messages round-trip; mutations give typed errors and bounded output', async (t) => {
  fc.assert(fc.property(v2Message, (m) => {
    const d = v2.decodeMessage(m);
    const again = v2.encodeMessage(d.header, d.payloads);
    return Buffer.from(again).equals(Buffer.from(m));
  }), params);
  fc.assert(fc.property(v2Message, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.nat(), (m, edits, cut) => {
    const x = m.slice(0, Math.max(28, m.length - (cut % 8)));
    for (const [at, v] of edits) x[at % x.length] = v;
    new DataView(x.buffer).setUint32(24, x.length);
    return typedOnly(() => {
      const d = v2.decodeMessage(x);
      if (d.payloads.length > v2.MAX_PAYLOADS) throw new Error(`unbounded: ${d.payloads.length} payloads`);
    }, v2.Ikev2DecodeError);
  }), params);
  t.pass('round trip and mutations');
});

t.test('IKEv1 decodeMessage: any bytes and mutated valid messages -> typed errors only', async (t) => {
  fc.assert(fc.property(bytes, (b) => typedOnly(() => v1.decodeMessage(b), v1.IsakmpDecodeError)), params);
  const valid = v1.encodeMessage(
    { initiatorCookie: new Uint8Array(8).fill(1), responderCookie: v1.ZERO_COOKIE, exchangeType: v1.ExchangeType.IDENTITY_PROTECTION, flags: 0, messageId: 0 },
    [{ type: v1.PayloadType.VID, data: v1.VENDOR_ID_DPD }, { type: v1.PayloadType.NONCE, data: new Uint8Array(20).fill(7) }],
  );
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (edits) => {
    const x = valid.slice();
    for (const [at, v] of edits) x[at % x.length] = v;
    return typedOnly(() => {
      const d = v1.decodeMessage(x);
      if (d.payloads.length > v1.MAX_PAYLOADS) throw new Error('unbounded');
    }, v1.IsakmpDecodeError);
  }), params);
  t.pass('IKEv1 decoders');
});

t.test('UDP encapsulation and IP header parsers never throw on any bytes', async (t) => {
  fc.assert(fc.property(bytes, fc.nat(), (b, off) => {
    classifyUdpEncap(b, off % (b.length + 1));
    parseUdpHeader(b, off % (b.length + 1));
    parseIpHeader(b);
    return true;
  }), params);
  t.pass('parsers total');
});
