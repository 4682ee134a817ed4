// The A/B slots of a box and its bootloader's environment: what `upgrade`, `show boot` and
// the boot-time health check act on. The running slot is never written. An install
// verifies the file first (nothing is written for a refused image), makes the other slot
// unbootable, streams the image into it while checking it again, reads it back and checks
// it a third time, and only then points the bootloader at it for MAX_TRIES trial boots.
// A power cut at any moment therefore leaves the environment naming a complete slot.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ImageError, type Manifest } from './image-format.js';
import { ImageVerifier, READ_CHUNK, verifyImageFile, type VerifiedImage, type VerifyPolicy } from './image-verify.js';
import { encodeGrubEnv, readGrubEnv, writeGrubEnv, type GrubEnv } from './grub-env.js';
import { MAX_TRIES, orderOf, otherSlot, selectBootSlot, SLOTS, type SlotName } from './boot-selection.js';
import type { TrustedKey } from './trusted-keys.js';

export interface SlotLayout {
  /** the device (or file, on the sim board) of each slot */
  devices: Record<SlotName, string>;
  /** the GRUB environment block file */
  env: string;
  /** mount point holding `env`, kept read-only and remounted writable only to change it */
  envMount?: string;
  /** the slot the bootloader started (kernel command line); undefined: choose it here (sim) */
  booted?: SlotName;
  /** largest image a slot holds */
  slotBytes: number;
}

export interface SlotStatus {
  name: SlotName;
  /** running from this slot now */
  active: boolean;
  /** the slot the next boot starts (first in the order that is good or has tries) */
  next: boolean;
  good: boolean;
  triesLeft: number;
  /**
   * what the slot holds; incomplete: an install into it started (the environment names no
   * version for it) but never finished (power cut, write error): whatever header survived,
   * the slot is not bootable and names no firmware
   */
  content: 'empty' | 'image' | 'invalid' | 'incomplete';
  /** the version the boot environment names for the slot (set at install) */
  envVersion?: string;
  version?: string;
  buildId?: string;
  created?: string;
}

export type InstallPhase = 'verify' | 'write' | 'read-back';

export interface SlotStoreOptions {
  keys: readonly TrustedKey[];
  board: string;
  runningVersion: string;
  /** system messages: severity, mnemonic, text */
  log: (severity: number, mnemonic: string, text: string) => void;
}

const SECTOR = 512;
/**
 * The write of a slot is flushed to the medium every this many bytes, not only at its end:
 * the progress shown is then what the medium holds (within this much), the dirty memory an
 * install holds stays bounded, and a power cut finds the slot written up to some point
 * rather than all at once in the final flush (test/updates/qemu-update.test.ts cuts at 10
 * points by the bytes that reached slot B).
 */
export const FLUSH_EVERY = 8 * 1024 * 1024;
/** X_VERSION while an install writes slot X: set first, replaced only when the install completes. */
const INSTALLING = 'none';

/** What the bootloader needs to start the image in a slot: blocklists, command line, version. */
export function slotBootVars(slot: SlotName, image: { headerBytes: number; manifest: Manifest }): GrubEnv {
  const m = image.manifest;
  const sectors = (name: string) => {
    const p = m.payloads.find((x) => x.name === name)!;
    return `${(image.headerBytes + p.offset) / SECTOR}+${Math.ceil(p.size / SECTOR)}`;
  };
  return { [`${slot}_KERNEL`]: sectors('kernel'), [`${slot}_INITRD`]: sectors('rootfs'), [`${slot}_CMDLINE`]: m.cmdline, [`${slot}_VERSION`]: m.version };
}

export class SlotStore {
  booted: SlotName = 'A';
  trial = false;
  /** set at boot when the bootloader fell back from a slot whose tries ran out */
  rolledBackFrom: SlotName | undefined;
  /** The ROLLBACK message of this boot, for the console's first lines (the log has it too). */
  rollbackNotice: string | undefined;
  private busy = false;

  constructor(readonly layout: SlotLayout, private readonly opts: SlotStoreOptions) {}

