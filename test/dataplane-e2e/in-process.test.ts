// Two DataplaneServices wired back to back in one process (no root, no sockets): config
// through the CLI, packets through Pipeline, show/clear through the real RuntimeView, and
// the IKE API (acquire -> installChildSa). Runs everywhere, including CI without root.
import t from 'tap';
import type { Test as Tap } from 'tap';
import '../../firmware/cli/commands/index.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import { createConfig, type Config } from '../../firmware/config/model.js';
import { DataplaneService } from '../../firmware/daemon/dataplane-service.js';
import type { ServiceContext } from '../../firmware/daemon/daemon.js';
import { busMembers } from '../../firmware/lib/event-bus.js';
import { BindRegistry } from '../../firmware/dataplane/bind-registry.js';
import type { PipelineAcquire } from '../../firmware/dataplane/pipeline.js';
import { simBoard } from '../../board/sim.js';
import { fakeSystem, type FakeSystem } from '../lib/fake-system.js';
import { manualConfig } from './rampart-pair.js';
import { ipv4Packet } from '../lib/packets.js';
import { RuntimeRegistry } from '../../firmware/daemon/runtime-view.js';

interface Box { cfg: Config; sys: FakeSystem; svc: DataplaneService; delivered: Uint8Array[]; wire: Uint8Array[]; tags: unknown[]; cli(lines: string[]): Promise<string> }

async function box(peer: () => Box | undefined): Promise<Box> {
  const cfg = createConfig();
  const sys = fakeSystem();
  const delivered: Uint8Array[] = [];
  const wire: Uint8Array[] = [];
  const tags: unknown[] = [];
  const svc = new DataplaneService({
    userspace: false, detect: false,
    io: {
      sendOuter: (p, sa) => { tags.push(sa); const c = Uint8Array.from(p); wire.push(c); peer()?.svc.pipeline.inbound(Uint8Array.from(c)); return true; },
      deliverInner: (p) => { delivered.push(Uint8Array.from(p)); return true; },
    },
  });
  const ctx: ServiceContext = {
    board: simBoard({ portMap: {} }), system: sys, config: () => cfg, runtime: new RuntimeRegistry(sys.runtime), log: () => {}, ...busMembers(),
    binds: new BindRegistry(async () => { throw new Error('no sockets in this test'); }),
    service: () => undefined,
  };
  await svc.start(ctx);
  const b: Box = {
    cfg, sys, svc, delivered, wire, tags,
    async cli(lines) {
      const { text } = await runTranscript(lines, { config: cfg, system: sys, privileged: true });
      svc.apply(cfg);
      return text;
    },
  };
  return b;
}

const ipv4 = ipv4Packet;
const icmp = (src: string, dst: string): Uint8Array => ipv4(src, dst, 1, Uint8Array.from([8, 0, 0, 0, 0, 1, 0, 1, 1, 2, 3, 4]));

/** Two boxes wired back to back, stopped at teardown, configured with manualConfig(opts). */
async function pair(t: Tap, opts: Parameters<typeof manualConfig>[1] = {}): Promise<[Box, Box]> {
  let bRef: Box | undefined;
  let aRef: Box | undefined;
  const a = await box(() => bRef);
  aRef = a;
  const b = await box(() => aRef);
  bRef = b;
  t.teardown(async () => { await a.svc.stop(); await b.svc.stop(); });
  await a.cli(['configure terminal', ...manualConfig('A', opts), 'end']);
  await b.cli(['configure terminal', ...manualConfig('B', opts), 'end']);
  return [a, b];
}

