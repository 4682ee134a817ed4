// IpsecSa.openTrain/trainResult (native gcmOpenTrain in drivers/native/src/esp_batch.c): a
// UDP GRO train of ESP-in-UDP packets opened in one call must give every segment exactly
// what unprotectPayload gives it one by one - same result code, same inner bytes, same SA
// counters, same replay window, same engine op counts - including tampered, replayed,
// foreign-SPI, badly padded and truncated segments. Bad arguments must never crash.
import t, { type Test } from 'tap';
import { createSoftwareEngine, type SoftwareEngine } from '../../drivers/software/software-engine.js';
import { nativeCrypto, type NativeHandle } from '../../drivers/software/native-crypto.js';
import { IpsecSa, type UnprotectResult } from '../../firmware/ipsec/ipsec-sa.js';
import { espParams, parseTransformSet } from '../../firmware/ipsec/transform.js';
import type { EspCryptoParams, TransformContext } from '../../firmware/lib/crypto-engine.js';
import { Pipeline, type PipelineIo } from '../../firmware/dataplane/pipeline.js';
import { Sad } from '../../firmware/ipsec/sad.js';
import { parseIp } from '../../firmware/ipsec/selector.js';
import { ipv4Udp, ipv6Udp, prng, toHex, V4_LOCAL, V4_REMOTE } from './helpers.js';

const rnd = prng(4500);
const native = nativeCrypto();
const skip = native?.gcmOpenTrain ? undefined : 'native addon unavailable (RAMPART_NATIVE=0 or not built): the per-packet path is used';
const SPI = 0x4501;

function randInt(lo: number, hi: number): number {
  return lo + (rnd(4).reduce((a, b) => a * 256 + b, 0) % (hi - lo + 1));
}

interface Setup {
  params: EspCryptoParams;
  /** reference (per-packet) and batch receivers, same keys, separate engines */
  ref: IpsecSa;
  bat: IpsecSa;
  refEngine: SoftwareEngine;
  batEngine: SoftwareEngine;
  sealer: TransformContext;
}

function setup(words: string[], seed: number, replayWindow?: number): Setup {
  const set = parseTransformSet(words);
  const key = prng(seed)(set.espCipher!.keyLength + set.espCipher!.saltLength);
  const params = espParams(set, key, undefined, false);
  const cfg = { mode: 'tunnel' as const, local: V4_LOCAL, remote: V4_REMOTE, esp: { spi: SPI, params }, udpEncap: {}, replayWindow };
  const refEngine = createSoftwareEngine();
  const batEngine = createSoftwareEngine();
  const sealer = createSoftwareEngine().createContext(params);
  return { params, ref: new IpsecSa(cfg, refEngine), bat: new IpsecSa(cfg, batEngine), refEngine, batEngine, sealer };
}

interface Craft {
  seq: number;
  inner: Uint8Array;
  nh?: number;
  /** extra bytes after the inner packet (TFC padding) */
  tfc?: number;
  badPad?: boolean;
  spi?: number;
  /** total ESP length wanted: padding grows to reach it (multiple of 4 apart) */
  length?: number;
}

/** One sealed ESP packet (SPI first), built by hand so every field can be wrong on purpose. */
function craft(s: Setup, c: Craft): Uint8Array {
  const content = c.inner.length + (c.tfc ?? 0);
  let pad = (4 - ((content + 2) % 4)) % 4;
  if (c.length !== undefined) pad = c.length - 16 - content - 2 - 16;
  if (pad < 0 || pad > 255) throw new Error(`bad pad ${pad}`);
  const body = 16 + content + pad + 2;
  const p = new Uint8Array(body + 16);
  const dv = new DataView(p.buffer);
  dv.setUint32(0, c.spi ?? SPI);
  dv.setUint32(4, c.seq >>> 0);
  p.set(rnd(8), 8);
  p.set(c.inner, 16);
  if (c.tfc) p.set(rnd(c.tfc), 16 + c.inner.length);
  for (let i = 0; i < pad; i++) p[16 + content + i] = i + 1;
  p[body - 2] = pad;
  if (c.badPad) { if (pad > 0) p[16 + content + pad - 1] ^= 0x40; else p[body - 2] = 250; }
  p[body - 1] = c.nh ?? (c.inner[0]! >> 4 === 6 ? 41 : 4);
  const op = { kind: 'esp-seal' as const, buf: p, espOffset: 0, bodyLength: body, seqHi: 0, status: 'pending' as const };
  if (s.sealer.runSync!(op) !== 'ok') throw new Error('seal failed');
  return p;
}

