// XFRM netlink codec (Linux uapi <linux/xfrm.h>, NETLINK_XFRM). Pure functions, no I/O.
//
// Layouts are those of x86-64 and arm64 (u64 fields 8-byte aligned): xfrm_usersa_info is
// 224 bytes, xfrm_userpolicy_info 168, xfrm_user_acquire 280. 32-bit x86 userspace differs
// (220-byte xfrm_usersa_info) and is not supported. Host-order fields use HOST_LE;
// __be16/__be32 fields (ports, SPI, addresses) are big-endian.

import {
  HOST_LE, NLMSG_DONE, NLMSG_ERROR, NLMSG_HDRLEN, NLM_F_ACK, NLM_F_DUMP,
  NLM_F_REQUEST, NetlinkEncodeError, NetlinkUnexpectedError, concatBytes, decodeAttributes,
  decodeNetlinkError, encodeAttribute, encodeNetlinkMessage, need, u32Bytes, view,
  type NetlinkAttribute, type NetlinkErrorMessage, type NetlinkHeader, type NetlinkMessage,
} from './netlink-core.js';

// ---------------------------------------------------------------------------------------
// Constants (names as in <linux/xfrm.h>, <linux/in.h>, <linux/socket.h>, <linux/udp.h>)

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_COMP = 108;

/** encap_type of struct xfrm_encap_tmpl: RFC 3948 ESP in UDP. */
export const UDP_ENCAP_ESPINUDP_NON_IKE = 1;
export const UDP_ENCAP_ESPINUDP = 2;

export const XFRM_MSG_NEWSA = 0x10;
export const XFRM_MSG_DELSA = 0x11;
export const XFRM_MSG_GETSA = 0x12;
export const XFRM_MSG_NEWPOLICY = 0x13;
export const XFRM_MSG_DELPOLICY = 0x14;
export const XFRM_MSG_GETPOLICY = 0x15;
export const XFRM_MSG_ALLOCSPI = 0x16;
export const XFRM_MSG_ACQUIRE = 0x17;
export const XFRM_MSG_EXPIRE = 0x18;
export const XFRM_MSG_UPDPOLICY = 0x19;
export const XFRM_MSG_UPDSA = 0x1a;
export const XFRM_MSG_POLEXPIRE = 0x1b;
export const XFRM_MSG_FLUSHSA = 0x1c;
export const XFRM_MSG_FLUSHPOLICY = 0x1d;
export const XFRM_MSG_NEWAE = 0x1e;
export const XFRM_MSG_GETAE = 0x1f;
export const XFRM_MSG_REPORT = 0x20;
export const XFRM_MSG_MIGRATE = 0x21;
export const XFRM_MSG_MAPPING = 0x26;

export const XFRMA_UNSPEC = 0;
export const XFRMA_ALG_AUTH = 1;
export const XFRMA_ALG_CRYPT = 2;
export const XFRMA_ALG_COMP = 3;
export const XFRMA_ENCAP = 4;
export const XFRMA_TMPL = 5;
export const XFRMA_SA = 6;
export const XFRMA_POLICY = 7;
export const XFRMA_SEC_CTX = 8;
export const XFRMA_LTIME_VAL = 9;
export const XFRMA_REPLAY_VAL = 10;
export const XFRMA_REPLAY_THRESH = 11;
export const XFRMA_ETIMER_THRESH = 12;
export const XFRMA_SRCADDR = 13;
export const XFRMA_COADDR = 14;
export const XFRMA_LASTUSED = 15;
export const XFRMA_POLICY_TYPE = 16;
export const XFRMA_MIGRATE = 17;
export const XFRMA_ALG_AEAD = 18;
export const XFRMA_KMADDRESS = 19;
export const XFRMA_ALG_AUTH_TRUNC = 20;
export const XFRMA_MARK = 21;
export const XFRMA_TFCPAD = 22;
export const XFRMA_REPLAY_ESN_VAL = 23;
export const XFRMA_SA_EXTRA_FLAGS = 24;
export const XFRMA_PROTO = 25;
export const XFRMA_ADDRESS_FILTER = 26;
export const XFRMA_PAD = 27;
export const XFRMA_OFFLOAD_DEV = 28;
export const XFRMA_SET_MARK = 29;
export const XFRMA_SET_MARK_MASK = 30;
export const XFRMA_IF_ID = 31;
export const XFRMA_MTIMER_THRESH = 32;

export const XFRM_MODE_TRANSPORT = 0;
export const XFRM_MODE_TUNNEL = 1;
export const XFRM_MODE_BEET = 4;

export const XFRM_POLICY_IN = 0;
export const XFRM_POLICY_OUT = 1;
export const XFRM_POLICY_FWD = 2;

export const XFRM_POLICY_ALLOW = 0;
export const XFRM_POLICY_BLOCK = 1;

export const XFRM_POLICY_LOCALOK = 1;
export const XFRM_POLICY_ICMP = 2;

export const XFRM_POLICY_TYPE_MAIN = 0;
export const XFRM_POLICY_TYPE_SUB = 1;

export const XFRM_SHARE_ANY = 0;
export const XFRM_SHARE_UNIQUE = 3;

export const XFRM_STATE_NOECN = 1;
export const XFRM_STATE_DECAP_DSCP = 2;
export const XFRM_STATE_NOPMTUDISC = 4;
export const XFRM_STATE_WILDRECV = 8;
export const XFRM_STATE_ICMP = 16;
export const XFRM_STATE_AF_UNSPEC = 32;
export const XFRM_STATE_ALIGN4 = 64;
export const XFRM_STATE_ESN = 128;

export const XFRM_SA_XFLAG_DONT_ENCAP_DSCP = 1;
export const XFRM_SA_XFLAG_OSEQ_MAY_WRAP = 2;

/** "No limit" for byte and packet limits (seconds use 0 for no limit). */
export const XFRM_INF = 0xffff_ffff_ffff_ffffn;

/** Multicast groups (enum xfrm_nlgroups); join with addMembership(group). */
export const XFRMNLGRP_ACQUIRE = 1;
export const XFRMNLGRP_EXPIRE = 2;
export const XFRMNLGRP_SA = 3;
export const XFRMNLGRP_POLICY = 4;
export const XFRMNLGRP_AEVENTS = 5;
export const XFRMNLGRP_REPORT = 6;
export const XFRMNLGRP_MIGRATE = 7;
export const XFRMNLGRP_MAPPING = 8;

/** Largest replay bitmap the kernel takes in XFRMA_REPLAY_ESN_VAL (bits). */
export const XFRMA_REPLAY_ESN_MAX = 4096;

// Structure sizes (x86-64 / arm64)
export const SIZEOF_XFRM_ADDRESS = 16;
export const SIZEOF_XFRM_ID = 24;
export const SIZEOF_XFRM_SELECTOR = 56;
export const SIZEOF_XFRM_LIFETIME_CFG = 64;
export const SIZEOF_XFRM_LIFETIME_CUR = 32;
export const SIZEOF_XFRM_STATS = 12;
export const SIZEOF_XFRM_REPLAY_STATE = 12;
export const SIZEOF_XFRM_REPLAY_STATE_ESN = 24;
export const SIZEOF_XFRM_ALGO = 68;
export const SIZEOF_XFRM_ALGO_AUTH = 72;
export const SIZEOF_XFRM_ALGO_AEAD = 72;
export const SIZEOF_XFRM_USERSA_INFO = 224;
export const SIZEOF_XFRM_USERSA_ID = 24;
export const SIZEOF_XFRM_USERSPI_INFO = 232;
export const SIZEOF_XFRM_USERPOLICY_INFO = 168;
export const SIZEOF_XFRM_USERPOLICY_ID = 64;
export const SIZEOF_XFRM_USER_TMPL = 64;
export const SIZEOF_XFRM_ENCAP_TMPL = 24;
export const SIZEOF_XFRM_USER_ACQUIRE = 280;
export const SIZEOF_XFRM_USER_EXPIRE = 232;
export const SIZEOF_XFRM_USER_POLEXPIRE = 176;
export const SIZEOF_XFRM_USERSA_FLUSH = 1;
export const SIZEOF_XFRM_USERPOLICY_TYPE = 6;
export const SIZEOF_XFRM_MARK = 8;
const ALG_NAME_LEN = 64;

