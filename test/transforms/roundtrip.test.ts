// Round trips through IpsecSa.protect -> unprotect for every transform combination of the
// guide's table, in tunnel and transport mode, IPv4 and IPv6, with ESN and ESP-in-UDP;
// plus tampering (ICV failure), replay, padding and counter checks.
import t from 'tap';
import { parseIpHeader } from '../../firmware/proto/ip-packet.js';
import { ipv4ChecksumOk, ipv4Udp, ipv6Udp, prng, saPair, toHex } from './helpers.js';

const CIPHERS = ['esp-aes 128', 'esp-aes 192', 'esp-aes 256', 'esp-3des', 'esp-des', 'esp-null'];
const AUTHS = ['esp-md5-hmac', 'esp-sha-hmac', 'esp-sha256-hmac', 'esp-sha384-hmac', 'esp-sha512-hmac'];
const AEADS = ['esp-gcm 128', 'esp-gcm 192', 'esp-gcm 256', 'esp-gmac 128', 'esp-gmac 256'];

const SETS: string[][] = [
  ...CIPHERS.flatMap((c) => AUTHS.map((a) => [c, a])),
  ...AEADS.map((c) => [c]),
  ['esp-aes 256'], ['esp-3des'], // encryption only (allowed by IOS)
  ['ah-md5-hmac'], ['ah-sha-hmac'],
  ['ah-sha-hmac', 'esp-aes 256', 'esp-sha-hmac'], ['ah-md5-hmac', 'esp-gcm 128'], ['ah-sha-hmac', 'esp-null', 'esp-md5-hmac'],
  ['esp-aes', 'esp-sha-hmac', 'comp-lzs'], ['esp-gcm 256', 'comp-lzs'], ['ah-sha-hmac', 'comp-lzs'],
  ['ah-sha-hmac', 'esp-3des', 'esp-sha256-hmac', 'comp-lzs'],
];

const rnd = prng(99);
const text = new TextEncoder().encode('GET /index.html HTTP/1.1\r\nHost: branch.example\r\n\r\n'.repeat(20));

function inners(): Uint8Array[] {
  return [ipv4Udp(rnd(1)), ipv4Udp(rnd(37)), ipv4Udp(rnd(1372)), ipv4Udp(text.subarray(0, 800)), ipv6Udp(rnd(100)), ipv6Udp(text.subarray(0, 500))];
}

function hasIntegrity(words: string[]): boolean {
  return words.some((w) => /hmac|gcm|gmac/.test(w));
}

for (const words of SETS) {
  for (const mode of ['tunnel', 'transport'] as const) {
    for (const variant of ['v4', 'v6outer', 'esn', 'udp'] as const) {
      const isAh = words.some((w) => w.startsWith('ah-'));
      const hasEsp = words.some((w) => w.startsWith('esp-'));
      if (variant === 'udp' && (isAh || !hasEsp)) continue;
      if (variant === 'v6outer' && mode === 'transport') continue; // outer = inner family in transport mode
      const name = `${words.join(' + ')} ${mode} ${variant}`;
      t.test(name, async (t) => {
        const { tx, rx } = saPair(words, { mode, esn: variant === 'esn', v6Outer: variant === 'v6outer', udpEncap: variant === 'udp', seed: 3 });
        const packets = inners().filter((p) => mode === 'tunnel' || variant !== 'v6outer');
        const outs: Uint8Array[] = [];
        for (const inner of packets) {
          const r = tx.protect(inner);
          if (r.code !== 'ok') { t.fail(`protect ${r.code}`); continue; }
          const h = parseIpHeader(r.packet);
          t.ok(h, 'outer header parses');
          if (h?.version === 4) t.ok(ipv4ChecksumOk(r.packet), 'outer IPv4 checksum');
          if (mode === 'tunnel') t.same(Array.from(h!.dst), Array.from(variant === 'v6outer' ? h!.dst : [10, 0, 0, 2]));
          outs.push(r.packet.slice());
          const u = rx.unprotect(r.packet);
          if (u.code !== 'ok') { t.fail(`unprotect ${u.code}`); continue; }
          t.equal(toHex(u.packet), toHex(inner), 'inner packet restored exactly');
        }
        t.equal(tx.counters.encapsPkts, packets.length);
        t.equal(rx.counters.decapsPkts, packets.length);
        t.equal(rx.counters.recvErrors, 0);
        // Replay of an already accepted packet.
        const again = rx.unprotect(outs[0]!.slice());
        t.equal(again.code, 'replay', 'replayed packet dropped');
        // Tampering with the last byte (ICV or, without integrity, the trailer).
        if (hasIntegrity(words)) {
          const r = tx.protect(packets[2]!);
          if (r.code === 'ok') {
            const bad = r.packet.slice();
            bad[bad.length - 20] ^= 0x40;
            t.equal(rx.unprotect(bad).code, 'icv-failure', 'tampered packet fails the ICV');
            t.equal(rx.unprotect(r.packet).code, 'ok', 'the untampered one still passes afterwards');
          }
          t.equal(rx.counters.unprotectDrops['icv-failure'], 1);
        }
        if (words.includes('comp-lzs')) {
          t.ok(tx.counters.compressedPkts >= 2, 'text payloads compressed');
          t.ok(tx.counters.notCompressedPkts >= 2, 'random / tiny payloads sent uncompressed');
          t.equal(rx.counters.decompressedPkts, tx.counters.compressedPkts, "every compressed packet decompressed");
        }
      });
    }
  }
}

