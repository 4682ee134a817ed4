// A Rampart hub with one dynamic crypto map (configured only through its CLI) and three
// strongSwan road warriors it knows nothing about (test/lib/hub-spokes.ts): IKEv1 main mode
// with an address identity, IKEv1 aggressive mode with FQDN identities, IKEv2. All three up
// at once, pings LAN to LAN both ways, temporary crypto map entries and reverse-route routes
// (show ip route and the hub's Linux table), then `clear crypto sa` takes SAs, entries and
// routes away; a peer's own delete and `clear crypto session` too. A peer offering selectors
// wider than the template is refused (INVALID-ID-INFO / TS_UNACCEPTABLE, with the reason).
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { StrongswanPeer, haveStrongswan, type SwanConnection } from '../lib/strongswan.js';
import { ping } from '../lib/site-to-site.js';
import { buildHubSpokes, type Spoke } from '../lib/hub-spokes.js';
import { startRampart, waitForText, sleep, type RampartGw } from '../ikev1-interop/lab.js';

const skip = !isRoot()
  ? 'needs root: network namespaces and strongSwan'
  : !haveStrongswan() ? 'needs strongSwan (strongswan-charon strongswan-swanctl libcharon-extra-plugins)'
    : !hasCommand('ip') ? 'needs iproute2' : undefined;

const PSK_V1 = 'dyn-main-psk-0815';
const PSK_AGG = 'dyn-aggr-psk-4711';
const PSK_V2 = 'dyn-ikev2-psk-2323';
const AGG_FQDN = 'rw2.example.net';

/** The hub: one dynamic map, entry 10 for IKEv1 peers, entry 20 (IKEv2 profile) for IKEv2 peers. */
export function hubConfig(extra: string[] = []): string[] {
  return [
    'hostname hub',
    'interface FastEthernet0/1', ' ip address 10.0.0.1 255.255.255.0', ' no shutdown', 'exit',
    'crypto isakmp policy 10', ' encryption aes 256', ' hash sha', ' authentication pre-share', ' group 14', 'exit',
    `crypto isakmp key ${PSK_V1} address 0.0.0.0 0.0.0.0`,
    `crypto isakmp key ${PSK_AGG} hostname ${AGG_FQDN}`,
    'crypto ikev2 proposal P2', ' encryption aes-cbc-256', ' integrity sha256', ' group 14', 'exit',
    'crypto ikev2 policy POL2', ' proposal P2', 'exit',
    'crypto ikev2 keyring KR2', ' peer ANY', '  address 0.0.0.0 0.0.0.0', `  pre-shared-key ${PSK_V2}`, ' exit', 'exit',
    'crypto ikev2 profile RW2', ' match identity remote address 0.0.0.0', ' identity local address 172.16.0.1',
    ' authentication local pre-share', ' authentication remote pre-share', ' keyring local KR2', 'exit',
    'crypto ipsec transform-set TS1 esp-aes 256 esp-sha-hmac', 'exit',
    'crypto ipsec transform-set TS2 esp-gcm 256', 'exit',
    'ip access-list extended RW', ' permit ip 10.0.0.0 0.0.0.255 10.9.0.0 0.0.255.255', 'exit',
    'crypto dynamic-map DYN 10', ' set transform-set TS1', ' match address RW', ' reverse-route', 'exit',
    'crypto dynamic-map DYN 20', ' set transform-set TS2', ' set ikev2-profile RW2', ' match address RW', ' reverse-route', 'exit',
    ...extra,
    'crypto map HUB 65535 ipsec-isakmp dynamic DYN',
    'interface FastEthernet0/0', ' ip address 172.16.0.1 255.255.255.0', ' crypto map HUB', ' no shutdown', 'exit',
    'ip route 0.0.0.0 0.0.0.0 172.16.0.254',
  ];
}

export type RwKind = 'v1-main' | 'v1-aggressive' | 'v2';

/** The strongSwan side of one road warrior (LAN 10.9.N.0/24 <-> hub LAN). */
export function rwConnection(s: Spoke, kind: RwKind, opts: { localTs?: string; name?: string } = {}): SwanConnection {
  const child = { name: opts.name ?? 'lan', localTs: [opts.localTs ?? s.lan], remoteTs: ['10.0.0.0/24'], espProposals: [kind === 'v2' ? 'aes256gcm16' : 'aes256-sha1'] };
  const base = { name: 'hub', localAddr: s.wan, remoteAddr: '172.16.0.1', remoteId: '172.16.0.1', encap: true, children: [child] };
  if (kind === 'v2') return { ...base, version: 2, proposals: ['aes256-sha256-modp2048'], psk: PSK_V2 };
  if (kind === 'v1-aggressive') return { ...base, version: 1, aggressive: true, localId: `fqdn:${AGG_FQDN}`, proposals: ['aes256-sha1-modp2048'], psk: PSK_AGG };
  return { ...base, version: 1, proposals: ['aes256-sha1-modp2048'], psk: PSK_V1 };
}

