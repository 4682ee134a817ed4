// Pure codecs: ESP/AH/IPComp/UDP-encap headers, IP header parsing, checksums.
import t from 'tap';
import { ahHeaderLength, AhDecodeError, decodeAhHeader, parseAhHeader, restoreMutableFields, writeAhHeader, zeroMutableFields } from '../../firmware/proto/ah.js';
import { checkEspTrailer, decodeEspHeader, EspDecodeError, espPadLength, peekEspSpi, writeEspHeader, writeEspTrailer } from '../../firmware/proto/esp.js';
import { decodeIpHeader, internetChecksum, IpHeaderError, parseIpHeader, writeIpHeader } from '../../firmware/proto/ip-packet.js';
import { decodeIpcompHeader, IpcompDecodeError, parseIpcompHeader, writeIpcompHeader } from '../../firmware/proto/ipcomp.js';
import { classifyUdpEncap, decodeUdpHeader, natKeepalivePayload, UdpDecodeError } from '../../firmware/proto/udp-encap.js';
import { hex, ipv4Udp, ipv6Udp } from './helpers.js';

t.test('RFC 1071 checksum example', async (t) => {
  t.equal(internetChecksum(hex('0001f203f4f5f6f7')), 0x220d);
  t.equal(internetChecksum(hex('0001f203f4f5f6')), internetChecksum(hex('0001f203f4f5f600')), 'odd length pads with zero');
});

t.test('ESP header, padding, trailer', async (t) => {
  const b = new Uint8Array(8);
  writeEspHeader(b, 0, 0xdeadbeef, 0x80000001);
  t.same(decodeEspHeader(b), { spi: 0xdeadbeef, seq: 0x80000001 }, 'high bit values stay unsigned');
  t.equal(peekEspSpi(b), 0xdeadbeef);
  t.equal(peekEspSpi(b.subarray(0, 7)), -1);
  t.throws(() => decodeEspHeader(b, 3), EspDecodeError);
  t.throws(() => decodeEspHeader(b, 3), /offset 3/);
  t.equal(espPadLength(14, 16), 0);
  t.equal(espPadLength(15, 16), 15);
  t.equal(espPadLength(1, 1), 1, 'null cipher still aligns to 4');
  t.equal(espPadLength(100, 8), 2);
  const tr = new Uint8Array(10);
  writeEspTrailer(tr, 2, 6, 4);
  t.same(Array.from(tr), [0, 0, 1, 2, 3, 4, 5, 6, 6, 4]);
  t.equal(checkEspTrailer(tr, 0, 10), 6);
  t.equal(checkEspTrailer(tr, 5, 10), -1, 'pad length runs past the payload start');
  tr[4] = 9;
  t.equal(checkEspTrailer(tr, 0, 10), -1, 'bad padding byte');
  t.equal(checkEspTrailer(tr, 0, 1), -2, 'too short');
});

t.test('AH header and mutable fields', async (t) => {
  t.equal(ahHeaderLength(12, 4), 24);
  t.equal(ahHeaderLength(12, 6), 24);
  t.equal(ahHeaderLength(16, 6), 32, 'IPv6 aligns to 8 bytes');
  t.equal(ahHeaderLength(16, 4), 28);
  const b = new Uint8Array(30);
  writeAhHeader(b, 2, 50, 24, 0x1234, 7);
  t.same(decodeAhHeader(b, 2), { nextHeader: 50, length: 24, spi: 0x1234, seq: 7 });
  t.equal(parseAhHeader(b, 2, 20), undefined, 'AH longer than the packet');
  t.throws(() => decodeAhHeader(b, 25), AhDecodeError);
  // IPv4 header with a NOP, a record-route (mutable, zeroed) and a router alert (kept).
  const p = ipv4Udp(new Uint8Array(4));
  const opts = hex('01 07 07 04 0a000001 94 04 0000 00 00 00 00');
  const h = new Uint8Array(20 + opts.length);
  h.set(p.subarray(0, 20));
  h[0] = 0x40 | (h.length / 4);
  h.set(opts, 20);
  const before = h.slice();
  const saved = new Uint8Array(h.length);
  zeroMutableFields(h, h.length, saved);
  t.same([h[1], h[6], h[7], h[8], h[10], h[11]], [0, 0, 0, 0, 0, 0], 'TOS, flags/offset, TTL, checksum zeroed');
  t.same(Array.from(h.subarray(12, 20)), Array.from(before.subarray(12, 20)), 'addresses kept');
  t.equal(h[20], 1, 'NOP kept');
  t.same(Array.from(h.subarray(21, 28)), [0, 0, 0, 0, 0, 0, 0], 'record route zeroed');
  t.same(Array.from(h.subarray(28, 32)), [0x94, 4, 0, 0], 'router alert kept');
  restoreMutableFields(h, h.length, saved);
  t.same(Array.from(h), Array.from(before));
  const v6 = ipv6Udp(new Uint8Array(4));
  v6[1] = 0xab; v6[2] = 0xcd; v6[7] = 9;
  const s6 = new Uint8Array(40);
  zeroMutableFields(v6, 40, s6);
  t.same([v6[0], v6[1], v6[2], v6[3], v6[7]], [0x60, 0, 0, 0, 0], 'traffic class, flow label, hop limit zeroed');
});

