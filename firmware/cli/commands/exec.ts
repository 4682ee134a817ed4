// Exec-mode commands: privilege, configuration mode, saving and showing configuration,
// version, clock, history, terminal settings and reload. Also the commands every
// configuration mode has (`exit`, `end`, `do`).

import { renderConfigLines } from '../../config/model.js';
import { buildInfo, type BuildInfo } from '../../lib/build-info.js';
import { verifySecret } from '../../lib/password.js';
import { decodeType7 } from '../../lib/password.js';
import { CliError, type CommandContext } from '../context.js';
import { defineCommand } from '../registry.js';
import { getMode } from '../modes.js';

const EXEC = ['user', 'exec'];
const PRIV = ['exec'];

/** `running-config` text exactly as `show running-config` prints it after its header. */
export function runningConfigText(ctx: CommandContext): string {
  return renderConfigLines(ctx.config).join('\n') + '\n';
}

function configHeader(text: string): string {
  return `Building configuration...\n\nCurrent configuration : ${Buffer.byteLength(text)} bytes`;
}

defineCommand({
  modes: EXEC,
  syntax: 'enable [(0-15)$level]',
  help: { enable: 'Turn on privileged commands', level: 'Enable level' },
  async handler(ctx) {
    const sys = ctx.config.system;
    if (ctx.session.privilege >= 15) return;
    if (sys.enableSecret || sys.enablePassword) {
      for (let tries = 0; tries < 3; tries++) {
        const answer = await ctx.ask('Password: ', { echo: false });
        const ok = sys.enableSecret
          ? verifySecret(answer, sys.enableSecret)
          : (sys.enablePassword!.type === 7 ? decodeType7(sys.enablePassword!.value) : sys.enablePassword!.value) === answer;
        if (ok) {
          ctx.session.privilege = 15;
          return;
        }
      }
      throw new CliError('% Bad secrets\n');
    }
    if (ctx.session.line !== 'console') throw new CliError('% No password set');
    ctx.session.privilege = 15;
  },
});

defineCommand({
  modes: PRIV,
  syntax: 'disable',
  help: { disable: 'Turn off privileged commands' },
  handler(ctx) { ctx.session.privilege = 1; },
});

defineCommand({
  modes: EXEC,
  syntax: ['exit', 'logout', 'quit'],
  help: { exit: 'Exit from the EXEC', logout: 'Exit from the EXEC', quit: 'Exit from the EXEC' },
  handler(ctx) { ctx.session.close(); },
});

defineCommand({
  modes: PRIV,
  syntax: 'configure [terminal [lock]]',
  help: { configure: 'Enter configuration mode', terminal: 'Configure from the terminal', lock: 'Lock configuration mode' },
  async handler(ctx, a) {
    if (!a.has('terminal')) {
      // IOS asks where from; Return takes the default in brackets.
      const from = (await ctx.ask('Configuring from terminal, memory, or network [terminal]? ')).trim().toLowerCase();
      if (from !== '' && !'terminal'.startsWith(from)) {
        if ('memory'.startsWith(from) || 'network'.startsWith(from)) throw new CliError(`% Not supported on Rampart yet: configure ${'memory'.startsWith(from) ? 'memory' : 'network'} (use configure terminal)`);
        ctx.print('?Must be "terminal", "memory" or "network"');
        return;
      }
    }
    // `configuration mode exclusive` (or `lock`): one session configures at a time
    const lock = ctx.system.configLock?.enter({ id: ctx.session.id, user: ctx.session.user, line: ctx.session.line }, a.has('lock'));
    if (lock?.refused) throw new CliError(lock.refused);
    if (lock?.locked) ctx.print('Configuration mode locked exclusively. The lock will be cleared once you exit out of configuration mode using end/exit');
    ctx.print('Enter configuration commands, one per line.  End with CNTL/Z.');
    ctx.enter('config');
  },
});

defineCommand({
  modes: EXEC,
  syntax: 'terminal <length (0-512)$len|no length>',
  help: { terminal: 'Set terminal line parameters', length: 'Set number of lines on a screen', len: 'Number of lines on screen (0 for no pausing)' },
  handler(ctx, a) { ctx.session.terminalLength = a.has('no') ? 24 : a.num('len')!; },
});

defineCommand({
  modes: EXEC,
  syntax: 'show history',
  help: { history: 'Display the session command history' },
  pipe: true,
  handler(ctx) {
    const h = ctx.session.history;
    ctx.data(h);
    ctx.print(h.map((l) => `  ${l}`).join('\n'));
  },
});

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `21:40:12.123 UTC Thu Nov 26 2026`, as `show clock` prints it. */
export function formatClock(ms: number): string {
  const d = new Date(ms);
  const t = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}:${String(d.getUTCSeconds()).padStart(2, '0')}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
  return `${t} UTC ${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()} ${d.getUTCFullYear()}`;
}

