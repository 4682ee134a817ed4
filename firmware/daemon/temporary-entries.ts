// Temporary crypto map entries (guide, "Dynamic Crypto Maps Overview"): when a peer's
// offer is accepted by a dynamic map entry, IOS installs a temporary crypto map entry
// holding the result of the negotiation (the peer, the negotiated flow as its access list,
// the template's transform sets / PFS / lifetimes / reverse-route). It is used like any
// entry (it steers the flow to its SAs) and removed once its SAs are gone. IOS shows them
// in `show crypto map` with sequence numbers from 65536 and the line
// `dynamic (created from dynamic map DMAP/SEQ)`.
//
// This file is the bookkeeping only: which entries exist, their SPD inputs and policy keys.
// The data plane service compiles them into the interface's SPD and removes them when the
// SAD holds no SA of theirs any more.
import type { AclEntry, PortOp } from '../ipsec/acl-classifier.js';
import { addrSetToPrefix, parseIp, selectorKey, type IpAddr, type PortRange, type TrafficSelector } from '../ipsec/selector.js';
import { aceToSelector, type SpdMapEntryInput } from '../ipsec/spd.js';
import type { TemporaryEntrySpec } from '../ike/temporary-entry.js';

// the spec is IKE's description of an acceptance (firmware/ike/temporary-entry.ts)
export type { ReverseRouteSpec, TemporaryEntrySpec } from '../ike/temporary-entry.js';

export interface TemporaryEntry extends TemporaryEntrySpec {
  readonly id: number;
  /** Sequence number `show crypto map` prints (65536, 65537, ... per map). */
  readonly showSeq: number;
  readonly ace: AclEntry;
  /** The SPD's outbound bundle key for this entry's flow (what IKE installs the SAs under). */
  readonly policyKey: string;
  /** The flow as the SPD sees it (= scope, in mask form). */
  readonly spdScope: TrafficSelector;
  readonly createdAtMs: number;
}

function portOp(r: PortRange): PortOp | undefined {
  if (r.lo === 0 && r.hi === 65535) return undefined;
  return r.lo === r.hi ? { op: 'eq', port: r.lo } : { op: 'range', lo: r.lo, hi: r.hi };
}

/**
 * The permit ACE standing for a negotiated flow, or undefined when the flow is not one
 * prefix per side (a range IKEv2 can carry but an access list entry cannot) or carries
 * ICMP type/code selectors.
 */
export function scopeToAce(scope: TrafficSelector): AclEntry | undefined {
  const src = addrSetToPrefix(scope.src);
  const dst = addrSetToPrefix(scope.dst);
  if (!src || !dst) return undefined;
  const icmp = scope.proto === 1 || scope.proto === 58;
  const sp = portOp(scope.srcPorts);
  const dp = portOp(scope.dstPorts);
  if (icmp && (sp || dp)) return undefined;
  const ace: { -readonly [K in keyof AclEntry]: AclEntry[K] } = { action: 'permit', src, dst };
  if (scope.proto !== 0) ace.proto = scope.proto;
  if (sp) ace.srcPort = sp;
  if (dp) ace.dstPort = dp;
  return ace;
}

export const FIRST_TEMPORARY_SEQ = 65536;

export class TemporaryEntries {
  private readonly byKey = new Map<string, TemporaryEntry>();
  private readonly byPolicy = new Map<string, TemporaryEntry>();
  private nextId = 1;

  private static keyOf(s: Pick<TemporaryEntrySpec, 'iface' | 'mapName' | 'seq' | 'peer'>, spdScope: TrafficSelector): string {
    return `${s.iface}|${s.mapName}/${s.seq}|${s.peer}|${selectorKey(spdScope)}`;
  }

  /** The entry for this peer and flow (made if new); undefined when the flow has no ACE form. */
  add(spec: TemporaryEntrySpec, nowMs: number): { entry: TemporaryEntry; created: boolean } | undefined {
    const ace = scopeToAce(spec.scope);
    if (!ace) return undefined;
    const spdScope = aceToSelector(ace);
    const key = TemporaryEntries.keyOf(spec, spdScope);
    const old = this.byKey.get(key);
    if (old) return { entry: old, created: false };
    const id = this.nextId++;
    const used = new Set([...this.byKey.values()].filter((e) => e.mapName === spec.mapName).map((e) => e.showSeq));
    let showSeq = FIRST_TEMPORARY_SEQ;
    while (used.has(showSeq)) showSeq++;
    const entry: TemporaryEntry = {
      ...spec, id, showSeq, ace, spdScope, createdAtMs: nowMs,
      policyKey: `${spec.mapName}/${spec.seq}/t${id}|${selectorKey(spdScope)}`,
    };
    this.byKey.set(key, entry);
    this.byPolicy.set(entry.policyKey, entry);
    return { entry, created: true };
  }

  remove(e: TemporaryEntry): void {
    this.byKey.delete(TemporaryEntries.keyOf(e, e.spdScope));
    this.byPolicy.delete(e.policyKey);
  }

  byPolicyKey(policyKey: string | undefined): TemporaryEntry | undefined {
    return policyKey === undefined ? undefined : this.byPolicy.get(policyKey);
  }

  list(): TemporaryEntry[] {
    return [...this.byKey.values()].sort((a, b) => a.mapName.localeCompare(b.mapName) || a.showSeq - b.showSeq);
  }

  get size(): number {
    return this.byKey.size;
  }

  /** SPD inputs of one interface's temporary entries. */
  spdInputs<M>(iface: string, data: M): SpdMapEntryInput<M>[] {
    return this.list().filter((e) => e.iface === iface).map((e) => ({
      mapName: e.mapName, seq: e.seq, subSeq: e.dynamicSeq, temporaryId: e.id, kind: 'dynamic' as const,
      aclName: `dynamic ${e.dynamicMapName}/${e.dynamicSeq}`, acl: [e.ace], transformSets: [...e.transformSets],
      peers: peerList(e.peer), data,
    }));
  }
}

function peerList(peer: string): IpAddr[] {
  try { return [parseIp(peer)]; } catch { return []; }
}
