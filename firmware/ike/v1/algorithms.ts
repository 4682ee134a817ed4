// Mapping between IOS names, RFC 2409 / RFC 2407 attribute values and the shared crypto helpers.
import {
  AhTransformId, EncryptionAlgorithm, EspTransformId, HashAlgorithm, IpsecAuthAlgorithm,
} from '../../proto/ikev1/index.js';
import type { BlockCipherAlg, HashAlg } from '../crypto/index.js';

/** `encryption` in `crypto isakmp policy`. */
export type IkeEncryptionName = 'des' | '3des' | 'aes128' | 'aes192' | 'aes256';
/** `hash` in `crypto isakmp policy`. */
export type IkeHashName = 'md5' | 'sha' | 'sha256' | 'sha384' | 'sha512';
/** `authentication` in `crypto isakmp policy` (only pre-share is implemented). */
export type IkeAuthName = 'pre-share' | 'rsa-sig' | 'rsa-encr';

export interface IkeEncryptionSpec {
  name: IkeEncryptionName;
  /** RFC 2409 Encryption Algorithm attribute value. */
  algorithm: number;
  /** Key Length attribute (bits), only for AES. */
  keyLenBits?: number;
  cipher: BlockCipherAlg;
  keyLen: number;
  blockLen: number;
}

export const IKE_ENCRYPTIONS: readonly IkeEncryptionSpec[] = [
  { name: 'des', algorithm: EncryptionAlgorithm.DES_CBC, cipher: 'des-cbc', keyLen: 8, blockLen: 8 },
  { name: '3des', algorithm: EncryptionAlgorithm.TRIPLE_DES_CBC, cipher: '3des-cbc', keyLen: 24, blockLen: 8 },
  { name: 'aes128', algorithm: EncryptionAlgorithm.AES_CBC, keyLenBits: 128, cipher: 'aes128-cbc', keyLen: 16, blockLen: 16 },
  { name: 'aes192', algorithm: EncryptionAlgorithm.AES_CBC, keyLenBits: 192, cipher: 'aes192-cbc', keyLen: 24, blockLen: 16 },
  { name: 'aes256', algorithm: EncryptionAlgorithm.AES_CBC, keyLenBits: 256, cipher: 'aes256-cbc', keyLen: 32, blockLen: 16 },
];

export function ikeEncryptionByName(name: IkeEncryptionName): IkeEncryptionSpec {
  const s = IKE_ENCRYPTIONS.find((e) => e.name === name);
  if (!s) throw new RangeError(`unknown IKE encryption ${name}`);
  return s;
}

/** Finds the spec for attribute values; AES without a Key Length attribute is refused (RFC 3602). */
export function ikeEncryptionByAttr(algorithm: number, keyLenBits: number | undefined): IkeEncryptionSpec | undefined {
  return IKE_ENCRYPTIONS.find((e) =>
    e.algorithm === algorithm && (e.keyLenBits === undefined ? keyLenBits === undefined : e.keyLenBits === keyLenBits));
}

export interface IkeHashSpec {
  name: IkeHashName;
  algorithm: number;
  hash: HashAlg;
  length: number;
}

export const IKE_HASHES: readonly IkeHashSpec[] = [
  { name: 'md5', algorithm: HashAlgorithm.MD5, hash: 'md5', length: 16 },
  { name: 'sha', algorithm: HashAlgorithm.SHA, hash: 'sha1', length: 20 },
  { name: 'sha256', algorithm: HashAlgorithm.SHA2_256, hash: 'sha256', length: 32 },
  { name: 'sha384', algorithm: HashAlgorithm.SHA2_384, hash: 'sha384', length: 48 },
  { name: 'sha512', algorithm: HashAlgorithm.SHA2_512, hash: 'sha512', length: 64 },
];

