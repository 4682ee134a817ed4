// The box as Linux sees it, for show commands: load rates of the board's ports (`show
// interfaces`: on top of the link state and counters port-status.ts reports), the neighbour
// table (`show arp`), CPU and memory of the box and its processes (`show processes`, `show
// version`), name servers (`show hosts`).
//
// Everything is read from the daemon's own network namespace: `ip -j neigh` (neighbours with
// their ages), /sys/class/net/IF/address, /proc/stat, /proc/meminfo, /proc/PID/*.
// A 5-second sampler (unref'd timer, small reads) keeps the load averages the way IOS does
// (5 s, 1 min, 5 min for the CPU; the interface's load interval for the rates).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import type { InterfaceRuntimeStatus } from '../cli/commands/routing.js';
import type { ArpEntry, HostMemory, HostProcesses, ProcessCpuRow, ProcessMemoryRow } from '../cli/commands/show-system.js';
import type { Config } from '../config/model.js';
import type { DaemonService, ServiceContext } from './daemon.js';

const SAMPLE_MS = 5000;
/** Linux USER_HZ: /proc times are in 1/100 s on every architecture Rampart runs on. */
const CLK_TCK = 100;

/** /proc/stat first line: busy and total jiffies of all CPUs, and the part spent in interrupts. */
export function parseCpuLine(text: string): { busy: number; total: number; irq: number } | undefined {
  const m = /^cpu\s+(.*)$/m.exec(text);
  if (!m) return undefined;
  const f = m[1]!.trim().split(/\s+/).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait, irq: irq + softirq };
}

/** /proc/PID/stat: name, and user+system CPU time in ms. */
export function parseProcStat(text: string): { name: string; cpuMs: number } | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(' ');
  // fields after the name start at field 3 (state): utime is field 14, stime 15
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return { name: text.slice(open + 1, close), cpuMs: Math.round(((utime + stime) * 1000) / CLK_TCK) };
}

/** `aa:bb:cc:dd:ee:ff` -> `aabb.ccdd.eeff`. */
export function dottedMac(mac: string): string {
  const hex = mac.replace(/[^0-9a-fA-F]/g, '').toLowerCase();
  return `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8, 12)}`;
}

/** Exponentially decayed average, as IOS's load figures. */
function decay(prev: number, sample: number, dtMs: number, windowMs: number): number {
  const w = Math.exp(-dtMs / windowMs);
  return prev * w + sample * (1 - w);
}

interface CpuSample { atMs: number; busy: number; total: number; irq: number }
interface ProcSample { atMs: number; cpuMs: Map<number, number> }
/** Packet and byte counts of a port at one moment. */
interface PortCounts { inBytes: number; outBytes: number; inPackets: number; outPackets: number }
interface RateState { atMs: number; c: PortCounts; inBps: number; outBps: number; inPps: number; outPps: number }

function countsOf(st: InterfaceRuntimeStatus | undefined): PortCounts | undefined {
  const c = st?.counters;
  if (!c) return undefined;
  return { inBytes: Number(c.inBytes), outBytes: Number(c.outBytes), inPackets: Number(c.inPackets), outPackets: Number(c.outPackets) };
}

function readText(path: string): string | undefined {
  try { return readFileSync(path, 'utf8'); } catch { return undefined; }
}

export class HostStatusService implements DaemonService {
  readonly name = 'host-status';
  private ctx!: ServiceContext;
  private timer: NodeJS.Timeout | undefined;
  private lastCpu: CpuSample | undefined;
  private cpuLoad = { fiveSec: 0, fiveSecIrq: 0, oneMin: 0, fiveMin: 0 };
  private readonly procSamples: ProcSample[] = [];
  private readonly rates = new Map<string, RateState>();
  private config: Config | undefined;
  /** What reported the ports before (port-status.ts): link, MAC, counters. */
  private readonly unregister: Array<() => void> = [];

  constructor(private readonly opts: { procRoot?: string; sysRoot?: string } = {}) {}

  private get proc(): string { return this.opts.procRoot ?? '/proc'; }
  private get sys(): string { return this.opts.sysRoot ?? '/sys'; }

  async start(ctx: ServiceContext): Promise<void> {
    this.ctx = ctx;
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
    const rt = ctx.runtime;
    // load rates on top of what the ports' provider reports (port-status.ts)
    this.unregister.push(rt.statusDecorators.add((name, st) => this.withRates(name, st)));
    this.unregister.push(
      rt.provide('hostProcesses', () => this.processes(), this.name),
      rt.provide('hostMemory', () => this.memory(), this.name),
      rt.provide('hostMemoryTotal', () => totalmem(), this.name),
      rt.provide('arpTable', () => this.arp(), this.name),
      rt.provide('nameServers', () => this.nameServers(), this.name),
    );
  }

