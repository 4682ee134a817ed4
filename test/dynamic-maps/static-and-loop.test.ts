// Dynamic crypto maps next to static entries, and many road warriors coming and going:
//   1. a hub with a static entry for road warrior 1 and the dynamic map for the rest: the
//      static peer gets its static policy (its transform set, no temporary entry, its own
//      `reverse-route`), the other one a temporary entry from the template;
//   2. 100 IKEv1 road warriors (10 addresses, each with its own LAN, Rampart's engine as the
//      initiator: test/ikev1-interop/load-tool.ts) set up and DELETE in a loop against the
//      dynamic map: afterwards no temporary entry, RRI route, IPsec or ISAKMP SA is left.
import { join } from 'node:path';
import t from 'tap';
import { Lab, isRoot, hasCommand, projectRoot } from '../lib/netns.js';
import { StrongswanPeer, haveStrongswan } from '../lib/strongswan.js';
import { ping } from '../lib/site-to-site.js';
import { buildHubSpokes } from '../lib/hub-spokes.js';
import { waitForText, sleep } from '../ikev1-interop/lab.js';
import type { LoadToolConfig } from '../ikev1-interop/load-tool.js';
import { hubRriRoutes, rwConnection, startHub, startRoadWarrior } from './hub.js';

const skip = !isRoot()
  ? 'needs root: network namespaces and strongSwan'
  : !haveStrongswan() ? 'needs strongSwan (strongswan-charon strongswan-swanctl libcharon-extra-plugins)'
    : !hasCommand('ip') ? 'needs iproute2' : undefined;

t.test('static entry for one peer, dynamic map for the rest: the static peer keeps its static policy', { skip, timeout: 300_000 }, async (t) => {
  const lab = Lab.create('rdynst');
  t.teardown(() => lab.destroy());
  const topo = buildHubSpokes(lab, 2);
  const [s1, s2] = topo.spokes as [typeof topo.spokes[0], typeof topo.spokes[0]];
  const hub = await startHub(lab, [
    'crypto ipsec transform-set STATIC esp-aes esp-sha256-hmac', 'exit',
    'access-list 101 permit ip 10.0.0.0 0.0.0.255 10.9.1.0 0.0.0.255',
    'crypto map HUB 10 ipsec-isakmp', ` set peer ${s1.wan}`, ' set transform-set STATIC', ' match address 101', ' reverse-route', 'exit',
  ]);
  t.teardown(() => hub.con.close());
  // road warrior 1 offers both its static transform and the template's; 2 only the template's
  const sw1 = new StrongswanPeer(lab, s1.gw);
  await sw1.start();
  t.teardown(() => sw1.stop());
  const c1 = rwConnection(s1, 'v1-main');
  c1.children[0]!.espProposals = ['aes256-sha1', 'aes128-sha256'];
  await sw1.load([c1]);
  const sw2 = await startRoadWarrior(lab, s2, 'v1-main');
  t.teardown(() => sw2.stop());
  await Promise.all([sw1.initiate('lan', 30_000), sw2.initiate('lan', 30_000)]);
  t.ok(await ping(lab, s1.host, topo.addr.hubHostAddr, { count: 3 }), 'static peer: ping through its tunnel');
  t.ok(await ping(lab, s2.host, topo.addr.hubHostAddr, { count: 3 }), 'dynamic peer: ping through its tunnel');
  const child1 = await sw1.childSa('lan');
  t.match(child1?.algorithms ?? '', /AES_CBC-128\/HMAC_SHA2_256_128/, 'the static peer got the static entry\'s transform set (esp-aes esp-sha256-hmac)');
  const child2 = await sw2.childSa('lan');
  t.match(child2?.algorithms ?? '', /AES_CBC-256\/HMAC_SHA1_96/, 'the dynamic peer got the template\'s (esp-aes 256 esp-sha-hmac)');
  const map = await hub.exec('show crypto map');
  t.notMatch(map, new RegExp(`Peer = ${s1.wan.replace(/\./g, '\\.')}\\s+Extended IP access list \\s+access-list  permit`), 'no temporary entry for the static peer');
  t.match(map, new RegExp(`Crypto Map "HUB" 65536 ipsec-isakmp\\s+Peer = ${s2.wan.replace(/\./g, '\\.')}`), 'one temporary entry, for the dynamic peer');
  t.notMatch(map, /65537/, 'and only one');
  const ipsec = await hub.exec('show crypto ipsec sa');
  t.match(ipsec, new RegExp(`local crypto endpt\\.: 172\\.16\\.0\\.1, remote crypto endpt\\.: ${s1.wan.replace(/\./g, '\\.')}`), 'the static peer\'s SAs');
  const rt = await hub.exec('show ip route');
  t.match(rt, /10\.9\.1\.0(?:\/24)? \[1\/0\] via 172\.18\.1\.2/, 'reverse-route of the static entry');
  t.match(rt, /10\.9\.2\.0(?:\/24)? \[1\/0\] via 172\.18\.2\.2/, 'reverse-route of the template');
  await hub.exec('clear crypto session');
  t.notMatch(await waitForText(() => hub.exec('show ip route'), /^(?![\s\S]*\[1\/0\] via 172\.18)/, 8000), /\[1\/0\] via 172\.18/, 'both routes gone after clear crypto session');
});

