// A small deterministic PRNG (xorshift32) for fuzzers and load tools, so runs repeat.
export interface Prng {
  /** uniform in [0, 1) */
  rnd(): number;
  /** integer in [0, n) */
  ri(n: number): number;
}

export function xorshift32(seed: number): Prng {
  let x = seed >>> 0 || 1;
  const rnd = (): number => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
  return { rnd, ri: (n) => Math.floor(rnd() * n) };
}
