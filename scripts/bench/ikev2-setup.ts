// IKEv2 setups per second (IKE_SA_INIT + IKE_AUTH with the first Child SA, PSK,
// aes256-sha256-modp2048 + esp aes256gcm16) against a Rampart daemon responder and a strongSwan
// 5.9 responder, same initiator (our engine, test/ikev2-interop/load-tool.ts), same run; then
// the Rampart responder under a flood of IKE_SA_INIT from 64 source addresses that never
// continue (cookies on above 50 half-open SAs) while the legitimate initiator keeps connecting.
//
//   ns i (initiator, flooder) ir0 10.80.1.2 ---- r0 10.80.1.1 ns r (Rampart daemon)
//                             is0 10.80.2.2 ---- s0 10.80.2.1 ns s (strongSwan)
//   flood sources 10.80.3.1-64 on ir0 (r routes 10.80.3.0/24 back via 10.80.1.2)
import { join } from 'node:path';
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { Lab, isRoot, projectRoot, type LabProcess } from '../../test/lib/netns.js';
import { StrongswanPeer, haveStrongswan } from '../../test/lib/strongswan.js';
import { rampartIkev2Config, startRampart, sleep, waitUntil } from '../../test/ikev2-interop/harness.js';
import type { LoadToolConfig } from '../../test/ikev2-interop/load-tool.js';

export const meta: BenchModuleMeta = { description: 'IKEv2 setups/s: Rampart vs strongSwan responder; responder under an IKE_SA_INIT flood', needsRoot: true };

const PSK = 'rampart-ikev2-bench-psk';
const SUITE = { ike: [{ encryption: ['aes-cbc-256' as const], integrity: ['sha256' as const], dhGroups: [14] }], esp: [{ encryption: ['aes-gcm-256' as const] }] };

function lastJson(p: LabProcess, key: string): Record<string, unknown> | undefined {
  const lines = p.output.split('\n').filter((l) => l.startsWith('{'));
  for (let i = lines.length - 1; i >= 0; i--) {
    try {
      const o = JSON.parse(lines[i]!) as Record<string, unknown>;
      if (o.result === key) return o;
    } catch { /* partial line */ }
  }
  return undefined;
}

async function runTool(lab: Lab, cfg: LoadToolConfig, timeoutMs: number): Promise<Record<string, unknown> | undefined> {
  const p = await lab.spawnNode('i', join(projectRoot(), 'test/ikev2-interop/load-tool.ts'), [JSON.stringify(cfg)], { name: `load-${cfg.mode}` });
  await waitUntil(() => !p.running, timeoutMs, 100);
  if (p.running) await p.stop();
  const r = lastJson(p, cfg.mode);
  if (!r) throw new Error(`load tool (${cfg.mode}) gave no result: ${p.output.slice(-2000)}`);
  return r;
}

