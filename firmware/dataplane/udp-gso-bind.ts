// UDP binds (port 500 IKE, port 4500 RFC 3948) on the native addon (drivers/native/src/netio.c)
// with UDP GSO on send and UDP GRO on receive: ESP packets of one size to one peer leave as
// one sendmsg (a UDP_SEGMENT cmsg, the kernel cuts the datagrams) and a train of them
// arrives as one recvmsg (UDP_GRO cmsg: segment size). A drop-in PacketBind next to the
// node:dgram one (udp-encap-socket.ts), plus sendEsp(), the data plane's batched path.
//
// IP_PKTINFO gives each datagram's real destination, so a wildcard bind reports the real
// local address to handlers (node:dgram cannot).
//
// Unavailable when the addon is not built, when RAMPART_NATIVE=0 (every native path off)
// or RAMPART_UDP_GSO=0 (just this one): openBestUdpBind() then opens the node:dgram bind.
import { formatIpv4, parseIpv4 } from '../lib/ip.js';
import { isIPv6 } from 'node:net';
import { cachedNativeFeature } from '../lib/native-addon.js';
import type { NetHandle } from './batch-socket.js';
import {
  type BindStats, type BindTransport, type Endpoint, type PacketBind, type PacketHandler, type PacketKind, type SendResult,
  IKE_NATT_PORT, IKE_PORT, NAT_KEEPALIVE_BYTE, NON_ESP_MARKER_BYTES, TRANSPORT_KINDS, classifyBindPayload, emptyBindStats,
} from './packet-io.js';
import { UDP_MAX_PAYLOAD, UdpBindError, openUdpBind, type UdpBindOptions } from './udp-encap-socket.js';

/** The addon's UDP functions (see netio.c for the contract of each). */
export interface UdpNetioAddon {
  netOpenUdp(address: string, port: number, rcvbufBytes: number, sndbufBytes: number, gro: boolean): NetHandle;
  /** desc: [offset, length, dstAddr, dstPort, segSize] per message; errs[i] = errno (0: sent). */
  netSendUdp(h: NetHandle, buf: Uint8Array, desc: Uint32Array, count: number, errs?: Int32Array | null): number;
  /** meta: [length, segSize, srcAddr, srcPort, dstAddr] per message; returns messages or -errno. */
  netRecvUdp(h: NetHandle, buf: Uint8Array, slotBytes: number, meta: Uint32Array, maxCount: number): number;
  netPollStart(h: NetHandle, cb: (status: number) => void): void;
  netPollStop(h: NetHandle): void;
  netClose(h: NetHandle): void;
  netInfo(h: NetHandle): { fd: number; protocol: number; rcvbuf: number; sndbuf: number; polling: boolean; address?: string; port?: number };
  readonly netMaxBatch: number;
  /** the kernel's UDP_MAX_SEGMENTS the addon checks against (128 on Linux >= 6.6) */
  readonly netUdpMaxSegments?: number;
}

const feature = cachedNativeFeature<UdpNetioAddon>('UDP GSO/GRO', ['netOpenUdp', 'netSendUdp', 'netRecvUdp', 'netPollStart'], 'RAMPART_UDP_GSO');

/** The addon's UDP functions, or undefined (udpGsoStatus() says why). */
export const udpGsoAddon = feature.get;
/** One line for show commands and logs. */
export const udpGsoStatus = feature.status;
/** Tests only: forget the cached load so a changed environment is read again. */
export const resetUdpGsoForTests = feature.reset;

/** Dotted IPv4 text to a host-order u32 / back (firmware/lib/ip.ts, named for this API). */
export const ipv4ToU32: (address: string) => number | undefined = parseIpv4;
export const u32ToIpv4: (v: number) => string = formatIpv4;

export interface UdpGsoBindOptions extends UdpBindOptions {
  /** UDP_GRO on the socket (default true) */
  gro?: boolean;
  /** receive slots per recvmmsg (default 16) */
  rxSlots?: number;
  /** bytes per receive slot (default 65536: a whole GRO train; smaller slots truncate trains) */
  rxSlotBytes?: number;
  /** received messages handled per readable event before yielding to the loop (default 64) */
  maxPerEvent?: number;
  /** bytes of the send slab (default 1 MiB on encap binds, 64 KiB on IKE-only binds; at least 64 KiB) */
  slabBytes?: number;
  /** messages per netSendUdp at most (default 256, capped by the addon) */
  maxMessages?: number;
}

