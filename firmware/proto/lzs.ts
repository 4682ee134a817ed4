// LZS (Lempel-Ziv-Stac, ANSI X3.241-1994) as used by IPComp (RFC 2395): our own codec.
//
// The compressed stream is a sequence of bit-packed tokens, most significant bit first:
//   literal byte:  0 bbbbbbbb
//   string:        1 <offset> <length>
//     offset 1..127:    1 ooooooo           (7 bits)
//     offset 128..2047: 0 ooooooooooo       (11 bits)
//     length 2: 00  3: 01  4: 10  5: 1100  6: 1101  7: 1110
//     length >= 8: 1111 then (length - 8) as nibbles: 1111 for each full 15, then the rest
//   end marker:    1 1 0000000  (a string with 7-bit offset 0), then zero bits to a byte
// IPComp resets the 2048-byte history for every datagram (RFC 2395 section 2), so each
// call compresses or decompresses one self-contained buffer.

import { DecodeError } from '../lib/errors.js';

export const LZS_HISTORY_SIZE = 2048;
const MAX_OFFSET = LZS_HISTORY_SIZE - 1;
const MAX_CHAIN = 24;
const GOOD_ENOUGH = 64;

export class LzsDecodeError extends DecodeError {}

class BitWriter {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  limit = 0;
  acc = 0;
  bits = 0;
  overflow = false;
  reset(out: Uint8Array, offset: number, limit: number): void {
    this.buf = out;
    this.pos = offset;
    this.limit = limit;
    this.acc = 0;
    this.bits = 0;
    this.overflow = false;
  }
  /** Appends the low `n` bits (n <= 16) of `v`. */
  put(v: number, n: number): void {
    this.acc = (this.acc << n) | (v & ((1 << n) - 1));
    this.bits += n;
    while (this.bits >= 8) {
      this.bits -= 8;
      if (this.pos >= this.limit) {
        this.overflow = true;
        this.bits = 0;
        return;
      }
      this.buf[this.pos++] = (this.acc >>> this.bits) & 0xff;
    }
    this.acc &= (1 << this.bits) - 1;
  }
  flush(): void {
    if (this.bits > 0) this.put(0, 8 - this.bits);
  }
}

/**
 * A compressor with its match-finder tables (about 270 KB), reused across packets without
 * clearing them: positions are stored with a running base so old entries read as invalid.
 */
export class LzsCompressor {
  private readonly head = new Int32Array(65536).fill(-1);
  private readonly prev = new Int32Array(LZS_HISTORY_SIZE);
  private base = 0;
  private readonly w = new BitWriter();

  /**
   * Compresses input[start, end) into out[outOffset, outLimit). Returns the number of
   * bytes written, or -1 when the result would not fit (the caller sends uncompressed).
   */
  compress(input: Uint8Array, out: Uint8Array, start = 0, end = input.length, outOffset = 0, outLimit = out.length): number {
    const n = end - start;
    if (this.base > 0x3fff0000) {
      this.head.fill(-1);
      this.base = 0;
    }
    const base = this.base;
    this.base += n + 1;
    const head = this.head;
    const prev = this.prev;
    const w = this.w;
    w.reset(out, outOffset, outLimit);
    let i = 0;
    while (i < n && !w.overflow) {
      let bestLen = 0;
      let bestOff = 0;
      if (i + 1 < n) {
        const h = (input[start + i]! << 8) | input[start + i + 1]!;
        let cand = head[h]!;
        let depth = 0;
        while (cand >= base && depth < MAX_CHAIN) {
          const p = cand - base;
          const dist = i - p;
          if (dist > MAX_OFFSET) break;
          let l = 2;
          const maxL = n - i;
          while (l < maxL && input[start + p + l] === input[start + i + l]) l++;
          if (l > bestLen) {
            bestLen = l;
            bestOff = dist;
            if (l >= GOOD_ENOUGH || l === maxL) break;
          }
          cand = prev[p & MAX_OFFSET]!;
          depth++;
        }
        prev[i & MAX_OFFSET] = head[h]!;
        head[h] = base + i;
      }
      if (bestLen >= 2) {
        this.putString(bestOff, bestLen);
        // Index the positions the string covers so later matches can find them.
        const stop = Math.min(i + bestLen, n - 1);
        for (let j = i + 1; j < stop; j++) {
          const h = (input[start + j]! << 8) | input[start + j + 1]!;
          prev[j & MAX_OFFSET] = head[h]!;
          head[h] = base + j;
        }
        i += bestLen;
      } else {
        w.put(input[start + i]!, 9); // 0 + 8 bits
        i++;
      }
    }
    w.put(0x180, 9); // end marker 1 1 0000000
    w.flush();
    return w.overflow ? -1 : w.pos - outOffset;
  }

