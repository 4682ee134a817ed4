// IPComp header (RFC 3173 section 2.2):
//
//  |  Next Header  |     Flags     |  Compression Parameter Index  |
//
// Flags are reserved (0). CPIs 0..63 are the well-known transform ids (LZS = 3, RFC 2395),
// 64..255 are reserved, larger values are negotiated.

import { DecodeError } from '../lib/errors.js';

export const IPCOMP_HEADER_LENGTH = 4;
export const CPI_LZS = 3;

export class IpcompDecodeError extends DecodeError {}

export interface IpcompHeader {
  readonly nextHeader: number;
  readonly flags: number;
  readonly cpi: number;
}

export function parseIpcompHeader(buf: Uint8Array, offset: number, end = buf.length): IpcompHeader | undefined {
  if (end - offset < IPCOMP_HEADER_LENGTH) return undefined;
  return { nextHeader: buf[offset]!, flags: buf[offset + 1]!, cpi: (buf[offset + 2]! << 8) | buf[offset + 3]! };
}

export function decodeIpcompHeader(buf: Uint8Array, offset = 0): IpcompHeader {
  const h = parseIpcompHeader(buf, offset);
  if (!h) throw new IpcompDecodeError('truncated IPComp header', offset);
  return h;
}

export function writeIpcompHeader(buf: Uint8Array, offset: number, nextHeader: number, cpi: number): void {
  buf[offset] = nextHeader;
  buf[offset + 1] = 0;
  buf[offset + 2] = (cpi >>> 8) & 0xff;
  buf[offset + 3] = cpi & 0xff;
}