t.test('manual SAs, show and clear, IKE API, in process', async (t) => {
  const [a, b] = await pair(t);

  a.svc.pipeline.outbound(icmp('10.1.0.2', '10.2.0.2'));
  t.equal(b.delivered.length, 1, 'B decrypted A\'s packet');
  t.same([...b.delivered[0]!.subarray(12, 20)], [10, 1, 0, 2, 10, 2, 0, 2], 'the inner packet');
  t.equal(a.wire[0]![9], 50, 'ESP on the wire');
  b.svc.pipeline.outbound(icmp('10.2.0.2', '10.1.0.2'));
  t.equal(a.delivered.length, 1, 'and back');

  // not in the ACL: no protection (the routing would not have steered it; counted as bypass)
  a.svc.pipeline.outbound(icmp('10.1.0.2', '10.9.0.2'));
  t.equal(a.svc.pipeline.counters.outBypass, 1);

  // replay of the first packet
  b.svc.pipeline.inbound(Uint8Array.from(a.wire[0]!));
  t.equal(b.delivered.length, 1, 'replay not delivered');
  const detail = await b.cli(['show crypto ipsec sa detail']);
  t.match(detail, /##pkts replay failed \(rcv\): 1\n/);
  t.match(detail, /#pkts verify failed: 0\n/);
  t.match(detail, /#pkts decaps: 1, #pkts decrypt: 1, #pkts verify: 1/);
  t.match(await b.cli(['show crypto ipsec sa']), /#send errors 0, #recv errors 1/);

  // a tampered copy of a packet already received: the replay check comes first
  a.svc.pipeline.outbound(icmp('10.1.0.2', '10.2.0.2'));
  const last = Uint8Array.from(a.wire[a.wire.length - 1]!);
  last[last.length - 20]! ^= 1;
  b.svc.pipeline.inbound(last);
  t.match(await b.cli(['show crypto ipsec sa detail']), /##pkts replay failed \(rcv\): 2\n/, 'same sequence number: counted as replay');
  // tampered with a fresh sequence number: ICV failure
  const fresh = Uint8Array.from(last);
  const seqOff = 20 + 4;
  fresh[seqOff + 3] = 200;
  b.svc.pipeline.inbound(fresh);
  t.match(await b.cli(['show crypto ipsec sa detail']), /#pkts verify failed: 1\n/, 'ICV failure counted');

  // filters
  t.match(await b.cli(['show crypto ipsec sa peer 172.16.0.1']), /current_peer 172\.16\.0\.1 port 500/);
  t.equal((await b.cli(['show crypto ipsec sa peer 172.16.0.9'])).includes('interface:'), false, 'other peer: nothing');
  t.equal((await b.cli(['show crypto ipsec sa map other'])).includes('interface:'), false, 'other map: nothing');
  t.match(await b.cli(['show crypto ipsec sa address']), /dest address: 172\.16\.0\.1\n {3}protocol: ESP\n {6}spi: 0x2002\(8194\)[^]*dest address: 172\.16\.0\.2\n {3}protocol: ESP\n {6}spi: 0x1001\(4097\)/);
  const json = await b.cli(['show crypto ipsec sa | json']);
  t.match(json, /"currentOutboundSpi": 8194/);

  // clear: manual SAs come back at once with fresh counters
  t.match(await b.cli(['show crypto ipsec sa']), /#pkts decaps: 2, #pkts decrypt: 2, #pkts verify: 2\n[^]*#recv errors 3/);
  await b.cli(['clear crypto sa entry 172.16.0.2 esp 0x1001']);
  const cleared = await b.cli(['show crypto ipsec sa']);
  t.match(cleared, /#pkts decaps: 0/, 'fresh counters after clear');
  t.match(cleared, /spi: 0x1001\(4097\)/, 'manual SA reinstalled');
  t.match(await b.cli(['clear crypto sa entry 172.16.0.2 esp zz']), /% Invalid SPI/);
  await b.cli(['clear crypto sa peer 172.16.0.1']);
  await b.cli(['clear crypto sa map mymap']);
  t.match(await b.cli(['show crypto engine brief']), /Active SAs: +2/, 'still 2 SAs after clears');
  t.match(await b.cli(['show crypto engine configuration']), /inNoSa +0/);

  // IKE API: an isakmp entry raises acquire, installChildSa makes the flow pass
  const isakmp = (side: 'A' | 'B'): string[] => {
    const local = side === 'A' ? '10.1.0.0' : '10.3.0.0';
    const remote = side === 'A' ? '10.3.0.0' : '10.1.0.0';
    return ['configure terminal', `access-list 102 permit ip ${local} 0.0.0.255 ${remote} 0.0.0.255`,
      'crypto map mymap 20 ipsec-isakmp', ` set peer ${side === 'A' ? '172.16.0.2' : '172.16.0.1'}`, ' set transform-set ts', ' match address 102', 'end'];
  };
  await a.cli(isakmp('A'));
  await b.cli(isakmp('B'));
  const acquires: PipelineAcquire[] = [];
  a.svc.onAcquire((ev) => acquires.push(ev));
  a.svc.pipeline.outbound(icmp('10.1.0.2', '10.3.0.7'));
  a.svc.pipeline.outbound(icmp('10.1.0.2', '10.3.0.8'));
  await new Promise((r) => setImmediate(r));
  t.equal(acquires.length, 1, 'one acquire (rate-limited per policy)');
  const acq = acquires[0]!;
  t.equal(acq.decision.entry.seq, 20);
  t.equal(acq.iface, 'FastEthernet0/0');
  const key = new Uint8Array(32).fill(9);
  const auth = new Uint8Array(20).fill(3);
  const spiA = a.svc.allocateSpi('esp');
  const spiB = b.svc.allocateSpi('esp');
  const words = ['esp-aes', '256', 'esp-sha-hmac'];
  a.svc.installChildSa({
    mapName: 'mymap', mapSeq: 20, policyKey: acq.decision.policyKey, scope: acq.decision.scope, local: '172.16.0.1', peer: '172.16.0.2',
    transformWords: words, mode: 'tunnel', inbound: { espSpi: spiA, espCipherKey: key, espAuthKey: auth }, outbound: { espSpi: spiB, espCipherKey: key, espAuthKey: auth },
    lifetime: { seconds: 3600, kilobytes: 4608000 }, childId: 1,
  });
  const bSpd = b.svc.spdFor('FastEthernet0/0')!;
  const bDecision = bSpd.outbound({ family: 4, src: Uint32Array.of(0x0a030007), dst: Uint32Array.of(0x0a010002), proto: 1, srcPort: 0x0800, dstPort: 0x0800 });
  if (bDecision.action !== 'protect') throw new Error('B: expected protect');
  b.svc.installChildSa({
    mapName: 'mymap', mapSeq: 20, policyKey: bDecision.policyKey, scope: bDecision.scope, local: '172.16.0.2', peer: '172.16.0.1',
    transformWords: words, mode: 'tunnel', inbound: { espSpi: spiB, espCipherKey: key, espAuthKey: auth }, outbound: { espSpi: spiA, espCipherKey: key, espAuthKey: auth },
    lifetime: { seconds: 3600, kilobytes: 4608000 }, childId: 1,
  });
  const before = b.delivered.length;
  a.svc.pipeline.outbound(icmp('10.1.0.2', '10.3.0.7'));
  t.equal(b.delivered.length, before + 1, 'negotiated-style SA carries the flow');
  const show = await a.cli(['show crypto ipsec sa']);
  t.match(show, /sa timing: remaining key lifetime \(k\/sec\): \(4608000\/3600\)/, 'lifetimes shown for non-manual SAs');
  t.throws(() => a.svc.installChildSa({
    mapName: 'mymap', mapSeq: 20, policyKey: acq.decision.policyKey, scope: acq.decision.scope, local: '172.16.0.1', peer: '172.16.0.2',
    transformWords: words, mode: 'tunnel', inbound: { espSpi: 999, espCipherKey: key.subarray(0, 5), espAuthKey: auth }, outbound: { espSpi: 998, espCipherKey: key, espAuthKey: auth },
  }), /32-byte cipher key/, 'wrong key length refused');
});

t.test('a box without wired ports runs no packet I/O (safe in the host namespace)', async (t) => {
  const sys = fakeSystem();
  const cfg = createConfig();
  const calls: string[][] = [];
  const svc = new DataplaneService({ run: (argv) => { calls.push([...argv]); return { code: 0, stderr: '' }; } });
  await svc.start({
    board: simBoard({ portMap: {} }), system: sys, config: () => cfg, runtime: new RuntimeRegistry(sys.runtime), log: () => {}, ...busMembers(),
    binds: new BindRegistry(async () => { throw new Error('no sockets'); }), service: () => undefined,
  });
  await runTranscript(['configure terminal', ...manualConfig('A'), 'end'], { config: cfg, system: sys, privileged: true });
  svc.apply(cfg);
  t.equal(svc.backend, undefined, 'no TUN, no sockets');
  t.same(calls, [], 'no ip/sysctl command run');
  const { text } = await runTranscript(['show crypto engine configuration'], { config: cfg, system: sys, privileged: true });
  t.match(text, /IPsec data path: +none\nReason: +no board port is mapped/);
  t.match((await runTranscript(['show crypto ipsec sa'], { config: cfg, system: sys, privileged: true })).text, /spi: 0x1001\(4097\)/, 'SAs still installed in the SAD for show');
  await svc.stop();
});

t.test('comp-lzs with ESP between two boxes (scapy has no LZS: checked Rampart to Rampart)', async (t) => {
  const [a, b] = await pair(t, { transform: 'esp-aes 256 esp-sha-hmac comp-lzs' });
  const payload = new Uint8Array(1000);
  for (let i = 0; i < payload.length; i++) payload[i] = i % 7 === 0 ? 0x41 : 0x20;
  const inner = ipv4('10.1.0.2', '10.2.0.2', 17, payload);
  a.svc.pipeline.outbound(inner);
  t.equal(b.delivered.length, 1, 'delivered');
  t.same([...b.delivered[0]!], [...inner], 'decompressed to the original packet');
  t.ok(a.wire[0]!.length < inner.length, `compressed on the wire (${a.wire[0]!.length} < ${inner.length} bytes)`);
  t.match(await a.cli(['show crypto ipsec sa']), /#pkts compressed: 1/);
  t.match(await b.cli(['show crypto ipsec sa']), /#pkts decompressed: 1[^]*inbound pcp sas:\n {6}spi: 0x3\(3\)/);
});

t.test('XFRM translation of a child SA pair (kernel path, no kernel needed)', async (t) => {
  const { childSaToKernel } = await import('../../firmware/daemon/dataplane-service.js');
  const { parseAclEntry } = await import('../../firmware/ipsec/acl-classifier.js');
  const { aceToSelector } = await import('../../firmware/ipsec/spd.js');
  const scope = aceToSelector(parseAclEntry('permit tcp 10.1.0.0 0.0.0.255 host 10.2.0.5 eq 443'));
  const key = new Uint8Array(36).fill(1);
  const { sas, policies } = childSaToKernel({
    mapName: 'mymap', mapSeq: 10, policyKey: 'k', scope, local: '172.16.0.1', peer: '172.16.0.2',
    transformWords: ['esp-gcm', '256'], mode: 'tunnel', inbound: { espSpi: 0x2002, espCipherKey: key }, outbound: { espSpi: 0x1001, espCipherKey: key },
    lifetime: { seconds: 3600, kilobytes: 4608000 }, replayWindow: 128,
  }, 7, 10);
  t.same(sas.map((s) => [s.direction, s.protocol, s.spi, s.src, s.dst, s.reqid, s.encryption?.transform, s.replayWindow]), [
    ['in', 'esp', 0x2002, '172.16.0.2', '172.16.0.1', 7, 'esp-gcm', 128],
    ['out', 'esp', 0x1001, '172.16.0.1', '172.16.0.2', 7, 'esp-gcm', 0],
  ]);
  t.equal(sas[0]!.lifetime.hardSec, 3600);
  t.equal(sas[0]!.lifetime.hardBytes, 4608000n * 1024n);
  t.same(policies.map((p) => [p.direction, p.selector]), [
    ['out', { src: '10.1.0.0/24', dst: '10.2.0.5/32', proto: 6, dstPort: 443 }],
    ['in', { src: '10.2.0.5/32', dst: '10.1.0.0/24', proto: 6, srcPort: 443 }],
    ['fwd', { src: '10.2.0.5/32', dst: '10.1.0.0/24', proto: 6, srcPort: 443 }],
  ]);
  t.same(policies[0]!.templates, [{ protocol: 'esp', mode: 'tunnel', reqid: 7, src: '172.16.0.1', dst: '172.16.0.2' }]);
  t.same(policies[1]!.templates, [{ protocol: 'esp', mode: 'tunnel', reqid: 7, src: '172.16.0.2', dst: '172.16.0.1' }]);
});

t.test('a send refused after a batched flush lands on the SA that sent it', async (t) => {
  const [a] = await pair(t);
  a.svc.pipeline.outbound(icmp('10.1.0.2', '10.2.0.2'));
  t.equal(a.tags.length, 1, 'the pipeline passed a tag with the packet');
  t.ok(a.tags[0], 'the outbound SA');
  const before = { ...a.svc.pipeline.counters };
  a.svc.pipeline.sendFailedLate(a.tags[0] as Parameters<typeof a.svc.pipeline.sendFailedLate>[0]);
  t.equal(a.svc.pipeline.counters.outSendErrors, before.outSendErrors + 1, 'pipeline counts it');
  t.equal(a.svc.pipeline.counters.outProtected, before.outProtected - 1, 'and no longer as sent');
  const show = await a.cli(['show crypto ipsec sa']);
  t.match(show, /#send errors 1, #recv errors 0/, 'show crypto ipsec sa has it on the SA');
});

t.test('crypto ipsec df-bit set|clear|copy decides the outer DF bit (issue 15)', async (t) => {
  const [a, b] = await pair(t);
  const withDf = (p: Uint8Array): Uint8Array => { p[6] = 0x40; return p; };
  const outerDf = (): boolean => (a.wire[a.wire.length - 1]![6]! & 0x40) !== 0;
  a.svc.pipeline.outbound(icmp('10.1.0.2', '10.2.0.2'));
  t.notOk(outerDf(), 'copy (default): inner without DF -> outer without DF');
  a.svc.pipeline.outbound(withDf(icmp('10.1.0.2', '10.2.0.2')));
  t.ok(outerDf(), 'copy: inner with DF -> outer with DF');
  await a.cli(['configure terminal', 'crypto ipsec df-bit set', 'end']);
  a.svc.pipeline.outbound(icmp('10.1.0.2', '10.2.0.2'));
  t.ok(outerDf(), 'set: outer DF even when the inner packet has none');
  await a.cli(['configure terminal', 'crypto ipsec df-bit clear', 'end']);
  a.svc.pipeline.outbound(withDf(icmp('10.1.0.2', '10.2.0.2')));
  t.notOk(outerDf(), 'clear: no outer DF even when the inner packet has it');
  // per interface (the crypto map's): overrides the global setting, `no` gives it back
  await a.cli(['configure terminal', 'interface FastEthernet0/0', ' crypto ipsec df-bit set', 'end']);
  t.match(await a.cli(['show running-config interface FastEthernet0/0']), / crypto map mymap\n crypto ipsec df-bit set\n/, 'running-config shows it under the interface');
  a.svc.pipeline.outbound(icmp('10.1.0.2', '10.2.0.2'));
  t.ok(outerDf(), 'interface df-bit set wins over the global clear');
  await a.cli(['configure terminal', 'interface FastEthernet0/0', ' no crypto ipsec df-bit', 'end']);
  a.svc.pipeline.outbound(withDf(icmp('10.1.0.2', '10.2.0.2')));
  t.notOk(outerDf(), 'no crypto ipsec df-bit on the interface: the global clear again');
  t.ok(b.delivered.length >= 2, 'B decrypts them');
});
