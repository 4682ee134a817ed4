// IKEv1 (ISAKMP) configuration: keyrings (order 100), policies (110), pre-shared keys of the
// default keyring (120), keepalive / NAT keepalive / identity globals (125) and ISAKMP
// profiles (130).
//
// Pre-shared keys are stored as typed (type 0), as IOS keeps them unless `password
// encryption aes` is on; a key entered as type 6 is kept as its opaque string. Keys appear in
// running-config and `show crypto isakmp key` (privileged), never in logs or debug output.

import { DEFAULT_ISAKMP_LIFETIME_SEC, sortByName, type AddressMask, type DhGroup } from './crypto-common.js';
import { defineSection } from './model.js';

export type IsakmpEncryption = 'des' | '3des' | 'aes128' | 'aes192' | 'aes256';
export type IsakmpHash = 'md5' | 'sha' | 'sha256' | 'sha384' | 'sha512';
export type IsakmpAuth = 'pre-share' | 'rsa-sig' | 'rsa-encr';

export interface IsakmpPolicy {
  /** 1-10000; lower is tried first. */
  priority: number;
  revision: number;
  encryption: IsakmpEncryption;
  hash: IsakmpHash;
  authentication: IsakmpAuth;
  group: DhGroup;
  lifetimeSec: number;
}

/** A policy with nothing configured: IOS's defaults (des, sha, rsa-sig, group 1, 86400 s). */
export function defaultIsakmpPolicy(priority: number, revision: number): IsakmpPolicy {
  return { priority, revision, encryption: 'des', hash: 'sha', authentication: 'rsa-sig', group: 1, lifetimeSec: DEFAULT_ISAKMP_LIFETIME_SEC };
}

/**
 * IOS's default protection suites (priorities 65507-65514), offered after the configured
 * policies unless `no crypto isakmp default policy`. Shown by `show crypto isakmp policy`
 * under "Default IKE policy" and by `show crypto isakmp default policy`.
 */
export const DEFAULT_ISAKMP_POLICIES: readonly Readonly<IsakmpPolicy>[] = [
  { priority: 65507, revision: 0, encryption: 'aes128', hash: 'sha', authentication: 'rsa-sig', group: 5, lifetimeSec: 86400 },
  { priority: 65508, revision: 0, encryption: 'aes128', hash: 'sha', authentication: 'pre-share', group: 5, lifetimeSec: 86400 },
  { priority: 65509, revision: 0, encryption: 'aes128', hash: 'md5', authentication: 'rsa-sig', group: 5, lifetimeSec: 86400 },
  { priority: 65510, revision: 0, encryption: 'aes128', hash: 'md5', authentication: 'pre-share', group: 5, lifetimeSec: 86400 },
  { priority: 65511, revision: 0, encryption: '3des', hash: 'sha', authentication: 'rsa-sig', group: 2, lifetimeSec: 86400 },
  { priority: 65512, revision: 0, encryption: '3des', hash: 'sha', authentication: 'pre-share', group: 2, lifetimeSec: 86400 },
  { priority: 65513, revision: 0, encryption: '3des', hash: 'md5', authentication: 'rsa-sig', group: 2, lifetimeSec: 86400 },
  { priority: 65514, revision: 0, encryption: '3des', hash: 'md5', authentication: 'pre-share', group: 2, lifetimeSec: 86400 },
];

/** The ISAKMP policies IKEv1 offers/accepts, in priority order (configured, then defaults). */
export function effectiveIsakmpPolicies(cfg: { isakmpPolicies: Record<string, IsakmpPolicy>; isakmpGlobals: IsakmpGlobals }): IsakmpPolicy[] {
  const own = Object.values(cfg.isakmpPolicies).sort((a, b) => a.priority - b.priority);
  return cfg.isakmpGlobals.defaultPolicy ? [...own, ...DEFAULT_ISAKMP_POLICIES.map((p) => ({ ...p }))] : own;
}

