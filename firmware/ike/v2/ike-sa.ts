// One IKE SA: its keys, its Child SAs, the message ID windows (size 1), the retransmission
// of the outstanding request (backoff on the injected clock) and the queue of tasks it runs
// as exchange initiator. No I/O: datagrams leave through the context.
import { rekeySchedule } from '../connection-manager.js';
import {
  decodeMessage, encodeMessage, ExchangeType, exchangeName, PayloadType, ProtocolId,
  type AnyPayload, type IkeHeader, type SkPayload, type TrafficSelector,
} from '../../proto/ikev2/index.js';
import { transformName, type ChildSuite, type IkeSuite } from './algorithms.js';
import type { Ikev2Connection, Ikev2Identity } from './config-types.js';
import type { Endpoint, SaContext } from './context.js';
import type { ChildSaInfo, Datagram, Ikev2DownReason, IkeSaInfo } from './events.js';
import { identityToString } from './identity.js';
import type { ChildKeys, IkeKeys } from './keys.js';
import { decryptMessage, encryptMessage, findSkOffset, type DirectionKeys } from './protect.js';
import { summarizePayloads } from './summary.js';
import { TaskAbortError, type Task } from './task.js';
import type { EventContext } from '../../lib/event-bus.js';

export type IkeSaState = 'connecting' | 'established' | 'rekeyed' | 'deleting' | 'destroyed';

export interface ChildSa {
  id: number;
  connection: Ikev2Connection;
  spiIn: number;
  spiOut: number;
  suite: ChildSuite;
  keys: ChildKeys;
  mode: 'tunnel' | 'transport';
  tsLocal: TrafficSelector[];
  tsRemote: TrafficSelector[];
  createdAtMs: number;
  rekeyAtMs: number;
  expireAtMs: number;
  state: 'installed' | 'rekeying' | 'rekeyed' | 'deleting';
  /** Nonces of the exchange that created it (collision resolution, RFC 7296 2.8.1). */
  ni: Uint8Array;
  nr: Uint8Array;
  info: ChildSaInfo;
}

interface Outstanding {
  task: Task;
  messageId: number;
  bytes: Uint8Array;
  payloads: AnyPayload[];
  retries: number;
  nextTimeoutMs: number;
}

const DEFAULT_IKE_LIFETIME_SEC = 86400;

export class IkeSa {
  readonly id: number;
  /** Original initiator of this IKE SA (sets the I flag, uses SK_ei/SK_ai). */
  readonly initiator: boolean;
  spiI: bigint;
  spiR: bigint;
  local: Endpoint;
  remote: Endpoint;
  connection?: Ikev2Connection;
  state: IkeSaState = 'connecting';
  suite?: IkeSuite;
  keys?: IkeKeys;
  ni: Uint8Array = new Uint8Array(0);
  nr: Uint8Array = new Uint8Array(0);
  /** RealMessage1 / RealMessage2 for AUTH (RFC 7296 2.15). */
  initRequest?: Uint8Array;
  initResponse?: Uint8Array;
  localId?: Ikev2Identity;
  remoteId?: Ikev2Identity;
  natLocal = false;
  natRemote = false;
  readonly children = new Map<number, ChildSa>();
  readonly createdAtMs: number;
  establishedAtMs?: number;
  lastInboundMs: number;
  rekeyAtMs?: number;
  expireAtMs?: number;
  /** New IKE SA that replaces this one (set by an IKE SA rekey). */
  rekeyedInto?: IkeSa;
  /** Still counted as half-open by the engine (responder before IKE_AUTH). */
  halfOpen = false;
  /** Tasks waiting to run as initiator. */
  readonly queue: Task[] = [];
  private nextRequestId = 0;
  private expectedRequestId = 0;
  private cachedResponse?: { messageId: number; bytes: Uint8Array };
  outstanding?: Outstanding;
  /** The last request we sent (for diagnosis). */
  lastSent: string[] = [];
  /** A DPD check is queued or in flight. */
  dpdActive = false;

