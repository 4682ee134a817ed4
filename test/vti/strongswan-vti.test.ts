// Issue 15: a Rampart static VTI against strongSwan as a route-based peer (root only).
// Site-to-site topology (test/lib/site-to-site.ts): hostA - gwA (Rampart, Tunnel0) - gwB
// (strongSwan, kernel-libipsec) - hostB. strongSwan's child has 0.0.0.0/0 <-> 0.0.0.0/0
// selectors and installs no routes (`install_routes = no`): routing decides on both sides
// (gwA `ip route 10.2.0.0 255.255.255.0 Tunnel0`, gwB `10.1.0.0/24 dev ipsec0`, libipsec's TUN).
//   1. strongSwan initiates, Rampart answers; 2. Rampart initiates by itself (no traffic);
//   3. strongSwan proposing narrower selectors to the static VTI is refused, and says why.
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { buildSiteToSite, ping } from '../lib/site-to-site.js';
import { StrongswanPeer, haveStrongswan, type SwanConnection } from '../lib/strongswan.js';
import { startRampart, waitUntil, type RampartBox } from '../ikev2-interop/harness.js';
import { tunnelState } from './vti-pair.js';
import { ikev2PskBlock } from '../lib/ios-config.js';

const skip = !isRoot()
  ? 'needs root: network namespaces and strongSwan'
  : !haveStrongswan() ? 'needs strongSwan (strongswan-charon strongswan-swanctl libcharon-extra-plugins)'
    : !hasCommand('ip') || !hasCommand('ping') ? 'needs iproute2 and ping' : undefined;

const PSK = 'rampart-vti-swan-psk';

const ikev2Lines = [
  ...ikev2PskBlock({
    names: { proposal: 'PROP1', policy: 'POL1', keyring: 'KR1', keyringPeer: 'SWAN', profile: 'IKEV2P' },
    psk: PSK, keyringAddress: '172.16.0.2', matchRemote: '172.16.0.2 255.255.255.255', localAddress: '172.16.0.1',
  }), 'exit',
  'crypto ipsec transform-set T1 esp-gcm 256', 'exit',
  'crypto ipsec profile P1', ' set transform-set T1', ' set ikev2-profile IKEV2P', 'exit',
];

function rampartVti(ike: 1 | 2 = 2): string[] {
  const ikeLines = ike === 1
    ? [
      'crypto isakmp policy 1', ' encr aes 256', ' hash sha256', ' authentication pre-share', ' group 14', 'exit',
      `crypto isakmp key ${PSK} address 172.16.0.2`,
      'crypto ipsec transform-set T1 esp-aes 256 esp-sha256-hmac', 'exit',
      'crypto ipsec profile P1', ' set transform-set T1', 'exit',
    ]
    : ikev2Lines;
  return [
    'interface FastEthernet0/1', ' ip address 10.1.0.1 255.255.255.0', ' no shutdown', 'exit',
    'interface FastEthernet0/0', ' ip address 172.16.0.1 255.255.255.0', ' no shutdown', 'exit',
    ...ikeLines,
    'interface Tunnel0', ' ip address 10.0.51.1 255.255.255.0', ' tunnel source FastEthernet0/0', ' tunnel destination 172.16.0.2',
    ' tunnel mode ipsec ipv4', ' tunnel protection ipsec profile P1', 'exit',
    'ip route 10.2.0.0 255.255.255.0 Tunnel0',
  ];
}


function swanConn(o: { start: boolean; localTs?: string; remoteTs?: string; version?: 1 | 2 }): SwanConnection {
  const version = o.version ?? 2;
  return {
    name: 'vti', version, localAddr: '172.16.0.2', remoteAddr: '172.16.0.1',
    proposals: ['aes256-sha256-modp2048'], psk: PSK, encap: true,
    children: [{
      name: 'any', localTs: [o.localTs ?? '0.0.0.0/0'], remoteTs: [o.remoteTs ?? '0.0.0.0/0'], espProposals: [version === 1 ? 'aes256-sha256' : 'aes256gcm16'],
      startAction: o.start ? 'start' : 'none',
    }],
  };
}

