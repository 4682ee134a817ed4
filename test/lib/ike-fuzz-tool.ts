// Hostile-input generator run inside a lab namespace (lab.spawnNode) for the IKE fuzz campaign
// (test/lib/ike-fuzz-campaign.ts, `npm run fuzz`). Phases, one JSON line each:
//   capture: real IKEv1 (Main Mode, two Quick Modes, an Informational DELETE) and IKEv2
//            (IKE_SA_INIT, IKE_AUTH, an INFORMATIONAL) exchanges with the target, by our own
//            engines on real sockets; every datagram both ways is kept as the corpus.
//   flood:   `count` datagrams (bounded by `maxMs`) built from the corpus and mutated:
//            truncation at every length, lying length fields, payload chains that point back
//            at themselves, huge counts (16,000 empty payloads, 255 transforms, 65,535 SPIs),
//            replays in and out of order from the other source addresses, ESP in UDP with live
//            and random SPIs, NAT-T keepalives, noise; to UDP 500 and 4500 (non-ESP marker)
//            and, every 1,000 datagrams, a TCP connection with garbage to the SSH server on 22. Raw ESP (IP
//            protocol 50, from the IKEv1 SA's address): valid packets made with the SA's keys
//            sent again and again (replays), the live SPI with random or bit-flipped bodies,
//            packets cut short, unknown SPIs.
//   check:   the captured SAs still answer (IKEv1: a new Quick Mode; IKEv2: a liveness check).
import { createSocket, type Socket } from 'node:dgram';
import { connect } from 'node:net';
import { IkeV1Engine, type Datagram as V1Datagram, type IkeV1Event } from '../../firmware/ike/v1/engine.js';
import { Ikev2Engine, type Ikev2Event } from '../../firmware/ike/v2/index.js';
import type { IpsecSaInfo as V1IpsecSaInfo } from '../../firmware/ike/v1/types.js';
import { openRawBind } from '../../firmware/dataplane/raw-socket.js';
import type { PacketBind } from '../../firmware/dataplane/packet-io.js';
import { IpsecSa } from '../../firmware/ipsec/ipsec-sa.js';
import { espParams, parseTransformSet } from '../../firmware/ipsec/transform.js';
import { createSoftwareEngine } from '../../drivers/software/software-engine.js';
import { parseIpv4 } from '../../firmware/lib/ip.js';
import { ipv4Udp } from '../transforms/helpers.js';
import { xorshift32 } from './prng.js';

