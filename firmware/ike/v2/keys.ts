// Key derivation, RFC 7296 2.14 (IKE SA), 2.18 (IKE SA rekey), 2.17 (Child SA) and the
// PSK AUTH computation of 2.15.
import { PrfId } from '../../proto/ikev2/index.js';
import { concatAll, prfPlus, type Prf } from '../crypto/index.js';
import type { ChildSuite, IkeSuite } from './algorithms.js';

export interface IkeKeys {
  skD: Uint8Array;
  skAi: Uint8Array;
  skAr: Uint8Array;
  skEi: Uint8Array;
  skEr: Uint8Array;
  skPi: Uint8Array;
  skPr: Uint8Array;
}

function spiBytes(spi: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, spi));
  return b;
}

/** SKEYSEED = prf(Ni | Nr, g^ir). For fixed-key-size PRFs (AES-XCBC) the key is the first
 *  64 bits of Ni and of Nr (2.14). */
export function skeyseedInitial(prf: Prf, prfId: number, ni: Uint8Array, nr: Uint8Array, gir: Uint8Array): Uint8Array {
  const key = prfId === PrfId.PRF_AES128_XCBC
    ? concatAll([ni.subarray(0, 8), nr.subarray(0, 8)])
    : concatAll([ni, nr]);
  return prf.compute(key, gir);
}

/** Rekeyed IKE SA: SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr) (2.18). */
export function skeyseedRekey(oldPrf: Prf, oldSkD: Uint8Array, gir: Uint8Array, ni: Uint8Array, nr: Uint8Array): Uint8Array {
  return oldPrf.compute(oldSkD, [gir, ni, nr]);
}

/** {SK_d | SK_ai | SK_ar | SK_ei | SK_er | SK_pi | SK_pr} = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr). */
export function deriveIkeKeys(suite: IkeSuite, skeyseed: Uint8Array, ni: Uint8Array, nr: Uint8Array, spiI: bigint, spiR: bigint): IkeKeys {
  const p = suite.prfFn.keyLen;
  const a = suite.integKeyLen;
  const e = suite.encrKeyLen;
  const total = p + 2 * a + 2 * e + 2 * p;
  const km = prfPlus(suite.prfFn, skeyseed, concatAll([ni, nr, spiBytes(spiI), spiBytes(spiR)]), total);
  let o = 0;
  const take = (n: number): Uint8Array => {
    const r = km.slice(o, o + n);
    o += n;
    return r;
  };
  return { skD: take(p), skAi: take(a), skAr: take(a), skEi: take(e), skEr: take(e), skPi: take(p), skPr: take(p) };
}

export interface ChildKeys {
  /** Initiator -> responder. */
  encrI: Uint8Array;
  integI: Uint8Array;
  /** Responder -> initiator. */
  encrR: Uint8Array;
  integR: Uint8Array;
}

/** KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr); initiator->responder keys first, encryption before integrity (2.17). */
export function deriveChildKeys(prf: Prf, skD: Uint8Array, suite: ChildSuite, ni: Uint8Array, nr: Uint8Array, gir?: Uint8Array): ChildKeys {
  const e = suite.encrKeyLen;
  const a = suite.integKeyLen;
  const seed = gir ? concatAll([gir, ni, nr]) : concatAll([ni, nr]);
  const km = prfPlus(prf, skD, seed, 2 * (e + a));
  return {
    encrI: km.slice(0, e),
    integI: km.slice(e, e + a),
    encrR: km.slice(e + a, 2 * e + a),
    integR: km.slice(2 * e + a, 2 * (e + a)),
  };
}

const KEY_PAD = new TextEncoder().encode('Key Pad for IKEv2');

/**
 * AUTH = prf( prf(Shared Secret, "Key Pad for IKEv2"), <SignedOctets> ) with
 * SignedOctets = RealMessage | Nonce(peer) | prf(SK_p, RestOfIDPayload) (2.15).
 */
export function pskAuth(prf: Prf, psk: Uint8Array, realMessage: Uint8Array, peerNonce: Uint8Array, skP: Uint8Array, idBody: Uint8Array): Uint8Array {
  const macedId = prf.compute(skP, idBody);
  const keyed = prf.compute(psk, KEY_PAD);
  return prf.compute(keyed, [realMessage, peerNonce, macedId]);
}
