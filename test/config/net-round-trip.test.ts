// Round trip for access lists, interfaces, VRFs and static routes alone (the lead's
// round-trip.test.ts mixes every generator): generated lines load without an error, the
// rendered running-config loads back to the same model (per-object `revision` counters
// aside: they count changes, not state) and renders to the same text.
import t from 'tap';
import '../../firmware/cli/commands/index.js';
import { loadConfigText } from '../../firmware/cli/config-loader.js';
import { createConfig, renderConfigLines } from '../../firmware/config/model.js';
import { fakeSystem } from '../lib/fake-system.js';
import { generate as genAcl } from './gen-acl.js';
import { generate as genInterface } from './gen-interface.js';
import { generate as genRouting } from './gen-routing.js';

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** The model without its change counters. */
export function withoutRevisions(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutRevisions);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== 'revision') out[k] = withoutRevisions(x);
    return out;
  }
  return v;
}

t.test('acl/interface/routing configs survive render and reload', async (t) => {
  const sys = fakeSystem();
  let lines = 0;
  for (let seed = 1; seed <= 150; seed++) {
    const rng = seeded(seed);
    const input = [...genRouting(rng), ...genInterface(rng), ...genAcl(rng)];
    lines += input.length;
    const a = createConfig();
    const errors = await loadConfigText(input.join('\n'), a, sys);
    if (errors.length > 0) {
      t.fail(`seed ${seed}: generated line ${errors[0]!.lineNo} rejected: ${errors[0]!.line} -> ${errors[0]!.message}`);
      continue;
    }
    const text = renderConfigLines(a).join('\n');
    const b = createConfig();
    const errorsB = await loadConfigText(text, b, sys);
    if (errorsB.length > 0) {
      t.fail(`seed ${seed}: rendered line rejected: ${errorsB[0]!.line} -> ${errorsB[0]!.message}`);
      continue;
    }
    t.same(withoutRevisions(b), withoutRevisions(a), `seed ${seed}: same model`);
    t.equal(renderConfigLines(b).join('\n'), text, `seed ${seed}: same text`);
  }
  t.ok(lines > 1000, `${lines} generated lines`);
});
