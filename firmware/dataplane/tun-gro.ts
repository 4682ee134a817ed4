// Generic receive offload for TUN writes: consecutive TCP segments of one flow, written in
// the same synchronous batch, are merged into one super-packet with a virtio_net_hdr
// (GSO TCPV4/TCPV6, CHECKSUM_PARTIAL), so the kernel and the receiving host's TCP stack
// handle one skb per ~45 segments instead of one each. The reverse of segmentFrame().
//
// Pure logic: packets go in with add() (copied: callers reuse their buffers), frames come
// out through a sink on flush(), in order. Rules (those of Linux tcp_gro_receive, so the
// kernel's own re-segmentation gives back the original segments):
//   - TCP over IPv4 without options and not a fragment, or over IPv6 with TCP as the
//     first next header; ACK alone (PSH allowed on the last segment); some payload
//   - same addresses and ports, contiguous sequence numbers, equal ACK number and
//     window, identical TCP options (timestamps), same TOS/TTL/DF (IPv6: traffic class,
//     flow label, hop limit), IPv4 ids consecutive unless DF is set
//   - every segment's payload of the first one's length except a shorter last one
//   - IPv4 header and TCP checksums valid: the merged frame's checksum is completed by
//     the kernel (or not at all when it stays local), so a corrupted segment must not
//     be merged; it is passed on as is and its receiver drops it
//   - at most 65535 octets of IP packet per frame
// Everything else is passed through unchanged behind an all-zero header (or handed to
// `direct` at once when nothing is pending: no copy, no wait). Order: frames
// and packets leave in the order of their first packet; a packet of a flow that cannot be
// merged closes that flow's open frame first, and merged segments must be contiguous,
// so nothing of one flow overtakes anything else of that flow.
// Memory is bounded: `maxFlows` frame buffers of 64 KiB plus one arena for pass-through
// packets; when either is full everything pending is flushed early.
import { foldOnesSum, onesSum, setIpv4HeaderChecksum } from '../proto/ip-packet.js';
import { VIRTIO_NET_HDR_BYTES, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6 } from './tun-offload.js';

const HDR = VIRTIO_NET_HDR_BYTES;
const MAX_IP_BYTES = 65535;
const TCP_ACK = 0x10;
const TCP_PSH = 0x08;
const IPPROTO_TCP = 6;

export interface TunGroOptions {
  /** frames being built at once (one per flow); default 8 */
  maxFlows?: number;
  /** arena for pass-through packets (each + 10 octets); default 256 KiB, at least 64 KiB + 10 */
  passThroughBytes?: number;
  /** pending frames and packets before an early flush; default 1024 */
  maxPending?: number;
  /** check IPv4 header and TCP checksums before merging; default true */
  verifyChecksums?: boolean;
  /**
   * Receives a packet that would pass through unchanged while nothing is pending (so
   * nothing can be overtaken): written at once by the caller, without a copy. Without
   * it such packets are buffered like the rest.
   */
  direct?: (packet: Uint8Array, queue: number) => boolean;
}

export interface TunGroStats {
  /** packets given to add() */
  packets: number;
  /** frames emitted that hold more than one segment, and the segments in them */
  gsoFrames: number;
  gsoSegments: number;
  /** packets emitted as they came (not TCP data, not mergeable, or alone in their frame) */
  passThrough: number;
  /** TCP data segments not merged because a checksum was wrong */
  badChecksum: number;
  /** flushes forced by full buffers */
  earlyFlushes: number;
}

/**
 * Receives each frame (virtio_net_hdr + IP packet, a view valid only during the call),
 * the queue given with its first packet, and how many packets it holds.
 */
export type TunGroSink = (frame: Uint8Array, queue: number, packets: number) => void;

interface Flow {
  buf: Uint8Array;
  dv: DataView;
  busy: boolean; // holds a pending frame (open or closed)
  open: boolean; // may still take segments
  v6: boolean;
  /** address and port words of the flow, compared on each packet */
  key: Uint32Array;
  l4: number; // IP header length
  thl: number; // TCP header length
  ipLen: number; // octets of IP packet so far
  mss: number;
  segs: number;
  nextSeq: number;
  lastId: number;
  lastPsh: boolean;
  queue: number;
}

/** Parsed facts about one packet (reused object, no allocation per packet). */
interface Parsed {
  /** 0: not TCP or no flow known; 1: TCP flow known but not mergeable; 2: mergeable */
  kind: 0 | 1 | 2;
  v6: boolean;
  l4: number;
  thl: number;
  payload: number;
  seq: number;
  psh: boolean;
  /** TCP with a known address pair but no ports (fragment, IPv4 options, IPv6 extension headers) */
  addrOnly: boolean;
}