t.test('IPComp and UDP-encap', async (t) => {
  const b = new Uint8Array(4);
  writeIpcompHeader(b, 0, 4, 0x4242);
  t.same(parseIpcompHeader(b, 0), { nextHeader: 4, flags: 0, cpi: 0x4242 });
  t.throws(() => decodeIpcompHeader(b, 1), IpcompDecodeError);
  t.equal(classifyUdpEncap(natKeepalivePayload()), 'keepalive');
  t.equal(classifyUdpEncap(hex('00000000 11223344')), 'ike');
  t.equal(classifyUdpEncap(hex('00001000 00000001')), 'esp');
  t.equal(classifyUdpEncap(hex('0000')), 'malformed');
  t.equal(classifyUdpEncap(hex('00001000 0000')), 'malformed', 'too short for an ESP header');
  t.equal(classifyUdpEncap(hex('fe')), 'malformed');
  t.throws(() => decodeUdpHeader(hex('11940000 0009 0000')), UdpDecodeError, 'length beyond the buffer');
  t.same(decodeUdpHeader(hex('11941194 0009 0000 ff')), { srcPort: 4500, dstPort: 4500, length: 9, checksum: 0 });
});

t.test('IP header parsing and building', async (t) => {
  const v4 = ipv4Udp(new Uint8Array(10));
  const h = parseIpHeader(v4)!;
  t.equal(h.version, 4);
  t.equal(h.headerLength, 20);
  t.equal(h.totalLength, 38);
  t.equal(h.protocol, 17);
  t.equal(h.fragment, false);
  t.equal(parseIpHeader(v4.subarray(0, 37)), undefined, 'total length beyond the buffer');
  const bad = v4.slice(); bad[0] = 0x44;
  t.equal(parseIpHeader(bad), undefined, 'IHL < 5');
  t.throws(() => decodeIpHeader(new Uint8Array(3)), IpHeaderError);
  // IPv6 with a hop-by-hop header: ESP goes after it.
  const v6 = ipv6Udp(new Uint8Array(8));
  const withHbh = new Uint8Array(v6.length + 8);
  withHbh.set(v6.subarray(0, 40));
  withHbh[6] = 0; // next header: hop-by-hop
  withHbh[40] = 17; withHbh[41] = 0; withHbh[42] = 1; withHbh[43] = 4; // PadN
  withHbh.set(v6.subarray(40), 48);
  withHbh[5] = v6[5]! + 8;
  const h6 = parseIpHeader(withHbh)!;
  t.equal(h6.headerLength, 48);
  t.equal(h6.protocol, 17);
  t.equal(h6.protocolOffset, 40);
  const out = new Uint8Array(40);
  writeIpHeader(out, 0, { src: hex('fd000000000000000000000000000001'), dst: hex('fd000000000000000000000000000002'), protocol: 50, payloadLength: 0, tos: 0xb8, ttl: 64, dontFragment: false, id: 0 });
  t.equal(out[0], 0x6b, 'traffic class high nibble');
  t.equal(out[1], 0x80);
  t.equal(out[6], 50);
});

t.test('onesSum: the word-wise fast path equals the RFC 1071 byte loop at every alignment, length and buffer', async (t) => {
  const reference = (buf: Uint8Array, start: number, end: number): number => {
    let sum = 0;
    let i = start;
    for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
    if (i < end) sum += buf[i]! << 8;
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    return sum;
  };
  let seed = 7;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16;
  let mismatches = 0;
  for (let i = 0; i < 3000; i++) {
    const n = next() % 3000;
    const fill = i % 3; // all 0xff, all zero (the two one's-complement zeros), random
    const buf = Uint8Array.from({ length: n + 8 }, () => (fill === 0 ? 0xff : fill === 1 ? 0 : next() & 0xff));
    const start = next() % 8;
    const end = Math.min(buf.length, start + n);
    if (internetChecksum(buf, start, end) !== (~reference(buf, start, end) & 0xffff)) mismatches++;
  }
  t.equal(mismatches, 0, '3,000 random buffers');
  // the fast path keeps a 32-bit view of the last ArrayBuffer: alternate buffers and
  // offsets, with long runs of 0xff (worst carries) and lengths up to 60 KB
  const big = new Uint8Array(70000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
  big.fill(0xff, 1000, 66000);
  let bad = 0;
  for (let n = 0; n < 400; n++) {
    const off = (n * 7919) % 3000;
    const len = n < 200 ? n : 60000 + n;
    const buf = n % 3 === 0 ? Uint8Array.from(big.subarray(0, off + len + 8)).subarray(off % 4) : big.subarray(off % 7);
    const start = n % 5;
    if (internetChecksum(buf, start, start + len) !== (~reference(buf, start, start + len) & 0xffff)) bad++;
  }
  t.equal(bad, 0, '400 ranges over alternating buffers agree');
});
