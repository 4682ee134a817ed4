// IKEv2 wire codec (RFC 7296): pure functions, no I/O.
export * from './constants.js';
export * from './errors.js';
export * from './payload-types.js';
export * from './payloads.js';
export * from './message.js';
