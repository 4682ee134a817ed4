// IKEv2 payload codec (RFC 7296 section 3). Pure functions over Uint8Array; every length is
// checked before it is read and failures throw the typed errors of errors.ts with the offset.
//
// Generic payload header (3.2):
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// | Next Payload  |C|  RESERVED   |         Payload Length        |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   offset 0 next payload (u8) | 1 bit7 critical | 2 length (u16, includes this header)
import { PayloadType, TsType } from './constants.js';
import {
  BadLengthError, InvalidSyntaxError, LimitExceededError, TruncatedError, UnsupportedCriticalPayloadError,
} from './errors.js';
import type {
  AnyPayload, Payload, Proposal, TrafficSelector, Transform, TransformAttribute,
} from './payload-types.js';

const KNOWN_RAW = new Set<number>([PayloadType.CERT, PayloadType.CERTREQ, PayloadType.CP, PayloadType.EAP]);

// Decoder limits (implementation limits, not RFC ones): far above what a real peer sends, low
// enough that a hostile datagram is rejected after a bounded amount of work, before the rest
// of it is looked at (a 64 KB chain of 16,000 empty payloads stops at the 65th).
export const MAX_PAYLOADS = 64;
export const MAX_PROPOSALS = 64;
/** transforms in all proposals of one SA payload */
export const MAX_TRANSFORMS = 256;
export const MAX_ATTRIBUTES = 16;
export const MAX_DELETE_SPIS = 1024;

// ---------------------------------------------------------------------------------------
// Small byte helpers
// ---------------------------------------------------------------------------------------

function u16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}
function u32(b: Uint8Array, o: number): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(o);
}
function put16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}
function need(what: string, b: Uint8Array, off: number, n: number, end = b.length): void {
  if (off + n > end) throw new TruncatedError(what, off, n, Math.max(0, end - off));
}

export function concatBytes(list: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const x of list) len += x.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const x of list) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// SA payload (3.3)
//
// Proposal substructure (3.3.1):
// | Last Substruc |   RESERVED    |         Proposal Length       |
// | Proposal Num  |  Protocol ID  |    SPI Size   |Num  Transforms|
// ~                        SPI (variable)                         ~
// ~                        <Transforms>                           ~
//   Last Substruc: 0 = last, 2 = more proposals follow.
//
// Transform substructure (3.3.2):
// | Last Substruc |   RESERVED    |        Transform Length       |
// |Transform Type |   RESERVED    |          Transform ID         |
// ~                      Transform Attributes                     ~
//   Last Substruc: 0 = last, 3 = more transforms follow.
//
// Data attribute (3.3.5):
// |A|       Attribute Type        |    AF=0  Attribute Length     |
// |                               |    AF=1  Attribute Value      |
// ~             AF=0  Attribute Value  (TLV only)                  ~
// ---------------------------------------------------------------------------------------

function encodeAttributes(t: Transform): Uint8Array {
  const parts: Uint8Array[] = [];
  const attrs: TransformAttribute[] = [];
  if (t.keyLength !== undefined) attrs.push({ type: 14, value: t.keyLength });
  if (t.otherAttributes) attrs.push(...t.otherAttributes);
  for (const a of attrs) {
    if (typeof a.value === 'number') {
      const b = new Uint8Array(4);
      put16(b, 0, 0x8000 | (a.type & 0x7fff));
      put16(b, 2, a.value);
      parts.push(b);
    } else {
      const b = new Uint8Array(4 + a.value.length);
      put16(b, 0, a.type & 0x7fff);
      put16(b, 2, a.value.length);
      b.set(a.value, 4);
      parts.push(b);
    }
  }
  return concatBytes(parts);
}

function encodeProposals(proposals: readonly Proposal[]): Uint8Array {
  const out: Uint8Array[] = [];
  proposals.forEach((p, pi) => {
    const tparts: Uint8Array[] = [];
    p.transforms.forEach((t, ti) => {
      const attrs = encodeAttributes(t);
      const b = new Uint8Array(8 + attrs.length);
      b[0] = ti === p.transforms.length - 1 ? 0 : 3;
      put16(b, 2, b.length);
      b[4] = t.type;
      put16(b, 6, t.id);
      b.set(attrs, 8);
      tparts.push(b);
    });
    const tbytes = concatBytes(tparts);
    const h = new Uint8Array(8 + p.spi.length);
    h[0] = pi === proposals.length - 1 ? 0 : 2;
    put16(h, 2, h.length + tbytes.length);
    h[4] = p.num;
    h[5] = p.protocolId;
    h[6] = p.spi.length;
    h[7] = p.transforms.length;
    h.set(p.spi, 8);
    out.push(h, tbytes);
  });
  return concatBytes(out);
}

