// `npm run sea`: the single executable. The firmware bundle (CommonJS, as Node 20's SEA
// wants) is injected into a copy of this machine's `node` with postject; the native addons
// it loads go beside it in node_modules/ (only their runtime files, for this platform).
//   dist/sea/rampart                     the executable (`rampart version`, `rampart daemon` ...)
//   dist/sea/node_modules/<addon>/...    serialport, netlink, ioctl, raw-socket, rampart-native
// File order and timestamps are fixed so the image built from it is reproducible.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildDefines, buildIdentity } from './build-identity.mjs';
import { ensureNpm, root } from './ensure.mjs';

/** Packages the bundle requires at run time (the rest of NATIVE_EXTERNALS are build tools). */
export const RUNTIME_ADDONS = ['serialport', 'netlink', 'ioctl', 'raw-socket', 'rampart-native'];
/** Build-time only dependencies of the addons (headers, types): not shipped. */
const BUILD_ONLY = new Set(['nan', 'node-addon-api', '@types/node', 'undici-types']);

// In the executable `require` only reaches builtins and import.meta.url is empty: both are
// pointed at the executable's own folder so createRequire(import.meta.url) finds the addons.
const SEA_BANNER = [
  "var __rampart_self = require('node:sea').isSea() ? process.execPath : __filename;",
  "var __rampart_meta_url = require('node:url').pathToFileURL(__rampart_self).href;",
  "var require = require('node:module').createRequire(__rampart_self);",
].join('\n');

/** Runs a build tool; its chatter (postject warns about ELF note names) shows only if it fails. */
function quiet(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed:\n${r.stdout}${r.stderr}`);
}

function depClosure(names) {
  const seen = new Set();
  const walk = (name) => {
    if (seen.has(name) || BUILD_ONLY.has(name)) return;
    const pj = join(root, 'node_modules', name, 'package.json');
    if (!existsSync(pj)) return; // optional dependency not installed
    seen.add(name);
    for (const d of Object.keys(JSON.parse(readFileSync(pj, 'utf8')).dependencies ?? {})) walk(d);
  };
  names.forEach(walk);
  return [...seen].sort();
}

/** Runtime files of a package: code, manifests and this platform's compiled addons. */
function runtimeFile(rel) {
  if (/(^|\/)(obj\.target|\.deps|test|tests|docs?|example|examples)\//.test(rel)) return false;
  if (rel.includes('prebuilds/') && !rel.includes(`prebuilds/${process.platform}-${process.arch}/`)) return false;
  if (rel.endsWith('.node')) return !/musl/.test(rel);
  return /\.(c?js|mjs|json)$/.test(rel) && !rel.endsWith('.d.ts');
}

function listFiles(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1)).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : listFiles(p, base);
    return e.isFile() ? [relative(base, p)] : [];
  });
}

export async function buildSea({ outDir = join(root, 'dist', 'sea'), board = 'sim' } = {}) {
  const id = buildIdentity(board);
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const work = join(outDir, '.work');
  mkdirSync(work);
  const bundle = join(work, 'rampart.cjs');
  await build({
    entryPoints: [join(root, 'firmware', 'entry.ts')],
    bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: bundle,
    // ssh2's optional native helpers stay out too: absent beside the executable, ssh2 uses its JS code.
    external: RUNTIME_ADDONS.flatMap((n) => [n, `${n}/*`]).concat('@serialport/*', 'cpu-features', '*.node'),
    logLevel: 'warning', legalComments: 'none',
    // Less to parse at every start (slow under emulation); names stay (messages use them).
    minifyWhitespace: true, minifySyntax: true,
    define: { ...buildDefines(id), 'import.meta.url': '__rampart_meta_url' },
    banner: { js: SEA_BANNER },
  });
  const blob = join(work, 'sea.blob');
  const config = join(work, 'sea-config.json');
  // No code cache: V8's cache bytes differ from build to build, which would break reproducibility.
  writeFileSync(config, JSON.stringify({ main: 'rampart.cjs', output: 'sea.blob', disableExperimentalSEAWarning: true, useCodeCache: process.env.RAMPART_SEA_CODE_CACHE === '1' }));
  quiet(process.execPath, ['--experimental-sea-config', config], work);
  const exe = join(outDir, 'rampart');
  copyFileSync(process.execPath, exe);
  chmodSync(exe, 0o755);
  quiet(process.execPath, [join(root, 'node_modules', 'postject', 'dist', 'cli.js'), exe, 'NODE_SEA_BLOB', blob,
    '--sentinel-fuse', 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2']);
  for (const pkg of depClosure(RUNTIME_ADDONS)) {
    const src = realpathSync(join(root, 'node_modules', pkg));
    for (const rel of listFiles(src).filter(runtimeFile)) {
      const dst = join(outDir, 'node_modules', pkg, rel);
      mkdirSync(dirname(dst), { recursive: true });
      copyFileSync(join(src, rel), dst);
    }
  }
  rmSync(work, { recursive: true, force: true });
  // Fixed timestamps: archives built from this folder depend on content only.
  const stamp = new Date(id.epoch * 1000);
  for (const rel of listFiles(outDir)) utimesSync(join(outDir, rel), stamp, stamp);
  return { exe, outDir, id: { ...id, version: JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version } };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureNpm();
  const board = process.argv.includes('--board') ? process.argv[process.argv.indexOf('--board') + 1] : 'sim';
  const { exe, id } = await buildSea({ board });
  console.log(`built ${exe} (${(lstatSync(exe).size / 1e6).toFixed(1)} MB, ${id.commit}, ${id.date}, board ${id.board})`);
}
