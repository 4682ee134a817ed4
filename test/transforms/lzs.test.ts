// LZS codec (ANSI X3.241 / RFC 2395): hand-checked encodings, round trips, bad input.
import t from 'tap';
import { LzsCompressor, lzsCompress, lzsDecompress, lzsDecompressOrThrow, LzsDecodeError, lzsMaxCompressedLength } from '../../firmware/proto/lzs.js';
import { prng, toHex } from './helpers.js';

/** Packs a string of 0/1 (spaces ignored) MSB-first, zero-padded to a byte. */
function bits(s: string): Uint8Array {
  const b = s.replace(/\s+/g, '');
  const out = new Uint8Array(Math.ceil(b.length / 8));
  for (let i = 0; i < b.length; i++) if (b[i] === '1') out[i >> 3]! |= 0x80 >> (i & 7);
  return out;
}

function compress(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(lzsMaxCompressedLength(input.length));
  const n = lzsCompress(input, out);
  if (n < 0) throw new Error('did not fit');
  return out.subarray(0, n);
}

t.test('hand-checked encoding of "AAAA"', async (t) => {
  // literal 'A' = 0 01000001; string offset 1 length 3 = 1 1 0000001 01;
  // end marker 1 1 0000000; 3 zero bits of padding -> 0x20 0xE0 0x5C 0x00
  const expected = bits('0 01000001  1 1 0000001 01  1 1 0000000  000');
  t.equal(toHex(expected), '20e05c00');
  t.equal(toHex(compress(new TextEncoder().encode('AAAA'))), '20e05c00');
  t.equal(new TextDecoder().decode(lzsDecompressOrThrow(expected)), 'AAAA');
});

t.test('hand-built streams: long offsets and long lengths decode', async (t) => {
  const lit = (c: string) => '0 ' + c.charCodeAt(0).toString(2).padStart(8, '0') + ' ';
  // "abc" then offset 3 length 9 (1111 0001) then end
  const s1 = bits(lit('a') + lit('b') + lit('c') + '1 1 0000011 1111 0001 ' + '1 1 0000000');
  t.equal(new TextDecoder().decode(lzsDecompressOrThrow(s1)), 'abcabcabcabc');
  // the same with the 11-bit offset form
  const s2 = bits(lit('a') + lit('b') + lit('c') + '1 0 00000000011 1111 0001 ' + '1 1 0000000');
  t.equal(new TextDecoder().decode(lzsDecompressOrThrow(s2)), 'abcabcabcabc');
  // length 23 = 1111 1111 0000; lengths 5, 6, 7 = 1100 1101 1110
  const s3 = bits(lit('x') + '1 1 0000001 1111 1111 0000 ' + '1 1 0000001 1100 ' + '1 1 0000001 1101 ' + '1 1 0000001 1110 ' + '1 1 0000000');
  t.equal(lzsDecompressOrThrow(s3).length, 1 + 23 + 5 + 6 + 7);
});

t.test('encoder uses the length and offset forms correctly (round trip of crafted data)', async (t) => {
  const rnd = prng(1);
  for (const len of [2, 3, 4, 5, 7, 8, 22, 23, 24, 37, 38, 300, 2000]) {
    const block = rnd(40);
    const gap = rnd(1500); // pushes the repeat beyond the 7-bit offset range
    const input = new Uint8Array(block.length + gap.length + len);
    input.set(block, 0);
    input.set(gap, block.length);
    input.set(block.subarray(0, Math.min(len, 40)), block.length + gap.length);
    const c = compress(input);
    t.equal(toHex(lzsDecompressOrThrow(c, 70000)), toHex(input), `repeat of ${len}`);
  }
});

t.test('round trips: empty, tiny, text, zeros, random, 64 KiB', async (t) => {
  const rnd = prng(2);
  const text = new TextEncoder().encode('The quick brown fox jumps over the lazy dog. '.repeat(60));
  const inputs = [new Uint8Array(0), Uint8Array.of(7), text, new Uint8Array(5000), rnd(1400), rnd(65000)];
  for (const input of inputs) {
    const c = compress(input);
    t.equal(toHex(lzsDecompressOrThrow(c, 65535)), toHex(input), `length ${input.length}`);
  }
  t.ok(compress(text).length < text.length / 10, 'repetitive text compresses well');
  t.ok(compress(new Uint8Array(5000)).length < 200, 'zeros: one long string, 4 bits per 15 bytes');
  t.ok(compress(rnd(1400)).length > 1400, 'random data expands (caller sends it uncompressed)');
});

t.test('compressor reuse across many packets stays correct (history reset per packet)', async (t) => {
  const c = new LzsCompressor();
  const rnd = prng(3);
  let bad = 0;
  for (let i = 0; i < 300; i++) {
    const input = i % 2 ? rnd(200 + (i % 700)) : new TextEncoder().encode(`packet ${i} `.repeat(1 + (i % 50)));
    const out = new Uint8Array(lzsMaxCompressedLength(input.length));
    const n = c.compress(input, out);
    const back = new Uint8Array(input.length + 10);
    const m = lzsDecompress(out, back, 0, n);
    if (m !== input.length || toHex(back.subarray(0, m)) !== toHex(input)) bad++;
  }
  t.equal(bad, 0);
});

t.test('output limit makes compression give up', async (t) => {
  const out = new Uint8Array(10);
  t.equal(lzsCompress(prng(4)(100), out, 0, 100, 0, 10), -1);
});

t.test('bad streams are refused without throwing (and with LzsDecodeError from the wrapper)', async (t) => {
  const out = new Uint8Array(100);
  t.equal(lzsDecompress(bits('1 1 0000101 00 1 1 0000000'), out), -1, 'offset before the start of the datagram');
  t.equal(lzsDecompress(bits('0 01000001'), out), -1, 'no end marker');
  t.equal(lzsDecompress(new Uint8Array(0), out), -1, 'empty');
  t.equal(lzsDecompress(bits('0 01000001 1 0 00000000000 00 110000000'), out), -1, '11-bit offset 0');
  const big = bits('0 01000001 1 1 0000001 1111 1111 1111 1111 1111 1111 1111 0000 1 1 0000000');
  t.equal(lzsDecompress(big, out, 0, big.length, 0, 50), -2, 'output larger than allowed');
  t.throws(() => lzsDecompressOrThrow(bits('0 01000001')), LzsDecodeError);
  const rnd = prng(5);
  let threw = 0;
  for (let i = 0; i < 2000; i++) {
    try {
      lzsDecompress(rnd(1 + (i % 200)), out);
    } catch {
      threw++;
    }
  }
  t.equal(threw, 0, '2000 random streams: no exception');
});
