// An exchange task (strongSwan style): the initiator builds a request (buildI) and processes
// the response (processI); the responder processes the request (processR) and builds the
// response (buildR). Tasks hold state for one exchange; the IKE SA runs one at a time as
// initiator (window size 1).
import type { AnyPayload, IkeHeader } from '../../proto/ikev2/index.js';

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
}
