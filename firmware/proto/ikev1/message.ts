// Whole ISAKMP messages: header + payload chain, plaintext or with an encrypted body.
import { concatBytes } from './bytes.js';
import { HeaderFlag, ISAKMP_HEADER_LENGTH } from './constants.js';
import { decodeHeader, encodeHeader, ISAKMP_VERSION, type IsakmpHeader } from './header.js';
import { decodePayloadChain, encodePayloadChain, type DecodedPayload, type Payload } from './payloads.js';

export interface MessageFields {
  initiatorCookie: Uint8Array;
  responderCookie: Uint8Array;
  exchangeType: number;
  flags: number;
  messageId: number;
}

export interface DecodedMessage {
  header: IsakmpHeader;
  /** Empty when the E flag is set: the caller decrypts `encryptedBody` then calls decodePayloadChain. */
  payloads: DecodedPayload[];
  /** Body after the header (ciphertext when the E flag is set). */
  encryptedBody?: Uint8Array;
}

/** Encodes a plaintext message (E flag must not be set). */
export function encodeMessage(f: MessageFields, payloads: readonly Payload[]): Uint8Array {
  const { firstType, bytes } = encodePayloadChain(payloads);
  const header = encodeHeader({
    ...f,
    nextPayload: firstType,
    version: ISAKMP_VERSION,
    length: ISAKMP_HEADER_LENGTH + bytes.length,
  });
  return concatBytes(header, bytes);
}

/** Builds a message from an already-encrypted body; `firstType` is the first payload's type. */
export function encodeEncryptedMessage(f: MessageFields, firstType: number, ciphertext: Uint8Array): Uint8Array {
  const header = encodeHeader({
    ...f,
    flags: f.flags | HeaderFlag.ENCRYPTION,
    nextPayload: firstType,
    version: ISAKMP_VERSION,
    length: ISAKMP_HEADER_LENGTH + ciphertext.length,
  });
  return concatBytes(header, ciphertext);
}

/** Decodes header and, for plaintext messages, the payload chain. Throws IsakmpDecodeError subclasses. */
export function decodeMessage(buf: Uint8Array): DecodedMessage {
  const header = decodeHeader(buf);
  const body = buf.subarray(ISAKMP_HEADER_LENGTH, header.length);
  if (header.flags & HeaderFlag.ENCRYPTION) {
    return { header, payloads: [], encryptedBody: body.slice() };
  }
  return { header, payloads: decodePayloadChain(body, header.nextPayload, ISAKMP_HEADER_LENGTH) };
}
