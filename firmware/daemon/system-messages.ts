// IOS system messages for what the box does (the list is in docs/system-messages.md):
// interface and line-protocol changes and ISAKMP on/off follow the configuration (an
// applier that compares each applied revision with the last); crypto session and SA
// messages come from the IKE services; per-packet messages go through a RateGate, as IOS
// rate-limits them, so a flood of bad packets costs one line per interval.
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

/** %CRYPTO-5-SESSION_STATUS, as IOS prints it when an IKE session comes up or goes down. */
export function sessionStatus(log: ScopedLogger, up: boolean, peer: string, port: number, id: string | undefined, context: { connIds?: number[] } = {}): void {
  log.message('CRYPTO', 5, 'SESSION_STATUS', `Crypto tunnel is ${up ? 'UP' : 'DOWN'}. Peer ${peer}:${port} ${id ? ` Id: ${id}` : ''}`.trimEnd(), { peer, ...context });
}
