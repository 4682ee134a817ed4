// VRFs, static routes and the global IP switches, plus the show commands that read
// interfaces and routes: `show ip route [vrf V]`, `show ip interface brief`,
// `show interfaces [IF]`, `show ip vrf`. Link state and counters come from the runtime
// (`RuntimeView.interfaceStatus`) when it provides them.

import { compareInterfaceNames, interfaceTypeOf, shortInterfaceName } from '../../config/interface-names.js';
import { parentOf, setBoardPorts, sortedInterfaces, type InterfaceConfig } from '../../config/interface.js';
import {
  compareRoutes, DEFAULT_STATIC_DISTANCE, isRouteDistinguisher, maskLength, networkOf, sameRouteTarget,
  type StaticRoute, type VrfConfig,
} from '../../config/routing.js';
import { formatIpv4, parseIpv4, prefixToMask } from '../../lib/ip.js';
import { CliError, type CommandContext } from '../context.js';
import { defineMode } from '../modes.js';
import { defineCommand } from '../registry.js';
import { ifnameOf, requireKnownInterface } from './interface.js';
import { virtualAccessConfig, virtualAccessInterfaces } from './vtemplate.js';

/** Counters are 64-bit on the wire and in the kernel: number or bigint. */
type Count = number | bigint;

export interface InterfaceRuntimeStatus {
  /** Carrier / link up. */
  link: boolean;
  /** Line protocol (for a VTI: its IPsec SAs are up); defaults to `link`. */
  protocol?: boolean;
  /** `0011.2233.4455` style or `00:11:22:33:44:55`. */
  mac?: string;
  counters?: {
    inPackets: Count; inBytes: Count; outPackets: Count; outBytes: Count;
    inErrors?: Count; outErrors?: Count; inDrops?: Count; outDrops?: Count;
    /** multicast and broadcast frames received (Linux counts them together) */
    inMulticast?: Count;
  };
  /** Rates over the load interval. */
  inBitsPerSec?: number; inPacketsPerSec?: number; outBitsPerSec?: number; outPacketsPerSec?: number;
}

declare module '../context.js' {
  interface RuntimeView {
    /** Live state of an interface; absent or undefined: derived from the configuration. */
    interfaceStatus?(name: string): InterfaceRuntimeStatus | undefined;
    /** Routes injected by `reverse-route` for live SAs (global table). */
    reverseRoutes?(): readonly { prefix: string; length: number; nextHop: string; iface: string; distance: number; tag?: number }[];
  }
}

export const VRF_MODE = 'config-vrf';
defineMode({ name: VRF_MODE, prompt: '(config-vrf)', parent: 'config' });

const rev = (ctx: CommandContext): number => ctx.config.revision + 1;

// ------------------------------------------------------------------ global switches

defineCommand({
  modes: ['config'],
  syntax: '[no] ip <cef|classless|subnet-zero>',
  help: {
    cef: 'Cisco Express Forwarding',
    classless: 'Follow classless routing forwarding rules',
    'subnet-zero': 'Allow \'subnet zero\' subnets',
  },
  handler(ctx, a) {
    const r = ctx.config.routing;
    if (a.has('cef')) r.cef = !a.no;
    else if (a.has('classless')) r.classless = !a.no;
    else r.subnetZero = !a.no;
  },
});

// ------------------------------------------------------------------ ip vrf

defineCommand({
  modes: ['config'],
  syntax: ['ip vrf WORD$name', 'no ip vrf WORD$name'],
  help: { vrf: 'Configure an IP VPN Routing/Forwarding instance', name: 'VPN Routing/Forwarding instance name' },
  handler(ctx, a) {
    const name = a.req('name');
    const vrfs = ctx.config.vrf.vrfs;
    if (a.no) {
      if (!vrfs[name]) throw new CliError(`% VRF ${name} does not exist`);
      delete vrfs[name];
      let removed = false;
      for (const i of Object.values(ctx.config.interfaces.items)) {
        if (i.vrf !== name) continue;
        delete i.vrf; delete i.ipAddress; delete i.secondary; delete i.unnumbered;
        i.revision = rev(ctx);
        removed = true;
      }
      const before = ctx.config.routing.routes.length;
      ctx.config.routing.routes = ctx.config.routing.routes.filter((r) => r.vrf !== name);
      if (ctx.config.routing.routes.length !== before) ctx.config.routing.revision = rev(ctx);
      if (removed) ctx.print(`% IP addresses from all interfaces in VRF ${name} have been removed`);
      return;
    }
    if (name.length > 32) throw new CliError('% VRF name too long: at most 32 characters');
    if (!vrfs[name]) vrfs[name] = { name, routeTargetExport: [], routeTargetImport: [], revision: rev(ctx) };
    ctx.enter(VRF_MODE, { vrf: name });
  },
});

function currentVrf(ctx: CommandContext): VrfConfig {
  const name = ctx.modeData['vrf'] as string;
  const vrfs = ctx.config.vrf.vrfs;
  const v = vrfs[name] ?? (vrfs[name] = { name, routeTargetExport: [], routeTargetImport: [], revision: rev(ctx) });
  v.revision = rev(ctx);
  return v;
}

