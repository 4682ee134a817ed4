// The vm board's factory disk, built on a host from Debian packages (grub-pc-bin for GRUB,
// e2fsprogs): an MBR with GRUB's boot sector, GRUB's core image in the gap before the first
// partition, then the partitions of board/vm.ts VM_DISK: boot (ext2: grub.cfg and the
// environment block), slot A (the signed image as it is), slot B (empty), flash (ext4).
// No loop devices or root needed: mke2fs writes the file systems at their offsets.
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { grubCfg, DEFAULT_TRIAL_SEC } from './boot-selection.js';
import { encodeGrubEnv } from './grub-env.js';
import { readHeaderUnchecked } from './image-format.js';
import { slotBootVars } from './slot-store.js';

export const GRUB_DIR = '/usr/lib/grub/i386-pc';
const MiB = 1024 * 1024;
/** Built into GRUB's core image, so nothing is loaded from the boot partition but its config. */
const GRUB_MODULES = ['biosdisk', 'part_msdos', 'ext2', 'normal', 'configfile', 'loadenv', 'test', 'echo', 'linux', 'boot', 'serial', 'terminal', 'sleep'];

export function factoryDiskMissing(): string | undefined {
  if (!existsSync(join(GRUB_DIR, 'boot.img'))) return `${GRUB_DIR}/boot.img missing: apt-get install grub-pc-bin`;
  if (spawnSync('grub-mkimage', ['--version']).status !== 0) return 'grub-mkimage missing: apt-get install grub-common';
  if (spawnSync('mke2fs', ['-V']).status !== 0) return 'mke2fs missing: apt-get install e2fsprogs';
  return undefined;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error?.message}`);
}

/** A primary MBR partition entry (LBA only; CHS fields set to the "beyond 8 GB" marker). */
function partitionEntry(bootable: boolean, type: number, startMiB: number, sizeMiB: number): Buffer {
  const e = Buffer.alloc(16);
  e[0] = bootable ? 0x80 : 0;
  e.set([0xfe, 0xff, 0xff], 1);
  e[4] = type;
  e.set([0xfe, 0xff, 0xff], 5);
  e.writeUInt32LE((startMiB * MiB) / 512, 8);
  e.writeUInt32LE((sizeMiB * MiB) / 512, 12);
  return e;
}

/** Partitions of a board's disk (the board owns them: board/vm.ts VM_DISK). */
export interface DiskPartition { number: number; startMiB: number; sizeMiB: number }
export interface DiskLayout { device: string; boot: DiskPartition; slotA: DiskPartition; slotB: DiskPartition; flash: DiskPartition }

export interface FactoryDiskOptions {
  /** the board's partitions */
  layout: DiskLayout;
  /** the signed image for slot A */
  image: string;
  out: string;
  /** seconds a trial boot has to become healthy (GRUB passes it on) */
  trialSec?: number;
  /** files put on flash: (name -> host path), e.g. images to install (tests) */
  flashFiles?: Record<string, string>;
  progress?: (done: number, total: number) => void;
}

export function buildFactoryDisk(o: FactoryDiskOptions): { bytes: number } {
  const why = factoryDiskMissing();
  if (why) throw new Error(why);
  const head = Buffer.alloc(1 << 20);
  const ifd = openSync(o.image, 'r');
  let imageBytes: number;
  try {
    readSync(ifd, head, 0, head.length, 0);
    const image = readHeaderUnchecked(head);
    imageBytes = image.headerBytes + image.manifest.payloads.reduce((e, p) => Math.max(e, p.offset + p.size), 0);
    if (imageBytes > o.layout.slotA.sizeMiB * MiB) throw new Error(`image (${imageBytes} bytes) is larger than a slot (${o.layout.slotA.sizeMiB} MiB)`);

    const work = mkdtempSync(join(tmpdir(), 'rampart-disk-'));
    try {
      const end = o.layout.flash.startMiB + o.layout.flash.sizeMiB;
      const fd = openSync(o.out, 'w');
      try {
        ftruncateSync(fd, end * MiB); // sparse: slot B and free space cost nothing
        // GRUB's core image, its prefix pointing at the boot partition.
        const core = join(work, 'core.img');
        run('grub-mkimage', ['-O', 'i386-pc', '-d', GRUB_DIR, '-o', core, '-p', `(hd0,msdos${o.layout.boot.number})/grub`, ...GRUB_MODULES]);
        const coreImg = readFileSync(core);
        if (coreImg.length > (o.layout.boot.startMiB * MiB) - 512) throw new Error('GRUB core image does not fit before the first partition');
        // MBR: GRUB's boot code (first 440 bytes: it loads the core from sector 1), partition table, signature.
        const mbr = Buffer.alloc(512);
        readFileSync(join(GRUB_DIR, 'boot.img')).copy(mbr, 0, 0, 440);
        [
          partitionEntry(true, 0x83, o.layout.boot.startMiB, o.layout.boot.sizeMiB),
          partitionEntry(false, 0xda, o.layout.slotA.startMiB, o.layout.slotA.sizeMiB),
          partitionEntry(false, 0xda, o.layout.slotB.startMiB, o.layout.slotB.sizeMiB),
          partitionEntry(false, 0x83, o.layout.flash.startMiB, o.layout.flash.sizeMiB),
        ].forEach((e, i) => e.copy(mbr, 446 + 16 * i));
        mbr[510] = 0x55; mbr[511] = 0xaa;
        writeSync(fd, mbr, 0, 512, 0);
        writeSync(fd, coreImg, 0, coreImg.length, 512);
        // Slot A: the image byte for byte (GRUB loads kernel and root from it by sectors).
        const buf = Buffer.allocUnsafe(1 << 20);
        for (let at = 0; at < imageBytes;) {
          const n = readSync(ifd, buf, 0, Math.min(buf.length, imageBytes - at), at);
          if (n === 0) throw new Error('image ended early');
          writeSync(fd, buf, 0, n, o.layout.slotA.startMiB * MiB + at);
          at += n;
          o.progress?.(at, imageBytes);
        }
      } finally {
        closeSync(fd);
      }
      // Boot partition: grub.cfg and the environment block (slot A good, B empty).
      const boot = join(work, 'boot');
      mkdirSync(join(boot, 'grub'), { recursive: true });
      const part = (n: number) => `(hd0,msdos${n})`;
      writeFileSync(join(boot, 'grub', 'grub.cfg'), `serial --unit=0 --speed=115200\nterminal_input serial\nterminal_output serial\n${grubCfg({ A: part(o.layout.slotA.number), B: part(o.layout.slotB.number) })}`);
      const image = readHeaderUnchecked(head);
      writeFileSync(join(boot, 'grub', 'grubenv'), encodeGrubEnv({
        ORDER: 'A B', A_GOOD: '1', A_TRIES: '0', B_GOOD: '0', B_TRIES: '0',
        TRIAL_SEC: String(o.trialSec ?? DEFAULT_TRIAL_SEC), ...slotBootVars('A', image),
      }));
      run('mke2fs', ['-q', '-F', '-t', 'ext2', '-L', 'boot', '-d', boot, '-E', `offset=${o.layout.boot.startMiB * MiB}`, o.out, `${o.layout.boot.sizeMiB * 1024}k`]);
      const flash = join(work, 'flash');
      mkdirSync(join(flash, 'flash'), { recursive: true });
      mkdirSync(join(flash, 'nvram'));
      for (const [name, path] of Object.entries(o.flashFiles ?? {})) copyFileSync(path, join(flash, 'flash', name));
      run('mke2fs', ['-q', '-F', '-t', 'ext4', '-L', 'flash', '-d', flash, '-E', `offset=${o.layout.flash.startMiB * MiB}`, o.out, `${o.layout.flash.sizeMiB * 1024}k`]);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  } finally {
    closeSync(ifd);
  }
  return { bytes: (o.layout.flash.startMiB + o.layout.flash.sizeMiB) * MiB };
}
