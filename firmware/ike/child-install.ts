// Installing a negotiated SA pair, the same for both IKE versions: the data plane gets the
// pair under its place (a crypto map entry's flow, a temporary entry, a tunnel), `debug
// crypto ipsec` says IPSEC(create_sa), and the service gets the shared record for its
// Child SA table (child-sas.ts). Throws when the data plane refuses the pair.
import type { EventContext, ScopedLogger } from '../lib/event-bus.js';
import { freshTraffic, type ChildSaRecord } from './child-sas.js';
import type { IkeDataplanePort, PairInstall } from './dataplane-port.js';
import type { PairPlace } from './temporary-entry.js';

/** A negotiated pair as the engine reported it, in the data plane's terms. */
export interface NegotiatedPair extends Omit<PairInstall, 'mapName' | 'mapSeq' | 'policyKey' | 'scope' | 'iface' | 'childId'> {
  childId: number;
  peerPort: number;
  /** the protocol whose SPIs the record and the debug line carry (ESP of an AH + ESP bundle) */
  protocol: 'esp' | 'ah';
  spiIn: number;
  spiOut: number;
  /** `show crypto session` flow text */
  flowText: string;
  /** debug context besides peer and SPIs (conn-ids, the peer's identity) */
  context: EventContext;
}

/** Installs the pair at `at` (`vti`: a tunnel interface's pair); returns its table record. */
export function installPair(dp: Pick<IkeDataplanePort, 'installChildSa'>, at: PairPlace & { vti?: string }, p: NegotiatedPair, log: ScopedLogger, now: number): ChildSaRecord {
  const { childId, peerPort, protocol, spiIn, spiOut, flowText, context, ...sa } = p;
  const ids = dp.installChildSa({
    ...sa, mapName: at.mapName, mapSeq: at.seq, policyKey: at.policyKey, scope: at.scope, childId, ...(at.vti !== undefined ? { iface: at.vti } : {}),
  });
  log.debug('ipsec', () => `IPSEC(create_sa): sa created, (sa) sa_dest= ${sa.peer}, sa_proto= ${protocol === 'ah' ? 51 : 50}, sa_spi= 0x${spiIn.toString(16).toUpperCase()}(${spiIn}), outbound sa_spi= 0x${spiOut.toString(16).toUpperCase()}(${spiOut})`,
    { context: { ...context, peer: sa.peer, spis: [spiIn, spiOut] } });
  return {
    id: childId, peer: sa.peer, peerPort, mapName: at.mapName, mapSeq: at.seq, policyKey: at.policyKey, iface: at.iface,
    ...(at.vti !== undefined ? { vti: at.vti } : {}), spiIn, spiOut, ...ids, flowText, createdAt: now, ...freshTraffic(now),
  };
}
