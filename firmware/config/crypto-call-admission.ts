// IOS call admission control for IKE (order 126, after the ISAKMP globals):
// `crypto call admission limit ike sa N` (ISAKMP SAs up or negotiating) and
// `crypto call admission limit ike in-negotiation-sa N` (phase-1 negotiations in progress).
import { defineSection } from './model.js';

/** In-negotiation limit when none is configured (IKEv1 half-open phase 1). */
export const DEFAULT_IKE_IN_NEGOTIATION_LIMIT = 1000;

export interface CallAdmission {
  revision: number;
  /** `crypto call admission limit ike sa N`; absent: no limit */
  ikeSaLimit?: number;
  /** `crypto call admission limit ike in-negotiation-sa N`; absent: the built-in default */
  ikeInNegotiationLimit?: number;
}

/** Runtime counters of `show crypto call admission statistics` (kept by the IKEv1 engine). */
export interface CallAdmissionCounters {
  incomingRequests: number;
  incomingAccepted: number;
  incomingRejected: number;
  outgoingRequests: number;
  outgoingAccepted: number;
  outgoingRejected: number;
  rejectedSaLimit: number;
  rejectedInNegotiationLimit: number;
  /** oldest unanswered negotiations dropped to admit a new one (limit reached) */
  evicted: number;
  /** a source's own oldest negotiation dropped (per-source cap) */
  evictedPerSource: number;
  /** unanswered negotiations timed out early under pressure */
  expiredUnderPressure: number;
}

/** The budgeted intake of first messages (firmware/ike/intake.ts), Rampart's own lines. */
export interface IkeIntakeCounters {
  /** first messages offered to the intake */
  received: number;
  /** handled, and of them from known sources (an authenticated exchange lately) */
  served: number;
  servedKnown: number;
  /** dropped at the intake because their queue was full */
  dropped: number;
  /** turns that stopped because a class had spent its CPU budget */
  budgetWaits: number;
}

declare module './model.js' {
  interface Config {
    callAdmission: CallAdmission;
  }
}

defineSection({
  key: 'callAdmission',
  order: 126,
  create: () => ({ revision: 0 }),
  render: (cfg) => {
    const c = cfg.callAdmission;
    const lines: string[] = [];
    if (c.ikeSaLimit !== undefined) lines.push(`crypto call admission limit ike sa ${c.ikeSaLimit}`);
    if (c.ikeInNegotiationLimit !== undefined) lines.push(`crypto call admission limit ike in-negotiation-sa ${c.ikeInNegotiationLimit}`);
    return [lines];
  },
});