  private policy(extra: Partial<VerifyPolicy> = {}): VerifyPolicy {
    return { keys: this.opts.keys, board: this.opts.board, running: this.opts.runningVersion, ...extra };
  }

  readEnv(): GrubEnv {
    try {
      return readGrubEnv(this.layout.env);
    } catch {
      return {};
    }
  }

  private writeEnv(env: GrubEnv): void {
    const mount = this.layout.envMount;
    if (mount) execFileSync('mount', ['-o', 'remount,rw', mount], { stdio: 'ignore' });
    try {
      if (!existsSync(this.layout.env)) {
        mkdirSync(dirname(this.layout.env), { recursive: true });
        writeFileSync(this.layout.env, encodeGrubEnv({}));
      }
      writeGrubEnv(this.layout.env, env);
    } finally {
      if (mount) execFileSync('mount', ['-o', 'remount,ro', mount], { stdio: 'ignore' });
    }
  }

  /**
   * At daemon start: which slot runs, counted down by the sim board's bootloader here (the
   * vm board's GRUB did it already), and whether the bootloader fell back from a slot
   * that never came up healthy (said on the console, in the log and in show version).
   */
  boot(): void {
    let env = this.readEnv();
    if (!existsSync(this.layout.env)) {
      // Factory state: the firmware running now is slot A's and it is good.
      env = { ORDER: 'A B', A_GOOD: '1', A_TRIES: '0', A_VERSION: this.opts.runningVersion, B_GOOD: '0', B_TRIES: '0' };
      this.writeEnv(env);
    }
    if (this.layout.booted === undefined) {
      const choice = selectBootSlot(env);
      env = choice.env;
      this.booted = choice.slot;
      this.trial = choice.trial;
      this.writeEnv(env);
    } else {
      this.booted = this.layout.booted;
      this.trial = env[`${this.booted}_GOOD`] !== '1';
    }
    const first = orderOf(env)[0]!;
    if (first !== this.booted && env[`${first}_GOOD`] !== '1') {
      this.rolledBackFrom = first;
      const version = env[`${first}_VERSION`] ?? 'unknown';
      const text = `Firmware in slot ${first} (version ${version}) did not come up healthy in ${MAX_TRIES} boots: rolled back to slot ${this.booted}`;
      this.rollbackNotice = `%UPGRADE-1-ROLLBACK: ${text}`;
      this.opts.log(1, 'ROLLBACK', text);
      // The failed slot stays listed (not good, no tries) but no longer comes first.
      this.writeEnv({ ...env, ORDER: `${this.booted} ${first}`, ROLLBACK: first });
    } else if (env.ROLLBACK && env.ROLLBACK !== this.booted && env[`${env.ROLLBACK}_GOOD`] !== '1') {
      this.rolledBackFrom = env.ROLLBACK as SlotName;
    }
  }

  /** The running firmware is healthy: a slot on trial becomes good. True when it changed. */
  markHealthy(): boolean {
    const env = this.readEnv();
    if (env[`${this.booted}_GOOD`] === '1' && !this.trial) return false;
    const { ROLLBACK: _r, ...rest } = env;
    this.writeEnv({ ...rest, [`${this.booted}_GOOD`]: '1', [`${this.booted}_TRIES`]: '0' });
    this.trial = false;
    this.opts.log(5, 'HEALTHY', `Firmware in slot ${this.booted} (version ${env[`${this.booted}_VERSION`] ?? this.opts.runningVersion}) is up and healthy: marked good`);
    return true;
  }

