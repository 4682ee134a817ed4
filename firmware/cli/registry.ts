// The command table. Each command is one declaration: the modes it lives in, its grammar
// (one or more syntax strings, see grammar.ts), help text per token, and a handler that
// changes the configuration model (config modes) or reads state (exec modes).

import { compileSyntax, firstKeywords, type GrammarNode } from './grammar.js';
import type { Candidate } from './matcher.js';
import type { Args } from './matcher.js';
import type { CommandContext } from './context.js';

export interface CommandDef {
  /** Modes the command is available in. */
  modes: string[];
  syntax: string | string[];
  /** Help per token: keyword text, variable name (`tag` of `WORD$tag`) or token (`WORD`). */
  help?: Record<string, string>;
  handler(ctx: CommandContext, args: Args): void | Promise<void>;
  /** Output filters (`| include ...`) allowed, as on show commands. */
  pipe?: boolean;
}

interface Compiled { def: CommandDef; roots: GrammarNode[]; first: Array<string[] | undefined> }

const byMode = new Map<string, Compiled[]>();
const allCompiled: Compiled[] = [];

/** Help for keywords that mean the same in every command. */
export const KEYWORD_HELP: Record<string, string> = {
  no: 'Negate a command or set its defaults',
  default: 'Set a command to its defaults',
  show: 'Show running system information',
  clear: 'Reset functions',
  crypto: 'Encryption module',
  ip: 'Global IP configuration subcommands',
  ipv6: 'IPv6 configuration',
  interface: 'Select an interface to configure',
  address: 'Set the IP address of an interface',
  set: 'Set values in destination routing protocol',
  exit: 'Exit from configure mode',
  end: 'Exit from configure mode',
  do: 'To run exec commands in config mode',
  description: 'Interface specific description',
  isakmp: 'Internet Security Association and Key Management Protocol',
  ipsec: 'IPSEC policy',
  ikev2: 'Configure IKEv2 Options',
  map: 'Enter a crypto map',
  'transform-set': 'Define transform and settings',
  detail: 'Detailed information',
  brief: 'Brief summary',
};

/** Help for variable tokens when the command gives none. */
const VAR_HELP: Record<string, string> = {
  WORD: 'Word', LINE: 'Text', IPV4: 'IP address', IPV4_PREFIX: 'IP prefix', IPV6: 'IPv6 address',
  IPV6_PREFIX: 'IPv6 prefix', HEX: 'Hexadecimal string', RANGE: 'Number', IFNAME: 'Interface name',
};

export function defineCommand(def: CommandDef): void {
  const syntaxes = Array.isArray(def.syntax) ? def.syntax : [def.syntax];
  const roots = syntaxes.map(compileSyntax);
  const c: Compiled = { def, roots, first: roots.map(firstKeywords) };
  allCompiled.push(c);
  candidateCache.clear();
  for (const m of def.modes) {
    const list = byMode.get(m) ?? [];
    list.push(c);
    byMode.set(m, list);
  }
}

// Candidate lists by mode and first word: commands are registered once at start-up, so
// the lists are computed once per (mode, word) and dropped when a command is added.
const candidateCache = new Map<string, Candidate<CommandDef>[]>();

/** Candidates in `mode` whose first keyword could start with `firstWord` (all, if undefined). */
export function candidatesFor(mode: string, firstWord?: string): Candidate<CommandDef>[] {
  const key = `${mode}\u0000${firstWord?.toLowerCase() ?? ''}\u0000${firstWord === undefined ? 'all' : ''}`;
  let hit = candidateCache.get(key);
  if (!hit) {
    hit = computeCandidates(mode, firstWord);
    if (candidateCache.size > 5000) candidateCache.clear();
    candidateCache.set(key, hit);
  }
  return [...hit];
}

function computeCandidates(mode: string, firstWord?: string): Candidate<CommandDef>[] {
  const out: Candidate<CommandDef>[] = [];
  const w = firstWord?.toLowerCase();
  for (const c of byMode.get(mode) ?? []) {
    c.roots.forEach((root, i) => {
      const first = c.first[i];
      if (w !== undefined && first && !first.some((k) => k.startsWith(w))) return;
      out.push({ command: c.def, root });
    });
  }
  return out;
}

export function helpFor(def: CommandDef, node: GrammarNode): string | undefined {
  if (node.kind === 'kw') return def.help?.[node.word] ?? KEYWORD_HELP[node.word];
  if (node.kind === 'var') return def.help?.[node.name] ?? def.help?.[node.display] ?? VAR_HELP[node.type];
  return undefined;
}

export function commandCount(): number {
  return allCompiled.length;
}
