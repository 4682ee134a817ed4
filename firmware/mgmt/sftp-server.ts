// The SFTP subsystem (what `scp` uses by default since OpenSSH 9, and `sftp`): flash is
// one flat folder, `/` or `/flash:`; privilege 15 only. An upload is kept in memory and
// written to flash atomically when the client closes the file, so a cut connection leaves
// the old file (or none), never a torn one.
import ssh2 from 'ssh2';
import type { Attributes, FileEntry, SFTPWrapper } from 'ssh2';
import type { FlashFiles } from '../cli/mgmt-view.js';
import { validFlashName } from './flash-files.js';

const { STATUS_CODE, OPEN_MODE } = ssh2.utils.sftp;
/** Largest upload accepted (bytes): an image fits, memory is bounded. */
export const MAX_SFTP_FILE = 512 * 1024 * 1024;

type Handle =
  | { kind: 'file'; name: string; data: Buffer; length: number; write: boolean; dirty: boolean }
  | { kind: 'dir'; done: boolean };

/** `/flash:/a.bin`, `flash:a.bin`, `/a.bin`, `a.bin` -> `a.bin`; `/` or `.` -> '' (the folder). */
function nameOf(path: string): string | undefined {
  const p = path.replace(/^\/+/, '').replace(/^flash:\/?/i, '').replace(/^\.\/?/, '').replace(/\/+$/, '');
  if (p === '') return '';
  return validFlashName(p) ? p : undefined;
}

function fileAttrs(size: number, mtimeMs: number): Attributes {
  const t = Math.floor(mtimeMs / 1000);
  return { mode: 0o100644, uid: 0, gid: 0, size, atime: t, mtime: t };
}

const DIR_ATTRS: Attributes = { mode: 0o40755, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0 };

