// Keywords across the whole command table, every mode: a keyword typed in full is that
// keyword even where it also starts a longer one (`crypto key` is not `crypto keyring`,
// `ip domain` is not `ip domain-lookup`, `group1` is not `group14`), and every word `?`
// lists comes with a help text (`clear ?`, `ip nat ?`, ...).
import t from 'tap';
import '../../firmware/cli/commands/index.js';
import { helpAt, matchLine, type HelpItem } from '../../firmware/cli/matcher.js';
import { allModes, isConfigMode } from '../../firmware/cli/modes.js';
import { candidatesFor, helpFor } from '../../firmware/cli/registry.js';
import { createConfig } from '../../firmware/config/model.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import { fakeSystem } from '../lib/fake-system.js';

const candidates = (mode: string) => {
  const c = candidatesFor(mode);
  if (isConfigMode(mode)) c.push(...candidatesFor('*config'));
  return c;
};

/** Keyword paths up to `depth` words, with what `?` lists after each. */
function* walkKeywords(mode: string, depth: number): Generator<{ line: string; items: HelpItem[] }> {
  const cands = candidates(mode);
  const seen = new Set<string>();
  const queue: Array<[string, number]> = [['', 0]];
  while (queue.length > 0) {
    const [line, d] = queue.shift()!;
    const h = helpAt(line, cands, helpFor);
    if (h.kind !== 'items') continue;
    yield { line, items: h.items };
    if (d >= depth) continue;
    for (const i of h.items) {
      const next = `${line}${i.token} `;
      if (i.node?.kind === 'kw' && !seen.has(next)) { seen.add(next); queue.push([next, d + 1]); }
    }
  }
}

t.test('a keyword typed in full never resolves to a longer one it starts', async (t) => {
  let pairs = 0;
  for (const mode of allModes()) {
    const cands = candidates(mode);
    for (const { line, items } of walkKeywords(mode, 3)) {
      const kws = items.filter((i) => i.node?.kind === 'kw').map((i) => i.token);
      for (const a of kws) for (const b of kws) {
        if (a === b || !b.startsWith(a)) continue;
        pairs++;
        // `line a` and `line a <each word ? offers after a>`: never a command through `b`.
        const after = helpAt(`${line}${a} `, cands, helpFor);
        const tails = ['', ...(after.kind === 'items' ? after.items.filter((i) => i.node?.kind === 'kw').map((i) => ` ${i.token}`) : [])];
        for (const tail of tails) {
          const r = matchLine(`${line}${a}${tail}`, cands);
          if (r.kind === 'ok' && r.parse.args.has(b) && !r.parse.args.has(a)) t.fail(`${mode}: "${line}${a}${tail}" ran as "${b}"`);
        }
      }
    }
  }
  t.ok(pairs > 10, `${pairs} keyword pairs checked`);
});

t.test('crypto key and ip domain are not abbreviations of crypto keyring and ip domain-lookup', async (t) => {
  const sys = fakeSystem();
  const cfg = createConfig();
  const { text } = await runTranscript(['configure terminal', 'crypto key frobnicate', 'ip domain', 'end'], { config: cfg, system: sys, privileged: true });
  t.match(text, /crypto key frobnicate\n {26}\^\n% Invalid input detected/, '`crypto key` is its own command');
  t.match(text, /ip domain\n% Incomplete command\./, '`ip domain` is not `ip domain-lookup`');
  t.same(Object.keys(cfg.keyrings), [], 'no keyring named "generate" was created');
});

t.test('every word ? lists has a help text', async (t) => {
  let n = 0;
  for (const mode of allModes()) {
    for (const { line, items } of walkKeywords(mode, 2)) {
      for (const i of items) {
        n++;
        if (!i.help) t.fail(`${mode}: "${line}?" lists ${i.token} without help`);
      }
    }
  }
  t.ok(n > 500, `${n} help entries checked`);
});
