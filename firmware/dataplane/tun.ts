// TUN device I/O for the userspace data plane.
//
// Opening: open('/dev/net/tun') + ioctl(TUNSETIFF) with IFF_TUN | IFF_NO_PI (and
// IFF_MULTI_QUEUE for several queues: one fd per queue, same name). The device is created
// in the network namespace of the process that opens it.
//
// Reading without stalling the event loop. A TUN fd is a character device: libuv cannot
// poll it (net.Socket refuses it), and a blocking read on the main thread stalls everything.
// Designs measured here (node 20, 2 shared cores, 64-byte UDP packets routed into the TUN
// by a node dgram flood in the same namespace, 3 s runs; the generator itself tops out at
// ~150-180 kpps on this box, so CPU per packet is the fairer number):
//
//   design                                      received      CPU per packet   timers
//   fs.read in the libuv threadpool (2 reads    33 kpps       ~29 us           fire
//     in flight per queue, blocking fd)         (72% lost)
//   O_NONBLOCK + readSync drain, setImmediate   146 kpps      busy-polls one   fire
//     polling on the main thread                (all)         core even idle
//   worker thread per queue: blocking readSync  159-178 kpps  ~4.5-5.4 us      fire
//     into a SharedArrayBuffer ring, main         (all but     (both threads)
//     drains on Atomics.waitAsync wakeups         ~2-10%)
//   same, wakeup through postMessage            153 kpps      ~6 us            fire
//
// Chosen: one worker per queue doing blocking reads into a shared ring (zero copies
// between threads, no serialization, one wakeup per batch: the worker notifies only when
// the main thread said it is going to sleep). The main thread drains at most
// `maxBatch` packets per turn and then yields with setImmediate, so timers keep running
// during a flood. When the ring is full the worker waits; the kernel queue (txqueuelen)
// then drops, which is the right place to drop.
// Writing: fs.writeSync on the main thread. A TUN write never blocks (the kernel takes
// the packet into its receive path at once): measured ~256 kpps (64 B) and ~275 kpps
// (1400 B) for one thread, ~4 us per packet (with the box at load average ~16 from other
// jobs, bench tun-write drops to 40-60 kpps; compare numbers from the same run only).
//
// Offloads (option `offload`, tun-offload.ts): with IFF_VNET_HDR + TSO the kernel hands
// over TCP super-packets of up to 64 KB, one read per ~45 segments. A TUN-to-TUN relay
// (iperf3 TCP, load average ~16) measured 470-480 Mbit/s without them, 3100-3850 Mbit/s
// with them (frames passed through), and 705-740 Mbit/s when the super-packets are cut
// back into MTU-sized packets (what ESP needs): bench tun-relay-tcp{,-offload,-seg}.
// The write side of an offload TUN does the reverse (GRO, tun-gro.ts): write() copies TCP
// data segments into a buffer that is written at the end of the synchronous batch
// (microtask), segments of one flow merged into GSO super-packets; the kernel and the
// receiving TCP stack then handle one skb per ~45 segments. Measured (2026-11-27, load
// ~2.5): relay cut on read and merged on write 2406-2451 Mbit/s (~48 segments per write)
// against 673-724 cut on read and written one by one (tun-relay-tcp-gro / -seg); ESP
// tunnel TCP (bench esp-rampart) 524-602 Mbit/s with offload + GRO, 252-309 without.
//
// Reader `poll` (many quiet devices, e.g. one per dynamic VTI spoke): no worker thread (each
// costs a V8 isolate, about 6 MB, and its start); the fd is made non-blocking and the native
// addon's uv_poll (netAdoptFd + netPollStart) wakes the main thread when it is readable, which
// then reads until EAGAIN (at most maxBatch per wakeup). Falls back to a worker without the addon.
//
// Closing: a thread blocked in read(2) on a TUN fd is NOT woken by close(fd), link down,
// TUNSETQUEUE detach or worker.terminate() (measured: all stay stuck). Deleting the
// interface is what wakes it (read fails with EFAULT), so close() deletes the link
// (`ip link del`, in the namespace the device was moved to, if any), then joins the
// workers and closes the fds.
import { openSync, closeSync, readSync, writeSync, constants as fsConstants } from 'node:fs';
import {
  IFF_VNET_HDR, TUNSETOFFLOAD, TUNSETVNETHDRSZ, TUN_F_CSUM, TUN_F_TSO4, TUN_F_TSO6, VIRTIO_NET_HDR_BYTES, segmentFrame,
  VIRTIO_NET_HDR_GSO_ECN, VIRTIO_NET_HDR_GSO_TCPV4,
} from './tun-offload.js';
import { TunGro, type TunGroStats } from './tun-gro.js';
import { Worker } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cachedNativeFeature } from '../lib/native-addon.js';

