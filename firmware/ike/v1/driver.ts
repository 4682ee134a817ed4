// The loop around an IKEv1 engine (the engine does no I/O): after every datagram or timer,
// what the engine queued is sent and its events handled, and one timer is armed for the
// engine's next deadline. Under a flood the engine's timer walk (every SA) runs at most every
// TIMER_SCAN_MS; a timer at the end of that window looks again (timers fire up to that late).
import type { IkeV1Engine } from './engine.js';
import type { Datagram, IkeV1Event } from './types.js';

export const TIMER_SCAN_MS = 50;

export interface EngineDriverOptions {
  now: () => number;
  /** false: no socket on the datagram's local address */
  send(d: Datagram): boolean;
  event(ev: IkeV1Event): void;
  error(text: string): void;
}

export class EngineDriver {
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private lastTimerScan = Number.NEGATIVE_INFINITY;
  private stopped = false;

  constructor(private readonly engine: IkeV1Engine, private readonly o: EngineDriverOptions) {}

  /** Sends what the engine queued, handles its events, re-arms the timer. */
  pump(): void {
    for (const d of this.engine.drainOutbox()) {
      if (!this.o.send(d)) this.o.error(`no socket for ${d.local.address}:${d.local.port}`);
    }
    for (const ev of this.engine.drainEvents()) {
      try { this.o.event(ev); } catch (e) { this.o.error(`event ${ev.type}: ${(e as Error).message}`); }
    }
    // events may have queued more datagrams (quick mode after phase 1, DELETEs)
    for (const d of this.engine.drainOutbox()) this.o.send(d);
    this.arm();
  }

  arm(): void {
    if (this.stopped) return;
    const now = this.o.now();
    if (now - this.lastTimerScan < TIMER_SCAN_MS) {
      this.armAt(this.lastTimerScan + TIMER_SCAN_MS);
      return;
    }
    this.lastTimerScan = now;
    const next = this.engine.nextTimerAt();
    if (next !== undefined) this.armAt(next);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private armAt(next: number): void {
    if (this.timer && next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = next;
    const delay = Math.max(10, Math.min(next - this.o.now(), 60_000));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.engine.tick();
      this.pump();
    }, delay);
    this.timer.unref();
  }
}
