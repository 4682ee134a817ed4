// IKEv1 engine: Main Mode, Aggressive Mode (pre-shared keys), Quick Mode (with/without PFS),
// Informational (DELETE, INITIAL-CONTACT, RESPONDER-LIFETIME, DPD R-U-THERE/ACK), retransmission
// with backoff, NAT-T detection and float to 4500. No I/O: datagrams in via receive(),
// datagrams out via drainOutbox(), results via drainEvents(), time via the injected clock and
// tick(). The socket layer adds/strips the non-ESP marker on port 4500.
import { randomBytes } from 'node:crypto';
import {
  DOI_IPSEC, ExchangeType, HeaderFlag, IKE_PORT, ISAKMP_HEADER_LENGTH, IdType, IsakmpDecodeError, NAT_T_PORT,
  NotifyType, PayloadType, ProtocolId, VENDOR_ID_DPD, VENDOR_ID_NAT_T_DRAFT_02N, VENDOR_ID_NAT_T_RFC3947,
  ZERO_COOKIE, bytesEqual, bytesToIpv4, concatBytes, decodeHeader, decodePayloadChain, encodeEncryptedMessage,
  encodeMessage, encodePayloadBody, encodePayloadChain, formatId, ipv4ToBytes, notifyTypeName, toHex, tlvNumber, tv,
  encodeAttributes, decodeAttributes, attrNumber, IpsecAttr, LifeType,
  type DecodedPayload, type IdPayload, type NotifyPayload, type Payload, type SaPayload,
} from '../../proto/ikev1/index.js';
import { createBlockCipher, createDh, isSupportedDhGroup, type DhKeyPair, type HashAlg } from '../crypto/index.js';
import { espCipherByName, hmacByName, ikeEncryptionByName, ikeHashByName, type IkeEncryptionSpec } from './algorithms.js';
import { emitDebug, type DebugContext, type IsakmpDebugSink } from './debug.js';
import {
  deriveSkeyids, encryptionKey, hash1, hash2, hash3, hashI, hashR, natdHash, phase1Iv, phase2Iv, quickModeKeymat,
  skeyidPsk, type Skeyids,
} from './keys.js';
import {
  findPreSharedKey, matchProfile, selfIdentity, type IsakmpProfileConfig, type PeerConfigInput, type PeerIdentity,
} from './peer-config.js';
import {
  acceptPhase1Reply, buildPhase1Sa, buildQuickModeSa, parseQuickModeOffer, proposalMatchesSet, selectPhase1,
  type IpsecProposalParams, type IsakmpPolicy, type Phase1Params, type TransformSet,
} from './policy.js';
import type { QuickModeResponderDecision, QuickModeResponderQuery } from './quick-mode-policy.js';
import { formatSelector, hostSelector, idToSelector, selectorEquals, selectorToId, type Selector } from './selectors.js';

export interface Endpoint {
  address: string;
  port: number;
}

export interface Datagram {
  data: Uint8Array;
  local: Endpoint;
  remote: Endpoint;
}

/** IOS `show crypto isakmp sa` states. */
export type IsakmpStateName =
  | 'MM_NO_STATE' | 'MM_SA_SETUP' | 'MM_KEY_EXCH' | 'AG_NO_STATE' | 'AG_INIT_EXCH' | 'QM_IDLE' | 'MM_NO_STATE(DELETED)';

export interface QuickModeRequest {
  localSel: Selector;
  remoteSel: Selector;
  transformSets: TransformSet[];
  pfsGroup?: number;
  lifetimeSec: number;
  lifetimeKb: number;
}

export interface InitiateOptions {
  local: Endpoint;
  remote: Endpoint;
  aggressive?: boolean;
  fvrf?: string;
  /** `set isakmp-profile` */
  profile?: string;
  quickMode?: QuickModeRequest;
}

export interface IpsecKeys {
  spi: number;
  encKey: Uint8Array;
  authKey: Uint8Array;
}

export interface IpsecSaInfo {
  connId: number;
  role: 'initiator' | 'responder';
  local: Endpoint;
  remote: Endpoint;
  protocol: 'esp' | 'ah';
  mode: 'tunnel' | 'transport';
  udpEncap: boolean;
  localSel: Selector;
  remoteSel: Selector;
  cipher?: string;
  keyLenBits?: number;
  integrity?: string;
  pfsGroup?: number;
  lifetimeSec: number;
  lifetimeKb: number;
  inbound: IpsecKeys;
  outbound: IpsecKeys;
}

export interface Phase1Info {
  connId: number;
  role: 'initiator' | 'responder';
  mode: 'main' | 'aggressive';
  local: Endpoint;
  remote: Endpoint;
  initiatorCookie: bigint;
  responderCookie: bigint;
  params: Phase1Params;
  peerId: string;
  profile?: string;
  natLocal: boolean;
  natRemote: boolean;
  dpd: boolean;
}

export type IkeV1Event =
  | { type: 'phase1-up'; sa: Phase1Info }
  | { type: 'phase1-failed'; connId: number; remote: Endpoint; reason: string; notifyType?: number }
  | { type: 'phase1-down'; connId: number; remote: Endpoint; reason: 'deleted-by-peer' | 'expired' | 'dpd' | 'cleared' | 'initial-contact' }
  | { type: 'ipsec-up'; sa: IpsecSaInfo }
  | { type: 'ipsec-failed'; connId: number; remote: Endpoint; reason: string; notifyType?: number }
  | { type: 'ipsec-deleted'; remote: Endpoint; protocol: 'esp' | 'ah'; inboundSpi: number; outboundSpi: number; reason: 'deleted-by-peer' | 'dpd' | 'cleared' | 'initial-contact' }
  | { type: 'peer-dead'; connId: number; remote: Endpoint }
  | { type: 'notify'; connId: number; remote: Endpoint; notifyType: number; name: string };

export interface IkeV1EngineOptions {
  now: () => number;
  random?: (n: number) => Uint8Array;
  /** effective policies in priority order (see effectivePolicies) */
  policies: IsakmpPolicy[];
  peerConfig: PeerConfigInput;
  /** responder side of quick mode (see selectQuickModeResponse) */
  quickModeResponder: (q: QuickModeResponderQuery) => QuickModeResponderDecision;
  debug?: IsakmpDebugSink;
  retransmit?: { initialMs?: number; factor?: number; maxTries?: number };
  /** max responder phase-1 negotiations in progress */
  halfOpenLimit?: number;
  halfOpenTimeoutMs?: number;
  /** `crypto isakmp keepalive SECONDS RETRY` */
  dpd?: { intervalSec: number; retrySec: number; maxRetries?: number };
  natTraversal?: boolean;
  /** pretend to be behind a NAT (fake NAT-D) so the peers float and encapsulate */
  forceEncap?: boolean;
  /** first conn-id to hand out */
  firstConnId?: number;
}

export interface EngineCounters {
  rxPackets: number;
  rxMalformed: number;
  rxDropped: number;
  rxRetransmits: number;
  txPackets: number;
  txRetransmits: number;
  halfOpenRejected: number;
}

interface Retx {
  datagram: Datagram;
  tries: number;
  nextAt: number;
}

interface Phase2 {
  msgId: number;
  kind: 'quick' | 'info';
  role: 'initiator' | 'responder';
  iv: Uint8Array;
  ni?: Uint8Array;
  nr?: Uint8Array;
  dh?: DhKeyPair;
  request?: QuickModeRequest;
  espSpi?: Uint8Array;
  ahSpi?: Uint8Array;
  accepted?: { params: IpsecProposalParams; lifetimeSec: number; lifetimeKb: number; localSel: Selector; remoteSel: Selector; gxy?: Uint8Array };
  done: boolean;
  lastRx?: Uint8Array;
  lastReply?: Datagram;
  retx?: Retx;
  createdAt: number;
}

interface Phase1 {
  connId: number;
  role: 'initiator' | 'responder';
  mode: 'main' | 'aggressive';
  state: IsakmpStateName;
  established: boolean;
  ckyI: Uint8Array;
  ckyR: Uint8Array;
  local: Endpoint;
  remote: Endpoint;
  fvrf?: string;
  profile?: IsakmpProfileConfig;
  offeredPolicies: IsakmpPolicy[];
  saiB?: Uint8Array;
  params?: Phase1Params;
  enc?: IkeEncryptionSpec;
  hash?: HashAlg;
  dh?: DhKeyPair;
  gxi?: Uint8Array;
  gxr?: Uint8Array;
  ni?: Uint8Array;
  nr?: Uint8Array;
  /** secret; never logged */
  psk?: string;
  keys?: Skeyids;
  encKey?: Uint8Array;
  iv?: Uint8Array;
  idI?: IdPayload;
  idR?: IdPayload;
  peerId: string;
  peerRfc3947: boolean;
  peerNatTDraft: boolean;
  peerDpd: boolean;
  natLocal: boolean;
  natRemote: boolean;
  lastRx?: Uint8Array;
  lastReply?: Datagram;
  retx?: Retx;
  exchanges: Map<number, Phase2>;
  pending: QuickModeRequest[];
  createdAt: number;
  expiresAt: number;
  lastHeardAt: number;
  dpdSeq: number;
  dpdOutstanding?: { seq: number; sentAt: number; tries: number };
  initialContactWanted: boolean;
}

