// What the box's Linux holds for the configuration, through the host-network port: the wired
// ports' addresses and admin state, loopback addresses on `lo`, global static routes (a route
// through a tunnel only while its line protocol is up), the VRFs' policy-routing tables, and
// the reverse-route-injection routes. Each is diffed against what was installed, so an apply
// that changes nothing touches nothing. Only on a wired box with a backend.
import type { Config } from '../config/model.js';
import type { StaticVti } from '../config/vti.js';
import { routeArgv, type HostNetwork, type RouteChange, type RouteSpec } from '../kernel/host-network.js';
import { VrfTables } from '../kernel/vrf-tables.js';
import { parseIpv4 } from '../lib/ip.js';
import { withdrawRoutesOnLinkDown } from './link-failover.js';
import { LoopbackAddresses } from './loopback-addresses.js';
import type { RriRoute } from './reverse-route.js';
import { vrfInputs } from './vrf-routing.js';

/** Linux route protocol number marking RRI routes (found and flushed by it). */
export const RRI_ROUTE_PROTO = 186;

function maskLen(mask: string): number {
  return mask.split('.').reduce((n, o) => n + (Number(o).toString(2).match(/1/g)?.length ?? 0), 0);
}

export class HostProgramming {
  /** port -> addresses and state last programmed */
  private readonly ifState = new Map<string, string>();
  /** global static routes installed, by their `ip route` words */
  private readonly routes = new Map<string, RouteSpec>();
  /** Loopback interfaces' addresses on `lo` (crypto map local-address Loopback0). */
  private readonly loopbacks: LoopbackAddresses;
  /** VRFs as policy-routing tables (userspace backend: this kernel has no vrf devices). */
  readonly vrfTables: VrfTables | undefined;
  private linkDownKnobTried = false;
  private readonly rriInstalled = new Map<string, RouteSpec>();
  private rriFlushed = false;
  private lastConfig: Config | undefined;

  constructor(private readonly o: {
    net: HostNetwork;
    log: (text: string) => void;
    /** VRFs as policy-routing tables (the userspace backend) */
    vrfs: boolean;
    tunnels: () => readonly StaticVti[];
    /** Linux device of a tunnel interface while it is up */
    tunnelDeviceIfUp: (name: string) => string | undefined;
  }) {
    this.loopbacks = new LoopbackAddresses({ net: o.net, log: o.log });
    this.vrfTables = o.vrfs ? new VrfTables({ net: o.net, log: o.log }) : undefined;
  }

  /** Interfaces, loopbacks and global static routes follow the model (each diffed by content). */
  apply(config: Config): void {
    this.lastConfig = config;
    if (!this.linkDownKnobTried) {
      this.linkDownKnobTried = true;
      withdrawRoutesOnLinkDown(this.o.log);
    }
    void this.loopbacks.sync(config);
    this.programInterfaces(config);
    this.programRoutes(config);
  }

  /** VRF tables follow the configuration and the tunnels' line protocol. */
  syncVrfs(config: Config): void {
    if (!this.vrfTables) return;
    const inputs = vrfInputs(config, {
      portMap: Object.fromEntries(this.o.net.wiredPorts()), tunnels: this.o.tunnels(), tunnelDeviceIfUp: this.o.tunnelDeviceIfUp,
    });
    void this.vrfTables.sync(inputs.members, inputs.routes, inputs.frontDoor);
  }

  /** A tunnel's device came up: the kernel dropped the routes through it while it was down. */
  tunnelUp(device: string | undefined): void {
    if (device) this.reinstallRoutesVia(device);
    if (this.lastConfig) this.syncVrfs(this.lastConfig);
  }

  /** Installs and removes RRI routes so Linux holds `wanted` (not waited for). */
  syncRri(cfg: Config, wanted: readonly RriRoute[]): void {
    if (!this.rriFlushed) {
      // leftovers of a previous daemon in this namespace
      void this.o.net.flushRoutes({ proto: RRI_ROUTE_PROTO });
      this.rriFlushed = true;
    }
    const want = new Map<string, RouteSpec>();
    for (const r of wanted) {
      const route = this.rriRoute(cfg, r);
      if (route) want.set(routeArgv(route).join(' '), route);
    }
    const changes: RouteChange[] = [];
    for (const [key, route] of [...this.rriInstalled]) {
      if (want.has(key)) continue;
      changes.push({ op: 'delete', route });
      this.rriInstalled.delete(key);
    }
    for (const [key, route] of want) {
      if (this.rriInstalled.has(key)) continue;
      changes.push({ op: 'replace', route });
      this.rriInstalled.set(key, route);
    }
    // not waited for: a road warrior coming or going must not stall the packet and IKE paths
    if (changes.length > 0) this.o.net.queueRoutes(changes, this.o.log);
  }

