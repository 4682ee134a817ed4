// In-memory shapes of IKEv2 payloads (RFC 7296 section 3). The codec in payloads.ts maps
// them to and from the wire.
import type { PayloadType } from './constants.js';

/** Transform attribute (RFC 7296 3.3.5): TV when `value` is a number (AF=1), TLV otherwise. */
export interface TransformAttribute {
  type: number;
  value: number | Uint8Array;
}

export interface Transform {
  /** TransformType.ENCR .. ESN */
  type: number;
  id: number;
  /** Key Length attribute (bits), when present. */
  keyLength?: number;
  /** Attributes other than Key Length, kept so unknown ones can be refused by policy. */
  otherAttributes?: TransformAttribute[];
}

export interface Proposal {
  /** Proposal Num: 1 for the first, +1 for each following (RFC 7296 3.3.1). */
  num: number;
  protocolId: number;
  /** IKE: empty (initial) or 8 bytes (rekey); ESP/AH: 4 bytes. */
  spi: Uint8Array;
  transforms: Transform[];
}

export interface TrafficSelector {
  /** TsType.TS_IPV4_ADDR_RANGE (7) or TS_IPV6_ADDR_RANGE (8). */
  tsType: number;
  /** IP protocol, 0 = any. */
  ipProtocol: number;
  startPort: number;
  endPort: number;
  /** 4 or 16 bytes each. */
  startAddress: Uint8Array;
  endAddress: Uint8Array;
}

interface Base {
  /** Critical bit as received (senders set it only for payloads they need understood). */
  critical?: boolean;
}

export interface SaPayload extends Base { type: typeof PayloadType.SA; proposals: Proposal[] }
export interface KePayload extends Base { type: typeof PayloadType.KE; dhGroup: number; data: Uint8Array }
export interface IdPayload extends Base {
  type: typeof PayloadType.IDi | typeof PayloadType.IDr;
  idType: number;
  data: Uint8Array;
}
export interface AuthPayload extends Base { type: typeof PayloadType.AUTH; method: number; data: Uint8Array }
export interface NoncePayload extends Base { type: typeof PayloadType.NONCE; data: Uint8Array }
export interface NotifyPayload extends Base {
  type: typeof PayloadType.NOTIFY;
  /** 0 when not about an SA. */
  protocolId: number;
  spi: Uint8Array;
  notifyType: number;
  data: Uint8Array;
}
export interface DeletePayload extends Base {
  type: typeof PayloadType.DELETE;
  protocolId: number;
  /** IKE: no SPIs (size 0); ESP/AH: 4-byte SPIs. */
  spiSize: number;
  spis: Uint8Array[];
}
export interface VendorIdPayload extends Base { type: typeof PayloadType.VENDOR_ID; data: Uint8Array }
export interface TsPayload extends Base {
  type: typeof PayloadType.TSi | typeof PayloadType.TSr;
  selectors: TrafficSelector[];
}
/** SK (RFC 7296 3.14): `body` is IV || ciphertext || ICV; `firstInner` is the generic header's Next Payload. */
export interface SkPayload extends Base {
  type: typeof PayloadType.SK;
  firstInner: number;
  body: Uint8Array;
}
/** SKF (RFC 7383 2.5): as SK with the fragment number and count in front of the IV. */
export interface SkfPayload extends Base {
  type: typeof PayloadType.SKF;
  firstInner: number;
  fragmentNumber: number;
  totalFragments: number;
  body: Uint8Array;
}
/** A payload kept as raw bytes: CERT, CERTREQ, CP, EAP, and unknown non-critical types. */
export interface RawPayload extends Base { type: number; raw: Uint8Array; unknown: boolean }

export type Payload =
  | SaPayload | KePayload | IdPayload | AuthPayload | NoncePayload | NotifyPayload | DeletePayload
  | VendorIdPayload | TsPayload | SkPayload | SkfPayload;

/** What a decoded chain may contain. */
export type AnyPayload = Payload | RawPayload;

export interface IkeHeader {
  spiI: bigint;
  spiR: bigint;
  /** Filled by the encoder from the first payload; as received when decoded. */
  nextPayload?: number;
  majorVersion?: number;
  minorVersion?: number;
  exchangeType: number;
  /** The I flag: sent by the original initiator of the IKE SA. */
  initiator: boolean;
  /** The R flag: this message is a response. */
  response: boolean;
  /** The V flag (never set by us). */
  version?: boolean;
  messageId: number;
  /** Total length, as received. */
  length?: number;
}

export interface IkeMessage {
  header: IkeHeader;
  payloads: AnyPayload[];
}
