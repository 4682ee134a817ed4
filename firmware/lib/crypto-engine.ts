// The CryptoEngine interface: what the ESP/AH packet code asks of a crypto engine.
//
// An engine hands out one TransformContext per SA (per direction). A context knows its
// algorithms and keys and works on whole ESP or AH packets laid out in a buffer, the way
// IPsec look-aside accelerators do ("seal this ESP packet", "open that one"), so a driver
// for a serial- or PCIe-attached accelerator can map one op to one device command and
// batch many of them. The software engine (drivers/software) also runs them inline.
//
// What stays OUTSIDE the engine, in the SA object (firmware/ipsec): sequence numbers, the
// anti-replay window, the counter that makes AES-GCM/GMAC IVs unique, the keys themselves
// (kept in TransformParams). That is what lets the software engine take over an SA from a
// failed accelerator without dropping it: the SA calls `createContext(sa.params)` on the
// new engine and carries on with the same sequence numbers, window and IV counter.
//
// This file imports nothing: the ipsec layer and every driver depend on it, not the other
// way round. It holds types plus one error class (UnsupportedAlgorithmError).

/** ESP encryption algorithms (names follow the IKEv2 registry, RFC 7296 / RFC 4106 / RFC 4543). */
export type EspCipherId =
  | 'null' // RFC 2410
  | 'des-cbc' // RFC 2405
  | '3des-cbc' // RFC 2451
  | 'aes-cbc' // RFC 3602
  | 'aes-gcm-16' // RFC 4106, 16-octet ICV
  | 'aes-gmac' // RFC 4543, ENCR_NULL_AUTH_AES_GMAC
  | 'seal'; // SEAL 3.0 (Cisco esp-seal); no software implementation

/** Integrity algorithms with their truncated ICV length in the name. */
export type IntegrityId =
  | 'none'
  | 'hmac-md5-96' // RFC 2403
  | 'hmac-sha1-96' // RFC 2404
  | 'hmac-sha256-128' // RFC 4868
  | 'hmac-sha384-192' // RFC 4868
  | 'hmac-sha512-256'; // RFC 4868

export type CompressionId = 'lzs'; // RFC 2395

/**
 * Everything an engine needs to build a context for one ESP SA. Key bytes are secret:
 * engines must never log them.
 */
export interface EspCryptoParams {
  readonly protocol: 'esp';
  readonly cipher: EspCipherId;
  /** Cipher key without the salt (16/24/32 bytes for AES, 8 for DES, 24 for 3DES, 0 for null). */
  readonly cipherKey: Uint8Array;
  /** 4-byte nonce salt for aes-gcm-16 / aes-gmac (RFC 4106 section 4), empty otherwise. */
  readonly salt: Uint8Array;
  /** Explicit IV carried in each packet (16 AES-CBC, 8 DES/3DES/GCM/GMAC, 0 null). */
  readonly ivLength: number;
  /** Cipher block size the payload is padded to (>= 4; 4 for null/GCM/GMAC). */
  readonly blockSize: number;
  /** 'none' with a combined-mode cipher (GCM/GMAC) or with AH doing integrity. */
  readonly integrity: IntegrityId;
  readonly integrityKey: Uint8Array;
  /** ICV bytes after the payload: truncated HMAC length, or 16 for GCM/GMAC, or 0. */
  readonly icvLength: number;
  /** Extended sequence numbers: the high 32 bits enter the ICV (RFC 4303 section 2.2.1). */
  readonly esn: boolean;
}

export interface AhCryptoParams {
  readonly protocol: 'ah';
  readonly integrity: Exclude<IntegrityId, 'none'>;
  readonly integrityKey: Uint8Array;
  readonly icvLength: number;
  readonly esn: boolean;
}

export type TransformParams = EspCryptoParams | AhCryptoParams;

/** Outcome of one op. 'pending' only while an async engine still holds the op. */
export type CryptoStatus = 'pending' | 'ok' | 'icv-failure' | 'bad-length' | 'engine-error';

/**
 * Seal or open one ESP packet in place. The layout from `espOffset`:
 *   SPI(4) Seq(4) IV(ivLength) Payload+Padding+PadLength+NextHeader ICV(icvLength)
 * `bodyLength` covers SPI through NextHeader (everything the ICV protects, without the
 * ESN high bits); the ICV starts at espOffset + bodyLength.
 *
 * esp-seal: the caller has written header, payload and trailer in plaintext. For
 *   aes-gcm-16 / aes-gmac the caller has also written the explicit IV (it must be unique per
 *   key, so the SA, not the engine, owns the counter it comes from). For CBC ciphers the
 *   ENGINE writes a fresh unpredictable IV. The engine encrypts the payload region in
 *   place and writes the ICV.
 * esp-open: the engine checks the ICV first (status 'icv-failure' leaves the buffer
 *   unchanged) and then decrypts the payload region in place.
 */
export interface EspCryptoOp {
  readonly kind: 'esp-seal' | 'esp-open';
  readonly buf: Uint8Array;
  readonly espOffset: number;
  readonly bodyLength: number;
  /** High 32 bits of the 64-bit sequence number; used only when params.esn. */
  readonly seqHi: number;
  status: CryptoStatus;
}

/**
 * AH ICV over buf[offset, offset+length) followed by the ESN high bits (when params.esn).
 * The caller has zeroed the mutable IP fields and the ICV field itself.
 * ah-sign writes the ICV at icvOffset; ah-verify compares it with `expected`.
 */
