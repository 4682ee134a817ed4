// The one narrow interface between the IPsec control plane (SPD/SAD managers, IKE) and
// whatever carries the packets: the kernel's XFRM (netlink) or the userspace ESP data
// plane over TUN devices. Types only, no I/O: both backends implement `KernelIpsec`.
//
// Conventions:
//  - Addresses are text: IPv4 dotted quad or IPv6 (any RFC 4291 form). Prefixes are
//    "address/len"; a bare address is a host (/32 or /128).
//  - SPIs are unsigned 32-bit numbers (IPComp: the 16-bit CPI).
//  - 64-bit counters and byte/packet limits are bigint; seconds are numbers.
//  - Keys are Uint8Array and must never be logged; `describeSa` prints none.

export type IpsecProtocol = 'esp' | 'ah' | 'comp';
export type IpsecMode = 'tunnel' | 'transport';
/** Policy direction as in the kernel: `fwd` is traffic routed through the box inbound. */
export type PolicyDirection = 'in' | 'out' | 'fwd';
/** SA direction: inbound SAs are looked up by (dst, SPI, protocol) on receive. */
export type SaDirection = 'in' | 'out';

/** IOS encryption transforms (`crypto ipsec transform-set` names). */
export const ENCRYPTION_TRANSFORMS = [
  'esp-aes', 'esp-gcm', 'esp-gmac', 'esp-3des', 'esp-des', 'esp-null', 'esp-seal',
] as const;
export type EncryptionTransform = (typeof ENCRYPTION_TRANSFORMS)[number];

/** IOS integrity transforms; esp-* for ESP SAs, ah-* for AH SAs. */
export const INTEGRITY_TRANSFORMS = [
  'esp-md5-hmac', 'esp-sha-hmac', 'esp-sha256-hmac', 'esp-sha384-hmac', 'esp-sha512-hmac',
  'ah-md5-hmac', 'ah-sha-hmac', 'ah-sha256-hmac', 'ah-sha384-hmac', 'ah-sha512-hmac',
] as const;
export type IntegrityTransform = (typeof INTEGRITY_TRANSFORMS)[number];

export const COMPRESSION_TRANSFORMS = ['comp-lzs'] as const;
export type CompressionTransform = (typeof COMPRESSION_TRANSFORMS)[number];

/**
 * Key lengths in bytes. esp-gcm / esp-gmac keys include the 4-byte salt at the end
 * (RFC 4106 section 8.1: 20, 28 or 36 bytes). esp-aes: 16, 24 or 32.
 */
export interface EncryptionAlgorithm {
  transform: EncryptionTransform;
  key: Uint8Array;
  /** AEAD ICV length in bits (esp-gcm / esp-gmac); default 128. */
  icvBits?: number;
}
export interface IntegrityAlgorithm {
  transform: IntegrityTransform;
  key: Uint8Array;
}
export interface CompressionAlgorithm {
  transform: CompressionTransform;
}

/** RFC 3948 UDP encapsulation of ESP (NAT traversal). */
export interface UdpEncapsulation {
  /** Local (sending) port of this SA's packets, normally 4500. */
  srcPort: number;
  dstPort: number;
  /** NAT-OA: the peer's original address, when known (transport mode checksum fixup). */
  originalAddress?: string;
}

/**
 * Lifetimes; undefined = no limit. Soft limits raise an `expire` event with hard=false
 * (time to rekey); hard limits raise hard=true and the SA is gone.
 */
export interface SaLifetime {
  softSec?: number;
  hardSec?: number;
  softBytes?: bigint;
  hardBytes?: bigint;
  softPackets?: bigint;
  hardPackets?: bigint;
  /** Idle time (IOS `security-association idle-time`): hard expiry after this long unused. */
  hardIdleSec?: number;
}

/**
 * Traffic selector (crypto ACL entry or proxy identities). Ports: undefined or 0 = any.
 * For ICMP (proto 1 / 58) `srcPort` is the ICMP type and `dstPort` the code, as XFRM does.
 * Port ranges are the caller's to split into several selectors.
 */
export interface TrafficSelector {
  /** "10.1.0.0/24", "10.1.0.5" (host), "0.0.0.0/0" (any), "2001:db8::/32". */
  src: string;
  dst: string;
  /** IP protocol number; 0 or undefined = any. */
  proto?: number;
  srcPort?: number;
  dstPort?: number;
}

/** What identifies one installed SA. */
export interface SaId {
  /** Outer destination address (the SPI owner). */
  dst: string;
  spi: number;
  protocol: IpsecProtocol;
  /** Outer source address; lets the kernel pick the right SA when SPIs collide. */
  src?: string;
  mark?: SaMark;
}

/** Packet mark that an SA or policy matches (XFRM: XFRMA_MARK). Used by VTIs later. */
export interface SaMark {
  value: number;
  mask: number;
}

