// Generic netlink framing (RFC 3549 and the Linux uapi <linux/netlink.h>): message
// headers, attributes (nlattr) and NLMSG_ERROR acknowledgements. Pure functions over
// Uint8Array; no I/O. Integers that are not marked big-endian in the uapi headers are in
// host byte order, so every multi-byte field goes through a DataView with HOST_LE.

/** True on little-endian hosts (x86-64, arm64 in its usual mode). */
export const HOST_LE: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// struct nlmsghdr
export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;
export const NLMSG_ALIGNTO = 4;

// nlmsg_type values below NLMSG_MIN_TYPE are control messages
export const NLMSG_NOOP = 0x1;
export const NLMSG_ERROR = 0x2;
export const NLMSG_DONE = 0x3;
export const NLMSG_OVERRUN = 0x4;
export const NLMSG_MIN_TYPE = 0x10;

// nlmsg_flags
export const NLM_F_REQUEST = 0x01;
export const NLM_F_MULTI = 0x02;
export const NLM_F_ACK = 0x04;
export const NLM_F_ECHO = 0x08;
export const NLM_F_DUMP_INTR = 0x10;
// GET requests
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_ATOMIC = 0x400;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
// NEW requests
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
// flags of an NLMSG_ERROR acknowledgement
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

// extended ack TLVs (enum nlmsgerr_attrs)
export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;

/** Netlink protocol number of XFRM (NETLINK_XFRM). */
export const NETLINK_XFRM = 6;

export const nlAlign = (n: number): number => (n + NLMSG_ALIGNTO - 1) & ~(NLMSG_ALIGNTO - 1);

/** Base class of every netlink/XFRM decode failure; `offset` is where decoding stopped. */
export class NetlinkDecodeError extends Error {
  override name = 'NetlinkDecodeError';
  constructor(message: string, readonly offset: number) {
    super(`${message} (at offset ${offset})`);
  }
}
/** Fewer bytes than a header or structure needs. */
export class NetlinkTruncatedError extends NetlinkDecodeError {
  override name = 'NetlinkTruncatedError';
}
/** A length field that is smaller than its header or runs past its container. */
export class NetlinkBadLengthError extends NetlinkDecodeError {
  override name = 'NetlinkBadLengthError';
}
/** A message or attribute that is well framed but not what was expected. */
export class NetlinkUnexpectedError extends NetlinkDecodeError {
  override name = 'NetlinkUnexpectedError';
}
/** An encoder was handed a value that does not fit its field. */
export class NetlinkEncodeError extends Error {
  override name = 'NetlinkEncodeError';
}

export interface NetlinkHeader {
  /** Total length including the 16-byte header (as on the wire). */
  length: number;
  type: number;
  flags: number;
  seq: number;
  /** Port id of the sender (0 = the kernel). */
  pid: number;
}

export interface NetlinkMessage {
  header: NetlinkHeader;
  /** Payload after the header (a view into the input buffer). */
  payload: Uint8Array;
  /** Offset of this message's header in the buffer it was decoded from. */
  offset: number;
}

export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/** Throws NetlinkTruncatedError unless `b` has `len` bytes at `offset`; `base` is added to the reported offset. */
export function need(b: Uint8Array, offset: number, len: number, what: string, base = 0): void {
  if (offset < 0 || offset + len > b.byteLength) {
    throw new NetlinkTruncatedError(`${what}: need ${len} bytes, have ${Math.max(0, b.byteLength - offset)}`, base + offset);
  }
}

/** One netlink message: header + payload, padded to 4 bytes. */
export function encodeNetlinkMessage(
  type: number, flags: number, seq: number, pid: number, payload: Uint8Array,
): Uint8Array {
  const len = NLMSG_HDRLEN + payload.byteLength;
  const out = new Uint8Array(nlAlign(len));
  const dv = view(out);
  dv.setUint32(0, len, HOST_LE);
  dv.setUint16(4, type, HOST_LE);
  dv.setUint16(6, flags, HOST_LE);
  dv.setUint32(8, seq >>> 0, HOST_LE);
  dv.setUint32(12, pid >>> 0, HOST_LE);
  out.set(payload, NLMSG_HDRLEN);
  return out;
}

