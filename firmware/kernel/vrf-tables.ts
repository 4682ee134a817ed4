// VRFs (`ip vrf NAME`, `ip vrf forwarding NAME` on an interface, `ip route vrf NAME ...`) on a
// kernel without the `vrf` link type (this host: checked) as Linux policy routing:
//   - each VRF in use gets a routing table (VRF_TABLE_BASE + n, n fixed for the daemon's life);
//   - a rule `iif DEV lookup TABLE` for every interface in the VRF (ports, tunnels,
//     Virtual-Access), in a priority band before the crypto map rules of the userspace backend;
//   - the connected routes of those interfaces go into the VRF's table only (their addresses
//     are added `noprefixroute`), as do the VRF's static routes;
//   - an `unreachable default` closes each table, so a lookup never falls through to main:
//     traffic of one VRF never leaves by another's (or the global) routes.
// The tunnel's own IKE/ESP stays global (front-door VRF = global), as on IOS without `fvrf`.

import { formatIpv4, parseIpv4Prefix, prefixToMask } from '../lib/ip.js';
import type { CommandRunner } from './userspace-backend.js';

/** Priority of the `iif DEV lookup TABLE` rules (the userspace backend's band starts at 10000). */
export const VRF_RULE_PRIORITY = 9000;
export const VRF_TABLE_BASE = 1000;
/** The metric Linux VRF devices give their closing unreachable default. */
const UNREACHABLE_METRIC = '4278198272';

/** An interface in a VRF: its Linux device and addresses (`A.B.C.D/len`). */
export interface VrfMember {
  vrf: string;
  device: string;
  addresses: readonly string[];
  /** device up: its connected routes can be installed (the kernel drops them while down) */
  up: boolean;
}

/** `ip route vrf V P M {IF | NH}`: destination `P/len`, by device and/or next hop. */
export interface VrfRoute {
  vrf: string;
  dest: string;
  device?: string;
  via?: string;
  metric?: number;
}

/** `10.1.0.1/24` -> `10.1.0.0/24`. */
export function networkOf(cidr: string): string {
  const p = parseIpv4Prefix(cidr.includes('/') ? cidr : `${cidr}/32`);
  if (!p) return cidr;
  return `${formatIpv4((p.address & prefixToMask(p.prefix)) >>> 0)}/${p.prefix}`;
}

export class VrfTables {
  private readonly tables = new Map<string, number>();
  /** rule argv (after the priority) -> installed */
  private rules = new Set<string>();
  /** route argv key -> argv, installed by the last sync */
  private routes = new Map<string, string[]>();

  constructor(private readonly o: { run: CommandRunner; log: (text: string) => void }) {}

  /** The routing table of a VRF (allocated at first use, kept for the daemon's life). */
  tableOf(vrf: string): number {
    let t = this.tables.get(vrf);
    if (t === undefined) { t = VRF_TABLE_BASE + this.tables.size + 1; this.tables.set(vrf, t); }
    return t;
  }

  /** Brings rules and routes to what `members` and `routes` need (idempotent; errors are logged). */
  sync(members: readonly VrfMember[], routes: readonly VrfRoute[]): void {
    const wantRules = new Set<string>();
    const wantRoutes = new Map<string, string[]>();
    const add = (argv: string[]) => wantRoutes.set(argv.join(' '), argv);
    const vrfs = new Set<string>();
    for (const m of members) {
      const table = String(this.tableOf(m.vrf));
      vrfs.add(m.vrf);
      wantRules.add(['iif', m.device, 'lookup', table].join(' '));
      if (!m.up) continue;
      for (const a of m.addresses) {
        add([networkOf(a), 'dev', m.device, 'proto', 'kernel', 'scope', 'link', 'src', a.split('/')[0]!, 'table', table]);
      }
    }
    for (const r of routes) {
      if (!r.device && !r.via) continue;
      vrfs.add(r.vrf);
      add([r.dest, ...(r.via ? ['via', r.via] : []), ...(r.device ? ['dev', r.device] : []), ...(r.metric !== undefined ? ['metric', String(r.metric)] : []), 'table', String(this.tableOf(r.vrf))]);
    }
    for (const v of vrfs) add(['unreachable', 'default', 'metric', UNREACHABLE_METRIC, 'table', String(this.tableOf(v))]);

    for (const key of this.rules) if (!wantRules.has(key)) this.o.run(['ip', 'rule', 'del', 'priority', String(VRF_RULE_PRIORITY), ...key.split(' ')]);
    for (const key of wantRules) if (!this.rules.has(key)) this.sh(['ip', 'rule', 'add', 'priority', String(VRF_RULE_PRIORITY), ...key.split(' ')]);
    this.rules = wantRules;
    // (quietly: a route through a device that went down is already gone)
    for (const [key, argv] of this.routes) if (!wantRoutes.has(key)) this.o.run(['ip', 'route', 'del', ...argv]);
    const installed = new Map<string, string[]>();
    // `replace` every time: the kernel removes routes through a device that goes down
    for (const [key, argv] of wantRoutes) if (this.sh(['ip', 'route', 'replace', ...argv])) installed.set(key, argv);
    this.routes = installed;
  }

  /** Removes every rule and route this object installed. */
  close(): void {
    this.sync([], []);
  }

  private sh(argv: string[]): boolean {
    const r = this.o.run(argv);
    if (r.code !== 0) this.o.log(`${argv.join(' ')}: ${r.stderr.trim()}`);
    return r.code === 0;
  }
}
