// The hostile-input campaign of `npm run fuzz` (scripts/fuzz.mjs) and of its CI slice
// (test/ikev1-interop/fuzz-campaign.test.ts). Topology: the site-to-site lab with a Rampart
// daemon in gwA and gwB and an IKEv1 tunnel between them carrying a ping from hostA to hostB;
// a fuzzer namespace behind gwB (192.168.77.0/24, eight source addresses) that first sets up
// an IKEv1 and an IKEv2 SA with gwB itself (the captured corpus), then floods gwB's UDP 500 and
// 4500 (and TCP 22) with mutations of it, and gwB with raw ESP (test/lib/ike-fuzz-tool.ts). Reported: gwB's PID
// unchanged, RSS growth, ping loss per phase, the tunnels after the flood, console latency.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './netns.js';
import { gatewayConfig, rampartPairLab, sleep, waitForText, type RampartGw } from '../ikev1-interop/lab.js';
import { ikev2PskBlock } from './ios-config.js';

export interface CampaignOptions {
  count: number;
  seconds: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface CampaignReport {
  datagrams: number;
  byKind: Record<string, number>;
  floodMs: number;
  corpus: number;
  pidBefore: number | undefined;
  pidAfter: number | undefined;
  daemonRunning: boolean;
  rssBeforeKb: number;
  rssAfterKb: number;
  pingLoss: { before: number; during: number; after: number };
  gwTunnelUp: boolean;
  fuzzerV1Alive: boolean;
  fuzzerV2Alive: boolean;
  consoleMs: { median: number; max: number; samples: number };
  admission: string;
  /** raw ESP at gwB: the fuzzer SA's flow counters and the data path's no-SA count, before -> after */
  rawEsp: { sent: number; decaps: number; replayFailed: number; verifyFailed: number; noSa: number };
  /** TCP connections with garbage the flood made to port 22, and whether SSH greets afterwards */
  ssh: { garbageConnections: number; greetsAfter: boolean };
}

/** Counters of gwB's flow with the fuzzer's IKEv1 SA and the data path's packets without an SA. */
async function espCounters(gw: RampartGw, peer: string): Promise<{ decaps: number; replayFailed: number; verifyFailed: number; noSa: number }> {
  const sa = await gw.exec(`show crypto ipsec sa peer ${peer} detail`);
  const num = (re: RegExp): number => [...sa.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
  const engine = await gw.exec('show crypto engine configuration');
  return {
    decaps: num(/#pkts decaps: (\d+)/g), replayFailed: num(/##pkts replay failed \(rcv\): (\d+)/g), verifyFailed: num(/#pkts verify failed: (\d+)/g),
    noSa: Number(/inNoSa\s+(\d+)/.exec(engine)?.[1] ?? 0),
  };
}

const PSK = 'fuzz-campaign-psk';
const FZ_SOURCES = Array.from({ length: 8 }, (_, i) => `192.168.77.${i + 2}`);

function rssKb(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function loss(out: string): number {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  if (!m || Number(m[1]) === 0) return 100;
  return (100 * (Number(m[1]) - Number(m[2]))) / Number(m[1]);
}

function fuzzerConfig(): string[] {
  return [
    `crypto isakmp key ${PSK} address 192.168.77.2`,
    'access-list 102 permit ip 10.2.0.0 0.0.0.255 10.77.0.0 0.0.0.255',
    'crypto map mymap 20 ipsec-isakmp', ' set peer 192.168.77.2', ' set transform-set ts', ' match address 102', 'exit',
    ...ikev2PskBlock({
      names: { proposal: 'PROP1', policy: 'POL1', keyring: 'KR1', keyringPeer: 'FZ', profile: 'PROF1' },
      psk: PSK, keyringAddress: '192.168.77.3', matchRemote: '192.168.77.3 255.255.255.255', localAddress: '172.16.0.2',
    }), 'exit',
    'crypto ipsec transform-set TS2 esp-gcm 256', 'exit',
    'access-list 103 permit ip 10.2.0.0 0.0.0.255 10.78.0.0 0.0.0.255',
    'crypto map mymap 30 ipsec-isakmp', ' set peer 192.168.77.3', ' set transform-set TS2', ' set ikev2-profile PROF1', ' match address 103', 'exit',
    // host keys turn the SSH server on: the flood's TCP garbage then meets the SSH parser, not a reset
    'ip domain name fuzz.example', 'crypto key generate rsa modulus 1024',
  ];
}

async function consoleLatency(gw: RampartGw, until: () => boolean): Promise<number[]> {
  const samples: number[] = [];
  while (!until()) {
    const t0 = performance.now();
    await gw.exec('show clock');
    samples.push(performance.now() - t0);
    await sleep(500);
  }
  return samples;
}

export async function runCampaign(t: { teardown(fn: () => unknown): void }, opts: CampaignOptions): Promise<CampaignReport> {
  const log = opts.log ?? (() => undefined);
  const { lab, gwA, gwB } = await rampartPairLab(t, 'fzc', {
    extend: (l) => {
      l.addNamespace('fz');
      l.addVeth({ ns: 'fz', ifname: 'fz0', addr: `${FZ_SOURCES[0]}/24` }, { ns: 'gwB', ifname: 'fz0', addr: '192.168.77.1/24' });
      for (const a of FZ_SOURCES.slice(1)) l.addAddress('fz', 'fz0', `${a}/24`);
      l.addRoute('fz', '172.16.0.0/24', { gw: '192.168.77.1' });
    },
  });
  const common = { psk: PSK, policy: ['encryption aes 256', 'hash sha', 'group 2'], transform: 'esp-aes 256 esp-sha-hmac' };
  await gwA.configure(gatewayConfig({ ...common, hostname: 'gwA', wan: '172.16.0.1', lan: '10.1.0.1', lanNet: '10.1.0.0', remoteLanNet: '10.2.0.0', peers: ['172.16.0.2'] }));
  const cfgOut = await gwB.configure([...gatewayConfig({ ...common, hostname: 'gwB', wan: '172.16.0.2', lan: '10.2.0.1', lanNet: '10.2.0.0', remoteLanNet: '10.1.0.0', peers: ['172.16.0.1'] }), ...fuzzerConfig()]);
  if (/\[.*\] %/.test(cfgOut)) log(`gwB configuration complaints: ${cfgOut}`);
  await sleep(800);
  await lab.exec('hostA', ['ping', '-n', '-q', '-c', '3', '-i', '0.2', '-W', '1', '10.2.0.2'], { timeoutMs: 10_000 });
  const pidBefore = gwB.proc.pid;
  const pingPhase = async (seconds: number): Promise<number> => {
    const r = await lab.exec('hostA', ['ping', '-n', '-q', '-i', '0.2', '-W', '1', '-c', String(Math.max(5, seconds * 5)), '10.2.0.2'], { timeoutMs: (seconds + 10) * 1000 });
    return loss(r.stdout);
  };
  const before = await pingPhase(3);
  log(`ping loss before the flood: ${before.toFixed(1)} %`);
  const rssBeforeKb = rssKb(pidBefore);
  let espBefore: Awaited<ReturnType<typeof espCounters>> | undefined;

  const tool = await lab.spawnNode('fz', join(projectRoot(), 'test/lib/ike-fuzz-tool.ts'), [JSON.stringify({
    target: '172.16.0.2', v1Source: FZ_SOURCES[0], v1Selectors: { local: '10.77.0.0/24', remote: '10.2.0.0/24' },
    v2Source: FZ_SOURCES[1], v2Selectors: { local: '10.78.0.0/24', remote: '10.2.0.0/24' }, sources: FZ_SOURCES.slice(2),
    psk: PSK, count: opts.count, maxMs: opts.seconds * 1000, seed: opts.seed ?? 0x5eed,
  })], { name: 'ike-fuzz-tool' });
  // the flood starts once the capture line is printed
  const captureEnd = Date.now() + 30_000;
  while (tool.running && !tool.output.includes('"capture"') && Date.now() < captureEnd) await sleep(100);
  const captured = JSON.parse(tool.output.split('\n').find((l) => l.includes('"capture"')) ?? '{}') as { corpus?: number; v1IpsecSas?: number; v2Child?: boolean };
  log(`captured ${captured.corpus ?? 0} datagrams (IKEv1 IPsec SAs ${captured.v1IpsecSas ?? 0}, IKEv2 child ${String(captured.v2Child)})`);
  espBefore = await espCounters(gwB, FZ_SOURCES[0]!);
  // every 0.2 s; loss = echo requests due in the flood's time without a reply (ping prints no
  // summary when stopped by a signal)
  const pingStart = Date.now();
  const pingDuring = lab.spawn('hostA', ['ping', '-n', '-i', '0.2', '-W', '1', '-w', String(opts.seconds + 5), '10.2.0.2'], { name: 'ping-during' });
  const floodDone = (): boolean => !tool.running || tool.output.includes('"flood"');
  const latency = await consoleLatency(gwB, floodDone);
  // read before the tool's check phase (2 s after the flood) replaces the SA with a new Quick Mode
  const espAfter = await espCounters(gwB, FZ_SOURCES[0]!);
  const pingMs = Date.now() - pingStart;
  await pingDuring.stop(200);
  const replies = (pingDuring.output.match(/bytes from/g) ?? []).length;
  const duringLoss = Math.max(0, 100 * (1 - replies / (Math.floor(pingMs / 200) + 1)));
  const toolEnd = Date.now() + 30_000;
  while (tool.running && Date.now() < toolEnd) await sleep(100);
  const lineOf = (k: string): Record<string, unknown> => JSON.parse(tool.output.split('\n').find((l) => l.includes(`"${k}"`)) ?? '{}') as Record<string, unknown>;
  const flood = lineOf('flood') as { sent?: number; byKind?: Record<string, number>; ms?: number; tcp?: number };
  const check = lineOf('check') as { v1Alive?: boolean; v2Alive?: boolean };
  if (!flood.sent) log(`fuzz tool output: ${tool.output.slice(-2000)}`);
  const after = await pingPhase(3);
  const isa = await waitForText(() => gwB.exec('show crypto isakmp sa'), /172\.16\.0\.2\s+172\.16\.0\.1\s+QM_IDLE\s+\d+ ACTIVE/, 5000);
  const admission = await gwB.exec('show crypto call admission statistics');
  const greeting = await lab.exec('fz', ['timeout', '5', 'bash', '-c', 'exec 3<>/dev/tcp/172.16.0.2/22; head -c 8 <&3'], { timeoutMs: 10_000 });
  const rawSent = Object.entries(flood.byKind ?? {}).filter(([k]) => k.startsWith('raw-esp')).reduce((a, [, v]) => a + v, 0);
  const sorted = [...latency].sort((a, b) => a - b);
  return {
    datagrams: flood.sent ?? 0, byKind: flood.byKind ?? {}, floodMs: flood.ms ?? 0, corpus: captured.corpus ?? 0,
    pidBefore, pidAfter: gwB.proc.pid, daemonRunning: gwB.proc.running,
    rssBeforeKb, rssAfterKb: rssKb(gwB.proc.pid),
    pingLoss: { before, during: duringLoss, after },
    gwTunnelUp: /QM_IDLE/.test(isa) && after < 50,
    fuzzerV1Alive: check.v1Alive === true, fuzzerV2Alive: check.v2Alive === true,
    consoleMs: { median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted[sorted.length - 1] ?? 0, samples: sorted.length },
    admission,
    rawEsp: {
      sent: rawSent, decaps: espAfter.decaps - (espBefore?.decaps ?? 0), replayFailed: espAfter.replayFailed - (espBefore?.replayFailed ?? 0),
      verifyFailed: espAfter.verifyFailed - (espBefore?.verifyFailed ?? 0), noSa: espAfter.noSa - (espBefore?.noSa ?? 0),
    },
    ssh: { garbageConnections: flood.tcp ?? 0, greetsAfter: greeting.stdout.startsWith('SSH-2.0') },
  };
}

/** The report as `fuzz NAME: VALUE` lines. */
export function formatReport(r: CampaignReport): string[] {
  return [
    `fuzz datagrams: ${r.datagrams} in ${(r.floodMs / 1000).toFixed(1)} s (${Math.round(r.datagrams / Math.max(1, r.floodMs / 1000))}/s), corpus ${r.corpus}`,
    `fuzz kinds: ${Object.entries(r.byKind).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    `fuzz daemon pid: ${r.pidBefore} -> ${r.pidAfter} (${r.pidBefore === r.pidAfter && r.daemonRunning ? 'unchanged, running' : 'CHANGED OR DEAD'})`,
    `fuzz rss: ${(r.rssBeforeKb / 1024).toFixed(1)} MB -> ${(r.rssAfterKb / 1024).toFixed(1)} MB (growth ${((r.rssAfterKb - r.rssBeforeKb) / 1024).toFixed(1)} MB)`,
    `fuzz ping loss: before ${r.pingLoss.before.toFixed(1)} %, during ${r.pingLoss.during.toFixed(1)} %, after ${r.pingLoss.after.toFixed(1)} %`,
    `fuzz tunnels: gwA-gwB ${r.gwTunnelUp ? 'up' : 'DOWN'}, fuzzer IKEv1 SA ${r.fuzzerV1Alive ? 'alive' : 'DEAD'}, fuzzer IKEv2 SA ${r.fuzzerV2Alive ? 'alive' : 'DEAD'}`,
    `fuzz raw esp: ${r.rawEsp.sent} sent; gwB counted decaps +${r.rawEsp.decaps}, replay failed +${r.rawEsp.replayFailed}, verify failed +${r.rawEsp.verifyFailed}, no SA +${r.rawEsp.noSa}`,
    `fuzz ssh: ${r.ssh.garbageConnections} connections with garbage to port 22; SSH ${r.ssh.greetsAfter ? 'still greets' : 'SILENT'} afterwards`,
    `fuzz console latency: median ${r.consoleMs.median.toFixed(0)} ms, max ${r.consoleMs.max.toFixed(0)} ms (${r.consoleMs.samples} samples of show clock)`,
  ];
}
