// Test-only additions to the appliance root: tools the product does not ship but tests in
// the guest need, as a second initramfs archive that the kernel unpacks over the image's
// (it unpacks concatenated archives in order). The image itself stays as built.
//   iperf3      TCP throughput through the tunnel (bench esp-tcp-xfrm)
//   strongSwan  charon with kernel-netlink (kernel XFRM, not libipsec) and swanctl: an
//               interop peer inside a guest, where the kernel has ESP
//   libreswan   pluto, whack, addconn and NSS's certutil: the other interop peer and the
//               issue's bench anchor (libreswan-to-libreswan between two VMs)
// iperf3 and strongSwan are taken from this Debian host (strongswan-charon,
// strongswan-swanctl, iperf3), with the shared libraries ldd names. libreswan conflicts with
// strongSwan's packages, so it is never installed here: its .deb and the libraries the host
// lacks are downloaded once (`apt-get download`, as the kernel is) and unpacked into a cache.
import { spawnSync } from 'node:child_process';
import {
  chmodSync, copyFileSync, createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync,
  renameSync, rmSync, statSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const LIBRESWAN_CACHE = join(root, 'node_modules', '.cache', 'rampart-firmware', 'libreswan');
/** libreswan and the libraries it (or NSS's certutil) links that a strongSwan host may lack. */
const LIBRESWAN_DEBS = ['libreswan', 'libnss3-tools', 'libnss3', 'libnspr4', 'libldns3', 'libevent-core-2.1-7', 'libevent-pthreads-2.1-7', 'libunbound8', 'libcurl3-nss'];
export const LIBRESWAN_PROGRAMS = ['/usr/libexec/ipsec/pluto', '/usr/libexec/ipsec/whack', '/usr/libexec/ipsec/addconn', '/usr/bin/certutil'];
/** NSS opens its token (softokn) and its crypto (freebl) with dlopen: ldd does not name them. */
const NSS_DLOPEN = ['libsoftokn3.so', 'libfreeblpriv3.so', 'libfreebl3.so', 'libnssdbm3.so'].map((f) => `/usr/lib/x86_64-linux-gnu/${f}`);

export const CHARON = '/usr/lib/ipsec/charon';
const PLUGIN_DIR = '/usr/lib/ipsec/plugins';
// Kernel XFRM through netlink; no libipsec, no updown (no iptables in the guest). The
// rest is test/lib/strongswan.ts's list, so its strongswan.conf works in the guest too.
export const GUEST_SWAN_PLUGINS = ['random', 'nonce', 'openssl', 'aesni', 'aes', 'gcm', 'sha1', 'sha2', 'md5', 'hmac', 'xcbc', 'cmac',
  'gmp', 'curve25519', 'kdf', 'pem', 'pkcs1', 'x509', 'pubkey', 'kernel-netlink', 'socket-default', 'vici'];

function sh(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? ''}${r.stderr ?? ''}`);
  return r.stdout;
}

/** Why the extras cannot be built here, or undefined. */
export function extrasMissing() {
  const need = [CHARON, '/usr/sbin/swanctl', '/usr/bin/iperf3', ...GUEST_SWAN_PLUGINS.map((p) => join(PLUGIN_DIR, `libstrongswan-${p}.so`))];
  const gone = need.filter((f) => !existsSync(f));
  return gone.length ? `not installed: ${gone.join(' ')} (apt-get install strongswan-charon strongswan-swanctl iperf3)` : undefined;
}

/** `src` (a host path, or one inside `from`) to the same absolute path inside `stage`. */
function copyInto(stage, src, from = '/') {
  const to = join(stage, '/', relative(from, src));
  if (existsSync(to)) return;
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(realpathSync(src), to);
  chmodSync(to, statSync(src).mode & 0o777);
}

let libreswanWhy;
/**
 * libreswan's packages unpacked into one tree (cached; downloaded the first time), or a
 * reason why not. Unpacked beside the cache and renamed in, so parallel builds never see a
 * half-made tree.
 */
export function libreswanTree() {
  const tree = join(LIBRESWAN_CACHE, 'root');
  if (existsSync(join(tree, 'usr/libexec/ipsec/pluto'))) return { tree };
  if (libreswanWhy) return { missing: libreswanWhy };
  try {
    mkdirSync(LIBRESWAN_CACHE, { recursive: true });
    const tmp = mkdtempSync(join(LIBRESWAN_CACHE, '.download-'));
    try {
      sh('apt-get', ['download', ...LIBRESWAN_DEBS], { cwd: tmp });
      const unpacked = join(tmp, 'root');
      for (const deb of readdirSync(tmp).filter((f) => f.endsWith('.deb')).sort()) sh('dpkg', ['-x', join(tmp, deb), unpacked]);
      try {
        renameSync(unpacked, tree);
      } catch (e) {
        if (!existsSync(tree)) throw e;
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    return { tree };
  } catch (e) {
    libreswanWhy = `libreswan could not be fetched (apt-get download ${LIBRESWAN_DEBS.join(' ')}): ${String(e.message ?? e).split('\n')[0]}`;
    return { missing: libreswanWhy };
  }
}

/** Why the guest has no libreswan, or undefined. */
export function libreswanMissing() {
  return libreswanTree().missing;
}

/** Adds libreswan's programs and every library they load to the stage. */
function stageLibreswan(stage, tree) {
  const libPath = ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu'].map((d) => join(tree, d)).join(':');
  const inTree = (f) => (existsSync(join(tree, f)) ? join(tree, f) : f);
  const objects = [...LIBRESWAN_PROGRAMS, ...NSS_DLOPEN].map(inTree);
  const files = new Set(objects);
  for (const p of objects) {
    const out = sh('ldd', [p], { env: { ...process.env, LD_LIBRARY_PATH: libPath } });
    const gone = [...out.matchAll(/^\s*(\S+) => not found/gm)].map((m) => m[1]);
    if (gone.length) throw new Error(`libreswan for the guest: ${p} needs ${gone.join(' ')}, found neither in ${tree} nor on this host`);
    for (const m of out.matchAll(/(?:=> )?(\/\S+) \(0x/g)) files.add(m[1]);
  }
  for (const f of [...files].sort()) copyInto(stage, f, f.startsWith(`${tree}/`) ? tree : '/');
}

/** Builds dir/extras.cpio.zst; returns its path. */
export function buildTestExtras(dir) {
  const why = extrasMissing();
  if (why) throw new Error(why);
  const stage = join(dir, '.extras');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const programs = ['/usr/bin/iperf3', CHARON, '/usr/sbin/swanctl', ...GUEST_SWAN_PLUGINS.map((p) => join(PLUGIN_DIR, `libstrongswan-${p}.so`))];
  const files = new Set(programs);
  for (const p of programs) {
    for (const m of sh('ldd', [p]).matchAll(/(?:=> )?(\/\S+) \(0x/g)) files.add(m[1]);
  }
  for (const f of [...files].sort()) copyInto(stage, f);
  const lsw = libreswanTree();
  if (lsw.tree) stageLibreswan(stage, lsw.tree);
  const out = join(dir, 'extras.cpio.zst');
  sh('sh', ['-c', `cd "${stage}" && find . -mindepth 1 -print0 | LC_ALL=C sort -z | cpio --null --quiet -o -H newc --reproducible -R 0:0 | zstd -q -3 -T0 -o "${out}"`]);
  rmSync(stage, { recursive: true, force: true });
  return out;
}

/** The image's root archive with the extras after it, as one initrd file for QEMU. */
export async function initrdWithExtras(imageDir, extras, out) {
  const w = createWriteStream(out);
  for (const part of [join(imageDir, 'rootfs.cpio.zst'), extras]) await pipeline(createReadStream(part), w, { end: false });
  await new Promise((resolve, reject) => w.end((e) => (e ? reject(e) : resolve())));
  return out;
}
