// Crypto map sets (order 180) and dynamic crypto map sets (order 170).
//
//   crypto dynamic-map dmap 10
//    set transform-set aasset
//    match address 101
//   crypto map mymap local-address Loopback0
//   crypto map mymap 10 ipsec-isakmp
//    set peer 192.168.1.1
//    set transform-set test
//    match address 101
//   crypto map mymap 20 ipsec-manual
//    set peer 10.0.0.5
//    set session-key inbound esp 256 cipher 0123456789012345
//    ...
//   crypto map mymap 65535 ipsec-isakmp dynamic dmap discover
//
// Entries are kept sorted by sequence number (lower = higher priority). The guide's rules
// checked here (see `cryptoMapWarnings`): manual entries take one peer, one transform set
// and use only the first permit of their ACL; dynamic map entries need a transform set;
// entries referring to a dynamic map should be the lowest priority; IPv6 maps and dynamic
// maps do not mix.

import { aclRules } from './acl.js';
import { sortByName, type DhGroup, type SaLifetime } from './crypto-common.js';
import { renderLifetimeLines, resolveIpsecPolicy, type ResolvedIpsecPolicy } from './crypto-ipsec.js';
import { defineSection, type Config } from './model.js';

export interface ManualAhKey {
  spi: number;
  /** Hex string. Secret. */
  key: string;
}

export interface ManualEspKey {
  spi: number;
  /** Hex strings. Secret. Absent cipher: null encryption; absent authenticator: no ESP auth. */
  cipherKey?: string;
  authKey?: string;
}

export interface ManualDirectionKeys {
  ah?: ManualAhKey;
  esp?: ManualEspKey;
}

/** Settings shared by static entries, dynamic map entries (and, partly, IPsec profiles). */
export interface CryptoPolicyEntry {
  seq: number;
  /** Config revision of the last change to this entry. */
  revision: number;
  description?: string;
  /** `match address ACL` (number or name); the ACL itself lives in the ACL section. */
  matchAddress?: string;
  /** `set peer`, in configuration order (first is tried first). IP address or hostname. */
  peers: string[];
  /** Ordered, at most 6; ipsec-manual: exactly one. */
  transformSets: string[];
  lifetime: SaLifetime;
  /** `set security-association replay window-size N` / `replay disable` (else the globals). */
  replayWindow?: number;
  replayDisabled?: boolean;
  /** `set security-association level per-host`. */
  perHost: boolean;
  pfsGroup?: DhGroup;
  isakmpProfile?: string;
  ikev2Profile?: string;
  /** `reverse-route [static]`. */
  reverseRoute?: 'dynamic' | 'static';
  /**
   * `reverse-route remote-peer [A.B.C.D] [static]`: without an address, a host route to the
   * peer as well; with one, that address is the next hop of the routes.
   */
  reverseRouteRemotePeer?: { address?: string };
  /**
   * Route tag of the RRI routes: `reverse-route tag N [static]` (IOS 12.4 form) or
   * `set reverse-route tag N` (IOS 15 form); another `reverse-route` line keeps it,
   * `no reverse-route` drops it.
   */
  reverseRouteTag?: number;
  /** `set reverse-route distance N`: administrative distance of the RRI routes (default 1). */
  reverseRouteDistance?: number;
}

export type CryptoMapEntryKind = 'ipsec-isakmp' | 'ipsec-manual';

export interface CryptoMapEntry extends CryptoPolicyEntry {
  kind: CryptoMapEntryKind;
  /** `ipsec-isakmp dynamic DMAP`: the entry stands for the dynamic map set DMAP. */
  dynamicMap?: string;
  /** `discover`: tunnel endpoint discovery (TED) on the dynamic entry. */
  discover?: boolean;
  /** ipsec-manual only. */
  sessionKeys?: { inbound: ManualDirectionKeys; outbound: ManualDirectionKeys };
}

export interface CryptoMapSet {
  name: string;
  /** Revision of set-level settings (local-address, isakmp-profile) and membership. */
  revision: number;
  /** `crypto map ipv6 NAME ...`. */
  ipv6: boolean;
  /** `crypto map NAME local-address IF` (canonical interface name). */
  localAddress?: string;
  /** `crypto map NAME isakmp-profile P`. */
  isakmpProfile?: string;
  /** Sorted by seq. */
  entries: CryptoMapEntry[];
}

