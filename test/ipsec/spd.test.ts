import t from 'tap';
import { naiveFirstMatch, parseAclEntry, type AclEntry } from '../../firmware/ipsec/acl-classifier.js';
import {
  makePacketKey, mirrorSelector, parseIp, prefixAddr, selectorEquals, makeSelector, hostAddr, formatSelector,
  type PacketKey, type TrafficSelector,
} from '../../firmware/ipsec/selector.js';
import { compileSpd, vtiPolicy, type OutboundDecision, type SpdMapEntryInput } from '../../firmware/ipsec/spd.js';

const acl = (...lines: string[]): AclEntry[] => lines.map(parseAclEntry);
const key = (s: string, d: string, proto = 0, sp = 0, dp = 0): PacketKey => makePacketKey(s, d, proto, sp, dp);

function protect(d: OutboundDecision) {
  if (d.action !== 'protect') throw new Error(`expected protect, got ${d.action}`);
  return d;
}

// The guide's two "overlapping networks" examples (Crypto Access Lists section).
const mymap = (acl101: AclEntry[], acl102: AclEntry[]): SpdMapEntryInput[] => [
  { mapName: 'mymap', seq: 20, kind: 'isakmp', aclName: '102', acl: acl102, peers: [parseIp('192.168.1.2')], transformSets: ['test'] },
  { mapName: 'mymap', seq: 10, kind: 'isakmp', aclName: '101', acl: acl101, peers: [parseIp('192.168.1.1')], transformSets: ['test'] },
];

t.test('entries are searched in sequence order (lower seq first)', async (t) => {
  const spd = compileSpd(mymap(
    acl('permit ip 10.1.1.0 0.0.0.255 172.16.1.0 0.0.0.255'),
    acl('permit ip 10.0.0.0 0.255.255.255 172.16.0.0 0.15.255.255'),
  ));
  t.same(spd.entries.map((e) => e.seq), [10, 20], 'input order does not matter');
  t.equal(protect(spd.outbound(key('10.1.1.5', '172.16.1.9'))).entry.seq, 10, 'more specific network in seq 10 wins');
  t.equal(protect(spd.outbound(key('10.2.0.1', '172.16.2.1'))).entry.seq, 20);
  t.equal(protect(spd.outbound(key('10.2.0.1', '172.16.2.1'))).entry.peers?.[0]?.value, parseIp('192.168.1.2').value);
});

t.test('deny means "not protected by this entry" and the search goes on to the next entry', async (t) => {
  const spd = compileSpd(mymap(
    acl('deny ip 10.1.1.0 0.0.0.255 172.16.1.0 0.0.0.255', 'permit ip 10.0.0.0 0.255.255.255 172.16.0.0 0.15.255.255'),
    acl('permit ip 10.1.1.0 0.0.0.255 172.16.1.0 0.0.0.255'),
  ));
  t.equal(protect(spd.outbound(key('10.1.1.5', '172.16.1.9'))).entry.seq, 20, 'denied by 10, protected by 20');
  t.equal(protect(spd.outbound(key('10.2.2.2', '172.16.3.3'))).entry.seq, 10);
  // the deny stops entry 10 even though its own later permit covers the packet
  const only10 = compileSpd([mymap(
    acl('deny ip 10.1.1.0 0.0.0.255 172.16.1.0 0.0.0.255', 'permit ip 10.0.0.0 0.255.255.255 172.16.0.0 0.15.255.255'), [])[1]!]);
  t.equal(only10.outbound(key('10.1.1.5', '172.16.1.9')).action, 'bypass');
});

t.test('traffic refused by every entry goes out in the clear', async (t) => {
  const spd = compileSpd(mymap(
    acl('deny ip 10.1.1.0 0.0.0.255 172.16.1.0 0.0.0.255'),
    acl('deny ip 10.1.1.0 0.0.0.255 any', 'permit ip 10.0.0.0 0.255.255.255 172.16.0.0 0.15.255.255'),
  ));
  t.equal(spd.outbound(key('10.1.1.5', '172.16.1.9')).action, 'bypass', 'denied everywhere');
  t.equal(spd.outbound(key('192.168.9.9', '8.8.8.8')).action, 'bypass', 'matched nowhere');
  t.equal(spd.outbound(key('10.9.9.9', '172.16.0.1')).action, 'protect');
  t.equal(compileSpd([]).outbound(key('1.1.1.1', '2.2.2.2')).action, 'bypass', 'no crypto map');
});

