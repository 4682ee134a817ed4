// SK payload protection (RFC 7296 3.14, RFC 5282 for AES-GCM).
//
//  SK payload body:
//  | Initialization Vector (ivLen) | Encrypted IKE Payloads | Padding (0-255) | Pad Length | Integrity Checksum Data |
//  CBC: ICV = integ(SK_a, message from the IKE header through the Pad Length).
//  GCM: AAD = IKE header .. SK generic header; nonce = salt | IV; the ICV is the GCM tag.
import {
  decodeHeader, decodePayloadChain, encodeHeader, encodePayloadChain, IKE_HEADER_LENGTH, PayloadType,
  type AnyPayload, type IkeHeader,
} from '../../proto/ikev2/index.js';
import { randomBytesU8 } from '../crypto/index.js';
import type { IkeSuite } from './algorithms.js';

export interface DirectionKeys {
  encr: Uint8Array;
  integ: Uint8Array;
}

/** Build a complete protected message: header + SK{inner}. */
export function encryptMessage(suite: IkeSuite, keys: DirectionKeys, header: IkeHeader, inner: readonly AnyPayload[]): Uint8Array {
  const chain = encodePayloadChain(inner);
  const c = suite.cipher;
  const block = c.kind === 'aead' ? 4 : c.blockLen;
  const padLen = (block - ((chain.bytes.length + 1) % block)) % block;
  const plain = new Uint8Array(chain.bytes.length + padLen + 1);
  plain.set(chain.bytes);
  plain[plain.length - 1] = padLen;
  const iv = randomBytesU8(c.ivLen);
  const icvLen = c.kind === 'aead' ? c.icvLen : suite.integFn!.icvLen;
  const bodyLen = iv.length + plain.length + icvLen;
  const total = IKE_HEADER_LENGTH + 4 + bodyLen;
  const out = new Uint8Array(total);
  out.set(encodeHeader(header, PayloadType.SK, total), 0);
  const g = IKE_HEADER_LENGTH;
  out[g] = chain.firstType;
  out[g + 1] = 0;
  out[g + 2] = ((4 + bodyLen) >> 8) & 0xff;
  out[g + 3] = (4 + bodyLen) & 0xff;
  out.set(iv, g + 4);
  if (c.kind === 'aead') {
    const keyLen = c.keyLen;
    const sealed = c.seal(keys.encr.subarray(0, keyLen), keys.encr.subarray(keyLen), iv, out.subarray(0, g + 4), plain);
    out.set(sealed, g + 4 + iv.length);
  } else {
    const ct = c.encrypt(keys.encr, iv, plain);
    out.set(ct, g + 4 + iv.length);
    const icv = suite.integFn!.compute(keys.integ, out.subarray(0, total - icvLen));
    out.set(icv, total - icvLen);
  }
  return out;
}

export type DecryptResult =
  | { ok: true; payloads: AnyPayload[] }
  | { ok: false; reason: 'no-sk' | 'short' | 'icv' | 'padding' | 'decode'; error?: unknown };

/**
 * Verify and decrypt the SK payload of a received message. `skOffset` is the offset of the SK
 * generic header in `msg` (the SK payload must be last). Never throws.
 */
export function decryptMessage(suite: IkeSuite, keys: DirectionKeys, msg: Uint8Array, skOffset: number, firstInner: number): DecryptResult {
  const c = suite.cipher;
  const icvLen = c.kind === 'aead' ? c.icvLen : suite.integFn!.icvLen;
  const bodyStart = skOffset + 4;
  const bodyLen = msg.length - bodyStart;
  if (bodyLen < c.ivLen + icvLen + (c.kind === 'aead' ? 1 : c.blockLen)) return { ok: false, reason: 'short' };
  const iv = msg.subarray(bodyStart, bodyStart + c.ivLen);
  let plain: Uint8Array;
  if (c.kind === 'aead') {
    const keyLen = c.keyLen;
    const opened = c.open(keys.encr.subarray(0, keyLen), keys.encr.subarray(keyLen), iv, msg.subarray(0, bodyStart), msg.subarray(bodyStart + c.ivLen));
    if (!opened) return { ok: false, reason: 'icv' };
    plain = opened;
  } else {
    const integ = suite.integFn!;
    if (!integ.verify(keys.integ, msg.subarray(0, msg.length - icvLen), msg.subarray(msg.length - icvLen))) {
      return { ok: false, reason: 'icv' };
    }
    const ct = msg.subarray(bodyStart + c.ivLen, msg.length - icvLen);
    if (ct.length % c.blockLen !== 0) return { ok: false, reason: 'short' };
    plain = c.decrypt(keys.encr, iv, ct);
  }
  const padLen = plain[plain.length - 1]!;
  if (padLen + 1 > plain.length) return { ok: false, reason: 'padding' };
  try {
    return { ok: true, payloads: decodePayloadChain(plain, firstInner, 0, plain.length - padLen - 1) };
  } catch (error) {
    return { ok: false, reason: 'decode', error };
  }
}

/** Offset of the SK payload's generic header in a message whose outer chain ends with SK. */
export function findSkOffset(msg: Uint8Array): number {
  const h = decodeHeader(msg);
  let type = h.nextPayload ?? 0;
  let off = IKE_HEADER_LENGTH;
  while (type !== PayloadType.SK && type !== PayloadType.NONE && off + 4 <= msg.length) {
    const next = msg[off]!;
    const len = (msg[off + 2]! << 8) | msg[off + 3]!;
    if (len < 4) return -1;
    off += len;
    type = next;
  }
  return type === PayloadType.SK ? off : -1;
}