export interface UdpGsoBindStats extends BindStats {
  /** received messages that were GRO trains (more than one datagram) */
  groMessages: number;
  /** datagrams in those trains */
  groSegments: number;
  /** sent messages that went as GSO (more than one datagram) */
  gsoMessages: number;
  /** datagrams in those messages */
  gsoSegments: number;
  /** netSendUdp calls */
  sendBatches: number;
  /** netRecvUdp calls that returned messages */
  rxBatches: number;
  /** messages larger than a receive slot (dropped) */
  rxTruncated: number;
}

/** Marks segments queued by send() (not sendEsp): refusals are counted, not reported to onSendError. */
const NO_TAG: unique symbol = Symbol('no tag');
const ENDPOINT_CACHE_MAX = 1024;
const MIN_SLAB = 65536;

export class UdpGsoBind implements PacketBind {
  readonly transport: BindTransport;
  readonly kinds: readonly PacketKind[];
  readonly local: Endpoint;
  private handle: NetHandle | undefined;
  private handler: PacketHandler | undefined;
  private trainHandler: EspTrainHandler | undefined;
  private polling = false;
  private readonly s: UdpGsoBindStats = {
    ...emptyBindStats(), groMessages: 0, groSegments: 0, gsoMessages: 0, gsoSegments: 0, sendBatches: 0, rxBatches: 0, rxTruncated: 0,
  };

  // receive side
  private readonly rxBuf: Uint8Array;
  private readonly rxMeta: Uint32Array;
  private readonly rxSlots: number;
  private readonly rxSlotBytes: number;
  private readonly maxPerEvent: number;
  /** Endpoint objects by (address * 65536 + port): the same object while a peer is unchanged */
  private readonly remotes = new Map<number, Endpoint>();
  private readonly locals = new Map<number, Endpoint>();
  private readonly boundAddr: number;

  // send side: messages are contiguous in the slab; only the last one can grow
  private readonly slab: Uint8Array;
  private readonly desc: Uint32Array;
  private readonly errs: Int32Array;
  private readonly maxMessages: number;
  private readonly maxSegments: number;
  private readonly msgSegs: Uint32Array;
  private readonly msgFirstTag: Uint32Array;
  private readonly tags: unknown[] = [];
  private count = 0;
  private used = 0;
  /** the last message took a shorter segment: it cannot grow any more */
  private lastEnded = false;
  private scheduled = false;
  private lateError: ((tag: unknown, errno: number) => void) | undefined;
  private readonly flushTask = (): void => { this.scheduled = false; this.flush(); };
  private lastAddrText = '';
  private lastAddr = 0;

  /** @internal use openUdpGsoBind() */
  constructor(private readonly addon: UdpNetioAddon, handle: NetHandle, readonly encap: boolean, local: Endpoint, opts: UdpGsoBindOptions) {
    this.handle = handle;
    this.transport = encap ? 'udp-encap' : 'udp';
    this.kinds = TRANSPORT_KINDS[this.transport];
    this.local = local;
    this.boundAddr = ipv4ToU32(local.address) ?? 0;
    const maxBatch = addon.netMaxBatch;
    // an IKE-only bind sees a few messages a second, but a flood of first messages thousands:
    // 16 per recvmmsg as on encap binds (the flood's cost is mostly per system call)
    this.rxSlots = Math.max(1, Math.min(opts.rxSlots ?? 16, maxBatch));
    this.rxSlotBytes = Math.max(2048, Math.min(opts.rxSlotBytes ?? 65536, 65536));
    this.rxBuf = new Uint8Array(this.rxSlots * this.rxSlotBytes);
    this.rxMeta = new Uint32Array(5 * this.rxSlots);
    this.maxPerEvent = Math.max(1, opts.maxPerEvent ?? 64);
    this.maxMessages = Math.max(1, Math.min(opts.maxMessages ?? 256, maxBatch));
    this.maxSegments = addon.netUdpMaxSegments ?? 64;
    this.slab = new Uint8Array(Math.max(opts.slabBytes ?? (encap ? 1 << 20 : MIN_SLAB), MIN_SLAB));
    this.desc = new Uint32Array(5 * this.maxMessages);
    this.errs = new Int32Array(this.maxMessages);
    this.msgSegs = new Uint32Array(this.maxMessages);
    this.msgFirstTag = new Uint32Array(this.maxMessages);
  }

  get stats(): Readonly<UdpGsoBindStats> { return { ...this.s }; }

