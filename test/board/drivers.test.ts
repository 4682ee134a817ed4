// The board picks the drivers (board/drivers.ts): crypto engines by the names in its
// profile, the kernel backend, the host-network port; the data plane uses what it picked.
import t from 'tap';
import { boardDrivers } from '../../board/drivers.js';
import { kernelBackendFromEnv } from '../../board/profile.js';
import { simBoard } from '../../board/sim.js';
import { createSoftwareEngine } from '../../drivers/software/software-engine.js';
import { DataplaneService } from '../../firmware/daemon/dataplane-service.js';
import { RuntimeRegistry } from '../../firmware/daemon/runtime-view.js';
import type { ServiceContext } from '../../firmware/daemon/daemon.js';
import { busMembers } from '../../firmware/lib/event-bus.js';
import { createConfig } from '../../firmware/config/model.js';
import { fakeSystem } from '../lib/fake-system.js';

t.test('engines by name, software always there, backend from the board', async (t) => {
  const sim = simBoard({ portMap: {} });
  const d = boardDrivers(sim);
  t.same(d.engines.map((e) => e.name), ['software'], 'the sim board: the software engine');
  t.equal(d.kernelBackend, sim.kernelBackend, 'the board\'s kernel backend');
  t.same(d.problems, []);
  const odd = boardDrivers({ ...sim, engines: ['accel9'] });
  t.same(odd.engines.map((e) => e.kind), ['software'], 'an engine without a driver: software carries the SAs');
  t.match(odd.problems[0], /crypto engine accel9: no driver/, 'and the board says so');
  t.equal(boardDrivers({ ...sim, kernelBackend: 'userspace' }).kernelBackend, 'userspace');
  t.equal(kernelBackendFromEnv({ RAMPART_DATAPLANE: 'userspace' }), 'userspace', 'RAMPART_DATAPLANE=userspace');
  t.equal(kernelBackendFromEnv({}), 'detect', 'default: detect');
});

t.test('host network: the board\'s wiring and iproute2 commands', async (t) => {
  const calls: string[] = [];
  const run = (argv: readonly string[]) => { calls.push(argv.join(' ')); return argv.includes('replace') ? { code: 2, stderr: 'RTNETLINK answers: Network is unreachable\n' } : { code: 0, stderr: '' }; };
  const net = boardDrivers(simBoard({ portMap: { 'FastEthernet0/0': 'wan0' }, linkExists: () => true }), { run }).network;
  t.equal(net.linuxName('FastEthernet0/0'), 'wan0');
  t.equal(net.linuxName('FastEthernet0/1'), undefined, 'an unwired port');
  t.same(net.wiredPorts(), [['FastEthernet0/0', 'wan0']]);
  t.same(await net.setPort('FastEthernet0/0', { addrs: ['172.16.0.1/24'], down: false }), []);
  t.same(calls, ['ip -4 addr flush dev wan0', 'ip addr add 172.16.0.1/24 dev wan0', 'ip link set wan0 up']);
  calls.length = 0;
  await net.setPort('FastEthernet0/0', { addrs: ['10.9.0.1/24'], down: true, vrf: 'RED' });
  t.same(calls, ['ip -4 addr flush dev wan0', 'ip addr add 10.9.0.1/24 dev wan0 noprefixroute', 'ip link set wan0 down'], 'a VRF port: no prefix route, shut down');
  t.match(await net.replaceRoute({ dest: '10.2.0.0/24', via: '172.16.0.2' }), /ip route replace 10\.2\.0\.0\/24 via 172\.16\.0\.2: RTNETLINK answers: Network is unreachable/, 'a refused route: the error');
  t.match((await net.setPort('FastEthernet0/1', { addrs: [], down: false }))[0], /not wired/);
});

t.test('the data plane keys its SAs on the engine the board picked', async (t) => {
  const engine = createSoftwareEngine({ name: 'board-picked' });
  const board = simBoard({ portMap: {} });
  const svc = new DataplaneService({ drivers: { ...boardDrivers(board), engines: [engine] }, userspace: false, detect: false, io: { sendOuter: () => true, deliverInner: () => true } });
  const sys = fakeSystem();
  const cfg = createConfig();
  const ctx = {
    board, system: sys, config: () => cfg, runtime: new RuntimeRegistry(sys.runtime), log: () => {}, ...busMembers(), binds: undefined,
    service: () => undefined,
  } as unknown as ServiceContext;
  await svc.start(ctx);
  t.teardown(() => svc.stop());
  t.same(sys.runtime.cryptoEngine!().engines.map((e) => [e.name, e.kind]), [['board-picked', 'software']], 'show crypto engine lists the board\'s engine');
  const key = (n: number) => new Uint8Array(32).fill(n);
  svc.installChildSa({
    mapName: 'CM', mapSeq: 10, policyKey: 'CM/10|x', local: '172.16.0.1', peer: '172.16.0.2',
    scope: { family: 4, src: { kind: 'mask', family: 4, addr: 0x0a010000n, wildcard: 0xffn }, dst: { kind: 'mask', family: 4, addr: 0x0a020000n, wildcard: 0xffn }, proto: 0, srcPorts: { lo: 0, hi: 65535 }, dstPorts: { lo: 0, hi: 65535 } },
    transformWords: ['esp-gcm', '256'], mode: 'tunnel',
    inbound: { espSpi: 0x1001, espCipherKey: new Uint8Array([...key(1), 1, 2, 3, 4]) },
    outbound: { espSpi: 0x2002, espCipherKey: new Uint8Array([...key(2), 5, 6, 7, 8]) },
  });
  const engines = svc.sad.all().map((sa) => sa.transform.engine);
  t.same(engines, ['board-picked', 'board-picked'], 'both SAs run on it');
});