export interface FuzzToolConfig {
  target: string;
  /** source of the IKEv1 SA (gwB has a key and a crypto map entry for it) */
  v1Source: string;
  v1Selectors: { local: string; remote: string };
  /** source of the IKEv2 SA */
  v2Source: string;
  v2Selectors: { local: string; remote: string };
  /** other local addresses the replays and noise come from */
  sources: string[];
  psk: string;
  count: number;
  maxMs: number;
  seed: number;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as FuzzToolConfig;
const print = (o: unknown): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const { ri } = xorshift32(cfg.seed);
const rbytes = (n: number): Uint8Array => { const b = new Uint8Array(n); for (let i = 0; i < n; i++) b[i] = ri(256); return b; };

interface Captured { data: Uint8Array; port: number; version: 1 | 2 }
const corpus: Captured[] = [];
const MARKER = Buffer.alloc(4);

function prefixes(cidr: string): { addr: string; prefixLen: number; protocol: number; port: number } {
  const [addr, len] = cidr.split('/');
  return { addr: addr!, prefixLen: Number(len ?? 32), protocol: 0, port: 0 };
}

async function bindPair(address: string, onMessage: (data: Uint8Array, port: number, from: { address: string; port: number }) => void): Promise<Map<number, Socket>> {
  const out = new Map<number, Socket>();
  for (const port of [500, 4500]) {
    const s = createSocket('udp4');
    s.on('message', (msg, r) => {
      let data: Uint8Array = msg;
      if (port === 4500) {
        if (msg.length < 4 || msg.readUInt32BE(0) !== 0) return;
        data = msg.subarray(4);
      }
      onMessage(new Uint8Array(data), port, { address: r.address, port: r.port });
    });
    await new Promise<void>((res) => s.bind(port, address, () => res()));
    out.set(port, s);
  }
  return out;
}

function sendIke(s: Socket, data: Uint8Array, port: number, to: string): void {
  s.send(port === 4500 ? Buffer.concat([MARKER, data]) : Buffer.from(data), port, to);
}

// ---- capture: IKEv1 ----------------------------------------------------------------------
async function captureV1(): Promise<{ engine: IkeV1Engine; events: IkeV1Event[]; pump: () => void; close: () => void; liveSpis: number[]; live?: V1IpsecSaInfo }> {
  const events: IkeV1Event[] = [];
  const engine = new IkeV1Engine({
    now: () => Date.now(), natTraversal: true,
    policies: [{ priority: 10, encryption: 'aes256', hash: 'sha', authentication: 'pre-share', group: 2, lifetimeSec: 86400 }],
    peerConfig: { globalKeys: [{ address: cfg.target, key: cfg.psk }], keyrings: [], profiles: [], interfaces: [] },
    quickModeResponder: () => ({ accept: false, reason: 'fuzzer', notifyType: 14 }),
    retransmit: { initialMs: 1000, factor: 2, maxTries: 3 },
  });
  let sockets = new Map<number, Socket>();
  const pump = (): void => {
    for (const d of engine.drainOutbox()) {
      corpus.push({ data: d.data, port: d.remote.port, version: 1 });
      sendIke(sockets.get(d.local.port) ?? sockets.get(500)!, d.data, d.remote.port, d.remote.address);
    }
    events.push(...engine.drainEvents());
  };
  sockets = await bindPair(cfg.v1Source, (data, port, from) => {
    corpus.push({ data, port, version: 1 });
    const d: V1Datagram = { data, local: { address: cfg.v1Source, port }, remote: from };
    engine.receive(d);
    pump();
  });
  const timer = setInterval(() => { engine.tick(); pump(); }, 100);
  const qm = {
    localSel: prefixes(cfg.v1Selectors.local), remoteSel: prefixes(cfg.v1Selectors.remote),
    transformSets: [{ name: 'ts', esp: { cipher: 'esp-aes' as const, keyLenBits: 256, integrity: 'sha' as const }, mode: 'tunnel' as const }],
    lifetimeSec: 3600, lifetimeKb: 4608000,
  };
  const ups = (): number => events.filter((e) => e.type === 'ipsec-up').length;
  for (let round = 1; round <= 2; round++) {
    engine.initiate({ local: { address: cfg.v1Source, port: 500 }, remote: { address: cfg.target, port: 500 }, quickMode: qm });
    pump();
    for (let i = 0; i < 100 && ups() < round; i++) await sleep(100);
  }
  const up = events.filter((e): e is Extract<IkeV1Event, { type: 'ipsec-up' }> => e.type === 'ipsec-up');
  // an Informational DELETE for the first SA (the second replaced it on both sides) joins the corpus
  if (up[1]) engine.deleteIpsecSa(up[0]!.sa.inbound.spi);
  pump();
  await sleep(300);
  return {
    engine, events, pump, close: () => { clearInterval(timer); for (const s of sockets.values()) s.close(); },
    liveSpis: up.map((u) => u.sa.outbound.spi), ...(up.length > 0 ? { live: up[up.length - 1]!.sa } : {}),
  };
}

// ---- raw ESP (IP protocol 50) ------------------------------------------------------------
interface RawEsp { bind: PacketBind; spi: number; valid: Uint8Array[] }

/**
 * A raw ESP socket on the IKEv1 SA's address and VALID_ESP packets protected with the SA's
 * outbound keys (sequence numbers 1..VALID_ESP; UDP from inside the fuzzer's proxy identity to
 * hostB's discard port). The first copy of each is accepted by gwB; every later one is a replay.
 */
const VALID_ESP = 256;
function rawEsp(sa: V1IpsecSaInfo | undefined): RawEsp | undefined {
  if (!sa || sa.udpEncap || sa.protocol !== 'esp') return undefined;
  const ts = parseTransformSet(['esp-aes', '256', 'esp-sha-hmac']);
  const bytes = (a: string): Uint8Array => { const v = parseIpv4(a)!; return Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255); };
  const tx = new IpsecSa({
    mode: 'tunnel', local: bytes(cfg.v1Source), remote: bytes(cfg.target),
    esp: { spi: sa.outbound.spi, params: espParams(ts, sa.outbound.encKey, sa.outbound.authKey, false) },
  }, createSoftwareEngine());
  const inner = [...bytes(cfg.v1Selectors.local.split('/')[0]!)];
  inner[3] = 1;
  const valid: Uint8Array[] = [];
  for (let i = 0; i < VALID_ESP; i++) {
    const r = tx.protect(ipv4Udp(rbytes(16 + ri(200)), inner, [10, 2, 0, 2]));
    if (r.code === 'ok') valid.push(r.packet.slice(r.l4Offset));
  }
  try {
    return { bind: openRawBind({ protocol: 'esp', localAddress: cfg.v1Source }), spi: sa.outbound.spi, valid };
  } catch (e) {
    print({ result: 'note', rawEsp: (e as Error).message });
    return undefined;
  }
}