  apply(config: Config): void {
    this.config = config;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const u of this.unregister.splice(0)) u();
  }

  // ---------------------------------------------------------------- sampling

  private sample(): void {
    const now = this.ctx.system.now();
    const cpu = parseCpuLine(readText(`${this.proc}/stat`) ?? '');
    if (cpu) {
      const prev = this.lastCpu;
      if (prev && cpu.total > prev.total) {
        const dt = cpu.total - prev.total;
        const busy = (100 * (cpu.busy - prev.busy)) / dt;
        const irq = (100 * (cpu.irq - prev.irq)) / dt;
        const dtMs = now - prev.atMs;
        this.cpuLoad = {
          fiveSec: busy, fiveSecIrq: irq,
          oneMin: decay(this.cpuLoad.oneMin, busy, dtMs, 60_000),
          fiveMin: decay(this.cpuLoad.fiveMin, busy, dtMs, 300_000),
        };
      }
      this.lastCpu = { atMs: now, ...cpu };
    }
    for (const port of Object.keys(this.ctx.board.portMap)) {
      const c = countsOf(this.ctx.runtime.providedStatus(port));
      if (c) this.updateRate(port, c, now);
    }
  }

  private updateRate(port: string, c: PortCounts, now: number): RateState {
    const prev = this.rates.get(port);
    const windowMs = (this.config?.interfaces?.items[port]?.loadIntervalSec ?? 300) * 1000;
    if (!prev || now <= prev.atMs) {
      const st = { atMs: now, c, inBps: prev?.inBps ?? 0, outBps: prev?.outBps ?? 0, inPps: prev?.inPps ?? 0, outPps: prev?.outPps ?? 0 };
      this.rates.set(port, st);
      return st;
    }
    const dtMs = now - prev.atMs;
    if (dtMs < 1000) return prev; // too short a gap to say anything about a rate
    const per = (a: number, b: number): number => Math.max(0, a - b) * (1000 / dtMs);
    const st: RateState = {
      atMs: now, c,
      inBps: decay(prev.inBps, per(c.inBytes, prev.c.inBytes) * 8, dtMs, windowMs),
      outBps: decay(prev.outBps, per(c.outBytes, prev.c.outBytes) * 8, dtMs, windowMs),
      inPps: decay(prev.inPps, per(c.inPackets, prev.c.inPackets), dtMs, windowMs),
      outPps: decay(prev.outPps, per(c.outPackets, prev.c.outPackets), dtMs, windowMs),
    };
    this.rates.set(port, st);
    return st;
  }

  // ---------------------------------------------------------------- interfaces

  /** The port's status as reported before, with IOS's load rates (bits and packets per second). */
  private withRates(name: string, st: InterfaceRuntimeStatus): InterfaceRuntimeStatus {
    const c = countsOf(st);
    if (!c || this.ctx.board.portMap[name] === undefined) return st;
    const r = this.updateRate(name, c, this.ctx.system.now());
    return {
      ...st,
      inBitsPerSec: Math.round(r.inBps), outBitsPerSec: Math.round(r.outBps),
      inPacketsPerSec: Math.round(r.inPps), outPacketsPerSec: Math.round(r.outPps),
    };
  }

  // ---------------------------------------------------------------- neighbours

  async arp(): Promise<ArpEntry[]> {
    const byIf = new Map<string, string>();
    for (const [port, ifname] of Object.entries(this.ctx.board.portMap)) byIf.set(ifname, port);
    const out: ArpEntry[] = [];
    // the box's own addresses first-class, as IOS lists them (age '-')
    for (const [name, itf] of Object.entries(this.config?.interfaces?.items ?? {})) {
      const ifname = this.ctx.board.portMap[name];
      if (!ifname || !itf.ipAddress) continue;
      const mac = readText(`${this.sys}/class/net/${ifname}/address`)?.trim();
      for (const a of [itf.ipAddress, ...(itf.secondary ?? [])]) out.push({ address: a.address, ageMin: undefined, mac: mac ? dottedMac(mac) : undefined, interface: name });
    }
    const text = await new Promise<string>((resolve) => {
      execFile('ip', ['-4', '-j', '-s', 'neigh', 'show'], { timeout: 2000 }, (err, stdout) => resolve(err ? '[]' : stdout));
    });
    let list: { dst?: string; dev?: string; lladdr?: string; state?: string[]; confirmed?: number; used?: number }[] = [];
    try { list = JSON.parse(text || '[]') as typeof list; } catch { list = []; }
    for (const n of list) {
      const port = n.dev !== undefined ? byIf.get(n.dev) : undefined;
      if (!port || !n.dst || n.state?.includes('FAILED')) continue;
      const ageSec = n.confirmed ?? n.used ?? 0;
      out.push({ address: n.dst, ageMin: Math.floor(ageSec / 60), mac: n.lladdr ? dottedMac(n.lladdr) : undefined, interface: port });
    }
    const num = (a: string): number => a.split('.').reduce((v, o) => v * 256 + Number(o), 0);
    return out.sort((x, y) => num(x.address) - num(y.address));
  }

  nameServers(): string[] {
    const text = readText('/etc/resolv.conf') ?? '';
    return [...text.matchAll(/^\s*nameserver\s+(\S+)/gm)].map((m) => m[1]!);
  }

  // ---------------------------------------------------------------- processes

  private async pids(): Promise<number[]> {
    const names = await readdir(this.proc).catch(() => [] as string[]);
    return names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b);
  }

  async processes(): Promise<HostProcesses> {
    const now = this.ctx.system.now();
    const rows: ProcessCpuRow[] = [];
    const cpuNow = new Map<number, number>();
    // percent of one CPU since the newest earlier snapshot at least `ms` old (or the oldest one)
    const since = (pid: number, cpuMs: number, ms: number): number => {
      const older = this.procSamples.filter((s) => now - s.atMs >= Math.min(ms, 1000) && s.cpuMs.has(pid));
      const pick = older.reverse().find((s) => now - s.atMs >= ms) ?? older[older.length - 1];
      if (!pick) return 0;
      return Math.max(0, (100 * (cpuMs - pick.cpuMs.get(pid)!)) / (now - pick.atMs));
    };
    for (const pid of await this.pids()) {
      const st = parseProcStat(await readFile(`${this.proc}/${pid}/stat`, 'utf8').catch(() => ''));
      if (!st) continue;
      const status = await readFile(`${this.proc}/${pid}/status`, 'utf8').catch(() => '');
      const sw = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
      cpuNow.set(pid, st.cpuMs);
      rows.push({
        pid, name: pid === process.pid ? `${st.name} (rampart daemon)` : st.name, runtimeMs: st.cpuMs,
        invoked: sw('voluntary_ctxt_switches') + sw('nonvoluntary_ctxt_switches'),
        fiveSec: since(pid, st.cpuMs, 5000), oneMin: since(pid, st.cpuMs, 60_000), fiveMin: since(pid, st.cpuMs, 300_000),
      });
    }
    this.procSamples.push({ atMs: now, cpuMs: cpuNow });
    while (this.procSamples.length > 0 && now - this.procSamples[0]!.atMs > 330_000) this.procSamples.shift();
    if (this.procSamples.length > 64) this.procSamples.splice(0, this.procSamples.length - 64);
    return { cpu: { fiveSec: this.cpuLoad.fiveSec, fiveSecInterrupt: this.cpuLoad.fiveSecIrq, oneMin: this.cpuLoad.oneMin, fiveMin: this.cpuLoad.fiveMin }, processes: rows };
  }

  async memory(): Promise<HostMemory> {
    const mem = await readFile(`${this.proc}/meminfo`, 'utf8').catch(() => '');
    const kb = (k: string): number | undefined => { const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(mem); return m ? Number(m[1]) * 1024 : undefined; };
    const total = kb('MemTotal') ?? totalmem();
    const free = kb('MemAvailable') ?? kb('MemFree') ?? 0;
    const rows: ProcessMemoryRow[] = [];
    for (const pid of await this.pids()) {
      const status = await readFile(`${this.proc}/${pid}/status`, 'utf8').catch(() => '');
      const name = /^Name:\s+(.*)$/m.exec(status)?.[1];
      if (!name) continue;
      const v = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
      const holding = v('VmRSS');
      const peak = Math.max(v('VmHWM'), holding);
      rows.push({ pid, name: pid === process.pid ? `${name} (rampart daemon)` : name, allocated: peak, freed: peak - holding, holding });
    }
    const daemonResources: Record<string, number> = {};
    for (const kind of process.getActiveResourcesInfo()) daemonResources[kind] = (daemonResources[kind] ?? 0) + 1;
    const u = process.memoryUsage();
    return { total, used: total - free, free, processes: rows, daemonResources, daemonHeap: { heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers } };
  }
}
