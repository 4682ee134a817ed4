// UDP encapsulation of ESP (RFC 3948) on port 4500:
//   UDP header | ESP header (SPI != 0) ...               ESP in UDP
//   UDP header | 0x00000000 (non-ESP marker) | IKE ...    IKE on port 4500
//   UDP header | 0xFF                                     NAT-keepalive (RFC 3948 2.3)

import { DecodeError } from '../lib/errors.js';

export const NAT_T_PORT = 4500;
export const UDP_HEADER_LENGTH = 8;
export const NON_ESP_MARKER_LENGTH = 4;
export const NAT_KEEPALIVE_BYTE = 0xff;

export class UdpDecodeError extends DecodeError {}

export type UdpEncapKind = 'esp' | 'ike' | 'keepalive' | 'malformed';

/**
 * Classifies a UDP payload received on the NAT-T port. 'ike' means a non-ESP marker
 * (the IKE message starts 4 bytes in); 'esp' needs at least an 8-byte ESP header.
 */
export function classifyUdpEncap(payload: Uint8Array, offset = 0, end = payload.length): UdpEncapKind {
  const len = end - offset;
  if (len === 1 && payload[offset] === NAT_KEEPALIVE_BYTE) return 'keepalive';
  if (len < 4) return 'malformed';
  if (payload[offset] === 0 && payload[offset + 1] === 0 && payload[offset + 2] === 0 && payload[offset + 3] === 0) return 'ike';
  return len >= 8 ? 'esp' : 'malformed';
}

export interface UdpHeader {
  readonly srcPort: number;
  readonly dstPort: number;
  readonly length: number;
  readonly checksum: number;
}

export function parseUdpHeader(buf: Uint8Array, offset: number, end = buf.length): UdpHeader | undefined {
  if (end - offset < UDP_HEADER_LENGTH) return undefined;
  const length = (buf[offset + 4]! << 8) | buf[offset + 5]!;
  if (length < UDP_HEADER_LENGTH || offset + length > end) return undefined;
  return { srcPort: (buf[offset]! << 8) | buf[offset + 1]!, dstPort: (buf[offset + 2]! << 8) | buf[offset + 3]!, length, checksum: (buf[offset + 6]! << 8) | buf[offset + 7]! };
}

export function decodeUdpHeader(buf: Uint8Array, offset = 0): UdpHeader {
  const h = parseUdpHeader(buf, offset);
  if (!h) throw new UdpDecodeError('truncated or inconsistent UDP header', offset);
  return h;
}

/** Writes a UDP header with checksum 0 (RFC 3948 2.1: SHOULD be zero for IPv4). */
export function writeUdpHeader(buf: Uint8Array, offset: number, srcPort: number, dstPort: number, length: number): void {
  buf[offset] = srcPort >>> 8;
  buf[offset + 1] = srcPort & 0xff;
  buf[offset + 2] = dstPort >>> 8;
  buf[offset + 3] = dstPort & 0xff;
  buf[offset + 4] = length >>> 8;
  buf[offset + 5] = length & 0xff;
  buf[offset + 6] = 0;
  buf[offset + 7] = 0;
}

/** The one-byte NAT-keepalive payload. */
export function natKeepalivePayload(): Uint8Array {
  return Uint8Array.of(NAT_KEEPALIVE_BYTE);
}
