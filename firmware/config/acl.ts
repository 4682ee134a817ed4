// IP access lists: numbered (`access-list 101 permit ip ...`) and named (`ip access-list
// extended NAME`), standard and extended. Crypto maps name them in `match address`; the
// SPD reads them through `aclEntrySelector`. Entries carry IOS sequence numbers (10, 20,
// ...) for numbered lists too, as IOS does (`show access-lists` prints them and
// `ip access-list extended 101` edits a numbered list by sequence number).

import { formatIpv4, parseIpv4 } from '../lib/ip.js';
import { defineSection, type Config } from './model.js';

export type AclAction = 'permit' | 'deny';
export type AclKind = 'standard' | 'extended';

/** An address and its wildcard (inverse mask), dotted-quad. `any` = 0.0.0.0 255.255.255.255. */
export interface AclAddress {
  address: string;
  wildcard: string;
}

/** A port operator as typed: `eq 500`, `range 1000 2000`. Ports are stored as numbers. */
export type AclPortMatch =
  | { op: 'eq' | 'lt' | 'gt' | 'neq'; port: number }
  | { op: 'range'; lo: number; hi: number };

/** ICMP message: a name (`echo-reply`) or a type with an optional code. */
export type AclIcmpMatch = { name: string } | { type: number; code?: number };

export interface AclRule {
  kind: 'rule';
  seq: number;
  action: AclAction;
  /** Extended lists: IOS protocol keyword (`ip`, `tcp`, `esp`, ...) or a decimal number
   *  for protocols without a keyword. Standard lists: always `ip`. */
  protocol: string;
  source: AclAddress;
  destination?: AclAddress;
  sourcePort?: AclPortMatch;
  destinationPort?: AclPortMatch;
  /** tcp only: `established` (ACK or RST set). */
  established?: boolean;
  icmp?: AclIcmpMatch;
  log?: 'log' | 'log-input';
}

export interface AclRemark {
  kind: 'remark';
  text: string;
}

export type AclEntry = AclRule | AclRemark;

export interface AccessList {
  /** `101` for numbered lists, the name for named ones. */
  name: string;
  kind: AclKind;
  /** Created by `access-list N` (rendered as such) rather than `ip access-list`. */
  numbered: boolean;
  /** Rules and remarks in order; rules are kept sorted by `seq`. */
  entries: AclEntry[];
  /** Bumped on every change (the SPD recompiles a list whose revision moved). */
  revision: number;
}

export interface AclConfig {
  lists: Record<string, AccessList>;
}

declare module './model.js' {
  interface Config { acl: AclConfig }
}

export const ACL_SEQ_STEP = 10;
export const ACL_SEQ_MAX = 2147483647;

// ------------------------------------------------------------------ names and numbers

/** IOS protocol keywords with their IP protocol numbers (`ip` = any protocol). */
export const ACL_PROTOCOLS: Record<string, number | undefined> = {
  ip: undefined, icmp: 1, igmp: 2, ipinip: 4, tcp: 6, udp: 17, gre: 47, esp: 50, ahp: 51,
  eigrp: 88, ospf: 89, nos: 94, pim: 103, pcp: 108,
};

const PROTOCOL_BY_NUMBER = new Map<number, string>(
  Object.entries(ACL_PROTOCOLS).filter(([, n]) => n !== undefined).map(([k, n]) => [n!, k]),
);

/** Canonical protocol text: a number with a keyword renders as the keyword (`50` -> `esp`). */
export function canonicalProtocol(text: string): string | undefined {
  const t = text.toLowerCase();
  if (t in ACL_PROTOCOLS) return t;
  if (!/^\d{1,3}$/.test(t)) return undefined;
  const n = Number(t);
  if (n > 255) return undefined;
  return PROTOCOL_BY_NUMBER.get(n) ?? String(n);
}

/** IP protocol number of a canonical protocol, undefined for `ip` (any). */
export function protocolNumber(protocol: string): number | undefined {
  if (protocol in ACL_PROTOCOLS) return ACL_PROTOCOLS[protocol];
  return Number(protocol);
}

