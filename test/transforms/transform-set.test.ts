// Transform-set words -> algorithm parameters, and the guide's combination rules.
import t from 'tap';
import { ahParams, espKeyMaterialLength, espParams, espParamsFromKeyMaterial, formatTransformSet, parseTransformSet, TransformSetError } from '../../firmware/ipsec/transform.js';

t.test('sizes and ICV lengths', async (t) => {
  const a = parseTransformSet(['esp-aes', 'esp-sha-hmac']);
  t.equal(a.espCipher?.keyBits, 128, 'esp-aes defaults to 128');
  t.equal(a.espCipher?.ivLength, 16);
  t.equal(a.espCipher?.blockSize, 16);
  t.equal(a.espIntegrity?.icvLength, 12, 'sha-1 ICV is 96 bits');
  t.equal(a.espIntegrity?.keyLength, 20);
  t.equal(formatTransformSet(a), 'esp-aes 128 esp-sha-hmac');
  t.equal(parseTransformSet(['esp-aes 256']).espCipher?.keyLength, 32);
  t.equal(parseTransformSet(['esp-aes', '192', 'esp-md5-hmac']).espCipher?.keyLength, 24);
  t.equal(parseTransformSet(['esp-md5-hmac']).espIntegrity?.icvLength, 12);
  const sha2: [string, number, number][] = [['esp-sha256-hmac', 32, 16], ['esp-sha384-hmac', 48, 24], ['esp-sha512-hmac', 64, 32]];
  for (const [w, k, icv] of sha2) {
    const s = parseTransformSet(['esp-aes', w]);
    t.equal(s.espIntegrity?.keyLength, k, `${w} key`);
    t.equal(s.espIntegrity?.icvLength, icv, `${w} ICV is half the hash (RFC 4868)`);
  }
  const g = parseTransformSet(['esp-gcm']);
  t.equal(g.espCipher?.keyBits, 128, 'esp-gcm defaults to 128');
  t.equal(g.espCipher?.saltLength, 4);
  t.equal(g.espCipher?.ivLength, 8);
  t.equal(g.espCipher?.icvLength, 16);
  t.equal(parseTransformSet(['esp-gmac 256']).espCipher?.cipher, 'aes-gmac');
  t.equal(parseTransformSet(['esp-des', 'esp-md5-hmac']).espCipher?.keyLength, 8);
  t.equal(parseTransformSet(['esp-3des', 'esp-sha-hmac']).espCipher?.keyLength, 24);
  t.equal(parseTransformSet(['ah-sha-hmac']).ah?.ikev1AhTransformId, 3);
  t.equal(parseTransformSet(['ah-md5-hmac']).ah?.ikev1AhTransformId, 2);
  t.equal(parseTransformSet(['esp-sha-hmac']).espCipher?.cipher, 'null', 'ESP auth alone = null encryption');
  t.equal(parseTransformSet(['esp-aes', 'esp-sha-hmac', 'comp-lzs']).compression?.transformId, 3);
  t.equal(parseTransformSet(['ESP-AES', '256', 'ESP-SHA-HMAC']).espCipher?.keyBits, 256, 'case-insensitive');
});

t.test('combination rules of the guide', async (t) => {
  t.throws(() => parseTransformSet(['esp-gcm', 'esp-sha-hmac']), /cannot be combined/);
  t.throws(() => parseTransformSet(['esp-gmac', 'esp-md5-hmac']), TransformSetError);
  t.throws(() => parseTransformSet(['esp-aes', 'esp-3des']), /only one ESP encryption/);
  t.throws(() => parseTransformSet(['esp-md5-hmac', 'esp-sha-hmac']), /only one ESP authentication/);
  t.throws(() => parseTransformSet(['ah-md5-hmac', 'ah-sha-hmac']), /only one AH/);
  t.throws(() => parseTransformSet(['esp-null']), /esp-null needs/);
  t.throws(() => parseTransformSet(['comp-lzs']), /at least one AH or ESP/);
  t.throws(() => parseTransformSet(['esp-aes', '512']), /128, 192, 256/);
  t.throws(() => parseTransformSet(['esp-foo']), /unknown transform/);
  t.throws(() => parseTransformSet(['256']), /must follow/);
  t.ok(parseTransformSet(['esp-seal', 'esp-sha-hmac']), 'esp-seal parses (the engine decides)');
  t.ok(parseTransformSet(['ah-sha-hmac', 'esp-aes', 'esp-sha-hmac', 'comp-lzs']));
});

t.test('key material', async (t) => {
  const g = parseTransformSet(['esp-gcm 256']);
  t.equal(espKeyMaterialLength(g), 36, 'GCM key + 4-byte salt');
  const p = espParams(g, new Uint8Array(36).fill(9), undefined, true);
  t.equal(p.cipherKey.length, 32);
  t.equal(p.salt.length, 4);
  t.equal(p.icvLength, 16);
  t.equal(p.esn, true);
  t.throws(() => espParams(g, new Uint8Array(32), undefined, false), /36-byte cipher key/);
  const a = parseTransformSet(['esp-aes 192', 'esp-sha384-hmac']);
  t.equal(espKeyMaterialLength(a), 24 + 48);
  const km = Uint8Array.from({ length: 72 }, (_, i) => i);
  const pa = espParamsFromKeyMaterial(a, km, false);
  t.equal(pa.cipherKey[0], 0, 'encryption key first (RFC 7296 2.17)');
  t.equal(pa.integrityKey[0], 24, 'then the integrity key');
  t.equal(pa.icvLength, 24);
  t.throws(() => espParams(a, new Uint8Array(24), new Uint8Array(20), false), /48-byte authenticator/);
  t.throws(() => ahParams(parseTransformSet(['ah-md5-hmac']), new Uint8Array(20), false), /16-byte key/);
  t.equal(ahParams(parseTransformSet(['ah-sha-hmac']), new Uint8Array(20), false).icvLength, 12);
});
