// IpsecSa.sealTcpSuperPacket (native gcmSealTcp in drivers/native/src/aead.c): one IPv4
// TCP super-packet read from an offload TUN, cut and sealed in one call, must give exactly
// the ESP packets that cutting it with tun-offload's segmentFrame and protecting each
// segment gives - same bytes, same sequence numbers and IVs, same counters - and must
// decline (0, nothing consumed) whatever it cannot do, so the per-segment path takes it.
import t, { type Test } from 'tap';
import { createSoftwareEngine } from '../../drivers/software/software-engine.js';
import { nativeCrypto } from '../../drivers/software/native-crypto.js';
import type { IpsecSa } from '../../firmware/ipsec/ipsec-sa.js';
import {
  segmentFrame, VIRTIO_NET_HDR_BYTES, VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4,
} from '../../firmware/dataplane/tun-offload.js';
import { prng, saPair, toHex } from './helpers.js';
import { foldChecksum, onesSum } from '../../firmware/proto/ip-packet.js';

const rnd = prng(7300);
const native = nativeCrypto();
const skip = native?.gcmSealTcp ? undefined : 'native addon unavailable (RAMPART_NATIVE=0 or not built): the per-segment path is used';

function randInt(lo: number, hi: number): number {
  return lo + (rnd(4).reduce((a, b) => a * 256 + b, 0) % (hi - lo + 1));
}

/** An IPv4 TCP super-packet: IP options and TCP options sometimes, checksum left as garbage. */
function superPacket(payload: number, opts: { ipOpt?: boolean; tcpOpt?: boolean; flags?: number } = {}): Uint8Array {
  const ihl = opts.ipOpt ? 24 : 20;
  const thl = opts.tcpOpt ? 32 : 20;
  const total = ihl + thl + payload;
  const p = new Uint8Array(total);
  p[0] = 0x40 | (ihl / 4);
  p[1] = 0x02; // ECT(0)
  p[2] = total >> 8; p[3] = total & 0xff;
  p.set(rnd(2), 4);
  p[6] = 0x40; p[8] = 64; p[9] = 6;
  p.set([10, 1, 0, 2, 10, 2, 0, 2], 12);
  if (opts.ipOpt) p.set([1, 1, 1, 0], 20); // NOP NOP NOP EOL
  const tcp = ihl;
  p.set(rnd(4), tcp); // ports
  p.set(rnd(8), tcp + 4); // seq, ack
  p[tcp + 12] = (thl / 4) << 4;
  p[tcp + 13] = opts.flags ?? 0x18;
  p.set(rnd(2), tcp + 14);
  p.set(rnd(2), tcp + 16); // checksum: garbage, both paths must compute it
  if (opts.tcpOpt) p.set([1, 1, 8, 10, ...rnd(8)], tcp + 20);
  p.set(rnd(payload), ihl + thl);
  return p;
}

/** The per-segment reference: segmentFrame + protect, ESP from the SPI on. */
function perSegment(sa: IpsecSa, packet: Uint8Array, mss: number): Uint8Array[] {
  const frame = new Uint8Array(VIRTIO_NET_HDR_BYTES + packet.length);
  frame[0] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  frame[1] = VIRTIO_NET_HDR_GSO_TCPV4;
  const ihl = (packet[0]! & 15) * 4;
  const hdrLen = ihl + (packet[ihl + 12]! >> 4) * 4;
  frame[2] = hdrLen & 0xff; frame[3] = hdrLen >> 8;
  frame[4] = mss & 0xff; frame[5] = mss >> 8;
  frame[6] = ihl; frame[8] = 16;
  frame.set(packet, VIRTIO_NET_HDR_BYTES);
  const out: Uint8Array[] = [];
  const r = segmentFrame(frame, (seg) => {
    const p = sa.protect(seg);
    if (p.code !== 'ok') throw new Error(`protect: ${p.code}`);
    out.push(Uint8Array.from(p.packet.subarray(p.udpPayloadOffset)));
  });
  if (r !== 'ok') throw new Error(`segmentFrame: ${r}`);
  return out;
}