function decodeProposals(b: Uint8Array, start: number, end: number): Proposal[] {
  const proposals: Proposal[] = [];
  let off = start;
  let last = off >= end;
  if (last) throw new InvalidSyntaxError('SA payload without proposals', start);
  let transforms = 0;
  while (!last) {
    if (proposals.length >= MAX_PROPOSALS) throw new LimitExceededError('proposals', off, MAX_PROPOSALS);
    need('proposal header', b, off, 8, end);
    const more = b[off]!;
    if (more !== 0 && more !== 2) throw new InvalidSyntaxError(`proposal Last Substruc ${more}`, off);
    const plen = u16(b, off + 2);
    const spiSize = b[off + 6]!;
    const numT = b[off + 7]!;
    if (plen < 8 + spiSize) throw new BadLengthError('proposal', off, plen);
    need('proposal', b, off, plen, end);
    const pend = off + plen;
    const proposal: Proposal = {
      num: b[off + 4]!,
      protocolId: b[off + 5]!,
      spi: b.slice(off + 8, off + 8 + spiSize),
      transforms: [],
    };
    let toff = off + 8 + spiSize;
    transforms += numT;
    if (transforms > MAX_TRANSFORMS) throw new LimitExceededError('transforms in an SA payload', off, MAX_TRANSFORMS);
    for (let i = 0; i < numT; i++) {
      need('transform header', b, toff, 8, pend);
      const tmore = b[toff]!;
      if (tmore !== 0 && tmore !== 3) throw new InvalidSyntaxError(`transform Last Substruc ${tmore}`, toff);
      if ((tmore === 0) !== (i === numT - 1)) throw new InvalidSyntaxError('transform count disagrees with Last Substruc', toff);
      const tlen = u16(b, toff + 2);
      if (tlen < 8) throw new BadLengthError('transform', toff, tlen);
      need('transform', b, toff, tlen, pend);
      const t: Transform = { type: b[toff + 4]!, id: u16(b, toff + 6) };
      let aoff = toff + 8;
      const tend = toff + tlen;
      let attributes = 0;
      while (aoff < tend) {
        if (attributes++ >= MAX_ATTRIBUTES) throw new LimitExceededError('transform attributes', aoff, MAX_ATTRIBUTES);
        need('transform attribute', b, aoff, 4, tend);
        const af = (b[aoff]! & 0x80) !== 0;
        const atype = u16(b, aoff) & 0x7fff;
        if (af) {
          const v = u16(b, aoff + 2);
          if (atype === 14) t.keyLength = v;
          else (t.otherAttributes ??= []).push({ type: atype, value: v });
          aoff += 4;
        } else {
          const alen = u16(b, aoff + 2);
          need('transform attribute value', b, aoff + 4, alen, tend);
          (t.otherAttributes ??= []).push({ type: atype, value: b.slice(aoff + 4, aoff + 4 + alen) });
          aoff += 4 + alen;
        }
      }
      proposal.transforms.push(t);
      toff = tend;
    }
    if (toff !== pend) throw new BadLengthError('proposal (transforms do not fill it)', off, plen);
    proposals.push(proposal);
    off = pend;
    last = more === 0;
    if (last && off !== end) throw new BadLengthError('SA payload (bytes after last proposal)', off, end - start);
    if (!last && off >= end) throw new TruncatedError('next proposal', off, 8, 0);
  }
  return proposals;
}

// ---------------------------------------------------------------------------------------
// Traffic selectors (3.13)
// | Number of TSs |                 RESERVED                      |
// ~                       <Traffic Selectors>                     ~
// Traffic selector (3.13.1):
// |   TS Type     |IP Protocol ID*|       Selector Length         |
// |           Start Port*         |           End Port*           |
// ~                         Starting Address*                     ~
// ~                         Ending Address*                       ~
// ---------------------------------------------------------------------------------------

function encodeSelectors(list: readonly TrafficSelector[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(list.length, 0, 0, 0)];
  for (const ts of list) {
    const alen = ts.startAddress.length;
    const b = new Uint8Array(8 + 2 * alen);
    b[0] = ts.tsType;
    b[1] = ts.ipProtocol;
    put16(b, 2, b.length);
    put16(b, 4, ts.startPort);
    put16(b, 6, ts.endPort);
    b.set(ts.startAddress, 8);
    b.set(ts.endAddress, 8 + alen);
    parts.push(b);
  }
  return concatBytes(parts);
}

