// IKEv2 configuration: proposals (order 140), policies (142), keyrings (144), profiles (146).
//
// Proposals and policies follow the guide ("IKEv2 Transform Sets", "Configuring Transform
// Sets for IKEv2"); keyrings and profiles use IOS 15 syntax (issue 6):
//
//   crypto ikev2 proposal proposal-2
//    encryption 3des aes-cbc-128
//    integrity sha1 md5
//    group 2 5
//   crypto ikev2 policy pol1
//    proposal proposal-2
//   crypto ikev2 keyring kr1
//    peer site2
//     address 10.0.0.2
//     pre-shared-key cisco123
//   crypto ikev2 profile prof1
//    match identity remote address 10.0.0.2 255.255.255.255
//    authentication local pre-share
//    authentication remote pre-share
//    keyring local kr1
//
// A proposal expands into prioritized combinations (`expandProposal`). The guide's three
// examples disagree on the order: the default proposal and proposal-2 vary the group fastest
// and the encryption slowest (encryption outermost), the "3des, aes-cbc-128 / sha, md5 /
// 2" example varies the encryption fastest. We follow the majority: encryption outermost,
// then integrity (or PRF for AEAD), then group. See docs/ikev2-proposal-order.md.

import { DEFAULT_IKEV2_LIFETIME_SEC, sortByName, type Ikev2DhGroup } from './crypto-common.js';
import { defineSection } from './model.js';

export const IKEV2_ENCRYPTIONS = ['des', '3des', 'aes-cbc-128', 'aes-cbc-192', 'aes-cbc-256', 'aes-gcm-128', 'aes-gcm-256'] as const;
export type Ikev2Encryption = (typeof IKEV2_ENCRYPTIONS)[number];
/** `sha` (the guide's 15.1 word) is stored as `sha1`. */
export const IKEV2_INTEGRITIES = ['md5', 'sha1', 'sha256', 'sha384', 'sha512'] as const;
export type Ikev2Integrity = (typeof IKEV2_INTEGRITIES)[number];
export const IKEV2_PRFS = IKEV2_INTEGRITIES;
export type Ikev2Prf = Ikev2Integrity;

export function isAead(e: Ikev2Encryption): boolean {
  return e.startsWith('aes-gcm');
}

export interface Ikev2Proposal {
  name: string;
  revision: number;
  /** Each list is in priority order (left to right, as typed). */
  encryption: Ikev2Encryption[];
  integrity: Ikev2Integrity[];
  /** Explicit PRFs (needed with AES-GCM); empty: the PRF follows the integrity algorithm. */
  prf: Ikev2Prf[];
  group: Ikev2DhGroup[];
}

/** One prioritized transform combination of a proposal. */
export interface Ikev2Combination {
  encryption: Ikev2Encryption;
  /** Absent for AEAD (AES-GCM) encryption. */
  integrity?: Ikev2Integrity;
  prf: Ikev2Prf;
  group: Ikev2DhGroup;
}

/** The guide's default proposal: `encryption aes-cbc-128 3des`, `integrity sha md5`, `group 5 2`. */
export const DEFAULT_IKEV2_PROPOSAL: Readonly<Ikev2Proposal> = {
  name: 'default', revision: 0, encryption: ['aes-cbc-128', '3des'], integrity: ['sha1', 'md5'], prf: [], group: [5, 2],
};

export const PROPOSAL_INCOMPLETE_MESSAGE = '% IKEv2 proposal MUST have atleast an encryption algorithm, an integrity algorithm and a dh group configured';

/** Why a proposal cannot be used, or undefined when it is complete. */
export function proposalProblem(p: Pick<Ikev2Proposal, 'encryption' | 'integrity' | 'prf' | 'group'>): string | undefined {
  const missing: string[] = [];
  if (p.encryption.length === 0) missing.push('encryption');
  const needsIntegrity = p.encryption.some((e) => !isAead(e));
  if (needsIntegrity && p.integrity.length === 0) missing.push('integrity');
  if (p.encryption.length > 0 && !needsIntegrity && p.prf.length === 0 && p.integrity.length === 0) missing.push('prf');
  if (p.group.length === 0) missing.push('group');
  return missing.length > 0 ? `missing ${missing.join(', ')}` : undefined;
}

export function isProposalComplete(p: Pick<Ikev2Proposal, 'encryption' | 'integrity' | 'prf' | 'group'>): boolean {
  return proposalProblem(p) === undefined;
}

/**
 * All transform combinations of a proposal in priority order: encryption outermost, then
 * integrity (PRFs for AEAD ciphers, or explicit PRFs), then the DH group fastest (the
 * majority of the guide's examples; see the file header). Empty when incomplete.
 */
