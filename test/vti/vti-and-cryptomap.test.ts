// Issue 15: a static VTI and a crypto map on the same box at once, each carrying its own
// traffic (root only). Three Rampart gateways configured through their CLI:
//
//   hostA 10.1.0.2 - [gwA] Fa0/0 172.16.0.1 ==(crypto map CM, IKEv2)== 172.16.0.2 [gwB] - hostB 10.2.0.2
//                          Gi0/2 172.16.1.1 ==(Tunnel0 VTI, IKEv2)==== 172.16.1.2 [gwC] - hostC 10.3.0.2
//
// Traffic to 10.2.0.0/24 is selected by the crypto map's ACL (SPD); traffic to 10.3.0.0/24 is
// routed into Tunnel0. Each flow moves its own counters only.
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { addBranchSite, buildSiteToSite, ping } from '../lib/site-to-site.js';
import { startBox, type Box } from '../lib/box.js';
import { waitUntil } from '../lib/wait.js';
import { interfaceCounters, tunnelState } from './vti-pair.js';

const skip = !isRoot() ? 'needs root: network namespaces, TUN, raw sockets'
  : !hasCommand('ping') ? 'needs ping' : undefined;
const PSK = 'rampart-vti-cm-psk';

function ikev2Base(peers: { name: string; address: string; local: string }[]): string[] {
  return [
    'crypto ikev2 proposal PROP1', ' encryption aes-cbc-256', ' integrity sha256', ' group 14', 'exit',
    'crypto ikev2 policy POL1', ' proposal PROP1', 'exit',
    'crypto ikev2 keyring KR1', ...peers.flatMap((p) => [` peer ${p.name}`, `  address ${p.address}`, `  pre-shared-key ${PSK}`, ' exit']), 'exit',
    ...peers.flatMap((p) => [
      `crypto ikev2 profile PR-${p.name}`, ` match identity remote address ${p.address} 255.255.255.255`, ` identity local address ${p.local}`,
      ' authentication local pre-share', ' authentication remote pre-share', ' keyring local KR1', 'exit',
    ]),
    'crypto ipsec transform-set T1 esp-gcm 256', 'exit',
  ];
}

function cryptoMap(o: { peer: string; profile: string; acl: string; iface: string }): string[] {
  return [
    `access-list 101 permit ip ${o.acl}`,
    'crypto map CM 10 ipsec-isakmp', ` set peer ${o.peer}`, ' set transform-set T1', ` set ikev2-profile ${o.profile}`, ' match address 101', 'exit',
    `interface ${o.iface}`, ' crypto map CM', 'exit',
  ];
}

function vti(o: { src: string; dst: string; profile: string; addr: string; route: string }): string[] {
  return [
    'crypto ipsec profile P1', ' set transform-set T1', ` set ikev2-profile ${o.profile}`, 'exit',
    'interface Tunnel0', ` ip address ${o.addr} 255.255.255.0`, ` tunnel source ${o.src}`, ` tunnel destination ${o.dst}`,
    ' tunnel mode ipsec ipv4', ' tunnel protection ipsec profile P1', 'exit',
    `ip route ${o.route} 255.255.255.0 Tunnel0`,
  ];
}

const ifLines = (name: string, addr: string): string[] => [`interface ${name}`, ` ip address ${addr} 255.255.255.0`, ' no shutdown', 'exit'];

