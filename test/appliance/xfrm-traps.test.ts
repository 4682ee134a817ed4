// The XFRM backend's trap policies (firmware/daemon/xfrm-traps.ts): which crypto map lines
// become kernel policies that acquire, what the kernel's ACQUIRE maps back to, and that a
// kernel acquire raises the pipeline's acquire exactly when the userspace path would.
// The kernel side is in test/appliance/xfrm-pair.test.ts (two VMs).
import t from 'tap';
import { parseAclEntry } from '../../firmware/ipsec/acl-classifier.js';
import { compileSpd, type SpdMapEntryInput } from '../../firmware/ipsec/spd.js';
import { parseIp } from '../../firmware/ipsec/selector.js';
import { packetKeyFromAcquire, trapPolicies, XfrmTraps } from '../../firmware/daemon/xfrm-traps.js';
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

t.test('permits of static isakmp entries with a peer become outbound trap policies', async (t) => {
  const reqids = new Map<string, number>();
  const reqidFor = (k: string) => { if (!reqids.has(k)) reqids.set(k, reqids.size + 7); return reqids.get(k)!; };
  const traps = trapPolicies(compileSpd(entries), '172.16.0.1', reqidFor, words);
  t.same(traps.map((x) => [x.spec.selector, x.spec.templates[0]!.dst, x.spec.templates[0]!.protocol, x.spec.priority]), [
    [{ src: '10.1.0.0/24', dst: '10.2.0.0/24' }, '172.16.0.2', 'esp', 10],
    [{ src: '10.1.0.0/24', dst: '10.3.0.0/24', proto: 6, dstPort: 80 }, '172.16.0.2', 'esp', 10],
    [{ src: '10.1.0.0/24', dst: '10.5.0.0/24' }, '172.16.0.5', 'ah', 40],
  ], 'deny lines, an entry without a peer and a manual entry give none; the first peer; AH when the set has no ESP');
  t.ok(traps.every((x) => x.spec.direction === 'out' && x.spec.templates[0]!.mode === 'tunnel' && x.spec.templates[0]!.src === '172.16.0.1'));
  // the SA pair IKE installs later uses the same policy key, so the same reqid
  const spd = compileSpd(entries);
  const d = spd.outbound(packetKeyFromAcquire({ packetSelector: { src: '10.1.0.5', dst: '10.2.0.7', proto: 1, srcPort: 8, dstPort: 0 } } as AcquireEvent)!);
  t.equal(d.action, 'protect');
  if (d.action === 'protect') t.equal(traps[0]!.policyKey, d.policyKey, 'the trap and the acquired flow share the SPD policy key');
  t.equal(traps[0]!.spec.templates[0]!.reqid, reqidFor(traps[0]!.policyKey));
  t.same(trapPolicies(compileSpd(entries), undefined, reqidFor, words), [], 'no local address: no traps');
});

t.test('an ACQUIRE becomes the SPD packet key', async (t) => {
  const k = packetKeyFromAcquire({ packetSelector: { src: '10.1.0.5', dst: '10.2.0.7', proto: 1, srcPort: 8, dstPort: 0 } } as AcquireEvent)!;
  t.same([k.family, [...k.src], [...k.dst], k.proto, k.srcPort, k.dstPort], [4, [0x0a010005], [0x0a020007], 1, 0x0800, 0x0800], 'ICMP type/code as the SPD keeps them');
  const u = packetKeyFromAcquire({ packetSelector: { src: '10.1.0.5/32', dst: '10.2.0.7/32', proto: 17, srcPort: 5000, dstPort: 53 } } as AcquireEvent)!;
  t.same([u.srcPort, u.dstPort], [5000, 53]);
  t.equal(packetKeyFromAcquire({ packetSelector: { src: '2001:db8::1', dst: '2001:db8::2' } } as AcquireEvent), undefined, 'IPv6 is not mapped (yet)');
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
  t.equal(added.length, 3, 'each trap once (an SA policy may have replaced it since)');
  t.ok(added.every((p) => p.replace === true));
  sync.sync(traps.slice(0, 1));
  await new Promise((r) => setImmediate(r));
  t.same(deleted.map((p) => p.selector.dst).sort(), ['10.3.0.0/24', '10.5.0.0/24']);
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
