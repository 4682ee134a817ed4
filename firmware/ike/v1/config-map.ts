// IKEv1 from the IOS configuration model: ISAKMP policies (with IOS defaults), pre-shared
// keys, keyrings and ISAKMP profiles as the engine's peer configuration; transform sets as
// the engine's proposals; SPD selectors as proxy identities and back; the quick mode a
// crypto map entry (or a VTI's IPsec profile) asks for. Pure functions over the model.
import { effectiveIsakmpPolicies, type IsakmpProfile, type Keyring, type PresharedKey } from '../../config/crypto-isakmp.js';
import type { ResolvedMapEntry } from '../../config/crypto-map.js';
import type { TransformSet as CfgTransformSet } from '../../config/crypto-ipsec.js';
import type { Config } from '../../config/model.js';
import { effectiveIpv4 } from '../../config/interface.js';
import { addrSetToPrefix, formatIp, prefixAddr, prefixLength, ANY_PORTS, type AddrSet, type TrafficSelector } from '../../ipsec/selector.js';
import type { QuickModeRequest } from './engine.js';
import type { IsakmpProfileConfig, KeyringConfig, PeerConfigInput, ProfileIdentity, PskEntry } from './peer-config.js';
import type { IsakmpPolicy as V1Policy, TransformSet as V1TransformSet } from './policy.js';
import type { Selector } from './selectors.js';
import type { CryptoMapEntryV1 } from './quick-mode-policy.js';
import type { EspCipherName, IpsecHmacName } from './algorithms.js';

/** IKEv1's `IP any any` proxy identity (a static VTI's only one). */
export const ANY_SEL: Selector = { addr: '0.0.0.0', prefixLen: 0, protocol: 0, port: 0 };
export const isAnySel = (s: Selector): boolean => s.prefixLen === 0 && s.protocol === 0 && s.port === 0;


const HMAC_WORDS: Record<string, IpsecHmacName> = {
  'esp-md5-hmac': 'md5', 'esp-sha-hmac': 'sha', 'esp-sha256-hmac': 'sha256', 'esp-sha384-hmac': 'sha384', 'esp-sha512-hmac': 'sha512',
  'ah-md5-hmac': 'md5', 'ah-sha-hmac': 'sha', 'ah-sha256-hmac': 'sha256', 'ah-sha384-hmac': 'sha384', 'ah-sha512-hmac': 'sha512',
};
const CIPHERS: Record<string, EspCipherName> = { 'esp-aes': 'esp-aes', 'esp-3des': 'esp-3des', 'esp-des': 'esp-des', 'esp-null': 'esp-null' };

/** Config transform set -> the engine's; undefined for what IKEv1 here cannot offer (GCM, compression). */
export function toV1TransformSet(ts: CfgTransformSet): V1TransformSet | undefined {
  const out: V1TransformSet = { name: ts.name, mode: ts.mode };
  for (const t of ts.transforms) {
    if (CIPHERS[t.name]) {
      out.esp = { ...(out.esp ?? {}), cipher: CIPHERS[t.name]!, ...(t.name === 'esp-aes' ? { keyLenBits: t.keyBits ?? 128 } : {}) };
    } else if (t.name.startsWith('esp-') && HMAC_WORDS[t.name]) {
      if (!out.esp) return undefined; // auth without encryption: not offered here
      out.esp.integrity = HMAC_WORDS[t.name]!;
    } else if (t.name.startsWith('ah-') && HMAC_WORDS[t.name]) {
      out.ah = { integrity: HMAC_WORDS[t.name]! };
    } else {
      return undefined;
    }
  }
  if (!out.esp && !out.ah) return undefined;
  return out;
}

function pskEntry(k: PresharedKey): PskEntry | undefined {
  if (k.keyType !== 0) return undefined; // type 6 needs the master key, which we do not keep
  const e: PskEntry = { key: k.key };
  if (k.address) { e.address = k.address.address; e.mask = k.address.mask; }
  if (k.hostname) e.hostname = k.hostname;
  return e;
}

