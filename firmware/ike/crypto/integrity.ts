// Integrity (ICV) algorithms for IKE SK payloads and IKEv1 (RFC 2404, RFC 2403, RFC 4868, RFC 3566):
//   AUTH_HMAC_MD5_96 (1), AUTH_HMAC_SHA1_96 (2), AUTH_AES_XCBC_96 (5),
//   AUTH_HMAC_SHA2_256_128 (12), AUTH_HMAC_SHA2_384_192 (13), AUTH_HMAC_SHA2_512_256 (14).
import { timingSafeEqual } from 'node:crypto';
import { CryptoLengthError, UnsupportedAlgorithmError } from './errors.js';
import { aesXcbcMac, concatAll, hmac, type HashAlg } from './prf.js';

export type IntegAlg =
  | 'hmac-md5-96' | 'hmac-sha1-96' | 'aes-xcbc-96'
  | 'hmac-sha256-128' | 'hmac-sha384-192' | 'hmac-sha512-256';

export interface Integ {
  readonly alg: IntegAlg;
  /** Key length in bytes (SK_ai / SK_ar size). */
  readonly keyLen: number;
  /** Truncated ICV length in bytes. */
  readonly icvLen: number;
  compute(key: Uint8Array, data: Uint8Array | readonly Uint8Array[]): Uint8Array;
  /** Constant-time comparison of the ICV. */
  verify(key: Uint8Array, data: Uint8Array | readonly Uint8Array[], icv: Uint8Array): boolean;
}

const TABLE: Record<IntegAlg, { hash: HashAlg | 'xcbc'; keyLen: number; icvLen: number }> = {
  'hmac-md5-96': { hash: 'md5', keyLen: 16, icvLen: 12 },
  'hmac-sha1-96': { hash: 'sha1', keyLen: 20, icvLen: 12 },
  'aes-xcbc-96': { hash: 'xcbc', keyLen: 16, icvLen: 12 },
  'hmac-sha256-128': { hash: 'sha256', keyLen: 32, icvLen: 16 },
  'hmac-sha384-192': { hash: 'sha384', keyLen: 48, icvLen: 24 },
  'hmac-sha512-256': { hash: 'sha512', keyLen: 64, icvLen: 32 },
};

export function createInteg(alg: IntegAlg): Integ {
  const spec = TABLE[alg];
  if (!spec) throw new UnsupportedAlgorithmError('integrity', alg);
  const compute = (key: Uint8Array, data: Uint8Array | readonly Uint8Array[]): Uint8Array => {
    if (key.length !== spec.keyLen) throw new CryptoLengthError(`${alg} key`, key.length, String(spec.keyLen));
    const full = spec.hash === 'xcbc'
      ? aesXcbcMac(key, data instanceof Uint8Array ? data : concatAll(data))
      : hmac(spec.hash, key, data);
    return full.subarray(0, spec.icvLen);
  };
  return {
    alg,
    keyLen: spec.keyLen,
    icvLen: spec.icvLen,
    compute,
    verify(key, data, icv) {
      if (icv.length !== spec.icvLen) return false;
      return timingSafeEqual(compute(key, data), icv);
    },
  };
}
