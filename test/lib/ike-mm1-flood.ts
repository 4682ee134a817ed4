// IKEv1 Main Mode message 1 flood, run inside a lab namespace (lab.spawnNode) by the ike-flood
// bench: real first messages (built by our engine) with a fresh initiator cookie each, from
// many local source addresses in turn (a spoofed-source flood as the responder sees it), at
// `ratePerSec` for `durationMs`. Prints { result: 'flood', sent, ms }.
import dgram from 'node:dgram';
import { randomFillSync } from 'node:crypto';
import { IkeV1Engine } from '../../firmware/ike/v1/engine.js';

interface FloodConfig { sources: string[]; target: string; ratePerSec: number; durationMs: number }
const cfg = JSON.parse(process.argv[2] ?? '{}') as FloodConfig;

function mm1(): Uint8Array {
  const e = new IkeV1Engine({
    now: Date.now, natTraversal: true,
    policies: [{ priority: 10, encryption: 'aes128', hash: 'sha256', authentication: 'pre-share', group: 14, lifetimeSec: 86400 }],
    peerConfig: { globalKeys: [{ address: cfg.target, key: 'flood' }], keyrings: [], profiles: [], interfaces: [] },
    quickModeResponder: () => ({ accept: false, reason: 'flood', notifyType: 14 }),
  });
  e.initiate({ local: { address: cfg.sources[0]!, port: 500 }, remote: { address: cfg.target, port: 500 } });
  return e.drainOutbox()[0]!.data;
}

async function main(): Promise<void> {
  const sockets: dgram.Socket[] = [];
  for (const a of cfg.sources) {
    const s = dgram.createSocket('udp4');
    s.on('message', () => undefined);
    await new Promise<void>((r) => s.bind(0, a, () => r()));
    sockets.push(s);
  }
  const base = Buffer.from(mm1());
  const t0 = performance.now();
  let sent = 0;
  while (performance.now() - t0 < cfg.durationMs) {
    // send what is due by now, then yield for a millisecond
    const due = Math.floor(((performance.now() - t0) / 1000) * cfg.ratePerSec);
    while (sent < due) {
      const m = Buffer.from(base);
      randomFillSync(m, 0, 8);
      sockets[sent % sockets.length]!.send(m, 500, cfg.target);
      sent++;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  process.stdout.write(`${JSON.stringify({ result: 'flood', sent, ms: performance.now() - t0 })}\n`);
  for (const s of sockets) s.close();
}

main().then(() => process.exit(0), (e: unknown) => { process.stdout.write(`${JSON.stringify({ result: 'error', error: String(e) })}\n`); process.exit(1); });
