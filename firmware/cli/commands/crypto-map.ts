// `crypto map` (static, manual, dynamic references, IPv6), `crypto dynamic-map`, their
// sub-commands, and `show crypto map [interface IF | tag NAME]`, `show crypto dynamic-map
// [tag NAME]`. The shared `set transform-set|pfs|security-association lifetime|
// isakmp-profile|ikev2-profile` commands live in crypto-ipsec.ts.

import { nextRevision, sortByName } from '../../config/crypto-common.js';
import {
  cryptoMapWarnings, insertBySeq, newPolicyEntry,
  type CryptoMapEntry, type CryptoMapSet, type CryptoPolicyEntry, type DynamicMapSet, type ManualDirectionKeys,
} from '../../config/crypto-map.js';
import { aclRules, formatAclRule } from '../../config/acl.js';
import { sortedInterfaces } from '../../config/interface.js';
import { canonicalInterfaceName } from '../../config/interface-names.js';
import type { Config } from '../../config/model.js';
import { CliError, type CommandContext } from '../context.js';
import { defineMode } from '../modes.js';
import { defineCommand } from '../registry.js';
import { lifetimePfsLines, registerPolicyTarget, transformSetsBlock } from './crypto-ipsec.js';

defineMode({ name: 'crypto-map', prompt: '(config-crypto-m)', parent: 'config' });
defineMode({ name: 'crypto-dynamic-map', prompt: '(config-crypto-m)', parent: 'config' });

declare module '../context.js' {
  interface RuntimeView {
    /** The peer a crypto map entry currently uses (`Current peer:`), if the runtime knows. */
    cryptoMapCurrentPeer?(map: string, seq: number): string | undefined;
    /** Temporary entries made by dynamic map negotiations (live, from the data plane). */
    cryptoMapTemporaryEntries?(): readonly TemporaryMapEntryView[];
  }
}

/** A temporary crypto map entry as `show crypto map` prints it. */
export interface TemporaryMapEntryView {
  mapName: string;
  /** 65536, 65537, ... */
  showSeq: number;
  /** Sequence number of the entry that references the dynamic map. */
  seq: number;
  peer: string;
  /** The negotiated flow, `permit ip 10.0.0.0 0.0.0.255 host 10.9.1.1`. */
  aclLine: string;
  dynamicMapName: string;
  dynamicSeq: number;
  transformSets: readonly string[];
  reverseRoute?: object;
  ike: string;
}

const EXEC = ['exec'];

export const INCOMPLETE_MAP_NOTE = '% NOTE: This new crypto map will remain disabled until a peer\n        and a valid access list have been configured.';
export const DYNAMIC_PRIORITY_NOTE = '% NOTE: crypto map entries that refer to dynamic maps should be the lowest priority\n        (highest sequence number) entries in the crypto map set.';

// ---------------------------------------------------------------------------------------
// Lookups into the ACL and interface features (installed by them or the composition root)

export interface CryptoAclView {
  /** Heading as `show crypto map` prints it: `Extended IP access list 101`. */
  heading: string;
  /** Entry lines without indentation: `access-list 101 permit ip ...`. */
  lines: string[];
}

/** An ACL of the ACL section as `show crypto map` prints it. */
export function cryptoAclView(cfg: Config, name: string, ipv6: boolean): CryptoAclView | undefined {
  const list = cfg.acl.lists[name];
  if (!list) return undefined;
  const heading = ipv6 ? `IPv6 access list ${name}` : `${list.kind === 'standard' ? 'Standard' : 'Extended'} IP access list ${name}`;
  return { heading, lines: aclRules(list).map((r) => `access-list ${name} ${formatAclRule(r, list.kind)}`) };
}

/** Interfaces with `crypto map NAME` (or `ipv6 crypto map NAME` for IPv6 sets). */
export function cryptoMapInterfaces(cfg: Config, mapName: string): string[] {
  const ipv6 = cfg.cryptoMaps[mapName]?.ipv6 === true;
  return sortedInterfaces(cfg).filter((i) => (ipv6 ? i.ipv6CryptoMap : i.cryptoMap) === mapName).map((i) => i.name);
}

let aclLookup: (cfg: Config, name: string, ipv6: boolean) => CryptoAclView | undefined = cryptoAclView;
let mapInterfaces: (cfg: Config, mapName: string) => string[] = cryptoMapInterfaces;

