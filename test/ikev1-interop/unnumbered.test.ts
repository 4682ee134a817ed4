// Issue 19's named bug: an `ip unnumbered` interface with an IKEv1 crypto map got an SPD
// (the data plane follows `ip unnumbered`) but no IKE socket (the IKEv1 mapping read only
// `ip address`). Two IKEv1 services on a fake network (no root): box A's crypto map sits
// on FastEthernet0/0, unnumbered to FastEthernet0/1; A must listen on the borrowed address
// (UDP 500 and 4500) and answer B's main mode there. The same run checks that IKEv1 debug
// lines reach the event bus with the SA's context (peer, conn-id) and without the key.
import t from 'tap';
import '../../firmware/cli/commands/index.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import { createConfig, type Config } from '../../firmware/config/model.js';
import { BindRegistry } from '../../firmware/dataplane/bind-registry.js';
import { FakeNetwork } from '../../firmware/dataplane/packet-io-fake.js';
import type { ServiceContext } from '../../firmware/daemon/daemon.js';
import { IkeV1Service } from '../../firmware/daemon/ikev1-service.js';
import { busMembers, EventBus, type BusEvent } from '../../firmware/lib/event-bus.js';
import { simBoard } from '../../board/sim.js';
import { fakeSystem } from '../lib/fake-system.js';
import { RuntimeRegistry } from '../../firmware/daemon/runtime-view.js';

const KEY = 'unNumb3red-k3y';

function lines(me: string, peer: string, unnumbered: boolean): string[] {
  return [
    'crypto isakmp policy 10', ' encryption aes 256', ' authentication pre-share', ' group 14', 'exit',
    `crypto isakmp key ${KEY} address ${peer}`,
    'crypto ipsec transform-set ts esp-aes 256 esp-sha-hmac', 'exit',
    `access-list 101 permit ip 10.${unnumbered ? 1 : 2}.0.0 0.0.0.255 10.${unnumbered ? 2 : 1}.0.0 0.0.0.255`,
    'crypto map m 10 ipsec-isakmp', ` set peer ${peer}`, ' set transform-set ts', ' match address 101', 'exit',
    ...(unnumbered
      ? ['interface FastEthernet0/1', ` ip address ${me} 255.255.255.0`, 'exit', 'interface FastEthernet0/0', ' ip unnumbered FastEthernet0/1', ' crypto map m', 'exit']
      : ['interface FastEthernet0/0', ` ip address ${me} 255.255.255.0`, ' crypto map m', 'exit']),
  ];
}

async function box(net: FakeNetwork, bound: string[], me: string, peer: string, unnumbered: boolean) {
  const cfg: Config = createConfig();
  const sys = fakeSystem();
  const { text } = await runTranscript(['configure terminal', ...lines(me, peer, unnumbered), 'end'], { config: cfg, system: sys, privileged: true });
  const bus = new EventBus(() => Date.now());
  const ctx: ServiceContext = {
    board: simBoard({ portMap: {} }), system: { ...sys, now: () => Date.now() }, config: () => cfg, runtime: new RuntimeRegistry(sys.runtime), log: () => {}, ...busMembers(bus),
    binds: new BindRegistry(async (address, port, encap) => { bound.push(`${address}:${port}`); return net.bind(encap ? 'udp-encap' : 'udp', { address, port }); }),
    service: () => undefined,
  };
  const svc = new IkeV1Service();
  await svc.start(ctx);
  await svc.apply(cfg);
  return { svc, bus, text };
}

t.test('an unnumbered interface with an IKEv1 crypto map listens on the borrowed address', async (t) => {
  const net = new FakeNetwork();
  const boundA: string[] = [];
  const a = await box(net, boundA, '172.16.0.1', '172.16.0.2', true);
  const b = await box(net, [], '172.16.0.2', '172.16.0.1', false);
  t.teardown(async () => { await a.svc.stop(); await b.svc.stop(); });
  t.notMatch(a.text, /^% (?!NOTE)/m, 'box A accepts its configuration');
  t.same(boundA.sort(), ['172.16.0.1:4500', '172.16.0.1:500'], 'IKE sockets on the address FastEthernet0/0 borrows');

  const events: BusEvent[] = [];
  a.bus.setDebugGate((cls) => cls === 'isakmp');
  a.bus.subscribe((e) => events.push(e));
  b.svc.engine.initiate({ local: { address: '172.16.0.2', port: 500 }, remote: { address: '172.16.0.1', port: 500 } });
  // the service sends what its engine queued from its pump (private: reached for the test only)
  (b.svc as unknown as { pump(): void }).pump();
  const end = Date.now() + 10_000;
  let sas = a.svc.isakmpSas();
  while (!sas.some((s) => s.state === 'QM_IDLE') && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 20));
    sas = a.svc.isakmpSas();
  }
  t.ok(sas.some((s) => s.state === 'QM_IDLE' && s.dst === '172.16.0.1'), `A answered main mode on the borrowed address (${JSON.stringify(sas.map((s) => s.state))})`);
  const dbg = events.filter((e) => e.kind === 'debug');
  t.ok(dbg.length > 0, 'IKEv1 debug lines on the bus');
  t.ok(dbg.every((e) => e.text.startsWith('ISAKMP:(0:')), 'with the IOS conn prefix');
  t.ok(dbg.some((e) => e.context.peer === '172.16.0.2' && (e.context.connIds?.length ?? 0) > 0), 'carrying peer and conn-id');
  t.notMatch(JSON.stringify(events), new RegExp(KEY), 'the key never appears');
});
