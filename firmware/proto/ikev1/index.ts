// ISAKMP / IKEv1 wire codec (RFC 2408, 2407, 2409, 3947, 3706). Pure, no I/O.
export * from './constants.js';
export * from './errors.js';
export * from './bytes.js';
export * from './header.js';
export * from './attributes.js';
export * from './payloads.js';
export * from './message.js';
export * from './identity.js';
