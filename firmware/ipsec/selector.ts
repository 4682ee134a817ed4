// Traffic selectors: address sets (IPv4/IPv6, address+wildcard mask or range), protocol
// and port ranges; the 5-tuple packet key the data plane classifies; containment and
// intersection helpers used by the SPD (scope of an SA), IKEv1 (is the peer's proxy
// identity inside a local permit entry?) and IKEv2 (narrowing of TSi/TSr).
//
// Representation choices:
// - Configuration-side addresses are `bigint` (exact for 128-bit IPv6, never signed).
// - The per-packet key carries addresses as Uint32Array words (1 word for IPv4, 4 words,
//   most significant first, for IPv6) so the hot path never builds a bigint.
// - An address set is either a mask (`addr` + `wildcard`, wildcard bits are "don't care",
//   as in IOS ACLs; non-contiguous wildcards are allowed) or an inclusive range (IKEv2
//   traffic selectors, IKEv1 ID_IPV4_ADDR_RANGE).

export type Family = 4 | 6;

/** An IP address value. */
export interface IpAddr {
  readonly family: Family;
  readonly value: bigint;
}

/** Address set given by value and wildcard (bits set in `wildcard` are not compared). */
export interface AddrMask {
  readonly kind: 'mask';
  readonly family: Family;
  /** Always normalised: `addr & wildcard === 0n`. */
  readonly addr: bigint;
  readonly wildcard: bigint;
}

/** Inclusive address range. */
export interface AddrRange {
  readonly kind: 'range';
  readonly family: Family;
  readonly lo: bigint;
  readonly hi: bigint;
}

export type AddrSet = AddrMask | AddrRange;

/** Inclusive port range; `{lo: 0, hi: 65535}` is "any port". */
export interface PortRange {
  readonly lo: number;
  readonly hi: number;
}

export const ANY_PORTS: PortRange = Object.freeze({ lo: 0, hi: 65535 });

/** IP protocol numbers used here. 0 in a selector means "any protocol" (IOS `ip`). */
export const IPPROTO_ANY = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_IPCOMP = 108;
export const IPPROTO_SCTP = 132;

/**
 * A traffic selector, always written from the local point of view in the outbound
 * direction: `src` is the protected local side, `dst` the remote side.
 */
export interface TrafficSelector {
  readonly family: Family;
  readonly src: AddrSet;
  readonly dst: AddrSet;
  /** 0 = any protocol. */
  readonly proto: number;
  readonly srcPorts: PortRange;
  readonly dstPorts: PortRange;
}

/**
 * 5-tuple of a packet. Ports are 0 for protocols without ports and for non-first
 * fragments. ICMP and ICMPv6 carry `type << 8 | code` in BOTH port fields (the RFC 4301 /
 * RFC 7296 convention of the type in the high byte), so the value survives mirroring.
 * The object is meant to be reused by the data plane (see `packetKeyFromIp`).
 */
export interface PacketKey {
  family: Family;
  /** 1 word (IPv4) or 4 words (IPv6), most significant word first. */
  src: Uint32Array;
  dst: Uint32Array;
  proto: number;
  srcPort: number;
  dstPort: number;
}

// ---------------------------------------------------------------- errors

export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}
export class AddressParseError extends SelectorError {}
export class FamilyMismatchError extends SelectorError {}

// ---------------------------------------------------------------- addresses

export function familyBits(family: Family): number {
  return family === 4 ? 32 : 128;
}

export function allOnes(family: Family): bigint {
  return family === 4 ? 0xffffffffn : (1n << 128n) - 1n;
}

function parseIpv4Value(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseIpv6Value(text: string): bigint | undefined {
  let s = text;
  const pct = s.indexOf('%');
  if (pct >= 0) s = s.slice(0, pct);
  // embedded IPv4 tail (::ffff:1.2.3.4): rewrite it as two hex groups
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    const v4 = parseIpv4Value(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::')) return undefined;
  const parseGroups = (g: string): number[] | undefined => {
    if (g === '') return [];
    const out: number[] = [];
    for (const h of g.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(h)) return undefined;
      out.push(parseInt(h, 16));
    }
    return out;
  };
  let words: number[];
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl));
    const tail = parseGroups(s.slice(dbl + 2));
    if (!head || !tail) return undefined;
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return undefined;
    words = [...head, ...new Array<number>(fill).fill(0), ...tail];
  } else {
    const all = parseGroups(s);
    if (!all) return undefined;
    words = all;
    if (words.length !== 8) return undefined;
  }
  let v = 0n;
  for (const w of words) v = (v << 16n) | BigInt(w);
  return v;
}

