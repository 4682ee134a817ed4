// Nested peers in the userspace pipeline, in process (no root; the netns proof is
// nested-peers.test.ts). Box A's map: entry 10 protects A's ESP to C for the outer peer B
// (esp-null + sha), entry 20 the LAN traffic for the inner peer C (esp-aes 256 + sha). A packet
// from A's LAN is sealed for C, then again for B; B opens the outer layer and finds ESP for C;
// C opens the inner one and finds the original. The way back is opened twice on A. Without the
// outer SA, the packet is dropped and IKE with B is asked for; an entry whose ACL covers its
// own SA's packets cannot make the pipeline loop.
import t from 'tap';
import { createSoftwareEngine } from '../../drivers/software/software-engine.js';
import { Pipeline, type MapEntryData, type PipelineAcquire, type PipelineIo } from '../../firmware/dataplane/pipeline.js';
import { parseAclEntry } from '../../firmware/ipsec/acl-classifier.js';
import { IpsecSa } from '../../firmware/ipsec/ipsec-sa.js';
import { Sad, type SaSpec } from '../../firmware/ipsec/sad.js';
import { packetKeyFromIp, parseIp } from '../../firmware/ipsec/selector.js';
import { compileSpd, type SpdMapEntryInput } from '../../firmware/ipsec/spd.js';
import { espParams, parseTransformSet } from '../../firmware/ipsec/transform.js';
import { ipv4Udp, prng, toHex } from '../transforms/helpers.js';

const A = '172.30.1.1';
const B = '172.30.1.2';
const C = '172.30.2.2';
const bytes = (a: string): Uint8Array => Uint8Array.from(a.split('.').map(Number));

/** One direction's keys for a transform set (the same on both ends). */
type SaMaker = (local: string, remote: string, spi: number) => IpsecSa;

function saPair(words: string[], seed: number): SaMaker {
  const set = parseTransformSet(words);
  const rnd = prng(seed);
  const params = espParams(set, rnd(set.espCipher!.keyLength + set.espCipher!.saltLength), set.espIntegrity ? rnd(20) : undefined, false);
  return (local, remote, spi) => new IpsecSa({ mode: 'tunnel', local: bytes(local), remote: bytes(remote), esp: { spi, params } }, createSoftwareEngine());
}

interface Box {
  pipe: Pipeline;
  sad: Sad<IpsecSa>;
  sent: Uint8Array[];
  delivered: Uint8Array[];
  acquires: PipelineAcquire[];
}

function box(entries: SpdMapEntryInput<MapEntryData>[]): Box {
  const sad = new Sad<IpsecSa>({ now: () => 1000 });
  const sent: Uint8Array[] = [];
  const delivered: Uint8Array[] = [];
  const io = { sendOuter: (p: Uint8Array) => { sent.push(p.slice()); return true; }, deliverInner: (p: Uint8Array) => { delivered.push(p.slice()); return true; } } as unknown as PipelineIo;
  const pipe = new Pipeline({ sad, io, now: () => 1000 });
  pipe.setInterfaces([{ name: 'FastEthernet0/0', spd: compileSpd(entries) }]);
  const acquires: PipelineAcquire[] = [];
  pipe.onAcquire((a) => acquires.push(a));
  return { pipe, sad, sent, delivered, acquires };
}

const entry = (seq: number, acl: string, peer: string): SpdMapEntryInput<MapEntryData> => ({
  mapName: 'NEST', seq, kind: 'isakmp', acl: [parseAclEntry(acl)], peers: [parseIp(peer)], data: { iface: 'FastEthernet0/0' },
});

function spec(dir: 'inbound' | 'outbound', spi: number, local: string, peer: string, mk: SaMaker): SaSpec<IpsecSa> {
  return { direction: dir, proto: 50, spi, local: parseIp(local), peer: parseIp(peer), mode: 'tunnel', transform: mk(local, peer, spi) };
}

