// Maps the IOS model (crypto ikev2 proposal/policy/keyring/profile, crypto maps with
// `set ikev2-profile`, transform sets, crypto ACLs) to the IKEv2 core's config-types.
// One engine connection per (crypto map entry, permit entry of its ACL): IOS negotiates one
// SA pair per permit entry, and the permit entry is the traffic selector pair.
import { aclEntrySelector, aclRules } from '../config/acl.js';
import {
  effectiveIkev2Policies, policyProposals, type Ikev2Profile, type Ikev2Proposal, type Ikev2RemoteIdentityMatch,
} from '../config/crypto-ikev2.js';
import { transformWords, type TransformSet } from '../config/crypto-ipsec.js';
import { resolveCryptoMapSet, type ResolvedMapEntry } from '../config/crypto-map.js';
import type { Config } from '../config/model.js';
import type {
  ChildProposalConfig, IkePolicyConfig, IkeProposalConfig, Ikev2Config, Ikev2Connection, Ikev2EncrName, Ikev2Identity,
  Ikev2IntegName, PskResult, SelectorConfig,
} from '../ike/v2/config-types.js';
import { aclEntryFromConfig } from '../ipsec/acl-classifier.js';
import { addrSetBounds, ANY_PORTS, anyAddr, formatIpValue, parseIp, selectorKey, type TrafficSelector } from '../ipsec/selector.js';
import { aceToSelector } from '../ipsec/spd.js';
import { activeStaticVtis, ikev2FvrfProblem, tunnelMapTag, virtualTemplate, type StaticVti } from '../config/vti.js';
import { reverseRouteSpecOf } from './reverse-route.js';
import type { ReverseRouteSpec } from './temporary-entries.js';

/** What the service needs to know about an engine connection besides the engine's view. */
export interface ConnectionMeta {
  name: string;
  iface: string;
  mapName: string;
  seq: number;
  /** Index of the permit entry in the ACL (the SPD's aceIndex). */
  aceIndex: number;
  aclName: string;
  /** The SPD's outbound bundle key for this permit entry (`map/seq|scopeKey`). */
  policyKey: string;
  /** The permit entry as a local -> remote selector. */
  scope: TrafficSelector;
  /** IOS text of the permit entry, for show output. */
  aceText: string;
  profile: string;
  peer: string;
  /** Connection of the first `set peer` (acquire target); this one is peer number `peerIndex`. */
  baseName: string;
  peerIndex: number;
  peerCount: number;
  localAddress: string;
  replayWindow: number;
  lifetimeSec: number;
  lifetimeKb?: number;
  mode: 'tunnel' | 'transport';
  /** A tunnel interface's connection (static VTI): its name; the SA pair belongs to it. */
  vti?: string;
  /** A dynamic VTI's connection: each session gets a Virtual-Access cloned from Virtual-Template<n>. */
  vtemplate?: number;
  /** Its IKEv2 profile's `ivrf` (single template model): the Virtual-Access's VRF. */
  ivrf?: string;
  /** `show crypto ikev2 sa` / `show crypto session detail`: front-door and inside VRFs (undefined: global) */
  showFvrf?: string;
  showIvrf?: string;
  /** A dynamic map template entry: its Child SAs go under a temporary crypto map entry. */
  dynamic?: { dynamicMapName: string; dynamicSeq: number; transformSets: string[]; pfsGroup?: string; reverseRoute?: ReverseRouteSpec };
}

export interface MappedIkev2Config {
  /** Without `psk` (the service adds it, bound to its keyring lookup). */
  config: Omit<Ikev2Config, 'psk'>;
  meta: Map<string, ConnectionMeta>;
  /** Interface addresses that carry a crypto map with IKEv2 entries (we listen there). */
  listenAddresses: string[];
  /** Entries skipped and why (for logs and `show crypto ikev2 diagnose`). */
  problems: string[];
}

