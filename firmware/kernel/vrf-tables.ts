// VRFs (`ip vrf NAME`, `ip vrf forwarding NAME` on an interface, `ip route vrf NAME ...`) on a
// kernel without the `vrf` link type (this host: checked) as Linux policy routing:
//   - each VRF in use gets a routing table (VRF_TABLE_BASE + n, n fixed for the daemon's life);
//   - a rule `iif DEV lookup TABLE` for every interface in the VRF (ports, tunnels,
//     Virtual-Access), in a priority band before the crypto map rules of the userspace backend;
//   - the connected routes of those interfaces go into the VRF's table only (their addresses
//     are added `noprefixroute`), as do the VRF's static routes;
//   - an `unreachable default` closes each table, so a lookup never falls through to main:
//     traffic of one VRF never leaves by another's (or the global) routes.
// Front-door VRFs (the outside port in a VRF, `tunnel vrf V`): the box's own packets use the
// VRF's table through
//   - `from A lookup TABLE` for each address of a port in the VRF (IKE, ESP in UDP: sockets
//     bound to the address);
//   - `iif lo to PEER lookup TABLE` for each tunnel peer reached through the VRF (raw ESP: the
//     data plane's raw socket is not bound, so the kernel sees no source address to match).

import { networkOf, routeArgv, ruleArgv, type HostNetwork, type RouteSpec, type RuleSpec } from './host-network.js';

export { networkOf };

/** Priority of the `iif DEV lookup TABLE` rules (the userspace backend's band starts at 10000). */
export const VRF_RULE_PRIORITY = 9000;
export const VRF_TABLE_BASE = 1000;
/** The metric Linux VRF devices give their closing unreachable default. */
const UNREACHABLE_METRIC = 4278198272;

/** An interface in a VRF: its Linux device and addresses (`A.B.C.D/len`). */
export interface VrfMember {
  vrf: string;
  device: string;
  addresses: readonly string[];
  /** device up: its connected routes can be installed (the kernel drops them while down) */
  up: boolean;
  /** a port that owns its addresses: the box's packets from them use the VRF's table */
  sourcesFromVrf?: boolean;
}

/** A tunnel peer reached through a front-door VRF: the box's packets to it use the VRF's table. */
export interface FrontDoorPeer {
  vrf: string;
  peer: string;
}

/** `ip route vrf V P M {IF | NH}`: destination `P/len`, by device and/or next hop. */
export interface VrfRoute {
  vrf: string;
  dest: string;
  device?: string;
  via?: string;
  metric?: number;
}

export class VrfTables {
  private readonly tables = new Map<string, number>();
  /** rules and routes installed by the last sync, by their `ip` words */
  private rules = new Map<string, RuleSpec>();
  private routes = new Map<string, RouteSpec>();

  constructor(private readonly o: { net: HostNetwork; log: (text: string) => void }) {}

  /** The routing table of a VRF (allocated at first use, kept for the daemon's life). */
  tableOf(vrf: string): number {
    let t = this.tables.get(vrf);
    if (t === undefined) { t = VRF_TABLE_BASE + this.tables.size + 1; this.tables.set(vrf, t); }
    return t;
  }

  /** Brings rules and routes to what `members` and `routes` need (idempotent; errors are logged). */
  async sync(members: readonly VrfMember[], routes: readonly VrfRoute[], frontDoor: readonly FrontDoorPeer[] = []): Promise<void> {
    const wantRules = new Map<string, RuleSpec>();
    const wantRoutes = new Map<string, RouteSpec>();
    const add = (r: RouteSpec) => wantRoutes.set(routeArgv(r).join(' '), r);
    const vrfs = new Set<string>();
    for (const m of members) {
      const table = this.tableOf(m.vrf);
      vrfs.add(m.vrf);
      const rule: RuleSpec = { priority: VRF_RULE_PRIORITY, iif: m.device, action: { table } };
      wantRules.set(ruleArgv(rule).join(' '), rule);
      if (m.sourcesFromVrf) {
        for (const a of m.addresses) {
          const from: RuleSpec = { priority: VRF_RULE_PRIORITY, from: `${a.split('/')[0]!}/32`, action: { table } };
          wantRules.set(ruleArgv(from).join(' '), from);
        }
      }
      if (!m.up) continue;
      for (const a of m.addresses) add({ dest: networkOf(a), device: m.device, proto: 'kernel', scope: 'link', src: a.split('/')[0]!, table });
    }
    for (const f of frontDoor) {
      vrfs.add(f.vrf);
      const rule: RuleSpec = { priority: VRF_RULE_PRIORITY, iif: 'lo', to: `${f.peer}/32`, action: { table: this.tableOf(f.vrf) } };
      wantRules.set(ruleArgv(rule).join(' '), rule);
    }
    for (const r of routes) {
      if (!r.device && !r.via) continue;
      vrfs.add(r.vrf);
      add({ dest: r.dest, ...(r.via ? { via: r.via } : {}), ...(r.device ? { device: r.device } : {}), ...(r.metric !== undefined ? { metric: r.metric } : {}), table: this.tableOf(r.vrf) });
    }
    for (const v of vrfs) add({ type: 'unreachable', dest: 'default', metric: UNREACHABLE_METRIC, table: this.tableOf(v) });

    const net = this.o.net;
    const calls: Promise<unknown>[] = [];
    for (const [key, r] of this.rules) if (!wantRules.has(key)) calls.push(net.deleteRule(r));
    for (const [key, r] of wantRules) if (!this.rules.has(key)) calls.push(net.addRule(r).then((e) => this.logged(e)));
    this.rules = wantRules;
    // (quietly: a route through a device that went down is already gone)
    for (const [key, r] of this.routes) if (!wantRoutes.has(key)) calls.push(net.deleteRoute(r));
    this.routes = wantRoutes;
    // `replace` every time: the kernel removes routes through a device that goes down
    for (const r of wantRoutes.values()) calls.push(net.replaceRoute(r).then((e) => this.logged(e)));
    await Promise.all(calls);
  }

  /** Removes every rule and route this object installed. */
  close(): Promise<void> {
    return this.sync([], []);
  }

  private logged(error: string | undefined): boolean {
    if (error !== undefined) this.o.log(error);
    return error === undefined;
  }
}
