// `npm run firmware`: the appliance image for the x86-64 `vm` board, built offline from
// Debian packages (kernel, busybox-static, iproute2 and the libraries it and node link)
// and the npm tree (the single executable, scripts/sea.mjs). Output in dist/firmware/:
//   vmlinuz              Debian's kernel (linux-image-*-amd64), unchanged
//   rootfs.cpio.zst      the read-only root: busybox, init (rootfs/), iproute2, rampart,
//                        only the kernel modules rootfs/etc/rampart/modules names (+ deps)
//   manifest.json        kernel command line, sizes, sha256 of each part and of the image
// Reproducible: timestamps are SOURCE_DATE_EPOCH (default: the commit time), the archive
// lists files in sorted order with owner root, and zstd output depends on content only.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync,
  mkdtempSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSea } from './sea.mjs';
import { ensureDebian, ensureNpm, root } from './ensure.mjs';

// no_timer_check: on a loaded host the emulated CPU is too slow for the kernel's timer IRQ
// check, which then misconfigures the timer and stalls the box. loglevel=2: only critical
// kernel messages interrupt the console (hung-task warnings of a slow host landed after
// the prompt).
export const KERNEL_CMDLINE = 'console=ttyS0,115200 quiet loglevel=2 panic=1 rdinit=/init no_timer_check';
const cacheDir = join(root, 'node_modules', '.cache', 'rampart-firmware');

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? ''}${r.stderr ?? ''}`);
  return r.stdout;
}

export const sha256File = (path) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Debian's generic amd64 kernel package, downloaded once into the cache (the only network use). */
function kernelDeb() {
  mkdirSync(cacheDir, { recursive: true });
  const pick = (dir) => existsSync(dir)
    ? readdirSync(dir).filter((f) => /^linux-image-\d[\w.-]*-amd64_.*_amd64\.deb$/.test(f) && !f.includes('-cloud-')).sort().map((f) => join(dir, f))
    : [];
  const have = [...pick(cacheDir), ...pick('/var/cache/apt/archives')];
  if (have.length > 0) return have.at(-1);
  const dep = /Depends: (linux-image-[\w.-]+)/.exec(sh('apt-cache', ['depends', 'linux-image-amd64']))?.[1];
  if (!dep) throw new Error('apt-cache knows no linux-image-amd64: cannot get a kernel');
  console.error(`firmware: downloading ${dep} (once; cached in ${relative(root, cacheDir)})`);
  // Downloaded beside the cache and renamed in, so a parallel build never reads a partial file.
  const tmp = mkdtempSync(join(cacheDir, '.download-'));
  try {
    sh('apt-get', ['download', dep], { cwd: tmp });
    for (const f of pick(tmp)) renameSync(f, join(cacheDir, basename(f)));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return pick(cacheDir).at(-1);
}

/**
 * The kernel package unpacked with its module index (cached per package file). Unpacked in a
 * private folder and renamed into place, so builds running at once (tests in parallel) never
 * see or remove a half-unpacked tree: the first rename wins, the others drop their copy.
 */
function unpackKernel(deb) {
  const dir = join(cacheDir, basename(deb, '.deb'));
  if (!existsSync(dir)) {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    sh('dpkg', ['-x', deb, tmp]);
    sh('depmod', ['-b', tmp, readdirSync(join(tmp, 'lib', 'modules'))[0]]);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      if (!existsSync(dir)) throw e;
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const version = readdirSync(join(dir, 'lib', 'modules'))[0];
  return { dir, version, vmlinuz: join(dir, 'boot', `vmlinuz-${version}`) };
}

/** Module files for the names in rootfs/etc/rampart/modules, with everything they depend on. */
function moduleClosure(kernel, names) {
  const modDir = join(kernel.dir, 'lib', 'modules', kernel.version);
  const norm = (s) => s.replace(/-/g, '_');
  const deps = new Map();
  const byName = new Map();
  for (const line of readFileSync(join(modDir, 'modules.dep'), 'utf8').split('\n')) {
    const [file, rest] = line.split(':');
    if (!file) continue;
    deps.set(file, rest.trim().split(/\s+/).filter(Boolean));
    byName.set(norm(basename(file).replace(/\.ko(\.\w+)?$/, '')), file);
  }
  const builtin = new Set(readFileSync(join(modDir, 'modules.builtin'), 'utf8').split('\n')
    .map((f) => norm(basename(f).replace(/\.ko$/, ''))));
  const files = new Set();
  const missing = [];
  const add = (file) => { if (files.has(file)) return; files.add(file); deps.get(file)?.forEach(add); };
  for (const n of names) {
    const file = byName.get(norm(n));
    if (file) add(file);
    else if (!builtin.has(norm(n))) missing.push(n);
  }
  return { files: [...files].sort(), missing, modDir };
}

/** Shared libraries a dynamically linked program needs, as ldd resolves them on this Debian host. */
function libsOf(program) {
  const out = sh('ldd', [program]);
  return [...out.matchAll(/(?:=> )?(\/\S+) \(0x/g)].map((m) => m[1]);
}

function copyInto(stage, src, dst = src) {
  const to = join(stage, dst);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(realpathSync(src), to);
  chmodSync(to, statSync(src).mode & 0o777);
}

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? [p, ...walk(p)] : [p];
  });
}

export async function buildImage({ outDir = join(root, 'dist', 'firmware'), log = (m) => console.error(`firmware: ${m}`) } = {}) {
  const stage = join(outDir, '.root');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });

  log('single executable');
  const sea = await buildSea({ outDir: join(stage, 'usr', 'lib', 'rampart'), board: 'vm' });
  const epoch = sea.id.epoch;
  mkdirSync(join(stage, 'usr', 'bin'), { recursive: true });
  symlinkSync('../lib/rampart/rampart', join(stage, 'usr', 'bin', 'rampart'));

  log('busybox, iproute2 and shared libraries');
  const busybox = '/bin/busybox';
  if (!sh('file', ['-L', busybox]).includes('statically linked')) throw new Error('/bin/busybox is not static: install busybox-static');
  copyInto(stage, busybox, 'bin/busybox');
  const ipPath = realpathSync(sh('sh', ['-c', 'command -v ip']).trim());
  const own = new Set(['sbin/ip', 'bin/ip']); // iproute2's ip, not busybox's (no netns, no xfrm)
  for (const applet of sh(busybox, ['--list-full']).split('\n').filter(Boolean)) {
    if (own.has(applet) || existsSync(join(stage, applet))) continue;
    mkdirSync(dirname(join(stage, applet)), { recursive: true });
    symlinkSync(relative(dirname(join('/', applet)), '/bin/busybox'), join(stage, applet));
  }
  copyInto(stage, ipPath, 'sbin/ip');
  cpSync('/etc/iproute2', join(stage, 'etc', 'iproute2'), { recursive: true, dereference: true });
  const libs = new Set([...libsOf(ipPath), ...libsOf(sea.exe)]);
  for (const lib of [...libs].sort()) copyInto(stage, lib);

  log('kernel and modules');
  const kernel = unpackKernel(kernelDeb());
  const moduleNames = readFileSync(join(root, 'rootfs', 'etc', 'rampart', 'modules'), 'utf8').split('\n')
    .map((l) => l.trim().split(/\s+/)[0]).filter((n) => n && !n.startsWith('#'));
  const mods = moduleClosure(kernel, moduleNames);
  if (mods.missing.length) log(`not in this kernel (the box will say so at boot): ${mods.missing.join(' ')}`);
  const stageMods = join(stage, 'lib', 'modules', kernel.version);
  for (const f of mods.files) copyInto(stage, join(mods.modDir, f), join('lib', 'modules', kernel.version, f));
  for (const f of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) copyFileSync(join(mods.modDir, f), join(stageMods, f));
  sh('depmod', ['-b', stage, kernel.version]);

  log('init and configuration');
  for (const p of walk(join(root, 'rootfs'))) {
    const rel = relative(join(root, 'rootfs'), p);
    if (rel.endsWith('.ts')) continue; // sources the executable already holds
    if (lstatSync(p).isDirectory()) mkdirSync(join(stage, rel), { recursive: true });
    else copyInto(stage, p, rel);
  }
  // Keys images must be signed with (beside the repository's): a test build trusts its throwaway key.
  const extraKeys = process.env.RAMPART_TRUSTED_KEYS;
  if (extraKeys) {
    mkdirSync(join(stage, 'etc', 'rampart', 'trusted-keys'), { recursive: true });
    for (const f of readdirSync(extraKeys).filter((n) => n.endsWith('.pub')).sort()) copyInto(stage, join(extraKeys, f), join('etc', 'rampart', 'trusted-keys', f));
  }
  symlinkSync('bin/busybox', join(stage, 'init'));
  for (const d of ['proc', 'sys', 'dev', 'run', 'tmp', 'flash', 'boot', 'var', 'root']) mkdirSync(join(stage, d), { recursive: true });
  symlinkSync('/run', join(stage, 'var', 'run'));
  symlinkSync('/tmp', join(stage, 'var', 'tmp'));
  writeFileSync(join(stage, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
  writeFileSync(join(stage, 'etc', 'group'), 'root:x:0:\n');
  writeFileSync(join(stage, 'etc', 'rampart', 'version'),
    `Version ${sea.id.version ?? readPackageVersion()} (commit ${sea.id.commit}, built ${sea.id.date}, kernel ${kernel.version})\n`);
  // The kernel opens /dev/console before init runs (no devtmpfs yet): the node must exist.
  if (process.getuid?.() === 0) sh('mknod', ['-m', '600', join(stage, 'dev', 'console'), 'c', '5', '1']);
  else log('not root: no /dev/console node in the image (early boot messages are lost)');

  log('archive');
  const cpio = join(outDir, 'rootfs.cpio.zst');
  // Fixed timestamps everywhere (symlinks too), sorted names, owner root: content only.
  sh('find', [stage, '-exec', 'touch', '-h', '-d', `@${epoch}`, '{}', '+']);
  sh('sh', ['-c', `cd "${stage}" && find . -mindepth 1 -print0 | LC_ALL=C sort -z | cpio --null --quiet -o -H newc --reproducible -R 0:0 | zstd -q -${process.env.RAMPART_ZSTD_LEVEL ?? 9} -T0 -o "${cpio}"`]);
  const vmlinuz = join(outDir, 'vmlinuz');
  copyFileSync(kernel.vmlinuz, vmlinuz);
  const unpacked = Number(sh('du', ['-sb', stage]).split('\t')[0]);
  rmSync(stage, { recursive: true, force: true });

  const parts = { vmlinuz: sha256File(vmlinuz), 'rootfs.cpio.zst': sha256File(cpio) };
  const imageSha256 = createHash('sha256').update(`${parts.vmlinuz} vmlinuz\n${parts['rootfs.cpio.zst']} rootfs.cpio.zst\n${KERNEL_CMDLINE}\n`).digest('hex');
  const manifest = {
    board: 'vm', version: sea.id.version ?? readPackageVersion(), commit: sea.id.commit, date: sea.id.date,
    kernel: { package: basename(kernelDebCached(kernel)), version: kernel.version, cmdline: KERNEL_CMDLINE },
    modules: mods.files.length, missingModules: mods.missing,
    bytes: { vmlinuz: statSync(vmlinuz).size, 'rootfs.cpio.zst': statSync(cpio).size, rootUnpacked: unpacked },
    sha256: parts, imageSha256,
  };
  writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { outDir, vmlinuz, initrd: cpio, manifest };
}

function kernelDebCached(kernel) { return `${basename(kernel.dir)}.deb`; }
function readPackageVersion() { return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version; }

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureNpm();
  ensureDebian();
  const t0 = Date.now();
  const { manifest, outDir } = await buildImage();
  const mb = (n) => (n / 1e6).toFixed(1);
  console.log(`built ${relative(process.cwd(), outDir)}: kernel ${mb(manifest.bytes.vmlinuz)} MB + root ${mb(manifest.bytes['rootfs.cpio.zst'])} MB compressed (${mb(manifest.bytes.rootUnpacked)} MB unpacked), ${manifest.modules} modules, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  console.log(`image sha256 ${manifest.imageSha256}`);
}