export function expandProposal(p: Pick<Ikev2Proposal, 'encryption' | 'integrity' | 'prf' | 'group'>): Ikev2Combination[] {
  if (!isProposalComplete(p)) return [];
  const out: Ikev2Combination[] = [];
  for (const encryption of p.encryption) {
    const middle: Array<{ integrity?: Ikev2Integrity; prf: Ikev2Prf }> = [];
    if (isAead(encryption)) {
      for (const prf of p.prf.length > 0 ? p.prf : p.integrity) middle.push({ prf });
    } else if (p.prf.length > 0) {
      for (const integrity of p.integrity) for (const prf of p.prf) middle.push({ integrity, prf });
    } else {
      for (const integrity of p.integrity) middle.push({ integrity, prf: integrity });
    }
    for (const m of middle) for (const group of p.group) out.push({ encryption, ...m, group });
  }
  return out;
}

export interface Ikev2Policy {
  name: string;
  revision: number;
  /** Proposal names in order. Empty: the default proposal. */
  proposals: string[];
  /** `match address local A` (repeatable). Empty: any. */
  matchAddressLocal: string[];
  /** `match fvrf NAME|any`; absent: global. */
  matchFvrf?: string;
}

/** The policy used when none is configured. */
export const DEFAULT_IKEV2_POLICY: Readonly<Ikev2Policy> = { name: 'default', revision: 0, proposals: ['default'], matchAddressLocal: [], matchFvrf: 'any' };

export interface Ikev2Key {
  /** Secret: never log it. */
  key: string;
  keyType: 0 | 6;
}

export interface Ikev2KeyringPeer {
  name: string;
  description?: string;
  /** `address A [MASK]` or `address X:X::X:X/M`. */
  address?: { address: string; mask?: string; prefix?: string };
  hostname?: string;
  identity?: { kind: 'address' | 'fqdn' | 'email' | 'key-id'; value: string };
  /** `pre-shared-key KEY` (both directions) or separate local/remote keys. */
  presharedKey?: Ikev2Key;
  localKey?: Ikev2Key;
  remoteKey?: Ikev2Key;
}

export interface Ikev2Keyring {
  name: string;
  revision: number;
  /** In configuration order. */
  peers: Ikev2KeyringPeer[];
}

export type Ikev2AuthMethod = 'pre-share' | 'rsa-sig' | 'ecdsa-sig';

export type Ikev2RemoteIdentityMatch =
  | { kind: 'address'; address: string; mask?: string; prefix?: string }
  | { kind: 'fqdn' | 'email'; value: string; domain: boolean }
  | { kind: 'key-id'; value: string };

export interface Ikev2Profile {
  name: string;
  revision: number;
  description?: string;
  matchIdentityRemote: Ikev2RemoteIdentityMatch[];
  /** `match fvrf NAME|any`; absent: global. */
  matchFvrf?: string;
  /** `match address local A`. */
  matchAddressLocal: string[];
  identityLocal?: { kind: 'address' | 'fqdn' | 'email' | 'key-id'; value: string } | { kind: 'dn' };
  authLocal?: Ikev2AuthMethod;
  authRemote: Ikev2AuthMethod[];
  keyringLocal?: string;
  lifetimeSec: number;
  dpd?: { intervalSec: number; retrySec: number; mode: 'on-demand' | 'periodic' };
  natKeepaliveSec?: number;
  /** `nat force-encap`: ESP in UDP 4500 even when no NAT is detected. */
  natForceEncap?: boolean;
  ivrf?: string;
  virtualTemplate?: number;
}

declare module './model.js' {
  interface Config {
    ikev2Proposals: Record<string, Ikev2Proposal>;
    ikev2Policies: Record<string, Ikev2Policy>;
    ikev2Keyrings: Record<string, Ikev2Keyring>;
    ikev2Profiles: Record<string, Ikev2Profile>;
  }
}

/** The proposal a name refers to (`default` included). */
export function lookupProposal(cfg: { ikev2Proposals: Record<string, Ikev2Proposal> }, name: string): Readonly<Ikev2Proposal> | undefined {
  return cfg.ikev2Proposals[name] ?? (name === 'default' ? DEFAULT_IKEV2_PROPOSAL : undefined);
}

/** Policies IKEv2 uses: the configured ones by name, or the default policy when none. */
export function effectiveIkev2Policies(cfg: { ikev2Policies: Record<string, Ikev2Policy> }): Readonly<Ikev2Policy>[] {
  const own = sortByName(Object.values(cfg.ikev2Policies));
  return own.length > 0 ? own : [DEFAULT_IKEV2_POLICY];
}

/** A policy's proposals (the default proposal when it names none), complete ones only. */
export function policyProposals(cfg: { ikev2Proposals: Record<string, Ikev2Proposal> }, policy: Readonly<Ikev2Policy>): Readonly<Ikev2Proposal>[] {
  const names = policy.proposals.length > 0 ? policy.proposals : ['default'];
  return names.map((n) => lookupProposal(cfg, n)).filter((p): p is Readonly<Ikev2Proposal> => p !== undefined && isProposalComplete(p));
}

export function newIkev2Profile(name: string, revision: number): Ikev2Profile {
  return { name, revision, matchIdentityRemote: [], matchAddressLocal: [], authRemote: [], lifetimeSec: DEFAULT_IKEV2_LIFETIME_SEC };
}

