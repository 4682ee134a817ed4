// Two whole Rampart boxes wired back to back, on fake or on real packet I/O, behind one
// interface, so one scenario runs on both (as wireguard-go's genTestPair does):
//
//   fake: two Daemons in this process (every default service), UDP (IKE, ESP in UDP) over a
//         FakeNetwork, raw ESP handed from one data plane to the other; no root needed.
//   real: the executables in the site-to-site lab (test/lib/site-to-site.ts), real sockets,
//         TUN and hosts behind the gateways; needs root.
//
//   LAN A 10.1.0.0/24 -- A 172.16.0.1 (FastEthernet0/0) ==== 172.16.0.2 B -- LAN B 10.2.0.0/24
import type { Box } from './box.js';
import { startBox, startInProcessBox } from './box.js';
import { BindRegistry } from '../../firmware/dataplane/bind-registry.js';
import { FakeNetwork } from '../../firmware/dataplane/packet-io-fake.js';
import { DataplaneService } from '../../firmware/daemon/dataplane-service.js';
import { defaultServices } from '../../firmware/daemon/services.js';
import type { DaemonService } from '../../firmware/daemon/daemon.js';
import { simBoard } from '../../board/sim.js';
import { Lab } from './netns.js';
import { buildSiteToSite, ping, SITE_ADDR } from './site-to-site.js';
import { icmpEcho } from './packets.js';

export interface BoxPair {
  kind: 'fake' | 'real';
  a: Box;
  b: Box;
  /**
   * Sends traffic from LAN A to LAN B until some arrives or `timeoutMs` passes (the first
   * packets start IKE); true when traffic passed.
   */
  trafficAtoB(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

export const PAIR_ADDR = SITE_ADDR;
export const PAIR_PORTS = { 'FastEthernet0/0': 'wan0', 'FastEthernet0/1': 'lan0' } as const;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Two in-process boxes over a FakeNetwork. `order`: the services in another start order
 * (test/daemon/clear-order.test.ts: the order must change nothing).
 */
export async function startFakePair(opts: { order?: (services: DaemonService[]) => DaemonService[] } = {}): Promise<BoxPair> {
  const net = new FakeNetwork();
  const delivered: Record<'a' | 'b', Uint8Array[]> = { a: [], b: [] };
  const planes: Partial<Record<'a' | 'b', DataplaneService>> = {};
  const plane = (side: 'a' | 'b'): DataplaneService => new DataplaneService({
    userspace: false, detect: false,
    io: {
      // raw ESP goes straight to the other box's data plane
      sendOuter: (p) => { const other = planes[side === 'a' ? 'b' : 'a']; queueMicrotask(() => other?.pipeline.inbound(Uint8Array.from(p))); return true; },
      deliverInner: (p) => { delivered[side].push(Uint8Array.from(p)); return true; },
    },
  });
  const box = async (side: 'a' | 'b'): Promise<Box> => {
    const dp = plane(side);
    planes[side] = dp;
    const binds = new BindRegistry(async (address, port, encap) => net.bind(encap ? 'udp-encap' : 'udp', { address, port }));
    const services = defaultServices(simBoard(), { dataplane: dp });
    return startInProcessBox({ name: side, binds, services: opts.order ? opts.order(services) : services });
  };
  const a = await box('a');
  const b = await box('b');
  return {
    kind: 'fake', a, b,
    async trafficAtoB(timeoutMs = 60_000) {
      const end = Date.now() + timeoutMs;
      for (let seq = 1; Date.now() < end; seq++) {
        const before = delivered.b.length;
        planes.a!.pipeline.outbound(icmpEcho(SITE_ADDR.hostA, SITE_ADDR.hostB, seq));
        await sleep(100);
        if (delivered.b.length > before) return true;
      }
      return false;
    },
    async close() { await a.stop(); await b.stop(); },
  };
}

/** The same two boxes as Rampart executables in the site-to-site lab (root). */
export async function startRealPair(prefix: string): Promise<BoxPair> {
  const lab = Lab.create(prefix);
  try {
    const topo = buildSiteToSite(lab);
    const a = await startBox({ lab, ns: topo.gwA, ports: PAIR_PORTS });
    const b = await startBox({ lab, ns: topo.gwB, ports: PAIR_PORTS });
    return {
      kind: 'real', a, b,
      async trafficAtoB(timeoutMs = 60_000) {
        const end = Date.now() + timeoutMs;
        while (Date.now() < end) if (await ping(lab, 'hostA', SITE_ADDR.hostB, { count: 1, timeoutSec: 1 })) return true;
        return false;
      },
      async close() { await a.stop(); await b.stop(); await lab.destroy(); },
    };
  } catch (e) {
    await lab.destroy();
    throw e;
  }
}
