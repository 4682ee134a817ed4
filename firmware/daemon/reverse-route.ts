// Reverse route injection (IOS `reverse-route` in crypto map and dynamic map entries):
// a static route for each remote proxy network protected by a live SA, with the remote
// peer as next hop, removed with the SA. `reverse-route static` on a static entry keeps
// routes to every permit destination of its ACL whether SAs exist or not; `remote-peer
// A.B.C.D` makes that address the next hop; `remote-peer` alone adds a host route to the
// peer. Pure: what routes are wanted; the data plane service installs them in Linux.
import { aclEntrySelector, aclRules } from '../config/acl.js';
import { resolveCryptoMapSet, type ResolvedMapEntry } from '../config/crypto-map.js';
import type { Config } from '../config/model.js';
import { aclEntryFromConfig } from '../ipsec/acl-classifier.js';
import { addrSetToPrefix, formatIpValue, familyBits, type AddrSet, type TrafficSelector } from '../ipsec/selector.js';
import { aceToSelector } from '../ipsec/spd.js';
import type { ReverseRouteSpec, TemporaryEntry } from './temporary-entries.js';

/** IOS administrative distance of RRI routes (a static route). */
export const RRI_DISTANCE = 1;

export interface RriRoute {
  prefix: string;
  length: number;
  nextHop: string;
  /** Crypto map interface (IOS name). */
  iface: string;
  distance: number;
  /** `map/seq` the route comes from (show/debug). */
  source: string;
  /** `reverse-route tag N`: shown by `show ip route PREFIX` and in `show ip route | json`. */
  tag?: number;
}

/** One live outbound SA as the route computation needs it. */
export interface LiveSa {
  policyKey: string | undefined;
  mapName: string | undefined;
  mapSeq: number | undefined;
  scope: TrafficSelector | undefined;
  peer: string;
}

function prefixOf(set: AddrSet): { prefix: string; length: number } | undefined {
  const p = addrSetToPrefix(set);
  if (!p || p.family !== 4) return undefined;
  const hostBits = p.wildcard === 0n ? 0 : p.wildcard.toString(2).length;
  return { prefix: formatIpValue(4, p.addr), length: familyBits(4) - hostBits };
}

type RriFields = Pick<ResolvedMapEntry, 'reverseRoute' | 'reverseRouteRemotePeer' | 'reverseRouteTag' | 'reverseRouteDistance'>;

function specOf(r: RriFields): ReverseRouteSpec | undefined {
  if (r.reverseRoute === undefined) return undefined;
  const rp = r.reverseRouteRemotePeer;
  const spec: ReverseRouteSpec = !rp ? {} : rp.address !== undefined ? { nextHop: rp.address } : { peerHostRoute: true };
  if (r.reverseRouteTag !== undefined) spec.tag = r.reverseRouteTag;
  if (r.reverseRouteDistance !== undefined) spec.distance = r.reverseRouteDistance;
  return spec;
}

/** The template's reverse-route as a temporary entry keeps it. */
export function reverseRouteSpecOf(r: RriFields): ReverseRouteSpec | undefined {
  return specOf(r);
}

/**
 * Routes wanted now. `ifaceOfMap` gives the interfaces a crypto map set is applied to;
 * `temporary` resolves a temporary entry by its SAs' policy key.
 */
export function wantedRriRoutes(cfg: Config, sas: readonly LiveSa[], temporary: (policyKey: string | undefined) => TemporaryEntry | undefined,
  resolve: (map: string) => readonly ResolvedMapEntry[] = (map) => resolveCryptoMapSet(cfg, map)): RriRoute[] {
  const out = new Map<string, RriRoute>();
  const add = (dst: AddrSet, peer: string, spec: ReverseRouteSpec, iface: string, source: string): void => {
    const p = prefixOf(dst);
    // a route for `any` would replace the default route (the guide: any is not supported with RRI)
    if (!p || p.length === 0) return;
    const nextHop = spec.nextHop ?? peer;
    const distance = spec.distance ?? RRI_DISTANCE;
    const tag = spec.tag !== undefined ? { tag: spec.tag } : {};
    const r: RriRoute = { ...p, nextHop, iface, distance, source, ...tag };
    out.set(`${p.prefix}/${p.length} ${nextHop}`, r);
    if (spec.peerHostRoute) {
      // the host route to the peer goes where the peer is reached today (not via itself)
      out.set(`${peer}/32 host`, { prefix: peer, length: 32, nextHop: '', iface, distance, source, ...tag });
    }
  };
  const mapIfaces = new Map<string, string[]>();
  for (const [name, itf] of Object.entries(cfg.interfaces?.items ?? {})) {
    if (!itf.cryptoMap) continue;
    const l = mapIfaces.get(itf.cryptoMap) ?? [];
    l.push(name);
    mapIfaces.set(itf.cryptoMap, l);
  }
  const resolvedCache = new Map<string, readonly ResolvedMapEntry[]>();
  const resolved = (map: string): readonly ResolvedMapEntry[] => {
    let r = resolvedCache.get(map);
    if (!r) { r = resolve(map); resolvedCache.set(map, r); }
    return r;
  };
  for (const sa of sas) {
    if (!sa.scope) continue;
    const temp = temporary(sa.policyKey);
    if (temp) {
      if (temp.reverseRoute) add(sa.scope.dst, sa.peer, temp.reverseRoute, temp.iface, `${temp.mapName}/${temp.showSeq}`);
      continue;
    }
    if (sa.mapName === undefined || sa.mapSeq === undefined) continue;
    const r = resolved(sa.mapName).find((x) => x.seq === sa.mapSeq && x.kind !== 'dynamic');
    const spec = r ? specOf(r) : undefined;
    const iface = mapIfaces.get(sa.mapName)?.[0];
    if (spec && iface) add(sa.scope.dst, sa.peer, spec, iface, `${sa.mapName}/${sa.mapSeq}`);
  }
  // `reverse-route static`: the ACL's destinations, via the first peer, SAs or not
  for (const [map, ifaces] of mapIfaces) {
    for (const r of resolved(map)) {
      if (r.kind === 'dynamic' || r.reverseRoute !== 'static' || r.matchAddress === undefined) continue;
      const spec = specOf(r)!;
      const peer = r.peers[0];
      const acl = cfg.acl?.lists[r.matchAddress];
      if (!peer || !acl) continue;
      for (const rule of aclRules(acl)) {
        if (rule.action !== 'permit') continue;
        let sel: TrafficSelector;
        try { sel = aceToSelector(aclEntryFromConfig(aclEntrySelector(rule))); } catch { continue; }
        add(sel.dst, peer, spec, ifaces[0]!, `${map}/${r.seq}`);
      }
    }
  }
  return [...out.values()];
}