  /** Reads the header of a slot (signature checked, no payload hashing). */
  private slotManifest(slot: SlotName): { content: SlotStatus['content']; manifest?: Manifest } {
    let fd: number;
    try {
      fd = openSync(this.layout.devices[slot], 'r');
    } catch {
      return { content: 'empty' };
    }
    try {
      const v = new ImageVerifier(this.policy({ running: undefined }));
      const buf = Buffer.alloc(64 * 1024);
      let at = 0;
      while (!v.header) {
        const n = readSync(fd, buf, 0, buf.length, at);
        if (n === 0) break;
        if (at === 0 && buf.subarray(0, Math.min(n, 16)).every((b) => b === 0)) return { content: 'empty' };
        v.update(buf.subarray(0, n));
        at += n;
      }
      return v.header ? { content: 'image', manifest: v.header.manifest } : { content: at === 0 ? 'empty' : 'invalid' };
    } catch {
      return { content: 'invalid' };
    } finally {
      closeSync(fd);
    }
  }

  /**
   * What a slot holds as far as booting goes: a header that survived an install cut short
   * (the environment still says the slot is being written) names no firmware.
   */
  private slotContent(slot: SlotName, env: GrubEnv): { content: SlotStatus['content']; manifest?: Manifest } {
    const m = this.slotManifest(slot);
    if (env[`${slot}_VERSION`] === INSTALLING && env[`${slot}_GOOD`] !== '1' && m.content !== 'empty') return { content: 'incomplete' };
    return m;
  }

  status(): SlotStatus[] {
    const env = this.readEnv();
    const next = selectBootSlot(env).slot;
    return SLOTS.map((name) => {
      const m = this.slotContent(name, env);
      const good = env[`${name}_GOOD`] === '1';
      return {
        name, active: name === this.booted, next: name === next, good,
        triesLeft: good ? 0 : Number(env[`${name}_TRIES`] ?? 0),
        content: m.content,
        ...(env[`${name}_VERSION`] && env[`${name}_VERSION`] !== INSTALLING ? { envVersion: env[`${name}_VERSION`] } : {}),
        ...(m.manifest ? { version: m.manifest.version, buildId: m.manifest.buildId, created: m.manifest.created } : {}),
      };
    });
  }

  async verify(path: string, force = false, progress?: (done: number, total: number | undefined) => void): Promise<VerifiedImage> {
    return verifyImageFile(path, this.policy({ force }), progress);
  }

  /**
   * Installs an image file into the slot not running and makes it the next boot (on
   * trial). `progress` gets the phase and bytes. Throws ImageError; nothing is written
   * unless the file verified completely first.
   */
  async install(path: string, opts: { force?: boolean; progress?: (phase: InstallPhase, done: number, total: number) => void } = {}): Promise<{ slot: SlotName; image: VerifiedImage }> {
    if (this.busy) throw new ImageError('slot', 'an install is already running');
    this.busy = true;
    try {
      const progress = opts.progress ?? (() => {});
      const image = await this.verify(path, opts.force, (d, t) => progress('verify', d, t ?? 0));
      const slot = otherSlot(this.booted);
      if (image.totalBytes > this.layout.slotBytes) throw new ImageError('slot', `image (${image.totalBytes} bytes) is larger than a slot (${this.layout.slotBytes} bytes)`);
      if (image.downgrade) this.opts.log(4, 'DOWNGRADE', `Installing version ${image.manifest.version}, older than the running ${this.opts.runningVersion} (forced)`);

      // From here the other slot is being overwritten: the bootloader must not pick it.
      const env = this.readEnv();
      this.writeEnv({ ...env, ORDER: `${this.booted} ${slot}`, [`${slot}_GOOD`]: '0', [`${slot}_TRIES`]: '0', [`${slot}_VERSION`]: INSTALLING });
      const device = this.layout.devices[slot];
      try {
        await this.copyVerified(path, device, image.totalBytes, (d) => progress('write', d, image.totalBytes));
        await this.readBack(device, image.totalBytes, (d) => progress('read-back', d, image.totalBytes));
      } catch (e) {
        this.wipeHeader(device);
        throw e instanceof ImageError ? e : new ImageError('slot', `writing slot ${slot} failed: ${(e as Error).message}`);
      }

      const m = image.manifest;
      this.writeEnv({
        ...this.readEnv(), ...slotBootVars(slot, image),
        [`${slot}_GOOD`]: '0', [`${slot}_TRIES`]: String(MAX_TRIES),
        ORDER: `${slot} ${this.booted}`,
      });
      this.opts.log(5, 'INSTALLED', `Firmware version ${m.version} (build ${m.buildId}, key ${image.key.id}) written to slot ${slot}; it boots next, on trial for ${MAX_TRIES} boots`);
      return { slot, image };
    } finally {
      this.busy = false;
    }
  }

