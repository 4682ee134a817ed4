// One CLI session: a mode stack, a privilege level and the terminal settings of one line
// (console, vty). It turns typed lines into handler calls and prints IOS's answers:
// the caret under invalid input, `% Incomplete command.`, `% Ambiguous command: "..."`,
// `?` help, Tab completion, `do`, `default`, `exit`, `end` and output filters.

import type { Config } from '../config/model.js';
import { CliError, InvalidInputError, type CommandContext, type SessionControl, type SystemServices } from './context.js';
import { applyFilters, parseFilters, type Filter } from './filters.js';
import { completionChoices, helpAt, matchLine, splitWords, type Args, type MatchResult } from './matcher.js';
import { getMode, isConfigMode } from './modes.js';
import { candidatesFor, helpFor, type CommandDef } from './registry.js';

export interface SessionIo {
  write(text: string): void;
  ask(prompt: string, echo: boolean): Promise<string>;
}

interface ModeFrame { mode: string; data: Record<string, unknown> }

export interface SessionOptions {
  config: () => Config;
  system: SystemServices;
  io: SessionIo;
  /** Terminal line name (`console`, `vty0`, `boot`). */
  line?: string;
  /** Start privileged (boot-time config load, tests). */
  privileged?: boolean;
  /** Privilege level to start at (an authenticated user's level); overrides `privileged`. */
  privilege?: number;
  /** The authenticated user and where the session comes from (`show users`). */
  user?: string;
  location?: string;
}

let nextSessionId = 1;

export const MAX_HISTORY = 20;

export class CliSession implements SessionControl {
  readonly id = nextSessionId++;
  readonly line: string;
  readonly user: string | undefined;
  readonly location: string | undefined;
  /** Epoch ms of the last line typed (idle time for `show users`, exec-timeout). */
  lastInput: number;
  privilege: number;
  terminalLength = 24;
  monitor = false;
  closed = false;
  private stack: ModeFrame[];
  private readonly historyList: string[] = [];
  /** Whether the last failed handler reported invalid input (as opposed to a refusal). */
  private lastInvalid = false;
  private readonly opts: SessionOptions;

  constructor(opts: SessionOptions) {
    this.opts = opts;
    this.line = opts.line ?? 'console';
    this.privilege = opts.privilege ?? (opts.privileged ? 15 : 1);
    this.user = opts.user;
    this.location = opts.location;
    this.lastInput = opts.system.now();
    this.stack = [{ mode: this.execMode(), data: {} }];
  }

  get history(): readonly string[] { return this.historyList; }
  get mode(): string { return this.top().mode; }
  get config(): Config { return this.opts.config(); }

  close(): void { this.closed = true; }

  writeAsync(text: string): void {
    if (this.closed) throw new Error('session closed');
    this.opts.io.write(text);
  }

  prompt(): string {
    const mode = getMode(this.mode);
    const host = this.config.system.hostname;
    return `${host}${mode.prompt}${mode.user ? '>' : '#'}`;
  }

  /** Puts the session in global configuration mode (boot-time load, `configure terminal`). */
  enterConfig(): void {
    this.stack = [{ mode: this.execMode(), data: {} }, { mode: 'config', data: {} }];
  }

  /** Back to exec mode, as `end` does. */
  endConfig(): void {
    this.stack = [{ mode: this.execMode(), data: {} }];
  }

  private execMode(): string { return this.privilege >= 15 ? 'exec' : 'user'; }
  private top(): ModeFrame { return this.stack[this.stack.length - 1]!; }

  /** Runs one typed line. Returns true when it ran without an error message. */
  async execute(rawLine: string): Promise<boolean> {
    this.lastInput = this.opts.system.now();
    const line = rawLine.replace(/[\r\n]+$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('!')) return true;
    this.historyList.push(line);
    if (this.historyList.length > MAX_HISTORY) this.historyList.shift();
    const wasConfig = isConfigMode(this.mode);
    try {
      return await this.run(line, this.mode, this.prompt().length);
    } catch (err) {
      if (err instanceof CliError) {
        this.opts.io.write(`${err.message}\n`);
        return false;
      }
      throw err;
    } finally {
      if (wasConfig && !isConfigMode(this.mode)) this.opts.system.configured?.(this.line, this.id);
    }
  }

