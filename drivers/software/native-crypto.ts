// Per-SA OpenSSL contexts from the native addon (drivers/native/src/aead.c), used by the
// software engine for AES-GCM/GMAC and HMAC when the addon is built.
//
// node:crypto cannot give a GCM context a new nonce, so without the addon every ESP packet
// creates a Cipher object: ~7-12 us per 1400-byte packet here, for under 1 us of AES. The
// addon keeps the key schedule loaded per SA and works in place in the packet buffer.
// Same OpenSSL (the one inside node), so results are identical; tests cross-check both.
// When the addon is missing (a box without a compiler) or RAMPART_NATIVE=0, the engine
// stays on node:crypto: slower, never different.
import { cachedNativeFeature } from '../../firmware/lib/native-addon.js';

/** Opaque per-SA context handle held by the addon. */
export type NativeHandle = { readonly __native: unique symbol };

/** Status codes of the addon (aead.c). */
export const NATIVE_STATUS = { ok: 0, icvFailure: 1, badLength: 2, engineError: 3 } as const;

export const GCM_SEAL = 1;
export const GCM_ESN = 2;
export const GCM_GMAC = 4;

export interface NativeCrypto {
  gcmCreate(key: Uint8Array, salt: Uint8Array): NativeHandle;
  gcmEsp(h: NativeHandle, buf: Uint8Array, espOffset: number, bodyLength: number, seqHi: number, flags: number): number;
  gcmFree(h: NativeHandle): void;
  /** Opens a UDP GRO train of ESP packets in place (esp_batch.c gcmOpenTrain). */
  gcmOpenTrain?(h: NativeHandle, buf: Uint8Array, off: number, segSize: number, count: number, lastLen: number,
    spi: number, blockSize: number, flags: number, out: Int32Array): number;
  /** Tunnel-mode ESP over a TCP super-packet, cut into mss segments (aead.c gcmSealTcp). */
  gcmSealTcp?(h: NativeHandle, frame: Uint8Array, mss: number, out: Uint8Array, p: Uint32Array): number;
  hmacCreate(hash: 'md5' | 'sha1' | 'sha256' | 'sha384' | 'sha512', key: Uint8Array): NativeHandle;
  hmacIcv(h: NativeHandle, buf: Uint8Array, start: number, end: number, seqHi: number, esn: number,
    icv: Uint8Array, icvOffset: number, icvLength: number, verify: number): number;
  hmacFree(h: NativeHandle): void;
}

const feature = cachedNativeFeature<NativeCrypto>('native OpenSSL contexts per SA', ['gcmCreate', 'gcmEsp', 'hmacCreate', 'hmacIcv']);

/** The addon's crypto functions, or undefined (see nativeCryptoStatus() for why). */
export const nativeCrypto = feature.get;
/** One line for `show crypto engine configuration`. */
export const nativeCryptoStatus = feature.status;
