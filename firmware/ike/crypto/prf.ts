// Pseudo-random functions for IKE (RFC 7296 2.13, RFC 2409 4) and IKEv2's prf+.
//   PRF_HMAC_MD5 (1), PRF_HMAC_SHA1 (2), PRF_HMAC_SHA2_256 (5), PRF_HMAC_SHA2_384 (6),
//   PRF_HMAC_SHA2_512 (7) (RFC 4868), PRF_AES128_XCBC (4) (RFC 4434).
import { createCipheriv, createHash, createHmac } from 'node:crypto';
import { CryptoLengthError, UnsupportedAlgorithmError } from './errors.js';

export type HashAlg = 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512';
export type PrfAlg = 'hmac-md5' | 'hmac-sha1' | 'hmac-sha256' | 'hmac-sha384' | 'hmac-sha512' | 'aes128-xcbc';

export const HASH_LENGTH: Readonly<Record<HashAlg, number>> = { md5: 16, sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

export interface Prf {
  readonly alg: PrfAlg;
  /** Output length in bytes. */
  readonly outputLen: number;
  /** Preferred key length in bytes (RFC 7296 2.14: the size of SK_d, SK_pi, SK_pr). */
  readonly keyLen: number;
  compute(key: Uint8Array, data: Uint8Array | readonly Uint8Array[]): Uint8Array;
}

/** Plain hash (IKEv1 NAT-D, IKEv2 NAT_DETECTION_*, cookies). */
export function hashDigest(alg: HashAlg, data: Uint8Array | readonly Uint8Array[]): Uint8Array {
  const h = createHash(alg);
  for (const part of parts(data)) h.update(part);
  return new Uint8Array(h.digest());
}

/** HMAC with a named hash. */
export function hmac(alg: HashAlg, key: Uint8Array, data: Uint8Array | readonly Uint8Array[]): Uint8Array {
  const h = createHmac(alg, key);
  for (const part of parts(data)) h.update(part);
  return new Uint8Array(h.digest());
}

function parts(data: Uint8Array | readonly Uint8Array[]): readonly Uint8Array[] {
  return data instanceof Uint8Array ? [data] : data;
}

const HMAC_PRFS: Record<Exclude<PrfAlg, 'aes128-xcbc'>, HashAlg> = {
  'hmac-md5': 'md5', 'hmac-sha1': 'sha1', 'hmac-sha256': 'sha256', 'hmac-sha384': 'sha384', 'hmac-sha512': 'sha512',
};

export function createPrf(alg: PrfAlg): Prf {
  if (alg === 'aes128-xcbc') {
    return { alg, outputLen: 16, keyLen: 16, compute: (key, data) => aesXcbcPrf128(key, concatAll(parts(data))) };
  }
  const hash = HMAC_PRFS[alg];
  if (!hash) throw new UnsupportedAlgorithmError('prf', alg);
  const len = HASH_LENGTH[hash];
  return { alg, outputLen: len, keyLen: len, compute: (key, data) => hmac(hash, key, data) };
}

/** RFC 7296 2.13: prf+ (K,S) = T1 | T2 | ..., T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n). */
export function prfPlus(prf: Prf, key: Uint8Array, seed: Uint8Array, length: number): Uint8Array {
  const rounds = Math.ceil(length / prf.outputLen);
  if (rounds > 255) throw new CryptoLengthError('prf+ output', length, `at most ${255 * prf.outputLen}`);
  const out = new Uint8Array(rounds * prf.outputLen);
  let t: Uint8Array = new Uint8Array(0);
  for (let n = 1; n <= rounds; n++) {
    t = prf.compute(key, [t, seed, Uint8Array.of(n)]);
    out.set(t, (n - 1) * prf.outputLen);
  }
  return out.subarray(0, length);
}

export function concatAll(list: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const b of list) len += b.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const b of list) {
    out.set(b, off);
    off += b.length;
  }
  return out;
}

// ---- AES-XCBC-MAC-96 / AES-XCBC-PRF-128 (RFC 3566, RFC 4434) ----

function aesEcb(key: Uint8Array, block: Uint8Array): Uint8Array {
  const c = createCipheriv('aes-128-ecb', key, null);
  c.setAutoPadding(false);
  return new Uint8Array(c.update(block));
}

/** AES-XCBC-MAC (RFC 3566) with a 16-byte key, full 16-byte output. */
export function aesXcbcMac(key: Uint8Array, msg: Uint8Array): Uint8Array {
  if (key.length !== 16) throw new CryptoLengthError('AES-XCBC key', key.length, '16');
  const k1 = aesEcb(key, new Uint8Array(16).fill(0x01));
  const k2 = aesEcb(key, new Uint8Array(16).fill(0x02));
  const k3 = aesEcb(key, new Uint8Array(16).fill(0x03));
  const c = createCipheriv('aes-128-ecb', k1, null);
  c.setAutoPadding(false);
  let e: Uint8Array = new Uint8Array(16);
  const n = msg.length === 0 ? 1 : Math.ceil(msg.length / 16);
  for (let i = 0; i < n - 1; i++) {
    const block = new Uint8Array(16);
    for (let j = 0; j < 16; j++) block[j] = msg[i * 16 + j]! ^ e[j]!;
    e = new Uint8Array(c.update(block));
  }
  const last = msg.subarray((n - 1) * 16);
  const block = new Uint8Array(16);
  if (last.length === 16) {
    for (let j = 0; j < 16; j++) block[j] = last[j]! ^ e[j]! ^ k2[j]!;
  } else {
    const padded = new Uint8Array(16);
    padded.set(last);
    padded[last.length] = 0x80;
    for (let j = 0; j < 16; j++) block[j] = padded[j]! ^ e[j]! ^ k3[j]!;
  }
  return new Uint8Array(c.update(block));
}

/** RFC 4434: keys shorter than 16 bytes are zero-padded, longer ones are first MACed under the zero key. */
export function aesXcbcPrf128(key: Uint8Array, msg: Uint8Array): Uint8Array {
  let k = key;
  if (key.length < 16) {
    k = new Uint8Array(16);
    k.set(key);
  } else if (key.length > 16) {
    k = aesXcbcMac(new Uint8Array(16), key);
  }
  return aesXcbcMac(k, msg);
}