  /** Points the next boot at the other slot (it must hold a signed image). */
  rollback(): { slot: SlotName; version: string; trial: boolean } {
    const slot = otherSlot(this.booted);
    const env = this.readEnv();
    const m = this.slotContent(slot, env);
    const good = env[`${slot}_GOOD`] === '1';
    if (m.content === 'incomplete') throw new ImageError('slot', `slot ${slot} holds an incomplete image (an install into it did not finish): nothing to roll back to`);
    // A good slot without an image header is the sim board's factory slot (its build).
    if (!(m.content === 'image' || (m.content === 'empty' && good && this.layout.booted === undefined))) {
      throw new ImageError('slot', `slot ${slot} holds no valid image: nothing to roll back to`);
    }
    const version = m.manifest?.version ?? env[`${slot}_VERSION`] ?? 'unknown';
    this.writeEnv({ ...env, ORDER: `${slot} ${this.booted}`, ...(good ? {} : { [`${slot}_TRIES`]: String(MAX_TRIES) }) });
    this.opts.log(4, 'ROLLBACK_REQUEST', `Next boot from slot ${slot} (version ${version})${good ? '' : ', on trial'}, requested from the CLI`);
    return { slot, version, trial: !good };
  }

  /**
   * Reads `total` bytes of an image from `fd` through a verifier (one reused buffer),
   * handing each chunk to `sink`; yields to the event loop after every chunk so consoles
   * (the progress) and SSH sessions keep moving during a long write.
   */
  private async pump(fd: number, total: number, progress: (done: number) => void, sink?: (chunk: Buffer, at: number) => void): Promise<void> {
    const v = new ImageVerifier(this.policy({ force: true }));
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    let done = 0;
    while (done < total) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, total - done), done);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      v.update(chunk);
      sink?.(chunk, done);
      done += n;
      progress(done);
      await new Promise((r) => setImmediate(r));
    }
    v.finish();
  }

  /** Streams the file into the slot, checking the bytes again as they go (the file may change). */
  private async copyVerified(path: string, device: string, total: number, progress: (done: number) => void): Promise<void> {
    const src = openSync(path, 'r');
    if (!existsSync(device)) mkdirSync(dirname(device), { recursive: true }); // a slot file (sim board)
    const dst = openSync(device, existsSync(device) ? 'r+' : 'w');
    try {
      let flushed = 0;
      await this.pump(src, total, progress, (chunk, at) => {
        for (let o = 0; o < chunk.length;) o += writeSync(dst, chunk, o, chunk.length - o, at + o);
        if (at + chunk.length - flushed >= FLUSH_EVERY) {
          fdatasyncSync(dst);
          flushed = at + chunk.length;
        }
      });
      if (fstatSync(dst).isFile()) ftruncateSync(dst, total);
      fsyncSync(dst);
    } finally {
      closeSync(src);
      closeSync(dst);
    }
  }

  /** Reads the slot back and verifies what is there. */
  private async readBack(device: string, total: number, progress: (done: number) => void): Promise<void> {
    const fd = openSync(device, 'r');
    try {
      await this.pump(fd, total, progress);
    } catch (e) {
      throw new ImageError('slot', `read-back of the written slot failed: ${(e as Error).message}`);
    } finally {
      closeSync(fd);
    }
  }

  /** A slot whose write failed is left without a header (listed as empty, never booted). */
  private wipeHeader(device: string): void {
    try {
      const fd = openSync(device, 'r+');
      try {
        writeSync(fd, Buffer.alloc(4096), 0, 4096, 0);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch { /* the device is gone: nothing to wipe */ }
  }
}