export interface AhCryptoOp {
  readonly kind: 'ah-sign' | 'ah-verify';
  readonly buf: Uint8Array;
  readonly offset: number;
  readonly length: number;
  readonly icvOffset: number;
  readonly seqHi: number;
  /** ah-verify only: the ICV received in the packet (icvLength bytes). */
  readonly expected?: Uint8Array;
  status: CryptoStatus;
}

export type CryptoOp = EspCryptoOp | AhCryptoOp;

/** One SA's keys and algorithms loaded into an engine. */
export interface TransformContext {
  readonly engineName: string;
  readonly params: TransformParams;
  /**
   * Inline path. Present on engines that can answer synchronously (the software engine);
   * absent on async-only hardware, in which case callers use `runBatch`.
   * Returns the op's final status (also stored in op.status). Never throws.
   */
  readonly runSync?: (op: CryptoOp) => CryptoStatus;
  /**
   * Batch path, every engine has it: resolves when each op's status is final. Ops of one
   * batch may complete in any order inside the device but the promise resolves once, after
   * all of them. Never rejects: a device failure sets 'engine-error' on the ops it lost.
   */
  runBatch(ops: readonly CryptoOp[]): Promise<void>;
  /**
   * Optional, tunnel-mode ESP only: cuts one IPv4 TCP super-packet (TSO frame, IP header
   * first, TCP checksum not yet valid) into `mss`-payload segments and writes each as a
   * sealed ESP packet, back to back, into `out` - one call instead of one per segment.
   *   p in:  [0] SPI [1] Seq of the first packet [2] SeqHi [3] flags (2 ESN, 4 GMAC)
   *          [4] IV high [5] IV low of the first packet (+1 per packet, no wrap inside)
   *   p out: [8] packets [9] length of each but the last [10] last length [11] inner bytes
   * Returns the packets written; 0 when this frame cannot go this way (nothing written,
   * nothing consumed); < 0 when the engine failed part way.
   */
  readonly sealTcpSegments?: (frame: Uint8Array, mss: number, out: Uint8Array, p: Uint32Array) => number;
  /**
   * Optional, inbound ESP without ESN, AES-GCM/GMAC (software engine with the native addon):
   * opens a UDP GRO train in place in one call. Segment i is buf[off + i*segSize ..], the
   * last one lastLen bytes. Stops at the first segment shorter than 8 bytes or with another
   * SPI and returns how many it opened (0: none, take the per-packet path). Per segment,
   * out[6i..6i+6) = [status, seqLo, innerOffset, innerLength, nextHeader, IPv4 total length
   * or -1]; status 0 ok, 1 icv-failure, 2 truncated, 3 bad-length (2 and 3: crypto not run),
   * 4 engine-error, 5 bad-padding, 6 trailer too short (see drivers/native/src/esp_batch.c).
   * Counts no ops: the caller reports those the per-packet path would have run (trainOpsDone).
   */
  readonly openEspTrain?: (buf: Uint8Array, off: number, segSize: number, count: number, lastLen: number, spi: number, out: Int32Array) => number;
  readonly trainOpsDone?: (ok: number, failed: number) => void;
  /** Forget the keys (zeroes software copies, frees the device session). */
  destroy(): void;
}

export interface CipherCapability {
  readonly cipher: EspCipherId;
  /** Cipher key sizes in bits, without the GCM/GMAC salt. */
  readonly keyBits: readonly number[];
}

export interface EngineCapabilities {
  readonly ciphers: readonly CipherCapability[];
  readonly integrity: readonly IntegrityId[];
  readonly compression: readonly CompressionId[];
  readonly esn: boolean;
  /** True when runSync is available on contexts. */
  readonly inline: boolean;
  /** Largest batch the engine takes at once (1 for engines without batching). */
  readonly maxBatch: number;
}

export type EngineState = 'up' | 'degraded' | 'failed';

export interface EngineStatus {
  readonly state: EngineState;
  /** Human text for `show crypto engine` when not up. */
  readonly reason?: string;
  readonly activeContexts: number;
  readonly opsOk: number;
  readonly opsFailed: number;
}

export type EngineSupport = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export interface CryptoEngine {
  /** Short name shown by `show crypto engine` ("software", "accel0"...). */
  readonly name: string;
  /** What drives it: 'software', 'serial', 'pcie'. */
  readonly kind: string;
  capabilities(): EngineCapabilities;
  status(): EngineStatus;
  /** Whether createContext would accept these algorithms (key lengths included). */
  supports(params: TransformParams): EngineSupport;
  /** Throws UnsupportedAlgorithmError when supports() says no. */
  createContext(params: TransformParams): TransformContext;
  /** How the engine keeps its per-SA state, for `show crypto engine configuration` (optional). */
  contextMethod?(): string;
  /** Called when the engine's state changes (an accelerator fails...). Returns an unsubscribe. */
  onStateChange(listener: (status: EngineStatus) => void): () => void;
  close(): Promise<void>;
}

/** The engine cannot do this algorithm (e.g. esp-seal in software). */
export class UnsupportedAlgorithmError extends Error {
  constructor(readonly engine: string, readonly algorithm: string, detail?: string) {
    super(`crypto engine ${engine} does not support ${algorithm}${detail ? `: ${detail}` : ''}`);
    this.name = 'UnsupportedAlgorithmError';
  }
}
