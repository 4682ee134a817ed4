// The IKEv2 engine: owns the IKE SAs, dispatches datagrams to them, answers IKE_SA_INIT
// (with stateless cookies above the half-open threshold, RFC 7296 2.6), runs timers on the
// injected clock and exposes commands (initiate, rekey, delete, liveness). No sockets: the
// driver feeds `receive()` and `tick()` and carries what `send` gets.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import {
  decodeMessage, encodeMessage, ExchangeType, IKE_HEADER_LENGTH, InvalidMajorVersionError, NotifyError, NotifyStatus,
  PayloadType, ProtocolId, UnsupportedCriticalPayloadError, decodeHeader,
  type AnyPayload, type IkeHeader, type NotifyPayload, type SaPayload,
} from '../../proto/ikev2/index.js';
import { hashDigest } from '../crypto/index.js';
import { notify } from './child-sa.js';
import type { IkeProposalConfig, Ikev2Config, Ikev2Connection, SelectorConfig } from './config-types.js';
import type { Endpoint, LogLevel, SaContext } from './context.js';
import { boundDiagnosis, MAX_DIAGNOSES_PER_PEER, type Ikev2Diagnosis } from './diagnosis.js';
import type { ChildSaInfo, Datagram, Ikev2Event, IkeSaInfo } from './events.js';
import { IkeSa } from './ike-sa.js';
import { addressMatches, parseIp } from './selectors.js';
import type { Task } from './task.js';
import { IkeAuthTask } from './tasks/ike-auth.js';
import { ChildCreateTask } from './tasks/child-create.js';
import { IkeInitTask } from './tasks/ike-init.js';
import { IkeRekeyTask } from './tasks/ike-rekey.js';
import { ChildDeleteTask, DpdTask, IkeDeleteTask, InformationalResponder } from './tasks/informational.js';
import type { EventContext } from '../../lib/event-bus.js';

export interface Ikev2EngineOptions {
  config: Ikev2Config;
  /** Milliseconds, monotonic. */
  clock: () => number;
  send: (d: Datagram) => void;
  onEvent?: (e: Ikev2Event) => void;
  /** Tagged log lines ("IKE"); never contain keys. */
  log?: (level: LogLevel, msg: string, context?: EventContext) => void;
  /** Random bytes (nonces, SPIs, jitter); injectable for tests. */
  random?: (n: number) => Uint8Array;
}

export interface InitiateOptions {
  /** Local address to use when the connection does not name one. */
  localAddress?: string;
  localPort?: number;
  /** Tunnel endpoint discovery: a dynamic map template, started toward the gateway that answered a probe. */
  discovered?: DiscoveredPeer;
}

/**
 * A responder-only template connection made concrete by tunnel endpoint discovery: the
 * gateway that answered and the combined proxies (our half, its half).
 */
export interface DiscoveredPeer {
  remoteAddress: string;
  localSelectors: SelectorConfig[];
  remoteSelectors: SelectorConfig[];
}

/** The connection as used toward a discovered gateway (same name: events map back to the template). */
function discoveredConnection(conn: Ikev2Connection, d: DiscoveredPeer | undefined): Ikev2Connection {
  if (!d) return conn;
  const out: Ikev2Connection = { ...conn, remoteAddress: d.remoteAddress, localSelectors: d.localSelectors, remoteSelectors: d.remoteSelectors };
  delete out.responderOnly;
  return out;
}

/** Counters for show commands and tests. */
export interface Ikev2Counters {
  received: number;
  dropped: number;
  decodeErrors: number;
  cookiesSent: number;
  halfOpen: number;
  sent: number;
  /** requests with an old message ID and responses to no outstanding request (replays) */
  replays: number;
}

