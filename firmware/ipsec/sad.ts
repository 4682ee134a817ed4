// Security association database.
//   - inbound SAs are found by (destination address, SPI, protocol) — the packet path
//     gives the destination as header words, so no string or bigint is built per packet;
//   - outbound SAs are grouped in bundles (IPComp, ESP, AH applied in the order given) keyed
//     by the SPD's policy key (`policyName|scopeKey`);
//   - lifetimes in seconds and kilobytes, with soft (rekey) and hard (expire) limits. One
//     min-heap of deadlines serves every SA (no timer per SA); the owner either calls
//     `runTimers()` itself or gives a TimerHost, and the SAD keeps exactly one host timer
//     armed for the earliest deadline. Volume limits are checked on each recordEncaps /
//     recordDecaps (one comparison).
//   - soft limits (our choice, documented for `show` and IKE):
//       seconds:   soft = hard * 0.9 - jitter, jitter uniform in [0, min(5% of hard, 30 s)],
//                  so two peers with the same lifetime rarely rekey at the same moment;
//       kilobytes: soft = 90% of hard.
//     IKE may override both per SA (`softSeconds`, `softKilobytes`), e.g. a responder
//     that should let the initiator rekey first. Manual SAs have no lifetime (IOS manual SAs
//     do not expire).
//   - events (soft, hard, deleted) are queued and delivered in a microtask, or at the end
//     of runTimers(), never from inside the packet path's call stack.
//   - rekey without loss: the successor's inbound SAs are installed first, then the outbound
//     bundle is swapped in one step, and the old inbound SAs stay usable (no more soft event)
//     until they expire, until the grace period chosen by IKE ends, or until deleted.
// Byte and packet counters are JS numbers (exact up to 2^53, i.e. 8 PiB), not wire values.

import { randomBytes } from 'node:crypto';
import {
  formatIp, IPPROTO_AH, IPPROTO_ESP, IPPROTO_IPCOMP, valueToWords,
  type IpAddr, type TrafficSelector,
} from './selector.js';

export type SaProto = typeof IPPROTO_ESP | typeof IPPROTO_AH | typeof IPPROTO_IPCOMP;
export type SaDirection = 'inbound' | 'outbound';
export type SaMode = 'tunnel' | 'transport';
export type SaState = 'active' | 'soft-expired' | 'superseded' | 'expired' | 'deleted';

/** Why a packet failed on an SA (counted per SA; feeds `#send errors` / `#recv errors`). */
export type SaErrorReason =
  | 'replay' | 'auth' | 'decrypt' | 'padding' | 'malformed' | 'policy' | 'seq-overflow'
  | 'expired' | 'compress' | 'decompress' | 'no-route' | 'send' | 'other';

/**
 * Error reason as counted: one of SaErrorReason, or any other code of the packet path
 * (e.g. the transform's own drop codes such as 'icv-failure' or 'bad-padding').
 */
// `string & {}` keeps editor completion for the known reasons while accepting any code.
export type SaErrorCode = SaErrorReason | (string & {});

export const SA_ERROR_REASONS: readonly SaErrorReason[] = [
  'replay', 'auth', 'decrypt', 'padding', 'malformed', 'policy', 'seq-overflow',
  'expired', 'compress', 'decompress', 'no-route', 'send', 'other',
];

export interface SaLifetime {
  /** hard limit in seconds; undefined = none */
  seconds?: number;
  /** hard limit in kilobytes (1024 bytes); undefined = none (`kilobytes disable`) */
  kilobytes?: number;
  /** override of the soft limit in seconds after install */
  softSeconds?: number;
  /** override of the soft limit in kilobytes */
  softKilobytes?: number;
}

/**
 * What the SAD needs from the transform context: nothing. The ESP/AH/IPComp code stores
 * its own state (keys, sequence numbers, replay window) in `transform`; this interface only
 * documents the usual shape.
 */
export interface SaTransformLike {
  protect?(...args: never[]): unknown;
  unprotect?(...args: never[]): unknown;
}

