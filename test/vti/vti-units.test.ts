// Units of issue 15: the static VTI view of the configuration (config/vti.ts), `ip tcp
// adjust-mss` (CLI + running-config + the clamp itself, dataplane/tcp-mss.ts), and the IKEv2
// mapping of a VTI (one any/any connection that takes only its own selectors).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { ikev2FvrfProblem, staticVtis, templateProblem, virtualTemplate, vrfOwningAddress, tunnelDeviceName, tunnelIfId, vtiPolicyKey } from '../../firmware/config/vti.js';
import { VtiRuntime } from '../../firmware/daemon/vti-runtime.js';
import { renderInterface } from '../../firmware/config/interface.js';
import { networkOf, VrfTables, VRF_RULE_PRIORITY } from '../../firmware/kernel/vrf-tables.js';
import { CommandHostNetwork } from '../../firmware/kernel/host-network.js';
import { childSaToKernel, type ChildSaInstall } from '../../firmware/daemon/dataplane-service.js';
import { ANY_PORTS, anyAddr } from '../../firmware/ipsec/selector.js';
import { policySpecToXfrm } from '../../firmware/kernel/xfrm-backend.js';
import { decodeNetlinkMessages } from '../../firmware/proto/netlink-core.js';
import { encodeNewPolicy } from '../../firmware/proto/netlink-xfrm.js';
import { clampTcpMss } from '../../firmware/dataplane/tcp-mss.js';
import { mapIkev2Config } from '../../firmware/daemon/ikev2-config.js';
import { configure, errorLines, running } from '../config/crypto-helpers.js';

const BASE = [
  'interface FastEthernet0/0', ' ip address 172.16.0.1 255.255.255.0', 'exit',
  'crypto ikev2 proposal PROP1', ' encryption aes-cbc-256', ' integrity sha256', ' group 14', 'exit',
  'crypto ikev2 policy POL1', ' proposal PROP1', 'exit',
  'crypto ikev2 keyring KR1', ' peer P', '  address 172.16.0.2', '  pre-shared-key k', ' exit', 'exit',
  'crypto ikev2 profile IKEV2P', ' match identity remote address 172.16.0.2 255.255.255.255', ' authentication local pre-share',
  ' authentication remote pre-share', ' keyring local KR1', 'exit',
  'crypto ipsec transform-set T1 esp-aes 256 esp-sha-hmac', 'exit',
  'crypto ipsec profile P1', ' set transform-set T1', ' set ikev2-profile IKEV2P', 'exit',
];

t.test('the static VTI view: endpoints resolved, problems named', async (t) => {
  const { cfg, text } = await configure([
    ...BASE,
    'interface Tunnel0', ' ip address 10.0.51.1 255.255.255.0', ' tunnel source FastEthernet0/0', ' tunnel destination 172.16.0.2',
    ' tunnel mode ipsec ipv4', ' tunnel protection ipsec profile P1', ' ip mtu 1400', ' ip tcp adjust-mss 1360', 'exit',
    'interface Tunnel1', ' tunnel source 172.16.0.1', ' tunnel mode ipsec ipv4', 'exit',
    'interface Tunnel2', ' ip unnumbered FastEthernet0/0', ' tunnel source Loopback9', ' tunnel destination 1.2.3.4', ' tunnel mode ipsec ipv4', 'exit',
    'interface Tunnel3', ' tunnel source 172.16.0.1', ' tunnel destination 1.2.3.4', ' tunnel mode ipsec ipv4', ' tunnel protection ipsec profile NOPE', 'exit',
    'interface Tunnel4', ' tunnel source 172.16.0.1', ' tunnel destination 1.2.3.4', 'exit',
  ]);
  t.same(errorLines(text), []);
  const v = staticVtis(cfg);
  t.same(v.map((x) => x.name), ['Tunnel0', 'Tunnel1', 'Tunnel2', 'Tunnel3'], 'GRE tunnels are not VTIs');
  const t0 = v[0]!;
  t.equal(t0.local, '172.16.0.1', 'tunnel source FastEthernet0/0 resolved to its address');
  t.equal(t0.peer, '172.16.0.2');
  t.equal(t0.device, 'Tu0');
  t.equal(t0.policyKey, vtiPolicyKey('Tunnel0'));
  t.same(t0.addresses, ['10.0.51.1/24']);
  t.equal(t0.ipMtu, 1400);
  t.equal(t0.tcpAdjustMss, 1360);
  t.equal(t0.problem, undefined, 'complete');
  t.equal(v[1]!.problem, 'no tunnel destination');
  t.equal(v[2]!.problem, 'tunnel source Loopback9 has no IP address');
  t.same(v[2]!.addresses, ['172.16.0.1/32'], 'ip unnumbered FastEthernet0/0: its address as /32');
  t.equal(v[3]!.problem, 'IPsec profile NOPE does not exist');
  t.equal(tunnelDeviceName('Virtual-Access12'), 'Vi12');
  t.match(running(cfg).join('\n'), /interface Tunnel0\n ip address 10\.0\.51\.1 255\.255\.255\.0\n ip mtu 1400\n ip tcp adjust-mss 1360\n/, 'running-config');
  const { cfg: c2 } = await configure(['interface Tunnel0', ' no ip tcp adjust-mss', 'exit'], cfg);
  t.notMatch(running(c2).join('\n'), /adjust-mss/, 'no ip tcp adjust-mss removes it');
});