/** Any IPv4 flow: the selectors of a dynamic entry without an access list. */
const ANY_IPV4_FLOW: TrafficSelector = {
  family: 4, src: { kind: 'mask', family: 4, addr: 0n, wildcard: 0xffffffffn }, dst: { kind: 'mask', family: 4, addr: 0n, wildcard: 0xffffffffn },
  proto: 0, srcPorts: { lo: 0, hi: 65535 }, dstPorts: { lo: 0, hi: 65535 },
};

const maskBits = (mask: string): number => mask.split('.').reduce((n, o) => n + ((Number(o) >>> 0).toString(2).match(/1/g)?.length ?? 0), 0);

export function ikeProposalFromModel(p: Readonly<Ikev2Proposal>): IkeProposalConfig {
  const out: IkeProposalConfig = { name: p.name, encryption: [...p.encryption] as Ikev2EncrName[], dhGroups: [...p.group] };
  const aeadOnly = p.encryption.every((e) => e.startsWith('aes-gcm'));
  if (!aeadOnly && p.integrity.length > 0) out.integrity = [...p.integrity] as Ikev2IntegName[];
  if (p.prf.length > 0) out.prf = [...p.prf];
  else if (aeadOnly && p.integrity.length > 0) out.prf = [...p.integrity];
  return out;
}

/** IKE proposals of the first IKEv2 policy that applies to a local address (IOS order). */
export function initiatorIkeProposals(cfg: Config, localAddress: string): IkeProposalConfig[] {
  for (const pol of effectiveIkev2Policies(cfg)) {
    if (pol.matchAddressLocal.length > 0 && !pol.matchAddressLocal.includes(localAddress)) continue;
    return policyProposals(cfg, pol).map(ikeProposalFromModel);
  }
  return [];
}

export function responderPolicies(cfg: Config): IkePolicyConfig[] {
  return effectiveIkev2Policies(cfg).map((pol) => {
    const out: IkePolicyConfig = { name: pol.name, proposals: policyProposals(cfg, pol).map(ikeProposalFromModel) };
    if (pol.matchAddressLocal.length > 0) out.matchLocalAddresses = [...pol.matchAddressLocal];
    return out;
  });
}

/** An IOS transform set as an ESP child proposal, or undefined when IKEv2 cannot offer it (AH, IPComp, null...). */
export function childProposalFromSet(set: TransformSet): ChildProposalConfig | undefined {
  const words = transformWords(set);
  let encryption: Ikev2EncrName | undefined;
  let integrity: Ikev2IntegName | undefined;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const bits = /^\d+$/.test(words[i + 1] ?? '') ? Number(words[i + 1]) : undefined;
    switch (w) {
      case 'esp-aes': encryption = `aes-cbc-${bits ?? 128}` as Ikev2EncrName; break;
      case 'esp-gcm': encryption = `aes-gcm-${bits ?? 128}` as Ikev2EncrName; break;
      case 'esp-3des': encryption = '3des'; break;
      case 'esp-des': encryption = 'des'; break;
      case 'esp-md5-hmac': integrity = 'md5'; break;
      case 'esp-sha-hmac': integrity = 'sha1'; break;
      case 'esp-sha256-hmac': integrity = 'sha256'; break;
      case 'esp-sha384-hmac': integrity = 'sha384'; break;
      case 'esp-sha512-hmac': integrity = 'sha512'; break;
      default:
        if (/^\d+$/.test(w)) break;
        return undefined; // ah-*, comp-lzs, esp-null, esp-gmac, esp-seal: not offered over IKEv2
    }
  }
  if (!encryption) return undefined;
  const gcm = encryption.startsWith('aes-gcm');
  if (!gcm && !integrity) return undefined;
  const out: ChildProposalConfig = { name: set.name, encryption: [encryption] };
  if (!gcm && integrity) out.integrity = [integrity];
  return out;
}

