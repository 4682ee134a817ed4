// A small coverage-guided fuzzer for the pure decoders (issue 20 item 5): V8's block coverage
// (node:inspector, Profiler.takePreciseCoverage, which also resets the counters) is the
// feedback. An input that executes a block of a watched file that no earlier input reached
// joins the corpus and is mutated further, as AFL and libFuzzer do with edge counters. Bounded
// by executions and time; deterministic for a seed (apart from where the time bound cuts).
// An exception the target does not allow is a finding (kept with its input).
import { Session } from 'node:inspector';
import { xorshift32 } from './prng.js';

export interface FuzzTarget {
  name: string;
  /** runs the code under test on one input */
  run(input: Uint8Array): void;
  /** the errors the code may throw for bad input (typed decode errors) */
  allowed(e: unknown): boolean;
  seeds: Uint8Array[];
}

export interface FuzzOptions {
  /** files whose blocks count (matched against the script URL) */
  watch: RegExp;
  maxExecs: number;
  maxMs: number;
  seed?: number;
  /** inputs run between two coverage reads; a batch with news is re-run one by one */
  batch?: number;
}

export interface FuzzReport {
  execs: number;
  ms: number;
  /** blocks reached by the seeds alone, and by everything */
  seedBlocks: number;
  blocks: number;
  corpus: number;
  findings: { input: Uint8Array; error: string }[];
}

interface RangeCov { startOffset: number; endOffset: number; count: number }
interface ScriptCov { url: string; functions: { ranges: RangeCov[] }[] }

/** Sync wrapper: the inspector answers a same-thread session's post before it returns. */
function post<T>(s: Session, method: string, params?: object): T {
  let out: T | undefined;
  let err: Error | null = null;
  s.post(method, params ?? {}, (e, r) => { err = e; out = r as T; });
  if (err) throw err;
  return out as T;
}

export class CoverageFuzzer {
  private readonly session = new Session();

