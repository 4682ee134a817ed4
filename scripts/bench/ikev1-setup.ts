// IKEv1 setups per second: main mode (PSK, aes128/sha256/group14) + quick mode (esp-aes
// esp-sha-hmac, no PFS) against a Rampart daemon responder and a strongSwan 5.9 responder,
// same initiator, same run. The initiator is Rampart's own engine driven directly
// (test/ikev1-interop/load-tool.ts): 4 slots, each on its own local address, each looping
// negotiate -> DELETE (IPsec SA and ISAKMP SA) -> negotiate, so every setup is a full main
// mode + quick mode. strongSwan runs with kernel-libipsec (`encap = yes`: it floats to 4500).
//
//   ns i  ir0 10.81.1.11-14 ---- r0 10.81.1.1  ns r (Rampart daemon)
//         is0 10.81.2.11-14 ---- s0 10.81.2.1  ns s (strongSwan)
import { join } from 'node:path';
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { Lab, isRoot, projectRoot, type LabProcess } from '../../test/lib/netns.js';
import { StrongswanPeer, haveStrongswan, type SwanConnection } from '../../test/lib/strongswan.js';
import { startRampart, sleep } from '../../test/ikev1-interop/lab.js';
import type { LoadToolConfig } from '../../test/ikev1-interop/load-tool.js';
import { ikev1ResponderConfig, ikev1SetupLoad } from './lib/ikev1-bench-setup.js';

export const meta: BenchModuleMeta = { description: 'IKEv1 main+quick mode setups/s: Rampart vs strongSwan responder', needsRoot: true };

const PSK = 'rampart-ikev1-bench-psk';
const SLOTS = [11, 12, 13, 14];

function lastJson(p: LabProcess): Record<string, unknown> | undefined {
  const lines = p.output.split('\n').filter((l) => l.startsWith('{'));
  for (let i = lines.length - 1; i >= 0; i--) {
    try { return JSON.parse(lines[i]!) as Record<string, unknown>; } catch { /* partial */ }
  }
  return undefined;
}

async function runTool(lab: Lab, cfg: LoadToolConfig): Promise<Record<string, unknown>> {
  const p = await lab.spawnNode('i', join(projectRoot(), 'test/ikev1-interop/load-tool.ts'), [JSON.stringify(cfg)], { name: 'ikev1-load' });
  const end = Date.now() + cfg.durationMs + 20_000;
  while (p.running && Date.now() < end) await sleep(100);
  if (p.running) await p.stop();
  const r = lastJson(p);
  if (!r || r.result !== 'setup') throw new Error(`load tool gave no result: ${p.output.slice(-1500)}`);
  return r;
}

export async function run(ctx: BenchContext): Promise<void> {
  if (!isRoot() || !haveStrongswan()) {
    ctx.log('ikev1-setup: needs root and strongSwan; skipped');
    return;
  }
  const lab = Lab.create('rbik1');
  try {
    for (const ns of ['i', 'r', 's']) lab.addNamespace(ns);
    lab.addVeth({ ns: 'i', ifname: 'ir0', addr: '10.81.1.11/24' }, { ns: 'r', ifname: 'r0' });
    lab.addVeth({ ns: 'i', ifname: 'is0', addr: '10.81.2.11/24' }, { ns: 's', ifname: 's0', addr: '10.81.2.1/24' });
    for (const k of SLOTS.slice(1)) {
      lab.addAddress('i', 'ir0', `10.81.1.${k}/24`);
      lab.addAddress('i', 'is0', `10.81.2.${k}/24`);
    }
    lab.addAddress('s', 'lo', '192.168.42.1/24');
    const swan = new StrongswanPeer(lab, 's', { logLevels: { ike: 0, cfg: 0, knl: 0, chd: 0, net: 0, enc: 0, esp: 0, default: 0 } });
    await swan.start();
    const conns: SwanConnection[] = SLOTS.map((k) => ({
      name: `b${k}`, version: 1, localAddr: '10.81.2.1', remoteAddr: `10.81.2.${k}`, proposals: ['aes128-sha256-modp2048'], psk: PSK, encap: true,
      children: [{ name: `c${k}`, localTs: ['192.168.42.0/24'], remoteTs: ['192.168.41.0/24'], espProposals: ['aes128-sha1'] }],
    }));
    await swan.load(conns);
    const box = await startRampart(lab, 'r', { 'FastEthernet0/0': 'r0' });
    try {
      const out = await box.configure(ikev1ResponderConfig(PSK, SLOTS));
      if (/\] %/.test(out)) ctx.log(`config: ${out}`);
      await sleep(1000);
      const base = ikev1SetupLoad(PSK, SLOTS.map((k) => `10.81.1.${k}`), '10.81.1.1', ctx.seconds * 1000);
      const rLocals = SLOTS.map((k) => `10.81.1.${k}`);
      const sLocals = SLOTS.map((k) => `10.81.2.${k}`);
      // warm-up both (JIT, first DH), then the measured runs
      await runTool(lab, { ...base, locals: rLocals, remote: '10.81.1.1', durationMs: 1000 });
      await runTool(lab, { ...base, locals: sLocals, remote: '10.81.2.1', durationMs: 1000 });
      const r = await runTool(lab, { ...base, locals: rLocals, remote: '10.81.1.1' });
      const s = await runTool(lab, { ...base, locals: sLocals, remote: '10.81.2.1' });
      ctx.log(`rampart: ${JSON.stringify(r)}`);
      ctx.log(`strongswan: ${JSON.stringify(s)}`);
      const rRate = Number(r.perSec ?? 0);
      const sRate = Number(s.perSec ?? 0);
      ctx.report('ikev1-setup-rampart', Math.round(rRate * 10) / 10, '/s');
      ctx.report('ikev1-setup-strongswan', Math.round(sRate * 10) / 10, '/s');
      if (sRate > 0) ctx.ratio('ikev1-setup-vs-strongswan', Math.round((rRate / sRate) * 100) / 100);
      if (!box.proc.running) ctx.log('ikev1-setup: the Rampart daemon died!');
    } finally {
      box.con.close();
      await box.proc.stop(2000);
      await swan.stop();
    }
  } finally {
    await lab.destroy();
  }
}