/** Parses dotted IPv4 or RFC 4291 IPv6 text. Throws AddressParseError. */
export function parseIp(text: string): IpAddr {
  const t = text.trim();
  if (t.includes(':')) {
    const v = parseIpv6Value(t);
    if (v === undefined) throw new AddressParseError(`bad IPv6 address: ${text}`);
    return { family: 6, value: v };
  }
  const v = parseIpv4Value(t);
  if (v === undefined) throw new AddressParseError(`bad IPv4 address: ${text}`);
  return { family: 4, value: v };
}

export function ip(text: string): IpAddr {
  return parseIp(text);
}

function formatIpv4Value(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String(Number((v >> s) & 0xffn))).join('.');
}

function formatIpv6Value(v: bigint): string {
  const w: number[] = [];
  for (let i = 7; i >= 0; i--) w.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (>= 2) of zero words, first one on ties
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { bestLen = j - i; bestStart = i; }
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  if (bestLen < 2) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}

export function formatIpValue(family: Family, value: bigint): string {
  return family === 4 ? formatIpv4Value(value) : formatIpv6Value(value);
}

export function formatIp(a: IpAddr): string {
  return formatIpValue(a.family, a.value);
}

export function ipEquals(a: IpAddr, b: IpAddr): boolean {
  return a.family === b.family && a.value === b.value;
}

/** Address value -> words (1 for IPv4, 4 for IPv6), written into `out` when given. */
export function valueToWords(family: Family, value: bigint, out?: Uint32Array): Uint32Array {
  const n = family === 4 ? 1 : 4;
  const w = out ?? new Uint32Array(n);
  for (let i = 0; i < n; i++) w[i] = Number((value >> BigInt((n - 1 - i) * 32)) & 0xffffffffn);
  return w;
}

export function wordsToValue(words: Uint32Array): bigint {
  let v = 0n;
  for (let i = 0; i < words.length; i++) v = (v << 32n) | BigInt(words[i]!);
  return v;
}

// ---------------------------------------------------------------- address sets

function toIp(a: IpAddr | string): IpAddr {
  return typeof a === 'string' ? parseIp(a) : a;
}

export function anyAddr(family: Family): AddrMask {
  return { kind: 'mask', family, addr: 0n, wildcard: allOnes(family) };
}

export function hostAddr(a: IpAddr | string): AddrMask {
  const x = toIp(a);
  return { kind: 'mask', family: x.family, addr: x.value, wildcard: 0n };
}

/** IOS style `addr wildcard` (e.g. 10.0.0.0 0.0.0.255); the wildcard may be non-contiguous. */
export function wildcardAddr(a: IpAddr | string, wildcard: IpAddr | string | bigint): AddrMask {
  const x = toIp(a);
  const w = typeof wildcard === 'bigint' ? wildcard : toIp(wildcard).value;
  if (typeof wildcard !== 'bigint' && toIp(wildcard).family !== x.family) {
    throw new FamilyMismatchError('address and wildcard families differ');
  }
  const ww = w & allOnes(x.family);
  return { kind: 'mask', family: x.family, addr: x.value & ~ww & allOnes(x.family), wildcard: ww };
}

/** Prefix `addr/len`. */
export function prefixAddr(a: IpAddr | string, len: number): AddrMask {
  const x = toIp(a);
  const bits = familyBits(x.family);
  if (!Number.isInteger(len) || len < 0 || len > bits) throw new AddressParseError(`bad prefix length ${len}`);
  const w = len === bits ? 0n : allOnes(x.family) >> BigInt(len);
  return { kind: 'mask', family: x.family, addr: x.value & ~w & allOnes(x.family), wildcard: w };
}

/** Parses `10.0.0.0/8`, `2001:db8::/32`, or a bare address (host). */
export function parsePrefix(text: string): AddrMask {
  const slash = text.indexOf('/');
  if (slash < 0) return hostAddr(text);
  const len = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(len)) throw new AddressParseError(`bad prefix: ${text}`);
  return prefixAddr(text.slice(0, slash), Number(len));
}