defineCommand({
  modes: EXEC,
  syntax: 'show clock [detail]',
  help: { clock: 'Display the system clock' },
  pipe: true,
  handler(ctx, a) {
    const now = ctx.system.now();
    ctx.data({ time: new Date(now).toISOString() });
    ctx.print(formatClock(now));
    // The sim board and the appliance both take time from the Linux kernel clock
    // (set from the RTC at boot): IOS calls that the hardware calendar.
    if (a.has('detail')) ctx.print('Time source is hardware calendar');
  },
});

/** `1 week, 2 days, 3 hours, 4 minutes` as IOS prints uptime. */
export function formatUptime(ms: number): string {
  const units: Array<[string, number]> = [['year', 365 * 86400], ['week', 7 * 86400], ['day', 86400], ['hour', 3600], ['minute', 60]];
  let s = Math.floor(ms / 1000);
  const parts: string[] = [];
  for (const [name, secs] of units) {
    const n = Math.floor(s / secs);
    s -= n * secs;
    if (n > 0) parts.push(`${n} ${name}${n === 1 ? '' : 's'}`);
  }
  return parts.length > 0 ? parts.join(', ') : '0 minutes';
}

/** The image name `show version` prints: the running board's (`RAMPART-SIM`, `RAMPART-VM`). */
function imageName(board: string): string {
  return `RAMPART-${board.toUpperCase()}`;
}

/** IOS's `Compiled Mon 07-Dec-26 16:00 by ...` line. */
function compiledLine(info: BuildInfo): string {
  const d = new Date(info.date);
  if (Number.isNaN(d.getTime())) return `Compiled from source (development build, commit ${info.commit})`;
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `Compiled ${DAYS[d.getUTCDay()]} ${p2(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${p2(d.getUTCFullYear() % 100)} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())} from commit ${info.commit}`;
}

/** IOS's plural type names in `show version`'s interface counts. */
const TYPE_TEXT: Record<string, string> = {
  GigabitEthernet: 'Gigabit Ethernet', TenGigabitEthernet: 'Ten Gigabit Ethernet', FastEthernet: 'FastEthernet',
  Ethernet: 'Ethernet', Serial: 'Serial',
};

