// A hub with road warriors behind a router standing for the Internet:
//
//   hubHost ---- hub ---------- inet ---------- rwN ---- hostN      (N = 1..spokes)
//   10.0.0.2    10.0.0.1  172.16.0.1  172.16.0.254          10.9.N.1  10.9.N.2
//                                     172.18.N.254 -- 172.18.N.2
//
// Each road warrior has its own WAN subnet and LAN, none of them known to the hub (only a
// default route to `inet`); `inet` forwards between the WANs. Hosts route everything via
// their gateway. The hub is the namespace a Rampart daemon (or strongSwan) runs in.
import { Lab } from './netns.js';

export interface Spoke {
  /** short namespace names */
  gw: string;
  host: string;
  wan: string;
  /** the address `inet` has on the spoke's WAN */
  wanGw: string;
  lanGw: string;
  hostAddr: string;
  /** the LAN (10.9.N.0/24 for road warriors) */
  lan: string;
}

export interface HubSpokes {
  lab: Lab;
  hub: 'hub';
  hubHost: 'hubHost';
  addr: { hubWan: string; hubWanGw: string; hubLan: string; hubHostAddr: string; hubLanNet: string };
  spokes: Spoke[];
  /** interface names inside hub and spoke gateways */
  ifs: { wan: string; lan: string };
}

export const HUB_ADDR = { hubWan: '172.16.0.1', hubWanGw: '172.16.0.254', hubLan: '10.0.0.1', hubHostAddr: '10.0.0.2', hubLanNet: '10.0.0.0/24' } as const;

export function spokeAddr(n: number): Omit<Spoke, 'gw' | 'host'> {
  return { wan: `172.18.${n}.2`, wanGw: `172.18.${n}.254`, lanGw: `10.9.${n}.1`, hostAddr: `10.9.${n}.2`, lan: `10.9.${n}.0/24` };
}

/** Builds the topology; spokes get namespaces rw1.., host1.. (spokeHosts: false leaves the hosts out). */
export function buildHubSpokes(lab: Lab, spokes: number, opts: { spokeHosts?: boolean } = {}): HubSpokes {
  const a = HUB_ADDR;
  for (const ns of ['hub', 'hubHost', 'inet']) lab.addNamespace(ns);
  lab.addVeth({ ns: 'hubHost', ifname: 'eth0', addr: `${a.hubHostAddr}/24` }, { ns: 'hub', ifname: 'lan0' });
  lab.addVeth({ ns: 'hub', ifname: 'wan0' }, { ns: 'inet', ifname: 'hub0', addr: `${a.hubWanGw}/24` });
  lab.addRoute('hubHost', 'default', { gw: a.hubLan });
  lab.enableForwarding('inet');
  const list: Spoke[] = [];
  for (let n = 1; n <= spokes; n++) {
    const s: Spoke = { gw: `rw${n}`, host: `host${n}`, ...spokeAddr(n) };
    lab.addNamespace(s.gw);
    lab.addVeth({ ns: s.gw, ifname: 'wan0', addr: `${s.wan}/24` }, { ns: 'inet', ifname: `rw${n}`, addr: `${s.wanGw}/24` });
    lab.addRoute(s.gw, 'default', { gw: s.wanGw });
    if (opts.spokeHosts !== false) {
      lab.addNamespace(s.host);
      lab.addVeth({ ns: s.gw, ifname: 'lan0', addr: `${s.lanGw}/24` }, { ns: s.host, ifname: 'eth0', addr: `${s.hostAddr}/24` });
      lab.addRoute(s.host, 'default', { gw: s.lanGw });
      lab.enableForwarding(s.gw);
    }
    list.push(s);
  }
  return { lab, hub: 'hub', hubHost: 'hubHost', addr: { ...a }, spokes: list, ifs: { wan: 'wan0', lan: 'lan0' } };
}

// ------------------------------------------------------------------ tunnel hub (VTI tests)

