// Pre-shared key and ISAKMP profile selection as the guide's "SafeNet IPsec VPN Client
// Support" section describes: `crypto isakmp key`, `crypto keyring` (with `local-address`
// binding and front-door VRF) and `crypto isakmp profile` (`match identity`, `keyring`,
// `self-identity`, `local-address`). A keyring or profile bound to another local address or
// interface is skipped. Pure functions over plain config objects; debug lines go to the
// injected sink. Keys are never printed.
import { idFqdn, idIpv4Addr, ipv4ToBytes, type IdPayload } from '../../proto/ikev1/index.js';
import { emitDebug, type DebugContext } from './debug.js';

/** `local-address {interface-name | ip-address [vrf-tag]}` */
export interface LocalBinding {
  interface?: string;
  address?: string;
  vrf?: string;
}

/** `pre-shared-key address A [mask] key K` / `crypto isakmp key K address A [mask]` / `... hostname H` */
export interface PskEntry {
  address?: string;
  /** dotted mask; default 255.255.255.255 */
  mask?: string;
  hostname?: string;
  key: string;
}

export interface KeyringConfig {
  name: string;
  /** `crypto keyring NAME vrf FVRF` */
  vrf?: string;
  localAddress?: LocalBinding;
  keys: PskEntry[];
}

export type ProfileIdentity =
  | { kind: 'address'; address: string; mask?: string; vrf?: string }
  | { kind: 'fqdn'; fqdn: string }
  | { kind: 'user-fqdn'; userFqdn: string };

export interface IsakmpProfileConfig {
  name: string;
  /** `vrf IVRF` */
  vrf?: string;
  keyrings: string[];
  match: ProfileIdentity[];
  selfIdentity?: 'address' | 'fqdn' | { userFqdn: string };
  localAddress?: LocalBinding;
}

export interface InterfaceInfo {
  name: string;
  /** primary address */
  address?: string;
  vrf?: string;
  /** the address is borrowed (`ip unnumbered`): the interface does not own it */
  unnumbered?: boolean;
}

export interface PeerConfigInput {
  /** `crypto isakmp key ...` (the default keyring, global VRF) */
  globalKeys: PskEntry[];
  keyrings: KeyringConfig[];
  profiles: IsakmpProfileConfig[];
  interfaces: InterfaceInfo[];
  hostname?: string;
  domainName?: string;
}

/** What the peer says it is (phase-1 ID) or, before that, its address. */
export type PeerIdentity =
  | { kind: 'address'; address: string }
  | { kind: 'fqdn'; fqdn: string }
  | { kind: 'user-fqdn'; userFqdn: string };

function u32(addr: string): number {
  const b = ipv4ToBytes(addr);
  return ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
}
function maskLen(mask: string): number {
  let v = u32(mask);
  let n = 0;
  while (v & 0x80000000) {
    n++;
    v = (v << 1) >>> 0;
  }
  return n;
}
function inSubnet(addr: string, net: string, mask: string): boolean {
  const m = u32(mask);
  return ((u32(addr) & m) >>> 0) === ((u32(net) & m) >>> 0);
}

/** The address (and VRF) a binding stands for; address undefined = binding is disabled. */
export function resolveBinding(input: PeerConfigInput, b: LocalBinding): { address?: string; vrf?: string } {
  if (b.interface !== undefined) {
    const itf = input.interfaces.find((i) => i.name.toLowerCase() === b.interface!.toLowerCase());
    return { ...(itf?.address ? { address: itf.address } : {}), ...(itf?.vrf ? { vrf: itf.vrf } : {}) };
  }
  return { ...(b.address ? { address: b.address } : {}), ...(b.vrf ? { vrf: b.vrf } : {}) };
}

/**
 * The front-door VRF of a local address: the VRF of the interface that owns it (undefined:
 * global). IKE and ESP to and from that address use the VRF's table; its peers' keys come only
 * from keyrings bound to that VRF.
 */
export function frontDoorVrf(input: PeerConfigInput, localAddress: string): string | undefined {
  return input.interfaces.find((i) => i.address === localAddress && !i.unnumbered)?.vrf;
}

function bindingAllows(input: PeerConfigInput, b: LocalBinding | undefined, localAddress: string): { ok: boolean; boundTo: string } {
  if (!b) return { ok: true, boundTo: '' };
  const r = resolveBinding(input, b);
  if (!r.address) return { ok: false, boundTo: b.interface ?? 'unknown' };
  return { ok: r.address === localAddress, boundTo: r.address };
}

export interface PskQuery {
  localAddress: string;
  peerAddress: string;
  /** peer FQDN (aggressive mode with an FQDN identity) */
  peerHostname?: string;
  fvrf?: string;
  /** restrict to these keyrings (the keyrings of a selected ISAKMP profile) */
  keyrings?: readonly string[];
}

export interface PskResult {
  /** the secret; never log it */
  key: string;
  /** keyring name, 'default' for `crypto isakmp key` */
  keyring: string;
  /** what matched: "10.0.0.3" / "10.0.0.0/255.0.0.0" / hostname */
  matched: string;
}