/** Transform-set words for what was negotiated (RFC names from ChildSaInfo). */
export function wordsForNegotiated(encryption: string, integrity: string | undefined): string[] | undefined {
  const out: string[] = [];
  let m: RegExpExecArray | null;
  if ((m = /^ENCR_AES_CBC_(\d+)$/.exec(encryption))) out.push('esp-aes', m[1]!);
  else if ((m = /^ENCR_AES_GCM_16_(\d+)$/.exec(encryption))) out.push('esp-gcm', m[1]!);
  else if (encryption === 'ENCR_3DES') out.push('esp-3des');
  else if (encryption === 'ENCR_DES') out.push('esp-des');
  else return undefined;
  if (integrity !== undefined && integrity !== 'INTEG_NONE') {
    const w = ({
      AUTH_HMAC_MD5_96: 'esp-md5-hmac', AUTH_HMAC_SHA1_96: 'esp-sha-hmac', AUTH_HMAC_SHA2_256_128: 'esp-sha256-hmac',
      AUTH_HMAC_SHA2_384_192: 'esp-sha384-hmac', AUTH_HMAC_SHA2_512_256: 'esp-sha512-hmac',
    } as Record<string, string>)[integrity];
    if (!w) return undefined;
    out.push(w);
  }
  return out;
}

function selectorSide(s: TrafficSelector, side: 'src' | 'dst'): SelectorConfig {
  const set = side === 'src' ? s.src : s.dst;
  const [lo, hi] = addrSetBounds(set);
  const ports = side === 'src' ? s.srcPorts : s.dstPorts;
  const out: SelectorConfig = { startAddress: formatIpValue(s.family, lo), endAddress: formatIpValue(s.family, hi) };
  if (s.proto !== 0) out.protocol = s.proto;
  if (ports.lo !== 0 || ports.hi !== 65535) { out.startPort = ports.lo; out.endPort = ports.hi; }
  return out;
}

function ipv4InMask(address: string, base: string, bits: number): boolean {
  try {
    const a = parseIp(address);
    const b = parseIp(base);
    if (a.family !== 4 || b.family !== 4) return a.family === b.family && a.value === b.value;
    const mask = bits === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - bits)) - 1n);
    return (a.value & mask) === (b.value & mask);
  } catch {
    return false;
  }
}

export function remoteIdentityMatches(m: Ikev2RemoteIdentityMatch, id: Ikev2Identity): boolean {
  switch (m.kind) {
    case 'address': {
      if (id.type !== 'ipv4' && id.type !== 'ipv6') return false;
      if (m.prefix !== undefined) {
        const [base, len] = m.prefix.split('/');
        return ipv4InMask(id.value, base!, Number(len));
      }
      // `match identity remote address 0.0.0.0` (no mask) is IOS's wildcard for any address
      if (m.mask === undefined && m.address === '0.0.0.0') return true;
      return ipv4InMask(id.value, m.address, m.mask !== undefined ? maskBits(m.mask) : 32);
    }
    case 'fqdn': case 'email':
      if (id.type !== m.kind) return false;
      return m.domain ? id.value.toLowerCase().endsWith(m.value.toLowerCase()) : id.value.toLowerCase() === m.value.toLowerCase();
    case 'key-id':
      return id.type === 'key-id' && id.value === m.value;
  }
}

function localIdentity(p: Ikev2Profile): Ikev2Identity | undefined {
  const i = p.identityLocal;
  if (!i || i.kind === 'dn') return undefined;
  if (i.kind === 'address') return { type: i.value.includes(':') ? 'ipv6' : 'ipv4', value: i.value };
  return { type: i.kind, value: i.value };
}

function interfaceAddress(cfg: Config, name: string | undefined): string | undefined {
  if (!name) return undefined;
  const i = cfg.interfaces?.items[name];
  return i?.ipAddress?.address ?? (i?.unnumbered ? cfg.interfaces.items[i.unnumbered]?.ipAddress?.address : undefined);
}

/** IOS `show crypto session detail` flow text: `permit ip 10.1.0.0/255.255.255.0 10.2.0.0/255.255.255.0`. */
export function aceText(s: TrafficSelector): string {
  const side = (set: TrafficSelector['src']): string => {
    const [lo, hi] = addrSetBounds(set);
    const a = formatIpValue(s.family, lo);
    if (lo === hi) return `host ${a}`;
    const span = hi - lo + 1n;
    if (s.family === 4 && (span & (span - 1n)) === 0n && (lo & (span - 1n)) === 0n) {
      const mask = (0xffffffffn ^ (span - 1n));
      return `${a}/${formatIpValue(4, mask)}`;
    }
    return `${a}-${formatIpValue(s.family, hi)}`;
  };
  const proto = s.proto === 0 ? 'ip' : s.proto === 1 ? 'icmp' : s.proto === 6 ? 'tcp' : s.proto === 17 ? 'udp' : String(s.proto);
  return `permit ${proto} ${side(s.src)} ${side(s.dst)}`;
}

