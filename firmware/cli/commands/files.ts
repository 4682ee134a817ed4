// Files on flash: `dir [flash:]`, `show flash:`, `delete`, `copy` between flash files and
// from running-config, `copy flash:FILE scp://user@host/path`, `more flash:FILE`,
// `verify /sha256|/md5 flash:FILE`.
import { createHash } from 'node:crypto';
import { CliError, type CommandContext } from '../context.js';
import type { FlashFiles } from '../mgmt-view.js';
import { defineCommand } from '../registry.js';
import { isConfirm, runningConfigText } from './exec.js';
import { mgmtOf } from './ssh.js';

const PRIV = ['exec'];

function flash(ctx: CommandContext): FlashFiles {
  return mgmtOf(ctx).flash;
}

/** `flash:NAME`, `flash:/NAME` or `NAME` -> NAME. */
export function flashFileName(text: string): string {
  const m = /^(?:flash:)?\/?(.+)$/i.exec(text);
  const name = m?.[1] ?? '';
  if (!/^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$/.test(name) || name.includes('..')) throw new CliError(`%Error opening flash:${name} (Invalid argument)`);
  return name;
}

function fileArg(_ctx: CommandContext, text: string): string {
  return flashFileName(text);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function dirTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2)} ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +00:00`;
}

function listing(ctx: CommandContext): void {
  const fl = flash(ctx);
  const files = fl.list();
  const space = fl.space();
  ctx.data({ files, ...space });
  const rows = files.map((f, i) => `${String(i + 1).padStart(5)}  -rw-  ${String(f.size).padStart(10)}  ${dirTime(f.mtimeMs)}  ${f.name}`);
  ctx.print(['Directory of flash:/', '', ...(rows.length > 0 ? rows : ['No files in directory']), '', `${space.total} bytes total (${space.free} bytes free)`].join('\n'));
}

defineCommand({
  modes: PRIV,
  syntax: ['dir [flash:]'],
  help: { dir: 'List files on a filesystem', 'flash:': 'Directory or file name' },
  pipe: true,
  handler: listing,
});

defineCommand({
  modes: PRIV,
  syntax: ['show flash:', 'show flash'],
  help: { 'flash:': 'display information about flash: file system', flash: 'display information about flash: file system' },
  pipe: true,
  handler: listing,
});

defineCommand({
  modes: PRIV,
  syntax: 'delete [/force] WORD$file',
  help: { delete: 'Delete a file', '/force': 'Force delete', file: 'File to be deleted (flash:NAME)' },
  async handler(ctx, a) {
    const name = fileArg(ctx, a.req('file'));
    if (!a.has('/force')) {
      const answer = (await ctx.ask(`Delete filename [${name}]? `)).trim();
      if (answer !== '' && fileArg(ctx, answer) !== name) return;
      if (!isConfirm(await ctx.ask(`Delete flash:/${name}? [confirm]`))) return;
    }
    if (!flash(ctx).remove(name)) throw new CliError(`%Error deleting flash:/${name} (No such file or directory)`);
  },
});

defineCommand({
  modes: PRIV,
  syntax: 'more WORD$file',
  help: { more: 'Display the contents of a file', file: 'File to display (flash:NAME)' },
  pipe: true,
  handler(ctx, a) {
    const name = fileArg(ctx, a.req('file'));
    const data = flash(ctx).read(name);
    if (!data) throw new CliError(`%Error opening flash:${name} (No such file or directory)`);
    ctx.print(data.toString('utf8').replace(/\n$/, ''));
  },
});

defineCommand({
  modes: PRIV,
  syntax: 'verify </sha256|/sha512|/md5> WORD$file [WORD$expected]',
  help: { verify: 'Verify a file', '/sha256': 'SHA-256 signature', '/sha512': 'SHA-512 signature', '/md5': 'MD5 signature', file: 'File to verify (flash:NAME)', expected: 'Expected digest (hex)' },
  handler(ctx, a) {
    const alg = a.has('/md5') ? 'md5' : a.has('/sha512') ? 'sha512' : 'sha256';
    const name = fileArg(ctx, a.req('file'));
    const data = flash(ctx).read(name);
    if (!data) throw new CliError(`%Error opening flash:${name} (No such file or directory)`);
    const digest = createHash(alg).update(data).digest('hex');
    ctx.data({ file: name, algorithm: alg, digest });
    ctx.print(`${'.'.repeat(Math.min(60, Math.ceil(data.length / 65536)))}Done!\nverify /${alg} (flash:${name}) = ${digest}`);
    const expected = a.get('expected');
    if (expected !== undefined) {
      if (expected.toLowerCase() === digest) ctx.print('\nVerified');
      else throw new CliError(`\n%Error verifying flash:${name}\nComputed signature ${digest}\nSubmitted signature ${expected.toLowerCase()}`);
    }
  },
});

/** `scp://user@host[:port]/path` */
function parseScpUrl(url: string): { user?: string; host: string; port: number; path: string } | undefined {
  const m = /^scp:\/\/(?:([^@/]+)@)?([^/:]+)(?::(\d+))?\/(.*)$/i.exec(url);
  if (!m) return undefined;
  return { user: m[1], host: m[2]!, port: Number(m[3] ?? 22), path: m[4]! };
}