t.test('IKEv2 mapping: one any/any connection per VTI, exact selectors only, SAs tagged with the tunnel', async (t) => {
  const { cfg } = await configure([
    ...BASE,
    'interface Tunnel0', ' tunnel source FastEthernet0/0', ' tunnel destination 172.16.0.2',
    ' tunnel mode ipsec ipv4', ' tunnel protection ipsec profile P1', 'exit',
    'interface Tunnel1', ' tunnel source FastEthernet0/0', ' tunnel destination 172.16.0.9', ' shutdown',
    ' tunnel mode ipsec ipv4', ' tunnel protection ipsec profile P1', 'exit',
  ]);
  const m = mapIkev2Config(cfg);
  const conns = m.config.connections.filter((c) => c.name.startsWith('vti:'));
  t.same(conns.map((c) => c.name), ['vti:Tunnel0'], 'a shut tunnel negotiates nothing');
  const c = conns[0]!;
  t.equal(c.localAddress, '172.16.0.1');
  t.equal(c.remoteAddress, '172.16.0.2');
  t.equal(c.exactSelectors, true);
  t.same(c.localSelectors, [{ startAddress: '0.0.0.0', endAddress: '255.255.255.255' }]);
  t.same(c.remoteSelectors, c.localSelectors);
  const meta = m.meta.get('vti:Tunnel0')!;
  t.equal(meta.vti, 'Tunnel0');
  t.equal(meta.policyKey, 'vti:Tunnel0');
  t.equal(meta.mapName, 'Tunnel0-head-0');
  t.equal(meta.aceText, 'permit ip 0.0.0.0/0.0.0.0 0.0.0.0/0.0.0.0');
  t.same(m.listenAddresses, ['172.16.0.1']);
});

/** IPv4 + TCP SYN with options (MSS first, optionally after `pad` NOPs), valid checksums. */
function syn(mss: number, pad = 0, flags = 0x02): Uint8Array {
  const opts = [...Array(pad).fill(1), 2, 4, mss >> 8, mss & 0xff];
  while (opts.length % 4) opts.push(0);
  const tcpLen = 20 + opts.length;
  const p = new Uint8Array(20 + tcpLen);
  p.set([0x45, 0, 0, p.length, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 1, 0, 2, 10, 2, 0, 2]);
  const tcp = 20;
  p.set([0x30, 0x39, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, (tcpLen / 4) << 4, flags, 0xff, 0xff, 0, 0, 0, 0], tcp);
  p.set(opts, tcp + 20);
  p.set(tcpChecksum(p), tcp + 16);
  return p;
}

