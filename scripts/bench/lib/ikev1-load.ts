// Runs the IKEv1 load tool (test/ikev1-interop/load-tool.ts) in a lab namespace and returns
// its result line: the initiator side shared by the IKEv1 setup benches.
import { join } from 'node:path';
import { projectRoot, type Lab, type LabProcess } from '../../../test/lib/netns.js';
import type { LoadToolConfig } from '../../../test/ikev1-interop/load-tool.js';

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
  const p = await lab.spawnNode(ns, join(projectRoot(), 'test/ikev1-interop/load-tool.ts'), [JSON.stringify(cfg)], { name: 'ikev1-load' });
  const end = Date.now() + cfg.durationMs + 20_000;
  while (p.running && Date.now() < end) await sleep(100);
  if (p.running) await p.stop();
  const r = lastJson(p);
  if (!r || r.result !== 'setup') throw new Error(`load tool gave no result: ${p.output.slice(-1500)}`);
  return r;
}