export interface SaSpec<T> {
  direction: SaDirection;
  proto: SaProto;
  /** SPI (ESP/AH, 32 bits) or CPI (IPComp, 16 bits), host order */
  spi: number;
  /** our outer address (inbound: destination; outbound: source) */
  local: IpAddr;
  /** the peer's outer address */
  peer: IpAddr;
  mode?: SaMode;
  /** scope, local -> remote, as decided by the SPD or narrowed by IKE */
  scope?: TrafficSelector;
  /** SPD policy key this SA serves (`policyName|scopeKey`) */
  policyKey?: string;
  /** crypto map name, seq and interface, for `show`/`clear crypto sa map` */
  mapName?: string;
  mapSeq?: number;
  iface?: string;
  /** e.g. `esp-aes esp-sha-hmac` (show: "transform:") */
  transformName?: string;
  lifetime?: SaLifetime;
  /** manually keyed (ipsec-manual) */
  manual?: boolean;
  /** IKE's id for the child SA (pair of inbound and outbound SAs); events carry it */
  childId?: number;
  /**
   * Further (protocol, SPI) keys of the same SA, when one transform object handles a whole
   * bundle (e.g. AH outside ESP: `proto`/`spi` give the outer AH SPI the packet path looks
   * up, the ESP SPI goes here so `clear crypto sa entry` and SPI allocation see it).
   */
  extraSpis?: readonly { readonly proto: SaProto; readonly spi: number }[];
  /** opaque transform context (keys, sequence numbers, replay window...) */
  transform: T;
}

export interface SaCounters {
  encapsPkts: number;
  encapsBytes: number;
  decapsPkts: number;
  decapsBytes: number;
  sendErrors: number;
  recvErrors: number;
  /** by reason; known reasons start at 0, other codes appear when first counted */
  errors: Record<SaErrorReason, number> & Record<string, number>;
}

function newCounters(): SaCounters {
  const errors = {} as Record<SaErrorReason, number> & Record<string, number>;
  for (const r of SA_ERROR_REASONS) errors[r] = 0;
  return { encapsPkts: 0, encapsBytes: 0, decapsPkts: 0, decapsBytes: 0, sendErrors: 0, recvErrors: 0, errors };
}

export class SecurityAssociation<T> {
  readonly id: number;
  readonly direction: SaDirection;
  readonly proto: SaProto;
  readonly spi: number;
  readonly local: IpAddr;
  readonly peer: IpAddr;
  readonly mode: SaMode;
  readonly scope: TrafficSelector | undefined;
  readonly policyKey: string | undefined;
  readonly mapName: string | undefined;
  readonly mapSeq: number | undefined;
  readonly iface: string | undefined;
  readonly transformName: string | undefined;
  readonly manual: boolean;
  readonly childId: number | undefined;
  readonly extraSpis: readonly { readonly proto: SaProto; readonly spi: number }[];
  transform: T;
  state: SaState = 'active';
  readonly installedAtMs: number;
  /** absolute deadlines (ms, from the injected clock); undefined = none */
  softAtMs: number | undefined;
  hardAtMs: number | undefined;
  /** byte limits; undefined = none */
  softBytes: number | undefined;
  hardBytes: number | undefined;
  readonly counters: SaCounters = newCounters();
  /** destination words of the outer header (inbound lookup) */
  readonly dstWords: Uint32Array;
  /** the SA that replaced this one (rekey), when known */
  successorId: number | undefined;

  constructor(id: number, spec: SaSpec<T>, nowMs: number) {
    this.id = id;
    this.direction = spec.direction;
    this.proto = spec.proto;
    this.spi = spec.spi;
    this.local = spec.local;
    this.peer = spec.peer;
    this.mode = spec.mode ?? 'tunnel';
    this.scope = spec.scope;
    this.policyKey = spec.policyKey;
    this.mapName = spec.mapName;
    this.mapSeq = spec.mapSeq;
    this.iface = spec.iface;
    this.transformName = spec.transformName;
    this.manual = spec.manual ?? false;
    this.childId = spec.childId;
    this.extraSpis = spec.extraSpis ?? [];
    this.transform = spec.transform;
    this.installedAtMs = nowMs;
    const dst = spec.direction === 'inbound' ? spec.local : spec.peer;
    this.dstWords = valueToWords(dst.family, dst.value);
  }

