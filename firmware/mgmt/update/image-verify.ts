// Streaming verification of a signed image: bytes are fed in any chunk sizes; only the
// header (at most MAX_HEADER_BYTES) and one SHA-256 state per payload are kept, so memory
// stays flat whatever the image size. The signature, product, board and version are
// checked as soon as the header is complete, before any payload byte is looked at.
import { createHash, verify, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import {
  checkManifest, encodeSignatureBlock, headerBytes, IMAGE_MAGIC, ImageError, MAX_HEADER_BYTES, payloadAreaBytes,
  PREAMBLE_BYTES, PRODUCT, type Manifest, type SignatureBlock,
} from './image-format.js';
import type { TrustedKey } from './trusted-keys.js';
import { compareVersions } from './version-order.js';

export interface VerifyPolicy {
  keys: readonly TrustedKey[];
  /** the board this box is */
  board: string;
  /** version running now: an older image is a downgrade */
  running?: string;
  /** allow a downgrade */
  force?: boolean;
}

export interface VerifiedImage {
  manifest: Manifest;
  /** bytes of the header (the payload area starts here) */
  headerBytes: number;
  totalBytes: number;
  /** the trusted key whose signature was accepted */
  key: { id: string; name: string };
  /** older than the running version (installed only with force) */
  downgrade: boolean;
}

const ZERO = Buffer.alloc(65536);

function allZero(b: Buffer): boolean {
  for (let at = 0; at < b.length; at += ZERO.length) {
    const n = Math.min(ZERO.length, b.length - at);
    if (b.compare(ZERO, 0, n, at, at + n) !== 0) return false;
  }
  return true;
}

/** Parses and checks a complete header; returns what the payload pass needs. */
export function checkHeader(header: Buffer, policy: VerifyPolicy): Omit<VerifiedImage, 'totalBytes'> & { manifestBytes: Buffer } {
  if (header.length < PREAMBLE_BYTES || !header.subarray(0, 8).equals(IMAGE_MAGIC)) throw new ImageError('format', 'not a Rampart firmware image (bad magic)');
  const mLen = header.readUInt32BE(8), sLen = header.readUInt32BE(12);
  const size = headerBytes(mLen, sLen);
  if (header.length !== size) throw new ImageError('format', 'header length does not match its fields');
  const manifestBytes = header.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + mLen);
  const sigBytes = header.subarray(PREAMBLE_BYTES + mLen, PREAMBLE_BYTES + mLen + sLen);
  if (!allZero(header.subarray(PREAMBLE_BYTES + mLen + sLen))) throw new ImageError('format', 'header padding is not zero');

  let sigs: SignatureBlock;
  try {
    sigs = JSON.parse(sigBytes.toString('utf8')) as SignatureBlock;
  } catch {
    throw new ImageError('format', 'signature block is not valid');
  }
  if (!Array.isArray(sigs?.signatures) || !encodeSignatureBlock(sigs).equals(sigBytes)
    || !sigs.signatures.every((s) => typeof s.key === 'string' && /^[0-9a-f]{16}$/.test(s.key) && typeof s.ed25519 === 'string' && /^[0-9a-f]{128}$/.test(s.ed25519))) {
    throw new ImageError('format', 'signature block is not valid');
  }
  if (sigs.signatures.length === 0) throw new ImageError('unsigned', 'image is not signed');
  let accepted: TrustedKey | undefined;
  for (const s of sigs.signatures) {
    const key = policy.keys.find((k) => k.id === s.key);
    if (!key) continue; // signed also by a key this box does not know: fine if another is trusted
    if (!verify(null, manifestBytes, key.key, Buffer.from(s.ed25519, 'hex'))) {
      throw new ImageError('signature', `signature by key ${s.key} (${key.name}) does not match the manifest`);
    }
    accepted ??= key;
  }
  if (!accepted) throw new ImageError('unknown-key', `signed by unknown key${sigs.signatures.length > 1 ? 's' : ''} ${sigs.signatures.map((s) => s.key).join(', ')}`);

  let manifest: Manifest;
  try {
    manifest = checkManifest(JSON.parse(manifestBytes.toString('utf8')));
  } catch (e) {
    if (e instanceof ImageError) throw e;
    throw new ImageError('format', 'manifest is not valid JSON');
  }
  if (manifest.product !== PRODUCT) throw new ImageError('product', `image is for product "${manifest.product}", not ${PRODUCT}`);
  if (!manifest.boards.includes(policy.board)) throw new ImageError('board', `image is for board${manifest.boards.length > 1 ? 's' : ''} ${manifest.boards.join(', ')}, not ${policy.board}`);
  const downgrade = policy.running !== undefined && compareVersions(manifest.version, policy.running) < 0;
  if (downgrade && !policy.force) throw new ImageError('downgrade', `image version ${manifest.version} is older than the running ${policy.running}: downgrade refused (use force)`);
  return { manifest, manifestBytes, headerBytes: size, key: { id: accepted.id, name: accepted.name }, downgrade };
}

