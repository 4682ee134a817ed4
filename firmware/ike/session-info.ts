// The session view lives in lib (pure types and helpers) so that the CLI, which may not
// import ike, can read it; IKE services implement it from here.
export * from '../lib/session-info.js';