/** TCP port keywords as IOS names them (there is no `ssh`/`https` keyword: 22/443 stay numbers). */
export const TCP_PORTS: Record<string, number> = {
  bgp: 179, chargen: 19, cmd: 514, daytime: 13, discard: 9, domain: 53, echo: 7, exec: 512,
  finger: 79, ftp: 21, 'ftp-data': 20, gopher: 70, hostname: 101, ident: 113, irc: 194,
  klogin: 543, kshell: 544, login: 513, lpd: 515, nntp: 119, 'pim-auto-rp': 496, pop2: 109,
  pop3: 110, smtp: 25, sunrpc: 111, tacacs: 49, talk: 517, telnet: 23, time: 37, uucp: 540,
  whois: 43, www: 80,
};

/** UDP port keywords as IOS names them. */
export const UDP_PORTS: Record<string, number> = {
  biff: 512, bootpc: 68, bootps: 67, discard: 9, dnsix: 195, domain: 53, echo: 7, isakmp: 500,
  'mobile-ip': 434, nameserver: 42, 'netbios-dgm': 138, 'netbios-ns': 137, 'netbios-ss': 139,
  'non500-isakmp': 4500, ntp: 123, 'pim-auto-rp': 496, rip: 520, snmp: 161, snmptrap: 162,
  sunrpc: 111, syslog: 514, tacacs: 49, talk: 517, tftp: 69, time: 37, who: 513, xdmcp: 177,
};

function portTable(protocol: string): Record<string, number> {
  return protocol === 'udp' ? UDP_PORTS : TCP_PORTS;
}

/** Port number for `text` (a number or a keyword of the protocol), undefined when invalid. */
export function parsePort(protocol: string, text: string): number | undefined {
  const t = text.toLowerCase();
  if (/^\d{1,5}$/.test(t)) {
    const n = Number(t);
    return n <= 65535 ? n : undefined;
  }
  return portTable(protocol)[t];
}

/** How IOS prints a port: its keyword when it has one (`500` -> `isakmp` for udp). */
export function formatPort(protocol: string, port: number): string {
  const table = portTable(protocol);
  for (const [name, n] of Object.entries(table)) if (n === port) return name;
  return String(port);
}

/** ICMP message keywords: type and, for the specific ones, code. */
export const ICMP_MESSAGES: Record<string, { type: number; code?: number }> = {
  'administratively-prohibited': { type: 3, code: 13 }, 'alternate-address': { type: 6 },
  'conversion-error': { type: 31 }, 'dod-host-prohibited': { type: 3, code: 10 },
  'dod-net-prohibited': { type: 3, code: 9 }, echo: { type: 8 }, 'echo-reply': { type: 0 },
  'general-parameter-problem': { type: 12, code: 0 }, 'host-isolated': { type: 3, code: 8 },
  'host-precedence-unreachable': { type: 3, code: 14 }, 'host-redirect': { type: 5, code: 1 },
  'host-tos-redirect': { type: 5, code: 3 }, 'host-tos-unreachable': { type: 3, code: 12 },
  'host-unknown': { type: 3, code: 7 }, 'host-unreachable': { type: 3, code: 1 },
  'information-reply': { type: 16 }, 'information-request': { type: 15 }, 'mask-reply': { type: 18 },
  'mask-request': { type: 17 }, 'mobile-redirect': { type: 32 }, 'net-redirect': { type: 5, code: 0 },
  'net-tos-redirect': { type: 5, code: 2 }, 'net-tos-unreachable': { type: 3, code: 11 },
  'net-unreachable': { type: 3, code: 0 }, 'network-unknown': { type: 3, code: 6 },
  'no-room-for-option': { type: 12, code: 2 }, 'option-missing': { type: 12, code: 1 },
  'packet-too-big': { type: 3, code: 4 }, 'parameter-problem': { type: 12 },
  'port-unreachable': { type: 3, code: 3 }, 'precedence-unreachable': { type: 3, code: 15 },
  'protocol-unreachable': { type: 3, code: 2 }, 'reassembly-timeout': { type: 11, code: 1 },
  redirect: { type: 5 }, 'router-advertisement': { type: 9 }, 'router-solicitation': { type: 10 },
  'source-quench': { type: 4 }, 'source-route-failed': { type: 3, code: 5 }, 'time-exceeded': { type: 11 },
  'timestamp-reply': { type: 14 }, 'timestamp-request': { type: 13 }, traceroute: { type: 30 },
  'ttl-exceeded': { type: 11, code: 0 }, unreachable: { type: 3 },
};