t.test('ESP-in-UDP: header, ports, keepalive and non-ESP marker', async (t) => {
  const { tx, rx } = saPair(['esp-aes 256', 'esp-sha-hmac'], { udpEncap: true, seed: 5 });
  const r = tx.protect(ipv4Udp(rnd(64)));
  if (r.code !== 'ok') return t.fail(r.code);
  t.equal(r.packet[9], 17, 'outer protocol UDP');
  t.equal((r.packet[20]! << 8) | r.packet[21]!, 4500);
  t.equal((r.packet[22]! << 8) | r.packet[23]!, 4500);
  t.equal(r.udpPayloadOffset, 28);
  t.equal((r.packet[24]! << 8) | r.packet[25]!, r.packet.length - 20, 'UDP length');
  // What a UDP socket delivers: the payload only.
  const payload = r.packet.slice(r.udpPayloadOffset);
  const u = rx.unprotectPayload(payload, 17, Uint8Array.of(10, 0, 0, 1), Uint8Array.of(10, 0, 0, 2));
  t.equal(u.code, 'ok');
  t.equal(rx.unprotectPayload(Uint8Array.of(0xff), 17, Uint8Array.of(10, 0, 0, 1), Uint8Array.of(10, 0, 0, 2)).code, 'nat-keepalive');
  t.equal(rx.unprotectPayload(Uint8Array.of(0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8), 17, Uint8Array.of(10, 0, 0, 1), Uint8Array.of(10, 0, 0, 2)).code, 'non-esp-marker');
  t.equal(rx.counters.recvErrors, 0, 'keepalives and IKE are not receive errors');
  t.equal(rx.counters.unprotectDrops['nat-keepalive'], 1);
});

t.test('transport mode over UDP encapsulation fixes the inner TCP/UDP checksum (RFC 3948 3.1.2)', async (t) => {
  const { tx, rx } = saPair(['esp-aes', 'esp-sha-hmac'], { mode: 'transport', udpEncap: true, seed: 8 });
  const inner = ipv4Udp(rnd(50));
  // Give the inner UDP a real checksum as the peer computed it before NAT.
  inner[26] = 0x12; inner[27] = 0x34;
  const r = tx.protect(inner);
  if (r.code !== 'ok') return t.fail(r.code);
  const u = rx.unprotect(r.packet);
  if (u.code !== 'ok') return t.fail(u.code);
  const { onesSum, pseudoHeaderSum, foldChecksum } = await import('../../firmware/proto/ip-packet.js');
  const sum = onesSum(u.packet, 20, u.packet.length, pseudoHeaderSum(u.packet.subarray(12, 16), u.packet.subarray(16, 20), 17, u.packet.length - 20));
  t.equal(foldChecksum(sum), 0, 'UDP checksum valid after decapsulation');
});