defineCommand({
  modes: [VRF_MODE],
  syntax: ['rd WORD$rd', 'no rd [WORD$rd]'],
  help: { rd: 'Specify Route Distinguisher', WORD: 'VPN Route Distinguisher (ASN:nn or IP-address:nn)' },
  handler(ctx, a) {
    const rd = a.get('rd');
    if (a.no) { delete currentVrf(ctx).rd; return; }
    if (!isRouteDistinguisher(rd!)) throw new CliError(`% Invalid RD "${rd}": use ASN:nn or IP-address:nn`);
    const name = ctx.modeData['vrf'] as string;
    const v = ctx.config.vrf.vrfs[name];
    if (v?.rd === rd) return;
    if (v?.rd) throw new CliError(`% Do "no rd ${v.rd}" before changing the RD of VRF ${name}`);
    if (Object.values(ctx.config.vrf.vrfs).some((o) => o.name !== name && o.rd === rd)) throw new CliError('% Cannot set RD, check if it\'s unique');
    currentVrf(ctx).rd = rd;
  },
});

defineCommand({
  modes: [VRF_MODE],
  syntax: '[no] route-target <export|import|both> WORD$rt',
  help: {
    'route-target': 'Specify Target VPN Extended Communities', export: 'Export Target-VPN community',
    import: 'Import Target-VPN community', both: 'Both import and export Target-VPN communities',
    rt: 'Target VPN Extended Community (ASN:nn or IP-address:nn)',
  },
  handler(ctx, a) {
    const rt = a.req('rt');
    if (!isRouteDistinguisher(rt)) throw new CliError(`% Invalid route target "${rt}": use ASN:nn or IP-address:nn`);
    const v = currentVrf(ctx);
    const lists: string[][] = [];
    if (a.has('export') || a.has('both')) lists.push(v.routeTargetExport);
    if (a.has('import') || a.has('both')) lists.push(v.routeTargetImport);
    for (const l of lists) {
      const i = l.indexOf(rt);
      if (a.no) { if (i >= 0) l.splice(i, 1); } else if (i < 0) l.push(rt);
    }
  },
});

defineCommand({
  modes: [VRF_MODE],
  syntax: ['description LINE$text', 'no description [LINE]'],
  help: { description: 'VRF specific description', text: 'Up to 244 characters describing this VRF' },
  handler(ctx, a) {
    const v = currentVrf(ctx);
    if (a.no) delete v.description;
    else v.description = a.req('text');
  },
});

// ------------------------------------------------------------------ ip route

const ROUTE_TAIL = '[(1-255)$distance] [tag (1-4294967295)$tag] [name WORD$rname] [permanent]';
const ROUTE_HELP = {
  route: 'Establish static routes', vrf: 'Configure static route for a VPN Routing/Forwarding instance',
  vrfname: 'VPN Routing/Forwarding instance name', prefix: 'Destination prefix', mask: 'Destination prefix mask',
  nh: 'Forwarding router\'s address', IFNAME: 'Interface to route out of', distance: 'Distance metric for this route',
  tag: 'Set tag for this route', name: 'Specify name of the next hop', rname: 'Name of the next hop',
  permanent: 'permanent route',
};

defineCommand({
  modes: ['config'],
  syntax: [
    `ip route [vrf WORD$vrfname] A.B.C.D$prefix A.B.C.D$mask <IFNAME [A.B.C.D$nh]|A.B.C.D$nh> ${ROUTE_TAIL}`,
    `no ip route [vrf WORD$vrfname] A.B.C.D$prefix A.B.C.D$mask [<IFNAME [A.B.C.D$nh]|A.B.C.D$nh> ${ROUTE_TAIL}]`,
  ],
  help: ROUTE_HELP,
  handler(ctx, a) {
    const vrf = a.get('vrfname');
    const prefix = a.req('prefix'), mask = a.req('mask');
    if (maskLength(mask) === undefined || networkOf(prefix, mask) !== prefix) throw new CliError('%Inconsistent address and mask');
    if (vrf !== undefined && !ctx.config.vrf.vrfs[vrf] && !a.no) throw new CliError(`% VRF ${vrf} not configured`);
    const ifWord = (a.no ? 1 : 0) + (vrf !== undefined ? 6 : 4);
    const ifValue = a.get('IFNAME');
    const route: StaticRoute = { prefix, mask };
    if (vrf !== undefined) route.vrf = vrf;
    if (ifValue !== undefined) route.interface = a.no ? ifnameOf(ifValue) : requireKnownInterface(ctx, ifValue, ifWord);
    const nh = a.get('nh');
    if (nh !== undefined) route.nextHop = nh;
    const routing = ctx.config.routing;
    if (a.no) {
      const gateway = ifValue !== undefined || nh !== undefined;
      const before = routing.routes.length;
      routing.routes = routing.routes.filter((r) => !(gateway ? sameRouteTarget(r, route) : r.vrf === route.vrf && r.prefix === prefix && r.mask === mask));
      if (routing.routes.length === before) throw new CliError('%No matching route to delete');
      routing.revision = rev(ctx);
      return;
    }
    const distance = a.num('distance');
    if (distance !== undefined && distance !== DEFAULT_STATIC_DISTANCE) route.distance = distance;
    const tag = a.num('tag');
    if (tag !== undefined) route.tag = tag;
    const rname = a.get('rname');
    if (rname !== undefined) route.name = rname;
    if (a.has('permanent')) route.permanent = true;
    // Kept in running-config order, so a rendered config loads back to the same list:
    // binary search for the routes to the same destination, replace or insert after them.
    const routes = routing.routes;
    let lo = 0, hi = routes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareRoutes(routes[mid]!, route) < 0) lo = mid + 1;
      else hi = mid;
    }
    let at = lo;
    while (at < routes.length && compareRoutes(routes[at]!, route) === 0 && !sameRouteTarget(routes[at]!, route)) at++;
    if (at < routes.length && sameRouteTarget(routes[at]!, route)) routes[at] = route;
    else routes.splice(at, 0, route);
    routing.revision = rev(ctx);
  },
});

