// Flash: files under the board's state folder. Writes are atomic: a temp file is written
// and fsynced, renamed over the old one, and the folder fsynced, so a power cut (SIGKILL)
// at any moment leaves either the old or the new file, never a partial one.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export class Flash {
  constructor(readonly dir: string) {
    mkdirSync(join(dir, 'nvram'), { recursive: true });
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  read(name: string): string | undefined {
    const p = this.path(name);
    if (!existsSync(p)) return undefined;
    return readFileSync(p, 'utf8');
  }

  writeAtomic(name: string, text: string): void {
    const target = this.path(name);
    const dir = dirname(target);
    mkdirSync(dir, { recursive: true });
    const tmp = `${target}.tmp-${process.pid}`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      const buf = Buffer.from(text);
      for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }

  remove(name: string): void {
    rmSync(this.path(name), { force: true });
  }
}

export const STARTUP_CONFIG = 'nvram/startup-config';

/** Written by `reload` just before the daemon stops: the next boot says "returned to ROM by reload". */
export const RELOAD_MARKER = 'nvram/reload-reason';
