// Route-based against policy-based on the same topology and settings: TCP (iperf3) through a
// Rampart static VTI (test/vti/vti-pair.ts: the guide's SVTI example, IKEv2) and through a
// Rampart crypto map (test/dataplane-e2e/ikev2-pair.ts), both esp-gcm 256 in raw ESP between
// two daemons, measured by the same runTunnelBench() recipe in the same run.
// Prints vti-tcp, cryptomap-tcp (Mbit/s, best of two alternating rounds) and
// `ratio vti-vs-cryptomap` (goal >= 0.9).
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { runTunnelBench, type StartTunnel } from './lib/tunnel-iperf.js';
import { ping } from '../../test/lib/site-to-site.js';
import { rampartBundle, startGateway, type Gateway } from '../../test/dataplane-e2e/rampart-pair.js';
import { ikev2PairConfig } from '../../test/dataplane-e2e/ikev2-pair.js';
import { tunnelState, vtiPairConfig } from '../../test/vti/vti-pair.js';

export const meta: BenchModuleMeta = {
  description: 'TCP through a Rampart static VTI vs a Rampart crypto map (IKEv2, esp-gcm 256, same topology)',
  needsRoot: true,
};

function stopper(gwA: Gateway, gwB: Gateway): () => Promise<void> {
  return async () => { gwA.con.close(); gwB.con.close(); await gwA.proc.stop(); await gwB.proc.stop(); };
}

const startVti: StartTunnel = async (lab, topo) => {
  const bin = await rampartBundle();
  const gwA = await startGateway(lab, 'gwA', bin);
  const gwB = await startGateway(lab, 'gwB', bin);
  await gwA.configure(vtiPairConfig('A', { ike: 2, transform: 'esp-gcm 256' }));
  await gwB.configure(vtiPairConfig('B', { ike: 2, transform: 'esp-gcm 256' }));
  let up = false;
  for (let i = 0; i < 60 && !up; i++) {
    up = tunnelState(await gwA.exec('show interfaces Tunnel0'))?.protocol === 'up' && tunnelState(await gwB.exec('show interfaces Tunnel0'))?.protocol === 'up';
    if (!up) await new Promise((r) => setTimeout(r, 500));
  }
  if (!up || !(await ping(lab, 'hostA', topo.addr.hostB, { count: 1, timeoutSec: 2 }))) throw new Error(`the VTI did not come up: ${await gwA.exec('show interfaces Tunnel0')}`);
  return { describe: 'Rampart static VTI (Tunnel0, IKEv2), esp-gcm 256', stop: stopper(gwA, gwB) };
};

const startCryptoMap: StartTunnel = async (lab, topo) => {
  const bin = await rampartBundle();
  const gwA = await startGateway(lab, 'gwA', bin);
  const gwB = await startGateway(lab, 'gwB', bin);
  await gwA.configure(ikev2PairConfig('A', { transform: 'esp-gcm 256' }));
  await gwB.configure(ikev2PairConfig('B', { transform: 'esp-gcm 256' }));
  let up = false;
  for (let i = 0; i < 10 && !up; i++) up = await ping(lab, 'hostA', topo.addr.hostB, { count: 1, timeoutSec: 1 });
  if (!up) throw new Error(`the crypto map tunnel did not come up: ${await gwA.exec('show crypto ikev2 sa')}`);
  return { describe: 'Rampart crypto map (IKEv2), esp-gcm 256', stop: stopper(gwA, gwB) };
};

export async function run(ctx: BenchContext): Promise<void> {
  // two alternating rounds, best of each: the first tunnel measured in a run pays for the
  // warm-up (one run measured 0.86 in that order and 0.99 the other way round)
  const best = { vti: 0, cm: 0 };
  for (let round = 0; round < 2; round++) {
    const vti = await runTunnelBench({ prefix: `rb-vti${round}`, start: startVti, seconds: ctx.seconds, log: ctx.log, only: ['tcp'] });
    const cm = await runTunnelBench({ prefix: `rb-vcm${round}`, start: startCryptoMap, seconds: ctx.seconds, log: ctx.log, only: ['tcp'] });
    ctx.log(`round ${round + 1}: vti ${vti.tcpMbps.toFixed(0)} Mbit/s, crypto map ${cm.tcpMbps.toFixed(0)} Mbit/s`);
    best.vti = Math.max(best.vti, vti.tcpMbps);
    best.cm = Math.max(best.cm, cm.tcpMbps);
  }
  ctx.report('vti-tcp', best.vti, 'Mbit/s');
  ctx.report('cryptomap-tcp', best.cm, 'Mbit/s');
  ctx.ratio('vti-vs-cryptomap', best.vti / best.cm);
}