/** linux/if_tun.h */
export const TUNSETIFF = 0x400454ca;
export const IFF_TUN = 0x0001;
export const IFF_NO_PI = 0x1000;
export const IFF_MULTI_QUEUE = 0x0100;
/** struct ifreq: char ifr_name[IFNAMSIZ=16]; then a union whose first member (flags) is a short */
const IFREQ_BYTES = 40;
const IFNAMSIZ = 16;

/** Atomics.waitAsync (Node >= 16) is in lib es2024, newer than our tsconfig target. */
type WaitAsync = (ta: Int32Array, index: number, value: number, timeoutMs?: number) =>
  { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

type IoctlFn = (fd: number, request: number, arg?: Buffer | number) => number;
let ioctlFn: IoctlFn | undefined;
function ioctl(): IoctlFn {
  if (!ioctlFn) {
    const req = createRequire(import.meta.url);
    ioctlFn = req('ioctl') as IoctlFn;
  }
  return ioctlFn;
}

export class TunOpenError extends Error {
  constructor(readonly ifname: string, readonly code: string | undefined, detail: string) {
    super(`cannot open TUN ${ifname}: ${detail}${code === 'EPERM' || code === 'EACCES' ? ' (needs root or CAP_NET_ADMIN)' : ''}`);
    this.name = 'TunOpenError';
  }
}

export interface TunOptions {
  /** interface name, at most 15 characters */
  name: string;
  /** number of queues (IFF_MULTI_QUEUE when > 1), one reader worker each; default 1 */
  queues?: number;
  /** largest packet read; longer ones are truncated by the kernel. Default 2048 */
  maxPacketBytes?: number;
  /** ring slots per queue (power of two); default 1024 */
  ringSlots?: number;
  /** packets handled per event-loop turn before yielding; default 256 */
  maxBatch?: number;
  /** path of iproute2's ip, used by close(); default 'ip' */
  ipPath?: string;
  /**
   * Kernel offloads (IFF_VNET_HDR + TSO4/TSO6 + checksum): reads return TCP
   * super-packets of up to 64 KB, which this device cuts back into MTU-sized packets
   * (tun-offload.ts segmentFrame) before the handler sees them, unless rawFrames is set.
   * Measured: a TUN-to-TUN relay goes from ~470 to ~3100 Mbit/s TCP (frames passed
   * through); see scripts/bench/tun-io.ts. Default false.
   */
  offload?: boolean;
  /** with offload: deliver raw frames (virtio_net_hdr + packet) instead of segments */
  rawFrames?: boolean;
  /** `worker` (default: a reader thread per queue, fastest) or `poll` (one queue, main loop, no thread) */
  reader?: 'worker' | 'poll';
  /**
   * With offload: write() buffers packets and writes them at the end of the current
   * synchronous batch (a microtask, or flush()), TCP segments of one flow merged into
   * GSO super-packets (tun-gro.ts). Default true when offload is on.
   */
  gro?: boolean;
}

export interface TunStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  txErrors: number;
  /** times a reader worker found its ring full and waited */
  rxRingFullWaits: number;
  /** main-thread wakeups (each drains a batch) */
  rxWakeups: number;
  /** with offload: packets produced by segmentation, and frames refused (short/unsupported) */
  rxSegments: number;
  rxBadFrames: number;
  /** TCPv4 super-packets the super-packet handler took whole (not cut here) */
  rxSuperPackets: number;
  /** with GRO: frames written holding several segments, and those segments (in txPackets too) */
  txGsoFrames: number;
  txGsoSegments: number;
  /** with GRO: frames the kernel refused that were written again segment by segment */
  txGsoFallbacks: number;
}

