// Access-list commands: `access-list N ...` (numbered standard/extended, remarks),
// `ip access-list extended|standard NAME` and its sub-mode rules (`[seq] permit ...`,
// `no seq`), and `show [ip] access-lists [N|NAME]` with match counters from the runtime.

import {
  aclAddress, aclRules, ANY, canonicalProtocol, formatAclRule, formatStandardShow, getOrCreateList,
  hostAddress, ICMP_MESSAGES, insertRule, nextSeq, numberedKind, parsePort, removeMatchingRule,
  removeRuleBySeq, sortedLists, type AccessList, type AclAddress, type AclKind, type AclPortMatch, type AclRule,
} from '../../config/acl.js';
import { CliError, type CommandContext } from '../context.js';
import type { Args } from '../matcher.js';
import { defineMode } from '../modes.js';
import { defineCommand } from '../registry.js';

declare module '../context.js' {
  interface RuntimeView {
    /** Match counts of an access list by sequence number; absent or undefined: no counters shown. */
    aclMatches?(list: string): ReadonlyMap<number, number> | undefined;
    /** `clear access-list counters [N|NAME]`: zero the match counts (all lists when undefined). */
    clearAclCounters?(list?: string): void;
  }
}

export const EXT_NACL_MODE = 'config-ext-nacl';
export const STD_NACL_MODE = 'config-std-nacl';
defineMode({ name: EXT_NACL_MODE, prompt: '(config-ext-nacl)', parent: 'config' });
defineMode({ name: STD_NACL_MODE, prompt: '(config-std-nacl)', parent: 'config' });

// ------------------------------------------------------------------ grammar

const SRC = '<any|host A.B.C.D$srchost|A.B.C.D$src A.B.C.D$srcwild>';
const DST = '<any|host A.B.C.D$dsthost|A.B.C.D$dst A.B.C.D$dstwild>';
const ports = (p: string): string => `[eq WORD$${p}_eq|lt WORD$${p}_lt|gt WORD$${p}_gt|neq WORD$${p}_neq|range WORD$${p}_lo WORD$${p}_hi]`;
const LOG = '[log|log-input]';
const OTHER_PROTOCOLS = ['ip', 'esp', 'ahp', 'gre', 'igmp', 'ospf', 'pim', 'eigrp', 'ipinip', 'nos', 'pcp'];

function extendedSyntaxes(prefix: string): string[] {
  return [
    `${prefix} tcp ${SRC} ${ports('sp')} ${DST} ${ports('dp')} [established] ${LOG}`,
    `${prefix} udp ${SRC} ${ports('sp')} ${DST} ${ports('dp')} ${LOG}`,
    `${prefix} icmp ${SRC} ${DST} [(0-255)$icmptype [(0-255)$icmpcode]|WORD$icmpname] ${LOG}`,
    `${prefix} <${OTHER_PROTOCOLS.join('|')}|(0-255)$protonum> ${SRC} ${DST} ${LOG}`,
  ];
}

function standardSyntax(prefix: string): string {
  return `${prefix} <any|host A.B.C.D$srchost|A.B.C.D$src [A.B.C.D$srcwild]> [log]`;
}

const RULE_HELP: Record<string, string> = {
  'access-list': 'Add an access list entry',
  permit: 'Specify packets to forward',
  deny: 'Specify packets to reject',
  remark: 'Access list entry comment',
  any: 'Any host',
  host: 'A single host address',
  srchost: 'Source address', src: 'Source address', srcwild: 'Source wildcard bits',
  dsthost: 'Destination address', dst: 'Destination address', dstwild: 'Destination wildcard bits',
  eq: 'Match only packets on a given port number',
  lt: 'Match only packets with a lower port number',
  gt: 'Match only packets with a greater port number',
  neq: 'Match only packets not on a given port number',
  range: 'Match only packets in the range of port numbers',
  sp_eq: 'Port number or name', sp_lt: 'Port number or name', sp_gt: 'Port number or name', sp_neq: 'Port number or name',
  sp_lo: 'Port number or name (low end)', sp_hi: 'Port number or name (high end)',
  dp_eq: 'Port number or name', dp_lt: 'Port number or name', dp_gt: 'Port number or name', dp_neq: 'Port number or name',
  dp_lo: 'Port number or name (low end)', dp_hi: 'Port number or name (high end)',
  established: 'Match established connections',
  log: 'Log matches against this entry',
  'log-input': 'Log matches against this entry, including input interface',
  ip: 'Any Internet Protocol', tcp: 'Transmission Control Protocol', udp: 'User Datagram Protocol',
  icmp: 'Internet Control Message Protocol', esp: 'Encapsulation Security Payload',
  ahp: 'Authentication Header Protocol', gre: 'Cisco\'s GRE tunneling', igmp: 'Internet Gateway Message Protocol',
  ospf: 'OSPF routing protocol', pim: 'Protocol Independent Multicast', eigrp: 'Cisco\'s EIGRP routing protocol',
  ipinip: 'IP in IP tunneling', nos: 'KA9Q NOS compatible IP over IP tunneling', pcp: 'Payload Compression Protocol',
  protonum: 'An IP protocol number',
  icmptype: 'ICMP message type', icmpcode: 'ICMP message code', icmpname: 'ICMP message name (echo, echo-reply, ...)',
  num: 'IP access list number', std: 'IP standard access list', ext: 'IP extended access list',
  seq: 'Sequence Number',
  text: 'Comment up to 100 characters',
  'access-lists': 'List access lists', name: 'Access list number or name',
};

