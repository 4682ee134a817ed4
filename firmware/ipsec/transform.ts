// Transform sets: from the IOS words (`esp-aes 256`, `esp-sha256-hmac`, `esp-gcm 128`,
// `ah-sha-hmac`, `comp-lzs`...) to algorithm parameters (key, IV, block and ICV sizes,
// GCM salt) and to the TransformParams the crypto engines take.
//
// Rules of the guide's "Allowed Transform Combinations" table: at most one AH transform,
// one ESP encryption transform, one ESP authentication transform and one compression
// transform; esp-gcm / esp-gmac cannot be combined with another ESP transform.

import type { AhCryptoParams, EspCipherId, EspCryptoParams, IntegrityId } from '../lib/crypto-engine.js';
import { RampartError } from '../lib/errors.js';

export class TransformSetError extends RampartError {}

export interface CipherSpec {
  /** IOS transform word: esp-aes, esp-gcm, esp-gmac, esp-des, esp-3des, esp-null, esp-seal. */
  readonly name: string;
  readonly cipher: EspCipherId;
  readonly keyBits: number;
  /** Cipher key bytes, without salt. */
  readonly keyLength: number;
  /** Salt bytes taken from the end of the key material (4 for GCM/GMAC). */
  readonly saltLength: number;
  readonly ivLength: number;
  readonly blockSize: number;
  /** Combined mode (GCM/GMAC): integrity comes with the cipher. */
  readonly combined: boolean;
  /** Combined-mode ICV length. */
  readonly icvLength: number;
  /** IKEv1 IPsec DOI ESP transform id (RFC 2407, 3602, 4106, 4543). */
  readonly ikev1TransformId: number;
  /** IKEv2 ENCR transform id (RFC 7296 registry). */
  readonly ikev2TransformId: number;
}

export interface IntegritySpec {
  /** IOS word: esp-md5-hmac, esp-sha-hmac, esp-sha256-hmac..., ah-md5-hmac, ah-sha-hmac. */
  readonly name: string;
  readonly integrity: Exclude<IntegrityId, 'none'>;
  readonly keyLength: number;
  readonly icvLength: number;
  /** IKEv1 "Authentication Algorithm" SA attribute value (RFC 2407 section 4.5). */
  readonly ikev1AuthAttribute: number;
  /** IKEv1 AH transform id (AH_MD5 = 2, AH_SHA = 3); 0 when not an AH transform. */
  readonly ikev1AhTransformId: number;
  /** IKEv2 INTEG transform id. */
  readonly ikev2TransformId: number;
}

export interface CompressionSpec {
  readonly name: 'comp-lzs';
  readonly algorithm: 'lzs';
  /** IPCOMP_LZS transform id (RFC 2395 / IANA), also the well-known CPI. */
  readonly transformId: 3;
}

export interface TransformSet {
  readonly ah?: IntegritySpec;
  /** ESP encryption; when only esp-*-hmac was given, the null cipher. */
  readonly espCipher?: CipherSpec;
  readonly espIntegrity?: IntegritySpec;
  readonly compression?: CompressionSpec;
  /** The words as given, normalised (`esp-aes 256`), for show output. */
  readonly words: readonly string[];
}

// IANA numbers.
export const ESP_DES = 2;
export const ESP_3DES = 3;
export const ESP_NULL = 11;
export const ESP_AES = 12;
export const ESP_AES_GCM_16 = 20;
export const ESP_NULL_AUTH_AES_GMAC = 23; // IKEv1 id; IKEv2 uses 21
export const ENCR_NULL_AUTH_AES_GMAC = 21;
export const ESP_SEAL_CISCO = 0; // proprietary, no IANA number
export const AH_MD5 = 2;
export const AH_SHA = 3;
export const AUTH_HMAC_MD5_96 = 1;
export const AUTH_HMAC_SHA1_96 = 2;
export const AUTH_HMAC_SHA2_256_128 = 12;
export const AUTH_HMAC_SHA2_384_192 = 13;
export const AUTH_HMAC_SHA2_512_256 = 14;
export const IPCOMP_LZS = 3;

