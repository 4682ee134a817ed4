// One IPsec SA (as IOS shows it: an entry with its esp, ah and pcp SAs) for one direction,
// with the packet transforms:
//   protect(inner IP packet)   -> outer IP packet          (outbound SA)
//   unprotect(outer IP packet) -> inner IP packet          (inbound SA)
// Tunnel mode (RFC 4301 5.1.2) and transport mode; ESP (RFC 4303), AH (RFC 4302),
// IPComp with LZS (RFC 3173 / 2395), ESP in UDP (RFC 3948). With several protocols the
// order is the usual one: IPComp innermost, then ESP, then AH over the outer header.
//
// The packet path never throws: it returns a result code that also feeds the counters.
// The SA owns the sequence numbers, the replay windows and the GCM IV counter, and keeps
// its TransformParams, so `rebindEngine()` moves it to another crypto engine (software
// taking over from a failed accelerator) without losing its state.
//
// Buffers: unprotect() decrypts IN PLACE and the returned tunnel-mode packet is usually a
// view into the input buffer. protect() allocates one output buffer per packet (a view
// into a shared slab: use byteOffset/length, not .buffer, when handing it on).

import type { AhCryptoOp, AhCryptoParams, CryptoEngine, EspCryptoOp, EspCryptoParams, TransformContext } from '../lib/crypto-engine.js';
import { AH_FIXED_LENGTH, ahHeaderLength, parseAhHeader, restoreMutableFields, writeAhHeader, zeroMutableFields } from '../proto/ah.js';
import { checkEspTrailer, ESP_HEADER_LENGTH, ESP_TRAILER_LENGTH, espPadLength, readU32, writeEspHeader, writeEspTrailer, writeU32 } from '../proto/esp.js';
import {
  fixL4Checksum,
  ipHeaderLengthFor,
  IPPROTO_AH,
  IPPROTO_COMP,
  IPPROTO_ESP,
  IPPROTO_IPIP,
  IPPROTO_IPV6,
  IPPROTO_NONE,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ipTos,
  parseIpHeader,
  propagateEcnCe,
  setIpLength,
  setIpv4HeaderChecksum,
  writeIpHeader,
} from '../proto/ip-packet.js';
import { IPCOMP_HEADER_LENGTH, parseIpcompHeader, writeIpcompHeader } from '../proto/ipcomp.js';
import { lzsCompress, lzsDecompress } from '../proto/lzs.js';
import { classifyUdpEncap, NAT_T_PORT, parseUdpHeader, UDP_HEADER_LENGTH, writeUdpHeader } from '../proto/udp-encap.js';
import { ReplayWindow, REPLAY_WINDOW_DEFAULT } from './replay-window.js';
import { isReceiveError, newSaCounters, type ProtectDropCode, type SaCounters, type UnprotectDropCode } from './sa-counters.js';

export type IpsecMode = 'tunnel' | 'transport';

export interface IpsecSaConfig {
  readonly mode: IpsecMode;
  /** Tunnel mode: outer source and destination (4 or 16 bytes). For inbound SAs the
   * "local" is the outer destination. Also used to rebuild headers in unprotectPayload. */
  readonly local?: Uint8Array;
  readonly remote?: Uint8Array;
  readonly esp?: { readonly spi: number; readonly params: EspCryptoParams };
  readonly ah?: { readonly spi: number; readonly params: AhCryptoParams };
  /** IPComp with LZS; cpi defaults to the well-known 3. */
  readonly ipcomp?: { readonly cpi?: number; readonly minBytes?: number };
  /** ESP in UDP (RFC 3948). Not allowed with AH. */
  readonly udpEncap?: { readonly localPort?: number; readonly remotePort?: number };
  /** Anti-replay window in packets (default 64, 0 disables). Inbound only. */
  readonly replayWindow?: number;
  /** Outbound: allow the 32-bit sequence number to cycle (only for manual SAs without anti-replay). */
  readonly allowSeqCycle?: boolean;
  /** Outer header: TTL/hop limit (default 64) and DF handling (IOS `crypto ipsec df-bit`, default copy). */
  readonly ttl?: number;
  readonly dfBit?: 'copy' | 'set' | 'clear';
  /** First outbound sequence number minus one (tests of wrap-around); bigint for ESN. */
  readonly initialSeq?: bigint;
}

export type ProtectResult =
  | {
      readonly code: 'ok';
      /** Complete outer IP packet. */
      readonly packet: Uint8Array;
      /** Where the outer IP header ends (ESP, AH or UDP header starts). */
      readonly l4Offset: number;
      /** Where a UDP socket's payload starts (after the UDP header), = l4Offset without UDP encap. */
      readonly udpPayloadOffset: number;
    }
  | { readonly code: ProtectDropCode };

export type UnprotectResult =
  | {
      readonly code: 'ok';
      /** Decapsulated IP packet (tunnel: the inner packet; transport: rebuilt header + payload). */
      readonly packet: Uint8Array;
    }
  | { readonly code: UnprotectDropCode };

export interface IpsecSaInfo {
  readonly mode: IpsecMode;
  readonly espSpi: number | undefined;
  readonly ahSpi: number | undefined;
  readonly cpi: number | undefined;
  readonly espCipher: string | undefined;
  readonly espCipherKeyBits: number | undefined;
  readonly espIntegrity: string | undefined;
  readonly ahIntegrity: string | undefined;
  readonly esn: boolean;
  /** Anti-replay window in packets, 0 when disabled. */
  readonly replayWindow: number;
  readonly udpEncap: boolean;
  readonly engine: string;
  readonly outboundSeq: bigint;
  readonly inboundTopSeq: bigint;
}

export class IpsecSaConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IpsecSaConfigError';
  }
}