function tcpChecksum(p: Uint8Array): [number, number] {
  const tcp = 20;
  const len = p.length - tcp;
  let sum = 0;
  for (let i = 12; i < 20; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
  sum += 6 + len;
  for (let i = tcp; i < p.length; i += 2) {
    if (i === tcp + 16) continue;
    sum += (p[i]! << 8) | (p[i + 1] ?? 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  return [c >> 8, c & 0xff];
}

t.test('ip tcp adjust-mss: SYN MSS clamped in place, checksum still right', async (t) => {
  for (const pad of [0, 1, 2, 3]) {
    const p = syn(1460, pad);
    t.ok(clampTcpMss(p, 1360), `clamped (MSS after ${pad} NOPs)`);
    const at = 40 + pad + 2;
    t.equal((p[at]! << 8) | p[at + 1]!, 1360, 'new MSS');
    t.same([p[36], p[37]], tcpChecksum(p), 'TCP checksum valid after the incremental update');
  }
  const small = syn(1200);
  const copy = Uint8Array.from(small);
  t.notOk(clampTcpMss(small, 1360), 'a smaller MSS is left alone');
  t.same(small, copy);
  const ack = syn(1460, 0, 0x10);
  t.notOk(clampTcpMss(ack, 1360), 'only SYNs');
  t.notOk(clampTcpMss(new Uint8Array(30), 1360), 'short packet');
  const bad = syn(1460);
  bad[40 + 1] = 40; // option length past the header
  t.notOk(clampTcpMss(bad, 1360), 'malformed options are not touched');
});

t.test('kernel (XFRM) form of a tunnel\'s SA pair: if_id on SAs and policies, out policy as ip xfrm sends it', async (t) => {
  const fixtures = JSON.parse(readFileSync(new URL('../kernel/fixtures/ip-xfrm-requests.json', import.meta.url), 'utf8')) as Record<string, { cmd: string; hex: string }>;
  const golden = fixtures['policy-vti-if-id']!;
  t.match(golden.cmd, /if_id 1 /, 'captured from `ip xfrm policy add ... if_id 1` with strace');
  const key = new Uint8Array(36);
  const spec: ChildSaInstall = {
    mapName: 'Tunnel0-head-0', mapSeq: 0, policyKey: vtiPolicyKey('Tunnel0'), iface: 'Tunnel0',
    scope: { family: 4, src: anyAddr(4), dst: anyAddr(4), proto: 0, srcPorts: ANY_PORTS, dstPorts: ANY_PORTS },
    local: '172.16.0.1', peer: '172.16.0.2', transformWords: ['esp-gcm', '256'], mode: 'tunnel',
    inbound: { espSpi: 0x1001, espCipherKey: key }, outbound: { espSpi: 0x2002, espCipherKey: key },
  };
  t.equal(tunnelIfId('Tunnel0'), 1);
  t.equal(tunnelIfId('Virtual-Access3'), 0x10003);
  t.equal(tunnelIfId('FastEthernet0/0'), undefined);
  const k = childSaToKernel(spec, 1, 0);
  t.ok(k.sas.length === 2 && k.sas.every((s) => s.ifId === 1), 'both SAs carry if_id 1');
  t.ok(k.policies.every((p) => p.ifId === 1), 'out/in/fwd policies carry if_id 1');
  const out = k.policies.find((p) => p.direction === 'out')!;
  t.same(out.selector, { src: '0.0.0.0/0', dst: '0.0.0.0/0' }, 'any/any selector');
  const x = policySpecToXfrm({ ...out, replace: false });
  const seq = decodeNetlinkMessages(Uint8Array.from(Buffer.from(golden.hex, 'hex')))[0]!.header.seq;
  t.equal(Buffer.from(encodeNewPolicy({ seq }, x.info, x.attrs)).toString('hex'), golden.hex, 'byte for byte what ip xfrm sends');
  const { iface: _omit, ...mapSpec } = spec;
  void _omit;
  const cm = childSaToKernel(mapSpec, 1, 0);
  t.ok(cm.policies.every((p) => p.ifId === undefined), 'a crypto map pair has no if_id');
});

t.test('VRF tables: rules and routes per VRF, closed by unreachable, removed when no longer wanted', async (t) => {
  const ran: string[] = [];
  const vt = new VrfTables({ net: new CommandHostNetwork({}, (argv) => { ran.push(argv.join(' ')); return { code: 0, stderr: '' }; }), log: () => {} });
  t.equal(networkOf('10.1.0.1/24'), '10.1.0.0/24');
  t.equal(networkOf('172.16.0.1/32'), '172.16.0.1/32');
  const a = vt.tableOf('A');
  t.equal(vt.tableOf('B'), a + 1, 'a table per VRF');
  t.equal(vt.tableOf('A'), a, 'kept for the daemon\'s life');
  await vt.sync([{ vrf: 'A', device: 'lanA', addresses: ['10.1.0.1/24'], up: true }, { vrf: 'A', device: 'Tu1', addresses: ['10.0.1.1/30'], up: false }],
    [{ vrf: 'A', dest: '10.9.0.0/24', device: 'Tu1' }]);
  t.ok(ran.includes(`ip rule add priority ${VRF_RULE_PRIORITY} iif lanA lookup ${a}`), 'iif rule for the LAN');
  t.ok(ran.includes(`ip rule add priority ${VRF_RULE_PRIORITY} iif Tu1 lookup ${a}`), 'and for the tunnel');
  t.ok(ran.includes(`ip route replace 10.1.0.0/24 dev lanA proto kernel scope link src 10.1.0.1 table ${a}`), 'connected route in the VRF table');
  t.notOk(ran.some((l) => l.includes('10.0.1.0/30')), 'no connected route through a tunnel that is down');
  t.ok(ran.includes(`ip route replace unreachable default metric 4278198272 table ${a}`), 'the table ends in unreachable');
  t.ok(ran.includes(`ip route replace 10.9.0.0/24 dev Tu1 table ${a}`), 'ip route vrf A ... Tunnel1');
  ran.length = 0;
  await vt.sync([{ vrf: 'A', device: 'lanA', addresses: ['10.1.0.1/24'], up: true }], []);
  t.notOk(ran.some((l) => l.startsWith('ip rule add')), 'rules are not added twice');
  t.ok(ran.includes(`ip rule del priority ${VRF_RULE_PRIORITY} iif Tu1 lookup ${a}`), 'the tunnel left the VRF: its rule goes');
  t.ok(ran.includes(`ip route del 10.9.0.0/24 dev Tu1 table ${a}`), 'and the static route');
  ran.length = 0;
  await vt.close();
  t.ok(ran.includes(`ip rule del priority ${VRF_RULE_PRIORITY} iif lanA lookup ${a}`) && ran.includes(`ip route del unreachable default metric 4278198272 table ${a}`), 'close removes everything');
});

t.test('front-door VRF: the box\'s own packets from a VRF port\'s address and to its tunnel peers use the VRF\'s table', async (t) => {
  const ran: string[] = [];
  const vt = new VrfTables({ net: new CommandHostNetwork({}, (argv) => { ran.push(argv.join(' ')); return { code: 0, stderr: '' }; }), log: () => {} });
  const inet = vt.tableOf('INET');
  const wan = { vrf: 'INET', device: 'wan0', addresses: ['172.16.0.1/24'], up: true, sourcesFromVrf: true };
  await vt.sync([wan, { vrf: 'A', device: 'Vi1', addresses: ['172.16.0.1/32'], up: true }], [{ vrf: 'INET', dest: '0.0.0.0/0', via: '172.16.0.254' }], [{ vrf: 'INET', peer: '172.16.1.1' }]);
  t.ok(ran.includes(`ip rule add priority ${VRF_RULE_PRIORITY} from 172.16.0.1/32 lookup ${inet}`), 'IKE and ESP in UDP from the port\'s address: the VRF\'s table');
  t.equal(ran.filter((l) => l.includes('from 172.16.0.1/32')).length, 1, 'not for an interface borrowing the address');
  t.ok(ran.includes(`ip rule add priority ${VRF_RULE_PRIORITY} iif lo to 172.16.1.1/32 lookup ${inet}`), 'raw ESP to the peer: the VRF\'s table');
  t.ok(ran.includes(`ip route replace 0.0.0.0/0 via 172.16.0.254 table ${inet}`), 'ip route vrf INET 0.0.0.0 0.0.0.0 ...');
  ran.length = 0;
  await vt.sync([wan], [{ vrf: 'INET', dest: '0.0.0.0/0', via: '172.16.0.254' }], []);
  t.ok(ran.includes(`ip rule del priority ${VRF_RULE_PRIORITY} iif lo to 172.16.1.1/32 lookup ${inet}`), 'the session ended: the peer\'s rule goes');
  t.notOk(ran.some((l) => l.includes('from 172.16.0.1/32')), 'the port\'s rule stays');
});

t.test('front-door VRF of a tunnel: tunnel vrf; of a Virtual-Access: the VRF of the port owning the template\'s address', async (t) => {
  const { cfg } = await configure([
    'ip vrf INET', ' rd 1:1', 'exit',
    'interface FastEthernet0/1', ' ip vrf forwarding INET', ' ip address 192.0.2.1 255.255.255.0', 'exit',
    'crypto ipsec transform-set T1 esp-aes 256 esp-sha-hmac', 'exit', 'crypto ipsec profile P1', ' set transform-set T1', 'exit',
    'interface Virtual-Template1 type tunnel', ' ip unnumbered FastEthernet0/1', ' tunnel mode ipsec ipv4', ' tunnel protection ipsec profile P1', 'exit',
    'interface Tunnel5', ' tunnel source FastEthernet0/0', ' tunnel destination 172.16.0.9', ' tunnel vrf INET', ' tunnel mode ipsec ipv4', 'exit',
  ]);
  t.equal(vrfOwningAddress(cfg, '192.0.2.1'), 'INET', 'the port owns its address');
  t.equal(vrfOwningAddress(cfg, '172.16.0.1'), undefined, 'a global port');
  const vt = virtualTemplate(cfg, 1);
  t.equal(typeof vt === 'string' ? vt : vt.frontDoorVrf, 'INET', 'a template borrowing the INET port\'s address: its Virtual-Access interfaces\' peers arrive in INET');
  const tu5 = staticVtis(cfg).find((v) => v.name === 'Tunnel5')!;
  t.equal(tu5.frontDoorVrf, 'INET', 'tunnel vrf INET (the source is global)');
  t.equal(ikev2FvrfProblem({ name: 'P' }, 'INET'), 'ikev2 profile P matches fvrf global, but its peers arrive in vrf INET', 'IKEv2 profile without match fvrf: global only');
  t.equal(ikev2FvrfProblem({ name: 'P', matchFvrf: 'INET' }, 'INET'), undefined, 'match fvrf INET');
  t.equal(ikev2FvrfProblem({ name: 'P', matchFvrf: 'any' }, undefined), undefined, 'match fvrf any');
  t.equal(ikev2FvrfProblem({ name: 'P', matchFvrf: 'INET' }, undefined), 'ikev2 profile P matches fvrf INET, but its peers arrive in the global table');
  t.match(renderInterface(cfg.interfaces.items['Tunnel5']!).join('\n'), / tunnel mode ipsec ipv4\n tunnel vrf INET/, 'running-config: tunnel vrf after tunnel mode');
  const noVrf = await configure(['interface Tunnel5', ' no tunnel vrf', 'exit'], structuredClone(cfg));
  t.equal(staticVtis(noVrf.cfg).find((v) => v.name === 'Tunnel5')!.frontDoorVrf, undefined, 'no tunnel vrf');
  const bad = await configure(['interface Tunnel6', ' tunnel vrf NOPE', 'exit'], structuredClone(cfg));
  t.match(bad.text, /% VRF NOPE not configured/, 'an unknown VRF is refused');
});

t.test('teardown: which configuration changes end a tunnel\'s crypto session, and why', async (t) => {
  const vti = ['interface Tunnel0', ' tunnel source FastEthernet0/0', ' tunnel destination 172.16.0.2', ' tunnel mode ipsec ipv4', ' tunnel protection ipsec profile P1', 'exit'];
  const { cfg } = await configure([...BASE, ...vti]);
  const rt = new VtiRuntime({ sad: () => undefined, devices: () => undefined, log: () => {}, lineProtocolMessage: () => {} });
  t.same(rt.apply(cfg), [], 'a new tunnel ends nothing');
  // (configure changes the model it is given: each step starts from a copy)
  const step = async (lines: string[]) => (await configure(lines, structuredClone(cfg))).cfg;
  const reasons = (c: typeof cfg) => rt.apply(c).map((x) => `${x.name}: ${x.reason}`);
  t.same(reasons(await step(['crypto ipsec transform-set T2 esp-aes 128 esp-sha-hmac', 'exit'])), [], 'an unrelated change ends nothing');
  t.same(reasons(await step(['no crypto ipsec profile P1'])), ['Tunnel0: IPsec profile P1 does not exist']);
  t.same(reasons(cfg), [], 'a broken tunnel that comes back ends nothing');
  t.same(reasons(await step(['interface Tunnel0', ' tunnel destination 172.16.0.9', 'exit'])), ['Tunnel0: tunnel endpoints changed (172.16.0.1 -> 172.16.0.2 is now 172.16.0.1 -> 172.16.0.9)']);
  rt.apply(cfg);
  t.same(reasons(await step(['interface Tunnel0', ' shutdown', 'exit'])), ['Tunnel0: administratively down (shutdown)']);
  rt.apply(cfg);
  t.same(reasons(await step(['no interface Tunnel0'])), ['Tunnel0: interface deleted']);
  t.equal(templateProblem(cfg, 1, 'P1'), 'Virtual-Template1 does not exist');
  const { cfg: withVt } = await configure(['interface Virtual-Template1 type tunnel', ' ip unnumbered FastEthernet0/0', ' tunnel mode ipsec ipv4', ' tunnel protection ipsec profile P1', 'exit'], structuredClone(cfg));
  t.equal(templateProblem(withVt, 1, 'P1'), 'no ISAKMP or IKEv2 profile names virtual-template 1');
  const { cfg: named } = await configure(['crypto ikev2 profile IKEV2P', ' virtual-template 1', 'exit'], withVt);
  t.equal(templateProblem(named, 1, 'P1'), undefined, 'usable');
});
