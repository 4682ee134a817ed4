// ACL, interface and routing commands through the real engine: runtime counters and link
// state from RuntimeView, IOS errors with the caret at the right word, the VRF rules,
// the board's port list in the model, and the routing-table layout.
import t from 'tap';
import '../../firmware/cli/commands/index.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import { createConfig, renderConfigLines, type Config } from '../../firmware/config/model.js';
import { interfacesUsingCryptoMap, setBoardPorts } from '../../firmware/config/interface.js';
import { aclSelectors } from '../../firmware/config/acl.js';
import { formatRoutingTable, type InterfaceRuntimeStatus } from '../../firmware/cli/commands/routing.js';
import { fakeSystem } from '../lib/fake-system.js';
import type { RuntimeView } from '../../firmware/cli/context.js';

async function run(lines: string[], opts: { config?: Config; runtime?: RuntimeView } = {}): Promise<{ text: string; config: Config }> {
  const config = opts.config ?? createConfig();
  const sys = fakeSystem();
  const system = opts.runtime ? { ...sys, runtime: opts.runtime } : sys;
  const { text } = await runTranscript(lines, { config, system, privileged: true });
  return { text, config };
}

t.test('show access-lists prints runtime match counters when the runtime has them', async (t) => {
  const setup = ['configure terminal', 'access-list 101 permit udp any eq isakmp any', 'access-list 101 permit esp any any', 'access-list 101 deny ip any any', 'end'];
  const counts = new Map([[10, 5], [20, 1]]);
  const runtime: RuntimeView = { aclMatches: (name: string) => (name === '101' ? counts : undefined) };
  const { text } = await run([...setup, 'show access-lists 101'], { runtime });
  t.match(text, /    10 permit udp any eq isakmp any \(5 matches\)\n    20 permit esp any any \(1 match\)\n    30 deny ip any any\n/);
  const plain = await run([...setup, 'show access-lists 101']);
  t.notMatch(plain.text, /match/, 'no runtime: no counters');
  const json = await run([...setup, 'show ip access-lists | json'], { runtime });
  const data = JSON.parse(json.text.slice(json.text.indexOf('['), json.text.lastIndexOf(']') + 1)) as Array<{ name: string; entries: Array<{ seq: number; matches?: number }> }>;
  t.equal(data[0]!.name, '101');
  t.same(data[0]!.entries.map((e) => e.matches), [5, 1, undefined]);
});

t.test('clear access-list counters asks the runtime', async (t) => {
  const cleared: Array<string | undefined> = [];
  const runtime: RuntimeView = { clearAclCounters: (name?: string) => { cleared.push(name); } };
  const { text } = await run(['configure terminal', 'access-list 101 permit esp any any', 'end', 'clear access-list counters 101', 'clear access-list counters', 'clear access-list counters 7'], { runtime });
  t.same(cleared, ['101', undefined]);
  t.match(text, /% Access list 7 does not exist/);
  const none = await run(['clear access-list counters']);
  t.match(none.text, /% Access list counters are not available/);
});

t.test('a numbered list is removed whole by any `no access-list N ...`; selectors follow the model', async (t) => {
  const { config } = await run(['configure terminal', 'access-list 120 permit ip 10.0.110.0 0.0.0.255 10.0.110.0 0.0.0.255', 'access-list 120 permit gre any any']);
  t.equal(aclSelectors(config, '120')!.length, 2);
  t.equal(aclSelectors(config, '120')![0]!.src.wildcard, 255);
  const rev = config.acl.lists['120']!.revision;
  await run(['configure terminal', 'access-list 120 permit 51 any any'], { config });
  t.ok(config.acl.lists['120']!.revision > rev, 'revision moves when the list changes');
  await run(['configure terminal', 'no access-list 120 permit gre any any'], { config });
  t.equal(aclSelectors(config, '120'), undefined);
});