export async function startRoadWarrior(lab: Lab, s: Spoke, kind: RwKind): Promise<StrongswanPeer> {
  const swan = new StrongswanPeer(lab, s.gw, kind === 'v1-aggressive' ? { extraCharon: '    i_dont_care_about_security_and_use_aggressive_mode_psk = yes' } : {});
  await swan.start();
  await swan.load([rwConnection(s, kind)]);
  return swan;
}

export async function startHub(lab: Lab, extra: string[] = []): Promise<RampartGw> {
  const hub = await startRampart(lab, 'hub', { 'FastEthernet0/0': 'wan0', 'FastEthernet0/1': 'lan0' });
  const out = await hub.configure(hubConfig(extra));
  if (/\[.*\] %/.test(out)) throw new Error(`hub configuration refused: ${out}`);
  await sleep(800);
  return hub;
}

const KINDS: RwKind[] = ['v1-main', 'v1-aggressive', 'v2'];

t.test('dynamic crypto map hub with three strongSwan road warriors (IKEv1 main, IKEv1 aggressive FQDN, IKEv2)', { skip, timeout: 240_000 }, async (t) => {
  const lab = Lab.create('rdynrw');
  t.teardown(() => lab.destroy());
  const topo = buildHubSpokes(lab, 3);
  const hub = await startHub(lab);
  t.teardown(() => hub.con.close());
  const swans = await Promise.all(topo.spokes.map((s, i) => startRoadWarrior(lab, s, KINDS[i]!)));
  t.teardown(() => Promise.all(swans.map((s) => s.stop())));
  await hub.exec('debug crypto isakmp');

  // all three initiate at once; the hub has no entry naming any of them
  const results = await Promise.allSettled(swans.map((s) => s.initiate('lan', 40_000)));
  results.forEach((r, i) => t.equal(r.status, 'fulfilled', `${KINDS[i]} road warrior brought its tunnel up${r.status === 'rejected' ? `: ${String(r.reason).slice(0, 1500)}` : ''}`));
  for (const [i, s] of topo.spokes.entries()) {
    const ok = await ping(lab, s.host, topo.addr.hubHostAddr, { count: 3, timeoutSec: 2 }) || await ping(lab, s.host, topo.addr.hubHostAddr, { count: 3, timeoutSec: 2 });
    t.ok(ok, `ping ${s.hostAddr} (${KINDS[i]}) -> hub LAN ${topo.addr.hubHostAddr}`);
    t.ok(await ping(lab, topo.hubHost, s.hostAddr, { count: 2 }), `ping hub LAN -> ${s.hostAddr}`);
  }
  const map = await hub.exec('show crypto map');
  t.match(map, /Crypto Map "HUB" 65535 ipsec-isakmp\s+Dynamic map template tag: DYN/, 'the dynamic reference');
  for (const seq of [65536, 65537, 65538]) t.match(map, new RegExp(`Crypto Map "HUB" ${seq} ipsec-isakmp`), `temporary entry ${seq}`);
  for (const s of topo.spokes) {
    t.match(map, new RegExp(`Peer = ${s.wan.replace(/\./g, '\\.')}\\s+Extended IP access list\\s+access-list  permit ip 10\\.0\\.0\\.0 0\\.0\\.0\\.255 ${s.lan.split('/')[0]!.replace(/\./g, '\\.')} 0\\.0\\.0\\.255`), `temporary entry for ${s.wan} with the negotiated flow`);
  }
  t.match(map, /dynamic \(created from dynamic map DYN\/10\)/, 'IKEv1 peers came from DYN/10');
  t.match(map, /dynamic \(created from dynamic map DYN\/20\)/, 'the IKEv2 peer came from DYN/20');
  t.match(await hub.exec('show crypto dynamic-map tag DYN'), /Crypto Map Template"DYN" 10[\s\S]*Crypto Map Template"DYN" 20/, 'show crypto dynamic-map tag DYN');
  const sess = await hub.exec('show crypto session');
  for (const s of topo.spokes) t.match(sess, new RegExp(`Peer: ${s.wan.replace(/\./g, '\\.')} port \\d+`), `show crypto session lists ${s.wan}`);
  const isa = await hub.exec('show crypto isakmp sa');
  t.match(isa, /172\.16\.0\.1\s+172\.18\.1\.2\s+QM_IDLE/, 'show crypto isakmp sa: the main mode road warrior');
  t.match(isa, /172\.16\.0\.1\s+172\.18\.2\.2\s+QM_IDLE/, 'show crypto isakmp sa: the aggressive mode road warrior');
  t.match(await hub.exec('show crypto ikev2 sa'), /172\.18\.3\.2/, 'show crypto ikev2 sa: the IKEv2 road warrior');
  // reverse route injection: show ip route and the hub's Linux routing table
  const rt = await hub.exec('show ip route');
  for (const s of topo.spokes) t.match(rt, new RegExp(`S\\s+${s.lan.split('/')[0]!.replace(/\./g, '\\.')} \\[1/0\\] via ${s.wan.replace(/\./g, '\\.')}`), `show ip route: RRI route to ${s.lan} via ${s.wan}`);
  const linux = lab.execSync('hub', ['ip', 'route', 'show', 'proto', '186']).stdout;
  for (const s of topo.spokes) t.match(linux, new RegExp(`${s.lan.replace(/[./]/g, (c) => `\\${c}`)} via 172\\.16\\.0\\.254`), `Linux table of the hub: ${s.lan} (via the hub's gateway toward ${s.wan})`);

  // clear crypto sa: SAs, temporary entries and routes go
  await hub.exec('clear crypto sa');
  const after = await waitForText(() => hub.exec('show crypto map'), /^(?![\s\S]*65536)/, 8000);
  t.notMatch(after, /65536|created from dynamic map/, 'no temporary entry after clear crypto sa');
  t.notMatch(await hub.exec('show ip route'), /10\.9\.\d\.0 \[1\/0\]/, 'RRI routes gone from show ip route');
  t.equal(lab.execSync('hub', ['ip', 'route', 'show', 'proto', '186']).stdout.trim(), '', 'RRI routes gone from the Linux table');
  t.match(await hub.exec('show crypto ipsec sa'), /^(?![\s\S]*current outbound spi: 0x[1-9A-F])/i, 'no IPsec SA left');

  // the IKEv1 peers still hold their ISAKMP SAs; re-initiate one, then let the peer delete it
  await swans[0]!.initiate('lan', 30_000);
  t.ok(await ping(lab, topo.spokes[0]!.host, topo.addr.hubHostAddr, { count: 3 }), 'road warrior 1 back up');
  t.match(await hub.exec('show crypto map'), /Crypto Map "HUB" 65536/, 'temporary entry again');
  await swans[0]!.terminate('hub');
  const afterDel = await waitForText(() => hub.exec('show crypto map'), /^(?![\s\S]*65536)/, 8000);
  t.notMatch(afterDel, /65536/, 'the temporary entry went with the peer\'s DELETE');
  t.equal(lab.execSync('hub', ['ip', 'route', 'show', 'proto', '186']).stdout.trim(), '', 'and its route');

  // clear crypto session
  await Promise.all([swans[1]!.initiate('lan', 30_000), swans[2]!.initiate('lan', 30_000)]);
  t.match(await hub.exec('show crypto map'), /65537/, 'two temporary entries');
  await hub.exec('clear crypto session');
  const afterSess = await waitForText(() => hub.exec('show crypto map'), /^(?![\s\S]*created from)/, 8000);
  t.notMatch(afterSess, /created from dynamic map/, 'no temporary entry after clear crypto session');
  t.notMatch(await hub.exec('show crypto isakmp sa'), /QM_IDLE/, 'no ISAKMP SA after clear crypto session');
  t.notMatch(hub.proc.output, new RegExp(`${PSK_V1}|${PSK_AGG}|${PSK_V2}`), 'no PSK in the daemon output');
});