function superSeal(sa: IpsecSa, packet: Uint8Array, mss: number, outBytes = 256 * 1024): { n: number; packets: Uint8Array[]; p: Uint32Array } {
  const out = new Uint8Array(outBytes);
  const p = new Uint32Array(12);
  const n = sa.sealTcpSuperPacket(Uint8Array.from(packet), mss, out, p);
  const packets: Uint8Array[] = [];
  for (let i = 0, off = 0; i < n; i++, off += p[9]!) packets.push(out.slice(off, off + (i + 1 < n ? p[9]! : p[10]!)));
  return { n, packets, p };
}

function counters(sa: IpsecSa): string {
  const c = sa.counters;
  return JSON.stringify([c.encapsPkts, c.encryptPkts, c.digestPkts, c.bytesOut, c.sendErrors, String(sa.outboundSeq)]);
}

for (const set of [['esp-gcm 128'], ['esp-gcm 256'], ['esp-gmac 256']]) {
  for (const esn of [false, true]) {
    t.test(`${set.join(' ')} esn=${esn}: one call gives the per-segment packets`, { skip }, async (t) => {
      // twins: the same keys and starting state (saPair with one seed)
      const a = saPair(set, { udpEncap: true, esn, seed: 31 });
      const b = saPair(set, { udpEncap: true, esn, seed: 31 });
      let cases = 0;
      for (const mss of [1360, 1448, 536, 100, 7]) {
        for (const payload of [0, 1, mss - 1, mss, mss + 1, 3 * mss, Math.min(40 * mss, 65000), randInt(1, Math.min(64 * mss, 65000))]) {
          if (payload < 0 || payload + 72 > 65535) continue;
          const flags = [0x18, 0x19, 0x10, 0x98, 0xd0 | 0x08][cases % 5]!;
          const pkt = superPacket(payload, { ipOpt: cases % 3 === 1, tcpOpt: cases % 2 === 0, flags });
          const ref = perSegment(b.tx, pkt, mss);
          const got = superSeal(a.tx, pkt, mss);
          cases++;
          if (got.n !== ref.length) { t.equal(got.n, ref.length, `mss ${mss} payload ${payload}: segment count`); continue; }
          const same = got.packets.every((g, i) => toHex(g) === toHex(ref[i]!));
          t.ok(same, `mss ${mss} payload ${payload} flags ${flags.toString(16)}: ${got.n} identical ESP packets`);
          t.equal(counters(a.tx), counters(b.tx), 'same counters, sequence number');
          // the receiving SA opens every packet to a valid inner segment
          let opened = 0;
          for (const g of got.packets) {
            const r = a.rx.unprotectPayload(Uint8Array.from(g), 17, Uint8Array.of(10, 0, 0, 1), Uint8Array.of(10, 0, 0, 2));
            if (r.code === 'ok') opened++;
          }
          t.equal(opened, got.n, 'the peer opens all of them');
        }
      }
      // state stays in step: the next ordinary packet is the same on both
      const pkt = superPacket(500);
      const pa = a.tx.protect(pkt);
      const pb = b.tx.protect(Uint8Array.from(pkt));
      t.ok(pa.code === 'ok' && pb.code === 'ok' && toHex(pa.packet.subarray(pa.udpPayloadOffset)) === toHex(pb.packet.subarray(pb.udpPayloadOffset)),
        'a following per-packet protect matches (seq and IV in step)');
      t.ok(cases >= 30, `${cases} super-packets compared`);
    });
  }
}