  /**
   * `ip route` arguments of an RRI route: via the next hop when it is on a connected
   * network, else via the gateway the configuration routes it through; the peer host
   * route (remote-peer) via that gateway.
   */
  private rriRoute(cfg: Config, r: RriRoute): RouteSpec | undefined {
    const target = r.nextHop || r.prefix;
    const inNet = (addr: string, net: string, mask: string): boolean => {
      const a = parseIpv4(addr); const n = parseIpv4(net); const m = parseIpv4(mask);
      return a !== undefined && n !== undefined && m !== undefined && ((a & m) >>> 0) === ((n & m) >>> 0);
    };
    for (const [port, itf] of Object.entries(cfg.interfaces?.items ?? {})) {
      const a = itf.ipAddress;
      const dev = this.o.net.linuxName(port);
      if (!a || !dev || !inNet(target, a.address, a.mask)) continue;
      if (!r.nextHop) return undefined; // a connected peer needs no host route
      return { dest: `${r.prefix}/${r.length}`, via: r.nextHop, device: dev, proto: RRI_ROUTE_PROTO, metric: r.distance };
    }
    const via = (cfg.routing?.routes ?? []).filter((s) => s.vrf === undefined && s.nextHop && inNet(target, s.prefix, s.mask))
      .sort((x, y) => maskLen(y.mask) - maskLen(x.mask))[0]?.nextHop;
    if (!via && !r.nextHop) return undefined;
    return { dest: `${r.prefix}/${r.length}`, via: via ?? r.nextHop, proto: RRI_ROUTE_PROTO, metric: r.distance };
  }

  private programInterfaces(cfg: Config): void {
    for (const [port] of this.o.net.wiredPorts()) {
      const itf = cfg.interfaces?.items[port];
      if (!itf) continue;
      const addrs = [itf.ipAddress, ...(itf.secondary ?? [])].filter((a): a is NonNullable<typeof a> => a !== undefined)
        .map((a) => `${a.address}/${maskLen(a.mask)}`);
      const sig = JSON.stringify({ addrs, down: itf.shutdown, vrf: itf.vrf });
      if (this.ifState.get(port) === sig) continue;
      this.ifState.set(port, sig);
      // an interface in a VRF: its connected route goes to the VRF's table only (syncVrfs)
      void this.o.net.setPort(port, { addrs, down: itf.shutdown, ...(itf.vrf ? { vrf: itf.vrf } : {}) }).then((errors) => {
        for (const e of errors) this.o.log(e);
      });
    }
  }

  private programRoutes(cfg: Config): void {
    const want = new Map<string, RouteSpec>();
    for (const r of cfg.routing?.routes ?? []) {
      if (r.vrf !== undefined) continue;
      const route: RouteSpec = { dest: `${r.prefix}/${maskLen(r.mask)}` };
      if (r.nextHop) route.via = r.nextHop;
      if (r.interface) {
        // a route through a tunnel is in the table only while its line protocol is up
        const dev = this.o.net.linuxName(r.interface) ?? this.o.tunnelDeviceIfUp(r.interface);
        if (!dev) continue;
        route.device = dev;
      }
      if (r.distance !== undefined) route.metric = r.distance;
      want.set(routeArgv(route).join(' '), route);
    }
    for (const [key, route] of [...this.routes]) {
      // (quietly: a route through a tunnel that went down is already gone from the kernel)
      if (!want.has(key)) { void this.o.net.deleteRoute(route); this.routes.delete(key); }
    }
    for (const [key, route] of want) {
      if (this.routes.has(key)) continue;
      this.routes.set(key, route);
      void this.o.net.replaceRoute(route).then((error) => {
        if (error === undefined) return;
        // not installed: tried again at the next apply
        if (this.routes.get(key) === route) this.routes.delete(key);
        this.o.log(error);
      });
    }
  }

  /** A tunnel device came up: the kernel dropped the routes through it while it was down. */
  private reinstallRoutesVia(device: string): void {
    for (const [key, route] of [...this.routes]) if (route.device === device) this.routes.delete(key);
    if (this.lastConfig) this.programRoutes(this.lastConfig);
  }

  /** Removes what it installed (daemon stop): RRI routes, loopback addresses, VRF rules and routes. */
  async close(): Promise<void> {
    await this.vrfTables?.close();
    await Promise.all([...this.rriInstalled.values()].map((r) => this.o.net.deleteRoute(r)));
    this.rriInstalled.clear();
    await this.loopbacks.clear();
  }
}