export function rangeAddr(lo: IpAddr | string, hi: IpAddr | string): AddrRange {
  const a = toIp(lo);
  const b = toIp(hi);
  if (a.family !== b.family) throw new FamilyMismatchError('range families differ');
  if (a.value > b.value) throw new AddressParseError('range start above range end');
  return { kind: 'range', family: a.family, lo: a.value, hi: b.value };
}

/** True when the wildcard is of the form 0..01..1 (a prefix). */
export function isContiguousWildcard(wildcard: bigint): boolean {
  return (wildcard & (wildcard + 1n)) === 0n;
}

/** Prefix length of a contiguous mask set, or undefined. */
export function prefixLength(m: AddrMask): number | undefined {
  if (!isContiguousWildcard(m.wildcard)) return undefined;
  let n = 0;
  let w = m.wildcard;
  while (w !== 0n) { n++; w >>= 1n; }
  return familyBits(m.family) - n;
}

/** Smallest and largest address of the set. */
export function addrSetBounds(s: AddrSet): [bigint, bigint] {
  return s.kind === 'range' ? [s.lo, s.hi] : [s.addr, s.addr | s.wildcard];
}

/** The set as a range when it is one (any contiguous mask, any range), else undefined. */
export function addrSetToRange(s: AddrSet): AddrRange | undefined {
  if (s.kind === 'range') return s;
  if (!isContiguousWildcard(s.wildcard)) return undefined;
  return { kind: 'range', family: s.family, lo: s.addr, hi: s.addr | s.wildcard };
}

/** The set as a prefix mask when it is one, else undefined. */
export function addrSetToPrefix(s: AddrSet): AddrMask | undefined {
  if (s.kind === 'mask') return isContiguousWildcard(s.wildcard) ? s : undefined;
  const p = rangeToPrefixes(s.family, s.lo, s.hi);
  return p.length === 1 ? p[0] : undefined;
}

/** Minimal list of prefixes covering exactly [lo, hi]. */
export function rangeToPrefixes(family: Family, lo: bigint, hi: bigint): AddrMask[] {
  const out: AddrMask[] = [];
  const top = allOnes(family);
  let cur = lo;
  while (cur <= hi) {
    // largest block aligned at cur that fits in [cur, hi]
    let size = cur === 0n ? top + 1n : (cur & -cur);
    while (size > 1n && cur + size - 1n > hi) size >>= 1n;
    out.push({ kind: 'mask', family, addr: cur, wildcard: size - 1n });
    cur += size;
    if (cur > top) break;
  }
  return out;
}

export function addrSetContainsValue(s: AddrSet, v: bigint): boolean {
  return s.kind === 'range' ? v >= s.lo && v <= s.hi : (v & ~s.wildcard) === s.addr;
}

function maskContainsMask(outer: AddrMask, inner: AddrMask): boolean {
  // every free bit of inner is free in outer, and fixed bits agree where outer is fixed
  return (inner.wildcard & ~outer.wildcard) === 0n && ((inner.addr ^ outer.addr) & ~outer.wildcard) === 0n;
}

/** outer ⊇ inner. */
export function addrSetContains(outer: AddrSet, inner: AddrSet): boolean {
  if (outer.family !== inner.family) return false;
  if (inner.kind === 'mask' && outer.kind === 'mask') return maskContainsMask(outer, inner);
  if (outer.kind === 'range') {
    const [lo, hi] = addrSetBounds(inner);
    return lo >= outer.lo && hi <= outer.hi;
  }
  // outer is a (possibly non-contiguous) mask, inner a range: check each prefix of the range
  if (inner.kind !== 'range') return false;
  return rangeToPrefixes(inner.family, inner.lo, inner.hi).every((p) => maskContainsMask(outer, p));
}

function setSize(s: AddrSet): bigint {
  if (s.kind === 'range') return s.hi - s.lo + 1n;
  let n = 1n;
  let w = s.wildcard;
  while (w !== 0n) { if (w & 1n) n <<= 1n; w >>= 1n; }
  return n;
}

/**
 * a ∩ b, or undefined when empty. Exact whenever the intersection is one range or one mask
 * (always the case unless a range meets a non-contiguous mask); in that last case the
 * largest piece is returned (a subset, which is what IKEv2 narrowing is allowed to pick).
 */