  /** Kernel view of the socket (buffer sizes as getsockopt reports them). */
  get info(): ReturnType<UdpNetioAddon['netInfo']> | undefined {
    return this.handle ? this.addon.netInfo(this.handle) : undefined;
  }

  /** Segments queued and not yet flushed. */
  get pending(): number { return this.tags.length; }

  onPacket(handler: PacketHandler): void {
    this.handler = handler;
    if (!this.polling && this.handle) {
      this.polling = true;
      this.addon.netPollStart(this.handle, (status) => { if (status >= 0) this.drain(); });
    }
  }

  /**
   * GRO trains whose first segment is ESP go to `fn` whole (undefined: back to one
   * datagram at a time through onPacket). `fn` returns how many leading segments it took;
   * the others are delivered one by one, and a later ESP segment may start a train again.
   */
  onEspTrain(fn: EspTrainHandler | undefined): void {
    this.trainHandler = fn;
  }

  /**
   * Called for each datagram of a message the kernel refused at flush time, with the tag
   * given to sendEsp(): sendEsp() already returned true for it, so the owner counts it here.
   */
  onSendError(fn: (tag: unknown, errno: number) => void): void {
    this.lateError = fn;
  }

  // ---- receive ----

  private remoteOf(addr: number, port: number): Endpoint {
    const key = addr * 65536 + port;
    let e = this.remotes.get(key);
    if (!e) {
      if (this.remotes.size >= ENDPOINT_CACHE_MAX) this.remotes.clear();
      e = { address: u32ToIpv4(addr), port };
      this.remotes.set(key, e);
    }
    return e;
  }

  private localOf(addr: number): Endpoint {
    if (addr === 0 || addr === this.boundAddr) return this.local;
    let e = this.locals.get(addr);
    if (!e) {
      if (this.locals.size >= ENDPOINT_CACHE_MAX) this.locals.clear();
      e = { address: u32ToIpv4(addr), port: this.local.port };
      this.locals.set(addr, e);
    }
    return e;
  }

  /** Reads what is waiting now (up to maxPerEvent messages); returns the messages read. */
  drain(): number {
    let done = 0;
    while (this.handle && done < this.maxPerEvent) {
      const want = Math.min(this.rxSlots, this.maxPerEvent - done);
      const n = this.addon.netRecvUdp(this.handle, this.rxBuf, this.rxSlotBytes, this.rxMeta, want);
      if (n <= 0) break;
      this.s.rxBatches++;
      done += n;
      for (let i = 0; i < n && this.handle; i++) this.deliver(i);
      if (n < want) break;
    }
    return done;
  }

  private deliver(i: number): void {
    const meta = this.rxMeta;
    const len = meta[5 * i]!;
    const slot = this.rxSlotBytes;
    if (len > slot) { this.s.rxTruncated++; this.s.rxDropped++; return; }
    const seg = meta[5 * i + 1]!;
    const remote = this.remoteOf(meta[5 * i + 2]!, meta[5 * i + 3]!);
    const local = this.localOf(meta[5 * i + 4]!);
    const base = i * slot;
    if (seg === 0) { this.segment(this.rxBuf.subarray(base, base + len), remote, local); return; }
    this.s.groMessages++;
    if (this.trainHandler && this.encap) { this.deliverTrain(base, len, seg, remote, local); return; }
    for (let o = 0; o < len && this.handle; o += seg) {
      this.s.groSegments++;
      this.segment(this.rxBuf.subarray(base + o, base + Math.min(o + seg, len)), remote, local);
    }
  }

  /** A GRO message with a train handler: ESP runs go whole, the rest one datagram at a time. */
  private deliverTrain(base: number, len: number, seg: number, remote: Endpoint, local: Endpoint): void {
    const b = this.rxBuf;
    let o = 0;
    // after a refusal (0: no SA, an SA that cannot batch) the rest goes one by one
    let fn = this.trainHandler;
    while (o < len && this.handle) {
      const left = Math.ceil((len - o) / seg);
      const lastLen = len - o - (left - 1) * seg;
      const at = base + o;
      // classifyUdpEncap's 'esp': 8 bytes at least and no zero marker
      if (fn && (left > 1 ? seg : lastLen) >= 8 && (b[at]! | b[at + 1]! | b[at + 2]! | b[at + 3]!) !== 0) {
        let k: number;
        try {
          k = fn(b, at, seg, left, lastLen, remote, local);
        } catch {
          this.s.handlerErrors++;
          k = left; // an owner's bug: the train is lost, not delivered twice
        }
        if (k <= 0) fn = undefined;
        else {
          k = Math.min(k, left);
          const bytes = k === left ? len - o : k * seg;
          this.s.groSegments += k;
          this.s.rxPackets += k;
          this.s.rxBytes += bytes;
          o += bytes;
          continue;
        }
      }
      this.s.groSegments++;
      this.segment(b.subarray(at, base + Math.min(o + seg, len)), remote, local);
      o += seg;
    }
  }