t.test('a road warrior offering more than the template allows is refused, with the reason', { skip, timeout: 180_000 }, async (t) => {
  const lab = Lab.create('rdynrf');
  t.teardown(() => lab.destroy());
  const topo = buildHubSpokes(lab, 2, { spokeHosts: false });
  const hub = await startHub(lab);
  t.teardown(() => hub.con.close());
  await hub.exec('debug crypto isakmp');
  await hub.exec('debug crypto ikev2');
  // IKEv1: proxies 10.0.0.0/8 <-> hub LAN, wider than ACL RW allows (10.9.0.0/16)
  const v1 = new StrongswanPeer(lab, 'rw1');
  await v1.start();
  t.teardown(() => v1.stop());
  await v1.load([rwConnection(topo.spokes[0]!, 'v1-main', { localTs: '10.0.0.0/8' })]);
  const r1 = await v1.initiate('lan', 20_000).then(() => 'up', (e: Error) => e.message);
  t.not(r1, 'up', 'IKEv1 quick mode refused');
  t.match(v1.log(), /INVALID_ID_INFORMATION/, 'strongSwan received INVALID-ID-INFORMATION');
  t.match(hub.con.transcript, /IPSec policy invalidated proposal with error 18: no crypto map entry accepts the offer: HUB 65535 dynamic 10: proxies not inside a permit of access list RW/,
    'debug crypto isakmp names the refused dynamic entry and why');
  t.notMatch(await hub.exec('show crypto map'), /65536/, 'no temporary entry for the refused peer');
  // IKEv2: same wider selector
  const v2 = new StrongswanPeer(lab, 'rw2');
  await v2.start();
  t.teardown(() => v2.stop());
  await v2.load([rwConnection(topo.spokes[1]!, 'v2', { localTs: '10.0.0.0/8' })]);
  const r2 = await v2.initiate('lan', 20_000).then(() => 'up', (e: Error) => e.message);
  t.not(r2, 'up', 'IKEv2 child refused');
  t.match(v2.log(), /TS_UNACCEPTABLE/, 'strongSwan received TS_UNACCEPTABLE');
  const diag = await hub.exec('show crypto ikev2 diagnose');
  t.match(diag, /TS_UNACCEPTABLE[\s\S]*wider than the dynamic map template allows/, 'the IKEv2 failure diagnosis says why');
  t.notMatch(await hub.exec('show crypto map'), /65536/, 'no temporary entry');
});
