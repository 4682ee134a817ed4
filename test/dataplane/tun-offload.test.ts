// segmentFrame(): TSO super-packets from an offload TUN cut into MTU-sized segments, and
// partial checksums completed. Checked with an independent, naive checksum.
import t from 'tap';
import {
  segmentFrame, VIRTIO_NET_HDR_BYTES, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP_L4, parseVirtioNetHdr,
} from '../../firmware/dataplane/tun-offload.js';

/** Naive RFC 1071 sum over a list of byte arrays, folded (not inverted). */
function naiveSum(parts: number[][]): number {
  const all = parts.flat();
  let s = 0;
  for (let i = 0; i < all.length; i += 2) s += ((all[i] ?? 0) << 8) + (all[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function pseudo(p: Uint8Array, l4: number): number[] {
  const v4 = p[0]! >> 4 === 4;
  const len = p.length - l4;
  const addrs = v4 ? Array.from(p.subarray(12, 20)) : Array.from(p.subarray(8, 40));
  return v4 ? [...addrs, 0, 6, len >> 8, len & 0xff] : [...addrs, 0, 0, len >> 8, len & 0xff, 0, 0, 0, 6];
}

function tcpOk(p: Uint8Array, l4: number): boolean {
  return naiveSum([pseudo(p, l4), Array.from(p.subarray(l4))]) === 0xffff;
}

function hdr(flags: number, gso: number, hdrLen: number, gsoSize: number, csumStart: number, csumOffset: number): Uint8Array {
  const h = new Uint8Array(VIRTIO_NET_HDR_BYTES);
  const v = new DataView(h.buffer);
  v.setUint8(0, flags); v.setUint8(1, gso); v.setUint16(2, hdrLen, true); v.setUint16(4, gsoSize, true);
  v.setUint16(6, csumStart, true); v.setUint16(8, csumOffset, true);
  return h;
}

/** IPv4 (20) + TCP (32 with options) + payload bytes i & 0xff. TCP checksum field holds the pseudo-header sum, as the kernel leaves it. */
function tcp4(payload: number, flags: number): Uint8Array {
  const p = new Uint8Array(20 + 32 + payload);
  const v = new DataView(p.buffer);
  p[0] = 0x45; v.setUint16(2, p.length); v.setUint16(4, 0xfffe); p[6] = 0x40; p[8] = 64; p[9] = 6;
  p.set([10, 0, 0, 1, 10, 0, 0, 2], 12);
  v.setUint16(20, 40000); v.setUint16(22, 5201); v.setUint32(24, 0xfffff000); v.setUint32(28, 77);
  p[32] = 8 << 4; p[33] = flags; v.setUint16(34, 502);
  p.set([1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2], 40);
  for (let i = 0; i < payload; i++) p[52 + i] = i & 0xff;
  return p;
}

function tcp6(payload: number, flags: number): Uint8Array {
  const p = new Uint8Array(40 + 20 + payload);
  const v = new DataView(p.buffer);
  p[0] = 0x60; v.setUint16(4, 20 + payload); p[6] = 6; p[7] = 64;
  p[8] = 0xfd; p[23] = 1; p[24] = 0xfd; p[39] = 2;
  v.setUint16(40, 40000); v.setUint16(42, 5201); v.setUint32(44, 1000);
  p[52] = 5 << 4; p[53] = flags;
  for (let i = 0; i < payload; i++) p[60 + i] = (i * 7) & 0xff;
  return p;
}

function frame(h: Uint8Array, p: Uint8Array): Uint8Array {
  const f = new Uint8Array(h.length + p.length);
  f.set(h); f.set(p, h.length);
  return f;
}

t.test('TCPv4 super-packet is cut into MSS segments', async (t) => {
  const ACK = 0x10, PSH = 0x08, FIN = 0x01, CWR = 0x80;
  const p = tcp4(3500, ACK | PSH | FIN | CWR);
  const segs: Uint8Array[] = [];
  const r = segmentFrame(frame(hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 52, 1448, 20, 16), p), (s) => segs.push(Uint8Array.from(s)));
  t.equal(r, 'ok');
  t.same(segs.map((s) => s.length), [52 + 1448, 52 + 1448, 52 + 604], 'three segments');
  segs.forEach((s, i) => {
    const v = new DataView(s.buffer);
    t.equal(v.getUint16(2), s.length, `seg ${i}: IPv4 total length`);
    t.equal(v.getUint16(4), (0xfffe + i) & 0xffff, `seg ${i}: IP id increments (wraps)`);
    t.equal(naiveSum([Array.from(s.subarray(0, 20))]), 0xffff, `seg ${i}: IPv4 header checksum`);
    t.equal(v.getUint32(24), (0xfffff000 + i * 1448) >>> 0, `seg ${i}: sequence number (wraps)`);
    t.ok(tcpOk(s, 20), `seg ${i}: TCP checksum`);
    t.equal(s[52], (i * 1448) & 0xff, `seg ${i}: payload offset`);
  });
  t.same(segs.map((s) => s[33]), [ACK | CWR, ACK, ACK | PSH | FIN], 'CWR first only, PSH/FIN last only');
  t.same(Array.from(segs[1]!.subarray(40, 52)), [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2], 'options copied');
});

t.test('TCPv6 super-packet', async (t) => {
  const p = tcp6(2000, 0x18);
  const segs: Uint8Array[] = [];
  t.equal(segmentFrame(frame(hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV6, 60, 1200, 40, 16), p), (s) => segs.push(Uint8Array.from(s))), 'ok');
  t.same(segs.map((s) => s.length), [60 + 1200, 60 + 800]);
  t.same(segs.map((s) => new DataView(s.buffer).getUint16(4)), [20 + 1200, 20 + 800], 'IPv6 payload lengths');
  t.ok(segs.every((s) => tcpOk(s, 40)), 'TCP checksums');
});

t.test('partial checksum completed on a plain packet', async (t) => {
  const p = tcp4(100, 0x18);
  // the kernel leaves the pseudo-header sum (not inverted) in the checksum field
  const ps = naiveSum([pseudo(p, 20)]);
  p[36] = ps >> 8; p[37] = ps & 0xff;
  const out: Uint8Array[] = [];
  t.equal(segmentFrame(frame(hdr(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 0, 20, 16), p), (s) => out.push(Uint8Array.from(s))), 'ok');
  t.equal(out.length, 1);
  t.ok(tcpOk(out[0]!, 20), 'checksum now valid');
  const plain = tcp4(10, 0x10);
  const seen: Uint8Array[] = [];
  segmentFrame(frame(hdr(0, 0, 0, 0, 0, 0), plain), (s) => seen.push(Uint8Array.from(s)));
  t.same(seen[0], plain, 'a packet without flags passes unchanged');
});

t.test('bad frames', async (t) => {
  const none = (): void => { t.fail('nothing should be emitted'); };
  t.equal(segmentFrame(new Uint8Array(5), none), 'short', 'shorter than virtio_net_hdr');
  t.equal(segmentFrame(frame(hdr(1, VIRTIO_NET_HDR_GSO_TCPV4, 52, 1448, 20, 16), tcp4(0, 0x10).subarray(0, 30)), none), 'short', 'truncated TCP header');
  t.equal(segmentFrame(frame(hdr(1, VIRTIO_NET_HDR_GSO_UDP_L4, 28, 1000, 20, 6), new Uint8Array(100)), none), 'unsupported', 'UDP GSO not requested');
  t.equal(segmentFrame(frame(hdr(1, 0, 0, 0, 90, 16), new Uint8Array(60)), none), 'short', 'checksum offset beyond the packet');
  t.equal(segmentFrame(frame(hdr(1, VIRTIO_NET_HDR_GSO_TCPV4, 52, 0, 20, 16), tcp4(100, 0x10)), none), 'short', 'zero gso size');
  t.same(parseVirtioNetHdr(hdr(1, 4, 60, 1200, 40, 16)), { flags: 1, gsoType: 4, hdrLen: 60, gsoSize: 1200, csumStart: 40, csumOffset: 16 });
});