interface IpsecRecord {
  info: IpsecSaInfo;
}

const VENDOR_IDS_OUT = [VENDOR_ID_NAT_T_RFC3947, VENDOR_ID_NAT_T_DRAFT_02N, VENDOR_ID_DPD];

export class IkeV1Engine {
  readonly counters: EngineCounters = { rxPackets: 0, rxMalformed: 0, rxDropped: 0, rxRetransmits: 0, txPackets: 0, txRetransmits: 0, halfOpenRejected: 0 };
  private readonly o: IkeV1EngineOptions;
  private readonly rnd: (n: number) => Uint8Array;
  private readonly sas = new Map<string, Phase1>();
  private readonly ipsec = new Map<number, IpsecRecord>();
  private outbox: Datagram[] = [];
  private events: IkeV1Event[] = [];
  private nextConnId: number;

  constructor(opts: IkeV1EngineOptions) {
    this.o = opts;
    this.rnd = opts.random ?? ((n) => new Uint8Array(randomBytes(n)));
    this.nextConnId = opts.firstConnId ?? 1001;
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
    let n = 0;
    for (const sa of this.sas.values()) if (!sa.established) n++;
    return n;
  }

  /** For `show crypto isakmp sa`. */
  listPhase1(): { connId: number; local: Endpoint; remote: Endpoint; state: IsakmpStateName; role: string; established: boolean; params?: Phase1Params; expiresAt: number }[] {
    return [...this.sas.values()].map((s) => ({
      connId: s.connId, local: s.local, remote: s.remote, state: s.state, role: s.role, established: s.established,
      ...(s.params ? { params: s.params } : {}), expiresAt: s.expiresAt,
    }));
  }

