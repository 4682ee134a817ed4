// Test-only additions to the appliance root: tools the product does not ship but tests in
// the guest need, as a second initramfs archive that the kernel unpacks over the image's
// (it unpacks concatenated archives in order). The image itself stays as built.
//   iperf3      TCP throughput through the tunnel (bench esp-tcp-xfrm)
//   strongSwan  charon with kernel-netlink (kernel XFRM, not libipsec) and swanctl: an
//               interop peer inside a guest, where the kernel has ESP
// Taken from this Debian host (strongswan-charon, strongswan-swanctl, iperf3), with the
// shared libraries ldd names.
import { spawnSync } from 'node:child_process';
import {
  chmodSync, copyFileSync, createReadStream, createWriteStream, existsSync, mkdirSync, realpathSync, rmSync, statSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

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

function copyInto(stage, src) {
  const to = join(stage, src);
  if (existsSync(to)) return;
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(realpathSync(src), to);
  chmodSync(to, statSync(src).mode & 0o777);
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
