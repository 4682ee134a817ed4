// `line con 0`, `line aux 0`, `line vty FIRST [LAST]` and what goes under them: login,
// password, exec-timeout, transport input, access-class, session-limit, privilege level,
// logging synchronous, login authentication, authorization exec.
import { configuredVtys, lineConfigFor, newLine, type LineConfig } from '../../config/line.js';
import type { Config } from '../../config/model.js';
import { encodeType7 } from '../../lib/password.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../context.js';
import { defineCommand } from '../registry.js';
import { defineMode } from '../modes.js';

defineMode({ name: 'config-line', prompt: '(config-line)', parent: 'config' });

/** IOS's vty range on this box. */
export const MAX_VTY = 98;

function vtyName(first: number, last: number): string {
  return first === last ? `vty ${first}` : `vty ${first} ${last}`;
}

function vtyRange(l: LineConfig): [number, number] {
  const [, a, b] = l.name.split(' ');
  return [Number(a), Number(b ?? a)];
}

/**
 * `line vty F L` over existing blocks: blocks that straddle the range are split (each
 * part keeps its settings), numbers no block covers get a new block, and the names of
 * the blocks inside the range are returned: the sub-mode's commands apply to each, as
 * IOS applies them to every line of the range.
 */
function selectVtys(cfg: Config, first: number, last: number): string[] {
  const inside: string[] = [];
  const covered = new Set<number>();
  for (const l of Object.values(cfg.lines)) {
    if (!l.name.startsWith('vty ')) continue;
    const [a, b] = vtyRange(l);
    if (b < first || a > last) continue;
    delete cfg.lines[l.name];
    const parts: Array<[number, number]> = [[a, Math.min(b, first - 1)], [Math.max(a, first), Math.min(b, last)], [Math.max(a, last + 1), b]];
    for (const [x, y] of parts) {
      if (x > y) continue;
      const name = vtyName(x, y);
      cfg.lines[name] = { ...structuredClone(l), name };
      if (x >= first && y <= last) {
        inside.push(name);
        for (let n = x; n <= y; n++) covered.add(n);
      }
    }
  }
  // Numbers of the range that no block had yet, as runs of new blocks.
  for (let n = first; n <= last; n++) {
    if (covered.has(n)) continue;
    let end = n;
    while (end + 1 <= last && !covered.has(end + 1)) end++;
    const name = vtyName(n, end);
    cfg.lines[name] = newLine(name);
    inside.push(name);
    n = end;
  }
  return inside;
}

defineCommand({
  modes: ['config'],
  syntax: ['line <console|aux> 0', `line vty (0-${MAX_VTY})$first [(0-${MAX_VTY})$last]`],
  help: { line: 'Configure a terminal line', console: 'Primary terminal line', aux: 'Auxiliary line', '0': 'First Line number', vty: 'Virtual terminal', first: 'First Line number', last: 'Last Line number' },
  handler(ctx, a) {
    if (a.has('vty')) {
      const first = a.num('first')!, last = a.num('last') ?? first;
      if (last < first) throw new CliError('% Invalid line range');
      ctx.enter('config-line', { lines: selectVtys(ctx.config, first, last) });
      return;
    }
    const name = a.has('aux') ? 'aux 0' : 'con 0';
    if (!ctx.config.lines[name]) ctx.config.lines[name] = newLine(name);
    ctx.enter('config-line', { lines: [name] });
  },
});

/** The line blocks the sub-mode edits. */
function lines(ctx: CommandContext): LineConfig[] {
  return (ctx.modeData.lines as string[]).map((n) => ctx.config.lines[n]).filter((l): l is LineConfig => l !== undefined);
}

const LINE = ['config-line'];

/** Sets (or with `no`, removes) one optional setting on every line of the sub-mode. */
function setOnLines<K extends keyof LineConfig>(ctx: CommandContext, no: boolean, key: K, value: () => LineConfig[K]): void {
  for (const l of lines(ctx)) {
    if (no) delete l[key];
    else l[key] = value();
  }
}

defineCommand({
  modes: LINE,
  syntax: ['[no] login [local]', 'login authentication WORD$list', 'no login authentication [WORD$list]'],
  help: { login: 'Enable password checking', local: 'Local password checking', authentication: 'Authentication parameters.', list: 'Use an authentication list with this name, or default' },
  handler(ctx, a) {
    for (const l of lines(ctx)) {
      if (a.has('authentication')) {
        if (a.no) delete l.loginAuthentication;
        else {
          if (!ctx.config.users.aaa.newModel) throw new CliError('% AAA: Warning, authentication list needs "aaa new-model" first');
          l.loginAuthentication = a.req('list');
        }
      } else if (a.no) delete l.login;
      else l.login = a.has('local') ? 'local' : 'password';
    }
  },
});

defineCommand({
  modes: LINE,
  syntax: ['authorization exec WORD$list', 'no authorization exec [WORD$list]'],
  help: { authorization: 'Authorization parameters.', exec: 'For starting an exec (shell).', list: 'Use an authorization list with this name, or default' },
  handler(ctx, a) { setOnLines(ctx, a.no, 'authorizationExec', () => a.req('list')); },
});