/** Segments back to back at `off` in a buffer with random bytes around them. */
function trainBuffer(segs: Uint8Array[], segSize: number, off: number): Uint8Array {
  const last = segs[segs.length - 1]!;
  const buf = rnd(off + (segs.length - 1) * segSize + last.length + randInt(0, 40));
  segs.forEach((p, i) => buf.set(p, off + i * segSize));
  return buf;
}

interface Outcome { code: string; packet?: string }

function outcome(r: UnprotectResult): Outcome {
  return r.code === 'ok' ? { code: 'ok', packet: toHex(r.packet) } : { code: r.code };
}

/** The pipeline's use: trains where openTrain takes them, the per-packet path for the rest. */
function runBatch(sa: IpsecSa, buf: Uint8Array, off: number, segSize: number, count: number, lastLen: number): { out: Outcome[]; opened: number } {
  const out: Outcome[] = [];
  let opened = 0;
  let i = 0;
  while (i < count) {
    const left = count - i;
    const n = sa.openTrain(buf, off + i * segSize, segSize, left, lastLen);
    if (n > 0) {
      opened += n;
      for (let k = 0; k < n; k++) out.push(outcome(sa.trainResult(k)));
      i += n;
      continue;
    }
    const s = off + i * segSize;
    out.push(outcome(sa.unprotectPayload(buf.subarray(s, s + (i === count - 1 ? lastLen : segSize)), 17, V4_REMOTE, V4_LOCAL)));
    i++;
  }
  return { out, opened };
}

function runRef(sa: IpsecSa, segs: Uint8Array[]): Outcome[] {
  return segs.map((p) => outcome(sa.unprotectPayload(Uint8Array.from(p), 17, V4_REMOTE, V4_LOCAL)));
}

/** Same window: the same answer to check() for every sequence number near the top. */
function windowProbe(sa: IpsecSa, top: number): number[] {
  const w = sa.espReplay!;
  const r: number[] = [];
  for (let q = Math.max(1, top - 140); q <= top + 3; q++) r.push(w.check(q));
  return r;
}

const seen = new Set<string>();

function compare(tt: Test, s: Setup, segs: Uint8Array[], segSize: number, what: string): number {
  const off = randInt(0, 64);
  const lastLen = segs[segs.length - 1]!.length;
  const buf = trainBuffer(segs, segSize, off);
  const ref = runRef(s.ref, segs);
  const { out, opened } = runBatch(s.bat, buf, off, segSize, segs.length, lastLen);
  tt.same(out, ref, `${what}: results and inner bytes`);
  for (const o of out) seen.add(o.code);
  tt.same(s.bat.counters, s.ref.counters, `${what}: SA counters`);
  const top = Number(s.ref.info().inboundTopSeq);
  tt.equal(s.bat.info().inboundTopSeq, s.ref.info().inboundTopSeq, `${what}: window top`);
  tt.same(windowProbe(s.bat, top), windowProbe(s.ref, top), `${what}: window bits`);
  const e1 = s.refEngine.status();
  const e2 = s.batEngine.status();
  tt.same([e2.opsOk, e2.opsFailed], [e1.opsOk, e1.opsFailed], `${what}: engine op counts`);
  return opened;
}

const SUITES: Array<[string[], number]> = [[['esp-gcm', '128'], 1], [['esp-gcm', '256'], 2], [['esp-gmac', '128'], 3], [['esp-gmac', '256'], 4]];

