// ISAKMP fuzzer run inside a lab namespace (lab.spawnNode) against a RUNNING daemon's UDP 500
// (and 4500, behind the non-ESP marker). Bounded in count and time. Message kinds:
//   valid  - a real main mode first message (built by our engine) with fresh cookies: each
//            one opens half-open state on the responder (tests the bound);
//   trunc  - that message cut at a random length;
//   flip   - random bytes changed;
//   lenbad - header length / payload lengths set wrong (too long, too short, zero);
//   order  - misordered exchanges: main mode message 3/5 shapes, quick mode, informational,
//            aggressive with unknown cookies and the ENCRYPTION flag;
//   big    - oversized (up to 65000 bytes);
//   random - random bytes.
// Prints one JSON line: { result: 'fuzz', sent, byKind, replies, ms }.
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { IkeV1Engine } from '../../firmware/ike/v1/engine.js';

interface FuzzConfig { local: string; target: string; count: number; maxMs: number; seed: number; psk: string }
const cfg = JSON.parse(process.argv[2] ?? '{}') as FuzzConfig;

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

function validMm1(): Uint8Array {
  const e = new IkeV1Engine({
    now: Date.now, natTraversal: true,
    policies: [{ priority: 10, encryption: 'aes256', hash: 'sha', authentication: 'pre-share', group: 2, lifetimeSec: 86400 }],
    peerConfig: { globalKeys: [{ address: cfg.target, key: cfg.psk }], keyrings: [], profiles: [], interfaces: [] },
    quickModeResponder: () => ({ accept: false, reason: 'x', notifyType: 14 }),
  });
  e.initiate({ local: { address: cfg.local, port: 500 }, remote: { address: cfg.target, port: 500 } });
  return e.drainOutbox()[0]!.data;
}

async function main(): Promise<void> {
  const rnd = prng(cfg.seed);
  const ri = (n: number): number => Math.floor(rnd() * n);
  const s500 = dgram.createSocket('udp4');
  const s4500 = dgram.createSocket('udp4');
  await new Promise<void>((r) => s500.bind(0, cfg.local, () => r()));
  await new Promise<void>((r) => s4500.bind(0, cfg.local, () => r()));
  let replies = 0;
  s500.on('message', () => { replies++; });
  s4500.on('message', () => { replies++; });
  const base = validMm1();
  const byKind: Record<string, number> = {};
  const t0 = Date.now();
  let sent = 0;
  const kinds = ['valid', 'trunc', 'flip', 'lenbad', 'order', 'big', 'random'] as const;
  while (sent < cfg.count && Date.now() - t0 < cfg.maxMs) {
    const kind = kinds[ri(kinds.length)]!;
    let m = new Uint8Array(base);
    m.set(randomBytes(8), 0); // fresh initiator cookie
    switch (kind) {
      case 'valid': break;
      case 'trunc': m = m.slice(0, ri(m.length)); break;
      case 'flip': for (let k = 0, n = 1 + ri(8); k < n; k++) m[ri(m.length)] = ri(256); break;
      case 'lenbad': {
        const dv = new DataView(m.buffer, m.byteOffset, m.byteLength);
        const which = ri(3);
        if (which === 0) dv.setUint32(24, [0, 27, 28, m.length + 1 + ri(5000), 0xffffffff][ri(5)]!);
        else if (which === 1) dv.setUint16(30, [0, 1, 3, 4, 0xffff][ri(5)]!); // first payload length
        else m = m.slice(0, 28 + ri(8));
        break;
      }
      case 'order': {
        m.set(randomBytes(8), 8); // non-zero responder cookie: unknown SA
        m[18] = [2, 4, 5, 32, 33, 34][ri(6)]!; // exchange type
        if (ri(2)) m[19] = (m[19]! | 1); // ENCRYPTION flag
        if (ri(2)) new DataView(m.buffer, m.byteOffset).setUint32(20, ri(0xffffffff)); // message id
        if (ri(3) === 0) m.fill(0, 8, 16);
        break;
      }
      case 'big': {
        const n = 1000 + ri(64000);
        const b = new Uint8Array(n);
        b.set(m.subarray(0, Math.min(m.length, n)));
        b.set(randomBytes(Math.max(0, n - m.length)), Math.min(m.length, n));
        new DataView(b.buffer).setUint32(24, n);
        m = b;
        break;
      }
      case 'random': m = new Uint8Array(randomBytes(1 + ri(600))); if (ri(2) && m.length > 17) m[17] = 0x10; break;
    }
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    if (ri(5) === 0) s4500.send(Buffer.concat([Buffer.alloc(4), Buffer.from(m)]), 4500, cfg.target);
    else s500.send(m, 500, cfg.target);
    sent++;
    if (sent % 50 === 0) await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 500));
  s500.close();
  s4500.close();
  console.log(JSON.stringify({ result: 'fuzz', sent, byKind, replies, ms: Date.now() - t0 }));
}

void main().catch((e: Error) => { console.log(JSON.stringify({ result: 'error', message: e.message })); process.exit(1); });
