// The software engine's native per-SA contexts (drivers/native/src/aead.c) against its
// node:crypto path: the same ops give byte-identical packets (GCM, GMAC, HMAC with a
// caller-chosen IV), each side opens what the other sealed (CBC, random IVs), tampering
// is an icv-failure that leaves the packet untouched, bad lengths and misuse never crash.
// The RFC vectors in vectors.test.ts and the noble cross-check run on the native path too,
// because the engine uses it whenever the addon is built (as it is in CI).
import t from 'tap';
import { createSoftwareEngine } from '../../drivers/software/software-engine.js';
import { nativeCrypto, nativeCryptoStatus } from '../../drivers/software/native-crypto.js';
import type { AhCryptoOp, EspCryptoOp, TransformContext, TransformParams } from '../../firmware/lib/crypto-engine.js';
import { ahParams, espParams, parseTransformSet } from '../../firmware/ipsec/transform.js';
import { prng, toHex } from './helpers.js';

const rnd = prng(4106);
const fast = createSoftwareEngine({ name: 'native' });
const slow = createSoftwareEngine({ name: 'node', native: false });

t.test('the native addon is built and used by the software engine', async (t) => {
  if (process.env.RAMPART_NATIVE === '0') {
    t.equal(nativeCrypto(), undefined, 'RAMPART_NATIVE=0 switches it off');
    t.match(fast.contextMethod(), /node:crypto objects per packet \(disabled/);
    return;
  }
  t.ok(nativeCrypto(), `loaded: ${nativeCryptoStatus()}`);
  t.match(fast.contextMethod(), /^native OpenSSL .* contexts per SA$/);
  t.match(slow.contextMethod(), /node:crypto objects per packet \(native contexts off by option\)/);
});

/** An ESP packet at offset 20 of a buffer: SPI, Seq, IV, body of `payLen`, room for the ICV. */
function espPacket(ivLen: number, payLen: number, icvLen: number): { buf: Uint8Array; body: number } {
  const body = 8 + ivLen + payLen;
  const buf = new Uint8Array(20 + body + icvLen + 7);
  buf.set(rnd(8), 20);
  buf.set(rnd(ivLen), 28);
  buf.set(rnd(payLen), 28 + ivLen);
  return { buf, body };
}

function espOp(kind: EspCryptoOp['kind'], buf: Uint8Array, body: number, seqHi = 0): EspCryptoOp {
  return { kind, buf, espOffset: 20, bodyLength: body, seqHi, status: 'pending' };
}

function run(ctx: TransformContext, op: EspCryptoOp | AhCryptoOp): string {
  return ctx.runSync!(op);
}

const GCM_SETS = ['esp-gcm 128', 'esp-gcm 192', 'esp-gcm 256', 'esp-gmac 128', 'esp-gmac 192', 'esp-gmac 256'];
for (const name of GCM_SETS) {
  for (const esn of [false, true]) {
    t.test(`${name} esn=${esn}: native and node:crypto produce the same packets`, async (t) => {
      const set = parseTransformSet([name]);
      const keyLen = set.espCipher!.keyLength + set.espCipher!.saltLength;
      const params = espParams(set, rnd(keyLen), undefined, esn);
      const a = fast.createContext(params);
      const b = slow.createContext(params);
      for (const payLen of [4, 20, 100, 1404, 8192]) {
        const seqHi = esn ? 0x01020304 : 0;
        const p1 = espPacket(8, payLen, 16);
        const p2 = Uint8Array.from(p1.buf);
        t.equal(run(a, espOp('esp-seal', p1.buf, p1.body, seqHi)), 'ok');
        t.equal(run(b, espOp('esp-seal', p2, p1.body, seqHi)), 'ok');
        t.equal(toHex(p1.buf), toHex(p2), `payload ${payLen}: identical bytes`);
        const sealed = Uint8Array.from(p1.buf);
        const q = Uint8Array.from(sealed);
        t.equal(run(b, espOp('esp-open', q, p1.body, seqHi)), 'ok', 'node:crypto opens the native packet');
        t.equal(run(a, espOp('esp-open', p1.buf, p1.body, seqHi)), 'ok', 'native opens it');
        t.equal(toHex(p1.buf), toHex(q), 'same plaintext');
        // a flipped bit anywhere under the tag is refused and leaves the packet as it came
        const bad = Uint8Array.from(sealed);
        bad[20 + 16 + (payLen >> 1)]! ^= 0x10;
        const before = toHex(bad);
        t.equal(run(a, espOp('esp-open', bad, p1.body, seqHi)), 'icv-failure');
        t.equal(toHex(bad), before, 'unchanged after icv-failure');
        if (esn) {
          const wrongHi = Uint8Array.from(sealed);
          t.equal(run(a, espOp('esp-open', wrongHi, p1.body, seqHi + 1)), 'icv-failure', 'ESN high bits are authenticated');
        }
      }
      a.destroy();
      b.destroy();
      t.equal(run(a, espOp('esp-seal', espPacket(8, 20, 16).buf, 36)), 'engine-error', 'destroyed context refuses');
    });
  }
}

const HMACS = ['esp-md5-hmac', 'esp-sha-hmac', 'esp-sha256-hmac', 'esp-sha384-hmac', 'esp-sha512-hmac'];
for (const auth of HMACS) {
  t.test(`esp-null + ${auth}: identical ICVs; esp-aes 256 + ${auth}: each opens the other's`, async (t) => {
    for (const esn of [false, true]) {
      const nset = parseTransformSet(['esp-null', auth]);
      const params = espParams(nset, new Uint8Array(0), rnd(nset.espIntegrity!.keyLength), esn);
      const a = fast.createContext(params);
      const b = slow.createContext(params);
      const icv = params.icvLength;
      const p1 = espPacket(0, 200, icv);
      const p2 = Uint8Array.from(p1.buf);
      t.equal(run(a, espOp('esp-seal', p1.buf, p1.body, 7)), 'ok');
      t.equal(run(b, espOp('esp-seal', p2, p1.body, 7)), 'ok');
      t.equal(toHex(p1.buf), toHex(p2), `null cipher esn=${esn}: identical ICV`);
      t.equal(run(b, espOp('esp-open', p1.buf, p1.body, 7)), 'ok');
      p2[30]! ^= 1;
      t.equal(run(a, espOp('esp-open', p2, p1.body, 7)), 'icv-failure');

      const cset = parseTransformSet(['esp-aes 256', auth]);
      const cp: TransformParams = espParams(cset, rnd(32), rnd(cset.espIntegrity!.keyLength), esn);
      const ca = fast.createContext(cp);
      const cb = slow.createContext(cp);
      for (const [from, to, label] of [[ca, cb, 'native -> node'], [cb, ca, 'node -> native']] as const) {
        const p = espPacket(16, 1408, cp.icvLength);
        const plain = toHex(p.buf.subarray(44, 44 + 1408));
        t.equal(run(from, espOp('esp-seal', p.buf, p.body, 3)), 'ok');
        t.equal(run(to, espOp('esp-open', p.buf, p.body, 3)), 'ok', label);
        t.equal(toHex(p.buf.subarray(44, 44 + 1408)), plain, `${label}: plaintext back`);
      }
    }
  });
}

for (const auth of ['ah-md5-hmac', 'ah-sha-hmac']) {
  t.test(`${auth}: native and node:crypto sign alike and verify each other`, async (t) => {
    const set = parseTransformSet([auth]);
    for (const esn of [false, true]) {
      const params = ahParams(set, rnd(set.ah!.keyLength), esn);
      const a = fast.createContext(params);
      const b = slow.createContext(params);
      const buf = rnd(300);
      buf.fill(0, 24, 24 + params.icvLength);
      const buf2 = Uint8Array.from(buf);
      const sign = (ctx: TransformContext, x: Uint8Array): string =>
        run(ctx, { kind: 'ah-sign', buf: x, offset: 0, length: x.length, icvOffset: 24, seqHi: 9, status: 'pending' });
      t.equal(sign(a, buf), 'ok');
      t.equal(sign(b, buf2), 'ok');
      t.equal(toHex(buf), toHex(buf2), 'identical ICV');
      const expected = buf.slice(24, 24 + params.icvLength);
      buf.fill(0, 24, 24 + params.icvLength);
      const verify = (ctx: TransformContext, exp: Uint8Array, hi: number): string =>
        run(ctx, { kind: 'ah-verify', buf, offset: 0, length: buf.length, icvOffset: 24, seqHi: hi, expected: exp, status: 'pending' });
      t.equal(verify(a, expected, 9), 'ok');
      t.equal(verify(b, expected, 9), 'ok');
      const wrong = Uint8Array.from(expected);
      wrong[0]! ^= 0x80;
      t.equal(verify(a, wrong, 9), 'icv-failure');
      t.equal(verify(a, expected.subarray(1), 9), 'bad-length');
      if (esn) t.equal(verify(a, expected, 10), 'icv-failure', 'ESN high bits are covered');
    }
  });
}

t.test('bad lengths are statuses, misuse of the addon is an exception, never a crash', async (t) => {
  const params = espParams(parseTransformSet(['esp-gcm 256']), rnd(36), undefined, false);
  const a = fast.createContext(params);
  const p = espPacket(8, 40, 16);
  t.equal(run(a, espOp('esp-seal', p.buf, p.body + 1000)), 'bad-length', 'body past the buffer');
  t.equal(run(a, espOp('esp-open', p.buf, 10)), 'bad-length', 'body shorter than SPI+Seq+IV+trailer');
  const n = nativeCrypto();
  if (!n) return;
  const h = n.gcmCreate(rnd(32), rnd(4));
  t.equal(n.gcmEsp(h, p.buf, -5, 60, 0, 1), 2, 'negative offset');
  t.equal(n.gcmEsp(h, p.buf, 20, 1 << 30, 0, 1), 2, 'huge body');
  t.equal(n.gcmEsp(h, new Uint8Array(100), 20, 80, 0, 0), 2, 'no room for the ICV');
  t.throws(() => n.gcmCreate(rnd(20), rnd(4)), /16\/24\/32-byte key/);
  t.throws(() => n.gcmCreate(rnd(32), rnd(3)), /4-byte salt/);
  t.throws(() => n.gcmEsp({} as never, p.buf, 20, 56, 0, 1), /context handle/);
  t.throws(() => n.gcmEsp(h, 'x' as never, 20, 56, 0, 1), /Uint8Array/);
  t.throws(() => n.hmacCreate('sha3' as never, rnd(20)), /unknown HMAC hash/);
  const hm = n.hmacCreate('sha1', rnd(20));
  t.equal(n.hmacIcv(hm, p.buf, 0, 10, 0, 0, p.buf, 0, 21, 0), 2, 'ICV longer than the digest');
  t.equal(n.hmacIcv(hm, p.buf, 5, 2, 0, 0, p.buf, 0, 12, 0), 2, 'end before start');
  n.gcmFree(h);
  t.equal(n.gcmEsp(h, p.buf, 20, 56, 0, 1), 3, 'freed context: engine-error');
  n.hmacFree(hm);
  t.equal(n.hmacIcv(hm, p.buf, 0, 10, 0, 0, p.buf, 0, 12, 0), 3, 'freed HMAC context: engine-error');
});
