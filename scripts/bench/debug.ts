// What debugging costs on a loaded box (issue 17's bench):
//   debug-esp-tcp-off / -conditional   ESP TCP throughput through Rampart's IKEv2 tunnel
//       (esp-rampart's setup: esp-gcm 256 in UDP 4500) with no debug, and with `debug crypto
//       ipsec` + `debug crypto engine` + `debug crypto condition peer ipv4` of a peer that
//       does not exist; ratio debug-conditional-vs-off (goal >= 0.95).
//   debug-ike-setup-off / -conditional  IKEv1 main+quick mode setups per second against a
//       Rampart responder from 100 initiator addresses (the IKEv1 load tool), with no debug
//       and with `debug crypto isakmp` + `debug crypto ipsec` conditioned on one of the 100
//       peers; ratio debug-ike-conditional-vs-off (goal >= 0.9).
// Off and on alternate twice (IKE: the same daemon; ESP: a fresh pair each run) and the best
// of each counts: on a shared machine interference only lowers a rate.
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { runTunnelBench, type StartTunnel } from './lib/tunnel-iperf.js';
import { runIkev1LoadTool } from './lib/ikev1-load.js';
import { ikev1ResponderConfig, ikev1SetupLoad } from './lib/ikev1-bench-setup.js';
import { startRampart as startEspPair } from './esp-rampart.js';
import { Lab, isRoot } from '../../test/lib/netns.js';
import { startRampart } from '../../test/ikev1-interop/lab.js';
import { ScriptedConsole } from '../../test/lib/daemon-client.js';

export const meta: BenchModuleMeta = { description: 'cost of conditional debug: ESP TCP and IKEv1 setups/s with a non-matching / one-in-100 condition against no debug', needsRoot: true };

const DEBUG_ESP = ['debug crypto ipsec', 'debug crypto engine', 'debug crypto condition peer ipv4 192.0.2.77'];
const PSK = 'rampart-debug-bench-psk';
const SLOTS = Array.from({ length: 100 }, (_, i) => 11 + i);

/** esp-rampart's tunnel, with `lines` typed on both gateways once it is up. */
function espWithDebug(lines: string[]): StartTunnel {
  return async (lab, topo) => {
    const t = await startEspPair(lab, topo);
    for (const ns of ['gwA', 'gwB'] as const) {
      const con = await ScriptedConsole.open(`${lab.dir}/${ns}/rampart.sock`);
      await con.run('enable');
      for (const l of lines) await con.run(l);
      con.close();
    }
    return { describe: `${t.describe ?? ''}${lines.length ? `; ${lines.join(', ')}` : '; no debug'}`, stop: t.stop };
  };
}

/** Runs `off` and `on` alternately `rounds` times; the best of each (interference on a shared machine only lowers a rate). */
async function alternate(rounds: number, off: () => Promise<number>, on: () => Promise<number>): Promise<{ off: number; on: number; offs: number[]; ons: number[] }> {
  const offs: number[] = [];
  const ons: number[] = [];
  for (let i = 0; i < rounds; i++) {
    offs.push(await off());
    ons.push(await on());
  }
  return { off: Math.max(...offs), on: Math.max(...ons), offs, ons };
}

async function espPart(ctx: BenchContext): Promise<void> {
  let n = 0;
  const tcp = async (lines: string[]) => (await runTunnelBench({ prefix: `rbdbg${n++}`, start: espWithDebug(lines), seconds: ctx.seconds, only: ['tcp'], log: ctx.log })).tcpMbps;
  const r = await alternate(2, () => tcp([]), () => tcp(DEBUG_ESP));
  ctx.log(`esp tcp Mbit/s off ${r.offs.map(Math.round).join(', ')}; conditional ${r.ons.map(Math.round).join(', ')}`);
  ctx.report('debug-esp-tcp-off', r.off, 'Mbit/s');
  ctx.report('debug-esp-tcp-conditional', r.on, 'Mbit/s');
  if (r.off > 0) ctx.ratio('debug-conditional-vs-off', Math.round((r.on / r.off) * 100) / 100);
}

async function ikePart(ctx: BenchContext): Promise<void> {
  const lab = Lab.create('rbdbgike');
  try {
    lab.addNamespace('i');
    lab.addNamespace('r');
    lab.addVeth({ ns: 'i', ifname: 'ir0', addr: `10.81.1.${SLOTS[0]}/24` }, { ns: 'r', ifname: 'r0' });
    for (const k of SLOTS.slice(1)) lab.addAddress('i', 'ir0', `10.81.1.${k}/24`);
    const box = await startRampart(lab, 'r', { 'FastEthernet0/0': 'r0' });
    try {
      const out = await box.configure(ikev1ResponderConfig(PSK, SLOTS));
      if (/\] %/.test(out)) ctx.log(`config: ${out}`);
      await box.con.waitApplied();
      const locals = SLOTS.map((k) => `10.81.1.${k}`);
      // one /32 of 192.168.41.0/24 per slot (the responder's crypto ACL covers the /24)
      const load = (ms: number) => ({ ...ikev1SetupLoad(PSK, locals, '10.81.1.1', ms), localSels: locals.map((_, i) => ({ addr: `192.168.41.${i + 1}`, prefixLen: 32, protocol: 0, port: 0 })) });
      await runIkev1LoadTool(lab, 'i', load(1000));
      const debugLines = ['debug crypto isakmp', 'debug crypto ipsec', `debug crypto condition peer ipv4 10.81.1.${SLOTS[41]}`];
      const rate = async (lines: string[]) => {
        for (const l of lines) await box.exec(l);
        const res = await runIkev1LoadTool(lab, 'i', load(ctx.seconds * 1000));
        await box.exec('undebug all');
        if (Number(res.failed ?? 0) > 0) ctx.log(`failed setups: ${String(res.failed)}`);
        return Number(res.perSec ?? 0);
      };
      const r = await alternate(2, () => rate([]), () => rate(debugLines));
      const shown = (await box.exec('show logging')).split('\n').filter((l) => /: (ISAKMP|IPSEC)/.test(l)).length;
      ctx.log(`ike setups/s off ${r.offs.join(', ')}; conditional ${r.ons.join(', ')}; ${shown} debug lines of the watched peer in the buffer`);
      const offRate = r.off;
      const onRate = r.on;
      ctx.report('debug-ike-setup-off', Math.round(offRate * 10) / 10, '/s');
      ctx.report('debug-ike-setup-conditional', Math.round(onRate * 10) / 10, '/s');
      if (offRate > 0) ctx.ratio('debug-ike-conditional-vs-off', Math.round((onRate / offRate) * 100) / 100);
      if (!box.proc.running) ctx.log('debug: the Rampart daemon died!');
    } finally {
      box.con.close();
      await box.proc.stop(2000);
    }
  } finally {
    await lab.destroy();
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  if (!isRoot()) {
    ctx.log('debug: needs root; skipped');
    return;
  }
  await ikePart(ctx);
  await espPart(ctx);
}
