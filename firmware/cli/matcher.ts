// Matches a typed line against compiled command grammars, IOS style: keywords abbreviate
// to any unique prefix, every path through every candidate command is followed at once,
// and the best complete parse wins (exact keyword > typed value > abbreviated keyword >
// free word). Also answers `?` help and Tab completion from the same walk.

import { parseIpv4, parseIpv4Prefix, parseIpv6, parseIpv6Prefix } from '../lib/ip.js';
import { INTERFACE_TYPES, canonicalInterfaceName, resolveInterfaceType } from '../config/interface-names.js';
import type { GrammarNode, VarType } from './grammar.js';

export interface Word { text: string; start: number }

export function splitWords(line: string): Word[] {
  const words: Word[] = [];
  const re = /\S+/g;
  for (let m = re.exec(line); m; m = re.exec(line)) words.push({ text: m[0], start: m.index });
  return words;
}

/** A matched atom on a parse path. */
interface Step {
  node: GrammarNode & ({ kind: 'kw' } | { kind: 'var' });
  pos: number;
  consumed: number;
  value: string;
  score: number;
  partial: boolean;
  repeated: boolean;
  prev: Step | undefined;
}

const VAR_INDEX: Record<VarType, number> = { WORD: 0, LINE: 1, IPV4: 2, IPV4_PREFIX: 3, IPV6: 4, IPV6_PREFIX: 5, RANGE: 6, HEX: 7, IFNAME: 8 };

const SCORE_EXACT_KW = 10;
const SCORE_PARTIAL_KW = 5;
const VAR_SCORE: Record<VarType, number> = {
  IPV4: 7, IPV4_PREFIX: 7, IPV6: 7, IPV6_PREFIX: 7, RANGE: 7, IFNAME: 6, HEX: 4, WORD: 3, LINE: 2,
};

/** A candidate command given to the matcher. */
export interface Candidate<C> { command: C; root: GrammarNode }

export interface Parse<C> {
  command: C;
  args: Args;
}

export type MatchResult<C> =
  | { kind: 'ok'; parse: Parse<C> }
  | { kind: 'ambiguous'; upTo: number }
  | { kind: 'incomplete' }
  | { kind: 'invalid'; at: number }
  | { kind: 'empty' };

/** Values a handler receives: named variables, the keywords that were present, the flags. */
export class Args {
  constructor(
    private readonly values: Map<string, string[]>,
    private readonly keywords: Set<string>,
  ) {}
  /** The value of a variable (the first, if it repeats). */
  get(name: string): string | undefined { return this.values.get(name)?.[0]; }
  /** Like get, for variables the grammar guarantees. */
  req(name: string): string {
    const v = this.values.get(name)?.[0];
    if (v === undefined) throw new Error(`grammar has no value named ${name}`);
    return v;
  }
  num(name: string): number | undefined {
    const v = this.get(name);
    return v === undefined ? undefined : Number(v);
  }
  all(name: string): string[] { return this.values.get(name) ?? []; }
  has(keyword: string): boolean { return this.keywords.has(keyword); }
  get no(): boolean { return this.keywords.has('no'); }
}

export function matchVar(node: { type: VarType; min?: number; max?: number }, word: string, next?: string): number {
  switch (node.type) {
    case 'WORD': return 1;
    case 'LINE': return 1;
    case 'IPV4': return parseIpv4(word) !== undefined ? 1 : 0;
    case 'IPV4_PREFIX': return parseIpv4Prefix(word) ? 1 : 0;
    case 'IPV6': return parseIpv6(word) ? 1 : 0;
    case 'IPV6_PREFIX': return parseIpv6Prefix(word) ? 1 : 0;
    case 'HEX': return /^(0x)?[0-9a-fA-F]+$/.test(word) ? 1 : 0;
    case 'RANGE': {
      if (!/^\d{1,10}$/.test(word)) return 0;
      const n = Number(word);
      return n >= node.min! && n <= node.max! ? 1 : 0;
    }
    case 'IFNAME': {
      if (canonicalInterfaceName(word)) return 1;
      // `FastEthernet 0/0`: the type and the unit as two words.
      if (/^[A-Za-z-]+$/.test(word) && resolveInterfaceType(word) && next !== undefined && canonicalInterfaceName(word, next)) return 2;
      return 0;
    }
  }
}

