// `npm run bench` runs every bench module; `npm run bench -- NAME [NAME...]` runs the
// modules whose file name (scripts/bench/NAME.ts or .mjs) or bench names start with NAME.
//
// A bench module is scripts/bench/<name>.ts (or .mjs) exporting
//   export const meta = { description: string, needsRoot?: boolean }
//   export async function run(ctx): Promise<void>
// where ctx = { report(name, value, unit), ratio(name, value), results: Map<name, value>,
//               seconds, log(...msg) }.
// report() prints `bench NAME: VALUE UNIT`; ratio() prints `ratio NAME: X` (Rampart over
// the anchor, higher is better). Modules run in file-name order in ONE process and share
// `results`, so a later module can compute a ratio against an earlier one's number.
//
// .ts modules are bundled on the fly with esbuild (packages stay external) into
// node_modules/.cache/rampart-bench/, so bench code can import test/lib/*.ts helpers
// (netns lab, strongSwan harness) exactly as the tests do. Files under scripts/bench/lib/
// are shared code, not modules.
import { build } from 'esbuild';
import { readdirSync, mkdirSync } from 'node:fs';
import { join, basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureNpm, root } from './ensure.mjs';

ensureNpm();

const benchDir = join(root, 'scripts', 'bench');
const cacheDir = join(root, 'node_modules', '.cache', 'rampart-bench');
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const seconds = Number(process.env.BENCH_SECONDS ?? 5);

const files = readdirSync(benchDir)
  .filter((f) => /\.(ts|mjs)$/.test(f) && !f.endsWith('.d.ts'))
  .sort();

async function load(file) {
  const src = join(benchDir, file);
  if (file.endsWith('.mjs')) return import(pathToFileURL(src).href);
  mkdirSync(cacheDir, { recursive: true });
  const out = join(cacheDir, basename(file).replace(/\.ts$/, '.mjs'));
  await build({
    entryPoints: [src], outfile: out, bundle: true, platform: 'node', format: 'esm',
    target: 'node20', packages: 'external', sourcemap: 'inline', logLevel: 'warning',
  });
  return import(`${pathToFileURL(out).href}?t=${Date.now()}`);
}

const results = new Map();
const ctx = {
  seconds,
  results,
  report(name, value, unit) {
    results.set(name, value);
    const v = typeof value === 'number' ? (Math.abs(value) >= 100 ? value.toFixed(0) : value.toFixed(2)) : String(value);
    console.log(`bench ${name}: ${v} ${unit}`);
  },
  ratio(name, value) {
    results.set(`ratio:${name}`, value);
    console.log(`ratio ${name}: ${Number.isFinite(value) ? value.toFixed(2) : String(value)}`);
  },
  log(...msg) { console.error('#', ...msg); },
};

let failed = 0;
let ran = 0;
for (const file of files) {
  const name = file.replace(/\.(ts|mjs)$/, '');
  if (wanted.length > 0 && !wanted.some((w) => name.startsWith(w) || w.startsWith(name))) continue;
  let mod;
  try {
    mod = await load(file);
  } catch (e) {
    console.error(`bench ${name}: failed to load: ${e?.stack ?? e}`);
    failed++;
    continue;
  }
  if (typeof mod.run !== 'function') continue;
  ran++;
  if (mod.meta?.needsRoot && process.getuid?.() !== 0) {
    console.log(`# skip ${name}: needs root (${mod.meta.description ?? ''})`);
    continue;
  }
  const t0 = Date.now();
  try {
    await mod.run({ ...ctx, args: wanted });
    ctx.log(`${name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  } catch (e) {
    failed++;
    console.error(`bench ${name}: FAILED: ${e?.stack ?? e}`);
  }
}
if (ran === 0) {
  console.error(`no bench module matches ${wanted.join(' ')}; have: ${files.join(' ')}`);
  process.exit(2);
}
process.exit(failed ? 1 : 0);
