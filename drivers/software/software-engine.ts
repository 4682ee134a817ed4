// The software crypto engine: ESP and AH transforms on node:crypto (OpenSSL).
//
// Speed notes (measured on this machine, 1408-byte payloads, one core):
// - createCipheriv costs about as much as encrypting 1400 bytes, so AES-CBC / DES-CBC
//   encryption keeps ONE long-lived CBC context per SA and chains packets through it:
//   each packet starts with a fresh random block R in the IV slot; the context outputs
//   E_K(R xor C_prev), which becomes the packet's IV (unpredictable, as RFC 3602 wants),
//   followed by the CBC encryption of the payload under exactly that IV.
// - CBC decryption runs one long-lived ECB context over the ciphertext and XORs with the
//   previous ciphertext block (CBC decryption is parallel, so this is exact).
// - AES-GCM / GMAC need a new context per packet (Node cannot set a new nonce on a context):
//   ~7-12 us CPU per 1400-byte packet here, most of it context setup and the output buffer,
//   not AES. Measured alternatives: a KeyObject key was a few % slower than raw key bytes;
//   @noble/ciphers gcm (pure JS) took ~160 us per packet. Raw key bytes, no per-packet
//   options object (the tag length is fixed by always passing 16 tag bytes).
// - IVs for CBC come from a 4 KiB random pool refilled with randomFillSync.
// - With the native addon (native-crypto.ts) GCM/GMAC and HMAC run on per-SA OpenSSL
//   contexts instead: no object per packet. CBC encryption/decryption stay on the chained
//   node:crypto contexts above (already one context per SA).

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  randomFillSync,
  timingSafeEqual,
  type Cipher,
  type CipherGCM,
  type DecipherGCM,
  type Decipher,
  type KeyObject,
} from 'node:crypto';
import {
  UnsupportedAlgorithmError,
  type AhCryptoOp,
  type AhCryptoParams,
  type CryptoEngine,
  type CryptoOp,
  type CryptoStatus,
  type EngineCapabilities,
  type EngineStatus,
  type EngineSupport,
  type EspCryptoOp,
  type EspCryptoParams,
  type IntegrityId,
  type TransformContext,
  type TransformParams,
} from '../../firmware/lib/crypto-engine.js';
import { desCipherNames } from './des-support.js';
import { GCM_ESN, GCM_GMAC, GCM_SEAL, NATIVE_STATUS, nativeCrypto, nativeCryptoStatus, type NativeCrypto, type NativeHandle } from './native-crypto.js';