interface WalkState<C> {
  words: Word[];
  line: string;
  complete: Array<{ command: C; path: Step | undefined }>;
  maxAlive: number;
  partialKw: Map<number, Set<string>>;
  exactKw: Set<number>;
  /** Atoms that could come at the end of the input (for help), and whether <cr> may end. */
  next: Map<string, GrammarNode>;
  crOk: boolean;
  collectNext: boolean;
  budget: number;
  varCache: Map<number, number>;
  /** Positions where a word matched a keyword exactly: there it abbreviates no other keyword. */
  exactOnly: ReadonlySet<number>;
}

type Cont = (pos: number, path: Step | undefined) => void;

function walk<C>(st: WalkState<C>, node: GrammarNode, pos: number, path: Step | undefined, repeated: boolean, k: Cont): void {
  if (--st.budget < 0) return; // guards against pathological grammars; never hit by real commands
  if (pos > st.maxAlive) st.maxAlive = pos;
  switch (node.kind) {
    case 'seq': {
      const step = (i: number, p: number, pa: Step | undefined): void => {
        if (i === node.items.length) return k(p, pa);
        walk(st, node.items[i]!, p, pa, repeated, (p2, pa2) => step(i + 1, p2, pa2));
      };
      return step(0, pos, path);
    }
    case 'alt':
      for (const o of node.options) walk(st, o, pos, path, repeated, k);
      if (node.optional) k(pos, path);
      return;
    case 'repeat': {
      const again: Cont = (p, pa) => {
        k(p, pa);
        if (p < st.words.length) walk(st, node.item, p, pa, true, again);
      };
      return walk(st, node.item, pos, path, repeated, again);
    }
    case 'kw': {
      if (pos >= st.words.length) {
        if (st.collectNext) st.next.set(`kw:${node.word}`, node);
        return;
      }
      const w = st.words[pos]!.text.toLowerCase();
      if (w === node.word) {
        st.exactKw.add(pos);
        return k(pos + 1, { node, pos, consumed: 1, value: node.word, score: SCORE_EXACT_KW, partial: false, repeated, prev: path });
      }
      if (node.word.startsWith(w) && !st.exactOnly.has(pos)) {
        let set = st.partialKw.get(pos);
        if (!set) st.partialKw.set(pos, (set = new Set()));
        set.add(node.word);
        return k(pos + 1, { node, pos, consumed: 1, value: node.word, score: SCORE_PARTIAL_KW, partial: true, repeated, prev: path });
      }
      return;
    }
    case 'var': {
      if (pos >= st.words.length) {
        if (st.collectNext) st.next.set(`var:${node.display}:${node.name}`, node);
        return;
      }
      const word = st.words[pos]!;
      if (node.type === 'LINE') {
        const value = st.line.slice(word.start).trimEnd();
        return k(st.words.length, { node, pos, consumed: st.words.length - pos, value, score: VAR_SCORE.LINE, partial: false, repeated, prev: path });
      }
      // The same word is tried against the same type on many paths: remember the answer.
      const key = pos * 64 + VAR_INDEX[node.type];
      let n = node.type === 'RANGE' ? undefined : st.varCache.get(key);
      if (n === undefined) {
        n = matchVar(node, word.text, st.words[pos + 1]?.text);
        if (node.type !== 'RANGE') st.varCache.set(key, n);
      }
      if (n === 0) return;
      const value = n === 2 ? `${word.text} ${st.words[pos + 1]!.text}` : word.text;
      return k(pos + n, { node, pos, consumed: n, value, score: VAR_SCORE[node.type], partial: false, repeated, prev: path });
    }
  }
}