/** How `show crypto map` reads an ACL (undefined: it does not exist). */
export function setCryptoAclLookup(fn: (cfg: Config, name: string, ipv6: boolean) => CryptoAclView | undefined): void {
  aclLookup = fn;
}

/** Which interfaces have `crypto map NAME` applied (canonical names). */
export function setCryptoMapInterfacesLookup(fn: (cfg: Config, mapName: string) => string[]): void {
  mapInterfaces = fn;
}

// ---------------------------------------------------------------------------------------
// crypto map

function getOrCreateSet(ctx: CommandContext, name: string, ipv6: boolean): CryptoMapSet {
  const maps = ctx.config.cryptoMaps;
  const set = maps[name];
  if (set) {
    if (set.ipv6 !== ipv6) throw new CliError(`% Crypto map ${name} is an ${set.ipv6 ? 'IPv6' : 'IPv4'} crypto map.`);
    return set;
  }
  return { name, revision: nextRevision(ctx.config), ipv6, entries: [] };
}

function commitSet(ctx: CommandContext, set: CryptoMapSet): void {
  ctx.config.cryptoMaps[set.name] = set;
}

function dynamicOrderProblem(set: CryptoMapSet): boolean {
  let seenDynamic = false;
  for (const e of set.entries) {
    if (e.dynamicMap !== undefined) seenDynamic = true;
    else if (seenDynamic) return true;
  }
  return false;
}

defineCommand({
  modes: ['config'],
  syntax: [
    'crypto map [ipv6] WORD$name (1-65535)$seq [ipsec-isakmp|ipsec-manual]',
    'crypto map [ipv6] WORD$name (1-65535)$seq ipsec-isakmp dynamic WORD$dmap [discover]',
  ],
  help: {
    map: 'Enter a crypto map', ipv6: 'IPv6 crypto map', name: 'Crypto map tag', seq: 'Sequence to insert into crypto map entry',
    'ipsec-isakmp': 'IPSEC w/ISAKMP', 'ipsec-manual': 'IPSEC w/manual keying', dynamic: 'Enable dynamic crypto map support',
    dmap: 'Name of dynamic crypto map template', discover: 'Enable peer discovery',
  },
  handler(ctx, a) {
    const name = a.req('name');
    const seq = a.num('seq')!;
    const ipv6 = a.has('ipv6');
    const set = getOrCreateSet(ctx, name, ipv6);
    const existing = set.entries.find((e) => e.seq === seq);
    const rev = nextRevision(ctx.config);
    const dmap = a.get('dmap');
    if (dmap !== undefined) {
      if (ipv6) throw new CliError('% IPv6 crypto maps do not support dynamic crypto maps.');
      if (existing && existing.dynamicMap === undefined) throw new CliError(`% Crypto map ${name} ${seq} is a static entry; remove it before making it refer to a dynamic map.`);
      const entry: CryptoMapEntry = existing ?? insertBySeq(set.entries, { ...newPolicyEntry(seq, rev), kind: 'ipsec-isakmp' });
      entry.dynamicMap = dmap;
      if (a.has('discover')) entry.discover = true;
      else delete entry.discover;
      entry.revision = rev;
      set.revision = rev;
      commitSet(ctx, set);
      if (dynamicOrderProblem(set)) ctx.print(DYNAMIC_PRIORITY_NOTE);
      return;
    }
    const kind = a.has('ipsec-manual') ? 'ipsec-manual' : 'ipsec-isakmp';
    if (existing) {
      if (existing.dynamicMap !== undefined) throw new CliError(`% Crypto map ${name} ${seq} refers to dynamic map ${existing.dynamicMap}; remove it first.`);
      if ((a.has('ipsec-manual') || a.has('ipsec-isakmp')) && existing.kind !== kind) {
        throw new CliError(`% Crypto map ${name} ${seq} is ${existing.kind}; remove it before changing its type.`);
      }
    } else {
      insertBySeq(set.entries, { ...newPolicyEntry(seq, rev), kind });
      set.revision = rev;
      commitSet(ctx, set);
      ctx.print(INCOMPLETE_MAP_NOTE);
      if (dynamicOrderProblem(set)) ctx.print(DYNAMIC_PRIORITY_NOTE);
    }
    ctx.enter('crypto-map', { name, seq });
  },
});

