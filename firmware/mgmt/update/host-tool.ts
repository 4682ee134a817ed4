// `rampart image ...`: the firmware update tools for a host (docs/firmware-update.md).
//   rampart image build  --kernel K --rootfs R --version V --board vm --key KEY.pem [--key ...] [--cmdline TEXT] --out FILE
//   rampart image verify FILE --keys DIR [--board vm]
//   rampart image disk   --image FILE --out DISK [--trial-sec N]        the vm board's factory disk
//   rampart image write  DISK TARGET                                    a disk image onto a device or file, read back
//   rampart image push   FILE USER@HOST[:PORT] [--identity KEY] [--force]   upload over SFTP, then `upgrade` over SSH
// Progress goes to stderr as percent and bytes; passwords come from RAMPART_SSH_PASSWORD.
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { basename } from 'node:path';
import ssh2 from 'ssh2';
import { buildFactoryDisk, type DiskLayout } from './factory-disk.js';
import { buildSignedImage } from './image-build.js';
import { verifyImageFile } from './image-verify.js';
import { loadTrustedKeys } from './trusted-keys.js';

type Opts = Map<string, string[]>;

function progressLine(what: string, write = (line: string) => { process.stderr.write(line); }): (done: number, total: number) => void {
  let last = -1;
  return (done, total) => {
    const pct = total > 0 ? Math.floor((done * 10) / total) * 10 : 0;
    if (pct === last) return;
    last = pct;
    write(`\r${what}: ${String(pct).padStart(3)}% (${done}/${total} bytes)${done >= total ? '\n' : ''}`);
  };
}

function need(o: Opts, k: string): string {
  const v = o.get(k)?.[0];
  if (!v) throw new Error(`--${k} is required`);
  return v;
}

/** Copies a disk image onto a device or file with progress, then reads it back and compares SHA-256. */
export function writeDisk(src: string, target: string, progress: (done: number, total: number) => void): string {
  const total = statSync(src).size;
  const inFd = openSync(src, 'r');
  // A new file is written sparse (zero runs skipped); a device or existing file gets every byte.
  const fresh = !existsSync(target);
  const outFd = openSync(target, fresh ? 'w+' : 'r+');
  const buf = Buffer.allocUnsafe(1 << 20);
  const zero = Buffer.alloc(buf.length);
  const wrote = createHash('sha256');
  try {
    if (fresh) ftruncateSync(outFd, total);
    for (let at = 0; at < total;) {
      const n = readSync(inFd, buf, 0, Math.min(buf.length, total - at), at);
      wrote.update(buf.subarray(0, n));
      if (!(fresh && buf.compare(zero, 0, n, 0, n) === 0)) {
        for (let o = 0; o < n;) o += writeSync(outFd, buf, o, n - o, at + o);
      }
      at += n;
      progress(at, total);
    }
    fsyncSync(outFd);
    const back = createHash('sha256');
    for (let at = 0; at < total;) {
      const n = readSync(outFd, buf, 0, Math.min(buf.length, total - at), at);
      if (n === 0) throw new Error(`${target} is smaller than the disk image`);
      back.update(buf.subarray(0, n));
      at += n;
    }
    const a = wrote.digest('hex'), b = back.digest('hex');
    if (a !== b) throw new Error(`read-back of ${target} differs (sha256 ${b}, wrote ${a})`);
    return a;
  } finally {
    closeSync(inFd);
    closeSync(outFd);
  }
}

/**
 * Uploads the image over SFTP (into flash:) and runs `upgrade flash:NAME` over SSH, printing
 * its output (to `o.out`, default stdout; upload progress to `o.progress`, default stderr).
 */
export function pushUpdate(file: string, dest: string, o: {
  identity?: string; password?: string; force?: boolean; out?: (text: string) => void; progress?: (line: string) => void;
}): Promise<number> {
  const out = o.out ?? ((text: string) => { process.stdout.write(text); });
  const m = /^([^@]+)@([^:]+)(?::(\d+))?$/.exec(dest);
  if (!m) throw new Error(`push wants USER@HOST[:PORT], got "${dest}"`);
  const name = basename(file);
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('error', reject);
    client.on('ready', () => {
      client.sftp((err, sftp) => {
        if (err) return reject(err);
        const show = progressLine(`upload ${name}`, o.progress);
        sftp.fastPut(file, name, { step: (done, _chunk, total) => show(done, total) }, (e) => {
          if (e) return reject(e);
          client.exec(`upgrade flash:${name}${o.force ? ' force' : ''}`, (e2, ch) => {
            if (e2) return reject(e2);
            let said = '';
            ch.on('data', (d: Buffer) => { said += d.toString(); out(d.toString()); });
            ch.stderr.on('data', (d: Buffer) => { out(d.toString()); });
            ch.on('close', () => { client.end(); resolve(/\[OK\]/.test(said) ? 0 : 1); });
          });
        });
      });
    });
    client.connect({
      host: m[2]!, port: Number(m[3] ?? 22), username: m[1]!, hostVerifier: () => true, readyTimeout: 30_000,
      ...(o.identity ? { privateKey: readFileSync(o.identity) } : { password: o.password ?? process.env.RAMPART_SSH_PASSWORD ?? '' }),
    });
  });
}

/** `layout`: the disk of the board the factory image is for (main.ts passes the vm board's). */
export async function imageTool(sub: string | undefined, positional: string[], o: Opts, layout: DiskLayout): Promise<number> {
  switch (sub) {
    case 'build': {
      const r = buildSignedImage({
        kernel: need(o, 'kernel'), rootfs: need(o, 'rootfs'), version: need(o, 'version'), buildId: o.get('build-id')?.[0] ?? new Date().toISOString(),
        boards: o.get('board') ?? ['vm'], cmdline: o.get('cmdline')?.[0] ?? '', keys: o.get('key') ?? [], out: need(o, 'out'),
      });
      process.stdout.write(`${need(o, 'out')}: version ${r.manifest.version}, ${r.bytes} bytes, ${(o.get('key') ?? []).length} signature(s)\n`);
      return 0;
    }
    case 'verify': {
      const file = positional[0] ?? need(o, 'image');
      const v = await verifyImageFile(file, { keys: loadTrustedKeys(need(o, 'keys')), board: o.get('board')?.[0] ?? 'vm' });
      process.stdout.write(`${JSON.stringify({ ...v.manifest, signedBy: v.key }, null, 2)}\nSignature Verified\n`);
      return 0;
    }
    case 'disk': {
      const out = need(o, 'out');
      const trial = o.get('trial-sec')?.[0];
      buildFactoryDisk({ layout, image: need(o, 'image'), out, progress: progressLine('slot A'), ...(trial ? { trialSec: Number(trial) } : {}) });
      process.stdout.write(`${out}: factory disk (MBR + GRUB, boot, slot A, slot B empty, flash)\n`);
      return 0;
    }
    case 'write': {
      const [src, target] = positional;
      if (!src || !target) throw new Error('write wants DISK TARGET');
      const sha = writeDisk(src, target, progressLine(`write ${target}`));
      process.stdout.write(`${target}: written and read back, sha256 ${sha}\n`);
      return 0;
    }
    case 'push': {
      const [file, dest] = positional;
      if (!file || !dest) throw new Error('push wants FILE USER@HOST[:PORT]');
      return pushUpdate(file, dest, { identity: o.get('identity')?.[0], force: o.has('force') });
    }
    default:
      process.stderr.write('rampart image: build | verify | disk | write | push (see docs/firmware-update.md)\n');
      return 2;
  }
}
