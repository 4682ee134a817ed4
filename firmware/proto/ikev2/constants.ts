// IKEv2 protocol constants with their RFC 7296 names (section 3 and the IANA IKEv2 registry).

/** IKE header Exchange Type (RFC 7296 3.1). */
export const ExchangeType = {
  IKE_SA_INIT: 34,
  IKE_AUTH: 35,
  CREATE_CHILD_SA: 36,
  INFORMATIONAL: 37,
} as const;
export type ExchangeType = (typeof ExchangeType)[keyof typeof ExchangeType];

/** IKE header flags (RFC 7296 3.1): bit 3 Initiator, bit 4 Version, bit 5 Response. */
export const HeaderFlag = {
  INITIATOR: 0x08,
  VERSION: 0x10,
  RESPONSE: 0x20,
} as const;

/** Next Payload / payload type values (RFC 7296 3.2, RFC 7383 for SKF). */
export const PayloadType = {
  NONE: 0,
  SA: 33,
  KE: 34,
  IDi: 35,
  IDr: 36,
  CERT: 37,
  CERTREQ: 38,
  AUTH: 39,
  NONCE: 40,
  NOTIFY: 41,
  DELETE: 42,
  VENDOR_ID: 43,
  TSi: 44,
  TSr: 45,
  SK: 46,
  CP: 47,
  EAP: 48,
  SKF: 53,
} as const;
export type PayloadType = (typeof PayloadType)[keyof typeof PayloadType];

/** Protocol ID (RFC 7296 3.3.1). */
export const ProtocolId = { IKE: 1, AH: 2, ESP: 3 } as const;
export type ProtocolId = (typeof ProtocolId)[keyof typeof ProtocolId];

/** Transform Type (RFC 7296 3.3.2). Type 4 is "Diffie-Hellman Group" (now "Key Exchange Method"). */
export const TransformType = { ENCR: 1, PRF: 2, INTEG: 3, DH: 4, ESN: 5 } as const;
export type TransformType = (typeof TransformType)[keyof typeof TransformType];

/** Transform Type 1, Encryption Algorithm Transform IDs. */
export const EncrId = {
  ENCR_DES: 2,
  ENCR_3DES: 3,
  ENCR_NULL: 11,
  ENCR_AES_CBC: 12,
  ENCR_AES_CTR: 13,
  ENCR_AES_GCM_8: 18,
  ENCR_AES_GCM_12: 19,
  ENCR_AES_GCM_16: 20,
  ENCR_CHACHA20_POLY1305: 28,
} as const;

/** Transform Type 2, Pseudorandom Function Transform IDs. */
export const PrfId = {
  PRF_HMAC_MD5: 1,
  PRF_HMAC_SHA1: 2,
  PRF_AES128_XCBC: 4,
  PRF_HMAC_SHA2_256: 5,
  PRF_HMAC_SHA2_384: 6,
  PRF_HMAC_SHA2_512: 7,
} as const;

/** Transform Type 3, Integrity Algorithm Transform IDs. */
export const IntegId = {
  NONE: 0,
  AUTH_HMAC_MD5_96: 1,
  AUTH_HMAC_SHA1_96: 2,
  AUTH_AES_XCBC_96: 5,
  AUTH_HMAC_SHA2_256_128: 12,
  AUTH_HMAC_SHA2_384_192: 13,
  AUTH_HMAC_SHA2_512_256: 14,
} as const;

/** Transform Type 5, Extended Sequence Numbers Transform IDs. */
export const EsnId = { NO_ESN: 0, ESN: 1 } as const;

/** Transform attribute types (RFC 7296 3.3.5). */
export const TransformAttr = { KEY_LENGTH: 14 } as const;

/** Identification payload ID Type (RFC 7296 3.5). */
export const IdType = {
  ID_IPV4_ADDR: 1,
  ID_FQDN: 2,
  ID_RFC822_ADDR: 3,
  ID_IPV6_ADDR: 5,
  ID_DER_ASN1_DN: 9,
  ID_DER_ASN1_GN: 10,
  ID_KEY_ID: 11,
} as const;
export type IdType = (typeof IdType)[keyof typeof IdType];

