// `npm run build`: bundles the whole firmware into one file, dist/rampart.mjs.
// Native addons (serialport, netlink, ioctl, raw-socket) stay outside the bundle and load
// from node_modules beside it (a single executable image carries them next to the binary).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureNpm, root } from './ensure.mjs';
import { NATIVE_EXTERNALS } from './run-ts.mjs';

function git(...args) {
  try { return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return ''; }
}

/**
 * Build identity for firmware/lib/build-info.ts. The date is SOURCE_DATE_EPOCH, else the
 * commit time, never "now": the same tree builds the same bytes.
 */
export function buildIdentity(board = 'sim') {
  const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
  const commit = (git('rev-parse', '--short=12', 'HEAD') || 'unknown') + (dirty ? '-dirty' : '');
  const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? (git('log', '-1', '--format=%ct') || 0));
  return { commit, epoch, date: new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z'), board };
}

export function buildDefines(id) {
  return {
    __RAMPART_BUILD_COMMIT__: JSON.stringify(id.commit),
    __RAMPART_BUILD_DATE__: JSON.stringify(id.date),
    __RAMPART_BUILD_BOARD__: JSON.stringify(id.board),
  };
}

export async function buildFirmware(outfile = join(root, 'dist', 'rampart.mjs'), id = buildIdentity()) {
  await build({
    entryPoints: [join(root, 'firmware', 'entry.ts')],
    bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile,
    external: NATIVE_EXTERNALS, sourcemap: 'linked', logLevel: 'warning', define: buildDefines(id),
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url); const __dirname = import.meta.dirname; const __filename = import.meta.filename;" },
  });
  return outfile;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureNpm();
  const out = await buildFirmware();
  console.log(`built ${out}`);
}
