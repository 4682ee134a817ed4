// GRUB's environment block (`grubenv`): 1024 bytes, a fixed first line, `name=value` lines,
// the rest filled with '#'. GRUB's `load_env`/`save_env` read and rewrite it in place (it
// writes the file's sectors directly), so this side also rewrites it in place: same size,
// same blocks, one write of the whole block followed by fsync.
import { closeSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';

export const GRUBENV_BYTES = 1024;
const SIGNATURE = '# GRUB Environment Block\n';

export type GrubEnv = Record<string, string>;

export function encodeGrubEnv(env: GrubEnv): Buffer {
  let text = SIGNATURE;
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`grubenv: bad variable name "${k}"`);
    text += `${k}=${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\\n')}\n`;
  }
  if (Buffer.byteLength(text) > GRUBENV_BYTES) throw new Error('grubenv: variables do not fit in 1024 bytes');
  return Buffer.from(text.padEnd(GRUBENV_BYTES, '#'), 'utf8');
}

export function decodeGrubEnv(block: Buffer): GrubEnv {
  const text = block.toString('utf8');
  if (!text.startsWith(SIGNATURE)) throw new Error('grubenv: not a GRUB environment block');
  const env: GrubEnv = {};
  const body = text.slice(SIGNATURE.length);
  let at = 0;
  while (at < body.length && body[at] !== '#') {
    let line = '';
    for (; at < body.length && body[at] !== '\n'; at++) {
      if (body[at] === '\\' && at + 1 < body.length) at++;
      line += body[at];
    }
    at++;
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

export function readGrubEnv(path: string): GrubEnv {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(GRUBENV_BYTES);
    readSync(fd, b, 0, GRUBENV_BYTES, 0);
    return decodeGrubEnv(b);
  } finally {
    closeSync(fd);
  }
}

/** Rewrites the block in place (the file must exist: GRUB knows its sectors). */
export function writeGrubEnv(path: string, env: GrubEnv): void {
  const b = encodeGrubEnv(env);
  const fd = openSync(path, 'r+');
  try {
    for (let o = 0; o < b.length;) o += writeSync(fd, b, o, b.length - o, o);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
