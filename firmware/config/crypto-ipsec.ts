// IPsec transform sets, the global IPsec SA settings and IPsec profiles (VTIs).
//
//   crypto ipsec security-association lifetime seconds 7200        (order 148)
//   crypto ipsec transform-set aasset esp-aes 256 esp-sha-hmac     (order 150)
//    mode transport
//   crypto ipsec profile P1                                        (order 155)
//    set transform-set T1
//
// Transform-set rules are those of the guide's "Allowed Transform Combinations" table: pick
// at most one AH transform, one ESP encryption transform, one ESP authentication transform,
// plus optionally comp-lzs; esp-gcm and esp-gmac carry their own integrity and cannot be
// configured with any other ESP transform.

import {
  DEFAULT_IPSEC_LIFETIME_KB, DEFAULT_IPSEC_LIFETIME_SEC, DEFAULT_REPLAY_WINDOW, sortByName,
  type DhGroup, type SaLifetime,
} from './crypto-common.js';
import { defineSection, type Config } from './model.js';

export const AH_TRANSFORMS = ['ah-md5-hmac', 'ah-sha-hmac'] as const;
export const ESP_ENCRYPTION_TRANSFORMS = ['esp-aes', 'esp-gcm', 'esp-gmac', 'esp-des', 'esp-3des', 'esp-null', 'esp-seal'] as const;
export const ESP_AUTH_TRANSFORMS = ['esp-md5-hmac', 'esp-sha-hmac', 'esp-sha256-hmac', 'esp-sha384-hmac', 'esp-sha512-hmac'] as const;
export const COMPRESSION_TRANSFORMS = ['comp-lzs'] as const;

export type AhTransformName = (typeof AH_TRANSFORMS)[number];
export type EspEncryptionName = (typeof ESP_ENCRYPTION_TRANSFORMS)[number];
export type EspAuthName = (typeof ESP_AUTH_TRANSFORMS)[number];
export type TransformName = AhTransformName | EspEncryptionName | EspAuthName | 'comp-lzs';
export type TransformKind = 'ah' | 'esp-encryption' | 'esp-auth' | 'compression';

/** Key sizes a transform takes (first = default); empty: fixed size. */
export const TRANSFORM_KEY_SIZES: Partial<Record<TransformName, readonly number[]>> = {
  'esp-aes': [128, 192, 256],
  'esp-gcm': [128, 192, 256],
  'esp-gmac': [128, 192, 256],
};

export function transformKind(name: TransformName): TransformKind {
  if ((AH_TRANSFORMS as readonly string[]).includes(name)) return 'ah';
  if ((ESP_AUTH_TRANSFORMS as readonly string[]).includes(name)) return 'esp-auth';
  if (name === 'comp-lzs') return 'compression';
  return 'esp-encryption';
}

export function isTransformName(word: string): word is TransformName {
  return ([...AH_TRANSFORMS, ...ESP_ENCRYPTION_TRANSFORMS, ...ESP_AUTH_TRANSFORMS, ...COMPRESSION_TRANSFORMS] as string[]).includes(word);
}

/** One transform of a set; `keyBits` only for esp-aes / esp-gcm / esp-gmac (always set there). */
export interface Transform {
  name: TransformName;
  keyBits?: number;
}

export interface TransformSet {
  name: string;
  /** Config revision of the last change (later negotiations use the new definition). */
  revision: number;
  /** In the order typed. */
  transforms: Transform[];
  mode: 'tunnel' | 'transport';
}

/** A transform set split by role: what IKE proposes and the data plane runs. */
export interface TransformSetParts {
  ah?: Transform;
  espEncryption?: Transform;
  espAuth?: Transform;
  compression?: Transform;
  /** esp-gcm / esp-gmac: integrity comes with the cipher. */
  combinedMode: boolean;
}

export class TransformSetError extends Error {}

/**
 * Parses the words after the set name (`esp-aes 256 esp-sha-hmac`), applying the guide's
 * combination rules. Throws TransformSetError with an IOS-style `%` message naming the
 * conflicting transforms.
 */
