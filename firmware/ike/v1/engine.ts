// IKEv1 engine: Main Mode, Aggressive Mode (pre-shared keys), Quick Mode (with/without PFS),
// Informational (DELETE, INITIAL-CONTACT, RESPONDER-LIFETIME, DPD R-U-THERE/ACK), retransmission
// with backoff, NAT-T detection and float to 4500. The exchanges are tasks (tasks/*) that see
// only a narrow context (context.ts); the engine keeps the SA table, demultiplexes messages,
// answers duplicates and runs the timers. No I/O: datagrams in via receive(),
// datagrams out via drainOutbox(), results via drainEvents(), time via the injected clock and
// tick(). The socket layer adds/strips the non-ESP marker on port 4500.
import { randomFillSync } from 'node:crypto';
import { DOI_IPSEC, ExchangeType, HeaderFlag, IsakmpDecodeError, NAT_T_PORT, PayloadType, ProtocolId, ZERO_COOKIE, bytesEqual, concatBytes, decodeHeader, toHex } from '../../proto/ikev1/index.js';
import { isSupportedDhGroup } from '../crypto/index.js';
import type { V1Context } from './context.js';
import { emitDebug, phase1Identity, type DebugContext } from './debug.js';
import { findPreSharedKey, frontDoorVrf } from './peer-config.js';
import type { Phase1Params } from './policy.js';
import type { Endpoint, Datagram, IsakmpStateName, InitiateOptions, IpsecSaInfo, IkeV1Event, IkeV1EngineOptions, EngineCounters, Retx, Phase1, IpsecRecord } from './types.js';
import { readU32, readU64, u32bytes } from './util.js';
import { AggressiveModeTask } from './tasks/aggressive-mode.js';
import { MainModeTask } from './tasks/main-mode.js';
import { respondPhase1Start } from './tasks/phase1-responder.js';
import { QuickModeTask } from './tasks/quick-mode.js';
import { dpdTick, receiveInformational, sendInformational } from './tasks/informational.js';
import { MessageIdMemory } from './message-id-memory.js';
import { DEFAULT_IN_NEGOTIATION_LIMIT, DEFAULT_PER_SOURCE_LIMIT, DEFAULT_PRESSURE_TIMEOUT_MS, HalfOpenTable, newAdmissionCounters, type AdmissionCounters } from './admission.js';

export type { Endpoint, Datagram, IsakmpStateName, QuickModeRequest, InitiateOptions, IpsecKeys, IpsecSaInfo, Phase1Info, IkeV1Event, IkeV1EngineOptions, EngineCounters } from './types.js';
export { IKE_PORT, NAT_T_PORT } from '../../proto/ikev1/index.js';

export class IkeV1Engine {
  readonly counters: EngineCounters = { rxPackets: 0, rxMalformed: 0, rxDropped: 0, rxRetransmits: 0, txPackets: 0, txRetransmits: 0, halfOpenRejected: 0, rxReplays: 0 };
  /** @internal */ readonly o: IkeV1EngineOptions;
  /** @internal */ readonly rnd: (n: number) => Uint8Array;
  /** @internal */ readonly sas = new Map<string, Phase1>();
  /** @internal phase-1 negotiations not yet established, oldest first */
  readonly halfOpen = new HalfOpenTable();
  /** `show crypto call admission statistics` */
  readonly admission: AdmissionCounters = newAdmissionCounters();
  /** @internal */ readonly ipsec = new Map<number, IpsecRecord>();
  /** @internal */ outbox: Datagram[] = [];
  /** @internal */ events: IkeV1Event[] = [];
  /** @internal */ nextConnId: number;
  /** @internal */ pendingEndpoint: { sa: Phase1; local: Endpoint; remote: Endpoint } | undefined;

  /** What the exchange tasks see of the engine. */
  private readonly ctx: V1Context;