defineCommand({
  modes: LINE,
  syntax: ['password [0] WORD$pw', 'password 7 WORD$enc', 'no password [LINE]'],
  help: { password: 'Set a password', '0': 'Specifies an UNENCRYPTED password will follow', '7': 'Specifies a HIDDEN password will follow', pw: 'The UNENCRYPTED (cleartext) line password', enc: 'The HIDDEN line password string' },
  handler(ctx, a) {
    setOnLines(ctx, a.no, 'password', () => (a.get('enc') !== undefined ? { type: 7, value: a.req('enc') }
      : ctx.config.system.servicePasswordEncryption ? { type: 7, value: encodeType7(a.req('pw')) } : { type: 0, value: a.req('pw') }));
  },
});

defineCommand({
  modes: LINE,
  syntax: ['exec-timeout (0-35791)$min [(0-2147483)$sec]', 'no exec-timeout'],
  help: { 'exec-timeout': 'Set the EXEC timeout', min: 'Timeout in minutes', sec: 'Timeout in seconds' },
  handler(ctx, a) { setOnLines(ctx, a.no, 'execTimeout', () => ({ minutes: a.num('min')!, seconds: a.num('sec') ?? 0 })); },
});

defineCommand({
  modes: LINE,
  syntax: ['transport input <all|none|ssh|telnet> [ssh] [telnet]', 'no transport input'],
  help: { transport: 'Define transport protocols for line', input: 'Define which protocols to use when connecting to the terminal server', all: 'All protocols', none: 'No protocols', ssh: 'TCP/IP SSH protocol', telnet: 'TCP/IP Telnet protocol' },
  handler(ctx, a) { setOnLines(ctx, a.no, 'transportInput', () => ['all', 'none', 'ssh', 'telnet'].filter((p) => a.has(p))); },
});

defineCommand({
  modes: LINE,
  syntax: '[no] logging synchronous',
  help: { logging: 'Modify message logging facilities', synchronous: 'Synchronized message output' },
  handler(ctx, a) { for (const l of lines(ctx)) l.loggingSynchronous = !a.no; },
});

defineCommand({
  modes: LINE,
  syntax: ['privilege level (0-15)$level', 'no privilege level'],
  help: { privilege: 'Change privilege level for line', level: 'Assign default privilege level for line' },
  handler(ctx, a) { setOnLines(ctx, a.no, 'privilegeLevel', () => a.num('level')!); },
});

defineCommand({
  modes: LINE,
  syntax: ['access-class WORD$acl in [vrf-also]', 'no access-class [WORD$acl] [in]'],
  help: { 'access-class': 'Filter connections based on an IP access list', acl: 'IP access list', in: 'Filter incoming connections', 'vrf-also': 'Same access list is applied for all VRFs' },
  handler(ctx, a) { setOnLines(ctx, a.no, 'accessClassIn', () => a.req('acl')); },
});

defineCommand({
  modes: LINE,
  syntax: ['session-limit (0-4294967295)$n', 'no session-limit'],
  help: { 'session-limit': 'Set maximum number of sessions', n: 'Maximum number of sessions' },
  handler(ctx, a) { setOnLines(ctx, a.no, 'sessionLimit', () => a.num('n')!); },
});

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show line [summary]',
  help: { line: 'TTY line information', summary: 'Quick line status summary' },
  pipe: true,
  handler(ctx) {
    const mgmt = ctx.system.mgmt;
    const inUse = new Set((mgmt?.sessions() ?? []).map((s) => s.line));
    const uses = mgmt?.lineUses() ?? {};
    const rows: Array<{ tty: number; type: string; name: string; speed: string; accIn: string; uses: number; active: boolean }> = [];
    const add = (tty: number, type: string, name: string, speed: string, l: LineConfig | undefined) =>
      rows.push({ tty, type, name, speed, accIn: l?.accessClassIn ?? '-', uses: uses[name] ?? 0, active: inUse.has(name) });
    add(0, 'CTY', 'con 0', '', ctx.config.lines['con 0']);
    if (ctx.config.lines['aux 0']) add(1, 'AUX', 'aux 0', '9600/9600', ctx.config.lines['aux 0']);
    for (const n of configuredVtys(ctx.config)) add(2 + n, 'VTY', `vty ${n}`, '', lineConfigFor(ctx.config, 'vty', n));
    ctx.data(rows);
    const out = ['   Tty Line Typ     Tx/Rx    A Modem  Roty AccO AccI   Uses   Noise  Overruns   Int'];
    for (const r of rows) {
      out.push(`${r.active ? '*' : ' '}${String(r.tty).padStart(5)}${String(r.tty).padStart(5)} ${r.type} ${r.speed.padStart(11)}  -    -      -    - ${r.accIn.padStart(4)} ${String(r.uses).padStart(6)}       0     0/0       -`);
    }
    ctx.print(out.join('\n'));
  },
});

defineCommand({
  modes: ['user', 'exec'],
  syntax: ['terminal width (0-512)$w', 'terminal no width'],
  help: { terminal: 'Set terminal line parameters', width: 'Set width of the display terminal', w: 'Number of characters on a screen line' },
  // Output is never wrapped by the box; the width is kept for `show terminal`-style answers
  // and accepted because automation sends `terminal width 511` first thing.
  handler(ctx, a) { ctx.session.terminalWidth = a.has('no') ? 80 : a.num('w')!; },
});