// ------------------------------------------------------------------ interface state

export interface InterfaceState {
  status: 'up' | 'down' | 'administratively down';
  protocol: 'up' | 'down';
}

export function interfaceState(ctx: CommandContext, i: InterfaceConfig): InterfaceState {
  if (i.shutdown) return { status: 'administratively down', protocol: 'down' };
  const parent = parentOf(i.name);
  const p = parent !== undefined ? ctx.config.interfaces.items[parent] : undefined;
  if (p?.shutdown) return { status: 'down', protocol: 'down' };
  const rt = ctx.system.runtime.interfaceStatus?.(i.name);
  if (rt) {
    const link = rt.link;
    const proto = rt.protocol ?? link;
    return { status: link ? 'up' : 'down', protocol: link && proto ? 'up' : 'down' };
  }
  const type = interfaceTypeOf(i.name);
  if (type === 'Virtual-Template') return { status: 'down', protocol: 'down' };
  if (type === 'Tunnel') {
    const t = i.tunnel;
    const up = t?.source !== undefined && t.destination !== undefined;
    // Without a runtime there is no SA, so an IPsec tunnel's line protocol stays down.
    return { status: up ? 'up' : 'down', protocol: up && !t?.mode?.startsWith('ipsec') ? 'up' : 'down' };
  }
  return { status: 'up', protocol: 'up' };
}

function interfacesOf(ctx: CommandContext): InterfaceConfig[] {
  setBoardPorts(ctx.config, ctx.system.board.ports);
  // Virtual-Access interfaces (dynamic VTI sessions) are listed after the configured ones
  return [...sortedInterfaces(ctx.config), ...virtualAccessInterfaces(ctx).map((v) => v.config)];
}

/** All interfaces, or the one named by an optional IFNAME argument (which must exist). */
function selectedInterfaces(ctx: CommandContext, value: string | undefined): InterfaceConfig[] {
  const all = interfacesOf(ctx);
  if (value === undefined) return all;
  const name = ifnameOf(value);
  const i = ctx.config.interfaces.items[name] ?? virtualAccessConfig(ctx, name);
  if (!i) throw new CliError(`% Interface ${name} does not exist`);
  return [i];
}

// ------------------------------------------------------------------ routing table

export interface RouteEntry {
  /** L: the interface's own address (IOS 15 local route), C: connected subnet, S: static */
  code: 'L' | 'C' | 'S';
  prefix: string;
  length: number;
  distance: number;
  nextHop?: string;
  interface?: string;
  vrf?: string;
  /** `ip route ... tag N` or `reverse-route tag N`. */
  tag?: number;
}

/** The routes `show ip route` lists for a VRF (undefined = global): connected, then usable statics. */
export function routingTable(ctx: CommandContext, vrf: string | undefined): RouteEntry[] {
  const out: RouteEntry[] = [];
  for (const i of interfacesOf(ctx)) {
    if ((i.vrf ?? undefined) !== vrf || !i.ipAddress) continue;
    const st = interfaceState(ctx, i);
    if (st.status !== 'up' || st.protocol !== 'up') continue;
    for (const a of [i.ipAddress, ...(i.secondary ?? [])]) {
      const length = maskLength(a.mask)!;
      out.push({ code: 'C', prefix: networkOf(a.address, a.mask), length, distance: 0, interface: i.name });
      // IOS 15 lists the address itself as a local /32 (none for a /32 address: C says it all)
      if (length < 32) out.push({ code: 'L', prefix: a.address, length: 32, distance: 0, interface: i.name });
    }
  }
  const connected = out.filter((e) => e.code === 'C');
  const statics = ctx.config.routing.routes.filter((r) => r.vrf === vrf).sort(compareRoutes);
  const ifUp = (name: string): boolean => {
    const i = ctx.config.interfaces.items[name];
    if (!i) return false;
    const st = interfaceState(ctx, i);
    return st.status === 'up' && st.protocol === 'up';
  };
  const covers = (e: { prefix: string; length: number }, addr: string): boolean => {
    const m = prefixToMask(e.length);
    return ((parseIpv4(addr)! & m) >>> 0) === parseIpv4(e.prefix)!;
  };
  const installed: RouteEntry[] = [];
  // Statics resolve through connected routes and through each other (a few levels), never
  // through a default route, as IOS does.
  for (let pass = 0; pass < 4; pass++) {
    for (const r of statics) {
      const length = maskLength(r.mask)!;
      if (installed.some((e) => e.prefix === r.prefix && e.length === length && e.nextHop === r.nextHop && e.interface === r.interface)) continue;
      let ok: boolean;
      if (r.permanent) ok = true;
      else if (r.interface) ok = ifUp(r.interface);
      else ok = [...connected, ...installed].some((e) => e.length > 0 && covers(e, r.nextHop!));
      if (!ok) continue;
      const e: RouteEntry = { code: 'S', prefix: r.prefix, length, distance: r.distance ?? DEFAULT_STATIC_DISTANCE };
      if (r.nextHop) e.nextHop = r.nextHop;
      if (r.interface) e.interface = r.interface;
      if (r.tag !== undefined) e.tag = r.tag;
      installed.push(e);
    }
  }
  // reverse route injection: static routes for the remote proxies of live SAs
  if (vrf === undefined) {
    for (const r of ctx.system.runtime.reverseRoutes?.() ?? []) {
      if (!r.nextHop) continue;
      if (installed.some((e) => e.prefix === r.prefix && e.length === r.length && e.nextHop === r.nextHop)) continue;
      installed.push({ code: 'S', prefix: r.prefix, length: r.length, distance: r.distance, nextHop: r.nextHop, ...(r.tag !== undefined ? { tag: r.tag } : {}) });
    }
  }
  // Best distance wins per prefix; equal ones are all kept (equal-cost paths).
  const all = [...out, ...installed];
  return all.filter((e) => !all.some((o) => o.prefix === e.prefix && o.length === e.length && o.distance < e.distance));
}