/** Which list numbers are standard / extended (IOS ranges). */
export function numberedKind(n: number): AclKind | undefined {
  if ((n >= 1 && n <= 99) || (n >= 1300 && n <= 1999)) return 'standard';
  if ((n >= 100 && n <= 199) || (n >= 2000 && n <= 2699)) return 'extended';
  return undefined;
}

// ------------------------------------------------------------------ addresses

export const ANY: AclAddress = { address: '0.0.0.0', wildcard: '255.255.255.255' };

/** Address with the wildcard's bits cleared, as IOS stores it (`10.1.1.1 0.0.0.255` -> `10.1.1.0`). */
export function aclAddress(address: string, wildcard: string): AclAddress {
  const a = parseIpv4(address), w = parseIpv4(wildcard);
  if (a === undefined || w === undefined) throw new Error(`bad ACL address ${address} ${wildcard}`);
  return { address: formatIpv4((a & ~w) >>> 0), wildcard: formatIpv4(w) };
}

export function hostAddress(address: string): AclAddress {
  return aclAddress(address, '0.0.0.0');
}

export function isAny(a: AclAddress): boolean {
  return a.wildcard === '255.255.255.255';
}

export function isHost(a: AclAddress): boolean {
  return a.wildcard === '0.0.0.0';
}

/** `any`, `host 10.0.0.1` or `10.0.0.0 0.0.0.255` (extended-list form). */
export function formatAclAddress(a: AclAddress): string {
  if (isAny(a)) return 'any';
  if (isHost(a)) return `host ${a.address}`;
  return `${a.address} ${a.wildcard}`;
}

// ------------------------------------------------------------------ text form

function formatPortMatch(protocol: string, p: AclPortMatch): string {
  if (p.op === 'range') return `range ${formatPort(protocol, p.lo)} ${formatPort(protocol, p.hi)}`;
  return `${p.op} ${formatPort(protocol, p.port)}`;
}

/** The rule after the list name / sequence number: `permit udp any eq isakmp any`. */
export function formatAclRule(rule: AclRule, kind: AclKind): string {
  if (kind === 'standard') {
    const s = rule.source;
    const addr = isAny(s) ? 'any' : isHost(s) ? s.address : `${s.address} ${s.wildcard}`;
    return `${rule.action} ${addr}${rule.log ? ` ${rule.log}` : ''}`;
  }
  const parts: string[] = [rule.action, rule.protocol, formatAclAddress(rule.source)];
  if (rule.sourcePort) parts.push(formatPortMatch(rule.protocol, rule.sourcePort));
  parts.push(formatAclAddress(rule.destination ?? ANY));
  if (rule.destinationPort) parts.push(formatPortMatch(rule.protocol, rule.destinationPort));
  if (rule.icmp) parts.push('name' in rule.icmp ? rule.icmp.name : `${rule.icmp.type}${rule.icmp.code !== undefined ? ` ${rule.icmp.code}` : ''}`);
  if (rule.established) parts.push('established');
  if (rule.log) parts.push(rule.log);
  return parts.join(' ');
}

/** `show access-lists` form of a standard rule: `permit 10.1.1.0, wildcard bits 0.0.0.255`. */
export function formatStandardShow(rule: AclRule): string {
  const s = rule.source;
  const addr = isAny(s) ? 'any' : isHost(s) ? s.address : `${s.address}, wildcard bits ${s.wildcard}`;
  return `${rule.action} ${addr}${rule.log ? ` ${rule.log}` : ''}`;
}

/** Two rules match the same packets the same way (IOS refuses duplicates silently). */
export function sameRule(a: AclRule, b: AclRule): boolean {
  return ruleKey(a) === ruleKey(b);
}

// ------------------------------------------------------------------ model operations