export class TunGro {
  readonly stats: TunGroStats = { packets: 0, gsoFrames: 0, gsoSegments: 0, passThrough: 0, badChecksum: 0, earlyFlushes: 0 };
  private readonly sink: TunGroSink;
  private readonly direct: ((packet: Uint8Array, queue: number) => boolean) | undefined;
  private readonly flows: Flow[] = [];
  private readonly maxFlows: number;
  private readonly verify: boolean;
  private readonly arena: Uint8Array;
  private arenaUsed = 0;
  // pending entries in order: flow index (>= 0) or -1 for a pass-through packet at off/len
  private readonly entFlow: Int32Array;
  private readonly entOff: Int32Array;
  private readonly entLen: Int32Array;
  private readonly entQueue: Int32Array;
  private nEnt = 0;
  private readonly key = new Uint32Array(9);
  private readonly p: Parsed = { kind: 0, v6: false, l4: 0, thl: 0, payload: 0, seq: 0, psh: false, addrOnly: false };

  constructor(sink: TunGroSink, opts: TunGroOptions = {}) {
    this.sink = sink;
    this.direct = opts.direct;
    this.maxFlows = Math.max(1, opts.maxFlows ?? 8);
    this.verify = opts.verifyChecksums ?? true;
    this.arena = new Uint8Array(Math.max(opts.passThroughBytes ?? 256 * 1024, MAX_IP_BYTES + HDR));
    const n = Math.max(2, opts.maxPending ?? 1024);
    this.entFlow = new Int32Array(n);
    this.entOff = new Int32Array(n);
    this.entLen = new Int32Array(n);
    this.entQueue = new Int32Array(n);
  }

  /** Packets and frames waiting for flush(). */
  get pending(): number {
    return this.nEnt;
  }

  /**
   * Takes one IP packet (copied). May emit everything pending first when buffers are
   * full. Returns false only when `direct` took the packet and returned false.
   * `checksumsOk`: the caller already verified its IPv4 and TCP checksums (the ESP train
   * opener does, natively), so they are not summed again here.
   */
  add(packet: Uint8Array, queue = 0, checksumsOk = false): boolean {
    this.stats.packets++;
    const p = this.parse(packet, checksumsOk);
    if (p.kind === 0) {
      if (p.addrOnly) this.closeAddrs(packet, p.v6);
      return this.passThrough(packet, queue);
    }
    const f = this.findOpen(p.v6);
    if (f && p.kind === 2 && this.append(f, packet, p)) return true;
    if (f) f.open = false;
    if (p.kind !== 2 || p.psh) return this.passThrough(packet, queue);
    this.start(packet, p, queue);
    return true;
  }

  /** Emits every pending frame and packet, in order, and empties the buffers. */
  flush(): void {
    const n = this.nEnt;
    this.nEnt = 0;
    this.arenaUsed = 0;
    try {
      for (let i = 0; i < n; i++) {
        const fi = this.entFlow[i]!;
        if (fi < 0) {
          this.stats.passThrough++;
          this.sink(this.arena.subarray(this.entOff[i]!, this.entOff[i]! + this.entLen[i]!), this.entQueue[i]!, 1);
        } else {
          this.emitFlow(this.flows[fi]!);
        }
      }
    } finally {
      for (const f of this.flows) { f.busy = false; f.open = false; }
    }
  }

  private emitFlow(f: Flow): void {
    f.busy = false;
    f.open = false;
    const b = f.buf;
    if (f.segs === 1) {
      // alone: the original packet, untouched, behind a plain header
      b.fill(0, 0, HDR);
      this.stats.passThrough++;
      this.sink(b.subarray(0, HDR + f.ipLen), f.queue, 1);
      return;
    }
    const dv = f.dv;
    const l4 = HDR + f.l4;
    const tcpLen = f.ipLen - f.l4;
    dv.setUint8(0, VIRTIO_NET_HDR_F_NEEDS_CSUM);
    dv.setUint8(1, f.v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4);
    dv.setUint16(2, f.l4 + f.thl, true);
    dv.setUint16(4, f.mss, true);
    dv.setUint16(6, f.l4, true);
    dv.setUint16(8, 16, true);
    let sum: number;
    if (f.v6) {
      dv.setUint16(HDR + 4, tcpLen);
      sum = onesSum(b, HDR + 8, HDR + 40, 0);
    } else {
      dv.setUint16(HDR + 2, f.ipLen);
      setIpv4HeaderChecksum(b, HDR);
      sum = onesSum(b, HDR + 12, HDR + 20, 0);
    }
    if (f.lastPsh) b[l4 + 13] = b[l4 + 13]! | TCP_PSH;
    // CHECKSUM_PARTIAL: the field holds the pseudo-header sum, not inverted
    const c = foldOnesSum(sum + IPPROTO_TCP + tcpLen);
    b[l4 + 16] = c >> 8;
    b[l4 + 17] = c & 0xff;
    this.stats.gsoFrames++;
    this.stats.gsoSegments += f.segs;
    this.sink(b.subarray(0, HDR + f.ipLen), f.queue, f.segs);
  }