/**
 * Called for each packet read. `packet` is a view into the shared ring (or the
 * segmentation scratch buffer), valid only during the call: copy it to keep it.
 */
export type TunPacketHandler = (packet: Uint8Array, queue: number) => void;

// control words in each queue's Int32Array
const C_HEAD = 0; // written by worker: next slot to fill (monotonic, wraps at 2^31)
const C_TAIL = 1; // written by main: next slot to consume
const C_SLEEP = 2; // main sets 1 before waiting; worker swaps to 0 and notifies
const C_SEQ = 3; // bumped by worker on each packet (wait word)
const C_STOP = 4; // main sets 1: worker exits after its current read
const C_FULLWAITS = 5;
const C_ERR = 6; // worker's last errno-ish code (1 = exited)
const C_WORDS = 8;

// The reader runs as an eval'd CommonJS worker so this file also works bundled (no
// separate worker file to ship).
const READER_SOURCE = `
'use strict';
const { readSync } = require('node:fs');
const { workerData } = require('node:worker_threads');
const { fd, slots, slotBytes } = workerData;
const u8 = new Uint8Array(workerData.ring);
const lens = new Int32Array(workerData.lens);
const ctl = new Int32Array(workerData.ctl);
const mask = slots - 1;
let head = 0;
for (;;) {
  if (Atomics.load(ctl, ${C_STOP}) === 1) break;
  let tail = Atomics.load(ctl, ${C_TAIL});
  if (((head - tail) | 0) >= slots) {
    Atomics.add(ctl, ${C_FULLWAITS}, 1);
    while (((head - (tail = Atomics.load(ctl, ${C_TAIL}))) | 0) >= slots && Atomics.load(ctl, ${C_STOP}) === 0) {
      Atomics.wait(ctl, ${C_TAIL}, tail, 5);
    }
    continue;
  }
  const s = head & mask;
  let n;
  try {
    n = readSync(fd, u8, s * slotBytes, slotBytes, null);
  } catch (e) {
    break; // EFAULT/EBADFD once the interface is deleted: close() in progress
  }
  lens[s] = n;
  head = (head + 1) | 0;
  Atomics.store(ctl, ${C_HEAD}, head);
  Atomics.add(ctl, ${C_SEQ}, 1);
  if (Atomics.exchange(ctl, ${C_SLEEP}, 0) === 1) Atomics.notify(ctl, ${C_SEQ});
}
Atomics.store(ctl, ${C_ERR}, 1);
Atomics.notify(ctl, ${C_SEQ});
`;

interface Queue {
  index: number;
  fd: number;
  ring: Uint8Array;
  lens: Int32Array;
  ctl: Int32Array;
  worker?: Worker;
  exited?: Promise<void>;
  scheduled: boolean;
  /** reader `poll`: the addon's handle of the fd (closing it closes the fd) */
  polled?: unknown;
}

/** The addon functions reader `poll` needs. */
interface PollAddon {
  netAdoptFd(fd: number): unknown;
  netPollStart(h: unknown, cb: (status: number) => void): void;
  netPollStop(h: unknown): void;
  netClose(h: unknown): void;
}
const pollFeature = cachedNativeFeature<PollAddon>('TUN poll reader', ['netAdoptFd', 'netPollStart', 'netPollStop', 'netClose'], 'RAMPART_TUN_POLL');

