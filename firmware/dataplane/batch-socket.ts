// Batched raw IPv4 sockets for the outer (ESP/AH) side of the userspace data plane, on the
// native addon (drivers/native/src/netio.c): one sendmmsg for a whole batch of outer
// packets and recvmmsg into the slots of one buffer, instead of one syscall (plus a text
// address and a JS callback) per packet with the npm raw-socket package.
//
// Unavailable when the addon is not built, when RAMPART_NATIVE=0 (every native path off)
// or RAMPART_BATCH_IO=0 (just this one): batchSocketStatus() says why and callers keep
// using raw-socket.
import { cachedNativeFeature } from '../lib/native-addon.js';

/** Opaque socket handle of the addon. */
export type NetHandle = { readonly __netHandle: unique symbol };

/** The addon's netio functions (see netio.c for the contract of each). */
export interface NetioAddon {
  netOpen(protocol: number, rcvbufBytes: number, sndbufBytes: number): NetHandle;
  /** Returns packets sent; errs[i] = errno of packet i (0 when sent); -errno when closed. */
  netSend(h: NetHandle, buf: Uint8Array, desc: Uint32Array, count: number, errs?: Int32Array | null): number;
  /** Returns packets read (0: none waiting) or -errno; lens[i] > slotBytes means truncated. */
  netRecv(h: NetHandle, buf: Uint8Array, slotBytes: number, lens: Uint32Array, maxCount: number): number;
  netPollStart(h: NetHandle, cb: (status: number) => void): void;
  netPollStop(h: NetHandle): void;
  netClose(h: NetHandle): void;
  netInfo(h: NetHandle): { fd: number; protocol: number; rcvbuf: number; sndbuf: number; polling: boolean };
  readonly netMaxBatch: number;
}

const feature = cachedNativeFeature<NetioAddon>('sendmmsg/recvmmsg', ['netOpen', 'netSend', 'netRecv', 'netPollStart'], 'RAMPART_BATCH_IO');

/** The addon's batch socket functions, or undefined (batchSocketStatus() says why). */
export const batchSocketAddon = feature.get;
/** One line for show commands and logs. */
export const batchSocketStatus = feature.status;
/** Tests only: forget the cached load so a changed environment is read again. */
export const resetBatchSocketForTests = feature.reset;

export class BatchSocketError extends Error {
  constructor(message: string, readonly code: string | undefined) {
    super(message);
    this.name = 'BatchSocketError';
  }
}

function open(addon: NetioAddon, protocol: number, rcvbuf: number, sndbuf: number): NetHandle {
  try {
    return addon.netOpen(protocol, rcvbuf, sndbuf);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BatchSocketError(`${(e as Error).message}${code === 'EPERM' ? ' (needs root or CAP_NET_RAW)' : ''}`, code);
  }
}

const IPPROTO_RAW = 255;
const MAX_IPV4_PACKET = 65535;

export interface BatchSenderOptions {
  /** packets per sendmmsg at most (default 256, capped by the addon's limit) */
  maxBatch?: number;
  /** bytes of the send slab (default 512 KiB; at least one largest IPv4 packet) */
  slabBytes?: number;
  /** SO_SNDBUF (default 4 MiB: a whole batch must fit the socket's send budget) */
  sndbufBytes?: number;
}

export interface BatchSenderStats {
  /** packets the kernel took */
  sent: number;
  /** packets refused (by the kernel, or unusable: shorter than an IPv4 header, too big, closed) */
  sendErrors: number;
  /** sendmmsg calls */
  batches: number;
  /** errno of the last refused packet (0: none yet) */
  lastErrno: number;
}

/**
 * Outer packets sent by one IPPROTO_RAW socket (IPv4 header included, destination taken
 * from it). send() copies the packet into the sender's own slab, so the caller may reuse
 * its buffer at once, and the batch goes out with one sendmmsg: at the end of the current
 * synchronous run (a microtask queued with the first packet) or as soon as it is full.
 */
export class BatchSender {
  private readonly addon: NetioAddon;
  private handle: NetHandle | undefined;
  private readonly slab: Uint8Array;
  private readonly desc: Uint32Array;
  private readonly errs: Int32Array;
  /** caller's tag per queued packet (the SA), handed back when the kernel refuses it */
  private readonly tags: unknown[];
  private lateError: ((tag: unknown, errno: number) => void) | undefined;
  private readonly maxBatch: number;
  private count = 0;
  private used = 0;
  private scheduled = false;
  private readonly s: BatchSenderStats = { sent: 0, sendErrors: 0, batches: 0, lastErrno: 0 };
  private readonly flushTask = (): void => { this.scheduled = false; this.flush(); };

