// IOS responder decision for Quick Mode over plain crypto-map entries:
//  * the entry must list the peer (`set peer`), unless it has no peers (dynamic template);
//  * the proposed flow must lie inside one of the entry's permit entries (mirror-image
//    Cases 3 and 4 of the guide);
//  * the first offered proposal that equals one of the entry's transform sets wins;
//  * `set pfs GROUP` demands PFS with that group; without it an offered PFS group is accepted;
//  * lifetimes: an offered lifetime longer than ours is cut to ours and announced with a
//    RESPONDER-LIFETIME notify; a shorter one is used as is.
import { NotifyType } from '../../proto/ikev1/index.js';
import type { ParsedAlternative, TransformSet } from './policy.js';
import { proposalMatchesSet } from './policy.js';
import { findPermitForFlow, type ProxyPermit, type Selector } from './selectors.js';

export interface CryptoMapEntryV1 {
  mapName: string;
  seq: number;
  /** `set peer` addresses; empty = accept any peer (dynamic) */
  peers: string[];
  permits: ProxyPermit[];
  transformSets: TransformSet[];
  pfsGroup?: number;
  lifetimeSec: number;
  lifetimeKb: number;
}

export interface QuickModeResponderQuery {
  peerAddress: string;
  localAddress: string;
  /** our side of the flow (the initiator's IDcr) */
  localSel: Selector;
  /** the initiator's side (its IDci) */
  remoteSel: Selector;
  offers: ParsedAlternative[];
  /** The phase-1 SA's conn-id (debug lines) and the ISAKMP profile it matched, if any. */
  connId?: number;
  profile?: string;
}

export type QuickModeResponderDecision =
  | {
      accept: true;
      alternative: ParsedAlternative;
      lifetimeSec: number;
      lifetimeKb: number;
      /** send RESPONDER-LIFETIME with these values */
      responderLifetime: boolean;
      entry?: { mapName: string; seq: number };
    }
  | { accept: false; reason: string; notifyType: number };

export function selectQuickModeResponse(entries: readonly CryptoMapEntryV1[], q: QuickModeResponderQuery): QuickModeResponderDecision {
  let reason = 'no crypto map entry for this peer';
  let notifyType: number = NotifyType.INVALID_ID_INFORMATION;
  for (const e of entries) {
    if (e.peers.length > 0 && !e.peers.includes(q.peerAddress)) continue;
    if (!findPermitForFlow(e.permits, q.localSel, q.remoteSel)) {
      reason = 'proxy identities not supported';
      notifyType = NotifyType.INVALID_ID_INFORMATION;
      continue;
    }
    for (const alt of q.offers) {
      if (e.pfsGroup !== undefined && alt.params.pfsGroup !== e.pfsGroup) continue;
      if (!e.transformSets.some((ts) => proposalMatchesSet(alt.params, ts))) continue;
      const offSec = alt.params.lifetimeSec;
      const offKb = alt.params.lifetimeKb;
      const lifetimeSec = offSec === undefined ? e.lifetimeSec : Math.min(offSec, e.lifetimeSec);
      const lifetimeKb = offKb === undefined ? e.lifetimeKb : Math.min(offKb, e.lifetimeKb);
      const responderLifetime = (offSec !== undefined && offSec > e.lifetimeSec) || (offKb !== undefined && offKb > e.lifetimeKb);
      return { accept: true, alternative: alt, lifetimeSec, lifetimeKb, responderLifetime, entry: { mapName: e.mapName, seq: e.seq } };
    }
    reason = e.pfsGroup !== undefined ? 'no acceptable proposal (PFS required)' : 'no acceptable transform set';
    notifyType = NotifyType.NO_PROPOSAL_CHOSEN;
  }
  return { accept: false, reason, notifyType };
}
