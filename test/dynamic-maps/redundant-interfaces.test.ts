// Issue 16 item 4, guide "Redundant Interfaces Sharing the Same Crypto Map": one crypto map
// set on two outside interfaces with `crypto map RED local-address Loopback0`. IKE and ESP
// use the loopback's address on both interfaces (one SA database), and the tunnels (IKEv1
// and IKEv2 at once, strongSwan peer) keep passing traffic and negotiating when either
// interface loses its link.
//
//   hubHost 10.0.0.2, .130 -- Fa0/1 [hub: Loopback0 192.0.2.1] Gi0/0 172.31.1.1 ==== wa1 172.31.1.2 [rw: lo 198.51.100.1 (IKEv1), .2 (IKEv2)]
//                                                             Gi0/1 172.31.2.1 ==== wb1 172.31.2.2       LANs 10.9.1.1, 10.9.2.1
//
// Each side routes the other's loopbacks over both links (the second with a higher metric);
// a link that lost its carrier is not used (ignore_routes_with_linkdown: the hub's daemon sets
// it, the test sets it for the strongSwan side).
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { StrongswanPeer, haveStrongswan } from '../lib/strongswan.js';
import { waitUntil } from '../ikev2-interop/harness.js';
import { startRampart, waitForText } from '../ikev1-interop/lab.js';
import { ikev2PskBlock } from '../lib/ios-config.js';

const skip = !isRoot()
  ? 'needs root: network namespaces and strongSwan'
  : !haveStrongswan() ? 'needs strongSwan (strongswan-charon strongswan-swanctl libcharon-extra-plugins)'
    : !hasCommand('ip') ? 'needs iproute2' : undefined;

const PSK1 = 'redundant-v1-psk-7731';
const PSK2 = 'redundant-v2-psk-1377';
const LOOP = '192.0.2.1';
const bad = /\] %/;

function hubConfig(): string[] {
  return [
    'hostname hub',
    'interface Loopback0', ` ip address ${LOOP} 255.255.255.255`, 'exit',
    'interface FastEthernet0/1', ' ip address 10.0.0.1 255.255.255.0', ' no shutdown', 'exit',
    'crypto isakmp policy 10', ' encryption aes 256', ' hash sha', ' authentication pre-share', ' group 14', 'exit',
    `crypto isakmp key ${PSK1} address 198.51.100.1`,
    ...ikev2PskBlock({
      names: { proposal: 'P2', policy: 'POL2', keyring: 'KR2', keyringPeer: 'RW', profile: 'RW2' },
      psk: PSK2, keyringAddress: '198.51.100.2', matchRemote: '198.51.100.2 255.255.255.255', localAddress: LOOP,
    }), 'exit',
    'crypto ipsec transform-set TS1 esp-aes 256 esp-sha-hmac', 'exit',
    'crypto ipsec transform-set TS2 esp-gcm 256', 'exit',
    'ip access-list extended V1', ' permit ip 10.0.0.0 0.0.0.127 10.9.1.0 0.0.0.255', 'exit',
    'ip access-list extended V2', ' permit ip 10.0.0.128 0.0.0.127 10.9.2.0 0.0.0.255', 'exit',
    'crypto map RED 10 ipsec-isakmp', ' set peer 198.51.100.1', ' set transform-set TS1', ' match address V1', 'exit',
    'crypto map RED 20 ipsec-isakmp', ' set peer 198.51.100.2', ' set transform-set TS2', ' set ikev2-profile RW2', ' match address V2', 'exit',
    'crypto map RED local-address Loopback0',
    'interface GigabitEthernet0/0', ' ip address 172.31.1.1 255.255.255.0', ' crypto map RED', ' no shutdown', 'exit',
    'interface GigabitEthernet0/1', ' ip address 172.31.2.1 255.255.255.0', ' crypto map RED', ' no shutdown', 'exit',
    'ip route 198.51.100.0 255.255.255.0 172.31.1.2',
    'ip route 198.51.100.0 255.255.255.0 172.31.2.2 5',
  ];
}