  private async run(line: string, mode: string, promptLen: number): Promise<boolean> {
    const words = splitWords(line);
    const first = words[0]!.text.toLowerCase();
    const inConfig = isConfigMode(mode);
    // `do <exec command>` from any configuration mode.
    if (inConfig && first === 'do' && words.length > 1) {
      return this.runIn(line.slice(words[1]!.start), 'exec', promptLen + words[1]!.start, false, true);
    }
    // `default <command>`: the command's `no` form, flagged so handlers can tell.
    if (inConfig && words.length > 1 && 'default'.startsWith(first) && first.length >= 3) {
      const rest = line.slice(words[1]!.start);
      return this.runIn(`no ${rest}`, mode, promptLen + words[1]!.start - 3, true, false);
    }
    return this.runIn(line, mode, promptLen, false, false);
  }

  /**
   * Parses `line` in `mode`, falling back to the parent modes (leaving the sub-mode) when
   * it only parses there, as IOS does when a pasted config moves on to the next section.
   */
  private async runIn(line: string, mode: string, caretBase: number, isDefault: boolean, viaDo: boolean): Promise<boolean> {
    const { commandPart, filters, pipeAt } = this.splitPipe(line);
    let attempt = this.parse(commandPart ?? line, mode);
    let parse = attempt.result;
    let usedFilters: Filter[] = [];
    if (commandPart !== undefined) {
      if (parse.kind === 'ok' && parse.parse.command.pipe) {
        usedFilters = filters ?? [];
        if (!filters) {
          this.invalidAt(caretBase + pipeAt);
          return false;
        }
      } else {
        attempt = this.parse(line, mode);
        parse = attempt.result;
      }
    }
    let targetDepth = this.stack.length - 1;
    if (parse.kind !== 'ok' && !viaDo && mode !== 'config' && isConfigMode(mode)) {
      // Try the enclosing modes; a match there leaves the sub-mode. When none matches,
      // report the attempt that got furthest into the line.
      let best: MatchResult<CommandDef> = parse;
      for (let depth = this.stack.length - 2; depth >= 0; depth--) {
        const m = this.stack[depth]!.mode;
        if (!isConfigMode(m)) break;
        const r = this.parse(line, m);
        if (r.result.kind === 'ok') {
          best = r.result;
          targetDepth = depth;
          break;
        }
        if (progress(r.result, line) > progress(best, line)) best = r.result;
      }
      parse = best;
    }
    if (parse.kind !== 'ok') {
      this.reportFailure(parse, line, caretBase, mode);
      return false;
    }
    const before = this.stack.slice();
    if (!viaDo) this.stack.length = targetDepth + 1;
    const execMode = viaDo ? 'exec' : this.top().mode;
    const frame = this.top();
    const ok = await this.invoke(parse.parse.command, parse.parse.args, execMode, isDefault, usedFilters, viaDo, { line, base: caretBase });
    // IOS changes mode when the line parses in a parent mode. A handler that finds the
    // input invalid (what IOS's parser would have refused) leaves the sub-mode unchanged.
    if (!ok && this.lastInvalid && targetDepth < before.length - 1 && this.top() === frame) this.stack = before;
    return ok;
  }

  private parse(line: string, mode: string): { result: MatchResult<CommandDef> } {
    const words = splitWords(line);
    const candidates = candidatesFor(mode, words[0]?.text);
    if (isConfigMode(mode)) candidates.push(...candidatesFor('*config', words[0]?.text));
    if (mode === 'user' || mode === 'exec') {
      // Privilege levels: `privilege exec level N CMD` moves a command up or down; level 0
      // keeps only the five commands IOS leaves there.
      const level = commandLevel(this.config.users?.execLevels ?? {}, words.map((w) => w.text));
      if ((level !== undefined && level > this.privilege) || (this.privilege === 0 && !LEVEL_0.some((c) => c.startsWith(words[0]?.text.toLowerCase() ?? '\0')))) {
        return { result: { kind: 'invalid', at: 0 } };
      }
      if (mode === 'user' && level !== undefined) {
        const seen = new Set(candidates.map((c) => c.root));
        candidates.push(...candidatesFor('exec', words[0]?.text).filter((c) => !seen.has(c.root)));
      }
    }
    return { result: matchLine(line, candidates) };
  }

  /** `show run | include x`: splits at the first `|` that starts a word. */
  private splitPipe(line: string): { commandPart?: string; filters?: Filter[]; pipeAt: number } {
    const m = /\s\|/.exec(line);
    if (!m) return { pipeAt: -1 };
    const at = m.index + 1;
    const filters = parseFilters(line.slice(at));
    return { commandPart: line.slice(0, at), filters: filters ?? undefined, pipeAt: at };
  }