export function parseTransforms(words: readonly string[]): Transform[] {
  const out: Transform[] = [];
  const seen = new Map<TransformKind, Transform>();
  const tokens = words.map((w) => w.toLowerCase());
  for (let i = 0; i < tokens.length; i++) {
    const w = tokens[i]!;
    if (/^\d+$/.test(w)) throw new TransformSetError(`% Key size ${w} must follow esp-aes, esp-gcm or esp-gmac.`);
    if (!isTransformName(w)) throw new TransformSetError(`% Unknown transform ${w}.`);
    const t: Transform = { name: w };
    const sizes = TRANSFORM_KEY_SIZES[w];
    if (sizes) {
      t.keyBits = sizes[0]!;
      const next = tokens[i + 1];
      if (next !== undefined && /^\d+$/.test(next)) {
        if (!sizes.includes(Number(next))) throw new TransformSetError(`% ${w} key size must be ${sizes.join(', ')} bits, not ${next}.`);
        t.keyBits = Number(next);
        i++;
      }
    }
    const kind = transformKind(w);
    const prev = seen.get(kind);
    if (prev) {
      const what = { ah: 'AH transform', 'esp-encryption': 'ESP encryption transform', 'esp-auth': 'ESP authentication transform', compression: 'compression transform' }[kind];
      throw new TransformSetError(`% Only one ${what} is allowed in a transform set: ${prev.name} conflicts with ${w}.`);
    }
    seen.set(kind, t);
    out.push(t);
  }
  const enc = seen.get('esp-encryption');
  const auth = seen.get('esp-auth');
  if (enc && (enc.name === 'esp-gcm' || enc.name === 'esp-gmac') && auth) {
    throw new TransformSetError(`% ${enc.name} cannot be configured together with any other ESP transform (${auth.name}).`);
  }
  if (!seen.has('ah') && !enc && !auth) {
    throw new TransformSetError('% A transform set needs at least one AH or ESP transform.');
  }
  return out;
}

export function transformSetParts(set: Pick<TransformSet, 'transforms'>): TransformSetParts {
  const parts: TransformSetParts = { combinedMode: false };
  for (const t of set.transforms) {
    switch (transformKind(t.name)) {
      case 'ah': parts.ah = t; break;
      case 'esp-encryption': parts.espEncryption = t; break;
      case 'esp-auth': parts.espAuth = t; break;
      case 'compression': parts.compression = t; break;
    }
  }
  parts.combinedMode = parts.espEncryption?.name === 'esp-gcm' || parts.espEncryption?.name === 'esp-gmac';
  return parts;
}

/** IOS words for running-config (`esp-aes 256`; the default 128 bits is not written). */
export function transformWord(t: Transform): string {
  const sizes = TRANSFORM_KEY_SIZES[t.name];
  return sizes && t.keyBits !== undefined && t.keyBits !== sizes[0] ? `${t.name} ${t.keyBits}` : t.name;
}

/** The set's transforms as words, e.g. `['esp-aes', '256', 'esp-sha-hmac']` (ipsec/transform.ts input). */
export function transformWords(set: Pick<TransformSet, 'transforms'>): string[] {
  return set.transforms.flatMap((t) => transformWord(t).split(' '));
}

/** How `show crypto ipsec transform-set` names a transform: `esp-256-aes`, `esp-aes` (128). */
export function transformShowName(t: Transform): string {
  const sizes = TRANSFORM_KEY_SIZES[t.name];
  if (!sizes || t.keyBits === undefined || t.keyBits === sizes[0]) return t.name;
  return t.name.replace(/^esp-/, `esp-${t.keyBits}-`);
}

export interface IpsecSaGlobals {
  /** Config revision of the last change. */
  revision: number;
  lifetimeSec: number;
  lifetimeKb: number;
  /** `crypto ipsec security-association lifetime kilobytes disable`: no volume-based rekey. */
  lifetimeKbDisabled: boolean;
  replayWindow: number;
  /** `crypto ipsec security-association replay disable`. */
  replayDisabled: boolean;
  /** `crypto ipsec df-bit clear|set|copy`: DF bit of the outer header (default copy). */
  dfBit: 'copy' | 'clear' | 'set';
  /** `crypto ipsec fragmentation before-encryption|after-encryption` (default before). */
  fragmentation: 'before-encryption' | 'after-encryption';
}

