// What IKEv1's exchange tasks need from the engine around them (as IKEv2's SaContext): the
// clock and randomness, the configuration they read, sending, events and debug, and the
// few SA-table operations an exchange may ask for. The tasks never see the engine itself.
import type { DebugContext } from './debug.js';
import type { Datagram, Endpoint, IkeV1EngineOptions, IkeV1Event, IpsecSaInfo, Phase1, Retx } from './types.js';

/** The configuration the exchanges read (replaced as a whole when the configuration changes). */
export type V1Settings = Readonly<Pick<IkeV1EngineOptions, 'policies' | 'peerConfig' | 'quickModeResponder' | 'natTraversal' | 'forceEncap' | 'dpd'>>;

/** Why the engine drops IPsec SAs with a peer without the peer asking for each one. */
export type IpsecDropReason = 'deleted-by-peer' | 'dpd' | 'initial-contact';

export interface V1Context {
  readonly settings: V1Settings;
  now(): number;
  random(n: number): Uint8Array;
  /** A datagram out; `retransmit` counts it as one. */
  send(d: Datagram, retransmit?: boolean): void;
  /** Retransmission state for a request we expect an answer to. */
  armRetx(d: Datagram): Retx;
  event(e: IkeV1Event): void;
  /** Debug context of an SA (conn-id 0 until the peer is known). */
  debug(sa: Phase1, connId?: number): DebugContext;
  /** A message that does not fit is dropped (counted). */
  drop(): void;

  // ---- phase 1 lifecycle
  /** A new ISAKMP SA record (conn-id assigned, not yet in the table). */
  newPhase1(role: 'initiator' | 'responder', mode: 'main' | 'aggressive', ckyI: Uint8Array, ckyR: Uint8Array, local: Endpoint, remote: Endpoint): Phase1;
  /** Call admission for a first message from `source`; false: refused (counted). */
  admitResponder(source: string): boolean;
  /** Put a negotiating SA in the table (and count it half-open). */
  track(sa: Phase1): void;
  /** Drop without a word (the SA was never shown to anyone). */
  forget(sa: Phase1): void;
  fail(sa: Phase1, reason: string, notifyType?: number): void;
  established(sa: Phase1): void;
  remove(sa: Phase1, reason: 'deleted-by-peer' | 'dpd' | 'initial-contact'): void;
  /** A message of `sa` authenticated: liveness and the NAT-T endpoint update (fresh messages only). */
  authenticated(sa: Phase1, fresh?: boolean): void;
  /** Is another ISAKMP SA with this peer up (else we send INITIAL-CONTACT)? */
  hasOtherEstablished(sa: Phase1): boolean;
  /** Other established ISAKMP SAs with the same peer. */
  othersWithPeer(sa: Phase1): Phase1[];

  // ---- phase 2
  newMsgId(sa: Phase1): number;
  rememberMsgId(sa: Phase1, id: number): boolean;
  newSpi(): Uint8Array;
  ipsecUp(info: IpsecSaInfo): void;
  /** Drops the IPsec SAs `which` selects (with an ipsec-deleted event each). */
  dropIpsec(which: (info: IpsecSaInfo) => boolean, reason: IpsecDropReason): void;
}
