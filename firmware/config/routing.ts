// VRFs (`ip vrf NAME` with rd and route-targets), static routes (`ip route [vrf V] P M
// IF|NEXTHOP [distance] [name N] [permanent]`) and the global IP switches (`ip cef`,
// `ip classless`, `ip subnet-zero`). VRF blocks render early in running-config (order 40),
// routes after the interfaces (order 300), as IOS does.

import { formatIpv4, maskToPrefix, parseIpv4 } from '../lib/ip.js';
import { defineSection, type Config } from './model.js';

export interface VrfConfig {
  name: string;
  description?: string;
  /** Route distinguisher `ASN:nn` or `A.B.C.D:nn`. */
  rd?: string;
  routeTargetExport: string[];
  routeTargetImport: string[];
  revision: number;
}

export interface StaticRoute {
  /** VRF name; undefined = global table. */
  vrf?: string;
  prefix: string;
  mask: string;
  /** Canonical interface name when routed out of an interface. */
  interface?: string;
  nextHop?: string;
  /** Administrative distance; undefined = 1. */
  distance?: number;
  name?: string;
  permanent?: boolean;
  tag?: number;
}

export interface VrfTable {
  vrfs: Record<string, VrfConfig>;
}

export interface RoutingConfig {
  routes: StaticRoute[];
  /** `ip cef` (on by default, as on every IOS router of this class; `no ip cef` renders). */
  cef: boolean;
  /** `ip classless` / `ip subnet-zero`: IOS defaults, only their `no` forms render. */
  classless: boolean;
  subnetZero: boolean;
  /** Bumped when routes change (the runtime re-reads the table). */
  revision: number;
}

declare module './model.js' {
  interface Config {
    vrf: VrfTable;
    routing: RoutingConfig;
  }
}

export const DEFAULT_STATIC_DISTANCE = 1;

/** `1:1`, `65000:100`, `10.0.0.1:5`: the forms IOS takes for rd and route-target. */
export function isRouteDistinguisher(text: string): boolean {
  const m = /^([^:]+):(\d+)$/.exec(text);
  if (!m) return false;
  const left = m[1]!, right = Number(m[2]);
  if (parseIpv4(left) !== undefined) return right <= 65535;
  if (!/^\d+$/.test(left)) return false;
  const asn = Number(left);
  return asn <= 65535 ? right <= 4294967295 : asn <= 4294967295 && right <= 65535;
}

/** Same route in IOS's sense (same destination and same way out): `no ip route` finds it. */
export function sameRouteTarget(a: StaticRoute, b: StaticRoute): boolean {
  return a.vrf === b.vrf && a.prefix === b.prefix && a.mask === b.mask && a.interface === b.interface && a.nextHop === b.nextHop;
}

// Sorting routes parses the same few addresses over and over while a big config loads.
const addrMemo = new Map<string, number>();

function addrValue(a: string): number {
  let v = addrMemo.get(a);
  if (v === undefined) {
    v = parseIpv4(a) ?? 0;
    if (addrMemo.size > 100_000) addrMemo.clear();
    addrMemo.set(a, v);
  }
  return v;
}

/** IOS lists static routes by VRF (global first), then by prefix and mask. */
export function compareRoutes(a: StaticRoute, b: StaticRoute): number {
  if ((a.vrf ?? '') !== (b.vrf ?? '')) return (a.vrf ?? '') < (b.vrf ?? '') ? -1 : 1;
  const d = addrValue(a.prefix) - addrValue(b.prefix);
  if (d !== 0) return d;
  return addrValue(b.mask) - addrValue(a.mask);
}

export function formatStaticRoute(r: StaticRoute): string {
  const parts = ['ip route'];
  if (r.vrf) parts.push(`vrf ${r.vrf}`);
  parts.push(r.prefix, r.mask);
  if (r.interface) parts.push(r.interface);
  if (r.nextHop) parts.push(r.nextHop);
  if (r.distance !== undefined && r.distance !== DEFAULT_STATIC_DISTANCE) parts.push(String(r.distance));
  if (r.tag !== undefined) parts.push(`tag ${r.tag}`);
  if (r.name) parts.push(`name ${r.name}`);
  if (r.permanent) parts.push('permanent');
  return parts.join(' ');
}

/** Prefix length of a dotted mask, undefined when not contiguous. */
export function maskLength(mask: string): number | undefined {
  const m = parseIpv4(mask);
  return m === undefined ? undefined : maskToPrefix(m);
}

/** Network address of `address mask`. */
export function networkOf(address: string, mask: string): string {
  return formatIpv4((addrValue(address) & addrValue(mask)) >>> 0);
}

export function renderVrfs(cfg: Config): string[][] {
  const blocks: string[][] = [];
  const r = cfg.routing;
  const globals: string[] = [];
  if (!r.subnetZero) globals.push('no ip subnet-zero');
  if (!r.cef) globals.push('no ip cef');
  blocks.push(globals);
  for (const v of Object.values(cfg.vrf.vrfs).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const lines = [`ip vrf ${v.name}`];
    if (v.description) lines.push(` description ${v.description}`);
    if (v.rd) lines.push(` rd ${v.rd}`);
    for (const t of v.routeTargetExport) lines.push(` route-target export ${t}`);
    for (const t of v.routeTargetImport) lines.push(` route-target import ${t}`);
    blocks.push(lines);
  }
  return blocks;
}

export function renderRoutes(cfg: Config): string[][] {
  const r = cfg.routing;
  const lines: string[] = [];
  if (!r.classless) lines.push('no ip classless');
  for (const route of [...r.routes].sort(compareRoutes)) lines.push(formatStaticRoute(route));
  return [lines];
}

defineSection({
  key: 'vrf',
  order: 40,
  create: () => ({ vrfs: {} }),
  render: renderVrfs,
});

defineSection({
  key: 'routing',
  order: 300,
  create: () => ({ routes: [], cef: true, classless: true, subnetZero: true, revision: 0 }),
  render: renderRoutes,
});