const TWO32 = 4294967296;
/** Segments per openTrain and Int32 results per segment (esp_batch.c). */
const TRAIN_MAX = 1024;
const TRAIN_STRIDE = 6;
const TRAIN_ICV = 1;
const TRAIN_TRUNCATED = 2;
const TRAIN_BAD_LENGTH = 3;
const TRAIN_ENGINE = 4;
const TRAIN_BAD_PADDING = 5;
const TRAIN_TRAILER_SHORT = 6;
const MAX_IP = 65535;
const DEFAULT_COMP_MIN = 90;
/** Shared by all SAs: the packet path is synchronous between staging and copying out. */
const compScratch = new Uint8Array(MAX_IP + 1024);

interface OutStage {
  readonly buf: Uint8Array;
  readonly espOp: EspCryptoOp | undefined;
  readonly ahOp: AhCryptoOp | undefined;
  readonly ahSaved: Uint8Array | undefined;
  readonly ipHeaderLength: number;
  readonly udpOffset: number;
  readonly innerLength: number;
  readonly compressed: boolean;
}

interface InStage {
  readonly buf: Uint8Array;
  readonly end: number;
  readonly ipHeaderLength: number;
  /** Original header present at buf[0, ipHeaderLength) (full-packet input). */
  readonly hasHeader: boolean;
  readonly protocolOffset: number;
  readonly version: 4 | 6;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly outerTos: number;
  readonly udp: boolean;
  /** After AH: offset and protocol of what follows. */
  readonly afterAh: number;
  readonly protocolAfterAh: number;
  readonly ahOp: AhCryptoOp | undefined;
  readonly ahSaved: Uint8Array | undefined;
  readonly ahSeq: number;
  readonly ahHi: number;
  espOp: EspCryptoOp | undefined;
  espSeq: number;
  espHi: number;
}

/**
 * Output packets, carved from a 64 KiB slab as plain Uint8Arrays (so .slice() copies):
 * one typed-array object per packet, where Buffer.allocUnsafe + a Uint8Array view made
 * two (plus Buffer pool bookkeeping). A packet keeps its slab alive; a full slab is
 * replaced, never reused (fresh slabs are zeroed). Callers write every byte.
 */
const SLAB_BYTES = 64 * 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabUsed = 0;

function allocPacket(n: number): Uint8Array {
  if (n > SLAB_BYTES) return new Uint8Array(n);
  if (slabUsed + n > SLAB_BYTES) { slab = new ArrayBuffer(SLAB_BYTES); slabUsed = 0; }
  const p = new Uint8Array(slab, slabUsed, n);
  slabUsed += (n + 7) & ~7; // 8-byte aligned starts
  return p;
}

function copyAddr(a: Uint8Array | undefined): Uint8Array | undefined {
  return a ? Uint8Array.from(a) : undefined;
}

export class IpsecSa {
  readonly mode: IpsecMode;
  readonly espSpi: number | undefined;
  readonly ahSpi: number | undefined;
  readonly cpi: number | undefined;
  readonly counters: SaCounters = newSaCounters();
  readonly espReplay: ReplayWindow | undefined;
  readonly ahReplay: ReplayWindow | undefined;
  /** UDP-encapsulated IPv4 SAs: outer addresses (host order) and ports, for I/O that sends ESP in UDP itself. */
  readonly udpEndpoints: { readonly local: number; readonly remote: number; readonly localPort: number; readonly remotePort: number } | undefined;
  private readonly cfg: IpsecSaConfig;
  private readonly local: Uint8Array | undefined;
  private readonly remote: Uint8Array | undefined;
  private readonly udpLocalPort: number;
  private readonly udpRemotePort: number;
  private readonly compMin: number;
  private espCtx: TransformContext | undefined;
  private ahCtx: TransformContext | undefined;
  private engineName: string;
  // Outbound state.
  private espSeqHi = 0;
  private espSeqLo = 0;
  private ahSeqHi = 0;
  private ahSeqLo = 0;
  private ivHi = 0;
  private ivLo = 0;
  private ipId: number;
  /**
   * After trainResult(): the segment just returned is a TCP segment whose IPv4 and TCP
   * checksums the addon verified (the TUN writer's GRO may skip verifying them).
   */
  trainChecksumsOk = false;
  private destroyed = false;

  constructor(config: IpsecSaConfig, engine: CryptoEngine) {
    if (!config.esp && !config.ah && !config.ipcomp) throw new IpsecSaConfigError('an SA needs ESP, AH or IPComp');
    if (config.udpEncap && !config.esp) throw new IpsecSaConfigError('UDP encapsulation carries ESP only');
    if (config.udpEncap && config.ah) throw new IpsecSaConfigError('AH cannot be UDP-encapsulated (RFC 3948)');
    if (config.mode === 'tunnel') {
      if (!config.local || !config.remote) throw new IpsecSaConfigError('tunnel mode needs local and remote addresses');
      if (config.local.length !== config.remote.length || (config.local.length !== 4 && config.local.length !== 16)) {
        throw new IpsecSaConfigError('tunnel addresses must both be IPv4 or both IPv6');
      }
    }
    if (config.esp && (config.esp.spi >>> 0 !== config.esp.spi || config.esp.spi === 0)) throw new IpsecSaConfigError('ESP SPI must be a nonzero 32-bit value');
    if (config.ah && (config.ah.spi >>> 0 !== config.ah.spi || config.ah.spi === 0)) throw new IpsecSaConfigError('AH SPI must be a nonzero 32-bit value');
    const cpi = config.ipcomp?.cpi;
    if (cpi !== undefined && (!Number.isInteger(cpi) || cpi < 1 || cpi > 0xffff)) throw new IpsecSaConfigError('IPComp CPI must be 1..65535');
    if (config.replayWindow !== undefined && config.replayWindow !== 0 && (config.replayWindow < 32 || config.replayWindow > 4096)) {
      throw new IpsecSaConfigError('replay window must be 0 (disabled) or 32..4096 packets');
    }
    this.cfg = config;
    this.mode = config.mode;
    this.local = copyAddr(config.local);
    this.remote = copyAddr(config.remote);
    this.espSpi = config.esp?.spi;
    this.ahSpi = config.ah?.spi;
    this.cpi = config.ipcomp ? (config.ipcomp.cpi ?? 3) : undefined;
    this.compMin = config.ipcomp?.minBytes ?? DEFAULT_COMP_MIN;
    this.udpLocalPort = config.udpEncap?.localPort ?? NAT_T_PORT;
    this.udpRemotePort = config.udpEncap?.remotePort ?? NAT_T_PORT;
    this.udpEndpoints = config.udpEncap && this.local?.length === 4 && this.remote?.length === 4
      ? { local: readU32(this.local, 0), remote: readU32(this.remote, 0), localPort: this.udpLocalPort, remotePort: this.udpRemotePort }
      : undefined;
    const win = config.replayWindow ?? REPLAY_WINDOW_DEFAULT;
    if (config.esp) this.espReplay = new ReplayWindow(win, config.esp.params.esn);
    if (config.ah) this.ahReplay = new ReplayWindow(win, config.ah.params.esn);
    if (config.initialSeq !== undefined) {
      const s = config.initialSeq;
      this.espSeqHi = this.ahSeqHi = Number((s >> 32n) & 0xffffffffn);
      this.espSeqLo = this.ahSeqLo = Number(s & 0xffffffffn);
    }
    this.ipId = (Math.random() * 0xffff) | 0;
    this.engineName = engine.name;
    // createContext throws UnsupportedAlgorithmError: setup, not the packet path.
    this.espCtx = config.esp ? engine.createContext(config.esp.params) : undefined;
    try {
      this.ahCtx = config.ah ? engine.createContext(config.ah.params) : undefined;
    } catch (e) {
      this.espCtx?.destroy();
      throw e;
    }
  }

