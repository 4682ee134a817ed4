// TUN I/O of the userspace data plane (firmware/dataplane/tun.ts), in a lab namespace:
//   tun-read      packets/s read from the TUN while two UDP floods (64-byte payloads,
//                 node dgram, bounded) are routed into it. The generators share the two
//                 cores with the reader, so this is a lower bound of the reader's capacity.
//   tun-read-cpu  CPU time of this process (reader worker + main thread) per packet read
//   tun-write     packets/s written (fs.writeSync, 84-byte IPv4/UDP packets)
//   tun-timer-late  worst lateness of a 5 ms timer during the read flood
//   tun-relay-tcp iperf3 TCP between two namespaces whose only path is two TUNs joined
//                 by this process (read from one, write to the other, no crypto): the
//                 ceiling of any userspace data plane built on this TUN I/O
//   tun-relay-tcp-offload  same with IFF_VNET_HDR/TSO on both TUNs, super-packets passed
//                 through unchanged (an upper bound: ESP cannot do this)
//   tun-relay-tcp-seg      offload TUN on the sending side, super-packets cut back into
//                 MTU-sized segments (segmentFrame, checksums in JS) and written one by
//                 one to a plain TUN: what an ESP pipeline on offload would pay before crypto
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { Lab, hasCommand } from '../../test/lib/netns.js';
import { TunDevice } from '../../firmware/dataplane/tun.js';

export const meta: BenchModuleMeta = { description: 'TUN read/write packets per second', needsRoot: true };

const FLOOD = (count: number, secs: number): string =>
  `const s=require('dgram').createSocket('udp4');const b=Buffer.alloc(64);let n=0;const end=Date.now()+${secs * 1000};` +
  `function go(){let k=0;while(k<256&&n<${count}){s.send(b,9999,'10.66.0.2');k++;n++;}` +
  `if(n<${count}&&Date.now()<end)setImmediate(go);else setTimeout(()=>{console.log('sent '+n);process.exit(0)},100);}go();`;