function keyText(k: Ikev2Key): string {
  return k.keyType === 6 ? `6 ${k.key}` : k.key;
}

export function remoteIdentityText(m: Ikev2RemoteIdentityMatch): string {
  switch (m.kind) {
    case 'address': return m.prefix !== undefined ? `address ${m.prefix}` : `address ${m.address}${m.mask !== undefined ? ` ${m.mask}` : ''}`;
    case 'fqdn': case 'email': return `${m.kind} ${m.domain ? 'domain ' : ''}${m.value}`;
    case 'key-id': return `key-id ${m.value}`;
  }
}

export function localIdentityText(i: NonNullable<Ikev2Profile['identityLocal']>): string {
  return i.kind === 'dn' ? 'dn' : `${i.kind} ${i.value}`;
}

defineSection({
  key: 'ikev2Proposals',
  order: 140,
  create: () => ({}),
  render: (cfg) => sortByName(Object.values(cfg.ikev2Proposals)).map((p) => {
    const lines = [`crypto ikev2 proposal ${p.name}`];
    if (p.encryption.length > 0) lines.push(` encryption ${p.encryption.join(' ')}`);
    if (p.integrity.length > 0) lines.push(` integrity ${p.integrity.join(' ')}`);
    if (p.prf.length > 0) lines.push(` prf ${p.prf.join(' ')}`);
    if (p.group.length > 0) lines.push(` group ${p.group.join(' ')}`);
    return lines;
  }),
});

defineSection({
  key: 'ikev2Policies',
  order: 142,
  create: () => ({}),
  render: (cfg) => sortByName(Object.values(cfg.ikev2Policies)).map((p) => {
    const lines = [`crypto ikev2 policy ${p.name}`];
    if (p.matchFvrf !== undefined) lines.push(` match fvrf ${p.matchFvrf}`);
    for (const a of p.matchAddressLocal) lines.push(` match address local ${a}`);
    for (const n of p.proposals) lines.push(` proposal ${n}`);
    return lines;
  }),
});

defineSection({
  key: 'ikev2Keyrings',
  order: 144,
  create: () => ({}),
  render: (cfg) => sortByName(Object.values(cfg.ikev2Keyrings)).map((k) => {
    const lines = [`crypto ikev2 keyring ${k.name}`];
    for (const p of k.peers) {
      lines.push(` peer ${p.name}`);
      if (p.description !== undefined) lines.push(`  description ${p.description}`);
      if (p.address) lines.push(`  address ${p.address.prefix ?? p.address.address}${p.address.mask !== undefined ? ` ${p.address.mask}` : ''}`);
      if (p.hostname !== undefined) lines.push(`  hostname ${p.hostname}`);
      if (p.identity) lines.push(`  identity ${p.identity.kind} ${p.identity.value}`);
      if (p.presharedKey) lines.push(`  pre-shared-key ${keyText(p.presharedKey)}`);
      if (p.localKey) lines.push(`  pre-shared-key local ${keyText(p.localKey)}`);
      if (p.remoteKey) lines.push(`  pre-shared-key remote ${keyText(p.remoteKey)}`);
      lines.push(' !');
    }
    return lines;
  }),
});

defineSection({
  key: 'ikev2Profiles',
  order: 146,
  create: () => ({}),
  render: (cfg) => sortByName(Object.values(cfg.ikev2Profiles)).map((p) => {
    const lines = [`crypto ikev2 profile ${p.name}`];
    if (p.description !== undefined) lines.push(` description ${p.description}`);
    if (p.matchFvrf !== undefined) lines.push(` match fvrf ${p.matchFvrf}`);
    for (const a of p.matchAddressLocal) lines.push(` match address local ${a}`);
    for (const m of p.matchIdentityRemote) lines.push(` match identity remote ${remoteIdentityText(m)}`);
    if (p.identityLocal) lines.push(` identity local ${localIdentityText(p.identityLocal)}`);
    for (const m of p.authRemote) lines.push(` authentication remote ${m}`);
    if (p.authLocal !== undefined) lines.push(` authentication local ${p.authLocal}`);
    if (p.keyringLocal !== undefined) lines.push(` keyring local ${p.keyringLocal}`);
    if (p.lifetimeSec !== DEFAULT_IKEV2_LIFETIME_SEC) lines.push(` lifetime ${p.lifetimeSec}`);
    if (p.dpd) lines.push(` dpd ${p.dpd.intervalSec} ${p.dpd.retrySec} ${p.dpd.mode}`);
    if (p.natKeepaliveSec !== undefined) lines.push(` nat keepalive ${p.natKeepaliveSec}`);
    if (p.natForceEncap) lines.push(' nat force-encap');
    if (p.ivrf !== undefined) lines.push(` ivrf ${p.ivrf}`);
    if (p.virtualTemplate !== undefined) lines.push(` virtual-template ${p.virtualTemplate}`);
    return lines;
  }),
});
