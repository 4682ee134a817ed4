// The site-to-site topology shared by interop tests and benches:
//
//   hostA ---- gwA ========== gwB ---- hostB
//   10.1.0.2   10.1.0.1      10.2.0.1  10.2.0.2
//              172.16.0.1 -- 172.16.0.2       (the "WAN" veth between the gateways)
//
// With `nat: true` a NAT router namespace sits on the WAN path, masquerading gwA:
//
//   gwA 172.16.0.1 -- 172.16.0.254 [nat] 172.17.0.254 -- 172.17.0.2 gwB
//
// gwA's default route points at the NAT; gwB only knows 172.17.0.0/24 and sees gwA as
// 172.17.0.254 (addr.gwAWanSeenByB). addr.gwBWan is then 172.17.0.2.
//
// Hosts route everything through their gateway. The gateways forward, but have no route
// to the other LAN: traffic between 10.1.0.0/24 and 10.2.0.0/24 only passes once a
// tunnel (strongSwan, Rampart) installs one. `plainRoutes: true` adds direct routes
// instead, for a no-IPsec baseline. `boxes: ['gwA', ...]` names the gateways a Rampart box
// runs in: their interfaces stay unaddressed and forwarding is left to the box.
import { Lab, type VethEnd } from './netns.js';

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
    /** the source address gwB sees for gwA (the NAT's outside address with nat: true) */
    gwAWanSeenByB: string;
  };
  /** true when a NAT namespace ('nat') masquerades gwA */
  nat: boolean;
  /** interface names inside the gateways */
  ifs: { gwLan: string; gwWan: string; host: string };
}

export const SITE_ADDR = {
  hostA: '10.1.0.2', gwALan: '10.1.0.1', gwAWan: '172.16.0.1',
  gwBWan: '172.16.0.2', gwBLan: '10.2.0.1', hostB: '10.2.0.2',
  lanA: '10.1.0.0/24', lanB: '10.2.0.0/24',
} as const;

export const NAT_ADDR = { inside: '172.16.0.254', outside: '172.17.0.254', gwBWan: '172.17.0.2' } as const;

export interface SiteToSiteOptions {
  plainRoutes?: boolean;
  wanMtu?: number;
  nat?: boolean;
  /** gateways a Rampart box runs in (it addresses their ports itself) */
  boxes?: readonly ('gwA' | 'gwB')[];
}

export function buildSiteToSite(lab: Lab, opts: SiteToSiteOptions = {}): SiteToSite {
  const a = { ...SITE_ADDR, gwAWanSeenByB: SITE_ADDR.gwAWan as string, gwBWan: SITE_ADDR.gwBWan as string };
  const nat = opts.nat === true;
  const box = (gw: 'gwA' | 'gwB'): boolean => opts.boxes?.includes(gw) ?? false;
  if (nat && box('gwA')) throw new Error('nat with a box in gwA: not supported (its default route needs an address)');
  if (opts.plainRoutes && opts.boxes?.length) throw new Error('plainRoutes with boxes: not supported (the boxes route)');
  /** a gateway end: addressed unless a box runs there */
  const gwEnd = (gw: 'gwA' | 'gwB', ifname: string, addr: string, mtu?: number): VethEnd => ({ ns: gw, ifname, ...(box(gw) ? {} : { addr: `${addr}/24` }), ...(mtu ? { mtu } : {}) });
  for (const ns of ['hostA', 'gwA', 'gwB', 'hostB']) lab.addNamespace(ns);
  lab.addVeth({ ns: 'hostA', ifname: 'eth0', addr: `${a.hostA}/24` }, gwEnd('gwA', 'lan0', a.gwALan));
  if (nat) {
    lab.addNamespace('nat');
    a.gwBWan = NAT_ADDR.gwBWan;
    a.gwAWanSeenByB = NAT_ADDR.outside;
    lab.addVeth({ ns: 'gwA', ifname: 'wan0', addr: `${a.gwAWan}/24`, mtu: opts.wanMtu }, { ns: 'nat', ifname: 'in0', addr: `${NAT_ADDR.inside}/24`, mtu: opts.wanMtu });
    lab.addVeth({ ns: 'nat', ifname: 'out0', addr: `${NAT_ADDR.outside}/24`, mtu: opts.wanMtu }, gwEnd('gwB', 'wan0', a.gwBWan, opts.wanMtu));
    lab.addNat('nat', 'out0');
    lab.addRoute('gwA', 'default', { gw: NAT_ADDR.inside });
  } else {
    lab.addVeth(gwEnd('gwA', 'wan0', a.gwAWan, opts.wanMtu), gwEnd('gwB', 'wan0', a.gwBWan, opts.wanMtu));
  }
  lab.addVeth(gwEnd('gwB', 'lan0', a.gwBLan), { ns: 'hostB', ifname: 'eth0', addr: `${a.hostB}/24` });
  lab.addRoute('hostA', 'default', { gw: a.gwALan });
  lab.addRoute('hostB', 'default', { gw: a.gwBLan });
  if (!box('gwA')) lab.enableForwarding('gwA');
  if (!box('gwB')) lab.enableForwarding('gwB');
  if (opts.plainRoutes) {
    if (nat) throw new Error('plainRoutes with nat: not supported (the NAT hides LAN A)');
    lab.addRoute('gwA', a.lanB, { gw: a.gwBWan });
    lab.addRoute('gwB', a.lanA, { gw: a.gwAWan });
  }
  return {
    lab, hostA: 'hostA', gwA: 'gwA', gwB: 'gwB', hostB: 'hostB',
    addr: a, nat,
    ifs: { gwLan: 'lan0', gwWan: 'wan0', host: 'eth0' },
  };
}

/**
 * One more site on a gateway of the topology (a third box behind another port):
 *
 *   [from.ns] from.ifname ---- wan0 [gw] lan0 ---- eth0 [host]  NET.2, via NET.1
 *
 * Both gateways are boxes (their ports stay unaddressed); `net` is the site's /24 as `A.B.C`.
 */
export function addBranchSite(lab: Lab, o: { gw: string; host: string; net: string; from: { ns: string; ifname: string } }): { gw: string; host: string; hostAddr: string; lanGw: string } {
  lab.addNamespace(o.gw);
  lab.addNamespace(o.host);
  lab.addVeth({ ns: o.from.ns, ifname: o.from.ifname }, { ns: o.gw, ifname: 'wan0' });
  lab.addVeth({ ns: o.gw, ifname: 'lan0' }, { ns: o.host, ifname: 'eth0', addr: `${o.net}.2/24` });
  lab.addRoute(o.host, 'default', { gw: `${o.net}.1` });
  return { gw: o.gw, host: o.host, hostAddr: `${o.net}.2`, lanGw: `${o.net}.1` };
}

/** Pings from one namespace; resolves true when at least one reply came back. */
export async function ping(lab: Lab, ns: string, dest: string, opts: { count?: number; timeoutSec?: number; size?: number } = {}): Promise<boolean> {
  const argv = ['ping', '-n', '-q', '-c', String(opts.count ?? 3), '-i', '0.2', '-W', String(opts.timeoutSec ?? 2)];
  if (opts.size) argv.push('-s', String(opts.size));
  argv.push(dest);
  const r = await lab.exec(ns, argv, { timeoutMs: 30_000 });
  return r.code === 0;
}
