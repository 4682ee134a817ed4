// Plain typed configuration of the IKEv2 core. The daemon maps the IOS model
// (crypto ikev2 proposal/policy/keyring/profile, crypto maps, transform sets) to these.

/** IKE / ESP encryption, as in IOS `encryption ...` and transform-set names. */
export type Ikev2EncrName =
  | 'aes-cbc-128' | 'aes-cbc-192' | 'aes-cbc-256'
  | 'aes-gcm-128' | 'aes-gcm-192' | 'aes-gcm-256' // 16-byte ICV (ENCR_AES_GCM_16)
  | '3des' | 'des';

/** Integrity, as in IOS `integrity ...`. Empty list with AES-GCM. */
export type Ikev2IntegName = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'aes-xcbc';

/** PRF, as in IOS `prf ...`. */
export type Ikev2PrfName = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512' | 'aes-xcbc';

/** One IKE SA proposal (an IOS `crypto ikev2 proposal`): every listed algorithm is acceptable. */
export interface IkeProposalConfig {
  /** For diagnosis output (IOS proposal name). */
  name?: string;
  encryption: Ikev2EncrName[];
  /** Required for non-AEAD encryption; must be empty or omitted for AES-GCM only proposals. */
  integrity?: Ikev2IntegName[];
  /** Default: derived from integrity (sha256 -> prf sha256, ...), sha256 for AEAD. */
  prf?: Ikev2PrfName[];
  /** DH groups, first is the one sent in KEi. */
  dhGroups: number[];
}

/** One Child SA (ESP) proposal (an IOS transform set). */
export interface ChildProposalConfig {
  name?: string;
  encryption: Ikev2EncrName[];
  integrity?: Ikev2IntegName[];
  /** Offer/accept extended sequence numbers. Default: no ESN only. */
  esn?: boolean;
}

/** Peer identity (RFC 7296 3.5). */
export type Ikev2Identity =
  | { type: 'ipv4' | 'ipv6'; value: string }
  | { type: 'fqdn'; value: string }
  | { type: 'email'; value: string }
  | { type: 'key-id'; value: string };

/** One traffic selector: address range, protocol (0 = any), port range. */
export interface SelectorConfig {
  /** First and last address of the range ("10.0.0.0", "10.0.0.255"), or use `cidr`. */
  startAddress?: string;
  endAddress?: string;
  /** "10.0.0.0/24" (alternative to start/end). */
  cidr?: string;
  protocol?: number;
  startPort?: number;
  endPort?: number;
}

export interface DpdConfig {
  /** Seconds of peer silence before a liveness check (IOS `dpd INTERVAL ...`). */
  intervalSec: number;
  /** Seconds between retries of an unanswered check (IOS `dpd ... RETRY ...`). */
  retrySec: number;
  /** periodic: check after intervalSec of inbound silence; on-demand: only when the driver calls checkLiveness(). */
  mode: 'periodic' | 'on-demand';
}

/** Pre-shared keys for one peer, with where they came from (for diagnosis; never the key itself). */
export interface PskResult {
  /** Key used to build our AUTH (IOS `pre-shared-key local`). */
  local: Uint8Array;
  /** Key used to verify the peer's AUTH (IOS `pre-shared-key remote`); same as local when not split. */
  remote: Uint8Array;
  /** e.g. "keyring KR1 peer SITE-B" */
  source: string;
}

export interface PskQuery {
  connection: string;
  localAddress: string;
  remoteAddress: string;
  /** The peer's identity (known after IKE_AUTH's ID payload; our configured remote id before that). */
  peerId?: Ikev2Identity;
}

/** One tunnel definition (an IOS crypto map entry / IPsec profile + its IKEv2 profile). */
export interface Ikev2Connection {
  name: string;
  /** Our address; undefined = any. */
  localAddress?: string;
  /** Peer address for initiating; as responder also the match: address or CIDR ("0.0.0.0/0" = any). */
  remoteAddress: string;
  /** UDP port of the peer (default 500). */
  remotePort?: number;
  ikeProposals: IkeProposalConfig[];
  childProposals: ChildProposalConfig[];
  /** PFS group for CREATE_CHILD_SA (IOS `set pfs`); also required from the peer when set. */
  pfsGroup?: number;
  /** Our identity (default: ipv4 of localAddress). */
  localId?: Ikev2Identity;
  /** Expected peer identity (IOS `match identity remote ...`); undefined = any. */
  remoteId?: Ikev2Identity;
  /** Match of a remote identity against this connection, when `remoteId` is not enough (e.g. address masks). */
  matchRemoteId?: (id: Ikev2Identity) => boolean;
  localSelectors: SelectorConfig[];
  remoteSelectors: SelectorConfig[];
  /**
   * Responder: accept only a request covering exactly our selectors, never a narrower one
   * (a static VTI's SA is `IP any any`, routing decides what it carries).
   */
  exactSelectors?: boolean;
  /**
   * Responder only (dynamic map templates): every requested selector must lie inside one of
   * ours and is taken as requested; a wider one is refused with TS_UNACCEPTABLE instead of
   * being narrowed (RFC 7296 2.9 narrowing stays for the other connections).
   */
  strictSelectors?: boolean;
  /** Never initiated (dynamic map templates). */
  responderOnly?: boolean;
  mode?: 'tunnel' | 'transport';
  ikeLifetimeSec?: number;
  childLifetimeSec?: number;
  childLifetimeKb?: number;
  /** Rekey this many seconds before the lifetime ends (default 10% of it, at most 540 s). */
  rekeyMarginSec?: number;
  dpd?: DpdConfig;
  /**
   * UDP-encapsulate ESP (and float IKE to 4500) even without a NAT (IOS `nat force-encap`):
   * we send a NAT_DETECTION_SOURCE_IP that cannot match and consider ourselves behind a NAT.
   * As responder it applies when any connection for the peer's address has it (the profile
   * is chosen only at IKE_AUTH).
   */
  forceEncap?: boolean;
}

export interface RetransmitConfig {
  /** First retransmission timeout (default 2000 ms). */
  initialTimeoutMs?: number;
  /** Multiplier per retry (default 2). */
  backoff?: number;
  /** Retransmissions before giving up (default 5). */
  maxRetries?: number;
}

/** IOS `crypto ikev2 policy`: IKE proposals offered/accepted on some local addresses. */
export interface IkePolicyConfig {
  name: string;
  /** undefined / empty = any local address. */
  matchLocalAddresses?: string[];
  proposals: IkeProposalConfig[];
}

export interface Ikev2Config {
  connections: Ikev2Connection[];
  /** Responder IKE_SA_INIT proposals by local address (first matching policy); falls back to
   *  the union of the proposals of the connections matching the peer address. */
  policies?: IkePolicyConfig[];
  /** PSK lookup (keyrings). Return undefined when there is no key for the peer. */
  psk(query: PskQuery): PskResult | undefined;
  /** Half-open IKE SAs above which IKE_SA_INIT needs a COOKIE (RFC 7296 2.6). Default 50. */
  cookieThreshold?: number;
  /** Half-open IKE SAs are dropped after this many ms (default 30000). */
  halfOpenTimeoutMs?: number;
  retransmit?: RetransmitConfig;
  /** Diagnosis records kept (most recent first). Default 32. */
  maxDiagnoses?: number;
}
