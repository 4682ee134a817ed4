// Message protection: plaintext/encrypted ISAKMP messages, CBC with the RFC 2409 Appendix B IV
// chaining (phase 1 chain, one chain per phase-2 message ID), zero padding to the block size.
import { DOI_IPSEC, ExchangeType, ISAKMP_HEADER_LENGTH, PayloadType, ProtocolId, concatBytes, decodeHeader, decodePayloadChain, encodeEncryptedMessage, encodeMessage, encodePayloadChain, notifyTypeName, type DecodedPayload, type NotifyPayload, type Payload } from '../../proto/ikev1/index.js';
import { createBlockCipher } from '../crypto/index.js';
import type { Datagram, Phase2, Phase1 } from './types.js';
import type { V1Context } from './context.js';

export function decodePlain(data: Uint8Array): DecodedPayload[] {
  const h = decodeHeader(data);
  return decodePayloadChain(data.subarray(ISAKMP_HEADER_LENGTH, h.length), h.nextPayload, ISAKMP_HEADER_LENGTH);
}

export function plainNotifyFailure(ctx: V1Context, sa: Phase1, msg: DecodedPayload[]): boolean {
  const n = msg.find((p) => p.type === PayloadType.N) as unknown as NotifyPayload | undefined;
  if (!n || n.notifyType >= 16384) return false;
  ctx.fail(sa, `peer refused: ${notifyTypeName(n.notifyType)}`, n.notifyType);
  return true;
}

export function sendNotifyPlain(ctx: V1Context, sa: Phase1, _exchangeType: number, notifyType: number): void {
  const data = encodeMessage(
    { initiatorCookie: sa.ckyI, responderCookie: sa.ckyR, exchangeType: ExchangeType.INFORMATIONAL, flags: 0, messageId: 0 },
    [{ type: PayloadType.N, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spi: concatBytes(sa.ckyI, sa.ckyR), notifyType, data: new Uint8Array(0) }],
  );
  ctx.send({ data, local: sa.local, remote: sa.remote });
}

export function sendPlain(ctx: V1Context, sa: Phase1, exchangeType: number, payloads: Payload[], expectReply: boolean): void {
  const data = encodeMessage({ initiatorCookie: sa.ckyI, responderCookie: sa.ckyR, exchangeType, flags: 0, messageId: 0 }, payloads);
  const d: Datagram = { data, local: { ...sa.local }, remote: { ...sa.remote } };
  ctx.send(d);
  sa.lastReply = d;
  sa.retx = expectReply ? ctx.armRetx(d) : undefined;
}

export function encryptBody(sa: Phase1, iv: Uint8Array, payloads: Payload[]): { first: number; ct: Uint8Array; nextIv: Uint8Array } {
  const { firstType, bytes } = encodePayloadChain(payloads);
  const bl = sa.enc!.blockLen;
  const padded = new Uint8Array(Math.ceil((bytes.length + 1) / bl) * bl);
  padded.set(bytes);
  const ct = createBlockCipher(sa.enc!.cipher).encrypt(sa.encKey!, iv, padded);
  return { first: firstType, ct, nextIv: ct.slice(ct.length - bl) };
}

export function sendEncrypted1(ctx: V1Context, sa: Phase1, exchangeType: number, payloads: Payload[], expectReply: boolean): void {
  const { first, ct, nextIv } = encryptBody( sa, sa.iv!, payloads);
  sa.iv = nextIv;
  const data = encodeEncryptedMessage({ initiatorCookie: sa.ckyI, responderCookie: sa.ckyR, exchangeType, flags: 0, messageId: 0 }, first, ct);
  const d: Datagram = { data, local: { ...sa.local }, remote: { ...sa.remote } };
  ctx.send(d);
  sa.lastReply = d;
  sa.retx = expectReply ? ctx.armRetx(d) : undefined;
}

export function sendEncrypted2(ctx: V1Context, sa: Phase1, x: Phase2, exchangeType: number, payloads: Payload[], expectReply: boolean): void {
  const { first, ct, nextIv } = encryptBody( sa, x.iv, payloads);
  x.iv = nextIv;
  const data = encodeEncryptedMessage({ initiatorCookie: sa.ckyI, responderCookie: sa.ckyR, exchangeType, flags: 0, messageId: x.msgId }, first, ct);
  const d: Datagram = { data, local: { ...sa.local }, remote: { ...sa.remote } };
  ctx.send(d);
  x.lastReply = d;
  x.retx = expectReply ? ctx.armRetx(d) : undefined;
}

export function decryptWith(sa: Phase1, iv: Uint8Array, data: Uint8Array): { payloads: DecodedPayload[]; plain: Uint8Array; nextIv: Uint8Array } | undefined {
  const h = decodeHeader(data);
  const ct = data.subarray(ISAKMP_HEADER_LENGTH, h.length);
  const bl = sa.enc!.blockLen;
  if (ct.length === 0 || ct.length % bl !== 0) return undefined;
  const plain = createBlockCipher(sa.enc!.cipher).decrypt(sa.encKey!, iv, ct);
  try {
    const payloads = decodePayloadChain(plain, h.nextPayload, ISAKMP_HEADER_LENGTH, true);
    return { payloads, plain, nextIv: ct.slice(ct.length - bl) };
  } catch {
    return undefined;
  }
}

export function decrypt1(sa: Phase1, data: Uint8Array): { payloads: DecodedPayload[]; plain: Uint8Array; nextIv: Uint8Array } | undefined {
  if (!sa.keys || !sa.iv) return undefined;
  return decryptWith( sa, sa.iv, data);
}

export function decrypt2(sa: Phase1, x: Phase2, data: Uint8Array): { payloads: DecodedPayload[]; plain: Uint8Array; nextIv: Uint8Array } | undefined {
  return decryptWith( sa, x.iv, data);
}
