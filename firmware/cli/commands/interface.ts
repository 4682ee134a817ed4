// Interface configuration: `interface IF` (board ports, subinterfaces, Loopback, Tunnel,
// Virtual-Template N type tunnel) and the `(config-if)` / `(config-subif)` commands the
// guide uses: addresses, unnumbered, VRF, shutdown, description, crypto map, tunnel
// source/destination/mode/protection, MTU, bandwidth and the switching-path knobs.

import { canonicalInterfaceName, interfaceTypeOf } from '../../config/interface-names.js';
import {
  isLogicalName, newInterface, parentOf, renderInterface, setBoardPorts, type InterfaceConfig, type TunnelMode,
} from '../../config/interface.js';
import '../../config/routing.js';
import { formatIpv6, maskToPrefix, parseIpv4, parseIpv6Prefix } from '../../lib/ip.js';
import { CliError, InvalidInputError, type CommandContext } from '../context.js';
import type { Args } from '../matcher.js';
import { defineMode } from '../modes.js';
import { defineCommand } from '../registry.js';
import { virtualAccessConfig } from './vtemplate.js';

export const IF_MODE = 'config-if';
export const SUBIF_MODE = 'config-subif';
defineMode({ name: IF_MODE, prompt: '(config-if)', parent: 'config' });
defineMode({ name: SUBIF_MODE, prompt: '(config-subif)', parent: 'config' });
const IF_MODES = [IF_MODE, SUBIF_MODE];

/** Logical interface types configuration may create, with their unit ranges. */
const CREATABLE: Record<string, [number, number]> = {
  Loopback: [0, 2147483647],
  Tunnel: [0, 2147483647],
  'Virtual-Template': [1, 1000],
};

/** Canonical name of an IFNAME value (`fa0/0` or the two-word `FastEthernet 0/0`). */
export function ifnameOf(value: string): string {
  const parts = value.split(' ');
  return (parts.length === 2 ? canonicalInterfaceName(parts[0]!, parts[1]!) : canonicalInterfaceName(value))!;
}

/** How many words an IFNAME value took on the line. */
function ifnameWords(value: string): number {
  return value.split(' ').length;
}

/**
 * Why `name` cannot be an interface of this box (undefined when it can): IOS answers an
 * unknown port with `% Invalid input detected` under the name.
 */
export function interfaceNameProblem(name: string, boardPorts: readonly string[]): 'invalid' | undefined {
  const type = interfaceTypeOf(name);
  if (!type) return 'invalid';
  const unit = name.slice(type.length);
  if (isLogicalName(name)) {
    const range = CREATABLE[type];
    if (!range || !/^\d+$/.test(unit)) return 'invalid';
    const n = Number(unit);
    return n >= range[0] && n <= range[1] ? undefined : 'invalid';
  }
  const parent = parentOf(name);
  if (parent !== undefined) {
    const sub = Number(name.slice(parent.length + 1));
    if (!(sub >= 1 && sub <= 4294967295)) return 'invalid';
  }
  return boardPorts.includes(parent ?? name) ? undefined : 'invalid';
}

/** An interface name given as an argument must exist on this board (logical names may be
 *  configured later). Throws IOS's caret error at `word`. */
export function requireKnownInterface(ctx: CommandContext, value: string, word: number): string {
  const name = ifnameOf(value);
  const type = interfaceTypeOf(name);
  if (type && isLogicalName(name) && !CREATABLE[type] && type !== 'Virtual-Access' && type !== 'Null') throw new InvalidInputError(word);
  if (!isLogicalName(name) && interfaceNameProblem(name, ctx.system.board.ports)) throw new InvalidInputError(word);
  return name;
}

function revisionOf(ctx: CommandContext): number {
  return ctx.config.revision + 1;
}

/** The interface of the current sub-mode (recreated if another session removed it). */
function current(ctx: CommandContext): InterfaceConfig {
  const name = ctx.modeData['ifname'] as string;
  let i = ctx.config.interfaces.items[name];
  if (!i) {
    i = newInterface(name, revisionOf(ctx));
    ctx.config.interfaces.items[name] = i;
  }
  i.revision = revisionOf(ctx);
  return i;
}

