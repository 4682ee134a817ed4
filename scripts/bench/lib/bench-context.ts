// The context scripts/bench.mjs passes to every bench module's run().
export interface BenchContext {
  /** default duration of one measurement (BENCH_SECONDS, default 5) */
  seconds: number;
  /** every value reported so far in this run, by bench name (ratios as `ratio:NAME`) */
  results: Map<string, number>;
  /** the names given on the command line */
  args: string[];
  /** prints `bench NAME: VALUE UNIT` */
  report(name: string, value: number, unit: string): void;
  /** prints `ratio NAME: X` (Rampart over the anchor, higher is better) */
  ratio(name: string, value: number): void;
  /** diagnostics to stderr, prefixed with # */
  log(...msg: unknown[]): void;
}

export interface BenchModuleMeta {
  description: string;
  needsRoot?: boolean;
}