  listIpsec(): IpsecSaInfo[] {
    return [...this.ipsec.values()].map((r) => r.info);
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
      if (opts.quickMode) this.startQuickMode(existing, opts.quickMode);
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
    const ctx = this.dbg(sa, 0);
    const psk = findPreSharedKey(this.o.peerConfig, {
      localAddress: opts.local.address, peerAddress: opts.remote.address,
      ...(opts.fvrf ? { fvrf: opts.fvrf } : {}), ...(profile ? { keyrings: profile.keyrings } : {}),
    }, ctx);
    const policies = this.o.policies.filter((p) => p.authentication === 'pre-share' && isSupportedDhGroup(p.group));
    if (!psk || policies.length === 0) {
      this.fail1(sa, !psk ? 'no pre-shared key for peer' : 'no usable ISAKMP policy');
      return sa.connId;
    }
    sa.psk = psk.key;
    this.sas.set(this.key(sa), sa);
    sa.offeredPolicies = policies;
    const saPayload = buildPhase1Sa(policies);
    sa.saiB = encodePayloadBody(saPayload);
    emitDebug(ctx, `beginning ${sa.mode === 'main' ? 'Main' : 'Aggressive'} Mode exchange`);
    if (sa.mode === 'main') {
      sa.state = 'MM_NO_STATE';
      this.sendPlain(sa, ExchangeType.IDENTITY_PROTECTION, [saPayload, ...this.vids()], true);
    } else {
      sa.state = 'AG_NO_STATE';
      const group = policies[0]!.group;
      // Aggressive mode can carry only one DH group: offer the policies with the first policy's group.
      const same = policies.filter((p) => p.group === group);
      sa.offeredPolicies = same;
      const aggSa = buildPhase1Sa(same);
      sa.saiB = encodePayloadBody(aggSa);
      sa.dh = createDh(group);
      sa.gxi = sa.dh.publicKey;
      sa.ni = this.rnd(32);
      sa.idI = selfIdentity(this.o.peerConfig, profile, opts.local.address);
      this.sendPlain(sa, ExchangeType.AGGRESSIVE, [
        aggSa,
        { type: PayloadType.KE, keyData: sa.gxi },
        { type: PayloadType.NONCE, data: sa.ni },
        sa.idI,
        ...this.vids(),
      ], true);
    }
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
      this.sendInformational(sa, [{
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
      this.sendInformational(sa, [{ type: PayloadType.D, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spiSize: 16, spis: [concatBytes(sa.ckyI, sa.ckyR)] }]);
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
      if (!sa.established) consider(sa.createdAt + halfOpenMs);
      else consider(sa.expiresAt);
      for (const x of sa.exchanges.values()) {
        consider(x.retx?.nextAt);
        consider(x.createdAt + halfOpenMs);
      }
      if (sa.established && this.o.dpd && sa.peerDpd) {
        if (sa.dpdOutstanding) consider(sa.dpdOutstanding.sentAt + this.o.dpd.retrySec * 1000);
        else consider(sa.lastHeardAt + this.o.dpd.intervalSec * 1000);
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
      if (!sa.established && now >= sa.createdAt + halfOpenMs) {
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
      if (sa.established && this.o.dpd && sa.peerDpd) this.dpdTick(sa, now);
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

  private receiveInner(d: Datagram): void {
    const h = decodeHeader(d.data);
    const data = d.data.subarray(0, h.length);
    const zeroR = bytesEqual(h.responderCookie, ZERO_COOKIE);
    let sa = this.sas.get(this.cookieKey(h.initiatorCookie, h.responderCookie));
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
    if (!sa && zeroR) {
      // Retransmitted first message of a phase 1 we answer?
      for (const s of this.sas.values()) {
        if (s.role === 'responder' && bytesEqual(s.ckyI, h.initiatorCookie) && s.remote.address === d.remote.address) {
          sa = s;
          break;
        }
      }
    }
    if (!sa) {
      if (zeroR && h.messageId === 0 && (h.exchangeType === ExchangeType.IDENTITY_PROTECTION || h.exchangeType === ExchangeType.AGGRESSIVE) && !(h.flags & HeaderFlag.ENCRYPTION)) {
        this.respondPhase1Start(d, data, h.exchangeType);
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
    }
    // NAT-T float: the peer moved to 4500 (or its NAT mapping changed).
    if (d.local.port === NAT_T_PORT && sa.keys) {
      sa.local = { ...d.local };
      sa.remote = { ...d.remote };
    }
    switch (h.exchangeType) {
      case ExchangeType.IDENTITY_PROTECTION:
        if (h.messageId !== 0) return this.drop();
        return sa.role === 'initiator' ? this.mainInitiator(sa, d, data, h.flags) : this.mainResponder(sa, d, data, h.flags);
      case ExchangeType.AGGRESSIVE:
        if (h.messageId !== 0) return this.drop();
        return sa.role === 'initiator' ? this.aggInitiator(sa, d, data, h.flags) : this.aggResponder(sa, d, data, h.flags);
      case ExchangeType.QUICK_MODE:
        if (!sa.established || h.messageId === 0 || !(h.flags & HeaderFlag.ENCRYPTION)) return this.drop();
        return this.quickMode(sa, data, h.messageId);
      case ExchangeType.INFORMATIONAL:
        return this.informational(sa, data, h.messageId, h.flags);
      default:
        return this.drop();
    }
  }

  private drop(): void {
    this.counters.rxDropped++;
  }

  // ------------------------------------------------------------------ Main Mode

  private respondPhase1Start(d: Datagram, data: Uint8Array, exchangeType: number): void {
    const limit = this.o.halfOpenLimit ?? 256;
    if (this.halfOpenCount() >= limit) {
      this.counters.halfOpenRejected++;
      return;
    }
    const msg = this.decodePlain(data);
    const now = this.o.now();
    const mode = exchangeType === ExchangeType.AGGRESSIVE ? 'aggressive' : 'main';
    const sa = this.newPhase1('responder', mode, data.slice(0, 8), this.rnd(8), d.local, d.remote, now);
    const ctx = this.dbg(sa, 0);
    const saP = msg.find((p) => p.type === PayloadType.SA) as (SaPayload & DecodedPayload) | undefined;
    if (!saP) return this.drop();
    this.readVids(sa, msg);
    emitDebug(ctx, `processing SA payload. message ID = 0`);
    const choice = selectPhase1(saP, this.o.policies, isSupportedDhGroup);
    if ('reason' in choice) {
      emitDebug(ctx, `atts are not acceptable. Next payload is 0`, true);
      this.sendNotifyPlain(sa, exchangeType, NotifyType.NO_PROPOSAL_CHOSEN);
      this.events.push({ type: 'phase1-failed', connId: sa.connId, remote: sa.remote, reason: `no proposal chosen: ${choice.reason}`, notifyType: NotifyType.NO_PROPOSAL_CHOSEN });
      return;
    }
    emitDebug(ctx, `atts are acceptable. Next payload is 0`);
    emitDebug(ctx, `Checking ISAKMP transform against priority ${choice.policy.priority} policy`);
    sa.saiB = saP.body;
    this.setParams(sa, choice.params);
    sa.lastRx = data.slice();
    if (mode === 'main') {
      this.sas.set(this.key(sa), sa);
      sa.state = 'MM_SA_SETUP';
      this.sendPlain(sa, ExchangeType.IDENTITY_PROTECTION, [choice.sa, ...this.vids()], false);
      return;
    }
    // Aggressive mode message 1: SA, KE, Ni, IDii
    const ke = msg.find((p) => p.type === PayloadType.KE) as ({ keyData: Uint8Array } & DecodedPayload) | undefined;
    const nonce = msg.find((p) => p.type === PayloadType.NONCE) as ({ data: Uint8Array } & DecodedPayload) | undefined;
    const id = msg.find((p) => p.type === PayloadType.ID) as (IdPayload & DecodedPayload) | undefined;
    if (!ke || !nonce || !id || nonce.data.length < 8 || nonce.data.length > 256) return this.drop();
    sa.idI = stripId(id);
    sa.peerId = formatId(id);
    const peer = peerIdentity(id, d.remote.address);
    sa.profile = matchProfile(this.o.peerConfig, { localAddress: d.local.address, peer, peerAddress: d.remote.address }, this.dbg(sa, sa.connId));
    const psk = findPreSharedKey(this.o.peerConfig, {
      localAddress: d.local.address, peerAddress: d.remote.address,
      ...(peer.kind === 'fqdn' ? { peerHostname: peer.fqdn } : {}),
      ...(sa.profile && sa.profile.keyrings.length > 0 ? { keyrings: sa.profile.keyrings } : {}),
    }, ctx);
    if (!psk) {
      this.events.push({ type: 'phase1-failed', connId: sa.connId, remote: sa.remote, reason: 'no pre-shared key for peer' });
      return;
    }
    sa.psk = psk.key;
    sa.dh = createDh(sa.params!.group);
    sa.gxi = ke.keyData;
    sa.gxr = sa.dh.publicKey;
    sa.ni = nonce.data;
    sa.nr = this.rnd(32);
    if (!this.computeKeys(sa)) return;
    sa.idR = selfIdentity(this.o.peerConfig, sa.profile, d.local.address);
    const hr = hashR(sa.hash!, sa.keys!.skeyid, sa.gxi, sa.gxr, sa.ckyI, sa.ckyR, sa.saiB, encodePayloadBody(sa.idR));
    this.sas.set(this.key(sa), sa);
    sa.state = 'AG_INIT_EXCH';
    this.sendPlain(sa, ExchangeType.AGGRESSIVE, [
      choice.sa,
      { type: PayloadType.KE, keyData: sa.gxr },
      { type: PayloadType.NONCE, data: sa.nr },
      sa.idR,
      ...this.vids(),
      ...this.natdPayloads(sa),
      { type: PayloadType.HASH, data: hr },
    ], false);
  }

  private mainInitiator(sa: Phase1, d: Datagram, data: Uint8Array, flags: number): void {
    const ctx = this.dbg(sa, sa.connId);
    if (sa.state === 'MM_NO_STATE' && !(flags & HeaderFlag.ENCRYPTION)) {
      const msg = this.decodePlain(data);
      if (this.plainNotifyFailure(sa, msg)) return;
      const saP = msg.find((p) => p.type === PayloadType.SA) as SaPayload | undefined;
      if (!saP) return this.drop();
      const params = acceptPhase1Reply(saP, sa.offeredPolicies);
      if ('reason' in params) return this.fail1(sa, `bad SA reply: ${params.reason}`);
      this.readVids(sa, msg);
      this.setParams(sa, params);
      sa.dh = createDh(params.group);
      sa.gxi = sa.dh.publicKey;
      sa.ni = this.rnd(32);
      sa.lastRx = data.slice();
      sa.state = 'MM_SA_SETUP';
      emitDebug(ctx, 'SA has been authenticated with ' + sa.remote.address);
      this.sendPlain(sa, ExchangeType.IDENTITY_PROTECTION, [
        { type: PayloadType.KE, keyData: sa.gxi },
        { type: PayloadType.NONCE, data: sa.ni },
        ...this.natdPayloads(sa),
      ], true);
      return;
    }
    if (sa.state === 'MM_SA_SETUP' && !(flags & HeaderFlag.ENCRYPTION)) {
      const msg = this.decodePlain(data);
      if (this.plainNotifyFailure(sa, msg)) return;
      const ke = find<{ keyData: Uint8Array }>(msg, PayloadType.KE);
      const nonce = find<{ data: Uint8Array }>(msg, PayloadType.NONCE);
      if (!ke || !nonce || nonce.data.length < 8 || nonce.data.length > 256) return this.drop();
      sa.gxr = ke.keyData;
      sa.nr = nonce.data;
      if (!this.computeKeys(sa)) return this.fail1(sa, 'invalid key exchange data');
      this.checkNatd(sa, msg, d);
      sa.lastRx = data.slice();
      sa.state = 'MM_KEY_EXCH';
      this.floatIfNeeded(sa);
      sa.idI = selfIdentity(this.o.peerConfig, sa.profile, sa.local.address);
      const hi = hashI(sa.hash!, sa.keys!.skeyid, sa.gxi!, sa.gxr, sa.ckyI, sa.ckyR, sa.saiB!, encodePayloadBody(sa.idI));
      const payloads: Payload[] = [sa.idI, { type: PayloadType.HASH, data: hi }];
      if (sa.initialContactWanted) payloads.push(this.initialContact(sa));
      this.sendEncrypted1(sa, ExchangeType.IDENTITY_PROTECTION, payloads, true);
      return;
    }
    if (sa.state === 'MM_KEY_EXCH' && (flags & HeaderFlag.ENCRYPTION)) {
      const dec = this.decrypt1(sa, data);
      if (!dec) return this.drop();
      const id = find<IdPayload>(dec.payloads, PayloadType.ID);
      const hp = find<{ data: Uint8Array }>(dec.payloads, PayloadType.HASH);
      if (!id || !hp) return this.drop();
      const expect = hashR(sa.hash!, sa.keys!.skeyid, sa.gxi!, sa.gxr!, sa.ckyI, sa.ckyR, sa.saiB!, (id as unknown as DecodedPayload).body);
      if (!bytesEqual(expect, hp.data)) {
        emitDebug(ctx, 'phase 1 HASH_R does not verify (pre-shared key mismatch?)', true);
        return this.drop();
      }
      sa.iv = dec.nextIv;
      sa.idR = stripId(id);
      sa.peerId = formatId(id);
      sa.lastRx = data.slice();
      sa.retx = undefined;
      // MM6 ends the exchange: a duplicate of it must not trigger our MM5 again.
      sa.lastReply = undefined;
      this.established(sa);
      this.handleNotifies(sa, dec.payloads);
      return;
    }
    this.drop();
  }

  private mainResponder(sa: Phase1, d: Datagram, data: Uint8Array, flags: number): void {
    const ctx = this.dbg(sa, sa.connId);
    if (sa.state === 'MM_SA_SETUP' && !(flags & HeaderFlag.ENCRYPTION)) {
      const msg = this.decodePlain(data);
      const ke = find<{ keyData: Uint8Array }>(msg, PayloadType.KE);
      const nonce = find<{ data: Uint8Array }>(msg, PayloadType.NONCE);
      if (!ke || !nonce || nonce.data.length < 8 || nonce.data.length > 256) return this.drop();
      const psk = findPreSharedKey(this.o.peerConfig, {
        localAddress: d.local.address, peerAddress: d.remote.address, ...(sa.fvrf ? { fvrf: sa.fvrf } : {}),
      }, this.dbg(sa, 0));
      if (!psk) {
        this.events.push({ type: 'phase1-failed', connId: sa.connId, remote: sa.remote, reason: 'no pre-shared key for peer' });
        this.sas.delete(this.key(sa));
        return;
      }
      sa.psk = psk.key;
      sa.dh = createDh(sa.params!.group);
      sa.gxi = ke.keyData;
      sa.gxr = sa.dh.publicKey;
      sa.ni = nonce.data;
      sa.nr = this.rnd(32);
      if (!this.computeKeys(sa)) return this.drop();
      this.checkNatd(sa, msg, d);
      sa.lastRx = data.slice();
      sa.state = 'MM_KEY_EXCH';
      this.sendPlain(sa, ExchangeType.IDENTITY_PROTECTION, [
        { type: PayloadType.KE, keyData: sa.gxr },
        { type: PayloadType.NONCE, data: sa.nr },
        ...this.natdPayloads(sa),
      ], false);
      return;
    }
    if (sa.state === 'MM_KEY_EXCH' && (flags & HeaderFlag.ENCRYPTION)) {
      const dec = this.decrypt1(sa, data);
      const id = dec && find<IdPayload>(dec.payloads, PayloadType.ID);
      const hp = dec && find<{ data: Uint8Array }>(dec.payloads, PayloadType.HASH);
      if (!dec || !id || !hp) {
        emitDebug(ctx, `IKE message from ${d.remote.address} failed its sanity check or is malformed (pre-shared key mismatch?)`, true);
        this.fail1(sa, 'message 5 malformed: pre-shared key mismatch?');
        return;
      }
      const expect = hashI(sa.hash!, sa.keys!.skeyid, sa.gxi!, sa.gxr!, sa.ckyI, sa.ckyR, sa.saiB!, (id as unknown as DecodedPayload).body);
      if (!bytesEqual(expect, hp.data)) {
        emitDebug(ctx, 'phase 1 HASH_I does not verify (pre-shared key mismatch?)', true);
        this.fail1(sa, 'authentication failed: HASH_I mismatch');
        return;
      }
      sa.iv = dec.nextIv;
      sa.idI = stripId(id);
      sa.peerId = formatId(id);
      sa.lastRx = data.slice();
      const peer = peerIdentity(id, sa.remote.address);
      sa.profile = matchProfile(this.o.peerConfig, { localAddress: sa.local.address, peer, peerAddress: sa.remote.address, ...(sa.fvrf ? { fvrf: sa.fvrf } : {}) }, this.dbg(sa, sa.connId));
      sa.idR = selfIdentity(this.o.peerConfig, sa.profile, sa.local.address);
      const hr = hashR(sa.hash!, sa.keys!.skeyid, sa.gxi!, sa.gxr!, sa.ckyI, sa.ckyR, sa.saiB!, encodePayloadBody(sa.idR));
      this.sendEncrypted1(sa, ExchangeType.IDENTITY_PROTECTION, [sa.idR, { type: PayloadType.HASH, data: hr }], false);
      this.established(sa);
      this.handleNotifies(sa, dec.payloads);
      return;
    }
    this.drop();
  }

  // ------------------------------------------------------------------ Aggressive Mode

  private aggInitiator(sa: Phase1, d: Datagram, data: Uint8Array, flags: number): void {
    const ctx = this.dbg(sa, sa.connId);
    if (sa.state !== 'AG_NO_STATE' || (flags & HeaderFlag.ENCRYPTION)) return this.drop();
    const msg = this.decodePlain(data);
    if (this.plainNotifyFailure(sa, msg)) return;
    const saP = find<SaPayload>(msg, PayloadType.SA);
    const ke = find<{ keyData: Uint8Array }>(msg, PayloadType.KE);
    const nonce = find<{ data: Uint8Array }>(msg, PayloadType.NONCE);
    const id = find<IdPayload>(msg, PayloadType.ID);
    const hp = find<{ data: Uint8Array }>(msg, PayloadType.HASH);
    if (!saP || !ke || !nonce || !id || !hp || nonce.data.length < 8 || nonce.data.length > 256) return this.drop();
    const params = acceptPhase1Reply(saP, sa.offeredPolicies);
    if ('reason' in params) return this.fail1(sa, `bad SA reply: ${params.reason}`);
    if (params.group !== sa.dh!.group) return this.fail1(sa, 'responder chose another DH group');
    this.readVids(sa, msg);
    this.setParams(sa, params);
    sa.gxr = ke.keyData;
    sa.nr = nonce.data;
    if (!this.computeKeys(sa)) return this.fail1(sa, 'invalid key exchange data');
    const expect = hashR(sa.hash!, sa.keys!.skeyid, sa.gxi!, sa.gxr, sa.ckyI, sa.ckyR, sa.saiB!, (id as unknown as DecodedPayload).body);
    if (!bytesEqual(expect, hp.data)) {
      emitDebug(ctx, 'phase 1 HASH_R does not verify (pre-shared key mismatch?)', true);
      return this.fail1(sa, 'authentication failed: HASH_R mismatch');
    }
    sa.idR = stripId(id);
    sa.peerId = formatId(id);
    this.checkNatd(sa, msg, d);
    sa.lastRx = data.slice();
    this.floatIfNeeded(sa);
    const hi = hashI(sa.hash!, sa.keys!.skeyid, sa.gxi!, sa.gxr, sa.ckyI, sa.ckyR, sa.saiB!, encodePayloadBody(sa.idI!));
    const payloads: Payload[] = [{ type: PayloadType.HASH, data: hi }, ...this.natdPayloads(sa)];
    if (sa.initialContactWanted) payloads.push(this.initialContact(sa));
    this.sendEncrypted1(sa, ExchangeType.AGGRESSIVE, payloads, false);
    this.established(sa);
  }

  private aggResponder(sa: Phase1, d: Datagram, data: Uint8Array, flags: number): void {
    const ctx = this.dbg(sa, sa.connId);
    if (sa.state !== 'AG_INIT_EXCH') return this.drop();
    let payloads: DecodedPayload[];
    let nextIv = sa.iv!;
    if (flags & HeaderFlag.ENCRYPTION) {
      const dec = this.decrypt1(sa, data);
      if (!dec) {
        this.fail1(sa, 'message 3 malformed: pre-shared key mismatch?');
        return;
      }
      payloads = dec.payloads;
      nextIv = dec.nextIv;
    } else {
      payloads = this.decodePlain(data);
    }
    const hp = find<{ data: Uint8Array }>(payloads, PayloadType.HASH);
    if (!hp) return this.drop();
    const expect = hashI(sa.hash!, sa.keys!.skeyid, sa.gxi!, sa.gxr!, sa.ckyI, sa.ckyR, sa.saiB!, encodePayloadBody(sa.idI!));
    if (!bytesEqual(expect, hp.data)) {
      emitDebug(ctx, 'phase 1 HASH_I does not verify (pre-shared key mismatch?)', true);
      this.fail1(sa, 'authentication failed: HASH_I mismatch');
      return;
    }
    sa.iv = nextIv;
    this.checkNatd(sa, payloads, d);
    sa.lastRx = data.slice();
    // AM3 ends the exchange: a duplicate of it must not trigger our AM2 again.
    sa.lastReply = undefined;
    this.established(sa);
    this.handleNotifies(sa, payloads);
  }

  // ------------------------------------------------------------------ Quick Mode

  private startQuickMode(sa: Phase1, req: QuickModeRequest): void {
    const msgId = this.newMsgId(sa);
    const x: Phase2 = {
      msgId, kind: 'quick', role: 'initiator', iv: phase2Iv(sa.hash!, sa.iv!, msgId, sa.enc!.blockLen),
      ni: this.rnd(32), request: req, espSpi: this.newSpi(), ahSpi: this.newSpi(), done: false, createdAt: this.o.now(),
    };
    if (req.pfsGroup !== undefined) x.dh = createDh(req.pfsGroup);
    sa.exchanges.set(msgId, x);
    const udpEncap = sa.natLocal || sa.natRemote;
    const saPayload = buildQuickModeSa(req.transformSets, {
      espSpi: x.espSpi!, ahSpi: x.ahSpi!, udpEncap, rfc3947: sa.peerRfc3947,
      ...(req.pfsGroup !== undefined ? { pfsGroup: req.pfsGroup } : {}),
      lifetimeSec: req.lifetimeSec, lifetimeKb: req.lifetimeKb,
    });
    const rest: Payload[] = [saPayload, { type: PayloadType.NONCE, data: x.ni! }];
    if (x.dh) rest.push({ type: PayloadType.KE, keyData: x.dh.publicKey });
    rest.push(selectorToId(req.localSel), selectorToId(req.remoteSel));
    const restBytes = encodePayloadChain(rest).bytes;
    const h = hash1(sa.hash!, sa.keys!.a, msgId, restBytes);
    emitDebug(this.dbg(sa, sa.connId), `beginning Quick Mode exchange, M-ID of ${msgId}`);
    this.sendEncrypted2(sa, x, ExchangeType.QUICK_MODE, [{ type: PayloadType.HASH, data: h }, ...rest], true);
  }

  private quickMode(sa: Phase1, data: Uint8Array, msgId: number): void {
    let x = sa.exchanges.get(msgId);
    const ctx = this.dbg(sa, sa.connId);
    if (!x) {
      if (sa.exchanges.size >= 32) return this.drop();
      x = { msgId, kind: 'quick', role: 'responder', iv: phase2Iv(sa.hash!, sa.iv!, msgId, sa.enc!.blockLen), done: false, createdAt: this.o.now() };
      const dec = this.decrypt2(sa, x, data);
      if (!dec) return this.drop();
      const p = dec.payloads;
      if (p[0]?.type !== PayloadType.HASH || p.length < 3) return this.drop();
      const expect = hash1(sa.hash!, sa.keys!.a, msgId, dec.plain.subarray(p[1]!.start, p[p.length - 1]!.end));
      if (!bytesEqual(expect, (p[0] as unknown as { data: Uint8Array }).data)) {
        emitDebug(ctx, 'Quick Mode HASH(1) does not verify', true);
        return this.drop();
      }
      x.iv = dec.nextIv;
      x.lastRx = data.slice();
      sa.lastHeardAt = this.o.now();
      this.quickModeRespond(sa, x, p);
      return;
    }
    if (x.done && x.role === 'initiator') return this.drop();
    const dec = this.decrypt2(sa, x, data);
    if (!dec) return this.drop();
    const p = dec.payloads;
    if (p[0]?.type !== PayloadType.HASH) return this.drop();
    sa.lastHeardAt = this.o.now();
    if (x.role === 'initiator') {
      // HASH(2), SA, Nr, [KE], [IDci, IDcr], [N RESPONDER-LIFETIME]
      if (p.length < 3) return this.drop();
      const expect = hash2(sa.hash!, sa.keys!.a, msgId, x.ni!, dec.plain.subarray(p[1]!.start, p[p.length - 1]!.end));
      if (!bytesEqual(expect, (p[0] as unknown as { data: Uint8Array }).data)) return this.drop();
      x.iv = dec.nextIv;
      x.lastRx = data.slice();
      this.quickModeInitiatorFinish(sa, x, p);
      return;
    }
    // responder: HASH(3)
    const h3 = hash3(sa.hash!, sa.keys!.a, msgId, x.ni!, x.nr!);
    if (!bytesEqual(h3, (p[0] as unknown as { data: Uint8Array }).data)) return this.drop();
    x.lastRx = data.slice();
    x.retx = undefined;
    // HASH(3) ends the exchange: a duplicate of it must not trigger our HASH(2) message again.
    x.lastReply = undefined;
    if (!x.done) {
      x.done = true;
      this.installIpsec(sa, x);
    }
  }

  private quickModeRespond(sa: Phase1, x: Phase2, p: DecodedPayload[]): void {
    const ctx = this.dbg(sa, sa.connId);
    const saP = find<SaPayload>(p, PayloadType.SA);
    const nonce = find<{ data: Uint8Array }>(p, PayloadType.NONCE);
    const ke = find<{ keyData: Uint8Array }>(p, PayloadType.KE);
    const ids = p.filter((q) => q.type === PayloadType.ID) as unknown as (IdPayload & DecodedPayload)[];
    if (!saP || !nonce || nonce.data.length < 8 || nonce.data.length > 256 || (ids.length !== 0 && ids.length !== 2)) {
      return this.qmReject(sa, x, NotifyType.PAYLOAD_MALFORMED, 'malformed quick mode message');
    }
    x.ni = nonce.data;
    let remoteSel = hostSelector(sa.remote.address);
    let localSel = hostSelector(sa.local.address);
    if (ids.length === 2) {
      const ci = idToSelector(ids[0]!);
      const cr = idToSelector(ids[1]!);
      if (!ci || !cr) return this.qmReject(sa, x, NotifyType.INVALID_ID_INFORMATION, 'unsupported proxy identity');
      remoteSel = ci;
      localSel = cr;
    }
    const offers = parseQuickModeOffer(saP);
    const decision = this.o.quickModeResponder({ peerAddress: sa.remote.address, localAddress: sa.local.address, localSel, remoteSel, offers });
    if (!decision.accept) {
      emitDebug(ctx, `IPSec policy invalidated proposal with error ${decision.notifyType}: ${decision.reason} local=${formatSelector(localSel)} remote=${formatSelector(remoteSel)}`, true);
      return this.qmReject(sa, x, decision.notifyType, decision.reason);
    }
    const params = decision.alternative.params;
    if (params.pfsGroup !== undefined) {
      if (!ke || !isSupportedDhGroup(params.pfsGroup)) return this.qmReject(sa, x, NotifyType.NO_PROPOSAL_CHOSEN, 'PFS group without KE');
      x.dh = createDh(params.pfsGroup);
    } else if (ke) {
      return this.qmReject(sa, x, NotifyType.NO_PROPOSAL_CHOSEN, 'KE without PFS group');
    }
    let gxy: Uint8Array | undefined;
    if (x.dh) {
      try {
        gxy = x.dh.computeSecret(ke!.keyData);
      } catch {
        return this.qmReject(sa, x, NotifyType.INVALID_KEY_INFORMATION, 'bad PFS public value');
      }
    }
    x.nr = this.rnd(32);
    const mySpiFor = (proto: number): Uint8Array => this.newSpi(proto);
    const replyProposals = decision.alternative.reply.map((pr) => ({ ...pr, spi: mySpiFor(pr.protocolId) }));
    for (const pr of replyProposals) {
      if (pr.protocolId === ProtocolId.PROTO_IPSEC_ESP) x.espSpi = pr.spi;
      if (pr.protocolId === ProtocolId.PROTO_IPSEC_AH) x.ahSpi = pr.spi;
    }
    // Our answer carries our SPIs; the transforms are echoed with the negotiated lifetimes
    // left as offered (the RESPONDER-LIFETIME notify says when ours are shorter).
    x.accepted = { params, lifetimeSec: decision.lifetimeSec, lifetimeKb: decision.lifetimeKb, localSel, remoteSel, ...(gxy ? { gxy } : {}) };
    const rest: Payload[] = [
      { type: PayloadType.SA, doi: DOI_IPSEC, situation: saP.situation, proposals: replyProposals },
      { type: PayloadType.NONCE, data: x.nr },
    ];
    if (x.dh) rest.push({ type: PayloadType.KE, keyData: x.dh.publicKey });
    if (ids.length === 2) rest.push(stripId(ids[0]!), stripId(ids[1]!));
    if (decision.responderLifetime) {
      const attrs = encodeAttributes([
        tv(IpsecAttr.SA_LIFE_TYPE, LifeType.SECONDS), tlvNumber(IpsecAttr.SA_LIFE_DURATION, decision.lifetimeSec),
        tv(IpsecAttr.SA_LIFE_TYPE, LifeType.KILOBYTES), tlvNumber(IpsecAttr.SA_LIFE_DURATION, decision.lifetimeKb),
      ]);
      const first = replyProposals[replyProposals.length - 1]!;
      rest.push({ type: PayloadType.N, doi: DOI_IPSEC, protocolId: first.protocolId, spi: first.spi, notifyType: NotifyType.RESPONDER_LIFETIME, data: attrs });
    }
    const restBytes = encodePayloadChain(rest).bytes;
    const h = hash2(sa.hash!, sa.keys!.a, x.msgId, x.ni, restBytes);
    sa.exchanges.set(x.msgId, x);
    this.sendEncrypted2(sa, x, ExchangeType.QUICK_MODE, [{ type: PayloadType.HASH, data: h }, ...rest], true);
  }

  private qmReject(sa: Phase1, x: Phase2, notifyType: number, reason: string): void {
    this.events.push({ type: 'ipsec-failed', connId: sa.connId, remote: sa.remote, reason, notifyType });
    this.sendInformational(sa, [{ type: PayloadType.N, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spi: concatBytes(sa.ckyI, sa.ckyR), notifyType, data: new Uint8Array(0) }]);
    void x;
  }

  private quickModeInitiatorFinish(sa: Phase1, x: Phase2, p: DecodedPayload[]): void {
    const req = x.request!;
    const saP = find<SaPayload>(p, PayloadType.SA);
    const nonce = find<{ data: Uint8Array }>(p, PayloadType.NONCE);
    const ke = find<{ keyData: Uint8Array }>(p, PayloadType.KE);
    const fail = (reason: string): void => {
      sa.exchanges.delete(x.msgId);
      this.events.push({ type: 'ipsec-failed', connId: sa.connId, remote: sa.remote, reason });
    };
    if (!saP || !nonce || nonce.data.length < 8 || nonce.data.length > 256) return fail('malformed quick mode reply');
    const alts = parseQuickModeOffer(saP);
    if (alts.length !== 1) return fail('reply must hold exactly one proposal');
    const params = alts[0]!.params;
    if (!req.transformSets.some((ts) => proposalMatchesSet(params, ts))) return fail('reply is not one of our transform sets');
    if ((params.pfsGroup ?? undefined) !== req.pfsGroup) return fail('PFS group mismatch');
    let gxy: Uint8Array | undefined;
    if (x.dh) {
      if (!ke) return fail('missing KE in PFS reply');
      try {
        gxy = x.dh.computeSecret(ke.keyData);
      } catch {
        return fail('bad PFS public value');
      }
    }
    const ids = p.filter((q) => q.type === PayloadType.ID) as unknown as IdPayload[];
    if (ids.length === 2) {
      const ci = idToSelector(ids[0]!);
      const cr = idToSelector(ids[1]!);
      if (!ci || !cr || !selectorEquals(ci, req.localSel) || !selectorEquals(cr, req.remoteSel)) return fail('responder changed the proxy identities');
    }
    let lifetimeSec = Math.min(params.lifetimeSec ?? req.lifetimeSec, req.lifetimeSec);
    let lifetimeKb = Math.min(params.lifetimeKb ?? req.lifetimeKb, req.lifetimeKb);
    for (const n of p.filter((q) => q.type === PayloadType.N) as unknown as NotifyPayload[]) {
      if (n.notifyType !== NotifyType.RESPONDER_LIFETIME) continue;
      try {
        let lt: number | undefined;
        for (const a of decodeAttributes(n.data, 0)) {
          const v = attrNumber(a);
          if (v === undefined) continue;
          if (a.type === IpsecAttr.SA_LIFE_TYPE) lt = v;
          else if (a.type === IpsecAttr.SA_LIFE_DURATION) {
            if (lt === LifeType.SECONDS) lifetimeSec = Math.min(lifetimeSec, v);
            if (lt === LifeType.KILOBYTES) lifetimeKb = Math.min(lifetimeKb, v);
          }
        }
        emitDebug(this.dbg(sa, sa.connId), `processing RESPONDER_LIFETIME: ${lifetimeSec} seconds, ${lifetimeKb} kilobytes`);
      } catch {
        // a malformed RESPONDER-LIFETIME is ignored
      }
    }
    x.nr = nonce.data;
    x.accepted = { params, lifetimeSec, lifetimeKb, localSel: req.localSel, remoteSel: req.remoteSel, ...(gxy ? { gxy } : {}) };
    const h3 = hash3(sa.hash!, sa.keys!.a, x.msgId, x.ni!, x.nr);
    x.done = true;
    this.sendEncrypted2(sa, x, ExchangeType.QUICK_MODE, [{ type: PayloadType.HASH, data: h3 }], false);
    this.installIpsec(sa, x);
  }

  private installIpsec(sa: Phase1, x: Phase2): void {
    const acc = x.accepted!;
    const params = acc.params;
    const mk = (protocol: 'esp' | 'ah', mySpi: Uint8Array, peerSpi: Uint8Array): void => {
      let encLen = 0;
      let authLen = 0;
      let cipher: string | undefined;
      let keyLenBits: number | undefined;
      let integrity: string | undefined;
      if (protocol === 'esp') {
        const c = espCipherByName(params.esp!.cipher);
        encLen = c.keyLen(params.esp!.keyLenBits);
        cipher = params.esp!.cipher;
        if (params.esp!.keyLenBits !== undefined) keyLenBits = params.esp!.keyLenBits;
        if (params.esp!.integrity) {
          authLen = hmacByName(params.esp!.integrity).keyLen;
          integrity = params.esp!.integrity;
        }
      } else {
        authLen = hmacByName(params.ah!.integrity).keyLen;
        integrity = params.ah!.integrity;
      }
      const proto = protocol === 'esp' ? ProtocolId.PROTO_IPSEC_ESP : ProtocolId.PROTO_IPSEC_AH;
      const km = (spi: Uint8Array): Uint8Array => quickModeKeymat(sa.hash!, sa.keys!.d, acc.gxy, proto, spi, x.ni!, x.nr!, encLen + authLen);
      const kin = km(mySpi);
      const kout = km(peerSpi);
      const info: IpsecSaInfo = {
        connId: sa.connId, role: x.role, local: { ...sa.local }, remote: { ...sa.remote }, protocol,
        mode: params.mode, udpEncap: params.udpEncap, localSel: acc.localSel, remoteSel: acc.remoteSel,
        ...(cipher ? { cipher } : {}), ...(keyLenBits !== undefined ? { keyLenBits } : {}), ...(integrity ? { integrity } : {}),
        ...(params.pfsGroup !== undefined ? { pfsGroup: params.pfsGroup } : {}),
        lifetimeSec: acc.lifetimeSec, lifetimeKb: acc.lifetimeKb,
        inbound: { spi: readU32(mySpi), encKey: kin.slice(0, encLen), authKey: kin.slice(encLen) },
        outbound: { spi: readU32(peerSpi), encKey: kout.slice(0, encLen), authKey: kout.slice(encLen) },
      };
      this.ipsec.set(info.inbound.spi, { info });
      emitDebug({ ...this.dbg(sa, sa.connId), spi: String(info.inbound.spi) }, `IPsec SA created: ${protocol} inbound SPI 0x${info.inbound.spi.toString(16).toUpperCase()}, outbound SPI 0x${info.outbound.spi.toString(16).toUpperCase()}`);
      this.events.push({ type: 'ipsec-up', sa: info });
    };
    if (params.esp) mk('esp', x.espSpi!, params.esp.spi);
    if (params.ah) mk('ah', x.ahSpi!, params.ah.spi);
  }

  // ------------------------------------------------------------------ Informational

  private informational(sa: Phase1, data: Uint8Array, msgId: number, flags: number): void {
    if (!(flags & HeaderFlag.ENCRYPTION)) {
      // Unauthenticated notify: only act on errors for a phase 1 we are still negotiating.
      if (sa.established) return this.drop();
      const msg = this.decodePlain(data);
      this.plainNotifyFailure(sa, msg);
      return;
    }
    if (!sa.keys || !sa.iv || msgId === 0) return this.drop();
    const x: Phase2 = { msgId, kind: 'info', role: 'responder', iv: phase2Iv(sa.hash!, sa.iv, msgId, sa.enc!.blockLen), done: true, createdAt: this.o.now() };
    const dec = this.decrypt2(sa, x, data);
    if (!dec) return this.drop();
    const p = dec.payloads;
    if (p[0]?.type !== PayloadType.HASH || p.length < 2) return this.drop();
    const expect = hash1(sa.hash!, sa.keys.a, msgId, dec.plain.subarray(p[1]!.start, p[p.length - 1]!.end));
    if (!bytesEqual(expect, (p[0] as unknown as { data: Uint8Array }).data)) return this.drop();
    sa.lastHeardAt = this.o.now();
    this.handleNotifies(sa, p);
    for (const q of p) {
      if (q.type !== PayloadType.D) continue;
      const del = q as unknown as { protocolId: number; spis: Uint8Array[] };
      if (del.protocolId === ProtocolId.PROTO_ISAKMP) {
        if (del.spis.some((s) => s.length === 16 && bytesEqual(s.subarray(0, 8), sa.ckyI) && bytesEqual(s.subarray(8), sa.ckyR))) {
          emitDebug(this.dbg(sa, sa.connId), 'peer deleted the ISAKMP SA');
          this.removePhase1(sa, 'deleted-by-peer', false);
          return;
        }
      } else {
        for (const s of del.spis) {
          if (s.length !== 4) continue;
          const out = readU32(s);
          for (const [inSpi, rec] of [...this.ipsec]) {
            if (rec.info.outbound.spi === out && rec.info.remote.address === sa.remote.address) {
              this.ipsec.delete(inSpi);
              this.events.push({ type: 'ipsec-deleted', remote: rec.info.remote, protocol: rec.info.protocol, inboundSpi: inSpi, outboundSpi: out, reason: 'deleted-by-peer' });
            }
          }
        }
      }
    }
  }

  private handleNotifies(sa: Phase1, p: DecodedPayload[]): void {
    for (const q of p) {
      if (q.type !== PayloadType.N) continue;
      const n = q as unknown as NotifyPayload;
      switch (n.notifyType) {
        case NotifyType.INITIAL_CONTACT:
          this.initialContactReceived(sa);
          break;
        case NotifyType.R_U_THERE:
          if (n.data.length === 4 && n.spi.length === 16) {
            this.sendInformational(sa, [{ type: PayloadType.N, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spi: concatBytes(sa.ckyI, sa.ckyR), notifyType: NotifyType.R_U_THERE_ACK, data: n.data }]);
          }
          break;
        case NotifyType.R_U_THERE_ACK:
          if (n.data.length === 4 && sa.dpdOutstanding && readU32(n.data) === sa.dpdOutstanding.seq) sa.dpdOutstanding = undefined;
          break;
        default:
          this.events.push({ type: 'notify', connId: sa.connId, remote: sa.remote, notifyType: n.notifyType, name: notifyTypeName(n.notifyType) });
          if (n.notifyType < 16384) {
            for (const x of [...sa.exchanges.values()]) {
              if (x.kind === 'quick' && x.role === 'initiator' && !x.done) {
                sa.exchanges.delete(x.msgId);
                this.events.push({ type: 'ipsec-failed', connId: sa.connId, remote: sa.remote, reason: notifyTypeName(n.notifyType), notifyType: n.notifyType });
              }
            }
          }
      }
    }
  }

  private initialContactReceived(sa: Phase1): void {
    emitDebug(this.dbg(sa, sa.connId), 'received INITIAL-CONTACT: deleting old SAs with this peer');
    for (const other of [...this.sas.values()]) {
      if (other !== sa && other.remote.address === sa.remote.address && other.established) this.removePhase1(other, 'initial-contact', false);
    }
    for (const [spi, rec] of [...this.ipsec]) {
      if (rec.info.remote.address === sa.remote.address && rec.info.connId !== sa.connId) {
        this.ipsec.delete(spi);
        this.events.push({ type: 'ipsec-deleted', remote: rec.info.remote, protocol: rec.info.protocol, inboundSpi: spi, outboundSpi: rec.info.outbound.spi, reason: 'initial-contact' });
      }
    }
  }

  private dpdTick(sa: Phase1, now: number): void {
    const dpd = this.o.dpd!;
    const max = dpd.maxRetries ?? 5;
    if (sa.dpdOutstanding) {
      if (now < sa.dpdOutstanding.sentAt + dpd.retrySec * 1000) return;
      if (sa.dpdOutstanding.tries > max) {
        emitDebug(this.dbg(sa, sa.connId), `DPD: peer ${sa.remote.address} not responding, declaring it dead`, true);
        this.events.push({ type: 'peer-dead', connId: sa.connId, remote: sa.remote });
        for (const [spi, rec] of [...this.ipsec]) {
          if (rec.info.remote.address === sa.remote.address) {
            this.ipsec.delete(spi);
            this.events.push({ type: 'ipsec-deleted', remote: rec.info.remote, protocol: rec.info.protocol, inboundSpi: spi, outboundSpi: rec.info.outbound.spi, reason: 'dpd' });
          }
        }
        this.removePhase1(sa, 'dpd', false);
        return;
      }
      this.sendDpd(sa, now, sa.dpdOutstanding.tries + 1);
      return;
    }
    if (now >= sa.lastHeardAt + dpd.intervalSec * 1000) this.sendDpd(sa, now, 1);
  }

  private sendDpd(sa: Phase1, now: number, tries: number): void {
    sa.dpdSeq = (sa.dpdSeq + 1) >>> 0;
    sa.dpdOutstanding = { seq: sa.dpdSeq, sentAt: now, tries };
    emitDebug(this.dbg(sa, sa.connId), `DPD/R_U_THERE sequence ${sa.dpdSeq} sent`);
    this.sendInformational(sa, [{ type: PayloadType.N, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spi: concatBytes(sa.ckyI, sa.ckyR), notifyType: NotifyType.R_U_THERE, data: u32bytes(sa.dpdSeq) }]);
  }

  private sendInformational(sa: Phase1, body: Payload[]): void {
    if (!sa.keys || !sa.iv) return;
    const msgId = this.newMsgId(sa);
    const x: Phase2 = { msgId, kind: 'info', role: 'initiator', iv: phase2Iv(sa.hash!, sa.iv, msgId, sa.enc!.blockLen), done: true, createdAt: this.o.now() };
    const restBytes = encodePayloadChain(body).bytes;
    const h = hash1(sa.hash!, sa.keys.a, msgId, restBytes);
    this.sendEncrypted2(sa, x, ExchangeType.INFORMATIONAL, [{ type: PayloadType.HASH, data: h }, ...body], false);
  }

  // ------------------------------------------------------------------ helpers: SA lifecycle

  private newPhase1(role: 'initiator' | 'responder', mode: 'main' | 'aggressive', ckyI: Uint8Array, ckyR: Uint8Array, local: Endpoint, remote: Endpoint, now: number): Phase1 {
    return {
      connId: this.nextConnId++, role, mode, state: mode === 'main' ? 'MM_NO_STATE' : 'AG_NO_STATE', established: false,
      ckyI, ckyR, local: { ...local }, remote: { ...remote }, offeredPolicies: [], peerId: remote.address,
      peerRfc3947: false, peerNatTDraft: false, peerDpd: false, natLocal: false, natRemote: false,
      exchanges: new Map(), pending: [], createdAt: now, expiresAt: Number.POSITIVE_INFINITY, lastHeardAt: now,
      dpdSeq: readU32(this.rnd(4)) & 0x7fffffff, initialContactWanted: false,
    };
  }

  private established(sa: Phase1): void {
    const now = this.o.now();
    sa.established = true;
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
    for (const req of pend) this.startQuickMode(sa, req);
  }

  private fail1(sa: Phase1, reason: string, notifyType?: number): void {
    this.sas.delete(this.key(sa));
    this.events.push({ type: 'phase1-failed', connId: sa.connId, remote: sa.remote, reason, ...(notifyType !== undefined ? { notifyType } : {}) });
    for (const _ of sa.pending) this.events.push({ type: 'ipsec-failed', connId: sa.connId, remote: sa.remote, reason: `phase 1 failed: ${reason}` });
    sa.pending = [];
  }

  private removePhase1(sa: Phase1, reason: 'deleted-by-peer' | 'expired' | 'dpd' | 'cleared' | 'initial-contact', _sendDelete = false): void {
    if (!this.sas.delete(this.key(sa))) return;
    sa.state = 'MM_NO_STATE(DELETED)';
    this.events.push({ type: 'phase1-down', connId: sa.connId, remote: sa.remote, reason });
  }

  private findEstablished(remote: string, local: string): Phase1 | undefined {
    let best: Phase1 | undefined;
    for (const sa of this.sas.values()) {
      if (sa.established && sa.remote.address === remote && sa.local.address === local && (!best || sa.createdAt >= best.createdAt)) best = sa;
    }
    return best;
  }

  private setParams(sa: Phase1, params: Phase1Params): void {
    sa.params = params;
    sa.enc = ikeEncryptionByName(params.encryption);
    sa.hash = ikeHashByName(params.hash).hash;
  }

  private computeKeys(sa: Phase1): boolean {
    let gxy: Uint8Array;
    try {
      gxy = sa.dh!.computeSecret(sa.role === 'initiator' ? sa.gxr! : sa.gxi!);
    } catch {
      return false;
    }
    const h = sa.hash!;
    const skeyid = skeyidPsk(h, new TextEncoder().encode(sa.psk!), sa.ni!, sa.nr!);
    sa.keys = deriveSkeyids(h, skeyid, gxy, sa.ckyI, sa.ckyR);
    sa.encKey = encryptionKey(h, sa.keys.e, sa.enc!.keyLen);
    sa.iv = phase1Iv(h, sa.gxi!, sa.gxr!, sa.enc!.blockLen);
    // Is there an older SA with this peer? If not, tell it INITIAL-CONTACT.
    sa.initialContactWanted = ![...this.sas.values()].some((o) => o !== sa && o.established && o.remote.address === sa.remote.address);
    return true;
  }

  private key(sa: Phase1): string {
    return this.cookieKey(sa.ckyI, sa.ckyR);
  }

  private cookieKey(i: Uint8Array, r: Uint8Array): string {
    return toHex(i) + toHex(r);
  }

  private dbg(sa: Phase1, connId: number): DebugContext {
    return {
      now: this.o.now, ...(this.o.debug ? { sink: this.o.debug } : {}), connId, peer: sa.remote.address,
      spi: toHex(sa.ckyI) + toHex(sa.ckyR), ...(sa.fvrf ? { fvrf: sa.fvrf } : {}), ...(sa.profile?.vrf ? { ivrf: sa.profile.vrf } : {}),
    };
  }

  private newMsgId(sa: Phase1): number {
    for (;;) {
      const id = readU32(this.rnd(4));
      if (id !== 0 && !sa.exchanges.has(id)) return id;
    }
  }

  private newSpi(_proto?: number): Uint8Array {
    for (;;) {
      const s = this.rnd(4);
      const v = readU32(s);
      if (v >= 256 && !this.ipsec.has(v)) return s;
    }
  }

  // ------------------------------------------------------------------ helpers: NAT-T, VIDs

  private vids(): Payload[] {
    const out: Payload[] = [];
    for (const v of VENDOR_IDS_OUT) {
      if (v !== VENDOR_ID_DPD && this.o.natTraversal === false) continue;
      out.push({ type: PayloadType.VID, data: v });
    }
    return out;
  }

  private readVids(sa: Phase1, msg: DecodedPayload[]): void {
    for (const p of msg) {
      if (p.type !== PayloadType.VID) continue;
      const data = (p as unknown as { data: Uint8Array }).data;
      if (bytesEqual(data, VENDOR_ID_NAT_T_RFC3947)) sa.peerRfc3947 = true;
      else if (bytesEqual(data, VENDOR_ID_NAT_T_DRAFT_02N)) sa.peerNatTDraft = true;
      else if (bytesEqual(data, VENDOR_ID_DPD)) sa.peerDpd = true;
    }
    if (this.o.natTraversal === false) {
      sa.peerRfc3947 = false;
      sa.peerNatTDraft = false;
    }
  }

  private natdPayloads(sa: Phase1): Payload[] {
    if (!sa.peerRfc3947 && !sa.peerNatTDraft) return [];
    const type = sa.peerRfc3947 ? PayloadType.NAT_D : PayloadType.NAT_D_DRAFT;
    const ckyR = sa.ckyR;
    const remote = natdHash(sa.hash!, sa.ckyI, ckyR, ipv4ToBytes(sa.remote.address), sa.remote.port);
    let local = natdHash(sa.hash!, sa.ckyI, ckyR, ipv4ToBytes(sa.local.address), sa.local.port);
    if (this.o.forceEncap) local = this.rnd(local.length);
    return [{ type, data: remote }, { type, data: local }];
  }

  private checkNatd(sa: Phase1, msg: DecodedPayload[], d: Datagram): void {
    const natd = msg.filter((p) => p.type === PayloadType.NAT_D || p.type === PayloadType.NAT_D_DRAFT) as unknown as { data: Uint8Array }[];
    if (natd.length < 2 || (!sa.peerRfc3947 && !sa.peerNatTDraft)) return;
    const h = sa.hash!;
    const mine = natdHash(h, sa.ckyI, sa.ckyR, ipv4ToBytes(d.local.address), d.local.port);
    const theirs = natdHash(h, sa.ckyI, sa.ckyR, ipv4ToBytes(d.remote.address), d.remote.port);
    sa.natLocal = !bytesEqual(natd[0]!.data, mine) || !!this.o.forceEncap;
    sa.natRemote = !natd.slice(1).some((n) => bytesEqual(n.data, theirs));
    if (sa.natLocal || sa.natRemote) {
      emitDebug(this.dbg(sa, sa.connId), `NAT found: ${sa.natLocal ? 'local side' : ''}${sa.natLocal && sa.natRemote ? ' and ' : ''}${sa.natRemote ? 'peer' : ''} behind NAT`);
    }
  }

  private floatIfNeeded(sa: Phase1): void {
    if ((sa.natLocal || sa.natRemote) && sa.local.port !== NAT_T_PORT) {
      sa.local = { ...sa.local, port: NAT_T_PORT };
      sa.remote = { ...sa.remote, port: NAT_T_PORT };
      emitDebug(this.dbg(sa, sa.connId), `floating to port ${NAT_T_PORT}`);
    }
  }

  private initialContact(sa: Phase1): Payload {
    return { type: PayloadType.N, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spi: concatBytes(sa.ckyI, sa.ckyR), notifyType: NotifyType.INITIAL_CONTACT, data: new Uint8Array(0) };
  }

  // ------------------------------------------------------------------ helpers: send/receive

  private decodePlain(data: Uint8Array): DecodedPayload[] {
    const h = decodeHeader(data);
    return decodePayloadChain(data.subarray(ISAKMP_HEADER_LENGTH, h.length), h.nextPayload, ISAKMP_HEADER_LENGTH);
  }

  private plainNotifyFailure(sa: Phase1, msg: DecodedPayload[]): boolean {
    const n = msg.find((p) => p.type === PayloadType.N) as unknown as NotifyPayload | undefined;
    if (!n || n.notifyType >= 16384) return false;
    this.fail1(sa, `peer refused: ${notifyTypeName(n.notifyType)}`, n.notifyType);
    return true;
  }

  private emit(d: Datagram, retransmit = false): void {
    this.outbox.push({ data: d.data, local: { ...d.local }, remote: { ...d.remote } });
    this.counters.txPackets++;
    if (retransmit) this.counters.txRetransmits++;
  }

  private retransmit(r: Retx, now: number): boolean {
    const max = this.o.retransmit?.maxTries ?? 5;
    if (r.tries >= max) return false;
    r.tries++;
    const base = this.o.retransmit?.initialMs ?? 2000;
    const factor = this.o.retransmit?.factor ?? 2;
    r.nextAt = now + base * factor ** r.tries;
    this.emit(r.datagram, true);
    return true;
  }

  private armRetx(d: Datagram): Retx {
    return { datagram: d, tries: 0, nextAt: this.o.now() + (this.o.retransmit?.initialMs ?? 2000) };
  }

  private sendNotifyPlain(sa: Phase1, _exchangeType: number, notifyType: number): void {
    const data = encodeMessage(
      { initiatorCookie: sa.ckyI, responderCookie: sa.ckyR, exchangeType: ExchangeType.INFORMATIONAL, flags: 0, messageId: 0 },
      [{ type: PayloadType.N, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spi: concatBytes(sa.ckyI, sa.ckyR), notifyType, data: new Uint8Array(0) }],
    );
    this.emit({ data, local: sa.local, remote: sa.remote });
  }

  private sendPlain(sa: Phase1, exchangeType: number, payloads: Payload[], expectReply: boolean): void {
    const data = encodeMessage({ initiatorCookie: sa.ckyI, responderCookie: sa.ckyR, exchangeType, flags: 0, messageId: 0 }, payloads);
    const d: Datagram = { data, local: { ...sa.local }, remote: { ...sa.remote } };
    this.emit(d);
    sa.lastReply = d;
    sa.retx = expectReply ? this.armRetx(d) : undefined;
  }

  private encryptBody(sa: Phase1, iv: Uint8Array, payloads: Payload[]): { first: number; ct: Uint8Array; nextIv: Uint8Array } {
    const { firstType, bytes } = encodePayloadChain(payloads);
    const bl = sa.enc!.blockLen;
    const padded = new Uint8Array(Math.ceil((bytes.length + 1) / bl) * bl);
    padded.set(bytes);
    const ct = createBlockCipher(sa.enc!.cipher).encrypt(sa.encKey!, iv, padded);
    return { first: firstType, ct, nextIv: ct.slice(ct.length - bl) };
  }

  private sendEncrypted1(sa: Phase1, exchangeType: number, payloads: Payload[], expectReply: boolean): void {
    const { first, ct, nextIv } = this.encryptBody(sa, sa.iv!, payloads);
    sa.iv = nextIv;
    const data = encodeEncryptedMessage({ initiatorCookie: sa.ckyI, responderCookie: sa.ckyR, exchangeType, flags: 0, messageId: 0 }, first, ct);
    const d: Datagram = { data, local: { ...sa.local }, remote: { ...sa.remote } };
    this.emit(d);
    sa.lastReply = d;
    sa.retx = expectReply ? this.armRetx(d) : undefined;
  }

  private sendEncrypted2(sa: Phase1, x: Phase2, exchangeType: number, payloads: Payload[], expectReply: boolean): void {
    const { first, ct, nextIv } = this.encryptBody(sa, x.iv, payloads);
    x.iv = nextIv;
    const data = encodeEncryptedMessage({ initiatorCookie: sa.ckyI, responderCookie: sa.ckyR, exchangeType, flags: 0, messageId: x.msgId }, first, ct);
    const d: Datagram = { data, local: { ...sa.local }, remote: { ...sa.remote } };
    this.emit(d);
    x.lastReply = d;
    x.retx = expectReply ? this.armRetx(d) : undefined;
  }

  private decryptWith(sa: Phase1, iv: Uint8Array, data: Uint8Array): { payloads: DecodedPayload[]; plain: Uint8Array; nextIv: Uint8Array } | undefined {
    const h = decodeHeader(data);
    const ct = data.subarray(ISAKMP_HEADER_LENGTH, h.length);
    const bl = sa.enc!.blockLen;
    if (ct.length === 0 || ct.length % bl !== 0) return undefined;
    const plain = createBlockCipher(sa.enc!.cipher).decrypt(sa.encKey!, iv, ct);
    try {
      const payloads = decodePayloadChain(plain, h.nextPayload, ISAKMP_HEADER_LENGTH, true);
      return { payloads, plain, nextIv: ct.slice(ct.length - bl) };
    } catch {
      return undefined;
    }
  }

  private decrypt1(sa: Phase1, data: Uint8Array): { payloads: DecodedPayload[]; plain: Uint8Array; nextIv: Uint8Array } | undefined {
    if (!sa.keys || !sa.iv) return undefined;
    return this.decryptWith(sa, sa.iv, data);
  }

  private decrypt2(sa: Phase1, x: Phase2, data: Uint8Array): { payloads: DecodedPayload[]; plain: Uint8Array; nextIv: Uint8Array } | undefined {
    return this.decryptWith(sa, x.iv, data);
  }
}

// ------------------------------------------------------------------ free helpers

function find<T>(msg: DecodedPayload[], type: number): (T & DecodedPayload) | undefined {
  return msg.find((p) => p.type === type && !('unknown' in p)) as (T & DecodedPayload) | undefined;
}

function stripId(id: IdPayload): IdPayload {
  return { type: PayloadType.ID, idType: id.idType, protocolId: id.protocolId, port: id.port, data: id.data };
}

function peerIdentity(id: IdPayload, fallback: string): PeerIdentity {
  if (id.idType === IdType.ID_IPV4_ADDR && id.data.length === 4) return { kind: 'address', address: bytesToIpv4(id.data) };
  if (id.idType === IdType.ID_FQDN) return { kind: 'fqdn', fqdn: formatId(id) };
  if (id.idType === IdType.ID_USER_FQDN) return { kind: 'user-fqdn', userFqdn: formatId(id) };
  return { kind: 'address', address: fallback };
}

function readU32(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
}

function readU64(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
}

function u32bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0);
  return b;
}

export { IKE_PORT, NAT_T_PORT };