export interface DynamicMapSet {
  name: string;
  revision: number;
  /** Sorted by seq. */
  entries: CryptoPolicyEntry[];
}

declare module './model.js' {
  interface Config {
    dynamicMaps: Record<string, DynamicMapSet>;
    cryptoMaps: Record<string, CryptoMapSet>;
  }
}

export function newPolicyEntry(seq: number, revision: number): CryptoPolicyEntry {
  return { seq, revision, peers: [], transformSets: [], lifetime: {}, perHost: false };
}

/** Inserts keeping seq order; returns the entry. */
export function insertBySeq<T extends { seq: number }>(list: T[], entry: T): T {
  const i = list.findIndex((e) => e.seq > entry.seq);
  if (i < 0) list.push(entry);
  else list.splice(i, 0, entry);
  return entry;
}

/** A static entry is complete (IOS enables it) with a peer and an access list. */
export function isEntryComplete(e: CryptoMapEntry): boolean {
  if (e.dynamicMap !== undefined) return true;
  return e.peers.length > 0 && e.matchAddress !== undefined;
}

/**
 * Problems the guide's rules point out in the current configuration (for warnings and for
 * the runtime to skip unusable entries). Each is one line naming the entry.
 */
export function cryptoMapWarnings(cfg: Config): string[] {
  const out: string[] = [];
  for (const set of sortByName(Object.values(cfg.cryptoMaps))) {
    const lastStatic = Math.max(-1, ...set.entries.filter((e) => e.dynamicMap === undefined).map((e) => e.seq));
    for (const e of set.entries) {
      const id = `crypto map ${set.name} ${e.seq}`;
      if (e.dynamicMap !== undefined) {
        if (e.seq < lastStatic) out.push(`${id}: an entry referring to a dynamic map should be the lowest priority (highest sequence number) entry in the set.`);
        const dm = cfg.dynamicMaps[e.dynamicMap];
        if (!dm) out.push(`${id}: dynamic map ${e.dynamicMap} does not exist.`);
        continue;
      }
      if (e.peers.length === 0) out.push(`${id}: no peer configured (entry disabled).`);
      if (e.matchAddress === undefined) out.push(`${id}: no access list configured (entry disabled).`);
      else {
        const acl = cfg.acl?.lists[e.matchAddress];
        const rules = acl ? aclRules(acl) : [];
        if (rules.length === 0) out.push(`${id}: access list ${e.matchAddress} does not exist or is empty.`);
        const permits = rules.filter((r) => r.action === 'permit').length;
        if (e.kind === 'ipsec-manual' && permits > 1) out.push(`${id}: ipsec-manual entries use only the first permit of access list ${e.matchAddress}; ${permits - 1} later permit(s) ignored.`);
      }
      if (e.transformSets.length === 0) out.push(`${id}: no transform set configured.`);
      for (const t of e.transformSets) if (!cfg.transformSets[t]) out.push(`${id}: transform set ${t} does not exist.`);
      if (e.kind === 'ipsec-manual') {
        if (!e.sessionKeys?.inbound.esp && !e.sessionKeys?.inbound.ah) out.push(`${id}: no inbound session key.`);
        if (!e.sessionKeys?.outbound.esp && !e.sessionKeys?.outbound.ah) out.push(`${id}: no outbound session key.`);
      }
    }
  }
  for (const dm of sortByName(Object.values(cfg.dynamicMaps))) {
    for (const e of dm.entries) {
      if (e.transformSets.length === 0) out.push(`crypto dynamic-map ${dm.name} ${e.seq}: a dynamic map entry needs a transform set.`);
      for (const t of e.transformSets) if (!cfg.transformSets[t]) out.push(`crypto dynamic-map ${dm.name} ${e.seq}: transform set ${t} does not exist.`);
    }
  }
  return out;
}

