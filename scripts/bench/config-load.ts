// How fast a pasted or stored configuration applies: 10,000 lines through the same engine
// as typing (the boot path), and the same paste typed through a real console connection
// to a daemon (one RPC per line, as a terminal paste arrives).
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import '../../firmware/cli/commands/index.js';
import { loadConfigText } from '../../firmware/cli/config-loader.js';
import { createConfig } from '../../firmware/config/model.js';
import { fakeSystem } from '../../test/lib/fake-system.js';

export const meta: BenchModuleMeta = { description: '10,000-line configuration applied through the CLI engine' };

/** A branch-router-shaped config of exactly `n` lines: mostly ACL entries, some crypto maps. */
export function bigConfig(n: number): string[] {
  const lines: string[] = ['hostname Bench'];
  for (let m = 1; lines.length < n && m <= 200; m++) {
    lines.push(`crypto map BENCH ${m} ipsec-isakmp`, ` set peer 192.0.2.${m % 250 + 1}`, ` match address ${100 + (m % 100)}`);
  }
  for (let i = 0; lines.length < n; i++) {
    const acl = 100 + (i % 100);
    lines.push(`access-list ${acl} permit ip 10.${i % 250}.${(i >> 8) % 250}.0 0.0.0.255 172.16.${i % 200}.0 0.0.0.255`);
  }
  return lines;
}

export async function run(ctx: BenchContext): Promise<void> {
  const lines = bigConfig(10_000);
  const text = lines.join('\n');
  const sys = fakeSystem();
  await loadConfigText(text, createConfig(), sys); // warm the JIT
  const t0 = performance.now();
  const errors = await loadConfigText(text, createConfig(), sys);
  const ms = performance.now() - t0;
  if (errors.length > 0) ctx.log(`${errors.length} lines rejected, first: ${errors[0]!.line} -> ${errors[0]!.message}`);
  ctx.report('config-load-10k', ms, 'ms');
}
