import t from 'tap';
import {
  aesXcbcPrf128, createAead, createBlockCipher, createInteg, createPrf, hmac, prfPlus, CryptoLengthError,
} from '../../firmware/ike/crypto/index.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const seq = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => i);

t.test('prf+ equals HKDF-Expand: RFC 5869 test case 1', async (t) => {
  const prk = hex('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
  const info = hex('f0f1f2f3f4f5f6f7f8f9');
  t.equal(toHex(prfPlus(createPrf('hmac-sha256'), prk, info, 42)),
    '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
});

t.test('HMAC RFC 4231 test case 2 / RFC 2202', async (t) => {
  const key = new TextEncoder().encode('Jefe');
  const data = new TextEncoder().encode('what do ya want for nothing?');
  t.equal(toHex(createPrf('hmac-sha256').compute(key, data)), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  t.equal(toHex(hmac('md5', key, data)), '750c783e6ab0b503eaa86e310a5db738');
  t.equal(toHex(hmac('sha1', key, data)), 'effcdf6ae5eb2fa2d27416d5f184df9c259a7c79');
  t.equal(toHex(createInteg('hmac-sha256-128').compute(new Uint8Array(32).fill(0x0b), data)).length, 32, '16-byte ICV');
});

t.test('AES-XCBC (RFC 3566 / RFC 4434) known answers', async (t) => {
  const key = seq(16);
  t.equal(toHex(aesXcbcPrf128(key, new Uint8Array(0))), '75f0251d528ac01c4573dfd584d79f29');
  t.equal(toHex(aesXcbcPrf128(key, seq(3))), '5b376580ae2f19afe7219ceef172756f');
  t.equal(toHex(aesXcbcPrf128(key, seq(16))), 'd2a246fa349b68a79998a4394ff7a263');
  t.equal(toHex(aesXcbcPrf128(key, seq(20))), '47f51b4564966215b8985c63055ed308');
  t.equal(toHex(aesXcbcPrf128(key, seq(32))), 'f54f0ec8d2b9f3d36807734bd5283fd4');
  t.equal(toHex(aesXcbcPrf128(seq(10), seq(20))), '0fa087af7d866e7653434e602fdde835', 'short key zero-padded');
  t.equal(toHex(aesXcbcPrf128(hex('000102030405060708090a0b0c0d0e0fedcb'), seq(20))), '8cd3c93ae598a9803006ffb67c40e9e4', 'long key');
  t.equal(createInteg('aes-xcbc-96').compute(key, seq(20)).length, 12);
});

t.test('integrity verify', async (t) => {
  for (const alg of ['hmac-md5-96', 'hmac-sha1-96', 'hmac-sha256-128', 'hmac-sha384-192', 'hmac-sha512-256'] as const) {
    const i = createInteg(alg);
    const key = new Uint8Array(i.keyLen).fill(7);
    const icv = i.compute(key, seq(50));
    t.ok(i.verify(key, seq(50), icv), `${alg} verifies`);
    const bad = new Uint8Array(icv); bad[0] ^= 1;
    t.notOk(i.verify(key, seq(50), bad), `${alg} rejects a flipped bit`);
    t.notOk(i.verify(key, seq(50), icv.subarray(1)), `${alg} rejects a short ICV`);
  }
});

t.test('DES / 3DES / AES-CBC', async (t) => {
  const des = createBlockCipher('des-cbc');
  t.equal(toHex(des.encrypt(hex('133457799BBCDFF1'), new Uint8Array(8), hex('0123456789ABCDEF'))), '85e813540f0ab405', 'FIPS 46 example');
  // NIST SP 800-38A F.2.1 CBC-AES128.Encrypt, first block.
  const aes = createBlockCipher('aes128-cbc');
  const ct = aes.encrypt(hex('2b7e151628aed2a6abf7158809cf4f3c'), hex('000102030405060708090a0b0c0d0e0f'), hex('6bc1bee22e409f96e93d7e117393172a'));
  t.equal(toHex(ct), '7649abac8119b246cee98e9b12e9197d');
  for (const alg of ['3des-cbc', 'aes192-cbc', 'aes256-cbc'] as const) {
    const c = createBlockCipher(alg);
    const key = new Uint8Array(c.keyLen).fill(3);
    const iv = new Uint8Array(c.ivLen).fill(9);
    t.same(c.decrypt(key, iv, c.encrypt(key, iv, seq(48))), seq(48), `${alg} round trip`);
  }
  t.throws(() => aes.encrypt(new Uint8Array(16), new Uint8Array(16), seq(15)), CryptoLengthError);
  t.throws(() => aes.encrypt(new Uint8Array(15), new Uint8Array(16), seq(16)), CryptoLengthError);
});

t.test('AES-GCM (RFC 5282 framing) with the GCM spec test case 4', async (t) => {
  const g = createAead('aes128-gcm16');
  const key = hex('feffe9928665731c6d6a8f9467308308');
  const salt = hex('cafebabe');
  const iv = hex('facedbaddecaf888');
  const aad = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
  const pt = hex('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39');
  const sealed = g.seal(key, salt, iv, aad, pt);
  t.equal(toHex(sealed),
    '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091' +
    '5bc94fbc3221a5db94fae95ae7121a47');
  t.same(g.open(key, salt, iv, aad, sealed), pt);
  const bad = new Uint8Array(sealed); bad[3] ^= 1;
  t.equal(g.open(key, salt, iv, aad, bad), null, 'tampered ciphertext');
  t.equal(g.open(key, salt, iv, aad.subarray(1), sealed), null, 'tampered AAD');
  t.equal(g.open(key, salt, iv, aad, sealed.subarray(0, 10)), null, 'short');
  const g256 = createAead('aes256-gcm16');
  t.equal(g256.keyLen, 32);
  const k = new Uint8Array(32).fill(1);
  t.same(g256.open(k, salt, iv, aad, g256.seal(k, salt, iv, aad, seq(33))), seq(33));
  t.equal(createAead('aes128-gcm8').seal(key, salt, iv, aad, pt).length, pt.length + 8);
});
