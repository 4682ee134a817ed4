// The appliance image booted under QEMU (software emulation), driven through its serial
// console like a person with a terminal program. One VM and one flash; boots are the
// expensive part, so each boot is checked for several things:
//   1 fresh flash: defaults, XFRM chosen, NICs named, configure, write memory; reload =
//     a real reboot
//   2 the configuration is back
// With RAMPART_QEMU_LONG=1 also (two more boots and a watchdog reset): daemon SIGKILLed
// inside the guest is restarted by init (through the debug shell on ttyS1);
//   power pulled right after `write memory`: old or new startup-config, never torn; daemon
//   hung (SIGSTOP): the watchdog reboots the box, meanwhile the flash goes bad: it boots
//   with the default configuration and says so
// Budget: ~1.5 minutes on 2 idle cores (measured 93 s: image build, 2 boots of ~17 s), ~5 minutes
// with the long part. A loaded host is much slower (boots of 4-5 minutes were seen with a
// load average of 22), so every wait is bounded generously.
import t from 'tap';
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Appliance, firmwareModule, qemuModule } from '../lib/appliance.js';
import { isRoot } from '../lib/netns.js';

const BOOT_MS = 480000;
const LONG = process.env.RAMPART_QEMU_LONG === '1';

const q = await qemuModule();
const skip = !isRoot() ? 'needs root: the image build makes device nodes' : q.qemuMissing() && `cannot boot the appliance: ${q.qemuMissing()}`;

t.setTimeout(LONG ? 40 * 60000 : 25 * 60000);

t.test('the appliance under QEMU', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-boot-'));
  // Kept when a check failed: dir/vm.console.log is what the serial console showed.
  t.teardown(() => { if (t.passing()) rmSync(dir, { recursive: true, force: true }); else t.comment(`console log kept in ${dir}`); });

  const built = await (await firmwareModule()).buildImage({ outDir: join(dir, 'image'), log: () => {} });
  const flash = join(dir, 'flash.img');
  q.makeFlash(flash);
  const vm = new Appliance({ image: built.outDir, dir, flash, debugShell: true, nics: [{ user: true }, { user: true }] });
  t.teardown(() => vm.powerOff());
  const boot = async (what: string) => {
    await vm.powerOn();
    const text = await vm.console.expect(/Press RETURN to get started![\s\S]*\n[\w-]+>$/, BOOT_MS);
    t.comment(`boot-to-prompt (${what}): ${((Date.now() - vm.startedAt) / 1000).toFixed(1)} s`);
    return text;
  };

  await t.test('first boot on a fresh flash', async (t) => {
    const text = await boot('fresh flash');
    t.match(text, /Rampart appliance software, Version \S+ \(commit \w+/, 'names its build on the console');
    t.match(text, /flash: \S+ mounted read-write/);
    t.match(text, /No startup-config found: booted with the default configuration/);
    t.notMatch(text, /%SYS-3-MODULE/, 'every kernel module loaded');
    await vm.cli('enable');
    t.match(await vm.cli('show crypto engine configuration | include data path|Reason'), /IPsec data path:\s+xfrm/, 'the kernel XFRM backend is chosen by itself');
    t.match(await vm.cli('show ip interface brief'), /GigabitEthernet0\/0[\s\S]*GigabitEthernet0\/1/, 'the two NICs are GigabitEthernet0/0 and 0/1');
    await vm.cli('configure terminal');
    await vm.cli('hostname Branch');
    await vm.cli('interface GigabitEthernet0/1');
    await vm.cli('ip address 192.0.2.1 255.255.255.0');
    await vm.cli('end');
    t.match(await vm.cli('write memory'), /\[OK\]/);
  });

  // The in-guest shell (ttyS1) answered in a manual run but not inside this test yet: opt-in.
  const shellChecks = LONG ? {} : { skip: 'set RAMPART_QEMU_LONG=1: the guest debug shell on ttyS1 answers short probe lines but loses longer commands here' };
  await t.test('a daemon killed with SIGKILL is restarted by init', shellChecks, async (t) => {
    const pid = (await vm.shell('cat /run/rampart/daemon.pid')).trim();
    t.match(pid, /^\d+$/);
    vm.console.mark();
    await vm.shell(`kill -9 ${pid}`);
    await vm.console.expect(/rampart daemon exited \(137\); restarting in 1 s/, 20000);
    await vm.console.expect(/Branch>$/, 90000);
    t.pass('the console came back to the restarted daemon, which loaded startup-config');
    await vm.cli('enable');
    t.match(await vm.cli('show running-config | include ip address'), /ip address 192\.0\.2\.1 255\.255\.255\.0/);
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

  const long = LONG ? {} : { skip: 'set RAMPART_QEMU_LONG=1 for the power-cut, watchdog and corrupt-flash boots (2 more boots)' };
  await t.test('power pulled during write memory: old or new startup-config, never torn', long, async (t) => {
    await vm.cli('configure terminal');
    await vm.cli('hostname Torn');
    await vm.cli('end');
    vm.console.type('write memory\r');
    await new Promise((r) => setTimeout(r, 150));
    await vm.powerOff();
    const text = await boot('after the power cut');
    t.match(text, /\n(Branch|Torn)>$/, 'one of the two configurations');
    t.notMatch(text, /No startup-config found|% Invalid|line \d+:/, 'no missing or torn startup-config');
    await vm.cli('enable');
    t.match(await vm.cli('show running-config | include ip address'), /ip address 192\.0\.2\.1 255\.255\.255\.0/);
  });

  await t.test('a hung daemon stops the watchdog feeding: the box reboots; corrupt flash boots with defaults', long, async (t) => {
    const pid = (await vm.shell('cat /run/rampart/daemon.pid')).trim();
    vm.console.mark();
    await vm.shell(`kill -STOP ${pid}`);
    // While the box hangs, the flash goes bad (its superblock and group descriptors zeroed).
    const fd = openSync(flash, 'r+');
    writeSync(fd, Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
    closeSync(fd);
    const text = await vm.console.expect(/Rampart appliance software[\s\S]*Press RETURN to get started![\s\S]*\nRouter>$/, BOOT_MS + 120000);
    t.pass('the watchdog rebooted the hung box');
    t.match(text, /%FLASH-3-CORRUPT: flash \(\/dev\/vda\) cannot be mounted/, 'says the flash is bad');
    t.match(text, /booted with the default configuration/);
  });
});
