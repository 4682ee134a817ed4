// AH wire format (RFC 4302 section 2):
//
//  | Next Header   |  Payload Len  |          RESERVED             |
//  |                 Security Parameters Index (SPI)               |
//  |                    Sequence Number Field                      |
//  |                Integrity Check Value-ICV (variable)           |
//
// Payload Len = AH length in 32-bit words minus 2. The ICV is padded so the header is a
// multiple of 4 bytes (IPv4) or 8 bytes (IPv6).

import { DecodeError } from '../lib/errors.js';
import { IPPROTO_DSTOPTS, IPPROTO_HOPOPTS } from './ip-packet.js';

export const AH_FIXED_LENGTH = 12;

export class AhDecodeError extends DecodeError {}

export interface AhHeader {
  readonly nextHeader: number;
  /** Whole AH length in bytes (fixed part + ICV + ICV padding). */
  readonly length: number;
  readonly spi: number;
  readonly seq: number;
}

function u32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) >>> 0) + ((buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!);
}

/** AH header length for an ICV of icvLength bytes in an IPv4 (4) or IPv6 (6) packet. */
export function ahHeaderLength(icvLength: number, ipVersion: 4 | 6): number {
  const align = ipVersion === 6 ? 8 : 4;
  const raw = AH_FIXED_LENGTH + icvLength;
  return Math.ceil(raw / align) * align;
}

/** Parses the AH header at buf[offset]; undefined when truncated or inconsistent. */
export function parseAhHeader(buf: Uint8Array, offset: number, end = buf.length): AhHeader | undefined {
  if (end - offset < AH_FIXED_LENGTH) return undefined;
  const length = (buf[offset + 1]! + 2) * 4;
  if (length < AH_FIXED_LENGTH || offset + length > end) return undefined;
  return { nextHeader: buf[offset]!, length, spi: u32(buf, offset + 4), seq: u32(buf, offset + 8) };
}

export function decodeAhHeader(buf: Uint8Array, offset = 0): AhHeader {
  const h = parseAhHeader(buf, offset);
  if (!h) throw new AhDecodeError('truncated or inconsistent AH header', offset);
  return h;
}

/** Writes the AH header with a zero ICV field (length bytes in total). */
export function writeAhHeader(buf: Uint8Array, offset: number, nextHeader: number, length: number, spi: number, seq: number): void {
  buf[offset] = nextHeader;
  buf[offset + 1] = length / 4 - 2;
  buf[offset + 2] = 0;
  buf[offset + 3] = 0;
  buf[offset + 4] = spi >>> 24;
  buf[offset + 5] = (spi >>> 16) & 0xff;
  buf[offset + 6] = (spi >>> 8) & 0xff;
  buf[offset + 7] = spi & 0xff;
  buf[offset + 8] = seq >>> 24;
  buf[offset + 9] = (seq >>> 16) & 0xff;
  buf[offset + 10] = (seq >>> 8) & 0xff;
  buf[offset + 11] = seq & 0xff;
  buf.fill(0, offset + AH_FIXED_LENGTH, offset + length);
}

/** IPv4 options that are immutable in transit and so stay in the ICV (RFC 4302 A.1). */
const IMMUTABLE_IPV4_OPTIONS = new Set([0, 1, 130, 133, 134, 148, 149]);

/**
 * Zeroes the fields of the IP header(s) at pkt[0, headerLength) that change in transit
 * (RFC 4302 3.3.3.1): IPv4 TOS, flags+fragment offset, TTL, checksum and mutable options;
 * IPv6 traffic class, flow label, hop limit and the data of options marked "may change"
 * in hop-by-hop / destination options headers. Saves what it zeroes into `saved`
 * (at least headerLength bytes) so restoreMutableFields can put it back.
 * Limitation: IPv4 source-route options and IPv6 routing headers are zeroed/kept as is,
 * not predicted to their final values.
 */
export function zeroMutableFields(pkt: Uint8Array, headerLength: number, saved: Uint8Array): void {
  saved.set(pkt.subarray(0, headerLength), 0);
  if (pkt[0]! >>> 4 === 4) {
    pkt[1] = 0;
    pkt[6] = 0;
    pkt[7] = 0;
    pkt[8] = 0;
    pkt[10] = 0;
    pkt[11] = 0;
    const ihl = (pkt[0]! & 0x0f) * 4;
    let i = 20;
    while (i < ihl) {
      const type = pkt[i]!;
      if (type === 0) break;
      if (type === 1) { i++; continue; }
      const len = i + 1 < ihl ? pkt[i + 1]! : 0;
      if (len < 2 || i + len > ihl) { pkt.fill(0, i, ihl); break; }
      if (!IMMUTABLE_IPV4_OPTIONS.has(type)) pkt.fill(0, i, i + len);
      i += len;
    }
    return;
  }
  pkt[0] = 0x60;
  pkt[1] = 0;
  pkt[2] = 0;
  pkt[3] = 0;
  pkt[7] = 0;
  let nh = pkt[6]!;
  let off = 40;
  while (off + 8 <= headerLength) {
    const len = nh === 44 ? 8 : (pkt[off + 1]! + 1) * 8;
    if (nh === IPPROTO_HOPOPTS || nh === IPPROTO_DSTOPTS) {
      let i = off + 2;
      const end = Math.min(off + len, headerLength);
      while (i < end) {
        const type = pkt[i]!;
        if (type === 0) { i++; continue; }
        if (i + 1 >= end) break;
        const olen = pkt[i + 1]!;
        if (type & 0x20) pkt.fill(0, i + 2, Math.min(i + 2 + olen, end));
        i += 2 + olen;
      }
    }
    nh = pkt[off]!;
    off += len;
  }
}

export function restoreMutableFields(pkt: Uint8Array, headerLength: number, saved: Uint8Array): void {
  pkt.set(saved.subarray(0, headerLength), 0);
}