/** IOS 15's legend (12.4 had no L, H, l, + or %). */
const CODES = [
  'Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP',
  '       D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area ',
  '       N1 - OSPF NSSA external type 1, N2 - OSPF NSSA external type 2',
  '       E1 - OSPF external type 1, E2 - OSPF external type 2',
  '       i - IS-IS, su - IS-IS summary, L1 - IS-IS level-1, L2 - IS-IS level-2',
  '       ia - IS-IS inter area, * - candidate default, U - per-user static route',
  '       o - ODR, P - periodic downloaded static route, H - NHRP, l - LISP',
  '       + - replicated route, % - next hop override',
];

function classfulLength(prefix: string): number {
  const first = parseIpv4(prefix)! >>> 24;
  return first < 128 ? 8 : first < 192 ? 16 : 24;
}

function routeTail(e: RouteEntry): string {
  if (e.code === 'C' || e.code === 'L' || (e.nextHop === undefined && e.interface !== undefined)) return `is directly connected, ${e.interface}`;
  return `[${e.distance}/0] via ${e.nextHop}${e.interface ? `, ${e.interface}` : ''}`;
}

/** `show ip route` body in IOS 15's classful layout (code column 9 wide under a subnetted major net, 6 at the top). */
export function formatRoutingTable(entries: RouteEntry[], vrf: string | undefined): string {
  const lines: string[] = [];
  if (vrf) lines.push(`Routing Table: ${vrf}`);
  lines.push(...CODES, '');
  const defaults = entries.filter((e) => e.length === 0);
  const gw = defaults[0];
  lines.push(gw ? `Gateway of last resort is ${gw.nextHop ?? '0.0.0.0'} to network 0.0.0.0` : 'Gateway of last resort is not set', '');
  const codeOf = (e: RouteEntry): string => (e.length === 0 ? `${e.code}*` : e.code);
  const groups = new Map<string, RouteEntry[]>();
  const top: RouteEntry[] = [];
  for (const e of entries) {
    if (e.length === 0) continue;
    const cl = classfulLength(e.prefix);
    if (e.length <= cl) { top.push(e); continue; }
    const major = formatIpv4((parseIpv4(e.prefix)! & prefixToMask(cl)) >>> 0);
    const list = groups.get(major) ?? [];
    list.push(e);
    groups.set(major, list);
  }
  // A major network that has subnets lists its own classful route among them (IOS 15:
  // `192.0.2.0/24 is variably subnetted` over C 192.0.2.0/24 and L 192.0.2.2/32).
  for (let i = top.length - 1; i >= 0; i--) {
    const e = top[i]!;
    const list = e.length === classfulLength(e.prefix) ? groups.get(e.prefix) : undefined;
    if (list) { list.push(e); top.splice(i, 1); }
  }
  type Block = { key: number; lines: string[] };
  const blocks: Block[] = [];
  const emit = (pad: number, e: RouteEntry, shown: string, out: string[], prev?: RouteEntry): void => {
    if (prev && prev.prefix === e.prefix && prev.length === e.length) {
      out.push(`${' '.repeat(pad + shown.length + 1)}${routeTail(e)}`);
      return;
    }
    out.push(`${codeOf(e).padEnd(pad)}${shown} ${routeTail(e)}`);
  };
  const byAddr = (a: RouteEntry, b: RouteEntry): number => parseIpv4(a.prefix)! - parseIpv4(b.prefix)! || a.length - b.length || a.distance - b.distance;
  for (const [major, list] of groups) {
    list.sort(byAddr);
    const cl = classfulLength(major);
    const lengths = new Set(list.map((e) => e.length));
    const subnets = new Set(list.map((e) => `${e.prefix}/${e.length}`)).size;
    const out: string[] = [];
    if (lengths.size === 1) out.push(`      ${major}/${list[0]!.length} is subnetted, ${subnets} subnets`);
    else out.push(`      ${major}/${cl} is variably subnetted, ${subnets} subnets, ${lengths.size} masks`);
    let prev: RouteEntry | undefined;
    for (const e of list) {
      emit(9, e, lengths.size === 1 ? e.prefix : `${e.prefix}/${e.length}`, out, prev);
      prev = e;
    }
    blocks.push({ key: parseIpv4(major)!, lines: out });
  }
  top.sort(byAddr);
  let prev: RouteEntry | undefined;
  for (const e of top) {
    const out: string[] = [];
    emit(6, e, `${e.prefix}/${e.length}`, out, prev);
    prev = e;
    blocks.push({ key: parseIpv4(e.prefix)!, lines: out });
  }
  blocks.sort((a, b) => a.key - b.key);
  for (const b of blocks) lines.push(...b.lines);
  prev = undefined;
  for (const e of defaults.sort(byAddr)) {
    emit(6, e, '0.0.0.0/0', lines, prev);
    prev = e;
  }
  return lines.join('\n');
}

