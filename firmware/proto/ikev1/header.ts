// RFC 2408 3.1 ISAKMP header.
import { ByteWriter, beToBigInt, bigIntToBe, view } from './bytes.js';
import { COOKIE_LENGTH, ISAKMP_HEADER_LENGTH, ISAKMP_VERSION_MAJOR, ISAKMP_VERSION_MINOR } from './constants.js';
import { BadLengthError, InvalidMajorVersionError, TruncatedError } from './errors.js';

export interface IsakmpHeader {
  /** 8 bytes. */
  initiatorCookie: Uint8Array;
  /** 8 bytes; all zero in the first message of a phase-1 exchange. */
  responderCookie: Uint8Array;
  nextPayload: number;
  /** major << 4 | minor */
  version: number;
  exchangeType: number;
  flags: number;
  /** unsigned 32-bit */
  messageId: number;
  /** total message length including the header (and any padding). */
  length: number;
}

export const ZERO_COOKIE = new Uint8Array(COOKIE_LENGTH);
export const ISAKMP_VERSION = (ISAKMP_VERSION_MAJOR << 4) | ISAKMP_VERSION_MINOR;

export function cookieToBigInt(c: Uint8Array): bigint {
  return beToBigInt(c);
}
export function cookieFromBigInt(v: bigint): Uint8Array {
  return bigIntToBe(v, COOKIE_LENGTH);
}

export function encodeHeader(h: IsakmpHeader): Uint8Array {
  if (h.initiatorCookie.length !== COOKIE_LENGTH || h.responderCookie.length !== COOKIE_LENGTH) {
    throw new RangeError('ISAKMP cookies must be 8 bytes');
  }
  return new ByteWriter()
    .bytes(h.initiatorCookie)
    .bytes(h.responderCookie)
    .u8(h.nextPayload)
    .u8(h.version)
    .u8(h.exchangeType)
    .u8(h.flags)
    .u32(h.messageId)
    .u32(h.length)
    .finish();
}

/**
 * Decodes and checks the fixed header: 28 bytes present, major version 1, declared length
 * between 28 and the datagram size.
 */
export function decodeHeader(buf: Uint8Array): IsakmpHeader {
  if (buf.length < ISAKMP_HEADER_LENGTH) {
    throw new TruncatedError('ISAKMP header', 0, ISAKMP_HEADER_LENGTH, buf.length);
  }
  const dv = view(buf);
  const version = dv.getUint8(17);
  if (version >> 4 !== ISAKMP_VERSION_MAJOR) throw new InvalidMajorVersionError(17, version);
  const length = dv.getUint32(24);
  if (length < ISAKMP_HEADER_LENGTH) throw new BadLengthError('ISAKMP message', 24, length);
  if (length > buf.length) throw new TruncatedError('ISAKMP message', 24, length, buf.length);
  return {
    initiatorCookie: buf.slice(0, 8),
    responderCookie: buf.slice(8, 16),
    nextPayload: dv.getUint8(16),
    version,
    exchangeType: dv.getUint8(18),
    flags: dv.getUint8(19),
    messageId: dv.getUint32(20),
    length,
  };
}