function bestKey(keys: readonly PskEntry[], q: PskQuery): { entry: PskEntry; matched: string } | undefined {
  let best: { entry: PskEntry; matched: string; len: number } | undefined;
  for (const k of keys) {
    if (k.hostname !== undefined) {
      if (q.peerHostname !== undefined && k.hostname.toLowerCase() === q.peerHostname.toLowerCase()) {
        return { entry: k, matched: k.hostname };
      }
      continue;
    }
    if (k.address === undefined) continue;
    const mask = k.mask ?? '255.255.255.255';
    if (!inSubnet(q.peerAddress, k.address, mask)) continue;
    const len = maskLen(mask);
    if (!best || len > best.len) {
      best = { entry: k, matched: len === 32 ? k.address : `${k.address}/${mask}`, len };
    }
  }
  return best ? { entry: best.entry, matched: best.matched } : undefined;
}

/**
 * Finds the pre-shared key for a peer. Keyrings bound to another local address (or to an
 * interface without an address) or in another front-door VRF are skipped; keyrings bound
 * to this address are searched before unbound ones, then the global `crypto isakmp key`s.
 */
export function findPreSharedKey(input: PeerConfigInput, q: PskQuery, dbg: DebugContext): PskResult | undefined {
  const ctx: DebugContext = { ...dbg, peer: q.peerAddress, ...(q.fvrf ? { fvrf: q.fvrf } : {}) };
  const bound: KeyringConfig[] = [];
  const unbound: KeyringConfig[] = [];
  for (const kr of input.keyrings) {
    if (q.keyrings && !q.keyrings.includes(kr.name)) continue;
    if ((kr.vrf ?? '') !== (q.fvrf ?? '')) continue;
    if (kr.localAddress) {
      const b = bindingAllows(input, kr.localAddress, q.localAddress);
      if (!b.ok) {
        emitDebug(ctx, `Keyring ${kr.name} is bound to ${b.boundTo}, skipping`);
        continue;
      }
      bound.push(kr);
    } else {
      unbound.push(kr);
    }
  }
  const search: { name: string; keys: readonly PskEntry[] }[] = [...bound, ...unbound];
  if (!q.keyrings && !q.fvrf) search.push({ name: 'default', keys: input.globalKeys });
  const who = q.peerHostname ?? q.peerAddress;
  for (const kr of search) {
    if (kr.keys.length === 0) continue;
    emitDebug(ctx, `Looking for a matching key for ${who} in ${kr.name}`);
    const hit = bestKey(kr.keys, q);
    if (hit) {
      emitDebug(ctx, ' : success');
      emitDebug(ctx, `found peer pre-shared key matching ${hit.matched}`);
      emitDebug(ctx, ' local preshared key found');
      return { key: hit.entry.key, keyring: kr.name, matched: hit.matched };
    }
  }
  emitDebug(ctx, `No pre-shared key with ${who}!`, true);
  return undefined;
}

export interface ProfileQuery {
  localAddress: string;
  peer: PeerIdentity;
  peerAddress: string;
  fvrf?: string;
}

function identityMatches(m: ProfileIdentity, peer: PeerIdentity, fvrf: string | undefined): boolean {
  switch (m.kind) {
    case 'address':
      if ((m.vrf ?? '') !== (fvrf ?? '')) return false;
      return peer.kind === 'address' && inSubnet(peer.address, m.address, m.mask ?? '255.255.255.255');
    case 'fqdn':
      return peer.kind === 'fqdn' && peer.fqdn.toLowerCase() === m.fqdn.toLowerCase();
    case 'user-fqdn':
      return peer.kind === 'user-fqdn' && peer.userFqdn.toLowerCase() === m.userFqdn.toLowerCase();
  }
}

/** First profile (config order) not bound elsewhere whose `match identity` matches the peer. */
export function matchProfile(input: PeerConfigInput, q: ProfileQuery, dbg: DebugContext): IsakmpProfileConfig | undefined {
  const ctx: DebugContext = { ...dbg, peer: q.peerAddress, ...(q.fvrf ? { fvrf: q.fvrf } : {}) };
  const skipped = new Set<string>();
  for (const p of input.profiles) {
    if (p.localAddress) {
      const b = bindingAllows(input, p.localAddress, q.localAddress);
      if (!b.ok) {
        emitDebug({ ...ctx, connId: 0 }, `Profile ${p.name} bound to ${b.boundTo} skipped`);
        skipped.add(p.name);
      }
    }
  }
  for (const p of input.profiles) {
    if (skipped.has(p.name)) continue;
    if (p.match.some((m) => identityMatches(m, q.peer, q.fvrf))) {
      emitDebug({ ...ctx, ...(p.vrf ? { ivrf: p.vrf } : {}) }, `: peer matches ${p.name} profile`);
      return p;
    }
  }
  emitDebug(ctx, ': peer matches *none* of the profiles');
  return undefined;
}

/** The phase-1 ID this box sends: `self-identity` of the profile, default the local address. */
export function selfIdentity(input: PeerConfigInput, profile: IsakmpProfileConfig | undefined, localAddress: string): IdPayload {
  const s = profile?.selfIdentity ?? 'address';
  if (s === 'address') return idIpv4Addr(localAddress, 17, 500);
  if (s === 'fqdn') {
    const host = input.hostname ?? 'Router';
    return idFqdn(input.domainName ? `${host}.${input.domainName}` : host, 17, 500);
  }
  return { ...idFqdn(s.userFqdn, 17, 500), idType: 3 };
}
