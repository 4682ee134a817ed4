// Box-level show commands: `show inventory`, `show processes cpu [sorted]`, `show processes
// memory [sorted]`, `show hosts [summary]`, `show arp` / `show ip arp`. The figures are the
// box's own (Linux /proc, the neighbour table of the box's namespace), installed by the
// daemon's host-status service (firmware/daemon/host-status.ts); without it (a runtime that
// has no host) the commands say so instead of printing made-up numbers.
import { CliError } from '../context.js';
import { defineCommand } from '../registry.js';
import { ifnameOf } from './interface.js';

export interface ProcessCpuRow {
  pid: number;
  name: string;
  runtimeMs: number;
  /** context switches (voluntary + involuntary): IOS's "Invoked" */
  invoked: number;
  /** percent of one CPU over the last 5 s, 1 min, 5 min (undefined: not sampled that long) */
  fiveSec: number; oneMin: number; fiveMin: number;
}

export interface ProcessMemoryRow {
  pid: number;
  name: string;
  /** bytes: peak resident, peak minus current, current resident */
  allocated: number; freed: number; holding: number;
}

export interface HostProcesses {
  /** the box's CPU busy percent (all CPUs) over 5 s / 1 min / 5 min, and the part in interrupts over 5 s */
  cpu: { fiveSec: number; fiveSecInterrupt: number; oneMin: number; fiveMin: number };
  processes: ProcessCpuRow[];
}

export interface HostMemory {
  /** bytes of the box (MemTotal, MemTotal - MemAvailable, MemAvailable) */
  total: number; used: number; free: number;
  processes: ProcessMemoryRow[];
  /** the daemon's active Node.js resources by kind (`Timeout`, `UDPWRAP`, ...): JSON form only, for leak checks */
  daemonResources?: Record<string, number>;
  /** the daemon's process.memoryUsage() in bytes (JSON form only) */
  daemonHeap?: { heapUsed: number; external: number; arrayBuffers: number };
}

export interface ArpEntry {
  address: string;
  /** minutes since confirmed, undefined for the box's own addresses ('-') */
  ageMin: number | undefined;
  /** `0011.2233.4455`, or undefined when incomplete */
  mac: string | undefined;
  interface: string;
}

declare module '../context.js' {
  interface RuntimeView {
    /** `show processes cpu`: the box's CPU load and its processes (daemon first). */
    hostProcesses?(): Promise<HostProcesses>;
    /** `show processes memory`: the box's memory and its processes' resident sizes. */
    hostMemory?(): Promise<HostMemory>;
    /** The box's memory in bytes (`show version`). */
    hostMemoryTotal?(): number;
    /** `show arp`: the neighbour table of the box's namespace plus its own addresses. */
    arpTable?(): Promise<ArpEntry[]>;
    /** `show hosts`: name servers the box resolves with (the host's resolv.conf). */
    nameServers?(): string[];
  }
}

function noHost(what: string): never {
  throw new CliError(`% ${what}: not available (this runtime has no host status service)`);
}

// ------------------------------------------------------------------ show inventory

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show inventory',
  help: { inventory: 'Show the physical inventory' },
  pipe: true,
  handler(ctx) {
    const b = ctx.system.board;
    const sn = b.serial ?? '';
    const items = [
      { name: b.model, descr: `${b.model} chassis (${b.description})`, pid: `RAMPART-${b.name.toUpperCase()}`, vid: 'V01', sn },
      // ports are part of the board: no serial of their own (IOS leaves SN empty so too)
      ...b.ports.map((p) => ({ name: p, descr: `${p} port`, pid: `RAMPART-${b.name.toUpperCase()}-PORT`, vid: 'V01', sn: '' })),
    ];
    ctx.data(items);
    ctx.print(items.map((i) => `NAME: "${i.name}", DESCR: "${i.descr}"\nPID: ${i.pid.padEnd(18)}, VID: ${i.vid}, SN: ${i.sn}\n`).join('\n'));
  },
});

// ------------------------------------------------------------------ show processes