t.test('ESP padding is 1,2,3... and a wrong padding byte is refused', async (t) => {
  const { createHmac } = await import('node:crypto');
  const { createSoftwareEngine } = await import('../../drivers/software/software-engine.js');
  const { IpsecSa } = await import('../../firmware/ipsec/ipsec-sa.js');
  const { espParams, parseTransformSet } = await import('../../firmware/ipsec/transform.js');
  const authKey = rnd(20);
  const params = espParams(parseTransformSet(['esp-null', 'esp-sha-hmac']), new Uint8Array(0), authKey, false);
  const eng = createSoftwareEngine();
  const cfg = { mode: 'tunnel' as const, esp: { spi: 0x777, params } };
  const tx = new IpsecSa({ ...cfg, local: Uint8Array.of(10, 0, 0, 1), remote: Uint8Array.of(10, 0, 0, 2) }, eng);
  const rx = new IpsecSa({ ...cfg, local: Uint8Array.of(10, 0, 0, 2), remote: Uint8Array.of(10, 0, 0, 1) }, eng);
  const inner = ipv4Udp(rnd(4)); // 32 bytes + 2 -> 2 bytes of padding to reach a multiple of 4
  const r = tx.protect(inner);
  if (r.code !== 'ok') return t.fail(r.code);
  const trailer = r.packet.length - 12 - 2;
  t.equal(r.packet[trailer], 2, 'pad length');
  t.equal(r.packet[trailer + 1], 4, 'next header IPv4 in tunnel mode');
  t.same([r.packet[trailer - 2], r.packet[trailer - 1]], [1, 2], 'padding bytes 1, 2');
  const resign = (p: Uint8Array): Uint8Array => {
    const icv = createHmac('sha1', authKey).update(p.subarray(20, p.length - 12)).digest().subarray(0, 12);
    p.set(icv, p.length - 12);
    return p;
  };
  const badPad = r.packet.slice();
  badPad[trailer - 1] = 7;
  t.equal(rx.unprotect(resign(badPad)).code, 'bad-padding');
  const fresh = (): Uint8Array => {
    const x = tx.protect(inner);
    return x.code === 'ok' ? x.packet : new Uint8Array(0);
  };
  const badNh = fresh();
  badNh[trailer + 1] = 17;
  t.equal(rx.unprotect(resign(badNh)).code, 'bad-next-header', 'UDP is not a tunnel-mode next header');
  const dummy = fresh();
  dummy[trailer + 1] = 59;
  t.equal(rx.unprotect(resign(dummy)).code, 'dummy-packet');
  const padTooLong = fresh();
  padTooLong[trailer] = 250;
  t.equal(rx.unprotect(resign(padTooLong)).code, 'bad-padding');
  t.equal(rx.unprotect(resign(r.packet.slice())).code, 'replay', 'same sequence number once accepted');
  t.equal(rx.counters.recvErrors, 4, 'dummy packets are not errors');
});

t.test('ESN: sequence numbers cross the 32-bit boundary on both sides', async (t) => {
  const { tx, rx } = saPair(['esp-gcm 256'], { esn: true, initialSeq: 0xfffffffdn, seed: 12 });
  rx.espReplay!.seed(0, 0xfffffffd);
  for (let i = 0; i < 6; i++) {
    const r = tx.protect(ipv4Udp(rnd(20)));
    if (r.code !== 'ok') return t.fail(r.code);
    const u = rx.unprotect(r.packet);
    t.equal(u.code, 'ok', `packet ${i}`);
  }
  t.equal(tx.outboundSeq, 0x100000003n);
  t.equal(rx.espReplay!.top, 0x100000003n);
});

t.test('sequence overflow without ESN stops the SA; manual SAs may cycle', async (t) => {
  const { tx } = saPair(['esp-aes', 'esp-sha-hmac'], { initialSeq: 0xfffffffen, seed: 13 });
  t.equal(tx.protect(ipv4Udp(rnd(10))).code, 'ok');
  t.equal(tx.protect(ipv4Udp(rnd(10))).code, 'seq-overflow');
  t.equal(tx.counters.protectDrops['seq-overflow'], 1);
  t.equal(tx.counters.sendErrors, 1);
  const c = saPair(['esp-aes', 'esp-sha-hmac'], { initialSeq: 0xffffffffn, allowSeqCycle: true, replayWindow: 0, seed: 14 });
  t.equal(c.tx.protect(ipv4Udp(rnd(10))).code, 'ok');
});

t.test('outer header follows the inner packet: DSCP/ECN copied, ECN CE propagated on decap', async (t) => {
  const { tx, rx } = saPair(['esp-aes', 'esp-sha-hmac'], { seed: 15 });
  const inner = ipv4Udp(rnd(40), undefined, undefined, 0xb8 | 1); // EF + ECT(1)
  const r = tx.protect(inner);
  if (r.code !== 'ok') return t.fail(r.code);
  t.equal(r.packet[1], 0xb9, 'TOS copied');
  t.equal(r.packet[6]! & 0x40, 0x40, 'DF copied');
  r.packet[1] = 0xbb; // a router marked CE on the outer header
  const u = rx.unprotect(r.packet);
  if (u.code !== 'ok') return t.fail(u.code);
  t.equal(u.packet[1], 0xbb, 'CE propagated to the inner header');
  t.ok(ipv4ChecksumOk(u.packet));
});