  private constructor(addon: NetioAddon, handle: NetHandle, opts: BatchSenderOptions) {
    this.addon = addon;
    this.handle = handle;
    this.maxBatch = Math.max(1, Math.min(opts.maxBatch ?? 256, addon.netMaxBatch));
    this.slab = new Uint8Array(Math.max(opts.slabBytes ?? 512 * 1024, MAX_IPV4_PACKET));
    this.desc = new Uint32Array(2 * this.maxBatch);
    this.errs = new Int32Array(this.maxBatch);
    this.tags = new Array<unknown>(this.maxBatch).fill(undefined);
  }

  /**
   * Called for each packet the kernel refused at flush time, with the tag given to send():
   * send() already returned true for it, so this is where the owner counts it (per SA).
   */
  onSendError(fn: (tag: unknown, errno: number) => void): void {
    this.lateError = fn;
  }

  /** Opens the socket; undefined when the addon is unavailable; throws BatchSocketError when the OS refuses. */
  static open(opts: BatchSenderOptions = {}): BatchSender | undefined {
    const addon = batchSocketAddon();
    if (!addon) return undefined;
    return new BatchSender(addon, open(addon, IPPROTO_RAW, 0, opts.sndbufBytes ?? 4 * 1024 * 1024), opts);
  }

  get stats(): Readonly<BatchSenderStats> { return { ...this.s }; }

  /** Packets queued and not yet flushed. */
  get pending(): number { return this.count; }

  /**
   * Queues one complete IPv4 packet. Returns false (counted in sendErrors) only when it
   * cannot be queued; refusals by the kernel show up in stats after the flush.
   */
  send(packet: Uint8Array, tag?: unknown): boolean {
    const n = packet.length;
    if (!this.handle || n < 20 || n > MAX_IPV4_PACKET) { this.s.sendErrors++; return false; }
    if (this.count === this.maxBatch || this.used + n > this.slab.length) this.flush();
    this.slab.set(packet, this.used);
    const i = this.count++;
    this.tags[i] = tag;
    this.desc[2 * i] = this.used;
    this.desc[2 * i + 1] = n;
    this.used += n;
    if (this.count === this.maxBatch) this.flush();
    else if (!this.scheduled) { this.scheduled = true; queueMicrotask(this.flushTask); }
    return true;
  }

  /** Sends what is queued now (one sendmmsg, more only when packets are refused). */
  flush(): void {
    const n = this.count;
    if (n === 0) return;
    this.count = 0;
    this.used = 0;
    if (!this.handle) { this.s.sendErrors += n; this.reportAll(n, 9 /* EBADF */); return; }
    this.s.batches++;
    let r: number;
    try {
      r = this.addon.netSend(this.handle, this.slab, this.desc, n, this.errs);
    } catch {
      r = -1; // arguments are built here; cannot happen short of a bug, count the batch lost
    }
    if (r < 0) { this.s.sendErrors += n; this.s.lastErrno = -r; this.reportAll(n, -r); return; }
    this.s.sent += r;
    if (r < n) {
      this.s.sendErrors += n - r;
      for (let i = 0; i < n; i++) {
        const e = this.errs[i]!;
        if (e === 0) continue;
        this.s.lastErrno = e;
        this.report(i, e);
      }
    }
    this.tags.fill(undefined, 0, n);
  }

  private reportAll(n: number, errno: number): void {
    for (let i = 0; i < n; i++) this.report(i, errno);
    this.tags.fill(undefined, 0, n);
  }

  private report(i: number, errno: number): void {
    const fn = this.lateError;
    if (!fn) return;
    try { fn(this.tags[i], errno); } catch { /* an owner's bug must not stop the flush */ }
  }

  /** Flushes what is queued, then closes the socket; safe to call twice. */
  close(): void {
    if (!this.handle) return;
    this.flush();
    this.addon.netClose(this.handle);
    this.handle = undefined;
  }
}

export interface BatchReceiverOptions {
  /** IP protocol (50 ESP, 51 AH) */
  protocol: number;
  /** SO_RCVBUF (the kernel caps it at net.core.rmem_max) */
  rcvbufBytes?: number;
  /** slots per recvmmsg (default 64) */
  slots?: number;
  /**
   * bytes per slot (default 2048: a 1500-byte path's packets). A larger packet is
   * truncated by the kernel: it is dropped and counted, and the slots grow to hold such
   * packets from then on (up to 64 KiB).
   */
  slotBytes?: number;
  /** packets handled per readable event before yielding to the loop (default 256) */
  maxPerEvent?: number;
}