  constructor(opts: IkeV1EngineOptions) {
    this.o = opts;
    this.rnd = opts.random ?? pooledRandom();
    this.nextConnId = opts.firstConnId ?? 1001;
    this.ctx = this.taskContext();
  }

  private taskContext(): V1Context {
    return {
      // the same object the service updates in place on a configuration change
      settings: this.o,
      now: () => this.o.now(),
      random: (n) => this.rnd(n),
      send: (d, retransmit) => this.emit(d, retransmit),
      armRetx: (d) => this.armRetx(d),
      event: (e) => { this.events.push(e); },
      debug: (sa, connId = 0) => this.dbg(sa, connId),
      drop: () => this.drop(),
      newPhase1: (role, mode, ckyI, ckyR, local, remote) => this.newPhase1(role, mode, ckyI, ckyR, local, remote, this.o.now()),
      admitResponder: (source) => {
        if (this.admit('incoming', source)) return true;
        this.counters.halfOpenRejected++;
        return false;
      },
      track: (sa) => {
        this.sas.set(this.key(sa), sa);
        this.trackHalfOpen(sa);
      },
      forget: (sa) => this.forget(sa),
      fail: (sa, reason, notifyType) => this.fail1(sa, reason, notifyType),
      established: (sa) => this.established(sa),
      remove: (sa, reason) => this.removePhase1(sa, reason),
      authenticated: (sa, fresh) => this.authenticated(sa, fresh),
      hasOtherEstablished: (sa) => this.othersWithPeer(sa).length > 0,
      othersWithPeer: (sa) => this.othersWithPeer(sa),
      newMsgId: (sa) => this.newMsgId(sa),
      rememberMsgId: (sa, id) => this.rememberMsgId(sa, id),
      newSpi: () => this.newSpi(),
      ipsecUp: (info) => {
        this.ipsec.set(info.inbound.spi, { info });
        this.events.push({ type: 'ipsec-up', sa: info });
      },
      dropIpsec: (which, reason) => {
        for (const [spi, rec] of [...this.ipsec]) {
          if (!which(rec.info)) continue;
          this.ipsec.delete(spi);
          this.events.push({ type: 'ipsec-deleted', remote: rec.info.remote, protocol: rec.info.protocol, inboundSpi: spi, outboundSpi: rec.info.outbound.spi, reason });
        }
      },
    };
  }

  /** Other established ISAKMP SAs with the peer of `sa`. */
  private othersWithPeer(sa: Phase1): Phase1[] {
    return [...this.sas.values()].filter((o) => o !== sa && o.established && o.remote.address === sa.remote.address);
  }

  // ------------------------------------------------------------------ public API

  drainOutbox(): Datagram[] {
    const out = this.outbox;
    this.outbox = [];
    return out;
  }

  drainEvents(): IkeV1Event[] {
    const ev = this.events;
    this.events = [];
    return ev;
  }

  /** Half-open (not yet established) phase-1 negotiations. */
  halfOpenCount(): number {
    return this.halfOpen.size;
  }

  /** ISAKMP SAs up or negotiating (for `show crypto call admission statistics`). */
  saCount(): number {
    return this.sas.size;
  }

