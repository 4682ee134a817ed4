// Issue 15: a dynamic VTI hub (`interface Virtual-Template1 type tunnel` + `virtual-template 1`
// in the IKEv2 profile) with three spokes: two Rampart boxes (crypto maps) and strongSwan
// (root only). Every spoke's session gets its own Virtual-Access interface cloned from the
// template, with a route to the spoke's proxy (its LAN); interface and route go with the session.
//
//        hostA 10.1.0.2 - [hub] Gi0/0 172.16.0.1 -- [inet router] -- 172.16.N.1 [spokeN] - hostN 10.1N.0.2
//                                                   N = 1, 2 (Rampart), 3 (strongSwan)
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { StrongswanPeer, haveStrongswan } from '../lib/strongswan.js';
import { startBox, type Box } from '../lib/box.js';
import { buildTunnelHub } from '../lib/hub-spokes.js';
import { waitUntil } from '../lib/wait.js';
import { tunnelState } from './vti-pair.js';

const skip = !isRoot() ? 'needs root: network namespaces, TUN, raw sockets'
  : !haveStrongswan() ? 'needs strongSwan (strongswan-charon strongswan-swanctl libcharon-extra-plugins)'
    : !hasCommand('ping') ? 'needs ping' : undefined;
const PSK = 'rampart-dvti-psk';

const IKEV2 = [
  'crypto ikev2 proposal PROP1', ' encryption aes-cbc-256', ' integrity sha256', ' group 14', 'exit',
  'crypto ikev2 policy POL1', ' proposal PROP1', 'exit',
];
const ISAKMP = ['crypto isakmp policy 1', ' encr aes 256', ' hash sha', ' authentication pre-share', ' group 14', 'exit'];
/** IKEv1 here offers no GCM */
const transform = (ike: 1 | 2): string => (ike === 2 ? 'esp-gcm 256' : 'esp-aes 256 esp-sha-hmac');

function hubConfig(ike: 1 | 2): string[] {
  const keys = ike === 2
    ? [
      ...IKEV2,
      'crypto ikev2 keyring KR', ' peer SPOKES', '  address 0.0.0.0 0.0.0.0', `  pre-shared-key ${PSK}`, ' exit', 'exit',
      'crypto ikev2 profile DVTI', ' match identity remote address 172.16.0.0 255.255.0.0', ' identity local address 172.16.0.1',
      ' authentication local pre-share', ' authentication remote pre-share', ' keyring local KR', ' virtual-template 1', 'exit',
    ]
    : [
      ...ISAKMP, `crypto isakmp key ${PSK} address 0.0.0.0 0.0.0.0`,
      'crypto isakmp profile DVTI', ' match identity address 172.16.0.0 255.255.0.0', ' virtual-template 1', 'exit',
    ];
  return [
    'interface GigabitEthernet0/1', ' ip address 10.1.0.1 255.255.255.0', ' no shutdown', 'exit',
    'interface GigabitEthernet0/0', ' ip address 172.16.0.1 255.255.255.0', ' no shutdown', 'exit',
    ...keys,
    `crypto ipsec transform-set T1 ${transform(ike)}`, 'exit',
    'crypto ipsec profile VP', ' set transform-set T1', ...(ike === 2 ? [' set ikev2-profile DVTI'] : []), 'exit',
    'interface Virtual-Template1 type tunnel', ' ip unnumbered GigabitEthernet0/0', ' tunnel mode ipsec ipv4', ' tunnel protection ipsec profile VP', 'exit',
    'ip route 0.0.0.0 0.0.0.0 172.16.0.254',
  ];
}

function spokeConfig(n: number, ike: 1 | 2): string[] {
  const keys = ike === 2
    ? [
      ...IKEV2,
      'crypto ikev2 keyring KR', ' peer HUB', '  address 172.16.0.1', `  pre-shared-key ${PSK}`, ' exit', 'exit',
      'crypto ikev2 profile HUB', ' match identity remote address 172.16.0.1 255.255.255.255', ` identity local address 172.16.${n}.1`,
      ' authentication local pre-share', ' authentication remote pre-share', ' keyring local KR', 'exit',
    ]
    : [...ISAKMP, `crypto isakmp key ${PSK} address 172.16.0.1 255.255.255.255`];
  return [
    'interface GigabitEthernet0/1', ` ip address 10.1${n}.0.1 255.255.255.0`, ' no shutdown', 'exit',
    'interface GigabitEthernet0/0', ` ip address 172.16.${n}.1 255.255.255.0`, ' no shutdown', 'exit',
    ...keys,
    `crypto ipsec transform-set T1 ${transform(ike)}`, 'exit',
    `access-list 101 permit ip 10.1${n}.0.0 0.0.0.255 10.1.0.0 0.0.0.255`,
    'crypto map CM 10 ipsec-isakmp', ' set peer 172.16.0.1', ' set transform-set T1', ...(ike === 2 ? [' set ikev2-profile HUB'] : []), ' match address 101', 'exit',
    'interface GigabitEthernet0/0', ' crypto map CM', 'exit',
    `ip route 0.0.0.0 0.0.0.0 172.16.${n}.254`,
  ];
}