function udpPacket(): Uint8Array {
  const p = new Uint8Array(84);
  const v = new DataView(p.buffer);
  p[0] = 0x45; v.setUint16(2, p.length); p[8] = 64; p[9] = 17;
  p.set([10, 66, 0, 2], 12); p.set([10, 66, 0, 1], 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += v.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(10, ~sum & 0xffff);
  v.setUint16(20, 5555); v.setUint16(22, 9); v.setUint16(24, 64);
  return p;
}

/** Two namespaces, each with a TUN owned by this process; packets are copied across. */
async function relayTcp(ctx: BenchContext, mode: 'plain' | 'offload' | 'seg' | 'gro'): Promise<void> {
  if (!hasCommand('iperf3')) throw new Error('needs iperf3');
  const lab = Lab.create('rb-tunrl');
  // seg: writes into the offload TUN (the ACKs b->a) stay one packet per write
  const ta = TunDevice.open({ name: 'rbtra', offload: mode !== 'plain', rawFrames: mode === 'offload', gro: mode === 'gro' });
  const tb = TunDevice.open({ name: 'rbtrb', offload: mode === 'offload' || mode === 'gro', rawFrames: mode === 'offload', gro: mode === 'gro' });
  try {
    lab.addNamespace('a');
    lab.addNamespace('b');
    ta.moveToNetns(lab.nsName('a'));
    tb.moveToNetns(lab.nsName('b'));
    for (const [ns, dev, mine, other] of [['a', 'rbtra', '10.61.0.1', '10.62.0.0/24'], ['b', 'rbtrb', '10.62.0.1', '10.61.0.0/24']] as const) {
      lab.execSync(ns, ['ip', 'addr', 'add', `${mine}/24`, 'dev', dev]);
      lab.execSync(ns, ['ip', 'link', 'set', dev, 'up', 'mtu', '1400', 'txqueuelen', '1000']);
      lab.execSync(ns, ['ip', 'route', 'add', other, 'dev', dev]);
    }
    if (mode === 'offload') {
      ta.onPacket((f) => { tb.writeFrame(f); });
      tb.onPacket((f) => { ta.writeFrame(f); });
    } else {
      ta.onPacket((p) => { tb.write(p); });
      tb.onPacket((p) => { ta.write(p); });
    }
    const server = lab.spawn('b', ['iperf3', '-s', '-B', '10.62.0.1'], { name: 'iperf3-s' });
    for (let i = 0; i < 50; i++) {
      const r = await lab.exec('b', ['ss', '-Hltn', 'sport = :5201']);
      if (r.stdout.trim()) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    const cpu0 = process.cpuUsage();
    const r = await lab.exec('a', ['iperf3', '-c', '10.62.0.1', '-B', '10.61.0.1', '-t', String(ctx.seconds), '-J'], { timeoutMs: (ctx.seconds + 20) * 1000 });
    const cpu = process.cpuUsage(cpu0);
    await server.stop();
    const j = JSON.parse(r.stdout || '{}') as { end?: { sum_received?: { bits_per_second?: number } }; error?: string };
    if (j.error) throw new Error(`iperf3: ${j.error}`);
    const name = mode === 'plain' ? 'tun-relay-tcp' : `tun-relay-tcp-${mode}`;
    const gro = tb.stats.txGsoFrames > 0 ? `, GRO b: ${tb.stats.txPackets} packets written in ${tb.stats.txPackets - tb.stats.txGsoSegments + tb.stats.txGsoFrames} writes` : '';
    ctx.log(`${name}: relay CPU ${((cpu.user + cpu.system) / 1e6 / ctx.seconds * 100).toFixed(0)}% of one core, packets a->b ${ta.stats.rxPackets}, b->a ${tb.stats.rxPackets}${gro}`);
    ctx.report(name, (j.end?.sum_received?.bits_per_second ?? NaN) / 1e6, 'Mbit/s');
  } finally {
    await ta.close();
    await tb.close();
    await lab.destroy();
  }
}

export async function run(ctx: BenchContext): Promise<void> {
  await readWrite(ctx);
  for (const mode of ['plain', 'offload', 'seg', 'gro'] as const) await relayTcp(ctx, mode);
}

async function readWrite(ctx: BenchContext): Promise<void> {
  const lab = Lab.create('rb-tunio');
  const tun = TunDevice.open({ name: 'rbtun0' });
  try {
    lab.addNamespace('a');
    tun.moveToNetns(lab.nsName('a'));
    lab.execSync('a', ['ip', 'addr', 'add', '10.66.0.1/24', 'dev', 'rbtun0']);
    lab.execSync('a', ['ip', 'link', 'set', 'rbtun0', 'up', 'txqueuelen', '1000']);
    let got = 0;
    tun.onPacket(() => { got++; });
    await new Promise((r) => setTimeout(r, 300)); // worker start-up, IPv6 noise settles

    let maxLate = 0;
    let last = performance.now();
    const timer = setInterval(() => { const now = performance.now(); maxLate = Math.max(maxLate, now - last - 5); last = now; }, 5);
    const secs = Math.min(ctx.seconds, 5);
    const got0 = got;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const gens = [0, 1].map((i) => lab.spawn('a', [process.execPath, '-e', FLOOD(2_000_000, secs)], { name: `flood${i}` }));
    await Promise.all(gens.map((g) => g.wait()));
    const dt = (performance.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 100));
    clearInterval(timer);
    const cpu = process.cpuUsage(cpu0);
    const read = got - got0;
    const sent = gens.reduce((s, g) => s + Number(/sent (\d+)/.exec(g.output)?.[1] ?? 0), 0);
    ctx.log(`tun-io: generators sent ${sent}, read ${read} (${((100 * read) / Math.max(sent, 1)).toFixed(1)}%), wakeups ${tun.stats.rxWakeups}, ring-full waits ${tun.stats.rxRingFullWaits}`);
    ctx.report('tun-read', read / dt, 'pps');
    ctx.report('tun-read-cpu', ((cpu.user + cpu.system) / Math.max(read, 1)), 'us/packet');
    ctx.report('tun-timer-late', maxLate, 'ms');

    const pkt = udpPacket();
    const N = 200_000;
    const w0 = performance.now();
    let ok = 0;
    for (let i = 0; i < N; i++) if (tun.write(pkt)) ok++;
    const wdt = (performance.now() - w0) / 1000;
    ctx.report('tun-write', ok / wdt, 'pps');
  } finally {
    await tun.close();
    await lab.destroy();
  }
}
