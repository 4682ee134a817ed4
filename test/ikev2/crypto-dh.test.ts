import t from 'tap';
import {
  createDh, dhPublicKeyLength, DhInvalidPublicValueError, DhUnsupportedGroupError, SUPPORTED_DH_GROUPS,
} from '../../firmware/ike/crypto/index.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
function reason(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof DhInvalidPublicValueError ? e.reason : `other: ${String(e)}`;
  }
  return 'no error';
}
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

t.test('RFC 5903 8.1 (256-bit random ECP group 19) known answer', async (t) => {
  const i = hex('C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433');
  const gi = hex('DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180' +
    '5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3');
  const r = hex('C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53');
  const gr = hex('D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63' +
    '56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB');
  const girx = 'd6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de';
  const a = createDh(19, { privateKey: i });
  const b = createDh(19, { privateKey: r });
  t.equal(toHex(a.publicKey), toHex(gi), 'g^i is x||y without 0x04');
  t.equal(toHex(b.publicKey), toHex(gr));
  t.equal(toHex(a.computeSecret(gr)), girx, 'shared secret is the x coordinate');
  t.equal(toHex(b.computeSecret(gi)), girx);
});

t.test('RFC 7748 5.2 / 6.1 X25519 (group 31) known answers', async (t) => {
  const alicePriv = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const alicePub = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
  const bobPriv = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  const bobPub = 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f';
  const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
  const a = createDh(31, { privateKey: alicePriv });
  const b = createDh(31, { privateKey: bobPriv });
  t.equal(toHex(a.publicKey), alicePub);
  t.equal(toHex(b.publicKey), bobPub);
  t.equal(toHex(a.computeSecret(hex(bobPub))), shared);
  t.equal(toHex(b.computeSecret(hex(alicePub))), shared);
  const v = createDh(31, { privateKey: hex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4') });
  t.equal(toHex(v.computeSecret(hex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c'))),
    'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552');
  t.throws(() => a.computeSecret(new Uint8Array(32)), DhInvalidPublicValueError, 'low-order point refused');
});

t.test('every group agrees with itself and has the right public length', async (t) => {
  for (const g of SUPPORTED_DH_GROUPS) {
    const a = createDh(g);
    const b = createDh(g);
    t.equal(a.publicKey.length, dhPublicKeyLength(g), `group ${g} public length`);
    t.same(a.computeSecret(b.publicKey), b.computeSecret(a.publicKey), `group ${g} secrets match`);
  }
  const expect: Record<number, number> = { 1: 96, 2: 128, 5: 192, 14: 256, 15: 384, 16: 512, 19: 64, 20: 96, 21: 132, 24: 256, 31: 32 };
  for (const [g, len] of Object.entries(expect)) t.equal(dhPublicKeyLength(Number(g)), len, `group ${g} is ${len} bytes`);
});

t.test('MODP group 2 known answer with a tiny private value', async (t) => {
  const a = createDh(2, { privateKey: Uint8Array.of(5) });
  t.equal(toHex(a.publicKey), '00'.repeat(127) + '20', 'g^5 = 32, left-padded');
});

t.test('peer value validation', async (t) => {
  const m = createDh(14);
  t.equal(reason(() => m.computeSecret(new Uint8Array(255))), 'length');
  t.equal(reason(() => m.computeSecret(new Uint8Array(256))), 'range');
  const one = new Uint8Array(256); one[255] = 1;
  t.equal(reason(() => m.computeSecret(one)), 'range');
  t.equal(reason(() => m.computeSecret(new Uint8Array(256).fill(0xff))), 'range');
  const e = createDh(19);
  const bad = new Uint8Array(e.publicKey); bad[63] ^= 1;
  t.equal(reason(() => e.computeSecret(bad)), 'not-on-curve');
  t.equal(reason(() => e.computeSecret(new Uint8Array(64).fill(0xff))), 'range');
  const s = createDh(24);
  // p-2 passes the range check but is not in the q-order subgroup.
  const p2 = hex('87A8E61DB4B6663CFFBBD19C651959998CEEF608660DD0F25D2CEED4435E3B00E00DF8F1D61957D4FAF7DF4561B2AA30' +
    '16C3D91134096FAA3BF4296D830E9A7C209E0C6497517ABD5A8A9D306BCF67ED91F9E6725B4758C022E0B1EF4275BF7B' +
    '6C5BFC11D45F9088B941F54EB1E59BB8BC39A0BF12307F5C4FDB70C581B23F76B63ACAE1CAA6B7902D52526735488A0E' +
    'F13C6D9A51BFA4AB3AD8347796524D8EF6A167B5A41825D967E144E5140564251CCACB83E6B486F6B3CA3F7971506026' +
    'C0B857F689962856DED4010ABD0BE621C3A3960A54E710C375F26375D7014103A4B54330C198AF126116D2276E11715F' +
    '693877FAD7EF09CADB094AE91E1A1595');
  t.equal(reason(() => s.computeSecret(p2)), 'subgroup');
  t.throws(() => createDh(99), DhUnsupportedGroupError);
});