export function ikeHashByName(name: IkeHashName): IkeHashSpec {
  const s = IKE_HASHES.find((h) => h.name === name);
  if (!s) throw new RangeError(`unknown IKE hash ${name}`);
  return s;
}
export function ikeHashByAttr(algorithm: number): IkeHashSpec | undefined {
  return IKE_HASHES.find((h) => h.algorithm === algorithm);
}

// ---------------------------------------------------------------- IPsec (quick mode)

/** Transform-set cipher names as in `crypto ipsec transform-set`. */
export type EspCipherName = 'esp-des' | 'esp-3des' | 'esp-aes' | 'esp-null';
/** Integrity: `esp-md5-hmac` = 'md5', `esp-sha-hmac` = 'sha', `esp-sha256-hmac` = 'sha256', ... */
export type IpsecHmacName = 'md5' | 'sha' | 'sha256' | 'sha384' | 'sha512';

export interface EspCipherSpec {
  name: EspCipherName;
  transformId: number;
  /** key length in bytes for a given key-length attribute (bits) */
  keyLen(keyLenBits: number | undefined): number;
  /** Key Length attribute is required (AES) */
  variableKey: boolean;
}

export const ESP_CIPHERS: readonly EspCipherSpec[] = [
  { name: 'esp-des', transformId: EspTransformId.ESP_DES, keyLen: () => 8, variableKey: false },
  { name: 'esp-3des', transformId: EspTransformId.ESP_3DES, keyLen: () => 24, variableKey: false },
  { name: 'esp-aes', transformId: EspTransformId.ESP_AES, keyLen: (b) => (b ?? 128) / 8, variableKey: true },
  { name: 'esp-null', transformId: EspTransformId.ESP_NULL, keyLen: () => 0, variableKey: false },
];

export interface IpsecHmacSpec {
  name: IpsecHmacName;
  authAlgorithm: number;
  ahTransformId: number;
  keyLen: number;
  /** truncated ICV length */
  icvLen: number;
}

export const IPSEC_HMACS: readonly IpsecHmacSpec[] = [
  { name: 'md5', authAlgorithm: IpsecAuthAlgorithm.HMAC_MD5, ahTransformId: AhTransformId.AH_MD5, keyLen: 16, icvLen: 12 },
  { name: 'sha', authAlgorithm: IpsecAuthAlgorithm.HMAC_SHA, ahTransformId: AhTransformId.AH_SHA, keyLen: 20, icvLen: 12 },
  { name: 'sha256', authAlgorithm: IpsecAuthAlgorithm.HMAC_SHA2_256, ahTransformId: AhTransformId.AH_SHA2_256, keyLen: 32, icvLen: 16 },
  { name: 'sha384', authAlgorithm: IpsecAuthAlgorithm.HMAC_SHA2_384, ahTransformId: AhTransformId.AH_SHA2_384, keyLen: 48, icvLen: 24 },
  { name: 'sha512', authAlgorithm: IpsecAuthAlgorithm.HMAC_SHA2_512, ahTransformId: AhTransformId.AH_SHA2_512, keyLen: 64, icvLen: 32 },
];

export function espCipherByName(n: EspCipherName): EspCipherSpec {
  const s = ESP_CIPHERS.find((c) => c.name === n);
  if (!s) throw new RangeError(`unknown ESP cipher ${n}`);
  return s;
}
export function espCipherById(id: number): EspCipherSpec | undefined {
  return ESP_CIPHERS.find((c) => c.transformId === id);
}
export function hmacByName(n: IpsecHmacName): IpsecHmacSpec {
  const s = IPSEC_HMACS.find((c) => c.name === n);
  if (!s) throw new RangeError(`unknown HMAC ${n}`);
  return s;
}
export function hmacByAuthAlgorithm(a: number): IpsecHmacSpec | undefined {
  return IPSEC_HMACS.find((c) => c.authAlgorithm === a);
}
export function hmacByAhTransformId(id: number): IpsecHmacSpec | undefined {
  return IPSEC_HMACS.find((c) => c.ahTransformId === id);
}