export function serveSftp(sftp: SFTPWrapper, flash: FlashFiles, log: (text: string) => void): void {
  const handles = new Map<number, Handle>();
  let next = 1;
  const newHandle = (h: Handle): Buffer => {
    const id = next++;
    handles.set(id, h);
    const b = Buffer.alloc(4);
    b.writeUInt32BE(id);
    return b;
  };
  const get = (b: Buffer): Handle | undefined => (b.length === 4 ? handles.get(b.readUInt32BE(0)) : undefined);

  sftp.on('REALPATH', (id, path) => {
    const n = nameOf(path);
    if (n === undefined) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
    sftp.name(id, [{ filename: n === '' ? '/' : `/${n}`, longname: n, attrs: DIR_ATTRS }]);
  });
  const stat = (id: number, path: string) => {
    const n = nameOf(path);
    if (n === '') return sftp.attrs(id, DIR_ATTRS);
    const f = n !== undefined ? flash.stat(n) : undefined;
    if (!f) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
    sftp.attrs(id, fileAttrs(f.size, f.mtimeMs));
  };
  sftp.on('STAT', stat);
  sftp.on('LSTAT', stat);
  sftp.on('OPEN', (id, path, flags) => {
    const n = nameOf(path);
    if (!n) return sftp.status(id, STATUS_CODE.PERMISSION_DENIED, 'flash: holds plain file names only');
    const write = (flags & OPEN_MODE.WRITE) !== 0;
    const existing = flash.read(n);
    if (!write && !existing) return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
    const truncate = (flags & OPEN_MODE.TRUNC) !== 0 || !existing;
    const data = truncate ? Buffer.alloc(0) : existing!;
    sftp.handle(id, newHandle({ kind: 'file', name: n, data, length: data.length, write, dirty: write && truncate }));
  });
  sftp.on('WRITE', (id, hb, offset, chunk) => {
    const h = get(hb);
    if (h?.kind !== 'file' || !h.write) return sftp.status(id, STATUS_CODE.FAILURE);
    const end = offset + chunk.length;
    if (end > MAX_SFTP_FILE) return sftp.status(id, STATUS_CODE.FAILURE, 'file too large for flash');
    if (end > h.data.length) {
      const grown = Buffer.alloc(Math.max(end, Math.min(MAX_SFTP_FILE, h.data.length * 2)));
      h.data.copy(grown, 0, 0, h.length);
      h.data = grown;
    }
    chunk.copy(h.data, offset);
    h.length = Math.max(h.length, end);
    h.dirty = true;
    sftp.status(id, STATUS_CODE.OK);
  });
  sftp.on('READ', (id, hb, offset, len) => {
    const h = get(hb);
    if (h?.kind !== 'file') return sftp.status(id, STATUS_CODE.FAILURE);
    if (offset >= h.length) return sftp.status(id, STATUS_CODE.EOF);
    sftp.data(id, h.data.subarray(offset, Math.min(h.length, offset + len)));
  });
  sftp.on('FSTAT', (id, hb) => {
    const h = get(hb);
    if (h?.kind !== 'file') return sftp.status(id, STATUS_CODE.FAILURE);
    sftp.attrs(id, fileAttrs(h.length, Date.now()));
  });
  sftp.on('FSETSTAT', (id) => sftp.status(id, STATUS_CODE.OK));
  sftp.on('SETSTAT', (id) => sftp.status(id, STATUS_CODE.OK));
  sftp.on('CLOSE', (id, hb) => {
    const h = get(hb);
    if (!h) return sftp.status(id, STATUS_CODE.FAILURE);
    handles.delete(hb.readUInt32BE(0));
    if (h.kind === 'file' && h.dirty) {
      try {
        flash.write(h.name, h.data.subarray(0, h.length));
        log(`sftp: wrote flash:${h.name} (${h.length} bytes)`);
      } catch (err) {
        return sftp.status(id, STATUS_CODE.FAILURE, (err as Error).message);
      }
    }
    sftp.status(id, STATUS_CODE.OK);
  });
  sftp.on('OPENDIR', (id, path) => {
    if (nameOf(path) !== '') return sftp.status(id, STATUS_CODE.NO_SUCH_FILE);
    sftp.handle(id, newHandle({ kind: 'dir', done: false }));
  });
  sftp.on('READDIR', (id, hb) => {
    const h = get(hb);
    if (h?.kind !== 'dir') return sftp.status(id, STATUS_CODE.FAILURE);
    if (h.done) return sftp.status(id, STATUS_CODE.EOF);
    h.done = true;
    const entries: FileEntry[] = flash.list().map((f) => ({ filename: f.name, longname: `-rw-r--r-- 1 0 0 ${f.size} ${f.name}`, attrs: fileAttrs(f.size, f.mtimeMs) }));
    if (entries.length === 0) return sftp.status(id, STATUS_CODE.EOF);
    sftp.name(id, entries);
  });
  sftp.on('REMOVE', (id, path) => {
    const n = nameOf(path);
    sftp.status(id, n && flash.remove(n) ? STATUS_CODE.OK : STATUS_CODE.NO_SUCH_FILE);
  });
  sftp.on('RENAME', (id, from, to) => {
    const a = nameOf(from), b = nameOf(to);
    const data = a ? flash.read(a) : undefined;
    if (!data || !b) return sftp.status(id, STATUS_CODE.FAILURE);
    flash.write(b, data);
    flash.remove(a!);
    sftp.status(id, STATUS_CODE.OK);
  });
  // The client's end of the channel ends the session, with exit status 0: scp and sftp wait
  // for both. ssh2's SFTP object has no exit(); the status goes through its protocol object.
  sftp.on('end', () => {
    const raw = sftp as unknown as { _protocol?: { exitStatus(id: number, code: number): void }; outgoing?: { id: number; state: string } };
    if (raw._protocol && raw.outgoing?.state === 'open') raw._protocol.exitStatus(raw.outgoing.id, 0);
    sftp.end();
  });
  for (const ev of ['MKDIR', 'RMDIR', 'READLINK', 'SYMLINK']) {
    sftp.on(ev, (id: number) => sftp.status(id, STATUS_CODE.OP_UNSUPPORTED));
  }
}
