// Property: any configuration, rendered as running-config, parses back to the same model,
// and renders to the same text again. Configs come from every test/config/gen-*.ts
// generator (one per feature), in random combinations, from fixed seeds.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import '../../firmware/cli/commands/index.js';
import { loadConfigText } from '../../firmware/cli/config-loader.js';
import { createConfig, renderConfigLines, type Config } from '../../firmware/config/model.js';
import { fakeSystem } from '../lib/fake-system.js';

type Gen = (rng: () => number) => string[];

/** mulberry32: a small seeded PRNG so failures reproduce. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** The model without its `revision` counters, which count edits rather than describe config. */
function strip(c: Config): unknown {
  return JSON.parse(JSON.stringify(c, (k, v: unknown) => (k === 'revision' ? undefined : v)));
}

t.test('rendered configs parse back to the same model', async (t) => {
  const dir = import.meta.dirname;
  const gens: Array<{ name: string; gen: Gen }> = [];
  for (const f of readdirSync(dir).filter((f) => /^gen-.*\.ts$/.test(f)).sort()) {
    const mod = (await import(pathToFileURL(join(dir, f.replace(/\.ts$/, '.js'))).href)) as { generate: Gen };
    gens.push({ name: f, gen: mod.generate });
  }
  t.ok(gens.length >= 1, `generators: ${gens.map((g) => g.name).join(', ')}`);
  const sys = fakeSystem();
  for (let seed = 1; seed <= 60; seed++) {
    const rng = seeded(seed);
    const lines = gens.filter(() => rng() < 0.8).flatMap((g) => g.gen(rng));
    const a = createConfig();
    const errors = await loadConfigText(lines.join('\n'), a, sys);
    if (errors.length > 0) {
      t.fail(`seed ${seed}: generated line rejected: ${errors[0]!.line} -> ${errors[0]!.message}`);
      continue;
    }
    const text = renderConfigLines(a).join('\n');
    const b = createConfig();
    const errorsB = await loadConfigText(text, b, sys);
    if (errorsB.length > 0) {
      t.fail(`seed ${seed}: rendered line rejected: ${errorsB[0]!.line} -> ${errorsB[0]!.message}`);
      continue;
    }
    t.same(strip(b), strip(a), `seed ${seed}: same model`);
    t.equal(renderConfigLines(b).join('\n'), text, `seed ${seed}: same text`);
  }
});
