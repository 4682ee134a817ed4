// The host-network port: the one way the runtime changes the network of the box's Linux
// (addresses and link state of ports, loopbacks and tunnel devices; routes with tables,
// metrics, protocol tags; policy-routing rules; per-device sysctls). The board supplies it
// (board/drivers.ts); services take only this port and never run `ip` themselves.
// Two implementations behind one interface:
//   - NetlinkHostNetwork: rtnetlink requests on one NETLINK_ROUTE socket (the same requests
//     iproute2 sends: test/kernel/host-network.test.ts compares them with captured bytes) and
//     writes to /proc/sys. Nothing forks: a spawned `ip` blocks the daemon for the whole
//     fork+exec+wait, about 5 ms idle and 50 ms at a load average of 20 (measured here).
//   - CommandHostNetwork: the same through `ip` and `sysctl` processes, the fallback where the
//     socket cannot be opened (and tests with a recording runner, RAMPART_LINK_OPS=commands).
//     Route changes that must not wait (RRI) go through one long-lived `ip -batch` there.
// Every call returns a promise; calls run in the order they were made (routes after the
// addresses they need), so a caller may fire and forget and await `idle()` later.
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createRtNetlink, type RtNetlinkSocket } from 'netlink';
import { formatIpv4, parseIpv4, parseIpv4Prefix, prefixToMask } from '../lib/ip.js';
import { IpBatch } from './ip-batch.js';

export interface CommandRunner {
  /** Runs a command; returns exit code and stderr. Never throws. */
  (argv: readonly string[]): { code: number; stderr: string };
}