t.test('declines what it cannot do, consuming nothing', { skip }, async (t) => {
  const check = (t: Test, sa: IpsecSa, pkt: Uint8Array, mss: number, why: string, outBytes?: number): void => {
    const before = counters(sa);
    t.equal(superSeal(sa, pkt, mss, outBytes).n, 0, why);
    t.equal(counters(sa), before, `${why}: nothing consumed`);
  };
  const pkt = superPacket(10_000);
  check(t, saPair(['esp-aes 256', 'esp-sha-hmac'], { udpEncap: true }).tx, pkt, 1400, 'AES-CBC + HMAC (no native train)');
  check(t, saPair(['esp-gcm 256'], { udpEncap: true, mode: 'transport' }).tx, pkt, 1400, 'transport mode');
  check(t, saPair(['esp-gcm 256'], { udpEncap: true, v6Outer: true }).tx, pkt, 1400, 'IPv6 outer addresses');
  check(t, saPair(['ah-sha-hmac', 'esp-gcm 256'], {}).tx, pkt, 1400, 'AH in the bundle');
  check(t, saPair(['esp-gcm 256', 'comp-lzs'], { udpEncap: true }).tx, pkt, 1400, 'IPComp');
  check(t, saPair(['esp-gcm 256'], { udpEncap: true, initialSeq: 0xfffffffan }).tx, pkt, 1400, 'sequence number would wrap inside the frame (8 packets, 5 left)');
  const gcm = saPair(['esp-gcm 256'], { udpEncap: true }).tx;
  check(t, gcm, pkt, 1400, 'output buffer too small', 4000);
  const v6 = Uint8Array.from(pkt); v6[0] = 0x60;
  check(t, gcm, v6, 1400, 'not IPv4');
  const udp = Uint8Array.from(pkt); udp[9] = 17;
  check(t, gcm, udp, 1400, 'not TCP');
  const longTot = Uint8Array.from(pkt); longTot[2] = 0xff; longTot[3] = 0xff;
  check(t, gcm, longTot, 1400, 'total length past the frame');
  const badThl = Uint8Array.from(pkt); badThl[20 + 12] = 0x10;
  check(t, gcm, badThl, 1400, 'TCP header length below 20');
  check(t, gcm, pkt.subarray(0, 30), 1400, 'truncated header');
  check(t, gcm, pkt, 0, 'MSS 0');
  gcm.destroy();
  check(t, gcm, pkt, 1400, 'destroyed SA');
  const slow = saPair(['esp-gcm 256'], { udpEncap: true, engine: createSoftwareEngine({ native: false }) }).tx;
  check(t, slow, pkt, 1400, 'engine without native contexts');
});

t.test('garbage frames never crash and never write past the output', { skip }, async (t) => {
  const sa = saPair(['esp-gcm 128'], { udpEncap: true, seed: 9 }).tx;
  let sealed = 0;
  for (let i = 0; i < 3000; i++) {
    const pkt = superPacket(randInt(0, 3000), { ipOpt: i % 2 === 0 });
    // mutate the header bytes that steer the cutting
    for (let k = 0, m = randInt(1, 4); k < m; k++) pkt[randInt(0, 40)] = rnd(1)[0]!;
    const out = new Uint8Array(randInt(0, 8000) + 16);
    const guard = out.length - 16;
    const p = new Uint32Array(12);
    const n = sa.sealTcpSuperPacket(pkt, randInt(1, 1500), out.subarray(0, guard), p);
    if (n > 0) sealed++;
    if (n < 0 || out.subarray(guard).some((b) => b !== 0)) { t.fail(`frame ${i}: result ${n} or wrote past the end`); return; }
  }
  t.pass(`3000 mutated frames, ${sealed} sealed, no crash or overrun`);
  const addon = native!;
  const h = addon.gcmCreate(new Uint8Array(16), new Uint8Array(4));
  const bad: Array<[string, () => unknown]> = [
    ['no arguments', () => (addon.gcmSealTcp as unknown as () => number)()],
    ['params too short', () => addon.gcmSealTcp!(h, new Uint8Array(100), 10, new Uint8Array(100), new Uint32Array(4))],
    ['params of the wrong type', () => addon.gcmSealTcp!(h, new Uint8Array(100), 10, new Uint8Array(100), new Int32Array(12) as unknown as Uint32Array)],
    ['frame not bytes', () => addon.gcmSealTcp!(h, 'x' as unknown as Uint8Array, 10, new Uint8Array(100), new Uint32Array(12))],
    ['handle not a handle', () => addon.gcmSealTcp!(42 as unknown as typeof h, new Uint8Array(100), 10, new Uint8Array(100), new Uint32Array(12))],
  ];
  for (const [what, fn] of bad) t.throws(fn, `${what}: a JS error`);
  addon.gcmFree(h);
  t.equal(addon.gcmSealTcp!(h, superPacket(3000), 1000, new Uint8Array(8000), new Uint32Array(12)), 0, 'freed context: declines');
});