export function aclRules(list: AccessList): AclRule[] {
  return list.entries.filter((e): e is AclRule => e.kind === 'rule');
}

export function getOrCreateList(cfg: Config, name: string, kind: AclKind, numbered: boolean): AccessList {
  let list = cfg.acl.lists[name];
  if (!list) {
    list = { name, kind, numbered, entries: [], revision: cfg.revision + 1 };
    cfg.acl.lists[name] = list;
  }
  return list;
}

function lastRule(list: AccessList): AclRule | undefined {
  for (let i = list.entries.length - 1; i >= 0; i--) {
    const e = list.entries[i]!;
    if (e.kind === 'rule') return e;
  }
  return undefined;
}

/** Next sequence number after the last rule (10 for an empty list). */
export function nextSeq(list: AccessList): number {
  const last = lastRule(list)?.seq ?? 0;
  return Math.floor(last / ACL_SEQ_STEP) * ACL_SEQ_STEP + ACL_SEQ_STEP;
}

function ruleKey(r: AclRule): string {
  const { seq: _seq, ...rest } = r;
  return JSON.stringify(rest);
}

/**
 * Keys of a list's rules, cached beside the model (not in it: the model stays plain data)
 * so that loading a 10,000-line list is not quadratic. Rebuilt whenever the list was changed
 * by something other than the functions below (its entry count moved).
 */
const keyCache = new WeakMap<AccessList, { entries: number; keys: Map<string, number> }>();

function ruleKeys(list: AccessList): Map<string, number> {
  const c = keyCache.get(list);
  if (c && c.entries === list.entries.length) return c.keys;
  const keys = new Map<string, number>();
  for (const e of list.entries) if (e.kind === 'rule') keys.set(ruleKey(e), e.seq);
  keyCache.set(list, { entries: list.entries.length, keys });
  return keys;
}

function touched(list: AccessList, keys: Map<string, number>): void {
  keyCache.set(list, { entries: list.entries.length, keys });
}

/**
 * Adds a rule (seq given or next), keeping rules sorted by seq. A remark typed just before
 * stays attached before the rule it preceded. An identical rule is not added twice (IOS
 * ignores the duplicate); a taken sequence number is refused (the caller reports it).
 */
export function insertRule(list: AccessList, rule: AclRule, revision: number): 'ok' | 'duplicate' | 'seq-taken' {
  const keys = ruleKeys(list);
  const last = lastRule(list);
  const append = last === undefined || rule.seq > last.seq;
  if (!append && list.entries.some((e) => e.kind === 'rule' && e.seq === rule.seq)) return 'seq-taken';
  const key = ruleKey(rule);
  if (keys.has(key)) return 'duplicate';
  if (append) list.entries.push(rule);
  else {
    const at = list.entries.findIndex((e) => e.kind === 'rule' && e.seq > rule.seq);
    // Insert before the remarks that precede the next rule.
    let i = at;
    while (i > 0 && list.entries[i - 1]!.kind === 'remark') i--;
    list.entries.splice(i, 0, rule);
  }
  keys.set(key, rule.seq);
  touched(list, keys);
  list.revision = revision;
  return 'ok';
}

export function removeRuleBySeq(list: AccessList, seq: number, revision: number): boolean {
  const i = list.entries.findIndex((e) => e.kind === 'rule' && e.seq === seq);
  if (i < 0) return false;
  list.entries.splice(i, 1);
  keyCache.delete(list);
  list.revision = revision;
  return true;
}

export function removeMatchingRule(list: AccessList, rule: AclRule, revision: number): boolean {
  const i = list.entries.findIndex((e) => e.kind === 'rule' && sameRule(e, rule));
  if (i < 0) return false;
  list.entries.splice(i, 1);
  keyCache.delete(list);
  list.revision = revision;
  return true;
}

