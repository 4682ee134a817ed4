// Cross-check of the software engine's ESP AES-CBC, AES-GCM (RFC 4106) and AES-GMAC
// (RFC 4543) output against @noble/ciphers, an independent pure-JS implementation:
// packets Rampart protects are opened with noble using the RFC's nonce/AAD rules, and
// packets noble builds are accepted by Rampart.
import t from 'tap';
import { cbc, gcm } from '@noble/ciphers/aes.js';
import { createHmac } from 'node:crypto';
import { createSoftwareEngine } from '../../drivers/software/software-engine.js';
import { IpsecSa } from '../../firmware/ipsec/ipsec-sa.js';
import { espParams, parseTransformSet } from '../../firmware/ipsec/transform.js';
import { ipv4Udp, prng, toHex } from './helpers.js';

const engine = createSoftwareEngine();
const rnd = prng(42);
const LOCAL = Uint8Array.of(10, 0, 0, 1);
const REMOTE = Uint8Array.of(10, 0, 0, 2);
const SPI = 0xc0ffee01;

function u32(v: number): Uint8Array {
  return Uint8Array.of(v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** ESP payload + RFC 4303 trailer for a tunnel-mode IPv4 packet, padded to `align`. */
function withTrailer(inner: Uint8Array, align: number): Uint8Array {
  const pad = (align - ((inner.length + 2) % align)) % align;
  const padding = Uint8Array.from({ length: pad }, (_, i) => i + 1);
  return concat(inner, padding, Uint8Array.of(pad, 4));
}

function ipv4Esp(esp: Uint8Array): Uint8Array {
  const h = new Uint8Array(20);
  h[0] = 0x45; h[2] = (20 + esp.length) >> 8; h[3] = (20 + esp.length) & 255; h[8] = 64; h[9] = 50;
  h.set(LOCAL, 12); h.set(REMOTE, 16);
  return concat(h, esp);
}

for (const bits of [128, 192, 256]) {
  for (const esn of [false, true]) {
    t.test(`esp-aes ${bits} + esp-sha256-hmac against noble cbc (esn ${esn})`, async (t) => {
      const key = rnd(bits / 8);
      const authKey = rnd(32);
      const params = espParams(parseTransformSet([`esp-aes ${bits}`, 'esp-sha256-hmac']), key, authKey, esn);
      const tx = new IpsecSa({ mode: 'tunnel', local: LOCAL, remote: REMOTE, esp: { spi: SPI, params }, initialSeq: esn ? 0x1fffffffen : undefined }, engine);
      const rx = new IpsecSa({ mode: 'tunnel', local: REMOTE, remote: LOCAL, esp: { spi: SPI, params } }, engine);
      const rx2 = new IpsecSa({ mode: 'tunnel', local: REMOTE, remote: LOCAL, esp: { spi: SPI, params } }, engine);
      if (esn) { rx.espReplay!.seed(1, 0xfffffffe); rx2.espReplay!.seed(1, 0xfffffffe); }
      for (let i = 0; i < 5; i++) {
        const inner = ipv4Udp(rnd(20 + i * 97));
        const r = tx.protect(inner);
        if (r.code !== 'ok') return t.fail(r.code);
        const esp = r.packet.subarray(20);
        const iv = esp.subarray(8, 24);
        const ct = esp.subarray(24, esp.length - 16);
        const seqHi = Number(tx.outboundSeq >> 32n);
        // Integrity: HMAC over SPI..ciphertext (+ ESN high bits), truncated to 128 bits.
        const mac = createHmac('sha256', authKey).update(esp.subarray(0, esp.length - 16));
        if (esn) mac.update(u32(seqHi));
        t.equal(toHex(esp.subarray(esp.length - 16)), mac.digest('hex').slice(0, 32), 'ICV');
        // Confidentiality: noble decrypts with the IV from the packet.
        const pt = cbc(key, iv, { disablePadding: true }).decrypt(ct);
        t.equal(toHex(pt), toHex(withTrailer(inner, 16)), 'noble decrypts to inner + RFC 4303 trailer');
        t.equal(rx.unprotect(r.packet.slice()).code, 'ok', 'Rampart-built packet accepted');
        // And the other way: noble encrypts, Rampart accepts.
        const seq2 = tx.outboundSeq + 1000n;
        const seqLo = Number(seq2 & 0xffffffffn);
        const seqHi2 = Number(seq2 >> 32n);
        const iv2 = rnd(16);
        const ct2 = cbc(key, iv2, { disablePadding: true }).encrypt(withTrailer(inner, 16));
        const body = concat(u32(SPI), u32(seqLo), iv2, ct2);
        const m2 = createHmac('sha256', authKey).update(body);
        if (esn) m2.update(u32(seqHi2));
        const pkt = ipv4Esp(concat(body, m2.digest().subarray(0, 16)));
        const u = rx2.unprotect(pkt);
        t.equal(u.code, 'ok', 'noble-built packet accepted');
        if (u.code === 'ok') t.equal(toHex(u.packet), toHex(inner));
      }
    });
  }
}

for (const bits of [128, 256]) {
  for (const esn of [false, true]) {
    t.test(`esp-gcm ${bits} against noble gcm (RFC 4106 nonce and AAD, esn ${esn})`, async (t) => {
      const keymat = rnd(bits / 8 + 4);
      const key = keymat.subarray(0, bits / 8);
      const salt = keymat.subarray(bits / 8);
      const params = espParams(parseTransformSet([`esp-gcm ${bits}`]), keymat, undefined, esn);
      const tx = new IpsecSa({ mode: 'tunnel', local: LOCAL, remote: REMOTE, esp: { spi: SPI, params }, initialSeq: esn ? 0x300000000n : undefined }, engine);
      const rx = new IpsecSa({ mode: 'tunnel', local: REMOTE, remote: LOCAL, esp: { spi: SPI, params } }, engine);
      const rx2 = new IpsecSa({ mode: 'tunnel', local: REMOTE, remote: LOCAL, esp: { spi: SPI, params } }, engine);
      if (esn) { rx.espReplay!.seed(3, 0); rx2.espReplay!.seed(3, 0); }
      for (let i = 0; i < 5; i++) {
        const inner = ipv4Udp(rnd(1 + i * 211));
        const r = tx.protect(inner);
        if (r.code !== 'ok') return t.fail(r.code);
        const esp = r.packet.subarray(20);
        const seqHi = Number(tx.outboundSeq >> 32n);
        const aad = esn ? concat(esp.subarray(0, 4), u32(seqHi), esp.subarray(4, 8)) : esp.subarray(0, 8);
        const nonce = concat(salt, esp.subarray(8, 16));
        const pt = gcm(key, nonce, aad).decrypt(esp.subarray(16));
        t.equal(toHex(pt), toHex(withTrailer(inner, 4)), 'noble opens it');
        const seqLo = Number(tx.outboundSeq & 0xffffffffn) + 500;
        const iv = rnd(8);
        const aad2 = esn ? concat(u32(SPI), u32(seqHi), u32(seqLo)) : concat(u32(SPI), u32(seqLo));
        const sealed = gcm(key, concat(salt, iv), aad2).encrypt(withTrailer(inner, 4));
        const u = rx2.unprotect(ipv4Esp(concat(u32(SPI), u32(seqLo), iv, sealed)));
        t.equal(u.code, 'ok', 'noble-built packet accepted');
        if (u.code === 'ok') t.equal(toHex(u.packet), toHex(inner));
      }
    });
  }
}

for (const esn of [false, true]) {
  t.test(`esp-gmac 128 against noble gcm with empty plaintext (RFC 4543 AAD, esn ${esn})`, async (t) => {
    const keymat = rnd(20);
    const key = keymat.subarray(0, 16);
    const salt = keymat.subarray(16);
    const params = espParams(parseTransformSet(['esp-gmac 128']), keymat, undefined, esn);
    const tx = new IpsecSa({ mode: 'tunnel', local: LOCAL, remote: REMOTE, esp: { spi: SPI, params } }, engine);
    const rx = new IpsecSa({ mode: 'tunnel', local: REMOTE, remote: LOCAL, esp: { spi: SPI, params } }, engine);
    for (let i = 0; i < 4; i++) {
      const inner = ipv4Udp(rnd(10 + i * 300));
      const r = tx.protect(inner);
      if (r.code !== 'ok') return t.fail(r.code);
      const esp = r.packet.subarray(20);
      t.equal(toHex(esp.subarray(16, esp.length - 16)), toHex(withTrailer(inner, 4)), 'GMAC leaves the payload in the clear');
      // RFC 4543 3.3: AAD = SPI || [ESN high] || Seq || IV || payload...; plaintext empty.
      const aad = esn ? concat(esp.subarray(0, 4), u32(0), esp.subarray(4, esp.length - 16)) : esp.subarray(0, esp.length - 16);
      const tag = gcm(key, concat(salt, esp.subarray(8, 16)), aad).encrypt(new Uint8Array(0));
      t.equal(toHex(esp.subarray(esp.length - 16)), toHex(tag), 'ICV equals noble GMAC');
      t.equal(rx.unprotect(r.packet).code, 'ok');
    }
  });
}

t.test('AH ICV recomputed independently (RFC 4302 3.3.3: mutable IPv4 fields zeroed, ESN high bits appended)', async (t) => {
  const { ahParams } = await import('../../firmware/ipsec/transform.js');
  for (const esn of [false, true]) {
    for (const [word, hash] of [['ah-sha-hmac', 'sha1'], ['ah-md5-hmac', 'md5']] as const) {
      const set = parseTransformSet([word]);
      const key = rnd(set.ah!.keyLength);
      const params = ahParams(set, key, esn);
      const tx = new IpsecSa({ mode: 'tunnel', local: LOCAL, remote: REMOTE, ah: { spi: 0xa0a0, params }, initialSeq: esn ? 0x500000000n : undefined }, engine);
      const inner = ipv4Udp(rnd(77), undefined, undefined, 0x28);
      const r = tx.protect(inner);
      if (r.code !== 'ok') return t.fail(r.code);
      const p = r.packet;
      t.equal(p[9], 51, 'protocol AH');
      t.equal(p[20], 4, 'AH next header: IPv4 (tunnel)');
      t.equal(p[21], (12 + 12) / 4 - 2, 'AH payload length');
      t.equal(p[1], 0x28, 'TOS copied to the outer header');
      const z = p.slice();
      z[1] = 0; z[6] = 0; z[7] = 0; z[8] = 0; z[10] = 0; z[11] = 0; // TOS, flags/offset, TTL, checksum
      z.fill(0, 32, 44); // ICV field
      const h = createHmac(hash, key).update(z);
      if (esn) h.update(u32(5));
      t.equal(toHex(p.subarray(32, 44)), h.digest('hex').slice(0, 24), `${word} ICV (esn ${esn})`);
    }
  }
});