t.test('the first permit matched sets the scope of the SA', async (t) => {
  const spd = compileSpd([{
    mapName: 'm', seq: 10, kind: 'isakmp', aclName: '110', peers: [parseIp('192.0.2.2')],
    acl: acl('permit tcp host 10.0.0.1 host 192.168.0.2 eq 23', 'permit ip 10.0.0.0 0.0.0.255 192.168.0.0 0.0.0.255'),
  }]);
  const telnet = protect(spd.outbound(key('10.0.0.1', '192.168.0.2', 6, 40000, 23)));
  t.equal(telnet.aceIndex, 0);
  t.ok(selectorEquals(telnet.scope, makeSelector(hostAddr('10.0.0.1'), hostAddr('192.168.0.2'), 6, { lo: 0, hi: 65535 }, { lo: 23, hi: 23 })));
  const other = protect(spd.outbound(key('10.0.0.1', '192.168.0.2', 17, 5, 53)));
  t.equal(other.aceIndex, 1, 'traffic matching a different permit gets a separate SA');
  t.ok(selectorEquals(other.scope, makeSelector(prefixAddr('10.0.0.0', 24), prefixAddr('192.168.0.0', 24))));
  t.not(other.policyKey, telnet.policyKey);
  const again = protect(spd.outbound(key('10.0.0.7', '192.168.0.9', 1)));
  t.equal(again.policyKey, other.policyKey, 'hosts inside one ACE share its SA');
  t.equal(again.initiate, true, 'ipsec-isakmp entries ask IKE when no SA exists');
  t.equal(formatSelector(other.scope), 'local (10.0.0.0/255.255.255.0/0/0) remote (192.168.0.0/255.255.255.0/0/0)');
});

t.test('set security-association level per-host: one scope per host pair', async (t) => {
  const spd = compileSpd([{
    mapName: 'm', seq: 10, kind: 'isakmp', perHost: true, peers: [parseIp('192.0.2.2')],
    acl: acl('permit ip 10.0.0.0 0.0.0.255 192.168.0.0 0.0.0.255'),
  }]);
  const a = protect(spd.outbound(key('10.0.0.1', '192.168.0.2')));
  const b = protect(spd.outbound(key('10.0.0.3', '192.168.0.2')));
  const a2 = protect(spd.outbound(key('10.0.0.1', '192.168.0.2', 6, 1, 2)));
  t.ok(selectorEquals(a.scope, makeSelector(hostAddr('10.0.0.1'), hostAddr('192.168.0.2'))));
  t.not(a.policyKey, b.policyKey, 'different host pairs get different SAs');
  t.equal(a.policyKey, a2.policyKey, 'same host pair, same SA');
});

t.test('the ACL applies forward outbound and mirrored inbound (Figure 2: host 10.0.0.1 <-> host 192.168.0.2)', async (t) => {
  const routerA = compileSpd([{ mapName: 's0', seq: 10, kind: 'isakmp', acl: acl('permit ip host 10.0.0.1 host 192.168.0.2'), peers: [parseIp('172.16.0.2')] }]);
  t.equal(routerA.outbound(key('10.0.0.1', '192.168.0.2')).action, 'protect', 'outbound: source = host 10.0.0.1, dest = host 192.168.0.2');
  t.equal(routerA.outbound(key('192.168.0.2', '10.0.0.1')).action, 'bypass', 'the ACL is not mirrored outbound');
  const inb = routerA.inboundClear(key('192.168.0.2', '10.0.0.1'));
  t.equal(inb.action, 'drop', 'inbound: source = host 192.168.0.2, dest = host 10.0.0.1 matches in reverse');
  t.equal(routerA.inboundClear(key('10.0.0.1', '192.168.0.2')).action, 'allow', 'inbound in the forward sense is not matched');
  // ports are mirrored too
  const tel = compileSpd([{ mapName: 'x', seq: 1, kind: 'isakmp', acl: acl('permit tcp host 10.0.0.1 eq 23 host 192.168.0.2') }]);
  t.equal(tel.outbound(key('10.0.0.1', '192.168.0.2', 6, 23, 5000)).action, 'protect');
  t.equal(tel.inboundClear(key('192.168.0.2', '10.0.0.1', 6, 5000, 23)).action, 'drop');
  t.equal(tel.inboundClear(key('192.168.0.2', '10.0.0.1', 6, 23, 5000)).action, 'allow');
});

