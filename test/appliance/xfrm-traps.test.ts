// The XFRM backend's trap policies (firmware/daemon/xfrm-traps.ts): which crypto map lines
// become kernel policies that acquire, what the kernel's ACQUIRE maps back to, and that a
// kernel acquire raises the pipeline's acquire exactly when the userspace path would.
// The kernel side is in test/appliance/xfrm-pair.test.ts (two VMs).
import t from 'tap';
import { parseAclEntry } from '../../firmware/ipsec/acl-classifier.js';
import { compileSpd, type SpdMapEntryInput } from '../../firmware/ipsec/spd.js';
import { parseIp } from '../../firmware/ipsec/selector.js';
import { acePriority, intersectSelectors, mirrorSelector, packetKeyFromAcquire, trapPolicies, XfrmTraps } from '../../firmware/daemon/xfrm-traps.js';
import type { AcquireEvent, KernelIpsec, PolicyId, PolicySpec } from '../../firmware/kernel/kernel-ipsec.js';
import { Pipeline, type MapEntryData, type PipelineAcquire, type PipelineIo } from '../../firmware/dataplane/pipeline.js';
import { Sad } from '../../firmware/ipsec/sad.js';
import type { IpsecSa } from '../../firmware/ipsec/ipsec-sa.js';

const entries: SpdMapEntryInput[] = [
  { mapName: 'CM', seq: 10, kind: 'isakmp', aclName: '101', peers: [parseIp('172.16.0.2'), parseIp('172.16.0.3')], transformSets: ['TS'],
    acl: ['deny ip host 10.1.0.9 any', 'permit ip 10.1.0.0 0.0.0.255 10.2.0.0 0.0.0.255', 'permit tcp 10.1.0.0 0.0.0.255 10.3.0.0 0.0.0.255 eq 80'].map(parseAclEntry) },
  { mapName: 'CM', seq: 20, kind: 'isakmp', aclName: '102', peers: [], transformSets: ['TS'], acl: ['permit ip any any'].map(parseAclEntry) },
  { mapName: 'CM', seq: 30, kind: 'manual', aclName: '103', peers: [parseIp('172.16.0.4')], transformSets: ['TS'], acl: ['permit ip 10.1.0.0 0.0.0.255 10.4.0.0 0.0.0.255'].map(parseAclEntry) },
  { mapName: 'CM', seq: 40, kind: 'isakmp', aclName: '104', peers: [parseIp('172.16.0.5')], transformSets: ['AHONLY'], acl: ['permit ip 10.1.0.0 0.0.0.255 10.5.0.0 0.0.0.255'].map(parseAclEntry) },
];
const words = (name: string) => ({ TS: ['esp-gcm', '256'], AHONLY: ['ah-sha-hmac'] } as Record<string, string[]>)[name];

t.test('permits of static isakmp entries with a peer become outbound trap policies at their line\'s place', async (t) => {
  const reqids = new Map<string, number>();
  const reqidFor = (k: string) => { if (!reqids.has(k)) reqids.set(k, reqids.size + 7); return reqids.get(k)!; };
  const all = trapPolicies(compileSpd(entries), '172.16.0.1', reqidFor, words);
  const traps = all.filter((x) => x.spec.action === 'protect' && x.spec.priority % 32 === 16);
  t.same(traps.map((x) => [x.spec.selector, x.spec.templates[0]!.dst, x.spec.templates[0]!.protocol, x.spec.priority]), [
    [{ src: '10.1.0.0/24', dst: '10.2.0.0/24' }, '172.16.0.2', 'esp', acePriority(10, 1)],
    [{ src: '10.1.0.0/24', dst: '10.3.0.0/24', proto: 6, dstPort: 80 }, '172.16.0.2', 'esp', acePriority(10, 2)],
    [{ src: '10.1.0.0/24', dst: '10.5.0.0/24' }, '172.16.0.5', 'ah', acePriority(40, 0)],
  ], 'an entry without a peer and a manual entry give none; the first peer; AH when the set has no ESP');
  t.ok(acePriority(10, 0) < acePriority(10, 1) && acePriority(10, 2) < acePriority(20, 0) && acePriority(65535, 5000) < 2 ** 32, 'places follow the ACL order, within 32 bits');
  t.ok(traps.every((x) => x.spec.direction === 'out' && x.spec.templates[0]!.mode === 'tunnel' && x.spec.templates[0]!.src === '172.16.0.1'));
  // the SA pair IKE installs later uses the same policy key, so the same reqid
  const spd = compileSpd(entries);
  const d = spd.outbound(packetKeyFromAcquire({ packetSelector: { src: '10.1.0.5', dst: '10.2.0.7', proto: 1, srcPort: 8, dstPort: 0 } } as AcquireEvent)!);
  t.equal(d.action, 'protect');
  if (d.action === 'protect') t.equal(traps[0]!.policyKey, d.policyKey, 'the trap and the acquired flow share the SPD policy key');
  t.equal(traps[0]!.spec.templates[0]!.reqid, reqidFor(traps[0]!.policyKey!));
  t.same(trapPolicies(compileSpd(entries), undefined, reqidFor, words), [], 'no local address: no traps');
});