function policyLines(e: CryptoPolicyEntry): string[] {
  const lines: string[] = [];
  if (e.description !== undefined) lines.push(` description ${e.description}`);
  for (const p of e.peers) lines.push(` set peer ${p}`);
  lines.push(...renderLifetimeLines(e.lifetime, e));
  if (e.perHost) lines.push(' set security-association level per-host');
  return lines;
}

function policyTailLines(e: CryptoPolicyEntry): string[] {
  const lines: string[] = [];
  if (e.transformSets.length > 0) lines.push(` set transform-set ${e.transformSets.join(' ')}`);
  if (e.pfsGroup !== undefined) lines.push(` set pfs group${e.pfsGroup}`);
  if (e.isakmpProfile !== undefined) lines.push(` set isakmp-profile ${e.isakmpProfile}`);
  if (e.ikev2Profile !== undefined) lines.push(` set ikev2-profile ${e.ikev2Profile}`);
  if (e.matchAddress !== undefined) lines.push(` match address ${e.matchAddress}`);
  if (e.reverseRoute !== undefined) lines.push(reverseRouteLine(e));
  // the tag rides on `reverse-route tag N [static]` when that form can carry it
  if (e.reverseRouteTag !== undefined && (e.reverseRoute === undefined || e.reverseRouteRemotePeer)) lines.push(` set reverse-route tag ${e.reverseRouteTag}`);
  if (e.reverseRouteDistance !== undefined) lines.push(` set reverse-route distance ${e.reverseRouteDistance}`);
  return lines;
}

function reverseRouteLine(e: CryptoPolicyEntry): string {
  let l = ' reverse-route';
  if (e.reverseRouteRemotePeer) l += e.reverseRouteRemotePeer.address !== undefined ? ` remote-peer ${e.reverseRouteRemotePeer.address}` : ' remote-peer';
  else if (e.reverseRouteTag !== undefined) l += ` tag ${e.reverseRouteTag}`;
  if (e.reverseRoute === 'static') l += ' static';
  return l;
}

function sessionKeyLines(e: CryptoMapEntry): string[] {
  const lines: string[] = [];
  if (!e.sessionKeys) return lines;
  for (const dir of ['inbound', 'outbound'] as const) {
    const k = e.sessionKeys[dir];
    if (k.esp) {
      let l = ` set session-key ${dir} esp ${k.esp.spi}`;
      if (k.esp.cipherKey !== undefined) l += ` cipher ${k.esp.cipherKey}`;
      if (k.esp.authKey !== undefined) l += ` authenticator ${k.esp.authKey}`;
      lines.push(l);
    }
    if (k.ah) lines.push(` set session-key ${dir} ah ${k.ah.spi} ${k.ah.key}`);
  }
  return lines;
}

export function renderCryptoMapSet(set: CryptoMapSet): string[] {
  const v6 = set.ipv6 ? 'ipv6 ' : '';
  const lines: string[] = [];
  if (set.localAddress !== undefined) lines.push(`crypto map ${v6}${set.name} local-address ${set.localAddress}`);
  if (set.isakmpProfile !== undefined) lines.push(`crypto map ${v6}${set.name} isakmp-profile ${set.isakmpProfile}`);
  for (const e of set.entries) {
    if (e.dynamicMap !== undefined) {
      lines.push(`crypto map ${v6}${set.name} ${e.seq} ipsec-isakmp dynamic ${e.dynamicMap}${e.discover ? ' discover' : ''}`);
      continue;
    }
    lines.push(`crypto map ${v6}${set.name} ${e.seq} ${e.kind}`);
    lines.push(...policyLines(e), ...sessionKeyLines(e), ...policyTailLines(e));
  }
  return lines;
}

export function renderDynamicMapSet(set: DynamicMapSet): string[] {
  return set.entries.flatMap((e) => [`crypto dynamic-map ${set.name} ${e.seq}`, ...policyLines(e), ...policyTailLines(e)]);
}

defineSection({
  key: 'dynamicMaps',
  order: 170,
  create: () => ({}),
  render: (cfg) => sortByName(Object.values(cfg.dynamicMaps)).map(renderDynamicMapSet),
});

defineSection({
  key: 'cryptoMaps',
  order: 180,
  create: () => ({}),
  render: (cfg) => sortByName(Object.values(cfg.cryptoMaps)).map(renderCryptoMapSet),
});

