// Result codes of the IPsec packet path and the per-SA counters they feed.
// The packet path never throws: every outcome is one of these codes.

/** Why protect() refused a packet (counted as "#send errors"). */
export type ProtectDropCode =
  | 'bad-inner-packet' // not a well-formed IPv4/IPv6 packet
  | 'too-big' // would exceed 65535 bytes once encapsulated
  | 'seq-overflow' // sequence number space exhausted: the SA must be rekeyed
  | 'engine-error' // the crypto engine failed the op
  | 'engine-async' // engine has no inline path: use protectBatch
  | 'sa-destroyed';

/** Why unprotect() dropped a packet (all but the informational ones count as "#recv errors"). */
export type UnprotectDropCode =
  | 'truncated' // shorter than its headers say
  | 'bad-outer-packet' // outer IP header malformed
  | 'fragment' // outer packet is a fragment: reassemble first
  | 'unexpected-protocol' // not the protocol this SA expects (AH/ESP/IPComp/UDP)
  | 'bad-spi' // SPI/CPI does not belong to this SA
  | 'bad-length' // ciphertext not a multiple of the block size, wrong AH length...
  | 'replay' // sequence number seen before or left of the window
  | 'icv-failure' // integrity check failed (wrong key, tampering)
  | 'bad-padding' // ESP padding bytes not 1, 2, 3...
  | 'bad-next-header' // next header not allowed in this mode
  | 'bad-inner-packet' // decapsulated packet is not well formed
  | 'decompress-failed' // IPComp payload would not decompress
  | 'needs-ip-header' // AH needs the full IP packet (use unprotect, not unprotectPayload)
  | 'engine-error'
  | 'engine-async'
  | 'sa-destroyed'
  // Informational, not errors:
  | 'dummy-packet' // ESP next header 59 (RFC 4303 2.6): dropped silently
  | 'nat-keepalive' // 0xFF on port 4500 (RFC 3948 2.3)
  | 'non-esp-marker'; // IKE on port 4500: hand to IKE

export const PROTECT_DROP_CODES: readonly ProtectDropCode[] = ['bad-inner-packet', 'too-big', 'seq-overflow', 'engine-error', 'engine-async', 'sa-destroyed'];

export const UNPROTECT_DROP_CODES: readonly UnprotectDropCode[] = [
  'truncated', 'bad-outer-packet', 'fragment', 'unexpected-protocol', 'bad-spi', 'bad-length', 'replay', 'icv-failure',
  'bad-padding', 'bad-next-header', 'bad-inner-packet', 'decompress-failed', 'needs-ip-header', 'engine-error',
  'engine-async', 'sa-destroyed', 'dummy-packet', 'nat-keepalive', 'non-esp-marker',
];

const INFORMATIONAL = new Set<UnprotectDropCode>(['dummy-packet', 'nat-keepalive', 'non-esp-marker']);

export function isReceiveError(code: UnprotectDropCode): boolean {
  return !INFORMATIONAL.has(code);
}

/** Field names follow `show crypto ipsec sa`. Byte counts are inner (cleartext) bytes. */
export interface SaCounters {
  encapsPkts: number;
  encryptPkts: number;
  digestPkts: number;
  decapsPkts: number;
  decryptPkts: number;
  verifyPkts: number;
  compressedPkts: number;
  notCompressedPkts: number;
  decompressedPkts: number;
  notDecompressedPkts: number;
  decompressFailedPkts: number;
  sendErrors: number;
  recvErrors: number;
  bytesOut: number;
  bytesIn: number;
  /** Per-code detail of sendErrors. */
  protectDrops: Record<ProtectDropCode, number>;
  /** Per-code detail of recvErrors plus the informational codes. */
  unprotectDrops: Record<UnprotectDropCode, number>;
}

export function newSaCounters(): SaCounters {
  const protectDrops = {} as Record<ProtectDropCode, number>;
  for (const c of PROTECT_DROP_CODES) protectDrops[c] = 0;
  const unprotectDrops = {} as Record<UnprotectDropCode, number>;
  for (const c of UNPROTECT_DROP_CODES) unprotectDrops[c] = 0;
  return {
    encapsPkts: 0, encryptPkts: 0, digestPkts: 0, decapsPkts: 0, decryptPkts: 0, verifyPkts: 0,
    compressedPkts: 0, notCompressedPkts: 0, decompressedPkts: 0, notDecompressedPkts: 0, decompressFailedPkts: 0,
    sendErrors: 0, recvErrors: 0, bytesOut: 0, bytesIn: 0, protectDrops, unprotectDrops,
  };
}
