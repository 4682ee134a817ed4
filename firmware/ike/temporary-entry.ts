// What a temporary crypto map entry is made of (guide, "Dynamic Crypto Maps Overview"): when
// a dynamic map entry accepts a peer's offer, the SAs go under a temporary entry holding the
// peer, the negotiated flow and the template's settings. Both IKE versions describe the
// acceptance the same way (DynamicAcceptance) and place the pair under the entry through
// underTemporaryEntry; the data plane keeps the entries (firmware/daemon/temporary-entries.ts).
import type { TrafficSelector } from '../ipsec/selector.js';

/** `reverse-route` of the template, as the temporary entry keeps it. */
export interface ReverseRouteSpec {
  /** `remote-peer A.B.C.D`: the routes' next hop instead of the peer. */
  nextHop?: string;
  /** `remote-peer` without an address: also a host route to the peer. */
  peerHostRoute?: boolean;
  /** `reverse-route tag N` / `set reverse-route tag N`: the routes' tag. */
  tag?: number;
  /** `set reverse-route distance N` (else RRI_DISTANCE). */
  distance?: number;
}

export interface TemporaryEntrySpec {
  /** Interface whose crypto map set holds the dynamic reference. */
  iface: string;
  mapName: string;
  /** Sequence number of `crypto map NAME SEQ ipsec-isakmp dynamic DMAP`. */
  seq: number;
  dynamicMapName: string;
  /** The dynamic map entry that accepted the peer. */
  dynamicSeq: number;
  peer: string;
  /** Negotiated flow, local -> remote. */
  scope: TrafficSelector;
  transformSets: readonly string[];
  pfsGroup?: string | number;
  lifetimeSec?: number;
  lifetimeKb?: number | 'disable';
  reverseRoute?: ReverseRouteSpec;
  /** Which IKE made it (show output). */
  ike: 'IKEv1' | 'IKEv2';
}

/** The dynamic map entry that accepted a peer, as both IKE versions describe it. */
export interface DynamicAcceptance {
  dynamicMapName: string;
  dynamicSeq: number;
  transformSets: readonly string[];
  pfsGroup?: string | number;
  reverseRoute?: ReverseRouteSpec;
}

/** Where an SA pair goes: a crypto map entry's flow (or a tunnel's), by its SPD policy key. */
export interface PairPlace {
  iface: string;
  mapName: string;
  seq: number;
  policyKey: string;
  scope: TrafficSelector;
}

/** What placing a pair needs of the data plane. */
export interface TemporaryEntryPort {
  addTemporaryEntry?(spec: TemporaryEntrySpec): { policyKey: string; spdScope: TrafficSelector } | undefined;
}

/**
 * The place of a pair a dynamic map entry accepted: under the temporary entry for this peer
 * and negotiated flow (made if new). Undefined: the flow has no access-list form (or the data
 * plane keeps no temporary entries); the caller refuses the pair.
 */
export function underTemporaryEntry(dp: TemporaryEntryPort, at: PairPlace, d: DynamicAcceptance, peer: string, ike: 'IKEv1' | 'IKEv2'): PairPlace | undefined {
  const temp = dp.addTemporaryEntry?.({
    iface: at.iface, mapName: at.mapName, seq: at.seq, dynamicMapName: d.dynamicMapName, dynamicSeq: d.dynamicSeq,
    peer, scope: at.scope, transformSets: d.transformSets, ike,
    ...(d.pfsGroup !== undefined ? { pfsGroup: d.pfsGroup } : {}), ...(d.reverseRoute ? { reverseRoute: d.reverseRoute } : {}),
  });
  return temp ? { ...at, policyKey: temp.policyKey, scope: temp.spdScope } : undefined;
}
