// IKEv1 (RFC 2409) for Rampart: the public surface the daemon uses.
//
// Driving the engine (the daemon owns sockets and timers):
//   const ike = new IkeV1Engine({ now, policies: effectivePolicies(cfgPolicies, defaultsOn),
//     peerConfig, quickModeResponder: (q) => selectQuickModeResponse(cryptoMapEntries, q), debug, dpd });
//   socket 500/4500 'message' -> ike.receive({ data, local, remote })   (strip the 4-byte non-ESP
//                                                                        marker on 4500 first; ESP and
//                                                                        0xFF keepalives never reach IKE)
//   after every receive()/initiate()/tick(): for (d of ike.drainOutbox()) send d.data from
//     d.local (port 500 or 4500; prepend the non-ESP marker on 4500) to d.remote
//   for (e of ike.drainEvents()) -> install/remove SAs (ipsec-up / ipsec-deleted), show state, failover
//   timers: call ike.tick() at ike.nextTimerAt() (or every 100-500 ms)
//   data plane: ike.notePeerTraffic(peer) on inbound ESP, ike.noteOutboundTraffic(peer) on outbound (DPD)
export { IkeV1Engine } from './engine.js';
export type {
  Datagram, Endpoint, EngineCounters, IkeV1EngineOptions, IkeV1Event, InitiateOptions, IpsecKeys, IpsecSaInfo,
  IsakmpStateName, Phase1Info, QuickModeRequest,
} from './types.js';
export {
  IOS_DEFAULT_ISAKMP_POLICIES, RFC2409_DEFAULT_LIFETIME_SEC, effectivePolicies, buildPhase1Sa, selectPhase1, buildQuickModeSa,
  parseQuickModeOffer, proposalMatchesSet,
  type IsakmpPolicy, type Phase1Params, type TransformSet, type IpsecProposalParams, type ParsedAlternative,
} from './policy.js';
export { selectQuickModeResponse, type CryptoMapEntryV1, type QuickModeResponderQuery, type QuickModeResponderDecision } from './quick-mode-policy.js';
export {
  findPreSharedKey, matchProfile, selfIdentity, resolveBinding,
  type PeerConfigInput, type KeyringConfig, type PskEntry, type IsakmpProfileConfig, type ProfileIdentity, type LocalBinding,
  type InterfaceInfo, type PeerIdentity, type PskQuery, type PskResult, type ProfileQuery,
} from './peer-config.js';
export { type Selector, type ProxyPermit, selectorWithin, findPermitForFlow, idToSelector, selectorToId, hostSelector, formatSelector } from './selectors.js';
export { type IsakmpDebugEvent, type IsakmpDebugSink } from './debug.js';
export { formatIsakmpDebug, formatIosTimestamp, formatConnPrefix, type DebugFormatOptions } from './debug-format.js';
export type { IkeEncryptionName, IkeHashName, IkeAuthName, EspCipherName, IpsecHmacName } from './algorithms.js';
