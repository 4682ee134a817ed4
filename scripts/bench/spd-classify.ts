// SPD classification cost per packet at 10, 1,000 and 10,000 crypto ACL entries.
// Prints `bench spd-classify-N: X ns/pkt` (the compiled SPD, outbound lookup, half the
// packets hitting an entry and half going out in the clear) and, for comparison,
// `bench spd-classify-naive-N: X ns/pkt` (entry by entry, ACE by ACE, as the guide reads).
// Bounded: each measurement stops after its time share or its iteration cap. Costs are
// CPU ns per packet (process CPU time / packets), robust against a loaded machine.
import { naiveFirstMatch, parseAclEntry, type AclEntry } from '../../firmware/ipsec/acl-classifier.js';
import { makePacketKey, type PacketKey } from '../../firmware/ipsec/selector.js';
import { compileSpd, type SpdMapEntryInput } from '../../firmware/ipsec/spd.js';

export const meta = { description: 'SPD (crypto map + ACL) classification cost per packet at 10 / 1,000 / 10,000 ACEs' };

interface BenchCtx {
  seconds: number;
  report(name: string, value: number, unit: string): void;
  log(...msg: unknown[]): void;
}

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** A realistic big crypto map set: site subnets, a few host/port exceptions, 100 ACEs per map entry. */
function buildMap(n: number, r: () => number): { entries: SpdMapEntryInput[]; hits: PacketKey[] } {
  const entries: SpdMapEntryInput[] = [];
  const hits: PacketKey[] = [];
  const perEntry = Math.min(100, n);
  for (let base = 0, seq = 10; base < n; base += perEntry, seq += 10) {
    const acl: AclEntry[] = [];
    for (let i = base; i < Math.min(n, base + perEntry); i++) {
      const a = `10.${(i >> 8) & 255}.${i & 255}`;
      const b = `172.${16 + ((i >> 8) & 15)}.${i & 255}`;
      const c = r();
      if (c < 0.7) {
        acl.push(parseAclEntry(`permit ip ${a}.0 0.0.0.255 ${b}.0 0.0.0.255`));
        hits.push(makePacketKey(`${a}.${1 + Math.floor(r() * 250)}`, `${b}.${1 + Math.floor(r() * 250)}`, 6, 40000, 443));
      } else if (c < 0.85) {
        acl.push(parseAclEntry(`deny tcp host ${a}.1 ${b}.0 0.0.0.255 eq 22`));
        hits.push(makePacketKey(`${a}.1`, `${b}.9`, 6, 40000, 22));
      } else if (c < 0.95) {
        acl.push(parseAclEntry(`permit udp ${a}.0 0.0.0.255 ${b}.0 0.0.0.255 range 5000 6000`));
        hits.push(makePacketKey(`${a}.7`, `${b}.8`, 17, 5060, 5500));
      } else {
        acl.push(parseAclEntry(`permit ip ${a.replace(/\.\d+$/, '')}.0.0 0.0.255.255 ${b}.0 0.0.0.255`));
        hits.push(makePacketKey(`${a}.3`, `${b}.4`, 1));
      }
    }
    entries.push({ mapName: 'bench', seq, kind: 'isakmp', aclName: `acl${seq}`, acl });
  }
  return { entries, hits };
}

function naiveOutbound(sorted: SpdMapEntryInput[], k: PacketKey): number {
  for (const e of sorted) {
    const i = naiveFirstMatch(e.acl ?? [], k);
    if (i >= 0 && e.acl![i]!.action === 'permit') return e.seq;
  }
  return -1;
}

function measure(fn: (k: PacketKey) => unknown, keys: PacketKey[], budgetMs: number, maxIter: number): number {
  // warm up
  for (let i = 0; i < Math.min(2000, maxIter); i++) fn(keys[i % keys.length]!);
  // CPU time of this process, not wall time: the bench box is shared (2 cores, many
  // processes), and being descheduled must not count as classification cost.
  let iters = 0;
  let sink = 0;
  const wall0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (;;) {
    for (let j = 0; j < 1024; j++) {
      if (fn(keys[(iters + j) % keys.length]!) !== undefined) sink++;
    }
    iters += 1024;
    if (iters >= maxIter || performance.now() - wall0 >= budgetMs) break;
  }
  const cpu = process.cpuUsage(cpu0);
  if (sink < 0) console.log(sink);
  return ((cpu.user + cpu.system) * 1000) / iters;
}

export async function run(ctx: BenchCtx): Promise<void> {
  const share = Math.max(200, (ctx.seconds * 1000) / 6);
  for (const n of [10, 1000, 10000]) {
    const r = rng(n);
    const { entries, hits } = buildMap(n, r);
    const keys: PacketKey[] = [];
    for (let i = 0; i < 4096; i++) {
      if (i % 2 === 0) keys.push(hits[Math.floor(r() * hits.length)]!);
      else keys.push(makePacketKey(`192.168.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}`, `8.8.${Math.floor(r() * 256)}.8`, 17, 1234, 53));
    }
    const t0 = performance.now();
    const spd = compileSpd(entries, { countMatches: true });
    const compileMs = performance.now() - t0;
    const protects = keys.filter((k) => spd.outbound(k).action === 'protect').length;
    const ns = measure((k) => spd.outbound(k), keys, share, 5_000_000);
    ctx.report(`spd-classify-${n}`, ns, 'ns/pkt');
    const naive = measure((k) => naiveOutbound(entries, k), keys, share / 2, n >= 10000 ? 20_000 : 200_000);
    ctx.report(`spd-classify-naive-${n}`, naive, 'ns/pkt');
    const st = spd.classifier.stats();
    ctx.log(`spd-classify-${n}: compile ${compileMs.toFixed(1)} ms, ${st.tuples} shapes, ${st.buckets} buckets, largest bucket ${st.largestBucket}, ${protects}/${keys.length} packets protected`);
  }
}