function keyringConfig(k: Keyring): KeyringConfig {
  const kr: KeyringConfig = { name: k.name, keys: k.keys.flatMap((x) => { const e = pskEntry(x); return e ? [e] : []; }) };
  if (k.vrf) kr.vrf = k.vrf;
  if (k.localAddress) kr.localAddress = { ...(k.localAddress.interface ? { interface: k.localAddress.interface } : {}), ...(k.localAddress.address ? { address: k.localAddress.address } : {}), ...(k.localAddress.vrf ? { vrf: k.localAddress.vrf } : {}) };
  return kr;
}

function profileConfig(p: IsakmpProfile): IsakmpProfileConfig {
  const match: ProfileIdentity[] = [];
  for (const m of p.matchIdentities) {
    if (m.kind === 'address') match.push({ kind: 'address', address: m.address, mask: m.mask, ...(m.vrf ? { vrf: m.vrf } : {}) });
    else if (m.kind === 'host') match.push({ kind: 'fqdn', fqdn: m.host });
    else if (m.kind === 'user') match.push({ kind: 'user-fqdn', userFqdn: m.user });
  }
  const out: IsakmpProfileConfig = { name: p.name, keyrings: [...p.keyrings], match };
  if (p.vrf) out.vrf = p.vrf;
  if (p.selfIdentity) out.selfIdentity = p.selfIdentity.kind === 'user-fqdn' ? { userFqdn: p.selfIdentity.user } : p.selfIdentity.kind;
  if (p.localAddress) out.localAddress = { ...(p.localAddress.interface ? { interface: p.localAddress.interface } : {}), ...(p.localAddress.address ? { address: p.localAddress.address } : {}), ...(p.localAddress.vrf ? { vrf: p.localAddress.vrf } : {}) };
  return out;
}

/** The engine's peer configuration from the IOS model. */
export function peerConfigFrom(cfg: Config): PeerConfigInput {
  const interfaces = Object.entries(cfg.interfaces?.items ?? {}).map(([name, i]) => {
    const ip = effectiveIpv4(cfg, name);
    return { name, ...(ip ? { address: ip.address } : {}), ...(i.vrf ? { vrf: i.vrf } : {}), ...(ip && !i.ipAddress ? { unnumbered: true } : {}) };
  });
  return {
    globalKeys: (cfg.isakmpKeys?.keys ?? []).flatMap((k) => { const e = pskEntry(k); return e ? [e] : []; }),
    keyrings: Object.values(cfg.keyrings ?? {}).sort((a, b) => a.name.localeCompare(b.name)).map(keyringConfig),
    profiles: Object.values(cfg.isakmpProfiles ?? {}).sort((a, b) => a.name.localeCompare(b.name)).map(profileConfig),
    interfaces,
    hostname: cfg.system?.hostname ?? 'Router',
    ...(cfg.system?.domainName !== undefined ? { domainName: cfg.system.domainName } : {}),
  };
}

export function policiesFrom(cfg: Config): V1Policy[] {
  return effectiveIsakmpPolicies(cfg).map((p) => ({
    priority: p.priority, encryption: p.encryption, hash: p.hash, authentication: p.authentication, group: p.group, lifetimeSec: p.lifetimeSec,
  }));
}

/** Data plane selector -> IKE proxy identity (prefix, protocol, single port or any). */
export function addrToSel(a: AddrSet, proto: number, ports: { lo: number; hi: number }): Selector | undefined {
  const p = addrSetToPrefix(a);
  if (!p || p.family !== 4) return undefined;
  const len = prefixLength(p);
  if (len === undefined) return undefined;
  return { addr: formatIp({ family: 4, value: p.addr }), prefixLen: len, protocol: proto, port: ports.lo === ports.hi ? ports.lo : 0 };
}

