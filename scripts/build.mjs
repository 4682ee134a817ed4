// `npm run build`: bundles the whole firmware into one file, dist/rampart.mjs.
// Native addons (serialport, netlink, ioctl, raw-socket) stay outside the bundle and load
// from node_modules beside it (a single executable image carries them next to the binary).
import { build } from 'esbuild';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureNpm, root } from './ensure.mjs';
import { NATIVE_EXTERNALS } from './run-ts.mjs';
import { buildDefines, buildIdentity } from './build-identity.mjs';

export async function buildFirmware(outfile = join(root, 'dist', 'rampart.mjs'), id = buildIdentity()) {
  const result = await build({
    entryPoints: [join(root, 'firmware', 'entry.ts')],
    bundle: true, platform: 'node', format: 'esm', target: 'node20', outfile,
    external: NATIVE_EXTERNALS, sourcemap: 'linked', logLevel: 'warning', define: buildDefines(id),
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url); const __dirname = import.meta.dirname; const __filename = import.meta.filename;" },
    write: false,
  });
  // Each file is written beside its place and renamed over it: a second `npm start` building
  // at the same time never leaves a half-written bundle for the first one's node to load.
  mkdirSync(dirname(outfile), { recursive: true });
  for (const f of result.outputFiles) {
    const tmp = `${f.path}.${process.pid}.tmp`;
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
  }
  return outfile;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureNpm();
  const out = await buildFirmware();
  console.log(`built ${out}`);
}