  constructor(readonly ctx: SaContext, id: number, init: { initiator: boolean; spiI: bigint; spiR: bigint; local: Endpoint; remote: Endpoint; connection?: Ikev2Connection }) {
    this.id = id;
    this.initiator = init.initiator;
    this.spiI = init.spiI;
    this.spiR = init.spiR;
    this.local = { ...init.local };
    this.remote = { ...init.remote };
    if (init.connection) this.connection = init.connection;
    this.createdAtMs = ctx.now();
    this.lastInboundMs = this.createdAtMs;
  }

  get localSpi(): bigint {
    return this.initiator ? this.spiI : this.spiR;
  }

  get connectionName(): string {
    return this.connection?.name ?? '';
  }

  /** SK_e/SK_a we encrypt with, and those we decrypt with. */
  outKeys(): DirectionKeys {
    const k = this.keys!;
    return this.initiator ? { encr: k.skEi, integ: k.skAi } : { encr: k.skEr, integ: k.skAr };
  }
  inKeys(): DirectionKeys {
    const k = this.keys!;
    return this.initiator ? { encr: k.skEr, integ: k.skAr } : { encr: k.skEi, integ: k.skAi };
  }

  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void {
    this.ctx.log(level, `<${this.connectionName}|${this.id}> ${msg}`, this.logContext());
  }

  /** What conditional debug matches this SA's lines on: peer, identity, SPIs, conn-id. */
  logContext(): EventContext {
    const spis: number[] = [];
    for (const c of this.children.values()) spis.push(c.spiIn, c.spiOut);
    return {
      peer: this.remote.address,
      ...(this.remoteId ? { peerId: identityToString(this.remoteId) } : {}),
      ikeSaId: `${this.spiI.toString(16).padStart(16, '0')}:${this.spiR.toString(16).padStart(16, '0')}`,
      connIds: [this.id],
      ...(spis.length > 0 ? { spis } : {}),
    };
  }

  // ---- initiator side -------------------------------------------------------------------

  queueTask(task: Task): void {
    this.queue.push(task);
    this.kick();
  }

  /** Start the next queued task if no request is outstanding. */
  kick(): void {
    if (this.outstanding || this.state === 'destroyed') return;
    const task = this.queue.shift();
    if (!task) return;
    if (task.exchange !== ExchangeType.IKE_SA_INIT && !this.keys) {
      this.queue.unshift(task);
      return;
    }
    const messageId = this.nextRequestId++;
    this.sendRequest(task, messageId);
  }

  private sendRequest(task: Task, messageId: number): void {
    let payloads: AnyPayload[];
    try {
      payloads = task.buildI();
    } catch (e) {
      if (!(e instanceof TaskAbortError)) throw e;
      this.log('warn', e.message);
      this.destroy(e.reason);
      return;
    }
    const header: IkeHeader = {
      spiI: this.spiI, spiR: this.spiR, exchangeType: task.exchange,
      initiator: this.initiator, response: false, messageId,
    };
    const bytes = this.encode(header, payloads);
    if (task.exchange === ExchangeType.IKE_SA_INIT) this.initRequest = bytes;
    this.lastSent = [`${exchangeName(task.exchange)} request #${messageId}`, ...summarizePayloads(payloads)];
    const first = task.retransmitMs ?? this.ctx.config.retransmit?.initialTimeoutMs ?? 2000;
    this.outstanding = { task, messageId, bytes, payloads, retries: 0, nextTimeoutMs: this.ctx.now() + first };
    this.log('debug', `sending ${exchangeName(task.exchange)} request #${messageId} (${task.name})`);
    this.transmit(bytes);
  }

  private encode(header: IkeHeader, payloads: AnyPayload[]): Uint8Array {
    if (header.exchangeType === ExchangeType.IKE_SA_INIT) return encodeMessage(header, payloads);
    return encryptMessage(this.suite!, this.outKeys(), header, payloads);
  }

