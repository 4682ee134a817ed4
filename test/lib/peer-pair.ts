// The smallest interop topology: Rampart (a box, or an engine driver) and one peer
// (strongSwan, a load or fuzz tool) on one link, each with a stand-in LAN on its loopback.
//
//   [local] lan0 ------------------------------ peer0 [peer]
//   local.address  (+ localLoopback on lo)        peer.address  (+ peerLoopback on lo)
//
// Defaults: namespaces `r` (Rampart, r0) and `s` (the peer, s0). The peer's end is always
// addressed; the local end too unless `box: true` (a Rampart box addresses its port from its
// CLI). `peerRoutes` go via the local address (charon installs a route for its policy and
// needs a gateway for it). Addresses the peer adds (more spokes) are `peerExtra`.
import type { Lab } from './netns.js';

export interface PeerPairOptions {
  /** link addresses, one /24 */
  local: string;
  peer: string;
  /** a Rampart box runs in the local namespace: its end stays unaddressed */
  box?: boolean;
  /** CIDR addresses put on the loopbacks (stand-in LANs) */
  localLoopback?: string;
  peerLoopback?: string;
  /** prefixes the peer routes via the local address */
  peerRoutes?: readonly string[];
  /** more addresses of the peer on its link end (CIDR not needed: /24 is used) */
  peerExtra?: readonly string[];
  /** namespace and interface names (default r/r0 and s/s0) */
  names?: { local?: string; localIf?: string; peer?: string; peerIf?: string };
}

export interface PeerPair {
  lab: Lab;
  /** short namespace names */
  local: string;
  peer: string;
  ifs: { local: string; peer: string };
  addr: { local: string; peer: string };
}

export function buildPeerPair(lab: Lab, o: PeerPairOptions): PeerPair {
  const local = o.names?.local ?? 'r';
  const peer = o.names?.peer ?? 's';
  const localIf = o.names?.localIf ?? `${local}0`;
  const peerIf = o.names?.peerIf ?? `${peer}0`;
  lab.addNamespace(local);
  lab.addNamespace(peer);
  lab.addVeth({ ns: local, ifname: localIf, ...(o.box ? {} : { addr: `${o.local}/24` }) }, { ns: peer, ifname: peerIf, addr: `${o.peer}/24` });
  for (const a of o.peerExtra ?? []) lab.addAddress(peer, peerIf, `${a}/24`);
  if (o.localLoopback) lab.addAddress(local, 'lo', o.localLoopback);
  if (o.peerLoopback) lab.addAddress(peer, 'lo', o.peerLoopback);
  for (const r of o.peerRoutes ?? []) lab.addRoute(peer, r, { gw: o.local });
  return { lab, local, peer, ifs: { local: localIf, peer: peerIf }, addr: { local: o.local, peer: o.peer } };
}
