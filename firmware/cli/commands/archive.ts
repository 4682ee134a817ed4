// `archive` configuration mode (path, maximum, write-memory, time-period, log config),
// `archive config`, `show archive`, `show archive log config ...` and
// `show archive config differences`, in IOS 15's layouts.
import { newArchiveConfig } from '../../config/archive.js';
import { contextualDiff } from '../../config/config-diff.js';
import { CliError, type CommandContext } from '../context.js';
import type { ConfigLogEntry } from '../mgmt-view.js';
import { defineMode } from '../modes.js';
import { defineCommand } from '../registry.js';
import { runningConfigText } from './exec.js';
import { flashFileName } from './files.js';
import { mgmtOf } from './ssh.js';

defineMode({ name: 'config-archive', prompt: '(config-archive)', parent: 'config' });
defineMode({ name: 'config-archive-log-cfg', prompt: '(config-archive-log-cfg)', parent: 'config-archive' });

const ARCHIVE = ['config-archive'];
const LOG = ['config-archive-log-cfg'];

defineCommand({
  modes: ['config'],
  syntax: ['archive', 'no archive'],
  help: { archive: 'Archive the configuration' },
  handler(ctx, a) {
    if (a.no) {
      ctx.config.archive = newArchiveConfig();
      return;
    }
    ctx.enter('config-archive');
  },
});

defineCommand({
  modes: ARCHIVE,
  syntax: ['path WORD$url', 'no path [WORD$url]'],
  help: { path: 'path for backups', url: 'flash:NAME ($h: hostname, $t: time)' },
  handler(ctx, a) {
    if (a.no) {
      delete ctx.config.archive.path;
      return;
    }
    const url = a.req('url');
    const m = /^flash:\/?(.+)$/i.exec(url);
    // the name must still be a plain flash file name once `$h`/`$t` and `-N` are filled in
    if (!m || !/^[A-Za-z0-9_$][A-Za-z0-9._+$-]{0,100}$/.test(m[1]!) || m[1]!.includes('..')) {
      throw new CliError(`%Error: invalid archive path ${url} (flash:NAME, with $h for the hostname and $t for the time)`);
    }
    ctx.config.archive.path = `flash:${m[1]!}`;
  },
});

defineCommand({
  modes: ARCHIVE,
  syntax: ['maximum (1-14)$n', 'no maximum [(1-14)$n]'],
  help: { maximum: 'maximum number of backup copies', n: 'maximum number of backup copies' },
  handler(ctx, a) {
    if (a.no) delete ctx.config.archive.maximum;
    else if (ctx.config.archive.path === undefined) throw new CliError('%Error: archive path must be configured before maximum');
    else ctx.config.archive.maximum = a.num('n')!;
  },
});

defineCommand({
  modes: ARCHIVE,
  syntax: ['write-memory', 'no write-memory'],
  help: { 'write-memory': 'Enable automatic backup generation during write memory' },
  handler(ctx, a) {
    ctx.config.archive.writeMemory = !a.no;
  },
});

defineCommand({
  modes: ARCHIVE,
  syntax: ['time-period (1-525600)$min', 'no time-period [(1-525600)$min]'],
  help: { 'time-period': 'Period of time in minutes to automatically archive the running-config', min: 'Number of minutes to wait between archive creation' },
  handler(ctx, a) {
    if (a.no) delete ctx.config.archive.timePeriodMin;
    else ctx.config.archive.timePeriodMin = a.num('min')!;
  },
});

defineCommand({
  modes: ARCHIVE,
  syntax: ['log config', 'no log config'],
  help: { log: 'Logging commands', config: 'Logging changes to the running configuration' },
  handler(ctx, a) {
    if (a.no) {
      ctx.config.archive.log = newArchiveConfig().log;
      return;
    }
    ctx.config.archive.log.present = true;
    ctx.enter('config-archive-log-cfg');
  },
});

defineCommand({
  modes: LOG,
  syntax: ['logging enable', 'no logging enable', 'logging size (1-1000)$n', 'no logging size [(1-1000)$n]'],
  help: { logging: 'Modify config logging parameters', enable: 'Enable the config logger', size: 'Set size of configuration log', n: 'Maximum number of logged commands' },
  handler(ctx, a) {
    const log = ctx.config.archive.log;
    if (a.has('enable')) log.enabled = !a.no;
    else if (a.no) delete log.size;
    else log.size = a.num('n')!;
  },
});

defineCommand({
  modes: LOG,
  syntax: ['hidekeys', 'no hidekeys'],
  help: { hidekeys: 'Hide passwords/keys in the configuration log' },
  handler(ctx, a) {
    ctx.config.archive.log.hidekeys = !a.no;
  },
});