/**
 * A tunnel hub and its spokes behind a router standing for the Internet, with Rampart boxes
 * in the hub and (by default) the spokes:
 *
 *   hostA 10.1.0.2 - [hub] wan0 172.16.0.1 -- 172.16.0.254 [inet] 172.16.N.254 -- 172.16.N.1 [sN] - hostN LAN.2
 *   (more hub LANs: one host each)
 *
 * Boxes address their own ports; a spoke with `addressed: true` (strongSwan) gets its
 * addresses, a default route via `inet` and forwarding. Every host routes via its gateway's .1.
 */
export interface TunnelHubOptions {
  /** the hub's LANs: its interface, the host behind it and the /24 as `A.B.C` (default lan0, hostA, 10.1.0) */
  hubLans?: readonly { ifname: string; host: string; net: string }[];
  /** spokes 1..N: the LAN /24 as `A.B.C`; `addressed`: no box runs there */
  spokes: readonly { net: string; addressed?: boolean }[];
}

export const TUNNEL_HUB_ADDR = { hubWan: '172.16.0.1', hubWanGw: '172.16.0.254' } as const;

/** Spokes are namespaces sN and hostN; their WAN is 172.16.N.1, inet's end 172.16.N.254. */
export function buildTunnelHub(lab: Lab, o: TunnelHubOptions): { hub: 'hub'; spokes: Spoke[] } {
  lab.addNamespace('inet');
  lab.enableForwarding('inet');
  lab.addNamespace('hub');
  lab.addVeth({ ns: 'hub', ifname: 'wan0' }, { ns: 'inet', ifname: 'h0', addr: `${TUNNEL_HUB_ADDR.hubWanGw}/24` });
  for (const l of o.hubLans ?? [{ ifname: 'lan0', host: 'hostA', net: '10.1.0' }]) {
    lab.addNamespace(l.host);
    lab.addVeth({ ns: l.host, ifname: 'eth0', addr: `${l.net}.2/24` }, { ns: 'hub', ifname: l.ifname });
    lab.addRoute(l.host, 'default', { gw: `${l.net}.1` });
  }
  return {
    hub: 'hub',
    spokes: o.spokes.map((sp, i) => {
      const n = i + 1;
      const s: Spoke = { gw: `s${n}`, host: `host${n}`, wan: `172.16.${n}.1`, wanGw: `172.16.${n}.254`, lanGw: `${sp.net}.1`, hostAddr: `${sp.net}.2`, lan: `${sp.net}.0/24` };
      lab.addNamespace(s.gw);
      lab.addNamespace(s.host);
      lab.addVeth({ ns: s.gw, ifname: 'wan0', ...(sp.addressed ? { addr: `${s.wan}/24` } : {}) }, { ns: 'inet', ifname: s.gw, addr: `${s.wanGw}/24` });
      lab.addVeth({ ns: s.gw, ifname: 'lan0', ...(sp.addressed ? { addr: `${s.lanGw}/24` } : {}) }, { ns: s.host, ifname: 'eth0', addr: `${s.hostAddr}/24` });
      lab.addRoute(s.host, 'default', { gw: s.lanGw });
      if (sp.addressed) {
        lab.addRoute(s.gw, 'default', { gw: s.wanGw });
        lab.enableForwarding(s.gw);
      }
      return s;
    }),
  };
}

/** Two customers on one tunnel hub (VRF tests): hostA 10.1.0.2 on lanA, hostB 10.2.0.2 on lanB; both spokes' LANs are 10.9.0.0/24. */
export const TWO_CUSTOMERS: TunnelHubOptions = {
  hubLans: [{ ifname: 'lanA', host: 'hostA', net: '10.1.0' }, { ifname: 'lanB', host: 'hostB', net: '10.2.0' }],
  spokes: [{ net: '10.9.0' }, { net: '10.9.0' }],
};

/** The hub's board ports in TWO_CUSTOMERS. */
export const TWO_CUSTOMER_HUB_PORTS = { 'GigabitEthernet0/0': 'wan0', 'GigabitEthernet0/1': 'lanA', 'GigabitEthernet0/2': 'lanB' };
