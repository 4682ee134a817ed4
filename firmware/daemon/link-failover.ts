// A router withdraws the routes through an interface whose link is down (IOS: a static route
// over a down interface leaves the routing table, so a floating static with a higher distance
// takes over). Linux keeps such routes, marked `linkdown`, and keeps using them unless
// `ignore_routes_with_linkdown` is set. On a wired board the daemon owns its namespace's
// routing, so it sets it once: traffic and IKE sourced from a loopback (`crypto map NAME
// local-address Loopback0`) then fail over to the other outside interface when one loses its
// link (guide: "Redundant Interfaces Sharing the Same Crypto Map").
import { writeFileSync } from 'node:fs';

const KNOB = '/proc/sys/net/ipv4/conf/all/ignore_routes_with_linkdown';

/** Sets the knob (the `all` value is ORed with each interface's, so it covers later ones too). */
export function withdrawRoutesOnLinkDown(log: (msg: string) => void, path = KNOB): boolean {
  try {
    writeFileSync(path, '1\n');
    return true;
  } catch (e) {
    log(`cannot set ${path}: ${(e as Error).message} (routes over a link without carrier stay in use)`);
    return false;
  }
}