function decodeSelectors(b: Uint8Array, start: number, end: number): TrafficSelector[] {
  need('TS payload', b, start, 4, end);
  const n = b[start]!;
  if (n === 0) throw new InvalidSyntaxError('TS payload with zero selectors', start);
  const list: TrafficSelector[] = [];
  let off = start + 4;
  for (let i = 0; i < n; i++) {
    need('traffic selector', b, off, 4, end);
    const tsType = b[off]!;
    const len = u16(b, off + 2);
    const alen = tsType === TsType.TS_IPV4_ADDR_RANGE ? 4 : tsType === TsType.TS_IPV6_ADDR_RANGE ? 16 : -1;
    if (alen < 0) throw new InvalidSyntaxError(`TS type ${tsType}`, off);
    if (len !== 8 + 2 * alen) throw new BadLengthError('traffic selector', off, len);
    need('traffic selector', b, off, len, end);
    list.push({
      tsType,
      ipProtocol: b[off + 1]!,
      startPort: u16(b, off + 4),
      endPort: u16(b, off + 6),
      startAddress: b.slice(off + 8, off + 8 + alen),
      endAddress: b.slice(off + 8 + alen, off + 8 + 2 * alen),
    });
    off += len;
  }
  if (off !== end) throw new BadLengthError('TS payload (bytes after last selector)', off, end - start);
  return list;
}

// ---------------------------------------------------------------------------------------
// Payload bodies
// KE (3.4):     | Diffie-Hellman Group Num |  RESERVED  | Key Exchange Data ~
// ID (3.5):     | ID Type | RESERVED (24) | Identification Data ~
// AUTH (3.8):   | Auth Method | RESERVED (24) | Authentication Data ~
// Nonce (3.9):  | Nonce Data ~
// Notify (3.10):| Protocol ID | SPI Size | Notify Message Type (16) | SPI ~ | Notification Data ~
// Delete (3.11):| Protocol ID | SPI Size | Num of SPIs (16) | SPIs ~
// Vendor ID (3.12): | Vendor ID ~
// SK (3.14):    | IV | Encrypted IKE payloads | Padding | Pad Length | ICV |
// SKF (RFC 7383 2.5): | Fragment Number (16) | Total Fragments (16) | IV ... ICV |
// ---------------------------------------------------------------------------------------

/** Body bytes of one payload (without the generic header). */
export function encodePayloadBody(p: AnyPayload): Uint8Array {
  if ('raw' in p) return p.raw;
  switch (p.type) {
    case PayloadType.SA:
      return encodeProposals(p.proposals);
    case PayloadType.KE: {
      const b = new Uint8Array(4 + p.data.length);
      put16(b, 0, p.dhGroup);
      b.set(p.data, 4);
      return b;
    }
    case PayloadType.IDi:
    case PayloadType.IDr: {
      const b = new Uint8Array(4 + p.data.length);
      b[0] = p.idType;
      b.set(p.data, 4);
      return b;
    }
    case PayloadType.AUTH: {
      const b = new Uint8Array(4 + p.data.length);
      b[0] = p.method;
      b.set(p.data, 4);
      return b;
    }
    case PayloadType.NONCE:
    case PayloadType.VENDOR_ID:
      return p.data;
    case PayloadType.NOTIFY: {
      const b = new Uint8Array(4 + p.spi.length + p.data.length);
      b[0] = p.protocolId;
      b[1] = p.spi.length;
      put16(b, 2, p.notifyType);
      b.set(p.spi, 4);
      b.set(p.data, 4 + p.spi.length);
      return b;
    }
    case PayloadType.DELETE: {
      const b = new Uint8Array(4 + p.spiSize * p.spis.length);
      b[0] = p.protocolId;
      b[1] = p.spiSize;
      put16(b, 2, p.spis.length);
      p.spis.forEach((s, i) => b.set(s, 4 + i * p.spiSize));
      return b;
    }
    case PayloadType.TSi:
    case PayloadType.TSr:
      return encodeSelectors(p.selectors);
    case PayloadType.SK:
      return p.body;
    case PayloadType.SKF: {
      const b = new Uint8Array(4 + p.body.length);
      put16(b, 0, p.fragmentNumber);
      put16(b, 2, p.totalFragments);
      b.set(p.body, 4);
      return b;
    }
  }
}