// ---------------------------------------------------------------------------------------
// Addresses: text <-> xfrm_address_t (16 bytes, IPv4 in the first 4)

export class XfrmAddressError extends NetlinkEncodeError {
  override name = 'XfrmAddressError';
}

/** Parses an IPv4 or IPv6 address. Returns its family and 16 bytes (IPv4 left-aligned). */
export function parseIpAddress(text: string): { family: number; bytes: Uint8Array } {
  const bytes = new Uint8Array(16);
  if (!text.includes(':')) {
    const v4 = parseIpv4(text);
    if (!v4) throw new XfrmAddressError(`not an IP address: ${JSON.stringify(text)}`);
    bytes.set(v4, 0);
    return { family: AF_INET, bytes };
  }
  const v6 = parseIpv6(text);
  if (!v6) throw new XfrmAddressError(`not an IPv6 address: ${JSON.stringify(text)}`);
  return { family: AF_INET6, bytes: v6 };
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | undefined {
  const out = new Uint8Array(16);
  const dbl = text.indexOf('::');
  if (dbl !== text.lastIndexOf('::')) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const groups: number[] = [];
    const items = s.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (i === items.length - 1 && it.includes('.')) {
        const v4 = parseIpv4(it);
        if (!v4) return undefined;
        groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return undefined;
        groups.push(parseInt(it, 16));
      }
    }
    return groups;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parseGroups(text.slice(0, dbl));
    const tail = parseGroups(text.slice(dbl + 2));
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(text);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  }
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8;
    out[2 * i + 1] = groups[i]! & 0xff;
  }
  return out;
}

/** Formats 16 address bytes for a family (IPv6 per RFC 5952: lower case, longest zero run as ::). */
export function formatIpAddress(family: number, bytes: Uint8Array): string {
  if (family === AF_INET6) {
    const g: number[] = [];
    for (let i = 0; i < 8; i++) g.push((bytes[2 * i]! << 8) | bytes[2 * i + 1]!);
    let bestStart = -1;
    let bestLen = 0;
    for (let i = 0; i < 8;) {
      if (g[i] !== 0) { i++; continue; }
      let j = i;
      while (j < 8 && g[j] === 0) j++;
      if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
      i = j;
    }
    const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
    if (bestStart < 0) return hex(g);
    return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
  }
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

function addrBytes(text: string, family: number, what: string): Uint8Array {
  const a = parseIpAddress(text);
  if (family !== AF_UNSPEC && a.family !== family) {
    throw new XfrmAddressError(`${what}: ${text} is not of family ${family}`);
  }
  return a.bytes;
}

// ---------------------------------------------------------------------------------------
// Struct writer / reader

class Writer {
  readonly buf: Uint8Array;
  private readonly dv: DataView;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.dv = view(this.buf);
  }
  u8(o: number, v: number): void { this.dv.setUint8(o, v); }
  u16(o: number, v: number): void { this.dv.setUint16(o, v, HOST_LE); }
  u32(o: number, v: number): void { this.dv.setUint32(o, v >>> 0, HOST_LE); }
  s32(o: number, v: number): void { this.dv.setInt32(o, v, HOST_LE); }
  u64(o: number, v: bigint): void { this.dv.setBigUint64(o, BigInt.asUintN(64, v), HOST_LE); }
  be16(o: number, v: number): void { this.dv.setUint16(o, v, false); }
  be32(o: number, v: number): void { this.dv.setUint32(o, v >>> 0, false); }
  bytes(o: number, b: Uint8Array): void { this.buf.set(b, o); }
}

class Reader {
  private readonly dv: DataView;
  constructor(readonly buf: Uint8Array, readonly base: number) {
    this.dv = view(buf);
  }
  u8(o: number): number { return this.dv.getUint8(o); }
  u16(o: number): number { return this.dv.getUint16(o, HOST_LE); }
  u32(o: number): number { return this.dv.getUint32(o, HOST_LE); }
  s32(o: number): number { return this.dv.getInt32(o, HOST_LE); }
  u64(o: number): bigint { return this.dv.getBigUint64(o, HOST_LE); }
  be16(o: number): number { return this.dv.getUint16(o, false); }
  be32(o: number): number { return this.dv.getUint32(o, false); }
  bytes(o: number, n: number): Uint8Array { return this.buf.subarray(o, o + n); }
}

function checkRange(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new NetlinkEncodeError(`${what} out of range: ${v}`);
}

// ---------------------------------------------------------------------------------------
// Structures

export interface XfrmSelector {
  /** AF_INET, AF_INET6 or AF_UNSPEC (0: "any", as in an SA without a selector). */
  family: number;
  daddr: string;
  saddr: string;
  prefixlenD: number;
  prefixlenS: number;
  /** Ports in host order; the kernel stores them big-endian. ICMP: sport = type, dport = code. */
  dport: number;
  dportMask: number;
  sport: number;
  sportMask: number;
  /** IP protocol, 0 = any. */
  proto: number;
  ifindex: number;
  user: number;
}

export function anySelector(family = AF_UNSPEC): XfrmSelector {
  const zero = family === AF_INET6 ? '::' : '0.0.0.0';
  return {
    family, daddr: zero, saddr: zero, prefixlenD: 0, prefixlenS: 0,
    dport: 0, dportMask: 0, sport: 0, sportMask: 0, proto: 0, ifindex: 0, user: 0,
  };
}

function writeSelector(w: Writer, o: number, s: XfrmSelector): void {
  w.bytes(o, addrBytes(s.daddr, s.family, 'selector daddr'));
  w.bytes(o + 16, addrBytes(s.saddr, s.family, 'selector saddr'));
  checkRange(s.dport, 0xffff, 'dport'); checkRange(s.sport, 0xffff, 'sport');
  checkRange(s.dportMask, 0xffff, 'dport mask'); checkRange(s.sportMask, 0xffff, 'sport mask');
  const maxLen = s.family === AF_INET6 ? 128 : 32;
  checkRange(s.prefixlenD, maxLen, 'prefixlen_d'); checkRange(s.prefixlenS, maxLen, 'prefixlen_s');
  w.be16(o + 32, s.dport);
  w.be16(o + 34, s.dportMask);
  w.be16(o + 36, s.sport);
  w.be16(o + 38, s.sportMask);
  w.u16(o + 40, s.family);
  w.u8(o + 42, s.prefixlenD);
  w.u8(o + 43, s.prefixlenS);
  w.u8(o + 44, s.proto);
  w.s32(o + 48, s.ifindex);
  w.u32(o + 52, s.user);
}

function readSelector(r: Reader, o: number, fallbackFamily: number): XfrmSelector {
  const family = r.u16(o + 40);
  const fam = family === AF_UNSPEC ? fallbackFamily : family;
  return {
    family,
    daddr: formatIpAddress(fam, r.bytes(o, 16)),
    saddr: formatIpAddress(fam, r.bytes(o + 16, 16)),
    dport: r.be16(o + 32),
    dportMask: r.be16(o + 34),
    sport: r.be16(o + 36),
    sportMask: r.be16(o + 38),
    prefixlenD: r.u8(o + 42),
    prefixlenS: r.u8(o + 43),
    proto: r.u8(o + 44),
    ifindex: r.s32(o + 48),
    user: r.u32(o + 52),
  };
}

export interface XfrmId {
  daddr: string;
  /** SPI as an unsigned 32-bit number (IPComp: the CPI in the low 16 bits). */
  spi: number;
  proto: number;
}

function writeId(w: Writer, o: number, id: XfrmId, family: number): void {
  w.bytes(o, addrBytes(id.daddr, family, 'daddr'));
  checkRange(id.spi, 0xffff_ffff, 'SPI');
  w.be32(o + 16, id.spi);
  w.u8(o + 20, id.proto);
}

function readId(r: Reader, o: number, family: number): XfrmId {
  return { daddr: formatIpAddress(family, r.bytes(o, 16)), spi: r.be32(o + 16), proto: r.u8(o + 20) };
}

