// IOS system messages for what the box does (the list is in docs/system-messages.md):
// interface and line-protocol changes and ISAKMP on/off follow the configuration (an
// applier that compares each applied revision with the last); crypto session and SA
// messages come from the IKE services; per-packet messages (invalid SPI, replay, MAC and
// IKE authentication failures) go through a RateGate, as IOS rate-limits them, so a flood
// of bad packets costs one line per interval.
import type { Config } from '../config/model.js';
import type { ScopedLogger } from '../lib/event-bus.js';
import type { Applier } from './daemon.js';

/** At most one message per `intervalMs` per key; counts what it suppressed. */
export class RateGate {
  private readonly last = new Map<string, number>();
  suppressed = 0;
  constructor(private readonly intervalMs: number, private readonly now: () => number) {}

  pass(key: string): boolean {
    const t = this.now();
    const prev = this.last.get(key);
    if (prev !== undefined && t - prev < this.intervalMs) {
      this.suppressed++;
      return false;
    }
    if (this.last.size > 1024) this.last.clear(); // bounded: a flood of keys forgets, never grows
    this.last.set(key, t);
    return true;
  }
}

/** IOS rate limit of %CRYPTO-4-RECVD_PKT_INV_SPI (one per peer per interval). */
export const INVALID_SPI_INTERVAL_MS = 10_000;
/** IOS rate limits of %CRYPTO-4-PKT_REPLAY_ERR (one a minute) and RECVD_PKT_MAC_ERR (30 s), per SA. */
export const REPLAY_ERR_INTERVAL_MS = 60_000;
export const MAC_ERR_INTERVAL_MS = 30_000;
/** %CRYPTO-4-IKMP_BAD_MESSAGE (a phase-1 authentication failure): one per peer per interval. */
export const IKMP_BAD_MESSAGE_INTERVAL_MS = 30_000;

/** An inbound packet an SA refused (pipeline.onUnprotectError). */
export interface UnprotectError {
  /** the pipeline's drop code: 'replay', 'icv-failure', ... */
  code: string;
  /** the SA's conn id as `show crypto ipsec sa` prints it */
  connId: number;
  spi: number;
  local: string;
  peer: string;
  /** the packet's ESP/AH sequence number, when it could be read */
  seq?: number;
}

/**
 * The per-packet crypto messages of the data plane, each behind its IOS rate limit so a
 * flood costs one line per interval: RECVD_PKT_INV_SPI (unknown SPI), PKT_REPLAY_ERR
 * (anti-replay) and RECVD_PKT_MAC_ERR (integrity check). Context: peer, SPI, conn-id.
 */
export function packetErrorMessages(log: ScopedLogger, now: () => number): {
  invalidSpi(e: { spi: number; proto: number; src: string; dst: string }): void;
  unprotectError(e: UnprotectError): void;
} {
  const invalidSpi = new RateGate(INVALID_SPI_INTERVAL_MS, now);
  const replay = new RateGate(REPLAY_ERR_INTERVAL_MS, now);
  const mac = new RateGate(MAC_ERR_INTERVAL_MS, now);
  const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');
  return {
    invalidSpi(e) {
      if (!invalidSpi.pass(e.src)) return;
      log.message('CRYPTO', 4, 'RECVD_PKT_INV_SPI', `decaps: rec'd IPSEC packet has invalid spi for destaddr=${e.dst}, prot=${e.proto}, spi=0x${e.spi.toString(16).toUpperCase()}(${e.spi}), srcaddr=${e.src}`, { peer: e.src, spis: [e.spi] });
    },
    unprotectError(e) {
      const context = { peer: e.peer, spis: [e.spi], connIds: [e.connId] };
      if (e.code === 'replay') {
        if (!replay.pass(`${e.peer}|${e.spi}`)) return;
        log.message('CRYPTO', 4, 'PKT_REPLAY_ERR', `decrypt: replay check failed connection id=${e.connId}, sequence number=${e.seq ?? 0}`, context);
      } else if (e.code === 'icv-failure') {
        if (!mac.pass(`${e.peer}|${e.spi}`)) return;
        log.message('CRYPTO', 4, 'RECVD_PKT_MAC_ERR', `decrypt: mac verify failed for connection id=${e.connId} local=${e.local} remote=${e.peer} spi=${hex(e.spi, 8)} seqno=${hex(e.seq ?? 0, 8)}`, context);
      }
    },
  };
}

/**
 * IKE authentication failures (a pre-shared key mismatch), rate-limited per peer:
 * IKEv1 `%CRYPTO-4-IKMP_BAD_MESSAGE`, IKEv2 `%IKEV2-3-NEG_ABORT`.
 */
export function ikeAuthFailureMessages(log: ScopedLogger, now: () => number): {
  ikev1(peer: string, connId: number): void;
  ikev2(peer: string, ikeSaId: number): void;
} {
  const gate = new RateGate(IKMP_BAD_MESSAGE_INTERVAL_MS, now);
  const ctx = (peer: string, id: number) => ({ peer, ...(id > 0 ? { connIds: [id] } : {}) });
  return {
    ikev1(peer, connId) {
      if (gate.pass(`1|${peer}`)) log.message('CRYPTO', 4, 'IKMP_BAD_MESSAGE', `IKE message from ${peer} failed its sanity check or is malformed`, ctx(peer, connId));
    },
    ikev2(peer, ikeSaId) {
      if (gate.pass(`2|${peer}`)) log.message('IKEV2', 3, 'NEG_ABORT', `Negotiation aborted due to ERROR: Failed to authenticate the IKE SA with peer ${peer}`, ctx(peer, ikeSaId));
    },
  };
}

/**
 * %LINK-3-UPDOWN / %LINK-5-CHANGED / %LINEPROTO-5-UPDOWN when an interface's admin state
 * changes, and %CRYPTO-6-ISAKMP_ON_OFF when the first crypto map is applied to an
 * interface (or the last removed). The first apply (boot) reports what came up.
 */
export function interfaceStateMessages(log: ScopedLogger): Applier {
  let prev: Map<string, boolean> | undefined;
  let isakmpOn = false;
  return {
    name: 'system-messages',
    apply(cfg: Config) {
      const now = new Map<string, boolean>();
      for (const [name, i] of Object.entries(cfg.interfaces?.items ?? {})) {
        if (i.templateType) continue; // a Virtual-Template is not a line
        now.set(name, !i.shutdown);
      }
      for (const [name, up] of now) {
        const was = prev?.get(name) ?? false;
        if (up === was) continue;
        if (up) {
          log.message('LINK', 3, 'UPDOWN', `Interface ${name}, changed state to up`);
          log.message('LINEPROTO', 5, 'UPDOWN', `Line protocol on Interface ${name}, changed state to up`);
        } else if (prev !== undefined) {
          log.message('LINK', 5, 'CHANGED', `Interface ${name}, changed state to administratively down`);
          log.message('LINEPROTO', 5, 'UPDOWN', `Line protocol on Interface ${name}, changed state to down`);
        }
      }
      prev = now;
      const on = Object.values(cfg.interfaces?.items ?? {}).some((i) => i.cryptoMap !== undefined);
      if (on !== isakmpOn) log.message('CRYPTO', 6, 'ISAKMP_ON_OFF', `ISAKMP is ${on ? 'ON' : 'OFF'}`);
      isakmpOn = on;
    },
  };
}