export class Ikev2Engine {
  private config: Ikev2Config;
  private readonly clock: () => number;
  private readonly sendFn: (d: Datagram) => void;
  private readonly onEvent: (e: Ikev2Event) => void;
  private readonly logFn: (level: LogLevel, msg: string, context?: EventContext) => void;
  private readonly random: (n: number) => Uint8Array;
  private readonly bySpi = new Map<bigint, IkeSa>();
  private readonly sas = new Set<IkeSa>();
  private readonly halfOpen = new Set<IkeSa>();
  private readonly diag: Ikev2Diagnosis[] = [];
  private nextSaId = 1;
  private childIdSeq = 1;
  private cookieSecret: Uint8Array;
  private cookieVersion = 1;
  readonly counters: Ikev2Counters = { received: 0, dropped: 0, decodeErrors: 0, cookiesSent: 0, halfOpen: 0, sent: 0, replays: 0 };
  private readonly ctx: SaContext;

  constructor(opts: Ikev2EngineOptions) {
    this.config = opts.config;
    this.clock = opts.clock;
    this.sendFn = opts.send;
    this.onEvent = opts.onEvent ?? (() => {});
    this.logFn = opts.log ?? (() => {});
    this.random = opts.random ?? ((n) => new Uint8Array(randomBytes(n)));
    this.cookieSecret = this.random(32);
    const self = this;
    this.ctx = {
      get config() { return self.config; },
      now: () => this.clock(),
      random: (n) => this.random(n),
      send: (d) => {
        this.counters.sent++;
        this.sendFn(d);
      },
      emit: (e) => this.onEvent(e),
      diagnose: (d) => this.recordDiagnosis(d),
      log: (level, msg, context) => this.logFn(level, `IKE ${msg}`, context),
      allocateIkeSpi: () => this.allocateIkeSpi(),
      allocateChildSpi: () => this.allocateChildSpi(),
      nextChildId: () => this.childIdSeq++,
      createIkeSa: (init) => {
        const sa = this.newSa(init);
        return sa;
      },
      indexSa: (sa) => this.bySpi.set(sa.localSpi, sa),
      removeSa: (sa) => {
        for (const [k, v] of this.bySpi) if (v === sa) this.bySpi.delete(k);
        this.sas.delete(sa);
        this.halfOpen.delete(sa);
        this.counters.halfOpen = this.halfOpen.size;
      },
      connectionsFor: (l, r) => this.connectionsFor(l, r),
      responderIkeProposals: (l, r) => this.responderIkeProposals(l, r),
      otherSasWithPeer: (sa) => [...this.sas].filter((o) => o !== sa && o.state !== 'destroyed' && o.remote.address === sa.remote.address),
      replayDropped: () => {
        this.counters.replays++;
        this.counters.dropped++;
      },
      halfOpenDone: (sa) => {
        sa.halfOpen = false;
        this.halfOpen.delete(sa);
        this.counters.halfOpen = this.halfOpen.size;
      },
    };
  }

  /** Replace the configuration (existing SAs keep their connection objects). */
  updateConfig(config: Ikev2Config): void {
    this.config = config;
  }

  // ---- commands -------------------------------------------------------------------------

  /** Start IKE_SA_INIT + IKE_AUTH (+ first Child SA) for a connection. Returns the IKE SA id. */
  initiate(connectionName: string, opts: InitiateOptions = {}): number {
    const configured = this.config.connections.find((c) => c.name === connectionName);
    if (!configured) throw new Error(`unknown IKEv2 connection ${connectionName}`);
    const conn = discoveredConnection(configured, opts.discovered);
    if (conn.responderOnly) throw new Error(`connection ${connectionName} only responds (dynamic map template)`);
    const localAddress = conn.localAddress ?? opts.localAddress;
    if (!localAddress) throw new Error(`connection ${connectionName} has no local address`);
    const sa = this.newSa({
      initiator: true, spiI: this.allocateIkeSpi(), spiR: 0n,
      local: { address: localAddress, port: opts.localPort ?? 500 },
      remote: { address: conn.remoteAddress.split('/')[0]!, port: conn.remotePort ?? 500 },
      connection: conn,
    });
    sa.queue.push(new IkeInitTask(sa), new IkeAuthTask(sa));
    sa.kick();
    return sa.id;
  }