export interface XfrmLifetimeCfg {
  softByteLimit: bigint;
  hardByteLimit: bigint;
  softPacketLimit: bigint;
  hardPacketLimit: bigint;
  softAddExpiresSec: bigint;
  hardAddExpiresSec: bigint;
  softUseExpiresSec: bigint;
  hardUseExpiresSec: bigint;
}

/** No limits: XFRM_INF for bytes and packets, 0 for seconds (as `ip xfrm` sends). */
export function infiniteLifetime(): XfrmLifetimeCfg {
  return {
    softByteLimit: XFRM_INF, hardByteLimit: XFRM_INF, softPacketLimit: XFRM_INF, hardPacketLimit: XFRM_INF,
    softAddExpiresSec: 0n, hardAddExpiresSec: 0n, softUseExpiresSec: 0n, hardUseExpiresSec: 0n,
  };
}

const LFT_KEYS = [
  'softByteLimit', 'hardByteLimit', 'softPacketLimit', 'hardPacketLimit',
  'softAddExpiresSec', 'hardAddExpiresSec', 'softUseExpiresSec', 'hardUseExpiresSec',
] as const;

function writeLifetimeCfg(w: Writer, o: number, l: XfrmLifetimeCfg): void {
  LFT_KEYS.forEach((k, i) => w.u64(o + 8 * i, l[k]));
}
function readLifetimeCfg(r: Reader, o: number): XfrmLifetimeCfg {
  const out = {} as Record<(typeof LFT_KEYS)[number], bigint>;
  LFT_KEYS.forEach((k, i) => { out[k] = r.u64(o + 8 * i); });
  return out;
}

export interface XfrmLifetimeCur {
  bytes: bigint;
  packets: bigint;
  /** Seconds since the epoch. */
  addTime: bigint;
  useTime: bigint;
}
const zeroCur = (): XfrmLifetimeCur => ({ bytes: 0n, packets: 0n, addTime: 0n, useTime: 0n });

function writeLifetimeCur(w: Writer, o: number, c: XfrmLifetimeCur): void {
  w.u64(o, c.bytes); w.u64(o + 8, c.packets); w.u64(o + 16, c.addTime); w.u64(o + 24, c.useTime);
}
function readLifetimeCur(r: Reader, o: number): XfrmLifetimeCur {
  return { bytes: r.u64(o), packets: r.u64(o + 8), addTime: r.u64(o + 16), useTime: r.u64(o + 24) };
}

export interface XfrmStats {
  replayWindow: number;
  replay: number;
  integrityFailed: number;
}

export interface XfrmUsersaInfo {
  sel: XfrmSelector;
  id: XfrmId;
  saddr: string;
  lft: XfrmLifetimeCfg;
  curlft: XfrmLifetimeCur;
  stats: XfrmStats;
  seq: number;
  reqid: number;
  family: number;
  mode: number;
  /** 8-bit legacy window; windows above 255 (or ESN) go in XFRMA_REPLAY_ESN_VAL. */
  replayWindow: number;
  flags: number;
}

export function emptyUsersaInfo(family: number): XfrmUsersaInfo {
  const zero = family === AF_INET6 ? '::' : '0.0.0.0';
  return {
    sel: anySelector(), id: { daddr: zero, spi: 0, proto: 0 }, saddr: zero, lft: infiniteLifetime(),
    curlft: zeroCur(), stats: { replayWindow: 0, replay: 0, integrityFailed: 0 },
    seq: 0, reqid: 0, family, mode: XFRM_MODE_TRANSPORT, replayWindow: 0, flags: 0,
  };
}

function writeUsersaInfo(w: Writer, o: number, s: XfrmUsersaInfo): void {
  writeSelector(w, o, s.sel);
  writeId(w, o + 56, s.id, s.family);
  w.bytes(o + 80, addrBytes(s.saddr, s.family, 'saddr'));
  writeLifetimeCfg(w, o + 96, s.lft);
  writeLifetimeCur(w, o + 160, s.curlft);
  w.u32(o + 192, s.stats.replayWindow);
  w.u32(o + 196, s.stats.replay);
  w.u32(o + 200, s.stats.integrityFailed);
  w.u32(o + 204, s.seq);
  w.u32(o + 208, s.reqid);
  w.u16(o + 212, s.family);
  w.u8(o + 214, s.mode);
  checkRange(s.replayWindow, 255, 'replay_window');
  w.u8(o + 215, s.replayWindow);
  w.u8(o + 216, s.flags);
}

function readUsersaInfo(r: Reader, o: number): XfrmUsersaInfo {
  need(r.buf, o, SIZEOF_XFRM_USERSA_INFO, 'xfrm_usersa_info', r.base);
  const family = r.u16(o + 212);
  return {
    sel: readSelector(r, o, family),
    id: readId(r, o + 56, family),
    saddr: formatIpAddress(family, r.bytes(o + 80, 16)),
    lft: readLifetimeCfg(r, o + 96),
    curlft: readLifetimeCur(r, o + 160),
    stats: { replayWindow: r.u32(o + 192), replay: r.u32(o + 196), integrityFailed: r.u32(o + 200) },
    seq: r.u32(o + 204),
    reqid: r.u32(o + 208),
    family,
    mode: r.u8(o + 214),
    replayWindow: r.u8(o + 215),
    flags: r.u8(o + 216),
  };
}

export interface XfrmUsersaId {
  daddr: string;
  spi: number;
  family: number;
  proto: number;
}

function writeUsersaId(w: Writer, o: number, id: XfrmUsersaId): void {
  w.bytes(o, addrBytes(id.daddr, id.family, 'daddr'));
  checkRange(id.spi, 0xffff_ffff, 'SPI');
  w.be32(o + 16, id.spi);
  w.u16(o + 20, id.family);
  w.u8(o + 22, id.proto);
}
function readUsersaId(r: Reader, o: number): XfrmUsersaId {
  need(r.buf, o, SIZEOF_XFRM_USERSA_ID, 'xfrm_usersa_id', r.base);
  const family = r.u16(o + 20);
  return { daddr: formatIpAddress(family, r.bytes(o, 16)), spi: r.be32(o + 16), family, proto: r.u8(o + 22) };
}

export interface XfrmUserpolicyInfo {
  sel: XfrmSelector;
  lft: XfrmLifetimeCfg;
  curlft: XfrmLifetimeCur;
  /** Lower value = preferred. */
  priority: number;
  /** Kernel policy index (0 on add: the kernel picks one). */
  index: number;
  dir: number;
  action: number;
  flags: number;
  share: number;
}

function writeUserpolicyInfo(w: Writer, o: number, p: XfrmUserpolicyInfo): void {
  writeSelector(w, o, p.sel);
  writeLifetimeCfg(w, o + 56, p.lft);
  writeLifetimeCur(w, o + 120, p.curlft);
  w.u32(o + 152, p.priority);
  w.u32(o + 156, p.index);
  w.u8(o + 160, p.dir);
  w.u8(o + 161, p.action);
  w.u8(o + 162, p.flags);
  w.u8(o + 163, p.share);
}
function readUserpolicyInfo(r: Reader, o: number): XfrmUserpolicyInfo {
  need(r.buf, o, SIZEOF_XFRM_USERPOLICY_INFO, 'xfrm_userpolicy_info', r.base);
  const sel = readSelector(r, o, AF_INET);
  return {
    sel,
    lft: readLifetimeCfg(r, o + 56),
    curlft: readLifetimeCur(r, o + 120),
    priority: r.u32(o + 152),
    index: r.u32(o + 156),
    dir: r.u8(o + 160),
    action: r.u8(o + 161),
    flags: r.u8(o + 162),
    share: r.u8(o + 163),
  };
}

export interface XfrmUserpolicyId {
  sel: XfrmSelector;
  /** Non-zero: look up by index instead of selector. */
  index: number;
  dir: number;
}
function writeUserpolicyId(w: Writer, o: number, p: XfrmUserpolicyId): void {
  writeSelector(w, o, p.sel);
  w.u32(o + 56, p.index);
  w.u8(o + 60, p.dir);
}
function readUserpolicyId(r: Reader, o: number): XfrmUserpolicyId {
  need(r.buf, o, SIZEOF_XFRM_USERPOLICY_ID, 'xfrm_userpolicy_id', r.base);
  return { sel: readSelector(r, o, AF_INET), index: r.u32(o + 56), dir: r.u8(o + 60) };
}

