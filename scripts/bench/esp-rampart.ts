// Rampart's own tunnel: two daemons (sim board) as gwA/gwB of the site-to-site topology,
// configured only through their CLI, measured by the same runTunnelBench() recipe as the
// strongSwan anchor.
//   esp-*      IKEv2 PSK with `nat force-encap`, ESP esp-gcm 256 in UDP 4500: the same
//              encapsulation, cipher and key exchange as the anchor (strongSwan's libipsec
//              always runs ESP in UDP 4500). Equal-size packets leave as UDP GSO trains.
//   esp-*-raw  ipsec-manual SAs, esp-gcm 256 as plain IP protocol 50 (one packet per
//              datagram through the kernel: no GSO exists for raw ESP without kernel ESP).
// Prints esp-tcp, esp-udp, esp-udp64 (pps), esp-rtt, esp-added-latency, esp-tcp-raw, the
// ratios against strongSwan's TCP from the same run, and the daemon's RSS with 1,000 SAs.
import { readFileSync } from 'node:fs';
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { runTunnelBench, type StartTunnel } from './lib/tunnel-iperf.js';
import { strongswanTcpAnchor } from './esp-strongswan.js';
import { Lab } from '../../test/lib/netns.js';
import { ping } from '../../test/lib/site-to-site.js';
import { KEYS, manualConfig, rampartBundle, startGateway, type Gateway } from '../../test/dataplane-e2e/rampart-pair.js';
import { ikev2PairConfig } from '../../test/dataplane-e2e/ikev2-pair.js';

export const meta: BenchModuleMeta = {
  description: 'Rampart userspace ESP tunnel (IKEv2 + ESP-in-UDP esp-gcm 256; manual SAs raw ESP), iperf3 TCP/UDP, RSS with 1,000 SAs',
  needsRoot: true,
};

const GCM_KEY = `cipher ${KEYS.aes256}a1b2c3d4`;

function stopper(gwA: Gateway, gwB: Gateway): () => Promise<void> {
  return async () => { gwA.con.close(); gwB.con.close(); await gwA.proc.stop(); await gwB.proc.stop(); };
}

/** IKEv2 between the gateways, ESP in UDP 4500 forced (`nat force-encap`), like the anchor. */
export const startRampart: StartTunnel = async (lab, topo) => {
  const bin = await rampartBundle();
  const gwA = await startGateway(lab, 'gwA', bin);
  const gwB = await startGateway(lab, 'gwB', bin);
  await gwA.configure(ikev2PairConfig('A', { forceEncap: true }));
  await gwB.configure(ikev2PairConfig('B', { forceEncap: true }));
  // the first packet starts IKE (acquire); bounded wait for the Child SA
  let up = false;
  for (let i = 0; i < 10 && !up; i++) up = await ping(lab, 'hostA', topo.addr.hostB, { count: 1, timeoutSec: 1 });
  if (!up) throw new Error(`IKEv2 tunnel did not come up: ${await gwA.exec('show crypto ikev2 sa')}`);
  const sa = await gwA.exec('show crypto ipsec sa');
  if (!/UDP-Encaps/.test(sa)) throw new Error(`the Child SA is not UDP-encapsulated:\n${sa}`);
  const io = /Packet I\/O:\s+(.*)/.exec(await gwA.exec('show crypto engine configuration'))?.[1] ?? '';
  return { describe: `Rampart IKEv2 + ESP in UDP 4500 (nat force-encap), esp-gcm 256; ${io}`, stop: stopper(gwA, gwB) };
};

/** ipsec-manual SAs: raw ESP (IP protocol 50). */
export const startRampartManual: StartTunnel = async (lab) => {
  const bin = await rampartBundle();
  const gwA = await startGateway(lab, 'gwA', bin);
  const gwB = await startGateway(lab, 'gwB', bin);
  await gwA.configure(manualConfig('A', { transform: 'esp-gcm 256', inKey: GCM_KEY, outKey: GCM_KEY }));
  await gwB.configure(manualConfig('B', { transform: 'esp-gcm 256', inKey: GCM_KEY, outKey: GCM_KEY }));
  await new Promise((r) => setTimeout(r, 500));
  return { describe: 'Rampart userspace ESP (TUN + raw sockets), ipsec-manual esp-gcm 256', stop: stopper(gwA, gwB) };
};