t.test('random clean trains: byte-identical to the per-packet path, and opened in one call', { skip }, async (tt) => {
  for (const [words, seed] of SUITES) {
    const s = setup(words, seed);
    let seq = 1;
    for (let round = 0; round < 12; round++) {
      const n = randInt(1, 64);
      const size = randInt(40, 1400);
      const segs: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        const last = i === n - 1 && n > 1;
        const inner = ipv4Udp(rnd(last ? randInt(0, size - 1) : size));
        segs.push(craft(s, { seq: seq++, inner }));
      }
      const segSize = segs[0]!.length;
      // every segment but the last must be exactly segSize (GRO): equal inner sizes do it
      const opened = compare(tt, s, segs, segSize, `${words.join(' ')} round ${round} (${n} x ${size})`);
      tt.equal(opened, n, 'all segments opened by the batch');
    }
    tt.equal(s.bat.counters.decapsPkts, s.ref.counters.decapsPkts);
  }
});

t.test('trains with bad segments: tampered, replayed, foreign SPI, bad padding, odd next headers, truncated last', { skip }, async (tt) => {
  for (const [words, seed] of SUITES) {
    for (const window of [64, 0, 128]) {
      const s = setup(words, seed + 10 * window, window);
      let seq = 1000;
      for (let round = 0; round < 16; round++) {
        const n = randInt(2, 64);
        const size = randInt(60, 1300);
        const len = craft(s, { seq: 1, inner: ipv4Udp(new Uint8Array(size)) }).length;
        const segs: Uint8Array[] = [];
        const seqs: number[] = [];
        for (let i = 0; i < n; i++) {
          const kind = randInt(0, 15);
          let q = seq++;
          if (kind === 1 && seqs.length > 0) q = seqs[randInt(0, seqs.length - 1)]!; // duplicate in the train
          if (kind === 2) q = Math.max(1, seq - randInt(60, 200)); // old, maybe left of the window
          if (kind === 3) q += randInt(1, 30); // a gap
          if (kind === 13) q = 0; // never sent
          seqs.push(q);
          const inner = ipv4Udp(new Uint8Array(size));
          // same ESP length for all: inner sizes stay equal, padding evens out the odd cases
          let p: Uint8Array;
          switch (kind) {
            case 4: p = craft(s, { seq: q, inner, badPad: true, length: len }); break;
            case 5: p = craft(s, { seq: q, inner, spi: SPI + 1, length: len }); break;
            case 6: p = craft(s, { seq: q, inner, nh: 59, length: len }); break; // dummy
            case 7: p = craft(s, { seq: q, inner, nh: 99, length: len }); break;
            case 8: p = craft(s, { seq: q, inner: ipv6Udp(new Uint8Array(size - 20)), length: len }); break;
            case 9: { const bad = Uint8Array.from(inner); bad[3] = (bad[3]! + 200) & 0xff; bad[2] = 0x7f; p = craft(s, { seq: q, inner: bad, length: len }); break; }
            case 10: p = craft(s, { seq: q, inner: ipv4Udp(new Uint8Array(size - 8)), tfc: 8, length: len }); break; // TFC padding
            case 11: p = craft(s, { seq: q, inner, nh: 4, length: len }); p[3] = 0; p[2] = 0; p[1] = 0; p[0] = 0; break; // IKE marker
            case 12: p = craft(s, { seq: q, inner: ipv6Udp(new Uint8Array(size - 20)), nh: 4, length: len }); break; // version mismatch
            default: p = craft(s, { seq: q, inner, length: len });
          }
          if (kind === 0 || kind === 14) p[randInt(8, p.length - 1)] ^= 1 << randInt(0, 7); // tampered (ICV failure)
          segs.push(p);
        }
        // the last one truncated or shorter, sometimes
        const cut = randInt(0, 4);
        const lastIdx = segs.length - 1;
        if (cut === 1) segs[lastIdx] = segs[lastIdx]!.subarray(0, randInt(8, 33)); // shorter than any ESP packet
        if (cut === 2) segs[lastIdx] = segs[lastIdx]!.subarray(0, segs[lastIdx]!.length - randInt(1, 3)); // not a block multiple / ICV cut
        if (cut === 3) segs[lastIdx] = segs[lastIdx]!.subarray(0, randInt(1, 7)); // not ESP at all
        if (cut === 4) segs[lastIdx] = craft(s, { seq: seq++, inner: ipv4Udp(new Uint8Array(randInt(0, size - 4))) });
        compare(tt, s, segs, len, `${words.join(' ')} window ${window} round ${round}`);
      }
    }
  }
  for (const code of ['ok', 'icv-failure', 'replay', 'bad-spi', 'bad-padding', 'dummy-packet', 'bad-next-header', 'bad-inner-packet', 'truncated', 'bad-length', 'non-esp-marker']) {
    tt.ok(seen.has(code), `a train had a ${code} segment`);
  }
});