t.test('a deny line is a bypass at its place, both ways; a later entry\'s permit under it is carved out ahead of it', async (t) => {
  const all = trapPolicies(compileSpd(entries), '172.16.0.1', () => 1, words);
  const bypass = all.filter((x) => x.spec.action === 'bypass');
  t.same(bypass.map((x) => [x.spec.direction, x.spec.selector, x.spec.priority, x.policyKey]), [
    ['out', { src: '10.1.0.9/32', dst: '0.0.0.0/0' }, acePriority(10, 0), undefined],
    ['in', { src: '0.0.0.0/0', dst: '10.1.0.9/32' }, acePriority(10, 0), undefined],
    ['fwd', { src: '0.0.0.0/0', dst: '10.1.0.9/32' }, acePriority(10, 0), undefined],
  ], 'deny ip host 10.1.0.9 any: out, and the answers in and forwarded');
  t.ok(bypass.every((x) => x.spec.templates.length === 0));
  // entry 40 permits 10.1.0.0/24 -> 10.5.0.0/24; the IOS SPD sends 10.1.0.9 -> 10.5.0.1 there (the
  // deny of entry 10 only ends entry 10's search), the kernel would stop at the bypass
  const spd = compileSpd(entries.filter((e) => e.peers!.length > 0));
  const d = spd.outbound(packetKeyFromAcquire({ packetSelector: { src: '10.1.0.9', dst: '10.5.0.1', proto: 6, srcPort: 1000, dstPort: 22 } } as AcquireEvent)!);
  t.ok(d.action === 'protect' && d.entry.seq === 40, 'the SPD: entry 40 protects the denied host\'s packets to 10.5.0.0/24');
  const carve = all.filter((x) => x.spec.action === 'protect' && x.spec.priority < acePriority(10, 0));
  t.same(carve.map((x) => [x.spec.selector, x.spec.templates[0]!.dst, x.spec.templates[0]!.protocol]), [[{ src: '10.1.0.9/32', dst: '10.5.0.0/24' }, '172.16.0.5', 'ah']],
    'the kernel: that overlap trapped for entry 40 ahead of the bypass');
  t.equal(carve[0]!.policyKey, all.find((x) => x.spec.priority === acePriority(40, 0))!.policyKey, 'under entry 40\'s policy key (its SA pair serves it)');
  t.ok(!all.some((x) => x.spec.action === 'protect' && x.spec.selector.dst === '10.2.0.0/24' && x.spec.selector.src === '10.1.0.9/32'), 'no carve-out for the deny\'s own entry');
});

t.test('kernel selectors: prefixes of IPv4 and IPv6 sets, overlaps, mirror', async (t) => {
  const v6 = compileSpd([{ mapName: 'CM6', seq: 5, kind: 'isakmp', aclName: 'V6', peers: [parseIp('2001:db8:ffff::2')], transformSets: ['TS'],
    acl: ['deny ipv6 host 2001:db8:1::9 any', 'permit ipv6 2001:db8:1::/48 2001:db8:2::/48'].map(parseAclEntry) }]);
  const tr = trapPolicies(v6, '2001:db8:ffff::1', () => 3, words);
  t.same(tr.map((x) => [x.spec.action, x.spec.direction, x.spec.selector.src, x.spec.selector.dst]), [
    ['bypass', 'out', '2001:db8:1::9/128', '::/0'], ['bypass', 'in', '::/0', '2001:db8:1::9/128'], ['bypass', 'fwd', '::/0', '2001:db8:1::9/128'],
    ['protect', 'out', '2001:db8:1::/48', '2001:db8:2::/48'],
  ], 'IPv6 lines: a bypass and a trap');
  t.same(tr[3]!.spec.templates[0], { protocol: 'esp', mode: 'tunnel', reqid: 3, src: '2001:db8:ffff::1', dst: '2001:db8:ffff::2' });
  t.same(intersectSelectors({ src: '10.0.0.0/8', dst: '0.0.0.0/0', proto: 6 }, { src: '10.1.0.0/24', dst: '10.2.0.0/24', dstPort: 80 }),
    { src: '10.1.0.0/24', dst: '10.2.0.0/24', proto: 6, dstPort: 80 });
  t.equal(intersectSelectors({ src: '10.0.0.0/8', dst: '0.0.0.0/0', proto: 6 }, { src: '10.1.0.0/24', dst: '0.0.0.0/0', proto: 17 }), undefined, 'tcp and udp');
  t.equal(intersectSelectors({ src: '10.1.0.0/24', dst: '0.0.0.0/0' }, { src: '10.2.0.0/24', dst: '0.0.0.0/0' }), undefined, 'disjoint prefixes');
  t.equal(intersectSelectors({ src: '10.1.0.0/24', dst: '::/0' }, { src: '10.1.0.0/24', dst: '::/0' })?.src, '10.1.0.0/24');
  t.same(mirrorSelector({ src: '10.1.0.0/24', dst: '10.2.0.0/24', proto: 6, dstPort: 80 }), { src: '10.2.0.0/24', dst: '10.1.0.0/24', proto: 6, srcPort: 80 });
});

