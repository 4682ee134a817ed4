// Shared helpers for the transform tests (not a test file itself).
import { createSoftwareEngine } from '../../drivers/software/software-engine.js';
import type { CryptoEngine } from '../../firmware/lib/crypto-engine.js';
import { IpsecSa, type IpsecSaConfig } from '../../firmware/ipsec/ipsec-sa.js';
import { ahParams, espParams, parseTransformSet, type TransformSet } from '../../firmware/ipsec/transform.js';
import { fixL4Checksum, internetChecksum, setIpv4HeaderChecksum } from '../../firmware/proto/ip-packet.js';

export function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function prng(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
  return (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = next() & 0xff;
    return out;
  };
}

/** An IPv4 UDP packet with a valid header checksum and `payload` bytes of data. */
export function ipv4Udp(payload: Uint8Array, src = [192, 168, 1, 10], dst = [192, 168, 2, 20], tos = 0): Uint8Array {
  const total = 28 + payload.length;
  const p = new Uint8Array(total);
  p[0] = 0x45; p[1] = tos; p[2] = total >> 8; p[3] = total & 0xff;
  p[4] = 0x12; p[5] = 0x34; p[6] = 0x40; p[8] = 64; p[9] = 17;
  p.set(src, 12); p.set(dst, 16);
  p[20] = 0x30; p[21] = 0x39; p[22] = 0x00; p[23] = 0x35; // ports 12345 -> 53
  p[24] = (8 + payload.length) >> 8; p[25] = (8 + payload.length) & 0xff;
  p.set(payload, 28);
  setIpv4HeaderChecksum(p, 0);
  return p;
}

/** An IPv6 UDP packet. */
export function ipv6Udp(payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(48 + payload.length);
  p[0] = 0x60;
  const pl = 8 + payload.length;
  p[4] = pl >> 8; p[5] = pl & 0xff; p[6] = 17; p[7] = 64;
  p.set(hex('20010db8000000000000000000000001'), 8);
  p.set(hex('20010db8000000000000000000000002'), 24);
  p[40] = 0x30; p[41] = 0x39; p[42] = 0; p[43] = 53; p[44] = pl >> 8; p[45] = pl & 0xff;
  p.set(payload, 48);
  fixL4Checksum(p, 40, pl, 17, p.subarray(8, 24), p.subarray(24, 40));
  return p;
}

export function ipv4ChecksumOk(p: Uint8Array): boolean {
  return internetChecksum(p, 0, (p[0]! & 15) * 4) === 0;
}

export const V4_LOCAL = Uint8Array.of(10, 0, 0, 1);
export const V4_REMOTE = Uint8Array.of(10, 0, 0, 2);
export const V6_LOCAL = hex('fd000000000000000000000000000001');
export const V6_REMOTE = hex('fd000000000000000000000000000002');

export interface PairOptions {
  mode?: 'tunnel' | 'transport';
  esn?: boolean;
  v6Outer?: boolean;
  udpEncap?: boolean;
  replayWindow?: number;
  initialSeq?: bigint;
  allowSeqCycle?: boolean;
  seed?: number;
  engine?: CryptoEngine;
}

/** Builds a matching sender/receiver SA pair for a transform set, with random keys. */
export function saPair(words: string[], o: PairOptions = {}): { tx: IpsecSa; rx: IpsecSa; set: TransformSet; engine: CryptoEngine } {
  const set = parseTransformSet(words);
  const rnd = prng(o.seed ?? 7);
  const engine = o.engine ?? createSoftwareEngine();
  const esn = o.esn ?? false;
  const base: { -readonly [K in keyof IpsecSaConfig]: IpsecSaConfig[K] } = { mode: o.mode ?? 'tunnel' };
  if (set.espCipher) {
    const c = set.espCipher;
    const params = espParams(set, rnd(c.keyLength + c.saltLength), set.espIntegrity ? rnd(set.espIntegrity.keyLength) : undefined, esn);
    base.esp = { spi: 0x1000 + (o.seed ?? 7), params };
  }
  if (set.ah) base.ah = { spi: 0x2000 + (o.seed ?? 7), params: ahParams(set, rnd(set.ah.keyLength), esn) };
  if (set.compression) base.ipcomp = { cpi: 0x4242 };
  if (o.udpEncap) base.udpEncap = { localPort: 4500, remotePort: 4500 };
  if (o.replayWindow !== undefined) base.replayWindow = o.replayWindow;
  if (o.initialSeq !== undefined) base.initialSeq = o.initialSeq;
  if (o.allowSeqCycle) base.allowSeqCycle = true;
  const local = o.v6Outer ? V6_LOCAL : V4_LOCAL;
  const remote = o.v6Outer ? V6_REMOTE : V4_REMOTE;
  const tx = new IpsecSa({ ...base, local, remote }, engine);
  const rx = new IpsecSa({ ...base, local: remote, remote: local }, engine);
  return { tx, rx, set, engine };
}