  private reportFailure(parse: MatchResult<CommandDef>, line: string, caretBase: number, mode: string): void {
    const io = this.opts.io;
    switch (parse.kind) {
      case 'ambiguous': {
        const words = splitWords(line);
        const upTo = words[parse.upTo]!;
        io.write(`% Ambiguous command:  "${line.slice(0, upTo.start + upTo.text.length)}"\n`);
        return;
      }
      case 'incomplete':
        io.write('% Incomplete command.\n\n');
        return;
      case 'invalid':
        if (parse.at === 0 && !isConfigMode(mode) && splitWords(line).length === 1) {
          io.write('% Unknown command or computer name, or unable to find computer address\n');
          return;
        }
        this.invalidAt(caretBase + parse.at);
        return;
      case 'empty':
        return;
    }
  }

  private invalidAt(column: number): void {
    this.opts.io.write(`${' '.repeat(column)}^\n% Invalid input detected at '^' marker.\n\n`);
  }

  private async invoke(def: CommandDef, args: Args, mode: string, isDefault: boolean, filters: Filter[], viaDo: boolean, caret?: { line: string; base: number }): Promise<boolean> {
    const out: string[] = [];
    let data: unknown;
    let hasData = false;
    const frame = viaDo ? { mode: 'exec', data: {} } : this.top();
    const depth = this.stack.length - 2;
    const ctx: CommandContext = {
      config: this.config,
      mode,
      modeData: frame.data,
      isDefault,
      enter: (m, d) => {
        getMode(m);
        if (viaDo) throw new CliError('% Cannot change modes with do');
        if (m === 'exec' || m === 'user') {
          this.stack = [{ mode: this.execMode(), data: {} }];
          return;
        }
        // Entering a mode already on the stack (`exit` to the parent) pops back to it.
        const at = this.stack.findIndex((f) => f.mode === m);
        if (at >= 0 && d === undefined) this.stack.length = at + 1;
        else this.stack.push({ mode: m, data: d ?? {} });
      },
      print: (text) => { out.push(text); },
      data: (value) => { data = value; hasData = true; },
      ask: async (prompt, o) => {
        this.flush(out, filters, undefined, false);
        out.length = 0;
        return this.opts.io.ask(prompt, o?.echo ?? true);
      },
      session: this,
      system: this.opts.system,
    };
    let ok = true;
    this.lastInvalid = false;
    // another session holds the configuration lock: configuration commands wait for it
    // (`exit` and `end` always work: a session can leave)
    const leaving = caret !== undefined && /^\s*(exit|end)\s*$/i.test(caret.line);
    const locked = isConfigMode(mode) && !viaDo && !leaving && this.line !== 'boot' ? this.opts.system.configLock?.refusal(this.id) : undefined;
    try {
      if (locked) throw new CliError(locked);
      await def.handler(ctx, args);
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      this.lastInvalid = err instanceof InvalidInputError;
      if (err instanceof InvalidInputError && caret) {
        const w = splitWords(caret.line)[err.word];
        out.push(`${' '.repeat(caret.base + (w?.start ?? 0))}^\n${err.message}\n\n`);
      } else out.push(err.message);
      ok = false;
    }
    if (ok && isConfigMode(mode) && !viaDo) {
      this.config.revision++;
      this.opts.system.configChanged();
      if (caret && !/^\s*(exit|end)\s*$/i.test(caret.line)) {
        this.opts.system.configCommand?.({ session: this.id, user: this.user, line: this.line, depth, text: caret.line.trim() });
      }
    }
    this.flush(out, filters, data, hasData);
    // The privilege may have changed (enable/disable): keep exec frames in step.
    if (this.stack.length === 1 && this.stack[0]!.mode !== this.execMode()) this.stack[0] = { mode: this.execMode(), data: {} };
    return ok;
  }

  private flush(out: string[], filters: Filter[], data: unknown, hasData: boolean): void {
    if (out.length === 0 && !hasData) return;
    const wantsJson = filters.some((f) => f.kind === 'json');
    if (wantsJson) {
      if (!hasData) this.opts.io.write('% JSON output is not supported for this command\n');
      else this.opts.io.write(`${JSON.stringify(data, jsonReplacer, 2)}\n`);
      return;
    }
    const text = out.join('\n');
    const lines = text.split('\n');
    const shown = applyFilters(lines, filters);
    if (shown.length > 0) this.opts.io.write(`${shown.join('\n')}\n`);
  }