function rssKb(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** RSS of one daemon with `pairs` ipsec-manual entries (2 SAs each) applied to an interface. */
export async function measureRss(ctx: BenchContext, pairs = 500): Promise<{ idleKb: number; loadedKb: number; sas: number }> {
  const lab = Lab.create('rb-rss');
  try {
    lab.addNamespace('gwA');
    lab.addNamespace('gwB');
    lab.addVeth({ ns: 'gwA', ifname: 'wan0' }, { ns: 'gwB', ifname: 'wan0' });
    lab.addVeth({ ns: 'gwA', ifname: 'lan0' }, { ns: 'gwB', ifname: 'lan0' });
    const gw = await startGateway(lab, 'gwA', await rampartBundle());
    await new Promise((r) => setTimeout(r, 500));
    const idleKb = rssKb(gw.proc.pid);
    const lines: string[] = ['interface FastEthernet0/0', ' ip address 172.16.0.1 255.255.255.0', 'exit', 'crypto ipsec transform-set ts esp-gcm 256'];
    for (let i = 0; i < pairs; i++) {
      const net = `10.${100 + Math.floor(i / 250)}.${i % 250}.0`;
      lines.push(`access-list ${2000 + i} permit ip 10.1.0.0 0.0.0.255 ${net} 0.0.0.255`);
      lines.push(`crypto map big ${10 + i} ipsec-manual`, ' set peer 172.16.0.2', ' set transform-set ts', ` match address ${2000 + i}`,
        ` set session-key inbound esp ${0x10000 + i} ${GCM_KEY}`, ` set session-key outbound esp ${0x20000 + i} ${GCM_KEY}`, 'exit');
    }
    lines.push('interface FastEthernet0/0', ' crypto map big', 'exit');
    await gw.configure(lines);
    await new Promise((r) => setTimeout(r, 3000));
    const show = await gw.exec('show crypto engine brief');
    const sas = Number(/Active SAs:\s+(\d+)/.exec(show)?.[1] ?? NaN);
    const loadedKb = rssKb(gw.proc.pid);
    gw.con.close();
    return { idleKb, loadedKb, sas };
  } finally {
    await lab.destroy();
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  const names = { tcpMbps: ['esp-tcp', 'Mbit/s'], udpMbps: ['esp-udp', 'Mbit/s'], udpLossPct: ['esp-udp-loss', '%'], udp64Pps: ['esp-udp64', 'pps'], rttMs: ['esp-rtt', 'ms'] } as const;
  const res = await runTunnelBench({
    prefix: 'rb-rampart', start: startRampart, seconds: ctx.seconds, log: ctx.log,
    onResult: (what, v) => ctx.report(names[what][0], v, names[what][1]),
  });
  let plainRtt = ctx.results.get('plain-rtt');
  if (plainRtt === undefined) {
    plainRtt = (await runTunnelBench({ prefix: 'rb-rplain', start: null, seconds: 1, only: ['rtt'], log: ctx.log })).rttMs;
  }
  ctx.report('esp-added-latency', res.rttMs - plainRtt, 'ms');
  const raw = await runTunnelBench({
    prefix: 'rb-rraw', start: startRampartManual, seconds: ctx.seconds, log: ctx.log, only: ['tcp'],
    onResult: (what, v) => { if (what === 'tcpMbps') ctx.report('esp-tcp-raw', v, 'Mbit/s'); },
  });
  if (!process.env.BENCH_NO_RSS) {
    const rss = await measureRss(ctx);
    ctx.report('daemon-rss-idle', rss.idleKb / 1024, 'MB');
    ctx.report(`daemon-rss-${rss.sas}-sas`, rss.loadedKb / 1024, 'MB');
  }
  if (!process.env.BENCH_NO_ANCHOR) {
    const anchor = await strongswanTcpAnchor(ctx);
    ctx.ratio('esp-tcp-vs-strongswan', res.tcpMbps / anchor);
    ctx.ratio('esp-tcp-raw-vs-strongswan', raw.tcpMbps / anchor);
  }
}