export class TunDevice {
  readonly name: string;
  private readonly queues: Queue[] = [];
  private readonly slots: number;
  private readonly slotBytes: number;
  private readonly maxBatch: number;
  private readonly ipPath: string;
  private handler: TunPacketHandler | undefined;
  private superHandler: ((packet: Uint8Array, mss: number) => boolean) | undefined;
  private batchEndHandler: (() => void) | undefined;
  private closed = false;
  private netns: string | undefined;
  readonly offload: boolean;
  private readonly rawFrames: boolean;
  private readonly poll: PollAddon | undefined;
  private readonly scratch: Uint8Array;
  private readonly gro: TunGro | undefined;
  private flushScheduled = false;
  private readonly flushTask = (): void => { this.flushScheduled = false; this.flush(); };
  private fallbackScratch: Uint8Array | undefined;
  /** offload: a zero virtio_net_hdr, then room for one packet */
  private readonly txScratch: Uint8Array;
  private readonly s: TunStats = {
    rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txErrors: 0, rxRingFullWaits: 0, rxWakeups: 0, rxSegments: 0, rxBadFrames: 0, rxSuperPackets: 0,
    txGsoFrames: 0, txGsoSegments: 0, txGsoFallbacks: 0,
  };

  private constructor(opts: TunOptions) {
    this.name = opts.name;
    this.offload = opts.offload === true;
    this.rawFrames = opts.rawFrames === true;
    this.poll = opts.reader === 'poll' && (opts.queues ?? 1) === 1 ? pollFeature.get() : undefined;
    // a polled device reads into slot 0 of a two-slot ring
    this.slots = this.poll ? 2 : opts.ringSlots ?? (this.offload ? 256 : 1024);
    if ((this.slots & (this.slots - 1)) !== 0 || this.slots < 2) throw new RangeError('ringSlots must be a power of two >= 2');
    this.slotBytes = opts.maxPacketBytes ?? (this.offload ? 65536 + VIRTIO_NET_HDR_BYTES : 2048);
    this.scratch = new Uint8Array(this.offload ? 65536 : 0);
    this.txScratch = new Uint8Array(this.offload ? VIRTIO_NET_HDR_BYTES + 65536 : 0);
    this.maxBatch = opts.maxBatch ?? 256;
    this.ipPath = opts.ipPath ?? 'ip';
    if (this.offload && opts.gro !== false) {
      this.gro = new TunGro((frame, queue, packets) => this.writeOut(frame, queue, packets), {
        direct: (packet, queue) => this.writePlain(packet, queue),
      });
    }
  }