export interface XfrmUserTmpl {
  /** Tunnel destination (tunnel mode), SPI (0 = any) and protocol. */
  id: XfrmId;
  family: number;
  /** Tunnel source (tunnel mode). */
  saddr: string;
  reqid: number;
  mode: number;
  share: number;
  /** 1 = the SA may be missing (used for inbound IPComp). */
  optional: number;
  aalgos: number;
  ealgos: number;
  calgos: number;
}
function writeUserTmpl(w: Writer, o: number, t: XfrmUserTmpl): void {
  writeId(w, o, t.id, t.family);
  w.u16(o + 24, t.family);
  w.bytes(o + 28, addrBytes(t.saddr, t.family, 'tmpl saddr'));
  w.u32(o + 44, t.reqid);
  w.u8(o + 48, t.mode);
  w.u8(o + 49, t.share);
  w.u8(o + 50, t.optional);
  w.u32(o + 52, t.aalgos);
  w.u32(o + 56, t.ealgos);
  w.u32(o + 60, t.calgos);
}
function readUserTmpl(r: Reader, o: number): XfrmUserTmpl {
  need(r.buf, o, SIZEOF_XFRM_USER_TMPL, 'xfrm_user_tmpl', r.base);
  const family = r.u16(o + 24);
  return {
    id: readId(r, o, family),
    family,
    saddr: formatIpAddress(family, r.bytes(o + 28, 16)),
    reqid: r.u32(o + 44),
    mode: r.u8(o + 48),
    share: r.u8(o + 49),
    optional: r.u8(o + 50),
    aalgos: r.u32(o + 52),
    ealgos: r.u32(o + 56),
    calgos: r.u32(o + 60),
  };
}

export interface XfrmEncapTmpl {
  type: number;
  sport: number;
  dport: number;
  /** NAT original address (RFC 3948 NAT-OA), family of the SA; '0.0.0.0' when unused. */
  oa: string;
}

/** struct xfrm_algo (XFRMA_ALG_CRYPT, XFRMA_ALG_AUTH, XFRMA_ALG_COMP). */
export interface XfrmAlgo {
  name: string;
  key: Uint8Array;
}
/** struct xfrm_algo_auth (XFRMA_ALG_AUTH_TRUNC). */
export interface XfrmAlgoAuth extends XfrmAlgo {
  truncBits: number;
}
/** struct xfrm_algo_aead (XFRMA_ALG_AEAD). */
export interface XfrmAlgoAead extends XfrmAlgo {
  icvBits: number;
}

export interface XfrmReplayState {
  oseq: number;
  seq: number;
  bitmap: number;
}

export interface XfrmReplayStateEsn {
  oseq: number;
  seq: number;
  oseqHi: number;
  seqHi: number;
  replayWindow: number;
  /** bmp_len: bitmap length in 32-bit words (replayWindow / 32 rounded up). */
  bmpLen: number;
  /**
   * Bitmap words actually carried: bmpLen words, or none (the kernel takes a bare
   * 24-byte header on NEWSA, which is what `ip xfrm` sends).
   */
  bmp: number[];
}

export interface XfrmMark {
  value: number;
  mask: number;
}

export interface XfrmUserAcquire {
  id: XfrmId;
  saddr: string;
  sel: XfrmSelector;
  policy: XfrmUserpolicyInfo;
  aalgos: number;
  ealgos: number;
  calgos: number;
  seq: number;
}

export interface XfrmUserExpire {
  state: XfrmUsersaInfo;
  hard: boolean;
}

function algName(name: string): Uint8Array {
  const b = new TextEncoder().encode(name);
  if (b.byteLength >= ALG_NAME_LEN) throw new NetlinkEncodeError(`algorithm name too long: ${name}`);
  return b;
}
function readAlgName(r: Reader, o: number): string {
  const raw = r.bytes(o, ALG_NAME_LEN);
  let end = raw.indexOf(0);
  if (end < 0) end = ALG_NAME_LEN;
  return new TextDecoder().decode(raw.subarray(0, end));
}

export function encodeXfrmAlgo(a: XfrmAlgo): Uint8Array {
  const w = new Writer(SIZEOF_XFRM_ALGO + a.key.byteLength);
  w.bytes(0, algName(a.name));
  w.u32(64, a.key.byteLength * 8);
  w.bytes(68, a.key);
  return w.buf;
}
export function encodeXfrmAlgoAuth(a: XfrmAlgoAuth): Uint8Array {
  const w = new Writer(SIZEOF_XFRM_ALGO_AUTH + a.key.byteLength);
  w.bytes(0, algName(a.name));
  w.u32(64, a.key.byteLength * 8);
  w.u32(68, a.truncBits);
  w.bytes(72, a.key);
  return w.buf;
}
export function encodeXfrmAlgoAead(a: XfrmAlgoAead): Uint8Array {
  const w = new Writer(SIZEOF_XFRM_ALGO_AEAD + a.key.byteLength);
  w.bytes(0, algName(a.name));
  w.u32(64, a.key.byteLength * 8);
  w.u32(68, a.icvBits);
  w.bytes(72, a.key);
  return w.buf;
}

function keyOf(r: Reader, fixed: number, bits: number, what: string): Uint8Array {
  const n = Math.ceil(bits / 8);
  need(r.buf, fixed, n, `${what} key (${bits} bits)`, r.base);
  return r.bytes(fixed, n).slice();
}
export function decodeXfrmAlgo(data: Uint8Array, base = 0): XfrmAlgo {
  need(data, 0, SIZEOF_XFRM_ALGO, 'xfrm_algo', base);
  const r = new Reader(data, base);
  return { name: readAlgName(r, 0), key: keyOf(r, 68, r.u32(64), 'xfrm_algo') };
}
export function decodeXfrmAlgoAuth(data: Uint8Array, base = 0): XfrmAlgoAuth {
  need(data, 0, SIZEOF_XFRM_ALGO_AUTH, 'xfrm_algo_auth', base);
  const r = new Reader(data, base);
  return { name: readAlgName(r, 0), truncBits: r.u32(68), key: keyOf(r, 72, r.u32(64), 'xfrm_algo_auth') };
}
export function decodeXfrmAlgoAead(data: Uint8Array, base = 0): XfrmAlgoAead {
  need(data, 0, SIZEOF_XFRM_ALGO_AEAD, 'xfrm_algo_aead', base);
  const r = new Reader(data, base);
  return { name: readAlgName(r, 0), icvBits: r.u32(68), key: keyOf(r, 72, r.u32(64), 'xfrm_algo_aead') };
}

export function encodeEncapTmpl(e: XfrmEncapTmpl, family: number): Uint8Array {
  const w = new Writer(SIZEOF_XFRM_ENCAP_TMPL);
  checkRange(e.sport, 0xffff, 'encap sport');
  checkRange(e.dport, 0xffff, 'encap dport');
  w.u16(0, e.type);
  w.be16(2, e.sport);
  w.be16(4, e.dport);
  w.bytes(8, addrBytes(e.oa, family, 'encap oa'));
  return w.buf;
}
export function decodeEncapTmpl(data: Uint8Array, family: number, base = 0): XfrmEncapTmpl {
  need(data, 0, SIZEOF_XFRM_ENCAP_TMPL, 'xfrm_encap_tmpl', base);
  const r = new Reader(data, base);
  return { type: r.u16(0), sport: r.be16(2), dport: r.be16(4), oa: formatIpAddress(family, r.bytes(8, 16)) };
}

