// Budgeted intake for the datagrams that start new IKE negotiations (IKEv1 Main/Aggressive
// Mode message 1, IKEv2 IKE_SA_INIT requests): what an unauthenticated flood is made of.
// They never run in the socket's callback. They wait in bounded per-source queues and are
// worked off after the sockets were read (so ESP and messages of existing negotiations go
// first), round-robin across sources, within a CPU budget: each class may use `share` of
// wall-clock time (a token bucket of milliseconds, refilled by elapsed time, charged with the
// measured cost of each message). When the budget is spent the rest waits; when a queue is
// full the longest source loses a message (counted): a flood costs a lookup and a drop per
// datagram instead of a policy match, an SA record and an answer.
//
// Two classes: sources that completed an authenticated exchange with us lately ("known": a
// peer that reconnects from its address) are served first from their own queue and budget;
// every other source shares the "new" class. A spoofed flood therefore cannot delay a known
// peer's setup, and among unknown sources one flooding host only competes for its own turn.
// No I/O here: the owner gives the handler; clock and scheduler default to the event loop's.
import type { IkeIntakeCounters } from '../config/crypto-call-admission.js';

export type IntakeClass = 'known' | 'new';

export interface IntakeClassOptions {
  /** fraction of wall-clock time this class's messages may cost (0 < share <= 1) */
  share: number;
  /** messages waiting in this class at most */
  queueLimit: number;
  /** messages waiting per source at most (its oldest goes) */
  perSourceLimit: number;
}

export interface IntakeOptions<M> {
  /** runs one message (through the IKE engine) */
  handle(message: M): void;
  /** after a batch: send what the engine queued */
  afterBatch?(): void;
  /** monotonic milliseconds (fractional); the cost of each message is measured with it (default performance.now) */
  clock?(): number;
  /** runs fn after the sockets were read, or after delayMs; returns a cancel (default loopScheduler) */
  schedule?(fn: () => void, delayMs: number): () => void;
  known?: Partial<IntakeClassOptions>;
  new?: Partial<IntakeClassOptions>;
  /** messages handled per turn at most, both classes together */
  batch?: number;
  /** the window the shares are kept over: a class banks at most share x burstMs ms of work */
  burstMs?: number;
  /** how long a source stays known after its last authenticated exchange */
  knownTtlMs?: number;
  /** known sources remembered at most (oldest forgotten first) */
  knownMax?: number;
  /**
   * A message that waited longer than this is dropped unserved when its turn comes (default:
   * never). Under a backlog longer than initiators wait (a burst of new peers within a small
   * share), serving old first messages answers negotiations their initiators have given up
   * or retransmitted since: all the budget went to stale work and nobody connected.
   */
  maxWaitMs?: number;
}

export type IntakeCounters = IkeIntakeCounters;

/** setImmediate (runs after the poll phase read the sockets) or setTimeout for a delay. */
export function loopScheduler(fn: () => void, delayMs: number): () => void {
  if (delayMs <= 0) {
    const h = setImmediate(fn);
    return () => clearImmediate(h);
  }
  const t = setTimeout(fn, delayMs);
  return () => clearTimeout(t);
}

export const DEFAULT_INTAKE: { known: IntakeClassOptions; new: IntakeClassOptions; batch: number; burstMs: number; knownTtlMs: number; knownMax: number } = {
  // a known peer's setup gets up to a third of a core; new sources together 3 %: a flood of
  // first messages costs the packet path at most that (issue 20: < 10 % of ESP throughput)
  known: { share: 0.3, queueLimit: 64, perSourceLimit: 4 },
  new: { share: 0.03, queueLimit: 256, perSourceLimit: 8 },
  batch: 16,
  burstMs: 20,
  knownTtlMs: 3_600_000,
  knownMax: 4096,
};

interface Queued<M> {
  m: M;
  /** clock() when offered */
  at: number;
}