  private segment(msg: Uint8Array, remote: Endpoint, local: Endpoint): void {
    this.s.rxPackets++;
    this.s.rxBytes += msg.length;
    const kind = classifyBindPayload(this.encap, msg);
    if (!kind) { this.s.rxDropped++; return; }
    const data = kind === 'ike' && this.encap ? msg.subarray(NON_ESP_MARKER_BYTES) : msg;
    const h = this.handler;
    if (!h) { this.s.rxDropped++; return; }
    try {
      h(kind, data, remote, local);
    } catch {
      this.s.handlerErrors++;
    }
  }

  // ---- send ----

  send(kind: PacketKind, data: Uint8Array, remote: Endpoint): SendResult {
    if (!this.handle) return 'closed';
    if (!this.kinds.includes(kind)) return 'unsupported';
    let extra = 0;
    let body = data;
    if (kind === 'keepalive') body = KEEPALIVE;
    else if (kind === 'ike' && this.encap) extra = NON_ESP_MARKER_BYTES;
    const n = extra + body.length;
    if (n > UDP_MAX_PAYLOAD) return 'too-big';
    if (n === 0) { this.s.sendErrors++; return 'error'; }
    const addr = this.addrOf(remote.address);
    if (addr === undefined || !(remote.port > 0 && remote.port < 65536)) { this.s.sendErrors++; return 'error'; }
    const at = this.reserve(n, addr, remote.port, NO_TAG);
    if (extra) this.slab.fill(0, at, at + extra);
    this.slab.set(body, at + extra);
    return 'ok';
  }

  /**
   * Queues one ESP packet (from the SPI on) for dstAddr:dstPort (host-order IPv4). The bytes
   * are copied, so the caller may reuse its buffer at once. Equal-size packets to one peer
   * in one synchronous run leave as one GSO message. Returns false (counted in sendErrors)
   * only when it cannot be queued; refusals by the kernel go to onSendError with `tag`.
   * `tos`: the outer TOS byte (tunnel mode copies the inner DSCP/ECN out); packets with
   * different TOS never share a GSO message. Absent: the socket's default.
   */
  sendEsp(payload: Uint8Array, dstAddr: number, dstPort: number, tag?: unknown, tos?: number): boolean {
    const n = payload.length;
    if (!this.handle || n === 0 || n > UDP_MAX_PAYLOAD || !(dstPort > 0 && dstPort < 65536)) { this.s.sendErrors++; return false; }
    const at = this.reserve(n, dstAddr >>> 0, portWord(dstPort, tos), tag);
    this.slab.set(payload, at);
    return true;
  }

  /**
   * Lends the slab space the next queued bytes will take (at least minBytes), so a caller
   * can seal an ESP train straight into it and queue it with sendEspTrain() without a
   * copy. Flushes first when the slab or the message table could not take a whole train.
   * The view is valid until anything else is queued or flushed. undefined when closed.
   */
  trainBuffer(minBytes: number): Uint8Array | undefined {
    if (!this.handle || minBytes > this.slab.length) return undefined;
    // a train of equal segments needs at most a message per maxSegments, +1 for the tail
    const messages = Math.ceil(minBytes / UDP_MAX_PAYLOAD) + Math.ceil(minBytes / 64 / this.maxSegments) + 2;
    if (this.used + minBytes > this.slab.length || this.count + messages > this.maxMessages) this.flush();
    return this.slab.subarray(this.used);
  }