export function encodeReplayEsn(e: XfrmReplayStateEsn): Uint8Array {
  if (e.replayWindow > XFRMA_REPLAY_ESN_MAX) throw new NetlinkEncodeError(`replay window ${e.replayWindow} > ${XFRMA_REPLAY_ESN_MAX}`);
  if (e.bmp.length !== 0 && e.bmp.length !== e.bmpLen) throw new NetlinkEncodeError(`replay bitmap has ${e.bmp.length} words, bmp_len ${e.bmpLen}`);
  const w = new Writer(SIZEOF_XFRM_REPLAY_STATE_ESN + 4 * e.bmp.length);
  w.u32(0, e.bmpLen);
  w.u32(4, e.oseq);
  w.u32(8, e.seq);
  w.u32(12, e.oseqHi);
  w.u32(16, e.seqHi);
  w.u32(20, e.replayWindow);
  e.bmp.forEach((x, i) => w.u32(24 + 4 * i, x));
  return w.buf;
}
export function decodeReplayEsn(data: Uint8Array, base = 0): XfrmReplayStateEsn {
  need(data, 0, SIZEOF_XFRM_REPLAY_STATE_ESN, 'xfrm_replay_state_esn', base);
  const r = new Reader(data, base);
  const bmpLen = r.u32(0);
  if (bmpLen > XFRMA_REPLAY_ESN_MAX / 32) throw new NetlinkUnexpectedError(`bmp_len ${bmpLen} too large`, base);
  const bmp: number[] = [];
  if (data.byteLength > SIZEOF_XFRM_REPLAY_STATE_ESN) {
    need(data, 24, 4 * bmpLen, 'xfrm_replay_state_esn bitmap', base);
    for (let i = 0; i < bmpLen; i++) bmp.push(r.u32(24 + 4 * i));
  }
  return { oseq: r.u32(4), seq: r.u32(8), oseqHi: r.u32(12), seqHi: r.u32(16), replayWindow: r.u32(20), bmpLen, bmp };
}

/** An ESN replay state for a new SA: empty bitmap sized for `windowPackets`. */
export function newReplayEsn(windowPackets: number): XfrmReplayStateEsn {
  const bmpLen = Math.ceil(windowPackets / 32);
  return { oseq: 0, seq: 0, oseqHi: 0, seqHi: 0, replayWindow: windowPackets, bmpLen, bmp: new Array<number>(bmpLen).fill(0) };
}

function encodeMark(m: XfrmMark): Uint8Array {
  const w = new Writer(SIZEOF_XFRM_MARK);
  w.u32(0, m.value);
  w.u32(4, m.mask);
  return w.buf;
}
function decodeMark(data: Uint8Array, base: number): XfrmMark {
  need(data, 0, SIZEOF_XFRM_MARK, 'xfrm_mark', base);
  const r = new Reader(data, base);
  return { value: r.u32(0), mask: r.u32(4) };
}
function u64Bytes(v: bigint): Uint8Array {
  const w = new Writer(8);
  w.u64(0, v);
  return w.buf;
}

// ---------------------------------------------------------------------------------------
// Attribute sets

/** Attributes that go with an SA (NEWSA/UPDSA requests, GETSA replies, EXPIRE). */
export interface XfrmSaAttributes {
  algAead?: XfrmAlgoAead;
  algCrypt?: XfrmAlgo;
  algAuthTrunc?: XfrmAlgoAuth;
  algAuth?: XfrmAlgo;
  algComp?: XfrmAlgo;
  encap?: XfrmEncapTmpl;
  srcaddr?: string;
  coaddr?: string;
  replayEsn?: XfrmReplayStateEsn;
  replay?: XfrmReplayState;
  ltime?: XfrmLifetimeCur;
  lastUsed?: bigint;
  mark?: XfrmMark;
  ifId?: number;
  setMark?: number;
  setMarkMask?: number;
  saExtraFlags?: number;
  tfcPad?: number;
  /** Anything this codec does not model, kept as raw attributes. */
  other?: NetlinkAttribute[];
}

/** Attributes that go with a policy (NEWPOLICY/UPDPOLICY, replies, ACQUIRE). */
export interface XfrmPolicyAttributes {
  tmpls?: XfrmUserTmpl[];
  policyType?: number;
  mark?: XfrmMark;
  ifId?: number;
  other?: NetlinkAttribute[];
}

/** Encodes SA attributes in a fixed order (AEAD/CRYPT, AUTH, COMP, ENCAP, ... as ip xfrm). */
export function encodeSaAttributes(a: XfrmSaAttributes, family: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (a.algAead) out.push(encodeAttribute(XFRMA_ALG_AEAD, encodeXfrmAlgoAead(a.algAead)));
  if (a.algCrypt) out.push(encodeAttribute(XFRMA_ALG_CRYPT, encodeXfrmAlgo(a.algCrypt)));
  if (a.algAuthTrunc) out.push(encodeAttribute(XFRMA_ALG_AUTH_TRUNC, encodeXfrmAlgoAuth(a.algAuthTrunc)));
  if (a.algAuth) out.push(encodeAttribute(XFRMA_ALG_AUTH, encodeXfrmAlgo(a.algAuth)));
  if (a.algComp) out.push(encodeAttribute(XFRMA_ALG_COMP, encodeXfrmAlgo(a.algComp)));
  if (a.encap) out.push(encodeAttribute(XFRMA_ENCAP, encodeEncapTmpl(a.encap, family)));
  if (a.srcaddr !== undefined) out.push(encodeAttribute(XFRMA_SRCADDR, addrBytes(a.srcaddr, family, 'srcaddr')));
  if (a.coaddr !== undefined) out.push(encodeAttribute(XFRMA_COADDR, addrBytes(a.coaddr, family, 'coaddr')));
  if (a.replayEsn) out.push(encodeAttribute(XFRMA_REPLAY_ESN_VAL, encodeReplayEsn(a.replayEsn)));
  if (a.replay) {
    const w = new Writer(SIZEOF_XFRM_REPLAY_STATE);
    w.u32(0, a.replay.oseq); w.u32(4, a.replay.seq); w.u32(8, a.replay.bitmap);
    out.push(encodeAttribute(XFRMA_REPLAY_VAL, w.buf));
  }
  if (a.ltime) {
    const w = new Writer(SIZEOF_XFRM_LIFETIME_CUR);
    writeLifetimeCur(w, 0, a.ltime);
    out.push(encodeAttribute(XFRMA_LTIME_VAL, w.buf));
  }
  if (a.lastUsed !== undefined) out.push(encodeAttribute(XFRMA_LASTUSED, u64Bytes(a.lastUsed)));
  if (a.mark) out.push(encodeAttribute(XFRMA_MARK, encodeMark(a.mark)));
  if (a.ifId !== undefined) out.push(encodeAttribute(XFRMA_IF_ID, u32Bytes(a.ifId)));
  if (a.setMark !== undefined) out.push(encodeAttribute(XFRMA_SET_MARK, u32Bytes(a.setMark)));
  if (a.setMarkMask !== undefined) out.push(encodeAttribute(XFRMA_SET_MARK_MASK, u32Bytes(a.setMarkMask)));
  if (a.saExtraFlags !== undefined) out.push(encodeAttribute(XFRMA_SA_EXTRA_FLAGS, u32Bytes(a.saExtraFlags)));
  if (a.tfcPad !== undefined) out.push(encodeAttribute(XFRMA_TFCPAD, u32Bytes(a.tfcPad)));
  for (const o of a.other ?? []) out.push(encodeAttribute(o.type | o.flags, o.data));
  return out;
}

function u32Attr(a: NetlinkAttribute, what: string): number {
  need(a.data, 0, 4, what, a.offset + 4);
  return new Reader(a.data, a.offset).u32(0);
}

