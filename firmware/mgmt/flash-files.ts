// Files on flash (`flash:`): the folder `flash/` of the state directory. Names are flat and
// plain (no `/`, no `..`): a name from the CLI, SFTP or scp never leaves the folder.
// Writes are atomic (temp file, fsync, rename), like startup-config.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { FlashFile, FlashFiles } from '../cli/mgmt-view.js';

export function validFlashName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,127}$/.test(name) && !name.includes('..') && !name.includes('.tmp-');
}

export class FlashStore implements FlashFiles {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'flash');
    mkdirSync(this.dir, { recursive: true });
  }

  private path(name: string): string {
    if (!validFlashName(name)) throw new Error(`%Error opening flash:${name} (Invalid argument)`);
    return join(this.dir, name);
  }

  list(): FlashFile[] {
    return readdirSync(this.dir).filter(validFlashName).flatMap((name) => {
      const st = statSync(join(this.dir, name));
      return st.isFile() ? [{ name, size: st.size, mtimeMs: st.mtimeMs }] : [];
    }).sort((a, b) => a.name.localeCompare(b.name));
  }

  stat(name: string): FlashFile | undefined {
    try {
      const st = statSync(this.path(name));
      return st.isFile() ? { name, size: st.size, mtimeMs: st.mtimeMs } : undefined;
    } catch {
      return undefined;
    }
  }

  read(name: string): Buffer | undefined {
    return this.stat(name) ? readFileSync(this.path(name)) : undefined;
  }

  write(name: string, data: Uint8Array): void {
    const target = this.path(name);
    const tmp = `${target}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      for (let off = 0; off < data.length;) off += writeSync(fd, data, off, data.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  }

  remove(name: string): boolean {
    if (!this.stat(name)) return false;
    rmSync(this.path(name));
    return true;
  }

  rename(from: string, to: string): void {
    renameSync(this.path(from), this.path(to));
  }

  space(): { total: number; free: number } {
    const s = statfsSync(this.dir);
    return { total: s.blocks * s.bsize, free: s.bavail * s.bsize };
  }
}
