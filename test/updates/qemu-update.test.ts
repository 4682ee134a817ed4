// Firmware update on the appliance under QEMU, booted by GRUB from the factory disk (MBR,
// GRUB, boot partition with the environment block, slot A, empty slot B, flash). The
// images to install are on flash: from the factory (tests cannot reach the guest's SSH);
// copying files onto flash: is tested in test/mgmt. One VM, boots shared between checks:
//   boot 1 (slot A): show boot; configure + write memory; upgrade flash:b.img (0.2.0) with
//     progress; reload
//   boot 2 (slot B, on trial): B runs, is marked good, A still listed, config kept;
//     upgrade rollback; reload
//   boot 3 (slot A): upgrade again, power pulled at two points of the write: boots 4, 5 come
//     up on slot A; then upgrade flash:bad.img (a signed image whose daemon never starts)
//   boots 6-8 (slot B, on trial): the daemon dies 3 times, init reboots, GRUB counts down
//   boot 9 (slot A): rolled back, said on the console, in show version and in the log;
//     upgrade flash:panic.img (its /init exits: kernel panic), boots 10-12 panic, boot 13: slot A
// Budget: the image build (~30 s idle) and 9 boots (~20 s each idle); a loaded host is much
// slower, so every wait is bounded generously.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Appliance, firmwareModule, qemuModule } from '../lib/appliance.js';
import { isRoot } from '../lib/netns.js';
import { buildSignedImage, generateSigningKey } from '../../firmware/mgmt/update/image-build.js';
import { buildFactoryDisk, factoryDiskMissing } from '../../firmware/mgmt/update/factory-disk.js';
import { VM_DISK } from '../../board/vm.js';

const BOOT_MS = 480000;
const q = await qemuModule();
const skip = !isRoot() ? 'needs root: the image build makes device nodes'
  : q.qemuMissing() ? `cannot boot the appliance: ${q.qemuMissing()}`
    : factoryDiskMissing() ? `cannot build the factory disk: ${factoryDiskMissing()}`
      // Not yet seen passing whole on the shared build host (the second boot stalled once): opt-in.
      : process.env.RAMPART_QEMU_LONG !== '1' ? 'opt-in: RAMPART_QEMU_LONG=1 (13 boots under emulation)' : false;

t.setTimeout(60 * 60000);

