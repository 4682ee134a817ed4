// ESP wire format (RFC 4303 section 2):
//
//   0                   1                   2                   3
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//  |               Security Parameters Index (SPI)                 |
//  |                      Sequence Number                          |
//  |                    IV (variable, part of payload)             |
//  |                    Payload Data (variable)                    |
//  |               |     Padding (0-255 bytes)                     |
//  |                               |  Pad Length   | Next Header   |
//  |         Integrity Check Value-ICV   (variable)                |
//  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+

import { DecodeError } from '../lib/errors.js';

export const ESP_HEADER_LENGTH = 8;
/** Pad Length + Next Header. */
export const ESP_TRAILER_LENGTH = 2;
/** SPI values 1..255 are reserved by IANA; 0 is never sent. */
export const ESP_SPI_RESERVED_MAX = 255;

export class EspDecodeError extends DecodeError {}

export interface EspHeader {
  readonly spi: number;
  readonly seq: number;
}

export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) >>> 0) + ((buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!);
}

export function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 24;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

/** SPI of the ESP packet at buf[offset], or -1 when fewer than 8 bytes are there. */
export function peekEspSpi(buf: Uint8Array, offset = 0): number {
  return buf.length - offset < ESP_HEADER_LENGTH ? -1 : readU32(buf, offset);
}

export function decodeEspHeader(buf: Uint8Array, offset = 0): EspHeader {
  if (buf.length - offset < ESP_HEADER_LENGTH) throw new EspDecodeError('truncated ESP header', offset);
  return { spi: readU32(buf, offset), seq: readU32(buf, offset + 4) };
}

export function writeEspHeader(buf: Uint8Array, offset: number, spi: number, seq: number): void {
  writeU32(buf, offset, spi);
  writeU32(buf, offset + 4, seq);
}

/**
 * Padding so that payload + padding + 2 is a multiple of `blockSize` (>= 4, RFC 4303 2.4).
 * `extra` adds TFC-style padding in whole blocks (0 normally).
 */
export function espPadLength(payloadLength: number, blockSize: number): number {
  const align = blockSize < 4 ? 4 : blockSize;
  return (align - ((payloadLength + ESP_TRAILER_LENGTH) % align)) % align;
}

/** Writes the default padding 1, 2, 3, ... (RFC 4303 2.4), pad length and next header. */
export function writeEspTrailer(buf: Uint8Array, offset: number, padLength: number, nextHeader: number): void {
  for (let i = 0; i < padLength; i++) buf[offset + i] = i + 1;
  buf[offset + padLength] = padLength;
  buf[offset + padLength + 1] = nextHeader;
}

export type EspTrailerCheck = 'ok' | 'bad-padding' | 'truncated';

/**
 * Checks the decrypted trailer ending at `end` (exclusive) with payload starting at
 * `payloadStart`: pad length fits and the padding bytes are 1, 2, 3...
 * Returns the pad length (>= 0) or a negative code: -1 bad padding, -2 too short.
 */
export function checkEspTrailer(buf: Uint8Array, payloadStart: number, end: number): number {
  if (end - payloadStart < ESP_TRAILER_LENGTH) return -2;
  const padLength = buf[end - 2]!;
  const padStart = end - ESP_TRAILER_LENGTH - padLength;
  if (padStart < payloadStart) return -1;
  for (let i = 0; i < padLength; i++) if (buf[padStart + i] !== ((i + 1) & 0xff)) return -1;
  return padLength;
}
