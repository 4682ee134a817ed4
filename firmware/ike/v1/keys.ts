// RFC 2409 key derivation for pre-shared-key authentication, pure functions.
//   SKEYID   = prf(pre-shared-key, Ni_b | Nr_b)                          (5. Exchanges)
//   SKEYID_d = prf(SKEYID, g^xy | CKY-I | CKY-R | 0)
//   SKEYID_a = prf(SKEYID, SKEYID_d | g^xy | CKY-I | CKY-R | 1)
//   SKEYID_e = prf(SKEYID, SKEYID_a | g^xy | CKY-I | CKY-R | 2)
//   HASH_I   = prf(SKEYID, g^xi | g^xr | CKY-I | CKY-R | SAi_b | IDii_b)
//   HASH_R   = prf(SKEYID, g^xr | g^xi | CKY-R | CKY-I | SAi_b | IDir_b)
//   Long keys (Appendix B): Ka = K1 | K2 | ..., K1 = prf(SKEYID_e, 0), Kn = prf(SKEYID_e, Kn-1)
//   Phase-1 IV = hash(g^xi | g^xr); phase-2 / informational IV = hash(last phase-1 CBC block | M-ID)
//   Quick Mode: HASH(1) = prf(SKEYID_a, M-ID | rest), HASH(2) = prf(SKEYID_a, M-ID | Ni_b | rest),
//               HASH(3) = prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b)
//   KEYMAT = K1 | K2 ..., K1 = prf(SKEYID_d, [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b),
//            Kn = prf(SKEYID_d, Kn-1 | [g(qm)^xy |] protocol | SPI | Ni_b | Nr_b)
// The prf is the HMAC of the negotiated hash (no PRF attribute is negotiated).
import { u32be } from '../../proto/ikev1/index.js';
import { hashDigest, hmac, type HashAlg } from '../crypto/index.js';

export interface Skeyids {
  skeyid: Uint8Array;
  d: Uint8Array;
  a: Uint8Array;
  e: Uint8Array;
}

export function skeyidPsk(hash: HashAlg, psk: Uint8Array, ni: Uint8Array, nr: Uint8Array): Uint8Array {
  return hmac(hash, psk, [ni, nr]);
}

export function deriveSkeyids(hash: HashAlg, skeyid: Uint8Array, gxy: Uint8Array, ckyI: Uint8Array, ckyR: Uint8Array): Skeyids {
  const d = hmac(hash, skeyid, [gxy, ckyI, ckyR, Uint8Array.of(0)]);
  const a = hmac(hash, skeyid, [d, gxy, ckyI, ckyR, Uint8Array.of(1)]);
  const e = hmac(hash, skeyid, [a, gxy, ckyI, ckyR, Uint8Array.of(2)]);
  return { skeyid, d, a, e };
}

/** RFC 2409 Appendix B: the encryption key from SKEYID_e, expanded when SKEYID_e is too short. */
export function encryptionKey(hash: HashAlg, skeyidE: Uint8Array, keyLen: number): Uint8Array {
  if (skeyidE.length >= keyLen) return skeyidE.slice(0, keyLen);
  const out = new Uint8Array(Math.ceil(keyLen / skeyidE.length) * skeyidE.length);
  let k = hmac(hash, skeyidE, Uint8Array.of(0));
  let o = 0;
  for (;;) {
    out.set(k, o);
    o += k.length;
    if (o >= keyLen) break;
    k = hmac(hash, skeyidE, k);
  }
  return out.slice(0, keyLen);
}

export function phase1Iv(hash: HashAlg, gxi: Uint8Array, gxr: Uint8Array, blockLen: number): Uint8Array {
  return hashDigest(hash, [gxi, gxr]).slice(0, blockLen);
}

export function phase2Iv(hash: HashAlg, lastPhase1Block: Uint8Array, messageId: number, blockLen: number): Uint8Array {
  return hashDigest(hash, [lastPhase1Block, u32be(messageId)]).slice(0, blockLen);
}

export function hashI(hash: HashAlg, skeyid: Uint8Array, gxi: Uint8Array, gxr: Uint8Array, ckyI: Uint8Array, ckyR: Uint8Array, saiB: Uint8Array, idiiB: Uint8Array): Uint8Array {
  return hmac(hash, skeyid, [gxi, gxr, ckyI, ckyR, saiB, idiiB]);
}

export function hashR(hash: HashAlg, skeyid: Uint8Array, gxi: Uint8Array, gxr: Uint8Array, ckyI: Uint8Array, ckyR: Uint8Array, saiB: Uint8Array, idirB: Uint8Array): Uint8Array {
  return hmac(hash, skeyid, [gxr, gxi, ckyR, ckyI, saiB, idirB]);
}

/** Quick Mode / Informational HASH(1): prf(SKEYID_a, M-ID | payloads after the HASH payload). */
export function hash1(hash: HashAlg, skeyidA: Uint8Array, messageId: number, rest: Uint8Array): Uint8Array {
  return hmac(hash, skeyidA, [u32be(messageId), rest]);
}

/** Quick Mode HASH(2): prf(SKEYID_a, M-ID | Ni_b | payloads after the HASH payload). */
export function hash2(hash: HashAlg, skeyidA: Uint8Array, messageId: number, niB: Uint8Array, rest: Uint8Array): Uint8Array {
  return hmac(hash, skeyidA, [u32be(messageId), niB, rest]);
}

/** Quick Mode HASH(3): prf(SKEYID_a, 0 | M-ID | Ni_b | Nr_b). */
export function hash3(hash: HashAlg, skeyidA: Uint8Array, messageId: number, niB: Uint8Array, nrB: Uint8Array): Uint8Array {
  return hmac(hash, skeyidA, [Uint8Array.of(0), u32be(messageId), niB, nrB]);
}

/** RFC 2409 5.5 KEYMAT for one SA (one direction: `spi` is the receiving side's SPI). */
export function quickModeKeymat(
  hash: HashAlg,
  skeyidD: Uint8Array,
  gxyQm: Uint8Array | undefined,
  protocolId: number,
  spi: Uint8Array,
  niB: Uint8Array,
  nrB: Uint8Array,
  length: number,
): Uint8Array {
  const seed: Uint8Array[] = [];
  if (gxyQm) seed.push(gxyQm);
  seed.push(Uint8Array.of(protocolId), spi, niB, nrB);
  const parts: Uint8Array[] = [];
  let have = 0;
  let k = hmac(hash, skeyidD, seed);
  for (;;) {
    parts.push(k);
    have += k.length;
    if (have >= length) break;
    k = hmac(hash, skeyidD, [k, ...seed]);
  }
  const out = new Uint8Array(have);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out.slice(0, length);
}

/** RFC 3947 3.2 NAT-D = HASH(CKY-I | CKY-R | IP | Port) with the negotiated hash. */
export function natdHash(hash: HashAlg, ckyI: Uint8Array, ckyR: Uint8Array, ip: Uint8Array, port: number): Uint8Array {
  return hashDigest(hash, [ckyI, ckyR, ip, Uint8Array.of((port >> 8) & 0xff, port & 0xff)]);
}