interface Lane<M> {
  readonly o: IntakeClassOptions;
  /** per source, in round-robin order (a served source goes to the back) */
  readonly queues: Map<string, Queued<M>[]>;
  count: number;
  /** budget left in ms of work; negative: in debt */
  tokens: number;
}

export function newIntakeCounters(): IntakeCounters {
  return { received: 0, served: 0, servedKnown: 0, dropped: 0, budgetWaits: 0 };
}

export class IkeIntake<M> {
  readonly counters: IntakeCounters = newIntakeCounters();
  /** messages dropped unserved because they waited longer than maxWaitMs (also counted in dropped) */
  staleDropped = 0;
  /** exceptions from handle()/afterBatch() (bugs; for tests) */
  handlerErrors = 0;
  private readonly lanes: Record<IntakeClass, Lane<M>>;
  private readonly known = new Map<string, number>();
  private readonly batch: number;
  private readonly burstMs: number;
  private readonly knownTtlMs: number;
  private readonly knownMax: number;
  private refilledAt: number;
  private readonly clock: () => number;
  private readonly schedule: (fn: () => void, delayMs: number) => () => void;
  private cancel: (() => void) | undefined;
  private armedDelay = 0;
  private stopped = false;

  constructor(private readonly o: IntakeOptions<M>) {
    this.clock = o.clock ?? ((): number => performance.now());
    this.schedule = o.schedule ?? loopScheduler;
    const lane = (c: IntakeClass): Lane<M> => {
      const opts = { ...DEFAULT_INTAKE[c], ...(o[c] ?? {}) };
      return { o: opts, queues: new Map(), count: 0, tokens: 0 };
    };
    this.lanes = { known: lane('known'), new: lane('new') };
    this.batch = Math.max(1, o.batch ?? DEFAULT_INTAKE.batch);
    this.burstMs = o.burstMs ?? DEFAULT_INTAKE.burstMs;
    this.knownTtlMs = o.knownTtlMs ?? DEFAULT_INTAKE.knownTtlMs;
    this.knownMax = o.knownMax ?? DEFAULT_INTAKE.knownMax;
    this.refilledAt = this.clock();
    for (const l of Object.values(this.lanes)) l.tokens = this.burstMs * l.o.share;
  }

  /** Messages waiting, by class. */
  get waiting(): Record<IntakeClass, number> {
    return { known: this.lanes.known.count, new: this.lanes.new.count };
  }

  /** A source completed an authenticated exchange: its next first messages go first. */
  markKnown(source: string): void {
    this.known.delete(source);
    if (this.known.size >= this.knownMax) this.known.delete(this.known.keys().next().value!);
    this.known.set(source, this.clock() + this.knownTtlMs);
  }

  classOf(source: string): IntakeClass {
    const until = this.known.get(source);
    if (until === undefined) return 'new';
    if (until >= this.clock()) return 'known';
    this.known.delete(source);
    return 'new';
  }

  /**
   * New sources are sending more than their share: their backlog fills a turn or their budget
   * is spent. The owner then makes new sources prove their address before they queue (IKEv2
   * COOKIE, RFC 7296 2.6), which costs a hash instead of a DH.
   */
  underPressure(): boolean {
    const l = this.lanes.new;
    return l.count >= this.batch || (l.count > 0 && l.tokens <= 0);
  }

  /**
   * Queues a message from `source` (`copy` makes it: the socket's buffer is reused after the
   * callback). `as` overrides the source's class (a source that echoed a valid cookie has shown
   * it receives at its address: it goes with the known peers). Returns false when the message
   * was dropped (its queue was full).
   */
  offer(source: string, copy: () => M, as?: IntakeClass): boolean {
    if (this.stopped) return false;
    this.counters.received++;
    const lane = this.lanes[as ?? this.classOf(source)];
    const q0 = lane.queues.get(source);
    // a source at its own limit loses the new message: nothing is copied, so a flood from a
    // few hosts costs a lookup per datagram (a real peer's retransmission equals its original)
    if (q0 && q0.length >= lane.o.perSourceLimit) return this.drop();
    if (lane.count >= lane.o.queueLimit) {
      // full: the longest source loses its oldest; when that is this source, the new one goes
      let longest: Queued<M>[] = [];
      let longestSource = '';
      for (const [s, x] of lane.queues) if (x.length > longest.length) { longest = x; longestSource = s; }
      if (q0 && q0.length >= longest.length) return this.drop();
      longest.shift();
      if (longest.length === 0) lane.queues.delete(longestSource);
      lane.count--;
      this.counters.dropped++;
    }
    let q = lane.queues.get(source);
    if (!q) lane.queues.set(source, (q = []));
    q.push({ m: copy(), at: this.clock() });
    lane.count++;
    this.arm(0);
    return true;
  }

