// One measurement recipe for every site-to-site tunnel (strongSwan now, Rampart later):
// build the topology of test/lib/site-to-site.ts, let the caller start the tunnel
// endpoints in gwA and gwB, then run bounded iperf3 TCP / UDP / small-packet UDP runs from
// hostA to hostB and ping for latency. The same function measures a plain routed path
// (no tunnel) as the baseline.
//
// Hook for Rampart: pass `start: async (lab, topo) => { ...start two daemons in
// topo.gwA / topo.gwB (lab.spawn), configure them, wait until traffic passes...;
// return { stop } }`. Everything else (topology, iperf3, parsing) is shared.
import { Lab, hasCommand } from '../../../test/lib/netns.js';
import { buildSiteToSite, ping, type SiteToSite } from '../../../test/lib/site-to-site.js';

export interface TunnelEndpoints {
  /** one-line description printed in the bench log (cipher, mode...) */
  describe?: string;
  stop(): Promise<void>;
}

/** Starts tunnel endpoints in topo.gwA and topo.gwB; null means "plain routing". */
export type StartTunnel = (lab: Lab, topo: SiteToSite) => Promise<TunnelEndpoints>;

export interface TunnelBenchResult {
  tcpMbps: number;
  /** UDP receive rate with 1200-byte datagrams, sender unthrottled */
  udpMbps: number;
  udpLossPct: number;
  /** 64-byte UDP payload datagrams received per second */
  udp64Pps: number;
  /** average ping RTT hostA -> hostB in ms */
  rttMs: number;
  describe: string;
}

export interface TunnelBenchOptions {
  /** unique lab prefix, e.g. 'rb-swan' */
  prefix: string;
  /** null: plain routes between the gateways, no tunnel */
  start: StartTunnel | null;
  seconds: number;
  /** which measurements to run (default all) */
  only?: Array<'tcp' | 'udp' | 'udp64' | 'rtt'>;
  log?: (...msg: unknown[]) => void;
  /** called as soon as each measurement is done (so a later failure loses nothing) */
  onResult?: (what: 'tcpMbps' | 'udpMbps' | 'udpLossPct' | 'udp64Pps' | 'rttMs', value: number) => void;
}

interface IperfJson {
  end?: {
    sum_received?: { bits_per_second?: number };
    sum?: { bits_per_second?: number; lost_percent?: number; packets?: number; lost_packets?: number; seconds?: number };
  };
  error?: string;
}

export function requireTools(): void {
  for (const c of ['iperf3', 'ping', 'ip']) if (!hasCommand(c)) throw new Error(`bench needs ${c} (Debian iperf3 / iputils-ping / iproute2)`);
}

export async function runTunnelBench(opts: TunnelBenchOptions): Promise<TunnelBenchResult> {
  requireTools();
  const only = new Set(opts.only ?? ['tcp', 'udp', 'udp64', 'rtt']);
  const log = opts.log ?? (() => {});
  const lab = Lab.create(opts.prefix);
  try {
    const topo = buildSiteToSite(lab, { plainRoutes: opts.start === null });
    const endpoints = opts.start ? await opts.start(lab, topo) : { describe: 'plain routing', stop: async () => {} };
    log(`${opts.prefix}: ${endpoints.describe ?? ''}`);
    if (!(await ping(lab, 'hostA', topo.addr.hostB, { count: 2 }))) throw new Error('no connectivity hostA -> hostB through the tunnel');
    const res: TunnelBenchResult = { tcpMbps: NaN, udpMbps: NaN, udpLossPct: NaN, udp64Pps: NaN, rttMs: NaN, describe: endpoints.describe ?? '' };
    const secs = String(opts.seconds);
    // One iperf3 server per measurement (-1: exits after one test), and one retry: an
    // unthrottled UDP flood through a slow tunnel can starve iperf3's TCP control
    // connection. A measurement that still fails is NaN and logged, not fatal.
    const measure = async (what: string, args: string[]): Promise<IperfJson | undefined> => {
      for (let attempt = 1; attempt <= 2; attempt++) {
        const server = lab.spawn('hostB', ['iperf3', '-s', '-1', '-B', topo.addr.hostB], { name: `iperf3-${what}-${attempt}` });
        try {
          await waitListening(lab, 'hostB', 5201);
          return await iperf(lab, ['-c', topo.addr.hostB, '-t', secs, '-J', ...args], opts.seconds);
        } catch (e) {
          log(`${opts.prefix}: ${what} attempt ${attempt} failed: ${(e as Error).message.split('\n')[0]}`);
        } finally {
          await server.stop(500);
        }
      }
      return undefined;
    };
    if (only.has('tcp')) {
      const j = await measure('tcp', []);
      res.tcpMbps = (j?.end?.sum_received?.bits_per_second ?? NaN) / 1e6;
      opts.onResult?.('tcpMbps', res.tcpMbps);
    }
    if (only.has('udp')) {
      const s = (await measure('udp', ['-u', '-b', '0', '-l', '1200']))?.end?.sum;
      res.udpLossPct = s?.lost_percent ?? NaN;
      const got = (s?.packets ?? 0) - (s?.lost_packets ?? 0);
      res.udpMbps = s?.seconds ? (got * 1200 * 8) / s.seconds / 1e6 : NaN;
      opts.onResult?.('udpMbps', res.udpMbps);
      opts.onResult?.('udpLossPct', res.udpLossPct);
    }
    if (only.has('udp64')) {
      const s = (await measure('udp64', ['-u', '-b', '0', '-l', '64']))?.end?.sum;
      const got = (s?.packets ?? 0) - (s?.lost_packets ?? 0);
      res.udp64Pps = s?.seconds ? got / s.seconds : NaN;
      opts.onResult?.('udp64Pps', res.udp64Pps);
    }
    if (only.has('rtt')) {
      const r = await lab.exec('hostA', ['ping', '-n', '-q', '-c', '20', '-i', '0.05', topo.addr.hostB], { timeoutMs: 20_000 });
      const m = /= [\d.]+\/([\d.]+)\//.exec(r.stdout);
      res.rttMs = m ? Number(m[1]) : NaN;
      opts.onResult?.('rttMs', res.rttMs);
    }
    await endpoints.stop();
    return res;
  } finally {
    await lab.destroy();
  }
}