t.test('an ACQUIRE becomes the SPD packet key', async (t) => {
  const k = packetKeyFromAcquire({ packetSelector: { src: '10.1.0.5', dst: '10.2.0.7', proto: 1, srcPort: 8, dstPort: 0 } } as AcquireEvent)!;
  t.same([k.family, [...k.src], [...k.dst], k.proto, k.srcPort, k.dstPort], [4, [0x0a010005], [0x0a020007], 1, 0x0800, 0x0800], 'ICMP type/code as the SPD keeps them');
  const u = packetKeyFromAcquire({ packetSelector: { src: '10.1.0.5/32', dst: '10.2.0.7/32', proto: 17, srcPort: 5000, dstPort: 53 } } as AcquireEvent)!;
  t.same([u.srcPort, u.dstPort], [5000, 53]);
  const v6 = packetKeyFromAcquire({ packetSelector: { src: '2001:db8:1::5/128', dst: '2001:db8:2::7/128', proto: 58, srcPort: 128, dstPort: 0 } } as AcquireEvent)!;
  t.same([v6.family, [...v6.src], [...v6.dst], v6.proto, v6.srcPort], [6, [0x20010db8, 0x10000, 0, 5], [0x20010db8, 0x20000, 0, 7], 58, 128 << 8], 'IPv6, ICMPv6 type/code as the SPD keeps them');
  t.equal(packetKeyFromAcquire({ packetSelector: { src: '10.1.0.1', dst: '2001:db8::2' } } as AcquireEvent), undefined, 'mixed families: none');
});

t.test('sync adds new traps once, removes unwanted ones', async (t) => {
  const added: PolicySpec[] = [];
  const deleted: PolicyId[] = [];
  const kernel = {
    addPolicy: async (p: PolicySpec) => { added.push(p); return added.length; },
    deletePolicy: async (p: PolicyId) => { deleted.push(p); },
  } as unknown as KernelIpsec; // a unit: only the two calls sync makes
  const sync = new XfrmTraps(kernel, () => {});
  const traps = trapPolicies(compileSpd(entries), '172.16.0.1', () => 1, words);
  sync.sync(traps);
  sync.sync(traps);
  t.equal(added.length, traps.length, 'each policy once (an SA policy may have replaced a trap since)');
  t.equal(traps.length, 7, '3 traps, 3 bypasses, 1 carve-out');
  t.equal(sync.priorityOf(traps.find((x) => x.spec.selector.dst === '10.5.0.0/24' && x.spec.selector.src === '10.1.0.0/24')!.policyKey!), acePriority(40, 0), 'an SA pair takes its permit\'s place, not the carve-out\'s');
  t.ok(added.every((p) => p.replace === true));
  sync.sync(traps.filter((x) => x.spec.selector.dst === '10.2.0.0/24'));
  await new Promise((r) => setImmediate(r));
  t.same(deleted.map((p) => `${p.direction} ${p.selector.src} ${p.selector.dst}`).sort(), [
    'fwd 0.0.0.0/0 10.1.0.9/32', 'in 0.0.0.0/0 10.1.0.9/32', 'out 10.1.0.0/24 10.3.0.0/24', 'out 10.1.0.0/24 10.5.0.0/24', 'out 10.1.0.9/32 0.0.0.0/0', 'out 10.1.0.9/32 10.5.0.0/24',
  ], 'each in its direction');
});

t.test('a kernel acquire raises the pipeline acquire only where the userspace path would', async (t) => {
  let now = 1000;
  const sad = new Sad<IpsecSa>({ now: () => now });
  const pipe = new Pipeline({ sad, io: {} as PipelineIo, now: () => now }); // no packet I/O: acquireFor sends nothing
  // as the service compiles it: an entry without a peer is left out (IOS disables it)
  pipe.setInterfaces([{ name: 'GigabitEthernet0/0', spd: compileSpd<MapEntryData>(entries.filter((e) => e.peers!.length > 0).map((e) => ({ ...e, data: { iface: 'GigabitEthernet0/0' } }))) }]);
  const got: PipelineAcquire[] = [];
  pipe.onAcquire((a) => got.push(a));
  const acq = (src: string, dst: string) => pipe.acquireFor(packetKeyFromAcquire({ packetSelector: { src, dst, proto: 1, srcPort: 8, dstPort: 0 } } as AcquireEvent)!);
  t.ok(acq('10.1.0.5', '10.2.0.7'), 'a permitted flow');
  t.notOk(acq('10.1.0.5', '10.2.0.8'), 'the same policy again within a second: rate-limited');
  t.notOk(acq('10.1.0.9', '10.2.0.7'), 'a denied host');
  t.notOk(acq('10.1.0.5', '10.4.0.1'), 'a manual entry never acquires');
  now += 1500;
  t.ok(acq('10.1.0.6', '10.2.0.7'), 'after the interval, again');
  await new Promise((r) => setImmediate(r));
  t.same(got.map((a) => [a.iface, a.decision.entry.seq]), [['GigabitEthernet0/0', 10], ['GigabitEthernet0/0', 10]]);
});
