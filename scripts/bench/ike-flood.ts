// IKEv1 setups per second under a Main Mode message 1 flood against the same without it, one
// Rampart daemon responder, same run (issue 20). The legitimate initiator is
// test/ikev1-interop/load-tool.ts (4 slots looping main mode + quick mode + DELETE); the flood
// (test/lib/ike-mm1-flood.ts) sends real first messages with fresh cookies from 64 source
// addresses at IKE_FLOOD_RATE per second (default 5000). Before the call admission work a
// flood like this locked every IKEv1 peer out (ratio 0).
//
//   ns i  ir0 10.81.1.11-14 ---- r0 10.81.1.1  ns r (Rampart daemon)
//   ns f  fr0 10.81.3.2-65  ---- r1 10.81.3.1
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { Lab, isRoot, projectRoot, type LabProcess } from '../../test/lib/netns.js';
import { rampartPairWithFlooder, startRampart, sleep } from '../../test/ikev1-interop/lab.js';
import { ikev1ResponderConfig, ikev1SetupLoad } from './lib/ikev1-bench-setup.js';

export const meta: BenchModuleMeta = { description: 'IKEv1 setups/s and ESP TCP throughput under a Main Mode flood vs without', needsRoot: true };

const PSK = 'rampart-ike-flood-bench-psk';
const SLOTS = [11, 12, 13, 14];
/** quiet/flooded measurement pairs per part (BENCH_IKE_FLOOD_ROUNDS) */
const ROUNDS = Math.max(1, Number(process.env.BENCH_IKE_FLOOD_ROUNDS ?? 2));
const FLOOD_SOURCES = Array.from({ length: 64 }, (_, i) => `10.81.3.${i + 2}`);

function lastJson(p: LabProcess, result: string): Record<string, unknown> | undefined {
  const lines = p.output.split('\n').filter((l) => l.startsWith('{'));
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const o = JSON.parse(lines[i]!) as Record<string, unknown>;
      if (o.result === result) return o;
    } catch { /* partial */ }
  }
  return undefined;
}

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

/** Host CPU load (1 min) for the log: the benches share two cores with other work. */
function loadAvg(): string {
  try { return readFileSync('/proc/loadavg', 'utf8').split(' ')[0]!; } catch { return '?'; }
}

async function waitDone(p: LabProcess, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (p.running && Date.now() < end) await sleep(100);
  if (p.running) await p.stop();
}

export async function run(ctx: BenchContext): Promise<void> {
  if (!isRoot()) {
    ctx.log('ike-flood: needs root; skipped');
    return;
  }
  const rate = Number(process.env.IKE_FLOOD_RATE ?? 5000);
  const lab = Lab.create('rbfl');
  try {
    for (const ns of ['i', 'r', 'f']) lab.addNamespace(ns);
    lab.addVeth({ ns: 'i', ifname: 'ir0', addr: '10.81.1.11/24' }, { ns: 'r', ifname: 'r0' });
    lab.addVeth({ ns: 'f', ifname: 'fr0', addr: `${FLOOD_SOURCES[0]}/24` }, { ns: 'r', ifname: 'r1', addr: '10.81.3.1/24' });
    for (const k of SLOTS.slice(1)) lab.addAddress('i', 'ir0', `10.81.1.${k}/24`);
    for (const a of FLOOD_SOURCES.slice(1)) lab.addAddress('f', 'fr0', `${a}/24`);
    lab.addRoute('f', '10.81.1.0/24', { gw: '10.81.3.1' });
    const box = await startRampart(lab, 'r', { 'FastEthernet0/0': 'r0' });
    try {
      // the flood's sources have a key too: their first messages are answered as a real peer's would be
      const out = await box.configure(ikev1ResponderConfig(PSK, SLOTS, ['10.81.3.0 255.255.255.0']));
      if (/\] %/.test(out)) ctx.log(`config: ${out}`);
      await sleep(1000);
      const base = ikev1SetupLoad(PSK, SLOTS.map((k) => `10.81.1.${k}`), '10.81.1.1', ctx.seconds * 1000);
      const setups = async (durationMs: number): Promise<Record<string, unknown>> => {
        const p = await lab.spawnNode('i', join(projectRoot(), 'test/ikev1-interop/load-tool.ts'), [JSON.stringify({ ...base, durationMs })], { name: 'ikev1-load' });
        await waitDone(p, durationMs + 20_000);
        const r = lastJson(p, 'setup');
        if (!r) throw new Error(`load tool gave no result: ${p.output.slice(-1500)}`);
        return r;
      };
      await setups(1000); // warm-up (JIT, first DH)
      // quiet and flooded phases alternate (ROUNDS pairs) so a change in the host's other load
      // hits both sides alike; the ratio is over the sums
      let q = 0;
      let l = 0;
      let floodSent = 0;
      let floodMs = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const cpu0 = cpuSeconds(box.proc.pid);
        const quiet = await setups(ctx.seconds * 1000);
        const cpu1 = cpuSeconds(box.proc.pid);
        // the flood starts a second early so the half-open table is full when the measurement starts
        const flood = await lab.spawnNode('f', join(projectRoot(), 'test/lib/ike-mm1-flood.ts'),
          [JSON.stringify({ sources: FLOOD_SOURCES, target: '10.81.1.1', ratePerSec: rate, durationMs: ctx.seconds * 1000 + 3000 })], { name: 'mm1-flood' });
        await sleep(1000);
        const cpu2 = cpuSeconds(box.proc.pid);
        const loud = await setups(ctx.seconds * 1000);
        const cpu3 = cpuSeconds(box.proc.pid);
        await waitDone(flood, 10_000);
        const f = lastJson(flood, 'flood');
        floodSent += Number(f?.sent ?? 0);
        floodMs += Number(f?.ms ?? 0);
        q += Number(quiet.perSec ?? 0) / ROUNDS;
        l += Number(loud.perSec ?? 0) / ROUNDS;
        ctx.log(`round ${round + 1} (load ${loadAvg()}): quiet ${JSON.stringify(quiet)}, daemon CPU ${(cpu1 - cpu0).toFixed(2)} s`);
        ctx.log(`round ${round + 1}: under flood ${JSON.stringify(loud)}, daemon CPU ${(cpu3 - cpu2).toFixed(2)} s; flood ${JSON.stringify(f)}`);
      }
      const adm = await box.exec('show crypto call admission statistics');
      ctx.log(adm);
      ctx.report('ikev1-setup-quiet', Math.round(q * 10) / 10, '/s');
      ctx.report('ikev1-setup-under-flood', Math.round(l * 10) / 10, '/s');
      ctx.report('ikev1-mm1-flood-rate', Math.round(floodSent / (Math.max(floodMs, 1) / 1000)), 'datagrams/s');
      if (q > 0) ctx.ratio('ikev1-setup-under-flood', Math.round((l / q) * 100) / 100);
      if (!box.proc.running) ctx.log('ike-flood: the Rampart daemon died!');
    } finally {
      box.con.close();
      await box.proc.stop(2000);
    }
  } finally {
    await lab.destroy();
  }
  await espUnderFlood(ctx, rate);
}

