// Many simulated dynamic VTI spokes against one Rampart hub (the DVTI bench and the leak test):
// the IKEv1 load tool (test/ikev1-interop/load-tool.ts) in namespace `i` with one address per
// spoke on `${net}.1.0/24`, each proposing its own /32 "LAN" (10.200.x.y) to the hub's
// 192.168.42.0/24; the hub (namespace `r`, port r0 = FastEthernet0/0 at `${net}.1.1`) answers
// with an ISAKMP profile naming `virtual-template 1`, so every session gets a Virtual-Access.
import type { Lab } from '../lib/netns.js';
import { buildPeerPair } from '../lib/peer-pair.js';
import type { LoadToolConfig } from '../ikev1-interop/load-tool.js';

export const DVTI_LOAD_PSK = 'rampart-dvti-load-psk';

/** Namespaces `i` and `r` joined by ir0/r0; `count` spoke addresses on ir0 (.2 ...). Returns them. */
export function dvtiLoadLab(lab: Lab, net: string, count: number): string[] {
  if (count > 250) throw new Error('at most 250 spokes on one /24');
  const locals = Array.from({ length: count }, (_, k) => `${net}.1.${k + 2}`);
  buildPeerPair(lab, { local: `${net}.1.1`, peer: locals[0]!, peerExtra: locals.slice(1), box: true, names: { peer: 'i', peerIf: 'ir0' } });
  return locals;
}

export function dvtiHubConfig(net: string): string[] {
  return [
    'hostname hub',
    'crypto isakmp policy 10', ' encryption aes', ' hash sha256', ' group 14', ' authentication pre-share', 'exit',
    `crypto isakmp key ${DVTI_LOAD_PSK} address 0.0.0.0 0.0.0.0`,
    'crypto isakmp profile SPOKES', ` match identity address ${net}.1.0 255.255.255.0`, ' virtual-template 1', 'exit',
    'crypto ipsec transform-set ts esp-aes esp-sha-hmac', 'exit',
    'crypto ipsec profile VP', ' set transform-set ts', 'exit',
    'interface FastEthernet0/0', ` ip address ${net}.1.1 255.255.255.0`, ' no shutdown', 'exit',
    'interface Virtual-Template1 type tunnel', ' ip unnumbered FastEthernet0/0', ' tunnel mode ipsec ipv4', ' tunnel protection ipsec profile VP', 'exit',
  ];
}

/** The load tool: `setup` loops (connect, DELETE, again) or, with `holdMs`, one session per spoke held at once. */
export function dvtiLoad(locals: readonly string[], remote: string, o: { durationMs: number; maxSetups?: number; holdMs?: number }): LoadToolConfig {
  return {
    mode: 'setup', psk: DVTI_LOAD_PSK, locals: [...locals], remote,
    policy: { priority: 10, encryption: 'aes128', hash: 'sha256', authentication: 'pre-share', group: 14, lifetimeSec: 86400 },
    set: { name: 'ts', esp: { cipher: 'esp-aes', keyLenBits: 128, integrity: 'sha' }, mode: 'tunnel' },
    localSel: { addr: '10.200.0.1', prefixLen: 32, protocol: 0, port: 0 },
    localSels: locals.map((_, i) => ({ addr: `10.200.${Math.floor(i / 250)}.${(i % 250) + 1}`, prefixLen: 32, protocol: 0, port: 0 })),
    remoteSel: { addr: '192.168.42.0', prefixLen: 24, protocol: 0, port: 0 },
    durationMs: o.durationMs,
    ...(o.maxSetups !== undefined ? { maxSetups: o.maxSetups } : {}),
    ...(o.holdMs !== undefined ? { holdMs: o.holdMs } : {}),
  };
}

/** The JSON of `show ... | json` (a log message may arrive on the console before it). */
export function jsonOf(text: string): unknown {
  const start = text.indexOf('\n{') >= 0 ? text.indexOf('\n{') + 1 : text.indexOf('{');
  return JSON.parse(text.slice(start, text.lastIndexOf('}') + 1));
}