/** One pre-shared key: for an address (with mask) or a hostname. */
export interface PresharedKey {
  /** The key as typed (type 0) or the type-6 string. Secret: never log it. */
  key: string;
  keyType: 0 | 6;
  address?: AddressMask;
  /** IPv6 prefix `X:X::X:X/M` (`address ipv6`). */
  ipv6Prefix?: string;
  hostname?: string;
  /** `no-xauth` (only on global keys). */
  noXauth?: boolean;
}

/** `local-address IF` or `local-address A [VRF]` of a keyring or ISAKMP profile. */
export interface LocalAddressBinding {
  /** Canonical interface name. */
  interface?: string;
  address?: string;
  vrf?: string;
}

export interface Keyring {
  name: string;
  revision: number;
  /** `crypto keyring NAME vrf VRF`: front-door VRF the keys apply to. */
  vrf?: string;
  description?: string;
  localAddress?: LocalAddressBinding;
  keys: PresharedKey[];
}

export interface IsakmpKeepalive {
  intervalSec: number;
  retrySec: number;
  mode: 'on-demand' | 'periodic';
}

export interface IsakmpGlobals {
  revision: number;
  /** `crypto isakmp keepalive` (DPD); absent: off. */
  keepalive?: IsakmpKeepalive;
  /** `crypto isakmp nat keepalive S`; absent: off. */
  natKeepaliveSec?: number;
  identity: 'address' | 'hostname' | 'dn';
  /** `[no] crypto isakmp default policy`. */
  defaultPolicy: boolean;
  /** `[no] crypto isakmp enable`. */
  enabled: boolean;
}

export type IdentityMatch =
  | { kind: 'address'; address: string; mask: string; vrf?: string }
  | { kind: 'host'; host: string }
  | { kind: 'host-domain'; domain: string }
  | { kind: 'group'; group: string }
  | { kind: 'user'; user: string };

export interface IsakmpProfile {
  name: string;
  revision: number;
  description?: string;
  /** Keyrings searched, in the order given. Empty: all keyrings (and the global keys). */
  keyrings: string[];
  matchIdentities: IdentityMatch[];
  selfIdentity?: { kind: 'address' } | { kind: 'fqdn' } | { kind: 'user-fqdn'; user: string };
  localAddress?: LocalAddressBinding;
  virtualTemplate?: number;
  /** Inside VRF the SAs of this profile forward into. */
  vrf?: string;
  keepalive?: { intervalSec: number; retrySec: number };
  /** `initiate mode aggressive`: phase 1 started by this box uses aggressive mode. */
  initiateMode?: 'aggressive';
}

declare module './model.js' {
  interface Config {
    keyrings: Record<string, Keyring>;
    isakmpPolicies: Record<string, IsakmpPolicy>;
    /** Keys of `crypto isakmp key` (the "default" keyring). */
    isakmpKeys: { revision: number; keys: PresharedKey[] };
    isakmpGlobals: IsakmpGlobals;
    isakmpProfiles: Record<string, IsakmpProfile>;
  }
}

export const ENCRYPTION_WORDS: Record<IsakmpEncryption, string> = {
  des: 'des', '3des': '3des', aes128: 'aes', aes192: 'aes 192', aes256: 'aes 256',
};

/** `address A [MASK]` as IOS writes it: the mask only when it is not a host mask. */
export function addressText(a: AddressMask): string {
  return a.mask === '255.255.255.255' ? a.address : `${a.address} ${a.mask}`;
}

export function keyTarget(k: PresharedKey): string {
  if (k.hostname !== undefined) return `hostname ${k.hostname}`;
  if (k.ipv6Prefix !== undefined) return `address ipv6 ${k.ipv6Prefix}`;
  return `address ${addressText(k.address!)}`;
}

function keyWord(k: PresharedKey): string {
  return k.keyType === 6 ? `6 ${k.key}` : k.key;
}

export function localAddressText(b: LocalAddressBinding): string {
  if (b.interface !== undefined) return b.interface;
  return b.vrf !== undefined ? `${b.address} ${b.vrf}` : b.address!;
}

export function identityMatchText(m: IdentityMatch): string {
  switch (m.kind) {
    case 'address': return `address ${m.address} ${m.mask}${m.vrf !== undefined ? ` ${m.vrf}` : ''}`;
    case 'host': return `host ${m.host}`;
    case 'host-domain': return `host domain ${m.domain}`;
    case 'group': return `group ${m.group}`;
    case 'user': return `user ${m.user}`;
  }
}