t.test('inbound clear traffic matching a permit of an IPsec entry is dropped; denied traffic is allowed', async (t) => {
  const spd = compileSpd([{
    mapName: 'm', seq: 10, kind: 'isakmp',
    acl: acl('deny udp 10.0.0.0 0.0.0.255 eq ntp any', 'permit ip 10.0.0.0 0.0.0.255 192.168.0.0 0.0.0.255'),
  }]);
  const d = spd.inboundClear(key('192.168.0.5', '10.0.0.5', 6, 1, 2));
  t.equal(d.action, 'drop');
  if (d.action === 'drop') { t.equal(d.reason, 'should-be-protected'); t.equal(d.entry.seq, 10); t.equal(d.aceIndex, 1); }
  t.equal(spd.inboundClear(key('192.168.0.5', '10.0.0.5', 17, 123, 123)).action, 'allow', 'NTP exempted by the deny');
  t.equal(spd.inboundClear(key('198.51.100.1', '10.0.0.5')).action, 'allow', 'unrelated traffic');
});

t.test('the any keyword: permit ip any any protects everything and drops all clear inbound, unless denied first', async (t) => {
  const all = compileSpd([{ mapName: 'm', seq: 10, kind: 'isakmp', acl: acl('permit ip any any') }]);
  t.equal(all.outbound(key('1.2.3.4', '5.6.7.8', 17, 123, 123)).action, 'protect');
  t.equal(all.inboundClear(key('5.6.7.8', '1.2.3.4', 89)).action, 'drop', 'routing protocol packets are dropped');
  t.equal(all.inboundClear(key('5.6.7.8', '1.2.3.4', 1)).action, 'drop', 'echo is dropped');
  const guarded = compileSpd([{ mapName: 'm', seq: 10, kind: 'isakmp', acl: acl('deny udp any any eq ntp', 'deny ospf any any'.replace('ospf', '89'), 'permit ip any any') }]);
  t.equal(guarded.outbound(key('1.2.3.4', '5.6.7.8', 17, 123, 123)).action, 'bypass');
  t.equal(guarded.inboundClear(key('5.6.7.8', '1.2.3.4', 89)).action, 'allow');
  t.equal(guarded.inboundClear(key('5.6.7.8', '1.2.3.4', 1)).action, 'drop');
});

t.test('a decrypted packet must match the scope of the SA it came from', async (t) => {
  const spd = compileSpd(mymap(acl('permit ip 10.1.1.0 0.0.0.255 172.16.1.0 0.0.0.255'), acl('permit ip 10.0.0.0 0.255.255.255 172.16.0.0 0.15.255.255')));
  const scope = protect(spd.outbound(key('10.1.1.5', '172.16.1.9'))).scope;
  t.ok(spd.checkDecrypted(key('172.16.1.9', '10.1.1.5'), scope));
  t.notOk(spd.checkDecrypted(key('172.16.2.9', '10.1.1.5'), scope), 'source outside the remote side');
  t.notOk(spd.checkDecrypted(key('10.1.1.5', '172.16.1.9'), scope), 'direction matters');
  const tcp23 = makeSelector(hostAddr('10.0.0.1'), hostAddr('192.168.0.2'), 6, { lo: 23, hi: 23 }, { lo: 0, hi: 65535 });
  t.ok(spd.checkDecrypted(key('192.168.0.2', '10.0.0.1', 6, 4000, 23), tcp23));
  t.notOk(spd.checkDecrypted(key('192.168.0.2', '10.0.0.1', 6, 4000, 24), tcp23));
  t.notOk(spd.checkDecrypted(key('192.168.0.2', '10.0.0.1', 17, 4000, 23), tcp23));
});