export const runCommand: CommandRunner = (argv) => {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  return { code: r.status ?? -1, stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
};

/** What a port's Linux interface carries (from its `interface` configuration). */
export interface PortSettings {
  /** `A.B.C.D/len`, primary first. */
  addrs: readonly string[];
  down: boolean;
  /** In a VRF: its connected routes go to the VRF's table only (no prefix route here). */
  vrf?: string;
}

export interface LinkSettings {
  mtu?: number;
  txqlen?: number;
  up?: boolean;
}

/** One IPv4 route (`ip route` words in the comments). */
export interface RouteSpec {
  /** `A.B.C.D/len` (a bare address is a /32) or `default`. */
  dest: string;
  /** `unreachable`: the lookup ends here (a VRF table's closing default). */
  type?: 'unreachable';
  /** `via` */
  via?: string;
  /** `dev` */
  device?: string;
  /** `proto`: a number (RRI routes: 186) or `kernel`; default boot, as `ip route`. */
  proto?: number | 'kernel';
  /** `scope link` (connected routes). */
  scope?: 'link';
  /** `src`: preferred source address. */
  src?: string;
  /** `metric` */
  metric?: number;
  /** `table`: default main (254). */
  table?: number;
}

export interface RouteChange {
  op: 'replace' | 'delete';
  route: RouteSpec;
}

export interface PortRange {
  lo: number;
  hi: number;
}

/** One policy-routing rule (`ip rule` words in the comments). */
export interface RuleSpec {
  priority: number;
  /** `iif` */
  iif?: string;
  /** `from` / `to`: `A.B.C.D/len` */
  from?: string;
  to?: string;
  /** `ipproto` */
  ipproto?: number;
  sport?: PortRange;
  dport?: PortRange;
  /** `lookup TABLE` (254: main) or `prohibit`; a delete may leave it out (matches any). */
  action?: { table: number } | 'prohibit';
}

export const MAIN_TABLE = 254;

export interface HostNetwork {
  /** The Linux interface wired to a board port (undefined: the port is not wired). */
  linuxName(port: string): string | undefined;
  /** Board ports wired to a Linux interface, with that interface. */
  wiredPorts(): ReadonlyArray<readonly [port: string, ifname: string]>;
  /** Sets a wired port's addresses and admin state; the errors (empty: done). */
  setPort(port: string, s: PortSettings): Promise<string[]>;
  /** `ip link set DEV [mtu N] [txqueuelen N] [up|down]`; an error text or undefined. */
  setLink(device: string, s: LinkSettings): Promise<string | undefined>;
  /** `ip -4 addr flush dev DEV` */
  flushAddresses(device: string): Promise<string | undefined>;
  /** `ip addr add|replace A/len dev DEV [noprefixroute]` */
  addAddress(device: string, cidr: string, o?: { noPrefixRoute?: boolean; replace?: boolean }): Promise<string | undefined>;
  /** `ip addr del A/len dev DEV` */
  deleteAddress(device: string, cidr: string): Promise<string | undefined>;
  /** `ip route replace ...` */
  replaceRoute(r: RouteSpec): Promise<string | undefined>;
  /** `ip route del ...`, quietly (the kernel may have dropped it with its device). */
  deleteRoute(r: RouteSpec): Promise<void>;
  /** Removes every IPv4 route of a protocol number or of a table (a previous daemon's leftovers). */
  flushRoutes(f: { proto: number } | { table: number }): Promise<void>;
  /**
   * Route changes nobody waits for (road warriors' RRI routes coming and going): queued,
   * sent in order, errors logged (bounded).
   */
  queueRoutes(changes: readonly RouteChange[], log: (text: string) => void): void;
  /** `ip rule add ...` */
  addRule(r: RuleSpec): Promise<string | undefined>;
  /** `ip rule del ...`, quietly. */
  deleteRule(r: RuleSpec): Promise<void>;
  /** `sysctl -w KEY=VALUE ...` (dotted keys); an error text or undefined. */
  sysctl(settings: Readonly<Record<string, string>>): Promise<string | undefined>;
  /** Resolves when every call made so far is done. */
  idle(): Promise<void>;
  /** Which implementation: `netlink` or `commands`. */
  readonly kind: 'netlink' | 'commands';
  close(): void;
}

/** `ip route` words of a route (after `replace` / `del`). */
export function routeArgv(r: RouteSpec): string[] {
  return [
    ...(r.type ? [r.type] : []), r.dest,
    ...(r.via ? ['via', r.via] : []), ...(r.device ? ['dev', r.device] : []),
    ...(r.proto !== undefined ? ['proto', String(r.proto)] : []), ...(r.scope ? ['scope', r.scope] : []),
    ...(r.src ? ['src', r.src] : []), ...(r.metric !== undefined ? ['metric', String(r.metric)] : []),
    ...(r.table !== undefined ? ['table', String(r.table)] : []),
  ];
}

function rangeText(p: PortRange): string {
  return p.lo === p.hi ? String(p.lo) : `${p.lo}-${p.hi}`;
}

/** `ip rule` words of a rule (after `add` / `del`). */
export function ruleArgv(r: RuleSpec): string[] {
  const a = r.action;
  return [
    'priority', String(r.priority), ...(r.iif ? ['iif', r.iif] : []),
    ...(r.from ? ['from', r.from] : []), ...(r.to ? ['to', r.to] : []),
    ...(r.ipproto !== undefined ? ['ipproto', String(r.ipproto)] : []),
    ...(r.sport ? ['sport', rangeText(r.sport)] : []), ...(r.dport ? ['dport', rangeText(r.dport)] : []),
    ...(a === 'prohibit' ? ['prohibit'] : a ? ['lookup', a.table === MAIN_TABLE ? 'main' : String(a.table)] : []),
  ];
}

/** `10.1.0.1/24` -> `10.1.0.0/24`. */
export function networkOf(cidr: string): string {
  const p = parseIpv4Prefix(cidr.includes('/') ? cidr : `${cidr}/32`);
  if (!p) return cidr;
  return `${formatIpv4((p.address & prefixToMask(p.prefix)) >>> 0)}/${p.prefix}`;
}

/** Wiring and the serial order of calls, shared by both implementations. */
abstract class HostNetworkBase implements HostNetwork {
  abstract readonly kind: 'netlink' | 'commands';
  private chain: Promise<unknown> = Promise.resolve();

  constructor(protected readonly portMap: Readonly<Record<string, string>>) {}

  linuxName(port: string): string | undefined {
    return this.portMap[port];
  }

  wiredPorts(): ReadonlyArray<readonly [string, string]> {
    return Object.entries(this.portMap);
  }

  /** Runs `fn` after every call made before it (never rejects: errors are answers). */
  protected inOrder<T>(fn: () => Promise<T> | T): Promise<T> {
    const p = this.chain.then(fn);
    this.chain = p.catch(() => {});
    return p;
  }

  idle(): Promise<void> {
    return this.chain.then(() => {});
  }

  async setPort(port: string, s: PortSettings): Promise<string[]> {
    const dev = this.portMap[port];
    if (dev === undefined) return [`${port} is not wired to a Linux interface`];
    const results = [this.flushAddresses(dev), ...s.addrs.map((a) => this.addAddress(dev, a, { noPrefixRoute: s.vrf !== undefined })),
      this.setLink(dev, { up: !s.down })];
    return (await Promise.all(results)).filter((e): e is string => e !== undefined);
  }

  abstract setLink(device: string, s: LinkSettings): Promise<string | undefined>;
  abstract flushAddresses(device: string): Promise<string | undefined>;
  abstract addAddress(device: string, cidr: string, o?: { noPrefixRoute?: boolean; replace?: boolean }): Promise<string | undefined>;
  abstract deleteAddress(device: string, cidr: string): Promise<string | undefined>;
  abstract replaceRoute(r: RouteSpec): Promise<string | undefined>;
  abstract deleteRoute(r: RouteSpec): Promise<void>;
  abstract flushRoutes(f: { proto: number } | { table: number }): Promise<void>;
  abstract queueRoutes(changes: readonly RouteChange[], log: (text: string) => void): void;
  abstract addRule(r: RuleSpec): Promise<string | undefined>;
  abstract deleteRule(r: RuleSpec): Promise<void>;
  abstract sysctl(settings: Readonly<Record<string, string>>): Promise<string | undefined>;
  abstract close(): void;
}

/** Through iproute2 and sysctl processes (each call forks and blocks until it exits). */
export class CommandHostNetwork extends HostNetworkBase {
  readonly kind = 'commands' as const;
  private batch: IpBatch | undefined;

  constructor(portMap: Readonly<Record<string, string>>, private readonly run: CommandRunner = runCommand,
    private readonly batchArgv?: readonly string[]) {
    super(portMap);
  }

  /** Runs now (synchronously, as the caller asked), answered in order with the other calls. */
  private sh(argv: string[]): Promise<string | undefined> {
    const r = this.run(argv);
    const error = r.code === 0 ? undefined : `${argv.join(' ')}: ${r.stderr.trim()}`;
    return this.inOrder(() => error);
  }

  private quiet(argv: string[]): Promise<void> {
    this.run(argv);
    return this.inOrder(() => {});
  }

  setLink(dev: string, s: LinkSettings): Promise<string | undefined> {
    return this.sh(['ip', 'link', 'set', dev, ...(s.mtu !== undefined ? ['mtu', String(s.mtu)] : []),
      ...(s.txqlen !== undefined ? ['txqueuelen', String(s.txqlen)] : []), ...(s.up !== undefined ? [s.up ? 'up' : 'down'] : [])]);
  }

  flushAddresses(dev: string): Promise<string | undefined> {
    return this.sh(['ip', '-4', 'addr', 'flush', 'dev', dev]);
  }

  addAddress(dev: string, cidr: string, o: { noPrefixRoute?: boolean; replace?: boolean } = {}): Promise<string | undefined> {
    return this.sh(['ip', 'addr', o.replace ? 'replace' : 'add', cidr, 'dev', dev, ...(o.noPrefixRoute ? ['noprefixroute'] : [])]);
  }

  deleteAddress(dev: string, cidr: string): Promise<string | undefined> {
    return this.sh(['ip', 'addr', 'del', cidr, 'dev', dev]);
  }

  replaceRoute(r: RouteSpec): Promise<string | undefined> {
    return this.sh(['ip', 'route', 'replace', ...routeArgv(r)]);
  }

  deleteRoute(r: RouteSpec): Promise<void> {
    return this.quiet(['ip', 'route', 'del', ...routeArgv(r)]);
  }

  flushRoutes(f: { proto: number } | { table: number }): Promise<void> {
    return this.quiet(['ip', 'route', 'flush', ...('proto' in f ? ['proto', String(f.proto)] : ['table', String(f.table)])]);
  }

  queueRoutes(changes: readonly RouteChange[], log: (text: string) => void): void {
    this.batch ??= new IpBatch({ log, ...(this.batchArgv ? { argv: this.batchArgv } : {}) });
    this.batch.queue(changes.map((c) => ['route', c.op === 'delete' ? 'del' : 'replace', ...routeArgv(c.route)].join(' ')));
  }

  addRule(r: RuleSpec): Promise<string | undefined> {
    return this.sh(['ip', 'rule', 'add', ...ruleArgv(r)]);
  }

  deleteRule(r: RuleSpec): Promise<void> {
    return this.quiet(['ip', 'rule', 'del', ...ruleArgv(r)]);
  }

  sysctl(s: Readonly<Record<string, string>>): Promise<string | undefined> {
    return this.sh(['sysctl', '-q', '-w', ...Object.entries(s).map(([k, v]) => `${k}=${v}`)]);
  }

  close(): void {
    this.batch?.close();
    this.batch = undefined;
  }
}

const AF_INET = 2;
/** <linux/netlink.h> request flags (REQUEST and ACK are added by the socket). */
const NLM_F_REPLACE = 0x100;
const NLM_F_EXCL = 0x200;
const NLM_F_CREATE = 0x400;
/** <linux/rtnetlink.h> */
const RTPROT_KERNEL = 2;
const RTPROT_BOOT = 3;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;
const RT_SCOPE_NOWHERE = 255;
const RTN_UNICAST = 1;
const RTN_UNREACHABLE = 7;
/** <linux/fib_rules.h> */
const FR_ACT_TO_TBL = 1;
const FR_ACT_PROHIBIT = 8;
/** A request the kernel never answers fails after this (the caller's queue must not stall). */
const TIMEOUT_MS = 5000;

/** The requests of RtNetlinkSocket used here (tests give one whose socket records the bytes). */
export type RtRequests = Pick<RtNetlinkSocket, 'newLink' | 'getLink' | 'getAddresses' | 'newAddress' | 'delAddress'
  | 'newRoute' | 'delRoute' | 'getRoutes' | 'newRule' | 'delRule'> & { socket?: { close(): void } };

function ipv4Bytes(text: string): Buffer {
  const v = parseIpv4(text);
  if (v === undefined) throw new Error(`bad address ${text}`);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

function prefixOf(text: string): { bytes: Buffer; len: number } {
  if (text === 'default') return { bytes: Buffer.alloc(4), len: 0 };
  const p = parseIpv4Prefix(text.includes('/') ? text : `${text}/32`);
  if (!p) throw new Error(`bad prefix ${text}`);
  const b = Buffer.alloc(4);
  b.writeUInt32BE(p.address >>> 0);
  return { bytes: b, len: p.prefix };
}

/** Tables above 255 go in an attribute, the header's field says unspecified (as iproute2 does). */
function tableFields(table: number): { field: number; attr: { table?: number } } {
  return table < 256 ? { field: table, attr: {} } : { field: 0, attr: { table } };
}

/** Over rtnetlink (needs CAP_NET_ADMIN in the daemon's namespace for changes). */
export class NetlinkHostNetwork extends HostNetworkBase {
  readonly kind = 'netlink' as const;
  /** ifindex by name; a device deleted and made again under the same name gets a new one */
  private readonly indexes = new Map<string, number>();
  private queuedErrors = 0;

  constructor(portMap: Readonly<Record<string, string>>, private readonly rt: RtRequests,
    private readonly writeSysctl: (path: string, value: string) => Promise<void> = (p, v) => writeFile(p, v)) {
    super(portMap);
  }

  private async indexOf(dev: string, fresh = false): Promise<number> {
    const known = this.indexes.get(dev);
    if (known !== undefined && !fresh) return known;
    const [m] = await this.rt.getLink({}, { ifname: dev }, { timeout: TIMEOUT_MS });
    const index = m?.data.index;
    if (index === undefined) throw new Error(`no device ${dev}`);
    this.indexes.set(dev, index);
    return index;
  }

  /** A request on a device (resolved again once if the cached index went stale); an error text or undefined. */
  private onDevice(what: string, dev: string | undefined, fn: (index: number) => Promise<unknown>): Promise<string | undefined> {
    return this.inOrder(async () => {
      try {
        if (dev === undefined) { await fn(0); return undefined; }
        try {
          await fn(await this.indexOf(dev));
        } catch (e) {
          if (!this.indexes.has(dev) || !/ENODEV|No such device/i.test(String((e as Error).message))) throw e;
          this.indexes.delete(dev);
          await fn(await this.indexOf(dev, true));
        }
        return undefined;
      } catch (e) {
        return `${what}: ${(e as Error).message}`;
      }
    });
  }

  setLink(dev: string, s: LinkSettings): Promise<string | undefined> {
    // RTM_NEWLINK without CREATE changes an existing device (what `ip link set` sends)
    return this.onDevice(`ip link set ${dev}`, dev, (index) => this.rt.newLink(
      { index, ...(s.up !== undefined ? { flags: s.up ? { up: true } : {}, change: { up: true } } : {}) },
      { ...(s.mtu !== undefined ? { mtu: s.mtu } : {}), ...(s.txqlen !== undefined ? { txqlen: s.txqlen } : {}) }, { timeout: TIMEOUT_MS }));
  }

  flushAddresses(dev: string): Promise<string | undefined> {
    return this.onDevice(`ip -4 addr flush dev ${dev}`, dev, async (index) => {
      for (const a of await this.rt.getAddresses({ family: AF_INET }, {}, { timeout: TIMEOUT_MS })) {
        if (a.data.index !== index) continue;
        await this.rt.delAddress({ family: AF_INET, prefixlen: a.data.prefixlen ?? 32, index },
          { ...(a.attrs.local ? { local: a.attrs.local } : {}), ...(a.attrs.address ? { address: a.attrs.address } : {}) }, { timeout: TIMEOUT_MS });
      }
    });
  }

  addAddress(dev: string, cidr: string, o: { noPrefixRoute?: boolean; replace?: boolean } = {}): Promise<string | undefined> {
    return this.onDevice(`ip addr ${o.replace ? 'replace' : 'add'} ${cidr} dev ${dev}`, dev, async (index) => {
      const p = prefixOf(cidr);
      await this.rt.newAddress({ family: AF_INET, prefixlen: p.len, index, scope: 0 },
        { local: p.bytes, address: p.bytes, ...(o.noPrefixRoute ? { flags: { noprefixroute: true } } : {}) },
        { timeout: TIMEOUT_MS, flags: NLM_F_CREATE | (o.replace ? NLM_F_REPLACE : NLM_F_EXCL) });
    });
  }

  deleteAddress(dev: string, cidr: string): Promise<string | undefined> {
    return this.onDevice(`ip addr del ${cidr} dev ${dev}`, dev, async (index) => {
      const p = prefixOf(cidr);
      await this.rt.delAddress({ family: AF_INET, prefixlen: p.len, index, scope: 0 }, { local: p.bytes, address: p.bytes }, { timeout: TIMEOUT_MS });
    });
  }

  private routeRequest(r: RouteSpec, index: number, del: boolean): Parameters<RtRequests['newRoute']> {
    const d = prefixOf(r.dest);
    const t = tableFields(r.table ?? MAIN_TABLE);
    const proto = r.proto === 'kernel' ? RTPROT_KERNEL : r.proto ?? (del ? 0 : RTPROT_BOOT);
    const type = r.type === 'unreachable' ? RTN_UNREACHABLE : RTN_UNICAST;
    // `ip route` picks link scope for a unicast route without a gateway; a delete matches any scope
    const scope = del ? RT_SCOPE_NOWHERE : r.scope === 'link' || (type === RTN_UNICAST && !r.via) ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
    return [
      { family: AF_INET, dstLen: d.len, table: t.field, protocol: proto, scope, type: del && !r.type ? 0 : type },
      {
        ...(d.len > 0 ? { dst: d.bytes } : {}), ...(r.via ? { gateway: ipv4Bytes(r.via) } : {}),
        ...(r.device !== undefined ? { oif: index } : {}), ...(r.src ? { prefsrc: ipv4Bytes(r.src) } : {}),
        ...(r.metric !== undefined ? { priority: r.metric } : {}), ...t.attr,
      },
      { timeout: TIMEOUT_MS, ...(del ? {} : { flags: NLM_F_CREATE | NLM_F_REPLACE }) },
    ];
  }

  replaceRoute(r: RouteSpec): Promise<string | undefined> {
    return this.onDevice(`ip route replace ${routeArgv(r).join(' ')}`, r.device, (index) => this.rt.newRoute(...this.routeRequest(r, index, false)));
  }

  deleteRoute(r: RouteSpec): Promise<void> {
    return this.onDevice(`ip route del ${routeArgv(r).join(' ')}`, r.device, (index) => this.rt.delRoute(...this.routeRequest(r, index, true))).then(() => {});
  }

  flushRoutes(f: { proto: number } | { table: number }): Promise<void> {
    return this.inOrder(async () => {
      try {
        for (const m of await this.rt.getRoutes({ family: AF_INET }, {}, { timeout: TIMEOUT_MS })) {
          const table = m.attrs.table ?? m.data.table;
          if ('proto' in f ? Number(m.data.protocol) !== f.proto : table !== f.table) continue;
          await this.rt.delRoute(m.data, m.attrs, { timeout: TIMEOUT_MS }).catch(() => {});
        }
      } catch { /* nothing to flush where routes cannot be read */ }
    });
  }

  queueRoutes(changes: readonly RouteChange[], log: (text: string) => void): void {
    for (const c of changes) {
      const done = c.op === 'delete' ? this.deleteRoute(c.route).then(() => undefined) : this.replaceRoute(c.route);
      // bounded: a flood of refused routes does not flood the log
      void done.then((e) => { if (e !== undefined && this.queuedErrors++ < 20) log(`RRI routes: ${e}`); });
    }
  }

  private ruleRequest(r: RuleSpec, del: boolean): Parameters<RtRequests['newRule']> {
    const a = r.action;
    const t = tableFields(a && a !== 'prohibit' ? a.table : 0);
    const from = r.from ? prefixOf(r.from) : undefined;
    const to = r.to ? prefixOf(r.to) : undefined;
    const action = a === 'prohibit' ? FR_ACT_PROHIBIT : a ? FR_ACT_TO_TBL : 0;
    return [
      { family: AF_INET, dstLen: to?.len ?? 0, srcLen: from?.len ?? 0, table: t.field, action: del && a !== 'prohibit' ? 0 : action },
      {
        priority: r.priority, ...(from ? { src: from.bytes } : {}), ...(to ? { dst: to.bytes } : {}), ...(r.iif ? { iifname: r.iif } : {}),
        ...(r.ipproto !== undefined ? { ipProto: r.ipproto } : {}),
        ...(r.sport ? { sportRange: { start: r.sport.lo, end: r.sport.hi } } : {}), ...(r.dport ? { dportRange: { start: r.dport.lo, end: r.dport.hi } } : {}),
        ...t.attr,
      },
      { timeout: TIMEOUT_MS, ...(del ? {} : { flags: NLM_F_CREATE | NLM_F_EXCL }) },
    ];
  }

  addRule(r: RuleSpec): Promise<string | undefined> {
    return this.onDevice(`ip rule add ${ruleArgv(r).join(' ')}`, undefined, () => this.rt.newRule(...this.ruleRequest(r, false)));
  }

  deleteRule(r: RuleSpec): Promise<void> {
    return this.onDevice(`ip rule del ${ruleArgv(r).join(' ')}`, undefined, () => this.rt.delRule(...this.ruleRequest(r, true))).then(() => {});
  }

  sysctl(s: Readonly<Record<string, string>>): Promise<string | undefined> {
    return this.inOrder(async () => {
      const errors: string[] = [];
      for (const [k, v] of Object.entries(s)) {
        // /proc/sys/net is the writer's network namespace (what sysctl(8) writes too)
        try { await this.writeSysctl(`/proc/sys/${k.replace(/\./g, '/')}`, v); } catch (e) { errors.push(`sysctl ${k}=${v}: ${(e as Error).message}`); }
      }
      return errors.length > 0 ? errors.join('; ') : undefined;
    });
  }

  close(): void {
    this.rt.socket?.close();
  }
}

export interface LinuxHostNetworkOptions {
  /** IOS port name -> Linux interface (the board's wiring). */
  portMap: Readonly<Record<string, string>>;
  /** Runs commands instead of rtnetlink (tests record them). */
  run?: CommandRunner;
}

/**
 * The host network of a Linux box: rtnetlink, or iproute2 commands when a runner is given,
 * with RAMPART_LINK_OPS=commands (to compare), or where the socket cannot be opened.
 * The socket is opened at the first call, so a box that never programs its host opens none.
 */
export class LinuxHostNetwork implements HostNetwork {
  private impl: HostNetwork | undefined;
  /** Why the command fallback is used (undefined: rtnetlink, or not decided yet). */
  fallbackReason: string | undefined;

  constructor(private readonly opts: LinuxHostNetworkOptions) {}

  get kind(): 'netlink' | 'commands' {
    return this.pick().kind;
  }

  private pick(): HostNetwork {
    if (this.impl) return this.impl;
    if (this.opts.run || process.env.RAMPART_LINK_OPS === 'commands') {
      this.fallbackReason = this.opts.run ? 'a command runner was given' : 'RAMPART_LINK_OPS=commands';
      this.impl = new CommandHostNetwork(this.opts.portMap, this.opts.run);
      return this.impl;
    }
    try {
      const rt = createRtNetlink({ ref: false, recvBufferSize: 1 << 20, sendBufferSize: 1 << 18 });
      this.impl = new NetlinkHostNetwork(this.opts.portMap, rt);
    } catch (e) {
      this.fallbackReason = `rtnetlink: ${(e as Error).message}`;
      this.impl = new CommandHostNetwork(this.opts.portMap);
    }
    return this.impl;
  }

  linuxName(port: string): string | undefined { return this.opts.portMap[port]; }
  wiredPorts(): ReadonlyArray<readonly [string, string]> { return Object.entries(this.opts.portMap); }
  setPort(port: string, s: PortSettings): Promise<string[]> { return this.pick().setPort(port, s); }
  setLink(device: string, s: LinkSettings): Promise<string | undefined> { return this.pick().setLink(device, s); }
  flushAddresses(device: string): Promise<string | undefined> { return this.pick().flushAddresses(device); }
  addAddress(device: string, cidr: string, o?: { noPrefixRoute?: boolean; replace?: boolean }): Promise<string | undefined> { return this.pick().addAddress(device, cidr, o); }
  deleteAddress(device: string, cidr: string): Promise<string | undefined> { return this.pick().deleteAddress(device, cidr); }
  replaceRoute(r: RouteSpec): Promise<string | undefined> { return this.pick().replaceRoute(r); }
  deleteRoute(r: RouteSpec): Promise<void> { return this.pick().deleteRoute(r); }
  flushRoutes(f: { proto: number } | { table: number }): Promise<void> { return this.pick().flushRoutes(f); }
  queueRoutes(changes: readonly RouteChange[], log: (text: string) => void): void { this.pick().queueRoutes(changes, log); }
  addRule(r: RuleSpec): Promise<string | undefined> { return this.pick().addRule(r); }
  deleteRule(r: RuleSpec): Promise<void> { return this.pick().deleteRule(r); }
  sysctl(s: Readonly<Record<string, string>>): Promise<string | undefined> { return this.pick().sysctl(s); }
  idle(): Promise<void> { return this.impl?.idle() ?? Promise.resolve(); }
  close(): void { this.impl?.close(); this.impl = undefined; }
}
