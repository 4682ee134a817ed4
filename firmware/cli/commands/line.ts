// `line con 0`, `line aux 0`, `line vty FIRST [LAST]` and what IOS configs put under them.
import { newLine, type LineConfig } from '../../config/line.js';
import { encodeType7 } from '../../lib/password.js';
import type { CommandContext } from '../context.js';
import { CliError } from '../context.js';
import { defineCommand } from '../registry.js';
import { defineMode } from '../modes.js';

defineMode({ name: 'config-line', prompt: '(config-line)', parent: 'config' });

defineCommand({
  modes: ['config'],
  syntax: ['line <console|aux> 0', 'line vty (0-15)$first [(0-15)$last]'],
  help: { line: 'Configure a terminal line', console: 'Primary terminal line', aux: 'Auxiliary line', vty: 'Virtual terminal', first: 'First Line number', last: 'Last Line number' },
  handler(ctx, a) {
    let name: string;
    if (a.has('vty')) {
      const first = a.num('first')!, last = a.num('last') ?? first;
      if (last < first) throw new CliError('% Invalid line range');
      name = `vty ${first}${last !== first ? ` ${last}` : ''}`;
    } else name = a.has('aux') ? 'aux 0' : 'con 0';
    if (!ctx.config.lines[name]) ctx.config.lines[name] = newLine(name);
    ctx.enter('config-line', { line: name });
  },
});

function line(ctx: CommandContext): LineConfig {
  return ctx.config.lines[ctx.modeData.line as string]!;
}

const LINE = ['config-line'];

defineCommand({
  modes: LINE,
  syntax: ['[no] login [local]'],
  help: { login: 'Enable password checking', local: 'Local password checking' },
  handler(ctx, a) {
    const l = line(ctx);
    if (a.no) delete l.login;
    else l.login = a.has('local') ? 'local' : 'password';
  },
});

defineCommand({
  modes: LINE,
  syntax: ['password [0] WORD$pw', 'password 7 WORD$enc', 'no password [LINE]'],
  help: { password: 'Set a password', pw: 'The UNENCRYPTED (cleartext) line password', enc: 'The HIDDEN line password string' },
  handler(ctx, a) {
    const l = line(ctx);
    if (a.no) delete l.password;
    else if (a.get('enc') !== undefined) l.password = { type: 7, value: a.req('enc') };
    else l.password = ctx.config.system.servicePasswordEncryption ? { type: 7, value: encodeType7(a.req('pw')) } : { type: 0, value: a.req('pw') };
  },
});

defineCommand({
  modes: LINE,
  syntax: ['exec-timeout (0-35791)$min [(0-2147483)$sec]', 'no exec-timeout'],
  help: { 'exec-timeout': 'Set the EXEC timeout', min: 'Timeout in minutes', sec: 'Timeout in seconds' },
  handler(ctx, a) {
    const l = line(ctx);
    if (a.no) delete l.execTimeout;
    else l.execTimeout = { minutes: a.num('min')!, seconds: a.num('sec') ?? 0 };
  },
});

defineCommand({
  modes: LINE,
  syntax: ['transport input <all|none|ssh|telnet> [ssh] [telnet]', 'no transport input'],
  help: { transport: 'Define transport protocols for line', input: 'Define which protocols to use when connecting to the terminal server', all: 'All protocols', none: 'No protocols', ssh: 'TCP/IP SSH protocol', telnet: 'TCP/IP Telnet protocol' },
  handler(ctx, a) {
    const l = line(ctx);
    if (a.no) delete l.transportInput;
    else l.transportInput = ['all', 'none', 'ssh', 'telnet'].filter((p) => a.has(p));
  },
});

defineCommand({
  modes: LINE,
  syntax: '[no] logging synchronous',
  help: { logging: 'Modify message logging facilities', synchronous: 'Synchronized message output' },
  handler(ctx, a) { line(ctx).loggingSynchronous = !a.no; },
});

defineCommand({
  modes: LINE,
  syntax: ['privilege level (0-15)$level', 'no privilege level'],
  help: { privilege: 'Change privilege level for line', level: 'Assign default privilege level for line' },
  handler(ctx, a) {
    const l = line(ctx);
    if (a.no) delete l.privilegeLevel;
    else l.privilegeLevel = a.num('level')!;
  },
});