t.test('one crypto map on two interfaces with local-address Loopback0 (IKEv1 and IKEv2)', { skip, timeout: 300_000 }, async (t) => {
  const lab = Lab.create('rdynred');
  t.teardown(() => lab.destroy());
  for (const ns of ['hub', 'hubHost', 'rw']) lab.addNamespace(ns);
  lab.addVeth({ ns: 'hubHost', ifname: 'eth0', addr: '10.0.0.2/24' }, { ns: 'hub', ifname: 'lan0' });
  lab.addAddress('hubHost', 'eth0', '10.0.0.130/24');
  lab.addRoute('hubHost', 'default', { gw: '10.0.0.1' });
  lab.addVeth({ ns: 'hub', ifname: 'wa0' }, { ns: 'rw', ifname: 'wa1', addr: '172.31.1.2/24' });
  lab.addVeth({ ns: 'hub', ifname: 'wb0' }, { ns: 'rw', ifname: 'wb1', addr: '172.31.2.2/24' });
  for (const a of ['198.51.100.1/32', '198.51.100.2/32', '10.9.1.1/32', '10.9.2.1/32']) lab.addAddress('rw', 'lo', a);
  // the peer's side; the hub sets it itself (firmware/daemon/link-failover.ts)
  lab.execSync('rw', ['sysctl', '-q', '-w', 'net.ipv4.conf.all.ignore_routes_with_linkdown=1']);
  lab.execSync('rw', ['ip', 'route', 'add', `${LOOP}/32`, 'via', '172.31.1.1', 'metric', '10']);
  lab.execSync('rw', ['ip', 'route', 'add', `${LOOP}/32`, 'via', '172.31.2.1', 'metric', '20']);

  const hub = await startRampart(lab, 'hub', { 'GigabitEthernet0/0': 'wa0', 'GigabitEthernet0/1': 'wb0', 'FastEthernet0/1': 'lan0' });
  t.teardown(() => hub.con.close());
  t.notMatch(await hub.configure(hubConfig()), bad, 'the hub takes the configuration');
  t.match(lab.execSync('hub', ['ip', '-4', 'addr', 'show', 'dev', 'lo']).stdout, new RegExp(`inet ${LOOP.replace(/\./g, '\\.')}/32`), 'Loopback0\'s address is on the box');
  t.match(await hub.exec('show running-config | include local-address'), /^crypto map RED local-address Loopback0$/m, 'running-config');
  t.equal(lab.execSync('hub', ['sysctl', '-n', 'net.ipv4.conf.all.ignore_routes_with_linkdown']).stdout.trim(), '1', 'the hub withdraws routes over a link without carrier');

  const swan = new StrongswanPeer(lab, 'rw');
  await swan.start();
  t.teardown(() => swan.stop());
  await swan.load([
    {
      name: 'v1', version: 1, localAddr: '198.51.100.1', remoteAddr: LOOP, remoteId: LOOP, proposals: ['aes256-sha1-modp2048'], psk: PSK1, encap: true,
      children: [{ name: 'lan1', localTs: ['10.9.1.0/24'], remoteTs: ['10.0.0.0/25'], espProposals: ['aes256-sha1'] }],
    },
    {
      name: 'v2', version: 2, localAddr: '198.51.100.2', remoteAddr: LOOP, remoteId: LOOP, proposals: ['aes256-sha256-modp2048'], psk: PSK2, encap: true,
      children: [{ name: 'lan2', localTs: ['10.9.2.0/24'], remoteTs: ['10.0.0.128/25'], espProposals: ['aes256gcm16'] }],
    },
  ]);
  await hub.exec('debug crypto isakmp');

  const ping = async (src: string, dst: string): Promise<boolean> =>
    (await lab.exec('rw', ['ping', '-n', '-q', '-c', '2', '-i', '0.2', '-W', '2', '-I', src, dst], { timeoutMs: 20_000 })).code === 0;
  const bothPass = (): Promise<boolean> => waitUntil(async () => await ping('10.9.1.1', '10.0.0.2') && await ping('10.9.2.1', '10.0.0.130'), 30_000, 300);
  const txPackets = (dev: string): number => {
    const j = JSON.parse(lab.execSync('hub', ['ip', '-s', '-j', 'link', 'show', 'dev', dev]).stdout) as { stats64: { tx: { packets: number } } }[];
    return j[0]!.stats64.tx.packets;
  };
  const carried = async (dev: string): Promise<boolean> => {
    const before = txPackets(dev);
    const ok = await bothPass();
    return ok && txPackets(dev) - before >= 4;
  };

  const up = await Promise.allSettled([swan.initiate('lan1', 40_000), swan.initiate('lan2', 40_000)]);
  up.forEach((r, i) => t.equal(r.status, 'fulfilled', `${i === 0 ? 'IKEv1' : 'IKEv2'} tunnel to the loopback address up${r.status === 'rejected' ? `: ${String(r.reason).slice(0, 1500)}` : ''}`));
  t.ok(await carried('wa0'), 'both flows pass, through Gi0/0 (the preferred path)');
  t.match(await hub.exec('show crypto isakmp sa'), /192\.0\.2\.1\s+198\.51\.100\.1\s+QM_IDLE/, 'show crypto isakmp sa: the ISAKMP SA is on the loopback address');
  t.match(await hub.exec('show crypto ikev2 sa'), /192\.0\.2\.1\/4500\s+198\.51\.100\.2\/4500/, 'show crypto ikev2 sa: the IKEv2 SA is on the loopback address');
  const sa = await hub.exec('show crypto ipsec sa');
  t.match(sa, /interface: GigabitEthernet0\/0\s+Crypto map tag: RED, local addr 192\.0\.2\.1/, 'show crypto ipsec sa: Gi0/0 with the loopback as local address');
  t.match(sa, /interface: GigabitEthernet0\/1\s+Crypto map tag: RED, local addr 192\.0\.2\.1/, 'and Gi0/1 with the same');
  t.notMatch(sa, /local crypto endpt\.: 172\.31\./, 'no SA uses an interface address as its endpoint');

  // Gi0/0 loses its link: the same SAs continue through Gi0/1
  lab.execSync('rw', ['ip', 'link', 'set', 'wa1', 'down']);
  t.ok(await carried('wb0'), 'Gi0/0 down: both flows pass through Gi0/1 on the same SAs');
  // IKE survives too: the hub negotiates everything again from its loopback over Gi0/1
  await hub.exec('clear crypto session');
  await waitForText(() => hub.exec('show crypto session'), /^(?![\s\S]*UP-ACTIVE)/, 10_000);
  const hubPing = async (src: string, dst: string): Promise<boolean> =>
    (await lab.exec('hubHost', ['ping', '-n', '-q', '-c', '2', '-i', '0.2', '-W', '2', '-I', src, dst], { timeoutMs: 20_000 })).code === 0;
  t.ok(await waitUntil(async () => await hubPing('10.0.0.2', '10.9.1.1') && await hubPing('10.0.0.130', '10.9.2.1'), 40_000, 500),
    'after clear crypto session the hub initiates IKEv1 and IKEv2 again, over Gi0/1');
  t.match(await hub.exec('show crypto isakmp sa'), /198\.51\.100\.1\s+192\.0\.2\.1\s+QM_IDLE/, 'the new ISAKMP SA (hub initiated) is on the loopback address');

  // Gi0/0 back, Gi0/1 loses its link: through Gi0/0 again
  lab.execSync('rw', ['ip', 'link', 'set', 'wa1', 'up']);
  // (the peer's own link went administratively down, which took its route; the hub only lost carrier)
  lab.execSync('rw', ['ip', 'route', 'replace', `${LOOP}/32`, 'via', '172.31.1.1', 'metric', '10']);
  lab.execSync('rw', ['ip', 'link', 'set', 'wb1', 'down']);
  t.ok(await carried('wa0'), 'Gi0/1 down: both flows pass through Gi0/0');
  await swan.rekey('lan2');
  await swan.rekey('lan1');
  t.ok(await bothPass(), 'rekeyed by the peer over Gi0/0: both flows pass');
  t.ok(hub.proc.running, 'the hub daemon is still running');
});