defineCommand({
  modes: LOG,
  syntax: ['notify syslog [contenttype <plaintext|xml>]', 'no notify syslog [contenttype <plaintext|xml>]'],
  help: { notify: 'Send logged commands to target applications', syslog: 'Send logged commands to syslog', contenttype: 'Set notification content-type', plaintext: 'Plain text content', xml: 'XML content' },
  handler(ctx, a) {
    if (a.has('xml') && !a.no) throw new CliError('% XML notification is not supported; use contenttype plaintext');
    ctx.config.archive.log.notifySyslog = !a.no;
  },
});

// ------------------------------------------------------------------ exec

defineCommand({
  modes: ['exec'],
  syntax: 'archive config',
  help: { archive: 'manage archive files', config: 'perform rollback confirm and archive operations' },
  handler(ctx) {
    try {
      mgmtOf(ctx).archive.save();
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  },
});

defineCommand({
  modes: ['exec'],
  syntax: 'show archive',
  help: { archive: 'Archive functions' },
  pipe: true,
  handler(ctx) {
    const st = mgmtOf(ctx).archive.status();
    ctx.data(st);
    if (!st.enabled) {
      ctx.print(' Archive feature not enabled');
      return;
    }
    const rows = st.files.map((f, i) => {
      const n = String(i + 1);
      if (f === undefined) return `   ${n}`;
      return `   ${n.padEnd(9)}${f}${i + 1 === st.mostRecent ? ' <- Most Recent' : ''}`;
    });
    ctx.print([
      `The maximum archive configurations allowed is ${st.maximum}.`,
      `There are currently ${st.saved} archive configurations saved.`,
      `The next archive file will be named ${st.next}`,
      ' Archive #  Name',
      ...rows,
    ].join('\n'));
  },
});

function logRows(entries: ConfigLogEntry[]): string {
  const rows = entries.map((e) => `${String(e.idx).padStart(5)}${String(e.session).padStart(6)}        ${`${e.user}@${e.line} `.padEnd(17)}|${e.command}`);
  return [' idx   sess           user@line      Logged command', ...rows].join('\n');
}

defineCommand({
  modes: ['exec'],
  syntax: 'show archive log config <all|statistics|(1-2147483647)$first> [(1-2147483647)$last]',
  help: {
    log: 'Show contents of the archive logs', config: 'Show contents of the configuration log',
    all: 'List all the commands in the configuration log', statistics: 'Show memory usage of the configuration log',
    first: 'Record number', last: 'Last record number',
  },
  pipe: true,
  handler(ctx, a) {
    const archive = mgmtOf(ctx).archive;
    if (a.has('statistics')) {
      const s = archive.statistics();
      ctx.data(s);
      ctx.print([
        'Config Log Session Info:',
        `        Number of sessions being tracked: ${s.sessions}`,
        `        Memory being held: ${s.bytesHeld} bytes`,
        `        Total memory allocated for session tracking: ${s.bytesAllocated} bytes`,
        `        Total memory freed from session tracking: ${s.bytesFreed} bytes`,
        '',
        'Config Log log-queue Info:',
        `        Number of entries in the log-queue: ${s.entries}`,
        `        Memory being held by the log-queue: ${s.bytesHeld} bytes`,
        `        Total memory allocated for log entries: ${s.bytesAllocated} bytes`,
        `        Total memory freed from log entries: ${s.bytesFreed} bytes`,
      ].join('\n'));
      return;
    }
    let entries = archive.log();
    if (!a.has('all')) {
      const first = a.num('first')!;
      const last = a.num('last') ?? first;
      entries = entries.filter((e) => e.idx >= first && e.idx <= last);
    }
    ctx.data(entries);
    ctx.print(logRows(entries));
  },
});

/** The text of `running-config`, `startup-config` or `flash:FILE` for a diff. */
async function configSource(ctx: CommandContext, name: string): Promise<string> {
  if (/^(system:)?running-config$/i.test(name)) return runningConfigText(ctx);
  if (/^(nvram:)?startup-config$/i.test(name)) {
    const text = await ctx.system.readStartup();
    if (text === undefined) throw new CliError('%Error opening nvram:startup-config (No such file or directory)');
    return text;
  }
  const file = flashFileName(name);
  const data = mgmtOf(ctx).flash.read(file);
  if (!data) throw new CliError(`%Error opening flash:${file} (No such file or directory)`);
  return data.toString('utf8');
}

defineCommand({
  modes: ['exec'],
  syntax: 'show archive config differences [WORD$a [WORD$b]]',
  help: { config: 'Show archive configuration', differences: 'Show differences between two configuration files', a: 'First file (default startup-config)', b: 'Second file (default running-config)' },
  pipe: true,
  async handler(ctx, a) {
    // IOS: no file compares startup-config with running-config; one file compares it with running-config
    const first = a.get('a') ?? 'startup-config';
    const second = a.get('b') ?? 'running-config';
    const diff = contextualDiff(await configSource(ctx, first), await configSource(ctx, second));
    ctx.data({ from: first, to: second, diff });
    ctx.print(['!Contextual Config Diffs:', ...(diff.length > 0 ? diff : ['!No changes were found'])].join('\n'));
  },
});
