// How fast a one-entry change reaches the runtime on a box with 1,000 crypto map entries:
// the daemon compiles the configuration into its intent, diffs it by revision stamps and
// hands the services add/modify/remove changes (`bench config-apply-1000-maps`), against
// a full re-apply of the same box in the same run (every service rebuilds everything).
// The box runs in-process with the default services and no packet I/O (no root needed).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { simBoard } from '../../board/sim.js';
import { Daemon } from '../../firmware/daemon/daemon.js';
import { ScriptedConsole } from '../../test/lib/daemon-client.js';
import { manyMapEntriesConfig } from '../../test/lib/ios-config.js';

export const meta: BenchModuleMeta = { description: 'one-entry change applied as a diff on a box with 1,000 crypto map entries, against a full re-apply' };

const ENTRIES = 1000;
const ROUNDS = 15;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function run(ctx: BenchContext): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-bench-apply-'));
  mkdirSync(join(dir, 'nvram'), { recursive: true });
  writeFileSync(join(dir, 'nvram', 'startup-config'), `${manyMapEntriesConfig(ENTRIES, '127.88.0.1').join('\n')}\n`);
  const d = new Daemon({ board: simBoard({ stateDir: dir }), socketPath: join(dir, 'run', 'rampart.sock'), sshPort: 0 });
  let con: ScriptedConsole | undefined;
  try {
    await d.start();
    con = await ScriptedConsole.open(join(dir, 'run', 'rampart.sock'));
    await con.run('enable');
    await con.run('configure terminal');
    const boot = await con.waitApplied(120_000);
    if (boot.failures.length > 0) ctx.log('boot apply failures:', boot.failures);
    const diffMs: number[] = [];
    const fullMs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      // one entry's peer changes: one 'modify' for the services
      await con.run(`crypto map BIG ${1 + (i * 37) % ENTRIES} ipsec-isakmp`);
      const before = await con.waitApplied(60_000);
      await con.run(` set peer 198.51.100.${1 + (i % 200)}`);
      const st = await con.waitApplied(60_000);
      // the daemon's own measure: compile, diff and every service's apply (not the CLI command)
      diffMs.push(st.changes?.lastMs ?? NaN);
      await con.run('exit');
      if (st.changes && before.changes && (st.changes.lastFull || st.changes.modified - before.changes.modified !== 1)) ctx.log('expected one modified entry, got', st.changes);
      if (st.failures.length > 0) ctx.log('apply failures:', st.failures);
      fullMs.push((await d.reapplyFull()).changes.lastMs);
    }
    // the first rounds warm the JIT: the median of all is the figure
    ctx.log('diff', diffMs.map((x) => x.toFixed(1)).join(' '));
    ctx.log('full', fullMs.map((x) => x.toFixed(1)).join(' '));
    const diff = median(diffMs);
    const full = median(fullMs);
    ctx.report('config-apply-1000-maps', diff, 'ms');
    ctx.report('config-full-apply-1000-maps', full, 'ms');
    ctx.ratio('config-diff-vs-full', full / diff);
  } finally {
    con?.close();
    await d.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
