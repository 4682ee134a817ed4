// RFC 2408 section 3 payloads with the RFC 2407 IPsec DOI specifics, RFC 3947 NAT-D.
// Each payload type is a plain object; `encodePayloadBody` gives the bytes after the
// 4-byte generic header (what RFC 2409 calls e.g. SAi_b, IDii_b).
import { ByteWriter, view } from './bytes.js';
import { decodeAttributes, encodeAttributes, type DataAttribute } from './attributes.js';
import { DOI_IPSEC, GENERIC_PAYLOAD_HEADER_LENGTH, IdType, PayloadType, SIT_IDENTITY_ONLY } from './constants.js';
import {
  BadIdError,
  BadLengthError,
  BadProposalSyntaxError,
  InvalidPayloadTypeError,
  LimitExceededError,
  TruncatedError,
  UnsupportedDoiError,
  UnsupportedSituationError,
} from './errors.js';

export const MAX_PROPOSALS = 64;
export const MAX_TRANSFORMS = 64;
export const MAX_PAYLOADS = 64;
export const MAX_SPIS = 256;

export interface Transform {
  transformNumber: number;
  transformId: number;
  attributes: DataAttribute[];
}

export interface Proposal {
  proposalNumber: number;
  protocolId: number;
  /** 0 bytes (phase 1) or 4 bytes (ESP/AH). */
  spi: Uint8Array;
  transforms: Transform[];
}

export interface SaPayload {
  type: typeof PayloadType.SA;
  doi: number;
  situation: number;
  proposals: Proposal[];
}
export interface KePayload {
  type: typeof PayloadType.KE;
  keyData: Uint8Array;
}
export interface IdPayload {
  type: typeof PayloadType.ID;
  idType: number;
  /** IP protocol (0 = any) */
  protocolId: number;
  /** 0 = any */
  port: number;
  data: Uint8Array;
}
export interface DataPayload {
  type:
    | typeof PayloadType.HASH
    | typeof PayloadType.SIG
    | typeof PayloadType.NONCE
    | typeof PayloadType.VID
    | typeof PayloadType.NAT_D
    | typeof PayloadType.NAT_D_DRAFT;
  data: Uint8Array;
}
export interface CertPayload {
  type: typeof PayloadType.CERT | typeof PayloadType.CR;
  encoding: number;
  data: Uint8Array;
}
export interface NotifyPayload {
  type: typeof PayloadType.N;
  doi: number;
  protocolId: number;
  spi: Uint8Array;
  notifyType: number;
  data: Uint8Array;
}
export interface DeletePayload {
  type: typeof PayloadType.D;
  doi: number;
  protocolId: number;
  spiSize: number;
  spis: Uint8Array[];
}
export interface NatOaPayload {
  type: typeof PayloadType.NAT_OA | typeof PayloadType.NAT_OA_DRAFT;
  idType: number;
  data: Uint8Array;
}
export interface UnknownPayload {
  type: number;
  unknown: true;
  body: Uint8Array;
}

export type Payload =
  | SaPayload
  | KePayload
  | IdPayload
  | DataPayload
  | CertPayload
  | NotifyPayload
  | DeletePayload
  | NatOaPayload;

/** A decoded payload with its position in the decoded buffer (start = generic header). */
export type DecodedPayload = (Payload | UnknownPayload) & {
  body: Uint8Array;
  start: number;
  end: number;
};

export function isKnown(p: DecodedPayload): p is Payload & { body: Uint8Array; start: number; end: number } {
  return !('unknown' in p);
}

// ---------------------------------------------------------------- encode

function encodeTransform(t: Transform, last: boolean): Uint8Array {
  const attrs = encodeAttributes(t.attributes);
  const len = 8 + attrs.length;
  if (len > 0xffff) throw new RangeError('transform too long');
  return new ByteWriter()
    .u8(last ? PayloadType.NONE : PayloadType.TRANSFORM)
    .u8(0)
    .u16(len)
    .u8(t.transformNumber)
    .u8(t.transformId)
    .u16(0)
    .bytes(attrs)
    .finish();
}

