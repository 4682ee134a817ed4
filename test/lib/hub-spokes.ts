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
  /** 10.9.N.0/24 */
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