t.test('firmware update on the appliance under QEMU', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-qupd-'));
  t.teardown(() => { if (t.passing()) rmSync(dir, { recursive: true, force: true }); else t.comment(`console log kept in ${dir}`); });

  // The firmware trusts a throwaway key made for this run.
  const keysDir = join(dir, 'keys');
  mkdirSync(keysDir);
  const key = generateSigningKey(dir, 'ci');
  copyFileSync(key.publicPath, join(keysDir, 'ci.pub'));
  process.env.RAMPART_TRUSTED_KEYS = keysDir;
  const fw = await firmwareModule();
  const built = await fw.buildImage({ outDir: join(dir, 'image'), log: () => {} });
  delete process.env.RAMPART_TRUSTED_KEYS;
  const fwManifest = JSON.parse(readFileSync(join(built.outDir, 'manifest.json'), 'utf8')) as { version: string; kernel: { cmdline: string } };
  const kernel = join(built.outDir, 'vmlinuz'), rootfs = join(built.outDir, 'rootfs.cpio.zst');
  const cmdline = `${fwManifest.kernel.cmdline} rampart.agent`;
  const image = (name: string, version: string, root = rootfs) => {
    const out = join(dir, name);
    buildSignedImage({ kernel, rootfs: root, version, buildId: `ci ${name}`, boards: ['vm'], cmdline, keys: [key.privatePath], out });
    return out;
  };
  // The bad image: the same root with a second archive appended (the kernel unpacks both)
  // whose /usr/bin/rampart exits at once: the daemon never comes up.
  const overlay = join(dir, 'overlay');
  mkdirSync(join(overlay, 'usr', 'bin'), { recursive: true });
  writeFileSync(join(overlay, 'usr', 'bin', 'rampart'), '#!/bin/sh\necho "broken build" >&2\nexit 3\n', { mode: 0o755 });
  const cpio = spawnSync('sh', ['-c', `cd "${overlay}" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0`], { maxBuffer: 1 << 24 });
  t.equal(cpio.status, 0, 'overlay archive');
  const root = readFileSync(rootfs);
  const badRoot = join(dir, 'bad-rootfs');
  writeFileSync(badRoot, Buffer.concat([root, Buffer.alloc((4 - (root.length % 4)) % 4), cpio.stdout]));
  // The panic image: its /init exits at once, so the kernel panics (and reboots: panic=1).
  const panicDir = join(dir, 'panic');
  mkdirSync(panicDir);
  writeFileSync(join(panicDir, 'init'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
  const panicCpio = spawnSync('sh', ['-c', `cd "${panicDir}" && find . -mindepth 1 | cpio --quiet -o -H newc -R 0:0`], { maxBuffer: 1 << 24 });
  const panicRoot = join(dir, 'panic-rootfs');
  writeFileSync(panicRoot, Buffer.concat([root, Buffer.alloc((4 - (root.length % 4)) % 4), panicCpio.stdout]));
  const a = image('a.img', fwManifest.version);
  const disk = join(dir, 'disk.img');
  buildFactoryDisk({
    layout: VM_DISK,
    image: a, out: disk, trialSec: 900,
    flashFiles: { 'b.img': image('b.img', '90.2.0'), 'bad.img': image('bad.img', '90.3.0', badRoot), 'panic.img': image('panic.img', '90.4.0', panicRoot) },
  });

  const vm = new Appliance({ image: built.outDir, dir, disk, agent: true, nics: [] });
  t.teardown(() => vm.powerOff());
  const PROMPT = /Press RETURN to get started![\s\S]*\n[\w-]+>$/;
  const boot = async (what: string, power = true) => {
    if (power) await vm.powerOn();
    const text = await vm.console.expect(PROMPT, BOOT_MS);
    t.comment(`boot (${what}): ${((Date.now() - vm.startedAt) / 1000).toFixed(1)} s`);
    await vm.cli('enable');
    return text;
  };
  const reload = async () => {
    vm.console.mark();
    vm.console.type('reload\r');
    await vm.console.expect(/confirm/, 20000);
    vm.console.type('\r');
  };
  /** The daemon marks its slot good once the console is served: wait for it. */
  const untilGood = async (slot: string) => {
    for (let i = 0; i < 30; i++) {
      if (new RegExp(`^${slot}\\s+yes\\s+yes\\s+good`, 'm').test(await vm.cli('show boot'))) return true;
      await new Promise((r) => setTimeout(r, 2000));
    }
    return false;
  };

  await t.test('boot 1: GRUB starts slot A; upgrade writes slot B with progress', async (t) => {
    const text = await boot('factory, slot A');
    t.match(text, /Rampart: booting slot A/, 'GRUB chose slot A');
    t.match(text, /flash: \S+ mounted read-write/);
    const sb = await vm.cli('show boot');
    t.match(sb, /^A\s+yes\s+yes\s+good\s+-\s+\S+ \(ci a\.img\)/m);
    t.match(sb, /^B\s+no\s+no\s+empty/m);
    await vm.cli('configure terminal');
    await vm.cli('hostname Branch');
    await vm.cli('end');
    t.match(await vm.cli('write memory'), /\[OK\]/);
    t.match(await vm.cli('verify flash:b.img', 240000), /Version\s+: 90\.2\.0[\s\S]*Signature Verified/);
    const up = await vm.cli('upgrade flash:b.img', 600000);
    t.match(up, /Writing the standby slot \((\d+) bytes\):( \d+%)* 100% \(\1 bytes\) done\nReading the slot back/);
    t.match(up, /\[OK\] Slot B holds version 90\.2\.0/);
    t.match(await vm.cli('show boot'), /^B\s+no\s+yes\s+trial\s+3\s+90\.2\.0/m);
  });

  await t.test('boot 2: slot B runs on trial, becomes good; the old slot is listed; rollback on demand', async (t) => {
    await reload();
    const text = await boot('slot B on trial', false);
    t.match(text, /Rampart: booting slot B \(90\.2\.0\)/);
    t.ok(await untilGood('B'), 'the new firmware marked itself good');
    t.match(text, /Branch>$/, 'startup-config survived the update');
    t.match(await vm.cli('show boot'), /^A\s+no\s+no\s+good/m, 'slot A still listed');
    t.match(await vm.cli('show version'), /Running from boot slot B\n/);
    t.match(await vm.shell('cat /proc/cmdline'), /rampart\.slot=B rampart\.trial=1/);
    t.match(await vm.cli('upgrade rollback'), /Next boot: slot A/);
    await reload();
    const back = await boot('rolled back on demand', false);
    t.match(back, /Rampart: booting slot A/);
    t.match(await vm.cli('show version'), /Running from boot slot A\n/);
  });

  await t.test('power pulled during the write: slot A boots', async (t) => {
    for (const at of [20, 60]) {
      vm.console.mark();
      vm.console.type('upgrade flash:b.img\r');
      await vm.console.expect(new RegExp(`Writing the standby slot \\(\\d+ bytes\\):[\\d% ]* ${at}%`), 600000);
      await vm.powerOff();
      const text = await boot(`power cut at ${at}% of the write`);
      t.match(text, /Rampart: booting slot A/, `cut at ${at}%: the running slot boots`);
      t.match(await vm.cli('show boot'), /^B\s+no\s+no\s+(empty|invalid|failed)/m, 'the torn slot is not bootable');
    }
  });

  await t.test('an image whose daemon never gets healthy is rolled back after 3 tries', async (t) => {
    t.match(await vm.cli('upgrade flash:bad.img', 600000), /\[OK\] Slot B holds version 90\.3\.0/);
    await reload();
    for (let i = 1; i <= 3; i++) {
      await vm.console.expect(/Rampart: booting slot B/, BOOT_MS);
      await vm.console.expect(/%UPGRADE-3-TRIAL_FAILED: the daemon of the firmware in slot B exited 3 times/, BOOT_MS);
      t.pass(`trial boot ${i} failed and rebooted`);
    }
    const text = await boot('after the tries ran out', false);
    t.match(text, /Rampart: booting slot A/);
    t.match(text, /%UPGRADE-1-ROLLBACK: Firmware in slot B \(version 90\.3\.0\) did not come up healthy in 3 boots: rolled back to slot A/, 'said on the console');
    t.match(await vm.cli('show version'), /Rolled back: the firmware in slot B did not come up healthy; slot A booted instead/);
    t.match(await vm.cli('show logging | include ROLLBACK'), /%UPGRADE-1-ROLLBACK/);
    t.match(await vm.cli('show boot'), /^B\s+no\s+no\s+failed\s+0\s+90\.3\.0/m);
    t.match(text, /Branch>$/, 'startup-config survived');
  });

  await t.test('an image whose kernel panics is rolled back after 3 tries', async (t) => {
    t.match(await vm.cli('upgrade flash:panic.img', 600000), /\[OK\] Slot B holds version 90\.4\.0/);
    await reload();
    for (let i = 1; i <= 3; i++) {
      await vm.console.expect(/Rampart: booting slot B \(90\.4\.0\)/, BOOT_MS);
      await vm.console.expect(/Kernel panic/, BOOT_MS);
      t.pass(`trial boot ${i}: kernel panic, reboot`);
    }
    const text = await boot('after the panics', false);
    t.match(text, /Rampart: booting slot A/);
    t.match(text, /%UPGRADE-1-ROLLBACK: Firmware in slot B \(version 90\.4\.0\) did not come up healthy in 3 boots: rolled back to slot A/);
  });
});