defineCommand({
  modes: ['config'],
  syntax: [
    'no crypto map [ipv6] WORD$name',
    'no crypto map [ipv6] WORD$name (1-65535)$seq [LINE]',
  ],
  help: { map: 'Enter a crypto map', name: 'Crypto map tag', seq: 'Sequence to insert into crypto map entry' },
  handler(ctx, a) {
    const name = a.req('name');
    const set = ctx.config.cryptoMaps[name];
    if (!set) return;
    const seq = a.num('seq');
    if (seq === undefined) {
      delete ctx.config.cryptoMaps[name];
      return;
    }
    set.entries = set.entries.filter((e) => e.seq !== seq);
    set.revision = nextRevision(ctx.config);
    if (set.entries.length === 0 && set.localAddress === undefined && set.isakmpProfile === undefined) delete ctx.config.cryptoMaps[name];
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['crypto map [ipv6] WORD$name local-address IFNAME$ifname', 'no crypto map [ipv6] WORD$name local-address [IFNAME$ifname]'],
  help: { 'local-address': 'Interface to use for local address for this crypto map', ifname: 'Interface' },
  handler(ctx, a) {
    const name = a.req('name');
    if (a.no) {
      const set = ctx.config.cryptoMaps[name];
      if (set) {
        delete set.localAddress;
        set.revision = nextRevision(ctx.config);
      }
      return;
    }
    const ifname = canonicalInterfaceName(a.req('ifname').replace(/\s+/, ''));
    if (!ifname) throw new CliError('% Invalid interface');
    const set = getOrCreateSet(ctx, name, a.has('ipv6'));
    set.localAddress = ifname;
    set.revision = nextRevision(ctx.config);
    commitSet(ctx, set);
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['crypto map [ipv6] WORD$name isakmp-profile WORD$prof', 'no crypto map [ipv6] WORD$name isakmp-profile [WORD$prof]'],
  help: { 'isakmp-profile': 'Specify isakmp profile to use', prof: 'Isakmp profile name' },
  handler(ctx, a) {
    const name = a.req('name');
    if (a.no) {
      const set = ctx.config.cryptoMaps[name];
      if (set) {
        delete set.isakmpProfile;
        set.revision = nextRevision(ctx.config);
      }
      return;
    }
    const set = getOrCreateSet(ctx, name, a.has('ipv6'));
    set.isakmpProfile = a.req('prof');
    set.revision = nextRevision(ctx.config);
    commitSet(ctx, set);
  },
});

function currentEntry(ctx: CommandContext): { set: CryptoMapSet; entry: CryptoMapEntry } {
  const set = ctx.config.cryptoMaps[ctx.modeData.name as string];
  const entry = set?.entries.find((e) => e.seq === ctx.modeData.seq);
  if (!set || !entry) throw new CliError('% The crypto map entry was removed.');
  return { set, entry };
}

registerPolicyTarget('crypto-map', (ctx) => {
  const { entry } = currentEntry(ctx);
  return { obj: entry, manual: entry.kind === 'ipsec-manual' };
});

// ---------------------------------------------------------------------------------------
// crypto dynamic-map

defineCommand({
  modes: ['config'],
  syntax: ['crypto dynamic-map WORD$name (1-65535)$seq', 'no crypto dynamic-map WORD$name [(1-65535)$seq]'],
  help: { 'dynamic-map': 'Specify a dynamic crypto map template', name: 'Dynamic crypto map template tag', seq: 'Sequence to insert into dynamic crypto map entry' },
  handler(ctx, a) {
    const name = a.req('name');
    const seq = a.num('seq');
    const maps = ctx.config.dynamicMaps;
    if (a.no) {
      const dm = maps[name];
      if (!dm) return;
      if (seq === undefined) delete maps[name];
      else {
        dm.entries = dm.entries.filter((e) => e.seq !== seq);
        dm.revision = nextRevision(ctx.config);
        if (dm.entries.length === 0) delete maps[name];
      }
      return;
    }
    const dm: DynamicMapSet = maps[name] ?? { name, revision: nextRevision(ctx.config), entries: [] };
    maps[name] = dm;
    if (!dm.entries.some((e) => e.seq === seq)) {
      insertBySeq(dm.entries, newPolicyEntry(seq!, nextRevision(ctx.config)));
      dm.revision = nextRevision(ctx.config);
    }
    ctx.enter('crypto-dynamic-map', { name, seq });
  },
});

function currentDynamicEntry(ctx: CommandContext): CryptoPolicyEntry {
  const dm = ctx.config.dynamicMaps[ctx.modeData.name as string];
  const e = dm?.entries.find((x) => x.seq === ctx.modeData.seq);
  if (!e) throw new CliError('% The dynamic crypto map entry was removed.');
  return e;
}

registerPolicyTarget('crypto-dynamic-map', (ctx) => ({ obj: currentDynamicEntry(ctx) }));

// ---------------------------------------------------------------------------------------
// Sub-commands shared by static and dynamic entries

const MAP_MODES = ['crypto-map', 'crypto-dynamic-map'];

function policyEntry(ctx: CommandContext): { entry: CryptoPolicyEntry; static?: CryptoMapEntry; ipv6: boolean } {
  if (ctx.mode === 'crypto-map') {
    const { set, entry } = currentEntry(ctx);
    return { entry, static: entry, ipv6: set.ipv6 };
  }
  return { entry: currentDynamicEntry(ctx), ipv6: false };
}

function touched(ctx: CommandContext, e: CryptoPolicyEntry): void {
  e.revision = nextRevision(ctx.config);
}

defineCommand({
  modes: MAP_MODES,
  syntax: ['match address WORD$acl', 'no match address [WORD$acl]'],
  help: { match: 'Match values.', address: 'Match address of packets to encrypt.', acl: 'IP access-list number or name' },
  handler(ctx, a) {
    const { entry } = policyEntry(ctx);
    if (a.no) delete entry.matchAddress;
    else entry.matchAddress = a.req('acl');
    touched(ctx, entry);
  },
});

defineCommand({
  modes: MAP_MODES,
  syntax: ['set peer <A.B.C.D$addr|X:X::X:X$v6|WORD$host> [default]', 'no set peer <A.B.C.D$addr|X:X::X:X$v6|WORD$host>'],
  help: { peer: 'Allowed Encryption/Decryption peer.', addr: 'IP address of peer', v6: 'IPv6 address of peer', host: 'Host name of the peer', default: 'Default peer (first in the list)' },
  handler(ctx, a) {
    const { entry, static: st, ipv6 } = policyEntry(ctx);
    const v6 = a.get('v6');
    const peer = a.get('addr') ?? v6 ?? a.req('host');
    if (a.no) {
      entry.peers = entry.peers.filter((p) => p !== peer);
      touched(ctx, entry);
      return;
    }
    if (v6 !== undefined && !ipv6) throw new CliError('% An IPv6 peer needs an IPv6 crypto map (crypto map ipv6).');
    if (a.get('addr') !== undefined && ipv6) throw new CliError('% An IPv6 crypto map takes IPv6 peers.');
    if (entry.peers.includes(peer)) {
      if (a.has('default')) entry.peers = [peer, ...entry.peers.filter((p) => p !== peer)];
      touched(ctx, entry);
      return;
    }
    if (st?.kind === 'ipsec-manual' && entry.peers.length > 0) {
      throw new CliError(`% Only one peer can be specified for an ipsec-manual crypto map entry (peer ${entry.peers[0]} is set; remove it with "no set peer" first).`);
    }
    entry.peers = a.has('default') ? [peer, ...entry.peers] : [...entry.peers, peer];
    touched(ctx, entry);
  },
});

defineCommand({
  modes: MAP_MODES,
  syntax: ['description LINE$text', 'no description [LINE]'],
  help: { description: 'Description of the crypto map statement policy', text: 'Up to 80 characters describing this crypto map' },
  handler(ctx, a) {
    const { entry } = policyEntry(ctx);
    if (a.no) delete entry.description;
    else entry.description = a.req('text');
    touched(ctx, entry);
  },
});

defineCommand({
  modes: MAP_MODES,
  syntax: ['reverse-route [static]', 'reverse-route tag (1-4294967295)$tag [static]', 'reverse-route remote-peer [A.B.C.D$nh] [static]', 'no reverse-route [LINE]'],
  help: {
    'reverse-route': 'Reverse Route Injection.', static: 'Create routes for all ACL entries, even without SAs (static maps)',
    'remote-peer': 'Create routes via the remote peer (with an address: via that next hop)', nh: 'Next hop for the routes',
    tag: 'Set a tag for the routes (for redistribution)', '(1-4294967295)': 'Tag value',
  },
  handler(ctx, a) {
    const { entry } = policyEntry(ctx);
    // each form replaces the entry's reverse-route line; a tag (`set reverse-route tag`) stays
    // unless the line names another one, `no reverse-route` drops it with the line
    delete entry.reverseRouteRemotePeer;
    if (a.no) { delete entry.reverseRoute; delete entry.reverseRouteTag; } else {
      entry.reverseRoute = a.has('static') ? 'static' : 'dynamic';
      const tag = a.num('tag');
      if (tag !== undefined) entry.reverseRouteTag = tag;
      if (a.has('remote-peer')) {
        const nh = a.get('nh');
        entry.reverseRouteRemotePeer = nh !== undefined ? { address: nh } : {};
      }
    }
    touched(ctx, entry);
  },
});

defineCommand({
  modes: MAP_MODES,
  syntax: ['set reverse-route tag (1-4294967295)$tag', 'set reverse-route distance (1-255)$distance', 'no set reverse-route <tag|distance> [LINE]'],
  help: {
    'reverse-route': 'Reverse Route Injection parameters', tag: 'Set a tag for the injected routes', distance: 'Set the administrative distance of the injected routes',
    '(1-4294967295)': 'Tag value', '(1-255)': 'Distance value',
  },
  handler(ctx, a) {
    const { entry } = policyEntry(ctx);
    if (a.has('tag')) {
      if (a.no) delete entry.reverseRouteTag;
      else entry.reverseRouteTag = a.num('tag')!;
    } else if (a.no) delete entry.reverseRouteDistance;
    else {
      const d = a.num('distance')!;
      if (d === 1) delete entry.reverseRouteDistance; // the default
      else entry.reverseRouteDistance = d;
    }
    touched(ctx, entry);
  },
});

defineCommand({
  modes: MAP_MODES,
  syntax: '[no] set security-association level per-host',
  help: { 'security-association': 'Security association parameters', level: 'Specify the granularity of SA creation', 'per-host': 'Create separate SAs for each host' },
  handler(ctx, a) {
    const { entry } = policyEntry(ctx);
    entry.perHost = !a.no;
    touched(ctx, entry);
  },
});

// ---------------------------------------------------------------------------------------
// Manual keys

defineCommand({
  modes: ['crypto-map'],
  syntax: [
    'set session-key <inbound|outbound> ah (256-4294967295)$spi HEX$key',
    'set session-key <inbound|outbound> esp (256-4294967295)$spi <cipher HEX$cipher [authenticator HEX$auth]|authenticator HEX$auth>',
    'no set session-key <inbound|outbound> <ah|esp> [LINE]',
  ],
  help: {
    'session-key': 'Specify a session key for an ipsec-manual crypto map', inbound: 'Inbound session key', outbound: 'Outbound session key',
    ah: 'AH session key', esp: 'ESP session key', spi: 'Security Parameter Index (SPI)', key: 'Key (hexadecimal)',
    cipher: 'Encryption/Decryption key', authenticator: 'Authentication key', auth: 'Authentication key (hexadecimal)',
  },
  handler(ctx, a) {
    const { entry } = currentEntry(ctx);
    if (entry.kind !== 'ipsec-manual') throw new CliError('% Session keys can only be set on ipsec-manual crypto map entries.');
    const dir = a.has('inbound') ? 'inbound' : 'outbound';
    entry.sessionKeys ??= { inbound: {}, outbound: {} };
    const keys: ManualDirectionKeys = entry.sessionKeys[dir];
    const hex = (s: string): string => {
      const h = s.replace(/^0x/i, '').toLowerCase();
      if (h.length % 2 !== 0) throw new CliError('% The key must be an even number of hexadecimal digits.');
      return h;
    };
    if (a.no) {
      if (a.has('ah')) delete keys.ah;
      else delete keys.esp;
    } else if (a.has('ah')) {
      keys.ah = { spi: a.num('spi')!, key: hex(a.req('key')) };
    } else {
      const esp: NonNullable<ManualDirectionKeys['esp']> = { spi: a.num('spi')! };
      const c = a.get('cipher');
      const au = a.get('auth');
      if (c !== undefined) esp.cipherKey = hex(c);
      if (au !== undefined) esp.authKey = hex(au);
      keys.esp = esp;
    }
    touched(ctx, entry);
  },
});

// ---------------------------------------------------------------------------------------
// show crypto map / show crypto dynamic-map

const IND = '        ';

function aclBlock(cfg: Config, e: CryptoPolicyEntry, ipv6: boolean): string[] {
  if (e.matchAddress === undefined) return [`${IND}No matching address list set.`];
  const view = aclLookup(cfg, e.matchAddress, ipv6);
  // A deleted ACL leaves the entry pointing at an empty list, as IOS does.
  const heading = view?.heading ?? `${ipv6 ? 'IPv6' : 'Extended IP'} access list ${e.matchAddress}`;
  return [`${IND}${heading}`, ...(view?.lines ?? []).map((l) => `${IND}    ${l}`)];
}

function manualKeyLines(e: CryptoMapEntry): string[] {
  const out: string[] = [];
  for (const dir of ['inbound', 'outbound'] as const) {
    const Dir = dir === 'inbound' ? 'Inbound' : 'Outbound';
    const k = e.sessionKeys?.[dir] ?? {};
    out.push(`${IND}${Dir} esp spi: ${k.esp?.spi ?? 0},`);
    out.push(`${IND} cipher key: ${k.esp?.cipherKey ?? ''},`);
    out.push(`${IND} auth_key: ${k.esp?.authKey ?? ''},`);
    out.push(`${IND}${Dir} ah spi: ${k.ah?.spi ?? 0},`);
    out.push(`${IND} key: ${k.ah?.key ?? ''},`);
  }
  return out;
}

function policyShowLines(cfg: Config, e: CryptoPolicyEntry, ipv6: boolean, currentPeer: string | undefined, manual: boolean): string[] {
  const out: string[] = [];
  if (e.description !== undefined) out.push(`${IND}Description: ${e.description}`);
  for (const p of e.peers) out.push(`${IND}Peer = ${p}`);
  if (e.isakmpProfile !== undefined) out.push(`${IND}ISAKMP Profile: ${e.isakmpProfile}`);
  if (e.ikev2Profile !== undefined) out.push(`${IND}IKEv2 Profile: ${e.ikev2Profile}`);
  out.push(...aclBlock(cfg, e, ipv6));
  if (currentPeer !== undefined) out.push(`${IND}Current peer: ${currentPeer}`);
  if (!manual) {
    if (e.perHost) out.push(`${IND}Security association level: per-host`);
    out.push(...lifetimePfsLines(cfg, e, IND));
  }
  out.push(...transformSetsBlock(cfg, e.transformSets, IND));
  if (e.reverseRoute !== undefined) out.push(`${IND}Reverse Route Injection Enabled${e.reverseRoute === 'static' ? ' (static)' : ''}`);
  return out;
}

export function formatCryptoMapShow(ctx: CommandContext, set: CryptoMapSet): string[] {
  const cfg = ctx.config;
  const out: string[] = [];
  const ifs = mapInterfaces(cfg, set.name);
  const v6 = set.ipv6 ? 'IPv6 ' : '';
  const temps = (ctx.system.runtime.cryptoMapTemporaryEntries?.() ?? []).filter((t) => t.mapName === set.name);
  for (const e of set.entries) {
    if (e.dynamicMap !== undefined) {
      out.push(`Crypto Map ${v6}"${set.name}" ${e.seq} ipsec-isakmp`);
      out.push(`${IND}Dynamic map template tag: ${e.dynamicMap}`);
      if (e.discover) out.push(`${IND}Discover enabled`);
    } else {
      out.push(`Crypto Map ${v6}"${set.name}" ${e.seq} ${e.kind}`);
      const current = ctx.system.runtime.cryptoMapCurrentPeer?.(set.name, e.seq) ?? e.peers[0];
      out.push(...policyShowLines(cfg, e, set.ipv6, current, e.kind === 'ipsec-manual'));
      if (e.kind === 'ipsec-manual') out.push(...manualKeyLines(e));
    }
    out.push(`${IND}Interfaces using crypto map ${set.name}:`);
    for (const i of ifs) out.push(`${IND}        ${i}`);
    out.push('');
    if (e.dynamicMap !== undefined) {
      for (const t of temps.filter((x) => x.seq === e.seq)) out.push(...temporaryEntryLines(cfg, t, ifs), '');
    }
  }
  if (set.localAddress !== undefined) out.push(`Crypto Map ${set.name}: local-address ${set.localAddress}`, '');
  return out;
}

/** An entry created from a dynamic map (IOS: numbered from 65536, "dynamic (created from ...)"). */
function temporaryEntryLines(cfg: Config, t: TemporaryMapEntryView, ifs: readonly string[]): string[] {
  const tmpl = cfg.dynamicMaps[t.dynamicMapName]?.entries.find((d) => d.seq === t.dynamicSeq);
  const out = [`Crypto Map "${t.mapName}" ${t.showSeq} ipsec-isakmp`, `${IND}Peer = ${t.peer}`];
  out.push(`${IND}Extended IP access list `, `${IND}    access-list  ${t.aclLine}`, `${IND}    dynamic (created from dynamic map ${t.dynamicMapName}/${t.dynamicSeq})`);
  out.push(`${IND}Current peer: ${t.peer}`);
  if (tmpl) out.push(...lifetimePfsLines(cfg, tmpl, IND));
  out.push(...transformSetsBlock(cfg, t.transformSets, IND));
  if (t.reverseRoute) out.push(`${IND}Reverse Route Injection Enabled`);
  out.push(`${IND}Interfaces using crypto map ${t.mapName}:`);
  for (const i of ifs) out.push(`${IND}        ${i}`);
  return out;
}

function cryptoMapData(cfg: Config, set: CryptoMapSet): unknown {
  return { ...set, interfaces: mapInterfaces(cfg, set.name), entries: set.entries.map((e) => ({ ...e, sessionKeys: e.sessionKeys ? 'configured' : undefined })) };
}

defineCommand({
  modes: EXEC,
  syntax: ['show crypto map [tag WORD$tag]', 'show crypto map interface IFNAME$ifname'],
  help: { map: 'Crypto maps', tag: 'Crypto maps with a given tag', interface: 'Crypto maps for an interface', ifname: 'Interface' },
  pipe: true,
  handler(ctx, a) {
    let sets = sortByName(Object.values(ctx.config.cryptoMaps));
    const tag = a.get('tag');
    if (tag !== undefined) sets = sets.filter((s) => s.name === tag);
    const ifArg = a.get('ifname');
    if (ifArg !== undefined) {
      const ifname = canonicalInterfaceName(ifArg.replace(/\s+/, ''));
      sets = sets.filter((s) => ifname !== undefined && mapInterfaces(ctx.config, s.name).includes(ifname));
    }
    const temps = ctx.system.runtime.cryptoMapTemporaryEntries?.() ?? [];
    ctx.data(sets.map((s) => ({ ...(cryptoMapData(ctx.config, s) as object), temporaryEntries: temps.filter((x) => x.mapName === s.name) })));
    const lines = sets.flatMap((s) => formatCryptoMapShow(ctx, s));
    if (lines.length > 0) ctx.print(lines.join('\n'));
  },
});

export function formatDynamicMapShow(cfg: Config, dm: DynamicMapSet): string[] {
  const out: string[] = [];
  for (const e of dm.entries) {
    // IOS prints no space between "Template" and the quoted tag.
    out.push(`Crypto Map Template"${dm.name}" ${e.seq}`);
    out.push(...policyShowLines(cfg, e, false, undefined, false));
    out.push('');
  }
  return out;
}

defineCommand({
  modes: EXEC,
  syntax: 'show crypto dynamic-map [tag WORD$tag]',
  help: { 'dynamic-map': 'Crypto map templates', tag: 'Crypto map templates with a given tag' },
  pipe: true,
  handler(ctx, a) {
    const tag = a.get('tag');
    const list = sortByName(Object.values(ctx.config.dynamicMaps)).filter((d) => tag === undefined || d.name === tag);
    ctx.data(list);
    const lines = list.flatMap((d) => formatDynamicMapShow(ctx.config, d));
    if (lines.length > 0) ctx.print(lines.join('\n'));
  },
});

defineCommand({
  modes: EXEC,
  syntax: 'show crypto map warnings',
  help: { warnings: 'Configuration problems in crypto maps and dynamic maps' },
  pipe: true,
  handler(ctx) {
    const w = cryptoMapWarnings(ctx.config);
    ctx.data(w);
    ctx.print(w.length > 0 ? w.join('\n') : 'No crypto map configuration problems.');
  },
});