// ---- capture: IKEv2 ----------------------------------------------------------------------
async function captureV2(): Promise<{ engine: Ikev2Engine; events: Ikev2Event[]; close: () => void }> {
  const events: Ikev2Event[] = [];
  const psk = new TextEncoder().encode(cfg.psk);
  let sockets = new Map<number, Socket>();
  const engine = new Ikev2Engine({
    config: {
      connections: [{
        name: 'fz', localAddress: cfg.v2Source, remoteAddress: cfg.target,
        ikeProposals: [{ encryption: ['aes-cbc-256'], integrity: ['sha256'], dhGroups: [14] }], childProposals: [{ encryption: ['aes-gcm-256'] }],
        localSelectors: [{ cidr: cfg.v2Selectors.local }], remoteSelectors: [{ cidr: cfg.v2Selectors.remote }],
      }],
      psk: () => ({ local: psk, remote: psk, source: 'fuzz-tool' }),
      retransmit: { initialTimeoutMs: 1000, maxRetries: 3 },
    },
    clock: () => Date.now(),
    send: (d) => {
      corpus.push({ data: d.data, port: d.remotePort, version: 2 });
      sendIke(sockets.get(d.localPort) ?? sockets.get(500)!, d.data, d.remotePort, d.remoteAddress);
    },
    onEvent: (e) => events.push(e),
  });
  sockets = await bindPair(cfg.v2Source, (data, port, from) => {
    corpus.push({ data, port, version: 2 });
    engine.receive({ localAddress: cfg.v2Source, localPort: port, remoteAddress: from.address, remotePort: from.port, data });
  });
  const timer = setInterval(() => engine.tick(), 100);
  engine.initiate('fz');
  for (let i = 0; i < 100 && !events.some((e) => e.type === 'child-up'); i++) await sleep(100);
  const sa = engine.listIkeSas()[0];
  if (sa) engine.checkLiveness(sa.ikeSaId);
  await sleep(500);
  return { engine, events, close: () => { clearInterval(timer); for (const s of sockets.values()) s.close(); } };
}

// ---- mutations ---------------------------------------------------------------------------
const KINDS = ['truncate', 'length-lie', 'payload-loop', 'huge-count', 'flip', 'replay', 'replay-burst', 'esp-live', 'esp-random', 'keepalive', 'noise',
  'raw-esp-replay', 'raw-esp-live', 'raw-esp-flip', 'raw-esp-short', 'raw-esp-unknown'] as const;
type Kind = (typeof KINDS)[number];
let truncateAt = 0;

function pick(): Captured {
  return corpus[ri(corpus.length)]!;
}

/** Raw ESP (from the SPI on) of a raw-esp-* kind. */
function rawEspBody(kind: Kind, esp: RawEsp): Uint8Array {
  const u32 = (m: Uint8Array, at: number, v: number): void => new DataView(m.buffer, m.byteOffset).setUint32(at, v);
  switch (kind) {
    case 'raw-esp-replay':
      return esp.valid[ri(esp.valid.length)]!;
    case 'raw-esp-flip': {
      const m = esp.valid[ri(esp.valid.length)]!.slice();
      for (let k = 0, n = 1 + ri(4); k < n; k++) { const at = 4 + ri(m.length - 4); m[at] ^= 1 << ri(8); }
      return m;
    }
    case 'raw-esp-short': {
      // every length shorter than SPI + sequence + IV + one block + ICV, the live SPI first
      const m = esp.valid[ri(esp.valid.length)]!.slice(0, ri(8 + 16 + 16 + 12));
      return m;
    }
    case 'raw-esp-unknown': {
      const m = rbytes(8 + ri(1400));
      u32(m, 0, 256 + ri(0x7fffff00));
      return m;
    }
    default: {
      const m = rbytes(8 + ri(1400));
      u32(m, 0, esp.spi);
      u32(m, 4, 1 + ri(0xfffffffe));
      return m;
    }
  }
}