  constructor(private readonly watch: RegExp) {
    this.session.connect();
    post(this.session, 'Profiler.enable');
    post(this.session, 'Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  }

  close(): void {
    try { post(this.session, 'Profiler.stopPreciseCoverage'); } catch { /* already stopped */ }
    this.session.disconnect();
  }

  /** every block range V8 ever reported per function (a block it reports with count 0 now) */
  private readonly known = new Map<string, Set<string>>();

  /**
   * Blocks of watched files executed since the last read (a block = script:start-end). V8
   * reports a nested block only when its count differs from its function's, so a block that
   * ran as often as its function is absent: executed = blocks ever reported for a function
   * that ran, minus those at 0 now, plus those above 0.
   */
  private executed(): Set<string> {
    const r = post<{ result: ScriptCov[] }>(this.session, 'Profiler.takePreciseCoverage');
    const out = new Set<string>();
    for (const s of r.result) {
      if (!this.watch.test(s.url)) continue;
      for (const f of s.functions) {
        const fr = f.ranges[0];
        if (!fr || fr.count === 0) continue;
        const fk = `${s.url}:${fr.startOffset}-${fr.endOffset}`;
        out.add(fk);
        let known = this.known.get(fk);
        if (!known) this.known.set(fk, (known = new Set()));
        const zero = new Set<string>();
        for (const b of f.ranges.slice(1)) {
          const k = `${s.url}:${b.startOffset}-${b.endOffset}`;
          known.add(k);
          if (b.count === 0) zero.add(k);
        }
        for (const k of known) if (!zero.has(k)) out.add(k);
      }
    }
    return out;
  }

  fuzz(target: FuzzTarget, o: Omit<FuzzOptions, 'watch'>): FuzzReport {
    const { ri } = xorshift32(o.seed ?? 0xc0ffee);
    const seen = new Set<string>();
    const corpus: Uint8Array[] = [];
    const findings: FuzzReport['findings'] = [];
    const t0 = performance.now();
    let execs = 0;
    const exec = (input: Uint8Array): void => {
      execs++;
      try {
        target.run(input);
      } catch (e) {
        if (!target.allowed(e) && findings.length < 20) findings.push({ input: input.slice(), error: String((e as Error)?.stack ?? e) });
      }
    };
    /** Adds what `cov` has that was not seen; true when there was something. */
    const merge = (cov: Set<string>): boolean => {
      let grew = false;
      for (const k of cov) if (!seen.has(k)) { seen.add(k); grew = true; }
      return grew;
    };
    this.executed(); // forget what ran before
    for (const s of target.seeds) {
      exec(s);
      merge(this.executed());
      corpus.push(s);
    }
    const seedBlocks = seen.size;
    const batch = Math.max(1, o.batch ?? 16);
    while (execs < o.maxExecs && performance.now() - t0 < o.maxMs && corpus.length > 0) {
      const inputs: Uint8Array[] = [];
      for (let i = 0; i < batch; i++) inputs.push(mutate(corpus, ri));
      for (const x of inputs) exec(x);
      const cov = this.executed();
      let news = false;
      for (const k of cov) if (!seen.has(k)) { news = true; break; }
      if (!news) continue;
      // which inputs brought the new blocks: each alone
      for (const x of inputs) {
        exec(x);
        if (merge(this.executed())) corpus.push(x);
      }
    }
    return { execs, ms: performance.now() - t0, seedBlocks, blocks: seen.size, corpus: corpus.length, findings };
  }
}

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff];
const INTERESTING_16 = [0, 1, 4, 8, 0x7fff, 0x8000, 0xffff];
const INTERESTING_32 = [0, 1, 28, 0x7fffffff, 0x80000000, 0xffffffff];

/** One mutation of a corpus entry (AFL's havoc stage, simplified). */
export function mutate(corpus: readonly Uint8Array[], ri: (n: number) => number): Uint8Array {
  let x: Uint8Array = corpus[ri(corpus.length)]!.slice();
  const rounds = 1 + ri(4);
  for (let r = 0; r < rounds; r++) {
    const n = x.length;
    switch (ri(9)) {
      case 0: if (n) x[ri(n)] ^= 1 << ri(8); break;
      case 1: if (n) x[ri(n)] = INTERESTING_8[ri(INTERESTING_8.length)]!; break;
      case 2: if (n >= 2) { const at = ri(n - 1); const v = INTERESTING_16[ri(INTERESTING_16.length)]!; x[at] = v >> 8; x[at + 1] = v & 0xff; } break;
      case 3: if (n >= 4) { const at = ri(n - 3); new DataView(x.buffer, x.byteOffset).setUint32(at, INTERESTING_32[ri(INTERESTING_32.length)]!); } break;
      case 4: if (n >= 4) { const at = ri(n - 3); new DataView(x.buffer, x.byteOffset).setUint16(at + 2, (n - at + ri(9) - 4) & 0xffff); } break; // a length field near the truth
      case 5: x = x.slice(0, ri(n + 1)); break;
      case 6: { const add = new Uint8Array(1 + ri(64)); for (let i = 0; i < add.length; i++) add[i] = ri(256); const y = new Uint8Array(n + add.length); y.set(x); y.set(add, n); x = y; break; }
      case 7: { // splice: the head of this one, the tail of another
        const o = corpus[ri(corpus.length)]!;
        const cut = ri(n + 1);
        const from = ri(o.length + 1);
        const y = new Uint8Array(cut + o.length - from);
        y.set(x.subarray(0, cut));
        y.set(o.subarray(from), cut);
        x = y;
        break;
      }
      default: if (n >= 8) { // copy a chunk over another place (repeated payload headers)
        const len = 1 + ri(Math.min(32, n / 2));
        const a = ri(n - len + 1);
        const b = ri(n - len + 1);
        x.copyWithin(b, a, a + len);
      }
    }
  }
  return x;
}
