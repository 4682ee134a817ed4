// Encryption algorithms for IKE.
//   Block ciphers in CBC mode, no padding (the IKE layer pads itself):
//     ENCR_DES (2, IKEv1 only), ENCR_3DES (3), ENCR_AES_CBC (12) with 128/192/256-bit keys.
//   AEAD for IKEv2 SK payloads (RFC 5282): ENCR_AES_GCM_8 (18), _12 (19), _16 (20).
//     Key material = key || 4-byte salt; nonce = salt || 8-byte explicit IV (carried in the
//     payload); AAD = IKE header .. end of the SK generic payload header; ICV of 8/12/16 bytes.
// Single DES is not offered by OpenSSL 3's default provider; DES-EDE3 with K1 = K2 = K3 is
// exactly single DES, so that is how it is computed.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { CryptoLengthError, UnsupportedAlgorithmError } from './errors.js';

export type BlockCipherAlg = 'des-cbc' | '3des-cbc' | 'aes128-cbc' | 'aes192-cbc' | 'aes256-cbc';
export type AeadAlg =
  | 'aes128-gcm8' | 'aes192-gcm8' | 'aes256-gcm8'
  | 'aes128-gcm12' | 'aes192-gcm12' | 'aes256-gcm12'
  | 'aes128-gcm16' | 'aes192-gcm16' | 'aes256-gcm16';

export interface BlockCipher {
  readonly kind: 'block';
  readonly alg: BlockCipherAlg;
  readonly keyLen: number;
  readonly blockLen: number;
  readonly ivLen: number;
  /** `data` must be a multiple of blockLen (throws CryptoLengthError). */
  encrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
  decrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array;
}

export interface Aead {
  readonly kind: 'aead';
  readonly alg: AeadAlg;
  /** AES key length (without the salt). */
  readonly keyLen: number;
  /** Salt length taken from the end of the keying material (RFC 5282: 4). */
  readonly saltLen: number;
  /** Explicit IV length carried on the wire (8). */
  readonly ivLen: number;
  readonly icvLen: number;
  /** Block size used for padding the plaintext (RFC 5282 allows 1; IKEv2 pads to 4 conventionally). */
  readonly blockLen: number;
  /** Returns ciphertext || ICV. */
  seal(key: Uint8Array, salt: Uint8Array, iv: Uint8Array, aad: Uint8Array, plain: Uint8Array): Uint8Array;
  /** Returns the plaintext, or null when the ICV does not verify. */
  open(key: Uint8Array, salt: Uint8Array, iv: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | null;
}

export type IkeCipher = BlockCipher | Aead;

const BLOCK: Record<BlockCipherAlg, { openssl: string; keyLen: number; blockLen: number }> = {
  'des-cbc': { openssl: 'des-ede3-cbc', keyLen: 8, blockLen: 8 },
  '3des-cbc': { openssl: 'des-ede3-cbc', keyLen: 24, blockLen: 8 },
  'aes128-cbc': { openssl: 'aes-128-cbc', keyLen: 16, blockLen: 16 },
  'aes192-cbc': { openssl: 'aes-192-cbc', keyLen: 24, blockLen: 16 },
  'aes256-cbc': { openssl: 'aes-256-cbc', keyLen: 32, blockLen: 16 },
};

export function isAeadAlg(alg: string): alg is AeadAlg {
  return /^aes(128|192|256)-gcm(8|12|16)$/.test(alg);
}

export function createBlockCipher(alg: BlockCipherAlg): BlockCipher {
  const spec = BLOCK[alg];
  if (!spec) throw new UnsupportedAlgorithmError('cipher', alg);
  const expandKey = (key: Uint8Array): Uint8Array => {
    if (key.length !== spec.keyLen) throw new CryptoLengthError(`${alg} key`, key.length, String(spec.keyLen));
    return alg === 'des-cbc' ? Buffer.concat([key, key, key]) : key;
  };
  const check = (iv: Uint8Array, data: Uint8Array): void => {
    if (iv.length !== spec.blockLen) throw new CryptoLengthError(`${alg} IV`, iv.length, String(spec.blockLen));
    if (data.length % spec.blockLen !== 0) {
      throw new CryptoLengthError(`${alg} data`, data.length, `a multiple of ${spec.blockLen}`);
    }
  };
  return {
    kind: 'block',
    alg,
    keyLen: spec.keyLen,
    blockLen: spec.blockLen,
    ivLen: spec.blockLen,
    encrypt(key, iv, data) {
      check(iv, data);
      const c = createCipheriv(spec.openssl, expandKey(key), iv);
      c.setAutoPadding(false);
      return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
    },
    decrypt(key, iv, data) {
      check(iv, data);
      const d = createDecipheriv(spec.openssl, expandKey(key), iv);
      d.setAutoPadding(false);
      return new Uint8Array(Buffer.concat([d.update(data), d.final()]));
    },
  };
}

export function createAead(alg: AeadAlg): Aead {
  const m = /^aes(128|192|256)-gcm(8|12|16)$/.exec(alg);
  if (!m) throw new UnsupportedAlgorithmError('aead', alg);
  const keyLen = Number(m[1]) / 8;
  const icvLen = Number(m[2]);
  const openssl = `aes-${m[1]}-gcm` as 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm';
  const check = (key: Uint8Array, salt: Uint8Array, iv: Uint8Array): Buffer => {
    if (key.length !== keyLen) throw new CryptoLengthError(`${alg} key`, key.length, String(keyLen));
    if (salt.length !== 4) throw new CryptoLengthError(`${alg} salt`, salt.length, '4');
    if (iv.length !== 8) throw new CryptoLengthError(`${alg} IV`, iv.length, '8');
    return Buffer.concat([salt, iv]);
  };
  return {
    kind: 'aead',
    alg,
    keyLen,
    saltLen: 4,
    ivLen: 8,
    icvLen,
    blockLen: 4,
    seal(key, salt, iv, aad, plain) {
      const c = createCipheriv(openssl, key, check(key, salt, iv), { authTagLength: icvLen });
      c.setAAD(aad);
      const ct = Buffer.concat([c.update(plain), c.final()]);
      return new Uint8Array(Buffer.concat([ct, c.getAuthTag()]));
    },
    open(key, salt, iv, aad, sealed) {
      const nonce = check(key, salt, iv);
      if (sealed.length < icvLen) return null;
      const d = createDecipheriv(openssl, key, nonce, { authTagLength: icvLen });
      d.setAAD(aad);
      d.setAuthTag(sealed.subarray(sealed.length - icvLen));
      try {
        const pt = Buffer.concat([d.update(sealed.subarray(0, sealed.length - icvLen)), d.final()]);
        return new Uint8Array(pt);
      } catch {
        return null;
      }
    },
  };
}

export function createIkeCipher(alg: BlockCipherAlg | AeadAlg): IkeCipher {
  return isAeadAlg(alg) ? createAead(alg) : createBlockCipher(alg);
}

/** Fresh random bytes for IVs, nonces and SPIs. */
export function randomBytesU8(len: number): Uint8Array {
  return new Uint8Array(randomBytes(len));
}