export interface SaSpec {
  /** Outer source and destination (tunnel endpoints, or the hosts in transport mode). */
  src: string;
  dst: string;
  spi: number;
  protocol: IpsecProtocol;
  mode: IpsecMode;
  /** Ties SAs to the policy templates that use them (one reqid per crypto map entry/VTI). */
  reqid: number;
  direction: SaDirection;
  /** ESP: encryption (esp-null for integrity only). Not for AH or IPComp. */
  encryption?: EncryptionAlgorithm;
  /** ESP (optional with AEAD) or AH (required). */
  integrity?: IntegrityAlgorithm;
  /** IPComp SAs only. */
  compression?: CompressionAlgorithm;
  udpEncap?: UdpEncapsulation;
  /** Anti-replay window in packets (0 = off). IOS default 64, up to 1024. Inbound only. */
  replayWindow: number;
  /** RFC 4303 extended sequence numbers. */
  esn: boolean;
  lifetime: SaLifetime;
  /** Inner traffic this SA may carry (transport mode, per-host SAs). Default: any. */
  selector?: TrafficSelector;
  mark?: SaMark;
  /** XFRM interface id (VTIs as xfrm interfaces); ignored by backends without them. */
  ifId?: number;
  /** The `seq` of the `acquire` event this SA answers, so the kernel drops its larval SA. */
  acquireSeq?: number;
}

/** New outer addresses / encapsulation for an installed SA (NAT keepalive, MOBIKE). */
export interface SaUpdate {
  id: SaId;
  newSrc?: string;
  newDst?: string;
  /** null removes UDP encapsulation, undefined keeps it. */
  udpEncap?: UdpEncapsulation | null;
}

/** Counters of one SA (`show crypto ipsec sa`). */
export interface SaCounters {
  bytes: bigint;
  packets: bigint;
  /** Epoch seconds when added / first used (0 = never used). */
  addTimeSec: number;
  useTimeSec: number;
  replayErrors: number;
  integrityFailures: number;
  /** Packets dropped by the replay window ("replay window" errors of the kernel). */
  replayWindowDrops: number;
  /** Last sequence number sent (outbound) or highest received (inbound), ESN included. */
  outboundSeq: bigint;
  inboundSeq: bigint;
}

/**
 * One SA of a policy's bundle. Order in `PolicySpec.templates`: innermost first (the one
 * applied first on output), e.g. [comp, esp] or [esp, ah]. With several templates, only the
 * first is normally `tunnel` (with src/dst); the others are `transport`.
 */
export interface SaTemplate {
  protocol: IpsecProtocol;
  mode: IpsecMode;
  reqid: number;
  /** Tunnel endpoints, required in tunnel mode. */
  src?: string;
  dst?: string;
  /** Only this SPI (0 or undefined = any SA with the reqid). */
  spi?: number;
  /** The SA may be absent (inbound IPComp: small packets are sent uncompressed). */
  optional?: boolean;
}

/** protect = IPsec (needs templates); bypass = let it through in the clear; drop = discard. */
export type PolicyAction = 'protect' | 'bypass' | 'drop';

export interface PolicySpec {
  selector: TrafficSelector;
  direction: PolicyDirection;
  action: PolicyAction;
  /** Lower value wins (XFRM semantics); crypto map sequence numbers map onto this. */
  priority: number;
  templates: SaTemplate[];
  mark?: SaMark;
  ifId?: number;
  /** Replace an existing policy with the same selector and direction instead of failing. */
  replace?: boolean;
}

/** What identifies one installed policy. */
export interface PolicyId {
  selector: TrafficSelector;
  direction: PolicyDirection;
  mark?: SaMark;
  ifId?: number;
}

/** An installed policy as the backend reports it. */
export interface PolicyInfo extends PolicySpec {
  /** Backend's policy index (XFRM: the kernel's index; the value `acquire` reports). */
  index: number;
}

/** An installed SA without its keys. */
export interface SaInfo {
  src: string;
  dst: string;
  spi: number;
  protocol: IpsecProtocol;
  mode: IpsecMode;
  reqid: number;
  encryption?: EncryptionTransform | string;
  integrity?: IntegrityTransform | string;
  compression?: CompressionTransform | string;
  udpEncap?: UdpEncapsulation;
  replayWindow: number;
  esn: boolean;
  counters: SaCounters;
}

/** A packet hit a `protect` policy for which no SA exists: IKE should negotiate one. */
export interface AcquireEvent {
  /** Index of the policy that asked (as returned by addPolicy). */
  policyIndex: number;
  direction: PolicyDirection;
  /** The policy's selector. */
  policySelector: TrafficSelector;
  /** The triggering packet's addresses/ports (per-host SAs use this). */
  packetSelector: TrafficSelector;
  /** Outer addresses from the template (tunnel endpoints), or packet addresses in transport. */
  src: string;
  dst: string;
  protocol: IpsecProtocol;
  reqid: number;
  /** Kernel sequence to put into `SaSpec.acquireSeq` (0 when unused). */
  seq: number;
}