export function addrSetIntersect(a: AddrSet, b: AddrSet): AddrSet | undefined {
  if (a.family !== b.family) return undefined;
  if (a.kind === 'mask' && b.kind === 'mask') {
    const fixedBoth = ~a.wildcard & ~b.wildcard;
    if (((a.addr ^ b.addr) & fixedBoth) !== 0n) return undefined;
    const wildcard = a.wildcard & b.wildcard;
    return { kind: 'mask', family: a.family, addr: (a.addr | b.addr) & ~wildcard & allOnes(a.family), wildcard };
  }
  const ra = addrSetToRange(a);
  const rb = addrSetToRange(b);
  if (ra && rb) {
    const lo = ra.lo > rb.lo ? ra.lo : rb.lo;
    const hi = ra.hi < rb.hi ? ra.hi : rb.hi;
    if (lo > hi) return undefined;
    return { kind: 'range', family: a.family, lo, hi };
  }
  // a range against a non-contiguous mask
  const range = (a.kind === 'range' ? a : b) as AddrRange;
  const mask = (a.kind === 'mask' ? a : b) as AddrMask;
  let best: AddrSet | undefined;
  for (const p of rangeToPrefixes(range.family, range.lo, range.hi)) {
    const x = addrSetIntersect(p, mask);
    if (x && (!best || setSize(x) > setSize(best))) best = x;
  }
  return best;
}

export function addrSetEquals(a: AddrSet, b: AddrSet): boolean {
  if (a.family !== b.family) return false;
  if (a.kind === 'mask' && b.kind === 'mask') return a.addr === b.addr && a.wildcard === b.wildcard;
  const ra = addrSetToRange(a);
  const rb = addrSetToRange(b);
  if (ra && rb) return ra.lo === rb.lo && ra.hi === rb.hi;
  return false;
}

export function isAnyAddr(s: AddrSet): boolean {
  const [lo, hi] = addrSetBounds(s);
  return lo === 0n && hi === allOnes(s.family) && (s.kind === 'range' || s.wildcard === allOnes(s.family));
}

/** `host 10.0.0.1`, `10.0.0.0 0.0.0.255`, `any`, `10.0.0.1-10.0.0.9`, `2001:db8::/32`. */
export function formatAddrSet(s: AddrSet): string {
  if (isAnyAddr(s)) return 'any';
  if (s.kind === 'range') return `${formatIpValue(s.family, s.lo)}-${formatIpValue(s.family, s.hi)}`;
  if (s.wildcard === 0n) return `host ${formatIpValue(s.family, s.addr)}`;
  if (s.family === 6) {
    const len = prefixLength(s);
    if (len !== undefined) return `${formatIpValue(6, s.addr)}/${len}`;
  }
  return `${formatIpValue(s.family, s.addr)} ${formatIpValue(s.family, s.wildcard)}`;
}

// ---------------------------------------------------------------- ports

export function portRangeContains(outer: PortRange, inner: PortRange): boolean {
  return inner.lo >= outer.lo && inner.hi <= outer.hi;
}

export function portRangeIntersect(a: PortRange, b: PortRange): PortRange | undefined {
  const lo = Math.max(a.lo, b.lo);
  const hi = Math.min(a.hi, b.hi);
  return lo > hi ? undefined : { lo, hi };
}

export function isAnyPorts(p: PortRange): boolean {
  return p.lo === 0 && p.hi === 65535;
}

// ---------------------------------------------------------------- selectors

export function makeSelector(
  src: AddrSet,
  dst: AddrSet,
  proto = IPPROTO_ANY,
  srcPorts: PortRange = ANY_PORTS,
  dstPorts: PortRange = ANY_PORTS,
): TrafficSelector {
  if (src.family !== dst.family) throw new FamilyMismatchError('selector source and destination families differ');
  return { family: src.family, src, dst, proto, srcPorts, dstPorts };
}

/** any/any selector of a VTI. */
export function anySelector(family: Family): TrafficSelector {
  return makeSelector(anyAddr(family), anyAddr(family));
}