// Figure 3: Router M protects subnet X (Host A), Router N protects subnet Y (Host B).
t.test('mirror image and non-mirror image crypto ACLs (Figure 3, Cases 1-4)', async (t) => {
  const M = parseIp('192.0.2.1');
  const N = parseIp('192.0.2.2');
  const X = '10.1.1.0 0.0.0.255';
  const Y = '10.2.2.0 0.0.0.255';
  const A = 'host 10.1.1.10';
  const B = 'host 10.2.2.20';
  const router = (peer: typeof M, line: string) => compileSpd([{ mapName: 'map', seq: 10, kind: 'isakmp', acl: acl(line), peers: [peer] }]);
  /** `from` sees a packet, derives the scope, and asks `to` (which sees it from the other side). */
  const negotiate = (from: ReturnType<typeof router>, fromAddr: typeof M, to: ReturnType<typeof router>, pkt: PacketKey): TrafficSelector | undefined => {
    const d = from.outbound(pkt);
    if (d.action !== 'protect') return undefined;
    return to.matchProposal(mirrorSelector(d.scope), fromAddr)?.selector;
  };
  const aToB = key('10.1.1.10', '10.2.2.20');
  const bToA = key('10.2.2.20', '10.1.1.10');

  // Case 1: mirror image host ACLs, either side may start
  let m = router(N, `permit ip ${A} ${B}`);
  let n = router(M, `permit ip ${B} ${A}`);
  t.ok(negotiate(m, M, n, aToB), 'case 1: M initiates');
  t.ok(negotiate(n, N, m, bToA), 'case 1: N initiates');

  // Case 2: mirror image subnet ACLs
  m = router(N, `permit ip ${X} ${Y}`);
  n = router(M, `permit ip ${Y} ${X}`);
  t.ok(negotiate(m, M, n, key('10.1.1.77', '10.2.2.88')), 'case 2: M initiates');
  t.ok(negotiate(n, N, m, key('10.2.2.88', '10.1.1.77')), 'case 2: N initiates');

  // Cases 3 and 4: M has host entries, N has subnet entries (not mirror images)
  m = router(N, `permit ip ${A} ${B}`);
  n = router(M, `permit ip ${Y} ${X}`);
  const sel = negotiate(m, M, n, aToB);
  t.ok(sel, "case 3: M's request (host A <-> host B) is inside N's subnet permit: SA established");
  if (sel) t.ok(selectorEquals(sel, makeSelector(hostAddr('10.2.2.20'), hostAddr('10.1.1.10'))), 'N installs exactly the requested host pair');
  t.notOk(negotiate(n, N, m, bToA), "case 4: N's request (subnet Y <-> subnet X) is a superset of M's permit: refused");
  // IKEv2 responders may narrow instead of refusing
  const narrowed = m.narrowProposal(mirrorSelector(protect(n.outbound(bToA)).scope), N);
  t.ok(narrowed && selectorEquals(narrowed.selector, makeSelector(hostAddr('10.1.1.10'), hostAddr('10.2.2.20'))), 'IKEv2 narrowing to host A <-> host B');
});