  /** Name of the engine holding this SA's keys. */
  get engine(): string {
    return this.engineName;
  }

  get esn(): boolean {
    return this.cfg.esp?.params.esn ?? this.cfg.ah?.params.esn ?? false;
  }

  /** Protocol and SPI the SAD looks inbound packets up by (the outermost header). */
  get lookupKey(): { readonly protocol: number; readonly spi: number } {
    if (this.ahSpi !== undefined) return { protocol: IPPROTO_AH, spi: this.ahSpi };
    if (this.espSpi !== undefined) return { protocol: IPPROTO_ESP, spi: this.espSpi };
    return { protocol: IPPROTO_COMP, spi: this.cpi ?? 3 };
  }

  /** Last sequence number sent (outbound) as a 64-bit value. */
  get outboundSeq(): bigint {
    return (BigInt(this.espSpi !== undefined ? this.espSeqHi : this.ahSeqHi) << 32n) | BigInt(this.espSpi !== undefined ? this.espSeqLo : this.ahSeqLo);
  }

  /** What `show crypto ipsec sa` prints about the SA itself (no keys). */
  info(): IpsecSaInfo {
    const esp = this.cfg.esp?.params;
    const ah = this.cfg.ah?.params;
    return {
      mode: this.mode,
      espSpi: this.espSpi,
      ahSpi: this.ahSpi,
      cpi: this.cpi,
      espCipher: esp?.cipher,
      espCipherKeyBits: esp ? esp.cipherKey.length * 8 : undefined,
      espIntegrity: esp?.integrity,
      ahIntegrity: ah?.integrity,
      esn: this.esn,
      replayWindow: this.espReplay?.size ?? this.ahReplay?.size ?? 0,
      udpEncap: this.cfg.udpEncap !== undefined,
      engine: this.engineName,
      outboundSeq: this.outboundSeq,
      inboundTopSeq: (this.espReplay ?? this.ahReplay)?.top ?? 0n,
    };
  }

  /**
   * Moves the SA to another engine (e.g. software after an accelerator failed). Sequence
   * numbers, windows and counters are kept. Throws UnsupportedAlgorithmError, leaving the
   * SA on its current engine, when the new engine cannot do the algorithms.
   */
  rebindEngine(engine: CryptoEngine): void {
    const esp = this.cfg.esp ? engine.createContext(this.cfg.esp.params) : undefined;
    let ah: TransformContext | undefined;
    try {
      ah = this.cfg.ah ? engine.createContext(this.cfg.ah.params) : undefined;
    } catch (e) {
      esp?.destroy();
      throw e;
    }
    this.espCtx?.destroy();
    this.ahCtx?.destroy();
    this.espCtx = esp;
    this.ahCtx = ah;
    this.engineName = engine.name;
  }

  destroy(): void {
    this.destroyed = true;
    this.espCtx?.destroy();
    this.ahCtx?.destroy();
    this.espCtx = undefined;
    this.ahCtx = undefined;
  }

  // ---------------------------------------------------------------- outbound

  /** Protects one inner IP packet. Never throws. */
  protect(inner: Uint8Array): ProtectResult {
    const st = this.stageOut(inner);
    if (typeof st === 'string') return this.outDrop(st);
    if (st.espOp) {
      const run = this.espCtx?.runSync;
      if (!run) return this.outDrop('engine-async');
      if (run(st.espOp) !== 'ok') return this.outDrop('engine-error');
    }
    if (st.ahOp) {
      const run = this.ahCtx?.runSync;
      if (!run) return this.outDrop('engine-async');
      run(st.ahOp);
    }
    return this.finishOut(st);
  }

