// Road warriors per second into a dynamic crypto map: IKEv1 main mode (PSK, aes128/sha256/
// group14) + quick mode (esp-aes esp-sha-hmac) from 8 road warriors, each on its own address
// with its own LAN, none configured on the hub; each loops negotiate -> DELETE (IPsec SA and
// ISAKMP SA) -> negotiate (test/ikev1-interop/load-tool.ts, Rampart's engine as initiator).
// The Rampart hub answers from `crypto dynamic-map` (key for 0.0.0.0 0.0.0.0, temporary entry
// and reverse-route per road warrior); the anchor is strongSwan 5.9 as the hub on the same
// topology (one connection for %any, kernel-libipsec, `encap = yes`), same run.
//
//   ns i  ir0 10.82.1.11-18 ---- r0 10.82.1.1  ns r (Rampart hub)
//         is0 10.82.2.11-18 ---- s0 10.82.2.1  ns s (strongSwan hub)
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { Lab, isRoot } from '../../test/lib/netns.js';
import { runIkev1LoadTool } from './lib/ikev1-load.js';
import { StrongswanPeer, haveStrongswan } from '../../test/lib/strongswan.js';
import { startRampart, sleep } from '../../test/ikev1-interop/lab.js';

export const meta: BenchModuleMeta = { description: 'road warriors/s into a dynamic crypto map: Rampart hub vs strongSwan hub', needsRoot: true };

const PSK = 'rampart-dynamic-bench-psk';
const SLOTS = [11, 12, 13, 14, 15, 16, 17, 18];

export async function run(ctx: BenchContext): Promise<void> {
  if (!isRoot() || !haveStrongswan()) {
    ctx.log('dynamic-setup: needs root and strongSwan; skipped');
    return;
  }
  const lab = Lab.create('rbdyn');
  try {
    for (const ns of ['i', 'r', 's']) lab.addNamespace(ns);
    lab.addVeth({ ns: 'i', ifname: 'ir0', addr: '10.82.1.11/24' }, { ns: 'r', ifname: 'r0' });
    lab.addVeth({ ns: 'i', ifname: 'is0', addr: '10.82.2.11/24' }, { ns: 's', ifname: 's0', addr: '10.82.2.1/24' });
    for (const k of SLOTS.slice(1)) {
      lab.addAddress('i', 'ir0', `10.82.1.${k}/24`);
      lab.addAddress('i', 'is0', `10.82.2.${k}/24`);
    }
    lab.addAddress('s', 'lo', '192.168.42.1/24');
    const swan = new StrongswanPeer(lab, 's', { logLevels: { ike: 0, cfg: 0, knl: 0, chd: 0, net: 0, enc: 0, esp: 0, default: 0 } });
    await swan.start();
    await swan.load([{
      name: 'rw', version: 1, localAddr: '10.82.2.1', remoteAddr: '%any', remoteId: '%any', proposals: ['aes128-sha256-modp2048'], psk: PSK, encap: true,
      children: [{ name: 'rw', localTs: ['192.168.42.0/24'], remoteTs: ['192.168.0.0/16'], espProposals: ['aes128-sha1'] }],
    }]);
    const box = await startRampart(lab, 'r', { 'FastEthernet0/0': 'r0' });
    try {
      const out = await box.configure([
        'hostname hub',
        'crypto isakmp policy 10', ' encryption aes', ' hash sha256', ' group 14', ' authentication pre-share', 'exit',
        `crypto isakmp key ${PSK} address 0.0.0.0 0.0.0.0`,
        'crypto ipsec transform-set ts esp-aes esp-sha-hmac', 'exit',
        'access-list 120 permit ip 192.168.42.0 0.0.0.255 192.168.0.0 0.0.255.255',
        'crypto dynamic-map dyn 10', ' set transform-set ts', ' match address 120', ' reverse-route', 'exit',
        'crypto map m 65535 ipsec-isakmp dynamic dyn',
        'interface FastEthernet0/0', ' ip address 10.82.1.1 255.255.255.0', ' crypto map m', ' no shutdown', 'exit',
      ]);
      if (/\] %/.test(out)) ctx.log(`config: ${out}`);
      await sleep(1000);
      const base = {
        mode: 'setup' as const, psk: PSK,
        policy: { priority: 10, encryption: 'aes128' as const, hash: 'sha256' as const, authentication: 'pre-share' as const, group: 14, lifetimeSec: 86400 },
        set: { name: 'ts', esp: { cipher: 'esp-aes' as const, keyLenBits: 128, integrity: 'sha' as const }, mode: 'tunnel' as const },
        localSel: { addr: '192.168.10.0', prefixLen: 24, protocol: 0, port: 0 },
        localSels: SLOTS.map((_, i) => ({ addr: `192.168.${10 + i}.0`, prefixLen: 24, protocol: 0, port: 0 })),
        remoteSel: { addr: '192.168.42.0', prefixLen: 24, protocol: 0, port: 0 },
        durationMs: ctx.seconds * 1000,
      };
      const rLocals = SLOTS.map((k) => `10.82.1.${k}`);
      const sLocals = SLOTS.map((k) => `10.82.2.${k}`);
      // warm-up both (JIT, first DH), then the measured runs
      await runIkev1LoadTool(lab, 'i', { ...base, locals: rLocals, remote: '10.82.1.1', durationMs: 1000 });
      await runIkev1LoadTool(lab, 'i', { ...base, locals: sLocals, remote: '10.82.2.1', durationMs: 1000 });
      const r = await runIkev1LoadTool(lab, 'i', { ...base, locals: rLocals, remote: '10.82.1.1' });
      const s = await runIkev1LoadTool(lab, 'i', { ...base, locals: sLocals, remote: '10.82.2.1' });
      ctx.log(`rampart: ${JSON.stringify(r)}`);
      ctx.log(`strongswan: ${JSON.stringify(s)}`);
      const rRate = Number(r.perSec ?? 0);
      const sRate = Number(s.perSec ?? 0);
      ctx.report('dynamic-setup-rampart', Math.round(rRate * 10) / 10, '/s');
      ctx.report('dynamic-setup-strongswan', Math.round(sRate * 10) / 10, '/s');
      if (sRate > 0) ctx.ratio('dynamic-setup-vs-strongswan', Math.round((rRate / sRate) * 100) / 100);
      if (Number(r.failed ?? 0) > 0 || Number(s.failed ?? 0) > 0) ctx.log(`failed setups: rampart ${String(r.failed)}, strongswan ${String(s.failed)}`);
      if (!box.proc.running) ctx.log('dynamic-setup: the Rampart daemon died!');
    } finally {
      box.con.close();
      await box.proc.stop(2000);
      await swan.stop();
    }
  } finally {
    await lab.destroy();
  }
}