// ------------------------------------------------------------------ interface

defineCommand({
  modes: ['config'],
  syntax: ['interface IFNAME [type tunnel]', 'no interface IFNAME'],
  help: {
    interface: 'Select an interface to configure',
    IFNAME: 'Interface name (FastEthernet0/0, Loopback0, Tunnel0, Virtual-Template1, ...)',
    type: 'type of the virtual-template',
    tunnel: 'Tunnel interface',
  },
  handler(ctx, a) {
    const value = a.req('IFNAME');
    const nameWord = a.no ? 2 : 1;
    const name = ifnameOf(value);
    setBoardPorts(ctx.config, ctx.system.board.ports);
    if (interfaceNameProblem(name, ctx.system.board.ports)) throw new InvalidInputError(nameWord);
    const items = ctx.config.interfaces.items;
    if (a.no && ctx.isDefault) {
      // `default interface X`: back to the defaults, the interface itself stays.
      const old = items[name];
      if (!old) throw new CliError(`% Interface ${name} does not exist`);
      const fresh = newInterface(name, revisionOf(ctx));
      if (old.templateType) fresh.templateType = old.templateType;
      items[name] = fresh;
      ctx.print(`Interface ${name} set to default configuration`);
      return;
    }
    if (a.no) {
      if (!isLogicalName(name) && parentOf(name) === undefined) throw new CliError('% Physical interfaces cannot be removed.');
      if (!items[name]) throw new CliError(`% Interface ${name} does not exist`);
      delete items[name];
      return;
    }
    const type = interfaceTypeOf(name);
    if (a.has('type') && type !== 'Virtual-Template') throw new InvalidInputError(nameWord + ifnameWords(value));
    let i = items[name];
    if (i && a.has('type') && i.templateType !== 'tunnel') {
      throw new CliError(`% ${name} already exists with a different type`);
    }
    if (!i) {
      i = newInterface(name, revisionOf(ctx));
      if (a.has('type')) i.templateType = 'tunnel';
      items[name] = i;
    }
    ctx.enter(parentOf(name) !== undefined ? SUBIF_MODE : IF_MODE, { ifname: name });
  },
});

// ------------------------------------------------------------------ addresses

function checkAddressMask(address: string, mask: string): void {
  const m = parseIpv4(mask)!;
  const a = parseIpv4(address)!;
  const len = maskToPrefix(m);
  if (len === undefined) throw new CliError(`Bad mask 0x${m.toString(16).toUpperCase()} for address ${address}`);
  if (len === 0) throw new CliError(`Bad mask /0 for address ${address}`);
  if (len < 31) {
    const host = (a & ~m) >>> 0;
    if (host === 0 || host === (~m >>> 0)) throw new CliError(`Bad mask /${len} for address ${address}`);
  }
}

