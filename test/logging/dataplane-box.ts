// A data-plane service on its own event bus and clock, configured with the manual-keyed
// site-to-site map (test/dataplane-e2e/rampart-pair.ts manualConfig): the packets it sends
// are collected, nothing touches the network. For tests of what the data plane says.
import '../../firmware/cli/commands/index.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import { createConfig } from '../../firmware/config/model.js';
import { DataplaneService } from '../../firmware/daemon/dataplane-service.js';
import type { ServiceContext } from '../../firmware/daemon/daemon.js';
import { BindRegistry } from '../../firmware/dataplane/bind-registry.js';
import { busMembers, EventBus, type MessageEvent } from '../../firmware/lib/event-bus.js';
import { simBoard } from '../../board/sim.js';
import { fakeSystem } from '../lib/fake-system.js';
import { manualConfig } from '../dataplane-e2e/rampart-pair.js';
import { RuntimeRegistry } from '../../firmware/daemon/runtime-view.js';

export async function dataplaneBox(side: 'A' | 'B', now: () => number) {
  const cfg = createConfig();
  const sys = fakeSystem();
  const bus = new EventBus(now);
  const messages: MessageEvent[] = [];
  bus.subscribe((e) => { if (e.kind === 'message') messages.push(e); });
  const wire: Uint8Array[] = [];
  let delivered = 0;
  const svc = new DataplaneService({
    userspace: false, detect: false,
    io: { sendOuter: (p) => { wire.push(Uint8Array.from(p)); return true; }, deliverInner: () => { delivered++; return true; } },
  });
  const ctx: ServiceContext = {
    board: simBoard({ portMap: {} }), system: { ...sys, now }, config: () => cfg, runtime: new RuntimeRegistry(sys.runtime), log: () => {}, ...busMembers(bus),
    binds: new BindRegistry(async () => { throw new Error('no sockets in this test'); }), service: () => undefined,
  };
  await svc.start(ctx);
  const cli = async (lines: string[]) => {
    const { text } = await runTranscript(lines, { config: cfg, system: sys, privileged: true });
    svc.apply(cfg);
    return text;
  };
  return { cfg, sys, svc, bus, wire, messages, delivered: () => delivered, cli, configure: () => cli(['configure terminal', ...manualConfig(side), 'end']) };
}

/** An ICMP echo request from src to dst (IPv4 header checksum set). */
export function icmp(src: string, dst: string): Uint8Array {
  const p = new Uint8Array(32);
  p[0] = 0x45; p[3] = 32; p[8] = 64; p[9] = 1;
  p.set(src.split('.').map(Number), 12); p.set(dst.split('.').map(Number), 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  p[10] = (~sum >> 8) & 255; p[11] = ~sum & 255;
  p.set([8, 0, 0, 0, 0, 1, 0, 1], 20);
  return p;
}