/** Splits a datagram into netlink messages; checks every length. */
export function decodeNetlinkMessages(buf: Uint8Array): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off < buf.byteLength) {
    need(buf, off, NLMSG_HDRLEN, 'nlmsghdr');
    const dv = view(buf);
    const length = dv.getUint32(off, HOST_LE);
    if (length < NLMSG_HDRLEN) throw new NetlinkBadLengthError(`nlmsg_len ${length} < ${NLMSG_HDRLEN}`, off);
    if (off + length > buf.byteLength) {
      throw new NetlinkBadLengthError(`nlmsg_len ${length} runs past the datagram (${buf.byteLength - off} left)`, off);
    }
    const header: NetlinkHeader = {
      length,
      type: dv.getUint16(off + 4, HOST_LE),
      flags: dv.getUint16(off + 6, HOST_LE),
      seq: dv.getUint32(off + 8, HOST_LE),
      pid: dv.getUint32(off + 12, HOST_LE),
    };
    out.push({ header, payload: buf.subarray(off + NLMSG_HDRLEN, off + length), offset: off });
    off += nlAlign(length);
  }
  return out;
}

export interface NetlinkAttribute {
  /** Attribute type with the NLA_F_NESTED / NLA_F_NET_BYTEORDER bits removed. */
  type: number;
  /** The two flag bits of nla_type. */
  flags: number;
  data: Uint8Array;
  /** Offset of the attribute header within the buffer that was parsed. */
  offset: number;
}

export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

/** One attribute: 4-byte header + data, padded to 4 bytes. */
export function encodeAttribute(type: number, data: Uint8Array): Uint8Array {
  const len = NLA_HDRLEN + data.byteLength;
  if (len > 0xffff) throw new NetlinkEncodeError(`attribute ${type} too long: ${len} bytes`);
  const out = new Uint8Array(nlAlign(len));
  const dv = view(out);
  dv.setUint16(0, len, HOST_LE);
  dv.setUint16(2, type, HOST_LE);
  out.set(data, NLA_HDRLEN);
  return out;
}

/** Parses a run of attributes; `base` is added to reported offsets. */
export function decodeAttributes(buf: Uint8Array, base = 0): NetlinkAttribute[] {
  const out: NetlinkAttribute[] = [];
  let off = 0;
  const dv = view(buf);
  while (off + NLA_HDRLEN <= buf.byteLength) {
    const len = dv.getUint16(off, HOST_LE);
    const rawType = dv.getUint16(off + 2, HOST_LE);
    if (len < NLA_HDRLEN) throw new NetlinkBadLengthError(`nla_len ${len} < ${NLA_HDRLEN}`, base + off);
    if (off + len > buf.byteLength) {
      throw new NetlinkBadLengthError(`nla_len ${len} runs past its container (${buf.byteLength - off} left)`, base + off);
    }
    out.push({
      type: rawType & NLA_TYPE_MASK,
      flags: rawType & (NLA_F_NESTED | NLA_F_NET_BYTEORDER),
      data: buf.subarray(off + NLA_HDRLEN, off + len),
      offset: base + off,
    });
    off += nlAlign(len);
  }
  // Trailing bytes shorter than an attribute header are padding; anything else is garbage.
  if (off < buf.byteLength && buf.subarray(off).some((x) => x !== 0)) {
    throw new NetlinkTruncatedError('trailing bytes after the last attribute', base + off);
  }
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.byteLength; }
  return out;
}

export function u32Bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  view(b).setUint32(0, v >>> 0, HOST_LE);
  return b;
}