t.test('proposals: peer must be named by static entries; a deny refuses what it covers; dynamic entries accept unknown peers', async (t) => {
  const spd = compileSpd([
    { mapName: 'm', seq: 10, kind: 'isakmp', peers: [parseIp('192.0.2.1')], acl: acl('deny ip host 10.0.0.9 any', 'permit ip 10.0.0.0 0.0.0.255 10.9.0.0 0.0.255.255') },
    { mapName: 'm', seq: 100, kind: 'dynamic', subSeq: 5, acl: acl('permit ip 10.0.0.0 0.0.0.255 10.8.0.0 0.0.255.255') },
    { mapName: 'm', seq: 1, kind: 'manual', peers: [parseIp('192.0.2.1')], acl: acl('permit ip any any') },
  ]);
  const req = makeSelector(prefixAddr('10.0.0.0', 25), prefixAddr('10.9.1.0', 24));
  t.equal(spd.matchProposal(req, parseIp('192.0.2.1'))?.entry.seq, 10, 'deny of host 10.0.0.9 only carves out of the request: the permit decides');
  t.equal(spd.matchProposal(makeSelector(hostAddr('10.0.0.9'), hostAddr('10.9.1.1')), parseIp('192.0.2.1')), undefined, 'a request inside the deny: refused');
  const req2 = makeSelector(prefixAddr('10.0.0.128', 25), prefixAddr('10.9.1.0', 24));
  t.equal(spd.matchProposal(req2, parseIp('192.0.2.1'))?.entry.seq, 10, 'manual entries are never negotiated');
  t.equal(spd.matchProposal(req2, parseIp('192.0.2.77')), undefined, 'static entry does not name this peer');
  const dyn = spd.matchProposal(makeSelector(hostAddr('10.0.0.1'), hostAddr('10.8.3.3')), parseIp('203.0.113.50'));
  t.equal(dyn?.entry.kind, 'dynamic', 'dynamic entry accepts an unknown peer');
  const dynNoAcl = compileSpd([{ mapName: 'm', seq: 100, kind: 'dynamic' }]);
  t.ok(dynNoAcl.matchProposal(makeSelector(hostAddr('1.1.1.1'), hostAddr('2.2.2.2')), parseIp('203.0.113.50')), 'dynamic entry without ACL accepts any flow');
  t.equal(dynNoAcl.outbound(key('1.1.1.1', '2.2.2.2')).action, 'bypass', '...and is ignored in traffic filtering');
});

t.test('ipsec-manual: only the first permit of the ACL counts; a missing SA means drop, not negotiation', async (t) => {
  const spd = compileSpd([{
    mapName: 'mymap', seq: 10, kind: 'manual', peers: [parseIp('10.0.0.5')], transformSets: ['someset'],
    acl: acl('deny ip host 10.0.68.9 any', 'permit ip 10.0.68.0 0.0.0.255 10.1.1.0 0.0.0.255', 'permit ip 10.0.69.0 0.0.0.255 10.1.1.0 0.0.0.255'),
  }]);
  const d = protect(spd.outbound(key('10.0.68.1', '10.1.1.1')));
  t.equal(d.initiate, false);
  t.equal(spd.outbound(key('10.0.69.1', '10.1.1.1')).action, 'bypass', 'entries after the first permit are ignored');
  t.equal(spd.outbound(key('10.0.68.9', '10.1.1.1')).action, 'bypass', 'a deny before the first permit still applies');
  t.equal(spd.entries[0]!.effectiveAcl.length, 2);
});

t.test('dynamic entries: empty ACL drops everything reaching it; evaluated after static entries', async (t) => {
  const spd = compileSpd([
    { mapName: 'm', seq: 65535, kind: 'dynamic', acl: [] },
    { mapName: 'm', seq: 10, kind: 'isakmp', acl: acl('permit ip 10.0.0.0 0.0.0.255 any') },
    { mapName: 'm', seq: 20, kind: 'isakmp', acl: [] },
  ]);
  t.equal(spd.outbound(key('10.0.0.1', '8.8.8.8')).action, 'protect');
  const d = spd.outbound(key('10.0.1.1', '8.8.8.8'));
  t.equal(d.action, 'drop', 'static entry with empty ACL is skipped, dynamic with empty ACL drops');
  if (d.action === 'drop') t.equal(d.entry.seq, 65535);
  t.equal(spd.outbound(key('2001:db8::1', '2001:db8::2')).action, 'drop', 'for both families');
  t.equal(spd.inboundClear(key('8.8.8.8', '10.0.1.1')).action, 'drop');
  const dyn = compileSpd([{ mapName: 'm', seq: 100, kind: 'dynamic', acl: acl('permit ip 10.0.0.0 0.0.0.255 any') }]);
  t.equal(protect(dyn.outbound(key('10.0.0.1', '8.8.8.8'))).initiate, false, 'dynamic entries never initiate');
});