function pathToArray(path: Step | undefined): Step[] {
  const out: Step[] = [];
  for (let s = path; s; s = s.prev) out.push(s);
  return out.reverse();
}

function compareScores(a: Step[], b: Step[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i]!.score !== b[i]!.score) return a[i]!.score - b[i]!.score;
  }
  return a.length - b.length;
}

function buildArgs(steps: Step[]): Args {
  const values = new Map<string, string[]>();
  const keywords = new Set<string>();
  for (const s of steps) {
    if (s.node.kind === 'kw') keywords.add(s.node.word);
    else {
      const list = values.get(s.node.name) ?? [];
      list.push(s.value);
      values.set(s.node.name, list);
    }
  }
  return new Args(values, keywords);
}

function newState<C>(line: string, words: Word[], collectNext: boolean, exactOnly: ReadonlySet<number> = new Set()): WalkState<C> {
  return { words, line, complete: [], maxAlive: 0, partialKw: new Map(), exactKw: new Set(), next: new Map(), crOk: false, collectNext, budget: 200_000, varCache: new Map(), exactOnly };
}

/**
 * Positions where a typed word is a whole keyword and also the start of a longer one
 * (`crypto key` / `keyring`, `ip domain` / `domain-lookup`, `group1` / `group14`). As in
 * IOS, the whole keyword wins there: the longer one is not considered at all, so a
 * command that only parses through the longer keyword is not run by mistake.
 */
function exactKeywordPositions(st: WalkState<unknown>): Set<number> {
  const out = new Set<number>();
  for (const p of st.exactKw) if (st.partialKw.has(p)) out.add(p);
  return out;
}

/** Walks every candidate; a second time without the longer keywords when a whole one was typed. */
function walkAll<C>(line: string, words: Word[], candidates: Candidate<C>[]): WalkState<C> {
  const first = newState<C>(line, words, false);
  runAll(first, candidates);
  const exact = exactKeywordPositions(first as WalkState<unknown>);
  if (exact.size === 0) return first;
  const st = newState<C>(line, words, false, exact);
  runAll(st, candidates);
  return st;
}

function runAll<C>(st: WalkState<C>, candidates: Candidate<C>[]): void {
  for (const c of candidates) {
    walk(st, c.root, 0, undefined, false, (pos, path) => {
      if (pos > st.maxAlive) st.maxAlive = pos;
      if (pos === st.words.length) {
        st.complete.push({ command: c.command, path });
        st.crOk = true;
      }
    });
  }
}

function ambiguousAt(st: WalkState<unknown>, pos: number): boolean {
  return (st.partialKw.get(pos)?.size ?? 0) > 1 && !st.exactKw.has(pos);
}

export function matchLine<C>(line: string, candidates: Candidate<C>[]): MatchResult<C> {
  const words = splitWords(line);
  if (words.length === 0) return { kind: 'empty' };
  const st = walkAll(line, words, candidates);
  if (st.complete.length > 0) {
    const scored = st.complete.map((c) => ({ c, steps: pathToArray(c.path) }));
    scored.sort((a, b) => compareScores(b.steps, a.steps));
    const best = scored[0]!;
    for (const s of best.steps) {
      if (s.partial && ambiguousAt(st as WalkState<unknown>, s.pos)) return { kind: 'ambiguous', upTo: s.pos };
    }
    return { kind: 'ok', parse: { command: best.c.command, args: buildArgs(best.steps) } };
  }
  for (let p = 0; p <= Math.min(st.maxAlive, words.length - 1); p++) {
    if (ambiguousAt(st as WalkState<unknown>, p)) return { kind: 'ambiguous', upTo: p };
  }
  if (st.maxAlive >= words.length) return { kind: 'incomplete' };
  return { kind: 'invalid', at: words[st.maxAlive]!.start };
}

export interface HelpItem {
  token: string;
  help: string | undefined;
  node?: GrammarNode;
  /** An interface type offered for a partial interface name (`int Fa?`): the unit follows without a space. */
  ifType?: boolean;
}

