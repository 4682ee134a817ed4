// `npm run qemu`: boots the appliance image (dist/firmware, built by `npm run firmware` if
// missing) under QEMU with its serial console on this terminal. Ctrl-A X quits QEMU.
//   npm run qemu -- [--flash FILE] [--nics N] [--mem MB] [--no-flash]
// Flash is an ext4 disk image (dist/firmware/flash.img, made on first use) that survives
// reboots and rebuilds. Tests use qemuArgs() with the console on a unix socket instead.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { KERNEL_CMDLINE } from './firmware.mjs';
import { ensureDebian, ensureNpm, root } from './ensure.mjs';

export const QEMU = 'qemu-system-x86_64';

/** Why QEMU cannot boot the image here, or undefined when it can. */
export function qemuMissing() {
  const r = spawnSync(QEMU, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? undefined : `${QEMU} is not installed (apt-get install qemu-system-x86)`;
}

/** A blank flash: an ext4 file system labelled flash, as the factory would ship it. */
export function makeFlash(path, sizeMb = 64) {
  const r = spawnSync('mkfs.ext4', ['-q', '-F', '-L', 'flash', path, `${sizeMb}M`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mkfs.ext4 ${path}: ${r.stderr}`);
}

/**
 * QEMU's command line for one appliance. Software emulation (no KVM here); `-cpu max` for
 * AES-NI; the machine reboots on a guest reboot and on the i6300esb watchdog.
 *   console: 'stdio' (a person at the terminal) or { socket: PATH } (a program)
 *   nics: [{ socket: {listen|connect: 'host:port'} } | { user: true, hostfwd?: 'tcp:127.0.0.1:P-:22' }] in PCI order
 *   agentSocket: PATH of a unix socket for the virtio-serial port `rampart.agent` (the test
 *     command agent, rootfs/etc/init.d/agent; the guest needs `rampart.agent` in append)
 *   initrd: the root archive (default the image's; tests append a second cpio to it)
 *   disk: a factory disk (GRUB, A/B slots, flash; docs/firmware-update.md) booted by the
 *     BIOS instead of -kernel: the kernel command line is then GRUB's (append is ignored)
 *   noReboot: QEMU exits when the guest reboots (or the watchdog resets it) instead of
 *     resetting the machine; the caller powers it on again
 */
export function qemuArgs({ image = join(root, 'dist', 'firmware'), flash, console = 'stdio', nics = [{ user: true }], memMb = 768, append = '', agentSocket, initrd = join(image, 'rootfs.cpio.zst'), disk, noReboot = false }) {
  const boot = disk
    ? ['-drive', `file=${disk},if=virtio,format=raw,cache=writeback`]
    : ['-kernel', join(image, 'vmlinuz'), '-initrd', initrd, '-append', `${KERNEL_CMDLINE}${append ? ` ${append}` : ''}`];
  const args = ['-cpu', 'max', '-m', String(memMb), '-nodefaults', '-no-user-config', '-display', 'none', ...boot,
    '-device', 'i6300esb', '-action', 'watchdog=reset', '-device', 'virtio-rng-pci', ...(noReboot ? ['-no-reboot'] : [])];
  if (console === 'stdio') args.push('-chardev', 'stdio,id=con0,mux=on,signal=off', '-serial', 'chardev:con0', '-mon', 'chardev=con0');
  // wait=on: the guest starts only once the program is connected, so it sees the whole
  // console from the first BIOS line (GRUB's slot choice is printed within a second).
  else args.push('-chardev', `socket,id=con0,path=${console.socket},server=on,wait=on`, '-serial', 'chardev:con0');
  // The test agent's port: virtio-serial is flow controlled end to end, a serial line is not.
  if (agentSocket) {
    args.push('-device', 'virtio-serial-pci,id=vser0', '-chardev', `socket,id=agent0,path=${agentSocket},server=on,wait=off`,
      '-device', 'virtserialport,bus=vser0.0,chardev=agent0,name=rampart.agent');
  }
  // Debugging aids: RAMPART_QEMU_MONITOR=PREFIX gives each VM a monitor socket
  // (PREFIX.PID.MS; `info pic`, `info irq`, `info registers`), RAMPART_QEMU_TRACE=PREFIX
  // logs every UART register access (QEMU's serial_* trace events) to PREFIX.PID.MS.
  if (process.env.RAMPART_QEMU_MONITOR) args.push('-monitor', `unix:${process.env.RAMPART_QEMU_MONITOR}.${process.pid}.${Date.now()},server=on,wait=off`);
  if (process.env.RAMPART_QEMU_TRACE) args.push('-trace', `enable=serial_*,file=${process.env.RAMPART_QEMU_TRACE}.${process.pid}.${Date.now()}`);
  if (flash && !disk) args.push('-drive', `file=${flash},if=virtio,format=raw,cache=writeback`);
  nics.forEach((n, i) => {
    if (n.user) args.push('-netdev', `user,id=n${i},restrict=on${n.hostfwd ? `,hostfwd=${n.hostfwd}` : ''}`);
    else if (n.socket?.listen) args.push('-netdev', `socket,id=n${i},listen=${n.socket.listen}`);
    else if (n.socket?.connect) args.push('-netdev', `socket,id=n${i},connect=${n.socket.connect}`);
    else if (n.mcast) args.push('-netdev', `socket,id=n${i},mcast=${n.mcast}`);
    args.push('-device', `virtio-net-pci,netdev=n${i}${n.mac ? `,mac=${n.mac}` : ''}`);
  });
  return args;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureNpm();
  ensureDebian();
  const argv = process.argv.slice(2);
  const opt = (k, d) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : d);
  const missing = qemuMissing();
  if (missing) { console.error(`rampart: ${missing}`); process.exit(1); }
  const image = join(root, 'dist', 'firmware');
  if (!existsSync(join(image, 'rootfs.cpio.zst'))) {
    const { buildImage } = await import('./firmware.mjs');
    await buildImage({ outDir: image });
  }
  let flash;
  if (!argv.includes('--no-flash')) {
    flash = opt('--flash', join(image, 'flash.img'));
    if (!existsSync(flash)) makeFlash(flash);
  }
  const nics = Array.from({ length: Number(opt('--nics', 1)) }, () => ({ user: true }));
  console.error('rampart: booting the appliance under QEMU (software emulation, about 15-30 s); Ctrl-A X quits');
  const q = spawn(QEMU, qemuArgs({ image, flash, nics, memMb: Number(opt('--mem', 768)) }), { stdio: 'inherit' });
  q.on('exit', (code) => process.exit(code ?? 1));
}
