// The appliance image: built twice (offline from the Debian packages and the npm tree, only
// the modules the box needs, reproducible: both builds give the same image hash), then booted
// under QEMU (software emulation), driven through its serial console like a person with a
// terminal program, and acted on from inside the guest through the test command agent
// (virtio-serial, rootfs/etc/init.d/agent). One VM and one flash; boots are the expensive
// part, so each boot serves several checks:
//   boot 1 (fresh flash): defaults, XFRM chosen, NICs named, configure, write memory; the
//     daemon SIGKILLed in the guest is restarted by init and the console comes back
//   power pulled (QEMU killed) in the middle of a `write memory`
//   boot 2: the old or the new startup-config, never a torn one; `reload` = a real reboot
//   boot 3: the configuration is back; the daemon hung (SIGSTOP): the watchdog stops being
//     fed and the i6300esb resets the box, meanwhile the flash goes bad
//   boot 4: boots with the default configuration and says the flash is corrupt
// The test VM has a shorter watchdog (card heartbeat 15 s, feeding stops after 10 s without
// a daemon heartbeat) so the hang costs ~40 s, not ~80 s.
// Budget: ~2.5 minutes on 2 idle cores (2 image builds of ~12 s, 4 boots of ~17 s, restart
// and watchdog waits). A loaded host is much slower (boots of 4-5 minutes were seen with a
// load average of 22), so every wait is bounded generously.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Appliance, firmwareModule, qemuModule, type FirmwareManifest } from '../lib/appliance.js';
import { isRoot } from '../lib/netns.js';

const BOOT_MS = 480000;
const q = await qemuModule();
const notRoot = !isRoot() && 'needs root: the image holds a /dev/console device node';
const skip = notRoot || (q.qemuMissing() && `cannot boot the appliance: ${q.qemuMissing()}`);

t.setTimeout(40 * 60000);

const dir = mkdtempSync(join(tmpdir(), 'rampart-boot-'));
// Kept when a check failed: dir/vm.console.log is what the serial console showed.
t.teardown(() => { if (t.passing()) rmSync(dir, { recursive: true, force: true }); else t.comment(`console log kept in ${dir}`); });
let built: { outDir: string; manifest: FirmwareManifest } | undefined;

