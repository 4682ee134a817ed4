// TunGro: TCP segments merged into GSO frames for TUN writes. Frames are checked field by
// field with an independent naive checksum, and cut back with segmentFrame() (the
// kernel's job) to give the original packets; non-mergeable cases pass through in order.
import t from 'tap';
import { TunGro, type TunGroOptions } from '../../firmware/dataplane/tun-gro.js';
import {
  parseVirtioNetHdr, segmentFrame, VIRTIO_NET_HDR_BYTES, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6,
} from '../../firmware/dataplane/tun-offload.js';

const ACK = 0x10, PSH = 0x08, FIN = 0x01, SYN = 0x02;

function naiveSum(bytes: ArrayLike<number>, start = 0, end = bytes.length, sum = 0): number {
  for (let i = start; i < end; i += 2) sum += (bytes[i]! << 8) + (i + 1 < end ? bytes[i + 1]! : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

function pseudoSum(p: Uint8Array, l4: number, tcpLen = p.length - l4): number {
  const v4 = p[0]! >> 4 === 4;
  return naiveSum(p, v4 ? 12 : 8, v4 ? 20 : 40, 6 + tcpLen);
}

function tcpOk(p: Uint8Array, l4: number): boolean {
  return naiveSum(p, l4, p.length, pseudoSum(p, l4)) === 0xffff;
}

interface Seg {
  v6?: boolean;
  sport?: number;
  dport?: number;
  seq: number;
  ack?: number;
  win?: number;
  flags?: number;
  payload: number;
  /** payload byte i is (fill + i) & 0xff */
  fill?: number;
  id?: number;
  df?: boolean;
  ttl?: number;
  tos?: number;
  tsval?: number;
  ipOptions?: boolean;
  fragOffset?: number;
  badTcpChecksum?: boolean;
}

/** A fully checksummed TCP segment (IPv4 or IPv6, TCP timestamps option). */
function seg(s: Seg): Uint8Array {
  const l4 = s.v6 ? 40 : s.ipOptions ? 24 : 20;
  const thl = 32;
  const p = new Uint8Array(l4 + thl + s.payload);
  const v = new DataView(p.buffer);
  if (s.v6) {
    p[0] = 0x60; p[1] = (s.tos ?? 0) >> 4; v.setUint16(4, thl + s.payload); p[6] = 6; p[7] = s.ttl ?? 64;
    p.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 8);
  } else {
    p[0] = 0x40 | (l4 / 4); p[1] = s.tos ?? 0; v.setUint16(2, p.length); v.setUint16(4, s.id ?? 0);
    v.setUint16(6, ((s.df ?? true) ? 0x4000 : 0) | (s.fragOffset ?? 0)); p[8] = s.ttl ?? 64; p[9] = 6;
    p.set([10, 1, 0, 2, 10, 2, 0, 2], 12);
    if (s.ipOptions) p.set([1, 1, 1, 0], 20);
    v.setUint16(10, ~naiveSum(p, 0, l4) & 0xffff);
  }
  v.setUint16(l4, s.sport ?? 40000); v.setUint16(l4 + 2, s.dport ?? 5201);
  v.setUint32(l4 + 4, s.seq >>> 0); v.setUint32(l4 + 8, s.ack ?? 1000);
  p[l4 + 12] = (thl / 4) << 4; p[l4 + 13] = s.flags ?? ACK; v.setUint16(l4 + 14, s.win ?? 512);
  p.set([1, 1, 8, 10], l4 + 20); v.setUint32(l4 + 24, s.tsval ?? 77); v.setUint32(l4 + 28, 66);
  for (let i = 0; i < s.payload; i++) p[l4 + thl + i] = ((s.fill ?? 0) + i) & 0xff;
  const c = ~naiveSum(p, l4, p.length, pseudoSum(p, l4)) & 0xffff;
  v.setUint16(l4 + 16, s.badTcpChecksum ? c ^ 1 : c);
  return p;
}

/** With DF set the IPv4 id means nothing (the kernel numbers segments from the first): zero it. */
function norm(ps: Uint8Array[]): Uint8Array[] {
  return ps.map((p) => {
    const q = Uint8Array.from(p);
    if (q[0]! >> 4 === 4 && (q[6]! & 0x40) !== 0) {
      q[4] = 0; q[5] = 0; q[10] = 0; q[11] = 0;
      const c = ~naiveSum(q, 0, (q[0]! & 15) * 4) & 0xffff;
      q[10] = c >> 8; q[11] = c & 0xff;
    }
    return q;
  });
}

interface Out { frame: Uint8Array; queue: number; packets: number }

function gro(opts?: TunGroOptions): { g: TunGro; out: Out[] } {
  const out: Out[] = [];
  const g = new TunGro((frame, queue, packets) => out.push({ frame: Uint8Array.from(frame), queue, packets }), opts);
  return { g, out };
}

/** The kernel's view: frames cut back into packets (partial checksums completed). */
function resegment(frames: Out[]): Uint8Array[] {
  const pkts: Uint8Array[] = [];
  for (const o of frames) {
    const r = segmentFrame(Uint8Array.from(o.frame), (p) => pkts.push(Uint8Array.from(p)));
    if (r !== 'ok') throw new Error(`segmentFrame: ${r}`);
  }
  return pkts;
}

t.test('contiguous segments become one TCPv4 GSO frame', async (t) => {
  const { g, out } = gro();
  const segs = [
    seg({ seq: 0xfffffc00, payload: 1000, id: 0xffff }),
    seg({ seq: 0xfffffc00 + 1000, payload: 1000, id: 0, fill: 1000 }),
    seg({ seq: (0xfffffc00 + 2000) >>> 0, payload: 400, id: 1, fill: 2000, flags: ACK | PSH }),
  ];
  for (const s of segs) g.add(s);
  t.equal(g.pending, 1, 'one pending frame');
  t.equal(out.length, 0, 'nothing emitted before flush');
  g.flush();
  t.equal(out.length, 1, 'one frame');
  const f = out[0]!.frame;
  t.equal(out[0]!.packets, 3);
  t.same(parseVirtioNetHdr(f), { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV4, hdrLen: 52, gsoSize: 1000, csumStart: 20, csumOffset: 16 });
  const p = f.subarray(VIRTIO_NET_HDR_BYTES);
  const v = new DataView(p.buffer, p.byteOffset);
  t.equal(p.length, 52 + 2400, 'headers once, all payload');
  t.equal(v.getUint16(2), p.length, 'IPv4 total length');
  t.equal(naiveSum(p, 0, 20), 0xffff, 'IPv4 header checksum');
  t.equal(v.getUint16(4), 0xffff, 'id of the first segment');
  t.equal(v.getUint32(24), 0xfffffc00, 'sequence number of the first segment');
  t.equal(p[33], ACK | PSH, 'PSH of the last segment kept');
  t.equal(v.getUint16(36), pseudoSum(p, 20), 'TCP checksum field = pseudo-header sum (CHECKSUM_PARTIAL)');
  for (let i = 0; i < 2400; i++) {
    if (p[52 + i] !== (i & 0xff)) { t.fail(`payload byte ${i}`); break; }
  }
  const back = resegment(out);
  t.same(back, segs, 'cut back by the kernel rules, the original packets come out');
  t.same(g.stats, { packets: 3, gsoFrames: 1, gsoSegments: 3, passThrough: 0, badChecksum: 0, earlyFlushes: 0 });
  g.flush();
  t.equal(out.length, 1, 'a second flush emits nothing');
});

t.test('TCPv6 segments become one TCPv6 GSO frame', async (t) => {
  const { g, out } = gro();
  const segs = [0, 1, 2, 3].map((i) => seg({ v6: true, seq: 5000 + i * 1200, payload: i === 3 ? 7 : 1200, fill: i * 1200 }));
  for (const s of segs) g.add(s);
  g.flush();
  t.equal(out.length, 1);
  const h = parseVirtioNetHdr(out[0]!.frame)!;
  t.same(h, { flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV6, hdrLen: 72, gsoSize: 1200, csumStart: 40, csumOffset: 16 });
  const p = out[0]!.frame.subarray(VIRTIO_NET_HDR_BYTES);
  t.equal(new DataView(p.buffer, p.byteOffset).getUint16(4), 32 + 3607, 'IPv6 payload length');
  t.equal(new DataView(p.buffer, p.byteOffset).getUint16(56), pseudoSum(p, 40), 'partial checksum');
  t.same(resegment(out), segs, 'round trip');
});

t.test('a lone segment and non-TCP packets pass through unchanged', async (t) => {
  const { g, out } = gro();
  const a = seg({ seq: 1, payload: 100 });
  const udp = Uint8Array.from(a);
  udp[9] = 17;
  g.add(a);
  g.add(udp);
  g.add(new Uint8Array([0x45, 0, 0, 3])); // runt
  g.flush();
  t.equal(out.length, 3);
  for (const [i, want] of [a, udp, new Uint8Array([0x45, 0, 0, 3])].entries()) {
    t.same(out[i]!.frame.subarray(0, VIRTIO_NET_HDR_BYTES), new Uint8Array(VIRTIO_NET_HDR_BYTES), `#${i}: plain header`);
    t.same(out[i]!.frame.subarray(VIRTIO_NET_HDR_BYTES), want, `#${i}: packet as given`);
    t.equal(out[i]!.packets, 1);
  }
  t.ok(tcpOk(out[0]!.frame.subarray(VIRTIO_NET_HDR_BYTES), 20), 'lone segment keeps its full checksum');
});

t.test('direct: pass-through packets go out at once while nothing is pending', async (t) => {
  const out: string[] = [];
  const g = new TunGro((f, _q, n) => out.push(`frame ${f[VIRTIO_NET_HDR_BYTES + 9]} x${n}`), { direct: (p, q) => { out.push(`direct ${p[9]} q${q}`); return p[9] !== 99; } });
  const udp = (proto = 17): Uint8Array => { const u = seg({ seq: 0, payload: 10 }); u[9] = proto; return u; };
  t.equal(g.add(udp(), 1), true);
  t.equal(g.add(udp(99)), false, 'the direct result is returned');
  t.equal(g.add(seg({ seq: 0, payload: 100, flags: ACK | PSH })), true, 'a PSH segment cannot start a frame: direct too');
  t.same(out, ['direct 17 q1', 'direct 99 q0', 'direct 6 q0']);
  g.add(seg({ seq: 100, payload: 100 }));
  g.add(udp());
  t.equal(g.pending, 2, 'behind a pending frame a packet is buffered');
  g.flush();
  g.add(udp());
  t.same(out.slice(3), ['frame 6 x1', 'frame 17 x1', 'direct 17 q0']);
});

t.test('packets are copied: the caller may reuse its buffer', async (t) => {
  const { g, out } = gro();
  const buf = seg({ seq: 0, payload: 500 });
  const first = Uint8Array.from(buf);
  g.add(buf);
  const second = seg({ seq: 500, payload: 500, fill: 500 });
  buf.set(second.subarray(0, buf.length));
  g.add(buf.subarray(0, second.length));
  buf.fill(0xee);
  g.flush();
  t.same(norm(resegment(out)), norm([first, second]));
});

/** Each case: a first segment then a second one that must NOT be merged into it. */
const NOT_MERGED: [string, Seg][] = [
  ['other source port', { seq: 1000, payload: 1000, sport: 40001 }],
  ['other destination port', { seq: 1000, payload: 1000, dport: 1 }],
  ['sequence gap', { seq: 1001, payload: 1000 }],
  ['retransmission (sequence behind)', { seq: 0, payload: 1000 }],
  ['longer payload than the first', { seq: 1000, payload: 1001 }],
  ['other ACK number', { seq: 1000, payload: 1000, ack: 1001 }],
  ['other window', { seq: 1000, payload: 1000, win: 513 }],
  ['other timestamp', { seq: 1000, payload: 1000, tsval: 78 }],
  ['other TTL', { seq: 1000, payload: 1000, ttl: 63 }],
  ['other TOS (ECN CE)', { seq: 1000, payload: 1000, tos: 3 }],
  ['DF cleared', { seq: 1000, payload: 1000, df: false }],
  ['SYN', { seq: 1000, payload: 1000, flags: SYN | ACK }],
  ['FIN', { seq: 1000, payload: 1000, flags: FIN | ACK }],
  ['RST', { seq: 1000, payload: 0, flags: 0x04 }],
  ['URG', { seq: 1000, payload: 1000, flags: 0x20 | ACK }],
  ['ECE', { seq: 1000, payload: 1000, flags: 0x40 | ACK }],
  ['CWR', { seq: 1000, payload: 1000, flags: 0x80 | ACK }],
  ['no ACK', { seq: 1000, payload: 1000, flags: 0 }],
  ['pure ACK (no payload)', { seq: 1000, payload: 0 }],
  ['bad TCP checksum', { seq: 1000, payload: 1000, badTcpChecksum: true }],
  ['IP options', { seq: 1000, payload: 1000, ipOptions: true }],
  ['fragment', { seq: 1000, payload: 1000, fragOffset: 1 }],
  ['IPv6', { v6: true, seq: 1000, payload: 1000 }],
];

t.test('segments that must not be merged', async (t) => {
  for (const [name, second] of NOT_MERGED) {
    const { g, out } = gro();
    const a = seg({ seq: 0, payload: 1000 });
    const b = seg(second);
    g.add(a);
    g.add(b);
    g.flush();
    t.equal(out.length, 2, `${name}: two frames`);
    t.same(out.map((o) => o.frame.subarray(VIRTIO_NET_HDR_BYTES)), [a, b], `${name}: both as given, in order`);
    t.ok(out.every((o) => o.frame[1] === 0), `${name}: no GSO`);
  }
});

t.test('IPv4 ids: consecutive ids merge without DF; a jump does not', async (t) => {
  let { g, out } = gro();
  g.add(seg({ seq: 0, payload: 100, df: false, id: 7 }));
  g.add(seg({ seq: 100, payload: 100, df: false, id: 8 }));
  g.flush();
  t.equal(out.length, 1, 'ids 7, 8 merged');
  ({ g, out } = gro());
  g.add(seg({ seq: 0, payload: 100, df: false, id: 7 }));
  g.add(seg({ seq: 100, payload: 100, df: false, id: 9 }));
  g.flush();
  t.equal(out.length, 2, 'ids 7, 9 not merged');
  ({ g, out } = gro());
  g.add(seg({ seq: 0, payload: 100, id: 7 }));
  g.add(seg({ seq: 100, payload: 100, id: 3 }));
  g.flush();
  t.equal(out.length, 1, 'with DF the id does not matter');
});

t.test('the frame closes after a short or PSH segment, and when 64 KB are reached', async (t) => {
  let { g, out } = gro();
  g.add(seg({ seq: 0, payload: 1000 }));
  g.add(seg({ seq: 1000, payload: 999 }));
  g.add(seg({ seq: 1999, payload: 999 }));
  g.flush();
  t.same(out.map((o) => o.packets), [2, 1], 'nothing after a shorter segment');
  ({ g, out } = gro());
  g.add(seg({ seq: 0, payload: 1000 }));
  g.add(seg({ seq: 1000, payload: 1000, flags: ACK | PSH }));
  g.add(seg({ seq: 2000, payload: 1000 }));
  g.add(seg({ seq: 3000, payload: 1000, flags: ACK | PSH }));
  g.add(seg({ seq: 4000, payload: 1000, flags: ACK | PSH }));
  g.flush();
  t.same(out.map((o) => o.packets), [2, 2, 1], 'nothing after PSH; a PSH segment does not open a frame');
  ({ g, out } = gro());
  const segs = Array.from({ length: 60 }, (_, i) => seg({ seq: i * 1400, payload: 1400, fill: i }));
  for (const s of segs) g.add(s);
  g.flush();
  const perFrame = Math.floor((65535 - 52) / 1400);
  t.same(out.map((o) => o.packets), [perFrame, 60 - perFrame], `${perFrame} segments fit in 64 KB`);
  t.ok(out.every((o) => o.frame.length - VIRTIO_NET_HDR_BYTES <= 65535), 'no frame over 65535 octets of IP');
  t.same(norm(resegment(out)), norm(segs), 'round trip');
});

t.test('order within a flow is kept', async (t) => {
  const { g, out } = gro();
  const a1 = seg({ seq: 0, payload: 1000 });
  const ackOnly = seg({ seq: 1000, payload: 0 });
  const a2 = seg({ seq: 1000, payload: 1000 });
  const a3 = seg({ seq: 2000, payload: 1000 });
  const fin = seg({ seq: 3000, payload: 0, flags: FIN | ACK });
  for (const p of [a1, ackOnly, a2, a3, fin]) g.add(p);
  g.flush();
  t.same(out.map((o) => o.packets), [1, 1, 2, 1], 'the ACK between segments splits the frame');
  t.same(norm(resegment(out)), norm([a1, ackOnly, a2, a3, fin]), 'same order');
});

t.test('interleaved flows each get a frame; a fragment of a flow closes it', async (t) => {
  const { g, out } = gro();
  const a = [0, 1, 2].map((i) => seg({ seq: i * 800, payload: 800, sport: 1 }));
  const b = [0, 1, 2].map((i) => seg({ seq: 9 + i * 800, payload: 800, sport: 2 }));
  for (let i = 0; i < 3; i++) { g.add(a[i]!); g.add(b[i]!); }
  g.flush();
  t.same(out.map((o) => o.packets), [3, 3], 'two frames');
  t.same(norm(resegment(out)), norm([...a, ...b]));
  out.length = 0;
  const frag = seg({ seq: 800, payload: 8, fragOffset: 100, sport: 1 });
  g.add(a[0]!);
  g.add(frag);
  g.add(a[1]!);
  g.flush();
  t.same(out.map((o) => o.packets), [1, 1, 1], 'a TCP fragment between the same hosts closes their frames');
});

t.test('bounded memory: early flush keeps every packet and the order', async (t) => {
  const { g, out } = gro({ maxFlows: 2, maxPending: 4, passThroughBytes: 0 });
  const input: Uint8Array[] = [];
  for (let i = 0; i < 4; i++) for (let f = 0; f < 3; f++) input.push(seg({ seq: i * 500, payload: 500, sport: 100 + f, fill: i }));
  for (let i = 0; i < 10; i++) { const u = seg({ seq: 0, payload: 9000 }); u[9] = 17; input.push(u); }
  for (const p of input) g.add(p);
  g.flush();
  t.ok(g.stats.earlyFlushes > 0, `early flushes (${g.stats.earlyFlushes})`);
  const back = norm(resegment(out));
  t.equal(back.length, input.length, 'no packet lost');
  for (let f = 0; f < 3; f++) {
    const port = 100 + f;
    const mine = (ps: Uint8Array[]): Uint8Array[] => ps.filter((p) => p[9] === 6 && ((p[20]! << 8) | p[21]!) === port);
    t.same(mine(back), mine(norm(input)), `flow ${f}: same packets, same order`);
  }
});

t.test('random mixes: nothing lost, no flow reordered, every frame valid', async (t) => {
  let rnd = 12345;
  const rand = (n: number): number => { rnd = (rnd * 1103515245 + 12345) >>> 0; return (rnd >>> 8) % n; };
  for (let round = 0; round < 40; round++) {
    const { g, out } = gro({ maxFlows: 1 + rand(4), maxPending: 2 + rand(64) });
    const flows = [0, 1, 2, 3].map((i) => ({ port: 1000 + i, seq: rand(1 << 30), v6: i === 3, id: rand(65536), mss: 200 + rand(1200) }));
    const input: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) {
      const f = flows[rand(flows.length)]!;
      const r = rand(20);
      const len = r === 0 ? 0 : r === 1 ? rand(f.mss) : f.mss;
      const flags = r === 2 ? ACK | PSH : r === 3 ? ACK | FIN : ACK;
      const s = seg({ v6: f.v6, sport: f.port, seq: f.seq, payload: len, flags, id: f.id, df: r !== 4, fill: i, tsval: r === 5 ? 1 : 77, badTcpChecksum: r === 6 });
      f.seq = (f.seq + len) >>> 0;
      f.id = (f.id + 1) & 0xffff;
      input.push(s);
      g.add(s);
      if (rand(50) === 0) g.flush();
    }
    g.flush();
    const back = resegment(out);
    if (back.length !== input.length) { t.fail(`round ${round}: ${back.length} of ${input.length} packets`); continue; }
    for (const f of flows) {
      const mine = (ps: Uint8Array[]): Uint8Array[] => ps.filter((p) => {
        const l4 = p[0]! >> 4 === 6 ? 40 : 20;
        return ((p[l4]! << 8) | p[l4 + 1]!) === f.port;
      });
      const a = mine(input), b = mine(back);
      let same = a.length === b.length;
      for (let i = 0; same && i < a.length; i++) same = Buffer.compare(a[i]!, b[i]!) === 0;
      if (!same) t.fail(`round ${round}, flow ${f.port}: packets differ after GRO + segmentation`);
    }
    for (const o of out) {
      if (o.packets < 2) continue;
      const p = o.frame.subarray(VIRTIO_NET_HDR_BYTES);
      const l4 = p[0]! >> 4 === 6 ? 40 : 20;
      const partial = (p[l4 + 16]! << 8) | p[l4 + 17]!;
      if (partial !== pseudoSum(p, l4)) t.fail(`round ${round}: partial checksum`);
    }
  }
  t.pass('40 rounds of 300 packets');
});