  /** Create an additional Child SA on an established IKE SA (CREATE_CHILD_SA); `discovered`: see InitiateOptions. */
  createChild(ikeSaId: number, connectionName?: string, discovered?: DiscoveredPeer): boolean {
    const sa = this.find(ikeSaId);
    if (!sa || sa.state !== 'established') return false;
    const conn = connectionName ? this.config.connections.find((c) => c.name === connectionName) : sa.connection;
    if (!conn) return false;
    if (discovered && discovered.remoteAddress !== sa.remote.address) return false;
    sa.queueTask(new ChildCreateTask(sa, discoveredConnection(conn, discovered)));
    return true;
  }

  rekeyChild(childId: number): boolean {
    for (const sa of this.sas) {
      const c = sa.children.get(childId);
      if (c && sa.state === 'established' && c.state === 'installed') {
        c.state = 'rekeying';
        sa.queueTask(new ChildCreateTask(sa, c.connection, c));
        return true;
      }
    }
    return false;
  }

  rekeyIke(ikeSaId: number): boolean {
    const sa = this.find(ikeSaId);
    if (!sa || sa.state !== 'established') return false;
    sa.rekeyAtMs = undefined;
    sa.queueTask(new IkeRekeyTask(sa));
    return true;
  }

  deleteChild(childId: number): boolean {
    for (const sa of this.sas) {
      const c = sa.children.get(childId);
      if (c && sa.state === 'established') {
        sa.queueTask(new ChildDeleteTask(sa, c, 'deleted'));
        return true;
      }
    }
    return false;
  }

  /** Delete an IKE SA and its children (sends the Delete; `clear crypto session`). */
  deleteIke(ikeSaId: number): boolean {
    const sa = this.find(ikeSaId);
    if (!sa) return false;
    if (sa.state !== 'established') {
      sa.destroy('deleted');
      return true;
    }
    sa.queue.length = 0;
    sa.queueTask(new IkeDeleteTask(sa, 'deleted'));
    return true;
  }

  /** Send a liveness check now (DPD on-demand, or a test). */
  checkLiveness(ikeSaId: number): boolean {
    const sa = this.find(ikeSaId);
    if (!sa || sa.state !== 'established' || sa.dpdActive) return false;
    sa.dpdActive = true;
    sa.queueTask(new DpdTask(sa, sa.connection?.dpd?.retrySec));
    return true;
  }

  /** Inbound ESP traffic on a child proves the peer alive (resets the DPD idle timer). */
  noteChildTraffic(childId: number): void {
    for (const sa of this.sas) if (sa.children.has(childId)) sa.lastInboundMs = this.clock();
  }

  listIkeSas(): IkeSaInfo[] {
    return [...this.sas].filter((s) => s.state !== 'destroyed').map((s) => s.info());
  }

  listChildSas(): ChildSaInfo[] {
    return [...this.sas].flatMap((s) => [...s.children.values()].map((c) => c.info));
  }

  /** Failure diagnoses, most recent first; optionally for one peer address. */
  diagnoses(peerAddress?: string): Ikev2Diagnosis[] {
    return peerAddress ? this.diag.filter((d) => d.remoteAddress === peerAddress) : [...this.diag];
  }

  clearDiagnoses(): void {
    this.diag.length = 0;
  }

  // ---- timers ---------------------------------------------------------------------------

  /** Earliest time tick() has something to do, or undefined. */
  nextDeadline(): number | undefined {
    let t: number | undefined;
    const halfOpenMs = this.config.halfOpenTimeoutMs ?? 30_000;
    for (const sa of this.sas) {
      const d = sa.nextDeadline();
      if (d !== undefined && (t === undefined || d < t)) t = d;
      if (sa.halfOpen) {
        const h = sa.createdAtMs + halfOpenMs;
        if (t === undefined || h < t) t = h;
      }
    }
    return t;
  }

