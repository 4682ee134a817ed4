// What an IKE SA and its tasks need from the engine around them (injected, so the SA and the
// tasks do no I/O and read no global clock).
import type { IkeProposalConfig, Ikev2Config, Ikev2Connection } from './config-types.js';
import type { Ikev2Diagnosis } from './diagnosis.js';
import type { Datagram, Ikev2Event } from './events.js';
import type { IkeSa } from './ike-sa.js';
import type { EventContext } from '../../lib/event-bus.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface SaContext {
  readonly config: Ikev2Config;
  now(): number;
  random(n: number): Uint8Array;
  send(d: Datagram): void;
  emit(e: Ikev2Event): void;
  diagnose(d: Ikev2Diagnosis): void;
  /** Log lines are tagged "IKE" by the engine; never pass secrets. `context`: the SA's. */
  log(level: LogLevel, msg: string, context?: EventContext): void;
  allocateIkeSpi(): bigint;
  allocateChildSpi(): number;
  nextChildId(): number;
  /** Create and index a new IKE SA (IKE SA rekey). */
  createIkeSa(init: { initiator: boolean; spiI: bigint; spiR: bigint; local: Endpoint; remote: Endpoint; connection?: Ikev2Connection }): IkeSa;
  /** Index an SA under its local SPI once known (responder SPI of an initiator's SA). */
  indexSa(sa: IkeSa): void;
  removeSa(sa: IkeSa): void;
  /** Connections whose remote address pattern matches the peer (config order). */
  connectionsFor(localAddress: string, remoteAddress: string): Ikev2Connection[];
  /** IKE proposals a responder accepts from this peer. */
  responderIkeProposals(localAddress: string, remoteAddress: string): IkeProposalConfig[];
  /** Other live IKE SAs with the same peer address (INITIAL_CONTACT, RFC 7296 2.4). */
  otherSasWithPeer(sa: IkeSa): IkeSa[];
  /** Count a message dropped as a replay (old request ID, response to nothing outstanding). */
  replayDropped(): void;
  /** Release a half-open slot (responder SA reached IKE_AUTH or died). */
  halfOpenDone(sa: IkeSa): void;
}

export interface Endpoint {
  address: string;
  port: number;
}