t.test('mid-train: a destroyed SA and an ESN SA behave as the per-packet path', { skip }, async (tt) => {
  const s = setup(['esp-gcm', '256'], 77);
  const segs = Array.from({ length: 8 }, (_, i) => craft(s, { seq: i + 1, inner: ipv4Udp(new Uint8Array(500)) }));
  const buf = trainBuffer(segs, segs[0]!.length, 0);
  const n = s.bat.openTrain(buf, 0, segs[0]!.length, 8, segs[7]!.length);
  tt.equal(n, 8);
  tt.equal(s.bat.trainResult(0).code, 'ok');
  s.bat.destroy();
  tt.equal(s.bat.trainResult(1).code, 'sa-destroyed', 'as unprotectPayload after destroy');
  tt.equal(s.bat.openTrain(buf, 0, segs[0]!.length, 8, segs[7]!.length), 0, 'a destroyed SA opens nothing');

  const set = parseTransformSet(['esp-gcm', '128']);
  const params = espParams(set, prng(5)(20), undefined, true);
  const esn = new IpsecSa({ mode: 'tunnel', local: V4_LOCAL, remote: V4_REMOTE, esp: { spi: SPI, params }, udpEncap: {} }, createSoftwareEngine());
  tt.equal(esn.openTrain(buf, 0, segs[0]!.length, 8, segs[7]!.length), 0, 'ESN: per-packet path');
  const plain = new IpsecSa({ mode: 'tunnel', local: V4_LOCAL, remote: V4_REMOTE, esp: { spi: SPI, params: s.params } }, createSoftwareEngine());
  tt.equal(plain.openTrain(buf, 0, segs[0]!.length, 8, segs[7]!.length), 0, 'no UDP encapsulation: per-packet path');
  const noNative = new IpsecSa({ mode: 'tunnel', local: V4_LOCAL, remote: V4_REMOTE, esp: { spi: SPI, params: s.params }, udpEncap: {} }, createSoftwareEngine({ native: false }));
  tt.equal(noNative.openTrain(buf, 0, segs[0]!.length, 8, segs[7]!.length), 0, 'node:crypto engine: per-packet path');
});