/** Feed it the image's bytes in order; `finish()` says whether they were a good image. */
export class ImageVerifier {
  private pos = 0;
  private readonly pre: Buffer[] = [];
  private preLen = 0;
  private head: (Omit<VerifiedImage, 'totalBytes'> & { manifestBytes: Buffer }) | undefined;
  private total = 0;
  private hashes: Hash[] = [];

  constructor(private readonly policy: VerifyPolicy) {}

  /** The checked header, once its bytes have arrived. */
  get header(): Omit<VerifiedImage, 'totalBytes'> | undefined { return this.head; }
  get expectedBytes(): number | undefined { return this.head ? this.total : undefined; }
  get bytesSeen(): number { return this.pos; }

  update(chunk: Buffer): void {
    let c = chunk;
    if (!this.head) {
      this.pre.push(Buffer.from(c)); // a copy: callers reuse their read buffer
      this.preLen += c.length;
      if (this.preLen < PREAMBLE_BYTES) { this.pos += c.length; return; }
      const all = Buffer.concat(this.pre, this.preLen);
      if (!all.subarray(0, 8).equals(IMAGE_MAGIC)) throw new ImageError('format', 'not a Rampart firmware image (bad magic)');
      const size = headerBytes(all.readUInt32BE(8), all.readUInt32BE(12));
      if (size > MAX_HEADER_BYTES) throw new ImageError('format', `header of ${size} bytes is larger than allowed`);
      if (all.length < size) { this.pre.length = 0; this.pre.push(all); this.pos += c.length; return; }
      this.head = checkHeader(all.subarray(0, size), this.policy);
      this.total = size + payloadAreaBytes(this.head.manifest);
      this.hashes = this.head.manifest.payloads.map(() => createHash('sha256'));
      this.pre.length = 0;
      this.pos = size;
      c = all.subarray(size);
    }
    if (this.pos + c.length > this.total) throw new ImageError('too-long', `image is longer than its manifest says (${this.total} bytes)`);
    this.payloadBytes(c);
  }

  /** Hashes payload bytes and checks that the gaps between payloads are zero. */
  private payloadBytes(c: Buffer): void {
    const m = this.head!.manifest;
    const base = this.head!.headerBytes;
    let at = 0;
    while (at < c.length) {
      const rel = this.pos - base;
      const i = m.payloads.findIndex((p) => rel < p.offset + p.size);
      const p = i >= 0 ? m.payloads[i]! : undefined;
      let n: number;
      if (p && rel >= p.offset) {
        n = Math.min(c.length - at, p.offset + p.size - rel);
        this.hashes[i]!.update(c.subarray(at, at + n));
      } else {
        n = Math.min(c.length - at, (p ? p.offset : this.total - base) - rel);
        if (!allZero(c.subarray(at, at + n))) throw new ImageError('format', `padding at byte ${this.pos} is not zero`);
      }
      at += n;
      this.pos += n;
    }
  }

  finish(): VerifiedImage {
    if (!this.head) throw new ImageError('truncated', `image ends after ${this.pos} bytes, inside its header`);
    if (this.pos < this.total) throw new ImageError('truncated', `image ends after ${this.pos} of ${this.total} bytes`);
    this.head.manifest.payloads.forEach((p, i) => {
      const got = this.hashes[i]!.digest('hex');
      if (got !== p.sha256) throw new ImageError('hash', `payload ${p.name}: SHA-256 ${got} does not match the manifest (${p.sha256})`);
    });
    const { manifestBytes: _m, ...rest } = this.head;
    return { ...rest, totalBytes: this.total };
  }
}

export const READ_CHUNK = 1 << 20;

/**
 * Verifies an image file with one reused 1 MiB buffer. `progress` gets the bytes done and
 * the total (once the header said it).
 */
export async function verifyImageFile(path: string, policy: VerifyPolicy, progress?: (done: number, total: number | undefined) => void): Promise<VerifiedImage> {
  const fh = await open(path, 'r');
  try {
    const v = new ImageVerifier(policy);
    const buf = Buffer.allocUnsafe(READ_CHUNK);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      v.update(buf.subarray(0, bytesRead));
      progress?.(v.bytesSeen, v.expectedBytes);
    }
    return v.finish();
  } finally {
    await fh.close();
  }
}