  /**
   * Queues `count` ESP packets lying back to back in buf (each `stride` bytes but the last,
   * `lastLength`) for dstAddr:dstPort, all with `tag` and `tos` (see sendEsp). When buf is
   * the view trainBuffer() just lent, the bytes are already in place (no copy).
   */
  sendEspTrain(buf: Uint8Array, count: number, stride: number, lastLength: number, dstAddr: number, dstPort: number, tag?: unknown, tos?: number): boolean {
    if (!this.handle || count < 1 || stride < 1 || lastLength < 1 || stride > UDP_MAX_PAYLOAD || lastLength > UDP_MAX_PAYLOAD
      || !(dstPort > 0 && dstPort < 65536) || (count - 1) * stride + lastLength > buf.length) { this.s.sendErrors += Math.max(1, count); return false; }
    const word = portWord(dstPort, tos);
    const addr = dstAddr >>> 0;
    const total = (count - 1) * stride + lastLength;
    const inPlace = buf.buffer === this.slab.buffer && buf.byteOffset === this.slab.byteOffset + this.used
      && this.used + total <= this.slab.length;
    if (inPlace) {
      const messages = Math.ceil(count / Math.max(1, Math.min(this.maxSegments, Math.floor(UDP_MAX_PAYLOAD / stride)))) + 1;
      if (this.count + messages > this.maxMessages) {
        // cannot happen after trainBuffer(); never lose the bytes: copy them out first
        return this.sendEspTrain(buf.slice(0, total), count, stride, lastLength, dstAddr, dstPort, tag, tos);
      }
      for (let i = 0; i < count; i++) this.reserve(i + 1 < count ? stride : lastLength, addr, word, tag);
      return true;
    }
    for (let i = 0, off = 0; i < count; i++, off += stride) {
      const n = i + 1 < count ? stride : lastLength;
      const at = this.reserve(n, addr, word, tag);
      this.slab.set(buf.subarray(off, off + n), at);
    }
    return true;
  }

  private addrOf(text: string): number | undefined {
    if (text === this.lastAddrText) return this.lastAddr;
    const v = ipv4ToU32(text);
    if (v === undefined) return undefined;
    this.lastAddrText = text;
    this.lastAddr = v;
    return v;
  }

  /** Room for n bytes to addr:port, appended to the last message when it can take it; returns the slab offset. */
  private reserve(n: number, addr: number, port: number, tag: unknown): number {
    this.s.txPackets++;
    this.s.txBytes += n;
    if (this.used + n > this.slab.length) this.flush();
    const d = this.desc;
    let m = this.count - 1;
    const grow = m >= 0 && !this.lastEnded && d[5 * m + 2] === addr && d[5 * m + 3] === port
      && n <= d[5 * m + 4]! && d[5 * m + 1]! + n <= UDP_MAX_PAYLOAD && this.msgSegs[m]! < this.maxSegments;
    if (grow) {
      d[5 * m + 1] = d[5 * m + 1]! + n;
      this.msgSegs[m] = this.msgSegs[m]! + 1;
      if (n < d[5 * m + 4]!) this.lastEnded = true; // a shorter datagram ends a GSO message
    } else {
      if (this.count === this.maxMessages) { this.flush(); }
      m = this.count++;
      d[5 * m] = this.used;
      d[5 * m + 1] = n;
      d[5 * m + 2] = addr;
      d[5 * m + 3] = port;
      d[5 * m + 4] = n; // segment size: the first datagram's length
      this.msgSegs[m] = 1;
      this.msgFirstTag[m] = this.tags.length;
      this.lastEnded = false;
    }
    this.tags.push(tag);
    const at = this.used;
    this.used += n;
    if (!this.scheduled) { this.scheduled = true; queueMicrotask(this.flushTask); }
    return at;
  }

  /** Sends what is queued now (one netSendUdp). */
  flush(): void {
    const n = this.count;
    if (n === 0) return;
    const d = this.desc;
    for (let i = 0; i < n; i++) if (this.msgSegs[i] === 1) d[5 * i + 4] = 0; // one datagram: no UDP_SEGMENT
    this.count = 0;
    this.used = 0;
    this.lastEnded = false;
    const tags = this.tags.splice(0);
    let r: number;
    if (!this.handle) r = -9; // EBADF
    else {
      this.s.sendBatches++;
      try {
        r = this.addon.netSendUdp(this.handle, this.slab, d, n, this.errs);
      } catch {
        r = -22; // arguments are built here; only a bug gets here: count the batch lost
      }
    }
    // refusals are collected first: an onSendError callback may queue (and so overwrite
    // the message table) before the loop ends
    let refused: Array<[unknown, number]> | undefined;
    for (let i = 0; i < n; i++) {
      const e = r < 0 ? -r : this.errs[i]!;
      const segs = this.msgSegs[i]!;
      if (e === 0) {
        if (segs > 1) { this.s.gsoMessages++; this.s.gsoSegments += segs; }
        continue;
      }
      this.s.sendErrors += segs;
      if (!this.lateError) continue;
      const first = this.msgFirstTag[i]!;
      for (let k = first; k < first + segs; k++) {
        const tag = tags[k];
        if (tag !== NO_TAG) (refused ??= []).push([tag, e]);
      }
    }
    if (!refused) return;
    const fn = this.lateError!;
    for (const [tag, e] of refused) {
      try { fn(tag, e); } catch { /* an owner's bug must not stop the flush */ }
    }
  }