function cipherSpec(name: string, keyBits: number): CipherSpec {
  switch (name) {
    case 'esp-aes':
      return { name, cipher: 'aes-cbc', keyBits, keyLength: keyBits / 8, saltLength: 0, ivLength: 16, blockSize: 16, combined: false, icvLength: 0, ikev1TransformId: ESP_AES, ikev2TransformId: ESP_AES };
    case 'esp-gcm':
      return { name, cipher: 'aes-gcm-16', keyBits, keyLength: keyBits / 8, saltLength: 4, ivLength: 8, blockSize: 4, combined: true, icvLength: 16, ikev1TransformId: ESP_AES_GCM_16, ikev2TransformId: ESP_AES_GCM_16 };
    case 'esp-gmac':
      return { name, cipher: 'aes-gmac', keyBits, keyLength: keyBits / 8, saltLength: 4, ivLength: 8, blockSize: 4, combined: true, icvLength: 16, ikev1TransformId: ESP_NULL_AUTH_AES_GMAC, ikev2TransformId: ENCR_NULL_AUTH_AES_GMAC };
    case 'esp-des':
      return { name, cipher: 'des-cbc', keyBits: 56, keyLength: 8, saltLength: 0, ivLength: 8, blockSize: 8, combined: false, icvLength: 0, ikev1TransformId: ESP_DES, ikev2TransformId: ESP_DES };
    case 'esp-3des':
      return { name, cipher: '3des-cbc', keyBits: 168, keyLength: 24, saltLength: 0, ivLength: 8, blockSize: 8, combined: false, icvLength: 0, ikev1TransformId: ESP_3DES, ikev2TransformId: ESP_3DES };
    case 'esp-null':
      return { name, cipher: 'null', keyBits: 0, keyLength: 0, saltLength: 0, ivLength: 0, blockSize: 4, combined: false, icvLength: 0, ikev1TransformId: ESP_NULL, ikev2TransformId: ESP_NULL };
    case 'esp-seal':
      return { name, cipher: 'seal', keyBits: 160, keyLength: 20, saltLength: 0, ivLength: 0, blockSize: 4, combined: false, icvLength: 0, ikev1TransformId: ESP_SEAL_CISCO, ikev2TransformId: ESP_SEAL_CISCO };
    default:
      throw new TransformSetError(`unknown ESP encryption transform ${name}`);
  }
}

const INTEGRITY: Record<string, Omit<IntegritySpec, 'name' | 'ikev1AhTransformId'>> = {
  md5: { integrity: 'hmac-md5-96', keyLength: 16, icvLength: 12, ikev1AuthAttribute: 1, ikev2TransformId: AUTH_HMAC_MD5_96 },
  sha: { integrity: 'hmac-sha1-96', keyLength: 20, icvLength: 12, ikev1AuthAttribute: 2, ikev2TransformId: AUTH_HMAC_SHA1_96 },
  sha256: { integrity: 'hmac-sha256-128', keyLength: 32, icvLength: 16, ikev1AuthAttribute: 5, ikev2TransformId: AUTH_HMAC_SHA2_256_128 },
  sha384: { integrity: 'hmac-sha384-192', keyLength: 48, icvLength: 24, ikev1AuthAttribute: 6, ikev2TransformId: AUTH_HMAC_SHA2_384_192 },
  sha512: { integrity: 'hmac-sha512-256', keyLength: 64, icvLength: 32, ikev1AuthAttribute: 7, ikev2TransformId: AUTH_HMAC_SHA2_512_256 },
};

/** Every transform word the parser knows, for CLI help/completion. */
export const TRANSFORM_WORDS: readonly string[] = [
  'ah-md5-hmac', 'ah-sha-hmac',
  'esp-aes', 'esp-gcm', 'esp-gmac', 'esp-des', 'esp-3des', 'esp-null', 'esp-seal',
  'esp-md5-hmac', 'esp-sha-hmac', 'esp-sha256-hmac', 'esp-sha384-hmac', 'esp-sha512-hmac',
  'comp-lzs',
];