/** Swaps the two sides (local<->remote): how the peer writes the same flow. */
export function mirrorSelector(s: TrafficSelector): TrafficSelector {
  return { family: s.family, src: s.dst, dst: s.src, proto: s.proto, srcPorts: s.dstPorts, dstPorts: s.srcPorts };
}

/** outer ⊇ inner (every packet inner matches, outer matches). */
export function selectorContains(outer: TrafficSelector, inner: TrafficSelector): boolean {
  if (outer.family !== inner.family) return false;
  if (outer.proto !== IPPROTO_ANY && outer.proto !== inner.proto) return false;
  if (!portRangeContains(outer.srcPorts, inner.srcPorts) || !portRangeContains(outer.dstPorts, inner.dstPorts)) return false;
  return addrSetContains(outer.src, inner.src) && addrSetContains(outer.dst, inner.dst);
}

/** a ∩ b or undefined when empty (see addrSetIntersect for the one inexact case). */
export function selectorIntersect(a: TrafficSelector, b: TrafficSelector): TrafficSelector | undefined {
  if (a.family !== b.family) return undefined;
  let proto: number;
  if (a.proto === IPPROTO_ANY) proto = b.proto;
  else if (b.proto === IPPROTO_ANY || b.proto === a.proto) proto = a.proto;
  else return undefined;
  const sp = portRangeIntersect(a.srcPorts, b.srcPorts);
  const dp = portRangeIntersect(a.dstPorts, b.dstPorts);
  if (!sp || !dp) return undefined;
  const src = addrSetIntersect(a.src, b.src);
  const dst = addrSetIntersect(a.dst, b.dst);
  if (!src || !dst) return undefined;
  return { family: a.family, src, dst, proto, srcPorts: sp, dstPorts: dp };
}

export function selectorEquals(a: TrafficSelector, b: TrafficSelector): boolean {
  return a.family === b.family && a.proto === b.proto && addrSetEquals(a.src, b.src) && addrSetEquals(a.dst, b.dst) &&
    a.srcPorts.lo === b.srcPorts.lo && a.srcPorts.hi === b.srcPorts.hi &&
    a.dstPorts.lo === b.dstPorts.lo && a.dstPorts.hi === b.dstPorts.hi;
}

function addrSetKey(s: AddrSet): string {
  return s.kind === 'range' ? `r${s.lo.toString(16)}-${s.hi.toString(16)}` : `m${s.addr.toString(16)}/${s.wildcard.toString(16)}`;
}

/** Canonical string of a selector, usable as a map key. */
export function selectorKey(s: TrafficSelector): string {
  return `${s.family}|${addrSetKey(s.src)}|${addrSetKey(s.dst)}|${s.proto}|${s.srcPorts.lo}-${s.srcPorts.hi}|${s.dstPorts.lo}-${s.dstPorts.hi}`;
}

/**
 * One side of a selector the way `show crypto ipsec sa` prints an ident:
 * `(addr/mask/prot/port)`, e.g. `(10.1.1.0/255.255.255.0/0/0)`.
 */
export function formatIdent(set: AddrSet, proto: number, ports: PortRange): string {
  const port = isAnyPorts(ports) ? '0' : ports.lo === ports.hi ? String(ports.lo) : `${ports.lo}-${ports.hi}`;
  if (set.kind === 'range') {
    return `(${formatIpValue(set.family, set.lo)}-${formatIpValue(set.family, set.hi)}/${proto}/${port})`;
  }
  const mask = ~set.wildcard & allOnes(set.family);
  if (set.family === 6) {
    const len = prefixLength(set);
    if (len !== undefined) return `(${formatIpValue(6, set.addr)}/${len}/${proto}/${port})`;
  }
  return `(${formatIpValue(set.family, set.addr)}/${formatIpValue(set.family, mask)}/${proto}/${port})`;
}

export function formatSelector(s: TrafficSelector): string {
  return `local ${formatIdent(s.src, s.proto, s.srcPorts)} remote ${formatIdent(s.dst, s.proto, s.dstPorts)}`;
}

// ---------------------------------------------------------------- packet keys

export function makePacketKey(
  src: IpAddr | string,
  dst: IpAddr | string,
  proto = IPPROTO_ANY,
  srcPort = 0,
  dstPort = 0,
): PacketKey {
  const s = toIp(src);
  const d = toIp(dst);
  if (s.family !== d.family) throw new FamilyMismatchError('packet key families differ');
  return { family: s.family, src: valueToWords(s.family, s.value), dst: valueToWords(d.family, d.value), proto, srcPort, dstPort };
}

