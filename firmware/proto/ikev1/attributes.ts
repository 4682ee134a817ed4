// RFC 2408 3.3 Data Attributes: TV (AF=1, 16-bit value) and TLV (AF=0, length + value).
import { ByteWriter, view } from './bytes.js';
import { BadLengthError, LimitExceededError, TruncatedError } from './errors.js';

export const MAX_ATTRIBUTES = 64;

export type DataAttribute =
  | { type: number; format: 'tv'; value: number }
  | { type: number; format: 'tlv'; value: Uint8Array };

/** A basic (TV) attribute. */
export function tv(type: number, value: number): DataAttribute {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`TV attribute ${type} value ${value} out of range`);
  return { type, format: 'tv', value };
}

/** A variable (TLV) attribute holding an unsigned number in 4 bytes (or more if needed). */
export function tlvNumber(type: number, value: number): DataAttribute {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`TLV attribute ${type} value ${value} out of range`);
  let len = 4;
  while (len < 8 && value >= 2 ** (8 * len)) len++;
  const b = new Uint8Array(len);
  let v = BigInt(value);
  for (let i = len - 1; i >= 0; i--) {
    b[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return { type, format: 'tlv', value: b };
}

/** Attribute value as a number (TV value, or TLV big-endian up to 6 bytes). undefined if not representable. */
export function attrNumber(a: DataAttribute): number | undefined {
  if (a.format === 'tv') return a.value;
  if (a.value.length === 0 || a.value.length > 8) return undefined;
  let v = 0n;
  for (const x of a.value) v = (v << 8n) | BigInt(x);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return Number(v);
}

export function encodeAttributes(attrs: readonly DataAttribute[]): Uint8Array {
  const w = new ByteWriter();
  for (const a of attrs) {
    if (a.type < 0 || a.type > 0x7fff) throw new RangeError(`attribute type ${a.type} out of range`);
    if (a.format === 'tv') {
      w.u16(0x8000 | a.type).u16(a.value);
    } else {
      if (a.value.length > 0xffff) throw new RangeError('TLV attribute too long');
      w.u16(a.type).u16(a.value.length).bytes(a.value);
    }
  }
  return w.finish();
}

/** Decodes attributes filling exactly `buf`. `base` is buf's offset in the message for errors. */
export function decodeAttributes(buf: Uint8Array, base: number): DataAttribute[] {
  const dv = view(buf);
  const out: DataAttribute[] = [];
  let o = 0;
  while (o < buf.length) {
    if (out.length >= MAX_ATTRIBUTES) throw new LimitExceededError('attributes', base + o, MAX_ATTRIBUTES);
    if (buf.length - o < 4) throw new TruncatedError('data attribute', base + o, 4, buf.length - o);
    const t = dv.getUint16(o);
    if (t & 0x8000) {
      out.push({ type: t & 0x7fff, format: 'tv', value: dv.getUint16(o + 2) });
      o += 4;
    } else {
      const len = dv.getUint16(o + 2);
      if (o + 4 + len > buf.length) throw new BadLengthError('data attribute', base + o + 2, len);
      out.push({ type: t, format: 'tlv', value: buf.slice(o + 4, o + 4 + len) });
      o += 4 + len;
    }
  }
  return out;
}
