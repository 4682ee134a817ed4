// Typed errors of the shared IKE crypto helpers (used by IKEv1 and IKEv2).
// Callers tell failures apart with `instanceof`; messages never contain key material.

/** Base class of every error thrown by firmware/ike/crypto. */
export class IkeCryptoError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The DH group number is not one this module implements. */
export class DhUnsupportedGroupError extends IkeCryptoError {
  constructor(readonly group: number) {
    super(`unsupported Diffie-Hellman group ${group}`);
  }
}

/** Why a peer's public DH value was refused. */
export type DhInvalidReason = 'length' | 'range' | 'not-on-curve' | 'subgroup' | 'zero-secret';

/** The peer's public DH value failed validation (wrong length, out of range, not on the curve...). */
export class DhInvalidPublicValueError extends IkeCryptoError {
  constructor(readonly group: number, readonly reason: DhInvalidReason, detail = '') {
    super(`invalid peer public value for DH group ${group}: ${reason}${detail ? ` (${detail})` : ''}`);
  }
}

/** An algorithm name that this module does not know. */
export class UnsupportedAlgorithmError extends IkeCryptoError {
  constructor(readonly kind: string, readonly alg: string) {
    super(`unsupported ${kind} algorithm ${alg}`);
  }
}

/** A key, IV, salt or data length does not fit the algorithm. */
export class CryptoLengthError extends IkeCryptoError {
  constructor(readonly what: string, readonly got: number, readonly expected: string) {
    super(`${what} length ${got}, expected ${expected}`);
  }
}
