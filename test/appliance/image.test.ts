// The image build: offline from the Debian packages and the npm tree, only the modules the
// box needs, and reproducible (two builds of the same tree give the same image hash).
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { firmwareModule } from '../lib/appliance.js';
import { rootOnly } from '../lib/netns.js';

t.test('two builds of the same tree are the same image', rootOnly('the image holds a /dev/console device node'), async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-image-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fw = await firmwareModule();
  const a = await fw.buildImage({ outDir: join(dir, 'a'), log: () => {} });
  const b = await fw.buildImage({ outDir: join(dir, 'b'), log: () => {} });
  t.equal(a.manifest.imageSha256, b.manifest.imageSha256, 'same image sha256');
  t.same(readFileSync(join(a.outDir, 'rootfs.cpio.zst')), readFileSync(join(b.outDir, 'rootfs.cpio.zst')), 'byte-identical root');
  t.comment(`image: kernel ${(a.manifest.bytes.vmlinuz! / 1e6).toFixed(1)} MB + root ${(a.manifest.bytes['rootfs.cpio.zst']! / 1e6).toFixed(1)} MB`);
  t.same(a.manifest.missingModules, [], 'every listed module is in the kernel package');

  // What is inside: the executable, init, iproute2, only the listed modules (and deps).
  const list = spawnSync('sh', ['-c', `zstd -dc "${join(a.outDir, 'rootfs.cpio.zst')}" | cpio -it --quiet`], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout.split('\n');
  for (const f of ['init', 'etc/inittab', 'etc/init.d/boot', 'sbin/ip', 'usr/lib/rampart/rampart', 'usr/lib/rampart/node_modules/rampart-native/package.json', 'dev/console', 'bin/busybox']) {
    t.ok(list.includes(f), `${f} is in the image`);
  }
  const modules = list.filter((f) => f.endsWith('.ko'));
  t.equal(modules.length, a.manifest.modules);
  for (const m of ['esp4.ko', 'xfrm_interface.ko', 'vrf.ko', 'tun.ko', 'i6300esb.ko', 'af_alg.ko', 'virtio_net.ko']) {
    t.ok(modules.some((f) => f.endsWith(`/${m}`)), `${m} is shipped`);
  }
  t.notOk(modules.some((f) => /\/(drm|sound|bluetooth|wireless)\//.test(f)), 'nothing the box does not need (graphics, sound, radios)');
  t.notOk(list.some((f) => f.includes('node_modules/nan/') || f.includes('node_modules/typescript/')), 'no build-time npm packages');
});