t.test('gcmOpenTrain: bad arguments throw or open nothing, never crash', { skip }, async (tt) => {
  const n = native!;
  const s = setup(['esp-gcm', '128'], 9);
  const segs = Array.from({ length: 4 }, (_, i) => craft(s, { seq: i + 1, inner: ipv4Udp(new Uint8Array(100)) }));
  const seg = segs[0]!.length;
  const buf = trainBuffer(segs, seg, 0);
  const key = prng(9)(20);
  const h = n.gcmCreate(key.subarray(0, 16), key.subarray(16));
  const out = new Int32Array(6 * 64);
  const open = n.gcmOpenTrain!;
  tt.equal(open(h, buf, 0, seg, 4, seg, SPI, 4, 0, out), 4, 'good arguments open all');
  const bad: Array<[string, () => unknown]> = [
    ['no handle', () => open({} as NativeHandle, buf, 0, seg, 4, seg, SPI, 4, 0, out)],
    ['not bytes', () => open(h, 'x' as unknown as Uint8Array, 0, seg, 4, seg, SPI, 4, 0, out)],
    ['out not Int32Array', () => open(h, buf, 0, seg, 4, seg, SPI, 4, 0, new Uint32Array(64) as unknown as Int32Array)],
    ['negative offset', () => open(h, buf, -1, seg, 4, seg, SPI, 4, 0, out)],
    ['zero segment size', () => open(h, buf, 0, 0, 4, seg, SPI, 4, 0, out)],
    ['zero count', () => open(h, buf, 0, seg, 0, seg, SPI, 4, 0, out)],
    ['huge count', () => open(h, buf, 0, seg, 1 << 30, seg, SPI, 4, 0, out)],
    ['last longer than a segment', () => open(h, buf, 0, seg, 4, seg + 1, SPI, 4, 0, out)],
    ['zero last', () => open(h, buf, 0, seg, 4, 0, SPI, 4, 0, out)],
    ['past the buffer', () => open(h, buf, buf.length, seg, 4, seg, SPI, 4, 0, out)],
    ['offset overflow', () => open(h, buf, 0x7fffffff, 0x7fffffff, 1024, 0x7fffffff, SPI, 4, 0, out)],
    ['out too small', () => open(h, buf, 0, seg, 4, seg, SPI, 4, 0, new Int32Array(23))],
    ['ESN flag', () => open(h, buf, 0, seg, 4, seg, SPI, 4, 2, out)],
    ['seal flag', () => open(h, buf, 0, seg, 4, seg, SPI, 4, 1, out)],
    ['zero block', () => open(h, buf, 0, seg, 4, seg, SPI, 0, 0, out)],
    ['too few arguments', () => (open as unknown as (...a: unknown[]) => number)(h, buf, 0)],
  ];
  for (const [what, fn] of bad) {
    let r: unknown;
    try { r = fn(); } catch (e) { r = (e as Error).message; }
    tt.ok(typeof r === 'string' || r === 0, `${what}: ${String(r)}`);
  }
  // garbage trains: any bytes, any sizes that fit; results stay inside the segments
  for (let k = 0; k < 300; k++) {
    const segSize = randInt(1, 300);
    const count = randInt(1, 40);
    const last = randInt(1, segSize);
    const g = rnd(count * segSize + 8);
    const off = randInt(0, 8);
    if (off + (count - 1) * segSize + last > g.length) continue;
    if (k % 3 === 0) for (let i = 0; i < count; i++) if (off + i * segSize + 4 <= g.length) new DataView(g.buffer).setUint32(off + i * segSize, SPI);
    const r = open(h, g, off, segSize, count, last, SPI, randInt(1, 16), k % 2 ? 4 : 0, out.length >= 6 * count ? out : new Int32Array(6 * count));
    tt.ok(r >= 0 && r <= count, `garbage train ${k}: ${r} of ${count}`);
  }
  n.gcmFree(h);
  tt.equal(open(h, buf, 0, seg, 4, seg, SPI, 4, 0, out), 0, 'a freed context opens nothing');
});

/** A pipeline with its own SAD holding `sa` (inbound, to V4_LOCAL), delivering into `got`. */
function pipelineWith(sa: IpsecSa, got: string[], kilobytes?: number): { pipe: Pipeline; sad: Sad<IpsecSa> } {
  const sad = new Sad<IpsecSa>({ now: () => 1000 });
  sad.addInbound({
    direction: 'inbound', proto: 50, spi: SPI, local: parseIp('10.0.0.1'), peer: parseIp('10.0.0.2'), mode: 'tunnel',
    lifetime: kilobytes !== undefined ? { kilobytes } : undefined, transform: sa,
  });
  // inbound only: the outbound members of PipelineIo are never called here
  const io = { sendOuter: () => true, deliverInner: (p: Uint8Array) => { got.push(toHex(p)); return true; } } as unknown as PipelineIo;
  return { pipe: new Pipeline({ sad, io, now: () => 1000 }), sad };
}

