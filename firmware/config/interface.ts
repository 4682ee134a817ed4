// Interfaces: the board's physical ports (always present, rendered even when untouched, as
// IOS lists every interface), their subinterfaces (`FastEthernet0/0.100`), and the logical
// ones configuration creates (`Loopback N`, `Tunnel N`, `Virtual-Template N type tunnel`).
//
// The board's port list is part of the model (`cfg.interfaces.ports`) because running-config
// must list every port before any is touched: the daemon calls `setBoardPorts(cfg, board.ports)`
// on every config it creates (running, and the scratch copies it loads startup-config into);
// CLI handlers also call it from `ctx.system.board.ports` the first time an interface is
// touched, so a session over a fresh model (tests) behaves the same.
//
// Administrative state: ports are NOT shut down by default on this box (a factory IOS router
// starts with its ports `shutdown`). The guide's examples never say `no shutdown`, and an
// engineer pasting them expects the tunnels to come up; it also makes "absent `shutdown`
// line = up" hold for startup-config, as IOS does when it boots from a saved config.

import { compareInterfaceNames, interfaceTypeOf, LOGICAL_TYPES } from './interface-names.js';
import { defineSection, type Config } from './model.js';

export interface Ipv4AddressMask {
  address: string;
  mask: string;
}

/** `tunnel mode`: undefined = IOS default `gre ip` (not rendered). */
export type TunnelMode = 'ipsec ipv4' | 'ipsec ipv6' | 'gre ip' | 'gre ipv6' | 'ipip';

export interface TunnelConfig {
  /** Canonical interface name or IPv4 address. */
  source?: string;
  destination?: string;
  mode?: TunnelMode;
  protection?: { profile: string; shared: boolean };
  /** `tunnel vrf V`: the front-door VRF whose table carries the tunnel's outer packets (IKE, ESP). */
  vrf?: string;
  /** `no tunnel protection ipsec initiate`: a Virtual-Access clone only answers (IOS prints it). */
  noInitiate?: boolean;
}

export interface InterfaceConfig {
  /** Canonical name (`FastEthernet0/0`, `Tunnel0`, `Virtual-Template1`). */
  name: string;
  /** `Virtual-Template N type tunnel`. */
  templateType?: 'tunnel';
  description?: string;
  shutdown: boolean;
  ipAddress?: Ipv4AddressMask;
  secondary?: Ipv4AddressMask[];
  /** `ip unnumbered IF`: canonical name of the interface whose address is borrowed. */
  unnumbered?: string;
  /** `ipv6 address X:X::X:X/M`, canonical text as IOS shows it. */
  ipv6Addresses?: string[];
  /** `ip vrf forwarding NAME`. */
  vrf?: string;
  /** `crypto map NAME`: the crypto map set applied here. */
  cryptoMap?: string;
  /** `ipv6 crypto map NAME`. */
  ipv6CryptoMap?: string;
  /** `crypto ipsec df-bit clear|set|copy` here: the outer DF bit of this interface's SAs (else the global one). */
  dfBit?: 'clear' | 'set' | 'copy';
  tunnel?: TunnelConfig;
  /** `ip mtu N` (bytes). */
  ipMtu?: number;
  /** `ip tcp adjust-mss N`: MSS of TCP SYNs crossing the interface clamped to N. */
  tcpAdjustMss?: number;
  /** `bandwidth N` (kbit/s). */
  bandwidthKbps?: number;
  /** `load-interval N` (seconds). */
  loadIntervalSec?: number;
  duplex?: 'auto' | 'full' | 'half';
  speed?: 'auto' | '10' | '100' | '1000';
  /** `encapsulation dot1Q N [native]` on subinterfaces. */
  dot1q?: { vlan: number; native: boolean };
  /** `ip access-group ACL in|out`: packet filters. */
  accessGroupIn?: string;
  accessGroupOut?: string;
  /** Switching-path knobs IOS keeps per interface (`no ip route-cache`, ...). */
  noRouteCache?: boolean;
  routeCacheFlow?: boolean;
  noRouteCacheCef?: boolean;
  noMrouteCache?: boolean;
  virtualReassembly?: boolean;
  /** Bumped whenever the interface changes (the runtime re-applies it). */
  revision: number;
}

export interface InterfacesConfig {
  /** The board's physical ports in hardware order (set by the daemon / first CLI use). */
  ports: string[];
  items: Record<string, InterfaceConfig>;
}

declare module './model.js' {
  interface Config { interfaces: InterfacesConfig }
}

export function newInterface(name: string, revision: number): InterfaceConfig {
  return { name, shutdown: false, revision };
}

/**
 * Records the board's ports and gives every port an entry (untouched ports render as
 * `no ip address`). Idempotent; ports the board no longer has keep their entries.
 */
export function setBoardPorts(cfg: Config, ports: readonly string[]): void {
  const ifs = cfg.interfaces;
  if (ifs.ports.length === ports.length && ifs.ports.every((p, i) => p === ports[i])) return;
  ifs.ports = [...ports];
  for (const p of ports) if (!ifs.items[p]) ifs.items[p] = newInterface(p, 0);
}

export function isLogicalName(name: string): boolean {
  const type = interfaceTypeOf(name);
  return type !== undefined && LOGICAL_TYPES.has(type);
}

/** `FastEthernet0/0.100` -> `FastEthernet0/0`. */
export function parentOf(name: string): string | undefined {
  const dot = name.indexOf('.');
  return dot > 0 ? name.slice(0, dot) : undefined;
}