  /** Run everything that is due at clock(). */
  tick(): void {
    const now = this.clock();
    const halfOpenMs = this.config.halfOpenTimeoutMs ?? 30_000;
    for (const sa of [...this.sas]) {
      if (sa.state === 'destroyed') continue;
      sa.checkRetransmit(now);
      if (isDestroyed(sa)) continue;
      if (sa.halfOpen && now >= sa.createdAtMs + halfOpenMs) {
        sa.destroy('half-open-timeout');
        continue;
      }
      if (sa.state !== 'established') {
        if (sa.state === 'connecting' && !sa.halfOpen && sa.initiator && now >= sa.createdAtMs + halfOpenMs * 4) sa.destroy('peer-timeout');
        continue;
      }
      if (sa.expireAtMs !== undefined && now >= sa.expireAtMs) {
        sa.destroy('expired');
        continue;
      }
      if (sa.rekeyAtMs !== undefined && now >= sa.rekeyAtMs) {
        sa.rekeyAtMs = undefined;
        sa.queueTask(new IkeRekeyTask(sa));
      }
      for (const c of [...sa.children.values()]) {
        if (now >= c.expireAtMs) {
          if (c.state === 'deleting') sa.removeChild(c, 'expired');
          else {
            c.state = 'deleting';
            sa.queueTask(new ChildDeleteTask(sa, c, 'expired'));
          }
        } else if (c.state === 'installed' && now >= c.rekeyAtMs) {
          c.state = 'rekeying';
          sa.queueTask(new ChildCreateTask(sa, c.connection, c));
        }
      }
      const dpd = sa.connection?.dpd;
      if (dpd && dpd.mode === 'periodic' && !sa.dpdActive && !sa.outstanding && sa.queue.length === 0 &&
          now - sa.lastInboundMs >= dpd.intervalSec * 1000) {
        sa.dpdActive = true;
        sa.queueTask(new DpdTask(sa, dpd.retrySec));
      }
    }
  }

  // ---- receiving ------------------------------------------------------------------------

