// Opt-in (RAMPART_XFRM_QEMU=1, root): boots a Debian kernel that has ESP under QEMU with a
// busybox + node initramfs and runs fixtures/xfrm-guest.ts there, so the whole SA path
// (NEWSA/UPDSA/ALLOCSPI/GETSA/DELSA with every transform, NAT-T, ESN, updateSa, policies)
// meets a kernel that accepts it. About a minute of CPU; needs qemu-system-x86, busybox-static,
// kmod, cpio and a linux-image .deb (cached in /var/cache/apt/archives or RAMPART_KERNEL_DEB).
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

function findKernelDeb(): string | undefined {
  if (process.env.RAMPART_KERNEL_DEB) return process.env.RAMPART_KERNEL_DEB;
  const dir = '/var/cache/apt/archives';
  if (!existsSync(dir)) return undefined;
  const debs = readdirSync(dir).filter((f) => /^linux-image-6\.\d+\.\d+-\d+-(cloud-)?amd64_.*\.deb$/.test(f)).sort();
  return debs.length ? join(dir, debs[debs.length - 1]!) : undefined;
}

const why = process.env.RAMPART_XFRM_QEMU !== '1' ? 'opt-in: set RAMPART_XFRM_QEMU=1 (boots a VM, about a minute of CPU)'
  : process.getuid?.() !== 0 ? 'needs root'
  : !['qemu-system-x86_64', 'busybox', 'depmod', 'cpio', 'gzip'].every(have) ? 'needs qemu-system-x86 busybox-static kmod cpio'
  : !findKernelDeb() ? 'needs a Debian linux-image .deb (apt-get download linux-image-6.1.0-NN-cloud-amd64)'
  : undefined;