const NATIVE_HASH = { md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' } as const;

function nativeStatus(code: number): CryptoStatus {
  return code === NATIVE_STATUS.ok ? 'ok' : code === NATIVE_STATUS.icvFailure ? 'icv-failure' : code === NATIVE_STATUS.badLength ? 'bad-length' : 'engine-error';
}

const HASH_OF: Record<Exclude<IntegrityId, 'none'>, { hash: string; keyLength: number; icvLength: number }> = {
  'hmac-md5-96': { hash: 'md5', keyLength: 16, icvLength: 12 },
  'hmac-sha1-96': { hash: 'sha1', keyLength: 20, icvLength: 12 },
  'hmac-sha256-128': { hash: 'sha256', keyLength: 32, icvLength: 16 },
  'hmac-sha384-192': { hash: 'sha384', keyLength: 48, icvLength: 24 },
  'hmac-sha512-256': { hash: 'sha512', keyLength: 64, icvLength: 32 },
};

const AES_KEY_BITS = [128, 192, 256] as const;

/** Unpredictable bytes, handed out from a pool refilled in 4 KiB steps. */
class RandomPool {
  private readonly pool = Buffer.allocUnsafe(4096);
  private pos = 4096;
  fill(dst: Uint8Array, offset: number, length: number): void {
    if (this.pos + length > this.pool.length) {
      randomFillSync(this.pool);
      this.pos = 0;
    }
    dst.set(this.pool.subarray(this.pos, this.pos + length), offset);
    this.pos += length;
  }
}

function u32be(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v >>> 24;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

function view(buf: Uint8Array, start: number, end: number): Uint8Array {
  return buf.subarray(start, end);
}

function isAhOp(op: CryptoOp): op is AhCryptoOp {
  return op.kind === 'ah-sign' || op.kind === 'ah-verify';
}

/** An SA's HMAC: a per-SA context in the native addon, or a node:crypto key (an Hmac object per packet). */
type Integrity =
  | { readonly kind: 'native'; readonly addon: NativeCrypto; readonly handle: NativeHandle; readonly icvLength: number }
  | { readonly kind: 'node'; readonly hash: string; readonly key: KeyObject; readonly icvLength: number };

function makeIntegrity(id: IntegrityId, key: Uint8Array, native: NativeCrypto | undefined): Integrity | undefined {
  if (id === 'none') return undefined;
  const h = HASH_OF[id];
  if (native) return { kind: 'native', addon: native, handle: native.hmacCreate(NATIVE_HASH[h.hash as keyof typeof NATIVE_HASH], key), icvLength: h.icvLength };
  return { kind: 'node', hash: h.hash, key: createSecretKey(Buffer.from(key)), icvLength: h.icvLength };
}

/** HMAC over buf[start, end) plus the ESN high bits; returns the full digest. */
function mac(integ: Extract<Integrity, { kind: 'node' }>, buf: Uint8Array, start: number, end: number, esn: boolean, seqHi: number, scratch4: Buffer): Buffer {
  const h = createHmac(integ.hash, integ.key);
  h.update(view(buf, start, end));
  if (esn) {
    u32be(scratch4, 0, seqHi);
    h.update(scratch4);
  }
  return h.digest();
}

class SoftwareContext implements TransformContext {
  readonly engineName: string;
  readonly runSync: (op: CryptoOp) => CryptoStatus;
  readonly sealTcpSegments?: (frame: Uint8Array, mss: number, out: Uint8Array, p: Uint32Array) => number;
  readonly openEspTrain?: (buf: Uint8Array, off: number, segSize: number, count: number, lastLen: number, spi: number, out: Int32Array) => number;
  readonly trainOpsDone?: (ok: number, failed: number) => void;
  private readonly esp: EspCryptoParams | undefined;
  private readonly ah: AhCryptoParams | undefined;
  private integ: Integrity | undefined;
  private cipherKey: KeyObject | undefined;
  /** AES-GCM/GMAC key as raw bytes (createCipheriv takes it without unwrapping a KeyObject). */
  private gcmKey: Buffer | undefined;
  private cbcEnc: Cipher | undefined;
  private ecbDec: Decipher | undefined;
  private gcmAlgo = '';
  /** Per-SA GCM context in the native addon (both directions), when loaded. */
  private gcmNative: NativeHandle | undefined;
  private readonly nonce = Buffer.alloc(12);
  private readonly aad12 = Buffer.alloc(12);
  private readonly scratch4 = Buffer.alloc(4);
  private destroyed = false;

  constructor(
    private readonly engine: SoftwareEngine,
    readonly params: TransformParams,
    private readonly random: RandomPool,
    private readonly native: NativeCrypto | undefined,
  ) {
    this.engineName = engine.name;
    this.runSync = (op) => this.run(op);
    if (params.protocol === 'ah') {
      this.ah = params;
      this.integ = makeIntegrity(params.integrity, params.integrityKey, native);
      return;
    }
    this.esp = params;
    this.integ = makeIntegrity(params.integrity, params.integrityKey, native);
    switch (params.cipher) {
      case 'aes-cbc': {
        const bits = params.cipherKey.length * 8;
        this.initCbc(`aes-${bits}-cbc`, `aes-${bits}-ecb`, params.cipherKey, 16);
        break;
      }
      case '3des-cbc':
        this.initCbc('des-ede3-cbc', 'des-ede3-ecb', params.cipherKey, 8);
        break;
      case 'des-cbc': {
        const des = desCipherNames();
        this.initCbc(des.cbc, des.ecb, des.expandKey(params.cipherKey), 8);
        break;
      }
      case 'aes-gcm-16':
      case 'aes-gmac':
        this.gcmNative = native?.gcmCreate(params.cipherKey, params.salt);
        if (this.gcmNative) {
          const seal = native!.gcmSealTcp;
          if (seal) {
            this.sealTcpSegments = (frame, mss, out, p) => (this.gcmNative ? seal(this.gcmNative, frame, mss, out, p) : 0);
          }
          // GRO trains of ESP in UDP: no ESN (its high bits follow the replay window inside the
          // train, which lives in IpsecSa); RAMPART_ESP_TRAIN=0 keeps the per-packet path
          const open = native!.gcmOpenTrain;
          if (open && !params.esn && process.env.RAMPART_ESP_TRAIN !== '0') {
            const flags = params.cipher === 'aes-gmac' ? GCM_GMAC : 0;
            const block = params.blockSize;
            this.openEspTrain = (buf, off, seg, count, last, spi, out) => (this.gcmNative ? open(this.gcmNative, buf, off, seg, count, last, spi | 0, block, flags, out) : 0);
            this.trainOpsDone = (ok, failed) => {
              for (let k = 0; k < ok; k++) this.engine.opDone('ok');
              for (let k = 0; k < failed; k++) this.engine.opDone('icv-failure');
            };
          }
          break;
        }
        this.gcmAlgo = `aes-${params.cipherKey.length * 8}-gcm`;
        this.gcmKey = Buffer.from(params.cipherKey);
        this.nonce.set(params.salt, 0);
        break;
      case 'null':
        break;
      case 'seal':
        throw new UnsupportedAlgorithmError(engine.name, 'esp-seal');
    }
  }

  private initCbc(cbcName: string, ecbName: string, key: Uint8Array, blockSize: number): void {
    const k = createSecretKey(Buffer.from(key));
    this.cipherKey = k;
    this.cbcEnc = createCipheriv(cbcName, k, Buffer.alloc(blockSize));
    this.cbcEnc.setAutoPadding(false);
    this.ecbDec = createDecipheriv(ecbName, k, null);
    this.ecbDec.setAutoPadding(false);
  }

  runBatch(ops: readonly CryptoOp[]): Promise<void> {
    for (const op of ops) this.run(op);
    return Promise.resolve();
  }

  destroy(): void {
    this.destroyed = true;
    this.engine.contextDestroyed();
    this.cbcEnc = undefined;
    this.ecbDec = undefined;
    this.cipherKey = undefined;
    this.gcmKey?.fill(0);
    this.gcmKey = undefined;
    if (this.gcmNative) this.native?.gcmFree(this.gcmNative);
    this.gcmNative = undefined;
    if (this.integ?.kind === 'native') this.integ.addon.hmacFree(this.integ.handle);
    this.integ = undefined;
    this.nonce.fill(0);
  }

  private run(op: CryptoOp): CryptoStatus {
    let status: CryptoStatus;
    if (this.destroyed) status = 'engine-error';
    else {
      try {
        if (isAhOp(op)) status = this.ah ? this.runAh(op, this.ah) : 'engine-error';
        else status = this.esp ? this.runEsp(op, this.esp) : 'engine-error';
      } catch {
        // OpenSSL refused (should not happen with validated lengths): count, never throw.
        status = 'engine-error';
      }
    }
    op.status = status;
    this.engine.opDone(status);
    return status;
  }

  private runEsp(op: EspCryptoOp, p: EspCryptoParams): CryptoStatus {
    const { buf, espOffset } = op;
    const ivOff = espOffset + 8;
    const payOff = ivOff + p.ivLength;
    const end = espOffset + op.bodyLength;
    const icvOff = end;
    if (op.bodyLength < 8 + p.ivLength + 2 || icvOff + p.icvLength > buf.length) return 'bad-length';
    const payLen = end - payOff;
    if (payLen % p.blockSize !== 0) return 'bad-length';
    const seal = op.kind === 'esp-seal';
    switch (p.cipher) {
      case 'aes-gcm-16':
      case 'aes-gmac':
        return this.gcm(op, p, seal, ivOff, payOff, end);
      case 'null':
        break;
      default:
        if (seal) {
          // R in the IV slot; the chained context turns it into the packet IV.
          this.random.fill(buf, ivOff, p.ivLength);
          const out = this.cbcEnc!.update(view(buf, ivOff, end));
          buf.set(out, ivOff);
        }
        break;
    }
    if (this.integ) {
      const st = this.icv(this.integ, buf, espOffset, end, p.esn, op.seqHi, buf, icvOff, !seal);
      if (st !== 'ok') return st;
    }
    if (!seal && p.cipher !== 'null') this.cbcDecrypt(buf, ivOff, payOff, end, p.ivLength);
    return 'ok';
  }

  /** CBC decryption in place: ECB-decrypt all blocks, XOR each with the previous ciphertext block. */
  private cbcDecrypt(buf: Uint8Array, ivOff: number, payOff: number, end: number, bs: number): void {
    const len = end - payOff;
    if (len === 0) return;
    const d = this.ecbDec!.update(view(buf, payOff, end));
    // Backwards, so the ciphertext block each step reads is still intact.
    if (((buf.byteOffset + ivOff) & 3) === 0 && (d.byteOffset & 3) === 0 && payOff - ivOff === bs) {
      // Aligned: XOR 32-bit words (measured about 1.5x faster than bytes). IV and
      // ciphertext are contiguous, so word k of the chain input is word k of w.
      const w = new Int32Array(buf.buffer, buf.byteOffset + ivOff, (len + bs) >>> 2);
      const dw = new Int32Array(d.buffer, d.byteOffset, len >>> 2);
      const shift = bs >>> 2;
      for (let k = (len >>> 2) - 1; k >= 0; k--) w[k + shift] = dw[k]! ^ w[k]!;
      return;
    }
    for (let i = len - 1; i >= bs; i--) buf[payOff + i] = d[i]! ^ buf[payOff + i - bs]!;
    for (let i = bs - 1; i >= 0; i--) buf[payOff + i] = d[i]! ^ buf[ivOff + i]!;
  }

  private gcm(op: EspCryptoOp, p: EspCryptoParams, seal: boolean, ivOff: number, payOff: number, end: number): CryptoStatus {
    const { buf, espOffset } = op;
    if (this.gcmNative) {
      const flags = (seal ? GCM_SEAL : 0) | (p.esn ? GCM_ESN : 0) | (p.cipher === 'aes-gmac' ? GCM_GMAC : 0);
      return nativeStatus(this.native!.gcmEsp(this.gcmNative, buf, espOffset, op.bodyLength, op.seqHi | 0, flags));
    }
    const nonce = this.nonce;
    for (let i = 0; i < 8; i++) nonce[4 + i] = buf[ivOff + i]!;
    const icvOff = end;
    const gmac = p.cipher === 'aes-gmac';
    const key = this.gcmKey!;
    // No options object per packet: encryption produces GCM's default 16-byte tag and
    // decryption always gets exactly 16 tag bytes below, so no shorter tag is accepted.
    const c = seal
      ? createCipheriv(this.gcmAlgo as 'aes-128-gcm', key, nonce)
      : createDecipheriv(this.gcmAlgo as 'aes-128-gcm', key, nonce);
    // AAD: SPI || [ESN high] || Seq, and for GMAC also IV || payload (RFC 4106 5, RFC 4543 3.3).
    if (p.esn) {
      this.aad12.set(buf.subarray(espOffset, espOffset + 4), 0);
      u32be(this.aad12, 4, op.seqHi);
      this.aad12.set(buf.subarray(espOffset + 4, espOffset + 8), 8);
      c.setAAD(this.aad12);
      if (gmac) c.setAAD(view(buf, ivOff, end));
    } else {
      c.setAAD(view(buf, espOffset, gmac ? end : espOffset + 8));
    }
    if (seal) {
      const enc = c as CipherGCM;
      if (!gmac) {
        const out = enc.update(view(buf, payOff, end));
        buf.set(out, payOff);
      }
      enc.final();
      buf.set(enc.getAuthTag(), icvOff);
      return 'ok';
    }
    const dec = c as DecipherGCM;
    dec.setAuthTag(view(buf, icvOff, icvOff + 16));
    const out = gmac ? undefined : dec.update(view(buf, payOff, end));
    try {
      dec.final();
    } catch {
      return 'icv-failure';
    }
    if (out) buf.set(out, payOff);
    return 'ok';
  }

  private runAh(op: AhCryptoOp, p: AhCryptoParams): CryptoStatus {
    const integ = this.integ!;
    const { buf, offset, length, icvOffset } = op;
    if (offset < 0 || offset + length > buf.length || icvOffset + p.icvLength > buf.length) return 'bad-length';
    if (op.kind === 'ah-sign') return this.icv(integ, buf, offset, offset + length, p.esn, op.seqHi, buf, icvOffset, false);
    const exp = op.expected;
    if (!exp || exp.length !== p.icvLength) return 'bad-length';
    return this.icv(integ, buf, offset, offset + length, p.esn, op.seqHi, exp, 0, true);
  }

  /**
   * The HMAC over buf[start, end) (+ ESN high bits), truncated to the ICV length: written
   * to icv[icvOff..] (sign) or compared in constant time with it (verify).
   */
  private icv(integ: Integrity, buf: Uint8Array, start: number, end: number, esn: boolean, seqHi: number,
    icv: Uint8Array, icvOff: number, verify: boolean): CryptoStatus {
    if (integ.kind === 'native') {
      return nativeStatus(integ.addon.hmacIcv(integ.handle, buf, start, end, seqHi | 0, esn ? 1 : 0, icv, icvOff, integ.icvLength, verify ? 1 : 0));
    }
    const d = mac(integ, buf, start, end, esn, seqHi, this.scratch4).subarray(0, integ.icvLength);
    if (!verify) {
      icv.set(d, icvOff);
      return 'ok';
    }
    return timingSafeEqual(d, view(icv, icvOff, icvOff + integ.icvLength)) ? 'ok' : 'icv-failure';
  }

}

export interface SoftwareEngineOptions {
  /** Name in `show crypto engine`; default "software". */
  readonly name?: string;
  /** Use the native addon's per-SA contexts when it is loaded (default true). */
  readonly native?: boolean;
}

/** The software engine. One instance per daemon is enough; contexts are per SA. */
export class SoftwareEngine implements CryptoEngine {
  readonly name: string;
  readonly kind = 'software';
  private readonly random = new RandomPool();
  private readonly listeners = new Set<(s: EngineStatus) => void>();
  private active = 0;
  private ok = 0;
  private failed = 0;
  private closed = false;
  private readonly native: NativeCrypto | undefined;
  private readonly nativeReason: string;

  constructor(options: SoftwareEngineOptions = {}) {
    this.name = options.name ?? 'software';
    this.native = options.native === false ? undefined : nativeCrypto();
    this.nativeReason = options.native === false ? 'native contexts off by option' : nativeCryptoStatus();
  }

  /** How GCM/HMAC contexts are kept (native addon or node:crypto), for `show crypto engine`. */
  contextMethod(): string {
    return this.native ? `native OpenSSL ${process.versions.openssl ?? ''} contexts per SA` : `node:crypto objects per packet (${this.nativeReason})`;
  }

  capabilities(): EngineCapabilities {
    return {
      ciphers: [
        { cipher: 'null', keyBits: [0] },
        { cipher: 'des-cbc', keyBits: [56] },
        { cipher: '3des-cbc', keyBits: [168] },
        { cipher: 'aes-cbc', keyBits: [...AES_KEY_BITS] },
        { cipher: 'aes-gcm-16', keyBits: [...AES_KEY_BITS] },
        { cipher: 'aes-gmac', keyBits: [...AES_KEY_BITS] },
      ],
      integrity: ['hmac-md5-96', 'hmac-sha1-96', 'hmac-sha256-128', 'hmac-sha384-192', 'hmac-sha512-256'],
      compression: ['lzs'],
      esn: true,
      inline: true,
      maxBatch: 1024,
    };
  }

  /** How single DES is provided (see des-support.ts), for `show crypto engine`. */
  desMethod(): string {
    return desCipherNames().method;
  }

  status(): EngineStatus {
    const base = { activeContexts: this.active, opsOk: this.ok, opsFailed: this.failed };
    return this.closed ? { state: 'failed', reason: 'closed', ...base } : { state: 'up', ...base };
  }

  supports(params: TransformParams): EngineSupport {
    if (this.closed) return { ok: false, reason: `crypto engine ${this.name} is closed` };
    const integ = params.integrity;
    if (integ !== 'none') {
      const h = HASH_OF[integ];
      if (!h) return { ok: false, reason: `unknown integrity algorithm ${String(integ)}` };
      if (params.integrityKey.length !== h.keyLength) return { ok: false, reason: `${integ} needs a ${h.keyLength}-byte key` };
      if (params.icvLength !== h.icvLength) return { ok: false, reason: `${integ} has a ${h.icvLength}-byte ICV` };
    }
    if (params.protocol === 'ah') return integ === 'none' ? { ok: false, reason: 'AH needs an integrity algorithm' } : { ok: true };
    const p = params;
    const klen = p.cipherKey.length;
    switch (p.cipher) {
      case 'seal':
        return { ok: false, reason: 'esp-seal (SEAL 160-bit) is not available in the software crypto engine; use esp-aes or esp-gcm' };
      case 'null':
        if (integ === 'none') return { ok: false, reason: 'ESP with null encryption needs an integrity algorithm' };
        return klen === 0 && p.ivLength === 0 ? { ok: true } : { ok: false, reason: 'null cipher takes no key and no IV' };
      case 'des-cbc':
        return klen === 8 && p.ivLength === 8 && p.blockSize === 8 ? { ok: true } : { ok: false, reason: 'des-cbc needs an 8-byte key, 8-byte IV and block' };
      case '3des-cbc':
        return klen === 24 && p.ivLength === 8 && p.blockSize === 8 ? { ok: true } : { ok: false, reason: '3des-cbc needs a 24-byte key, 8-byte IV and block' };
      case 'aes-cbc':
        return (klen === 16 || klen === 24 || klen === 32) && p.ivLength === 16 && p.blockSize === 16
          ? { ok: true } : { ok: false, reason: 'aes-cbc needs a 16/24/32-byte key and a 16-byte IV and block' };
      case 'aes-gcm-16':
      case 'aes-gmac':
        if (integ !== 'none') return { ok: false, reason: `${p.cipher} is combined mode and takes no separate integrity algorithm` };
        return (klen === 16 || klen === 24 || klen === 32) && p.salt.length === 4 && p.ivLength === 8 && p.icvLength === 16
          ? { ok: true } : { ok: false, reason: `${p.cipher} needs a 16/24/32-byte key, 4-byte salt, 8-byte IV and 16-byte ICV` };
      default:
        return { ok: false, reason: `unknown cipher ${String(p.cipher)}` };
    }
  }

  createContext(params: TransformParams): TransformContext {
    const s = this.supports(params);
    if (!s.ok) {
      const algo = params.protocol === 'ah' ? params.integrity : params.cipher === 'seal' ? 'esp-seal' : params.cipher;
      throw new UnsupportedAlgorithmError(this.name, algo, s.reason);
    }
    const ctx = new SoftwareContext(this, params, this.random, this.native);
    this.active++;
    return ctx;
  }

  onStateChange(listener: (status: EngineStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const s = this.status();
    for (const l of this.listeners) l(s);
  }

  /** @internal */
  contextDestroyed(): void {
    if (this.active > 0) this.active--;
  }

  /** @internal */
  opDone(status: CryptoStatus): void {
    if (status === 'ok') this.ok++;
    else this.failed++;
  }
}

export function createSoftwareEngine(options?: SoftwareEngineOptions): SoftwareEngine {
  return new SoftwareEngine(options);
}
