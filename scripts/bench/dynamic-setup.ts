// Road warriors per second into a dynamic crypto map: IKEv1 main mode (PSK, aes128/sha256/
// group14) + quick mode (esp-aes esp-sha-hmac) from 8 road warriors, each on its own address
// with its own LAN (a /28 of 192.168.41.0/24), none configured on the hub; each loops negotiate -> DELETE (IPsec SA and
// ISAKMP SA) -> negotiate (test/ikev1-interop/load-tool.ts, Rampart's engine as initiator).
// The Rampart hub answers from `crypto dynamic-map` (key for 0.0.0.0 0.0.0.0, temporary entry
// and reverse-route per road warrior); the anchor is strongSwan 5.9 as the hub on the same
// topology (one connection for %any, kernel-libipsec, `encap = yes`), same run.
//
//   ns i  ir0 10.82.1.11-18 ---- r0 10.82.1.1  ns r (Rampart hub)
//         is0 10.82.2.11-18 ---- s0 10.82.2.1  ns s (strongSwan hub)
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { Lab, isRoot } from '../../test/lib/netns.js';
import { benchRampartAgainstSwan, ikev1BenchLab } from './lib/ikev1-load.js';
import { ikev1SetupLoad } from './lib/ikev1-bench-setup.js';
import { StrongswanPeer, haveStrongswan } from '../../test/lib/strongswan.js';

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
    ikev1BenchLab(lab, '10.82', SLOTS);
    const swan = new StrongswanPeer(lab, 's', { logLevels: { ike: 0, cfg: 0, knl: 0, chd: 0, net: 0, enc: 0, esp: 0, default: 0 } });
    await swan.start();
    await swan.load([{
      name: 'rw', version: 1, localAddr: '10.82.2.1', remoteAddr: '%any', remoteId: '%any', proposals: ['aes128-sha256-modp2048'], psk: PSK, encap: true,
      children: [{ name: 'rw', localTs: ['192.168.42.0/24'], remoteTs: ['192.168.41.0/24'], espProposals: ['aes128-sha1'] }],
    }]);
    await benchRampartAgainstSwan(ctx, lab, swan, 'dynamic-setup', '10.82', SLOTS, [
      'hostname hub',
      // the strongSwan anchor logs nothing; without this the bench's own console session gets
      // two %CRYPTO-5-SESSION_STATUS lines per road warrior (RAMPART_BENCH_CONSOLE_LOG=1 keeps them)
      ...(process.env.RAMPART_BENCH_CONSOLE_LOG === '1' ? [] : ['no logging console']),
      'crypto isakmp policy 10', ' encryption aes', ' hash sha256', ' group 14', ' authentication pre-share', 'exit',
      `crypto isakmp key ${PSK} address 0.0.0.0 0.0.0.0`,
      'crypto ipsec transform-set ts esp-aes esp-sha-hmac', 'exit',
      'access-list 120 permit ip 192.168.42.0 0.0.0.255 192.168.41.0 0.0.0.255',
      'crypto dynamic-map dyn 10', ' set transform-set ts', ' match address 120', ' reverse-route', 'exit',
      'crypto map m 65535 ipsec-isakmp dynamic dyn',
      'interface FastEthernet0/0', ' ip address 10.82.1.1 255.255.255.0', ' crypto map m', ' no shutdown', 'exit',
    ], (l, r, ms) => ikev1SetupLoad(PSK, l, r, ms), ctx.seconds);
  } finally {
    await lab.destroy();
  }
}
