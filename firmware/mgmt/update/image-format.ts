// The signed firmware image (docs/firmware-image-format.md): a header holding the manifest
// and its Ed25519 signatures, then the payloads (kernel, root file system), each starting
// on a 4096-byte boundary so a bootloader can load a payload straight from the slot by
// sector offsets. Every byte of the file is covered: the manifest by the signatures, the
// signature block by a canonical form, the payloads by their SHA-256, padding by being zero.

export const IMAGE_MAGIC = Buffer.from('RAMPIMG\0', 'latin1');
/** magic (8) + manifest length (u32 BE) + signature block length (u32 BE) */
export const PREAMBLE_BYTES = 16;
export const IMAGE_ALIGN = 4096;
export const FORMAT_VERSION = 1;
export const PRODUCT = 'rampart';
/** A header larger than this is refused before it is buffered (keeps memory flat). */
export const MAX_HEADER_BYTES = 1 << 20;
/** Payload names a slot needs, in the order they appear in the image. */
export const PAYLOAD_NAMES = ['kernel', 'rootfs'] as const;

export interface PayloadEntry {
  name: string;
  /** bytes from the start of the payload area (the end of the header), a multiple of IMAGE_ALIGN */
  offset: number;
  size: number;
  sha256: string;
}

export interface Manifest {
  format: number;
  product: string;
  /** board names this image boots on (`vm`) */
  boards: string[];
  version: string;
  buildId: string;
  /** ISO date of the build */
  created: string;
  /** extra kernel command line the bootloader passes */
  cmdline: string;
  payloads: PayloadEntry[];
}

export interface Signature {
  /** key id: the first 16 hex digits of the SHA-256 of the raw 32-byte public key */
  key: string;
  /** 128 hex digits: Ed25519 over the manifest bytes exactly as stored */
  ed25519: string;
}

export interface SignatureBlock { signatures: Signature[] }

export const alignUp = (n: number, to = IMAGE_ALIGN): number => Math.ceil(n / to) * to;

/** Header size for these manifest and signature block lengths. */
export function headerBytes(manifestLen: number, sigLen: number): number {
  return alignUp(PREAMBLE_BYTES + manifestLen + sigLen);
}

/** Size of the payload area: the last payload's end, padded to IMAGE_ALIGN. */
export function payloadAreaBytes(m: Manifest): number {
  const end = m.payloads.reduce((e, p) => Math.max(e, p.offset + p.size), 0);
  return alignUp(end);
}

/** Lays payloads out one after the other on IMAGE_ALIGN boundaries. */
export function layoutPayloads(parts: { name: string; size: number; sha256: string }[]): PayloadEntry[] {
  let at = 0;
  return parts.map((p) => {
    const e = { name: p.name, offset: at, size: p.size, sha256: p.sha256 };
    at = alignUp(at + p.size);
    return e;
  });
}

/** The bytes of a signature block, in its one canonical form (checked on read). */
export function encodeSignatureBlock(b: SignatureBlock): Buffer {
  return Buffer.from(JSON.stringify({ signatures: b.signatures.map((s) => ({ key: s.key, ed25519: s.ed25519 })) }), 'utf8');
}

/** The header: preamble, manifest bytes, signature block, zero padding to IMAGE_ALIGN. */
export function encodeHeader(manifestBytes: Buffer, sigBlock: Buffer): Buffer {
  const size = headerBytes(manifestBytes.length, sigBlock.length);
  const h = Buffer.alloc(size);
  IMAGE_MAGIC.copy(h, 0);
  h.writeUInt32BE(manifestBytes.length, 8);
  h.writeUInt32BE(sigBlock.length, 12);
  manifestBytes.copy(h, PREAMBLE_BYTES);
  sigBlock.copy(h, PREAMBLE_BYTES + manifestBytes.length);
  return h;
}

/** Why an image was refused; `code` says which check failed (tests and logs key on it). */
export type ImageErrorCode = 'format' | 'truncated' | 'too-long' | 'unsigned' | 'unknown-key' | 'signature'
  | 'product' | 'board' | 'hash' | 'downgrade' | 'slot';

export class ImageError extends Error {
  constructor(readonly code: ImageErrorCode, message: string) {
    super(message);
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Checks the manifest's shape (it is signed, but a signer's tool can still be wrong). */
export function checkManifest(value: unknown): Manifest {
  const bad = (what: string): never => { throw new ImageError('format', `manifest: ${what}`); };
  if (typeof value !== 'object' || value === null) bad('not an object');
  const m = value as Record<string, unknown>;
  if (m.format !== FORMAT_VERSION) bad(`format ${String(m.format)} is not supported (this firmware reads format ${FORMAT_VERSION})`);
  for (const k of ['product', 'version', 'buildId', 'created', 'cmdline']) if (typeof m[k] !== 'string') bad(`${k} missing`);
  if (!/^\d+(\.\d+)*([-+][0-9A-Za-z.-]+)?$/.test(m.version as string)) bad(`version "${String(m.version)}" is not dotted numbers`);
  if (!Array.isArray(m.boards) || m.boards.length === 0 || !m.boards.every((b) => typeof b === 'string')) bad('boards missing');
  if (!Array.isArray(m.payloads)) bad('payloads missing');
  let end = 0;
  for (const p of m.payloads as unknown[]) {
    const e = p as Record<string, unknown>;
    if (typeof e.name !== 'string' || !Number.isSafeInteger(e.offset) || !Number.isSafeInteger(e.size) || typeof e.sha256 !== 'string' || !HEX64.test(e.sha256)) bad('a payload entry is malformed');
    const offset = e.offset as number, size = e.size as number;
    if (offset < end || offset % IMAGE_ALIGN !== 0 || size < 0) bad(`payload ${String(e.name)} overlaps or is not aligned`);
    end = offset + size;
  }
  for (const n of PAYLOAD_NAMES) if (!(m.payloads as PayloadEntry[]).some((p) => p.name === n)) bad(`payload ${n} missing`);
  return value as Manifest;
}

/** The manifest and header size of an image file, unchecked (host tools that lay out disks). */
export function readHeaderUnchecked(head: Buffer): { manifest: Manifest; headerBytes: number } {
  if (head.length < PREAMBLE_BYTES || !head.subarray(0, 8).equals(IMAGE_MAGIC)) throw new ImageError('format', 'not a Rampart firmware image (bad magic)');
  const mLen = head.readUInt32BE(8);
  if (head.length < PREAMBLE_BYTES + mLen) throw new ImageError('truncated', 'header incomplete');
  const manifest = checkManifest(JSON.parse(head.subarray(PREAMBLE_BYTES, PREAMBLE_BYTES + mLen).toString('utf8')));
  return { manifest, headerBytes: headerBytes(mLen, head.readUInt32BE(12)) };
}
