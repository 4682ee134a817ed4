// How both IKE services report their sessions (docs/system-messages.md): an IKE SA up or
// down is %CRYPTO-5-SESSION_STATUS and a `debug crypto engine` key line; a wrong pre-shared
// key is the version's authentication failure message. The report remembers each IKE SA's
// peer and context, so a down event needs only its id and IPsec debug lines of the SA carry
// the peer's identity.
import type { EventContext, ScopedLogger } from '../lib/event-bus.js';

/** %CRYPTO-5-SESSION_STATUS, as IOS prints it when an IKE session comes up or goes down. */
export function sessionStatus(log: ScopedLogger, up: boolean, peer: string, port: number, id: string | undefined, context: { connIds?: number[] } = {}): void {
  log.message('CRYPTO', 5, 'SESSION_STATUS', `Crypto tunnel is ${up ? 'UP' : 'DOWN'}. Peer ${peer}:${port} ${id ? ` Id: ${id}` : ''}`.trimEnd(), { peer, ...context });
}

/** `debug crypto engine` lines of IKE SA keys (firmware/daemon/crypto-engine-debug.ts). */
export interface IkeKeyDebug {
  ikeKeys(connId: number, peer: string): void;
  ikeDeleted(connId: number, peer: string): void;
}

/** Rate-limited authentication failure messages (firmware/daemon/system-messages.ts). */
export interface AuthFailureMessages {
  ikev1(peer: string, connId: number): void;
  ikev2(peer: string, ikeSaId: number): void;
}

interface Session {
  address: string;
  port: number;
  context: EventContext;
}

export class IkeSessionReport {
  private readonly sessions = new Map<number, Session>();

  constructor(
    private readonly version: 'IKEv1' | 'IKEv2',
    private readonly log: ScopedLogger,
    private readonly keys: IkeKeyDebug,
    private readonly auth: AuthFailureMessages,
  ) {}

  /** An IKE SA is up (`peerId`: the identity SESSION_STATUS shows; `context`: what its debug lines carry). */
  up(id: number, peer: { address: string; port: number }, peerId?: string, context: EventContext = {}): void {
    this.sessions.set(id, { address: peer.address, port: peer.port, context });
    this.keys.ikeKeys(id, peer.address);
    sessionStatus(this.log, true, peer.address, peer.port, peerId, { connIds: [id] });
  }

  /**
   * An IKE SA is gone (`peer`: when the event names it, else the one it came up with).
   * `status`: false when the SA died without a session change to report (IKEv1's dead peer).
   */
  down(id: number, peer?: { address: string; port: number }, status = true): void {
    const s = peer ?? this.sessions.get(id);
    this.sessions.delete(id);
    if (!s) return;
    this.keys.ikeDeleted(id, s.address);
    if (status) sessionStatus(this.log, false, s.address, s.port, undefined, { connIds: [id] });
  }

  /** The context an IKE SA's debug lines carry (its peer's identity and profile). */
  context(id: number): EventContext | undefined {
    return this.sessions.get(id)?.context;
  }

  /** A pre-shared key mismatch with `peer` (rate-limited per peer). */
  authFailed(peer: string, id: number): void {
    if (this.version === 'IKEv1') this.auth.ikev1(peer, id);
    else this.auth.ikev2(peer, id);
  }
}