defineCommand({
  modes: IF_MODES,
  syntax: ['ip address A.B.C.D$addr A.B.C.D$mask [secondary]', 'no ip address [A.B.C.D$addr A.B.C.D$mask [secondary]]'],
  help: {
    address: 'Set the IP address of an interface',
    addr: 'IP address', mask: 'IP subnet mask', secondary: 'Make this IP address a secondary address',
  },
  handler(ctx, a) {
    const addr = a.get('addr'), mask = a.get('mask');
    if (!a.no) checkAddressMask(addr!, mask!);
    const i = current(ctx);
    if (a.no) {
      if (addr === undefined) {
        delete i.ipAddress; delete i.secondary; delete i.unnumbered;
        return;
      }
      if (a.has('secondary')) {
        const idx = (i.secondary ?? []).findIndex((s) => s.address === addr && s.mask === mask);
        if (idx < 0) throw new CliError(`% Secondary address ${addr} not found`);
        i.secondary!.splice(idx, 1);
        if (i.secondary!.length === 0) delete i.secondary;
        return;
      }
      if (i.ipAddress?.address !== addr) throw new CliError(`% Address ${addr} not found`);
      if ((i.secondary ?? []).length > 0) throw new CliError('Must delete secondary before deleting primary');
      delete i.ipAddress;
      return;
    }
    if (a.has('secondary')) {
      if (!i.ipAddress) throw new CliError('% Primary address not configured: set it before a secondary');
      const list = i.secondary ?? (i.secondary = []);
      if (!list.some((s) => s.address === addr)) list.push({ address: addr!, mask: mask! });
      return;
    }
    i.ipAddress = { address: addr!, mask: mask! };
    delete i.unnumbered;
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: ['ip unnumbered IFNAME', 'no ip unnumbered [IFNAME]'],
  help: { unnumbered: 'Enable IP processing without an explicit address', IFNAME: 'Interface whose address is borrowed' },
  handler(ctx, a) {
    const i = current(ctx);
    if (a.no) {
      delete i.unnumbered;
      return;
    }
    const src = requireKnownInterface(ctx, a.req('IFNAME'), 2);
    if (src === i.name) throw new CliError(`% ${i.name} cannot be unnumbered to itself`);
    i.unnumbered = src;
    delete i.ipAddress; delete i.secondary;
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: ['ipv6 address X:X::X:X/M$prefix', 'no ipv6 address [X:X::X:X/M$prefix]'],
  help: { address: 'Configure IPv6 address on interface', prefix: 'IPv6 prefix' },
  handler(ctx, a) {
    const i = current(ctx);
    const text = a.get('prefix');
    const canon = text !== undefined ? (() => { const p = parseIpv6Prefix(text)!; return `${formatIpv6(p.address)}/${p.prefix}`; })() : undefined;
    if (a.no) {
      if (canon === undefined) delete i.ipv6Addresses;
      else {
        i.ipv6Addresses = (i.ipv6Addresses ?? []).filter((x) => x !== canon);
        if (i.ipv6Addresses.length === 0) delete i.ipv6Addresses;
      }
      return;
    }
    const list = i.ipv6Addresses ?? (i.ipv6Addresses = []);
    if (!list.includes(canon!)) list.push(canon!);
  },
});

function vrfMessage(i: InterfaceConfig, verb: 'enabling' | 'disabling', vrf: string): string | undefined {
  const had = i.ipAddress !== undefined || i.unnumbered !== undefined;
  delete i.ipAddress; delete i.secondary; delete i.unnumbered;
  return had ? `% Interface ${i.name} IPv4 disabled and address(es) removed due to ${verb} VRF ${vrf}` : undefined;
}

defineCommand({
  modes: IF_MODES,
  syntax: ['ip vrf forwarding WORD$vrf', 'no ip vrf forwarding [WORD$vrf]'],
  help: { vrf: 'VPN Routing/Forwarding parameters on the interface', forwarding: 'Configure forwarding table', WORD: 'Table name' },
  handler(ctx, a) {
    const name = a.get('vrf');
    if (!a.no && !ctx.config.vrf.vrfs[name!]) throw new CliError(`% VRF ${name} not configured`);
    const i = current(ctx);
    if (a.no) {
      if (!i.vrf) return;
      if (name !== undefined && name !== i.vrf) throw new CliError(`% Interface ${i.name} is not in VRF ${name}`);
      const msg = vrfMessage(i, 'disabling', i.vrf);
      delete i.vrf;
      if (msg) ctx.print(msg);
      return;
    }
    if (i.vrf === name) return;
    const msg = vrfMessage(i, 'enabling', name!);
    i.vrf = name;
    if (msg) ctx.print(msg);
  },
});

// ------------------------------------------------------------------ state and text

defineCommand({
  modes: IF_MODES,
  syntax: '[no] shutdown',
  help: { shutdown: 'Shutdown the selected interface' },
  handler(ctx, a) { current(ctx).shutdown = !a.no; },
});

defineCommand({
  modes: IF_MODES,
  syntax: ['description LINE$text', 'no description [LINE]'],
  help: { description: 'Interface specific description', text: 'Up to 240 characters describing this interface' },
  handler(ctx, a) {
    if (a.no) { delete current(ctx).description; return; }
    const text = a.req('text');
    if (text.length > 240) throw new CliError('% Description too long: at most 240 characters');
    current(ctx).description = text;
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: ['crypto map WORD$map', 'no crypto map [WORD$map]'],
  help: { crypto: 'Encryption/Decryption commands', map: 'Assign a Crypto Map', WORD: 'Crypto Map tag' },
  handler(ctx, a) {
    const i = current(ctx);
    if (a.no) delete i.cryptoMap;
    else i.cryptoMap = a.req('map');
  },
});

defineCommand({
  modes: IF_MODES,
  // per interface, overriding the global `crypto ipsec df-bit` for SAs of this interface
  syntax: ['crypto ipsec df-bit <clear|set|copy>', 'no crypto ipsec df-bit [clear|set|copy]'],
  help: {
    crypto: 'Encryption/Decryption commands', ipsec: 'IPSec policy', 'df-bit': 'Handling of encapsulated DF bit.',
    clear: 'Clear DF bit for encapsulated packets.', set: 'Set DF bit for encapsulated packets.', copy: 'Copy DF bit from inner for encapsulated packets.',
  },
  handler(ctx, a) {
    const i = current(ctx);
    if (a.no) delete i.dfBit;
    else i.dfBit = a.has('clear') ? 'clear' : a.has('set') ? 'set' : 'copy';
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: ['ipv6 crypto map WORD$map', 'no ipv6 crypto map [WORD$map]'],
  help: { crypto: 'Encryption/Decryption commands', map: 'Assign a Crypto Map', WORD: 'Crypto Map tag' },
  handler(ctx, a) {
    const i = current(ctx);
    if (a.no) delete i.ipv6CryptoMap;
    else i.ipv6CryptoMap = a.req('map');
  },
});

// ------------------------------------------------------------------ tunnels

function tunnelOf(ctx: CommandContext, a: Args): NonNullable<InterfaceConfig['tunnel']> {
  const name = ctx.modeData['ifname'] as string;
  const type = interfaceTypeOf(name);
  if (type !== 'Tunnel' && type !== 'Virtual-Template') throw new InvalidInputError(a.no ? 1 : 0);
  const i = current(ctx);
  return i.tunnel ?? (i.tunnel = {});
}

function dropEmptyTunnel(ctx: CommandContext): void {
  const i = current(ctx);
  if (i.tunnel && Object.keys(i.tunnel).length === 0) delete i.tunnel;
}

const TUNNEL_HELP = {
  tunnel: 'protocol-over-protocol tunneling',
  source: 'source of tunnel packets',
  destination: 'destination of tunnel',
  mode: 'tunnel encapsulation method',
  ipsec: 'IPSEC tunnel encapsulation',
  ipv4: 'over IPv4', ipv6: 'over IPv6', gre: 'generic route encapsulation protocol', ip: 'over IP',
  ipip: 'IP over IP encapsulation',
  protection: 'Enable tunnel protection',
  profile: 'Determine the ipsec policy profile to use',
  shared: 'Share this tunnel protection with other tunnels',
  addr: 'ip address', IFNAME: 'Interface', profileName: 'Profile name',
};

defineCommand({
  modes: IF_MODES,
  syntax: ['tunnel source <IFNAME|A.B.C.D$addr>', 'no tunnel source [IFNAME|A.B.C.D$addr]'],
  help: TUNNEL_HELP,
  handler(ctx, a) {
    const value = a.get('IFNAME');
    const src = a.no ? undefined : value !== undefined ? requireKnownInterface(ctx, value, 2) : a.req('addr');
    const t = tunnelOf(ctx, a);
    if (src === undefined) delete t.source;
    else t.source = src;
    dropEmptyTunnel(ctx);
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: ['tunnel destination A.B.C.D$addr', 'no tunnel destination [A.B.C.D$addr]'],
  help: TUNNEL_HELP,
  handler(ctx, a) {
    const t = tunnelOf(ctx, a);
    if (a.no) delete t.destination;
    else t.destination = a.req('addr');
    dropEmptyTunnel(ctx);
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: ['tunnel mode <ipsec <ipv4|ipv6>|gre <ip$greip|ipv6$gre6>|ipip>', 'no tunnel mode [LINE]'],
  help: { ...TUNNEL_HELP, greip: 'over IP', gre6: 'over IPv6' },
  handler(ctx, a) {
    const t = tunnelOf(ctx, a);
    let mode: TunnelMode | undefined;
    if (!a.no) {
      if (a.has('ipsec')) mode = a.has('ipv6') ? 'ipsec ipv6' : 'ipsec ipv4';
      else if (a.has('gre')) mode = a.has('ipv6') ? 'gre ipv6' : 'gre ip';
      else mode = 'ipip';
    }
    if (mode === undefined || mode === 'gre ip') delete t.mode;
    else t.mode = mode;
    dropEmptyTunnel(ctx);
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: ['tunnel vrf WORD$vrf', 'no tunnel vrf [WORD$vrf]'],
  help: { ...TUNNEL_HELP, vrf: 'set tunnel vrf membership', WORD: 'VRF name' },
  handler(ctx, a) {
    const t = tunnelOf(ctx, a);
    if (a.no) delete t.vrf;
    else {
      const name = a.req('vrf');
      if (!ctx.config.vrf.vrfs[name]) throw new CliError(`% VRF ${name} not configured`);
      t.vrf = name;
    }
    dropEmptyTunnel(ctx);
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: ['tunnel protection ipsec profile WORD$profileName [shared]', 'no tunnel protection ipsec profile [WORD$profileName [shared]]'],
  help: TUNNEL_HELP,
  handler(ctx, a) {
    const t = tunnelOf(ctx, a);
    if (a.no) delete t.protection;
    else t.protection = { profile: a.req('profileName'), shared: a.has('shared') };
    dropEmptyTunnel(ctx);
  },
});

// ------------------------------------------------------------------ link and switching knobs

function isEthernet(name: string): boolean {
  return /Ethernet/.test(interfaceTypeOf(name) ?? '');
}

defineCommand({
  modes: IF_MODES,
  syntax: ['ip tcp adjust-mss (500-1460)$mss', 'no ip tcp adjust-mss [(500-1460)$mss]'],
  help: { tcp: 'TCP header compression and/or MSS clamping', 'adjust-mss': 'Adjust the mss of transit packets', mss: 'Maximum segment size in bytes' },
  handler(ctx, a) {
    const i = current(ctx);
    if (a.no) delete i.tcpAdjustMss;
    else i.tcpAdjustMss = a.num('mss')!;
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: ['ip mtu (68-9216)$bytes', 'no ip mtu [(68-9216)$bytes]'],
  help: { mtu: 'Set IP Maximum Transmission Unit', bytes: 'MTU (bytes)' },
  handler(ctx, a) {
    const i = current(ctx);
    if (a.no) delete i.ipMtu;
    else i.ipMtu = a.num('bytes')!;
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: ['bandwidth (1-10000000)$kbps', 'no bandwidth [(1-10000000)$kbps]'],
  help: { bandwidth: 'Set bandwidth informational parameter', kbps: 'Bandwidth in kilobits' },
  handler(ctx, a) {
    const i = current(ctx);
    if (a.no) delete i.bandwidthKbps;
    else i.bandwidthKbps = a.num('kbps')!;
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: ['load-interval (30-600)$sec', 'no load-interval [(30-600)$sec]'],
  help: { 'load-interval': 'Specify interval for load calculation for an interface', sec: 'Load interval delay in seconds' },
  handler(ctx, a) {
    const sec = a.num('sec');
    if (!a.no && sec! % 30 !== 0) throw new CliError('% Load interval must be a multiple of 30 seconds');
    const i = current(ctx);
    if (a.no) delete i.loadIntervalSec;
    else i.loadIntervalSec = sec;
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: ['duplex <auto|full|half>', 'no duplex [auto|full|half]', '[no] full-duplex', '[no] half-duplex'],
  help: {
    duplex: 'Configure duplex operation.', auto: 'Enable AUTO duplex configuration', full: 'Force full duplex operation',
    half: 'Force half-duplex operation', 'full-duplex': 'Configure full-duplex operational mode', 'half-duplex': 'Configure half-duplex and related commands',
  },
  handler(ctx, a) {
    const name = ctx.modeData['ifname'] as string;
    if (!isEthernet(name)) throw new InvalidInputError(a.no ? 1 : 0);
    const i = current(ctx);
    if (a.no) { delete i.duplex; return; }
    i.duplex = a.has('full') || a.has('full-duplex') ? 'full' : a.has('half') || a.has('half-duplex') ? 'half' : 'auto';
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: ['speed <10|100|1000|auto>', 'no speed [10|100|1000|auto]'],
  help: { speed: 'Configure speed operation.', '10': 'Force 10 Mbps operation', '100': 'Force 100 Mbps operation', '1000': 'Force 1000 Mbps operation', auto: 'Enable AUTO speed configuration' },
  handler(ctx, a) {
    const name = ctx.modeData['ifname'] as string;
    if (!isEthernet(name)) throw new InvalidInputError(a.no ? 1 : 0);
    const i = current(ctx);
    if (a.no) { delete i.speed; return; }
    i.speed = a.has('10') ? '10' : a.has('100') ? '100' : a.has('1000') ? '1000' : 'auto';
  },
});

defineCommand({
  modes: [SUBIF_MODE],
  syntax: ['encapsulation dot1q (1-4094)$vlan [native]', 'no encapsulation dot1q [(1-4094)$vlan [native]]'],
  help: { encapsulation: 'Set encapsulation type for an interface', dot1q: 'IEEE 802.1Q Virtual LAN', vlan: 'IEEE 802.1Q VLAN ID', native: 'Make this as native vlan' },
  handler(ctx, a) {
    const i = current(ctx);
    if (a.no) delete i.dot1q;
    else i.dot1q = { vlan: a.num('vlan')!, native: a.has('native') };
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: ['ip access-group WORD$acl <in|out>', 'no ip access-group [WORD$acl] <in|out>'],
  help: { 'access-group': 'Specify access control for packets', acl: 'Access-list number or name', in: 'inbound packets', out: 'outbound packets' },
  handler(ctx, a) {
    const i = current(ctx);
    const key = a.has('in') ? 'accessGroupIn' : 'accessGroupOut';
    if (a.no) delete i[key];
    else i[key] = a.req('acl');
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: '[no] ip route-cache [flow|cef]',
  help: { 'route-cache': 'Enable fast-switching cache for outgoing packets', flow: 'Enable Flow fast-switching cache', cef: 'Enable Cisco Express Forwarding' },
  handler(ctx, a) {
    const i = current(ctx);
    if (a.has('flow')) {
      if (a.no) delete i.routeCacheFlow;
      else i.routeCacheFlow = true;
    } else if (a.has('cef')) {
      if (a.no) i.noRouteCacheCef = true;
      else delete i.noRouteCacheCef;
    } else if (a.no) {
      // Process switching only: the flow and CEF switches go with it.
      i.noRouteCache = true;
      delete i.routeCacheFlow; delete i.noRouteCacheCef;
    } else {
      delete i.noRouteCache;
    }
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: '[no] ip mroute-cache',
  help: { 'mroute-cache': 'Enable switching cache for incoming multicast packets' },
  handler(ctx, a) {
    const i = current(ctx);
    if (a.no) i.noMrouteCache = true;
    else delete i.noMrouteCache;
  },
});

defineCommand({
  modes: IF_MODES,
  syntax: '[no] ip virtual-reassembly',
  help: { 'virtual-reassembly': 'Virtual Reassembly' },
  handler(ctx, a) {
    const i = current(ctx);
    if (a.no) delete i.virtualReassembly;
    else i.virtualReassembly = true;
  },
});

// ------------------------------------------------------------------ show running-config interface

defineCommand({
  modes: ['exec'],
  syntax: 'show running-config interface IFNAME',
  help: { 'running-config': 'Current operating configuration', interface: 'Show interface configuration', IFNAME: 'Interface name' },
  pipe: true,
  handler(ctx, a) {
    const name = ifnameOf(a.req('IFNAME'));
    setBoardPorts(ctx.config, ctx.system.board.ports);
    // a Virtual-Access interface is the runtime's clone of its template, not configuration
    const i = ctx.config.interfaces.items[name] ?? virtualAccessConfig(ctx, name);
    if (!i) throw new InvalidInputError(3);
    const body = ['!', ...renderInterface(i), 'end'].join('\n') + '\n';
    ctx.data(i);
    ctx.print(`Building configuration...\n\nCurrent configuration : ${Buffer.byteLength(body)} bytes\n${body.trimEnd()}`);
  },
});