  /** outer source / destination */
  get src(): IpAddr { return this.direction === 'inbound' ? this.peer : this.local; }
  get dst(): IpAddr { return this.direction === 'inbound' ? this.local : this.peer; }

  /** bytes processed (encaps for outbound, decaps for inbound) */
  get bytesUsed(): number {
    return this.direction === 'outbound' ? this.counters.encapsBytes : this.counters.decapsBytes;
  }

  get usable(): boolean {
    return this.state === 'active' || this.state === 'soft-expired' || this.state === 'superseded';
  }

  /** Remaining hard lifetime (show: "remaining key lifetime (k/sec)"); undefined = unlimited. */
  remaining(nowMs: number): { kilobytes: number | undefined; seconds: number | undefined } {
    return {
      kilobytes: this.hardBytes === undefined ? undefined : Math.max(0, Math.floor((this.hardBytes - this.bytesUsed) / 1024)),
      seconds: this.hardAtMs === undefined ? undefined : Math.max(0, Math.floor((this.hardAtMs - nowMs) / 1000)),
    };
  }

  /** Is (proto, spi) one of this SA's keys? */
  hasSpi(proto: number, spi: number): boolean {
    if (this.spi === spi && this.proto === proto) return true;
    for (const x of this.extraSpis) if (x.spi === spi && x.proto === proto) return true;
    return false;
  }

  /** Every (proto, spi) key of this SA. */
  keys(): { proto: SaProto; spi: number }[] {
    return [{ proto: this.proto, spi: this.spi }, ...this.extraSpis];
  }

  toString(): string {
    return `SA#${this.id} ${this.direction} ${this.proto === IPPROTO_ESP ? 'esp' : this.proto === IPPROTO_AH ? 'ah' : 'ipcomp'} ` +
      `spi 0x${this.spi.toString(16).toUpperCase()} ${formatIp(this.src)}->${formatIp(this.dst)}`;
  }
}

export interface OutboundBundle<T> {
  readonly policyKey: string;
  /** SAs in the order they are applied to an outgoing packet (e.g. IPComp, ESP, AH) */
  readonly sas: readonly SecurityAssociation<T>[];
  readonly peer: IpAddr;
  readonly scope: TrafficSelector | undefined;
  readonly installedAtMs: number;
}

export type SadEvent<T> =
  | { type: 'soft'; cause: 'time' | 'bytes'; sa: SecurityAssociation<T> }
  | { type: 'hard'; cause: 'time' | 'bytes'; sa: SecurityAssociation<T> }
  | { type: 'deleted'; sa: SecurityAssociation<T>; reason: string };

export type SadListener<T> = (e: SadEvent<T>) => void;

/** One host timer for the whole SAD (setTimeout in the daemon, a fake in tests). */
export interface TimerHost {
  set(fn: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

export interface SadOptions {
  /** clock in ms */
  now: () => number;
  /** uniform [0, 1), for the soft lifetime jitter */
  random?: () => number;
  /** uniform 32-bit unsigned integer, for SPI allocation */
  randomU32?: () => number;
  timer?: TimerHost;
}

export class SadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
export class DuplicateSpiError extends SadError {}
export class SpiExhaustedError extends SadError {}
export class InvalidSaError extends SadError {}

/** SPI/CPI limits. SPIs 1..255 are reserved by IANA (RFC 4303 2.1), 0 is never used. */
export const SPI_MIN = 256;
export const SPI_MAX = 0xffffffff;
/** IPComp CPIs: 0-63 well known, 64-255 reserved, 61440-65535 private (RFC 3173 3.3). */
export const CPI_MIN = 256;
export const CPI_MAX = 61439;

export const SOFT_FRACTION = 0.9;
export const SOFT_JITTER_FRACTION = 0.05;
export const SOFT_JITTER_MAX_SEC = 30;

const KIND_SOFT = 0;
const KIND_HARD = 1;

interface Deadline { at: number; id: number; kind: number }

/** Binary min-heap of deadlines, lazily cleaned (stale entries are skipped when popped). */
class DeadlineHeap {
  private a: Deadline[] = [];
  /** Keeps only the entries `keep` accepts (O(n) rebuild). */
  filter(keep: (d: Deadline) => boolean): void {
    const old = this.a;
    this.a = [];
    for (const d of old) if (keep(d)) this.push(d);
  }
  get size(): number { return this.a.length; }
  peek(): Deadline | undefined { return this.a[0]; }
  push(d: Deadline): void {
    const a = this.a;
    a.push(d);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.at <= d.at) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = d;
  }
  pop(): Deadline | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        let mAt = last.at;
        if (l < a.length && a[l]!.at < mAt) { m = l; mAt = a[l]!.at; }
        if (r < a.length && a[r]!.at < mAt) { m = r; }
        if (m === i) break;
        a[i] = a[m]!;
        i = m;
      }
      a[i] = last;
    }
    return top;
  }
}

