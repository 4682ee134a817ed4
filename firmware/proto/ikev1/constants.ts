// ISAKMP / IKEv1 protocol constants with their RFC names.
// RFC 2408 (ISAKMP), RFC 2407 (IPsec DOI), RFC 2409 (IKE), RFC 3947 (NAT-T), RFC 3706 (DPD).

export const ISAKMP_HEADER_LENGTH = 28;
export const GENERIC_PAYLOAD_HEADER_LENGTH = 4;
export const ISAKMP_VERSION_MAJOR = 1;
export const ISAKMP_VERSION_MINOR = 0;
export const COOKIE_LENGTH = 8;
export const IKE_PORT = 500;
export const NAT_T_PORT = 4500;

/** RFC 2408 3.1 Next Payload Types (+ RFC 3947 NAT-D/NAT-OA, draft values). */
export const PayloadType = {
  NONE: 0,
  SA: 1,
  PROPOSAL: 2,
  TRANSFORM: 3,
  KE: 4,
  ID: 5,
  CERT: 6,
  CR: 7,
  HASH: 8,
  SIG: 9,
  NONCE: 10,
  N: 11,
  D: 12,
  VID: 13,
  NAT_D: 20,
  NAT_OA: 21,
  NAT_D_DRAFT: 130,
  NAT_OA_DRAFT: 131,
} as const;
export type PayloadTypeValue = number;

/** RFC 2408 3.1 Exchange Types, RFC 2409 Quick Mode / New Group Mode. */
export const ExchangeType = {
  BASE: 1,
  IDENTITY_PROTECTION: 2, // Main Mode
  AUTHENTICATION_ONLY: 3,
  AGGRESSIVE: 4,
  INFORMATIONAL: 5,
  QUICK_MODE: 32,
  NEW_GROUP_MODE: 33,
} as const;

/** RFC 2408 3.1 flags. */
export const HeaderFlag = {
  ENCRYPTION: 0x01,
  COMMIT: 0x02,
  AUTHENTICATION_ONLY: 0x04,
} as const;

/** RFC 2407 4.2 */
export const DOI_IPSEC = 1;
export const DOI_ISAKMP = 0;
/** RFC 2407 4.2 Situation bits. */
export const SIT_IDENTITY_ONLY = 0x01;
export const SIT_SECRECY = 0x02;
export const SIT_INTEGRITY = 0x04;

/** RFC 2407 4.4.1 Protocol identifiers. */
export const ProtocolId = {
  PROTO_ISAKMP: 1,
  PROTO_IPSEC_AH: 2,
  PROTO_IPSEC_ESP: 3,
  PROTO_IPCOMP: 4,
} as const;

/** RFC 2407 4.4.2 */
export const KEY_IKE = 1;

/** RFC 2407 4.4.3 AH transform identifiers. */
export const AhTransformId = {
  AH_MD5: 2,
  AH_SHA: 3,
  AH_DES: 4,
  AH_SHA2_256: 5,
  AH_SHA2_384: 6,
  AH_SHA2_512: 7,
} as const;

/** RFC 2407 4.4.4 ESP transform identifiers (+ RFC 3602 ESP_AES). */
export const EspTransformId = {
  ESP_DES_IV64: 1,
  ESP_DES: 2,
  ESP_3DES: 3,
  ESP_RC5: 4,
  ESP_IDEA: 5,
  ESP_CAST: 6,
  ESP_BLOWFISH: 7,
  ESP_3IDEA: 8,
  ESP_DES_IV32: 9,
  ESP_RC4: 10,
  ESP_NULL: 11,
  ESP_AES: 12,
} as const;

/** RFC 2409 Appendix A phase-1 attribute classes. B = basic, V = variable. */
export const Phase1Attr = {
  ENCRYPTION_ALGORITHM: 1, // B
  HASH_ALGORITHM: 2, // B
  AUTHENTICATION_METHOD: 3, // B
  GROUP_DESCRIPTION: 4, // B
  GROUP_TYPE: 5, // B
  GROUP_PRIME: 6, // V
  GROUP_GENERATOR_ONE: 7, // V
  GROUP_GENERATOR_TWO: 8, // V
  GROUP_CURVE_A: 9, // V
  GROUP_CURVE_B: 10, // V
  LIFE_TYPE: 11, // B
  LIFE_DURATION: 12, // V
  PRF: 13, // B
  KEY_LENGTH: 14, // B
  FIELD_SIZE: 15, // B
  GROUP_ORDER: 16, // V
} as const;

/** RFC 2409 Appendix A Encryption Algorithm values (+ RFC 3602 AES-CBC). */
export const EncryptionAlgorithm = {
  DES_CBC: 1,
  IDEA_CBC: 2,
  BLOWFISH_CBC: 3,
  RC5_R16_B64_CBC: 4,
  TRIPLE_DES_CBC: 5, // 3DES-CBC
  CAST_CBC: 6,
  AES_CBC: 7,
} as const;

