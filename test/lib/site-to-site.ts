// The site-to-site topology shared by interop tests and benches:
//
//   hostA ---- gwA ========== gwB ---- hostB
//   10.1.0.2   10.1.0.1      10.2.0.1  10.2.0.2
//              172.16.0.1 -- 172.16.0.2       (the "WAN" veth between the gateways)
//
// Hosts route everything through their gateway. The gateways forward, but have no route
// to the other LAN: traffic between 10.1.0.0/24 and 10.2.0.0/24 only passes once a
// tunnel (strongSwan, Rampart) installs one. `plainRoutes: true` adds direct routes
// instead, for a no-IPsec baseline.
import { Lab } from './netns.js';

export interface SiteToSite {
  lab: Lab;
  /** short namespace names (lab.nsName() gives the full ones) */
  hostA: 'hostA';
  gwA: 'gwA';
  gwB: 'gwB';
  hostB: 'hostB';
  addr: {
    hostA: string; gwALan: string; gwAWan: string;
    gwBWan: string; gwBLan: string; hostB: string;
    lanA: string; lanB: string;
  };
  /** interface names inside the gateways */
  ifs: { gwLan: string; gwWan: string; host: string };
}

export const SITE_ADDR = {
  hostA: '10.1.0.2', gwALan: '10.1.0.1', gwAWan: '172.16.0.1',
  gwBWan: '172.16.0.2', gwBLan: '10.2.0.1', hostB: '10.2.0.2',
  lanA: '10.1.0.0/24', lanB: '10.2.0.0/24',
} as const;

export function buildSiteToSite(lab: Lab, opts: { plainRoutes?: boolean; wanMtu?: number } = {}): SiteToSite {
  const a = SITE_ADDR;
  for (const ns of ['hostA', 'gwA', 'gwB', 'hostB']) lab.addNamespace(ns);
  lab.addVeth({ ns: 'hostA', ifname: 'eth0', addr: `${a.hostA}/24` }, { ns: 'gwA', ifname: 'lan0', addr: `${a.gwALan}/24` });
  lab.addVeth({ ns: 'gwA', ifname: 'wan0', addr: `${a.gwAWan}/24`, mtu: opts.wanMtu }, { ns: 'gwB', ifname: 'wan0', addr: `${a.gwBWan}/24`, mtu: opts.wanMtu });
  lab.addVeth({ ns: 'gwB', ifname: 'lan0', addr: `${a.gwBLan}/24` }, { ns: 'hostB', ifname: 'eth0', addr: `${a.hostB}/24` });
  lab.addRoute('hostA', 'default', { gw: a.gwALan });
  lab.addRoute('hostB', 'default', { gw: a.gwBLan });
  lab.enableForwarding('gwA');
  lab.enableForwarding('gwB');
  if (opts.plainRoutes) {
    lab.addRoute('gwA', a.lanB, { gw: a.gwBWan });
    lab.addRoute('gwB', a.lanA, { gw: a.gwAWan });
  }
  return {
    lab, hostA: 'hostA', gwA: 'gwA', gwB: 'gwB', hostB: 'hostB',
    addr: { ...a },
    ifs: { gwLan: 'lan0', gwWan: 'wan0', host: 'eth0' },
  };
}

/** Pings from one namespace; resolves true when at least one reply came back. */
export async function ping(lab: Lab, ns: string, dest: string, opts: { count?: number; timeoutSec?: number; size?: number } = {}): Promise<boolean> {
  const argv = ['ping', '-n', '-q', '-c', String(opts.count ?? 3), '-i', '0.2', '-W', String(opts.timeoutSec ?? 2)];
  if (opts.size) argv.push('-s', String(opts.size));
  argv.push(dest);
  const r = await lab.exec(ns, argv, { timeoutMs: 30_000 });
  return r.code === 0;
}