/** Identities, DPD and NAT settings of an IKEv2 profile, onto a connection. */
function applyProfile(conn: Ikev2Connection, profile: Ikev2Profile): void {
  const lid = localIdentity(profile);
  if (lid) conn.localId = lid;
  if (profile.matchIdentityRemote.length > 0) {
    const matches = profile.matchIdentityRemote;
    conn.matchRemoteId = (id) => matches.some((m) => remoteIdentityMatches(m, id));
    // Initiator check of the responder's IDr: the profile's matches, as IOS does.
    const first = matches[0]!;
    if (first.kind === 'address' && first.mask === undefined && first.prefix === undefined) conn.remoteId = { type: 'ipv4', value: first.address };
  }
  if (profile.dpd) conn.dpd = { ...profile.dpd };
  if (profile.natForceEncap) conn.forceEncap = true;
}

const ANY_V4: SelectorConfig = { startAddress: '0.0.0.0', endAddress: '255.255.255.255' };
const ANY_SCOPE: TrafficSelector = { family: 4, src: anyAddr(4), dst: anyAddr(4), proto: 0, srcPorts: ANY_PORTS, dstPorts: ANY_PORTS };

/** The engine connection of a static VTI whose IPsec profile names an IKEv2 profile: one SA pair, any/any. */
export function mapStaticVti(cfg: Config, v: StaticVti, problems: string[]): { conn: Ikev2Connection; meta: ConnectionMeta } | undefined {
  const pol = v.policy;
  if (!pol?.ikev2Profile || !v.local || !v.peer) return undefined;
  const where = `interface ${v.name}`;
  const profile = cfg.ikev2Profiles?.[pol.ikev2Profile];
  if (!profile) { problems.push(`${where}: ikev2 profile ${pol.ikev2Profile} does not exist`); return undefined; }
  if (!profile.keyringLocal) problems.push(`${where}: ikev2 profile ${profile.name} has no keyring local (authentication will fail)`);
  const fvrfProblem = ikev2FvrfProblem(profile, v.frontDoorVrf);
  if (fvrfProblem) { problems.push(`${where}: ${fvrfProblem}`); return undefined; }
  const childProposals: ChildProposalConfig[] = [];
  for (const set of pol.transformSets) {
    const p = childProposalFromSet(set);
    if (p) childProposals.push(p);
    else problems.push(`${where}: transform set ${set.name} cannot be negotiated with IKEv2`);
  }
  if (childProposals.length === 0) { problems.push(`${where}: no usable transform set`); return undefined; }
  const name = `vti:${v.name}`;
  const conn: Ikev2Connection = {
    name, localAddress: v.local, remoteAddress: v.peer, ikeProposals: initiatorIkeProposals(cfg, v.local), childProposals,
    localSelectors: [ANY_V4], remoteSelectors: [ANY_V4], exactSelectors: true,
    mode: 'tunnel', ikeLifetimeSec: profile.lifetimeSec, childLifetimeSec: pol.lifetimeSec,
  };
  if (pol.lifetimeKb !== 'disable') conn.childLifetimeKb = pol.lifetimeKb;
  if (pol.pfsGroup !== undefined) conn.pfsGroup = Number(pol.pfsGroup);
  applyProfile(conn, profile);
  const meta: ConnectionMeta = {
    name, baseName: name, peerIndex: 0, peerCount: 1, iface: v.name, mapName: tunnelMapTag(v.name), seq: 0, aceIndex: 0, aclName: '',
    policyKey: v.policyKey, scope: ANY_SCOPE, aceText: aceText(ANY_SCOPE), profile: profile.name, peer: v.peer, localAddress: v.local,
    replayWindow: pol.replayDisabled ? 0 : pol.replayWindow, lifetimeSec: pol.lifetimeSec, mode: 'tunnel', vti: v.name,
    ...(v.frontDoorVrf !== undefined ? { showFvrf: v.frontDoorVrf } : {}), ...(v.vrf !== undefined ? { showIvrf: v.vrf } : {}),
  };
  if (pol.lifetimeKb !== 'disable') meta.lifetimeKb = pol.lifetimeKb;
  return { conn, meta };
}