function decodeBody(type: number, critical: boolean, b: Uint8Array, start: number, end: number, next: number): AnyPayload {
  const len = end - start;
  const crit = critical ? { critical: true } : {};
  switch (type) {
    case PayloadType.SA:
      return { type, ...crit, proposals: decodeProposals(b, start, end) };
    case PayloadType.KE:
      need('KE payload', b, start, 4, end);
      return { type, ...crit, dhGroup: u16(b, start), data: b.slice(start + 4, end) };
    case PayloadType.IDi:
    case PayloadType.IDr:
      need('ID payload', b, start, 4, end);
      return { type, ...crit, idType: b[start]!, data: b.slice(start + 4, end) };
    case PayloadType.AUTH:
      need('AUTH payload', b, start, 4, end);
      return { type, ...crit, method: b[start]!, data: b.slice(start + 4, end) };
    case PayloadType.NONCE:
      return { type, ...crit, data: b.slice(start, end) };
    case PayloadType.VENDOR_ID:
      return { type, ...crit, data: b.slice(start, end) };
    case PayloadType.NOTIFY: {
      need('Notify payload', b, start, 4, end);
      const spiSize = b[start + 1]!;
      need('Notify SPI', b, start + 4, spiSize, end);
      return {
        type, ...crit,
        protocolId: b[start]!,
        notifyType: u16(b, start + 2),
        spi: b.slice(start + 4, start + 4 + spiSize),
        data: b.slice(start + 4 + spiSize, end),
      };
    }
    case PayloadType.DELETE: {
      need('Delete payload', b, start, 4, end);
      const spiSize = b[start + 1]!;
      const n = u16(b, start + 2);
      if (len !== 4 + spiSize * n) throw new BadLengthError('Delete payload', start, len);
      // SPI size 0 is for the IKE SA itself, with no SPIs (3.11): else zero bytes would make n objects.
      if (spiSize === 0 && n !== 0) throw new InvalidSyntaxError('Delete payload with SPI size 0 and SPIs', start);
      if (n > MAX_DELETE_SPIS) throw new LimitExceededError('SPIs in a Delete payload', start, MAX_DELETE_SPIS);
      const spis: Uint8Array[] = [];
      for (let i = 0; i < n; i++) spis.push(b.slice(start + 4 + i * spiSize, start + 4 + (i + 1) * spiSize));
      return { type, ...crit, protocolId: b[start]!, spiSize, spis };
    }
    case PayloadType.TSi:
    case PayloadType.TSr:
      return { type, ...crit, selectors: decodeSelectors(b, start, end) };
    case PayloadType.SK:
      return { type, ...crit, firstInner: next, body: b.slice(start, end) };
    case PayloadType.SKF:
      need('SKF payload', b, start, 4, end);
      return {
        type, ...crit, firstInner: next,
        fragmentNumber: u16(b, start), totalFragments: u16(b, start + 2), body: b.slice(start + 4, end),
      };
    default:
      return { type, ...crit, raw: b.slice(start, end), unknown: !KNOWN_RAW.has(type) };
  }
}

const KNOWN_TYPES = new Set<number>(Object.values(PayloadType).filter((v) => v !== 0));

/** Encode a payload chain. Returns the type of the first payload (for the Next Payload field before it). */
export function encodePayloadChain(payloads: readonly AnyPayload[]): { firstType: number; bytes: Uint8Array } {
  const parts: Uint8Array[] = [];
  payloads.forEach((p, i) => {
    const body = encodePayloadBody(p);
    const h = new Uint8Array(4);
    const next = p.type === PayloadType.SK || p.type === PayloadType.SKF
      ? (p as { firstInner: number }).firstInner
      : i + 1 < payloads.length ? payloads[i + 1]!.type : PayloadType.NONE;
    h[0] = next;
    h[1] = p.critical ? 0x80 : 0;
    put16(h, 2, 4 + body.length);
    parts.push(h, body);
  });
  return { firstType: payloads.length > 0 ? payloads[0]!.type : PayloadType.NONE, bytes: concatBytes(parts) };
}

/**
 * Decode a payload chain in `bytes[start..end)` starting with payload type `firstType`.
 * Error offsets are indexes into `bytes`. Unknown payloads with the critical bit throw
 * UnsupportedCriticalPayloadError; unknown non-critical ones are kept raw. SK/SKF must be
 * the last payload of a chain (3.14): the chain stops there.
 */
export function decodePayloadChain(bytes: Uint8Array, firstType: number, start = 0, end = bytes.length): AnyPayload[] {
  const out: AnyPayload[] = [];
  let type = firstType;
  let off = start;
  while (type !== PayloadType.NONE) {
    if (out.length >= MAX_PAYLOADS) throw new LimitExceededError('payloads', off, MAX_PAYLOADS);
    need('generic payload header', bytes, off, 4, end);
    const next = bytes[off]!;
    const critical = (bytes[off + 1]! & 0x80) !== 0;
    const plen = u16(bytes, off + 2);
    if (plen < 4) throw new BadLengthError('payload', off, plen);
    need(`payload ${type}`, bytes, off, plen, end);
    if (!KNOWN_TYPES.has(type) && critical) throw new UnsupportedCriticalPayloadError(type, off);
    out.push(decodeBody(type, critical, bytes, off + 4, off + plen, next));
    off += plen;
    if (type === PayloadType.SK || type === PayloadType.SKF) break;
    type = next;
  }
  if (off !== end) throw new BadLengthError('payload chain (trailing bytes)', off, end - start);
  return out;
}

export { u32 as readU32 };
