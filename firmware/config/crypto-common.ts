// Names, defaults and small helpers shared by every crypto configuration file (transform
// sets, ISAKMP, IKEv2, crypto maps) and read by the IKE and data-plane code.
//
// Units are in the names (`lifetimeSec`, `lifetimeKb`). Defaults are the IOS ones that the
// guide quotes ("Security association lifetime: 4608000 kilobytes/3600 seconds").

import type { Config } from './model.js';

/** `crypto ipsec security-association lifetime seconds` default. */
export const DEFAULT_IPSEC_LIFETIME_SEC = 3600;
/** `crypto ipsec security-association lifetime kilobytes` default. */
export const DEFAULT_IPSEC_LIFETIME_KB = 4608000;
/** `crypto ipsec security-association replay window-size` default (packets). */
export const DEFAULT_REPLAY_WINDOW = 64;
/** ISAKMP policy lifetime default (`lifetime` in `crypto isakmp policy`). */
export const DEFAULT_ISAKMP_LIFETIME_SEC = 86400;
/** IKEv2 profile `lifetime` default. */
export const DEFAULT_IKEV2_LIFETIME_SEC = 86400;

export const IPSEC_LIFETIME_SEC_MIN = 120;
export const IPSEC_LIFETIME_SEC_MAX = 86400;
export const IPSEC_LIFETIME_KB_MIN = 2560;
export const IPSEC_LIFETIME_KB_MAX = 4294967295;
export const REPLAY_WINDOW_SIZES = [64, 128, 256, 512, 1024] as const;

/** Diffie-Hellman groups the CLI accepts (IKE groups of RFC 2409/3526/5903/5114/8031). */
export const DH_GROUPS = [1, 2, 5, 14, 15, 16, 19, 20, 21, 24] as const;
export type DhGroup = (typeof DH_GROUPS)[number];
/** IKEv2 also takes Curve25519 (group 31, RFC 8031). */
export const IKEV2_DH_GROUPS = [1, 2, 5, 14, 15, 16, 19, 20, 21, 24, 31] as const;
export type Ikev2DhGroup = (typeof IKEV2_DH_GROUPS)[number];

/** `set pfs groupN` keywords; `set pfs` alone means group1 (the guide). */
export const PFS_GROUPS = DH_GROUPS;

/** How `show crypto isakmp policy` names a group: `#2 (1024 bit)`. */
export const DH_GROUP_TEXT: Record<number, string> = {
  1: '#1 (768 bit)', 2: '#2 (1024 bit)', 5: '#5 (1536 bit)', 14: '#14 (2048 bit)', 15: '#15 (3072 bit)',
  16: '#16 (4096 bit)', 19: '#19 (256 bit ecp)', 20: '#20 (384 bit ecp)', 21: '#21 (521 bit ecp)',
  24: '#24 (2048 bit, 256 bit subgroup)', 31: '#31 (Curve25519)',
};

/** Lifetimes an IPsec SA is negotiated with; `lifetimeKb: 'disable'` = no volume rekey. */
export interface SaLifetime {
  lifetimeSec?: number;
  lifetimeKb?: number | 'disable';
}

/** An IPv4 address with a mask (`10.0.0.0 255.0.0.0`), dotted-quad text as typed. */
export interface AddressMask {
  address: string;
  mask: string;
}

/**
 * Revision to stamp on an object changed by the running command: the config revision the
 * change produces (the session bumps `cfg.revision` once the command succeeds). The runtime
 * compares an object's revision with the one it last used (issue 3: changing a transform
 * set changes later negotiations only).
 */
export function nextRevision(cfg: Config): number {
  return cfg.revision + 1;
}

/** Names compare as IOS does for crypto objects: case-sensitive. */
export function sortByName<T extends { name: string }>(list: T[]): T[] {
  return list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A dotted-quad mask is contiguous ones (255.255.255.0, 0.0.0.0). */
export function isContiguousMask(mask: string): boolean {
  const parts = mask.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return false;
  const n = ((parts[0]! * 256 + parts[1]!) * 256 + parts[2]!) * 256 + parts[3]!;
  const inv = 0xffffffff - n;
  return (inv & (inv + 1)) === 0;
}

/** Strips the trailing comma of list items written `3des, aes-cbc-128` (the guide does). */
export function listItems(words: readonly string[]): string[] {
  const out: string[] = [];
  for (const w of words) for (const part of w.split(',')) if (part.length > 0) out.push(part.toLowerCase());
  return out;
}