/**
 * The responder connection of an IKEv2 profile with `virtual-template N` (dynamic VTI): any
 * peer its identity matches; the peer's selectors are accepted as proposed (any/any or its
 * proxies, which become routes into the session's Virtual-Access interface). IKE answers on
 * the address the template borrows (`ip unnumbered`).
 */
export function mapVirtualTemplate(cfg: Config, profile: Ikev2Profile, problems: string[]): { conn: Ikev2Connection; meta: ConnectionMeta } | undefined {
  const n = profile.virtualTemplate!;
  const where = `ikev2 profile ${profile.name}`;
  const t = virtualTemplate(cfg, n);
  if (typeof t === 'string') { problems.push(`${where}: ${t}`); return undefined; }
  const fvrfProblem = ikev2FvrfProblem(profile, t.frontDoorVrf);
  if (fvrfProblem) { problems.push(`${where}: ${fvrfProblem}`); return undefined; }
  const childProposals = t.policy.transformSets.map(childProposalFromSet).filter((p): p is ChildProposalConfig => p !== undefined);
  if (childProposals.length === 0) { problems.push(`${where}: ${t.name}: no transform set IKEv2 can offer`); return undefined; }
  const name = `vt:${profile.name}`;
  const conn: Ikev2Connection = {
    name, remoteAddress: '0.0.0.0/0', ikeProposals: t.local ? initiatorIkeProposals(cfg, t.local) : [], childProposals,
    localSelectors: [ANY_V4], remoteSelectors: [ANY_V4], mode: 'tunnel', ikeLifetimeSec: profile.lifetimeSec, childLifetimeSec: t.policy.lifetimeSec,
  };
  if (t.local) conn.localAddress = t.local;
  if (t.policy.lifetimeKb !== 'disable') conn.childLifetimeKb = t.policy.lifetimeKb;
  if (t.policy.pfsGroup !== undefined) conn.pfsGroup = Number(t.policy.pfsGroup);
  applyProfile(conn, profile);
  const meta: ConnectionMeta = {
    name, baseName: name, peerIndex: 0, peerCount: 1, iface: t.name, mapName: tunnelMapTag(t.name), seq: 0, aceIndex: 0, aclName: '',
    policyKey: name, scope: ANY_SCOPE, aceText: aceText(ANY_SCOPE), profile: profile.name, peer: '0.0.0.0', localAddress: t.local ?? '',
    replayWindow: t.policy.replayDisabled ? 0 : t.policy.replayWindow, lifetimeSec: t.policy.lifetimeSec, mode: 'tunnel', vtemplate: n,
    ...(profile.ivrf !== undefined ? { ivrf: profile.ivrf } : {}),
    ...(t.frontDoorVrf !== undefined ? { showFvrf: t.frontDoorVrf } : {}),
    ...((profile.ivrf ?? t.config.vrf) !== undefined ? { showIvrf: (profile.ivrf ?? t.config.vrf)! } : {}),
  };
  if (t.policy.lifetimeKb !== 'disable') meta.lifetimeKb = t.policy.lifetimeKb;
  return { conn, meta };
}