  /** Text printed for `line?` (the `?` itself is not part of `line`). */
  help(line: string): string {
    const mode = this.mode;
    const inConfig = isConfigMode(mode);
    let target = line;
    let helpMode = mode;
    const words = splitWords(line);
    if (inConfig && words[0]?.text.toLowerCase() === 'do' && (words.length > 1 || /\s$/.test(line))) {
      target = words.length > 1 ? line.slice(words[1]!.start) : '';
      helpMode = 'exec';
    }
    const candidates = candidatesFor(helpMode);
    if (isConfigMode(helpMode)) candidates.push(...candidatesFor('*config'));
    const pipe = /\s\|\s*(\S*)$/.exec(target);
    if (pipe) return pipeHelp(pipe[1]!);
    const h = helpAt(target, candidates, helpFor);
    if (h.kind === 'unrecognized') return '% Unrecognized command\n';
    if (h.kind === 'ambiguous') {
      const ws = splitWords(target);
      const w = ws[h.upTo]!;
      return `% Ambiguous command: "${target.slice(0, w.start + w.text.length)}"\n`;
    }
    const partial = target.length > 0 && !/\s$/.test(target);
    if (partial) return `${h.items.map((i) => i.token).join('  ')}  \n\n`;
    const rows = h.items.map((i) => [i.token, i.help ?? ''] as const);
    if (h.cr) rows.push(['<cr>', '']);
    const isPipeable = h.cr && this.lineIsPipeable(target, helpMode);
    if (isPipeable) rows.push(['|', 'Output modifiers']);
    const width = Math.max(...rows.map(([t]) => t.length));
    return `${rows.map(([t, hlp]) => (hlp ? `  ${t.padEnd(width)}  ${hlp}` : `  ${t}`).trimEnd()).join('\n')}\n\n`;
  }

  private lineIsPipeable(line: string, mode: string): boolean {
    const r = this.parse(line, mode).result;
    return r.kind === 'ok' && r.parse.command.pipe === true;
  }

  /** Tab: the line with its last word completed, or undefined when nothing unique matches. */
  complete(line: string): string | undefined {
    const words = splitWords(line);
    if (words.length === 0 || /\s$/.test(line)) return undefined;
    let mode = this.mode;
    let base = line;
    let offset = 0;
    if (isConfigMode(mode) && words[0]!.text.toLowerCase() === 'do' && words.length > 1) {
      mode = 'exec';
      offset = words[1]!.start;
      base = line.slice(offset);
    }
    const candidates = candidatesFor(mode);
    if (isConfigMode(mode)) candidates.push(...candidatesFor('*config'));
    const options = completionChoices(base, candidates);
    if (options.length !== 1) return undefined;
    const last = words[words.length - 1]!;
    return `${line.slice(0, last.start)}${options[0]!.word}${options[0]!.then}`;
  }
}

/** The commands a privilege-0 session keeps (IOS). */
const LEVEL_0 = ['disable', 'enable', 'exit', 'help', 'logout'];

/**
 * The level `privilege exec level N KEY` gives the typed words: the longest KEY whose
 * words the typed ones abbreviate (`sh run` is `show running-config`); undefined if none.
 */
export function commandLevel(levels: Record<string, number>, typed: string[]): number | undefined {
  let best: { len: number; level: number } | undefined;
  for (const [key, level] of Object.entries(levels)) {
    const kw = key.split(' ');
    if (kw.length > typed.length) continue;
    if (!kw.every((k, i) => k.startsWith(typed[i]!.toLowerCase()))) continue;
    if (!best || kw.length > best.len) best = { len: kw.length, level };
  }
  return best?.level;
}

/** How far into `line` a failed parse got (for choosing which error to report). */
function progress(r: MatchResult<CommandDef>, line: string): number {
  switch (r.kind) {
    case 'ok': return Infinity;
    case 'incomplete': return line.length;
    case 'invalid': return r.at;
    case 'ambiguous': return splitWords(line)[r.upTo]?.start ?? 0;
    case 'empty': return -1;
  }
}

function pipeHelp(partial: string): string {
  const rows: Array<[string, string]> = [
    ['append', 'Append redirected output to URL'],
    ['begin', 'Begin with the line that matches'],
    ['count', 'Count number of lines which match regular expression'],
    ['exclude', 'Exclude lines that match'],
    ['include', 'Include lines that match'],
    ['json', 'Structured output as JSON'],
    ['section', 'Filter a section of output'],
  ].filter(([k]) => k !== 'append') as Array<[string, string]>;
  const hits = rows.filter(([k]) => k.startsWith(partial.toLowerCase()));
  if (partial && hits.length === 1 && hits[0]![0] === partial.toLowerCase()) return '  LINE  Regular Expression\n\n';
  return `${hits.map(([k, h]) => `  ${k.padEnd(7)}  ${h}`).join('\n')}\n\n`;
}

/** JSON for `| json`: bigints as decimal strings, byte arrays as hex. */
function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  if (value instanceof Map) return Object.fromEntries(value);
  if (value instanceof Set) return [...value];
  return value;
}