  /** Protects a batch through the engines' batch path (async accelerators). Never rejects. */
  async protectBatch(inners: readonly Uint8Array[]): Promise<ProtectResult[]> {
    const stages = inners.map((p) => this.stageOut(p));
    const espOps: EspCryptoOp[] = [];
    const ahOps: AhCryptoOp[] = [];
    for (const s of stages) if (typeof s !== 'string') { if (s.espOp) espOps.push(s.espOp); if (s.ahOp) ahOps.push(s.ahOp); }
    try {
      if (espOps.length > 0 && this.espCtx) await this.espCtx.runBatch(espOps);
      if (ahOps.length > 0 && this.ahCtx) await this.ahCtx.runBatch(ahOps);
    } catch {
      // runBatch must not reject; treat a broken engine as failing every op.
    }
    return stages.map((s) => {
      if (typeof s === 'string') return this.outDrop(s);
      if (s.espOp && s.espOp.status !== 'ok') return this.outDrop('engine-error');
      return this.finishOut(s);
    });
  }

  /** The outer header's DF bit for this inner packet in tunnel mode (df-bit set / clear / copy). */
  outerDontFragment(inner: Uint8Array): boolean {
    return this.cfg.dfBit === 'set' ? true : this.cfg.dfBit === 'clear' ? false : inner[0]! >> 4 === 4 && (inner[6]! & 0x40) !== 0;
  }

  /**
   * Tunnel-mode ESP over a whole IPv4 TCP super-packet (TSO frame from an offload TUN):
   * the engine cuts it into `mss` segments and seals each straight into `out`, back to
   * back (TransformContext.sealTcpSegments, p's layout there). Sequence numbers, IVs and
   * counters advance exactly as `protect` per segment would.
   * Returns the ESP packets written; 0 when this SA or frame cannot go this way (nothing
   * consumed: protect each segment instead); -1 when the engine failed (counted, dropped).
   */
  sealTcpSuperPacket(frame: Uint8Array, mss: number, out: Uint8Array, p: Uint32Array): number {
    const seal = this.espCtx?.sealTcpSegments;
    const esp = this.cfg.esp?.params;
    if (!seal || !esp || this.destroyed || this.mode !== 'tunnel' || this.cfg.ah || this.cpi !== undefined || this.local?.length !== 4) return 0;
    if ((esp.cipher !== 'aes-gcm-16' && esp.cipher !== 'aes-gmac') || esp.icvLength !== 16 || esp.ivLength !== 8) return 0;
    if (frame.length < 40 || frame[0]! >> 4 !== 4 || mss < 1) return 0;
    const ihl = (frame[0]! & 0x0f) * 4;
    const thl = ihl + 12 < frame.length ? (frame[ihl + 12]! >> 4) * 4 : 0;
    const payload = ((frame[2]! << 8) | frame[3]!) - ihl - thl;
    if (payload < 0) return 0;
    const n = payload === 0 ? 1 : Math.ceil(payload / mss);
    // no wrap inside one call; the rare frame at a wrap takes the per-packet path
    if (this.espSeqLo + n > 0xffffffff || this.ivLo + n > 0xffffffff) return 0;
    p[0] = this.espSpi!;
    p[1] = this.espSeqLo + 1;
    p[2] = this.espSeqHi;
    p[3] = (esp.esn ? 2 : 0) | (esp.cipher === 'aes-gmac' ? 4 : 0);
    p[4] = this.ivHi;
    p[5] = this.ivLo + 1;
    const r = seal(frame, mss, out, p);
    if (r === 0) return 0;
    // sealed or not, those sequence numbers and IVs are used up (a GCM IV never repeats)
    this.espSeqLo += n;
    this.ivLo += n;
    const c = this.counters;
    if (r < 0) {
      c.sendErrors += n;
      c.protectDrops['engine-error'] += n;
      return -1;
    }
    c.encapsPkts += r;
    if (esp.cipher !== 'aes-gmac') c.encryptPkts += r;
    c.digestPkts += r;
    c.bytesOut += p[11]!;
    return r;
  }


  private outDrop(code: ProtectDropCode): ProtectResult {
    this.counters.sendErrors++;
    this.counters.protectDrops[code]++;
    return { code };
  }

  private nextSeq(ah: boolean): boolean {
    let hi = ah ? this.ahSeqHi : this.espSeqHi;
    let lo = ah ? this.ahSeqLo : this.espSeqLo;
    const esn = ah ? this.cfg.ah!.params.esn : this.cfg.esp!.params.esn;
    if (lo === 0xffffffff) {
      if (esn) {
        if (hi === 0xffffffff) return false;
        hi++;
        lo = 0;
      } else if (this.cfg.allowSeqCycle) {
        lo = 0;
      } else return false;
    } else lo++;
    if (ah) { this.ahSeqHi = hi; this.ahSeqLo = lo; } else { this.espSeqHi = hi; this.espSeqLo = lo; }
    return true;
  }