/**
 * ESP TCP throughput (iperf3 hostA -> hostB) through an IKEv1 tunnel between two Rampart
 * daemons, quiet and while the same Main Mode flood hits gwB from a namespace behind it.
 */
async function espUnderFlood(ctx: BenchContext, rate: number): Promise<void> {
  const teardowns: (() => unknown)[] = [];
  try {
    const { lab, gwB, sources } = await rampartPairWithFlooder({ teardown: (fn) => teardowns.push(fn) }, 'rbfe', PSK);
    await lab.exec('hostA', ['ping', '-n', '-q', '-c', '3', '-i', '0.2', '-W', '1', '10.2.0.2'], { timeoutMs: 10_000 });
    const tcp = async (): Promise<number> => {
      const server = lab.spawn('hostB', ['iperf3', '-s', '-1', '-B', '10.2.0.2'], { name: 'iperf3-s' });
      try {
        await sleep(500);
        const r = await lab.exec('hostA', ['iperf3', '-c', '10.2.0.2', '-t', String(ctx.seconds), '-J'], { timeoutMs: (ctx.seconds + 20) * 1000 });
        const j = JSON.parse(r.stdout) as { end?: { sum_received?: { bits_per_second?: number } } };
        return (j.end?.sum_received?.bits_per_second ?? 0) / 1e6;
      } catch (e) {
        ctx.log(`ike-flood: iperf3 failed: ${(e as Error).message.split('\n')[0]}`);
        return 0;
      } finally {
        await server.stop(500);
      }
    };
    let quiet = 0;
    let loud = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const cpu0 = cpuSeconds(gwB.proc.pid);
      const q = await tcp();
      const cpu1 = cpuSeconds(gwB.proc.pid);
      const flood = await lab.spawnNode('f', join(projectRoot(), 'test/lib/ike-mm1-flood.ts'),
        [JSON.stringify({ sources, target: '172.16.0.2', ratePerSec: rate, durationMs: ctx.seconds * 1000 + 3000 })], { name: 'mm1-flood-esp' });
      await sleep(1000);
      const cpu2 = cpuSeconds(gwB.proc.pid);
      const l = await tcp();
      const cpu3 = cpuSeconds(gwB.proc.pid);
      await waitDone(flood, 10_000);
      quiet += q / ROUNDS;
      loud += l / ROUNDS;
      ctx.log(`esp round ${round + 1} (load ${loadAvg()}): quiet ${Math.round(q)} Mbit/s (gwB CPU ${(cpu1 - cpu0).toFixed(2)} s), under flood ${Math.round(l)} Mbit/s (gwB CPU ${(cpu3 - cpu2).toFixed(2)} s)`);
    }
    ctx.log(await gwB.exec('show crypto call admission statistics'));
    ctx.report('esp-tcp-quiet', Math.round(quiet), 'Mbit/s');
    ctx.report('esp-tcp-under-ike-flood', Math.round(loud), 'Mbit/s');
    if (quiet > 0) ctx.ratio('esp-under-ike-flood', Math.round((loud / quiet) * 100) / 100);
    if (!gwB.proc.running) ctx.log('ike-flood: gwB died!');
  } finally {
    for (const fn of teardowns.reverse()) await fn();
  }
}
