// Engine-wide types: endpoints, datagrams, events, options and the SA records.
import type { HashAlg } from '../crypto/index.js';
import type { IkeEncryptionSpec } from './algorithms.js';
import type { IsakmpDebugSink } from './debug.js';
import type { Skeyids } from './keys.js';
import type { IsakmpProfileConfig, PeerConfigInput } from './peer-config.js';
import type { IsakmpPolicy, Phase1Params, TransformSet } from './policy.js';
import type { QuickModeResponderDecision, QuickModeResponderQuery } from './quick-mode-policy.js';
import type { Selector } from './selectors.js';
import type { MessageIdMemory } from './message-id-memory.js';
import type { V1Task } from './task.js';

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
  /** phase-1 negotiations in progress, both roles (`crypto call admission limit ike in-negotiation-sa`, default 256) */
  halfOpenLimit?: number;
  halfOpenTimeoutMs?: number;
  /** `crypto call admission limit ike sa N`: ISAKMP SAs (up or negotiating); absent: no limit */
  saLimit?: number;
  /** half-open responder negotiations per source address (default 8) */
  perSourceHalfOpenLimit?: number;
  /** lifetime of a negotiation the peer never answered, while half the limit is used (default 5 s) */
  pressureTimeoutMs?: number;
  /**
   * `crypto isakmp keepalive SECONDS [RETRY] [periodic|on-demand]`. periodic: R-U-THERE when
   * nothing was heard from the peer for SECONDS; on-demand (IOS default): only when we also
   * sent traffic to the peer since we last heard from it (see noteOutboundTraffic).
   * `mode` defaults to 'periodic' here; map IOS's default (on-demand) explicitly.
   */
  dpd?: { intervalSec: number; retrySec: number; maxRetries?: number; mode?: 'periodic' | 'on-demand' };
  natTraversal?: boolean;
  /** pretend to be behind a NAT (fake NAT-D) so the peers float and encapsulate */
  forceEncap?: boolean;
  /** first conn-id to hand out */
  firstConnId?: number;
  /** message IDs remembered per ISAKMP SA for replay detection (default 16384) */
  messageIdMemory?: number;
}

export interface EngineCounters {
  rxPackets: number;
  rxMalformed: number;
  rxDropped: number;
  rxRetransmits: number;
  txPackets: number;
  txRetransmits: number;
  halfOpenRejected: number;
  /** messages dropped because their message ID was already used on the ISAKMP SA */
  rxReplays: number;
}

export interface Retx {
  datagram: Datagram;
  tries: number;
  nextAt: number;
}

/** A phase-2 exchange (quick mode or informational) as the engine tracks it: message ID, IV chain, retransmission. */
export interface Phase2 {
  msgId: number;
  kind: 'quick' | 'info';
  role: 'initiator' | 'responder';
  iv: Uint8Array;
  /** the quick mode's own state (tasks/quick-mode.ts) */
  task?: V1Task;
  done: boolean;
  lastRx?: Uint8Array;
  lastReply?: Datagram;
  retx?: Retx;
  createdAt: number;
}

export interface Phase1 {
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
  /** the Main or Aggressive Mode task while negotiating (its keying material goes with it) */
  task?: V1Task;
  params?: Phase1Params;
  enc?: IkeEncryptionSpec;
  hash?: HashAlg;
  keys?: Skeyids;
  encKey?: Uint8Array;
  iv?: Uint8Array;
  peerId: string;
  /** ID type of the identity the peer sent (undefined until its ID payload arrived) */
  peerIdType?: number;
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
  lastSentTrafficAt: number;
  dpdSeq: number;
  dpdOutstanding?: { seq: number; sentAt: number; tries: number };
  initialContactWanted: boolean;
  /** responder: the peer sent a second message with our responder cookie (not a spoofed source) */
  proven?: boolean;
  /** responder admitted under pressure: dropped at this time unless proven (call admission) */
  unansweredDeadline?: number;
  /** every phase-2 message ID used on this SA, for replay detection */
  msgIds: MessageIdMemory;
}

export interface IpsecRecord {
  info: IpsecSaInfo;
}