  private stageOut(inner: Uint8Array): OutStage | ProtectDropCode {
    if (this.destroyed) return 'sa-destroyed';
    const h = parseIpHeader(inner);
    if (!h) return 'bad-inner-packet';
    const tunnel = this.mode === 'tunnel';
    const innerLen = h.totalLength;
    // What goes inside ESP/AH: the whole packet (tunnel) or the IP payload (transport).
    const contentStart = tunnel ? 0 : h.headerLength;
    let contentLen = innerLen - contentStart;
    let nextHeader = tunnel ? (h.version === 4 ? IPPROTO_IPIP : IPPROTO_IPV6) : h.protocol;
    // IPComp: compress only when the result (with its header) is smaller.
    let compressed = false;
    let compLen = 0;
    if (this.cpi !== undefined) {
      if (contentLen >= this.compMin) {
        compLen = lzsCompress(inner, compScratch, contentStart, innerLen, 0, contentLen - IPCOMP_HEADER_LENGTH - 1);
        if (compLen > 0) compressed = true;
      }
    }
    const bodyLen = compressed ? IPCOMP_HEADER_LENGTH + compLen : contentLen;
    const esp = this.cfg.esp?.params;
    const ah = this.cfg.ah?.params;
    const version: 4 | 6 = tunnel ? (this.local!.length === 16 ? 6 : 4) : h.version;
    const ipHl = tunnel ? ipHeaderLengthFor(this.local!) : h.headerLength;
    const ahLen = ah ? ahHeaderLength(ah.icvLength, version) : 0;
    const udpLen = this.cfg.udpEncap ? UDP_HEADER_LENGTH : 0;
    let padLen = 0;
    let espLen = 0;
    if (esp) {
      padLen = espPadLength(bodyLen, esp.blockSize);
      espLen = ESP_HEADER_LENGTH + esp.ivLength + bodyLen + padLen + ESP_TRAILER_LENGTH + esp.icvLength;
    }
    const total = ipHl + ahLen + udpLen + (esp ? espLen : bodyLen);
    if (total > MAX_IP) return 'too-big';
    if (esp && !this.nextSeq(false)) return 'seq-overflow';
    if (ah && !this.nextSeq(true)) return 'seq-overflow';

    // Every byte below is written before the packet leaves (no stale pool bytes can leak).
    const buf = allocPacket(total);
    // Outer header.
    const firstProto = ah ? IPPROTO_AH : udpLen ? IPPROTO_UDP : esp ? IPPROTO_ESP : IPPROTO_COMP;
    if (tunnel) {
      const tos = ipTos(inner);
      const df = this.outerDontFragment(inner);
      this.ipId = (this.ipId + 1) & 0xffff;
      writeIpHeader(buf, 0, { src: this.local!, dst: this.remote!, protocol: firstProto, payloadLength: total - ipHl, tos, ttl: this.cfg.ttl ?? 64, dontFragment: df, id: this.ipId });
    } else {
      buf.set(inner.subarray(0, ipHl), 0);
      buf[h.protocolOffset] = firstProto;
      setIpLength(buf, total);
      if (version === 4) setIpv4HeaderChecksum(buf, 0);
    }
    let off = ipHl + ahLen;
    const udpOffset = off;
    if (udpLen) {
      writeUdpHeader(buf, off, this.udpLocalPort, this.udpRemotePort, UDP_HEADER_LENGTH + espLen);
      off += UDP_HEADER_LENGTH;
    }
    let espOp: EspCryptoOp | undefined;
    let contentOff = off;
    if (esp) {
      writeEspHeader(buf, off, this.espSpi!, this.espSeqLo);
      if (esp.cipher === 'aes-gcm-16' || esp.cipher === 'aes-gmac') {
        // Unique explicit IV: a 64-bit counter of its own (never reused, even if seq cycles).
        if (this.ivLo === 0xffffffff) { this.ivHi = (this.ivHi + 1) >>> 0; this.ivLo = 0; } else this.ivLo++;
        writeU32(buf, off + 8, this.ivHi);
        writeU32(buf, off + 12, this.ivLo);
      }
      contentOff = off + ESP_HEADER_LENGTH + esp.ivLength;
    }
    if (compressed) {
      writeIpcompHeader(buf, contentOff, nextHeader, this.cpi!);
      buf.set(compScratch.subarray(0, compLen), contentOff + IPCOMP_HEADER_LENGTH);
      nextHeader = IPPROTO_COMP;
    } else {
      buf.set(inner.subarray(contentStart, innerLen), contentOff);
    }
    if (esp) {
      writeEspTrailer(buf, contentOff + bodyLen, padLen, nextHeader);
      espOp = { kind: 'esp-seal', buf, espOffset: off, bodyLength: espLen - esp.icvLength, seqHi: this.espSeqHi, status: 'pending' };
      nextHeader = IPPROTO_ESP;
    }
    let ahOp: AhCryptoOp | undefined;
    let ahSaved: Uint8Array | undefined;
    if (ah) {
      writeAhHeader(buf, ipHl, nextHeader, ahLen, this.ahSpi!, this.ahSeqLo);
      ahSaved = new Uint8Array(ipHl);
      zeroMutableFields(buf, ipHl, ahSaved);
      ahOp = { kind: 'ah-sign', buf, offset: 0, length: total, icvOffset: ipHl + AH_FIXED_LENGTH, seqHi: this.ahSeqHi, status: 'pending' };
    }
    return { buf, espOp, ahOp, ahSaved, ipHeaderLength: ipHl, udpOffset, innerLength: innerLen, compressed };
  }

  private finishOut(st: OutStage): ProtectResult {
    if (st.ahOp) {
      restoreMutableFields(st.buf, st.ipHeaderLength, st.ahSaved!);
      if (st.ahOp.status !== 'ok') return this.outDrop('engine-error');
    }
    const c = this.counters;
    if (this.cfg.udpEncap && st.buf[0]! >>> 4 === 6) {
      // UDP over IPv6 needs a real checksum.
      fixL4Checksum(st.buf, st.udpOffset, st.buf.length - st.udpOffset, IPPROTO_UDP, st.buf.subarray(8, 24), st.buf.subarray(24, 40));
    }
    c.encapsPkts++;
    const esp = this.cfg.esp?.params;
    if (esp && esp.cipher !== 'null' && esp.cipher !== 'aes-gmac') c.encryptPkts++;
    if (this.cfg.ah || (esp && esp.icvLength > 0)) c.digestPkts++;
    if (this.cpi !== undefined) {
      if (st.compressed) c.compressedPkts++;
      else c.notCompressedPkts++;
    }
    c.bytesOut += st.innerLength;
    const udpPayloadOffset = this.cfg.udpEncap ? st.udpOffset + UDP_HEADER_LENGTH : st.ipHeaderLength;
    return { code: 'ok', packet: st.buf, l4Offset: st.ipHeaderLength, udpPayloadOffset };
  }

  // ---------------------------------------------------------------- inbound

  /**
   * Unprotects one complete outer IP packet (IPv4 or IPv6 header first) carrying AH, ESP,
   * UDP-encapsulated ESP or IPComp. Decrypts in place. Never throws.
   */
  unprotect(packet: Uint8Array): UnprotectResult {
    const st = this.stageIn(packet, undefined);
    if (typeof st === 'string') return this.inDrop(st);
    return this.completeInSync(st);
  }