/** Key sizes a word accepts (first = default); empty when the word takes no size. */
export function transformKeySizes(word: string): readonly number[] {
  if (word === 'esp-aes') return [128, 192, 256];
  if (word === 'esp-gcm' || word === 'esp-gmac') return [128, 192, 256];
  return [];
}

/**
 * Parses a transform set given as words, e.g. `['esp-aes', '256', 'esp-sha-hmac']` or
 * `['esp-aes 256', 'esp-sha-hmac']`. Throws TransformSetError with a message fit for the CLI.
 */
export function parseTransformSet(input: readonly string[]): TransformSet {
  const tokens = input.flatMap((w) => w.trim().split(/\s+/)).filter((w) => w.length > 0).map((w) => w.toLowerCase());
  let ah: IntegritySpec | undefined;
  let espCipher: CipherSpec | undefined;
  let espIntegrity: IntegritySpec | undefined;
  let compression: CompressionSpec | undefined;
  const words: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const w = tokens[i]!;
    let m: RegExpExecArray | null;
    if ((m = /^ah-(md5|sha)-hmac$/.exec(w))) {
      if (ah) throw new TransformSetError(`only one AH transform is allowed (${ah.name} and ${w})`);
      const base = INTEGRITY[m[1]!]!;
      ah = { ...base, name: w, ikev1AhTransformId: m[1] === 'md5' ? AH_MD5 : AH_SHA };
      words.push(w);
    } else if ((m = /^esp-(md5|sha|sha256|sha384|sha512)-hmac$/.exec(w))) {
      if (espIntegrity) throw new TransformSetError(`only one ESP authentication transform is allowed (${espIntegrity.name} and ${w})`);
      espIntegrity = { ...INTEGRITY[m[1]!]!, name: w, ikev1AhTransformId: 0 };
      words.push(w);
    } else if (w === 'comp-lzs') {
      if (compression) throw new TransformSetError('only one compression transform is allowed');
      compression = { name: 'comp-lzs', algorithm: 'lzs', transformId: IPCOMP_LZS };
      words.push(w);
    } else if (/^esp-(aes|gcm|gmac|des|3des|null|seal)$/.test(w)) {
      if (espCipher) throw new TransformSetError(`only one ESP encryption transform is allowed (${espCipher.name} and ${w})`);
      const sizes = transformKeySizes(w);
      let bits = sizes[0] ?? 0;
      const next = tokens[i + 1];
      if (sizes.length > 0 && next !== undefined && /^\d+$/.test(next)) {
        bits = Number(next);
        if (!sizes.includes(bits)) throw new TransformSetError(`${w} key size must be one of ${sizes.join(', ')} bits, not ${next}`);
        i++;
      }
      espCipher = cipherSpec(w, bits);
      words.push(sizes.length > 0 ? `${w} ${bits}` : w);
    } else if (/^\d+$/.test(w)) {
      throw new TransformSetError(`key size ${w} must follow esp-aes, esp-gcm or esp-gmac`);
    } else {
      throw new TransformSetError(`unknown transform ${w}`);
    }
  }
  if (espCipher?.combined && espIntegrity) {
    throw new TransformSetError(`${espCipher.name} cannot be combined with another ESP transform (${espIntegrity.name})`);
  }
  if (!espCipher && espIntegrity) espCipher = cipherSpec('esp-null', 0);
  if (espCipher?.cipher === 'null' && !espIntegrity) {
    throw new TransformSetError('esp-null needs an ESP authentication transform (ESP without encryption and without integrity is not allowed, RFC 4301)');
  }
  if (!ah && !espCipher) throw new TransformSetError('a transform set needs at least one AH or ESP transform');
  const set: { -readonly [K in keyof TransformSet]: TransformSet[K] } = { words };
  if (ah) set.ah = ah;
  if (espCipher) set.espCipher = espCipher;
  if (espIntegrity) set.espIntegrity = espIntegrity;
  if (compression) set.compression = compression;
  return set;
}

