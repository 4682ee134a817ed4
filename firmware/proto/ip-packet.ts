// Minimal IPv4 / IPv6 header parsing and building, plus the Internet checksum, for what
// ESP/AH tunnel and transport mode need. Pure functions over Uint8Array.
//
// `parseIpHeader` returns undefined (no throw) for the packet path; `decodeIpHeader`
// throws IpHeaderError with the offset for callers that prefer exceptions.

import { DecodeError } from '../lib/errors.js';

export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4; // IPv4 in IP: ESP next header in tunnel mode
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59; // "no next header": ESP dummy packets (RFC 4303 2.6)
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_COMP = 108; // IPComp, RFC 3173

export const IPV4_HEADER_LENGTH = 20;
export const IPV6_HEADER_LENGTH = 40;

export class IpHeaderError extends DecodeError {}

export interface IpHeaderInfo {
  readonly version: 4 | 6;
  /** Bytes of IP header(s) that stay in front of an inserted ESP/AH header in transport
   * mode: IPv4 header with options, or IPv6 header plus hop-by-hop/routing/fragment headers. */
  readonly headerLength: number;
  /** Total packet length claimed by the header (<= buffer length). */
  readonly totalLength: number;
  /** Protocol of what follows headerLength (IPv4 protocol, or last next-header of the chain). */
  readonly protocol: number;
  /** Offset of the byte holding `protocol` (IPv4: 9; IPv6: 6 or inside the last extension). */
  readonly protocolOffset: number;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  /** IPv4 only: a fragment (MF set or offset != 0). IPv6: a fragment header was seen. */
  readonly fragment: boolean;
}

/**
 * Parses the IP header at the start of `pkt`. Returns undefined when the bytes are not a
 * well-formed IPv4/IPv6 header or claim more bytes than there are.
 */
export function parseIpHeader(pkt: Uint8Array): IpHeaderInfo | undefined {
  if (pkt.length < 1) return undefined;
  const v = pkt[0]! >>> 4;
  if (v === 4) {
    if (pkt.length < IPV4_HEADER_LENGTH) return undefined;
    const ihl = (pkt[0]! & 0x0f) * 4;
    const total = (pkt[2]! << 8) | pkt[3]!;
    if (ihl < IPV4_HEADER_LENGTH || total < ihl || total > pkt.length) return undefined;
    const fragField = ((pkt[6]! << 8) | pkt[7]!) & 0x3fff;
    return {
      version: 4, headerLength: ihl, totalLength: total, protocol: pkt[9]!, protocolOffset: 9,
      src: pkt.subarray(12, 16), dst: pkt.subarray(16, 20), fragment: fragField !== 0,
    };
  }
  if (v === 6) {
    if (pkt.length < IPV6_HEADER_LENGTH) return undefined;
    const total = IPV6_HEADER_LENGTH + ((pkt[4]! << 8) | pkt[5]!);
    if (total > pkt.length) return undefined;
    let nh = pkt[6]!;
    let nhOff = 6;
    let off = IPV6_HEADER_LENGTH;
    let fragment = false;
    // Headers that precede ESP/AH in transport mode (RFC 4303 3.1.1): hop-by-hop, routing, fragment.
    for (let guard = 0; guard < 8 && (nh === IPPROTO_HOPOPTS || nh === IPPROTO_ROUTING || nh === IPPROTO_FRAGMENT); guard++) {
      if (off + 8 > total) return undefined;
      const len = nh === IPPROTO_FRAGMENT ? 8 : (pkt[off + 1]! + 1) * 8;
      if (nh === IPPROTO_FRAGMENT) fragment = true;
      if (off + len > total) return undefined;
      nhOff = off;
      nh = pkt[off]!;
      off += len;
    }
    return {
      version: 6, headerLength: off, totalLength: total, protocol: nh, protocolOffset: nhOff,
      src: pkt.subarray(8, 24), dst: pkt.subarray(24, 40), fragment,
    };
  }
  return undefined;
}

/** Like parseIpHeader but throws IpHeaderError. */
export function decodeIpHeader(pkt: Uint8Array): IpHeaderInfo {
  const h = parseIpHeader(pkt);
  if (!h) throw new IpHeaderError('malformed or truncated IP header', 0);
  return h;
}