const versions = process.env.VTI_IKE ? [Number(process.env.VTI_IKE) as 1 | 2] : [2, 1] as const;
for (const ike of versions) {
t.test(`DVTI hub (IKEv${ike}): one Virtual-Access per spoke session, routes to its proxies, gone with the session`, { skip, timeout: 300_000 }, async (t) => {
  const lab = Lab.create(`dvti${ike}`);
  t.teardown(() => lab.destroy());
  buildTunnelHub(lab, { spokes: [{ net: '10.11.0' }, { net: '10.12.0' }, { net: '10.13.0', addressed: true }] });

  const hub = await startBox({ lab, ns: 'hub', ports: { 'GigabitEthernet0/0': 'wan0', 'GigabitEthernet0/1': 'lan0' } });
  t.teardown(() => hub.stop());
  await hub.configure(hubConfig(ike));
  const spokes: Box[] = [];
  for (const n of [1, 2]) {
    const b = await startBox({ lab, ns: `s${n}`, ports: { 'GigabitEthernet0/0': 'wan0', 'GigabitEthernet0/1': 'lan0' } });
    t.teardown(() => b.stop());
    await b.configure(spokeConfig(n, ike));
    spokes.push(b);
  }
  const swan = new StrongswanPeer(lab, 's3');
  await swan.start();
  t.teardown(() => swan.stop());
  await swan.load([{
    name: 'hub', version: ike, localAddr: '172.16.3.1', remoteAddr: '172.16.0.1', psk: PSK, encap: true,
    proposals: [ike === 2 ? 'aes256-sha256-modp2048' : 'aes256-sha1-modp2048'],
    children: [{ name: 'lan', localTs: ['10.13.0.0/24'], remoteTs: ['10.1.0.0/24'], espProposals: [ike === 2 ? 'aes256gcm16' : 'aes256-sha1'] }],
  }]);

  // each spoke's traffic brings its session up (Rampart: acquire; strongSwan: initiate)
  for (const n of [1, 2]) {
    t.ok(await waitUntil(() => ping(lab, `host${n}`, '10.1.0.2', { count: 1, timeoutSec: 1 }), 30_000, 300), `host${n} -> hostA through the hub`);
  }
  await swan.initiate('lan');
  t.ok(await ping(lab, 'host3', '10.1.0.2', { count: 2 }), 'host3 (strongSwan spoke) -> hostA');
  for (const n of [1, 2, 3]) t.ok(await ping(lab, 'hostA', `10.1${n}.0.2`, { count: 2 }), `hostA -> host${n}: the hub routes into that spoke's Virtual-Access`);

  const vt = await hub.run('show vtemplate');
  t.match(vt, /Vt1\s+3\s/, 'show vtemplate: three active Virtual-Access interfaces on Vt1');
  const names = [...vt.matchAll(/^(Virtual-Access\d+)\s+Virtual-Template1\s+(\S+)/gm)].map((m) => ({ name: m[1]!, peer: m[2]! }));
  t.equal(names.length, 3, 'one per spoke');
  t.same(new Set(names.map((x) => x.peer)), new Set(['172.16.1.1', '172.16.2.1', '172.16.3.1']), 'each its own peer');
  const routes = lab.execSync('hub', ['ip', 'route']).stdout;
  for (const n of [1, 2, 3]) {
    const va = names.find((x) => x.peer === `172.16.${n}.1`)!;
    const dev = va.name.replace('Virtual-Access', 'Vi');
    t.match(routes, new RegExp(`10\\.1${n}\\.0\\.0/24 dev ${dev}\\b`), `route to spoke ${n}'s proxy via ${va.name}`);
    t.equal(tunnelState(await hub.run(`show interfaces ${va.name}`), va.name)?.protocol, 'up', `show interfaces ${va.name}: line protocol up`);
  }
  const v1 = names.find((x) => x.peer === '172.16.1.1')!.name;
  const rc = await hub.run(`show running-config interface ${v1}`);
  t.match(rc, new RegExp(`interface ${v1}\\n ip unnumbered GigabitEthernet0/0\\n`), 'clone of the template (ip unnumbered)');
  t.match(rc, / tunnel source 172\.16\.0\.1\n tunnel destination 172\.16\.1\.1\n tunnel mode ipsec ipv4\n tunnel protection ipsec profile VP\n no tunnel protection ipsec initiate\nend/, 'as the guide prints a Virtual-Access');
  const sess = await hub.run('show crypto session');
  for (const x of names) t.match(sess, new RegExp(`Interface: ${x.name}\\n(.*\\n){0,3}.*Peer: ${x.peer.replace(/\./g, '\\.')}`), `show crypto session: ${x.name} <-> ${x.peer}`);
  t.match(await hub.run('show ip interface brief'), new RegExp(`${v1}\\s+172\\.16\\.0\\.1\\s+YES \\w+\\s+up\\s+up`), 'show ip interface brief lists it');

  // spoke 1 ends its session: its interface and route go, the others stay
  await spokes[0]!.run('clear crypto session');
  const gone = await waitUntil(async () => !(await hub.run('show vtemplate')).includes(`${v1} `), 20_000, 300);
  t.ok(gone, `${v1} removed with spoke 1's session`);
  t.notMatch(lab.execSync('hub', ['ip', 'route']).stdout, /10\.11\.0\.0\/24/, 'and its route');
  t.match(await hub.run(`show interfaces ${v1}`), /does not exist|Invalid/, `show interfaces ${v1}: no such interface any more`);
  t.match(await hub.run('show vtemplate'), /Vt1\s+2\s/, 'two sessions left');
  t.ok(await ping(lab, 'hostA', '10.12.0.2', { count: 2 }), 'spoke 2 unaffected');
  t.ok(await ping(lab, 'hostA', '10.13.0.2', { count: 2 }), 'strongSwan spoke unaffected');
  // traffic from spoke 1 brings a new session (and a new interface) up
  t.ok(await waitUntil(() => ping(lab, 'host1', '10.1.0.2', { count: 1, timeoutSec: 1 }), 30_000, 300), 'spoke 1 comes back');
  t.match(await hub.run('show vtemplate'), /Vt1\s+3\s/, 'three again');
});
}
