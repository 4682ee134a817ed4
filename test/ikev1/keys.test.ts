// RFC 2409 derivations cross-checked against a naive, independent transcription of the RFC text.
import t from 'tap';
import { createHash, createHmac } from 'node:crypto';
import {
  deriveSkeyids, encryptionKey, hash1, hash2, hash3, hashI, hashR, natdHash, phase1Iv, phase2Iv, quickModeKeymat, skeyidPsk,
} from '../../firmware/ike/v1/keys.js';

const B = (s: string): Buffer => Buffer.from(s, 'hex');
const prf = (alg: string, k: Buffer, ...d: Buffer[]): Buffer => createHmac(alg, k).update(Buffer.concat(d)).digest();
const u8 = (b: Buffer): Uint8Array => new Uint8Array(b);

const ni = B('6e6f6e63652d692d' + '11'.repeat(24));
const nr = B('6e6f6e63652d722d' + '22'.repeat(24));
const gxy = B('33'.repeat(128));
const gxi = B('44'.repeat(128));
const gxr = B('55'.repeat(128));
const ckyI = B('0102030405060708');
const ckyR = B('a1a2a3a4a5a6a7a8');
const psk = Buffer.from('cisco123');

for (const alg of ['md5', 'sha1', 'sha256', 'sha384', 'sha512'] as const) {
  t.test(`SKEYID family with ${alg}`, async (t) => {
    const skeyid = prf(alg, psk, ni, nr);
    const d = prf(alg, skeyid, gxy, ckyI, ckyR, B('00'));
    const a = prf(alg, skeyid, d, gxy, ckyI, ckyR, B('01'));
    const e = prf(alg, skeyid, a, gxy, ckyI, ckyR, B('02'));
    const got = deriveSkeyids(alg, skeyidPsk(alg, u8(psk), u8(ni), u8(nr)), u8(gxy), u8(ckyI), u8(ckyR));
    t.same(Buffer.from(got.skeyid), skeyid);
    t.same(Buffer.from(got.d), d);
    t.same(Buffer.from(got.a), a);
    t.same(Buffer.from(got.e), e);
    // Appendix B key expansion: needed for 3DES/AES-256 with short hashes
    for (const keyLen of [8, 16, 24, 32]) {
      let want: Buffer;
      if (e.length >= keyLen) want = e.subarray(0, keyLen);
      else {
        const k1 = prf(alg, e, B('00'));
        const k2 = prf(alg, e, k1);
        const k3 = prf(alg, e, k2);
        want = Buffer.concat([k1, k2, k3]).subarray(0, keyLen);
      }
      t.same(Buffer.from(encryptionKey(alg, u8(e), keyLen)), want, `key length ${keyLen}`);
    }
    const saib = B('00000001000000010000002c0101000103000024010100008001000780020002800300018004000280' + '0e0100');
    const idii = B('011101f40a000001');
    t.same(Buffer.from(hashI(alg, u8(skeyid), u8(gxi), u8(gxr), u8(ckyI), u8(ckyR), u8(saib), u8(idii))), prf(alg, skeyid, gxi, gxr, ckyI, ckyR, saib, idii));
    t.same(Buffer.from(hashR(alg, u8(skeyid), u8(gxi), u8(gxr), u8(ckyI), u8(ckyR), u8(saib), u8(idii))), prf(alg, skeyid, gxr, gxi, ckyR, ckyI, saib, idii));
    const h = createHash(alg).update(Buffer.concat([gxi, gxr])).digest();
    t.same(Buffer.from(phase1Iv(alg, u8(gxi), u8(gxr), 16)), h.subarray(0, 16));
    const last = B('99'.repeat(16));
    t.same(Buffer.from(phase2Iv(alg, u8(last), 0xdeadbeef, 8)), createHash(alg).update(Buffer.concat([last, B('deadbeef')])).digest().subarray(0, 8));
    const rest = B('0a000024' + '77'.repeat(32));
    t.same(Buffer.from(hash1(alg, u8(a), 0x80000001, u8(rest))), prf(alg, a, B('80000001'), rest));
    t.same(Buffer.from(hash2(alg, u8(a), 0x80000001, u8(ni), u8(rest))), prf(alg, a, B('80000001'), ni, rest));
    t.same(Buffer.from(hash3(alg, u8(a), 0x80000001, u8(ni), u8(nr))), prf(alg, a, B('00'), B('80000001'), ni, nr));
    // KEYMAT with and without PFS, expanded to 64 bytes (AES-256 + SHA-256 keys)
    const spi = B('c0ffee01');
    for (const pfs of [undefined, B('66'.repeat(256))]) {
      const seed = Buffer.concat([...(pfs ? [pfs] : []), B('03'), spi, ni, nr]);
      const k1 = prf(alg, d, seed);
      const k2 = prf(alg, d, k1, seed);
      const k3 = prf(alg, d, k2, seed);
      const k4 = prf(alg, d, k3, seed);
      const want = Buffer.concat([k1, k2, k3, k4]).subarray(0, 64);
      t.same(Buffer.from(quickModeKeymat(alg, u8(d), pfs ? u8(pfs) : undefined, 3, u8(spi), u8(ni), u8(nr), 64)), want, `KEYMAT pfs=${!!pfs}`);
    }
    t.same(Buffer.from(natdHash(alg, u8(ckyI), u8(ckyR), u8(B('0a000001')), 500)), createHash(alg).update(Buffer.concat([ckyI, ckyR, B('0a000001'), B('01f4')])).digest());
  });
}

t.test('fast DH for groups 1 and 2 agrees with node:crypto and validates peers', async (t) => {
  const { createIkeV1Dh } = await import('../../firmware/ike/v1/dh-fast.js');
  const { getDiffieHellman } = await import('node:crypto');
  for (const [group, name, len] of [[1, 'modp1', 96], [2, 'modp2', 128]] as const) {
    const a = createIkeV1Dh(group);
    const b = createIkeV1Dh(group);
    t.equal(a.publicKey.length, len);
    t.same(a.computeSecret(b.publicKey), b.computeSecret(a.publicKey), `group ${group}: pairs agree`);
    const ref = getDiffieHellman(name);
    ref.generateKeys();
    const refPub = new Uint8Array(ref.getPublicKey());
    const padded = new Uint8Array(len);
    padded.set(refPub, len - refPub.length);
    const mine = a.computeSecret(padded);
    const theirs = new Uint8Array(ref.computeSecret(Buffer.from(a.publicKey)));
    t.same(Buffer.from(mine).subarray(len - theirs.length), Buffer.from(theirs), `group ${group}: agrees with getDiffieHellman`);
    t.throws(() => a.computeSecret(new Uint8Array(len - 1)), /length/);
    t.throws(() => a.computeSecret(Uint8Array.from({ length: len }, (_v, i) => (i === len - 1 ? 1 : 0))), /range/);
  }
});
