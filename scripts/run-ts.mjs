// Runs a TypeScript entry file directly: bundles it with esbuild (native addons stay
// external) into a temp file next to node_modules and imports it. For benches and tools.
import { build } from 'esbuild';
import { mkdtempSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from './ensure.mjs';

export const NATIVE_EXTERNALS = ['serialport', '@serialport/*', 'netlink', 'ioctl', 'raw-socket', 'rampart-native', 'esbuild', 'typescript', 'tap',
  // ssh2's optional native helpers: loaded when present, else ssh2 uses its JS code.
  'cpu-features', '*.node'];

export async function importTs(entry) {
  const dir = mkdtempSync(join(root, 'node_modules', '.rampart-run-'));
  const out = join(dir, 'entry.mjs');
  try {
    await build({
      entryPoints: [resolve(entry)], bundle: true, platform: 'node', format: 'esm', target: 'node20',
      outfile: out, external: NATIVE_EXTERNALS, sourcemap: 'inline', logLevel: 'error',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url); const __dirname = import.meta.dirname; const __filename = import.meta.filename;" },
    });
    return await import(pathToFileURL(out).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [entry, ...rest] = process.argv.slice(2);
  process.argv = [process.argv[0], entry, ...rest];
  await importTs(entry);
}