/** The key of the same flow seen in the other direction (written into `out` when given). */
export function mirrorKey(k: PacketKey, out?: PacketKey): PacketKey {
  if (!out) return { family: k.family, src: k.dst.slice(), dst: k.src.slice(), proto: k.proto, srcPort: k.dstPort, dstPort: k.srcPort };
  out.family = k.family;
  if (out.src.length !== k.dst.length) out.src = new Uint32Array(k.dst.length);
  if (out.dst.length !== k.src.length) out.dst = new Uint32Array(k.src.length);
  out.src.set(k.dst);
  out.dst.set(k.src);
  out.proto = k.proto;
  out.srcPort = k.dstPort;
  out.dstPort = k.srcPort;
  return out;
}

export function formatPacketKey(k: PacketKey): string {
  const s = formatIpValue(k.family, wordsToValue(k.src));
  const d = formatIpValue(k.family, wordsToValue(k.dst));
  return `${s}:${k.srcPort} -> ${d}:${k.dstPort} proto ${k.proto}`;
}

function hasPorts(proto: number): boolean {
  return proto === IPPROTO_TCP || proto === IPPROTO_UDP || proto === IPPROTO_SCTP;
}

/** IPv6 extension headers walked to find the upper-layer protocol. */
const IPV6_EXT_HOP_BY_HOP = 0;
const IPV6_EXT_ROUTING = 43;
const IPV6_EXT_FRAGMENT = 44;
const IPV6_EXT_DEST_OPTS = 60;

/**
 * Extracts the 5-tuple of an IPv4 or IPv6 packet starting at `bytes[0]`. Returns undefined
 * for a truncated or malformed header (the caller counts and drops). Ports are read only
 * for TCP/UDP/SCTP first fragments; ICMP/ICMPv6 first fragments give type<<8|code in both
 * port fields; they are 0 otherwise.
 */
export function packetKeyFromIp(bytes: Uint8Array, out?: PacketKey): PacketKey | undefined {
  if (bytes.length < 1) return undefined;
  const version = bytes[0]! >> 4;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let key = out;
  if (version === 4) {
    if (bytes.length < 20) return undefined;
    const ihl = (bytes[0]! & 0x0f) * 4;
    if (ihl < 20 || bytes.length < ihl) return undefined;
    if (!key || key.src.length !== 1) key = { family: 4, src: new Uint32Array(1), dst: new Uint32Array(1), proto: 0, srcPort: 0, dstPort: 0 };
    key.family = 4;
    key.proto = bytes[9]!;
    key.src[0] = dv.getUint32(12);
    key.dst[0] = dv.getUint32(16);
    const fragOffset = dv.getUint16(6) & 0x1fff;
    key.srcPort = 0;
    key.dstPort = 0;
    if (fragOffset === 0 && hasPorts(key.proto) && bytes.length >= ihl + 4) {
      key.srcPort = dv.getUint16(ihl);
      key.dstPort = dv.getUint16(ihl + 2);
    } else if (fragOffset === 0 && key.proto === IPPROTO_ICMP && bytes.length >= ihl + 2) {
      key.srcPort = key.dstPort = dv.getUint16(ihl);
    }
    return key;
  }
  if (version === 6) {
    if (bytes.length < 40) return undefined;
    if (!key || key.src.length !== 4) key = { family: 6, src: new Uint32Array(4), dst: new Uint32Array(4), proto: 0, srcPort: 0, dstPort: 0 };
    key.family = 6;
    for (let i = 0; i < 4; i++) {
      key.src[i] = dv.getUint32(8 + i * 4);
      key.dst[i] = dv.getUint32(24 + i * 4);
    }
    let next = bytes[6]!;
    let off = 40;
    let firstFragment = true;
    for (let guard = 0; guard < 8; guard++) {
      if (next === IPV6_EXT_HOP_BY_HOP || next === IPV6_EXT_ROUTING || next === IPV6_EXT_DEST_OPTS) {
        if (bytes.length < off + 2) return undefined;
        const len = (bytes[off + 1]! + 1) * 8;
        next = bytes[off]!;
        off += len;
      } else if (next === IPV6_EXT_FRAGMENT) {
        if (bytes.length < off + 8) return undefined;
        if ((dv.getUint16(off + 2) & 0xfff8) !== 0) firstFragment = false;
        next = bytes[off]!;
        off += 8;
      } else break;
      if (off > bytes.length) return undefined;
    }
    key.proto = next;
    key.srcPort = 0;
    key.dstPort = 0;
    if (firstFragment && hasPorts(next) && bytes.length >= off + 4) {
      key.srcPort = dv.getUint16(off);
      key.dstPort = dv.getUint16(off + 2);
    } else if (firstFragment && next === IPPROTO_ICMPV6 && bytes.length >= off + 2) {
      key.srcPort = key.dstPort = dv.getUint16(off);
    }
    return key;
  }
  return undefined;
}