  private putString(offset: number, length: number): void {
    const w = this.w;
    if (offset < 128) w.put(0x180 | offset, 9); // 1 1 ooooooo
    else w.put(0x1000 | offset, 13); // 1 0 ooooooooooo
    if (length < 5) w.put(length - 2, 2);
    else if (length < 8) w.put(0xc | (length - 5), 4);
    else {
      w.put(0xf, 4);
      let rem = length - 8;
      while (rem >= 15) {
        w.put(0xf, 4);
        rem -= 15;
      }
      w.put(rem, 4);
    }
  }
}

const shared = new LzsCompressor();

/** Compresses with a module-wide compressor (the packet path is single-threaded). */
export function lzsCompress(input: Uint8Array, out: Uint8Array, start = 0, end = input.length, outOffset = 0, outLimit = out.length): number {
  return shared.compress(input, out, start, end, outOffset, outLimit);
}

/** Worst-case compressed size: 9 bits per byte plus the end marker. */
export function lzsMaxCompressedLength(n: number): number {
  return Math.ceil((n * 9 + 9) / 8) + 1;
}

/**
 * Decompresses input[start, end) into out[outOffset, ...). Returns bytes written, or a
 * negative number: -1 malformed stream (bad offset, missing end marker), -2 output
 * would exceed out's space (or maxOutput). Never throws.
 */
export function lzsDecompress(input: Uint8Array, out: Uint8Array, start = 0, end = input.length, outOffset = 0, maxOutput = out.length - outOffset): number {
  let bitPos = start * 8;
  const bitEnd = end * 8;
  let o = outOffset;
  const oEnd = outOffset + Math.min(maxOutput, out.length - outOffset);
  const read = (n: number): number => {
    // Caller checks bitPos + n <= bitEnd.
    let v = 0;
    for (let k = 0; k < n; k++) {
      const byte = input[bitPos >>> 3]!;
      v = (v << 1) | ((byte >>> (7 - (bitPos & 7))) & 1);
      bitPos++;
    }
    return v;
  };
  for (;;) {
    if (bitPos + 9 > bitEnd) return -1; // ran out before the end marker
    if (read(1) === 0) {
      if (o >= oEnd) return -2;
      out[o++] = read(8);
      continue;
    }
    let offset: number;
    if (read(1) === 1) {
      offset = read(7);
      if (offset === 0) return o - outOffset; // end marker
    } else {
      if (bitPos + 11 > bitEnd) return -1;
      offset = read(11);
      if (offset === 0) return -1;
    }
    if (bitPos + 2 > bitEnd) return -1;
    let length: number;
    const a = read(2);
    if (a < 3) length = a + 2;
    else {
      if (bitPos + 2 > bitEnd) return -1;
      const b = read(2);
      if (b < 3) length = 5 + b;
      else {
        length = 8;
        for (;;) {
          if (bitPos + 4 > bitEnd) return -1;
          const nib = read(4);
          length += nib;
          if (nib < 15) break;
          if (length > 0x10000) return -2;
        }
      }
    }
    if (offset > o - outOffset) return -1; // points before the start of this datagram
    if (o + length > oEnd) return -2;
    let from = o - offset;
    for (let k = 0; k < length; k++) out[o++] = out[from++]!;
  }
}

/** Throwing convenience wrapper for tools and tests. */
export function lzsDecompressOrThrow(input: Uint8Array, maxOutput = 65535): Uint8Array {
  const out = new Uint8Array(maxOutput);
  const n = lzsDecompress(input, out, 0, input.length, 0, maxOutput);
  if (n === -1) throw new LzsDecodeError('malformed LZS stream', 0);
  if (n === -2) throw new LzsDecodeError(`LZS output exceeds ${maxOutput} bytes`, 0);
  return out.slice(0, n);
}