export interface BatchReceiverStats {
  /** packets handed to the handler */
  packets: number;
  /** dropped because larger than a slot (MSG_TRUNC) */
  truncated: number;
  /** recvmmsg calls that returned packets */
  batches: number;
  /** recvmmsg or poll errors (other than nothing-to-read) */
  errors: number;
  /** the handler threw (that packet is lost) */
  handlerErrors: number;
  /** current slot size */
  slotBytes: number;
}

/** A handler gets a view into the receive buffer, valid only during the call. */
export type BatchPacketHandler = (packet: Uint8Array) => void;

const MAX_SLOT_BYTES = 65536;

/**
 * A raw IPv4 socket for one protocol, drained with recvmmsg whenever libuv reports it
 * readable. Packets arrive with their IPv4 header (the kernel's raw socket delivery).
 */
export class BatchReceiver {
  private readonly addon: NetioAddon;
  private handle: NetHandle | undefined;
  private buf: Uint8Array;
  private slotBytes: number;
  private readonly slots: number;
  private readonly lens: Uint32Array;
  private readonly maxPerEvent: number;
  private handler: BatchPacketHandler | undefined;
  private readonly s: BatchReceiverStats;

  private constructor(addon: NetioAddon, handle: NetHandle, opts: BatchReceiverOptions) {
    this.addon = addon;
    this.handle = handle;
    this.slots = Math.max(1, Math.min(opts.slots ?? 64, addon.netMaxBatch));
    this.slotBytes = Math.max(64, Math.min(opts.slotBytes ?? 2048, MAX_SLOT_BYTES));
    this.buf = new Uint8Array(this.slots * this.slotBytes);
    this.lens = new Uint32Array(this.slots);
    this.maxPerEvent = Math.max(1, opts.maxPerEvent ?? 256);
    this.s = { packets: 0, truncated: 0, batches: 0, errors: 0, handlerErrors: 0, slotBytes: this.slotBytes };
  }

  /** Opens the socket; undefined when the addon is unavailable; throws BatchSocketError when the OS refuses. */
  static open(opts: BatchReceiverOptions): BatchReceiver | undefined {
    const addon = batchSocketAddon();
    if (!addon) return undefined;
    return new BatchReceiver(addon, open(addon, opts.protocol, opts.rcvbufBytes ?? 0, 0), opts);
  }

  get stats(): Readonly<BatchReceiverStats> { return { ...this.s, slotBytes: this.slotBytes }; }

  /** Kernel view of the socket (buffer sizes as getsockopt reports them). */
  get info(): ReturnType<NetioAddon['netInfo']> | undefined {
    return this.handle ? this.addon.netInfo(this.handle) : undefined;
  }

  /** Starts delivering packets to `handler` (replaces an earlier one). */
  onPacket(handler: BatchPacketHandler): void {
    const first = !this.handler;
    this.handler = handler;
    if (first && this.handle) this.addon.netPollStart(this.handle, (status) => this.onReadable(status));
  }

  /** Reads what is waiting now (up to maxPerEvent packets); returns how many were handled. */
  drain(): number {
    let handled = 0;
    let grow = 0;
    while (this.handle && handled < this.maxPerEvent) {
      const want = Math.min(this.slots, this.maxPerEvent - handled);
      const n = this.addon.netRecv(this.handle, this.buf, this.slotBytes, this.lens, want);
      if (n <= 0) { if (n < 0) this.s.errors++; break; }
      this.s.batches++;
      const slot = this.slotBytes;
      const buf = this.buf;
      const h = this.handler;
      for (let i = 0; i < n; i++) {
        const len = this.lens[i]!;
        if (len > slot) { this.s.truncated++; if (len > grow) grow = len; continue; }
        this.s.packets++;
        handled++;
        if (!h) continue;
        try { h(buf.subarray(i * slot, i * slot + len)); } catch { this.s.handlerErrors++; }
        if (!this.handle) return handled; // the handler closed us
      }
      if (n < want) break; // drained
    }
    if (grow > 0 && this.slotBytes < MAX_SLOT_BYTES) this.growSlots(grow);
    return handled;
  }

  private growSlots(len: number): void {
    let b = this.slotBytes;
    while (b < len && b < MAX_SLOT_BYTES) b *= 2;
    this.slotBytes = Math.min(b, MAX_SLOT_BYTES);
    this.buf = new Uint8Array(this.slots * this.slotBytes);
  }

  private onReadable(status: number): void {
    if (status < 0) { this.s.errors++; return; }
    this.drain();
  }

  /** Stops polling and closes the socket; safe to call twice. */
  close(): void {
    if (!this.handle) return;
    this.addon.netClose(this.handle);
    this.handle = undefined;
  }
}
