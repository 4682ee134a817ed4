// Dynamic VTI sessions per second with 200 simulated spokes (test/vti/dvti-load.ts: the IKEv1
// load tool, one address and one /32 proxy per spoke, main mode + quick mode each) against a
// Rampart hub whose ISAKMP profile names `virtual-template 1`: every session clones its own
// Virtual-Access interface (TUN device, route to the spoke's proxy). All 200 start at once and
// stay up; prints `bench dvti-setup` (sessions brought up per second, until the last is up),
// `bench dvti-rss-200` (the daemon's RSS with the 200 Virtual-Access interfaces up) and
// `bench dvti-rss-idle` (before), then the spokes leave.
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { join } from 'node:path';
import { Lab, isRoot, projectRoot } from '../../test/lib/netns.js';
import { startRampart } from '../../test/ikev1-interop/lab.js';
import { dvtiHubConfig, dvtiLoad, dvtiLoadLab, jsonOf } from '../../test/vti/dvti-load.js';

export const meta: BenchModuleMeta = { description: 'dynamic VTI sessions/s with 200 spokes and the hub\'s RSS with 200 Virtual-Access interfaces', needsRoot: true };

const NET = '10.86';
const SPOKES = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(ctx: BenchContext): Promise<void> {
  if (!isRoot()) { ctx.log('dvti-setup: needs root; skipped'); return; }
  const lab = Lab.create('rbdvti');
  try {
    const locals = dvtiLoadLab(lab, NET, SPOKES);
    const hub = await startRampart(lab, 'r', { 'FastEthernet0/0': 'r0' });
    try {
      const out = await hub.configure(dvtiHubConfig(NET));
      if (/\] %/.test(out)) ctx.log(`config: ${out}`);
      await sleep(1000);
      const rssMb = async (): Promise<number> => {
        const mem = jsonOf(await hub.exec('show processes memory | json')) as { processes: { name: string; holding: number }[] };
        return (mem.processes.find((p) => p.name.includes('(rampart daemon)'))?.holding ?? 0) / 1048576;
      };
      const idle = await rssMb();
      const tool = await lab.spawnNode('i', join(projectRoot(), 'test/ikev1-interop/load-tool.ts'),
        [JSON.stringify(dvtiLoad(locals, `${NET}.1.1`, { durationMs: 120_000, holdMs: 5000 }))], { name: 'dvti-load' });
      const deadline = Date.now() + 150_000;
      while (tool.running && !/"held"/.test(tool.output) && Date.now() < deadline) await sleep(100);
      const held = /\{"held":(\d+)\}/.exec(tool.output);
      const vas = (await hub.exec('show vtemplate')).match(/^Virtual-Access\d+/gm)?.length ?? 0;
      const rss = await rssMb();
      while (tool.running && Date.now() < deadline) await sleep(100);
      if (tool.running) await tool.stop();
      const result = tool.output.split('\n').filter((l) => l.startsWith('{"result"')).pop();
      ctx.log(`load tool: ${result ?? tool.output.slice(-800)}; held ${held?.[1] ?? '?'}; Virtual-Access interfaces on the hub: ${vas}`);
      ctx.log(`hub: ${(await hub.exec('show crypto call admission statistics')).trim()}`);
      if (process.env.DVTI_BENCH_DEBUG) ctx.log(`hub log:\n${hub.proc.output.slice(-6000)}`);
      const r = result ? JSON.parse(result) as { done: number; failed: number; perSec: number } : undefined;
      if (!r) return;
      ctx.report('dvti-setup', Math.round(r.perSec * 10) / 10, '/s');
      ctx.report('dvti-rss-idle', Math.round(idle), 'MB');
      ctx.report(`dvti-rss-${vas}`, Math.round(rss), 'MB');
      if (r.failed > 0) ctx.log(`failed sessions: ${r.failed}`);
      if (!hub.proc.running) ctx.log('dvti-setup: the Rampart daemon died!');
    } finally {
      hub.con.close();
      await hub.proc.stop(2000);
    }
  } finally {
    await lab.destroy();
  }
}