  /**
   * Unprotects what a socket delivers without the IP header: from IPPROTO_ESP raw sockets
   * (protocol 50) or the UDP payload of port 4500 (protocol 17, keepalives and non-ESP
   * markers included). `src`/`dst` are the outer addresses (used in transport mode).
   * AH needs the full header: use unprotect().
   */
  unprotectPayload(payload: Uint8Array, protocol: number, src: Uint8Array, dst: Uint8Array): UnprotectResult {
    const st = this.stageIn(payload, { protocol, src, dst });
    if (typeof st === 'string') return this.inDrop(st);
    return this.completeInSync(st);
  }

  // Inbound UDP GRO trains: the engine opens every segment in one call (openEspTrain), then
  // trainResult(i) gives each segment, in order, the result unprotectPayload would have
  // given: same checks in the same order (replay check, ICV, replay accept, trailer, inner
  // header), same counters. Only for ESP-only tunnel SAs in UDP, AES-GCM/GMAC without ESN.
  private trainOut: Int32Array | undefined;
  private trainBuf: Uint8Array | undefined;

  /**
   * Opens a train of UDP 4500 payloads (ESP from the SPI on) in place: segment i is
   * buf[off + i*segSize ..], the last one lastLen bytes. Returns how many leading segments
   * were opened (0 when this SA cannot batch: the caller takes unprotectPayload); the
   * caller then reads trainResult(0..n-1) in that order, before the next openTrain.
   * The opener stops at a segment with another SPI or under 8 bytes. Never throws.
   */
  openTrain(buf: Uint8Array, off: number, segSize: number, count: number, lastLen: number): number {
    const open = this.espCtx?.openEspTrain;
    const esp = this.cfg.esp?.params;
    if (!open || !esp || this.destroyed || this.mode !== 'tunnel' || !this.cfg.udpEncap || this.cfg.ah || this.cpi !== undefined) return 0;
    if ((esp.cipher !== 'aes-gcm-16' && esp.cipher !== 'aes-gmac') || esp.esn || esp.ivLength !== 8 || esp.icvLength !== 16) return 0;
    if (count < 1) return 0;
    if (count > TRAIN_MAX) { count = TRAIN_MAX; lastLen = segSize; }
    const out = (this.trainOut ??= new Int32Array(TRAIN_MAX * TRAIN_STRIDE));
    let n: number;
    try {
      n = open(buf, off, segSize, count, lastLen, this.espSpi!, out);
    } catch {
      return 0; // arguments the addon refused: nothing was opened
    }
    this.trainBuf = n > 0 ? buf : undefined;
    return n;
  }

  /** Segment i of the last openTrain: what unprotectPayload gives for it. Never throws. */
  trainResult(i: number): UnprotectResult {
    if (this.destroyed) return this.inDrop('sa-destroyed');
    const o = this.trainOut!;
    const buf = this.trainBuf!;
    const k = i * TRAIN_STRIDE;
    const st = o[k]!;
    // afterAh: lengths, then the replay check, all before crypto
    if (st === TRAIN_TRUNCATED) return this.inDrop('truncated');
    if (st === TRAIN_BAD_LENGTH) return this.inDrop('bad-length');
    const seq = o[k + 1]! >>> 0;
    const win = this.espReplay!;
    const hi = win.check(seq);
    if (hi < 0) return this.inDrop('replay');
    // the per-packet path would have run the crypto op here
    const okOp = st !== TRAIN_ICV && st !== TRAIN_ENGINE;
    this.espCtx?.trainOpsDone?.(okOp ? 1 : 0, okOp ? 0 : 1);
    if (st === TRAIN_ICV) return this.inDrop('icv-failure');
    if (st === TRAIN_ENGINE) return this.inDrop('engine-error');
    if (!win.accept(hi, seq)) return this.inDrop('replay');
    if (st === TRAIN_TRAILER_SHORT) return this.inDrop('truncated');
    if (st === TRAIN_BAD_PADDING) return this.inDrop('bad-padding');
    const nh = o[k + 4]!;
    if (nh === IPPROTO_NONE) return this.inDrop('dummy-packet');
    if (nh !== IPPROTO_IPIP && nh !== IPPROTO_IPV6) return this.inDrop('bad-next-header'); // IPComp included: no CPI here
    const start = o[k + 2]!;
    const totalWord = o[k + 5]!;
    const total = totalWord >= 0 ? totalWord & 0xffff : -1;
    this.trainChecksumsOk = totalWord >= 0 && (totalWord & 0x10000) !== 0;
    let out: Uint8Array;
    if (total >= 0) {
      out = buf.subarray(start, start + total); // IPv4 header checked by the addon
    } else {
      const inner = buf.subarray(start, start + o[k + 3]!);
      const ih = parseIpHeader(inner);
      if (!ih || ih.version !== (nh === IPPROTO_IPIP ? 4 : 6)) return this.inDrop('bad-inner-packet');
      out = inner.subarray(0, ih.totalLength);
    }
    // no ECN to propagate: a UDP payload comes without the outer TOS (stageIn uses 0)
    const c = this.counters;
    c.decapsPkts++;
    if (this.cfg.esp!.params.cipher !== 'aes-gmac') c.decryptPkts++;
    c.verifyPkts++;
    c.bytesIn += out.length;
    return { code: 'ok', packet: out };
  }