  /**
   * Call admission for a new phase 1 (incoming: a first message from `source`). Makes room by
   * evicting the oldest negotiation the peer never answered (that source's own first when it is
   * at its per-source cap); false when the new negotiation must be refused.
   */
  admit(direction: 'incoming' | 'outgoing', source?: string): boolean {
    const ad = this.admission;
    const refuse = (why: 'rejectedSaLimit' | 'rejectedInNegotiationLimit'): boolean => {
      ad[why]++;
      if (direction === 'incoming') ad.incomingRejected++;
      else ad.outgoingRejected++;
      return false;
    };
    if (direction === 'incoming') ad.incomingRequests++;
    else ad.outgoingRequests++;
    if (this.o.saLimit !== undefined && this.sas.size >= this.o.saLimit) return refuse('rejectedSaLimit');
    if (source !== undefined && this.halfOpen.fromSource(source) >= (this.o.perSourceHalfOpenLimit ?? DEFAULT_PER_SOURCE_LIMIT)) {
      const own = this.halfOpen.oldestUnproven(source);
      if (!own) return refuse('rejectedInNegotiationLimit');
      this.forget(own);
      ad.evictedPerSource++;
    }
    if (this.halfOpen.size >= this.inNegotiationLimit()) {
      const oldest = this.halfOpen.oldestUnproven();
      if (!oldest) return refuse('rejectedInNegotiationLimit');
      this.forget(oldest);
      ad.evicted++;
    }
    if (direction === 'incoming') ad.incomingAccepted++;
    else ad.outgoingAccepted++;
    return true;
  }

  /** `clear crypto call admission statistics` */
  clearAdmissionCounters(): void {
    Object.assign(this.admission, newAdmissionCounters());
  }

  /** The in-negotiation limit in force. */
  inNegotiationLimit(): number {
    return this.o.halfOpenLimit ?? DEFAULT_IN_NEGOTIATION_LIMIT;
  }

  /**
   * @internal Counts a new negotiation as half-open. A responder negotiation admitted under
   * pressure (half the in-negotiation limit used) lives only pressureTimeoutMs unless its peer answers.
   */
  trackHalfOpen(sa: Phase1): void {
    this.halfOpen.add(sa);
    if (sa.role === 'responder' && this.halfOpen.size * 2 > this.inNegotiationLimit()) {
      sa.unansweredDeadline = sa.createdAt + (this.o.pressureTimeoutMs ?? DEFAULT_PRESSURE_TIMEOUT_MS);
    }
  }

  /** @internal When a half-open negotiation times out. */
  halfOpenDeadline(sa: Phase1): number {
    const full = sa.createdAt + (this.o.halfOpenTimeoutMs ?? 90000);
    return sa.unansweredDeadline !== undefined && !sa.proven ? Math.min(full, sa.unansweredDeadline) : full;
  }

  /** @internal Drops a phase 1 without a word to the peer or an event (eviction). */
  forget(sa: Phase1): void {
    if (this.sas.get(this.key(sa)) === sa) this.sas.delete(this.key(sa));
    this.halfOpen.delete(sa);
  }

  /** For `show crypto isakmp sa`. */
  listPhase1(): { connId: number; local: Endpoint; remote: Endpoint; state: IsakmpStateName; role: string; established: boolean; params?: Phase1Params; expiresAt: number; fvrf?: string; ivrf?: string }[] {
    return [...this.sas.values()].map((s) => ({
      connId: s.connId, local: s.local, remote: s.remote, state: s.state, role: s.role, established: s.established,
      ...(s.params ? { params: s.params } : {}), expiresAt: s.expiresAt,
      ...(s.fvrf ? { fvrf: s.fvrf } : {}), ...(s.profile?.vrf ? { ivrf: s.profile.vrf } : {}),
    }));
  }

  listIpsec(): IpsecSaInfo[] {
    return [...this.ipsec.values()].map((r) => r.info);
  }

  /** Outbound traffic to a peer (ESP), for on-demand DPD. */
  noteOutboundTraffic(address: string): void {
    const now = this.o.now();
    for (const sa of this.sas.values()) if (sa.remote.address === address && sa.established) sa.lastSentTrafficAt = now;
  }

  /** Inbound traffic from a peer (ESP) counts as liveness for DPD. */
  notePeerTraffic(address: string): void {
    const now = this.o.now();
    for (const sa of this.sas.values()) if (sa.remote.address === address && sa.established) sa.lastHeardAt = now;
  }