t.test('interfaces: caret under the name the board lacks, in every spelling', async (t) => {
  const { text } = await run(['configure terminal', 'int serial 9/0', 'interface Ethernet0/0', 'no interface Serial7/0', 'ip route 10.0.0.0 255.0.0.0 Serial7/0']);
  t.match(text, /Router\(config\)#int serial 9\/0\n {19}\^\n% Invalid input detected at '\^' marker\.\n\n/);
  t.match(text, /Router\(config\)#interface Ethernet0\/0\n {25}\^\n/);
  t.match(text, /Router\(config\)#no interface Serial7\/0\n {28}\^\n/);
  t.match(text, /Router\(config\)#ip route 10\.0\.0\.0 255\.0\.0\.0 Serial7\/0\n {43}\^\n/);
});

t.test('the board\'s ports are part of the model and render even untouched', async (t) => {
  const cfg = createConfig();
  t.same(renderConfigLines(cfg).filter((l) => l.startsWith('interface')), [], 'before the daemon sets them: none');
  setBoardPorts(cfg, ['FastEthernet0/0', 'Serial2/0']);
  setBoardPorts(cfg, ['FastEthernet0/0', 'Serial2/0']);
  t.same(renderConfigLines(cfg).filter((l) => l.startsWith('interface') || l.startsWith(' ')), ['interface FastEthernet0/0', ' no ip address', 'interface Serial2/0', ' no ip address']);
  const { config } = await run(['configure terminal', 'interface Loopback3']);
  t.same(config.interfaces.ports, fakeSystem().board.ports, 'the first interface command records the board\'s ports');
  t.same(Object.keys(config.interfaces.items).sort(), [...fakeSystem().board.ports, 'Loopback3'].sort());
});

t.test('VRF forwarding removes addresses with IOS\'s message; removing the VRF clears its interfaces', async (t) => {
  const { text, config } = await run([
    'configure terminal', 'ip vrf blue', 'interface FastEthernet0/1', 'ip address 10.1.1.1 255.255.255.0',
    'ip vrf forwarding blue', 'ip address 10.1.1.1 255.255.255.0', 'no ip vrf forwarding', 'ip vrf forwarding blue',
    'ip address 10.1.1.1 255.255.255.0', 'exit', 'no ip vrf blue',
  ]);
  t.match(text, /% Interface FastEthernet0\/1 IPv4 disabled and address\(es\) removed due to enabling VRF blue/);
  t.match(text, /% Interface FastEthernet0\/1 IPv4 disabled and address\(es\) removed due to disabling VRF blue/);
  t.match(text, /% IP addresses from all interfaces in VRF blue have been removed/);
  const i = config.interfaces.items['FastEthernet0/1']!;
  t.equal(i.vrf, undefined);
  t.equal(i.ipAddress, undefined);
});

t.test('default interface resets it; default of a sub-command runs its no form', async (t) => {
  const { text, config } = await run(['configure terminal', 'interface FastEthernet0/0', 'ip address 192.0.2.2 255.255.255.0', 'description x', 'shutdown',
    'default shutdown', 'default description', 'exit', 'interface Virtual-Template2 type tunnel', 'tunnel mode ipsec ipv4', 'exit',
    'default interface Virtual-Template2', 'default interface FastEthernet0/0']);
  t.match(text, /Interface FastEthernet0\/0 set to default configuration/);
  t.same(config.interfaces.items['FastEthernet0/0'], { name: 'FastEthernet0/0', shutdown: false, revision: config.interfaces.items['FastEthernet0/0']!.revision });
  t.same(config.interfaces.items['Virtual-Template2']!.templateType, 'tunnel');
  t.equal(config.interfaces.items['Virtual-Template2']!.tunnel, undefined);
});

t.test('show running-config interface', async (t) => {
  const { text } = await run(['configure terminal', 'interface Virtual-Template1 type tunnel', 'ip unnumbered FastEthernet0/0', 'tunnel mode ipsec ipv4', 'end',
    'show running-config interface virtual-template 1', 'show running-config interface Tunnel7']);
  t.match(text, /Router#show running-config interface virtual-template 1\nBuilding configuration\.\.\.\n\nCurrent configuration : 101 bytes\n!\ninterface Virtual-Template1 type tunnel\n ip unnumbered FastEthernet0\/0\n tunnel mode ipsec ipv4\nend\n/);
  t.match(text, /Router#show running-config interface Tunnel7\n {37}\^\n% Invalid input detected/);
});

t.test('crypto map on interfaces: the crypto engineer reads it from the model', async (t) => {
  const { config } = await run(['configure terminal', 'interface FastEthernet0/0', 'crypto map vpn', 'interface Serial2/0', 'crypto map vpn', 'interface FastEthernet0/1', 'crypto map other', 'no crypto map']);
  t.same(interfacesUsingCryptoMap(config, 'vpn'), ['FastEthernet0/0', 'Serial2/0']);
  t.same(interfacesUsingCryptoMap(config, 'other'), []);
});

t.test('link state and counters from the runtime', async (t) => {
  const status: Record<string, InterfaceRuntimeStatus> = {
    'FastEthernet0/0': { link: true, mac: '00:11:22:33:44:55', counters: { inPackets: 12n, inBytes: 3456n, outPackets: 7, outBytes: 890 } },
    'FastEthernet0/1': { link: false },
    Tunnel0: { link: true, protocol: true },
  };
  const runtime: RuntimeView = { interfaceStatus: (n: string) => status[n] };
  const { text } = await run([
    'configure terminal', 'interface FastEthernet0/0', 'ip address 192.0.2.2 255.255.255.0', 'interface FastEthernet0/1', 'ip address 10.1.1.1 255.255.255.0',
    'interface Tunnel0', 'ip address 10.9.0.1 255.255.255.252', 'tunnel source FastEthernet0/0', 'tunnel destination 192.0.2.9', 'tunnel mode ipsec ipv4',
    'exit', 'ip route 10.20.0.0 255.255.0.0 Tunnel0', 'ip route 10.30.0.0 255.255.0.0 10.1.1.9', 'end',
    'show ip interface brief', 'show interfaces FastEthernet0/0', 'show ip route',
  ], { runtime });
  t.match(text, /FastEthernet0\/1 {12}10\.1\.1\.1 {8}YES manual down {18}down/);
  t.match(text, /Tunnel0 {20}10\.9\.0\.1 {8}YES manual up {20}up/);
  t.match(text, /address is 0011\.2233\.4455/);
  t.match(text, / {5}12 packets input, 3456 bytes, 0 no buffer/);
  t.match(text, / {5}7 packets output, 890 bytes, 0 underruns/);
  const table = text.slice(text.indexOf('#show ip route'));
  t.match(table, /S {8}10\.20\.0\.0\/16 is directly connected, Tunnel0/, 'static via an up tunnel is installed');
  t.notMatch(table, /10\.30\.0\.0/, 'next hop behind a down link is not');
  t.notMatch(table, /10\.1\.1\.0/, 'no connected route for a down link');
});

t.test('routing table layout (IOS 15 classful groups, L routes)', async (t) => {
  const text = formatRoutingTable([
    { code: 'C', prefix: '172.18.143.0', length: 24, distance: 0, interface: 'GigabitEthernet0/1' },
    { code: 'S', prefix: '192.168.1.1', length: 32, distance: 1, nextHop: '0.0.0.0', interface: 'Virtual-Access2' },
    { code: 'C', prefix: '10.2.1.0', length: 24, distance: 0, interface: 'GigabitEthernet0/2' },
    { code: 'L', prefix: '10.2.1.1', length: 32, distance: 0, interface: 'GigabitEthernet0/2' },
    { code: 'C', prefix: '192.168.9.0', length: 24, distance: 0, interface: 'GigabitEthernet0/3' },
    { code: 'L', prefix: '192.168.9.1', length: 32, distance: 0, interface: 'GigabitEthernet0/3' },
    { code: 'S', prefix: '10.9.0.0', length: 16, distance: 1, nextHop: '10.2.1.7' },
    { code: 'S', prefix: '10.9.0.0', length: 16, distance: 1, nextHop: '10.2.1.8' },
    { code: 'S', prefix: '0.0.0.0', length: 0, distance: 1, nextHop: '172.18.143.1' },
  ], undefined);
  const lines = text.split('\n');
  t.equal(lines[0], 'Codes: L - local, C - connected, S - static, R - RIP, M - mobile, B - BGP', 'IOS 15 legend starts with L');
  t.equal(lines[7], '       + - replicated route, % - next hop override', 'and ends with the IOS 15 codes');
  t.same(lines.slice(9), [
    'Gateway of last resort is 172.18.143.1 to network 0.0.0.0',
    '',
    '      10.0.0.0/8 is variably subnetted, 3 subnets, 3 masks',
    'C        10.2.1.0/24 is directly connected, GigabitEthernet0/2',
    'L        10.2.1.1/32 is directly connected, GigabitEthernet0/2',
    'S        10.9.0.0/16 [1/0] via 10.2.1.7',
    '                     [1/0] via 10.2.1.8',
    '      172.18.0.0/24 is subnetted, 1 subnets',
    'C        172.18.143.0 is directly connected, GigabitEthernet0/1',
    '      192.168.1.0/32 is subnetted, 1 subnets',
    'S        192.168.1.1 [1/0] via 0.0.0.0, Virtual-Access2',
    '      192.168.9.0/24 is variably subnetted, 2 subnets, 2 masks',
    'C        192.168.9.0/24 is directly connected, GigabitEthernet0/3',
    'L        192.168.9.1/32 is directly connected, GigabitEthernet0/3',
    'S*    0.0.0.0/0 [1/0] via 172.18.143.1',
  ]);
  t.match(formatRoutingTable([{ code: 'S', prefix: '0.0.0.0', length: 0, distance: 1, interface: 'Tunnel0' }], 'blue'), /^Routing Table: blue\n[\s\S]*Gateway of last resort is 0\.0\.0\.0 to network 0\.0\.0\.0\n\nS\* {4}0\.0\.0\.0\/0 is directly connected, Tunnel0$/);
});

t.test('static routes: next hops resolve through other statics, never through the default', async (t) => {
  const { text } = await run([
    'configure terminal', 'interface FastEthernet0/0', 'ip address 192.0.2.2 255.255.255.0', 'exit',
    'ip route 0.0.0.0 0.0.0.0 192.0.2.1', 'ip route 10.40.0.0 255.255.0.0 10.30.0.1', 'ip route 10.30.0.0 255.255.0.0 192.0.2.5',
    'ip route 10.50.0.0 255.255.0.0 198.51.100.1', 'ip route 10.60.0.0 255.255.0.0 198.51.100.1 permanent', 'end', 'show ip route',
  ]);
  const table = text.slice(text.indexOf('#show ip route'));
  t.match(table, /S {8}10\.40\.0\.0 \[1\/0\] via 10\.30\.0\.1/);
  t.notMatch(table, /10\.50\.0\.0/);
  t.match(table, /S {8}10\.60\.0\.0 \[1\/0\] via 198\.51\.100\.1/);
});