defineSection({
  key: 'keyrings',
  order: 100,
  create: () => ({}),
  render: (cfg) => sortByName(Object.values(cfg.keyrings)).map((k) => {
    const lines = [`crypto keyring ${k.name}${k.vrf !== undefined ? ` vrf ${k.vrf}` : ''}`];
    if (k.description !== undefined) lines.push(`  description ${k.description}`);
    if (k.localAddress) lines.push(`  local-address ${localAddressText(k.localAddress)}`);
    for (const key of k.keys) lines.push(`  pre-shared-key ${keyTarget(key)} key ${keyWord(key)}`);
    return lines;
  }),
});

defineSection({
  key: 'isakmpPolicies',
  order: 110,
  create: () => ({}),
  render: (cfg) => Object.values(cfg.isakmpPolicies).sort((a, b) => a.priority - b.priority).map((p) => {
    const lines = [`crypto isakmp policy ${p.priority}`];
    if (p.encryption !== 'des') lines.push(` encr ${ENCRYPTION_WORDS[p.encryption]}`);
    if (p.hash !== 'sha') lines.push(` hash ${p.hash}`);
    if (p.authentication !== 'rsa-sig') lines.push(` authentication ${p.authentication}`);
    if (p.group !== 1) lines.push(` group ${p.group}`);
    if (p.lifetimeSec !== DEFAULT_ISAKMP_LIFETIME_SEC) lines.push(` lifetime ${p.lifetimeSec}`);
    return lines;
  }),
});

defineSection({
  key: 'isakmpKeys',
  order: 120,
  create: () => ({ revision: 0, keys: [] }),
  render: (cfg) => [cfg.isakmpKeys.keys.map((k) => `crypto isakmp key ${keyWord(k)} ${keyTarget(k)}${k.noXauth ? ' no-xauth' : ''}`)],
});

defineSection({
  key: 'isakmpGlobals',
  order: 125,
  create: () => ({ revision: 0, identity: 'address', defaultPolicy: true, enabled: true }),
  render: (cfg) => {
    const g = cfg.isakmpGlobals;
    const lines: string[] = [];
    if (!g.enabled) lines.push('no crypto isakmp enable');
    if (!g.defaultPolicy) lines.push('no crypto isakmp default policy');
    if (g.identity !== 'address') lines.push(`crypto isakmp identity ${g.identity}`);
    if (g.keepalive) {
      const k = g.keepalive;
      lines.push(`crypto isakmp keepalive ${k.intervalSec} ${k.retrySec}${k.mode === 'periodic' ? ' periodic' : ''}`);
    }
    if (g.natKeepaliveSec !== undefined) lines.push(`crypto isakmp nat keepalive ${g.natKeepaliveSec}`);
    return [lines];
  },
});

defineSection({
  key: 'isakmpProfiles',
  order: 130,
  create: () => ({}),
  render: (cfg) => sortByName(Object.values(cfg.isakmpProfiles)).map((p) => {
    const lines = [`crypto isakmp profile ${p.name}`];
    if (p.description !== undefined) lines.push(`   description ${p.description}`);
    if (p.vrf !== undefined) lines.push(`   vrf ${p.vrf}`);
    for (const k of p.keyrings) lines.push(`   keyring ${k}`);
    if (p.selfIdentity) lines.push(`   self-identity ${p.selfIdentity.kind === 'user-fqdn' ? `user-fqdn ${p.selfIdentity.user}` : p.selfIdentity.kind}`);
    for (const m of p.matchIdentities) lines.push(`   match identity ${identityMatchText(m)}`);
    if (p.keepalive) lines.push(`   keepalive ${p.keepalive.intervalSec} retry ${p.keepalive.retrySec}`);
    if (p.initiateMode === 'aggressive') lines.push('   initiate mode aggressive');
    if (p.localAddress) lines.push(`   local-address ${localAddressText(p.localAddress)}`);
    if (p.virtualTemplate !== undefined) lines.push(`   virtual-template ${p.virtualTemplate}`);
    return lines;
  }),
});
