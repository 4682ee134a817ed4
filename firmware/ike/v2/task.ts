// An exchange task (strongSwan style): the initiator builds a request (buildI) and processes
// the response (processI); the responder processes the request (processR) and builds the
// response (buildR). Tasks hold state for one exchange; the IKE SA runs one at a time as
// initiator (window size 1).
import type { AnyPayload, IkeHeader } from '../../proto/ikev2/index.js';
import type { Ikev2DownReason } from './events.js';
import type { IkeSa } from './ike-sa.js';

/**
 * Thrown by buildI when the request cannot be built from local state (no pre-shared key for
 * the peer): nothing is sent and the IKE SA goes down with `reason`; the task has recorded
 * the diagnosis already.
 */
export class TaskAbortError extends Error {
  constructor(message: string, readonly reason: Ikev2DownReason) {
    super(message);
  }
}

/** Result of processI: finished, send the rebuilt request again (COOKIE / INVALID_KE), or failed. */
export type TaskStatus = 'done' | 'again' | 'failed';

export interface Task {
  readonly name: string;
  readonly exchange: number;
  buildI(): AnyPayload[];
  processI(payloads: AnyPayload[], header: IkeHeader): TaskStatus;
  processR(payloads: AnyPayload[], header: IkeHeader): void;
  buildR(): AnyPayload[];
  /** Responder: after the response went out (e.g. destroy the SA after an IKE delete). */
  afterR?(): void;
  /** Initiator: the exchange timed out (retransmissions exhausted). */
  timedOut?(): void;
  /** Override retransmission timeouts for this exchange (e.g. DPD retry interval). */
  readonly retransmitMs?: number;
  /**
   * Queued (not yet sent) when its IKE SA was rekeyed: the same work on the new IKE SA, or
   * undefined when it has no place there (the old SA is only deleted, RFC 7296 2.8).
   */
  rebind?(sa: IkeSa): Task | undefined;
}