function mutate(kind: Kind, liveSpis: number[]): { data: Uint8Array; port: number; raw?: boolean } {
  const c = pick();
  switch (kind) {
    case 'truncate': {
      // every length in turn, over the corpus
      const m = c.data.slice(0, truncateAt % (c.data.length + 1));
      truncateAt++;
      return { data: m, port: c.port };
    }
    case 'length-lie': {
      const m = c.data.slice();
      const dv = new DataView(m.buffer);
      const at = [24, 28 + 2, 28 + 2 + 4 * ri(4)][ri(3)]!;
      if (at + 4 <= m.length) dv.setUint32(at, [0, 1, 27, 28, m.length - 1, m.length + 1, 0xffff, 0xffffffff][ri(8)]!);
      return { data: m, port: c.port };
    }
    case 'payload-loop': {
      // every generic payload header points at the first payload type again, lengths of 4
      const m = c.data.slice();
      if (m.length > 40) {
        const first = m[16]!;
        for (let o = 28; o + 4 <= m.length; o += 4) { m[o] = first; m[o + 1] = 0; m[o + 2] = 0; m[o + 3] = 4; }
      }
      return { data: m, port: c.port };
    }
    case 'huge-count': {
      const which = ri(3);
      if (which === 0) {
        // 16,000 empty payloads of the message's first type
        const n = 16_000;
        const m = new Uint8Array(28 + 4 * n);
        m.set(c.data.subarray(0, 28));
        new DataView(m.buffer).setUint32(24, m.length);
        const t = c.version === 2 ? 43 : 13; // Vendor ID
        m[16] = t;
        for (let i = 0; i < n; i++) { const o = 28 + 4 * i; m[o] = i === n - 1 ? 0 : t; m[o + 3] = 4; }
        return { data: m, port: c.port };
      }
      const m = c.data.slice();
      // count-like bytes set to their maximum
      for (let k = 0; k < 6 && m.length > 40; k++) m[28 + ri(m.length - 28)] = 0xff;
      return { data: m, port: c.port };
    }
    case 'flip': {
      const m = c.data.slice();
      for (let k = 0, n = 1 + ri(6); k < n; k++) m[ri(m.length)] ^= 1 << ri(8);
      return { data: m, port: c.port };
    }
    case 'replay':
    case 'replay-burst':
      return { data: c.data, port: c.port };
    case 'esp-live':
    case 'esp-random': {
      const spi = kind === 'esp-live' && liveSpis.length > 0 ? liveSpis[ri(liveSpis.length)]! : 256 + ri(0x7fffffff);
      const m = rbytes(16 + ri(1400));
      new DataView(m.buffer).setUint32(0, spi);
      new DataView(m.buffer).setUint32(4, ri(0xffffffff));
      return { data: m, port: 4500, raw: true };
    }
    case 'keepalive':
      return { data: Uint8Array.of(0xff), port: 4500, raw: true };
    case 'noise':
    default:
      return { data: rbytes(ri(1500)), port: ri(2) ? 500 : 4500, raw: true };
  }
}

