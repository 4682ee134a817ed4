// IKEv2 core (RFC 7296): pure state machine, driven by Ikev2Engine.
export * from './config-types.js';
export * from './events.js';
export * from './diagnosis.js';
export { Ikev2Engine, type Ikev2EngineOptions, type InitiateOptions, type Ikev2Counters } from './engine.js';
export type { LogLevel, Endpoint } from './context.js';
export type { ProposalComparison, TypeDifference } from './proposal-select.js';
export { selectProposal } from './proposal-select.js';
export { formatSelector, selectorFromConfig, narrow, parseIp, formatIp, cidrRange } from './selectors.js';
export { identityToString } from './identity.js';
export { validateConnection, validateIkev2Config } from './validate.js';
export { deriveIkeKeys, deriveChildKeys, skeyseedInitial, skeyseedRekey, pskAuth } from './keys.js';