export function selsToTraffic(local: Selector, remote: Selector): TrafficSelector {
  const port = (p: number): { lo: number; hi: number } => (p === 0 ? ANY_PORTS : { lo: p, hi: p });
  return {
    family: 4, src: prefixAddr(local.addr, local.prefixLen), dst: prefixAddr(remote.addr, remote.prefixLen), proto: local.protocol || remote.protocol,
    srcPorts: port(local.port), dstPorts: port(remote.port),
  };
}

export const selKey = (s: Selector): string => `${s.addr}/${s.prefixLen}:${s.protocol}:${s.port}`;
export const formatSel = (s: Selector): string => `${s.addr}/${s.prefixLen}${s.protocol ? ` proto ${s.protocol}` : ''}${s.port ? ` port ${s.port}` : ''}`;

/**
 * The sets IKE offers/accepts for a flow. IOS uses `mode transport` only when the protected
 * traffic is between hosts (the peers themselves); for subnets it negotiates tunnel mode.
 */
export function setsForFlow(r: Pick<ResolvedMapEntry, 'transformSets'>, local: Selector, remote: Selector): V1TransformSet[] {
  const hosts = local.prefixLen === 32 && remote.prefixLen === 32;
  return r.transformSets.map(toV1TransformSet).filter((x): x is V1TransformSet => x !== undefined)
    .map((x) => (x.mode === 'transport' && !hosts ? { ...x, mode: 'tunnel' } : x));
}

/** What a quick mode takes from a crypto map entry or an IPsec profile. */
export type QuickModePolicy = Pick<ResolvedMapEntry, 'transformSets' | 'pfsGroup' | 'lifetimeSec' | 'lifetimeKb'>;

/** The quick mode for a flow under `r` with `sets` (by default its sets for the flow). */
export function quickModeFor(r: QuickModePolicy, local: Selector, remote: Selector, sets = setsForFlow(r, local, remote)): QuickModeRequest {
  return {
    localSel: local, remoteSel: remote, transformSets: sets, ...(r.pfsGroup !== undefined ? { pfsGroup: r.pfsGroup } : {}),
    lifetimeSec: r.lifetimeSec, lifetimeKb: r.lifetimeKb === 'disable' ? 4608000 : r.lifetimeKb,
  };
}

/** The quick mode an initiator offers for a flow under `r`; undefined without a set IKEv1 can offer. */
export function v1Request(r: QuickModePolicy, local: Selector, remote: Selector): QuickModeRequest | undefined {
  const sets = setsForFlow(r, local, remote);
  return sets.length === 0 ? undefined : quickModeFor(r, local, remote, sets);
}

/** A responder's one-entry view of what it would accept: exactly `req`'s proxies, sets, PFS and lifetimes. */
export function responderEntry(mapName: string, seq: number, req: Pick<QuickModeRequest, 'localSel' | 'remoteSel' | 'transformSets' | 'pfsGroup' | 'lifetimeSec' | 'lifetimeKb'>): CryptoMapEntryV1 {
  return {
    mapName, seq, peers: [], permits: [{ local: req.localSel, remote: req.remoteSel }], transformSets: req.transformSets,
    ...(req.pfsGroup !== undefined ? { pfsGroup: req.pfsGroup } : {}), lifetimeSec: req.lifetimeSec, lifetimeKb: req.lifetimeKb,
  };
}

function maskOfLen(len: number): string {
  const m = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return `${m >>> 24}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}`;
}

/** "permit ip 10.1.0.0/255.255.255.0 10.2.0.0/255.255.255.0" (IOS `show crypto session` form). */
export function flowText(local: Selector, remote: Selector): string {
  const proto = local.protocol === 0 ? 'ip' : local.protocol === 6 ? 'tcp' : local.protocol === 17 ? 'udp' : local.protocol === 1 ? 'icmp' : String(local.protocol);
  const side = (s: Selector): string => (s.prefixLen === 32 ? `host ${s.addr}` : `${s.addr}/${maskOfLen(s.prefixLen)}`);
  return `permit ${proto} ${side(local)} ${side(remote)}`;
}