export function decodeSaAttributes(attrs: NetlinkAttribute[], family: number): XfrmSaAttributes {
  const out: XfrmSaAttributes = {};
  const hdr = 4;
  for (const a of attrs) {
    const base = a.offset + hdr;
    switch (a.type) {
      case XFRMA_ALG_AEAD: out.algAead = decodeXfrmAlgoAead(a.data, base); break;
      case XFRMA_ALG_CRYPT: out.algCrypt = decodeXfrmAlgo(a.data, base); break;
      case XFRMA_ALG_AUTH_TRUNC: out.algAuthTrunc = decodeXfrmAlgoAuth(a.data, base); break;
      case XFRMA_ALG_AUTH: out.algAuth = decodeXfrmAlgo(a.data, base); break;
      case XFRMA_ALG_COMP: out.algComp = decodeXfrmAlgo(a.data, base); break;
      case XFRMA_ENCAP: out.encap = decodeEncapTmpl(a.data, family, base); break;
      case XFRMA_SRCADDR: need(a.data, 0, 16, 'XFRMA_SRCADDR', a.offset + 4); out.srcaddr = formatIpAddress(family, a.data); break;
      case XFRMA_COADDR: need(a.data, 0, 16, 'XFRMA_COADDR', a.offset + 4); out.coaddr = formatIpAddress(family, a.data); break;
      case XFRMA_REPLAY_ESN_VAL: out.replayEsn = decodeReplayEsn(a.data, base); break;
      case XFRMA_REPLAY_VAL: {
        need(a.data, 0, SIZEOF_XFRM_REPLAY_STATE, 'XFRMA_REPLAY_VAL', a.offset + 4);
        const r = new Reader(a.data, base);
        out.replay = { oseq: r.u32(0), seq: r.u32(4), bitmap: r.u32(8) };
        break;
      }
      case XFRMA_LTIME_VAL:
        need(a.data, 0, SIZEOF_XFRM_LIFETIME_CUR, 'XFRMA_LTIME_VAL', a.offset + 4);
        out.ltime = readLifetimeCur(new Reader(a.data, base), 0);
        break;
      case XFRMA_LASTUSED: need(a.data, 0, 8, 'XFRMA_LASTUSED', a.offset + 4); out.lastUsed = new Reader(a.data, base).u64(0); break;
      case XFRMA_MARK: out.mark = decodeMark(a.data, base); break;
      case XFRMA_IF_ID: out.ifId = u32Attr(a, 'XFRMA_IF_ID'); break;
      case XFRMA_SET_MARK: out.setMark = u32Attr(a, 'XFRMA_SET_MARK'); break;
      case XFRMA_SET_MARK_MASK: out.setMarkMask = u32Attr(a, 'XFRMA_SET_MARK_MASK'); break;
      case XFRMA_SA_EXTRA_FLAGS: out.saExtraFlags = u32Attr(a, 'XFRMA_SA_EXTRA_FLAGS'); break;
      case XFRMA_TFCPAD: out.tfcPad = u32Attr(a, 'XFRMA_TFCPAD'); break;
      default: (out.other ??= []).push(a);
    }
  }
  return out;
}

export function encodePolicyAttributes(a: XfrmPolicyAttributes): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (a.tmpls && a.tmpls.length > 0) {
    const w = new Writer(SIZEOF_XFRM_USER_TMPL * a.tmpls.length);
    a.tmpls.forEach((t, i) => writeUserTmpl(w, i * SIZEOF_XFRM_USER_TMPL, t));
    out.push(encodeAttribute(XFRMA_TMPL, w.buf));
  }
  if (a.policyType !== undefined) {
    const w = new Writer(SIZEOF_XFRM_USERPOLICY_TYPE);
    w.u8(0, a.policyType);
    out.push(encodeAttribute(XFRMA_POLICY_TYPE, w.buf));
  }
  if (a.mark) out.push(encodeAttribute(XFRMA_MARK, encodeMark(a.mark)));
  if (a.ifId !== undefined) out.push(encodeAttribute(XFRMA_IF_ID, u32Bytes(a.ifId)));
  for (const o of a.other ?? []) out.push(encodeAttribute(o.type | o.flags, o.data));
  return out;
}