  /**
   * Creates (or attaches to) the TUN interface `opts.name` in the current network
   * namespace. The interface is left down and unaddressed: configure it with ip/netlink.
   * Reading starts with onPacket().
   */
  static open(opts: TunOptions): TunDevice {
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(opts.name)) throw new TunOpenError(opts.name, undefined, 'bad interface name');
    const dev = new TunDevice(opts);
    const nq = opts.queues ?? 1;
    if (!Number.isInteger(nq) || nq < 1 || nq > 64) throw new RangeError('queues must be 1..64');
    const flags = IFF_TUN | IFF_NO_PI | (nq > 1 ? IFF_MULTI_QUEUE : 0) | (dev.offload ? IFF_VNET_HDR : 0);
    try {
      for (let i = 0; i < nq; i++) {
        let fd: number;
        try {
          fd = openSync('/dev/net/tun', fsConstants.O_RDWR);
        } catch (e) {
          throw new TunOpenError(opts.name, (e as NodeJS.ErrnoException).code, (e as Error).message);
        }
        const ifr = Buffer.alloc(IFREQ_BYTES);
        ifr.write(opts.name, 0, IFNAMSIZ - 1, 'latin1');
        ifr.writeUInt16LE(flags, IFNAMSIZ);
        try {
          ioctl()(fd, TUNSETIFF, ifr);
          if (dev.offload) {
            const sz = Buffer.alloc(4);
            sz.writeInt32LE(VIRTIO_NET_HDR_BYTES, 0);
            ioctl()(fd, TUNSETVNETHDRSZ, sz);
            ioctl()(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6);
          }
        } catch (e) {
          closeSync(fd);
          throw new TunOpenError(opts.name, (e as NodeJS.ErrnoException).code, `TUNSETIFF/offload: ${(e as Error).message}`);
        }
        dev.queues.push({
          index: i, fd,
          ring: new Uint8Array(new SharedArrayBuffer(dev.slots * dev.slotBytes)),
          lens: new Int32Array(new SharedArrayBuffer(dev.slots * 4)),
          ctl: new Int32Array(new SharedArrayBuffer(C_WORDS * 4)),
          scheduled: false,
        });
      }
    } catch (e) {
      for (const q of dev.queues) closeSync(q.fd);
      throw e;
    }
    return dev;
  }

  /** The queue fds (e.g. for a worker that writes directly). */
  get fds(): number[] {
    return this.queues.map((q) => q.fd);
  }

  get stats(): Readonly<TunStats> {
    let waits = 0;
    for (const q of this.queues) waits += Atomics.load(q.ctl, C_FULLWAITS);
    return { ...this.s, rxRingFullWaits: waits };
  }

  /**
   * Starts the reader workers and delivers every packet read to `handler`; `onBatchEnd`
   * (optional) runs after each batch, e.g. to flush batched sends. Call once.
   */
  /**
   * With offload: TCPv4 super-packets are offered whole to `handler` (IP packet, MSS)
   * before being cut into segments; it returns true when it took the frame (e.g. sealed it
   * in one call), false to have it cut and delivered per segment as usual.
   */
  onTcpSuperPacket(handler: ((packet: Uint8Array, mss: number) => boolean) | undefined): void {
    this.superHandler = handler;
  }

  onPacket(handler: TunPacketHandler, onBatchEnd?: () => void): void {
    if (this.handler) throw new Error('onPacket already set');
    if (this.closed) throw new Error('TUN closed');
    this.handler = handler;
    this.batchEndHandler = onBatchEnd;
    if (this.poll) {
      const q = this.queues[0]!;
      q.polled = this.poll.netAdoptFd(q.fd);
      this.poll.netPollStart(q.polled, () => this.pollDrain(q));
      return;
    }
    for (const q of this.queues) {
      const w = new Worker(READER_SOURCE, {
        eval: true,
        workerData: { fd: q.fd, ring: q.ring.buffer, lens: q.lens.buffer, ctl: q.ctl.buffer, slots: this.slots, slotBytes: this.slotBytes },
      });
      w.unref();
      q.worker = w;
      q.exited = new Promise((resolve) => w.once('exit', () => resolve()));
      this.sleep(q);
    }
  }

  /** Reader `poll`: the fd is readable: reads up to maxBatch packets (uv_poll calls again while more wait). */
  private pollDrain(q: Queue): void {
    if (this.closed) return;
    this.s.rxWakeups++;
    let n = 0;
    for (; n < this.maxBatch; n++) {
      let len: number;
      try {
        len = readSync(q.fd, q.ring, 0, this.slotBytes, null);
      } catch {
        break; // EAGAIN: drained (or the device is going away)
      }
      this.deliver(q.ring.subarray(0, len), q);
    }
    if (n > 0) this.batchEndHandler?.();
  }

  /** One packet (or offload frame) read from queue `q` to the handlers. */
  private deliver(view: Uint8Array, q: Queue): void {
    const handler = this.handler!;
    const len = view.length;
    this.s.rxPackets++;
    this.s.rxBytes += len;
    try {
      if (!this.offload || this.rawFrames) handler(view, q.index);
      else if (this.superHandler && (view[1]! & ~VIRTIO_NET_HDR_GSO_ECN) === VIRTIO_NET_HDR_GSO_TCPV4 && len > VIRTIO_NET_HDR_BYTES
        && this.superHandler(view.subarray(VIRTIO_NET_HDR_BYTES), view[4]! | (view[5]! << 8))) this.s.rxSuperPackets++;
      else if (segmentFrame(view, (seg) => { this.s.rxSegments++; handler(seg, q.index); }, this.scratch) !== 'ok') this.s.rxBadFrames++;
    } catch {
      // the packet path must not throw; a handler bug drops this packet only
    }
  }

  /** Drains up to maxBatch packets of one queue, then waits or yields. */
  private drain(q: Queue): void {
    q.scheduled = false;
    if (this.closed) return;
    this.s.rxWakeups++;
    const ctl = q.ctl;
    const mask = this.slots - 1;
    const head = Atomics.load(ctl, C_HEAD);
    let tail = ctl[C_TAIL]!;
    let n = 0;
    while (tail !== head && n < this.maxBatch) {
      const s = tail & mask;
      const off = s * this.slotBytes;
      this.deliver(q.ring.subarray(off, off + q.lens[s]!), q);
      tail = (tail + 1) | 0;
      n++;
      // free slots early so the worker never waits for a whole batch
      if ((n & 31) === 0) Atomics.store(ctl, C_TAIL, tail);
    }
    Atomics.store(ctl, C_TAIL, tail);
    Atomics.notify(ctl, C_TAIL);
    if (n > 0) this.batchEndHandler?.();
    if (tail !== Atomics.load(ctl, C_HEAD)) {
      // more queued: yield to timers and I/O first, then continue
      q.scheduled = true;
      setImmediate(() => this.drain(q));
      return;
    }
    this.sleep(q);
  }

  /** Arms a wakeup: the worker notifies C_SEQ when it adds a packet while we sleep. */
  private sleep(q: Queue): void {
    if (this.closed || q.scheduled) return;
    const ctl = q.ctl;
    const seq = Atomics.load(ctl, C_SEQ);
    Atomics.store(ctl, C_SLEEP, 1);
    if (Atomics.load(ctl, C_HEAD) !== ctl[C_TAIL] || Atomics.load(ctl, C_ERR) !== 0) {
      Atomics.store(ctl, C_SLEEP, 0);
      if (Atomics.load(ctl, C_ERR) !== 0 && Atomics.load(ctl, C_HEAD) === ctl[C_TAIL]) return; // worker gone
      q.scheduled = true;
      setImmediate(() => this.drain(q));
      return;
    }
    q.scheduled = true;
    const r = waitAsync(ctl, C_SEQ, seq);
    if (r.async) {
      void r.value.then(() => this.drain(q));
    } else {
      setImmediate(() => this.drain(q));
    }
  }

  /**
   * Writes one IP packet into the kernel (as if received on this interface). Returns true
   * when written; false (counted in txErrors) on EIO (interface down), EINVAL (bad packet)
   * or when closed. Never throws.
   * With GRO (offload devices): a TCP data segment (and anything after it) is copied and
   * written at the end of the current synchronous batch (or by flush()); true then means
   * accepted, and a failed write shows in txErrors only. Other packets arriving while
   * nothing is buffered are written at once. `packet` may be reused by the caller at once.
   */
  write(packet: Uint8Array, queue = 0, checksumsOk = false): boolean {
    if (this.closed) return false;
    const gro = this.gro;
    if (gro) {
      const ok = gro.add(packet, queue, checksumsOk);
      if (!this.flushScheduled && gro.pending > 0) {
        this.flushScheduled = true;
        queueMicrotask(this.flushTask);
      }
      return ok;
    }
    return this.writePlain(packet, queue);
  }

  private writePlain(packet: Uint8Array, queue: number): boolean {
    const q = this.queues[queue] ?? this.queues[0]!;
    try {
      let n: number;
      if (!this.offload) {
        n = writeSync(q.fd, packet);
      } else {
        // behind the zero header in a scratch buffer: copy + write is ~0.3 us cheaper than
        // writev (an IP packet always fits; anything larger throws here and is counted)
        this.txScratch.set(packet, VIRTIO_NET_HDR_BYTES);
        n = writeSync(q.fd, this.txScratch, 0, VIRTIO_NET_HDR_BYTES + packet.length) - VIRTIO_NET_HDR_BYTES;
      }
      this.s.txPackets++;
      this.s.txBytes += n;
      return true;
    } catch {
      this.s.txErrors++;
      return false;
    }
  }

  /** Writes what write() buffered (GRO); a no-op otherwise. Runs by itself after each batch. */
  flush(): void {
    if (this.gro && this.gro.pending > 0 && !this.closed) this.gro.flush();
  }

  /** GRO counters (undefined without GRO). */
  get groStats(): Readonly<TunGroStats> | undefined {
    return this.gro?.stats;
  }

  /** Sink of the GRO buffer: one frame (virtio_net_hdr + packet) holding `packets` packets. */
  private writeOut(frame: Uint8Array, queue: number, packets: number): void {
    const q = this.queues[queue] ?? this.queues[0]!;
    try {
      const n = writeSync(q.fd, frame);
      this.s.txPackets += packets;
      this.s.txBytes += n - VIRTIO_NET_HDR_BYTES;
      if (packets > 1) { this.s.txGsoFrames++; this.s.txGsoSegments += packets; }
      return;
    } catch (e) {
      if (packets === 1 || (e as NodeJS.ErrnoException).code !== 'EINVAL') { this.s.txErrors += packets; return; }
    }
    // the kernel refused the super-packet: cut it back and write the segments one by one
    this.s.txGsoFallbacks++;
    this.fallbackScratch ??= new Uint8Array(65536);
    const r = segmentFrame(frame, (seg) => { this.writePlain(seg, queue); }, this.fallbackScratch);
    if (r !== 'ok') this.s.txErrors += packets;
  }

  /**
   * Offload devices only: writes a frame that already starts with a virtio_net_hdr
   * (e.g. a GSO super-packet read from another offload TUN, or coalesced segments).
   * Packets buffered by write() go first.
   */
  writeFrame(frame: Uint8Array, queue = 0): boolean {
    if (this.closed || !this.offload) return false;
    this.flush();
    const q = this.queues[queue] ?? this.queues[0]!;
    try {
      const n = writeSync(q.fd, frame);
      this.s.txPackets++;
      this.s.txBytes += n - VIRTIO_NET_HDR_BYTES;
      return true;
    } catch {
      this.s.txErrors++;
      return false;
    }
  }

  /**
   * Moves the interface into another network namespace (`ip link set NAME netns NS`).
   * The fds keep working; close() then deletes the link there. For tests that open the
   * TUN from the root namespace and hand it to a lab namespace.
   */
  moveToNetns(netns: string): void {
    const r = spawnSync(this.ipPath, ['link', 'set', this.name, 'netns', netns], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip link set ${this.name} netns ${netns}: ${r.stderr?.trim() ?? r.error}`);
    this.netns = netns;
  }

  /**
   * Stops reading, deletes the interface (this is what wakes blocked reader threads),
   * waits for the workers and closes the fds. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    for (const q of this.queues) Atomics.store(q.ctl, C_STOP, 1);
    for (const q of this.queues) {
      if (q.polled === undefined) continue;
      // closing the handle stops the poll and closes the fd (the interface goes with its last fd)
      this.poll?.netClose(q.polled);
      q.polled = undefined;
      q.fd = -1;
    }
    const readers = this.queues.filter((q) => q.worker);
    if (readers.length > 0) {
      const argv = this.netns ? ['-n', this.netns, 'link', 'del', this.name] : ['link', 'del', this.name];
      spawnSync(this.ipPath, argv, { stdio: 'ignore' });
      // not unref'd: the workers are, so this timer keeps the loop alive until they exit
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((r) => { timer = setTimeout(r, 2000); });
      await Promise.race([Promise.all(readers.map((q) => q.exited)), timeout]);
      clearTimeout(timer);
      for (const q of readers) void q.worker?.terminate();
    }
    for (const q of this.queues) {
      if (q.fd < 0) continue;
      try { closeSync(q.fd); } catch { /* already closed */ }
    }
  }
}