/**
 * The routes `show ip route A.B.C.D [MASK]` describes: those of the longest prefix holding
 * the address (never the default route, as IOS), or of exactly that prefix with a mask.
 */
export function routeLookup(table: readonly RouteEntry[], address: string, mask: string | undefined): RouteEntry[] {
  const addr = parseIpv4(address)!;
  const len = mask !== undefined ? maskLength(mask) : undefined;
  let best: RouteEntry[] = [];
  for (const e of table) {
    if (e.length === 0) continue;
    const hit = len !== undefined ? e.prefix === address && e.length === len : ((addr & prefixToMask(e.length)) >>> 0) === parseIpv4(e.prefix)!;
    if (!hit) continue;
    if (best.length === 0 || e.length > best[0]!.length) best = [e];
    else if (e.length === best[0]!.length) best.push(e);
  }
  return best;
}

/** IOS's "Routing entry for" block of `show ip route A.B.C.D` (routes of one prefix). */
export function formatRouteDetail(best: readonly RouteEntry[]): string {
  const first = best[0];
  if (!first) return '% Network not in table';
  const lines = [`Routing entry for ${first.prefix}/${first.length}`];
  const via = first.code === 'S' ? 'static' : 'connected';
  lines.push(`  Known via "${via}", distance ${first.distance}, metric 0${via === 'connected' ? ' (connected, via interface)' : ''}`);
  if (first.tag !== undefined) lines.push(`  Tag ${first.tag}`);
  lines.push('  Routing Descriptor Blocks:');
  best.forEach((e, i) => {
    const head = e.nextHop !== undefined ? `${e.nextHop}${e.interface ? `, via ${e.interface}` : ''}` : `directly connected, via ${e.interface}`;
    lines.push(`  ${i === 0 ? '*' : ' '} ${head}`);
    lines.push('      Route metric is 0, traffic share count is 1');
    if (e.tag !== undefined) lines.push(`      Route tag ${e.tag}`);
  });
  return lines.join('\n');
}

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show ip route [vrf WORD$vrf] [A.B.C.D$addr [A.B.C.D$mask]]',
  help: {
    route: 'IP routing table', vrf: 'Display routes from a VPN Routing/Forwarding instance', WORD: 'VPN Routing/Forwarding instance name',
    addr: 'Network to display information about or host', mask: 'Network mask',
  },
  pipe: true,
  handler(ctx, a) {
    const vrf = a.get('vrf');
    if (vrf !== undefined && !ctx.config.vrf.vrfs[vrf]) throw new CliError(`% IP routing table ${vrf} does not exist`);
    const table = routingTable(ctx, vrf);
    const addr = a.get('addr');
    if (addr === undefined) {
      ctx.data({ vrf: vrf ?? null, routes: table });
      ctx.print(formatRoutingTable(table, vrf));
      return;
    }
    const mask = a.get('mask');
    if (mask !== undefined && maskLength(mask) === undefined) throw new CliError('% Inconsistent address and mask');
    const best = routeLookup(table, addr, mask);
    ctx.data({ vrf: vrf ?? null, routes: best });
    ctx.print(formatRouteDetail(best));
  },
});

// ------------------------------------------------------------------ show ip interface brief

export interface BriefRow { interface: string; ipAddress: string; ok: 'YES' | 'NO'; method: string; status: string; protocol: string }

export function briefRows(ctx: CommandContext): BriefRow[] {
  return interfacesOf(ctx).map((i) => {
    const st = interfaceState(ctx, i);
    let ip = 'unassigned', method = 'unset';
    if (i.ipAddress) { ip = i.ipAddress.address; method = 'manual'; }
    else if (i.unnumbered) { ip = ctx.config.interfaces.items[i.unnumbered]?.ipAddress?.address ?? 'unassigned'; method = 'TFTP'; }
    return { interface: i.name, ipAddress: ip, ok: 'YES', method, status: st.status, protocol: st.protocol };
  });
}