  /** Starts (or reuses) phase 1 to `remote` and, with `quickMode`, a quick mode on it. Returns the conn-id. */
  initiate(opts: InitiateOptions): number {
    const existing = this.findEstablished(opts.remote.address, opts.local.address);
    if (existing) {
      if (opts.quickMode) QuickModeTask.start(this.ctx, existing, opts.quickMode);
      return existing.connId;
    }
    for (const sa of this.sas.values()) {
      if (!sa.established && sa.role === 'initiator' && sa.remote.address === opts.remote.address && sa.local.address === opts.local.address) {
        if (opts.quickMode) sa.pending.push(opts.quickMode);
        return sa.connId;
      }
    }
    const now = this.o.now();
    const profile = opts.profile ? this.o.peerConfig.profiles.find((p) => p.name === opts.profile) : undefined;
    const sa: Phase1 = this.newPhase1('initiator', opts.aggressive ? 'aggressive' : 'main', this.rnd(8), ZERO_COOKIE, opts.local, opts.remote, now);
    if (opts.fvrf) sa.fvrf = opts.fvrf;
    if (profile) sa.profile = profile;
    if (opts.quickMode) sa.pending.push(opts.quickMode);
    const psk = findPreSharedKey(this.o.peerConfig, {
      localAddress: opts.local.address, peerAddress: opts.remote.address,
      ...(sa.fvrf ? { fvrf: sa.fvrf } : {}), ...(profile ? { keyrings: profile.keyrings } : {}),
    }, this.dbg(sa, 0));
    const policies = this.o.policies.filter((p) => p.authentication === 'pre-share' && isSupportedDhGroup(p.group));
    if (!psk || policies.length === 0) {
      this.fail1(sa, !psk ? 'no pre-shared key for peer' : 'no usable ISAKMP policy');
      return sa.connId;
    }
    if (!this.admit('outgoing')) {
      this.fail1(sa, 'call admission: IKE SA limit reached');
      return sa.connId;
    }
    this.sas.set(this.key(sa), sa);
    this.trackHalfOpen(sa);
    const task = sa.mode === 'main' ? new MainModeTask(this.ctx, sa, 'initiator') : new AggressiveModeTask(this.ctx, sa, 'initiator');
    sa.task = task;
    task.start(policies, psk.key);
    return sa.connId;
  }

  /** Sends DELETE for an IPsec SA (by inbound SPI) and forgets it (`clear crypto sa`). */
  deleteIpsecSa(inboundSpi: number): void {
    const rec = this.ipsec.get(inboundSpi);
    if (!rec) return;
    this.ipsec.delete(inboundSpi);
    const sa = this.findEstablished(rec.info.remote.address, rec.info.local.address);
    if (sa) {
      const spi = u32bytes(inboundSpi);
      sendInformational(this.ctx, sa, [{
        type: PayloadType.D, doi: DOI_IPSEC,
        protocolId: rec.info.protocol === 'esp' ? ProtocolId.PROTO_IPSEC_ESP : ProtocolId.PROTO_IPSEC_AH,
        spiSize: 4, spis: [spi],
      }]);
    }
    this.events.push({ type: 'ipsec-deleted', remote: rec.info.remote, protocol: rec.info.protocol, inboundSpi, outboundSpi: rec.info.outbound.spi, reason: 'cleared' });
  }

  /** `clear crypto isakmp CONN-ID`: sends DELETE for the ISAKMP SA and drops it. */
  deletePhase1(connId: number): void {
    const sa = [...this.sas.values()].find((s) => s.connId === connId);
    if (!sa) return;
    if (sa.established) {
      sendInformational(this.ctx, sa, [{ type: PayloadType.D, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spiSize: 16, spis: [concatBytes(sa.ckyI, sa.ckyR)] }]);
    }
    this.removePhase1(sa, 'cleared');
  }

  /** `clear crypto session remote A`: deletes IPsec SAs and ISAKMP SAs with a peer. */
  clearPeer(address: string): void {
    for (const [spi, rec] of [...this.ipsec]) if (rec.info.remote.address === address) this.deleteIpsecSa(spi);
    for (const sa of [...this.sas.values()]) if (sa.remote.address === address) this.deletePhase1(sa.connId);
  }