function encaps(show: string, iface: string): number {
  const part = show.split(/\ninterface: /).find((p) => p.startsWith(iface)) ?? '';
  return Number(/#pkts encaps: (\d+)/.exec(part)?.[1] ?? 0);
}

t.test('a VTI and a crypto map on one box, each carrying its own traffic', { skip, timeout: 300_000 }, async (t) => {
  const lab = Lab.create('vticm');
  t.teardown(() => lab.destroy());
  buildSiteToSite(lab, { boxes: ['gwA', 'gwB'] });
  addBranchSite(lab, { gw: 'gwC', host: 'hostC', net: '10.3.0', from: { ns: 'gwA', ifname: 'wan1' } });
  const boxes: Box[] = [];
  const start = async (ns: string, ports: Record<string, string>): Promise<Box> => {
    const b = await startBox({ lab, ns, ports });
    boxes.push(b);
    t.teardown(() => b.stop());
    return b;
  };
  const gwA = await start('gwA', { 'FastEthernet0/0': 'wan0', 'FastEthernet0/1': 'lan0', 'GigabitEthernet0/2': 'wan1' });
  const gwB = await start('gwB', { 'FastEthernet0/0': 'wan0', 'FastEthernet0/1': 'lan0' });
  const gwC = await start('gwC', { 'FastEthernet0/0': 'wan0', 'FastEthernet0/1': 'lan0' });
  await gwA.configure([
    ...ifLines('FastEthernet0/1', '10.1.0.1'), ...ifLines('FastEthernet0/0', '172.16.0.1'), ...ifLines('GigabitEthernet0/2', '172.16.1.1'),
    ...ikev2Base([{ name: 'B', address: '172.16.0.2', local: '172.16.0.1' }, { name: 'C', address: '172.16.1.2', local: '172.16.1.1' }]),
    ...cryptoMap({ peer: '172.16.0.2', profile: 'PR-B', acl: '10.1.0.0 0.0.0.255 10.2.0.0 0.0.0.255', iface: 'FastEthernet0/0' }),
    ...vti({ src: 'GigabitEthernet0/2', dst: '172.16.1.2', profile: 'PR-C', addr: '10.0.52.1', route: '10.3.0.0' }),
  ]);
  await gwB.configure([
    ...ifLines('FastEthernet0/1', '10.2.0.1'), ...ifLines('FastEthernet0/0', '172.16.0.2'),
    ...ikev2Base([{ name: 'A', address: '172.16.0.1', local: '172.16.0.2' }]),
    ...cryptoMap({ peer: '172.16.0.1', profile: 'PR-A', acl: '10.2.0.0 0.0.0.255 10.1.0.0 0.0.0.255', iface: 'FastEthernet0/0' }),
  ]);
  await gwC.configure([
    ...ifLines('FastEthernet0/1', '10.3.0.1'), ...ifLines('FastEthernet0/0', '172.16.1.2'),
    ...ikev2Base([{ name: 'A', address: '172.16.1.1', local: '172.16.1.2' }]),
    ...vti({ src: '172.16.1.2', dst: '172.16.1.1', profile: 'PR-A', addr: '10.0.52.2', route: '10.1.0.0' }),
  ]);
  const up = await waitUntil(async () => tunnelState(await gwA.run('show interfaces Tunnel0'))?.protocol === 'up', 30_000, 500);
  t.ok(up, 'gwA Tunnel0 up by itself');

  // the crypto map's traffic: started by the first packet (acquire), never through Tunnel0
  const t0 = interfaceCounters(await gwA.run('show interfaces Tunnel0'));
  t.ok(await waitUntil(() => ping(lab, 'hostA', '10.2.0.2', { count: 1, timeoutSec: 1 }), 20_000, 300), 'hostA -> hostB through the crypto map');
  t.ok(await ping(lab, 'hostA', '10.2.0.2', { count: 5 }), 'five more');
  t.ok(await ping(lab, 'hostB', '10.1.0.2', { count: 3 }), 'hostB -> hostA through the crypto map');
  const sa1 = await gwA.run('show crypto ipsec sa');
  const cm1 = encaps(sa1, 'FastEthernet0/0');
  const t1 = interfaceCounters(await gwA.run('show interfaces Tunnel0'));
  t.ok(cm1 >= 8, `crypto map SAs carried it (encaps ${cm1})`);
  t.equal(t1.outPackets, t0.outPackets, 'Tunnel0 carried none of it');

  // the VTI's traffic: routed into Tunnel0, never through the crypto map's SAs
  t.ok(await ping(lab, 'hostA', '10.3.0.2', { count: 5 }), 'hostA -> hostC through Tunnel0');
  t.ok(await ping(lab, 'hostC', '10.1.0.2', { count: 3 }), 'hostC -> hostA through Tunnel0');
  const sa2 = await gwA.run('show crypto ipsec sa');
  const t2 = interfaceCounters(await gwA.run('show interfaces Tunnel0'));
  t.ok(t2.outPackets >= t1.outPackets + 8, `Tunnel0 carried it (${t1.outPackets} -> ${t2.outPackets} packets out)`);
  t.equal(encaps(sa2, 'FastEthernet0/0'), cm1, 'the crypto map SAs carried none of it');
  t.ok(encaps(sa2, 'Tunnel0') >= 8, 'Tunnel0\'s own SA did');
  const sess = await gwA.run('show crypto session');
  t.match(sess, /Interface: Tunnel0/, 'show crypto session: the VTI session');
  t.match(sess, /Interface: FastEthernet0\/0/, 'and the crypto map session');
  t.notOk(await ping(lab, 'hostB', '10.3.0.2', { count: 1, timeoutSec: 1 }), 'hostB cannot reach hostC (neither policy joins them)');
});