/** `show version`: IOS 15's fields under Rampart's own name (docs/show-output.md). */
export function showVersionText(ctx: CommandContext): string {
  const { board, bootTime } = ctx.system;
  const info = buildInfo();
  const uptimeMs = ctx.system.now() - bootTime;
  const host = ctx.config.system.hostname;
  const counts = new Map<string, number>();
  for (const p of board.ports) {
    const type = /^[A-Za-z-]+/.exec(p)![0];
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  const last = ctx.system.lastReload ?? { reason: 'power-on' as const };
  const memKb = Math.round((ctx.system.runtime.hostMemoryTotal?.() ?? 0) / 1024);
  const image = imageName(board.name);
  return [
    `Rampart Software (${image}), Version ${info.version}, RELEASE SOFTWARE (${info.commit})`,
    'Technical Support: see README.md',
    'Copyright (c) 2026 by the Rampart engineers',
    compiledLine(info),
    '',
    `ROM: ${board.name} board bootloader`,
    '',
    `${host} uptime is ${formatUptime(uptimeMs)}`,
    last.reason === 'reload' && last.atMs !== undefined ? `System returned to ROM by reload at ${formatClock(last.atMs).replace(/\.\d{3} /, ' ')}` : `System returned to ROM by ${last.reason}`,
    `System restarted at ${formatClock(bootTime).replace(/\.\d{3} /, ' ')}`,
    `System image file is "flash:rampart-${info.version}.img"`,
    ...(ctx.system.updates?.versionLines() ?? []),
    `Last reload type: ${last.reason === 'reload' ? 'Normal Reload' : 'Power-on'}`,
    `Last reload reason: ${last.reason === 'reload' ? 'Reload Command' : 'power-on'}`,
    '',
    `${board.model} (${board.description}) processor with ${memKb}K/0K bytes of memory.`,
    `Processor board ID ${board.serial ?? 'unknown'}`,
    ...[...counts].map(([type, n]) => `${n} ${TYPE_TEXT[type] ?? type} interface${n === 1 ? '' : 's'}`),
    '',
    'Configuration register is 0x2102',
  ].join('\n');
}

defineCommand({
  modes: EXEC,
  syntax: 'show version',
  help: { version: 'System hardware and software status' },
  pipe: true,
  handler(ctx) {
    const { board, bootTime } = ctx.system;
    const info = buildInfo();
    ctx.data({
      version: info.version, commit: info.commit, buildDate: info.date, image: imageName(board.name),
      board: board.name, model: board.model, serial: board.serial ?? null, hostname: ctx.config.system.hostname,
      uptimeSec: Math.floor((ctx.system.now() - bootTime) / 1000), lastReload: ctx.system.lastReload?.reason ?? 'power-on', ports: board.ports,
    });
    ctx.print(showVersionText(ctx));
  },
});

defineCommand({
  modes: PRIV,
  syntax: 'show running-config',
  help: { 'running-config': 'Current operating configuration' },
  pipe: true,
  handler(ctx) {
    // Below level 15 (a `privilege exec level` grant) no line that carries a secret is shown.
    const low = ctx.session.privilege < 15;
    const text = low ? withoutSecrets(runningConfigText(ctx)) : runningConfigText(ctx);
    if (!low) ctx.data(ctx.config);
    ctx.print(`${configHeader(text)}\n${text.trimEnd()}`);
  },
});

const SECRET_LINE = /\b(secret|password|key|pre-shared-key|key-string|key-hash|authentication-key)\b/;

function withoutSecrets(text: string): string {
  return text.split('\n').filter((l) => !SECRET_LINE.test(l)).join('\n');
}

defineCommand({
  modes: PRIV,
  syntax: 'show startup-config',
  help: { 'startup-config': 'Contents of startup configuration' },
  pipe: true,
  async handler(ctx) {
    const text = await ctx.system.readStartup();
    if (text === undefined) {
      ctx.print('startup-config is not present');
      return;
    }
    ctx.data({ text });
    ctx.print(`Using ${Buffer.byteLength(text)} out of 262144 bytes\n${text.trimEnd()}`);
  },
});

async function saveRunning(ctx: CommandContext): Promise<void> {
  ctx.print('Building configuration...');
  await ctx.system.writeStartup(runningConfigText(ctx));
  ctx.print('[OK]');
}

defineCommand({
  modes: PRIV,
  syntax: 'write [memory]',
  help: { write: 'Write running configuration to memory, network, or terminal', memory: 'Write to NV memory' },
  handler: saveRunning,
});

defineCommand({
  modes: PRIV,
  syntax: 'write terminal',
  help: { terminal: 'Write to terminal' },
  pipe: true,
  handler(ctx) {
    const text = runningConfigText(ctx);
    ctx.print(`${configHeader(text)}\n${text.trimEnd()}`);
  },
});

defineCommand({
  modes: PRIV,
  syntax: 'copy running-config startup-config',
  help: { copy: 'Copy from one file to another', 'running-config': 'Copy from current system configuration', 'startup-config': 'Copy to startup configuration' },
  async handler(ctx) {
    const dest = (await ctx.ask('Destination filename [startup-config]? ')).trim();
    if (dest !== '' && dest !== 'startup-config') throw new CliError(`%Error opening nvram:${dest} (Invalid argument)`);
    await saveRunning(ctx);
  },
});

defineCommand({
  modes: PRIV,
  syntax: ['erase startup-config', 'write erase'],
  help: { erase: 'Erase a filesystem', 'startup-config': 'Erase contents of configuration memory', write: 'Write running configuration to memory, network, or terminal' },
  async handler(ctx) {
    const answer = await ctx.ask('Erasing the nvram filesystem will remove all configuration files! Continue? [confirm]');
    if (!isConfirm(answer)) return;
    await ctx.system.eraseStartup();
    ctx.print('[OK]\nErase of nvram: complete');
  },
});

/** `[confirm]` accepts Return or y. */
export function isConfirm(answer: string): boolean {
  const a = answer.trim().toLowerCase();
  return a === '' || a === 'y' || a === 'yes';
}

defineCommand({
  modes: PRIV,
  syntax: 'reload',
  help: { reload: 'Halt and perform a cold restart' },
  async handler(ctx) {
    const saved = await ctx.system.readStartup();
    if (saved !== runningConfigText(ctx)) {
      const a = (await ctx.ask('\nSystem configuration has been modified. Save? [yes/no]: ')).trim().toLowerCase();
      if (a === 'y' || a === 'yes') await saveRunning(ctx);
      else if (a !== 'n' && a !== 'no') throw new CliError('% Please answer \'yes\' or \'no\'.');
    }
    const go = await ctx.ask('Proceed with reload? [confirm]');
    if (!isConfirm(go)) return;
    ctx.system.reload();
  },
});

// Every configuration mode has these.
defineCommand({
  modes: ['*config'],
  syntax: 'exit',
  help: { exit: 'Exit from the current mode' },
  handler(ctx) {
    const parent = getMode(ctx.mode).parent;
    ctx.enter(parent && parent !== 'exec' ? parent : 'exec');
  },
});

defineCommand({
  modes: ['*config'],
  syntax: 'end',
  help: { end: 'Exit from configure mode' },
  handler(ctx) { ctx.enter('exec'); },
});

defineCommand({
  modes: ['*config'],
  syntax: 'do LINE',
  help: { do: 'To run exec commands in config mode', LINE: 'Exec Command' },
  handler() { /* the session runs `do` itself; this declaration gives it help and completion */ },
});