t.test('ICMP entries: echo protected, mirrored inbound, scope carries the type', async (t) => {
  const spd = compileSpd([{ mapName: 'm', seq: 10, kind: 'isakmp', acl: acl('permit icmp host 10.0.0.1 host 10.9.0.1 echo') }]);
  const d = protect(spd.outbound(key('10.0.0.1', '10.9.0.1', 1, 0x0800, 0x0800)));
  t.same(d.scope.srcPorts, { lo: 0x0800, hi: 0x08ff });
  t.equal(spd.outbound(key('10.0.0.1', '10.9.0.1', 1, 0x0000, 0x0000)).action, 'bypass', 'echo-reply is another flow');
  t.equal(spd.inboundClear(key('10.9.0.1', '10.0.0.1', 1, 0x0800, 0x0800)).action, 'drop', 'clear echo from the peer side is dropped');
  t.ok(spd.checkDecrypted(key('10.9.0.1', '10.0.0.1', 1, 0x0805, 0x0805), d.scope));
});

t.test('IPv6 crypto maps', async (t) => {
  const spd = compileSpd([{ mapName: 'v6', seq: 10, kind: 'isakmp', acl: acl('permit ipv6 2001:db8:1::/48 2001:db8:2::/48') }]);
  t.equal(spd.outbound(key('2001:db8:1::5', '2001:db8:2::7')).action, 'protect');
  t.equal(spd.outbound(key('2001:db8:3::5', '2001:db8:2::7')).action, 'bypass');
  t.equal(spd.outbound(key('10.0.0.1', '10.0.0.2')).action, 'bypass', 'IPv4 packets never meet IPv6 entries');
  t.equal(spd.inboundClear(key('2001:db8:2::7', '2001:db8:1::5')).action, 'drop');
});

t.test('VTI policy: any/any selectors, one SA pair for everything routed into the tunnel', async (t) => {
  const spd = compileSpd([vtiPolicy('Tunnel0', 4, { peers: [parseIp('192.0.2.2')] })]);
  const a = protect(spd.outbound(key('10.0.0.1', '10.9.9.9', 6, 1, 2)));
  const b = protect(spd.outbound(key('172.16.0.1', '8.8.8.8', 17, 1, 53)));
  t.equal(a.policyKey, b.policyKey);
  t.equal(formatSelector(a.scope), 'local (0.0.0.0/0.0.0.0/0/0) remote (0.0.0.0/0.0.0.0/0/0)');
  t.equal(spd.outbound(key('2001:db8::1', '2001:db8::2')).action, 'bypass', 'an IPv4 VTI carries IPv4 only');
});

t.test('ACE match counters per ACL', async (t) => {
  const spd = compileSpd(mymap(acl('deny ip host 10.1.1.1 any', 'permit ip 10.1.1.0 0.0.0.255 any'), acl('permit ip any any')));
  spd.outbound(key('10.1.1.1', '9.9.9.9'));
  spd.outbound(key('10.1.1.2', '9.9.9.9'));
  spd.outbound(key('10.1.1.3', '9.9.9.9'));
  spd.inboundClear(key('9.9.9.9', '10.1.1.3'));
  const c = spd.aclMatchCounts();
  t.same(c.get('101'), [1, 3]);
  t.same(c.get('102'), [1]);
  spd.resetCounters();
  t.same(spd.aclMatchCounts().get('101'), [0, 0]);
});