// ---------------------------------------------------------------- compiled matching

/** Word-level form of an address set for matching packet keys without bigint. */
interface WordAddr {
  mask: boolean;
  /** mask: addr words and fixed-bit words; range: lo and hi words */
  a: Uint32Array;
  b: Uint32Array;
}

function compileAddr(s: AddrSet): WordAddr {
  if (s.kind === 'mask') {
    return { mask: true, a: valueToWords(s.family, s.addr), b: valueToWords(s.family, ~s.wildcard & allOnes(s.family)) };
  }
  return { mask: false, a: valueToWords(s.family, s.lo), b: valueToWords(s.family, s.hi) };
}

function wordAddrMatches(w: WordAddr, v: Uint32Array): boolean {
  const n = v.length;
  if (w.a.length !== n) return false;
  if (w.mask) {
    for (let i = 0; i < n; i++) if (((v[i]! & w.b[i]!) >>> 0) !== w.a[i]) return false;
    return true;
  }
  // lo <= v <= hi, word-lexicographic
  for (let i = 0; i < n; i++) {
    if (v[i]! > w.a[i]!) break;
    if (v[i]! < w.a[i]!) return false;
  }
  for (let i = 0; i < n; i++) {
    if (v[i]! < w.b[i]!) break;
    if (v[i]! > w.b[i]!) return false;
  }
  return true;
}

/** A selector compiled for per-packet checks. */
export interface SelectorMatcher {
  /** The packet travels in the selector's direction (local -> remote). */
  matches(k: PacketKey): boolean;
  /** The packet travels the other way (remote -> local): src/dst and ports swapped. */
  matchesReverse(k: PacketKey): boolean;
}

export function compileSelector(s: TrafficSelector): SelectorMatcher {
  const src = compileAddr(s.src);
  const dst = compileAddr(s.dst);
  const { proto, srcPorts: sp, dstPorts: dp, family } = s;
  const portsAny = isAnyPorts(sp) && isAnyPorts(dp);
  return {
    matches(k: PacketKey): boolean {
      if (k.family !== family) return false;
      if (proto !== IPPROTO_ANY && k.proto !== proto) return false;
      if (!portsAny && (k.srcPort < sp.lo || k.srcPort > sp.hi || k.dstPort < dp.lo || k.dstPort > dp.hi)) return false;
      return wordAddrMatches(src, k.src) && wordAddrMatches(dst, k.dst);
    },
    matchesReverse(k: PacketKey): boolean {
      if (k.family !== family) return false;
      if (proto !== IPPROTO_ANY && k.proto !== proto) return false;
      if (!portsAny && (k.dstPort < sp.lo || k.dstPort > sp.hi || k.srcPort < dp.lo || k.srcPort > dp.hi)) return false;
      return wordAddrMatches(src, k.dst) && wordAddrMatches(dst, k.src);
    },
  };
}

/** Slow reference check (bigint), used by tests and non-hot paths. */
export function selectorMatchesKey(s: TrafficSelector, k: PacketKey): boolean {
  if (k.family !== s.family) return false;
  if (s.proto !== IPPROTO_ANY && k.proto !== s.proto) return false;
  if (k.srcPort < s.srcPorts.lo || k.srcPort > s.srcPorts.hi || k.dstPort < s.dstPorts.lo || k.dstPort > s.dstPorts.hi) return false;
  return addrSetContainsValue(s.src, wordsToValue(k.src)) && addrSetContainsValue(s.dst, wordsToValue(k.dst));
}
