// Bounded fuzz of the packet path: thousands of mutated ESP / AH / IPComp / ESP-in-UDP
// packets. Nothing may throw, and every packet must end up in exactly one counter.
import t from 'tap';
import { createSoftwareEngine } from '../../drivers/software/software-engine.js';
import { IpsecSa } from '../../firmware/ipsec/ipsec-sa.js';
import { UNPROTECT_DROP_CODES } from '../../firmware/ipsec/sa-counters.js';
import { ipv4Udp, ipv6Udp, prng, saPair } from './helpers.js';

const MAX_MS = 25_000;
const PER_CONFIG = 3000;

function accounted(sa: IpsecSa): number {
  let n = sa.counters.decapsPkts;
  for (const c of UNPROTECT_DROP_CODES) n += sa.counters.unprotectDrops[c];
  return n;
}

function mutate(p: Uint8Array, r: (n: number) => Uint8Array): Uint8Array {
  const [kind = 0, a = 0, b = 0, c = 0] = r(4);
  const q = p.slice();
  const pos = ((a << 8) | b) % Math.max(1, q.length);
  switch (kind % 9) {
    case 0: q[pos] ^= 1 << (c & 7); return q; // bit flip anywhere
    case 1: return q.subarray(0, pos); // truncation
    case 2: { const x = new Uint8Array(q.length + (c % 64)); x.set(q); x.set(r(c % 64), q.length); return x; } // trailing junk
    case 3: q[2] = c; q[3] = a; return q; // IPv4 total length
    case 4: q[0] = (q[0]! & 0xf0) | (c & 0x0f); return q; // IHL
    case 5: q[9] = [50, 51, 17, 108, 4, 41, 6, c][c & 7]!; return q; // protocol
    case 6: if (q.length > 26) { q[24] = c; q[25] = a; } return q; // UDP length / AH payload len / ESP seq
    case 7: return r(c); // pure garbage
    default: { for (let i = 0; i < 1 + (c & 7); i++) q[(pos + i * 13) % Math.max(1, q.length)] = r(1)[0]!; return q; }
  }
}

function inners(r: (n: number) => Uint8Array): Uint8Array[] {
  return [ipv4Udp(r(10)), ipv4Udp(r(300)), ipv4Udp(new Uint8Array(600).fill(0x41)), ipv6Udp(r(80))];
}

t.test('mutated packets never throw and are always counted', async (t) => {
  const start = Date.now();
  const configs: [string[], Parameters<typeof saPair>[1]][] = [
    [['esp-aes 256', 'esp-sha-hmac'], { mode: 'tunnel' }],
    [['esp-gcm 128'], { mode: 'tunnel', udpEncap: true }],
    [['esp-3des'], { mode: 'tunnel' }], // no integrity: garbage reaches trailer and inner checks
    [['esp-aes'], { mode: 'transport' }],
    [['ah-sha-hmac', 'esp-aes', 'esp-md5-hmac', 'comp-lzs'], { mode: 'tunnel', esn: true }],
    [['ah-md5-hmac'], { mode: 'transport' }],
    [['esp-gmac 256', 'comp-lzs'], { mode: 'transport', udpEncap: true }],
  ];
  let total = 0;
  let threw = 0;
  for (const [words, opts] of configs) {
    const r = prng(words.length * 31 + total);
    const { tx, rx } = saPair(words, { ...opts, replayWindow: 1024, seed: 21 });
    const valid: Uint8Array[] = [];
    for (const inner of inners(r)) {
      const p = tx.protect(inner);
      if (p.code === 'ok') valid.push(p.packet);
    }
    t.ok(valid.length >= 3, `${words.join(' ')}: protected sample packets`);
    let calls = 0;
    for (let i = 0; i < PER_CONFIG && Date.now() - start < MAX_MS; i++) {
      const pkt = mutate(valid[i % valid.length]!, r);
      try {
        if (i % 5 === 4 && opts?.udpEncap) rx.unprotectPayload(pkt.subarray(28), 17, Uint8Array.of(10, 0, 0, 1), Uint8Array.of(10, 0, 0, 2));
        else if (i % 7 === 6) rx.unprotectPayload(pkt.subarray(20), 50, Uint8Array.of(10, 0, 0, 1), Uint8Array.of(10, 0, 0, 2));
        else rx.unprotect(pkt);
      } catch {
        threw++;
      }
      calls++;
      // Keep the sender busy too: random inner packets.
      if (i % 10 === 0) {
        try { tx.protect(mutate(inners(r)[i % 4]!, r)); } catch { threw++; }
      }
    }
    total += calls;
    t.equal(accounted(rx), calls, `${words.join(' ')}: all ${calls} packets counted`);
    t.ok(rx.counters.recvErrors > 0, 'errors were seen');
  }
  t.equal(threw, 0, 'nothing threw');
  t.ok(total >= 5000, `fuzzed ${total} packets`);
});

t.test('IPComp-only SA: mutated compressed payloads reach the LZS decoder', async (t) => {
  const engine = createSoftwareEngine();
  const cfg = { mode: 'tunnel' as const, ipcomp: { cpi: 3 }, local: Uint8Array.of(10, 0, 0, 1), remote: Uint8Array.of(10, 0, 0, 2) };
  const tx = new IpsecSa(cfg, engine);
  const rx = new IpsecSa({ ...cfg, local: cfg.remote, remote: cfg.local }, engine);
  const text = new TextEncoder().encode('compressible compressible compressible '.repeat(30));
  const p = tx.protect(ipv4Udp(text));
  if (p.code !== 'ok') return t.fail(p.code);
  t.equal(p.packet[9], 108, 'outer protocol IPComp');
  t.equal(rx.unprotect(p.packet.slice()).code, 'ok');
  const r = prng(77);
  let threw = 0;
  const n = 2000;
  for (let i = 0; i < n; i++) {
    const q = p.packet.slice();
    for (let k = 0; k < 1 + (i % 4); k++) { const at = 24 + (r(1)[0]! * 7 + i) % (q.length - 24); q[at] = r(1)[0]!; }
    try { rx.unprotect(q); } catch { threw++; }
  }
  t.equal(threw, 0);
  t.equal(accounted(rx), n + 1);
  t.ok(rx.counters.decompressFailedPkts > 0, 'broken streams counted as decompress failures');
});