  /** Batch path for async engines. Never rejects. */
  async unprotectBatch(packets: readonly Uint8Array[]): Promise<UnprotectResult[]> {
    const stages = packets.map((p) => this.stageIn(p, undefined));
    const ahOps: AhCryptoOp[] = [];
    for (const s of stages) if (typeof s !== 'string' && s.ahOp) ahOps.push(s.ahOp);
    try {
      if (ahOps.length > 0 && this.ahCtx) await this.ahCtx.runBatch(ahOps);
    } catch { /* statuses stay 'pending' -> engine-error */ }
    const mid: (InStage | UnprotectDropCode)[] = stages.map((s) => (typeof s === 'string' ? s : this.afterAh(s)));
    const espOps: EspCryptoOp[] = [];
    for (const s of mid) if (typeof s !== 'string' && s.espOp) espOps.push(s.espOp);
    try {
      if (espOps.length > 0 && this.espCtx) await this.espCtx.runBatch(espOps);
    } catch { /* as above */ }
    return mid.map((s) => {
      if (typeof s === 'string') return this.inDrop(s);
      const r = this.finishIn(s);
      return typeof r === 'string' ? this.inDrop(r) : r;
    });
  }

  private completeInSync(st: InStage): UnprotectResult {
    if (st.ahOp) {
      const run = this.ahCtx?.runSync;
      if (!run) {
        restoreMutableFields(st.buf, st.ipHeaderLength, st.ahSaved!);
        return this.inDrop('engine-async');
      }
      run(st.ahOp);
    }
    const mid = this.afterAh(st);
    if (typeof mid === 'string') return this.inDrop(mid);
    if (mid.espOp) {
      const run = this.espCtx?.runSync;
      if (!run) return this.inDrop('engine-async');
      run(mid.espOp);
    }
    const r = this.finishIn(mid);
    return typeof r === 'string' ? this.inDrop(r) : r;
  }

  private inDrop(code: UnprotectDropCode): UnprotectResult {
    const c = this.counters;
    c.unprotectDrops[code]++;
    if (isReceiveError(code)) c.recvErrors++;
    return { code };
  }

  /** Parses headers, checks SPIs, lengths and replay, prepares the AH op (if any). */
  private stageIn(buf: Uint8Array, bare: { protocol: number; src: Uint8Array; dst: Uint8Array } | undefined): InStage | UnprotectDropCode {
    if (this.destroyed) return 'sa-destroyed';
    let end: number;
    let hl: number;
    let protocol: number;
    let protocolOffset = -1;
    let version: 4 | 6;
    let src: Uint8Array;
    let dst: Uint8Array;
    let tos = 0;
    if (bare) {
      end = buf.length;
      hl = 0;
      protocol = bare.protocol;
      src = bare.src;
      dst = bare.dst;
      version = src.length === 16 ? 6 : 4;
      if (protocol === IPPROTO_AH || this.cfg.ah) return 'needs-ip-header';
    } else {
      const h = parseIpHeader(buf);
      if (!h) {
        if (buf.length > 0 && (buf[0]! >>> 4 === 4 || buf[0]! >>> 4 === 6)) return buf.length < 20 ? 'truncated' : 'bad-outer-packet';
        return 'bad-outer-packet';
      }
      if (h.fragment) return 'fragment';
      end = h.totalLength;
      hl = h.headerLength;
      protocol = h.protocol;
      protocolOffset = h.protocolOffset;
      version = h.version;
      src = h.src;
      dst = h.dst;
      tos = ipTos(buf);
    }
    let off = hl;
    let udp = false;
    if (protocol === IPPROTO_UDP) {
      if (!this.cfg.udpEncap) return 'unexpected-protocol';
      if (!bare) {
        const u = parseUdpHeader(buf, off, end);
        if (!u) return 'truncated';
        off += UDP_HEADER_LENGTH;
        end = off - UDP_HEADER_LENGTH + u.length;
      }
      const kind = classifyUdpEncap(buf, off, end);
      if (kind === 'keepalive') return 'nat-keepalive';
      if (kind === 'ike') return 'non-esp-marker';
      if (kind === 'malformed') return 'truncated';
      udp = true;
      protocol = IPPROTO_ESP;
    }
    let ahOp: AhCryptoOp | undefined;
    let ahSaved: Uint8Array | undefined;
    let ahSeq = 0;
    let ahHi = 0;
    let afterAh = off;
    let protocolAfterAh = protocol;
    const ah = this.cfg.ah?.params;
    if (ah) {
      if (protocol !== IPPROTO_AH) return 'unexpected-protocol';
      const a = parseAhHeader(buf, off, end);
      if (!a) return 'truncated';
      if (a.spi !== this.ahSpi) return 'bad-spi';
      if (a.length !== ahHeaderLength(ah.icvLength, version)) return 'bad-length';
      ahHi = this.ahReplay!.check(a.seq);
      if (ahHi < 0) return 'replay';
      ahSeq = a.seq;
      const icvOff = off + AH_FIXED_LENGTH;
      // A real copy: Buffer#slice would alias the bytes zeroed just below.
      const expected = new Uint8Array(buf.subarray(icvOff, icvOff + ah.icvLength));
      buf.fill(0, icvOff, icvOff + ah.icvLength);
      ahSaved = new Uint8Array(hl);
      zeroMutableFields(buf, hl, ahSaved);
      ahOp = { kind: 'ah-verify', buf, offset: 0, length: end, icvOffset: icvOff, seqHi: ahHi, expected, status: 'pending' };
      afterAh = off + a.length;
      protocolAfterAh = a.nextHeader;
    }
    return {
      buf, end, ipHeaderLength: hl, hasHeader: !bare, protocolOffset, version, src, dst, outerTos: tos, udp,
      afterAh, protocolAfterAh, ahOp, ahSaved, ahSeq, ahHi, espOp: undefined, espSeq: 0, espHi: 0,
    };
  }

