// Typed decode errors for the ISAKMP codec. Every error carries the byte offset (from the
// start of the buffer handed to the decoder) where the problem was found, and the RFC 2408
// notify type a responder would answer with.
import { NotifyType } from './constants.js';

export class IsakmpDecodeError extends Error {
  readonly offset: number;
  readonly notifyType: number;
  constructor(message: string, offset: number, notifyType: number = NotifyType.PAYLOAD_MALFORMED) {
    super(`${message} at offset ${offset}`);
    this.name = new.target.name;
    this.offset = offset;
    this.notifyType = notifyType;
  }
}

/** Fewer bytes than a field or a declared length needs. */
export class TruncatedError extends IsakmpDecodeError {
  readonly needed: number;
  readonly available: number;
  constructor(what: string, offset: number, needed: number, available: number) {
    super(`truncated ${what}: need ${needed} bytes, have ${available}`, offset, NotifyType.UNEQUAL_PAYLOAD_LENGTHS);
    this.needed = needed;
    this.available = available;
  }
}

/** A length field that is smaller than its fixed part, or larger than its container. */
export class BadLengthError extends IsakmpDecodeError {
  readonly length: number;
  constructor(what: string, offset: number, length: number) {
    super(`bad ${what} length ${length}`, offset, NotifyType.UNEQUAL_PAYLOAD_LENGTHS);
    this.length = length;
  }
}

export class InvalidMajorVersionError extends IsakmpDecodeError {
  constructor(offset: number, readonly version: number) {
    super(`unsupported ISAKMP major version ${version >> 4}`, offset, NotifyType.INVALID_MAJOR_VERSION);
  }
}

export class InvalidPayloadTypeError extends IsakmpDecodeError {
  constructor(offset: number, readonly payloadType: number) {
    super(`unexpected payload type ${payloadType}`, offset, NotifyType.INVALID_PAYLOAD_TYPE);
  }
}

export class UnsupportedDoiError extends IsakmpDecodeError {
  constructor(offset: number, readonly doi: number) {
    super(`unsupported DOI ${doi}`, offset, NotifyType.DOI_NOT_SUPPORTED);
  }
}

export class UnsupportedSituationError extends IsakmpDecodeError {
  constructor(offset: number, readonly situation: number) {
    super(`unsupported situation 0x${situation.toString(16)}`, offset, NotifyType.SITUATION_NOT_SUPPORTED);
  }
}

export class BadProposalSyntaxError extends IsakmpDecodeError {
  constructor(message: string, offset: number) {
    super(message, offset, NotifyType.BAD_PROPOSAL_SYNTAX);
  }
}

export class BadIdError extends IsakmpDecodeError {
  constructor(message: string, offset: number) {
    super(message, offset, NotifyType.INVALID_ID_INFORMATION);
  }
}

/** Too many payloads / proposals / transforms / attributes: an implementation limit. */
export class LimitExceededError extends IsakmpDecodeError {
  constructor(what: string, offset: number, limit: number) {
    super(`too many ${what} (limit ${limit})`, offset, NotifyType.PAYLOAD_MALFORMED);
  }
}