export function readU32(data: Uint8Array, what: string): number {
  need(data, 0, 4, what);
  return view(data).getUint32(0, HOST_LE);
}

/** The decoded body of an NLMSG_ERROR message (error 0 = ACK). */
export interface NetlinkErrorMessage {
  /** errno as a positive number (0 for an ACK). */
  errno: number;
  /** Header of the request this answers. */
  request: NetlinkHeader;
  /** Extended-ack text (NLMSGERR_ATTR_MSG) when the socket asked for it. */
  extAckMessage?: string;
  /** Extended-ack offset of the offending attribute, when given. */
  extAckOffset?: number;
}

export function decodeNetlinkError(msg: NetlinkMessage): NetlinkErrorMessage {
  if (msg.header.type !== NLMSG_ERROR) {
    throw new NetlinkUnexpectedError(`not NLMSG_ERROR: type ${msg.header.type}`, msg.offset);
  }
  const p = msg.payload;
  const base = msg.offset + NLMSG_HDRLEN;
  need(p, 0, 4 + NLMSG_HDRLEN, 'nlmsgerr', base);
  const dv = view(p);
  const error = dv.getInt32(0, HOST_LE);
  const request: NetlinkHeader = {
    length: dv.getUint32(4, HOST_LE),
    type: dv.getUint16(8, HOST_LE),
    flags: dv.getUint16(10, HOST_LE),
    seq: dv.getUint32(12, HOST_LE),
    pid: dv.getUint32(16, HOST_LE),
  };
  const out: NetlinkErrorMessage = { errno: -error, request };
  if (msg.header.flags & NLM_F_ACK_TLVS) {
    // Without NLM_F_CAPPED the whole request is echoed before the TLVs.
    let tlvOff = 4 + NLMSG_HDRLEN;
    if (!(msg.header.flags & NLM_F_CAPPED)) tlvOff = 4 + nlAlign(request.length);
    if (tlvOff <= p.byteLength) {
      for (const a of decodeAttributes(p.subarray(tlvOff), base + tlvOff)) {
        if (a.type === NLMSGERR_ATTR_MSG) {
          let end = a.data.indexOf(0);
          if (end < 0) end = a.data.byteLength;
          out.extAckMessage = new TextDecoder().decode(a.data.subarray(0, end));
        } else if (a.type === NLMSGERR_ATTR_OFFS && a.data.byteLength >= 4) {
          out.extAckOffset = readU32(a.data, 'NLMSGERR_ATTR_OFFS');
        }
      }
    }
  }
  return out;
}

/** Builds an NLMSG_ERROR message (used by fakes and tests). */
export function encodeNetlinkError(errno: number, request: NetlinkHeader, seq = request.seq, pid = 0): Uint8Array {
  const body = new Uint8Array(4 + NLMSG_HDRLEN);
  const dv = view(body);
  dv.setInt32(0, -errno, HOST_LE);
  dv.setUint32(4, request.length, HOST_LE);
  dv.setUint16(8, request.type, HOST_LE);
  dv.setUint16(10, request.flags, HOST_LE);
  dv.setUint32(12, request.seq, HOST_LE);
  dv.setUint32(16, request.pid, HOST_LE);
  return encodeNetlinkMessage(NLMSG_ERROR, NLM_F_CAPPED, seq, pid, body);
}

/** Linux errno numbers the XFRM backend reports by name. */
export const ERRNO: Readonly<Record<string, number>> = {
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENOMEM: 12, EACCES: 13, EBUSY: 16, EEXIST: 17,
  ENODEV: 19, EINVAL: 22, ENOSPC: 28, ERANGE: 34, ENOSYS: 38, ENOBUFS: 105, EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97, EPROTONOSUPPORT: 93, ENOPROTOOPT: 92, ETIMEDOUT: 110,
};

export function errnoName(errno: number): string {
  for (const [k, v] of Object.entries(ERRNO)) if (v === errno) return k;
  return `errno ${errno}`;
}