function defaultRandomU32(): number {
  return randomBytes(4).readUInt32BE(0);
}

export class Sad<T = unknown> {
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly randomU32: () => number;
  private readonly timer: TimerHost | undefined;
  private timerHandle: unknown;
  private timerAt = Infinity;
  private nextId = 1;
  private readonly byId = new Map<number, SecurityAssociation<T>>();
  /** inbound: SPI -> SAs with that SPI (different protocol or destination) */
  private readonly inbound = new Map<number, SecurityAssociation<T>[]>();
  private readonly bundles = new Map<string, OutboundBundle<T>>();
  /** SPIs handed out by allocateSpi and not installed yet, per protocol */
  private readonly reserved = new Map<SaProto, Set<number>>();
  private readonly heap = new DeadlineHeap();
  private readonly listeners = new Set<SadListener<T>>();
  private queue: SadEvent<T>[] = [];
  private flushScheduled = false;

  constructor(opts: SadOptions) {
    this.now = opts.now;
    this.random = opts.random ?? Math.random;
    this.randomU32 = opts.randomU32 ?? defaultRandomU32;
    this.timer = opts.timer;
  }

  // ------------------------------------------------------------ events

  on(listener: SadListener<T>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: SadEvent<T>): void {
    this.queue.push(e);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flushEvents());
    }
  }

  /** Delivers queued events now (also done automatically in a microtask). */
  flushEvents(): void {
    this.flushScheduled = false;
    while (this.queue.length > 0) {
      const q = this.queue;
      this.queue = [];
      for (const e of q) for (const l of this.listeners) l(e);
    }
  }

  // ------------------------------------------------------------ SPIs

  private spiInUse(proto: SaProto, spi: number): boolean {
    if (this.reserved.get(proto)?.has(spi)) return true;
    const list = this.inbound.get(spi);
    return list !== undefined && list.some((s) => s.hasSpi(proto, spi));
  }

  /**
   * A random SPI (ESP/AH: 256..2^32-1; IPComp CPI: 256..61439) unused by any inbound SA or
   * reservation of that protocol, reserved until installed or released.
   */
  allocateSpi(proto: SaProto): number {
    const [min, max] = proto === IPPROTO_IPCOMP ? [CPI_MIN, CPI_MAX] : [SPI_MIN, SPI_MAX];
    const span = max - min + 1;
    for (let attempt = 0; attempt < 64; attempt++) {
      const spi = min + ((this.randomU32() >>> 0) % span);
      if (!this.spiInUse(proto, spi)) {
        let set = this.reserved.get(proto);
        if (!set) { set = new Set(); this.reserved.set(proto, set); }
        set.add(spi);
        return spi;
      }
    }
    throw new SpiExhaustedError(`no free ${proto === IPPROTO_IPCOMP ? 'CPI' : 'SPI'} after 64 attempts`);
  }

  releaseSpi(proto: SaProto, spi: number): void {
    this.reserved.get(proto)?.delete(spi);
  }

  // ------------------------------------------------------------ install

  private create(spec: SaSpec<T>): SecurityAssociation<T> {
    for (const { proto, spi } of [{ proto: spec.proto, spi: spec.spi }, ...(spec.extraSpis ?? [])]) {
      // IPComp may also use a well-known CPI (1..63, e.g. 3 = LZS, RFC 2395) on installation
      const [min, max] = proto === IPPROTO_IPCOMP ? [1, CPI_MAX] : [SPI_MIN, SPI_MAX];
      if (!Number.isInteger(spi) || spi < min || spi > max || (proto === IPPROTO_IPCOMP && spi > 63 && spi < CPI_MIN)) {
        throw new InvalidSaError(`${proto === IPPROTO_IPCOMP ? 'CPI' : 'SPI'} ${spi} out of range`);
      }
    }
    if (spec.local.family !== spec.peer.family) throw new InvalidSaError('local and peer families differ');
    const now = this.now();
    const sa = new SecurityAssociation<T>(this.nextId++, spec, now);
    const lt = spec.lifetime;
    if (lt?.seconds !== undefined) {
      if (!(lt.seconds > 0)) throw new InvalidSaError(`bad lifetime ${lt.seconds} s`);
      sa.hardAtMs = now + lt.seconds * 1000;
      let softSec: number;
      if (lt.softSeconds !== undefined) softSec = lt.softSeconds;
      else {
        const jitter = this.random() * Math.min(lt.seconds * SOFT_JITTER_FRACTION, SOFT_JITTER_MAX_SEC);
        softSec = lt.seconds * SOFT_FRACTION - jitter;
      }
      if (softSec > 0 && softSec < lt.seconds) sa.softAtMs = now + softSec * 1000;
    }
    if (lt?.kilobytes !== undefined) {
      if (!(lt.kilobytes > 0)) throw new InvalidSaError(`bad lifetime ${lt.kilobytes} KB`);
      sa.hardBytes = lt.kilobytes * 1024;
      const softKb = lt.softKilobytes ?? lt.kilobytes * SOFT_FRACTION;
      if (softKb > 0 && softKb < lt.kilobytes) sa.softBytes = Math.floor(softKb * 1024);
    }
    return sa;
  }

  private track(sa: SecurityAssociation<T>): void {
    // deleted or rekeyed SAs leave stale deadlines behind: compact when they dominate
    if (this.heap.size > 64 && this.heap.size > 4 * this.byId.size) this.heap.filter((d) => this.isLive(d) !== undefined);
    this.byId.set(sa.id, sa);
    if (sa.softAtMs !== undefined) this.heap.push({ at: sa.softAtMs, id: sa.id, kind: KIND_SOFT });
    if (sa.hardAtMs !== undefined) this.heap.push({ at: sa.hardAtMs, id: sa.id, kind: KIND_HARD });
    this.armTimer();
  }

  /** Installs an inbound SA. Throws DuplicateSpiError if (dst, SPI, proto) is taken. */
  addInbound(spec: SaSpec<T>): SecurityAssociation<T> {
    if (spec.direction !== 'inbound') throw new InvalidSaError('addInbound needs an inbound SA');
    const keys = [{ proto: spec.proto, spi: spec.spi }, ...(spec.extraSpis ?? [])];
    for (const k of keys) {
      if (this.lookupInboundAddr(spec.local, k.spi, k.proto)) {
        throw new DuplicateSpiError(`inbound SA with SPI ${k.spi} proto ${k.proto} to ${formatIp(spec.local)} exists`);
      }
    }
    const sa = this.create(spec);
    for (const k of keys) {
      this.reserved.get(k.proto)?.delete(k.spi);
      let list = this.inbound.get(k.spi);
      if (!list) { list = []; this.inbound.set(k.spi, list); }
      if (!list.includes(sa)) list.push(sa);
    }
    this.track(sa);
    return sa;
  }

  /**
   * Installs the outbound bundle of a policy key. An existing bundle for the key is
   * replaced in one step; its SAs become `superseded` and leave the SAD (they are returned
   * so the caller can finish in-flight work). Specs are in application order.
   */
  setOutbound(policyKey: string, specs: readonly SaSpec<T>[]): { bundle: OutboundBundle<T>; replaced?: OutboundBundle<T> } {
    if (specs.length === 0) throw new InvalidSaError('empty bundle');
    for (const s of specs) if (s.direction !== 'outbound') throw new InvalidSaError('setOutbound needs outbound SAs');
    const sas = specs.map((s) => this.create({ ...s, policyKey }));
    const bundle: OutboundBundle<T> = Object.freeze({
      policyKey, sas: Object.freeze(sas), peer: specs[0]!.peer, scope: specs[0]!.scope, installedAtMs: this.now(),
    });
    const replaced = this.bundles.get(policyKey);
    this.bundles.set(policyKey, bundle);
    for (const sa of sas) this.track(sa);
    if (replaced) {
      for (const old of replaced.sas) {
        old.state = 'superseded';
        old.successorId = sas.find((n) => n.proto === old.proto)?.id;
        this.byId.delete(old.id);
        this.emit({ type: 'deleted', sa: old, reason: 'rekeyed' });
      }
    }
    return replaced ? { bundle, replaced } : { bundle };
  }

  /**
   * Rekey without loss: installs the successor's inbound SAs, swaps the outbound bundle,
   * then marks the old inbound SAs superseded (still accepted, no soft event; when
   * `graceSec` is given their hard deadline moves to at most now + graceSec).
   */
  rekey(args: {
    policyKey: string;
    inbound: readonly SaSpec<T>[];
    outbound: readonly SaSpec<T>[];
    oldInbound: readonly SecurityAssociation<T>[];
    graceSec?: number;
  }): { inbound: SecurityAssociation<T>[]; bundle: OutboundBundle<T>; replaced?: OutboundBundle<T> } {
    const inbound = args.inbound.map((s) => this.addInbound(s));
    const { bundle, replaced } = this.setOutbound(args.policyKey, args.outbound);
    for (const old of args.oldInbound) {
      this.supersedeInbound(old, args.graceSec);
      old.successorId = inbound.find((n) => n.proto === old.proto)?.id;
    }
    return replaced ? { inbound, bundle, replaced } : { inbound, bundle };
  }

  /** Keeps an inbound SA for decapsulation only: no soft event; optional shorter hard deadline. */
  supersedeInbound(sa: SecurityAssociation<T>, graceSec?: number): void {
    if (!this.byId.has(sa.id) || !sa.usable) return;
    sa.state = 'superseded';
    sa.softAtMs = undefined;
    sa.softBytes = undefined;
    if (graceSec !== undefined) {
      const at = this.now() + graceSec * 1000;
      if (sa.hardAtMs === undefined || at < sa.hardAtMs) {
        sa.hardAtMs = at;
        this.heap.push({ at, id: sa.id, kind: KIND_HARD });
        this.armTimer();
      }
    }
  }

  // ------------------------------------------------------------ lookups

  /** Packet path: inbound SA by SPI, protocol and outer destination words. */
  lookupInbound(spi: number, proto: number, dstWords: Uint32Array): SecurityAssociation<T> | undefined {
    const list = this.inbound.get(spi);
    if (list === undefined) return undefined;
    for (let i = 0; i < list.length; i++) {
      const sa = list[i]!;
      if (!sa.hasSpi(proto, spi)) continue;
      const w = sa.dstWords;
      if (w.length !== dstWords.length) continue;
      let same = true;
      for (let j = 0; j < w.length; j++) if (w[j] !== dstWords[j]) { same = false; break; }
      if (same) return sa;
    }
    return undefined;
  }

  lookupInboundAddr(dst: IpAddr, spi: number, proto: number): SecurityAssociation<T> | undefined {
    return this.lookupInbound(spi, proto, valueToWords(dst.family, dst.value));
  }

  /**
   * `clear crypto sa entry DST PROTO SPI`: the SA (inbound or outbound) whose outer
   * destination, protocol and SPI are these.
   */
  findEntry(dst: IpAddr, proto: number, spi: number): SecurityAssociation<T> | undefined {
    const inbound = this.lookupInboundAddr(dst, spi, proto);
    if (inbound) return inbound;
    for (const b of this.bundles.values()) {
      for (const sa of b.sas) if (sa.hasSpi(proto, spi) && sa.dst.family === dst.family && sa.dst.value === dst.value) return sa;
    }
    return undefined;
  }

  /** Packet path: the outbound bundle of an SPD decision's policy key. */
  outbound(policyKey: string): OutboundBundle<T> | undefined {
    return this.bundles.get(policyKey);
  }

  get(id: number): SecurityAssociation<T> | undefined {
    return this.byId.get(id);
  }

  /** Every installed SA (show crypto ipsec sa). */
  all(): SecurityAssociation<T>[] {
    return [...this.byId.values()];
  }

  bundlesList(): OutboundBundle<T>[] {
    return [...this.bundles.values()];
  }

  get size(): number {
    return this.byId.size;
  }

  // ------------------------------------------------------------ delete

  private remove(sa: SecurityAssociation<T>, state: SaState): boolean {
    if (!this.byId.has(sa.id)) return false;
    this.byId.delete(sa.id);
    sa.state = state;
    if (sa.direction === 'inbound') {
      for (const { spi } of sa.keys()) {
        const list = this.inbound.get(spi);
        if (!list) continue;
        const i = list.indexOf(sa);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.inbound.delete(spi);
      }
    } else if (sa.policyKey !== undefined) {
      const b = this.bundles.get(sa.policyKey);
      if (b && b.sas.includes(sa)) {
        // a bundle is unusable without all its SAs
        this.bundles.delete(sa.policyKey);
        for (const other of b.sas) if (other !== sa && this.byId.has(other.id)) this.remove(other, state);
      }
    }
    return true;
  }

  /** Deletes an SA (and, for an outbound SA, the rest of its bundle). */
  delete(sa: SecurityAssociation<T> | number, reason = 'deleted'): boolean {
    const s = typeof sa === 'number' ? this.byId.get(sa) : sa;
    if (!s) return false;
    const bundle = s.direction === 'outbound' && s.policyKey !== undefined ? this.bundles.get(s.policyKey) : undefined;
    const group = bundle && bundle.sas.includes(s) ? bundle.sas : [s];
    if (!this.remove(s, 'deleted')) return false;
    for (const g of group) this.emit({ type: 'deleted', sa: g, reason });
    return true;
  }

  /** Deletes every SA matching `pred` (clear crypto sa peer/map/entry); returns how many. */
  deleteWhere(pred: (sa: SecurityAssociation<T>) => boolean, reason = 'cleared'): number {
    let n = 0;
    for (const sa of this.all()) {
      if (this.byId.has(sa.id) && pred(sa)) {
        const before = this.byId.size;
        this.delete(sa, reason);
        n += before - this.byId.size;
      }
    }
    return n;
  }

  clear(reason = 'cleared'): number {
    return this.deleteWhere(() => true, reason);
  }

  // ------------------------------------------------------------ accounting (packet path)

  private expire(sa: SecurityAssociation<T>, cause: 'time' | 'bytes'): void {
    const bundle = sa.direction === 'outbound' && sa.policyKey !== undefined ? this.bundles.get(sa.policyKey) : undefined;
    const group = bundle && bundle.sas.includes(sa) ? bundle.sas : [sa];
    if (!this.remove(sa, 'expired')) return;
    this.emit({ type: 'hard', cause, sa });
    for (const g of group) if (g !== sa) this.emit({ type: 'deleted', sa: g, reason: 'bundle expired' });
  }

  private soft(sa: SecurityAssociation<T>, cause: 'time' | 'bytes'): void {
    if (sa.state !== 'active') return;
    sa.state = 'soft-expired';
    this.emit({ type: 'soft', cause, sa });
  }

  private account(sa: SecurityAssociation<T>, used: number, bytes: number): boolean {
    if (!sa.usable) return false;
    if (sa.hardBytes !== undefined && used + bytes > sa.hardBytes) {
      this.expire(sa, 'bytes');
      return false;
    }
    if (sa.softBytes !== undefined && used + bytes >= sa.softBytes && sa.state === 'active') this.soft(sa, 'bytes');
    return true;
  }

  /**
   * Counts one outgoing packet of `bytes` (plaintext length) on an outbound SA. Returns
   * false, without counting, when the SA is no longer usable or the packet would cross its
   * hard volume limit (the SA then expires): the caller drops the packet.
   */
  recordEncaps(sa: SecurityAssociation<T>, bytes: number): boolean {
    return this.recordEncapsMany(sa, 1, bytes);
  }

  /** Counts `packets` packets of `bytes` in all sent at once; same contract as recordEncaps. */
  recordEncapsMany(sa: SecurityAssociation<T>, packets: number, bytes: number): boolean {
    if (!this.account(sa, sa.counters.encapsBytes, bytes)) {
      sa.counters.sendErrors += packets;
      sa.counters.errors.expired += packets;
      return false;
    }
    sa.counters.encapsPkts += packets;
    sa.counters.encapsBytes += bytes;
    return true;
  }

  /** Counts one packet decapsulated by an inbound SA; same contract as recordEncaps. */
  recordDecaps(sa: SecurityAssociation<T>, bytes: number): boolean {
    return this.recordDecapsMany(sa, 1, bytes);
  }

  /** Counts `packets` decapsulated packets of `bytes` in all (the kernel's data path, read afterwards). */
  recordDecapsMany(sa: SecurityAssociation<T>, packets: number, bytes: number): boolean {
    if (!this.account(sa, sa.counters.decapsBytes, bytes)) {
      sa.counters.recvErrors += packets;
      sa.counters.errors.expired += packets;
      return false;
    }
    sa.counters.decapsPkts += packets;
    sa.counters.decapsBytes += bytes;
    return true;
  }

  /** Counts a failed packet (send errors for outbound SAs, receive errors for inbound). */
  recordError(sa: SecurityAssociation<T>, reason: SaErrorCode): void {
    sa.counters.errors[reason] = (sa.counters.errors[reason] ?? 0) + 1;
    if (sa.direction === 'outbound') sa.counters.sendErrors++;
    else sa.counters.recvErrors++;
  }

  // ------------------------------------------------------------ timers

  /** Deadlines held in the heap, stale ones included (diagnostics, tests). */
  get pendingDeadlines(): number {
    return this.heap.size;
  }

  /** Earliest pending deadline (ms), or undefined. */
  nextDeadline(): number | undefined {
    this.dropStale();
    return this.heap.peek()?.at;
  }

  private isLive(d: Deadline): SecurityAssociation<T> | undefined {
    const sa = this.byId.get(d.id);
    if (!sa) return undefined;
    if (d.kind === KIND_SOFT) return sa.softAtMs === d.at && sa.state === 'active' ? sa : undefined;
    return sa.hardAtMs === d.at ? sa : undefined;
  }

  private dropStale(): void {
    for (let top = this.heap.peek(); top && !this.isLive(top); top = this.heap.peek()) this.heap.pop();
  }

  /** Fires every soft/hard deadline due at `nowMs` (default: the clock), then delivers events. */
  runTimers(nowMs = this.now()): void {
    for (let top = this.heap.peek(); top && top.at <= nowMs; top = this.heap.peek()) {
      this.heap.pop();
      const sa = this.isLive(top);
      if (!sa) continue;
      if (top.kind === KIND_SOFT) this.soft(sa, 'time');
      else this.expire(sa, 'time');
    }
    this.timerAt = Infinity;
    this.armTimer();
    this.flushEvents();
  }

  private armTimer(): void {
    if (!this.timer) return;
    const next = this.nextDeadline();
    if (next === undefined) return;
    if (next >= this.timerAt) return;
    if (this.timerHandle !== undefined) this.timer.clear(this.timerHandle);
    this.timerAt = next;
    // setTimeout's delay is a signed 32-bit ms value: re-arm in steps for far deadlines
    const delay = Math.min(Math.max(0, next - this.now()), 0x7fffffff);
    this.timerHandle = this.timer.set(() => {
      this.timerHandle = undefined;
      this.timerAt = Infinity;
      this.runTimers();
    }, delay);
  }

  /** Stops the host timer (daemon shutdown). */
  close(): void {
    if (this.timer && this.timerHandle !== undefined) this.timer.clear(this.timerHandle);
    this.timerHandle = undefined;
    this.timerAt = Infinity;
  }
}
