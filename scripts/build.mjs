// `npm run build`: bundles the whole firmware into one file, dist/rampart.mjs.
// Native addons (serialport, netlink, ioctl, raw-socket) stay outside the bundle and load
// from node_modules beside it (a single executable image carries them next to the binary).
import { build } from 'esbuild';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureNpm, root } from './ensure.mjs';
import { NATIVE_EXTERNALS } from './run-ts.mjs';
import { buildDefines, buildIdentity } from './build-identity.mjs';

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