/** Straight reading of the guide, entry by entry, ACE by ACE: the reference. */
function naiveOutbound(entries: SpdMapEntryInput[], k: PacketKey): string {
  const sorted = [...entries].sort((a, b) => a.seq - b.seq);
  for (const e of sorted) {
    if (!e.acl) continue;
    const i = naiveFirstMatch(e.acl, k);
    if (i >= 0 && e.acl[i]!.action === 'permit') return `${e.seq}/${i}`;
  }
  return 'bypass';
}

t.test('SPD agrees with a naive entry-by-entry search on random maps (1,000s of ACEs)', async (t) => {
  let seed = 42;
  const r = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  const oct = () => Math.floor(r() * 4);
  const addr = () => {
    const c = r();
    if (c < 0.1) return 'any';
    if (c < 0.4) return `host 10.${oct()}.${oct()}.${oct()}`;
    if (c < 0.7) return `10.${oct()}.${oct()}.0 0.0.0.255`;
    if (c < 0.9) return `10.${oct()}.0.0 0.0.255.255`;
    return `10.0.${oct()}.0 0.255.0.255`;
  };
  let mismatches = 0;
  let protects = 0;
  let n = 0;
  for (let round = 0; round < 10; round++) {
    const entries: SpdMapEntryInput[] = [];
    const nEntries = 1 + Math.floor(r() * 20);
    for (let e = 0; e < nEntries; e++) {
      const lines: string[] = [];
      const nAce = 1 + Math.floor(r() * 100);
      for (let a = 0; a < nAce; a++) {
        const proto = r() < 0.5 ? 'ip' : 'tcp';
        lines.push(`${r() < 0.6 ? 'permit' : 'deny'} ${proto} ${addr()} ${addr()}${proto === 'tcp' && r() < 0.5 ? ` eq ${20 + oct()}` : ''}`);
      }
      entries.push({ mapName: 'r', seq: 1 + e * 7, kind: 'isakmp', acl: acl(...lines) });
    }
    const spd = compileSpd(entries);
    for (let p = 0; p < 500; p++) {
      const k = key(`10.${oct()}.${oct()}.${oct()}`, `10.${oct()}.${oct()}.${oct()}`, r() < 0.5 ? 6 : 17, 1000, 20 + oct());
      const d = spd.outbound(k);
      const got = d.action === 'protect' ? `${d.entry.seq}/${d.aceIndex}` : d.action;
      const want = naiveOutbound(entries, k);
      n++;
      if (want !== 'bypass') protects++;
      if (got !== want) mismatches++;
    }
  }
  t.equal(mismatches, 0, `${n} packets agree`);
  t.ok(protects > n / 5 && protects < n, `mix of protect (${protects}) and bypass`);
});

t.test('deny host pair before a /24 permit (mirror images): each side accepts the other\'s /24 proposal; the pair stays in clear', async (t) => {
  const A = parseIp('192.0.2.1'), B = parseIp('192.0.2.2');
  const a = compileSpd([{ mapName: 'm', seq: 10, kind: 'isakmp', peers: [B], acl: acl('deny ip host 10.1.0.5 host 10.2.0.5', 'permit ip 10.1.0.0 0.0.0.255 10.2.0.0 0.0.0.255') }]);
  const b = compileSpd([{ mapName: 'm', seq: 10, kind: 'isakmp', peers: [A], acl: acl('deny ip host 10.2.0.5 host 10.1.0.5', 'permit ip 10.2.0.0 0.0.0.255 10.1.0.0 0.0.0.255') }]);
  const out = a.outbound(key('10.1.0.7', '10.2.0.9'));
  t.equal(out.action, 'protect', 'A protects other hosts of the /24');
  if (out.action !== 'protect') return;
  const m = b.matchProposal(mirrorSelector(out.scope), A);
  t.ok(m && selectorEquals(m.selector, makeSelector(prefixAddr('10.2.0.0', 24), prefixAddr('10.1.0.0', 24))), 'B (responder) accepts the /24 proposal despite the deny line');
  t.equal(a.outbound(key('10.1.0.5', '10.2.0.5')).action, 'bypass', 'the denied host pair still goes in clear');
});