t.test('two builds of the same tree are the same image', { skip: notRoot }, async (t) => {
  const fw = await firmwareModule();
  const a = await fw.buildImage({ outDir: join(dir, 'image'), log: () => {} });
  const b = await fw.buildImage({ outDir: join(dir, 'image-again'), log: () => {} });
  t.equal(a.manifest.imageSha256, b.manifest.imageSha256, 'same image sha256');
  t.same(readFileSync(join(a.outDir, 'rootfs.cpio.zst')), readFileSync(join(b.outDir, 'rootfs.cpio.zst')), 'byte-identical root');
  rmSync(b.outDir, { recursive: true, force: true });
  built = a;
  t.comment(`image: kernel ${(a.manifest.bytes.vmlinuz! / 1e6).toFixed(1)} MB + root ${(a.manifest.bytes['rootfs.cpio.zst']! / 1e6).toFixed(1)} MB`);
  t.same(a.manifest.missingModules, [], 'every listed module is in the kernel package');

  // What is inside: the executable, init, iproute2, only the listed modules (and deps).
  const list = spawnSync('sh', ['-c', `zstd -dc "${join(a.outDir, 'rootfs.cpio.zst')}" | cpio -it --quiet`], { encoding: 'utf8', maxBuffer: 1 << 26 }).stdout.split('\n');
  for (const f of ['init', 'etc/inittab', 'etc/init.d/boot', 'sbin/ip', 'usr/lib/rampart/rampart', 'usr/lib/rampart/node_modules/rampart-native/package.json', 'dev/console', 'bin/busybox']) {
    t.ok(list.includes(f), `${f} is in the image`);
  }
  const modules = list.filter((f) => f.endsWith('.ko'));
  t.equal(modules.length, a.manifest.modules);
  for (const m of ['esp4.ko', 'xfrm_interface.ko', 'vrf.ko', 'tun.ko', 'i6300esb.ko', 'af_alg.ko', 'virtio_net.ko', 'virtio-rng.ko']) {
    t.ok(modules.some((f) => f.endsWith(`/${m}`)), `${m} is shipped`);
  }
  t.notOk(modules.some((f) => /\/(drm|sound|bluetooth|wireless)\//.test(f)), 'nothing the box does not need (graphics, sound, radios)');
  t.notOk(list.some((f) => f.includes('node_modules/nan/') || f.includes('node_modules/typescript/')), 'no build-time npm packages');
});

t.test('the appliance under QEMU', { skip }, async (t) => {
  if (!built) return t.fail('no image: the build above failed');
  const flash = join(dir, 'flash.img');
  q.makeFlash(flash);
  const vm = new Appliance({
    image: built.outDir, dir, flash, agent: true, nics: [{ user: true }, { user: true }],
    append: 'i6300esb.heartbeat=15 rampart.watchdog_stale=10',
  });
  t.teardown(() => vm.powerOff());
  const boot = async (what: string) => {
    await vm.powerOn();
    const text = await vm.console.expect(/Press RETURN to get started![\s\S]*\n[\w-]+>$/, BOOT_MS);
    t.comment(`boot-to-prompt (${what}): ${((Date.now() - vm.startedAt) / 1000).toFixed(1)} s`);
    return text;
  };
  const startup = () => vm.shell('cat /flash/nvram/startup-config');
  // How long one `write memory` took (console round trip), to pull the power in the middle of one.
  let writeMs = 0;

  await t.test('first boot on a fresh flash', async (t) => {
    const text = await boot('fresh flash');
    t.match(text, /Rampart appliance software, Version \S+ \(commit \w+/, 'names its build on the console');
    t.match(text, /flash: \S+ mounted read-write/);
    t.match(text, /No startup-config found: booted with the default configuration/);
    t.notMatch(text, /%SYS-3-MODULE/, 'every kernel module loaded');
    t.match(await vm.shell('dmesg | grep i6300ESB'), /heartbeat=15 sec/, 'the kernel command line set the watchdog card\'s heartbeat');
    await vm.cli('enable');
    t.match(await vm.cli('show crypto engine configuration | include data path|Reason'), /IPsec data path:\s+xfrm/, 'the kernel XFRM backend is chosen by itself');
    t.match(await vm.cli('show ip interface brief'), /GigabitEthernet0\/0[\s\S]*GigabitEthernet0\/1/, 'the two NICs are GigabitEthernet0/0 and 0/1');
    await vm.cli('configure terminal');
    await vm.cli('hostname Branch');
    await vm.cli('interface GigabitEthernet0/1');
    await vm.cli('ip address 192.0.2.1 255.255.255.0');
    await vm.cli('end');
    const t0 = Date.now();
    t.match(await vm.cli('write memory'), /\[OK\]/);
    writeMs = Date.now() - t0;
    t.match(await startup(), /hostname Branch[\s\S]*ip address 192\.0\.2\.1 255\.255\.255\.0/, 'startup-config is on the flash');
  });

  await t.test('a daemon killed with SIGKILL is restarted by init', async (t) => {
    const pid = (await vm.shell('cat /run/rampart/daemon.pid')).trim();
    t.match(pid, /^\d+$/);
    vm.console.mark();
    await vm.shell(`kill -9 ${pid}`);
    await vm.console.expect(/rampart daemon exited \(137\); restarting in 1 s/, 30000);
    await vm.console.expect(/Press RETURN to get started![\s\S]*\nBranch>$/, BOOT_MS);
    t.pass('the console came back to the restarted daemon, which loaded startup-config');
    t.not((await vm.shell('cat /run/rampart/daemon.pid')).trim(), pid, 'a new daemon process');
    await vm.cli('enable');
    t.match(await vm.cli('show running-config | include ip address'), /ip address 192\.0\.2\.1 255\.255\.255\.0/);
  });

  await t.test('power pulled during write memory: old or new startup-config, never torn', async (t) => {
    const old = await startup();
    await vm.cli('configure terminal');
    await vm.cli('hostname Torn');
    await vm.cli('end');
    vm.console.mark();
    vm.console.type('write memory\r');
    // About half of what the last write took from the keys to the prompt: mid-write.
    await new Promise((r) => setTimeout(r, Math.max(20, writeMs / 2)));
    await vm.powerOff();
    t.comment(`power pulled ${Math.max(20, writeMs / 2).toFixed(0)} ms after typing write memory (a whole one took ${writeMs} ms)`);
    const text = await boot('after the power cut');
    t.match(text, /\n(Branch|Torn)>$/, 'one of the two configurations');
    t.notMatch(text, /No startup-config found|% Invalid|line \d+:/, 'no missing or torn startup-config');
    const now = await startup();
    if (/hostname Branch/.test(now)) t.equal(now, old, 'the old startup-config, byte for byte');
    else t.equal(now.replace('hostname Torn', 'hostname Branch'), old, 'the new startup-config, whole');
    await vm.cli('enable');
    t.match(await vm.cli('show running-config | include ip address'), /ip address 192\.0\.2\.1 255\.255\.255\.0/);
    await vm.cli('configure terminal');
    await vm.cli('hostname Branch');
    await vm.cli('end');
    t.match(await vm.cli('write memory'), /\[OK\]/);
  });

  await t.test('reload is a real reboot that finds the configuration again', async (t) => {
    vm.console.mark();
    vm.console.type('reload\r');
    await vm.console.expect(/confirm/, 20000);
    vm.console.type('\r');
    const text = await vm.console.expect(/Rampart appliance software[\s\S]*Press RETURN to get started![\s\S]*\nBranch>$/, BOOT_MS);
    t.match(text, /%SYS-5-RELOAD/);
    await vm.cli('enable');
    t.match(await vm.cli('show running-config | include ip address'), /ip address 192\.0\.2\.1 255\.255\.255\.0/);
    t.notMatch(await vm.cli('show running-config | include hostname'), /Router/);
  });

  await t.test('a hung daemon stops the watchdog feeding: the box reboots; corrupt flash boots with defaults', async (t) => {
    const pid = (await vm.shell('cat /run/rampart/daemon.pid')).trim();
    vm.console.mark();
    await vm.shell(`kill -STOP ${pid}`);
    const t0 = Date.now();
    // While the box hangs, the flash goes bad (its superblock and group descriptors zeroed).
    const fd = openSync(flash, 'r+');
    writeSync(fd, Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
    closeSync(fd);
    await vm.console.expect(/Rampart appliance software/, 300000);
    t.comment(`the watchdog reset the box ${((Date.now() - t0) / 1000).toFixed(1)} s after the daemon stopped`);
    const text = await vm.console.expect(/Press RETURN to get started![\s\S]*\nRouter>$/, BOOT_MS);
    t.pass('the watchdog rebooted the hung box');
    t.match(text, /%FLASH-3-CORRUPT: flash \(\/dev\/vda\) cannot be mounted/, 'says the flash is bad');
    t.match(text, /booted with the default configuration/);
    await vm.cli('enable');
    t.match(await vm.cli('show running-config | include hostname'), /hostname Router/, 'the default configuration');
  });
});