  private parse(b: Uint8Array, checksumsOk = false): Parsed {
    const p = this.p;
    p.kind = 0;
    p.addrOnly = false;
    const n = b.length;
    if (n < 20) return p;
    const ver = b[0]! >> 4;
    let l4: number;
    if (ver === 4) {
      p.v6 = false;
      if (b[9] !== IPPROTO_TCP) return p;
      const ihl = (b[0]! & 15) * 4;
      const frag = ((b[6]! << 8) | b[7]!) & 0x3fff; // MF + offset
      if (ihl !== 20 || frag !== 0) { p.addrOnly = true; return p; }
      if (((b[2]! << 8) | b[3]!) !== n) return p;
      l4 = 20;
    } else if (ver === 6) {
      p.v6 = true;
      if (n < 40) return p;
      const nh = b[6]!;
      if (nh !== IPPROTO_TCP) {
        // extension headers may hide a TCP segment; UDP and ICMPv6 do not
        if (nh !== 17 && nh !== 58) p.addrOnly = true;
        return p;
      }
      if (((b[4]! << 8) | b[5]!) + 40 !== n) return p;
      l4 = 40;
    } else {
      return p;
    }
    if (n < l4 + 20) return p;
    const thl = (b[l4 + 12]! >> 4) * 4;
    if (thl < 20 || l4 + thl > n) return p;
    p.kind = 1;
    p.l4 = l4;
    p.thl = thl;
    p.payload = n - l4 - thl;
    p.seq = ((b[l4 + 4]! << 24) | (b[l4 + 5]! << 16) | (b[l4 + 6]! << 8) | b[l4 + 7]!) >>> 0;
    const flags = b[l4 + 13]!;
    p.psh = (flags & TCP_PSH) !== 0;
    this.loadKey(b, p.v6, l4);
    if ((flags & ~TCP_PSH) !== TCP_ACK || p.payload === 0) return p;
    if (this.verify && !checksumsOk && !checksumsValid(b, p.v6, l4)) { this.stats.badChecksum++; return p; }
    p.kind = 2;
    return p;
  }