  private drop(): false {
    this.counters.dropped++;
    return false;
  }

  /** Drops everything waiting and schedules nothing more. */
  stop(): void {
    this.stopped = true;
    this.cancel?.();
    this.cancel = undefined;
    for (const l of Object.values(this.lanes)) { l.queues.clear(); l.count = 0; }
  }

  clearCounters(): void {
    Object.assign(this.counters, newIntakeCounters());
  }

  private arm(delayMs: number): void {
    if (this.stopped) return;
    if (this.cancel) {
      // a turn is due already; a known peer's message does not wait for new sources' budget
      if (delayMs > 0 || this.armedDelay === 0 || this.lanes.known.count === 0 || this.lanes.known.tokens <= 0) return;
      this.cancel();
    }
    this.armedDelay = delayMs;
    this.cancel = this.schedule(() => { this.cancel = undefined; this.drain(); }, delayMs);
  }

  private refill(): void {
    const now = this.clock();
    const dt = Math.max(0, now - this.refilledAt);
    this.refilledAt = now;
    for (const l of Object.values(this.lanes)) l.tokens = Math.min(this.burstMs * l.o.share, l.tokens + dt * l.o.share);
  }

  /** One turn: known sources first, then new ones, each within its budget. */
  private drain(): void {
    if (this.stopped) return;
    this.refill();
    let n = 0;
    let waited = false;
    let last: IntakeClass = 'known';
    for (const c of ['known', 'new'] as const) {
      const lane = this.lanes[c];
      while (n < this.batch && lane.count > 0) {
        if (lane.tokens <= 0) { waited = true; break; }
        const head = lane.queues.entries().next();
        if (head.done) break;
        const [source, q] = head.value;
        lane.queues.delete(source);
        const { m, at } = q.shift()!;
        if (q.length > 0) lane.queues.set(source, q); // to the back: round-robin
        lane.count--;
        if (this.o.maxWaitMs !== undefined && this.clock() - at > this.o.maxWaitMs) {
          // stale: costs a compare, not a turn (bounded by what is queued)
          this.counters.dropped++;
          this.staleDropped++;
          continue;
        }
        const t0 = this.clock();
        try {
          this.o.handle(m);
        } catch {
          this.handlerErrors++; // an engine bug costs this message, never the daemon (a timer throwing would)
        }
        lane.tokens -= this.clock() - t0;
        this.counters.served++;
        if (c === 'known') this.counters.servedKnown++;
        n++;
        last = c;
      }
    }
    if (waited) this.counters.budgetWaits++;
    if (n > 0 && this.o.afterBatch) {
      // sending the answers is charged to the lane that had the last turn's work
      const t0 = this.clock();
      try {
        this.o.afterBatch();
      } catch {
        this.handlerErrors++;
      }
      this.lanes[last].tokens -= this.clock() - t0;
    }
    this.rearm();
  }

  private rearm(): void {
    let delay = Number.POSITIVE_INFINITY;
    for (const l of Object.values(this.lanes)) {
      if (l.count === 0) continue;
      // in debt: wait until the refill pays it back (at least 1 ms: a timer, not a spin)
      delay = Math.min(delay, l.tokens > 0 ? 0 : Math.max(1, Math.ceil(-l.tokens / l.o.share)));
    }
    if (Number.isFinite(delay)) this.arm(delay);
  }
}