  /** Completes AH (status, window), then checks ESP and prepares its op. */
  private afterAh(st: InStage): InStage | UnprotectDropCode {
    const c = this.counters;
    if (st.ahOp) {
      restoreMutableFields(st.buf, st.ipHeaderLength, st.ahSaved!);
      st.buf.set(st.ahOp.expected!, st.ahOp.icvOffset);
      if (st.ahOp.status === 'icv-failure') return 'icv-failure';
      if (st.ahOp.status !== 'ok') return 'engine-error';
      if (!this.ahReplay!.accept(st.ahHi, st.ahSeq)) return 'replay';
    }
    const esp = this.cfg.esp?.params;
    if (!esp) return st;
    if (st.protocolAfterAh !== IPPROTO_ESP) return 'unexpected-protocol';
    const off = st.afterAh;
    const bodyLen = st.end - off - esp.icvLength;
    const min = ESP_HEADER_LENGTH + esp.ivLength + ESP_TRAILER_LENGTH;
    if (bodyLen < min) return 'truncated';
    const ctLen = bodyLen - ESP_HEADER_LENGTH - esp.ivLength;
    if (ctLen % esp.blockSize !== 0) return 'bad-length';
    const spi = readU32(st.buf, off);
    if (spi !== this.espSpi) return 'bad-spi';
    const seq = readU32(st.buf, off + 4);
    const hi = this.espReplay!.check(seq);
    if (hi < 0) return 'replay';
    st.espSeq = seq;
    st.espHi = hi;
    st.espOp = { kind: 'esp-open', buf: st.buf, espOffset: off, bodyLength: bodyLen, seqHi: hi, status: 'pending' };
    void c;
    return st;
  }

  private finishIn(st: InStage): UnprotectResult | UnprotectDropCode {
    const c = this.counters;
    const buf = st.buf;
    let start: number;
    let stop: number;
    let nh: number;
    const esp = this.cfg.esp?.params;
    if (esp && st.espOp) {
      const s = st.espOp.status;
      if (s === 'icv-failure') return 'icv-failure';
      if (s !== 'ok') return 'engine-error';
      if (!this.espReplay!.accept(st.espHi, st.espSeq)) return 'replay';
      const payStart = st.espOp.espOffset + ESP_HEADER_LENGTH + esp.ivLength;
      const bodyEnd = st.espOp.espOffset + st.espOp.bodyLength;
      const pad = checkEspTrailer(buf, payStart, bodyEnd);
      if (pad === -2) return 'truncated';
      if (pad < 0) return 'bad-padding';
      nh = buf[bodyEnd - 1]!;
      start = payStart;
      stop = bodyEnd - ESP_TRAILER_LENGTH - pad;
    } else {
      start = st.afterAh;
      stop = st.end;
      nh = st.protocolAfterAh;
    }
    if (nh === IPPROTO_NONE) return 'dummy-packet';
    let data = buf;
    let fromScratch = false;
    if (nh === IPPROTO_COMP) {
      if (this.cpi === undefined) return 'bad-next-header';
      const ch = parseIpcompHeader(buf, start, stop);
      if (!ch) return 'truncated';
      if (ch.cpi !== this.cpi) return 'bad-spi';
      const n = lzsDecompress(buf, compScratch, start + IPCOMP_HEADER_LENGTH, stop, 0, MAX_IP);
      if (n < 0) {
        c.decompressFailedPkts++;
        return 'decompress-failed';
      }
      c.decompressedPkts++;
      data = compScratch;
      fromScratch = true;
      start = 0;
      stop = n;
      nh = ch.nextHeader;
    } else if (this.cpi !== undefined) {
      c.notDecompressedPkts++;
    } else if (!esp && !this.cfg.ah) {
      return 'unexpected-protocol';
    }
    let out: Uint8Array;
    if (this.mode === 'tunnel') {
      if (nh !== IPPROTO_IPIP && nh !== IPPROTO_IPV6) return 'bad-next-header';
      const inner = data.subarray(start, stop);
      const ih = parseIpHeader(inner);
      if (!ih || ih.version !== (nh === IPPROTO_IPIP ? 4 : 6)) return 'bad-inner-packet';
      // Trim TFC padding (RFC 4303 2.7): the inner header knows its length.
      out = fromScratch ? new Uint8Array(inner.subarray(0, ih.totalLength)) : inner.subarray(0, ih.totalLength);
      propagateEcnCe(st.outerTos, out);
    } else {
      if (nh === IPPROTO_ESP || nh === IPPROTO_AH) return 'bad-next-header';
      const len = stop - start;
      if (st.hasHeader) {
        const hl = st.ipHeaderLength;
        if (hl + len > MAX_IP) return 'bad-length';
        out = allocPacket(hl + len);
        out.set(buf.subarray(0, hl), 0);
        out.set(data.subarray(start, stop), hl);
        out[st.protocolOffset] = nh;
        setIpLength(out, hl + len);
        if (st.version === 4) setIpv4HeaderChecksum(out, 0);
      } else {
        const hl = ipHeaderLengthFor(st.src);
        out = allocPacket(hl + len);
        writeIpHeader(out, 0, { src: st.src, dst: st.dst, protocol: nh, payloadLength: len, tos: 0, ttl: 64, dontFragment: false, id: 0 });
        out.set(data.subarray(start, stop), hl);
      }
      const hl = out.length - len;
      // NAT may have changed the addresses the peer's TCP/UDP checksum covered (RFC 3948 3.1.2).
      if (st.udp && (nh === IPPROTO_TCP || nh === IPPROTO_UDP)) {
        const srcA = out[0]! >>> 4 === 6 ? out.subarray(8, 24) : out.subarray(12, 16);
        const dstA = out[0]! >>> 4 === 6 ? out.subarray(24, 40) : out.subarray(16, 20);
        if (!fixL4Checksum(out, hl, len, nh, srcA, dstA)) return 'bad-inner-packet';
      }
    }
    c.decapsPkts++;
    if (esp && esp.cipher !== 'null' && esp.cipher !== 'aes-gmac') c.decryptPkts++;
    if (this.cfg.ah || (esp && esp.icvLength > 0)) c.verifyPkts++;
    c.bytesIn += out.length;
    return { code: 'ok', packet: out };
  }
}

/** 64-bit sequence helper for show output. */
export function seqToBigint(hi: number, lo: number): bigint {
  return BigInt(hi) * BigInt(TWO32) + BigInt(lo);
}