function encodeProposal(p: Proposal, last: boolean): Uint8Array {
  const w = new ByteWriter();
  p.transforms.forEach((t, i) => w.bytes(encodeTransform(t, i === p.transforms.length - 1)));
  const body = w.finish();
  const len = 8 + p.spi.length + body.length;
  if (len > 0xffff) throw new RangeError('proposal too long');
  return new ByteWriter()
    .u8(last ? PayloadType.NONE : PayloadType.PROPOSAL)
    .u8(0)
    .u16(len)
    .u8(p.proposalNumber)
    .u8(p.protocolId)
    .u8(p.spi.length)
    .u8(p.transforms.length)
    .bytes(p.spi)
    .bytes(body)
    .finish();
}

/** The payload's bytes after the generic payload header. */
export function encodePayloadBody(p: Payload): Uint8Array {
  switch (p.type) {
    case PayloadType.SA: {
      const w = new ByteWriter().u32(p.doi).u32(p.situation);
      p.proposals.forEach((pr, i) => w.bytes(encodeProposal(pr, i === p.proposals.length - 1)));
      return w.finish();
    }
    case PayloadType.KE:
      return p.keyData;
    case PayloadType.ID:
      return new ByteWriter().u8(p.idType).u8(p.protocolId).u16(p.port).bytes(p.data).finish();
    case PayloadType.HASH:
    case PayloadType.SIG:
    case PayloadType.NONCE:
    case PayloadType.VID:
    case PayloadType.NAT_D:
    case PayloadType.NAT_D_DRAFT:
      return p.data;
    case PayloadType.CERT:
    case PayloadType.CR:
      return new ByteWriter().u8(p.encoding).bytes(p.data).finish();
    case PayloadType.N:
      return new ByteWriter()
        .u32(p.doi)
        .u8(p.protocolId)
        .u8(p.spi.length)
        .u16(p.notifyType)
        .bytes(p.spi)
        .bytes(p.data)
        .finish();
    case PayloadType.D: {
      const w = new ByteWriter().u32(p.doi).u8(p.protocolId).u8(p.spiSize).u16(p.spis.length);
      for (const s of p.spis) {
        if (s.length !== p.spiSize) throw new RangeError('delete SPI size mismatch');
        w.bytes(s);
      }
      return w.finish();
    }
    case PayloadType.NAT_OA:
    case PayloadType.NAT_OA_DRAFT:
      return new ByteWriter().u8(p.idType).u8(0).u16(0).bytes(p.data).finish();
  }
}

/** Encodes a chain of payloads; returns the first payload type (for the header) and the bytes. */
export function encodePayloadChain(payloads: readonly Payload[]): { firstType: number; bytes: Uint8Array } {
  const w = new ByteWriter();
  payloads.forEach((p, i) => {
    const body = encodePayloadBody(p);
    const len = GENERIC_PAYLOAD_HEADER_LENGTH + body.length;
    if (len > 0xffff) throw new RangeError('payload too long');
    const next = i + 1 < payloads.length ? payloads[i + 1]!.type : PayloadType.NONE;
    w.u8(next).u8(0).u16(len).bytes(body);
  });
  return { firstType: payloads.length > 0 ? payloads[0]!.type : PayloadType.NONE, bytes: w.finish() };
}

// ---------------------------------------------------------------- decode

function decodeTransforms(buf: Uint8Array, base: number, count: number): Transform[] {
  const dv = view(buf);
  const out: Transform[] = [];
  let o = 0;
  for (;;) {
    if (out.length >= MAX_TRANSFORMS) throw new LimitExceededError('transforms', base + o, MAX_TRANSFORMS);
    if (buf.length - o < 8) throw new TruncatedError('transform payload', base + o, 8, buf.length - o);
    const next = dv.getUint8(o);
    const len = dv.getUint16(o + 2);
    if (len < 8 || o + len > buf.length) throw new BadLengthError('transform payload', base + o + 2, len);
    if (next !== PayloadType.NONE && next !== PayloadType.TRANSFORM) {
      throw new BadProposalSyntaxError(`transform followed by payload type ${next}`, base + o);
    }
    out.push({
      transformNumber: dv.getUint8(o + 4),
      transformId: dv.getUint8(o + 5),
      attributes: decodeAttributes(buf.subarray(o + 8, o + len), base + o + 8),
    });
    o += len;
    if (next === PayloadType.NONE) break;
  }
  if (o !== buf.length) throw new BadLengthError('proposal (trailing bytes after transforms)', base + o, buf.length - o);
  if (out.length !== count) throw new BadProposalSyntaxError(`proposal declares ${count} transforms, has ${out.length}`, base);
  return out;
}

