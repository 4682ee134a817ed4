// The XFRM backend's SA counters (firmware/daemon/xfrm-counters.ts): the kernel carries the
// packets, one GETSA dump reads its counters, and what grew lands in the SAD (byte lifetimes,
// DPD) and in the SA's show counters. The kernel side is a fake here; the real one is read in
// test/appliance/xfrm-pair.test.ts (two VMs: `show crypto ipsec sa` after a TCP transfer).
import t from 'tap';
import { XfrmBackend } from '../../firmware/kernel/xfrm-backend.js';
import { XFRM_MSG_GETSA } from '../../firmware/proto/netlink-xfrm.js';
import type { SaSpec as KernelSaSpec } from '../../firmware/kernel/kernel-ipsec.js';
import { Sad, type SadEvent } from '../../firmware/ipsec/sad.js';
import { parseIp } from '../../firmware/ipsec/selector.js';
import { newSaCounters } from '../../firmware/ipsec/sa-counters.js';
import type { IpsecSa } from '../../firmware/ipsec/ipsec-sa.js';
import { XfrmCounterSync } from '../../firmware/daemon/xfrm-counters.js';
import { FakeXfrmKernel } from '../kernel/fixtures/fake-xfrm-kernel.js';

const key = (n: number) => new Uint8Array(n).fill(7);
const LOCAL = '172.16.0.1';
const PEER = '172.16.0.2';

function kernelSa(direction: 'in' | 'out', spi: number): KernelSaSpec {
  return {
    src: direction === 'out' ? LOCAL : PEER, dst: direction === 'out' ? PEER : LOCAL, spi, protocol: 'esp', mode: 'tunnel', reqid: 1, direction,
    encryption: { transform: 'esp-gcm', key: key(36) }, replayWindow: direction === 'in' ? 64 : 0, esn: false, lifetime: {},
  };
}

t.test('kernel counters reach the SAD and the show counters, growth only, one dump per read', async (t) => {
  const fake = new FakeXfrmKernel();
  const backend = new XfrmBackend(fake, { requestTimeoutMs: 0 });
  const sad = new Sad<IpsecSa>({ now: () => 1000, random: () => 0 });
  const events: SadEvent<IpsecSa>[] = [];
  sad.on((e) => events.push(e));
  // the transform objects only keep counters here (no packets pass through them)
  const transform = () => ({ counters: newSaCounters(), destroy() {} }) as unknown as IpsecSa;
  const common = { proto: 50 as const, local: parseIp(LOCAL), peer: parseIp(PEER), policyKey: 'CM/10|x', lifetime: { seconds: 3600, kilobytes: 100 } };
  const inbound = sad.addInbound({ ...common, direction: 'inbound', spi: 0x1001, transform: transform() });
  const { bundle } = sad.setOutbound('CM/10|x', [{ ...common, direction: 'outbound', spi: 0x2002, transform: transform() }]);
  const outbound = bundle.sas[0]!;
  const map = new Map<number, KernelSaSpec[]>([[inbound.id, [kernelSa('in', 0x1001)]], [outbound.id, [kernelSa('out', 0x2002)]]]);
  for (const specs of map.values()) for (const s of specs) await backend.addSa(s);
  const sync = new XfrmCounterSync(backend, () => sad, () => map);

  fake.counters.set(0x1001, { packets: 40n, bytes: 4000n, replay: 1, integrityFailed: 2 });
  fake.counters.set(0x2002, { packets: 50n, bytes: 6000n, replay: 0, integrityFailed: 0 });
  const before = fake.requests.length;
  await Promise.all([sync.refresh(), sync.refresh()]);
  t.equal(fake.requests.slice(before).filter((r) => r.header.type === XFRM_MSG_GETSA).length, 1, 'two callers at once: one GETSA dump');
  t.same([inbound.counters.decapsPkts, inbound.counters.decapsBytes, outbound.counters.encapsPkts, outbound.counters.encapsBytes], [40, 4000, 50, 6000], 'SAD counters');
  const ic = inbound.transform.counters;
  const oc = outbound.transform.counters;
  t.same([oc.encapsPkts, oc.encryptPkts, oc.digestPkts, oc.bytesOut], [50, 50, 50, 6000], 'outbound show counters (esp-gcm: encrypt and digest)');
  t.same([ic.decapsPkts, ic.decryptPkts, ic.verifyPkts, ic.bytesIn], [40, 40, 40, 4000], 'inbound show counters');
  t.same([ic.unprotectDrops.replay, ic.unprotectDrops['icv-failure'], ic.recvErrors], [1, 2, 3], 'replay and integrity failures');

  await sync.refresh();
  t.equal(outbound.counters.encapsPkts, 50, 'nothing new: nothing added');
  fake.counters.set(0x2002, { packets: 60n, bytes: 7000n, replay: 0, integrityFailed: 0 });
  await sync.refresh();
  t.same([outbound.counters.encapsPkts, oc.encapsPkts], [60, 60], 'only the growth is added');

  // kilobyte lifetime (100 KB: soft at 90 KB) through the SAD, as on the userspace path
  fake.counters.set(0x2002, { packets: 100n, bytes: 95n * 1024n, replay: 0, integrityFailed: 0 });
  await sync.refresh();
  t.ok(events.some((e) => e.type === 'soft' && e.cause === 'bytes' && e.sa === outbound), 'the kernel\'s bytes soft-expire the SA (rekey)');
  fake.counters.set(0x2002, { packets: 120n, bytes: 101n * 1024n, replay: 0, integrityFailed: 0 });
  await sync.refresh();
  t.ok(events.some((e) => e.type === 'hard' && e.cause === 'bytes' && e.sa === outbound), 'and hard-expire it past the limit');

  map.clear();
  await sync.refresh();
  t.equal(fake.requests.filter((r) => r.header.type === XFRM_MSG_GETSA).length, 5, 'no kernel SAs of ours: no dump');
});

t.test('listSas: one dump for all SAs; unknown SAs of the namespace are left out', async (t) => {
  const fake = new FakeXfrmKernel();
  const backend = new XfrmBackend(fake, { requestTimeoutMs: 0 });
  t.same(await backend.listSas(), [], 'none: no request');
  t.equal(fake.requests.length, 0);
  for (let i = 0; i < 20; i++) await backend.addSa(kernelSa('out', 0x3000 + i));
  // an SA someone else installed in the namespace
  const s0 = [...fake.states.values()][0]!;
  fake.states.set('50/other/0x9999', { ...s0, info: { ...s0.info, id: { ...s0.info.id, spi: 0x9999 } } });
  fake.counters.set(0x3005, { packets: 5n, bytes: 500n, replay: 0, integrityFailed: 0 });
  const before = fake.requests.length;
  const list = await backend.listSas();
  t.equal(fake.requests.length - before, 1, '20 SAs: one request');
  t.equal(list.length, 20, 'ours only');
  t.same([list[5]!.spi, list[5]!.counters.packets, list[5]!.counters.bytes], [0x3005, 5n, 500n]);
  fake.states.delete(`50/${PEER}/${0x3007}`);
  const after = await backend.listSas();
  t.equal(after.find((s) => s.spi === 0x3007)!.counters.packets, 0n, 'an SA gone from the kernel reads zero');
});