/** RFC 2409 Appendix A Hash Algorithm values (+ RFC 4868 / IANA SHA2). */
export const HashAlgorithm = {
  MD5: 1,
  SHA: 2,
  TIGER: 3,
  SHA2_256: 4,
  SHA2_384: 5,
  SHA2_512: 6,
} as const;

/** RFC 2409 Appendix A Authentication Method values. */
export const AuthMethod = {
  PRE_SHARED_KEY: 1,
  DSS_SIGNATURES: 2,
  RSA_SIGNATURES: 3,
  RSA_ENCRYPTION: 4,
  REVISED_RSA_ENCRYPTION: 5,
} as const;

/** RFC 2409 Appendix A Life Type values (phase 1) — same numbers in RFC 2407 SA Life Type. */
export const LifeType = {
  SECONDS: 1,
  KILOBYTES: 2,
} as const;

/** RFC 2407 4.5 IPsec DOI SA attributes. */
export const IpsecAttr = {
  SA_LIFE_TYPE: 1, // B
  SA_LIFE_DURATION: 2, // V
  GROUP_DESCRIPTION: 3, // B
  ENCAPSULATION_MODE: 4, // B
  AUTHENTICATION_ALGORITHM: 5, // B
  KEY_LENGTH: 6, // B
  KEY_ROUNDS: 7, // B
  COMPRESS_DICTIONARY_SIZE: 8, // B
  COMPRESS_PRIVATE_ALGORITHM: 9, // V
  ECN_TUNNEL: 10, // B (RFC 3168)
  EXTENDED_SEQUENCE_NUMBER: 11, // B (RFC 4304)
} as const;

/** RFC 2407 4.5 Encapsulation Mode values, RFC 3947 UDP-encapsulated values, draft values. */
export const EncapsulationMode = {
  TUNNEL: 1,
  TRANSPORT: 2,
  UDP_ENCAPSULATED_TUNNEL: 3, // RFC 3947
  UDP_ENCAPSULATED_TRANSPORT: 4, // RFC 3947
  UDP_ENCAPSULATED_TUNNEL_DRAFT: 61443, // draft-ietf-ipsec-nat-t-ike-00..03 (strongSwan may send)
  UDP_ENCAPSULATED_TRANSPORT_DRAFT: 61444,
} as const;

/** RFC 2407 4.5 Authentication Algorithm values (+ RFC 4868). */
export const IpsecAuthAlgorithm = {
  HMAC_MD5: 1,
  HMAC_SHA: 2,
  DES_MAC: 3,
  KPDK: 4,
  HMAC_SHA2_256: 5,
  HMAC_SHA2_384: 6,
  HMAC_SHA2_512: 7,
} as const;

/** RFC 2407 4.6.2.1 Identification Type Values. */
export const IdType = {
  ID_IPV4_ADDR: 1,
  ID_FQDN: 2,
  ID_USER_FQDN: 3,
  ID_IPV4_ADDR_SUBNET: 4,
  ID_IPV6_ADDR: 5,
  ID_IPV6_ADDR_SUBNET: 6,
  ID_IPV4_ADDR_RANGE: 7,
  ID_IPV6_ADDR_RANGE: 8,
  ID_DER_ASN1_DN: 9,
  ID_DER_ASN1_GN: 10,
  ID_KEY_ID: 11,
} as const;

/** RFC 2408 3.14.1 Notify Message Types (errors), status, RFC 2407 4.6.3, RFC 3706. */
export const NotifyType = {
  INVALID_PAYLOAD_TYPE: 1,
  DOI_NOT_SUPPORTED: 2,
  SITUATION_NOT_SUPPORTED: 3,
  INVALID_COOKIE: 4,
  INVALID_MAJOR_VERSION: 5,
  INVALID_MINOR_VERSION: 6,
  INVALID_EXCHANGE_TYPE: 7,
  INVALID_FLAGS: 8,
  INVALID_MESSAGE_ID: 9,
  INVALID_PROTOCOL_ID: 10,
  INVALID_SPI: 11,
  INVALID_TRANSFORM_ID: 12,
  ATTRIBUTES_NOT_SUPPORTED: 13,
  NO_PROPOSAL_CHOSEN: 14,
  BAD_PROPOSAL_SYNTAX: 15,
  PAYLOAD_MALFORMED: 16,
  INVALID_KEY_INFORMATION: 17,
  INVALID_ID_INFORMATION: 18,
  INVALID_CERT_ENCODING: 19,
  INVALID_CERTIFICATE: 20,
  CERT_TYPE_UNSUPPORTED: 21,
  INVALID_CERT_AUTHORITY: 22,
  INVALID_HASH_INFORMATION: 23,
  AUTHENTICATION_FAILED: 24,
  INVALID_SIGNATURE: 25,
  ADDRESS_NOTIFICATION: 26,
  NOTIFY_SA_LIFETIME: 27,
  CERTIFICATE_UNAVAILABLE: 28,
  UNSUPPORTED_EXCHANGE_TYPE: 29,
  UNEQUAL_PAYLOAD_LENGTHS: 30,
  CONNECTED: 16384,
  RESPONDER_LIFETIME: 24576,
  REPLAY_STATUS: 24577,
  INITIAL_CONTACT: 24578,
  R_U_THERE: 36136,
  R_U_THERE_ACK: 36137,
} as const;