  /** Earliest time tick() has something to do (ms), or undefined. */
  nextTimerAt(): number | undefined {
    let t: number | undefined;
    const consider = (x: number | undefined): void => {
      if (x !== undefined && (t === undefined || x < t)) t = x;
    };
    const halfOpenMs = this.o.halfOpenTimeoutMs ?? 90000;
    for (const sa of this.sas.values()) {
      consider(sa.retx?.nextAt);
      if (!sa.established) consider(this.halfOpenDeadline(sa));
      else consider(sa.expiresAt);
      for (const x of sa.exchanges.values()) {
        consider(x.retx?.nextAt);
        consider(x.createdAt + halfOpenMs);
      }
      if (sa.established && this.o.dpd && sa.peerDpd) {
        if (sa.dpdOutstanding) consider(sa.dpdOutstanding.sentAt + this.o.dpd.retrySec * 1000);
        else if (this.o.dpd.mode !== 'on-demand' || sa.lastSentTrafficAt > sa.lastHeardAt) consider(sa.lastHeardAt + this.o.dpd.intervalSec * 1000);
      }
    }
    return t;
  }

  /** Runs timers: retransmissions, half-open expiry, phase-1 lifetime, DPD. */
  tick(): void {
    const now = this.o.now();
    const halfOpenMs = this.o.halfOpenTimeoutMs ?? 90000;
    for (const sa of [...this.sas.values()]) {
      if (!this.sas.has(this.key(sa))) continue;
      if (sa.retx && now >= sa.retx.nextAt) {
        if (!this.retransmit(sa.retx, now)) {
          sa.retx = undefined;
          if (!sa.established) {
            this.fail1(sa, 'retransmissions exhausted, peer not responding');
            continue;
          }
        }
      }
      if (!sa.established && now >= this.halfOpenDeadline(sa)) {
        if (now < sa.createdAt + halfOpenMs) this.admission.expiredUnderPressure++;
        this.fail1(sa, 'negotiation timed out');
        continue;
      }
      if (sa.established && now >= sa.expiresAt) {
        this.removePhase1(sa, 'expired');
        continue;
      }
      for (const x of [...sa.exchanges.values()]) {
        if (x.retx && now >= x.retx.nextAt) {
          if (!this.retransmit(x.retx, now)) {
            x.retx = undefined;
            if (!x.done) {
              sa.exchanges.delete(x.msgId);
              if (x.kind === 'quick') this.events.push({ type: 'ipsec-failed', connId: sa.connId, remote: sa.remote, reason: 'quick mode retransmissions exhausted' });
            }
          }
        }
        if (now >= x.createdAt + halfOpenMs) sa.exchanges.delete(x.msgId);
      }
      if (sa.established && this.o.dpd && sa.peerDpd) dpdTick(this.ctx, sa, now);
    }
  }

  /** Feeds one received UDP datagram (non-ESP marker already stripped on port 4500). Never throws. */
  receive(d: Datagram): void {
    this.counters.rxPackets++;
    try {
      this.receiveInner(d);
    } catch (e) {
      if (e instanceof IsakmpDecodeError) {
        this.counters.rxMalformed++;
        return;
      }
      // Crypto or internal errors on garbage input: count and drop, never crash the daemon.
      this.counters.rxDropped++;
    }
  }

  // ------------------------------------------------------------------ receive dispatch

