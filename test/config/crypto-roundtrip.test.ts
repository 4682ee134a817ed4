// Round trip of generated crypto configuration: lines -> model -> running-config -> model.
import t from 'tap';
import { configure, errorLines, running, stripRevisions } from './crypto-helpers.js';
import { generate } from './gen-crypto.js';

/** Small deterministic PRNG (mulberry32). */
function rngFrom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

t.test('generated crypto configs load without errors and round-trip', async (t) => {
  for (let seed = 1; seed <= 60; seed++) {
    const lines = generate(rngFrom(seed));
    const first = await configure(lines);
    t.same(errorLines(first.text), [], `seed ${seed}: no errors`);
    const text1 = running(first.cfg);
    const second = await configure(text1.filter((l) => l !== 'end' && !l.startsWith('!')));
    t.same(errorLines(second.text), [], `seed ${seed}: running-config reloads without errors`);
    const { revision: _r1, ...m1 } = first.cfg;
    const { revision: _r2, ...m2 } = second.cfg;
    t.same(stripRevisions(m2), stripRevisions(m1), `seed ${seed}: same model`);
    t.same(running(second.cfg), text1, `seed ${seed}: same running-config`);
  }
});

t.test('the generator covers every crypto section', async (t) => {
  const seen = new Set<string>();
  for (let seed = 1; seed <= 60; seed++) for (const l of generate(rngFrom(seed))) seen.add(l.trim().split(' ').slice(0, 3).join(' '));
  for (const want of ['crypto ipsec transform-set', 'crypto isakmp policy', 'crypto isakmp key', 'crypto keyring', 'crypto isakmp profile',
    'crypto ikev2 proposal', 'crypto ikev2 policy', 'crypto ikev2 keyring', 'crypto ikev2 profile', 'crypto ipsec profile', 'crypto map ipv6']) {
    t.ok([...seen].some((s) => s.startsWith(want)), want);
  }
});
