// The host-status service's readers against fixed /proc text, and its port load rates over a
// fake clock (the live values are checked in test/show/ntc-templates.test.ts and
// test/daemon/daemon.test.ts).
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dottedMac, HostStatusService, parseCpuLine, parseProcStat } from '../../firmware/daemon/host-status.js';
import type { ServiceContext } from '../../firmware/daemon/daemon.js';
import { RuntimeRegistry } from '../../firmware/daemon/runtime-view.js';
import { simBoard } from '../../board/sim.js';
import { fakeSystem } from '../lib/fake-system.js';

t.test('parsers', async (t) => {
  t.same(parseCpuLine('cpu  100 5 50 800 20 3 2 0 0 0\ncpu0 1 2 3\n'), { busy: 160, total: 980, irq: 5 });
  t.same(parseProcStat('4242 (node (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 130 0 0 20 0 11 0 100 0 0'), { name: 'node (x) y', cpuMs: 3800 });
  t.equal(dottedMac('02:AB:cd:00:11:22'), '02ab.cd00.1122');
});

const PORT = 'FastEthernet0/0';

t.test('ports: load rates on top of the reported counters (they move with the traffic)', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'rampart-hs-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'proc'), { recursive: true });
  writeFileSync(join(root, 'proc', 'stat'), 'cpu  100 5 50 800 20 3 2 0 0 0\n');
  const board = simBoard({ stateDir: join(root, 'state'), portMap: { [PORT]: 'wan0' }, linkExists: () => true });
  let now = 1_000_000;
  let bytes = 0;
  let packets = 0;
  const registry = new RuntimeRegistry();
  registry.interfaceStatus.add({
    name: 'ports',
    status: (name) => (name === PORT ? { link: true, counters: { inPackets: packets, inBytes: bytes, outPackets: 0, outBytes: 0 } } : undefined),
  });
  const runtime = registry.view;
  const system = { ...fakeSystem(), now: () => now };
  const svc = new HostStatusService({ procRoot: join(root, 'proc') });
  await svc.start({ board, system, runtime: registry } as unknown as ServiceContext);
  t.teardown(() => svc.stop());
  t.equal(runtime.interfaceStatus?.(PORT)?.inBitsPerSec, 0, 'no traffic yet');
  // 10 minutes of 1000 packets/s, 1 Mbit/s, sampled every 5 s: the 5-minute average gets there
  for (let i = 0; i < 120; i++) {
    now += 5000; packets += 5000; bytes += 625_000;
    runtime.interfaceStatus?.(PORT);
  }
  const st = runtime.interfaceStatus?.(PORT);
  t.ok(st!.inBitsPerSec! > 850_000 && st!.inBitsPerSec! <= 1_000_000, `input rate ${st!.inBitsPerSec} bits/sec`);
  t.ok(st!.inPacketsPerSec! > 850 && st!.inPacketsPerSec! <= 1000, `input rate ${st!.inPacketsPerSec} packets/sec`);
  t.equal(st!.counters!.inPackets, packets, 'the counters are passed through');
  t.equal(runtime.interfaceStatus?.('Tunnel0'), undefined, 'names the port reporter does not know stay unknown');
});