/** The policy key the box's SPD gives a packet. */
function policyKeyOf(b: Box, p: Uint8Array): string {
  const k = packetKeyFromIp(p, { family: 4, src: new Uint32Array(1), dst: new Uint32Array(1), proto: 0, srcPort: 0, dstPort: 0 })!;
  for (const itf of b.pipe.spds) {
    const d = itf.spd.outbound(k);
    if (d.action === 'protect') return d.policyKey;
  }
  throw new Error('no entry protects it');
}

const ipOf = (p: Uint8Array, at: number): string => Array.from(p.subarray(at, at + 4)).join('.');
const spiOf = (p: Uint8Array): number => new DataView(p.buffer, p.byteOffset + 20, 4).getUint32(0);

t.test('A seals for C, then for B; B and C each open their layer; the way back is opened twice on A', async (t) => {
  const inner = saPair(['esp-aes', '256', 'esp-sha-hmac'], 7);
  const innerBack = saPair(['esp-aes', '256', 'esp-sha-hmac'], 8);
  const outer = saPair(['esp-null', 'esp-sha-hmac'], 9);
  const outerBack = saPair(['esp-null', 'esp-sha-hmac'], 10);
  const a = box([entry(10, `permit esp host ${A} host ${C}`, B), entry(20, 'permit ip 10.1.0.0 0.0.0.255 10.3.0.0 0.0.0.255', C)]);
  const lanPacket = ipv4Udp(Uint8Array.from({ length: 100 }, (_, i) => i), [10, 1, 0, 2], [10, 3, 0, 2]);
  const innerKey = policyKeyOf(a, lanPacket);
  a.sad.setOutbound(innerKey, [spec('outbound', 0x1111, A, C, inner)]);

  // no SA with the outer peer yet: the sealed packet is dropped and IKE with B is asked for
  a.pipe.outbound(lanPacket);
  await new Promise((r) => setImmediate(r));
  t.equal(a.sent.length, 0, 'nothing leaves without the outer SA');
  t.equal(a.acquires.length, 1, 'one acquire');
  t.equal(a.acquires[0]?.decision.entry.seq, 10, 'for entry 10 (the outer peer B)');
  t.equal(ipOf(Uint8Array.from(new Uint8Array(new Uint32Array([a.acquires[0]!.packet.dst[0]!]).buffer).reverse()), 0), C, 'about the ESP to C');

  // with it: sealed twice
  const outerKey = policyKeyOf(a, Uint8Array.from([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 50, 0, 0, ...bytes(A), ...bytes(C), ...new Uint8Array(20)]));
  a.sad.setOutbound(outerKey, [spec('outbound', 0x2222, A, B, outer)]);
  a.pipe.outbound(lanPacket);
  t.equal(a.sent.length, 1, 'one packet leaves');
  const wire = a.sent[0]!;
  t.same([ipOf(wire, 12), ipOf(wire, 16), wire[9], spiOf(wire)], [A, B, 50, 0x2222], 'to B, ESP, the outer SA');
  t.equal(a.pipe.counters.outNested, 1, 'counted as nested');
  const innerSa = a.sad.outbound(innerKey)!.sas[0]!;
  const outerSa = a.sad.outbound(outerKey)!.sas[0]!;
  t.equal(innerSa.counters.encapsPkts, 2, 'inner SA counted both packets (the dropped one and this one)');
  t.equal(outerSa.counters.encapsPkts, 1, 'outer SA counted this one');

  // B opens the outer layer: ESP from A to C, not for B: delivered to the kernel (forwarded to C)
  const b = box([entry(10, `permit esp host ${C} host ${A}`, A)]);
  b.sad.addInbound(spec('inbound', 0x2222, B, A, outer));
  b.pipe.inbound(wire);
  t.equal(b.delivered.length, 1, 'B delivers one packet');
  const forC = b.delivered[0]!;
  t.same([ipOf(forC, 12), ipOf(forC, 16), forC[9], spiOf(forC)], [A, C, 50, 0x1111], 'B finds ESP from A to C (the inner SA)');
  t.equal(b.pipe.counters.inNested, 0, 'B does not open it (not its SA)');

  // C opens the inner layer: the original packet
  const c = box([entry(10, 'permit ip 10.3.0.0 0.0.0.255 10.1.0.0 0.0.0.255', A)]);
  c.sad.addInbound(spec('inbound', 0x1111, C, A, inner));
  c.pipe.inbound(forC.slice());
  t.same(c.delivered.map(toHex), [toHex(lanPacket)], 'C delivers the original packet');

  // the way back: C seals for A, B seals that again for A, A opens both at once
  const reply = ipv4Udp(Uint8Array.from([1, 2, 3]), [10, 3, 0, 2], [10, 1, 0, 2]);
  c.sad.setOutbound(policyKeyOf(c, reply), [spec('outbound', 0x3333, C, A, innerBack)]);
  c.pipe.outbound(reply);
  const fromC = c.sent[0]!;
  t.same([ipOf(fromC, 16), spiOf(fromC)], [A, 0x3333], 'C sends ESP to A');
  b.sad.setOutbound(policyKeyOf(b, fromC), [spec('outbound', 0x4444, B, A, outerBack)]);
  b.pipe.outbound(fromC);
  const toA = b.sent[0]!;
  t.same([ipOf(toA, 12), ipOf(toA, 16), spiOf(toA)], [B, A, 0x4444], 'B protects it again for A');
  a.sad.addInbound(spec('inbound', 0x4444, A, B, outerBack));
  a.sad.addInbound(spec('inbound', 0x3333, A, C, innerBack));
  a.pipe.inbound(toA);
  t.same(a.delivered.map(toHex), [toHex(reply)], 'A delivers the reply once both layers are open');
  t.equal(a.pipe.counters.inNested, 1, 'A opened the inner layer itself (no trip through the kernel)');
});

