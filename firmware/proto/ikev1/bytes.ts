// Small byte helpers for the ISAKMP codec (kept local: proto/ikev1 depends on nothing else).

/** Appends big-endian fields to one growing buffer (no allocation per field: encoding is on the flood path). */
export class ByteWriter {
  private buf = new Uint8Array(64);
  private size = 0;
  private room(n: number): void {
    if (this.size + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.size + n));
    next.set(this.buf.subarray(0, this.size));
    this.buf = next;
  }
  u8(v: number): this {
    this.room(1);
    this.buf[this.size++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.buf[this.size++] = (v >>> 8) & 0xff;
    this.buf[this.size++] = v & 0xff;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    this.buf[this.size++] = (v >>> 24) & 0xff;
    this.buf[this.size++] = (v >>> 16) & 0xff;
    this.buf[this.size++] = (v >>> 8) & 0xff;
    this.buf[this.size++] = v & 0xff;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.size);
    this.size += b.length;
    return this;
  }
  get length(): number {
    return this.size;
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.size);
  }
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

/** Unsigned big-endian integer of 0..8 bytes as bigint. */
export function beToBigInt(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

/** bigint to fixed-width big-endian bytes. */
export function bigIntToBe(v: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

export function u32be(v: number): Uint8Array {
  const b = new Uint8Array(4);
  view(b).setUint32(0, v >>> 0);
  return b;
}