export interface IpsecProfile {
  name: string;
  revision: number;
  description?: string;
  /** Ordered, highest priority first, at most 6. */
  transformSets: string[];
  /** `set pfs [groupN]`; absent: no PFS. */
  pfsGroup?: DhGroup;
  lifetime: SaLifetime;
  /** `set security-association replay window-size N` / `replay disable` (else the globals). */
  replayWindow?: number;
  replayDisabled?: boolean;
  isakmpProfile?: string;
  ikev2Profile?: string;
}

declare module './model.js' {
  interface Config {
    ipsecSa: IpsecSaGlobals;
    transformSets: Record<string, TransformSet>;
    ipsecProfiles: Record<string, IpsecProfile>;
  }
}

export function defaultIpsecSaGlobals(): IpsecSaGlobals {
  return {
    revision: 0, lifetimeSec: DEFAULT_IPSEC_LIFETIME_SEC, lifetimeKb: DEFAULT_IPSEC_LIFETIME_KB,
    lifetimeKbDisabled: false, replayWindow: DEFAULT_REPLAY_WINDOW, replayDisabled: false,
    dfBit: 'copy', fragmentation: 'before-encryption',
  };
}

/** Lifetime an SA negotiated for an entry gets: the entry's own values, else the globals. */
export function effectiveLifetime(cfg: Config, own: SaLifetime | undefined): { lifetimeSec: number; lifetimeKb: number | 'disable' } {
  const g = cfg.ipsecSa;
  return {
    lifetimeSec: own?.lifetimeSec ?? g.lifetimeSec,
    lifetimeKb: own?.lifetimeKb ?? (g.lifetimeKbDisabled ? 'disable' : g.lifetimeKb),
  };
}

/** `set security-association lifetime|replay ...` lines of a map entry or profile. */
export function renderLifetimeLines(l: SaLifetime, replay?: { replayWindow?: number; replayDisabled?: boolean }): string[] {
  const out: string[] = [];
  if (replay?.replayDisabled) out.push(' set security-association replay disable');
  if (replay?.replayWindow !== undefined) out.push(` set security-association replay window-size ${replay.replayWindow}`);
  if (l.lifetimeSec !== undefined) out.push(` set security-association lifetime seconds ${l.lifetimeSec}`);
  if (l.lifetimeKb === 'disable') out.push(' set security-association lifetime kilobytes disable');
  else if (l.lifetimeKb !== undefined) out.push(` set security-association lifetime kilobytes ${l.lifetimeKb}`);
  return out;
}

export function renderTransformSetLine(ts: TransformSet): string {
  return `crypto ipsec transform-set ${ts.name} ${ts.transforms.map(transformWord).join(' ')}`;
}

defineSection({
  key: 'ipsecSa',
  order: 148,
  create: defaultIpsecSaGlobals,
  render: (cfg) => {
    const g = cfg.ipsecSa;
    const lines: string[] = [];
    if (g.lifetimeSec !== DEFAULT_IPSEC_LIFETIME_SEC) lines.push(`crypto ipsec security-association lifetime seconds ${g.lifetimeSec}`);
    if (g.lifetimeKb !== DEFAULT_IPSEC_LIFETIME_KB) lines.push(`crypto ipsec security-association lifetime kilobytes ${g.lifetimeKb}`);
    if (g.lifetimeKbDisabled) lines.push('crypto ipsec security-association lifetime kilobytes disable');
    if (g.replayDisabled) lines.push('crypto ipsec security-association replay disable');
    if (g.replayWindow !== DEFAULT_REPLAY_WINDOW) lines.push(`crypto ipsec security-association replay window-size ${g.replayWindow}`);
    if (g.dfBit !== 'copy') lines.push(`crypto ipsec df-bit ${g.dfBit}`);
    if (g.fragmentation !== 'before-encryption') lines.push(`crypto ipsec fragmentation ${g.fragmentation}`);
    return [lines];
  },
});

