// `ping` and `traceroute` in exec mode, printed as IOS prints them. The probes are real
// ICMP sent from the box's own network namespace by the daemon (RuntimeView.icmp); `source`
// takes an address or an interface (its address), so `ping 10.2.0.2 source Gi0/1` sends
// from the LAN address and is protected by a crypto map like LAN traffic is.
import { parseIpv4 } from '../../lib/ip.js';
import { CliError, type CommandContext } from '../context.js';
import { defineCommand } from '../registry.js';
import { ifnameOf } from './interface.js';

export interface IcmpProbe {
  destination: string;
  /** Source address; the kernel picks one by routing when absent. */
  source?: string;
  /** Whole IP datagram, as IOS counts `size`. */
  sizeBytes: number;
  timeoutMs: number;
  ttl?: number;
}

export type IcmpResult =
  | { kind: 'reply'; from: string; rttMs: number }
  | { kind: 'ttl-exceeded'; from: string; rttMs: number }
  | { kind: 'unreachable'; from: string; rttMs: number; code: number }
  | { kind: 'timeout' };

/** What the daemon offers: one probe at a time, answered or timed out. */
export interface IcmpService {
  probe(p: IcmpProbe): Promise<IcmpResult>;
}

declare module '../context.js' {
  interface RuntimeView {
    icmp?: IcmpService;
  }
}

const OPTION = '<repeat (1-2147483647)$count|size (36-18024)$size|source <A.B.C.D$srcaddr|IFNAME$srcif>|timeout (0-3600)$timeout>';
const OPTION_HELP = {
  repeat: 'specify repeat count', count: 'Repeat count', size: 'specify datagram size', source: 'specify source address or name',
  srcaddr: 'Source address', srcif: 'Source interface', timeout: 'specify timeout interval', ip: 'IP echo',
};

function sourceAddress(ctx: CommandContext, addr: string | undefined, ifname: string | undefined): string | undefined {
  if (addr !== undefined) return addr;
  if (ifname === undefined) return undefined;
  const name = ifnameOf(ifname);
  const a = ctx.config.interfaces.items[name]?.ipAddress?.address;
  if (!a) throw new CliError(`% Invalid source interface - ${name} has no IP address`);
  return a;
}

/** The daemon's probe service; its failures (no raw socket without root) become CLI errors. */
function icmp(ctx: CommandContext): IcmpService {
  const s = ctx.system.runtime.icmp;
  if (!s) throw new CliError('% ping is not available: this box has no ICMP service');
  return {
    probe: async (p) => {
      try {
        return await s.probe(p);
      } catch (err) {
        throw new CliError(`% ${(err as Error).message}`);
      }
    },
  };
}

/** The last value typed for an option (options may repeat, as in IOS the last one counts). */
const last = (all: string[]): string | undefined => all[all.length - 1];

defineCommand({
  modes: ['user', 'exec'],
  syntax: `ping [ip] A.B.C.D$target [${OPTION}] [${OPTION}] [${OPTION}] [${OPTION}]`,
  help: { ping: 'Send echo messages', target: 'Ping destination address or hostname', ...OPTION_HELP },
  pipe: true,
  async handler(ctx, a) {
    const target = a.req('target');
    const count = Number(last(a.all('count')) ?? 5);
    const size = Number(last(a.all('size')) ?? 100);
    const timeoutSec = Number(last(a.all('timeout')) ?? 2);
    const source = sourceAddress(ctx, last(a.all('srcaddr')), last(a.all('srcif')));
    const svc = icmp(ctx);
    const live = (t: string) => ctx.session.writeAsync(t);
    live('Type escape sequence to abort.\n');
    live(`Sending ${count}, ${size}-byte ICMP Echos to ${target}, timeout is ${timeoutSec} seconds:\n`);
    if (source) live(`Packet sent with a source address of ${source} \n`);
    const rtts: number[] = [];
    let col = 0;
    for (let i = 0; i < count; i++) {
      const r = await svc.probe({ destination: target, source, sizeBytes: size, timeoutMs: timeoutSec * 1000 });
      if (r.kind === 'reply') rtts.push(r.rttMs);
      live(r.kind === 'reply' ? '!' : r.kind === 'unreachable' ? 'U' : r.kind === 'ttl-exceeded' ? '&' : '.');
      // IOS wraps the progress line at 70 characters.
      if (++col === 70 && i < count - 1) { live('\n'); col = 0; }
    }
    live('\n');
    const pct = count === 0 ? 0 : Math.floor((rtts.length * 100) / count);
    const stats = rtts.length > 0
      ? `, round-trip min/avg/max = ${Math.min(...rtts)}/${Math.round(rtts.reduce((x, y) => x + y, 0) / rtts.length)}/${Math.max(...rtts)} ms`
      : '';
    ctx.data({ target, sent: count, received: rtts.length, rttMs: rtts });
    ctx.print(`Success rate is ${pct} percent (${rtts.length}/${count})${stats}`);
  },
});

const TRACE_OPTION = '<source <A.B.C.D$srcaddr|IFNAME$srcif>|timeout (0-3600)$timeout|ttl (1-255)$minttl (1-255)$maxttl|probe (1-65535)$probes>';

defineCommand({
  modes: ['user', 'exec'],
  syntax: `traceroute [ip] A.B.C.D$target [${TRACE_OPTION}] [${TRACE_OPTION}] [${TRACE_OPTION}]`,
  help: {
    traceroute: 'Trace route to destination', target: 'Trace route to destination address or hostname', ...OPTION_HELP,
    ttl: 'specify minimum and maximum ttl', minttl: 'Minimum time to live', maxttl: 'Maximum time to live', probe: 'specify number of probes per hop', probes: 'Number of probes',
  },
  async handler(ctx, a) {
    const target = a.req('target');
    if (parseIpv4(target) === undefined) throw new CliError(`% Unrecognized host or address: ${target}`);
    const timeoutSec = Number(last(a.all('timeout')) ?? 3);
    const probes = Number(last(a.all('probes')) ?? 3);
    const minTtl = Number(last(a.all('minttl')) ?? 1);
    const maxTtl = Number(last(a.all('maxttl')) ?? 30);
    const source = sourceAddress(ctx, last(a.all('srcaddr')), last(a.all('srcif')));
    const svc = icmp(ctx);
    const live = (t: string) => ctx.session.writeAsync(t);
    live(`Type escape sequence to abort.\nTracing the route to ${target}\nVRF info: (vrf in name/id, vrf out name/id)\n`);
    const hops: Array<{ ttl: number; from: string | undefined; rttMs: Array<number | null> }> = [];
    for (let ttl = minTtl; ttl <= maxTtl; ttl++) {
      let from: string | undefined;
      let reached = false;
      const times: Array<number | null> = [];
      live(`${String(ttl).padStart(3)} `);
      for (let p = 0; p < probes; p++) {
        const r = await svc.probe({ destination: target, source, sizeBytes: 60, timeoutMs: timeoutSec * 1000, ttl });
        if (r.kind === 'timeout') { live(p === 0 ? '* ' : ' * '); times.push(null); continue; }
        if (from !== r.from) { live(`${from === undefined ? '' : '\n    '}${r.from} `); from = r.from; }
        live(`${r.rttMs} msec${r.kind === 'unreachable' ? ' !H' : ''} `);
        times.push(r.rttMs);
        if (r.kind === 'reply' || r.kind === 'unreachable') reached = true;
      }
      live('\n');
      hops.push({ ttl, from, rttMs: times });
      if (reached) break;
    }
    ctx.data({ target, hops });
  },
});