  /** @internal */
  receiveInner(d: Datagram): void {
    const h = decodeHeader(d.data);
    const data = d.data.subarray(0, h.length);
    const zeroR = bytesEqual(h.responderCookie, ZERO_COOKIE);
    let sa = this.sas.get(this.cookieKey(h.initiatorCookie, h.responderCookie));
    // A responder negotiation whose peer echoes our cookie is not a spoofed source (admission).
    if (sa && !zeroR && sa.role === 'responder') sa.proven = true;
    if (!sa && !zeroR) {
      // Second message of a phase 1 we initiated: our entry is still keyed with a zero responder cookie.
      const pending = this.sas.get(this.cookieKey(h.initiatorCookie, ZERO_COOKIE));
      if (pending && pending.role === 'initiator' && !pending.established) {
        this.sas.delete(this.key(pending));
        pending.ckyR = h.responderCookie.slice();
        this.sas.set(this.key(pending), pending);
        sa = pending;
      }
    }
    // Retransmitted first message of a phase 1 we answer? (an index, not a walk: floods are made of these)
    if (!sa && zeroR) sa = this.halfOpen.responderFor(h.initiatorCookie, d.remote.address);
    if (!sa) {
      if (zeroR && h.messageId === 0 && (h.exchangeType === ExchangeType.IDENTITY_PROTECTION || h.exchangeType === ExchangeType.AGGRESSIVE) && !(h.flags & HeaderFlag.ENCRYPTION)) {
        respondPhase1Start(this.ctx, d, data, h.exchangeType);
        return;
      }
      this.counters.rxDropped++;
      return;
    }
    // Duplicate of the last message: resend our answer.
    if (h.messageId === 0) {
      if (sa.lastRx && bytesEqual(sa.lastRx, data)) {
        this.counters.rxRetransmits++;
        if (sa.lastReply) this.emit(sa.lastReply, true);
        return;
      }
    } else {
      const x = sa.exchanges.get(h.messageId);
      if (x?.lastRx && bytesEqual(x.lastRx, data)) {
        this.counters.rxRetransmits++;
        if (x.lastReply) this.emit(x.lastReply, true);
        return;
      }
      // A message ID this SA already used, for an exchange that is over (or forgotten): a
      // replay, whatever its age. It is dropped before any work and never moves the SA.
      if (x ? x.done : sa.msgIds.has(h.messageId)) {
        this.counters.rxReplays++;
        emitDebug(this.dbg(sa, sa.connId), `replayed message ID ${h.messageId} from ${d.remote.address}:${d.remote.port} dropped`, true);
        return;
      }
    }
    // NAT-T float: the peer moved to 4500 (or its NAT mapping changed). Applied only once
    // the message authenticates (see authenticated()), so a forged packet cannot move the SA.
    this.pendingEndpoint = d.local.port === NAT_T_PORT && sa.keys ? { sa, local: { ...d.local }, remote: { ...d.remote } } : undefined;
    switch (h.exchangeType) {
      case ExchangeType.IDENTITY_PROTECTION:
      case ExchangeType.AGGRESSIVE:
        // the phase-1 task of this SA (none once it is up: a late phase-1 message is dropped)
        if (h.messageId !== 0 || !sa.task || sa.task.exchange !== h.exchangeType) return this.drop();
        return sa.task.process(d, data, h.flags);
      case ExchangeType.QUICK_MODE: {
        if (!sa.established || h.messageId === 0 || !(h.flags & HeaderFlag.ENCRYPTION)) return this.drop();
        const x = sa.exchanges.get(h.messageId);
        if (!x) return QuickModeTask.respond(this.ctx, sa, data, h.messageId);
        if (!x.task) return this.drop();
        return x.task.process(d, data, h.flags);
      }
      case ExchangeType.INFORMATIONAL:
        return receiveInformational(this.ctx, sa, data, h.messageId, h.flags);
      default:
        return this.drop();
    }
  }

  /**
   * @internal A message of `sa` passed its integrity check: liveness, and the NAT-T endpoint
   * update (RFC 3947 / 3948), applied only for a fresh message: the first of a new exchange
   * (message ID never used on this SA) or the next one of a live exchange. Retransmissions and
   * replays return before this (receiveInner), so they never move the SA.
   */
  authenticated(sa: Phase1, fresh = true): void {
    sa.lastHeardAt = this.o.now();
    const p = this.pendingEndpoint;
    if (p && p.sa === sa && fresh) {
      sa.local = p.local;
      sa.remote = p.remote;
    }
    this.pendingEndpoint = undefined;
  }

