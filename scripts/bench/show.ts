// `show crypto ipsec sa` on a box with 1,000 SAs (500 child SA pairs on one crypto map, one
// flow each): how long the command holds the daemon's event loop (and so its packet path),
// from the runtime view to the printed text. The ratio compares with 100 times the cost at
// 10 SAs: 1.00 means the cost grows linearly with the SAs, less means worse than linear.
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { randomBytes } from 'node:crypto';
import '../../firmware/cli/commands/index.js';
import { formatIpsecSa } from '../../firmware/cli/commands/crypto-ipsec-sa.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import { createConfig } from '../../firmware/config/model.js';
import { DataplaneService } from '../../firmware/daemon/dataplane-service.js';
import type { ServiceContext } from '../../firmware/daemon/daemon.js';
import { BindRegistry } from '../../firmware/dataplane/bind-registry.js';
import { makeSelector, prefixAddr } from '../../firmware/ipsec/selector.js';
import { busMembers } from '../../firmware/lib/event-bus.js';
import { simBoard } from '../../board/sim.js';
import { fakeSystem } from '../../test/lib/fake-system.js';
import { RuntimeRegistry } from '../../firmware/daemon/runtime-view.js';

export const meta: BenchModuleMeta = { description: 'show crypto ipsec sa with 1,000 SAs (time the daemon is busy)' };

const CONFIG = [
  'configure terminal',
  'crypto ipsec transform-set TS esp-aes 256 esp-sha-hmac', 'exit',
  'access-list 101 permit ip 10.0.0.0 0.255.255.255 10.0.0.0 0.255.255.255',
  'crypto map CM 10 ipsec-isakmp', ' set peer 172.16.0.2', ' set transform-set TS', ' match address 101', 'exit',
  'interface FastEthernet0/0', ' ip address 172.16.0.1 255.255.255.0', ' crypto map CM', 'exit',
  'end',
];

/** A box with `pairs` child SA pairs installed; returns a function timing one show command. */
async function boxWith(pairs: number): Promise<{ view(): { viewMs: number; formatMs: number; chars: number }; time(cmd: string): Promise<{ ms: number; chars: number }>; stop(): Promise<void> }> {
  const cfg = createConfig();
  const sys = fakeSystem();
  const svc = new DataplaneService({ userspace: false, detect: false, io: { sendOuter: () => true, deliverInner: () => true } });
  const ctx: ServiceContext = {
    board: simBoard({ portMap: {} }), system: sys, config: () => cfg, runtime: new RuntimeRegistry(sys.runtime), log: () => {}, ...busMembers(),
    binds: new BindRegistry(async () => { throw new Error('no sockets in the bench'); }),
    service: () => undefined,
  };
  await svc.start(ctx);
  await runTranscript(CONFIG, { config: cfg, system: sys, privileged: true });
  svc.apply(cfg);
  for (let i = 0; i < pairs; i++) {
    const scope = makeSelector(prefixAddr(`10.1.${i >> 8}.${i & 255}`, 32), prefixAddr(`10.2.${i >> 8}.${i & 255}`, 32));
    const keys = (spi: number) => ({ espSpi: spi, espCipherKey: randomBytes(32), espAuthKey: randomBytes(20) });
    svc.installChildSa({
      mapName: 'CM', mapSeq: 10, policyKey: svc.policyKeyFor('CM', 10, scope), scope, local: '172.16.0.1', peer: '172.16.0.2',
      transformWords: ['esp-aes', '256', 'esp-sha-hmac'], mode: 'tunnel',
      inbound: keys(svc.allocateSpi('esp')), outbound: keys(0x10000 + i), lifetime: { seconds: 3600, kilobytes: 4608000 },
      childId: i + 1, ...(i % 2 === 0 ? { pfsGroup: 14 } : {}),
    });
  }
  return {
    view: () => {
      const t0 = performance.now();
      const v = sys.runtime.ipsecSas?.() ?? [];
      const t1 = performance.now();
      const text = formatIpsecSa(v, false);
      return { viewMs: t1 - t0, formatMs: performance.now() - t1, chars: text.length };
    },
    async time(cmd) {
      const t0 = performance.now();
      const { text } = await runTranscript([cmd], { config: cfg, system: sys, privileged: true });
      return { ms: performance.now() - t0, chars: text.length };
    },
    stop: () => svc.stop(),
  };
}

async function median(box: Awaited<ReturnType<typeof boxWith>>, cmd: string, runs: number): Promise<{ ms: number; chars: number }> {
  await box.time(cmd); // JIT warm-up
  const all: { ms: number; chars: number }[] = [];
  for (let i = 0; i < runs; i++) all.push(await box.time(cmd));
  all.sort((a, b) => a.ms - b.ms);
  return all[Math.floor(all.length / 2)]!;
}

export async function run(ctx: BenchContext): Promise<void> {
  const big = await boxWith(500);
  const small = await boxWith(5);
  try {
    const sa = await median(big, 'show crypto ipsec sa', 7);
    ctx.report('show-ipsec-sa-1000', sa.ms, 'ms');
    big.view();
    const parts = big.view();
    ctx.log(`show crypto ipsec sa: ${sa.chars} characters for 1,000 SAs; runtime view ${parts.viewMs.toFixed(1)} ms, text ${parts.formatMs.toFixed(1)} ms, the rest is the session (filters, paging)`);
    const detail = await median(big, 'show crypto ipsec sa detail', 7);
    ctx.report('show-ipsec-sa-detail-1000', detail.ms, 'ms');
    const few = await median(small, 'show crypto ipsec sa', 21);
    ctx.report('show-ipsec-sa-10', few.ms, 'ms');
    ctx.ratio('show-ipsec-sa-1000-vs-100x10', (few.ms * 100) / sa.ms);
  } finally {
    await big.stop();
    await small.stop();
  }
}