function decodeSa(body: Uint8Array, base: number): SaPayload {
  if (body.length < 8) throw new TruncatedError('SA payload', base, 8, body.length);
  const dv = view(body);
  const doi = dv.getUint32(0);
  if (doi !== DOI_IPSEC) throw new UnsupportedDoiError(base, doi);
  const situation = dv.getUint32(4);
  if (situation !== SIT_IDENTITY_ONLY) throw new UnsupportedSituationError(base + 4, situation);
  const proposals: Proposal[] = [];
  let o = 8;
  if (o === body.length) throw new BadProposalSyntaxError('SA payload without proposals', base + o);
  for (;;) {
    if (proposals.length >= MAX_PROPOSALS) throw new LimitExceededError('proposals', base + o, MAX_PROPOSALS);
    if (body.length - o < 8) throw new TruncatedError('proposal payload', base + o, 8, body.length - o);
    const next = dv.getUint8(o);
    const len = dv.getUint16(o + 2);
    if (len < 8 || o + len > body.length) throw new BadLengthError('proposal payload', base + o + 2, len);
    if (next !== PayloadType.NONE && next !== PayloadType.PROPOSAL) {
      throw new BadProposalSyntaxError(`proposal followed by payload type ${next}`, base + o);
    }
    const spiSize = dv.getUint8(o + 6);
    const nTransforms = dv.getUint8(o + 7);
    if (8 + spiSize > len) throw new BadLengthError('proposal SPI', base + o + 6, spiSize);
    if (nTransforms === 0) throw new BadProposalSyntaxError('proposal with no transforms', base + o + 7);
    const spi = body.slice(o + 8, o + 8 + spiSize);
    const tStart = o + 8 + spiSize;
    proposals.push({
      proposalNumber: dv.getUint8(o + 4),
      protocolId: dv.getUint8(o + 5),
      spi,
      transforms: decodeTransforms(body.subarray(tStart, o + len), base + tStart, nTransforms),
    });
    o += len;
    if (next === PayloadType.NONE) break;
  }
  if (o !== body.length) throw new BadLengthError('SA payload (trailing bytes)', base + o, body.length - o);
  return { type: PayloadType.SA, doi, situation, proposals };
}

const idDataLength: Record<number, number> = {
  [IdType.ID_IPV4_ADDR]: 4,
  [IdType.ID_IPV4_ADDR_SUBNET]: 8,
  [IdType.ID_IPV4_ADDR_RANGE]: 8,
  [IdType.ID_IPV6_ADDR]: 16,
  [IdType.ID_IPV6_ADDR_SUBNET]: 32,
  [IdType.ID_IPV6_ADDR_RANGE]: 32,
};

function decodeId(body: Uint8Array, base: number): IdPayload {
  if (body.length < 4) throw new TruncatedError('ID payload', base, 4, body.length);
  const dv = view(body);
  const idType = dv.getUint8(0);
  const data = body.slice(4);
  const want = idDataLength[idType];
  if (want !== undefined && data.length !== want) {
    throw new BadIdError(`ID type ${idType} needs ${want} bytes of data, has ${data.length}`, base + 4);
  }
  if ((idType === IdType.ID_FQDN || idType === IdType.ID_USER_FQDN || idType === IdType.ID_KEY_ID) && data.length === 0) {
    throw new BadIdError(`empty ID of type ${idType}`, base + 4);
  }
  return { type: PayloadType.ID, idType, protocolId: dv.getUint8(1), port: dv.getUint16(2), data };
}

function decodeNotify(body: Uint8Array, base: number): NotifyPayload {
  if (body.length < 8) throw new TruncatedError('notification payload', base, 8, body.length);
  const dv = view(body);
  const spiSize = dv.getUint8(5);
  if (8 + spiSize > body.length) throw new BadLengthError('notification SPI', base + 5, spiSize);
  return {
    type: PayloadType.N,
    doi: dv.getUint32(0),
    protocolId: dv.getUint8(4),
    notifyType: dv.getUint16(6),
    spi: body.slice(8, 8 + spiSize),
    data: body.slice(8 + spiSize),
  };
}