/** Orders lists as IOS shows them: numbered by number, then named by name. */
export function sortedLists(cfg: Config): AccessList[] {
  return Object.values(cfg.acl.lists).sort((a, b) => {
    const na = /^\d+$/.test(a.name), nb = /^\d+$/.test(b.name);
    if (na && nb) return Number(a.name) - Number(b.name);
    if (na !== nb) return na ? -1 : 1;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
}

// ------------------------------------------------------------------ SPD view

/** Port operator in the form the SPD classifier takes (firmware/ipsec/acl-classifier.ts PortOp). */
export type SelectorPortOp =
  | { op: 'eq' | 'lt' | 'gt' | 'neq'; port: number }
  | { op: 'range'; lo: number; hi: number };

/** One ACL rule as plain selector data for the SPD. Addresses are unsigned 32-bit numbers. */
export interface AclSelector {
  seq: number;
  action: AclAction;
  /** IP protocol number; undefined = any (`ip`). */
  proto?: number;
  src: { address: number; wildcard: number };
  dst: { address: number; wildcard: number };
  srcPort?: SelectorPortOp;
  dstPort?: SelectorPortOp;
  /** The ports each side matches, as inclusive ranges (`neq 80` -> [0,79],[81,65535]). */
  srcPortRanges: Array<[number, number]>;
  dstPortRanges: Array<[number, number]>;
  icmp?: { type: number; code?: number };
  established: boolean;
  log: boolean;
}

function portRanges(p: AclPortMatch | undefined): Array<[number, number]> {
  if (!p) return [[0, 65535]];
  switch (p.op) {
    case 'eq': return [[p.port, p.port]];
    case 'lt': return p.port === 0 ? [] : [[0, p.port - 1]];
    case 'gt': return p.port === 65535 ? [] : [[p.port + 1, 65535]];
    case 'neq': return [[0, p.port - 1], [p.port + 1, 65535]].filter(([lo, hi]) => lo! <= hi!) as Array<[number, number]>;
    case 'range': return [[p.lo, p.hi]];
  }
}

function numAddr(a: AclAddress): { address: number; wildcard: number } {
  return { address: parseIpv4(a.address)!, wildcard: parseIpv4(a.wildcard)! };
}

/** Pure: an ACL rule as selector data (standard lists match the source only; dst = any). */
export function aclEntrySelector(rule: AclRule): AclSelector {
  const sel: AclSelector = {
    seq: rule.seq,
    action: rule.action,
    src: numAddr(rule.source),
    dst: numAddr(rule.destination ?? ANY),
    srcPortRanges: portRanges(rule.sourcePort),
    dstPortRanges: portRanges(rule.destinationPort),
    established: rule.established === true,
    log: rule.log !== undefined,
  };
  const proto = protocolNumber(rule.protocol);
  if (proto !== undefined) sel.proto = proto;
  if (rule.sourcePort) sel.srcPort = { ...rule.sourcePort };
  if (rule.destinationPort) sel.dstPort = { ...rule.destinationPort };
  if (rule.icmp) sel.icmp = 'name' in rule.icmp ? { ...ICMP_MESSAGES[rule.icmp.name]! } : { ...rule.icmp };
  return sel;
}

/** All rules of a list as selectors, in order; undefined when the list does not exist. */
export function aclSelectors(cfg: Config, name: string): AclSelector[] | undefined {
  const list = cfg.acl.lists[name];
  return list ? aclRules(list).map(aclEntrySelector) : undefined;
}

// ------------------------------------------------------------------ running-config

export function renderAcl(cfg: Config): string[][] {
  const lists = sortedLists(cfg);
  const blocks: string[][] = [];
  for (const list of lists.filter((l) => !l.numbered)) {
    const lines = [`ip access-list ${list.kind} ${list.name}`];
    for (const e of list.entries) lines.push(e.kind === 'remark' ? ` remark ${e.text}` : ` ${formatAclRule(e, list.kind)}`);
    blocks.push(lines);
  }
  const numbered: string[] = [];
  for (const list of lists.filter((l) => l.numbered)) {
    for (const e of list.entries) {
      numbered.push(e.kind === 'remark' ? `access-list ${list.name} remark ${e.text}` : `access-list ${list.name} ${formatAclRule(e, list.kind)}`);
    }
  }
  blocks.push(numbered);
  return blocks;
}

defineSection({
  key: 'acl',
  order: 400,
  create: () => ({ lists: {} }),
  render: renderAcl,
});
