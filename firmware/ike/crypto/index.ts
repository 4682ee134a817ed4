// Shared IKE crypto helpers (IKEv1 and IKEv2). See each file for the RFC tables.
export * from './errors.js';
export * from './dh.js';
export * from './prf.js';
export * from './integrity.js';
export * from './cipher.js';