interface Setup { lab: Lab; swan: StrongswanPeer; box: RampartBox }

async function setup(t: { teardown(fn: () => unknown): void }, prefix: string): Promise<Setup> {
  const lab = Lab.create(prefix);
  t.teardown(() => lab.destroy());
  buildSiteToSite(lab);
  // the gateways' addresses come from the topology; Rampart reprograms its own from the CLI
  const swan = new StrongswanPeer(lab, 'gwB', { extraCharon: '    install_routes = no' });
  await swan.start();
  t.teardown(() => swan.stop());
  const box = await startRampart(lab, 'gwA', { 'FastEthernet0/0': 'wan0', 'FastEthernet0/1': 'lan0' });
  t.teardown(() => box.stop());
  return { lab, swan, box };
}

async function lineUp(box: RampartBox): Promise<boolean> {
  return tunnelState(await box.run('show interfaces Tunnel0'))?.protocol === 'up';
}

/**
 * gwB's routing: the LAN behind Rampart through libipsec's TUN. kernel-libipsec puts a
 * default route via ipsec0 into table 220 (looked up before main) whatever `install_routes`
 * says; for a route-based setup the main table must decide first, or the tunnel's own ESP
 * and the decrypted packets would go back into ipsec0.
 */
function routeViaIpsec0(lab: Lab): void {
  lab.execSync('gwB', ['ip', 'rule', 'add', 'priority', '100', 'lookup', 'main', 'suppress_prefixlength', '0'], { allowFail: true });
  lab.execSync('gwB', ['ip', 'route', 'replace', '10.1.0.0/24', 'dev', 'ipsec0']);
}

t.test('strongSwan initiates to a Rampart static VTI (0.0.0.0/0 selectors)', { skip, timeout: 300_000 }, async (t) => {
  const s = await setup(t, 'vtisw1');
  await s.swan.load([swanConn({ start: false })]);
  await s.box.configure(rampartVti());
  // strongSwan starts at once, before Rampart's own bring-up timer fires
  routeViaIpsec0(s.lab);
  await s.swan.initiate('any');
  t.ok(await waitUntil(() => lineUp(s.box), 20_000, 300), 'Tunnel0 line protocol up');
  const sas = await s.swan.listSas();
  t.match(sas, /_i\*/, 'strongSwan is the initiator of the IKE SA');
  t.match(sas, /0\.0\.0\.0\/0 *\n?.*0\.0\.0\.0\/0|local +0\.0\.0\.0\/0/, 'strongSwan child with 0.0.0.0/0 selectors');
  t.match(await s.box.run('show crypto ikev2 sa detail'), /Responder of SA/, 'Rampart answered');
  t.ok(await ping(s.lab, 'hostA', '10.2.0.2', { count: 3 }), 'hostA -> hostB through the VTI');
  t.ok(await ping(s.lab, 'hostB', '10.1.0.2', { count: 3 }), 'hostB -> hostA through the VTI');
  if (process.env.VTI_DEBUG) {
    t.comment(await s.swan.listSas());
    t.comment(await s.box.run('show crypto ipsec sa', 'show interfaces Tunnel0', 'show crypto engine configuration'));
    t.comment(s.lab.execSync('gwB', ['ip', 'rule']).stdout + s.lab.execSync('gwB', ['ip', 'route', 'show', 'table', 'all']).stdout + s.lab.execSync('gwB', ['ip', '-s', 'link']).stdout);
    t.comment(s.swan.log().split('\n').slice(-30).join('\n'));
  }
});

