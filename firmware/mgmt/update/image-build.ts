// Builds a signed image from a kernel and a root file system (the image build, the host
// tool and tests use it). Payloads are streamed twice (hash, then copy) through one reused
// buffer; the signing keys are PEM files outside the repository.
import { createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { chmodSync, closeSync, openSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  alignUp, encodeHeader, encodeSignatureBlock, FORMAT_VERSION, layoutPayloads, PRODUCT, type Manifest, type Signature,
} from './image-format.js';
import { keyId } from './trusted-keys.js';

const CHUNK = 1 << 20;

export function sha256OfFile(path: string): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(CHUNK);
  const fd = openSync(path, 'r');
  try {
    for (let n; (n = readSync(fd, buf, 0, CHUNK, null)) > 0;) h.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

export interface ImageInput {
  kernel: string;
  rootfs: string;
  version: string;
  buildId: string;
  boards: string[];
  cmdline?: string;
  /** ISO date; default now (builds that must be reproducible pass the source date) */
  created?: string;
  /** private keys (PEM files or key objects); none gives an unsigned image (tests) */
  keys: (string | KeyObject)[];
  out: string;
}

export function signManifest(manifestBytes: Buffer, keys: (string | KeyObject)[]): Signature[] {
  return keys.map((k) => {
    const key = typeof k === 'string' ? createPrivateKey(readFileSync(k)) : k;
    return { key: keyId(key), ed25519: sign(null, manifestBytes, key).toString('hex') };
  });
}

/** Writes the image; returns its manifest and size. */
export function buildSignedImage(input: ImageInput): { manifest: Manifest; bytes: number } {
  const files = [{ name: 'kernel', path: input.kernel }, { name: 'rootfs', path: input.rootfs }];
  const manifest: Manifest = {
    format: FORMAT_VERSION,
    product: PRODUCT,
    boards: input.boards,
    version: input.version,
    buildId: input.buildId,
    created: input.created ?? new Date().toISOString(),
    cmdline: input.cmdline ?? '',
    payloads: layoutPayloads(files.map((f) => ({ name: f.name, size: statSync(f.path).size, sha256: sha256OfFile(f.path) }))),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest, null, 1), 'utf8');
  const header = encodeHeader(manifestBytes, encodeSignatureBlock({ signatures: signManifest(manifestBytes, input.keys) }));
  const fd = openSync(input.out, 'w', 0o644);
  let written = 0;
  const put = (b: Buffer) => { for (let o = 0; o < b.length;) o += writeSync(fd, b, o, b.length - o); written += b.length; };
  try {
    put(header);
    const buf = Buffer.allocUnsafe(CHUNK);
    manifest.payloads.forEach((p, i) => {
      const at = header.length + p.offset;
      if (written < at) put(Buffer.alloc(at - written));
      const src = openSync(files[i]!.path, 'r');
      try {
        for (let n; (n = readSync(src, buf, 0, CHUNK, null)) > 0;) put(buf.subarray(0, n));
      } finally {
        closeSync(src);
      }
    });
    const end = header.length + alignUp(written - header.length);
    if (written < end) put(Buffer.alloc(end - written));
  } finally {
    closeSync(fd);
  }
  return { manifest, bytes: written };
}

/** A fresh Ed25519 key pair as PEM files `NAME.key` (private, 0600) and `NAME.pub` in `dir`. */
export function generateSigningKey(dir: string, name: string): { privatePath: string; publicPath: string; id: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const privatePath = join(dir, `${name}.key`), publicPath = join(dir, `${name}.pub`);
  writeFileSync(privatePath, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
  chmodSync(privatePath, 0o600);
  writeFileSync(publicPath, publicKey.export({ format: 'pem', type: 'spki' }));
  return { privatePath, publicPath, id: keyId(publicKey) };
}