/** The whole mapping, recomputed on every configuration change (cheap: a few entries). */
export function mapIkev2Config(cfg: Config, opts: { cookieThreshold?: number; resolve?: (name: string) => readonly ResolvedMapEntry[] } = {}): MappedIkev2Config {
  const resolve = opts.resolve ?? ((name: string) => resolveCryptoMapSet(cfg, name));
  const connections: Ikev2Connection[] = [];
  const meta = new Map<string, ConnectionMeta>();
  const listen = new Set<string>();
  const problems: string[] = [];
  const ifaces = Object.keys(cfg.interfaces?.items ?? {}).sort();
  for (const iface of ifaces) {
    const itf = cfg.interfaces.items[iface]!;
    if (!itf.cryptoMap) continue;
    const resolved = resolve(itf.cryptoMap);
    const local = interfaceAddress(cfg, resolved[0]?.localAddressInterface ?? iface);
    for (const r of resolved) {
      if (r.kind === 'manual' || r.ikev2Profile === undefined) continue;
      const dynamic = r.kind === 'dynamic';
      const where = dynamic ? `crypto dynamic-map ${r.dynamicMapName} ${r.subSeq} (crypto map ${r.mapName} ${r.seq})` : `crypto map ${r.mapName} ${r.seq}`;
      const profile = cfg.ikev2Profiles?.[r.ikev2Profile];
      if (!profile) { problems.push(`${where}: ikev2 profile ${r.ikev2Profile} does not exist`); continue; }
      if (!local) { problems.push(`${where}: interface ${iface} has no IP address`); continue; }
      if (!profile.keyringLocal) problems.push(`${where}: ikev2 profile ${profile.name} has no keyring local (authentication will fail)`);
      else if (!cfg.ikev2Keyrings?.[profile.keyringLocal]) problems.push(`${where}: keyring ${profile.keyringLocal} of ikev2 profile ${profile.name} does not exist`);
      listen.add(local);
      const peers = r.peers.filter((p) => { try { parseIp(p); return true; } catch { problems.push(`${where}: peer ${p} is not an address (hostnames are not resolved)`); return false; } });
      // a dynamic template answers any peer unless it names some
      if (dynamic && peers.length === 0) peers.push('0.0.0.0/0');
      if (peers.length === 0) { problems.push(`${where}: no peer`); continue; }
      const acl = r.matchAddress !== undefined ? cfg.acl?.lists[r.matchAddress] : undefined;
      if (!acl && !(dynamic && r.matchAddress === undefined)) { problems.push(`${where}: access list ${r.matchAddress ?? '(none)'} missing`); continue; }
      const childProposals: ChildProposalConfig[] = [];
      for (const set of r.transformSets) {
        const p = childProposalFromSet(set);
        if (p) childProposals.push(p);
        else problems.push(`${where}: transform set ${set.name} cannot be negotiated with IKEv2`);
      }
      if (childProposals.length === 0) { problems.push(`${where}: no usable transform set`); continue; }
      const mode = r.transformSets[0]?.mode === 'transport' ? 'transport' : 'tunnel';
      const ikeProposals = initiatorIkeProposals(cfg, local);
      // a dynamic entry without `match address` takes any flow the peer proposes
      const rules = acl ? aclRules(acl) : [undefined];
      for (let i = 0; i < rules.length; i++) {
        const rule = rules[i];
        if (rule && rule.action !== 'permit') continue;
        let scope: TrafficSelector;
        try {
          scope = rule ? aceToSelector(aclEntryFromConfig(aclEntrySelector(rule))) : ANY_IPV4_FLOW;
        } catch (e) {
          problems.push(`${where}: ACL ${r.matchAddress} entry ${i + 1}: ${(e as Error).message}`);
          continue;
        }
        const baseName = dynamic ? `${r.mapName}/${r.seq}/${r.subSeq}/d${i}` : `${r.mapName}/${r.seq}/${i}`;
        // one connection per `set peer` (the responder accepts any; the initiator starts with the first)
        peers.forEach((peer, peerIndex) => {
          const name = peerIndex === 0 ? baseName : `${baseName}@${peerIndex}`;
          const conn: Ikev2Connection = {
            name, localAddress: local, remoteAddress: peer, ikeProposals, childProposals,
            localSelectors: [selectorSide(scope, 'src')], remoteSelectors: [selectorSide(scope, 'dst')],
            mode, ikeLifetimeSec: profile.lifetimeSec, childLifetimeSec: r.lifetimeSec,
          };
          if (r.lifetimeKb !== 'disable') conn.childLifetimeKb = r.lifetimeKb;
          if (r.pfsGroup !== undefined) conn.pfsGroup = Number(r.pfsGroup);
          applyProfile(conn, profile);
          if (dynamic) { conn.strictSelectors = true; conn.responderOnly = true; }
          connections.push(conn);
          const m: ConnectionMeta = {
            name, baseName, peerIndex, peerCount: peers.length, iface, mapName: r.mapName, seq: r.seq, aceIndex: i, aclName: r.matchAddress ?? '', policyKey: `${r.mapName}/${r.seq}|${selectorKey(scope)}`,
            scope, aceText: aceText(scope), profile: profile.name, peer, localAddress: local,
            replayWindow: r.replayDisabled ? 0 : r.replayWindow, lifetimeSec: r.lifetimeSec, mode,
          };
          if (r.lifetimeKb !== 'disable') m.lifetimeKb = r.lifetimeKb;
          if (dynamic) {
            const rr = reverseRouteSpecOf(r);
            m.dynamic = {
              dynamicMapName: r.dynamicMapName ?? '', dynamicSeq: r.subSeq ?? 0, transformSets: r.transformSets.map((t) => t.name),
              ...(r.pfsGroup !== undefined ? { pfsGroup: String(r.pfsGroup) } : {}), ...(rr ? { reverseRoute: rr } : {}),
            };
          }
          meta.set(name, m);
        });
      }
    }
  }
  for (const v of activeStaticVtis(cfg)) {
    const m = mapStaticVti(cfg, v, problems);
    if (!m) continue;
    connections.push(m.conn);
    meta.set(m.conn.name, m.meta);
    listen.add(v.local!);
  }
  for (const profile of Object.values(cfg.ikev2Profiles ?? {}).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (profile.virtualTemplate === undefined) continue;
    const m = mapVirtualTemplate(cfg, profile, problems);
    if (!m) continue;
    connections.push(m.conn);
    meta.set(m.conn.name, m.meta);
    if (m.conn.localAddress) listen.add(m.conn.localAddress);
  }
  const config: Omit<Ikev2Config, 'psk'> = {
    connections, policies: responderPolicies(cfg), retransmit: { initialTimeoutMs: 1000, maxRetries: 5 },
  };
  if (opts.cookieThreshold !== undefined) config.cookieThreshold = opts.cookieThreshold;
  return { config, meta, listenAddresses: [...listen].sort(), problems };
}