t.test('Pipeline.inboundUdpEspTrain: counted as inboundUdpEsp per segment, SA expiring mid-train, SPI change, no SA', { skip }, async (tt) => {
  for (const kilobytes of [undefined, 20]) {
    const s = setup(['esp-gcm', '256'], 31);
    const refGot: string[] = [];
    const batGot: string[] = [];
    const ref = pipelineWith(s.ref, refGot, kilobytes);
    const bat = pipelineWith(s.bat, batGot, kilobytes);
    const segs: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) segs.push(craft(s, { seq: i + 1, inner: ipv4Udp(rnd(1000)), spi: i === 30 ? SPI + 7 : SPI }));
    const seg = segs[0]!.length;
    const buf = trainBuffer(segs, seg, 3);
    for (const p of segs) ref.pipe.inboundUdpEsp(Uint8Array.from(p), V4_REMOTE, V4_LOCAL);
    // what the bind does: the train handler first, one segment by the per-packet path when it stops
    let i = 0;
    let trains = 0;
    while (i < segs.length) {
      const n = bat.pipe.inboundUdpEspTrain(buf, 3 + i * seg, seg, segs.length - i, seg, V4_REMOTE, V4_LOCAL);
      if (n > 0) { trains++; i += n; continue; }
      bat.pipe.inboundUdpEsp(buf.subarray(3 + i * seg, 3 + (i + 1) * seg), V4_REMOTE, V4_LOCAL);
      i++;
    }
    const what = kilobytes === undefined ? 'no lifetime' : `hard limit ${kilobytes} KB reached mid-train`;
    tt.same(batGot, refGot, `${what}: the same inner packets delivered`);
    const { inTrains, inTrainSegments, ...rest } = bat.pipe.counters;
    const { inTrains: r1, inTrainSegments: r2, ...refRest } = ref.pipe.counters;
    tt.same(rest, refRest, `${what}: pipeline counters (${JSON.stringify(refRest)})`);
    tt.equal(r1 + r2, 0, 'the per-packet path opens no trains');
    tt.ok(inTrains >= 1 && inTrainSegments > 0 && trains === inTrains, `${what}: ${inTrains} trains, ${inTrainSegments} segments`);
    tt.same(s.bat.counters, s.ref.counters, `${what}: IpsecSa counters`);
    const saRef = ref.sad.all()[0];
    const saBat = bat.sad.all()[0];
    tt.same(saBat?.counters, saRef?.counters, `${what}: SAD counters`);
    if (kilobytes !== undefined) tt.ok(ref.pipe.counters.inNoSa > 0 && !saRef, 'the SA expired inside the train');
  }
  // no SA for the first SPI: nothing taken, the bind delivers one by one
  const s = setup(['esp-gcm', '128'], 32);
  const { pipe } = pipelineWith(s.bat, []);
  const p = craft(s, { seq: 1, inner: ipv4Udp(rnd(100)), spi: SPI + 1 });
  tt.equal(pipe.inboundUdpEspTrain(trainBuffer([p, p], p.length, 0), 0, p.length, 2, p.length, V4_REMOTE, V4_LOCAL), 0, 'unknown SPI: 0');
  tt.equal(pipe.counters.inPackets, 0, 'and nothing counted');
  tt.equal(pipe.inboundUdpEspTrain(new Uint8Array(10), 0, 8, 2, 8, V4_REMOTE, V4_LOCAL), 0, 'a train past the buffer: 0');
});

t.test('without native contexts (RAMPART_NATIVE=0, node:crypto engine): no trains, the per-packet path', async (tt) => {
  const set = parseTransformSet(['esp-gcm', '256']);
  const params = espParams(set, prng(40)(36), undefined, false);
  const engine = createSoftwareEngine({ native: false });
  const sa = new IpsecSa({ mode: 'tunnel', local: V4_LOCAL, remote: V4_REMOTE, esp: { spi: SPI, params }, udpEncap: {} }, engine);
  const sealer = createSoftwareEngine({ native: false }).createContext(params);
  const s = { sealer } as Setup;
  const p = craft(s, { seq: 1, inner: ipv4Udp(rnd(200)) });
  const buf = trainBuffer([p, p], p.length, 0);
  tt.equal(sa.openTrain(buf, 0, p.length, 2, p.length), 0, 'IpsecSa.openTrain opens nothing');
  const got: string[] = [];
  const { pipe } = pipelineWith(sa, got);
  tt.equal(pipe.inboundUdpEspTrain(buf, 0, p.length, 2, p.length, V4_REMOTE, V4_LOCAL), 0, 'the pipeline leaves the train to the bind');
  tt.equal(pipe.counters.inPackets, 0, 'nothing counted');
  pipe.inboundUdpEsp(buf.subarray(0, p.length), V4_REMOTE, V4_LOCAL);
  tt.equal(got.length, 1, 'the per-packet path opens it');
});