export function formatBrief(rows: BriefRow[]): string {
  const line = (c: string[]): string => `${c[0]!.padEnd(26)} ${c[1]!.padEnd(15)} ${c[2]!.padEnd(3)} ${c[3]!.padEnd(6)} ${c[4]!.padEnd(21)} ${c[5]}`;
  return [line(['Interface', 'IP-Address', 'OK?', 'Method', 'Status', 'Protocol']),
    ...rows.map((r) => line([r.interface, r.ipAddress, r.ok, r.method, r.status, r.protocol]))].join('\n');
}

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show ip interface brief',
  help: { interface: 'IP interface status and configuration', brief: 'Brief summary of IP status and configuration' },
  pipe: true,
  handler(ctx) {
    const rows = briefRows(ctx);
    ctx.data(rows);
    ctx.print(formatBrief(rows));
  },
});

// ------------------------------------------------------------------ show interfaces

const HARDWARE: Record<string, { hw: string; bw: number; dly: number; mtu: number; enc: string }> = {
  Ethernet: { hw: 'Lance', bw: 10000, dly: 1000, mtu: 1500, enc: 'ARPA' },
  FastEthernet: { hw: 'Fast Ethernet', bw: 100000, dly: 100, mtu: 1500, enc: 'ARPA' },
  GigabitEthernet: { hw: 'Gigabit Ethernet', bw: 1000000, dly: 10, mtu: 1500, enc: 'ARPA' },
  TenGigabitEthernet: { hw: 'Ten Gigabit Ethernet', bw: 10000000, dly: 10, mtu: 1500, enc: 'ARPA' },
  Serial: { hw: 'PowerQUICC Serial', bw: 1544, dly: 20000, mtu: 1500, enc: 'HDLC' },
  Loopback: { hw: 'Loopback', bw: 8000000, dly: 5000, mtu: 1514, enc: 'LOOPBACK' },
  Tunnel: { hw: 'Tunnel', bw: 100, dly: 50000, mtu: 1514, enc: 'TUNNEL' },
  'Virtual-Template': { hw: 'Virtual Template interface', bw: 100000, dly: 100000, mtu: 1500, enc: 'TUNNEL' },
  'Virtual-Access': { hw: 'Virtual Access interface', bw: 100, dly: 50000, mtu: 1514, enc: 'TUNNEL' },
};

function macDotted(mac: string | undefined): string {
  const hex = (mac ?? '0000.0000.0000').replace(/[^0-9a-fA-F]/g, '').toLowerCase().padEnd(12, '0');
  return `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8, 12)}`;
}

export function formatShowInterface(ctx: CommandContext, i: InterfaceConfig): string {
  const st = interfaceState(ctx, i);
  const rt = ctx.system.runtime.interfaceStatus?.(i.name);
  const type = interfaceTypeOf(i.name) ?? 'Ethernet';
  const hw = HARDWARE[type] ?? HARDWARE['Ethernet']!;
  const l: string[] = [`${i.name} is ${st.status}, line protocol is ${st.protocol}`];
  const eth = /Ethernet/.test(type);
  l.push(eth ? `  Hardware is ${hw.hw}, address is ${macDotted(rt?.mac)} (bia ${macDotted(rt?.mac)})` : `  Hardware is ${hw.hw}`);
  if (i.description !== undefined) l.push(`  Description: ${i.description}`);
  if (i.ipAddress) l.push(`  Internet address is ${i.ipAddress.address}/${maskLength(i.ipAddress.mask)}`);
  else if (i.unnumbered) l.push(`  Interface is unnumbered. Using address of ${i.unnumbered} (${ctx.config.interfaces.items[i.unnumbered]?.ipAddress?.address ?? '0.0.0.0'})`);
  const bw = i.bandwidthKbps ?? hw.bw;
  l.push(`  MTU ${hw.mtu} bytes, BW ${bw} Kbit/sec, DLY ${hw.dly} usec,`);
  l.push('     reliability 255/255, txload 1/255, rxload 1/255');
  l.push(`  Encapsulation ${i.dot1q ? `802.1Q Virtual LAN, Vlan ID  ${i.dot1q.vlan}.` : hw.enc}, loopback not set`);
  const tunnelLike = type === 'Tunnel' || type === 'Virtual-Template' || type === 'Virtual-Access';
  l.push(tunnelLike || type === 'Loopback' ? '  Keepalive not set' : '  Keepalive set (10 sec)');
  if (eth && !i.dot1q) l.push(`  ${i.duplex === 'full' ? 'Full' : i.duplex === 'half' ? 'Half' : 'Auto'}-duplex, ${i.speed && i.speed !== 'auto' ? `${i.speed}Mb/s` : 'Auto-speed'}`);
  if (eth) l.push('  ARP type: ARPA, ARP Timeout 04:00:00');
  if (tunnelLike) {
    const t = i.tunnel ?? {};
    const mode = t.mode ?? 'gre ip';
    l.push(`  Tunnel source ${t.source ?? '0.0.0.0'}${t.destination ? `, destination ${t.destination}` : ''}`);
    l.push(`  Tunnel protocol/transport ${mode.startsWith('ipsec') ? 'IPSEC/IP' : mode === 'ipip' ? 'IP/IP' : 'GRE/IP'}`);
    l.push('  Tunnel TTL 255');
    if (t.protection) l.push(`  Tunnel protection via IPSec (profile "${t.protection.profile}")`);
  }
  const li = i.loadIntervalSec ?? 300;
  const rateLabel = li % 60 === 0 ? `${li / 60} minute` : `${li} second`;
  const c = rt?.counters;
  const n = (v: Count | undefined): string => String(v ?? 0);
  l.push('  Last input never, output never, output hang never');
  l.push('  Last clearing of "show interface" counters never');
  l.push(`  Input queue: 0/75/${n(c?.inDrops)}/0 (size/max/drops/flushes); Total output drops: ${n(c?.outDrops)}`);
  l.push('  Queueing strategy: fifo');
  l.push('  Output queue: 0/40 (size/max)');
  l.push(`  ${rateLabel} input rate ${rt?.inBitsPerSec ?? 0} bits/sec, ${rt?.inPacketsPerSec ?? 0} packets/sec`);
  l.push(`  ${rateLabel} output rate ${rt?.outBitsPerSec ?? 0} bits/sec, ${rt?.outPacketsPerSec ?? 0} packets/sec`);
  // IOS 15's counter block: broadcasts on their own line, the Ethernet error lines after
  l.push(`     ${n(c?.inPackets)} packets input, ${n(c?.inBytes)} bytes, 0 no buffer`);
  l.push(`     Received ${n(c?.inMulticast)} broadcasts (${n(c?.inMulticast)} IP multicasts)`);
  l.push('     0 runts, 0 giants, 0 throttles');
  l.push(`     ${n(c?.inErrors)} input errors, 0 CRC, 0 frame, 0 overrun, 0 ignored`);
  l.push('     0 watchdog');
  l.push(`     ${n(c?.outPackets)} packets output, ${n(c?.outBytes)} bytes, 0 underruns`);
  l.push(`     ${n(c?.outErrors)} output errors, 0 collisions, 0 interface resets`);
  l.push('     0 unknown protocol drops');
  l.push('     0 output buffer failures, 0 output buffers swapped out');
  return l.join('\n');
}