  /** Handle one datagram (without the non-ESP marker). Never throws. */
  receive(d: Datagram): void {
    this.counters.received++;
    try {
      this.receiveInner(d);
    } catch (e) {
      this.counters.dropped++;
      this.logFn('error', `IKE internal error on datagram from ${d.remoteAddress}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private receiveInner(d: Datagram): void {
    const from: Endpoint = { address: d.remoteAddress, port: d.remotePort };
    const local: Endpoint = { address: d.localAddress, port: d.localPort };
    let header: IkeHeader;
    let payloads: AnyPayload[];
    try {
      const m = decodeMessage(d.data);
      header = m.header;
      payloads = m.payloads;
    } catch (e) {
      this.counters.decodeErrors++;
      this.counters.dropped++;
      this.answerDecodeError(d, e);
      return;
    }
    if (header.exchangeType === ExchangeType.IKE_SA_INIT && !header.response) {
      this.handleInitRequest(d, header, payloads, from, local);
      return;
    }
    // The I flag says the sender is the original initiator: then our SPI is the responder SPI.
    const ourSpi = header.initiator ? header.spiR : header.spiI;
    const sa = this.bySpi.get(ourSpi);
    if (!sa || sa.initiator === header.initiator) {
      this.counters.dropped++;
      this.logFn('debug', `IKE dropping message for unknown SPI from ${d.remoteAddress}`);
      return;
    }
    if (header.initiator && sa.spiI !== header.spiI) {
      this.counters.dropped++;
      return;
    }
    sa.handle(d.data, header, payloads, from, local);
  }

  private answerDecodeError(d: Datagram, e: unknown): void {
    // Only unprotected IKE_SA_INIT requests get an error answer; anything else is dropped.
    let h: IkeHeader;
    try {
      h = decodeHeader(d.data);
    } catch {
      return;
    }
    if (h.response || h.exchangeType !== ExchangeType.IKE_SA_INIT || h.messageId !== 0 || h.spiR !== 0n) return;
    let type: number | undefined;
    let data = new Uint8Array(0);
    if (e instanceof InvalidMajorVersionError) type = NotifyError.INVALID_MAJOR_VERSION;
    else if (e instanceof UnsupportedCriticalPayloadError) {
      type = NotifyError.UNSUPPORTED_CRITICAL_PAYLOAD;
      data = Uint8Array.of(e.payloadType & 0xff);
    }
    if (type === undefined) return;
    const resp = encodeMessage({ spiI: h.spiI, spiR: 0n, exchangeType: ExchangeType.IKE_SA_INIT, initiator: false, response: true, messageId: 0 }, [notify(type, data)]);
    this.ctx.send({ ...d, data: resp });
  }

  /**
   * Stateless anti-clogging check of an IKE_SA_INIT request before it is queued (the intake asks
   * when new sources flood it): a request carrying our valid COOKIE is 'verified'; one without
   * gets a COOKIE answer and nothing else ('challenged'); anything else is left to receive()
   * ('pass'). Costs a decode and a hash, no state.
   */
  challenge(d: Datagram): 'verified' | 'challenged' | 'pass' {
    let header: IkeHeader;
    let payloads: AnyPayload[];
    try {
      ({ header, payloads } = decodeMessage(d.data));
    } catch {
      return 'pass';
    }
    if (header.exchangeType !== ExchangeType.IKE_SA_INIT || header.response || !header.initiator || header.messageId !== 0 || header.spiR !== 0n) return 'pass';
    return this.cookieCheck(d, header, payloads) ?? 'pass';
  }

  /**
   * RFC 7296 2.6: an IKE_SA_INIT request echoing our COOKIE is 'verified'; one without gets a
   * COOKIE answer ('challenged'); undefined when it has no nonce to bind the cookie to.
   */
  private cookieCheck(d: Datagram, header: IkeHeader, payloads: AnyPayload[]): 'verified' | 'challenged' | undefined {
    const nonce = payloads.find((p) => p.type === PayloadType.NONCE) as { data: Uint8Array } | undefined;
    if (!nonce) return undefined;
    const want = this.cookieFor(nonce.data, d.remoteAddress, header.spiI);
    const got = payloads.find((p) => p.type === PayloadType.NOTIFY && (p as NotifyPayload).notifyType === NotifyStatus.COOKIE) as NotifyPayload | undefined;
    if (got && got.data.length === want.length && timingSafeEqual(got.data, want)) return 'verified';
    this.counters.cookiesSent++;
    const resp = encodeMessage(
      { spiI: header.spiI, spiR: 0n, exchangeType: ExchangeType.IKE_SA_INIT, initiator: false, response: true, messageId: 0 },
      [notify(NotifyStatus.COOKIE, want)],
    );
    this.ctx.send({ ...d, data: resp });
    return 'challenged';
  }

  private cookieFor(ni: Uint8Array, address: string, spiI: bigint): Uint8Array {
    const spi = new Uint8Array(8);
    new DataView(spi.buffer).setBigUint64(0, spiI);
    const h = hashDigest('sha256', [ni, parseIp(address), spi, this.cookieSecret]);
    const out = new Uint8Array(1 + 16);
    out[0] = this.cookieVersion;
    out.set(h.subarray(0, 16), 1);
    return out;
  }

  private handleInitRequest(d: Datagram, header: IkeHeader, payloads: AnyPayload[], from: Endpoint, local: Endpoint): void {
    if (header.messageId !== 0 || header.spiR !== 0n || !header.initiator) {
      this.counters.dropped++;
      return;
    }
    // A retransmitted IKE_SA_INIT for a half-open SA gets the same answer.
    for (const sa of this.halfOpen) {
      if (sa.spiI === header.spiI && sa.remote.address === from.address && sa.remote.port === from.port) {
        sa.handle(d.data, header, payloads, from);
        return;
      }
    }
    const threshold = this.config.cookieThreshold ?? 50;
    if (this.halfOpen.size >= threshold) {
      const verdict = this.cookieCheck(d, header, payloads);
      if (verdict !== 'verified') {
        if (verdict === undefined) this.counters.dropped++;
        return;
      }
    }
    const sa = this.newSa({ initiator: false, spiI: header.spiI, spiR: this.allocateIkeSpi(), local, remote: from });
    sa.halfOpen = true;
    this.halfOpen.add(sa);
    this.counters.halfOpen = this.halfOpen.size;
    sa.handle(d.data, header, payloads, from);
  }

  // ---- internals ------------------------------------------------------------------------

  private newSa(init: { initiator: boolean; spiI: bigint; spiR: bigint; local: Endpoint; remote: Endpoint; connection?: Ikev2Connection }): IkeSa {
    const sa = new IkeSa(this.ctx, this.nextSaId++, init);
    sa.responderFactory = responderFactory;
    this.sas.add(sa);
    this.bySpi.set(sa.localSpi, sa);
    return sa;
  }

  private find(ikeSaId: number): IkeSa | undefined {
    for (const sa of this.sas) if (sa.id === ikeSaId && sa.state !== 'destroyed') return sa;
    return undefined;
  }

  private allocateIkeSpi(): bigint {
    for (;;) {
      const b = this.random(8);
      const spi = new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
      if (spi !== 0n && !this.bySpi.has(spi)) return spi;
    }
  }

  private allocateChildSpi(): number {
    const used = new Set<number>();
    for (const sa of this.sas) for (const c of sa.children.values()) used.add(c.spiIn);
    for (;;) {
      const b = this.random(4);
      const spi = new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
      if (spi >= 256 && !used.has(spi)) return spi; // 1..255 are reserved (RFC 4303)
    }
  }

  private connectionsFor(localAddress: string, remoteAddress: string): Ikev2Connection[] {
    return this.config.connections.filter((c) =>
      (c.localAddress === undefined || c.localAddress === localAddress) &&
      (c.remoteAddress === remoteAddress || addressMatches(c.remoteAddress, remoteAddress)));
  }

  private responderIkeProposals(localAddress: string, remoteAddress: string): IkeProposalConfig[] {
    for (const p of this.config.policies ?? []) {
      if (!p.matchLocalAddresses || p.matchLocalAddresses.length === 0 || p.matchLocalAddresses.includes(localAddress)) return p.proposals;
    }
    const out: IkeProposalConfig[] = [];
    for (const c of this.connectionsFor(localAddress, remoteAddress)) for (const p of c.ikeProposals) if (!out.includes(p)) out.push(p);
    return out;
  }

  private recordDiagnosis(full: Ikev2Diagnosis): void {
    const d = boundDiagnosis(full);
    // One address keeps at most a few records, so a flood from one source cannot push out the rest.
    const same = this.diag.reduce((n, x) => n + (x.remoteAddress === d.remoteAddress ? 1 : 0), 0);
    if (same >= MAX_DIAGNOSES_PER_PEER) {
      let oldest = this.diag.length - 1;
      while (this.diag[oldest]!.remoteAddress !== d.remoteAddress) oldest--;
      this.diag.splice(oldest, 1);
    }
    this.diag.unshift(d);
    const max = this.config.maxDiagnoses ?? 32;
    if (this.diag.length > max) this.diag.length = max;
    this.logFn('warn', `IKE negotiation failed: ${d.kind} (${d.role}) ${d.exchange} peer ${d.remoteAddress}`, { peer: d.remoteAddress });
    this.onEvent({ type: 'negotiation-failed', ikeSaId: d.ikeSaId, connection: d.connection ?? '', diagnosis: d });
  }
}

function isDestroyed(sa: IkeSa): boolean {
  return sa.state === 'destroyed';
}

/** Responder task for a request on an existing SA. */
function responderFactory(sa: IkeSa, exchange: number, payloads: AnyPayload[]): Task | undefined {
  switch (exchange) {
    case ExchangeType.IKE_SA_INIT:
      return sa.initiator || sa.keys ? undefined : new IkeInitTask(sa);
    case ExchangeType.IKE_AUTH:
      return !sa.initiator && sa.state === 'connecting' && sa.keys ? new IkeAuthTask(sa) : undefined;
    case ExchangeType.CREATE_CHILD_SA: {
      if (sa.state !== 'established' && sa.state !== 'rekeyed') return undefined;
      const saP = payloads.find((p) => p.type === PayloadType.SA) as SaPayload | undefined;
      if (saP?.proposals.some((p) => p.protocolId === ProtocolId.IKE)) return new IkeRekeyTask(sa);
      return new ChildCreateTask(sa, sa.connection!);
    }
    case ExchangeType.INFORMATIONAL:
      return sa.keys ? new InformationalResponder(sa) : undefined;
    default:
      return undefined;
  }
}

export { IKE_HEADER_LENGTH };
