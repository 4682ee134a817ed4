// IKEv1 load tool, run inside a lab namespace (lab.spawnNode): N initiator slots, each an
// IkeV1Engine on its own local address (UDP 500 + 4500), each looping main mode + quick mode
// against one responder: on ipsec-up it counts, sends DELETE for the IPsec SA and the ISAKMP
// SA, and starts again (a fresh main mode each time). Prints one JSON result line.
//   mode 'setup': { result: 'setup', done, failed, perSec, ms }
//   with `holdMs`: each slot sets up once (again after a failure) and keeps its SAs; when all are up (or time is out) it
//   prints { held: N }, waits holdMs, then deletes them all (dynamic VTI bench: N sessions at once).
//   mode 'fuzz' : throws bounded garbage at the responder instead (see fuzz.test.ts).
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { IkeV1Engine, type Datagram } from '../../firmware/ike/v1/engine.js';
import type { IsakmpPolicy, TransformSet } from '../../firmware/ike/v1/policy.js';
import type { Selector } from '../../firmware/ike/v1/selectors.js';

export interface LoadToolConfig {
  mode: 'setup';
  locals: string[];
  remote: string;
  psk: string;
  policy: IsakmpPolicy;
  set: TransformSet;
  localSel: Selector;
  /** per slot (else localSel for all) */
  localSels?: Selector[];
  remoteSel: Selector;
  durationMs: number;
  /** stop starting new setups after this many (the run then ends early) */
  maxSetups?: number;
  /** one setup per slot, kept up for this long once all are up, then deleted */
  holdMs?: number;
}

interface Slot {
  engine: IkeV1Engine;
  s500: dgram.Socket;
  s4500: dgram.Socket;
  local: string;
  sel: Selector;
  started?: boolean;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as LoadToolConfig;

function bind(addr: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(port, addr, () => resolve(s));
  });
}

async function main(): Promise<void> {
  let done = 0;
  let failed = 0;
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  const end = t0 + cfg.durationMs;
  const slots: Slot[] = [];
  const flush = (slot: Slot): void => {
    for (const d of slot.engine.drainOutbox()) {
      if (d.local.port === 4500) slot.s4500.send(Buffer.concat([Buffer.alloc(4), Buffer.from(d.data)]), d.remote.port, d.remote.address);
      else slot.s500.send(d.data, d.remote.port, d.remote.address);
    }
    for (const ev of slot.engine.drainEvents()) {
      if (ev.type === 'ipsec-up') {
        done++;
        if (cfg.holdMs !== undefined) {
          if (done >= slots.length) allDone?.();
          continue;
        }
        slot.engine.deleteIpsecSa(ev.sa.inbound.spi);
        slot.engine.deletePhase1(ev.sa.connId);
        start(slot);
      } else if (ev.type === 'phase1-failed' || ev.type === 'ipsec-failed') {
        failed++;
        // held sessions: a spoke that failed tries again (until the duration ends), as a real one would
        slot.started = false;
        for (const p of slot.engine.listPhase1()) slot.engine.deletePhase1(p.connId);
        start(slot);
      }
    }
    const more = slot.engine.drainOutbox();
    for (const d of more) {
      if (d.local.port === 4500) slot.s4500.send(Buffer.concat([Buffer.alloc(4), Buffer.from(d.data)]), d.remote.port, d.remote.address);
      else slot.s500.send(d.data, d.remote.port, d.remote.address);
    }
  };
  let started = 0;
  let allDone: (() => void) | undefined;
  const finished = new Promise<void>((r) => { allDone = r; });
  const start = (slot: Slot): void => {
    if (Date.now() >= end) return;
    if (cfg.holdMs !== undefined && slot.started) return;
    slot.started = true;
    if (cfg.maxSetups !== undefined && started >= cfg.maxSetups) {
      if (done + failed >= cfg.maxSetups) allDone?.();
      return;
    }
    started++;
    slot.engine.initiate({
      local: { address: slot.local, port: 500 }, remote: { address: cfg.remote, port: 500 },
      quickMode: { localSel: slot.sel, remoteSel: cfg.remoteSel, transformSets: [cfg.set], lifetimeSec: 3600, lifetimeKb: 4608000 },
    });
  };
  for (const local of cfg.locals) {
    const engine = new IkeV1Engine({
      now: Date.now, policies: [cfg.policy], natTraversal: true,
      peerConfig: { globalKeys: [{ address: cfg.remote, key: cfg.psk }], keyrings: [], profiles: [], interfaces: [] },
      quickModeResponder: () => ({ accept: false, reason: 'initiator only', notifyType: 14 }),
      retransmit: { initialMs: 1000, maxTries: 3 },
      random: (n) => new Uint8Array(randomBytes(n)),
    });
    const slot: Slot = { engine, s500: await bind(local, 500), s4500: await bind(local, 4500), local, sel: cfg.localSels?.[slots.length] ?? cfg.localSel };
    const rx = (port: number) => (msg: Buffer, rinfo: dgram.RemoteInfo): void => {
      let data = new Uint8Array(msg);
      if (port === 4500) {
        if (data.length < 4 || data[0] !== 0 || data[1] !== 0 || data[2] !== 0 || data[3] !== 0) return; // ESP: not ours
        data = data.slice(4);
      }
      const d: Datagram = { data, local: { address: local, port }, remote: { address: rinfo.address, port: rinfo.port } };
      engine.receive(d);
      flush(slot);
    };
    slot.s500.on('message', rx(500));
    slot.s4500.on('message', rx(4500));
    slots.push(slot);
  }
  const timer = setInterval(() => { for (const s of slots) { s.engine.tick(); flush(s); } }, 50);
  for (const s of slots) { start(s); flush(s); }
  await Promise.race([finished, new Promise((r) => setTimeout(r, cfg.durationMs).unref())]);
  const ms = Date.now() - t0;
  if (cfg.holdMs !== undefined) {
    console.log(JSON.stringify({ held: done }));
    await new Promise((r) => setTimeout(r, cfg.holdMs));
    for (const s of slots) { for (const p of s.engine.listPhase1()) s.engine.deletePhase1(p.connId); flush(s); }
  }
  clearInterval(timer);
  // let the final DELETEs go out
  await new Promise((r) => setTimeout(r, 200));
  for (const s of slots) { s.s500.close(); s.s4500.close(); }
  // the tool's own CPU time (user + system) over the run: its cost per setup, next to the responder's
  const cpu = process.cpuUsage(cpu0);
  console.log(JSON.stringify({ result: cfg.mode, done, failed, perSec: done / (ms / 1000), ms, cpuMs: Math.round((cpu.user + cpu.system) / 1000) }));
}

void main().catch((e: Error) => { console.log(JSON.stringify({ result: 'error', message: e.message })); process.exit(1); });