/** A show command over all interfaces or the one named: one block of text per interface. */
function definePerInterfaceShow(syntax: string, help: Record<string, string>, data: (ctx: CommandContext, i: InterfaceConfig) => unknown,
  format: (ctx: CommandContext, i: InterfaceConfig) => string): void {
  defineCommand({
    modes: ['user', 'exec'], syntax, help, pipe: true,
    handler(ctx, a) {
      const list = selectedInterfaces(ctx, a.get('IFNAME'));
      ctx.data(list.map((i) => data(ctx, i)));
      ctx.print(list.map((i) => format(ctx, i)).join('\n'));
    },
  });
}

definePerInterfaceShow('show interfaces [IFNAME]', { interfaces: 'Interface status and configuration', IFNAME: 'Interface name' },
  (ctx, i) => ({ ...i, state: interfaceState(ctx, i), runtime: ctx.system.runtime.interfaceStatus?.(i.name) ?? null }), formatShowInterface);

// ------------------------------------------------------------------ show interfaces description

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show interfaces [IFNAME] description',
  help: { interfaces: 'Interface status and configuration', IFNAME: 'Interface name', description: 'Show interface description' },
  pipe: true,
  handler(ctx, a) {
    const list = selectedInterfaces(ctx, a.get('IFNAME'));
    const rows = list.map((i) => {
      const st = interfaceState(ctx, i);
      return { interface: i.name, status: st.status === 'administratively down' ? 'admin down' : st.status, protocol: st.protocol, description: i.description ?? '' };
    });
    ctx.data(rows);
    const line = (c: string[]): string => `${c[0]!.padEnd(30)} ${c[1]!.padEnd(14)} ${c[2]!.padEnd(8)} ${c[3]}`.trimEnd();
    ctx.print([line(['Interface', 'Status', 'Protocol', 'Description']),
      ...rows.map((r) => line([shortInterfaceName(r.interface), r.status, r.protocol, r.description]))].join('\n'));
  },
});

// ------------------------------------------------------------------ show ip interface [IF]

/** `show ip interface` for one interface: what the box does with IP on it (IOS 15 lines). */
export function formatShowIpInterface(ctx: CommandContext, i: InterfaceConfig): string {
  const st = interfaceState(ctx, i);
  const l = [`${i.name} is ${st.status}, line protocol is ${st.protocol}`];
  const addr = i.ipAddress ?? (i.unnumbered ? ctx.config.interfaces.items[i.unnumbered]?.ipAddress : undefined);
  if (!addr) {
    l.push('  Internet protocol processing disabled');
    return l.join('\n');
  }
  if (i.unnumbered) l.push(`  Interface is unnumbered. Using address of ${i.unnumbered} (${addr.address})`);
  else {
    l.push(`  Internet address is ${addr.address}/${maskLength(addr.mask)}`);
    for (const s2 of i.secondary ?? []) l.push(`  Secondary address ${s2.address}/${maskLength(s2.mask)}`);
  }
  l.push('  Broadcast address is 255.255.255.255');
  l.push('  Address determined by non-volatile memory');
  l.push(`  MTU is ${i.ipMtu ?? 1500} bytes`);
  l.push('  Helper address is not set');
  l.push('  Directed broadcast forwarding is disabled');
  l.push(`  Outgoing access list is ${i.accessGroupOut ?? 'not set'}`);
  l.push(`  Inbound  access list is ${i.accessGroupIn ?? 'not set'}`);
  l.push('  Proxy ARP is disabled');
  l.push('  Local Proxy ARP is disabled');
  if (i.vrf) l.push(`  VPN Routing/Forwarding "${i.vrf}"`);
  l.push('  Security level is default');
  l.push('  Split horizon is enabled');
  l.push('  ICMP redirects are always sent');
  l.push('  ICMP unreachables are always sent');
  l.push('  ICMP mask replies are never sent');
  l.push(`  IP fast switching is ${i.noRouteCache ? 'disabled' : 'enabled'}`);
  l.push(`  IP CEF switching is ${i.noRouteCacheCef || ctx.config.routing.cef === false ? 'disabled' : 'enabled'}`);
  l.push('  Router Discovery is disabled');
  l.push('  IP output packet accounting is disabled');
  l.push('  IP access violation accounting is disabled');
  l.push('  TCP/IP header compression is disabled');
  l.push('  RTP/IP header compression is disabled');
  l.push('  Policy routing is disabled');
  l.push('  Network address translation is disabled');
  l.push('  BGP Policy Mapping is disabled');
  l.push(`  Input features: ${i.cryptoMap ? 'IPSec input classification' : 'none'}`);
  l.push(`  Output features: ${i.cryptoMap ? 'IPSec output classification, IPSec: to crypto engine' : 'none'}`);
  return l.join('\n');
}