export async function run(ctx: BenchContext): Promise<void> {
  if (!isRoot() || !haveStrongswan()) {
    ctx.log('ikev2-setup: needs root and strongSwan; skipped');
    return;
  }
  const lab = Lab.create('rbik2');
  try {
    lab.addNamespace('i');
    lab.addNamespace('r');
    lab.addNamespace('s');
    lab.addVeth({ ns: 'i', ifname: 'ir0', addr: '10.80.1.2/24' }, { ns: 'r', ifname: 'r0' });
    lab.addVeth({ ns: 'i', ifname: 'is0', addr: '10.80.2.2/24' }, { ns: 's', ifname: 's0', addr: '10.80.2.1/24' });
    lab.addAddress('s', 'lo', '192.168.32.1/24');
    const swan = new StrongswanPeer(lab, 's', { logLevels: { ike: 0, cfg: 0, knl: 0, chd: 0, net: 0, enc: 0, esp: 0, default: 0 } });
    await swan.start();
    await swan.load([{
      name: 'bench', version: 2, localAddr: '10.80.2.1', remoteAddr: '10.80.2.2', proposals: ['aes256-sha256-modp2048'], psk: PSK, encap: true,
      children: [{ name: 'lan', localTs: ['192.168.32.0/24'], remoteTs: ['192.168.31.0/24'], espProposals: ['aes256gcm16'] }],
    }]);
    const box = await startRampart(lab, 'r', { 'FastEthernet0/0': 'r0' }, { env: { RAMPART_DEBUG: '' } });
    try {
      await box.configure(rampartIkev2Config({
        iface: 'FastEthernet0/0', address: '10.80.1.1', mask: '255.255.255.0', peer: '10.80.1.2',
        suite: {
          ikeProposal: ['encryption aes-cbc-256', 'integrity sha256', 'group 14'], transformSet: 'esp-gcm 256', psk: PSK,
          acl: ['permit ip 192.168.32.0 0.0.0.255 192.168.31.0 0.0.0.255'],
        },
      }));
      await waitUntil(() => lab.execSync('r', ['ip', '-4', 'addr', 'show', 'dev', 'r0'], { allowFail: true }).stdout.includes('10.80.1.1'), 5000);
      await sleep(500);
      const durationMs = ctx.seconds * 1000;
      const base = { mode: 'setup' as const, psk: PSK, ...SUITE, localCidr: '192.168.31.0/24', remoteCidr: '192.168.32.0/24', concurrency: Number(process.env.IKEV2_BENCH_CONCURRENCY ?? 8), durationMs };
      // warm-up (JIT, DH caches) on both, then the measured runs
      await runTool(lab, { ...base, local: '10.80.1.2', remote: '10.80.1.1', durationMs: 1000 }, 20_000);
      await runTool(lab, { ...base, local: '10.80.2.2', remote: '10.80.2.1', durationMs: 1000 }, 20_000);
      const r = await runTool(lab, { ...base, local: '10.80.1.2', remote: '10.80.1.1' }, durationMs + 20_000);
      const s = await runTool(lab, { ...base, local: '10.80.2.2', remote: '10.80.2.1' }, durationMs + 20_000);
      const rRate = Number(r?.perSec ?? 0);
      const sRate = Number(s?.perSec ?? 0);
      ctx.log(`rampart: ${JSON.stringify(r)}`);
      ctx.log(`strongswan: ${JSON.stringify(s)}`);
      ctx.report('ikev2-setup-rampart', Math.round(rRate * 10) / 10, '/s');
      ctx.report('ikev2-setup-strongswan', Math.round(sRate * 10) / 10, '/s');
      if (sRate > 0) ctx.ratio('ikev2-setup-vs-strongswan', Math.round((rRate / sRate) * 100) / 100);

      // flood from 64 sources inside the namespace while the legitimate initiator connects
      const sources: string[] = [];
      for (let k = 1; k <= 64; k++) {
        lab.execSync('i', ['ip', 'addr', 'add', `10.80.3.${k}/32`, 'dev', 'ir0']);
        sources.push(`10.80.3.${k}`);
      }
      lab.execSync('r', ['ip', 'route', 'replace', '10.80.3.0/24', 'via', '10.80.1.2']);
      const before = JSON.parse((await box.run('show crypto ikev2 debug | json')).trim() || '{}') as { counters?: Record<string, number> };
      const floodP = runTool(lab, {
        ...base, mode: 'flood', local: '10.80.1.2', remote: '10.80.1.1', sources, count: 20_000 * ctx.seconds, durationMs,
      }, durationMs + 20_000);
      await sleep(300);
      const legit = await runTool(lab, { ...base, local: '10.80.1.2', remote: '10.80.1.1', durationMs: durationMs - 500 }, durationMs + 20_000);
      const flood = await floodP;
      const after = JSON.parse((await box.run('show crypto ikev2 debug | json')).trim() || '{}') as { counters?: Record<string, number> };
      ctx.log(`flood: ${JSON.stringify(flood)} legit: ${JSON.stringify(legit)} counters ${JSON.stringify(after.counters)}`);
      const cookies = (after.counters?.cookiesSent ?? 0) - (before.counters?.cookiesSent ?? 0);
      ctx.report('ikev2-flood-init-offered', Math.round(Number(flood?.perSec ?? 0)), '/s');
      ctx.report('ikev2-flood-cookies-sent', cookies, 'cookies');
      ctx.report('ikev2-flood-half-open-max', after.counters?.halfOpen ?? 0, 'SAs');
      ctx.report('ikev2-setup-rampart-under-flood', Math.round(Number(legit?.perSec ?? 0) * 10) / 10, '/s');
      ctx.report('ikev2-flood-legit-failed', Number(legit?.failed ?? 0), 'setups');
      if (!box.proc.running) ctx.log('ikev2-setup: the Rampart daemon died during the flood!');
    } finally {
      await box.stop();
    }
  } finally {
    await lab.destroy();
  }
}