export type HelpResult =
  | { kind: 'items'; items: HelpItem[]; cr: boolean }
  | { kind: 'unrecognized' }
  | { kind: 'ambiguous'; upTo: number };

/**
 * `line ?`: what may come next. When `partial` is set (`line wo?`), only the tokens that the
 * partial word could start are listed.
 */
export function helpAt<C>(line: string, candidates: Candidate<C>[], helpFor: (c: C, node: GrammarNode) => string | undefined): HelpResult {
  const endsWithSpace = line.length === 0 || /\s$/.test(line);
  const words = splitWords(line);
  const partial = endsWithSpace ? undefined : words.pop();
  const probe = newState<C>(line, words, false);
  runAll(probe, candidates);
  const st = newState<C>(line, words, true, exactKeywordPositions(probe as WalkState<unknown>));
  // Collect per command so each token gets its own command's help text.
  const items = new Map<string, HelpItem>();
  let cr = false;
  for (const c of candidates) {
    st.next = new Map();
    st.crOk = false;
    walk(st, c.root, 0, undefined, false, (pos) => {
      if (pos === words.length) st.crOk = true;
    });
    cr ||= st.crOk;
    for (const [key, node] of st.next) {
      if (items.has(key)) continue;
      items.set(key, { token: node.kind === 'kw' ? node.word : (node as { display: string }).display, help: helpFor(c.command, node), node });
    }
  }
  for (let p = 0; p < words.length; p++) if (ambiguousAt(st as WalkState<unknown>, p)) return { kind: 'ambiguous', upTo: p };
  if (words.length > 0 && st.maxAlive < words.length && items.size === 0 && !cr) return { kind: 'unrecognized' };
  let list = [...items.values()];
  if (partial !== undefined) {
    const p = partial.text.toLowerCase();
    const wantsIfname = list.some((i) => i.node?.kind === 'var' && i.node.type === 'IFNAME');
    list = list.filter((i) => i.node?.kind === 'kw' && i.token.startsWith(p));
    // `interface Fa?`: the interface types the word could start (IOS lists them too).
    if (wantsIfname && /^[a-z-]+$/.test(p)) {
      for (const type of INTERFACE_TYPES) if (type.toLowerCase().startsWith(p)) list.push({ token: type, help: undefined, ifType: true });
    }
    if (list.length === 0) return { kind: 'unrecognized' };
    return { kind: 'items', items: list.sort((a, b) => compareTokens(a.token, b.token)), cr: false };
  }
  if (list.length === 0 && !cr) return { kind: 'unrecognized' };
  list.sort((a, b) => {
    const ka = a.node?.kind === 'kw' ? 0 : 1, kb = b.node?.kind === 'kw' ? 0 : 1;
    return ka !== kb ? ka - kb : compareTokens(a.token, b.token);
  });
  return { kind: 'items', items: list, cr };
}

/** Help order: numbers by value (`group ?` lists 1, 2, 5, 14, ...), words alphabetically. */
function compareTokens(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export interface Completion {
  word: string;
  /** What follows the completed word: a space, or nothing for an interface type (`FastEthernet0/0`). */
  then: ' ' | '';
}

/** Tab: the words that complete the last word of `line` (keywords, interface types). */
export function completionChoices<C>(line: string, candidates: Candidate<C>[]): Completion[] {
  if (line.length === 0 || /\s$/.test(line)) return [];
  const h = helpAt(line, candidates, () => undefined);
  if (h.kind !== 'items') return [];
  const out = new Map<string, Completion>();
  for (const i of h.items) {
    if (i.node?.kind === 'kw') out.set(i.token, { word: i.token, then: ' ' });
    else if (i.ifType) out.set(i.token, { word: i.token, then: '' });
  }
  return [...out.values()];
}

/** Tab: the keywords and interface types that complete the last word of `line`. */
export function completionsAt<C>(line: string, candidates: Candidate<C>[]): string[] {
  return completionChoices(line, candidates).map((c) => c.word);
}