t.test('XFRM SA path against a kernel with ESP (QEMU)', { skip: why ?? false, timeout: 400_000 }, async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'rampart-xfrm-qemu-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const kroot = join(work, 'kroot');
  execFileSync('dpkg', ['-x', findKernelDeb()!, kroot]);
  const kver = readdirSync(join(kroot, 'lib/modules'))[0]!;
  const vmlinuz = join(kroot, 'boot', `vmlinuz-${kver}`);

  const rd = join(work, 'initrd');
  for (const d of ['bin', 'sbin', 'proc', 'sys', 'dev', 'tmp', 'run', 'var', 'app/node_modules', 'lib/x86_64-linux-gnu', 'lib64', `lib/modules/${kver}`]) {
    mkdirSync(join(rd, d), { recursive: true });
  }
  copyFileSync(execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim(), join(rd, 'bin/busybox'));
  for (const a of ['sh', 'mount', 'modprobe', 'poweroff', 'cat', 'echo', 'ping']) symlinkSync('busybox', join(rd, 'bin', a));
  copyFileSync('/usr/sbin/ip', join(rd, 'bin/iproute2')); // busybox's own ip (preferred by its sh) has no netns/xfrm
  symlinkSync('../bin/busybox', join(rd, 'sbin/modprobe')); // the kernel's request_module() runs /sbin/modprobe
  symlinkSync('../run', join(rd, 'var/run')); // ip netns keeps its names in /run/netns
  copyFileSync(process.execPath, join(rd, 'bin/node'));
  const libs = execFileSync('ldd', [process.execPath], { encoding: 'utf8' }) + execFileSync('ldd', ['/usr/sbin/ip'], { encoding: 'utf8' });
  for (const m of libs.matchAll(/=> (\/\S+)/g)) copyFileSync(m[1]!, join(rd, 'lib/x86_64-linux-gnu', m[1]!.split('/').pop()!));
  copyFileSync('/lib64/ld-linux-x86-64.so.2', join(rd, 'lib64/ld-linux-x86-64.so.2'));
  cpSync(join(kroot, 'lib/modules', kver, 'kernel'), join(rd, 'lib/modules', kver, 'kernel'), { recursive: true });
  execFileSync('depmod', ['-b', rd, kver]);
  for (const p of ['netlink', 'node-gyp-build']) cpSync(join(repo, 'node_modules', p), join(rd, 'app/node_modules', p), { recursive: true });
  buildSync({
    entryPoints: [join(repo, 'test/kernel/fixtures/xfrm-guest.ts')], bundle: true, platform: 'node', format: 'cjs',
    target: 'node20', external: ['netlink'], outfile: join(rd, 'app/guest.cjs'), logLevel: 'silent',
  });
  // sha512/sha3/jitterentropy/drbg before esp4 (else "unable to initialize cryptographic
  // operations"); ctr for rfc4106(gcm(aes)).
  const mods = 'sha512_generic sha3_generic jitterentropy_rng drbg xfrm_user esp4 ah4 ipcomp authenc gcm ghash-generic ctr aes_generic des_generic cbc ecb echainiv seqiv md5 sha1_generic sha256_generic crypto_null';
  writeFileSync(join(rd, 'init'), `#!/bin/sh
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs tmpfs /run
for m in ${mods}; do modprobe $m 2>/dev/null; done
cd /app
export NODE_PATH=/app/node_modules
/bin/node guest.cjs
# traffic: two namespaces joined by a veth, ESP tunnel installed by the backend in each
modprobe veth
/bin/iproute2 netns add a && /bin/iproute2 netns add b
/bin/iproute2 link add va netns a type veth peer name vb netns b
/bin/iproute2 -n a addr add 192.168.1.1/24 dev va && /bin/iproute2 -n a link set va up && /bin/iproute2 -n a link set lo up
/bin/iproute2 -n b addr add 192.168.1.2/24 dev vb && /bin/iproute2 -n b link set vb up && /bin/iproute2 -n b link set lo up
/bin/iproute2 netns exec a /bin/node guest.cjs tunnel-setup a
/bin/iproute2 netns exec b /bin/node guest.cjs tunnel-setup b
if /bin/iproute2 netns exec a ping -c 3 -W 2 192.168.1.2 >/dev/null; then echo '{"check":"ping a->b through ESP","ok":true}'; else echo '{"check":"ping a->b through ESP","ok":false}'; fi
/bin/iproute2 netns exec a /bin/node guest.cjs tunnel-check a
/bin/iproute2 -n a -s xfrm state | grep -E 'proto esp|aead|enc|auth-trunc|lifetime current' -A1 | grep -v '^--' | sed -E 's/ 0x[0-9a-f]{16,} / <key> /' | sed 's/^/# /'
poweroff -f
`);
  chmodSync(join(rd, 'init'), 0o755);
  const initrd = join(work, 'initrd.gz');
  execFileSync('sh', ['-c', `cd '${rd}' && find . | cpio -o -H newc 2>/dev/null | gzip -1 > '${initrd}'`]);

  const r = spawnSync('timeout', ['300', 'qemu-system-x86_64', '-m', '1024', '-cpu', 'max', '-nodefaults', '-no-user-config',
    '-display', 'none', '-serial', 'stdio', '-no-reboot', '-kernel', vmlinuz, '-initrd', initrd,
    '-append', 'console=ttyS0 quiet panic=-1'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const lines = (r.stdout ?? '').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { check?: string; ok?: boolean; detail?: unknown; done?: boolean; failed?: number; passed?: number });
  for (const l of (r.stdout ?? '').split('\n')) if (l.startsWith('# ')) t.comment(l.slice(2).trimEnd());
  const dones = lines.filter((l) => l.done);
  if (dones.length !== 4) t.comment((r.stdout ?? '').split('\n').filter((l) => !l.startsWith('{')).slice(-40).join('\n'));
  t.equal(dones.length, 4, `guest script finished four times (qemu exit ${r.status})`);
  const checks = lines.filter((x) => x.check);
  for (const l of checks) t.ok(l.ok, `${l.check}${l.ok ? '' : `: ${JSON.stringify(l.detail)}`}`);
  t.ok(dones.every((d) => d.failed === 0), 'no guest check failed');
  t.ok(checks.length >= 23, `${checks.length} guest checks`);
  t.ok(checks.some((c) => c.check === 'ping a->b through ESP' && c.ok), 'ping through the kernel ESP tunnel');
});
