// An IKEv1 exchange as a task (the IKEv2 model of firmware/ike/v2/task.ts, strongSwan's
// IKEv1 tasks): one object per exchange and role holds that exchange's state; the initiator
// starts it, and the engine hands it each later message of the exchange. A task reaches the
// engine only through its narrow V1Context; which payloads a message needs is in
// message-rules.ts. Duplicates and replays are answered or dropped by the engine before a task
// sees them.
import type { Datagram } from './types.js';

export interface V1Task {
  readonly name: 'main-mode' | 'aggressive-mode' | 'quick-mode';
  readonly exchange: number;
  readonly role: 'initiator' | 'responder';
  /** A message of this exchange (decoded header's flags; the datagram bounded to its length). */
  process(d: Datagram, data: Uint8Array, flags: number): void;
}
