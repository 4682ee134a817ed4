// Test-only program: one IKEv2 engine on real UDP sockets 500 and 4500 (RFC 3948 non-ESP
// marker on 4500), run inside a lab namespace by strongswan-interop.test.ts. Prints one JSON
// line per event; keys only as short SHA-256 digests.
import { createHash } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { Ikev2Engine, type Ikev2Event, type IkeProposalConfig, type ChildProposalConfig } from '../../firmware/ike/v2/index.js';

export interface Ikev2DriverConfig {
  local: string;
  remote: string;
  psk: string;
  initiate: boolean;
  ike: IkeProposalConfig[];
  esp: ChildProposalConfig[];
  pfsGroup?: number;
  localCidr: string;
  remoteCidr: string;
  /** After the first child: rekey the child, then the IKE SA (ms after up; 0 = never). */
  rekeyAfterMs?: number;
  runMs: number;
}

function main(cfg: Ikev2DriverConfig): void {
  const dig = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex').slice(0, 16)}`;
  const print = (o: unknown): void => {
    process.stdout.write(JSON.stringify(o, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v instanceof Uint8Array ? dig(v) : v)) + '\n');
  };

  const sockets = new Map<number, Socket>();
  const psk = new TextEncoder().encode(cfg.psk);
  let upAt = 0;
  const engine = new Ikev2Engine({
    config: {
      connections: [{
        name: 'swan', localAddress: cfg.local, remoteAddress: cfg.remote, ikeProposals: cfg.ike, childProposals: cfg.esp,
        ...(cfg.pfsGroup ? { pfsGroup: cfg.pfsGroup } : {}),
        localSelectors: [{ cidr: cfg.localCidr }], remoteSelectors: [{ cidr: cfg.remoteCidr }],
      }],
      psk: () => ({ local: psk, remote: psk, source: 'driver' }),
      retransmit: { initialTimeoutMs: 1000, maxRetries: 4 },
    },
    clock: () => performance.now(),
    send: (d) => {
      const s = sockets.get(d.localPort) ?? sockets.get(500)!;
      const data = d.localPort === 4500 ? Buffer.concat([Buffer.alloc(4), d.data]) : Buffer.from(d.data);
      s.send(data, d.remotePort, d.remoteAddress);
    },
    onEvent: (e: Ikev2Event) => {
      print({ event: e });
      if (e.type === 'child-up' && !upAt) upAt = performance.now();
    },
    log: (level, msg) => { if (level !== 'debug') print({ log: `${level} ${msg}` }); },
  });

  for (const port of [500, 4500]) {
    const s = createSocket('udp4');
    s.on('message', (msg, rinfo) => {
      let data: Uint8Array = msg;
      if (port === 4500) {
        if (msg.length < 4 || msg.readUInt32BE(0) !== 0) return; // ESP, not ours
        data = msg.subarray(4);
      }
      engine.receive({ localAddress: cfg.local, localPort: port, remoteAddress: rinfo.address, remotePort: rinfo.port, data: new Uint8Array(data) });
    });
    s.bind(port, cfg.local);
    sockets.set(port, s);
  }

  let stage = 0;
  const timer = setInterval(() => {
    engine.tick();
    if (cfg.rekeyAfterMs && upAt && stage === 0 && performance.now() - upAt > cfg.rekeyAfterMs) {
      stage = 1;
      const child = engine.listChildSas()[0];
      if (child) print({ command: 'rekey-child', ok: engine.rekeyChild(child.childId) });
    } else if (cfg.rekeyAfterMs && upAt && stage === 1 && performance.now() - upAt > 2 * cfg.rekeyAfterMs) {
      stage = 2;
      const sa = engine.listIkeSas()[0];
      if (sa) print({ command: 'rekey-ike', ok: engine.rekeyIke(sa.ikeSaId) });
    } else if (cfg.rekeyAfterMs && upAt && stage === 2 && performance.now() - upAt > 3 * cfg.rekeyAfterMs) {
      stage = 3;
      print({ state: { ike: engine.listIkeSas(), children: engine.listChildSas() } });
    }
  }, 50);

  setTimeout(() => {
    if (cfg.initiate) engine.initiate('swan');
  }, 200);
  print({ ready: true });
  setTimeout(() => {
    clearInterval(timer);
    for (const s of sockets.values()) s.close();
    print({ diagnoses: engine.diagnoses() });
    process.exit(0);
  }, cfg.runMs);
}

// Run by tap as a plain file it gets no argument: then it is not a test and does nothing.
if (process.argv[2]) main(JSON.parse(process.argv[2]) as Ikev2DriverConfig);