/** Renders a transform set back to IOS words ("esp-aes 256 esp-sha-hmac"). */
export function formatTransformSet(set: TransformSet): string {
  return set.words.join(' ');
}

/** ESP key material length: cipher key + salt, then integrity key (RFC 7296 section 2.17 order). */
export function espKeyMaterialLength(set: TransformSet): number {
  const c = set.espCipher;
  if (!c) return 0;
  return c.keyLength + c.saltLength + (set.espIntegrity?.keyLength ?? 0);
}

export function ahKeyMaterialLength(set: TransformSet): number {
  return set.ah?.keyLength ?? 0;
}

/**
 * ESP engine parameters from keys. `cipherKey` holds key || salt for GCM/GMAC (as KEYMAT
 * and the manual `set session-key ... cipher` hex string give it). Throws TransformSetError
 * on a wrong key length.
 */
// Keys are copied with Uint8Array.from (a Buffer's slice would share the caller's memory).
export function espParams(set: TransformSet, cipherKey: Uint8Array, integrityKey: Uint8Array | undefined, esn: boolean): EspCryptoParams {
  const c = set.espCipher;
  if (!c) throw new TransformSetError('transform set has no ESP transform');
  const wantCipher = c.keyLength + c.saltLength;
  if (cipherKey.length !== wantCipher) {
    throw new TransformSetError(`${c.name}${c.keyBits && c.name !== 'esp-des' && c.name !== 'esp-3des' ? ` ${c.keyBits}` : ''} needs a ${wantCipher}-byte cipher key${c.saltLength ? ` (${c.keyLength} key + ${c.saltLength} salt)` : ''}, got ${cipherKey.length}`);
  }
  const integ = set.espIntegrity;
  const ik = integrityKey ?? new Uint8Array(0);
  if (integ && ik.length !== integ.keyLength) {
    throw new TransformSetError(`${integ.name} needs a ${integ.keyLength}-byte authenticator key, got ${ik.length}`);
  }
  if (!integ && ik.length !== 0) throw new TransformSetError('authenticator key given but the transform set has no ESP authentication');
  return {
    protocol: 'esp',
    cipher: c.cipher,
    cipherKey: Uint8Array.from(cipherKey.subarray(0, c.keyLength)),
    salt: Uint8Array.from(cipherKey.subarray(c.keyLength)),
    ivLength: c.ivLength,
    blockSize: c.blockSize,
    integrity: integ ? integ.integrity : 'none',
    integrityKey: Uint8Array.from(ik),
    icvLength: c.combined ? c.icvLength : (integ?.icvLength ?? 0),
    esn,
  };
}

/** ESP parameters from one key material block (IKE KEYMAT: cipher key, salt, integrity key). */
export function espParamsFromKeyMaterial(set: TransformSet, keymat: Uint8Array, esn: boolean): EspCryptoParams {
  const c = set.espCipher;
  if (!c) throw new TransformSetError('transform set has no ESP transform');
  if (keymat.length !== espKeyMaterialLength(set)) {
    throw new TransformSetError(`ESP key material must be ${espKeyMaterialLength(set)} bytes, got ${keymat.length}`);
  }
  const cl = c.keyLength + c.saltLength;
  return espParams(set, keymat.subarray(0, cl), set.espIntegrity ? keymat.subarray(cl) : undefined, esn);
}

export function ahParams(set: TransformSet, key: Uint8Array, esn: boolean): AhCryptoParams {
  const a = set.ah;
  if (!a) throw new TransformSetError('transform set has no AH transform');
  if (key.length !== a.keyLength) throw new TransformSetError(`${a.name} needs a ${a.keyLength}-byte key, got ${key.length}`);
  return { protocol: 'ah', integrity: a.integrity, integrityKey: Uint8Array.from(key), icvLength: a.icvLength, esn };
}