definePerInterfaceShow('show ip interface [IFNAME]', { interface: 'IP interface status and configuration', IFNAME: 'Interface name' },
  (ctx, i) => ({
    interface: i.name, state: interfaceState(ctx, i), address: i.ipAddress ?? null, vrf: i.vrf ?? null, mtu: i.ipMtu ?? 1500,
    inboundAcl: i.accessGroupIn ?? null, outboundAcl: i.accessGroupOut ?? null,
  }), formatShowIpInterface);

// ------------------------------------------------------------------ show ip vrf / show vrf

interface VrfRow { name: string; rd: string | null; interfaces: string[] }

function vrfRows(ctx: CommandContext, want: string | undefined): VrfRow[] {
  return Object.values(ctx.config.vrf.vrfs)
    .filter((v) => want === undefined || v.name === want)
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
    .map((v) => ({
      name: v.name,
      rd: v.rd ?? null,
      interfaces: Object.values(ctx.config.interfaces.items).filter((i) => i.vrf === v.name).map((i) => i.name).sort(compareInterfaceNames),
    }));
}

/** `show ip vrf` (without) and `show vrf` (with the Protocols column): more interfaces go under the first. */
function vrfTable(rows: VrfRow[], protocols: boolean): string {
  const out = [`  Name                             Default RD            ${protocols ? 'Protocols   ' : ''}Interfaces`];
  for (const r of rows) {
    const ifs = r.interfaces.map(shortInterfaceName);
    const head = `  ${r.name.padEnd(32)} ${(r.rd ?? '<not set>').padEnd(21)} ${protocols ? `${'ipv4'.padEnd(11)} ` : ''}`;
    out.push(`${head}${ifs[0] ?? ''}`.trimEnd());
    for (const more of ifs.slice(1)) out.push(`${' '.repeat(head.length)}${more}`);
  }
  return out.join('\n');
}

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show ip vrf [brief] [WORD$name]',
  help: { vrf: 'VPN Routing/Forwarding instance information', brief: 'Brief VPN Routing/Forwarding instance information', name: 'VPN Routing/Forwarding instance name' },
  pipe: true,
  handler(ctx, a) {
    const rows = vrfRows(ctx, a.get('name'));
    ctx.data(rows);
    if (rows.length > 0) ctx.print(vrfTable(rows, false));
  },
});

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show ip vrf interfaces [WORD$name]',
  help: { interfaces: 'Show VPN Routing/Forwarding interfaces', name: 'VPN Routing/Forwarding instance name' },
  pipe: true,
  handler(ctx, a) {
    const want = a.get('name');
    const rows = interfacesOf(ctx)
      .filter((i) => i.vrf !== undefined && (want === undefined || i.vrf === want))
      .map((i) => ({ interface: i.name, ipAddress: i.ipAddress?.address ?? 'unassigned', vrf: i.vrf!, protocol: interfaceState(ctx, i).protocol }));
    ctx.data(rows);
    if (rows.length === 0) return;
    const line = (c: string[]): string => `${c[0]!.padEnd(22)} ${c[1]!.padEnd(15)} ${c[2]!.padEnd(32)} ${c[3]}`;
    ctx.print([line(['Interface', 'IP-Address', 'VRF', 'Protocol']),
      ...rows.map((r) => line([shortInterfaceName(r.interface), r.ipAddress, r.vrf, r.protocol]))].join('\n'));
  },
});

// IOS 15's multiprotocol form: one Protocols column (Rampart's VRFs are IPv4 only).
defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show vrf [brief] [WORD$name]',
  help: { vrf: 'VPN Routing/Forwarding instance information', brief: 'Brief VPN Routing/Forwarding instance information', name: 'VPN Routing/Forwarding instance name' },
  pipe: true,
  handler(ctx, a) {
    const rows = vrfRows(ctx, a.get('name'));
    ctx.data(rows.map((r) => ({ ...r, protocols: ['ipv4'] })));
    if (rows.length > 0) ctx.print(vrfTable(rows, true));
  },
});
