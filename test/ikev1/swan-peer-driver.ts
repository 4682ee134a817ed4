// Test-only program: one IKEv1 engine on real UDP sockets (ports 500 and 4500, with the
// RFC 3948 non-ESP marker on 4500), run inside a lab namespace by strongswan-interop.test.ts.
// It prints one JSON line per engine event; IPsec keys are printed only as SHA-256 digests.
// Without a JSON argument (e.g. when tap runs every file under test/) it does nothing.
import { createSocket, type Socket } from 'node:dgram';
import { createHash } from 'node:crypto';
import { IkeV1Engine, type Datagram } from '../../firmware/ike/v1/engine.js';
import { effectivePolicies, type IsakmpPolicy, type TransformSet } from '../../firmware/ike/v1/policy.js';
import { selectQuickModeResponse } from '../../firmware/ike/v1/quick-mode-policy.js';
import type { Selector } from '../../firmware/ike/v1/selectors.js';

export interface DriverConfig {
  local: string;
  remote: string;
  initiate: boolean;
  aggressive?: boolean;
  psk: string;
  policies: IsakmpPolicy[];
  transformSets: TransformSet[];
  localSel: Selector;
  remoteSel: Selector;
  pfsGroup?: number;
  lifetimeSec?: number;
  runMs: number;
}

const digest = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex').slice(0, 16);

function main(cfg: DriverConfig): void {
  const log = (o: unknown): void => {
    process.stdout.write(`${JSON.stringify(o, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v instanceof Uint8Array ? `sha256:${digest(v)}` : v))}\n`);
  };
  const engine = new IkeV1Engine({
    now: () => Date.now(),
    policies: effectivePolicies(cfg.policies, false),
    peerConfig: { globalKeys: [{ address: cfg.remote, key: cfg.psk }], keyrings: [], profiles: [], interfaces: [] },
    quickModeResponder: (q) => selectQuickModeResponse([{
      mapName: 'm', seq: 1, peers: [cfg.remote], permits: [{ local: cfg.localSel, remote: cfg.remoteSel }],
      transformSets: cfg.transformSets, ...(cfg.pfsGroup ? { pfsGroup: cfg.pfsGroup } : {}), lifetimeSec: cfg.lifetimeSec ?? 3600, lifetimeKb: 4608000,
    }], q),
    debug: (e) => log({ debug: e.text }),
    retransmit: { initialMs: 1000, maxTries: 4 },
  });
  const sockets = new Map<number, Socket>();
  const flush = (): void => {
    for (const d of engine.drainOutbox()) {
      const s = sockets.get(d.local.port);
      if (!s) continue;
      const data = d.local.port === 4500 ? Buffer.concat([Buffer.alloc(4), d.data]) : Buffer.from(d.data);
      s.send(data, d.remote.port, d.remote.address);
    }
    for (const e of engine.drainEvents()) log({ event: e });
  };
  for (const port of [500, 4500]) {
    const s = createSocket('udp4');
    s.on('message', (msg, rinfo) => {
      let data = new Uint8Array(msg);
      if (port === 4500) {
        if (data.length === 1 && data[0] === 0xff) return; // NAT keepalive
        if (data.length < 4 || data[0] !== 0 || data[1] !== 0 || data[2] !== 0 || data[3] !== 0) return; // ESP
        data = data.subarray(4);
      }
      const d: Datagram = { data, local: { address: cfg.local, port }, remote: { address: rinfo.address, port: rinfo.port } };
      engine.receive(d);
      flush();
    });
    s.bind(port, cfg.local);
    sockets.set(port, s);
  }
  const timer = setInterval(() => {
    engine.tick();
    flush();
  }, 100);
  setTimeout(() => {
    if (cfg.initiate) {
      engine.initiate({
        local: { address: cfg.local, port: 500 }, remote: { address: cfg.remote, port: 500 }, aggressive: !!cfg.aggressive,
        quickMode: { localSel: cfg.localSel, remoteSel: cfg.remoteSel, transformSets: cfg.transformSets, ...(cfg.pfsGroup ? { pfsGroup: cfg.pfsGroup } : {}), lifetimeSec: cfg.lifetimeSec ?? 3600, lifetimeKb: 4608000 },
      });
      flush();
    }
    log({ ready: true });
  }, 200);
  const stop = (): void => {
    clearInterval(timer);
    for (const s of sockets.values()) s.close();
    log({ stopped: true, counters: engine.counters });
  };
  setTimeout(stop, cfg.runMs);
  process.on('SIGTERM', () => {
    stop();
    process.exit(0);
  });
}

const arg = process.argv[2];
if (arg && arg.startsWith('{')) main(JSON.parse(arg) as DriverConfig);