// ------------------------------------------------------------------ rule from arguments

function addressFrom(a: Args, side: 'src' | 'dst', standard: boolean): AclAddress {
  const host = a.get(`${side}host`);
  if (host !== undefined) return hostAddress(host);
  const addr = a.get(side);
  if (addr === undefined) return ANY;
  const wild = a.get(`${side}wild`);
  if (wild === undefined) {
    if (standard) return hostAddress(addr);
    throw new CliError('% Incomplete command.');
  }
  return aclAddress(addr, wild);
}

function portFrom(a: Args, side: 'sp' | 'dp', protocol: string): AclPortMatch | undefined {
  const port = (text: string): number => {
    const n = parsePort(protocol, text);
    if (n === undefined) throw new CliError(`% Invalid ${protocol} port "${text}": use a number (0-65535) or an IOS port name`);
    return n;
  };
  for (const op of ['eq', 'lt', 'gt', 'neq'] as const) {
    const v = a.get(`${side}_${op}`);
    if (v !== undefined) return { op, port: port(v) };
  }
  const lo = a.get(`${side}_lo`), hi = a.get(`${side}_hi`);
  if (lo !== undefined && hi !== undefined) {
    const l = port(lo), h = port(hi);
    if (l > h) throw new CliError(`% Invalid port range ${lo} ${hi}: the first port must not be greater than the second`);
    return { op: 'range', lo: l, hi: h };
  }
  return undefined;
}

/** Builds a rule from parsed arguments (validates everything before the caller mutates). */
export function ruleFrom(a: Args, kind: AclKind, seq: number): AclRule {
  const action = a.has('permit') ? 'permit' : 'deny';
  const log = a.has('log-input') ? 'log-input' : a.has('log') ? 'log' : undefined;
  if (kind === 'standard') {
    const rule: AclRule = { kind: 'rule', seq, action, protocol: 'ip', source: addressFrom(a, 'src', true) };
    if (log) rule.log = log;
    return rule;
  }
  let protocol: string;
  if (a.has('tcp')) protocol = 'tcp';
  else if (a.has('udp')) protocol = 'udp';
  else if (a.has('icmp')) protocol = 'icmp';
  else {
    const kw = OTHER_PROTOCOLS.find((p) => a.has(p));
    protocol = kw ?? canonicalProtocol(a.req('protonum'))!;
  }
  const rule: AclRule = {
    kind: 'rule', seq, action, protocol,
    source: addressFrom(a, 'src', false),
    destination: addressFrom(a, 'dst', false),
  };
  if (protocol === 'tcp' || protocol === 'udp') {
    const sp = portFrom(a, 'sp', protocol), dp = portFrom(a, 'dp', protocol);
    if (sp) rule.sourcePort = sp;
    if (dp) rule.destinationPort = dp;
    if (a.has('established')) rule.established = true;
  }
  if (protocol === 'icmp') {
    const name = a.get('icmpname');
    if (name !== undefined) {
      const n = name.toLowerCase();
      if (!ICMP_MESSAGES[n]) throw new CliError(`% Invalid ICMP message "${name}": use a type number (0-255) or an IOS ICMP message name`);
      rule.icmp = { name: n };
    } else if (a.get('icmptype') !== undefined) {
      rule.icmp = a.get('icmpcode') !== undefined ? { type: a.num('icmptype')!, code: a.num('icmpcode')! } : { type: a.num('icmptype')! };
    }
  }
  if (log) rule.log = log;
  return rule;
}

