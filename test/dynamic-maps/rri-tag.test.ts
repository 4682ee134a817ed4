// reverse-route tag / set reverse-route tag / set reverse-route distance: the RRI routes of
// static entries and of temporary entries (made from dynamic map templates) carry the tag
// and distance the entry configures, and `show ip route A.B.C.D` prints the tag.
import t from 'tap';
import '../../firmware/cli/commands/index.js';
import { createConfig } from '../../firmware/config/model.js';
import { resolveCryptoMapSet } from '../../firmware/config/crypto-map.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import { wantedRriRoutes, reverseRouteSpecOf, RRI_DISTANCE } from '../../firmware/daemon/reverse-route.js';
import { TemporaryEntries } from '../../firmware/daemon/temporary-entries.js';
import { makeSelector, prefixAddr } from '../../firmware/ipsec/selector.js';
import { formatRouteDetail, routeLookup, type RouteEntry } from '../../firmware/cli/commands/routing.js';
import { fakeSystem } from '../lib/fake-system.js';

const CONFIG = [
  'configure terminal',
  'crypto ipsec transform-set ts esp-aes esp-sha-hmac', 'exit',
  'access-list 120 permit ip 10.0.0.0 0.0.0.255 10.9.0.0 0.0.255.255',
  'access-list 121 permit ip 10.0.0.0 0.0.0.255 10.8.0.0 0.0.255.255',
  'crypto dynamic-map dyn 10', ' set transform-set ts', ' match address 120', ' reverse-route tag 77', ' set reverse-route distance 5',
  'crypto map m 10 ipsec-isakmp', ' set peer 192.0.2.9', ' set transform-set ts', ' match address 121', ' reverse-route tag 12 static',
  'crypto map m 20 ipsec-isakmp', ' set peer 192.0.2.8', ' set transform-set ts', ' match address 121', ' reverse-route',
  'crypto map m 65535 ipsec-isakmp dynamic dyn',
  'interface FastEthernet0/0', ' ip address 192.0.2.2 255.255.255.0', ' crypto map m', 'end',
];

t.test('RRI routes carry the tag and distance of their entry', async (t) => {
  const config = createConfig();
  const { text } = await runTranscript(CONFIG, { config, system: fakeSystem(), privileged: true });
  t.notMatch(text, /% (?!NOTE)/, 'configuration accepted');
  const resolved = resolveCryptoMapSet(config, 'm');
  const dyn = resolved.find((r) => r.kind === 'dynamic')!;
  t.same(reverseRouteSpecOf(dyn), { tag: 77, distance: 5 }, 'the template keeps tag and distance');

  const temps = new TemporaryEntries();
  const scope = makeSelector(prefixAddr('10.0.0.0', 24), prefixAddr('10.9.3.0', 24));
  const made = temps.add({
    iface: 'FastEthernet0/0', mapName: 'm', seq: 65535, dynamicMapName: 'dyn', dynamicSeq: 10, peer: '198.51.100.7', scope,
    transformSets: ['ts'], reverseRoute: reverseRouteSpecOf(dyn)!, ike: 'IKEv1',
  }, 0)!;
  const sas = [
    { policyKey: made.entry.policyKey, mapName: 'm', mapSeq: 65535, scope, peer: '198.51.100.7' },
    // a live SA of the plain `reverse-route` static entry: no tag, the default distance
    { policyKey: undefined, mapName: 'm', mapSeq: 20, scope: makeSelector(prefixAddr('10.0.0.0', 24), prefixAddr('10.8.1.0', 24)), peer: '192.0.2.8' },
  ];
  const routes = wantedRriRoutes(config, sas, (k) => temps.byPolicyKey(k));
  const byPrefix = new Map(routes.map((r) => [`${r.prefix}/${r.length} ${r.nextHop}`, r]));
  const dynRoute = byPrefix.get('10.9.3.0/24 198.51.100.7');
  t.equal(dynRoute?.tag, 77, 'temporary entry route tagged');
  t.equal(dynRoute?.distance, 5, 'temporary entry route distance');
  const staticRoute = byPrefix.get('10.8.0.0/16 192.0.2.9');
  t.equal(staticRoute?.tag, 12, '`reverse-route tag 12 static`: the ACL destination, tagged, without SAs');
  t.equal(staticRoute?.distance, RRI_DISTANCE, 'default distance');
  const plain = byPrefix.get('10.8.1.0/24 192.0.2.8');
  t.ok(plain, 'plain reverse-route route present');
  t.equal(plain?.tag, undefined, 'plain reverse-route: no tag');

  // show ip route A.B.C.D prints the tag of the route it finds
  const table: RouteEntry[] = routes.map((r) => ({ code: 'S', prefix: r.prefix, length: r.length, distance: r.distance, nextHop: r.nextHop, ...(r.tag !== undefined ? { tag: r.tag } : {}) }));
  const detail = formatRouteDetail(routeLookup(table, '10.9.3.20', undefined));
  t.match(detail, /^Routing entry for 10\.9\.3\.0\/24\n {2}Known via "static", distance 5, metric 0\n {2}Tag 77\n/, 'detail header');
  t.match(detail, /\* 198\.51\.100\.7\n {6}Route metric is 0, traffic share count is 1\n {6}Route tag 77/, 'descriptor block');
  t.notMatch(formatRouteDetail(routeLookup(table, '10.8.1.1', undefined)), /Tag/, 'untagged route: no tag lines');
  t.equal(formatRouteDetail(routeLookup(table, '172.31.0.1', undefined)), '% Network not in table');
});
