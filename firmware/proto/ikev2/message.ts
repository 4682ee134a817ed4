// IKEv2 message = IKE header + payload chain (RFC 7296 3.1).
//
//                      1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                       IKE SA Initiator's SPI                  |   0..7
// |                       IKE SA Responder's SPI                  |   8..15
// |  Next Payload | MjVer | MnVer | Exchange Type |     Flags     |   16 17 18 19
// |                          Message ID                           |   20..23
// |                            Length                             |   24..27
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   Flags: X X R V I X X X  ->  R = 0x20 (response), V = 0x10, I = 0x08 (original initiator)
import { HeaderFlag, IKE_HEADER_LENGTH } from './constants.js';
import { BadLengthError, InvalidMajorVersionError, TruncatedError } from './errors.js';
import type { AnyPayload, IkeHeader, IkeMessage } from './payload-types.js';
import { concatBytes, decodePayloadChain, encodePayloadChain } from './payloads.js';

/** Decode only the 28-byte header (no length cross-check beyond the header itself). */
export function decodeHeader(b: Uint8Array): IkeHeader {
  if (b.length < IKE_HEADER_LENGTH) throw new TruncatedError('IKE header', 0, IKE_HEADER_LENGTH, b.length);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const flags = b[19]!;
  return {
    spiI: dv.getBigUint64(0),
    spiR: dv.getBigUint64(8),
    nextPayload: b[16]!,
    majorVersion: b[17]! >> 4,
    minorVersion: b[17]! & 0x0f,
    exchangeType: b[18]!,
    initiator: (flags & HeaderFlag.INITIATOR) !== 0,
    response: (flags & HeaderFlag.RESPONSE) !== 0,
    version: (flags & HeaderFlag.VERSION) !== 0,
    messageId: dv.getUint32(20),
    length: dv.getUint32(24),
  };
}

export function encodeHeader(h: IkeHeader, nextPayload: number, totalLength: number): Uint8Array {
  const b = new Uint8Array(IKE_HEADER_LENGTH);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt.asUintN(64, h.spiI));
  dv.setBigUint64(8, BigInt.asUintN(64, h.spiR));
  b[16] = nextPayload;
  b[17] = ((h.majorVersion ?? 2) << 4) | (h.minorVersion ?? 0);
  b[18] = h.exchangeType;
  b[19] = (h.initiator ? HeaderFlag.INITIATOR : 0) | (h.response ? HeaderFlag.RESPONSE : 0) | (h.version ? HeaderFlag.VERSION : 0);
  dv.setUint32(20, h.messageId >>> 0);
  dv.setUint32(24, totalLength >>> 0);
  return b;
}

/** Encode a whole message; the header's Next Payload and Length are computed. */
export function encodeMessage(header: IkeHeader, payloads: readonly AnyPayload[]): Uint8Array {
  const chain = encodePayloadChain(payloads);
  const total = IKE_HEADER_LENGTH + chain.bytes.length;
  return concatBytes([encodeHeader(header, chain.firstType, total), chain.bytes]);
}

/**
 * Decode a whole message. Checks: header present, major version 2 (InvalidMajorVersionError),
 * Length equal to the datagram size, and the payload chain (see decodePayloadChain).
 * An SK payload, if any, is returned still encrypted as the last payload.
 */
export function decodeMessage(b: Uint8Array): IkeMessage {
  const header = decodeHeader(b);
  if (header.majorVersion !== 2) throw new InvalidMajorVersionError(header.majorVersion ?? 0, 17);
  if (header.length !== b.length) throw new BadLengthError('IKE message (header Length vs datagram)', 24, header.length ?? 0);
  const payloads = decodePayloadChain(b, header.nextPayload ?? 0, IKE_HEADER_LENGTH, b.length);
  return { header, payloads };
}