/** One searchable entry of a crypto map set, dynamic map entries expanded in place. */
export interface ResolvedMapEntry extends ResolvedIpsecPolicy {
  mapName: string;
  seq: number;
  /** Dynamic map entries referenced at `seq`: the dynamic entry's own sequence number. */
  subSeq?: number;
  /** `dynamic`: an entry of the dynamic map set referenced at `seq` (never initiates). */
  kind: 'isakmp' | 'manual' | 'dynamic';
  dynamicMapName?: string;
  /** TED (`discover`) on the referencing entry. */
  discover?: boolean;
  ipv6: boolean;
  /** ACL name or number; the ACL itself is `cfg.acl.lists[matchAddress]` (may be absent). */
  matchAddress?: string;
  peers: string[];
  perHost: boolean;
  reverseRoute?: 'dynamic' | 'static';
  reverseRouteRemotePeer?: { address?: string };
  reverseRouteTag?: number;
  reverseRouteDistance?: number;
  /** ipsec-manual only. Secret. */
  sessionKeys?: CryptoMapEntry['sessionKeys'];
  /** `crypto map NAME local-address IF`. */
  localAddressInterface?: string;
  /** Set-level `crypto map NAME isakmp-profile` when the entry names none. */
  isakmpProfile?: string;
}

/**
 * The entries of a crypto map set in search order (seq, then dynamic subSeq), each with its
 * resolved IPsec policy. A reference to a missing dynamic map contributes nothing.
 */
export function resolveCryptoMapSet(cfg: Config, name: string): ResolvedMapEntry[] {
  const set = cfg.cryptoMaps[name];
  if (!set) return [];
  return set.entries.flatMap((e) => resolveCryptoMapEntry(cfg, set, e));
}

/**
 * One entry of a crypto map set as resolveCryptoMapSet gives it: one element for a static
 * entry, the dynamic map's entries for a reference to one (none when it is missing).
 */
export function resolveCryptoMapEntry(cfg: Config, set: CryptoMapSet, e: CryptoMapEntry): ResolvedMapEntry[] {
  const common = (p: CryptoPolicyEntry): Omit<ResolvedMapEntry, 'seq' | 'kind' | keyof ResolvedIpsecPolicy> & ResolvedIpsecPolicy => {
    const r: ReturnType<typeof common> = {
      ...resolveIpsecPolicy(cfg, p), mapName: set.name, ipv6: set.ipv6, peers: [...p.peers], perHost: p.perHost,
    };
    if (p.matchAddress !== undefined) r.matchAddress = p.matchAddress;
    if (p.reverseRoute !== undefined) r.reverseRoute = p.reverseRoute;
    if (p.reverseRouteRemotePeer !== undefined) r.reverseRouteRemotePeer = { ...p.reverseRouteRemotePeer };
    if (p.reverseRouteTag !== undefined) r.reverseRouteTag = p.reverseRouteTag;
    if (p.reverseRouteDistance !== undefined) r.reverseRouteDistance = p.reverseRouteDistance;
    if (set.localAddress !== undefined) r.localAddressInterface = set.localAddress;
    if (r.isakmpProfile === undefined && set.isakmpProfile !== undefined) r.isakmpProfile = set.isakmpProfile;
    return r;
  };
  if (e.dynamicMap !== undefined) {
    const dm = cfg.dynamicMaps[e.dynamicMap];
    return (dm?.entries ?? []).map((d) => {
      const r: ResolvedMapEntry = { ...common(d), seq: e.seq, subSeq: d.seq, kind: 'dynamic', dynamicMapName: e.dynamicMap };
      r.revision = Math.max(r.revision, e.revision, dm!.revision);
      if (e.discover) r.discover = true;
      return r;
    });
  }
  const r: ResolvedMapEntry = { ...common(e), seq: e.seq, kind: e.kind === 'ipsec-manual' ? 'manual' : 'isakmp' };
  r.revision = Math.max(r.revision, set.revision);
  if (e.sessionKeys) r.sessionKeys = e.sessionKeys;
  return [r];
}