  transmit(bytes: Uint8Array): void {
    const d: Datagram = {
      localAddress: this.local.address, localPort: this.local.port,
      remoteAddress: this.remote.address, remotePort: this.remote.port, data: bytes,
    };
    this.ctx.send(d);
  }

  // ---- receiving ------------------------------------------------------------------------

  /**
   * A message for this SA (outer chain decoded by the engine). `raw` is the datagram.
   * Returns silently on anything invalid (dropped, counted by the log).
   */
  handle(raw: Uint8Array, header: IkeHeader, outer: AnyPayload[], from: Endpoint, to?: Endpoint): void {
    if (this.state === 'destroyed') return;
    this.receivedOn = to;
    if (header.response) this.handleResponse(raw, header, outer, from);
    else this.handleRequest(raw, header, outer, from);
  }

  private unprotect(raw: Uint8Array, header: IkeHeader, outer: AnyPayload[]): AnyPayload[] | undefined {
    if (header.exchangeType === ExchangeType.IKE_SA_INIT) return outer;
    if (!this.keys || !this.suite) return undefined;
    const sk = outer[outer.length - 1];
    if (!sk || sk.type !== PayloadType.SK) {
      this.log('debug', `dropping ${exchangeName(header.exchangeType)} without SK payload`);
      return undefined;
    }
    const r = decryptMessage(this.suite, this.inKeys(), raw, findSkOffset(raw), (sk as SkPayload).firstInner);
    if (!r.ok) {
      this.log('debug', `dropping ${exchangeName(header.exchangeType)} #${header.messageId}: SK ${r.reason}`);
      return undefined;
    }
    return r.payloads;
  }

  private handleRequest(raw: Uint8Array, header: IkeHeader, outer: AnyPayload[], from: Endpoint): void {
    if (this.cachedResponse && header.messageId === this.cachedResponse.messageId) {
      // Retransmitted request: answer with the same response (RFC 7296 2.1). Accept it only if it
      // still authenticates (or is the unauthenticated IKE_SA_INIT).
      if (header.exchangeType !== ExchangeType.IKE_SA_INIT && !this.unprotect(raw, header, outer)) return;
      this.log('debug', `retransmitting response #${header.messageId}`);
      this.transmit(this.cachedResponse.bytes);
      return;
    }
    if (header.messageId !== this.expectedRequestId) {
      this.log('debug', `dropping request #${header.messageId}, expected #${this.expectedRequestId}`);
      if (header.messageId < this.expectedRequestId) this.ctx.replayDropped();
      return;
    }
    const payloads = this.unprotect(raw, header, outer);
    if (!payloads) return;
    this.noteInbound(from, true);
    if (header.exchangeType === ExchangeType.IKE_SA_INIT) this.initRequest = raw;
    const task = this.ctx_createResponder(header.exchangeType, payloads);
    if (!task) {
      this.log('debug', `ignoring request of exchange ${exchangeName(header.exchangeType)}`);
      return;
    }
    task.processR(payloads, header);
    if (this.state === 'destroyed') return;
    const resp = task.buildR();
    const rh: IkeHeader = {
      spiI: this.spiI, spiR: this.spiR, exchangeType: header.exchangeType,
      initiator: this.initiator, response: true, messageId: header.messageId,
    };
    const bytes = this.encode(rh, resp);
    if (header.exchangeType === ExchangeType.IKE_SA_INIT) this.initResponse = bytes;
    this.cachedResponse = { messageId: header.messageId, bytes };
    this.expectedRequestId = header.messageId + 1;
    this.transmit(bytes);
    task.afterR?.();
    this.kick();
  }