function decodeDelete(body: Uint8Array, base: number): DeletePayload {
  if (body.length < 8) throw new TruncatedError('delete payload', base, 8, body.length);
  const dv = view(body);
  const spiSize = dv.getUint8(5);
  const n = dv.getUint16(6);
  if (n > MAX_SPIS) throw new LimitExceededError('SPIs in delete', base + 6, MAX_SPIS);
  if (8 + spiSize * n !== body.length) throw new BadLengthError('delete payload SPIs', base + 6, spiSize * n);
  const spis: Uint8Array[] = [];
  for (let i = 0; i < n; i++) spis.push(body.slice(8 + i * spiSize, 8 + (i + 1) * spiSize));
  return { type: PayloadType.D, doi: dv.getUint32(0), protocolId: dv.getUint8(4), spiSize, spis };
}

function decodeBody(type: number, body: Uint8Array, base: number): Payload | UnknownPayload {
  switch (type) {
    case PayloadType.SA:
      return decodeSa(body, base);
    case PayloadType.KE:
      if (body.length === 0) throw new TruncatedError('KE payload', base, 1, 0);
      return { type: PayloadType.KE, keyData: body.slice() };
    case PayloadType.ID:
      return decodeId(body, base);
    case PayloadType.HASH:
    case PayloadType.SIG:
    case PayloadType.NONCE:
    case PayloadType.VID:
    case PayloadType.NAT_D:
    case PayloadType.NAT_D_DRAFT:
      if (body.length === 0) throw new TruncatedError(`payload type ${type}`, base, 1, 0);
      return { type, data: body.slice() };
    case PayloadType.CERT:
    case PayloadType.CR:
      if (body.length < 1) throw new TruncatedError('certificate payload', base, 1, 0);
      return { type, encoding: body[0]!, data: body.slice(1) };
    case PayloadType.N:
      return decodeNotify(body, base);
    case PayloadType.D:
      return decodeDelete(body, base);
    case PayloadType.NAT_OA:
    case PayloadType.NAT_OA_DRAFT:
      if (body.length < 4) throw new TruncatedError('NAT-OA payload', base, 4, body.length);
      return { type, idType: body[0]!, data: body.slice(4) };
    case PayloadType.PROPOSAL:
    case PayloadType.TRANSFORM:
      // proposal/transform only appear inside an SA payload
      throw new InvalidPayloadTypeError(base, type);
    default:
      return { type, unknown: true, body: body.slice() };
  }
}

/**
 * Decodes a chain of payloads starting with `firstType` at offset 0 of `buf`.
 * `base` is buf's offset in the whole message (for error offsets).
 * `allowTrailing`: bytes after the last payload are allowed (encryption padding).
 */
export function decodePayloadChain(
  buf: Uint8Array,
  firstType: number,
  base: number,
  allowTrailing = false,
): DecodedPayload[] {
  const dv = view(buf);
  const out: DecodedPayload[] = [];
  let type = firstType;
  let o = 0;
  while (type !== PayloadType.NONE) {
    if (out.length >= MAX_PAYLOADS) throw new LimitExceededError('payloads', base + o, MAX_PAYLOADS);
    if (buf.length - o < GENERIC_PAYLOAD_HEADER_LENGTH) {
      throw new TruncatedError('generic payload header', base + o, GENERIC_PAYLOAD_HEADER_LENGTH, buf.length - o);
    }
    const next = dv.getUint8(o);
    const len = dv.getUint16(o + 2);
    if (len < GENERIC_PAYLOAD_HEADER_LENGTH) throw new BadLengthError('payload', base + o + 2, len);
    if (o + len > buf.length) throw new TruncatedError(`payload type ${type}`, base + o + 2, len, buf.length - o);
    const body = buf.subarray(o + GENERIC_PAYLOAD_HEADER_LENGTH, o + len);
    const p = decodeBody(type, body, base + o + GENERIC_PAYLOAD_HEADER_LENGTH);
    out.push({ ...p, body: body.slice(), start: o, end: o + len } as DecodedPayload);
    o += len;
    type = next;
  }
  if (!allowTrailing && o !== buf.length) throw new BadLengthError('message (trailing bytes after last payload)', base + o, buf.length - o);
  return out;
}