const revisionOf = (ctx: CommandContext): number => ctx.config.revision + 1;

// ------------------------------------------------------------------ numbered lists

const STD_NUM = '<(1-99)$num|(1300-1999)$num>';
const EXT_NUM = '<(100-199)$num|(2000-2699)$num>';

function addNumbered(ctx: CommandContext, a: Args, kind: AclKind): void {
  const name = a.req('num');
  // A list made by `ip access-list extended 101` is the same list.
  const list = ctx.config.acl.lists[name] ?? { name, kind, numbered: true, entries: [], revision: 0 };
  const rule = ruleFrom(a, kind, nextSeq(list));
  const l = getOrCreateList(ctx.config, name, kind, true);
  insertRule(l, rule, revisionOf(ctx));
}

for (const [kind, syntax] of [
  ['standard', [standardSyntax(`access-list ${STD_NUM} <permit|deny>`)]],
  ['extended', extendedSyntaxes(`access-list ${EXT_NUM} <permit|deny>`)],
] as const) {
  defineCommand({
    modes: ['config'],
    syntax: [...syntax],
    help: RULE_HELP,
    handler(ctx, a) { addNumbered(ctx, a, kind); },
  });
}

defineCommand({
  modes: ['config'],
  syntax: `access-list <(1-99)$num|(100-199)$num|(1300-1999)$num|(2000-2699)$num> remark LINE$text`,
  help: RULE_HELP,
  handler(ctx, a) {
    const name = a.req('num');
    const text = a.req('text');
    if (text.length > 100) throw new CliError('% Remark too long: at most 100 characters');
    const list = getOrCreateList(ctx.config, name, numberedKind(Number(name))!, true);
    list.entries.push({ kind: 'remark', text });
    list.revision = revisionOf(ctx);
  },
});

defineCommand({
  modes: ['config'],
  // IOS removes the whole numbered list, whatever follows the number.
  syntax: 'no access-list <(1-99)$num|(100-199)$num|(1300-1999)$num|(2000-2699)$num> [LINE]',
  help: RULE_HELP,
  handler(ctx, a) {
    delete ctx.config.acl.lists[a.req('num')];
  },
});

// ------------------------------------------------------------------ named lists

defineCommand({
  modes: ['config'],
  syntax: ['ip access-list <extended|standard> WORD$name', 'no ip access-list <extended|standard> WORD$name'],
  help: {
    'access-list': 'Named access list',
    extended: 'Extended Access List',
    standard: 'Standard Access List',
    name: 'Access-list name',
  },
  handler(ctx, a) {
    const kind: AclKind = a.has('extended') ? 'extended' : 'standard';
    const name = a.req('name');
    if (/^\d+$/.test(name) && numberedKind(Number(name)) !== kind) {
      throw new CliError(`% Invalid access list name.`);
    }
    if (!/^[A-Za-z0-9]/.test(name)) throw new CliError('% Invalid access list name.');
    const existing = ctx.config.acl.lists[name];
    if (a.no) {
      if (existing && existing.kind === kind) delete ctx.config.acl.lists[name];
      return;
    }
    if (existing && existing.kind !== kind) {
      throw new CliError(`% A named ${existing.kind} IP access list with this name already exists`);
    }
    getOrCreateList(ctx.config, name, kind, /^\d+$/.test(name));
    ctx.enter(kind === 'extended' ? EXT_NACL_MODE : STD_NACL_MODE, { acl: name });
  },
});

function modeList(ctx: CommandContext): AccessList {
  const name = ctx.modeData['acl'] as string;
  const list = ctx.config.acl.lists[name];
  if (!list) {
    // Deleted from another session while this one was in the sub-mode: recreate, as IOS does.
    const kind: AclKind = ctx.mode === EXT_NACL_MODE ? 'extended' : 'standard';
    return getOrCreateList(ctx.config, name, kind, /^\d+$/.test(name));
  }
  return list;
}

