// What the IKEv2 core tells its driver: datagrams to send and events to act on.
import type { TrafficSelector } from '../../proto/ikev2/index.js';
import type { AeadAlg, BlockCipherAlg, IntegAlg } from '../crypto/index.js';
import type { Ikev2Diagnosis } from './diagnosis.js';

/** A UDP datagram. On port 4500 the driver adds/strips the 4-byte non-ESP marker (RFC 3948). */
export interface Datagram {
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  data: Uint8Array;
}

export interface IkeSaInfo {
  ikeSaId: number;
  connection: string;
  /** We are the original initiator of this IKE SA. */
  initiator: boolean;
  spiI: bigint;
  spiR: bigint;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: string;
  /** RFC names of the negotiated transforms, e.g. ENCR_AES_CBC_256, PRF_HMAC_SHA2_256, AUTH_HMAC_SHA2_256_128, MODP_2048. */
  encryption?: string;
  prf?: string;
  integrity?: string;
  dhGroup?: number;
  localId?: string;
  remoteId?: string;
  /** NAT detected in front of us / in front of the peer. */
  natLocal: boolean;
  natRemote: boolean;
  createdAtMs: number;
  establishedAtMs?: number;
  lifetimeSec: number;
  childIds: number[];
}

export interface ChildKeyset {
  /** Encryption key (for AES-GCM: key || 4-byte salt). */
  encr: Uint8Array;
  /** Integrity key (empty for AEAD). */
  integ: Uint8Array;
}

/** Everything needed to install one Child SA pair (ESP). SPIs are unsigned 32-bit values. */
export interface ChildSaInfo {
  ikeSaId: number;
  childId: number;
  connection: string;
  protocol: 'esp';
  mode: 'tunnel' | 'transport';
  /** SPI of our inbound SA (chosen by us), and of our outbound SA (chosen by the peer). */
  spiIn: number;
  spiOut: number;
  encrAlg: BlockCipherAlg | AeadAlg;
  integAlg?: IntegAlg;
  /** RFC transform names, e.g. ENCR_AES_GCM_16_256 / AUTH_HMAC_SHA1_96. */
  encryption: string;
  integrity?: string;
  esn: boolean;
  /** PFS group used for this child's keys (0 = none). */
  dhGroup: number;
  keysIn: ChildKeyset;
  keysOut: ChildKeyset;
  /** Selectors for our side and the peer's side. */
  tsLocal: TrafficSelector[];
  tsRemote: TrafficSelector[];
  localAddress: string;
  remoteAddress: string;
  /** UDP encapsulation (NAT detected): send ESP in UDP 4500. */
  udpEncap: boolean;
  localPort: number;
  remotePort: number;
  lifetimeSec: number;
  lifetimeKb?: number;
  /** Child this one replaces (rekey). */
  rekeyOf?: number;
  createdAtMs: number;
}

export type Ikev2DownReason =
  | 'deleted' | 'deleted-by-peer' | 'peer-timeout' | 'dpd-timeout' | 'auth-failed' | 'negotiation-failed'
  | 'rekeyed' | 'expired' | 'half-open-timeout' | 'redundant' | 'initial-contact';

export type Ikev2Event =
  | { type: 'ike-up'; sa: IkeSaInfo }
  | { type: 'ike-down'; ikeSaId: number; connection: string; reason: Ikev2DownReason }
  | { type: 'ike-rekeyed'; oldIkeSaId: number; newIkeSaId: number }
  | { type: 'child-up'; child: ChildSaInfo }
  | { type: 'child-down'; ikeSaId: number; childId: number; spiIn: number; spiOut: number; reason: Ikev2DownReason }
  | { type: 'negotiation-failed'; ikeSaId: number; connection: string; diagnosis: Ikev2Diagnosis };
