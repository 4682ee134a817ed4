// Runs the IKEv1 load tool (test/ikev1-interop/load-tool.ts) in a lab namespace and returns
// its result line: the initiator side shared by the IKEv1 setup benches.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleForNode, projectRoot, type Lab, type LabProcess } from '../../../test/lib/netns.js';
import type { LoadToolConfig } from '../../../test/ikev1-interop/load-tool.js';
import { startRampart } from '../../../test/ikev1-interop/lab.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function lastJson(p: LabProcess): Record<string, unknown> | undefined {
  const lines = p.output.split('\n').filter((l) => l.startsWith('{'));
  for (let i = lines.length - 1; i >= 0; i--) {
    try { return JSON.parse(lines[i]!) as Record<string, unknown>; } catch { /* partial */ }
  }
  return undefined;
}

/** Spawns the tool in namespace `ns`, waits (bounded by its duration + 20 s), returns `{ done, failed, perSec, ms }`. */
export async function runIkev1LoadTool(lab: Lab, ns: string, cfg: LoadToolConfig): Promise<Record<string, unknown>> {
  // RAMPART_BENCH_TOOL_NODE_FLAGS (e.g. --cpu-prof --cpu-prof-dir=DIR) profiles the load tool
  const flags = (process.env.RAMPART_BENCH_TOOL_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const entry = join(projectRoot(), 'test/ikev1-interop/load-tool.ts');
  const p = flags.length === 0 ? await lab.spawnNode(ns, entry, [JSON.stringify(cfg)], { name: 'ikev1-load' })
    : lab.spawn(ns, [process.execPath, ...flags, await bundleForNode(entry), JSON.stringify(cfg)], { name: 'ikev1-load' });
  const end = Date.now() + cfg.durationMs + 20_000;
  while (p.running && Date.now() < end) await sleep(100);
  if (p.running) await p.stop();
  const r = lastJson(p);
  if (!r || r.result !== 'setup') throw new Error(`load tool gave no result: ${p.output.slice(-1500)}`);
  return r;
}

/** CPU time (user + system, ms) of the processes now in a lab namespace (/proc/PID/stat, 100 ticks/s). */
function namespaceCpuMs(lab: Lab, ns: string): number {
  const pids = spawnSync('ip', ['netns', 'pids', lab.nsName(ns)], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean);
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
      if (process.env.RAMPART_BENCH_CPU_DETAIL) console.log(`# cpu ${ns} ${pid} ${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))} user ${Number(f[11]) * 10} sys ${Number(f[12]) * 10}`);
    } catch { /* exited */ }
  }
  return ticks * 10;
}

/**
 * The IKEv1 setup benches' topology: initiator namespace `i` with `slots` addresses on each
 * of two links, `${net}.1.0/24` to the Rampart namespace `r` (port r0, addressed by its CLI)
 * and `${net}.2.0/24` to the strongSwan namespace `s` (s0 = `${net}.2.1`, LAN 192.168.42.1/24).
 */
export function ikev1BenchLab(lab: Lab, net: string, slots: readonly number[]): void {
  for (const ns of ['i', 'r', 's']) lab.addNamespace(ns);
  lab.addVeth({ ns: 'i', ifname: 'ir0', addr: `${net}.1.${slots[0]}/24` }, { ns: 'r', ifname: 'r0' });
  lab.addVeth({ ns: 'i', ifname: 'is0', addr: `${net}.2.${slots[0]}/24` }, { ns: 's', ifname: 's0', addr: `${net}.2.1/24` });
  for (const k of slots.slice(1)) {
    lab.addAddress('i', 'ir0', `${net}.1.${k}/24`);
    lab.addAddress('i', 'is0', `${net}.2.${k}/24`);
  }
  lab.addAddress('s', 'lo', '192.168.42.1/24');
}

export interface BenchReporter {
  report(name: string, value: number, unit: string): void;
  ratio(name: string, value: number): void;
  log(...msg: unknown[]): void;
}

/**
 * Same load against the Rampart responder (`${net}.1.1`) and the strongSwan one (`${net}.2.1`):
 * a 1 s warm-up each, then the measured runs; reports `NAME-rampart`, `NAME-strongswan` and
 * `ratio NAME-vs-strongswan`.
 */