  private handleResponse(raw: Uint8Array, header: IkeHeader, outer: AnyPayload[], from: Endpoint): void {
    const out = this.outstanding;
    if (!out || header.messageId !== out.messageId || header.exchangeType !== out.task.exchange) {
      this.log('debug', `dropping unexpected response #${header.messageId}`);
      if (header.messageId < this.nextRequestId) this.ctx.replayDropped();
      return;
    }
    const payloads = this.unprotect(raw, header, outer);
    if (!payloads) return;
    this.noteInbound(from, false);
    if (header.exchangeType === ExchangeType.IKE_SA_INIT) this.initResponse = raw;
    const status = out.task.processI(payloads, header);
    if (this.state === 'destroyed') {
      this.outstanding = undefined;
      return;
    }
    if (status === 'again') {
      // IKE_SA_INIT is retried with message ID 0 (COOKIE / INVALID_KE_PAYLOAD, RFC 7296 2.6, 1.2);
      // any other exchange finished, so the retry is a new request.
      this.outstanding = undefined;
      this.sendRequest(out.task, out.task.exchange === ExchangeType.IKE_SA_INIT ? out.messageId : this.nextRequestId++);
      return;
    }
    this.outstanding = undefined;
    this.kick();
  }

  private receivedOn?: Endpoint;

  /**
   * An authenticated message arrived. Behind a NAT: follow the peer's mapping and answer from
   * the port it used (4500 after the float), RFC 7296 2.23, but only for a fresh request: one
   * whose message ID is the next expected, so newer than any seen (handleRequest answers
   * retransmissions from its cache and drops older IDs before this). Responses never move the
   * endpoints: a copy of one, sent from elsewhere, must not redirect the SA.
   */
  private noteInbound(from: Endpoint, freshRequest: boolean): void {
    this.lastInboundMs = this.ctx.now();
    if (freshRequest && (this.natRemote || this.natLocal) && this.keys && this.initResponse) {
      this.remote = { ...from };
      if (this.receivedOn) this.local = { ...this.receivedOn };
    }
  }

  /** Set by the engine: builds the responder task for an exchange. */
  responderFactory?: (sa: IkeSa, exchange: number, payloads: AnyPayload[]) => Task | undefined;
  private ctx_createResponder(exchange: number, payloads: AnyPayload[]): Task | undefined {
    return this.responderFactory?.(this, exchange, payloads);
  }

  // ---- timers ---------------------------------------------------------------------------

  /** Earliest time something is due on this SA. */
  nextDeadline(): number | undefined {
    const times: number[] = [];
    if (this.outstanding) times.push(this.outstanding.nextTimeoutMs);
    if (this.rekeyAtMs !== undefined) times.push(this.rekeyAtMs);
    if (this.expireAtMs !== undefined) times.push(this.expireAtMs);
    for (const c of this.children.values()) times.push(c.state === 'installed' ? Math.min(c.rekeyAtMs, c.expireAtMs) : c.expireAtMs);
    const dpd = this.connection?.dpd;
    if (dpd && dpd.mode === 'periodic' && this.state === 'established' && !this.dpdActive) {
      times.push(this.lastInboundMs + dpd.intervalSec * 1000);
    }
    return times.length ? Math.min(...times) : undefined;
  }

  /** Retransmit the outstanding request if its timeout passed; give up after maxRetries. */
  checkRetransmit(now: number): void {
    const out = this.outstanding;
    if (!out || now < out.nextTimeoutMs) return;
    const rt = this.ctx.config.retransmit ?? {};
    const max = rt.maxRetries ?? 5;
    if (out.retries >= max) {
      this.log('warn', `${exchangeName(out.task.exchange)} #${out.messageId}: no answer after ${out.retries} retransmissions`);
      this.outstanding = undefined;
      if (out.task.timedOut) out.task.timedOut();
      else this.destroy('peer-timeout');
      return;
    }
    out.retries++;
    const base = out.task.retransmitMs ?? rt.initialTimeoutMs ?? 2000;
    const factor = out.task.retransmitMs !== undefined ? 1 : (rt.backoff ?? 2);
    out.nextTimeoutMs = now + base * Math.pow(factor, out.retries);
    this.log('debug', `retransmit ${out.retries} of ${exchangeName(out.task.exchange)} #${out.messageId}`);
    this.transmit(out.bytes);
  }

  // ---- teardown -------------------------------------------------------------------------

