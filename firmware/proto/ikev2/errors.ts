// Typed decode errors of the IKEv2 codec. Each carries the byte offset (from the start of
// the buffer handed to the decoder) where the problem was found.

export class Ikev2DecodeError extends Error {
  constructor(message: string, readonly offset: number) {
    super(`${message} at offset ${offset}`);
    this.name = new.target.name;
  }
}

/** Fewer bytes than a field or a declared length needs. */
export class TruncatedError extends Ikev2DecodeError {
  constructor(readonly what: string, offset: number, readonly needed: number, readonly available: number) {
    super(`${what}: need ${needed} bytes, have ${available}`, offset);
  }
}

/** A length field is inconsistent (too small for its structure, or disagrees with the data). */
export class BadLengthError extends Ikev2DecodeError {
  constructor(readonly what: string, offset: number, readonly length: number) {
    super(`${what}: bad length ${length}`, offset);
  }
}

/** The IKE header's major version is not 2 (answer with INVALID_MAJOR_VERSION). */
export class InvalidMajorVersionError extends Ikev2DecodeError {
  constructor(readonly majorVersion: number, offset: number) {
    super(`major version ${majorVersion}`, offset);
  }
}

/** A payload of unknown type has the critical bit set (answer with UNSUPPORTED_CRITICAL_PAYLOAD). */
export class UnsupportedCriticalPayloadError extends Ikev2DecodeError {
  constructor(readonly payloadType: number, offset: number) {
    super(`unsupported critical payload type ${payloadType}`, offset);
  }
}

/** A field holds a value the structure does not allow (answer with INVALID_SYNTAX). */
export class InvalidSyntaxError extends Ikev2DecodeError {
  constructor(readonly what: string, offset: number) {
    super(`invalid syntax: ${what}`, offset);
  }
}

/** More substructures than the decoder accepts (payloads, proposals, attributes, SPIs). */
export class LimitExceededError extends Ikev2DecodeError {
  constructor(readonly what: string, offset: number, readonly limit: number) {
    super(`more than ${limit} ${what}`, offset);
  }
}
