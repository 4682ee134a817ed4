// Static virtual tunnel interfaces as the runtime needs them: every `interface TunnelN` with
// `tunnel mode ipsec ipv4`, its endpoints resolved to addresses (`tunnel source` may name an
// interface), its IPsec profile resolved, and why it cannot come up when it cannot. The data
// plane, IKEv1 and IKEv2 all read this one view, so they agree on which tunnels exist.

import { interfaceTypeOf, SHORT_TYPE } from './interface-names.js';
import { maskLength } from './routing.js';
import { resolveIpsecProfile, type ResolvedIpsecPolicy } from './crypto-ipsec.js';
import type { Config } from './model.js';
import type { InterfaceConfig } from './interface.js';

export interface StaticVti {
  /** `Tunnel0`. */
  name: string;
  /** The Linux device carrying it on the userspace backend (`Tu0`). */
  device: string;
  /** The SAD outbound key of its one SA pair. */
  policyKey: string;
  shutdown: boolean;
  /** `tunnel source` as an address. */
  local?: string;
  /** `tunnel destination`. */
  peer?: string;
  profileName?: string;
  policy?: ResolvedIpsecPolicy;
  /** Addresses of the tunnel interface as `A.B.C.D/len` (`ip unnumbered`: the borrowed one as /32). */
  addresses: string[];
  ipMtu?: number;
  tcpAdjustMss?: number;
  vrf?: string;
  /**
   * The front-door VRF carrying its IKE and ESP: `tunnel vrf V` on a static VTI (as on IOS, the
   * tunnel source's VRF does not count); for a Virtual-Access, the VRF of the port owning the
   * address its template borrows (where its peer arrived).
   */
  frontDoorVrf?: string;
  /** Why it cannot carry traffic (missing piece), undefined when complete. */
  problem?: string;
  /** Changes when anything it is built from changes. */
  signature: string;
}

/** Linux device name of a tunnel interface: IOS's short form (`Tunnel0` -> `Tu0`, `Virtual-Access12` -> `Vi12`). */
export function tunnelDeviceName(name: string): string {
  const type = interfaceTypeOf(name);
  return type ? SHORT_TYPE[type] + name.slice(type.length) : name;
}

/**
 * XFRM interface id of a tunnel interface on a kernel with ESP (`if_id` of its SAs and
 * policies, and of the `xfrm` link carrying it): TunnelN -> N + 1, Virtual-AccessN -> 0x10000 + N.
 */
export function tunnelIfId(name: string): number | undefined {
  const m = /^(Tunnel|Virtual-Access)(\d+)$/.exec(name);
  if (!m) return undefined;
  return m[1] === 'Tunnel' ? Number(m[2]) + 1 : 0x10000 + Number(m[2]);
}

/** The SAD policy key of a tunnel interface's SA pair. */
export function vtiPolicyKey(name: string): string {
  return `vti:${name}`;
}

/** `Tunnel0-head-0`: IOS's crypto map tag of a tunnel interface's SAs (show crypto ipsec sa). */
export function tunnelMapTag(name: string): string {
  return `${name}-head-0`;
}

/**
 * How long a static VTI without SA waits before its IKE initiates: the side with the lower
 * address first, the other later, so both rarely start at once (a collision still works: the
 * newest SA pair carries the traffic).
 */
export function tunnelRetryDelayMs(local: string, peer: string): number {
  const v = (x: string): number => x.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  return v(local) < v(peer) ? 2000 : 6000;
}

/** `tunnel source` (interface or address) as an address. */
export function tunnelSourceAddress(cfg: Config, source: string | undefined): string | undefined {
  if (source === undefined) return undefined;
  if (/^\d+\.\d+\.\d+\.\d+$/.test(source)) return source;
  const i = cfg.interfaces?.items[source];
  return i?.ipAddress?.address ?? (i?.unnumbered ? cfg.interfaces.items[i.unnumbered]?.ipAddress?.address : undefined);
}

function tunnelAddresses(cfg: Config, i: InterfaceConfig): string[] {
  if (i.ipAddress) {
    return [i.ipAddress, ...(i.secondary ?? [])].map((a) => `${a.address}/${maskLength(a.mask) ?? 32}`);
  }
  const borrowed = i.unnumbered ? cfg.interfaces.items[i.unnumbered]?.ipAddress?.address : undefined;
  return borrowed ? [`${borrowed}/32`] : [];
}

export function isStaticVti(i: InterfaceConfig): boolean {
  return interfaceTypeOf(i.name) === 'Tunnel' && i.tunnel?.mode === 'ipsec ipv4';
}

export function staticVti(cfg: Config, i: InterfaceConfig): StaticVti {
  const t = i.tunnel ?? {};
  const local = tunnelSourceAddress(cfg, t.source);
  const policy = t.protection ? resolveIpsecProfile(cfg, t.protection.profile) : undefined;
  const v: StaticVti = {
    name: i.name, device: tunnelDeviceName(i.name), policyKey: vtiPolicyKey(i.name), shutdown: i.shutdown,
    addresses: tunnelAddresses(cfg, i), signature: '',
  };
  if (local !== undefined) v.local = local;
  if (t.destination !== undefined) v.peer = t.destination;
  if (t.protection) v.profileName = t.protection.profile;
  if (policy) v.policy = policy;
  if (i.ipMtu !== undefined) v.ipMtu = i.ipMtu;
  if (i.tcpAdjustMss !== undefined) v.tcpAdjustMss = i.tcpAdjustMss;
  if (i.vrf !== undefined) v.vrf = i.vrf;
  if (t.vrf !== undefined) v.frontDoorVrf = t.vrf;
  if (t.source === undefined) v.problem = 'no tunnel source';
  else if (local === undefined) v.problem = `tunnel source ${t.source} has no IP address`;
  else if (t.destination === undefined) v.problem = 'no tunnel destination';
  else if (!t.protection) v.problem = 'no tunnel protection';
  else if (!policy) v.problem = `IPsec profile ${t.protection.profile} does not exist`;
  else if (policy.transformSets.length === 0) v.problem = `IPsec profile ${t.protection.profile} has no transform set`;
  v.signature = JSON.stringify([v.local, v.peer, v.profileName, policy?.revision, policy?.ikev2Profile, policy?.isakmpProfile, v.problem, v.frontDoorVrf]);
  return v;
}

