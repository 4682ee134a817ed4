// The data `show crypto ipsec sa` prints, from the data-plane service, without a network:
// IKEv2 selectors (ranges on the wire) as their prefix, the peer's UDP port, the PFS group,
// plaintext mtu. Live boxes: test/show/ntc-templates.test.ts.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import '../../firmware/cli/commands/index.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import { createConfig } from '../../firmware/config/model.js';
import { addrIdent, DataplaneService, plaintextMtu } from '../../firmware/daemon/dataplane-service.js';
import type { ServiceContext } from '../../firmware/daemon/daemon.js';
import { BindRegistry } from '../../firmware/dataplane/bind-registry.js';
import { makeSelector, parseIp, prefixAddr, rangeAddr } from '../../firmware/ipsec/selector.js';
import { busMembers } from '../../firmware/lib/event-bus.js';
import { simBoard } from '../../board/sim.js';
import { fakeSystem } from '../lib/fake-system.js';
import { RuntimeRegistry } from '../../firmware/daemon/runtime-view.js';

t.test('idents: an IKEv2 range that is a prefix shows as the prefix, not /32', async (t) => {
  t.same(addrIdent(rangeAddr(parseIp('10.1.0.0'), parseIp('10.1.0.255'))), { addr: '10.1.0.0', mask: '255.255.255.0' });
  t.same(addrIdent(prefixAddr('10.2.0.0', 24)), { addr: '10.2.0.0', mask: '255.255.255.0' }, 'IKEv1 masks unchanged');
  t.same(addrIdent(rangeAddr(parseIp('10.1.0.5'), parseIp('10.1.0.9'))), { addr: '10.1.0.5', mask: '255.255.255.255' }, 'a range that is no prefix: its first host');
});

t.test('plaintext mtu: IOS\'s 1438 for esp-aes esp-sha-hmac in tunnel mode', async (t) => {
  t.equal(plaintextMtu(['esp-aes', '256', 'esp-sha-hmac'], 'tunnel', false, 1500), 1438);
  t.equal(plaintextMtu(['esp-aes', '256', 'esp-sha-hmac'], 'tunnel', true, 1500), 1422, 'UDP encapsulation takes 8 more (rounded to the block)');
  t.equal(plaintextMtu(['esp-gcm', '256'], 'tunnel', false, 1500), 1446);
});

t.test('show crypto ipsec sa: IKEv2 child in UDP 4500 with PFS', async (t) => {
  const cfg = createConfig();
  const sys = fakeSystem();
  const svc = new DataplaneService({ userspace: false, detect: false, io: { sendOuter: () => true, deliverInner: () => true } });
  const ctx: ServiceContext = {
    board: simBoard({ portMap: {} }), system: sys, config: () => cfg, runtime: new RuntimeRegistry(sys.runtime), log: () => {}, ...busMembers(),
    binds: new BindRegistry(async () => { throw new Error('no sockets'); }), service: () => undefined,
  };
  await svc.start(ctx);
  t.teardown(() => svc.stop());
  await runTranscript(['configure terminal', 'crypto ipsec transform-set TS esp-gcm 256', 'exit', 'access-list 101 permit ip 10.1.0.0 0.0.0.255 10.2.0.0 0.0.0.255',
    'crypto map CM 10 ipsec-isakmp', ' set peer 172.16.0.2', ' set transform-set TS', ' match address 101', 'exit',
    'interface FastEthernet0/0', ' ip address 172.16.0.1 255.255.255.0', ' crypto map CM', 'end'], { config: cfg, system: sys, privileged: true });
  svc.apply(cfg);
  // IKEv2 traffic selectors are address ranges
  const scope = makeSelector(rangeAddr(parseIp('10.1.0.0'), parseIp('10.1.0.255')), rangeAddr(parseIp('10.2.0.0'), parseIp('10.2.0.255')));
  const keys = (spi: number) => ({ espSpi: spi, espCipherKey: randomBytes(36) });
  svc.installChildSa({
    mapName: 'CM', mapSeq: 10, policyKey: svc.policyKeyFor('CM', 10, scope), scope, local: '172.16.0.1', peer: '172.16.0.2',
    transformWords: ['esp-gcm', '256'], mode: 'tunnel', inbound: keys(0x1234), outbound: keys(0x5678),
    udpEncap: { localPort: 4500, remotePort: 4500 }, pfsGroup: 14, lifetime: { seconds: 3600 },
  });
  const { text } = await runTranscript(['show crypto ipsec sa'], { config: cfg, system: sys, privileged: true });
  t.match(text, /local {2}ident \(addr\/mask\/prot\/port\): \(10\.1\.0\.0\/255\.255\.255\.0\/0\/0\)/, 'local ident is the /24');
  t.match(text, /remote ident \(addr\/mask\/prot\/port\): \(10\.2\.0\.0\/255\.255\.255\.0\/0\/0\)/, 'remote ident is the /24');
  t.match(text, /current_peer 172\.16\.0\.2 port 4500\n/, 'the SA runs in UDP 4500: port 4500');
  t.match(text, /PFS \(Y\/N\): Y, DH group: group14\n/, 'PFS and its group');
  t.match(text, /plaintext mtu 1438, path mtu 1500, ip mtu 1500, ip mtu idb FastEthernet0\/0/, 'GCM in UDP: 1500 - 20 - 8 - 8 - 8 - 16 - 2');
  t.match(text, /in use settings =\{Tunnel UDP-Encaps, \}/);
  t.match(text, /conn id: \d+, flow_id: SW:\d+, sibling_flags 8000004A, crypto map: CM/, 'inbound: usable, tunnel, UDP, inbound bits');
  t.match(text, /replay detection support: Y {2}replay window size: 64\n/);
});