  removeChild(child: ChildSa, reason: Ikev2DownReason): void {
    if (!this.children.delete(child.id)) return;
    this.ctx.emit({ type: 'child-down', ikeSaId: this.id, childId: child.id, spiIn: child.spiIn, spiOut: child.spiOut, reason });
  }

  /** Remove the SA and its children (children moved to a rekeyed SA are not reported down). */
  destroy(reason: Ikev2DownReason): void {
    if (this.state === 'destroyed') return;
    const target = this.rekeyedInto;
    if (target && target.state === 'established' && reason !== 'peer-timeout' && reason !== 'dpd-timeout') {
      this.moveChildrenTo(target);
      this.handOverTasks(target);
    }
    for (const c of [...this.children.values()]) this.removeChild(c, reason);
    const wasUp = this.establishedAtMs !== undefined;
    this.state = 'destroyed';
    this.outstanding = undefined;
    this.queue.length = 0;
    this.ctx.removeSa(this);
    if (this.halfOpen) this.ctx.halfOpenDone(this);
    if (wasUp) this.ctx.emit({ type: 'ike-down', ikeSaId: this.id, connection: this.connectionName, reason });
    this.log('info', `IKE SA destroyed (${reason})`);
  }

  moveChildrenTo(target: IkeSa): void {
    for (const c of this.children.values()) {
      c.info = { ...c.info, ikeSaId: target.id };
      target.children.set(c.id, c);
    }
    this.children.clear();
  }

  /**
   * This SA was rekeyed into `target`: queued Child work (creates, rekeys, deletes) goes there,
   * the rest (DPD, another rekey) is dropped. The old SA then only deletes itself, so a peer
   * that refuses or ignores requests on a rekeyed SA holds neither the delete nor the work up.
   */
  handOverTasks(target: IkeSa): void {
    const queued = this.queue.splice(0);
    for (const task of queued) {
      const moved = task.rebind?.(target);
      if (moved) target.queueTask(moved);
    }
  }

  info(): IkeSaInfo {
    const s = this.suite;
    const lifetimeSec = this.connection?.ikeLifetimeSec ?? DEFAULT_IKE_LIFETIME_SEC;
    return {
      ikeSaId: this.id, connection: this.connectionName, initiator: this.initiator,
      spiI: this.spiI, spiR: this.spiR,
      localAddress: this.local.address, localPort: this.local.port,
      remoteAddress: this.remote.address, remotePort: this.remote.port,
      state: this.state,
      ...(s ? { encryption: transformName(s.encr), prf: transformName(s.prf), dhGroup: s.dhGroup } : {}),
      ...(s?.integ ? { integrity: transformName(s.integ) } : {}),
      ...(this.localId ? { localId: identityToString(this.localId) } : {}),
      ...(this.remoteId ? { remoteId: identityToString(this.remoteId) } : {}),
      natLocal: this.natLocal, natRemote: this.natRemote,
      createdAtMs: this.createdAtMs,
      ...(this.establishedAtMs !== undefined ? { establishedAtMs: this.establishedAtMs } : {}),
      lifetimeSec,
      childIds: [...this.children.keys()],
    };
  }

  /** Mark established, schedule IKE rekey, report it. */
  markEstablished(): void {
    this.state = 'established';
    const now = this.ctx.now();
    this.establishedAtMs = now;
    const t = rekeySchedule(now, this.connection?.ikeLifetimeSec ?? DEFAULT_IKE_LIFETIME_SEC, this.connection?.rekeyMarginSec, this.ctx.random(1)[0]!);
    this.rekeyAtMs = t.rekeyAtMs;
    this.expireAtMs = t.expireAtMs;
    if (this.halfOpen) this.ctx.halfOpenDone(this);
    this.ctx.emit({ type: 'ike-up', sa: this.info() });
  }
}

export function isIkeProtocol(p: number): boolean {
  return p === ProtocolId.IKE;
}

/** Decode helper re-exported for the engine (keeps the engine's imports short). */
export { decodeMessage };