t.test('Rampart brings its static VTI up to strongSwan by itself', { skip, timeout: 300_000 }, async (t) => {
  const s = await setup(t, 'vtisw2');
  await s.swan.load([swanConn({ start: false })]);
  routeViaIpsec0(s.lab);
  await s.box.configure(rampartVti());
  const up2 = await waitUntil(() => lineUp(s.box), 30_000, 500);
  t.ok(up2, 'Tunnel0 line protocol up without traffic');
  if (!up2 || process.env.VTI_DEBUG) t.comment(`charon: ${s.swan.log().split('\n').slice(-40).join('\n')}\nrampart: ${s.box.proc.output.slice(-3000)}`);
  const sas = await s.swan.listSas();
  t.match(sas, /_r\*/, 'strongSwan is the responder');
  t.match(await s.box.run('show crypto ikev2 sa detail'), /Initiator of SA/, 'Rampart initiated');
  t.ok(await ping(s.lab, 'hostB', '10.1.0.2', { count: 3 }), 'hostB -> hostA through the VTI');
  t.ok(await ping(s.lab, 'hostA', '10.2.0.2', { count: 3 }), 'hostA -> hostB through the VTI');
  const show = await s.box.run('show interfaces Tunnel0');
  t.match(show, /Tunnel0 is up, line protocol is up/);
  t.ok(Number(/(\d+) packets output/.exec(show)?.[1]) >= 6, 'Tunnel0 counted the packets it carried');
});

t.test('a peer proposing narrower selectors than any/any to a static VTI is refused', { skip, timeout: 300_000 }, async (t) => {
  const s = await setup(t, 'vtisw3');
  await s.swan.load([swanConn({ start: false, localTs: '10.2.0.0/24', remoteTs: '10.1.0.0/24' })]);
  // strongSwan asks at once, before Rampart's own (any/any) bring-up timer fires
  await s.box.configure(rampartVti());
  await s.swan.initiate('any').then(() => t.fail('strongSwan should have been refused'), () => t.pass('strongSwan\'s narrower child was refused'));
  const diag = await s.box.run('show crypto ikev2 diagnose');
  t.match(diag, /TS_UNACCEPTABLE/, 'diagnosis recorded');
  t.match(diag, /proxy identities not supported: vti:Tunnel0 \(static VTI\) accepts only/, 'with a clear reason');
});

// IKEv1 (main mode, PSK): quick mode with IP any any proxies on both sides, each side initiating.
for (const initiator of ['strongSwan', 'Rampart'] as const) {
  t.test(`IKEv1: ${initiator} initiates a static VTI with strongSwan (0.0.0.0/0 proxies)`, { skip, timeout: 300_000 }, async (t) => {
    const s = await setup(t, initiator === 'Rampart' ? 'vtisw4' : 'vtisw5');
    await s.swan.load([swanConn({ start: false, version: 1 })]);
    routeViaIpsec0(s.lab);
    await s.box.configure(rampartVti(1));
    if (initiator === 'strongSwan') await s.swan.initiate('any');
    const up = await waitUntil(() => lineUp(s.box), 30_000, 500);
    t.ok(up, 'Tunnel0 line protocol up');
    if (!up || process.env.VTI_DEBUG) t.comment(`charon: ${s.swan.log().split('\n').slice(-40).join('\n')}\nrampart: ${s.box.proc.output.slice(-3000)}`);
    const sas = await s.swan.listSas();
    t.match(sas, /IKEv1/, 'strongSwan\'s SA is IKEv1');
    t.match(sas, initiator === 'strongSwan' ? /_i\*/ : /_r\*/, `${initiator} initiated`);
    t.match(await s.box.run('show crypto isakmp sa'), /QM_IDLE/, 'show crypto isakmp sa: QM_IDLE');
    t.match(await s.box.run('show crypto ipsec sa'), /interface: Tunnel0[\s\S]*local  ident \(addr\/mask\/prot\/port\): \(0\.0\.0\.0\/0\.0\.0\.0\/0\/0\)/, 'any/any proxies on Tunnel0');
    t.ok(await ping(s.lab, 'hostA', '10.2.0.2', { count: 3 }), 'hostA -> hostB through the VTI');
    t.ok(await ping(s.lab, 'hostB', '10.1.0.2', { count: 3 }), 'hostB -> hostA through the VTI');
  });
}