/** A tunnel kept up between measurements (openTunnel): TCP runs on demand, interleaved with another's. */
export interface OpenTunnel {
  describe: string;
  /** one bounded iperf3 TCP run hostA -> hostB (Mbit/s; NaN when it failed twice) */
  tcp(seconds: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * The topology and tunnel of runTunnelBench, left up: a ratio of two tunnels measured in
 * alternating short runs sees the host's changing load on both sides alike.
 */
export async function openTunnel(opts: { prefix: string; start: StartTunnel; log?: (...msg: unknown[]) => void }): Promise<OpenTunnel> {
  requireTools();
  const log = opts.log ?? (() => {});
  const lab = Lab.create(opts.prefix);
  try {
    const topo = buildSiteToSite(lab, { plainRoutes: false });
    const endpoints = await opts.start(lab, topo);
    log(`${opts.prefix}: ${endpoints.describe ?? ''}`);
    if (!(await ping(lab, 'hostA', topo.addr.hostB, { count: 2 }))) throw new Error('no connectivity hostA -> hostB through the tunnel');
    let n = 0;
    return {
      describe: endpoints.describe ?? '',
      async tcp(seconds) {
        for (let attempt = 1; attempt <= 2; attempt++) {
          const server = lab.spawn('hostB', ['iperf3', '-s', '-1', '-B', topo.addr.hostB], { name: `iperf3-tcp-${++n}` });
          try {
            await waitListening(lab, 'hostB', 5201);
            const j = await iperf(lab, ['-c', topo.addr.hostB, '-t', String(seconds), '-J'], seconds);
            return (j.end?.sum_received?.bits_per_second ?? NaN) / 1e6;
          } catch (e) {
            log(`${opts.prefix}: tcp attempt ${attempt} failed: ${(e as Error).message.split('\n')[0]}`);
          } finally {
            await server.stop(500);
          }
        }
        return NaN;
      },
      async close() {
        try { await endpoints.stop(); } finally { await lab.destroy(); }
      },
    };
  } catch (e) {
    await lab.destroy();
    throw e;
  }
}

async function iperf(lab: Lab, args: string[], seconds: number): Promise<IperfJson> {
  const r = await lab.exec('hostA', ['iperf3', ...args], { timeoutMs: (seconds + 20) * 1000 });
  let j: IperfJson;
  try {
    j = JSON.parse(r.stdout) as IperfJson;
  } catch {
    throw new Error(`iperf3 ${args.join(' ')}: no JSON (${r.code}): ${r.stderr.slice(0, 500)}`);
  }
  if (j.error) throw new Error(`iperf3 ${args.join(' ')}: ${j.error}`);
  return j;
}

/** Waits until something listens on TCP `port` inside ns (the iperf3 server). */
async function waitListening(lab: Lab, ns: string, port: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const r = await lab.exec(ns, ['ss', '-Hltn', `sport = :${port}`], { timeoutMs: 3000 });
    if (r.code === 0 && r.stdout.trim() !== '') return;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`nothing listens on port ${port} in ${ns}`);
}
