// The `vm` board: the appliance image booted on an x86-64 virtual machine (QEMU). Its
// ports are the VM's network cards in PCI order, named as IOS names a router's gigabit
// ports; the console is the first serial port; flash is the virtio disk init mounts on
// /flash; the watchdog is QEMU's i6300esb, fed by init while the daemon is healthy.
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { kernelBackendFromEnv, type BoardProfile } from './profile.js';

export interface VmBoardOptions {
  stateDir?: string;
  /** Root of sysfs (tests point it at a fake tree). */
  sysfs?: string;
  /** Where problems found while reading the hardware go (default stderr: the boot console). */
  report?: (line: string) => void;
  /** The kernel command line (default /proc/cmdline): GRUB names the booted slot there. */
  cmdline?: string;
}

/**
 * The factory disk (scripts/firmware.mjs, firmware/mgmt/update/factory-disk.ts): an MBR
 * with GRUB in the gap before the first partition, then these partitions of /dev/vda.
 */
export const VM_DISK = {
  device: '/dev/vda',
  /** ext2: grub/ (grub.cfg, grubenv, GRUB's modules), mounted read-only on /boot */
  boot: { number: 1, startMiB: 1, sizeMiB: 8 },
  slotA: { number: 2, startMiB: 9, sizeMiB: 96 },
  slotB: { number: 3, startMiB: 105, sizeMiB: 96 },
  /** ext4: startup-config, keys, logs, flash: files (never touched by an update) */
  flash: { number: 4, startMiB: 201, sizeMiB: 256 },
} as const;

/** A/B slots when GRUB booted the box from the factory disk (it names the slot); else none. */
export function vmBootSlots(cmdline: string): BoardProfile['bootSlots'] {
  const slot = /(?:^|\s)rampart\.slot=([AB])(?:\s|$)/.exec(cmdline)?.[1] as 'A' | 'B' | undefined;
  if (!slot) return undefined;
  return {
    devices: { A: `${VM_DISK.device}${VM_DISK.slotA.number}`, B: `${VM_DISK.device}${VM_DISK.slotB.number}` },
    env: '/boot/grub/grubenv',
    envMount: '/boot',
    booted: slot,
    slotBytes: VM_DISK.slotA.sizeMiB * 1024 * 1024,
    trustedKeys: '/etc/rampart/trusted-keys',
  };
}

function readCmdline(): string {
  try { return readFileSync('/proc/cmdline', 'utf8'); } catch { return ''; }
}

export interface VmNic { ifname: string; pci: string }

const PCI_ADDRESS = /^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$/;

/** Network cards with a PCI device behind them, in PCI address order; the rest are reported. */
export function vmNics(sysfs: string, report: (line: string) => void): VmNic[] {
  const nics: VmNic[] = [];
  let names: string[];
  try {
    names = readdirSync(join(sysfs, 'class', 'net'));
  } catch {
    report('%BOARD-3-NIC: cannot list network interfaces (no sysfs): the box has no ports');
    return nics;
  }
  for (const ifname of names.sort()) {
    let device: string;
    try {
      device = realpathSync(join(sysfs, 'class', 'net', ifname, 'device'));
    } catch {
      continue; // virtual interface (lo, tunnels): not a port
    }
    // virtio NICs sit one level below their PCI function (.../0000:00:03.0/virtio0).
    const pci = device.split('/').reverse().find((c) => PCI_ADDRESS.test(c));
    if (pci) nics.push({ ifname, pci });
    else report(`%BOARD-4-NIC: network interface ${ifname} is not a PCI card (${device}): not used as a port`);
  }
  return nics.sort((a, b) => (a.pci < b.pci ? -1 : a.pci > b.pci ? 1 : 0));
}

export function vmBoard(opts: VmBoardOptions = {}): BoardProfile {
  const report = opts.report ?? ((line: string) => { process.stderr.write(`${line}\n`); });
  const nics = vmNics(opts.sysfs ?? '/sys', report);
  const portMap: Record<string, string> = {};
  nics.forEach((n, i) => { portMap[`GigabitEthernet0/${i}`] = n.ifname; });
  return {
    name: 'vm',
    model: 'Rampart VM',
    description: `x86-64 virtual machine, ${nics.length} network card${nics.length === 1 ? '' : 's'}`,
    ports: Object.keys(portMap),
    portMap,
    consoleDevice: '/dev/ttyS0',
    stateDir: opts.stateDir ?? '/flash',
    engines: ['software'],
    kernelBackend: kernelBackendFromEnv(),
    ownsKernelIpsec: true,
    bootSlots: vmBootSlots(opts.cmdline ?? readCmdline()),
  };
}
