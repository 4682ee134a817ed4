// Test/bench program run inside a lab namespace (lab.spawnNode). One JSON line per result.
//   setup: an IKEv2 initiator (our engine on real sockets) that keeps `concurrency`
//          IKE_SA_INIT + IKE_AUTH (+ first child) setups in flight against one responder for
//          `durationMs` (or `maxSetups`), and reports setups per second.
//   flood: IKE_SA_INIT requests from many source addresses (the addresses given, all local to
//          this namespace) that never continue: the responder's half-open table fills, then it
//          must answer with COOKIEs. Bounded by `count` and `durationMs`.
//   fuzz:  establishes one IKE SA, then sends `count` malformed datagrams (headers, payload
//          chains, lengths, unknown critical payloads, bad encrypted payloads / ICVs on the real
//          SPIs), then checks the SA still answers a liveness check. Deterministic (seeded).
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { Ikev2Engine, type ChildProposalConfig, type IkeProposalConfig, type Ikev2Event } from '../../firmware/ike/v2/index.js';
import { ikeProposalsFromConfig } from '../../firmware/ike/v2/algorithms.js';
import { encodeMessage, ExchangeType, PayloadType, type AnyPayload } from '../../firmware/proto/ikev2/index.js';
import { xorshift32 } from '../lib/prng.js';

export interface LoadToolConfig {
  mode: 'setup' | 'flood' | 'fuzz';
  local: string;
  remote: string;
  psk: string;
  ike: IkeProposalConfig[];
  esp: ChildProposalConfig[];
  localCidr: string;
  remoteCidr: string;
  concurrency?: number;
  durationMs: number;
  maxSetups?: number;
  /** flood: source addresses */
  sources?: string[];
  /** flood/fuzz: datagrams to send at most */
  count?: number;
  seed?: number;
}

const cfg = JSON.parse(process.argv[2]!) as LoadToolConfig;
const print = (o: unknown): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const { ri } = xorshift32(cfg.seed ?? 12345);

function makeEngine(onEvent: (e: Ikev2Event) => void): { engine: Ikev2Engine; sockets: Map<number, Socket>; close(): void } {
  const sockets = new Map<number, Socket>();
  const psk = new TextEncoder().encode(cfg.psk);
  const engine = new Ikev2Engine({
    config: {
      connections: [{
        name: 'load', localAddress: cfg.local, remoteAddress: cfg.remote, ikeProposals: cfg.ike, childProposals: cfg.esp,
        localSelectors: [{ cidr: cfg.localCidr }], remoteSelectors: [{ cidr: cfg.remoteCidr }],
      }],
      psk: () => ({ local: psk, remote: psk, source: 'load-tool' }),
      retransmit: { initialTimeoutMs: 1000, maxRetries: 3 },
    },
    clock: () => performance.now(),
    send: (d) => {
      const s = sockets.get(d.localPort) ?? sockets.get(500)!;
      const data = d.localPort === 4500 ? Buffer.concat([Buffer.alloc(4), d.data]) : Buffer.from(d.data);
      s.send(data, d.remotePort, d.remoteAddress);
    },
    onEvent,
  });
  for (const port of [500, 4500]) {
    const s = createSocket('udp4');
    s.on('message', (msg, rinfo) => {
      let data: Uint8Array = msg;
      if (port === 4500) {
        if (msg.length < 4 || msg.readUInt32BE(0) !== 0) return;
        data = msg.subarray(4);
      }
      engine.receive({ localAddress: cfg.local, localPort: port, remoteAddress: rinfo.address, remotePort: rinfo.port, data: new Uint8Array(data) });
    });
    s.bind(port, cfg.local);
    sockets.set(port, s);
  }
  const timer = setInterval(() => engine.tick(), 50);
  return { engine, sockets, close: () => { clearInterval(timer); for (const s of sockets.values()) s.close(); } };
}