const notifyNames = new Map<number, string>([
  [1, 'INVALID-PAYLOAD-TYPE'], [2, 'DOI-NOT-SUPPORTED'], [3, 'SITUATION-NOT-SUPPORTED'],
  [4, 'INVALID-COOKIE'], [5, 'INVALID-MAJOR-VERSION'], [6, 'INVALID-MINOR-VERSION'],
  [7, 'INVALID-EXCHANGE-TYPE'], [8, 'INVALID-FLAGS'], [9, 'INVALID-MESSAGE-ID'],
  [10, 'INVALID-PROTOCOL-ID'], [11, 'INVALID-SPI'], [12, 'INVALID-TRANSFORM-ID'],
  [13, 'ATTRIBUTES-NOT-SUPPORTED'], [14, 'NO-PROPOSAL-CHOSEN'], [15, 'BAD-PROPOSAL-SYNTAX'],
  [16, 'PAYLOAD-MALFORMED'], [17, 'INVALID-KEY-INFORMATION'], [18, 'INVALID-ID-INFORMATION'],
  [19, 'INVALID-CERT-ENCODING'], [20, 'INVALID-CERTIFICATE'], [21, 'CERT-TYPE-UNSUPPORTED'],
  [22, 'INVALID-CERT-AUTHORITY'], [23, 'INVALID-HASH-INFORMATION'], [24, 'AUTHENTICATION-FAILED'],
  [25, 'INVALID-SIGNATURE'], [26, 'ADDRESS-NOTIFICATION'], [27, 'NOTIFY-SA-LIFETIME'],
  [28, 'CERTIFICATE-UNAVAILABLE'], [29, 'UNSUPPORTED-EXCHANGE-TYPE'], [30, 'UNEQUAL-PAYLOAD-LENGTHS'],
  [16384, 'CONNECTED'], [24576, 'RESPONDER-LIFETIME'], [24577, 'REPLAY-STATUS'],
  [24578, 'INITIAL-CONTACT'], [36136, 'R-U-THERE'], [36137, 'R-U-THERE-ACK'],
]);

/** The RFC spelling of a notify message type (e.g. 'NO-PROPOSAL-CHOSEN'). */
export function notifyTypeName(type: number): string {
  return notifyNames.get(type) ?? `NOTIFY-${type}`;
}

/** Well-known Oakley group numbers (IANA "Group Description"). */
export const OakleyGroup = {
  MODP_768: 1,
  MODP_1024: 2,
  MODP_1536: 5,
  MODP_2048: 14,
  MODP_3072: 15,
  MODP_4096: 16,
  ECP_256: 19,
  ECP_384: 20,
  ECP_521: 21,
  MODP_2048_256: 24,
} as const;

/** RFC 3706 DPD vendor ID: 0xAFCAD71368A1F1C96B8696FC7757 followed by major 1, minor 0. */
export const VENDOR_ID_DPD = Uint8Array.from([
  0xaf, 0xca, 0xd7, 0x13, 0x68, 0xa1, 0xf1, 0xc9, 0x6b, 0x86, 0x96, 0xfc, 0x77, 0x57, 0x01, 0x00,
]);
/** RFC 3947 NAT-T vendor ID = MD5("RFC 3947"). */
export const VENDOR_ID_NAT_T_RFC3947 = Uint8Array.from([
  0x4a, 0x13, 0x1c, 0x81, 0x07, 0x03, 0x58, 0x45, 0x5c, 0x57, 0x28, 0xf2, 0x0e, 0x95, 0x45, 0x2f,
]);
/** draft-ietf-ipsec-nat-t-ike-02\n (MD5) — sent by many peers next to the RFC one. */
export const VENDOR_ID_NAT_T_DRAFT_02N = Uint8Array.from([
  0x90, 0xcb, 0x80, 0x91, 0x3e, 0xbb, 0x69, 0x6e, 0x08, 0x63, 0x81, 0xb5, 0xec, 0x42, 0x7b, 0x1f,
]);