export function decodePolicyAttributes(attrs: NetlinkAttribute[]): XfrmPolicyAttributes {
  const out: XfrmPolicyAttributes = {};
  for (const a of attrs) {
    const base = a.offset + 4;
    switch (a.type) {
      case XFRMA_TMPL: {
        if (a.data.byteLength % SIZEOF_XFRM_USER_TMPL !== 0) {
          throw new NetlinkUnexpectedError(`XFRMA_TMPL length ${a.data.byteLength} not a multiple of ${SIZEOF_XFRM_USER_TMPL}`, a.offset);
        }
        const r = new Reader(a.data, base);
        out.tmpls = [];
        for (let o = 0; o < a.data.byteLength; o += SIZEOF_XFRM_USER_TMPL) out.tmpls.push(readUserTmpl(r, o));
        break;
      }
      case XFRMA_POLICY_TYPE:
        need(a.data, 0, 1, 'XFRMA_POLICY_TYPE', a.offset + 4);
        out.policyType = a.data[0]!;
        break;
      case XFRMA_MARK: out.mark = decodeMark(a.data, base); break;
      case XFRMA_IF_ID: out.ifId = u32Attr(a, 'XFRMA_IF_ID'); break;
      default: (out.other ??= []).push(a);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Requests (message builders). Each returns one complete netlink message.

export interface RequestHeader {
  seq: number;
  /** Sender port id written in nlmsg_pid (0 lets the kernel fill it). */
  pid?: number;
  /** Extra nlmsg_flags on top of the defaults of each builder. */
  flags?: number;
}

const REQ_ACK = NLM_F_REQUEST | NLM_F_ACK;

function message(type: number, flags: number, h: RequestHeader, body: Uint8Array, attrs: Uint8Array[]): Uint8Array {
  return encodeNetlinkMessage(type, flags | (h.flags ?? 0), h.seq, h.pid ?? 0, concatBytes([body, ...attrs]));
}

/** XFRM_MSG_NEWSA (or XFRM_MSG_UPDSA when `update`): install or replace an SA. */
export function encodeNewSa(h: RequestHeader, info: XfrmUsersaInfo, attrs: XfrmSaAttributes, update = false): Uint8Array {
  const w = new Writer(SIZEOF_XFRM_USERSA_INFO);
  writeUsersaInfo(w, 0, info);
  return message(update ? XFRM_MSG_UPDSA : XFRM_MSG_NEWSA, REQ_ACK, h, w.buf, encodeSaAttributes(attrs, info.family));
}

/** Extra attributes that may follow an xfrm_usersa_id (DELSA, GETSA). */
export interface XfrmSaIdAttributes {
  srcaddr?: string;
  mark?: XfrmMark;
  ifId?: number;
}

function saIdMessage(type: number, flags: number, h: RequestHeader, id: XfrmUsersaId, a: XfrmSaIdAttributes): Uint8Array {
  const w = new Writer(SIZEOF_XFRM_USERSA_ID);
  writeUsersaId(w, 0, id);
  return message(type, flags, h, w.buf, encodeSaAttributes(a, id.family));
}

export function encodeDelSa(h: RequestHeader, id: XfrmUsersaId, a: XfrmSaIdAttributes = {}): Uint8Array {
  return saIdMessage(XFRM_MSG_DELSA, REQ_ACK, h, id, a);
}

/** XFRM_MSG_GETSA for one SA; the kernel answers with an XFRM_MSG_NEWSA (keys included). */
export function encodeGetSa(h: RequestHeader, id: XfrmUsersaId, a: XfrmSaIdAttributes = {}): Uint8Array {
  return saIdMessage(XFRM_MSG_GETSA, NLM_F_REQUEST, h, id, a);
}

/** XFRM_MSG_GETSA dump of every SA (answers: NEWSA messages, then NLMSG_DONE). */
export function encodeDumpSa(h: RequestHeader): Uint8Array {
  return message(XFRM_MSG_GETSA, NLM_F_REQUEST | NLM_F_DUMP, h, new Uint8Array(0), []);
}

export interface XfrmUserspiInfo {
  info: XfrmUsersaInfo;
  min: number;
  max: number;
}

/** XFRM_MSG_ALLOCSPI: the kernel creates a larval SA and answers with an XFRM_MSG_NEWSA. */
export function encodeAllocSpi(h: RequestHeader, s: XfrmUserspiInfo): Uint8Array {
  const w = new Writer(SIZEOF_XFRM_USERSPI_INFO);
  writeUsersaInfo(w, 0, s.info);
  checkRange(s.min, 0xffff_ffff, 'SPI min');
  checkRange(s.max, 0xffff_ffff, 'SPI max');
  w.u32(224, s.min);
  w.u32(228, s.max);
  return message(XFRM_MSG_ALLOCSPI, NLM_F_REQUEST, h, w.buf, []);
}

/** XFRM_MSG_NEWPOLICY (or XFRM_MSG_UPDPOLICY when `update`). */
export function encodeNewPolicy(h: RequestHeader, info: XfrmUserpolicyInfo, attrs: XfrmPolicyAttributes, update = false): Uint8Array {
  const w = new Writer(SIZEOF_XFRM_USERPOLICY_INFO);
  writeUserpolicyInfo(w, 0, info);
  return message(update ? XFRM_MSG_UPDPOLICY : XFRM_MSG_NEWPOLICY, REQ_ACK, h, w.buf, encodePolicyAttributes(attrs));
}

function policyIdMessage(type: number, flags: number, h: RequestHeader, id: XfrmUserpolicyId, a: XfrmPolicyAttributes): Uint8Array {
  const w = new Writer(SIZEOF_XFRM_USERPOLICY_ID);
  writeUserpolicyId(w, 0, id);
  return message(type, flags, h, w.buf, encodePolicyAttributes(a));
}

export function encodeDelPolicy(h: RequestHeader, id: XfrmUserpolicyId, a: XfrmPolicyAttributes = {}): Uint8Array {
  return policyIdMessage(XFRM_MSG_DELPOLICY, REQ_ACK, h, id, a);
}

/** XFRM_MSG_GETPOLICY for one policy; the answer is an XFRM_MSG_NEWPOLICY. */
export function encodeGetPolicy(h: RequestHeader, id: XfrmUserpolicyId, a: XfrmPolicyAttributes = {}): Uint8Array {
  return policyIdMessage(XFRM_MSG_GETPOLICY, NLM_F_REQUEST, h, id, a);
}

export function encodeDumpPolicy(h: RequestHeader): Uint8Array {
  return message(XFRM_MSG_GETPOLICY, NLM_F_REQUEST | NLM_F_DUMP, h, new Uint8Array(0), []);
}

/** XFRM_MSG_FLUSHSA: deletes every SA of `proto` (0 = IPSEC_PROTO_ANY, all of them). */
export function encodeFlushSa(h: RequestHeader, proto: number): Uint8Array {
  return message(XFRM_MSG_FLUSHSA, REQ_ACK, h, Uint8Array.of(proto), []);
}

/** XFRM_MSG_FLUSHPOLICY: deletes every policy (of the main type unless `policyType` says). */
export function encodeFlushPolicy(h: RequestHeader, policyType?: number): Uint8Array {
  return message(XFRM_MSG_FLUSHPOLICY, REQ_ACK, h, new Uint8Array(0), encodePolicyAttributes({ policyType }));
}

/** Kernel-side messages, for fakes and tests: an ACQUIRE as the kernel multicasts it. */
export function encodeAcquire(h: RequestHeader, a: XfrmUserAcquire, attrs: XfrmPolicyAttributes): Uint8Array {
  const w = new Writer(SIZEOF_XFRM_USER_ACQUIRE);
  const fam = a.sel.family === AF_UNSPEC ? parseIpAddress(a.saddr).family : a.sel.family;
  writeId(w, 0, a.id, fam);
  w.bytes(24, addrBytes(a.saddr, fam, 'saddr'));
  writeSelector(w, 40, a.sel);
  writeUserpolicyInfo(w, 96, a.policy);
  w.u32(264, a.aalgos);
  w.u32(268, a.ealgos);
  w.u32(272, a.calgos);
  w.u32(276, a.seq);
  return message(XFRM_MSG_ACQUIRE, 0, h, w.buf, encodePolicyAttributes(attrs));
}

/** Kernel-side message, for fakes and tests: an EXPIRE as the kernel multicasts it. */
export function encodeExpire(h: RequestHeader, e: XfrmUserExpire, attrs: XfrmSaAttributes = {}): Uint8Array {
  const w = new Writer(SIZEOF_XFRM_USER_EXPIRE);
  writeUsersaInfo(w, 0, e.state);
  w.u8(224, e.hard ? 1 : 0);
  return message(XFRM_MSG_EXPIRE, 0, h, w.buf, encodeSaAttributes(attrs, e.state.family));
}

// ---------------------------------------------------------------------------------------
// Decoding

export type XfrmMessage =
  | { kind: 'error'; header: NetlinkHeader; error: NetlinkErrorMessage }
  | { kind: 'done'; header: NetlinkHeader }
  /** NEWSA / UPDSA (requests, GETSA and ALLOCSPI replies, SA notifications). */
  | { kind: 'sa'; header: NetlinkHeader; info: XfrmUsersaInfo; attrs: XfrmSaAttributes }
  /** DELSA / GETSA by id (requests, and DELSA notifications which carry XFRMA_SA). */
  | { kind: 'sa-id'; header: NetlinkHeader; id: XfrmUsersaId; attrs: XfrmSaAttributes; sa?: XfrmUsersaInfo }
  | { kind: 'allocspi'; header: NetlinkHeader; spi: XfrmUserspiInfo }
  | { kind: 'policy'; header: NetlinkHeader; info: XfrmUserpolicyInfo; attrs: XfrmPolicyAttributes }
  | { kind: 'policy-id'; header: NetlinkHeader; id: XfrmUserpolicyId; attrs: XfrmPolicyAttributes; policy?: XfrmUserpolicyInfo }
  | { kind: 'acquire'; header: NetlinkHeader; acquire: XfrmUserAcquire; attrs: XfrmPolicyAttributes }
  | { kind: 'expire'; header: NetlinkHeader; expire: XfrmUserExpire; attrs: XfrmSaAttributes }
  | { kind: 'polexpire'; header: NetlinkHeader; policy: XfrmUserpolicyInfo; hard: boolean; attrs: XfrmPolicyAttributes }
  | { kind: 'flushsa'; header: NetlinkHeader; proto: number }
  | { kind: 'flushpolicy'; header: NetlinkHeader; attrs: XfrmPolicyAttributes }
  | { kind: 'other'; header: NetlinkHeader; payload: Uint8Array };

/** Decodes one netlink message of the XFRM family. Throws a NetlinkDecodeError subclass. */
export function decodeXfrmMessage(msg: NetlinkMessage): XfrmMessage {
  const { header, payload } = msg;
  const base = msg.offset + NLMSG_HDRLEN;
  const r = new Reader(payload, base);
  const isDump = (header.flags & NLM_F_DUMP) === NLM_F_DUMP && (header.flags & NLM_F_REQUEST) !== 0;
  const attrsAfter = (fixed: number) => decodeAttributes(payload.subarray(fixed), base + fixed);
  switch (header.type) {
    case NLMSG_ERROR:
      return { kind: 'error', header, error: decodeNetlinkError(msg) };
    case NLMSG_DONE:
      return { kind: 'done', header };
    case XFRM_MSG_NEWSA:
    case XFRM_MSG_UPDSA: {
      const info = readUsersaInfo(r, 0);
      return { kind: 'sa', header, info, attrs: decodeSaAttributes(attrsAfter(SIZEOF_XFRM_USERSA_INFO), info.family) };
    }
    case XFRM_MSG_DELSA:
    case XFRM_MSG_GETSA: {
      if (isDump && payload.byteLength < SIZEOF_XFRM_USERSA_ID) return { kind: 'other', header, payload };
      const id = readUsersaId(r, 0);
      const raw = attrsAfter(SIZEOF_XFRM_USERSA_ID);
      const saAttr = raw.find((a) => a.type === XFRMA_SA);
      const out: XfrmMessage = {
        kind: 'sa-id', header, id,
        attrs: decodeSaAttributes(raw.filter((a) => a.type !== XFRMA_SA), id.family),
      };
      if (saAttr) out.sa = readUsersaInfo(new Reader(saAttr.data, saAttr.offset + 4), 0);
      return out;
    }
    case XFRM_MSG_ALLOCSPI: {
      need(payload, 0, SIZEOF_XFRM_USERSPI_INFO, 'xfrm_userspi_info', base);
      return { kind: 'allocspi', header, spi: { info: readUsersaInfo(r, 0), min: r.u32(224), max: r.u32(228) } };
    }
    case XFRM_MSG_NEWPOLICY:
    case XFRM_MSG_UPDPOLICY:
      return {
        kind: 'policy', header, info: readUserpolicyInfo(r, 0),
        attrs: decodePolicyAttributes(attrsAfter(SIZEOF_XFRM_USERPOLICY_INFO)),
      };
    case XFRM_MSG_DELPOLICY:
    case XFRM_MSG_GETPOLICY: {
      if (isDump && payload.byteLength < SIZEOF_XFRM_USERPOLICY_ID) return { kind: 'other', header, payload };
      const id = readUserpolicyId(r, 0);
      const raw = attrsAfter(SIZEOF_XFRM_USERPOLICY_ID);
      const polAttr = raw.find((a) => a.type === XFRMA_POLICY);
      const out: XfrmMessage = {
        kind: 'policy-id', header, id, attrs: decodePolicyAttributes(raw.filter((a) => a.type !== XFRMA_POLICY)),
      };
      if (polAttr) out.policy = readUserpolicyInfo(new Reader(polAttr.data, polAttr.offset + 4), 0);
      return out;
    }
    case XFRM_MSG_ACQUIRE: {
      need(payload, 0, SIZEOF_XFRM_USER_ACQUIRE, 'xfrm_user_acquire', base);
      const sel = readSelector(r, 40, AF_INET);
      const policy = readUserpolicyInfo(r, 96);
      const attrs = decodePolicyAttributes(attrsAfter(SIZEOF_XFRM_USER_ACQUIRE));
      // The id/saddr family is that of the template (outer addresses), else the selector's.
      const fam = attrs.tmpls?.[0]?.family || sel.family || AF_INET;
      const acquire: XfrmUserAcquire = {
        id: readId(r, 0, fam),
        saddr: formatIpAddress(fam, r.bytes(24, 16)),
        sel,
        policy,
        aalgos: r.u32(264),
        ealgos: r.u32(268),
        calgos: r.u32(272),
        seq: r.u32(276),
      };
      return { kind: 'acquire', header, acquire, attrs };
    }
    case XFRM_MSG_EXPIRE: {
      need(payload, 0, SIZEOF_XFRM_USER_EXPIRE, 'xfrm_user_expire', base);
      const state = readUsersaInfo(r, 0);
      return {
        kind: 'expire', header, expire: { state, hard: r.u8(224) !== 0 },
        attrs: decodeSaAttributes(attrsAfter(SIZEOF_XFRM_USER_EXPIRE), state.family),
      };
    }
    case XFRM_MSG_POLEXPIRE: {
      need(payload, 0, SIZEOF_XFRM_USER_POLEXPIRE, 'xfrm_user_polexpire', base);
      return {
        kind: 'polexpire', header, policy: readUserpolicyInfo(r, 0), hard: r.u8(168) !== 0,
        attrs: decodePolicyAttributes(attrsAfter(SIZEOF_XFRM_USER_POLEXPIRE)),
      };
    }
    case XFRM_MSG_FLUSHSA:
      need(payload, 0, SIZEOF_XFRM_USERSA_FLUSH, 'xfrm_usersa_flush', base);
      return { kind: 'flushsa', header, proto: r.u8(0) };
    case XFRM_MSG_FLUSHPOLICY:
      return { kind: 'flushpolicy', header, attrs: decodePolicyAttributes(attrsAfter(0)) };
    default:
      return { kind: 'other', header, payload };
  }
}

// ---------------------------------------------------------------------------------------
// IOS transform names -> kernel crypto API algorithms

export type XfrmAlgorithmSlot = 'aead' | 'crypt' | 'auth' | 'comp';

export interface XfrmAlgorithmMapping {
  slot: XfrmAlgorithmSlot;
  /** Linux crypto API name. */
  kernelName: string;
  /** Accepted key lengths in bytes (AEAD: including the 4-byte salt). */
  keyBytes: readonly number[];
  /** auth: truncated ICV length in bits (XFRMA_ALG_AUTH_TRUNC). */
  truncBits?: number;
  /** aead: ICV length in bits. */
  icvBits?: number;
}

/** Kernel algorithm for each IOS transform name the kernel can do. esp-seal has none. */
export const IOS_TRANSFORM_XFRM: Readonly<Record<string, XfrmAlgorithmMapping>> = {
  'esp-aes': { slot: 'crypt', kernelName: 'cbc(aes)', keyBytes: [16, 24, 32] },
  'esp-gcm': { slot: 'aead', kernelName: 'rfc4106(gcm(aes))', keyBytes: [20, 28, 36], icvBits: 128 },
  'esp-gmac': { slot: 'aead', kernelName: 'rfc4543(gcm(aes))', keyBytes: [20, 28, 36], icvBits: 128 },
  'esp-3des': { slot: 'crypt', kernelName: 'cbc(des3_ede)', keyBytes: [24] },
  'esp-des': { slot: 'crypt', kernelName: 'cbc(des)', keyBytes: [8] },
  'esp-null': { slot: 'crypt', kernelName: 'ecb(cipher_null)', keyBytes: [0] },
  'esp-md5-hmac': { slot: 'auth', kernelName: 'hmac(md5)', keyBytes: [16], truncBits: 96 },
  'esp-sha-hmac': { slot: 'auth', kernelName: 'hmac(sha1)', keyBytes: [20], truncBits: 96 },
  'esp-sha256-hmac': { slot: 'auth', kernelName: 'hmac(sha256)', keyBytes: [32], truncBits: 128 },
  'esp-sha384-hmac': { slot: 'auth', kernelName: 'hmac(sha384)', keyBytes: [48], truncBits: 192 },
  'esp-sha512-hmac': { slot: 'auth', kernelName: 'hmac(sha512)', keyBytes: [64], truncBits: 256 },
  'ah-md5-hmac': { slot: 'auth', kernelName: 'hmac(md5)', keyBytes: [16], truncBits: 96 },
  'ah-sha-hmac': { slot: 'auth', kernelName: 'hmac(sha1)', keyBytes: [20], truncBits: 96 },
  'ah-sha256-hmac': { slot: 'auth', kernelName: 'hmac(sha256)', keyBytes: [32], truncBits: 128 },
  'ah-sha384-hmac': { slot: 'auth', kernelName: 'hmac(sha384)', keyBytes: [48], truncBits: 192 },
  'ah-sha512-hmac': { slot: 'auth', kernelName: 'hmac(sha512)', keyBytes: [64], truncBits: 256 },
  'comp-lzs': { slot: 'comp', kernelName: 'lzs', keyBytes: [0] },
};

export class XfrmAlgorithmError extends NetlinkEncodeError {
  override name = 'XfrmAlgorithmError';
}

/** Looks up an IOS transform; throws XfrmAlgorithmError if the kernel has no equivalent. */
export function xfrmAlgorithmFor(iosTransform: string): XfrmAlgorithmMapping {
  const m = IOS_TRANSFORM_XFRM[iosTransform];
  if (!m) throw new XfrmAlgorithmError(`transform ${iosTransform} has no kernel (XFRM) equivalent`);
  return m;
}

/**
 * Fills the algorithm attribute for one IOS transform and its key. `keyLength` is checked
 * against what the transform allows (the key itself is never put in the error text).
 */
export function algorithmAttributes(iosTransform: string, key: Uint8Array, icvBits?: number): XfrmSaAttributes {
  const m = xfrmAlgorithmFor(iosTransform);
  if (!m.keyBytes.includes(key.byteLength)) {
    throw new XfrmAlgorithmError(`${iosTransform}: key of ${key.byteLength} bytes, expected ${m.keyBytes.join('/')}`);
  }
  switch (m.slot) {
    case 'aead': return { algAead: { name: m.kernelName, key, icvBits: icvBits ?? m.icvBits ?? 128 } };
    case 'crypt': return { algCrypt: { name: m.kernelName, key } };
    case 'auth': return { algAuthTrunc: { name: m.kernelName, key, truncBits: m.truncBits ?? 96 } };
    case 'comp': return { algComp: { name: m.kernelName, key: new Uint8Array(0) } };
  }
}