t.test('an entry whose ACL covers its own SA\'s packets does not loop', async (t) => {
  const sa = saPair(['esp-null', 'esp-sha-hmac'], 11);
  // `permit ip any any` toward B: the SA's own ESP to B matches the same entry again
  const a = box([entry(10, 'permit ip any any', B)]);
  const p = ipv4Udp(Uint8Array.from([9]), [10, 1, 0, 2], [10, 3, 0, 2]);
  const key = policyKeyOf(a, p);
  a.sad.setOutbound(key, [spec('outbound', 0x5555, A, B, sa)]);
  a.pipe.outbound(p);
  t.equal(a.sent.length, 0, 'its outer packet is not sent (it would be protected by itself)');
  t.equal(a.pipe.counters.outNested, 0, 'never sealed again');
  t.equal(a.pipe.counters.outPolicyDrop, 1, 'dropped and counted');

  // a chain longer than MAX_NESTING: each layer's SA toward the next address, protected by the next entry
  const hops = ['172.31.0.1', '172.31.0.2', '172.31.0.3', '172.31.0.4'];
  const deep = box([
    entry(1, `permit esp host ${A} host ${hops[2]}`, hops[3]!),
    entry(2, `permit esp host ${A} host ${hops[1]}`, hops[2]!),
    entry(3, `permit esp host ${A} host ${hops[0]}`, hops[1]!),
    entry(4, 'permit ip 10.1.0.0 0.0.0.255 10.3.0.0 0.0.0.255', hops[0]!),
  ]);
  const esp = (dst: string): Uint8Array => Uint8Array.from([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 50, 0, 0, ...bytes(A), ...bytes(dst), ...new Uint8Array(20)]);
  const mk = saPair(['esp-null', 'esp-sha-hmac'], 12);
  deep.sad.setOutbound(policyKeyOf(deep, p), [spec('outbound', 0x1010, A, hops[0]!, mk)]);
  for (let i = 0; i < 3; i++) deep.sad.setOutbound(policyKeyOf(deep, esp(hops[i]!)), [spec('outbound', 0x1011 + i, A, hops[i + 1]!, mk)]);
  deep.pipe.outbound(p);
  t.equal(deep.sent.length, 0, 'a fourth layer is refused');
  t.equal(deep.pipe.counters.outNested, 2, 'three layers were built (two nested) before the bound');
});