/** Keyring lookup for a connection (`keyring local NAME` of its profile); never logs keys. */
export function lookupPsk(cfg: Config, profileName: string | undefined, remoteAddress: string, peerId?: Ikev2Identity): PskResult | undefined {
  const profile = profileName ? cfg.ikev2Profiles?.[profileName] : undefined;
  if (!profile?.keyringLocal) return undefined;
  const kr = cfg.ikev2Keyrings?.[profile.keyringLocal];
  if (!kr) return undefined;
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const byAddr = kr.peers.find((p) => {
    const a = p.address;
    if (!a) return false;
    if (a.prefix !== undefined) { const [b, l] = a.prefix.split('/'); return ipv4InMask(remoteAddress, b!, Number(l)); }
    return ipv4InMask(remoteAddress, a.address, a.mask !== undefined ? maskBits(a.mask) : 32);
  });
  const byId = peerId ? kr.peers.find((p) => p.identity && (
    (p.identity.kind === 'address' && (peerId.type === 'ipv4' || peerId.type === 'ipv6') && p.identity.value === peerId.value) ||
    (p.identity.kind !== 'address' && p.identity.kind === peerId.type && p.identity.value === peerId.value))) : undefined;
  const peer = byAddr ?? byId;
  if (!peer) return undefined;
  const both = peer.presharedKey?.key;
  const local = peer.localKey?.key ?? both;
  const remote = peer.remoteKey?.key ?? both;
  if (local === undefined || remote === undefined) return undefined;
  return { local: enc(local), remote: enc(remote), source: `keyring ${kr.name} peer ${peer.name}` };
}