async function setupMode(): Promise<void> {
  const concurrency = cfg.concurrency ?? 4;
  let done = 0;
  let failed = 0;
  let inFlight = 0;
  let stopAt = 0;
  const t0 = performance.now();
  let started = false;
  const launch = (): void => {
    while (started && inFlight < concurrency && performance.now() < stopAt && (cfg.maxSetups === undefined || done + inFlight < cfg.maxSetups)) {
      inFlight++;
      h.engine.initiate('load');
    }
  };
  const seen = new Set<number>();
  const h = makeEngine((e) => {
    if (e.type === 'child-up' && !seen.has(e.child.ikeSaId)) {
      seen.add(e.child.ikeSaId);
      done++;
      inFlight--;
      // keep the responder's tables small: delete what was measured
      h.engine.deleteIke(e.child.ikeSaId);
      launch();
    } else if ((e.type === 'ike-down' && !seen.has(e.ikeSaId) && e.reason !== 'deleted') || (e.type === 'negotiation-failed' && !seen.has(e.ikeSaId))) {
      seen.add(e.ikeSaId);
      failed++;
      inFlight--;
      launch();
    }
  });
  await sleep(200);
  stopAt = performance.now() + cfg.durationMs;
  started = true;
  const tStart = performance.now();
  launch();
  while (performance.now() < stopAt && (cfg.maxSetups === undefined || done < cfg.maxSetups)) await sleep(20);
  const ms = performance.now() - tStart;
  // let the last setups finish (not counted beyond the window)
  await sleep(300);
  print({ result: 'setup', setups: done, failed, firstFailure: h.engine.diagnoses().slice(-1), ms, perSec: done / (ms / 1000), counters: h.engine.counters, totalMs: performance.now() - t0 });
  h.close();
}

function initRequest(spiI: bigint, group: number, keLen: number): Uint8Array {
  const payloads: AnyPayload[] = [
    { type: PayloadType.SA, proposals: ikeProposalsFromConfig(cfg.ike) },
    { type: PayloadType.KE, dhGroup: group, data: new Uint8Array(randomBytes(keLen)) },
    { type: PayloadType.NONCE, data: new Uint8Array(randomBytes(32)) },
  ] as AnyPayload[];
  return encodeMessage({ spiI, spiR: 0n, exchangeType: ExchangeType.IKE_SA_INIT, initiator: true, response: false, messageId: 0 }, payloads);
}

const keLength = (g: number): number => ({ 2: 128, 5: 192, 14: 256, 15: 384, 16: 512, 19: 64, 20: 96, 21: 132, 31: 32 } as Record<number, number>)[g] ?? 256;

async function floodMode(): Promise<void> {
  const sources = cfg.sources ?? [];
  const socks: Socket[] = [];
  let replies = 0;
  let cookies = 0;
  for (const a of sources) {
    const s = createSocket('udp4');
    s.on('message', (msg) => {
      replies++;
      // a COOKIE notify (16390) in an IKE_SA_INIT response
      if (msg.length >= 28 && msg.indexOf(Buffer.from([0x40, 0x06])) >= 28) cookies++;
    });
    await new Promise<void>((res, rej) => { s.once('error', rej); s.bind(0, a, () => res()); });
    socks.push(s);
  }
  const group = cfg.ike[0]!.dhGroups[0]!;
  const count = cfg.count ?? 10_000;
  const t0 = performance.now();
  let sent = 0;
  while (sent < count && performance.now() - t0 < cfg.durationMs) {
    for (let k = 0; k < 50 && sent < count; k++, sent++) {
      const spi = BigInt.asUintN(64, (BigInt(ri(0x7fffffff)) << 32n) | BigInt(ri(0x7fffffff))) || 1n;
      socks[sent % socks.length]!.send(initRequest(spi, group, keLength(group)), 500, cfg.remote);
    }
    await sleep(5);
  }
  const ms = performance.now() - t0;
  await sleep(500);
  print({ result: 'flood', sent, ms, perSec: sent / (ms / 1000), replies, cookies });
  for (const s of socks) s.close();
}