/** The VRF of the interface that owns `address` (not one borrowing it with `ip unnumbered`). */
export function vrfOwningAddress(cfg: Config, address: string): string | undefined {
  for (const i of Object.values(cfg.interfaces?.items ?? {})) {
    if (i.ipAddress?.address === address || i.secondary?.some((a) => a.address === address)) return i.vrf;
  }
  return undefined;
}


/**
 * IKEv2 `match fvrf`: why a profile cannot serve peers arriving in front-door VRF `fvrf`
 * (undefined: global). As on IOS, a profile without `match fvrf` serves the global table only,
 * `match fvrf any` every VRF.
 */
export function ikev2FvrfProblem(profile: { name: string; matchFvrf?: string }, fvrf: string | undefined): string | undefined {
  const want = profile.matchFvrf;
  if (want === 'any' || want === fvrf) return undefined;
  return `ikev2 profile ${profile.name} matches fvrf ${want ?? 'global'}, but its peers arrive in ${fvrf !== undefined ? `vrf ${fvrf}` : 'the global table'}`;
}

/** Every static VTI of the configuration, in name order. */
export function staticVtis(cfg: Config): StaticVti[] {
  return Object.values(cfg.interfaces?.items ?? {}).filter(isStaticVti)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((i) => staticVti(cfg, i));
}

/** A `Virtual-Template N type tunnel` usable for dynamic VTIs: tunnel mode ipsec ipv4 and a profile that exists. */
export interface VirtualTemplate {
  name: string;
  config: InterfaceConfig;
  profileName: string;
  policy: ResolvedIpsecPolicy;
  /** Address the Virtual-Access interfaces borrow (`ip unnumbered X`) and IKE answers on. */
  local?: string;
  /** The VRF of the port owning `local`: where its peers arrive (front-door VRF). */
  frontDoorVrf?: string;
  addresses: string[];
}

/** The template `virtual-template N` of a profile names, or why it cannot be used. */
export function virtualTemplate(cfg: Config, n: number): VirtualTemplate | string {
  const name = `Virtual-Template${n}`;
  const i = cfg.interfaces?.items[name];
  if (!i) return `${name} does not exist`;
  if (i.templateType !== 'tunnel' || i.tunnel?.mode !== 'ipsec ipv4') return `${name} is not an IPsec tunnel template (type tunnel, tunnel mode ipsec ipv4)`;
  const prot = i.tunnel.protection;
  if (!prot) return `${name} has no tunnel protection`;
  const policy = resolveIpsecProfile(cfg, prot.profile);
  if (!policy) return `IPsec profile ${prot.profile} of ${name} does not exist`;
  if (policy.transformSets.length === 0) return `IPsec profile ${prot.profile} of ${name} has no transform set`;
  const out: VirtualTemplate = { name, config: i, profileName: prot.profile, policy, addresses: tunnelAddresses(cfg, i) };
  const local = i.unnumbered ? tunnelSourceAddress(cfg, i.unnumbered) : i.ipAddress?.address;
  if (local !== undefined) out.local = local;
  const fvrf = local !== undefined ? vrfOwningAddress(cfg, local) : undefined;
  if (fvrf !== undefined) out.frontDoorVrf = fvrf;
  return out;
}

/**
 * Why sessions on `Virtual-Template<n>` cannot go on (the template or its IPsec profile is
 * gone or broken, or no ISAKMP / IKEv2 profile names it any more); undefined while usable.
 */
export function templateProblem(cfg: Config, n: number, profileName: string): string | undefined {
  const t = virtualTemplate(cfg, n);
  if (typeof t === 'string') return t;
  if (t.profileName !== profileName) return `${t.name} now uses IPsec profile ${t.profileName}`;
  const named = Object.values(cfg.isakmpProfiles ?? {}).some((p) => p.virtualTemplate === n)
    || Object.values(cfg.ikev2Profiles ?? {}).some((p) => p.virtualTemplate === n);
  return named ? undefined : `no ISAKMP or IKEv2 profile names virtual-template ${n}`;
}

/**
 * The configuration of a Virtual-Access interface cloned from a template for one peer, as
 * `show running-config interface Virtual-AccessN` prints it (guide: DVTI Easy VPN server).
 */
export function cloneVirtualAccess(template: InterfaceConfig, name: string, local: string, peer: string): InterfaceConfig {
  const c: InterfaceConfig = JSON.parse(JSON.stringify(template)) as InterfaceConfig;
  c.name = name;
  delete c.templateType;
  c.tunnel = { ...c.tunnel, source: local, destination: peer, noInitiate: true };
  return c;
}

/** Static VTIs that can negotiate: complete and not shut down. */
export function activeStaticVtis(cfg: Config): StaticVti[] {
  return staticVtis(cfg).filter((v) => !v.shutdown && v.problem === undefined);
}