defineSection({
  key: 'transformSets',
  order: 150,
  create: () => ({}),
  render: (cfg) => {
    const lines: string[] = [];
    for (const ts of sortByName(Object.values(cfg.transformSets))) {
      lines.push(renderTransformSetLine(ts));
      if (ts.mode === 'transport') lines.push(' mode transport');
    }
    return [lines];
  },
});

defineSection({
  key: 'ipsecProfiles',
  order: 155,
  create: () => ({}),
  render: (cfg) => sortByName(Object.values(cfg.ipsecProfiles)).map((p) => {
    const lines = [`crypto ipsec profile ${p.name}`];
    if (p.description !== undefined) lines.push(` description ${p.description}`);
    lines.push(...renderLifetimeLines(p.lifetime, p));
    if (p.transformSets.length > 0) lines.push(` set transform-set ${p.transformSets.join(' ')}`);
    if (p.pfsGroup !== undefined) lines.push(` set pfs group${p.pfsGroup}`);
    if (p.isakmpProfile !== undefined) lines.push(` set isakmp-profile ${p.isakmpProfile}`);
    if (p.ikev2Profile !== undefined) lines.push(` set ikev2-profile ${p.ikev2Profile}`);
    return lines;
  }),
});

/** What an IPsec SA negotiated for a map entry, dynamic entry or profile is built from. */
export interface ResolvedIpsecPolicy {
  /**
   * Changes whenever anything this policy depends on changes (the entry or profile, any of
   * its transform sets, the global SA settings): compare it with the value an SA was
   * negotiated under to know whether later negotiations would differ.
   */
  revision: number;
  /** The sets that exist, in priority order. */
  transformSets: TransformSet[];
  /** Names configured but not defined (deleted or never created); IOS skips them. */
  missingTransformSets: string[];
  pfsGroup?: DhGroup;
  lifetimeSec: number;
  lifetimeKb: number | 'disable';
  replayWindow: number;
  replayDisabled: boolean;
  dfBit: IpsecSaGlobals['dfBit'];
  isakmpProfile?: string;
  ikev2Profile?: string;
}

export interface IpsecPolicySource {
  revision: number;
  transformSets: string[];
  pfsGroup?: DhGroup;
  lifetime: SaLifetime;
  replayWindow?: number;
  replayDisabled?: boolean;
  isakmpProfile?: string;
  ikev2Profile?: string;
}

export function resolveIpsecPolicy(cfg: Config, src: IpsecPolicySource): ResolvedIpsecPolicy {
  const sets = src.transformSets.map((n) => cfg.transformSets[n]).filter((t): t is TransformSet => t !== undefined);
  const g = cfg.ipsecSa;
  const out: ResolvedIpsecPolicy = {
    revision: Math.max(src.revision, g.revision, ...sets.map((s) => s.revision)),
    transformSets: sets,
    missingTransformSets: src.transformSets.filter((n) => !cfg.transformSets[n]),
    ...effectiveLifetime(cfg, src.lifetime),
    replayWindow: src.replayWindow ?? g.replayWindow,
    replayDisabled: src.replayDisabled ?? g.replayDisabled,
    dfBit: g.dfBit,
  };
  if (src.pfsGroup !== undefined) out.pfsGroup = src.pfsGroup;
  if (src.isakmpProfile !== undefined) out.isakmpProfile = src.isakmpProfile;
  if (src.ikev2Profile !== undefined) out.ikev2Profile = src.ikev2Profile;
  return out;
}

/** The policy of `crypto ipsec profile NAME` (VTIs), or undefined when it does not exist. */
export function resolveIpsecProfile(cfg: Config, name: string): ResolvedIpsecPolicy | undefined {
  const p = cfg.ipsecProfiles[name];
  return p ? resolveIpsecPolicy(cfg, p) : undefined;
}