/**
 * One's-complement sum of buf[start, end) added to `sum` (not folded). The one sum of the
 * firmware: IP/TCP/UDP checksums, TUN segmentation and GRO all run through it.
 *
 * Fast path (~3x the byte loop on full packets, measured here): 32-bit little-endian loads
 * through one cached view of the buffer's ArrayBuffer (a typed array per call costs as much
 * as summing a small packet), 4 words a step. One's-complement sums do not depend on byte
 * order (RFC 1071 2(B)): fold the little-endian total, swap its two bytes.
 */
export function onesSum(buf: Uint8Array, start: number, end: number, sum = 0): number {
  let i = start;
  if (((buf.byteOffset + i) & 1) === 0 && end - i >= 64) {
    if (((buf.byteOffset + i) & 3) !== 0) { sum += (buf[i]! << 8) | buf[i + 1]!; i += 2; }
    if (buf.buffer !== viewOf) {
      viewOf = buf.buffer;
      view32 = new Uint32Array(buf.buffer, 0, buf.buffer.byteLength >>> 2);
    }
    const w = view32;
    const k0 = (buf.byteOffset + i) >>> 2;
    const k1 = k0 + ((end - i) >>> 2);
    let acc = 0; // doubles: exact below 2^53, i.e. for any buffer up to 2^21 words
    let k = k0;
    for (; k + 3 < k1; k += 4) acc += w[k]! + w[k + 1]! + w[k + 2]! + w[k + 3]!;
    for (; k < k1; k++) acc += w[k]!;
    i += (k1 - k0) * 4;
    while (acc > 0xffff) acc = (acc % 0x10000) + Math.floor(acc / 0x10000);
    sum += ((acc & 0xff) << 8) | (acc >>> 8);
  }
  for (; i + 1 < end; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

let viewOf: ArrayBufferLike | undefined;
let view32: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

/** Folds a one's-complement sum to 16 bits, not complemented (a CHECKSUM_PARTIAL seed). */
export function foldOnesSum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** Folds a one's-complement sum and complements it: the checksum field value. */
export function foldChecksum(sum: number): number {
  return ~foldOnesSum(sum) & 0xffff;
}

/** RFC 1071 Internet checksum of buf[start, end). */
export function internetChecksum(buf: Uint8Array, start = 0, end = buf.length): number {
  return foldChecksum(onesSum(buf, start, end));
}

/** Recomputes the IPv4 header checksum in place. */
export function setIpv4HeaderChecksum(pkt: Uint8Array, offset = 0): void {
  const ihl = (pkt[offset]! & 0x0f) * 4;
  pkt[offset + 10] = 0;
  pkt[offset + 11] = 0;
  const c = internetChecksum(pkt, offset, offset + ihl);
  pkt[offset + 10] = c >>> 8;
  pkt[offset + 11] = c & 0xff;
}

export function ipv4HeaderChecksumOk(pkt: Uint8Array, offset = 0): boolean {
  const ihl = (pkt[offset]! & 0x0f) * 4;
  return foldChecksum(onesSum(pkt, offset, offset + ihl)) === 0;
}

/** Pseudo-header sum (RFC 768 / RFC 8200 8.1) for TCP/UDP checksums. */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  let s = onesSum(src, 0, src.length) + onesSum(dst, 0, dst.length) + protocol;
  s += src.length === 16 ? Math.floor(length / 0x10000) + (length & 0xffff) : length;
  return s;
}

/**
 * Recomputes a TCP or UDP checksum at buf[l4Offset, l4Offset+l4Length) with the given
 * addresses. A UDP-over-IPv4 checksum of 0 ("none") is left alone. Returns false when the
 * segment is too short to hold its checksum field.
 */
export function fixL4Checksum(buf: Uint8Array, l4Offset: number, l4Length: number, protocol: number, src: Uint8Array, dst: Uint8Array): boolean {
  const field = protocol === IPPROTO_TCP ? 16 : protocol === IPPROTO_UDP ? 6 : -1;
  if (field < 0) return true;
  if (l4Length < field + 2) return false;
  const p = l4Offset + field;
  if (protocol === IPPROTO_UDP && src.length === 4 && buf[p] === 0 && buf[p + 1] === 0) return true;
  buf[p] = 0;
  buf[p + 1] = 0;
  let c = foldChecksum(onesSum(buf, l4Offset, l4Offset + l4Length, pseudoHeaderSum(src, dst, protocol, l4Length)));
  if (c === 0 && protocol === IPPROTO_UDP) c = 0xffff;
  buf[p] = c >>> 8;
  buf[p + 1] = c & 0xff;
  return true;
}

export interface OuterHeaderFields {
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly protocol: number;
  /** Bytes after the header. */
  readonly payloadLength: number;
  /** IPv4 TOS / IPv6 traffic class (DSCP + ECN). */
  readonly tos: number;
  readonly ttl: number;
  /** IPv4 only. */
  readonly dontFragment: boolean;
  /** IPv4 only. */
  readonly id: number;
}

/** Header length writeIpHeader will use for these addresses (20 or 40). */
export function ipHeaderLengthFor(src: Uint8Array): number {
  return src.length === 16 ? IPV6_HEADER_LENGTH : IPV4_HEADER_LENGTH;
}

/** Writes a fresh IPv4 (4-byte addresses) or IPv6 (16-byte) header at buf[offset]. Returns its length. */
export function writeIpHeader(buf: Uint8Array, offset: number, f: OuterHeaderFields): number {
  if (f.src.length === 16) {
    buf[offset] = 0x60 | (f.tos >>> 4);
    buf[offset + 1] = (f.tos & 0x0f) << 4;
    buf[offset + 2] = 0;
    buf[offset + 3] = 0;
    buf[offset + 4] = f.payloadLength >>> 8;
    buf[offset + 5] = f.payloadLength & 0xff;
    buf[offset + 6] = f.protocol;
    buf[offset + 7] = f.ttl;
    buf.set(f.src, offset + 8);
    buf.set(f.dst, offset + 24);
    return IPV6_HEADER_LENGTH;
  }
  const total = IPV4_HEADER_LENGTH + f.payloadLength;
  buf[offset] = 0x45;
  buf[offset + 1] = f.tos;
  buf[offset + 2] = total >>> 8;
  buf[offset + 3] = total & 0xff;
  buf[offset + 4] = (f.id >>> 8) & 0xff;
  buf[offset + 5] = f.id & 0xff;
  buf[offset + 6] = f.dontFragment ? 0x40 : 0;
  buf[offset + 7] = 0;
  buf[offset + 8] = f.ttl;
  buf[offset + 9] = f.protocol;
  buf.set(f.src, offset + 12);
  buf.set(f.dst, offset + 16);
  setIpv4HeaderChecksum(buf, offset);
  return IPV4_HEADER_LENGTH;
}

/** TOS (IPv4) or traffic class (IPv6) of the packet at buf[0]. */
export function ipTos(pkt: Uint8Array): number {
  return pkt[0]! >>> 4 === 6 ? ((pkt[0]! & 0x0f) << 4) | (pkt[1]! >>> 4) : pkt[1]!;
}

/** Sets the total length (IPv4) / payload length (IPv6) of the header at buf[0]. */
export function setIpLength(pkt: Uint8Array, totalLength: number): void {
  if (pkt[0]! >>> 4 === 6) {
    const pl = totalLength - IPV6_HEADER_LENGTH;
    pkt[4] = pl >>> 8;
    pkt[5] = pl & 0xff;
  } else {
    pkt[2] = totalLength >>> 8;
    pkt[3] = totalLength & 0xff;
  }
}

/** ECN codepoints (RFC 3168). */
export const ECN_NOT_ECT = 0;
export const ECN_CE = 3;

/**
 * RFC 6040 decapsulation: when the outer header says CE and the inner packet is ECN-capable,
 * mark the inner packet CE (fixing the IPv4 checksum).
 */
export function propagateEcnCe(outerTos: number, inner: Uint8Array): void {
  if ((outerTos & 3) !== ECN_CE) return;
  const tos = ipTos(inner);
  if ((tos & 3) === ECN_NOT_ECT || (tos & 3) === ECN_CE) return;
  if (inner[0]! >>> 4 === 6) inner[1] = inner[1]! | 0x30;
  else {
    inner[1] = inner[1]! | 3;
    setIpv4HeaderChecksum(inner, 0);
  }
}