const LOOP_SLOTS = 10;
const LOOP_SETUPS = Number(process.env.DYNAMIC_LOOP_SETUPS ?? 100);

t.test(`${LOOP_SETUPS} road warriors connect and leave: nothing left behind`, { skip, timeout: 300_000 }, async (t) => {
  const lab = Lab.create('rdynlp');
  t.teardown(() => lab.destroy());
  const topo = buildHubSpokes(lab, 1, { spokeHosts: false });
  const rw = topo.spokes[0]!;
  const locals = Array.from({ length: LOOP_SLOTS }, (_, i) => `172.18.1.${i + 2}`);
  for (const a of locals.slice(1)) lab.addAddress(rw.gw, 'wan0', `${a}/24`);
  const hub = await startHub(lab);
  t.teardown(() => hub.con.close());
  const cfg: LoadToolConfig = {
    mode: 'setup', locals, remote: '172.16.0.1', psk: 'dyn-main-psk-0815',
    policy: { priority: 10, encryption: 'aes256', hash: 'sha', authentication: 'pre-share', group: 14, lifetimeSec: 86400 },
    set: { name: 'ts', esp: { cipher: 'esp-aes', keyLenBits: 256, integrity: 'sha' }, mode: 'tunnel' },
    localSel: { addr: '10.9.0.0', prefixLen: 24, protocol: 0, port: 0 },
    localSels: locals.map((_, i) => ({ addr: `10.9.${i + 10}.0`, prefixLen: 24, protocol: 0, port: 0 })),
    remoteSel: { addr: '10.0.0.0', prefixLen: 24, protocol: 0, port: 0 },
    durationMs: 240_000, maxSetups: LOOP_SETUPS,
  };
  const p = await lab.spawnNode(rw.gw, join(projectRoot(), 'test/ikev1-interop/load-tool.ts'), [JSON.stringify(cfg)], { name: 'rw-loop' });
  // while the loop runs, the hub shows temporary entries now and then
  let sawTemp = false;
  const end = Date.now() + 250_000;
  while (p.running && Date.now() < end) {
    if (!sawTemp && /created from dynamic map DYN\/10/.test(await hub.exec('show crypto map'))) sawTemp = true;
    await sleep(200);
  }
  if (p.running) await p.stop();
  const line = p.output.split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}';
  const r = JSON.parse(line) as { done?: number; failed?: number; perSec?: number };
  t.equal(r.done, LOOP_SETUPS, `${LOOP_SETUPS} setups completed (failed ${r.failed ?? '?'}, ${r.perSec?.toFixed(1) ?? '?'}/s)`);
  t.ok(sawTemp, 'temporary entries appeared while the road warriors were up');
  const map = await waitForText(() => hub.exec('show crypto map'), /^(?![\s\S]*created from)/, 15_000);
  t.notMatch(map, /created from dynamic map/, 'no temporary entry left');
  t.equal(await hubRriRoutes(lab, (x) => x === ''), '', 'no RRI route left in Linux');
  t.notMatch(await hub.exec('show ip route'), /\[1\/0\] via 172\.18/, 'none in show ip route');
  t.notMatch(await waitForText(() => hub.exec('show crypto isakmp sa'), /^(?![\s\S]*QM_IDLE)/, 10_000), /QM_IDLE/, 'no ISAKMP SA left');
  t.notMatch(await hub.exec('show crypto ipsec sa'), /current outbound spi: 0x[1-9A-F]/i, 'no IPsec SA left');
  t.ok(hub.proc.running, 'the hub daemon is still running');
  if (process.env.DYNAMIC_LOOP_DEBUG) t.comment(hub.proc.output.slice(-6000));
});

t.test('a road warrior that dies silently: DPD takes its SAs, temporary entry and route away', { skip, timeout: 300_000 }, async (t) => {
  const lab = Lab.create('rdyndpd');
  t.teardown(() => lab.destroy());
  const topo = buildHubSpokes(lab, 1);
  const s1 = topo.spokes[0]!;
  const hub = await startHub(lab, ['crypto isakmp keepalive 10 2 periodic']);
  t.teardown(() => hub.con.close());
  const sw = await startRoadWarrior(lab, s1, 'v1-main');
  t.teardown(() => sw.stop());
  await sw.initiate('lan', 30_000);
  t.ok(await ping(lab, s1.host, topo.addr.hubHostAddr, { count: 3 }), 'road warrior up');
  t.match(await hub.exec('show crypto map'), /Crypto Map "HUB" 65536/, 'temporary entry');
  // charon dies without a DELETE
  process.kill(sw.pid!, 'SIGKILL');
  const map = await waitForText(() => hub.exec('show crypto map'), /^(?![\s\S]*65536)/, 60_000);
  t.notMatch(map, /65536/, 'the temporary entry went when DPD declared the peer dead');
  t.equal(await hubRriRoutes(lab, (x) => x === ''), '', 'its RRI route too');
  t.notMatch(await hub.exec('show crypto ipsec sa'), /current outbound spi: 0x[1-9A-F]/i, 'no IPsec SA left');
});