export async function compareIkev1Setups(ctx: BenchReporter, lab: Lab, name: string, net: string, slots: readonly number[],
  load: (locals: string[], remote: string, durationMs: number) => LoadToolConfig, seconds: number): Promise<void> {
  const rLocals = slots.map((k) => `${net}.1.${k}`);
  const sLocals = slots.map((k) => `${net}.2.${k}`);
  await runIkev1LoadTool(lab, 'i', load(rLocals, `${net}.1.1`, 1000));
  await runIkev1LoadTool(lab, 'i', load(sLocals, `${net}.2.1`, 1000));
  const r0 = namespaceCpuMs(lab, 'r');
  const r = await runIkev1LoadTool(lab, 'i', load(rLocals, `${net}.1.1`, seconds * 1000));
  const r1 = namespaceCpuMs(lab, 'r');
  const s0 = namespaceCpuMs(lab, 's');
  const s = await runIkev1LoadTool(lab, 'i', load(sLocals, `${net}.2.1`, seconds * 1000));
  const s1 = namespaceCpuMs(lab, 's');
  ctx.log(`rampart: ${JSON.stringify(r)}`);
  ctx.log(`strongswan: ${JSON.stringify(s)}`);
  // CPU time (user + system) per setup: each hub's processes, and the load tool in each run
  const per = (ms: number, res: Record<string, unknown>): string => (Number(res.done) > 0 ? (ms / Number(res.done)).toFixed(2) : '?');
  ctx.log(`cpu per setup (ms): rampart hub ${per(r1 - r0, r)}, load tool ${per(Number(r.cpuMs ?? 0), r)}; strongswan hub ${per(s1 - s0, s)}, load tool ${per(Number(s.cpuMs ?? 0), s)}`);
  ctx.log(`load average: ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
  const rRate = Number(r.perSec ?? 0);
  const sRate = Number(s.perSec ?? 0);
  ctx.report(`${name}-rampart`, Math.round(rRate * 10) / 10, '/s');
  ctx.report(`${name}-strongswan`, Math.round(sRate * 10) / 10, '/s');
  if (sRate > 0) ctx.ratio(`${name}-vs-strongswan`, Math.round((rRate / sRate) * 100) / 100);
  if (Number(r.failed ?? 0) > 0 || Number(s.failed ?? 0) > 0) ctx.log(`failed setups: rampart ${String(r.failed)}, strongswan ${String(s.failed)}`);
}

/**
 * The body both IKEv1 setup benches share: a Rampart responder in namespace 'r' configured
 * with `config`, measured against the strongSwan responder already loaded in 's'; both are
 * stopped afterwards.
 */
export async function benchRampartAgainstSwan(ctx: BenchReporter, lab: Lab, swan: { stop(): Promise<void> }, name: string, net: string,
  slots: readonly number[], config: readonly string[], load: (locals: string[], remote: string, durationMs: number) => LoadToolConfig,
  seconds: number): Promise<void> {
  // no stderr trace (RAMPART_DEBUG), as the strongSwan anchor runs with its logs at level 0;
  // RAMPART_BENCH_NODE_FLAGS (e.g. --cpu-prof --cpu-prof-dir=DIR) profiles the daemon
  const nodeFlags = (process.env.RAMPART_BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const box = await startRampart(lab, 'r', { 'FastEthernet0/0': 'r0' }, { env: { RAMPART_DEBUG: '' }, nodeFlags });
  try {
    const out = await box.configure(config);
    if (/\] %/.test(out)) ctx.log(`config: ${out}`);
    await sleep(1000);
    await compareIkev1Setups(ctx, lab, name, net, slots, load, seconds);
    // the responder's IKE intake (budget waits: first messages held back by the CPU budget)
    for (const l of (await box.exec('show crypto call admission statistics')).split('\n')) if (/intake/i.test(l)) ctx.log(l.trim());
    if (!box.proc.running) ctx.log(`${name}: the Rampart daemon died!`);
  } finally {
    box.con.close();
    await box.proc.stop(2000);
    await swan.stop();
  }
}