/** Authentication Method (RFC 7296 3.8). */
export const AuthMethod = {
  RSA_DIGITAL_SIGNATURE: 1,
  SHARED_KEY_MESSAGE_INTEGRITY_CODE: 2,
  DSS_DIGITAL_SIGNATURE: 3,
  DIGITAL_SIGNATURE: 14,
} as const;

/** Traffic Selector Type (RFC 7296 3.13.1). */
export const TsType = { TS_IPV4_ADDR_RANGE: 7, TS_IPV6_ADDR_RANGE: 8 } as const;
export type TsType = (typeof TsType)[keyof typeof TsType];

/** Notify Message Types, error types (RFC 7296 3.10.1, < 16384). */
export const NotifyError = {
  UNSUPPORTED_CRITICAL_PAYLOAD: 1,
  INVALID_IKE_SPI: 4,
  INVALID_MAJOR_VERSION: 5,
  INVALID_SYNTAX: 7,
  INVALID_MESSAGE_ID: 9,
  INVALID_SPI: 11,
  NO_PROPOSAL_CHOSEN: 14,
  INVALID_KE_PAYLOAD: 17,
  AUTHENTICATION_FAILED: 24,
  SINGLE_PAIR_REQUIRED: 34,
  NO_ADDITIONAL_SAS: 35,
  INTERNAL_ADDRESS_FAILURE: 36,
  FAILED_CP_REQUIRED: 37,
  TS_UNACCEPTABLE: 38,
  INVALID_SELECTORS: 39,
  TEMPORARY_FAILURE: 43,
  CHILD_SA_NOT_FOUND: 44,
} as const;

/** Notify Message Types, status types (RFC 7296 3.10.1, >= 16384, plus widely used extensions). */
export const NotifyStatus = {
  INITIAL_CONTACT: 16384,
  SET_WINDOW_SIZE: 16385,
  ADDITIONAL_TS_POSSIBLE: 16386,
  IPCOMP_SUPPORTED: 16387,
  NAT_DETECTION_SOURCE_IP: 16388,
  NAT_DETECTION_DESTINATION_IP: 16389,
  COOKIE: 16390,
  USE_TRANSPORT_MODE: 16391,
  HTTP_CERT_LOOKUP_SUPPORTED: 16392,
  REKEY_SA: 16393,
  ESP_TFC_PADDING_NOT_SUPPORTED: 16394,
  NON_FIRST_FRAGMENTS_ALSO: 16395,
  MOBIKE_SUPPORTED: 16396, // RFC 4555
  IKEV2_FRAGMENTATION_SUPPORTED: 16430, // RFC 7383
  SIGNATURE_HASH_ALGORITHMS: 16431, // RFC 7427
} as const;

/** Every notify type, by name. */
export const NotifyType = { ...NotifyError, ...NotifyStatus } as const;

const NOTIFY_NAMES = new Map<number, string>(Object.entries(NotifyType).map(([k, v]) => [v, k]));
/** RFC name of a notify type, or `NOTIFY(<n>)` for unknown values. */
export function notifyName(type: number): string {
  return NOTIFY_NAMES.get(type) ?? `NOTIFY(${type})`;
}

/** True for error notifies (type < 16384, RFC 7296 3.10.1). */
export function isErrorNotify(type: number): boolean {
  return type > 0 && type < 16384;
}

const EXCHANGE_NAMES = new Map<number, string>(Object.entries(ExchangeType).map(([k, v]) => [v, k]));
export function exchangeName(type: number): string {
  return EXCHANGE_NAMES.get(type) ?? `EXCHANGE(${type})`;
}

const PAYLOAD_NAMES = new Map<number, string>(Object.entries(PayloadType).map(([k, v]) => [v, k]));
export function payloadName(type: number): string {
  return PAYLOAD_NAMES.get(type) ?? `PAYLOAD(${type})`;
}

/** IKE header length in bytes. */
export const IKE_HEADER_LENGTH = 28;
/** Generic payload header length in bytes. */
export const GENERIC_PAYLOAD_HEADER_LENGTH = 4;
/** RFC 7296 2.10: nonces are 16..256 bytes. */
export const NONCE_MIN_LENGTH = 16;
export const NONCE_MAX_LENGTH = 256;