t.test('wrong SPI, wrong protocol, fragments, truncation are result codes', async (t) => {
  const { tx, rx } = saPair(['esp-aes', 'esp-sha-hmac'], { seed: 16 });
  const r = tx.protect(ipv4Udp(rnd(40)));
  if (r.code !== 'ok') return t.fail(r.code);
  const badSpi = r.packet.slice(); badSpi[23] ^= 1;
  t.equal(rx.unprotect(badSpi).code, 'bad-spi');
  const badProto = r.packet.slice(); badProto[9] = 51;
  t.equal(rx.unprotect(badProto).code, 'unexpected-protocol');
  const frag = r.packet.slice(); frag[6] = 0x20;
  t.equal(rx.unprotect(frag).code, 'fragment');
  t.equal(rx.unprotect(r.packet.slice(0, 30)).code, 'bad-outer-packet');
  t.equal(rx.unprotect(new Uint8Array(0)).code, 'bad-outer-packet');
  t.equal(tx.protect(Uint8Array.of(0x45, 0, 0)).code, 'bad-inner-packet');
  t.equal(rx.counters.recvErrors, 5);
});

t.test('rebindEngine keeps sequence numbers and replay state', async (t) => {
  const { createSoftwareEngine } = await import('../../drivers/software/software-engine.js');
  const { tx, rx } = saPair(['esp-gcm 128'], { seed: 17 });
  const first = tx.protect(ipv4Udp(rnd(10)));
  if (first.code !== 'ok') return t.fail(first.code);
  const copy = first.packet.slice();
  t.equal(rx.unprotect(first.packet).code, 'ok');
  const spare = createSoftwareEngine({ name: 'software-2' });
  tx.rebindEngine(spare);
  rx.rebindEngine(spare);
  t.equal(tx.engine, 'software-2');
  t.equal(rx.unprotect(copy).code, 'replay', 'window survived the move');
  const second = tx.protect(ipv4Udp(rnd(10)));
  if (second.code !== 'ok') return t.fail(second.code);
  t.equal(tx.outboundSeq, 2n, 'sequence continued');
  t.equal(rx.unprotect(second.packet).code, 'ok');
  const batch = await tx.protectBatch([ipv4Udp(rnd(10)), ipv4Udp(rnd(11))]);
  t.same(batch.map((b) => b.code), ['ok', 'ok']);
  const back = await rx.unprotectBatch(batch.map((b) => (b.code === 'ok' ? b.packet : new Uint8Array(0))));
  t.same(back.map((b) => b.code), ['ok', 'ok']);
});

t.test('Node Buffers from sockets work as input (Buffer#slice aliasing does not bite)', async (t) => {
  for (const words of [['ah-sha-hmac', 'esp-aes', 'esp-sha-hmac', 'comp-lzs'], ['ah-md5-hmac'], ['esp-gcm 128', 'comp-lzs']]) {
    const { tx, rx } = saPair(words, { seed: 30 });
    const inner = Buffer.from(ipv4Udp(text.subarray(0, 400)));
    const r = tx.protect(inner);
    if (r.code !== 'ok') { t.fail(r.code); continue; }
    const u = rx.unprotect(Buffer.from(r.packet));
    t.equal(u.code, 'ok', words.join(' '));
    if (u.code === 'ok') t.equal(toHex(u.packet), toHex(inner));
  }
  const { createSoftwareEngine } = await import('../../drivers/software/software-engine.js');
  const { espParams, parseTransformSet } = await import('../../firmware/ipsec/transform.js');
  const key = Buffer.alloc(36, 7);
  const p = espParams(parseTransformSet(['esp-gcm 256']), key, undefined, false);
  key.fill(0);
  t.equal(p.cipherKey[0], 7, 'params own a copy of the key');
  t.ok(createSoftwareEngine().supports(p).ok);
});

t.test('info() describes the SA without keys', async (t) => {
  const { tx, rx } = saPair(['ah-sha-hmac', 'esp-aes 256', 'esp-sha-hmac', 'comp-lzs'], { esn: true, replayWindow: 512, seed: 40 });
  const r = tx.protect(ipv4Udp(rnd(10)));
  if (r.code === 'ok') rx.unprotect(r.packet);
  const i = rx.info();
  t.equal(i.espCipher, 'aes-cbc');
  t.equal(i.espCipherKeyBits, 256);
  t.equal(i.espIntegrity, 'hmac-sha1-96');
  t.equal(i.ahIntegrity, 'hmac-sha1-96');
  t.equal(i.cpi, 0x4242);
  t.equal(i.esn, true);
  t.equal(i.replayWindow, 512);
  t.equal(i.engine, 'software');
  t.equal(i.inboundTopSeq, 1n);
  t.equal(tx.info().outboundSeq, 1n);
  t.notMatch(JSON.stringify(i, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)), /key"/i, 'no key material');
});
