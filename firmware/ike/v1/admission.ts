// Call admission for IKEv1 phase 1 (IOS `crypto call admission limit ike in-negotiation-sa N`
// and `crypto call admission limit ike sa N`), plus what IKEv1 lacks against floods of first
// messages (it has no stateless cookie like IKEv2's): a per-source cap on half-open
// negotiations, eviction of the oldest unproven half-open negotiation when the in-negotiation
// limit is reached, and a short lifetime for unproven ones while under pressure. "Unproven" is a
// responder negotiation whose peer never sent a second message with our responder cookie, which
// a spoofed source cannot do: a flood of spoofed Main/Aggressive Mode message 1s only ever
// replaces its own entries, and a real peer's negotiation, once it answers, is never evicted.
import type { CallAdmissionCounters } from '../../config/crypto-call-admission.js';
import type { Phase1 } from './types.js';
export { DEFAULT_IKE_IN_NEGOTIATION_LIMIT as DEFAULT_IN_NEGOTIATION_LIMIT } from '../../config/crypto-call-admission.js';
export const DEFAULT_PER_SOURCE_LIMIT = 8;
export const DEFAULT_PRESSURE_TIMEOUT_MS = 5000;

export interface AdmissionLimits {
  /** `crypto call admission limit ike in-negotiation-sa N` (half-open phase 1, both roles) */
  inNegotiationLimit?: number;
  /** `crypto call admission limit ike sa N` (all ISAKMP SAs); absent: no limit */
  saLimit?: number;
  /** half-open responder negotiations per source address */
  perSourceLimit?: number;
  /** lifetime of an unproven negotiation while at least half the in-negotiation limit is used */
  pressureTimeoutMs?: number;
}

/** IOS `show crypto call admission statistics` counters (plus eviction, Rampart's own). */
export type AdmissionCounters = CallAdmissionCounters;

export function newAdmissionCounters(): AdmissionCounters {
  return {
    incomingRequests: 0, incomingAccepted: 0, incomingRejected: 0, outgoingRequests: 0, outgoingAccepted: 0, outgoingRejected: 0,
    rejectedSaLimit: 0, rejectedInNegotiationLimit: 0, evicted: 0, evictedPerSource: 0, expiredUnderPressure: 0,
  };
}

/** Half-open phase-1 negotiations in creation order, with a count per source address. */
export class HalfOpenTable {
  /** negotiation -> the source address it was counted under (the SA's endpoint may float) */
  private readonly entries = new Map<Phase1, string>();
  private readonly bySource = new Map<string, number>();
  /** responder negotiations by initiator cookie and source (retransmitted first messages) */
  private readonly byCookie = new Map<string, Phase1>();

  get size(): number {
    return this.entries.size;
  }

  add(sa: Phase1): void {
    if (this.entries.has(sa)) return;
    const source = sa.remote.address;
    this.entries.set(sa, source);
    if (sa.role !== 'responder') return;
    this.bySource.set(source, (this.bySource.get(source) ?? 0) + 1);
    this.byCookie.set(cookieSourceKey(sa.ckyI, source), sa);
  }

  /** The half-open responder negotiation a first message with this cookie from `source` belongs to. */
  responderFor(ckyI: Uint8Array, source: string): Phase1 | undefined {
    return this.byCookie.get(cookieSourceKey(ckyI, source));
  }

  delete(sa: Phase1): void {
    const source = this.entries.get(sa);
    if (source === undefined) return;
    this.entries.delete(sa);
    if (sa.role !== 'responder') return;
    const key = cookieSourceKey(sa.ckyI, source);
    if (this.byCookie.get(key) === sa) this.byCookie.delete(key);
    const n = (this.bySource.get(source) ?? 1) - 1;
    if (n <= 0) this.bySource.delete(source);
    else this.bySource.set(source, n);
  }

  fromSource(address: string): number {
    return this.bySource.get(address) ?? 0;
  }

  /** Oldest responder negotiation the peer never answered (optionally from one source). */
  oldestUnproven(source?: string): Phase1 | undefined {
    for (const [sa, from] of this.entries) {
      if (sa.role === 'responder' && !sa.proven && (source === undefined || from === source)) return sa;
    }
    return undefined;
  }
}

function cookieSourceKey(ckyI: Uint8Array, source: string): string {
  return `${Buffer.from(ckyI.buffer, ckyI.byteOffset, ckyI.byteLength).toString('hex')}|${source}`;
}
