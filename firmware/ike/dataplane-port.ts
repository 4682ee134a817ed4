// What both IKE services use of the data plane (the SA manager: firmware/daemon/dataplane-service.ts
// implements it): acquires and lifetime events in; SA pairs, temporary crypto map entries and
// Virtual-Access interfaces out. IKE never reaches into the SAD or SPD beyond this.
import type { PacketKey, TrafficSelector } from '../ipsec/selector.js';
import type { ProtectDecision } from '../ipsec/spd.js';
import type { VirtualAccessPort } from './child-sas.js';
import type { TemporaryEntrySpec } from './temporary-entry.js';

/** Keys and SPIs of one direction of a pair (ESP, AH or both). */
export interface PairKeys {
  espSpi?: number; espCipherKey?: Uint8Array; espAuthKey?: Uint8Array;
  ahSpi?: number; ahKey?: Uint8Array;
}

/** An SA pair for the data plane (dataplane-service.ts ChildSaInstall). */
export interface PairInstall {
  mapName: string;
  mapSeq: number;
  policyKey: string;
  scope: TrafficSelector;
  local: string;
  peer: string;
  transformWords: readonly string[];
  mode: 'tunnel' | 'transport';
  inbound: PairKeys;
  outbound: PairKeys;
  esn?: boolean;
  replayWindow?: number;
  lifetime?: { seconds?: number; kilobytes?: number };
  udpEncap?: { localPort: number; remotePort: number };
  childId?: number;
  pfsGroup?: number;
  /** a tunnel interface's SA pair */
  iface?: string;
}

export interface IkeAcquire {
  iface: string;
  decision: ProtectDecision<unknown>;
  packet: PacketKey;
}

export interface IkeExpire {
  hard: boolean;
  direction: 'inbound' | 'outbound';
  childId: number | undefined;
}

export interface IkeDataplanePort extends VirtualAccessPort {
  onAcquire(fn: (a: IkeAcquire) => void): () => void;
  onExpire(fn: (e: IkeExpire) => void): () => void;
  installChildSa(spec: PairInstall): { inboundId: number; outboundId: number };
  deleteSa(id: number, reason?: string): boolean;
  /** A temporary crypto map entry for a flow a dynamic map entry accepted (undefined: no access-list form). */
  addTemporaryEntry?(spec: TemporaryEntrySpec): { policyKey: string; spdScope: TrafficSelector } | undefined;
  /** Per-SA packet counters (DPD: inbound ESP proves the peer alive; on-demand DPD). */
  readonly sad?: { get(id: number): { readonly counters: { readonly encapsPkts: number; readonly decapsPkts: number } } | undefined };
}