function subRule(ctx: CommandContext, a: Args, kind: AclKind): void {
  const list = modeList(ctx);
  const seqText = a.get('seq');
  const seq = seqText !== undefined ? Number(seqText) : nextSeq(list);
  if (seq > 2147483647) throw new CliError('% Sequence number out of range');
  const rule = ruleFrom(a, kind, seq);
  if (a.no) {
    removeMatchingRule(list, rule, revisionOf(ctx));
    return;
  }
  const r = insertRule(list, rule, revisionOf(ctx));
  if (r === 'seq-taken') throw new CliError('% Duplicate sequence number');
}

defineCommand({
  modes: [EXT_NACL_MODE],
  syntax: extendedSyntaxes('[no] [(1-2147483647)$seq] <permit|deny>'),
  help: RULE_HELP,
  handler(ctx, a) { subRule(ctx, a, 'extended'); },
});

defineCommand({
  modes: [STD_NACL_MODE],
  syntax: standardSyntax('[no] [(1-2147483647)$seq] <permit|deny>'),
  help: RULE_HELP,
  handler(ctx, a) { subRule(ctx, a, 'standard'); },
});

defineCommand({
  modes: [EXT_NACL_MODE, STD_NACL_MODE],
  syntax: 'no (1-2147483647)$seq',
  help: RULE_HELP,
  handler(ctx, a) {
    removeRuleBySeq(modeList(ctx), a.num('seq')!, revisionOf(ctx));
  },
});

defineCommand({
  modes: [EXT_NACL_MODE, STD_NACL_MODE],
  syntax: '[no] remark LINE$text',
  help: RULE_HELP,
  handler(ctx, a) {
    const list = modeList(ctx);
    const text = a.req('text');
    if (a.no) {
      const i = list.entries.findIndex((e) => e.kind === 'remark' && e.text === text);
      if (i >= 0) list.entries.splice(i, 1);
    } else {
      if (text.length > 100) throw new CliError('% Remark too long: at most 100 characters');
      list.entries.push({ kind: 'remark', text });
    }
    list.revision = revisionOf(ctx);
  },
});

// ------------------------------------------------------------------ show

export interface AclShowEntry { seq: number; text: string; matches?: number }
export interface AclShowList { name: string; kind: AclKind; entries: AclShowEntry[] }

export function aclShowData(ctx: CommandContext, name?: string): AclShowList[] {
  const lists = sortedLists(ctx.config).filter((l) => name === undefined || l.name === name);
  return lists.map((l) => {
    const counts = ctx.system.runtime.aclMatches?.(l.name);
    return {
      name: l.name,
      kind: l.kind,
      entries: aclRules(l).map((r) => {
        const e: AclShowEntry = { seq: r.seq, text: l.kind === 'standard' ? formatStandardShow(r) : formatAclRule(r, l.kind) };
        const m = counts?.get(r.seq);
        if (m !== undefined) e.matches = m;
        return e;
      }),
    };
  });
}

export function formatAclShow(lists: AclShowList[]): string {
  const out: string[] = [];
  for (const l of lists) {
    out.push(`${l.kind === 'standard' ? 'Standard' : 'Extended'} IP access list ${l.name}`);
    for (const e of l.entries) {
      const m = e.matches ? ` (${e.matches} match${e.matches === 1 ? '' : 'es'})` : '';
      out.push(`    ${e.seq} ${e.text}${m}`);
    }
  }
  return out.join('\n');
}

defineCommand({
  modes: ['user', 'exec'],
  syntax: ['show ip access-lists [WORD$name]', 'show access-lists [WORD$name]'],
  help: { ...RULE_HELP, 'access-lists': 'List IP access lists', name: 'Access list number or name' },
  pipe: true,
  handler(ctx, a) {
    const lists = aclShowData(ctx, a.get('name'));
    ctx.data(lists);
    const text = formatAclShow(lists);
    if (text) ctx.print(text);
  },
});

defineCommand({
  modes: ['exec'],
  syntax: 'clear access-list counters [WORD$name]',
  help: { clear: 'Reset functions', 'access-list': 'Clear access list statistical information', counters: 'Clear access list counters', name: 'Access list number or name' },
  handler(ctx, a) {
    const name = a.get('name');
    if (name !== undefined && !ctx.config.acl.lists[name]) throw new CliError(`% Access list ${name} does not exist`);
    const clear = ctx.system.runtime.clearAclCounters;
    if (!clear) throw new CliError('% Access list counters are not available (no data plane running)');
    clear.call(ctx.system.runtime, name);
  },
});