// ---- fuzz ----
function mutate(base: Uint8Array, spiI: bigint, spiR: bigint): Uint8Array {
  const b = Uint8Array.from(base);
  const dv = new DataView(b.buffer);
  switch (ri(12)) {
    case 0: return b.subarray(0, ri(b.length)); // truncated
    case 1: dv.setUint32(24, ri(0xffffffff) >>> 0); return b; // header length lies
    case 2: b[16] = ri(256); return b; // next payload type
    case 3: b[17] = [0x10, 0x30, 0x21, 0x00][ri(4)]!; return b; // version
    case 4: b[18] = ri(256); return b; // exchange type
    case 5: { // a payload length field (first generic header at 28)
      if (b.length > 32) dv.setUint16(30, ri(0x10000));
      return b;
    }
    case 6: { // unknown critical payload first in the chain
      const extra = new Uint8Array(8);
      extra[0] = b[16]!; extra[1] = 0x80; extra[3] = 8;
      const out = new Uint8Array(b.length + 8);
      out.set(b.subarray(0, 28)); out.set(extra, 28); out.set(b.subarray(28), 36);
      out[16] = 200 + ri(50);
      new DataView(out.buffer).setUint32(24, out.length);
      return out;
    }
    case 7: for (let i = 0; i < 1 + ri(8); i++) b[28 + ri(Math.max(1, b.length - 28))] ^= 1 << ri(8); return b; // bit flips
    case 8: { // SK payload with garbage (bad ICV) on the real SPIs, message id 0..3
      const body = new Uint8Array(randomBytes(16 + ri(200)));
      const out = new Uint8Array(28 + 4 + body.length);
      const o = new DataView(out.buffer);
      o.setBigUint64(0, spiI); o.setBigUint64(8, spiR);
      out[16] = 46; out[17] = 0x20; out[18] = [34, 35, 36, 37][ri(4)]!; out[19] = ri(2) ? 0x08 : 0x28;
      o.setUint32(20, ri(4)); o.setUint32(24, out.length);
      out[28] = ri(50); o.setUint16(30, 4 + body.length);
      out.set(body, 32);
      return out;
    }
    case 9: { // SK payload whose length overruns / underruns the message
      const out = new Uint8Array(28 + 4 + 40);
      const o = new DataView(out.buffer);
      o.setBigUint64(0, spiI); o.setBigUint64(8, spiR);
      out[16] = 46; out[17] = 0x20; out[18] = 37; out[19] = 0x08;
      o.setUint32(20, 1 + ri(3)); o.setUint32(24, out.length);
      o.setUint16(30, [0, 3, 4, 5, 45, 1000, 65535][ri(7)]!);
      return out;
    }
    case 10: return new Uint8Array(randomBytes(ri(100))); // noise
    default: { // payload chain loop: a payload pointing at itself with length 4
      const out = new Uint8Array(28 + 4 * 50);
      const o = new DataView(out.buffer);
      o.setBigUint64(0, BigInt(ri(0x7fffffff)) + 1n);
      out[16] = 41; out[17] = 0x20; out[18] = 34; out[19] = 0x08; o.setUint32(24, out.length);
      for (let i = 0; i < 50; i++) { out[28 + 4 * i] = 41; o.setUint16(28 + 4 * i + 2, 4); }
      return out;
    }
  }
}

async function fuzzMode(): Promise<void> {
  let ike: { id: number; spiI: bigint; spiR: bigint } | undefined;
  const events: string[] = [];
  const h = makeEngine((e) => {
    events.push(e.type);
    if (e.type === 'ike-up') ike = { id: e.sa.ikeSaId, spiI: e.sa.spiI, spiR: e.sa.spiR };
  });
  await sleep(200);
  h.engine.initiate('load');
  const t0 = performance.now();
  while (!ike && performance.now() - t0 < 15_000) await sleep(50);
  if (!ike) { print({ result: 'fuzz', error: 'no IKE SA to fuzz', events }); h.close(); return; }
  print({ established: true });
  const base = initRequest(1n, cfg.ike[0]!.dhGroups[0]!, keLength(cfg.ike[0]!.dhGroups[0]!));
  const raw = createSocket('udp4');
  await new Promise<void>((res) => raw.bind(0, cfg.local, () => res()));
  const count = cfg.count ?? 2000;
  let sent = 0;
  const tf = performance.now();
  while (sent < count && performance.now() - tf < cfg.durationMs) {
    for (let k = 0; k < 20 && sent < count; k++, sent++) {
      const m = mutate(base, ike.spiI, ike.spiR);
      const to4500 = ri(3) === 0;
      const data = to4500 ? Buffer.concat([Buffer.alloc(4), m]) : Buffer.from(m);
      raw.send(data, to4500 ? 4500 : 500, cfg.remote);
    }
    await sleep(2);
  }
  const fuzzMs = performance.now() - tf;
  await sleep(500);
  // the established SA must still answer (message IDs not desynchronised by the garbage)
  const before = events.length;
  const ok = h.engine.checkLiveness(ike.id);
  const tl = performance.now();
  let alive = false;
  while (performance.now() - tl < 10_000) {
    await sleep(100);
    const sa = h.engine.listIkeSas().find((s) => s.ikeSaId === ike!.id);
    if (!sa || sa.state !== 'established') break;
    if (!(h.engine as unknown as { sas: Set<{ id: number; dpdActive: boolean }> }).sas) break;
    const inner = [...(h.engine as unknown as { sas: Set<{ id: number; dpdActive: boolean }> }).sas].find((s) => s.id === ike!.id);
    if (inner && !inner.dpdActive) { alive = true; break; }
  }
  print({ result: 'fuzz', sent, fuzzMs, livenessStarted: ok, alive, eventsAfter: events.slice(before) });
  raw.close();
  h.close();
}

const main = cfg.mode === 'setup' ? setupMode : cfg.mode === 'flood' ? floodMode : fuzzMode;
main().then(() => process.exit(0), (e: unknown) => { print({ error: String(e) }); process.exit(1); });