/** An SA reached a soft (rekey) or hard (gone) limit. */
export interface ExpireEvent {
  hard: boolean;
  id: SaId;
  reqid: number;
  /** Usage at the time of the event. */
  bytes: bigint;
  packets: bigint;
}

export interface KernelIpsecEvents {
  acquire: (event: AcquireEvent) => void;
  expire: (event: ExpireEvent) => void;
  /** A problem outside any request (socket error, undecodable notification). */
  error: (error: Error) => void;
}

export interface KernelIpsecCapabilities {
  protocols: readonly IpsecProtocol[];
  encryption: readonly EncryptionTransform[];
  integrity: readonly IntegrityTransform[];
  compression: readonly CompressionTransform[];
  udpEncap: boolean;
  esn: boolean;
  ipv6: boolean;
  /** Largest anti-replay window in packets. */
  maxReplayWindow: number;
  /** Emits `acquire` when traffic hits a protect policy without SAs. */
  acquire: boolean;
  /** Supports marks / interface ids (VTIs). */
  marks: boolean;
}

/** Failure reported by a backend; `code` is the errno name where there is one. */
export class KernelIpsecError extends Error {
  override name = 'KernelIpsecError';
  constructor(
    message: string,
    /** e.g. 'EEXIST', 'ENOENT', 'EPROTONOSUPPORT', 'ENOSYS', 'EINVAL', 'UNSUPPORTED' */
    readonly code: string,
    readonly errno?: number,
  ) {
    super(message);
  }
}

export interface KernelIpsec {
  readonly name: 'xfrm' | 'userspace';
  readonly capabilities: KernelIpsecCapabilities;

  /**
   * Reserves an SPI for an inbound SA from src to dst (this box = dst). The SA installed
   * later with `addSa` for this SPI replaces the reservation. For 'comp', a 16-bit CPI.
   * Default range: 0x100..0xffffffff (0x100..0xffff for comp).
   */
  getSpi(req: { src: string; dst: string; protocol: IpsecProtocol; reqid: number; min?: number; max?: number }): Promise<number>;
  addSa(sa: SaSpec): Promise<void>;
  /** Moves an SA to new outer addresses / encapsulation, keeping keys and sequence numbers. */
  updateSa(update: SaUpdate): Promise<void>;
  deleteSa(id: SaId): Promise<void>;
  querySa(id: SaId): Promise<SaCounters>;
  /** SAs installed through this instance (no keys). */
  listSas(): Promise<SaInfo[]>;

  /** Installs a policy; resolves with its index (what `acquire` reports). */
  addPolicy(policy: PolicySpec): Promise<number>;
  deletePolicy(id: PolicyId): Promise<void>;
  /** Policies installed through this instance. */
  listPolicies(): Promise<PolicyInfo[]>;

  /** Deletes every SA / policy installed through this instance (others are left alone). */
  flushSas(): Promise<void>;
  flushPolicies(): Promise<void>;

  on<E extends keyof KernelIpsecEvents>(event: E, listener: KernelIpsecEvents[E]): this;
  off<E extends keyof KernelIpsecEvents>(event: E, listener: KernelIpsecEvents[E]): this;

  /** Releases sockets/devices. Installed state stays unless flushed first. */
  close(): Promise<void>;
}

/** Protocol numbers (IANA) for the IpsecProtocol names. */
export const IPSEC_PROTOCOL_NUMBER: Readonly<Record<IpsecProtocol, number>> = { esp: 50, ah: 51, comp: 108 };

/** One-line description of an SA without keys, for logs. */
export function describeSa(sa: SaSpec): string {
  const algs = [sa.encryption?.transform, sa.integrity?.transform, sa.compression?.transform].filter(Boolean).join(' ');
  const encap = sa.udpEncap ? ` udp ${sa.udpEncap.srcPort}->${sa.udpEncap.dstPort}` : '';
  return `${sa.direction} ${sa.protocol} spi 0x${sa.spi.toString(16).padStart(8, '0')} ${sa.src}->${sa.dst} ${sa.mode} reqid ${sa.reqid} ${algs}${encap}`;
}

/** Splits "a/len" into address and prefix length (bare address = host). */
export function parsePrefix(prefix: string): { address: string; length: number; ipv6: boolean } {
  const slash = prefix.indexOf('/');
  const address = slash < 0 ? prefix : prefix.slice(0, slash);
  const ipv6 = address.includes(':');
  const max = ipv6 ? 128 : 32;
  if (slash < 0) return { address, length: max, ipv6 };
  const lenText = prefix.slice(slash + 1);
  const length = Number(lenText);
  if (!/^\d{1,3}$/.test(lenText) || length > max) {
    throw new KernelIpsecError(`bad prefix length in ${prefix}`, 'EINVAL');
  }
  return { address, length, ipv6 };
}
