// IKEv1 setups per second: main mode (PSK, aes128/sha256/group14) + quick mode (esp-aes
// esp-sha-hmac, no PFS) against a Rampart daemon responder and a strongSwan 5.9 responder,
// same initiator, same run. The initiator is Rampart's own engine driven directly
// (test/ikev1-interop/load-tool.ts): 4 slots, each on its own local address, each looping
// negotiate -> DELETE (IPsec SA and ISAKMP SA) -> negotiate, so every setup is a full main
// mode + quick mode. strongSwan runs with kernel-libipsec (`encap = yes`: it floats to 4500).
//
//   ns i  ir0 10.81.1.11-14 ---- r0 10.81.1.1  ns r (Rampart daemon)
//         is0 10.81.2.11-14 ---- s0 10.81.2.1  ns s (strongSwan)
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { Lab, isRoot } from '../../test/lib/netns.js';
import { StrongswanPeer, haveStrongswan, type SwanConnection } from '../../test/lib/strongswan.js';
import { ikev1ResponderConfig, ikev1SetupLoad } from './lib/ikev1-bench-setup.js';
import { benchRampartAgainstSwan, ikev1BenchLab } from './lib/ikev1-load.js';

export const meta: BenchModuleMeta = { description: 'IKEv1 main+quick mode setups/s: Rampart vs strongSwan responder', needsRoot: true };

const PSK = 'rampart-ikev1-bench-psk';
const SLOTS = [11, 12, 13, 14];

export async function run(ctx: BenchContext): Promise<void> {
  if (!isRoot() || !haveStrongswan()) {
    ctx.log('ikev1-setup: needs root and strongSwan; skipped');
    return;
  }
  const lab = Lab.create('rbik1');
  try {
    ikev1BenchLab(lab, '10.81', SLOTS);
    const swan = new StrongswanPeer(lab, 's', { logLevels: { ike: 0, cfg: 0, knl: 0, chd: 0, net: 0, enc: 0, esp: 0, default: 0 } });
    await swan.start();
    const conns: SwanConnection[] = SLOTS.map((k) => ({
      name: `b${k}`, version: 1, localAddr: '10.81.2.1', remoteAddr: `10.81.2.${k}`, proposals: ['aes128-sha256-modp2048'], psk: PSK, encap: true,
      children: [{ name: `c${k}`, localTs: ['192.168.42.0/24'], remoteTs: ['192.168.41.0/24'], espProposals: ['aes128-sha1'] }],
    }));
    await swan.load(conns);
    await benchRampartAgainstSwan(ctx, lab, swan, 'ikev1-setup', '10.81', SLOTS, ikev1ResponderConfig(PSK, SLOTS), (l, r, ms) => ikev1SetupLoad(PSK, l, r, ms), ctx.seconds);
  } finally {
    await lab.destroy();
  }
}