  /** @internal */
  drop(): void {
    this.counters.rxDropped++;
  }





  // ------------------------------------------------------------------ helpers: SA lifecycle

  /** @internal */
  newPhase1(role: 'initiator' | 'responder', mode: 'main' | 'aggressive', ckyI: Uint8Array, ckyR: Uint8Array, local: Endpoint, remote: Endpoint, now: number): Phase1 {
    // the front-door VRF: that of the interface owning the local address (keyrings and
    // profiles bound to another VRF are skipped for this peer)
    const fvrf = frontDoorVrf(this.o.peerConfig, local.address);
    return {
      ...(fvrf !== undefined ? { fvrf } : {}),
      connId: this.nextConnId++, role, mode, state: mode === 'main' ? 'MM_NO_STATE' : 'AG_NO_STATE', established: false,
      ckyI, ckyR, local: { ...local }, remote: { ...remote }, peerId: remote.address,
      peerRfc3947: false, peerNatTDraft: false, peerDpd: false, natLocal: false, natRemote: false,
      exchanges: new Map(), pending: [], createdAt: now, expiresAt: Number.POSITIVE_INFINITY, lastHeardAt: now,
      lastSentTrafficAt: 0, dpdSeq: readU32(this.rnd(4)) & 0x7fffffff, initialContactWanted: false,
      msgIds: new MessageIdMemory(this.o.messageIdMemory),
    };
  }

  /** @internal */
  established(sa: Phase1): void {
    const now = this.o.now();
    sa.established = true;
    // the negotiation's keying material goes with its task
    sa.task = undefined;
    this.halfOpen.delete(sa);
    sa.state = 'QM_IDLE';
    sa.retx = undefined;
    sa.expiresAt = now + sa.params!.lifetimeSec * 1000;
    sa.lastHeardAt = now;
    emitDebug(this.dbg(sa, sa.connId), `SA authentication status: authenticated. Old State = ${sa.mode === 'main' ? 'MM' : 'AG'} New State = QM_IDLE`);
    this.events.push({
      type: 'phase1-up',
      sa: {
        connId: sa.connId, role: sa.role, mode: sa.mode, local: { ...sa.local }, remote: { ...sa.remote },
        initiatorCookie: readU64(sa.ckyI), responderCookie: readU64(sa.ckyR), params: sa.params!, peerId: sa.peerId,
        ...(sa.profile ? { profile: sa.profile.name } : {}), natLocal: sa.natLocal, natRemote: sa.natRemote, dpd: sa.peerDpd,
      },
    });
    const pend = sa.pending;
    sa.pending = [];
    for (const req of pend) QuickModeTask.start(this.ctx, sa, req);
  }

  /** @internal */
  fail1(sa: Phase1, reason: string, notifyType?: number): void {
    this.forget(sa);
    this.events.push({ type: 'phase1-failed', connId: sa.connId, remote: sa.remote, reason, ...(notifyType !== undefined ? { notifyType } : {}) });
    for (const _ of sa.pending) this.events.push({ type: 'ipsec-failed', connId: sa.connId, remote: sa.remote, reason: `phase 1 failed: ${reason}` });
    sa.pending = [];
  }

  /** @internal */
  removePhase1(sa: Phase1, reason: 'deleted-by-peer' | 'expired' | 'dpd' | 'cleared' | 'initial-contact'): void {
    if (!this.sas.delete(this.key(sa))) return;
    this.halfOpen.delete(sa);
    sa.state = 'MM_NO_STATE(DELETED)';
    this.events.push({ type: 'phase1-down', connId: sa.connId, remote: sa.remote, reason });
  }

