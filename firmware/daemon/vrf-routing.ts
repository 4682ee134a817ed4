// What the VRF tables (kernel/vrf-tables.ts) must hold for a configuration: every wired port
// and tunnel interface with `ip vrf forwarding V`, with its Linux device and addresses, and
// every `ip route vrf V ...` whose interface is present (a route through a tunnel only while
// the tunnel's line protocol is up, as in the global table).

import type { Config } from '../config/model.js';
import { maskLength } from '../config/routing.js';
import type { StaticVti } from '../config/vti.js';
import type { FrontDoorPeer, VrfMember, VrfRoute } from '../kernel/vrf-tables.js';

export interface VrfInputs {
  members: VrfMember[];
  routes: VrfRoute[];
  /** tunnel peers reached through a front-door VRF */
  frontDoor: FrontDoorPeer[];
}


export function vrfInputs(cfg: Config, o: {
  /** IOS port name -> Linux device */
  portMap: Readonly<Record<string, string>>;
  tunnels: readonly StaticVti[];
  /** Linux device of a tunnel interface while it is up */
  tunnelDeviceIfUp: (name: string) => string | undefined;
}): VrfInputs {
  const members: VrfMember[] = [];
  for (const [port, device] of Object.entries(o.portMap)) {
    const i = cfg.interfaces?.items[port];
    if (!i?.vrf) continue;
    const addresses = [i.ipAddress, ...(i.secondary ?? [])].filter((a): a is NonNullable<typeof a> => a !== undefined)
      .map((a) => `${a.address}/${maskLength(a.mask) ?? 32}`);
    members.push({ vrf: i.vrf, device, addresses, up: !i.shutdown, sourcesFromVrf: true });
  }
  for (const v of o.tunnels) {
    if (!v.vrf) continue;
    members.push({ vrf: v.vrf, device: v.device, addresses: v.addresses, up: o.tunnelDeviceIfUp(v.name) !== undefined });
  }
  const frontDoor: FrontDoorPeer[] = [];
  for (const v of o.tunnels) {
    if (v.frontDoorVrf !== undefined && v.peer !== undefined) frontDoor.push({ vrf: v.frontDoorVrf, peer: v.peer });
  }
  const routes: VrfRoute[] = [];
  for (const r of cfg.routing?.routes ?? []) {
    if (r.vrf === undefined) continue;
    const route: VrfRoute = { vrf: r.vrf, dest: `${r.prefix}/${maskLength(r.mask) ?? 32}` };
    if (r.interface) {
      const dev = o.portMap[r.interface] ?? o.tunnelDeviceIfUp(r.interface);
      if (!dev) continue;
      route.device = dev;
    }
    if (r.nextHop) route.via = r.nextHop;
    if (r.distance !== undefined) route.metric = r.distance;
    routes.push(route);
  }
  return { members, routes, frontDoor };
}