const pct = (n: number): string => `${n.toFixed(2)}%`;

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show processes [cpu [sorted]]',
  help: { processes: 'Active process statistics', cpu: 'Show CPU use per process', sorted: 'Sort by CPU use' },
  pipe: true,
  async handler(ctx, a) {
    const h = await (ctx.system.runtime.hostProcesses?.() ?? noHost('show processes cpu'));
    let rows = [...h.processes];
    if (a.has('sorted')) rows.sort((x, y) => y.fiveSec - x.fiveSec || y.oneMin - x.oneMin || y.fiveMin - x.fiveMin || x.pid - y.pid);
    ctx.data({ cpu: h.cpu, processes: rows });
    const out = [`CPU utilization for five seconds: ${Math.round(h.cpu.fiveSec)}%/${Math.round(h.cpu.fiveSecInterrupt)}%; one minute: ${Math.round(h.cpu.oneMin)}%; five minutes: ${Math.round(h.cpu.fiveMin)}%`,
      ' PID Runtime(ms)     Invoked      uSecs   5Sec   1Min   5Min TTY Process '];
    for (const r of rows) {
      const usecs = r.invoked > 0 ? Math.round((r.runtimeMs * 1000) / r.invoked) : 0;
      out.push(`${String(r.pid).padStart(4)} ${String(r.runtimeMs).padStart(11)} ${String(r.invoked).padStart(11)} ${String(usecs).padStart(10)} ${pct(r.fiveSec).padStart(6)} ${pct(r.oneMin).padStart(6)} ${pct(r.fiveMin).padStart(6)}   0 ${r.name}`);
    }
    ctx.print(out.join('\n'));
  },
});

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show processes memory [sorted]',
  help: { memory: 'Show memory use per process', sorted: 'Sort by memory held' },
  pipe: true,
  async handler(ctx, a) {
    const m = await (ctx.system.runtime.hostMemory?.() ?? noHost('show processes memory'));
    let rows = [...m.processes];
    if (a.has('sorted')) rows.sort((x, y) => y.holding - x.holding || x.pid - y.pid);
    ctx.data({ total: m.total, used: m.used, free: m.free, processes: rows, ...(m.daemonResources ? { daemonResources: m.daemonResources } : {}), ...(m.daemonHeap ? { daemonHeap: m.daemonHeap } : {}) });
    const n = (v: number, w: number): string => String(v).padStart(w);
    const out = [`Processor Pool Total: ${n(m.total, 10)} Used: ${n(m.used, 10)} Free: ${n(m.free, 10)}`, '',
      ' PID TTY  Allocated      Freed    Holding    Getbufs    Retbufs Process'];
    let total = 0;
    for (const r of rows) {
      total += r.holding;
      out.push(`${n(r.pid, 4)} ${n(0, 3)} ${n(r.allocated, 10)} ${n(r.freed, 10)} ${n(r.holding, 10)} ${n(0, 10)} ${n(0, 10)} ${r.name}`);
    }
    out.push(`${n(total, 34)} Total`);
    ctx.print(out.join('\n'));
  },
});

// ------------------------------------------------------------------ show hosts

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show hosts [summary]',
  help: { hosts: 'IP domain-name, lookup style, nameservers, and host table', summary: 'Summary of host table' },
  pipe: true,
  handler(ctx, a) {
    const sys = ctx.config.system;
    const servers = ctx.system.runtime.nameServers?.() ?? [];
    ctx.data({ domain: sys.domainName ?? null, lookup: sys.domainLookup, nameServers: servers, hosts: [] });
    const out = [`Default domain is ${sys.domainName ?? 'not set'}`];
    // the summary form has no lookup line (as the IOS output ntc-templates was written from)
    if (!a.has('summary')) out.push(`Name/address lookup uses ${sys.domainLookup ? 'domain service' : 'static mappings'}`);
    out.push(`Name servers are ${servers.length > 0 ? servers.join(', ') : '255.255.255.255'}`);
    if (a.has('summary')) {
      out.push('', 'Local cache entries: 0', 'Dynamic cache entries: 0');
    } else {
      out.push('', 'Codes: UN - unknown, EX - expired, OK - OK, ?? - revalidate',
        '       temp - temporary, perm - permanent',
        '       NA - Not Applicable None - Not defined', '',
        'Host                      Port  Flags      Age Type   Address(es)');
    }
    ctx.print(out.join('\n'));
  },
});

// ------------------------------------------------------------------ show arp / show ip arp

defineCommand({
  modes: ['user', 'exec'],
  syntax: ['show arp', 'show ip arp [A.B.C.D$addr|IFNAME]'],
  help: { arp: 'ARP table', addr: 'IP address or hostname of ARP entry', IFNAME: 'Interface name' },
  pipe: true,
  async handler(ctx, a) {
    let rows = await (ctx.system.runtime.arpTable?.() ?? noHost('show arp'));
    const addr = a.get('addr');
    const ifv = a.get('IFNAME');
    if (addr !== undefined) rows = rows.filter((r) => r.address === addr);
    if (ifv !== undefined) { const name = ifnameOf(ifv); rows = rows.filter((r) => r.interface === name); }
    ctx.data(rows);
    const out = ['Protocol  Address          Age (min)  Hardware Addr   Type   Interface'];
    for (const r of rows) {
      out.push(`Internet  ${r.address.padEnd(16)} ${(r.ageMin === undefined ? '-' : String(r.ageMin)).padStart(8)}   ${(r.mac ?? 'Incomplete').padEnd(14)}  ARPA   ${r.interface}`);
    }
    ctx.print(out.join('\n'));
  },
});