async function flood(sockets: Socket[], liveSpis: number[], esp: RawEsp | undefined): Promise<{ sent: number; byKind: Record<string, number>; ms: number; tcp: number }> {
  const byKind: Record<string, number> = {};
  const t0 = Date.now();
  let sent = 0;
  let tcp = 0;
  while (sent < cfg.count && Date.now() - t0 < cfg.maxMs) {
    const kind = KINDS[ri(KINDS.length)]!;
    if (kind.startsWith('raw-esp')) {
      if (!esp) continue;
      esp.bind.send('esp', rawEspBody(kind, esp), { address: cfg.target, port: 0 });
      byKind[kind] = (byKind[kind] ?? 0) + 1;
      sent++;
      if (sent % 64 === 0) await new Promise((r) => setImmediate(r));
      continue;
    }
    const burst = kind === 'replay-burst' ? 4 : 1;
    const s = sockets[ri(sockets.length)]!;
    for (let b = 0; b < burst; b++) {
      const { data, port, raw } = mutate(kind, liveSpis);
      byKind[kind] = (byKind[kind] ?? 0) + 1;
      s.send(raw || port !== 4500 ? Buffer.from(data) : Buffer.concat([MARKER, data]), port, cfg.target);
      sent++;
    }
    if (sent % 1000 < burst) {
      // SSH on 22: one TCP connection a thousand datagrams, in turn plain garbage, a valid version
      // line then garbage (reaches the binary packet parser), and a packet whose length field lies
      const hello = Buffer.from('SSH-2.0-fuzz\r\n');
      const lie = Buffer.alloc(8);
      lie.writeUInt32BE([0xffffffff, 0, 5, 35_000][tcp % 4]!, 0);
      const payload = [Buffer.from(rbytes(200)), Buffer.concat([hello, Buffer.from(rbytes(300))]), Buffer.concat([hello, lie, Buffer.from(rbytes(64))])][tcp % 3]!;
      tcp++;
      const c = connect({ host: cfg.target, port: 22 }, () => { c.end(payload); });
      c.on('error', () => undefined);
      c.setTimeout(1000, () => c.destroy());
    }
    // let the socket drain: about 64 datagrams per turn of the event loop
    if (sent % 64 < burst) await new Promise((r) => setImmediate(r));
  }
  return { sent, byKind, ms: Date.now() - t0, tcp };
}

async function main(): Promise<void> {
  const v1 = await captureV1();
  const v2 = await captureV2();
  const v1Up = v1.events.filter((e) => e.type === 'ipsec-up').length;
  const v2Up = v2.events.some((e) => e.type === 'child-up');
  print({ result: 'capture', corpus: corpus.length, v1IpsecSas: v1Up, v2Child: v2Up, rawEspSpi: v1.live && !v1.live.udpEncap ? v1.live.outbound.spi : undefined });
  const sockets: Socket[] = [];
  for (const a of cfg.sources) {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, a, () => r()));
    s.on('message', () => undefined);
    sockets.push(s);
  }
  const esp = rawEsp(v1.live);
  const f = await flood(sockets, v1.liveSpis, esp);
  await esp?.bind.close();
  print({ result: 'flood', ...f });
  await sleep(2000); // the campaign reads gwB's ESP counters now, before the new Quick Mode below
  // check: the IKEv1 SA runs a new Quick Mode, the IKEv2 SA answers a liveness check
  const before = v1.events.filter((e) => e.type === 'ipsec-up').length;
  v1.engine.initiate({
    local: { address: cfg.v1Source, port: 500 }, remote: { address: cfg.target, port: 500 },
    quickMode: {
      localSel: prefixes(cfg.v1Selectors.local), remoteSel: prefixes(cfg.v1Selectors.remote),
      transformSets: [{ name: 'ts', esp: { cipher: 'esp-aes', keyLenBits: 256, integrity: 'sha' }, mode: 'tunnel' }], lifetimeSec: 3600, lifetimeKb: 4608000,
    },
  });
  v1.pump();
  const v2Sa = v2.engine.listIkeSas()[0];
  const downBefore = v2.events.filter((e) => e.type === 'ike-down').length;
  const receivedBefore = v2.engine.counters.received;
  if (v2Sa) v2.engine.checkLiveness(v2Sa.ikeSaId);
  for (let i = 0; i < 80 && v1.events.filter((e) => e.type === 'ipsec-up').length === before; i++) await sleep(100);
  await sleep(1500);
  const v1Alive = v1.events.filter((e) => e.type === 'ipsec-up').length > before && v1.engine.listPhase1().filter((s) => s.established).length === 1;
  const v2Alive = v2Sa !== undefined && v2.engine.counters.received > receivedBefore && v2.events.filter((e) => e.type === 'ike-down').length === downBefore &&
    v2.engine.listIkeSas().some((s) => s.state === 'established');
  print({ result: 'check', v1Alive, v2Alive });
  v1.close();
  v2.close();
  for (const s of sockets) s.close();
}

main().then(() => process.exit(0), (e: unknown) => { print({ result: 'error', error: String(e) }); process.exit(1); });