t.test('the train opener flags TCP segments whose checksums verify (the TUN writer skips re-summing them)', { skip }, async (t) => {
  const { tx, rx } = saPair(['esp-gcm 256'], { udpEncap: true, seed: 44 });
  // 1. a super-packet sealed whole: every segment carries fresh valid checksums
  const got = superSeal(tx, superPacket(20 * 1360), 1360);
  const stride = got.p[9]!;
  const train = new Uint8Array(got.packets.reduce((n, p) => n + p.length, 0));
  got.packets.forEach((p, i) => train.set(p, i * stride));
  const n = rx.openTrain(train, 0, stride, got.n, got.packets[got.n - 1]!.length);
  t.equal(n, got.n, `opened all ${n} segments in one call`);
  const flags: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const r = rx.trainResult(i);
    flags.push(r.code === 'ok' && rx.trainChecksumsOk);
  }
  t.ok(flags.every(Boolean), 'each segment: opened, checksums verified');
  // 2. a TCP segment with a wrong checksum, and a UDP datagram: opened, but not flagged
  const bad = superPacket(1000); // its TCP checksum is random bytes
  bad[10] = 0; bad[11] = 0;
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (bad[i]! << 8) | bad[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const hc = ~sum & 0xffff;
  bad[10] = hc >> 8; bad[11] = hc & 0xff; // a valid IPv4 header, so only the TCP sum is wrong
  // the right TCP checksum, then one bit off (deterministically wrong)
  bad[36] = 0; bad[37] = 0;
  const tc = foldChecksum(onesSum(bad, 20, bad.length, onesSum(bad, 12, 20, 0) + 6 + (bad.length - 20)));
  bad[36] = (tc >> 8) ^ 0x01; bad[37] = tc & 0xff;
  const udp = Uint8Array.from(bad); udp[9] = 17;
  for (const [what, pkt] of [['TCP with a wrong checksum', bad], ['UDP', udp]] as const) {
    const p = tx.protect(pkt);
    if (p.code !== 'ok') { t.fail(`protect: ${p.code}`); continue; }
    const esp = Uint8Array.from(p.packet.subarray(p.udpPayloadOffset));
    t.equal(rx.openTrain(esp, 0, esp.length, 1, esp.length), 1, `${what}: opened as a train of one`);
    const r = rx.trainResult(0);
    t.equal(r.code, 'ok', `${what}: delivered (the checksum is the receiver's business)`);
    t.equal(rx.trainChecksumsOk, false, `${what}: not flagged`);
  }
});

t.test('outer DF bit: copied from the inner packet by default, forced by df-bit set / clear', async (t) => {
  const { createSoftwareEngine: engine } = await import('../../drivers/software/software-engine.js');
  const { IpsecSa: Sa } = await import('../../firmware/ipsec/ipsec-sa.js');
  const { espParams, parseTransformSet } = await import('../../firmware/ipsec/transform.js');
  const params = espParams(parseTransformSet(['esp-gcm 256']), rnd(36), undefined, false);
  const make = (dfBit?: 'copy' | 'set' | 'clear'): IpsecSa => new Sa({
    mode: 'tunnel', esp: { spi: 0x99, params }, local: Uint8Array.of(10, 0, 0, 1), remote: Uint8Array.of(10, 0, 0, 2), udpEncap: { localPort: 4500, remotePort: 4500 },
    ...(dfBit ? { dfBit } : {}),
  }, engine());
  const withDf = superPacket(100);
  const noDf = Uint8Array.from(withDf); noDf[6] = 0;
  t.same([make().outerDontFragment(withDf), make().outerDontFragment(noDf)], [true, false], 'copy (default)');
  t.same([make('set').outerDontFragment(noDf), make('clear').outerDontFragment(withDf)], [true, false], 'set forces DF on, clear forces it off');
  // and protect() writes that bit into the outer header it builds
  const built = make().protect(noDf);
  t.ok(built.code === 'ok' && (built.packet[6]! & 0x40) === 0, 'protect copies a clear DF to the outer header');
  const builtDf = make().protect(withDf);
  t.ok(builtDf.code === 'ok' && (builtDf.packet[6]! & 0x40) !== 0, 'and a set one');
});