  /** Flushes what is queued, then closes the socket; safe to call twice. */
  close(): Promise<void> {
    if (!this.handle) return Promise.resolve();
    this.flush();
    this.addon.netClose(this.handle);
    this.handle = undefined;
    this.polling = false;
    return Promise.resolve();
  }
}

const KEEPALIVE = Uint8Array.of(NAT_KEEPALIVE_BYTE);

/**
 * A GRO train of UDP 4500 payloads in buf: segment i at off + i*segSize, count segments,
 * the last lastLen bytes. Returns how many leading segments it handled (0: none).
 */
export type EspTrainHandler = (buf: Uint8Array, off: number, segSize: number, count: number, lastLen: number, remote: Endpoint, local: Endpoint) => number;

/**
 * Opens a GSO/GRO UDP bind (IPv4 only). encap=true is the port 4500 socket, encap=false
 * the port 500 socket. Throws UdpBindError when the OS refuses the socket or the bind, or
 * when the addon is unavailable (code 'ENOTSUP').
 */
/** netSendUdp's port word: the port, the outer TOS in bits 16-23 and bit 24 when one is given. */
function portWord(port: number, tos: number | undefined): number {
  return tos === undefined ? port : port | ((tos & 0xff) << 16) | 0x1000000;
}

/** Default socket buffers of a port-4500 (encap) bind; forced past rmem_max as root. */
export const ENCAP_RCVBUF_BYTES = 8 * 1024 * 1024;
export const ENCAP_SNDBUF_BYTES = 4 * 1024 * 1024;
/**
 * Receive buffer of a port-500 bind: under a flood of first messages the kernel's default
 * (~200 KB, about 230 small datagrams) overflows during one DH computation, and a real peer's
 * messages are lost with the flood's (1 s retransmissions); 4 MB hold about a second of a
 * 5,000/s flood, which the budgeted intake then drops cheaply (firmware/ike/intake.ts).
 */
export const IKE_RCVBUF_BYTES = 4 * 1024 * 1024;

export async function openUdpGsoBind(opts: UdpGsoBindOptions): Promise<UdpGsoBind> {
  const port = opts.port ?? (opts.encap ? IKE_NATT_PORT : IKE_PORT);
  const local = { address: opts.address, port };
  const addon = udpGsoAddon();
  if (!addon) throw new UdpBindError(local, 'ENOTSUP', `UDP GSO unavailable: ${udpGsoStatus()}`);
  if (ipv4ToU32(opts.address) === undefined) throw new UdpBindError(local, 'EAFNOSUPPORT', 'the GSO bind is IPv4 only');
  let h: NetHandle;
  try {
    // a port-4500 bind carries the ESP data path: GRO trains are up to 64 KB each, and the
    // kernel's default buffer (~200 KB) overflows within a few trains under TCP load
    const rcv = opts.recvBufferBytes ?? (opts.encap ? ENCAP_RCVBUF_BYTES : IKE_RCVBUF_BYTES);
    const snd = opts.sendBufferBytes ?? (opts.encap ? ENCAP_SNDBUF_BYTES : 0);
    h = addon.netOpenUdp(opts.address, port, rcv, snd, opts.gro ?? true);
  } catch (e) {
    throw new UdpBindError(local, (e as NodeJS.ErrnoException).code, (e as Error).message);
  }
  const info = addon.netInfo(h);
  return new UdpGsoBind(addon, h, opts.encap, { address: info.address ?? opts.address, port: info.port ?? port }, opts);
}

/** Codes for which a failed GSO open means "cannot bind here", not "no GSO on this system". */
const BIND_ERRORS = new Set(['EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES', 'EPERM']);

/** The GSO bind when available (IPv4), else the node:dgram bind of udp-encap-socket.ts. */
export async function openBestUdpBind(opts: UdpBindOptions): Promise<PacketBind> {
  if (!udpGsoAddon() || isIPv6(opts.address)) return openUdpBind(opts);
  try {
    return await openUdpGsoBind(opts);
  } catch (e) {
    if (e instanceof UdpBindError && e.code !== undefined && !BIND_ERRORS.has(e.code)) return openUdpBind(opts);
    throw e;
  }
}