  /** @internal */
  findEstablished(remote: string, local: string): Phase1 | undefined {
    let best: Phase1 | undefined;
    for (const sa of this.sas.values()) {
      if (sa.established && sa.remote.address === remote && sa.local.address === local && (!best || sa.createdAt >= best.createdAt)) best = sa;
    }
    return best;
  }

  /** @internal */
  key(sa: Phase1): string {
    return this.cookieKey(sa.ckyI, sa.ckyR);
  }

  /** @internal */
  cookieKey(i: Uint8Array, r: Uint8Array): string {
    return toHex(i) + toHex(r);
  }

  /** @internal */
  dbg(sa: Phase1, connId: number): DebugContext {
    return {
      now: this.o.now, ...(this.o.debug ? { sink: this.o.debug } : {}), connId, peer: sa.remote.address,
      spi: toHex(sa.ckyI) + toHex(sa.ckyR), ...(sa.fvrf ? { fvrf: sa.fvrf } : {}), ...(sa.profile?.vrf ? { ivrf: sa.profile.vrf } : {}),
      ...phase1Identity(sa),
    };
  }

  /** @internal A message ID for an exchange we start; remembered like the peer's. */
  newMsgId(sa: Phase1): number {
    for (;;) {
      const id = readU32(this.rnd(4));
      if (id !== 0 && !sa.exchanges.has(id) && !sa.msgIds.has(id)) {
        this.rememberMsgId(sa, id);
        return id;
      }
    }
  }

  /**
   * @internal Remembers a message ID of an authenticated exchange for the life of the SA. When
   * the SA's memory is full it is expired now (replaced by a new phase 1) rather than forget old
   * IDs: false, and the caller drops the message.
   */
  rememberMsgId(sa: Phase1, id: number): boolean {
    if (sa.msgIds.add(id)) return true;
    if (sa.expiresAt > this.o.now()) {
      emitDebug(this.dbg(sa, sa.connId), `message ID memory full (${sa.msgIds.size} IDs): ISAKMP SA expires now`, true);
      sa.expiresAt = this.o.now();
    }
    return false;
  }

  /** @internal */
  newSpi(_proto?: number): Uint8Array {
    for (;;) {
      const s = this.rnd(4);
      const v = readU32(s);
      if (v >= 256 && !this.ipsec.has(v)) return s;
    }
  }


  // ------------------------------------------------------------------ helpers: send/receive

  /** @internal */
  emit(d: Datagram, retransmit = false): void {
    this.outbox.push({ data: d.data, local: { ...d.local }, remote: { ...d.remote } });
    this.counters.txPackets++;
    if (retransmit) this.counters.txRetransmits++;
  }

  /** @internal */
  retransmit(r: Retx, now: number): boolean {
    const max = this.o.retransmit?.maxTries ?? 5;
    if (r.tries >= max) return false;
    r.tries++;
    const base = this.o.retransmit?.initialMs ?? 2000;
    const factor = this.o.retransmit?.factor ?? 2;
    r.nextAt = now + base * factor ** r.tries;
    this.emit(r.datagram, true);
    return true;
  }

  /** @internal */
  armRetx(d: Datagram): Retx {
    return { datagram: d, tries: 0, nextAt: this.o.now() + (this.o.retransmit?.initialMs ?? 2000) };
  }

}

/** Random bytes cut from a 4 KB pool refilled by the CSPRNG (one system call per pool, not per cookie). */
function pooledRandom(): (n: number) => Uint8Array {
  const pool = new Uint8Array(4096);
  let at = pool.length;
  return (n) => {
    if (n > pool.length) return new Uint8Array(randomFillSync(new Uint8Array(n)));
    if (at + n > pool.length) {
      randomFillSync(pool);
      at = 0;
    }
    const out = pool.slice(at, at + n);
    at += n;
    return out;
  };
}