  /** Address and port words of the packet into this.key. */
  private loadKey(b: Uint8Array, v6: boolean, l4: number): void {
    const k = this.key;
    const start = v6 ? 8 : 12;
    const words = v6 ? 8 : 2;
    for (let i = 0; i < words; i++) {
      const o = start + i * 4;
      k[i] = (b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!;
    }
    k[words] = (b[l4]! << 24) | (b[l4 + 1]! << 16) | (b[l4 + 2]! << 8) | b[l4 + 3]!;
  }

  private findOpen(v6: boolean): Flow | undefined {
    const words = v6 ? 9 : 3;
    const k = this.key;
    for (const f of this.flows) {
      if (!f.open || f.v6 !== v6) continue;
      let i = 0;
      while (i < words && f.key[i] === k[i]) i++;
      if (i === words) return f;
    }
    return undefined;
  }

  /** Closes open frames between the packet's addresses (a TCP packet whose ports are unknown). */
  private closeAddrs(b: Uint8Array, v6: boolean): void {
    const n = v6 ? 40 : 20;
    if (b.length < n) return;
    this.loadKey(b, v6, 0);
    const words = v6 ? 8 : 2;
    for (const f of this.flows) {
      if (!f.open || f.v6 !== v6) continue;
      let i = 0;
      while (i < words && f.key[i] === this.key[i]) i++;
      if (i === words) f.open = false;
    }
  }

  /** Appends the segment to the flow's frame when every rule allows it. */
  private append(f: Flow, b: Uint8Array, p: Parsed): boolean {
    if (p.seq !== f.nextSeq || p.payload > f.mss || p.thl !== f.thl || f.ipLen + p.payload > MAX_IP_BYTES) return false;
    const fb = f.buf;
    let id = 0;
    if (f.v6) {
      // version, traffic class, flow label; hop limit
      for (let i = 0; i < 4; i++) if (b[i] !== fb[HDR + i]) return false;
      if (b[7] !== fb[HDR + 7]) return false;
    } else {
      if (b[1] !== fb[HDR + 1] || b[8] !== fb[HDR + 8] || b[6] !== fb[HDR + 6]) return false; // TOS, TTL, DF
      id = (b[4]! << 8) | b[5]!;
      if ((b[6]! & 0x40) === 0 && id !== ((f.lastId + 1) & 0xffff)) return false;
    }
    // ACK number and window (offsets 8-11, 14-15), then options
    const l4 = p.l4;
    const fl4 = HDR + f.l4;
    for (let i = 8; i < 12; i++) if (b[l4 + i] !== fb[fl4 + i]) return false;
    if (b[l4 + 14] !== fb[fl4 + 14] || b[l4 + 15] !== fb[fl4 + 15]) return false;
    for (let i = 20; i < p.thl; i++) if (b[l4 + i] !== fb[fl4 + i]) return false;
    fb.set(b.subarray(l4 + p.thl), HDR + f.ipLen);
    f.ipLen += p.payload;
    f.segs++;
    f.nextSeq = (f.nextSeq + p.payload) >>> 0;
    f.lastId = id;
    if (p.psh || p.payload < f.mss) { f.open = false; f.lastPsh = p.psh; }
    return true;
  }

  private start(b: Uint8Array, p: Parsed, queue: number): void {
    let f = this.freeFlow();
    if (!f || this.nEnt === this.entFlow.length) {
      this.stats.earlyFlushes++;
      this.flush();
      f = this.freeFlow()!;
    }
    f.busy = true;
    f.open = true;
    f.v6 = p.v6;
    f.key.set(this.key);
    f.l4 = p.l4;
    f.thl = p.thl;
    f.ipLen = b.length;
    f.mss = p.payload;
    f.segs = 1;
    f.nextSeq = (p.seq + p.payload) >>> 0;
    f.lastId = p.v6 ? 0 : (b[4]! << 8) | b[5]!;
    f.lastPsh = false;
    f.queue = queue;
    f.buf.set(b, HDR);
    this.push(this.flows.indexOf(f), 0, 0, queue);
  }

  private freeFlow(): Flow | undefined {
    for (const f of this.flows) if (!f.busy) return f;
    if (this.flows.length >= this.maxFlows) return undefined;
    const buf = new Uint8Array(HDR + MAX_IP_BYTES);
    const f: Flow = {
      buf, dv: new DataView(buf.buffer), busy: false, open: false, v6: false, key: new Uint32Array(9),
      l4: 0, thl: 0, ipLen: 0, mss: 0, segs: 0, nextSeq: 0, lastId: 0, lastPsh: false, queue: 0,
    };
    this.flows.push(f);
    return f;
  }

  private passThrough(b: Uint8Array, queue: number): boolean {
    if (this.nEnt === 0 && this.direct) {
      this.stats.passThrough++;
      return this.direct(b, queue);
    }
    const need = HDR + b.length;
    if (need > this.arena.length - this.arenaUsed || this.nEnt === this.entFlow.length) {
      this.stats.earlyFlushes++;
      this.flush();
    }
    if (need > this.arena.length) {
      // larger than any IP packet: hand it on alone, the kernel will refuse it
      const tmp = new Uint8Array(need);
      tmp.set(b, HDR);
      this.stats.passThrough++;
      this.sink(tmp, queue, 1);
      return true;
    }
    const off = this.arenaUsed;
    this.arena.fill(0, off, off + HDR);
    this.arena.set(b, off + HDR);
    this.arenaUsed += need;
    this.push(-1, off, need, queue);
    return true;
  }

  private push(flow: number, off: number, len: number, queue: number): void {
    const i = this.nEnt++;
    this.entFlow[i] = flow;
    this.entOff[i] = off;
    this.entLen[i] = len;
    this.entQueue[i] = queue;
  }
}

/** IPv4 header checksum (IPv4) and TCP checksum with its pseudo-header both verify. */
function checksumsValid(b: Uint8Array, v6: boolean, l4: number): boolean {
  let sum = 0;
  if (!v6) {
    for (let i = 0; i < 20; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
    if (foldOnesSum(sum) !== 0xffff) return false;
    sum = 0;
  }
  for (let i = v6 ? 8 : 12, e = v6 ? 40 : 20; i < e; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  return foldOnesSum(onesSum(b, l4, b.length, sum + IPPROTO_TCP + (b.length - l4))) === 0xffff;
}