defineCommand({
  modes: PRIV,
  syntax: 'copy WORD$from WORD$to',
  help: { copy: 'Copy from one file to another', from: 'Source: flash:FILE or running-config', to: 'Destination: flash:FILE or scp://user@host/path' },
  async handler(ctx, a) {
    const from = a.req('from'), to = a.req('to');
    const fl = flash(ctx);
    let data: Buffer;
    if (/^(system:)?running-config$/i.test(from)) {
      data = Buffer.from(runningConfigText(ctx));
    } else if (/^(nvram:)?startup-config$/i.test(from)) {
      const text = await ctx.system.readStartup();
      if (text === undefined) throw new CliError('%Error opening nvram:startup-config (No such file or directory)');
      data = Buffer.from(text);
    } else {
      const name = fileArg(ctx, from);
      const d = fl.read(name);
      if (!d) throw new CliError(`%Error opening flash:${name} (No such file or directory)`);
      data = d;
    }
    const scp = parseScpUrl(to);
    if (scp) {
      const host = (await ctx.ask(`Address or name of remote host [${scp.host}]? `)).trim() || scp.host;
      const user = (await ctx.ask(`Destination username [${scp.user ?? ''}]? `)).trim() || scp.user;
      const path = (await ctx.ask(`Destination filename [${scp.path}]? `)).trim() || scp.path;
      if (!user) throw new CliError('%Error: no username');
      const password = await ctx.ask('Password: ', { echo: false });
      ctx.print('Writing ' + path + ' ');
      const t0 = ctx.system.now();
      try {
        const n = await mgmtOf(ctx).scpPut(data, { user, host, port: scp.port, path, password });
        ctx.print(`!\n${n} bytes copied in ${((ctx.system.now() - t0) / 1000).toFixed(3)} secs`);
      } catch (err) {
        throw new CliError(`%Error writing scp://${host}/${path} (${(err as Error).message})`);
      }
      return;
    }
    if (/^(nvram:)?startup-config$/i.test(to)) throw new CliError('% Use `copy running-config startup-config`');
    const dest = fileArg(ctx, to);
    const answer = (await ctx.ask(`Destination filename [${dest}]? `)).trim();
    const target = answer === '' ? dest : fileArg(ctx, answer);
    if (fl.stat(target) && !isConfirm(await ctx.ask(`%Warning:There is a file already existing with this name\nDo you want to over write? [confirm]`))) return;
    const t0 = ctx.system.now();
    fl.write(target, data);
    ctx.print(`${data.length} bytes copied in ${((ctx.system.now() - t0) / 1000).toFixed(3)} secs`);
  },
});

defineCommand({
  modes: PRIV,
  syntax: 'configure terminal revert timer (1-120)$min',
  help: { revert: 'Parameters for reverting the configuration', timer: 'Time before reverting', min: 'Minutes before the configuration reverts' },
  handler(ctx, a) {
    const lock = ctx.system.configLock?.enter({ id: ctx.session.id, user: ctx.session.user, line: ctx.session.line }, false);
    if (lock?.refused) throw new CliError(lock.refused);
    // The daemon keeps the first snapshot while a timer is pending (re-arming only moves the time).
    mgmtOf(ctx).armRevert(runningConfigText(ctx), a.num('min')!);
    ctx.print('Rollback Confirmed Change timer is set.\nEnter configuration commands, one per line.  End with CNTL/Z.');
    ctx.enter('config');
  },
});

defineCommand({
  modes: PRIV,
  syntax: 'configure confirm',
  help: { confirm: 'Confirm replacement of running-config with a new config file' },
  handler(ctx) {
    if (!mgmtOf(ctx).confirmRevert()) throw new CliError('% No Rollback Confirmed Change pending');
  },
});

defineCommand({
  modes: PRIV,
  syntax: 'configure replace WORD$file [nolock] [list] [force] [revert trigger [error] timer (1-120)$min]',
  help: {
    replace: 'Replace the running-config with a new config file', file: 'Configuration file (flash:NAME)',
    list: 'List the command lines applied', force: 'Replace without asking', nolock: 'Do not lock the running configuration during configure replace',
    revert: 'Parameters for reverting the configuration', trigger: 'Set the trigger for reverting the configuration',
    error: 'Revert when an error occurs', timer: 'Time before reverting', min: 'Minutes before the configuration reverts',
  },
  async handler(ctx, a) {
    const name = fileArg(ctx, a.req('file'));
    const data = flash(ctx).read(name);
    if (!data) throw new CliError(`%Error opening flash:${name} (No such file or directory)`);
    if (!a.has('force')) {
      const answer = await ctx.ask('This will apply all necessary additions and deletions\nto replace the current running configuration with the\ncontents of the specified configuration file, which is\nassumed to be a complete configuration, not a partial\nconfiguration. Enter Y if you are sure you want to proceed. ? [no]: ');
      if (!/^y(es)?$/i.test(answer.trim())) return;
    }
    const mgmt = mgmtOf(ctx);
    // `revert trigger timer`: the configuration as it is now comes back unless `configure confirm`
    if (a.has('revert')) mgmt.armRevert(runningConfigText(ctx), a.num('min')!);
    // Loaded into a fresh model first: a file with a failing line leaves the running config as it was.
    const r = await mgmt.replaceRunning(data.toString('utf8'), false, a.has('nolock') ? undefined : { id: ctx.session.id, user: ctx.session.user, line: ctx.session.line });
    if (r.refused) throw new CliError(r.refused);
    if (r.failed.length > 0) throw new CliError(`%Error: configure replace failed, the running configuration is unchanged:\n${r.failed.join('\n')}`);
    ctx.data({ passes: r.passes, done: r.done });
    const out: string[] = [];
    if (a.has('list')) {
      // IOS lists each pass's commands (the `exit`s between sub-modes are ours, not listed)
      r.passes.forEach((cmds, i) => out.push(`!Pass ${i + 1}`, '', '!List of Commands:', ...cmds.filter((l) => l.trim() !== 'exit'), 'end', ''));
    }
    out.push(`Total number of passes: ${Math.max(1, r.passes.length)}`, 'Rollback Done');
    if (a.has('revert')) out.push('', 'Rollback Confirmed Change timer is set.');
    ctx.print(out.join('\n'));
  },
});