/** Physical port or a subinterface of one. */
export function isPhysicalOrSub(name: string): boolean {
  return !isLogicalName(name);
}

/** IOS's running-config order: loopbacks, tunnels, ports in hardware order (each followed by
 *  its subinterfaces), virtual templates, then anything else. */
export function sortedInterfaces(cfg: Config): InterfaceConfig[] {
  const ports = cfg.interfaces.ports;
  const rank = (n: string): number => {
    const t = interfaceTypeOf(n);
    if (t === 'Loopback') return 0;
    if (t === 'Tunnel') return 1;
    if (!isLogicalName(n)) return 2;
    if (t === 'Virtual-Template') return 3;
    return 4;
  };
  const portIndex = (n: string): number => {
    const i = ports.indexOf(parentOf(n) ?? n);
    return i < 0 ? ports.length : i;
  };
  return Object.values(cfg.interfaces.items).sort((a, b) => {
    const ra = rank(a.name), rb = rank(b.name);
    if (ra !== rb) return ra - rb;
    if (ra === 2) {
      const pa = portIndex(a.name), pb = portIndex(b.name);
      if (pa !== pb) return pa - pb;
    }
    return compareInterfaceNames(a.name, b.name);
  });
}

export function formatTunnelMode(mode: TunnelMode): string {
  return mode;
}

export function renderInterface(i: InterfaceConfig): string[] {
  const l = [`interface ${i.name}${i.templateType ? ` type ${i.templateType}` : ''}`];
  if (i.description !== undefined) l.push(` description ${i.description}`);
  if (i.dot1q) l.push(` encapsulation dot1Q ${i.dot1q.vlan}${i.dot1q.native ? ' native' : ''}`);
  if (i.bandwidthKbps !== undefined) l.push(` bandwidth ${i.bandwidthKbps}`);
  if (i.vrf) l.push(` ip vrf forwarding ${i.vrf}`);
  if (i.ipAddress) {
    l.push(` ip address ${i.ipAddress.address} ${i.ipAddress.mask}`);
    for (const s of i.secondary ?? []) l.push(` ip address ${s.address} ${s.mask} secondary`);
  } else if (i.unnumbered) l.push(` ip unnumbered ${i.unnumbered}`);
  else l.push(' no ip address');
  if (i.accessGroupIn) l.push(` ip access-group ${i.accessGroupIn} in`);
  if (i.accessGroupOut) l.push(` ip access-group ${i.accessGroupOut} out`);
  if (i.ipMtu !== undefined) l.push(` ip mtu ${i.ipMtu}`);
  if (i.tcpAdjustMss !== undefined) l.push(` ip tcp adjust-mss ${i.tcpAdjustMss}`);
  if (i.virtualReassembly) l.push(' ip virtual-reassembly');
  if (i.noRouteCache) l.push(' no ip route-cache');
  if (i.routeCacheFlow) l.push(' ip route-cache flow');
  if (i.noRouteCacheCef) l.push(' no ip route-cache cef');
  if (i.noMrouteCache) l.push(' no ip mroute-cache');
  if (i.loadIntervalSec !== undefined) l.push(` load-interval ${i.loadIntervalSec}`);
  if (i.shutdown) l.push(' shutdown');
  if (i.duplex) l.push(` duplex ${i.duplex}`);
  if (i.speed) l.push(` speed ${i.speed}`);
  for (const a of i.ipv6Addresses ?? []) l.push(` ipv6 address ${a}`);
  const t = i.tunnel;
  if (t) {
    if (t.source) l.push(` tunnel source ${t.source}`);
    if (t.destination) l.push(` tunnel destination ${t.destination}`);
    if (t.mode && t.mode !== 'gre ip') l.push(` tunnel mode ${formatTunnelMode(t.mode)}`);
    if (t.vrf) l.push(` tunnel vrf ${t.vrf}`);
    if (t.protection) l.push(` tunnel protection ipsec profile ${t.protection.profile}${t.protection.shared ? ' shared' : ''}`);
    if (t.noInitiate) l.push(' no tunnel protection ipsec initiate');
  }
  if (i.cryptoMap) l.push(` crypto map ${i.cryptoMap}`);
  if (i.ipv6CryptoMap) l.push(` ipv6 crypto map ${i.ipv6CryptoMap}`);
  if (i.dfBit) l.push(` crypto ipsec df-bit ${i.dfBit}`);
  return l;
}

export function renderInterfaces(cfg: Config): string[][] {
  return sortedInterfaces(cfg).map(renderInterface);
}

/** Interfaces a crypto map set is applied to (for `show crypto map`). */
export function interfacesUsingCryptoMap(cfg: Config, map: string): string[] {
  return sortedInterfaces(cfg).filter((i) => i.cryptoMap === map).map((i) => i.name);
}

/** The interface's primary IPv4 address, following `ip unnumbered` one level. */
export function effectiveIpv4(cfg: Config, name: string): Ipv4AddressMask | undefined {
  const i = cfg.interfaces.items[name];
  if (!i) return undefined;
  if (i.ipAddress) return i.ipAddress;
  if (i.unnumbered) return cfg.interfaces.items[i.unnumbered]?.ipAddress;
  return undefined;
}

defineSection({
  key: 'interfaces',
  order: 200,
  create: () => ({ ports: [], items: {} }),
  render: renderInterfaces,
});
