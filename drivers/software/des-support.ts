// Single DES (esp-des) on Node 20.
//
// Node 20 ships OpenSSL 3, where DES-CBC lives in the "legacy" provider, which Node only
// loads when started with `--openssl-legacy-provider` (or NODE_OPTIONS with it); there is
// no API to load a provider at run time. Checked on this machine: without the flag
// `createCipheriv('des-cbc', ...)` fails with "error:0308010C:digital envelope
// routines::unsupported"; with it, des-cbc works.
//
// Fallback used when the legacy provider is not loaded: triple DES in EDE mode with the
// same key three times, K||K||K, is exactly single DES (E_K(D_K(E_K(x))) = E_K(x)), and
// des-ede3 is in OpenSSL's default provider. This gives bit-identical DES through OpenSSL
// (checked against the FIPS 81 vector in test/transforms/vectors.test.ts), three times
// slower than real DES, which does not matter for a legacy algorithm. No DES code of our own.

import { createCipheriv } from 'node:crypto';

export interface DesCipherNames {
  /** OpenSSL name for CBC mode. */
  readonly cbc: string;
  /** OpenSSL name for ECB mode (used by the CBC decryption path). */
  readonly ecb: string;
  /** Expands an 8-byte DES key to what the chosen OpenSSL cipher wants. */
  readonly expandKey: (key: Uint8Array) => Uint8Array;
  /** 'legacy-provider' or 'ede3-kkk' (for `show crypto engine`). */
  readonly method: 'legacy-provider' | 'ede3-kkk';
}

let cached: DesCipherNames | undefined;

export function desCipherNames(): DesCipherNames {
  if (cached) return cached;
  try {
    createCipheriv('des-cbc', new Uint8Array(8), new Uint8Array(8));
    createCipheriv('des-ecb', new Uint8Array(8), null);
    cached = { cbc: 'des-cbc', ecb: 'des-ecb', expandKey: (k) => k, method: 'legacy-provider' };
  } catch {
    cached = {
      cbc: 'des-ede3-cbc',
      ecb: 'des-ede3-ecb',
      expandKey: (k) => {
        const out = new Uint8Array(24);
        out.set(k, 0);
        out.set(k, 8);
        out.set(k, 16);
        return out;
      },
      method: 'ede3-kkk',
    };
  }
  return cached;
}
