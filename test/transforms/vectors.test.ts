// Known-answer tests of the software engine against published vectors:
// RFC 3602 (AES-CBC), FIPS 81 (DES-CBC), SP 800-67 (3DES), draft-mcgrew-gcm-test-01
// (the RFC 4106 companion test cases: AES-GCM in ESP, with and without ESN),
// RFC 2202 (HMAC-MD5/SHA-1) and RFC 4868 (HMAC-SHA-256/384/512 and their truncation).
import t from 'tap';
import { createSoftwareEngine } from '../../drivers/software/software-engine.js';
import { UnsupportedAlgorithmError, type AhCryptoParams, type EspCryptoOp, type EspCryptoParams } from '../../firmware/lib/crypto-engine.js';
import { hex, toHex } from './helpers.js';

const engine = createSoftwareEngine();

function espCbc(cipher: EspCryptoParams['cipher'], key: Uint8Array, ivLength: number): EspCryptoParams {
  return { protocol: 'esp', cipher, cipherKey: key, salt: new Uint8Array(0), ivLength, blockSize: ivLength, integrity: 'none', integrityKey: new Uint8Array(0), icvLength: 0, esn: false };
}

/** Decrypts ct with iv through an esp-open op and returns the plaintext. */
function cbcOpen(p: EspCryptoParams, iv: Uint8Array, ct: Uint8Array): Uint8Array {
  const buf = new Uint8Array(8 + iv.length + ct.length);
  buf.set([0, 0, 0x10, 0, 0, 0, 0, 1]);
  buf.set(iv, 8);
  buf.set(ct, 8 + iv.length);
  const ctx = engine.createContext(p);
  const op: EspCryptoOp = { kind: 'esp-open', buf, espOffset: 0, bodyLength: buf.length, seqHi: 0, status: 'pending' };
  ctx.runSync!(op);
  ctx.destroy();
  if (op.status !== 'ok') throw new Error(op.status);
  return buf.subarray(8 + iv.length);
}

t.test('RFC 3602 AES-CBC cases 1-4 (decrypt through esp-open)', async (t) => {
  const cases = [
    ['06a9214036b8a15b512e03d534120006', '3dafba429d9eb430b422da802c9fac41', Buffer.from('Single block msg').toString('hex'), 'e353779c1079aeb82708942dbe77181a'],
    ['c286696d887c9aa0611bbb3e2025a45a', '562e17996d093d28ddb3ba695a2e6f58', '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'd296cd94c2cccf8a3a863028b5e1dc0a7586602d253cfff91b8266bea6d61ab1'],
    ['6c3ea0477630ce21a2ce334aa746c2cd', 'c782dc4c098c66cbd9cd27d825682c81', Buffer.from('This is a 48-byte message (exactly 3 AES blocks)').toString('hex'),
      'd0a02b3836451753d493665d33f0e8862dea54cdb293abc7506939276772f8d5021c19216bad525c8579695d83ba2684'],
    ['56e47a38c5598974bc46903dba290349', '8ce82eefbea0da3c44699ed7db51b7d9',
      'a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf',
      'c30e32ffedc0774e6aff6af0869f71aa0f3af07a9a31a9c684db207eb0ef8e4e35907aa632c3ffdf868bb7b29d3d46ad83ce9f9a102ee99d49a53e87f4c3da55'],
  ] as const;
  for (const [k, iv, pt, ct] of cases) {
    t.equal(toHex(cbcOpen(espCbc('aes-cbc', hex(k), 16), hex(iv), hex(ct))), pt);
  }
});

t.test('FIPS 81 DES-CBC and SP 800-67 3DES (first block) through esp-open', async (t) => {
  const des = cbcOpen(espCbc('des-cbc', hex('0123456789abcdef'), 8), hex('1234567890abcdef'), hex('e5c7cdde872bf27c43e934008c389c0f683788499a7c05f6'));
  t.equal(Buffer.from(des).toString(), 'Now is the time for all ');
  t.match(engine.desMethod(), /legacy-provider|ede3-kkk/);
  const tdes = cbcOpen(espCbc('3des-cbc', hex('0123456789ABCDEF23456789ABCDEF01456789ABCDEF0123'), 8), new Uint8Array(8), hex('a826fd8ce53b855f'));
  t.equal(Buffer.from(tdes).toString(), 'The qufc');
});

// draft-mcgrew-gcm-test-01 section 4: key, nonce (salt || IV), AAD (SPI || [ESN high] || seq),
// plaintext (ESP payload incl. trailer), ciphertext, tag.
const GCM_CASES: readonly (readonly [string, string, string, string, string, string])[] = [
  ['4c80cdefbb5d10da906ac73c3613a634', '2e443b684956ed7e3b244cfe', '000043218765432100000000',
    '45000048699a000080114db7c0a80102c0a801010a9bf15638d301000001000000000000045f736970045f756470037369700963796265726369747902646b000021000101020201',
    'fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce61bc17d768fd9732', '459018148f6cbe722fd04796562dfdb4'],
  ['feffe9928665731c6d6a8f9467308308', 'cafebabefacedbaddecaf888', '0000a5f80000000a',
    '4500003e698f000080114dccc0a80102c0a801010a980035002a2343b2d001000001000000000000037369700963796265726369747902646b00000100010001',
    'deb22cd9b07c72c16e3a65beeb8df304a5a5897d33ae530f1ba76d5d114d2a5c3de81827c10e9a4f51330d0eec416642cfbb85a5b47e48a4ec3b9ba95d918bd1', '83b70d3aa8bc6ee4c309e9d85a41ad4a'],
  ['abbccddef00112233445566778899aababbccddef00112233445566778899aab', '112233440102030405060708', '4a2cbfe300000002',
    '4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee0000000007002400020bf0000020405b40101040201020201',
    'ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763748a637985771d347f0545659f14e99def842d8e', 'b335f4eecfdbf831824b4c4915956c96'],
  ['00000000000000000000000000000000', '000000000000000000000000', '0000000000000001',
    '4500003c99c500008001cb7a40679318010101010800075c020044006162636465666768696a6b6c6d6e6f707172737475767761626364656667686901020201',
    '4688daf2f973a392732909c331d56d60f694abaa414b5e7ff5fdcdfff5e9a284456476492719ffb64de7d9dca1e1d894bc3bd57873ed4d181d19d4d5c8c18af3', 'f821d496eeb096e98ad2b69e4799c71d'],
  ['3de09874b388e6491988d0c3607eae1f', '57690e434e280000a2fca1a3', '42f67e3f1010101010101010',
    '4500003c99c300008001cb7c40679318010101010800085c020043006162636465666768696a6b6c6d6e6f707172737475767761626364656667686901020201',
    'fba2caa4853cf9f0f22cb10d86dd83b0fec75691cf1a04b00d1138ec9c35791765acbd8701ad79845bf9fe3fba487bc91755e6662b4c8d0d1f5e22739530320a', 'e0d731cc978ecafaeae88f00e80d6e48'],
  ['3de09874b388e6491988d0c3607eae1f', '57690e434e280000a2fca1a3', '42f67e3f1010101010101010',
    '4500001c42a200008001441f406793b6e00000020a00f5ff01020201', 'fba2ca845e5df9f0f22c3e6e86dd831e1fc65792cd1af9130e1379ed', '369f071f35e034be95f112e4e7d05d35'],
  ['feffe9928665731c6d6a8f9467308308feffe9928665731c', 'cafebabefacedbaddecaf888', '0000a5f80000000a',
    '45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e501016d075680001',
    'a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0315b27452144cc77', '95457b9652037f5318027b5b4cd7a636'],
  ['abbccddef00112233445566778899aab', 'decaf888cafedebaceface74', '000001000000000000000001',
    '4500004933ba00007f119106c3fb1d10c2b1d326c02831ce0035dd7b800302d500004e20001e8c18d75b81dc91baa0476b91b924b280389d92c963bac046ec959b6266c04722b14923010101',
    '18a6fd42f72cbf4ab2a2ea901f73d814e3e7f243d95412e1c349c1d2fbec168f9190feebaf2cb01984e65863965d7472b79da345e0e780191f0d2f0e0f496c226f2127b27db35724e7845d68', '651f57e65f354f75ff17015769623436'],
  ['abbccddef00112233445566778899aababbccddef00112233445566778899aab', '73616c74616e640169766563', '17405e67156f3126dd0db99b',
    '45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb71260250101f646d540001',
    'f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57ff4d3a31ce673119e', '451626c2415771e3b7eebca614c89b35'],
  ['7d773d00c144c525ac619d18c84a3f47', 'd966426743457e9182443bc6', '335467aeffffffff', '01020201', '437f866b', 'cb3f699fe9b0822bac961c4504bef270'],
  ['6c6567616c697a656d6172696a75616e61616e64646f69746265666f72656961', '7475726e333021696765746d', '796b6963ffffffffffffffff',
    '45000030da3a00008001df3bc0a80005c0a800010800c6cd020007006162636465666768696a6b6c6d6e6f707172737401020201',
    'f97ab2aa356d8edce17644ac8c78e25dd24dedbb29ebf1b64a274b39b49c3a864cd3d78ca4ae68a32b42458fb57dbe821dcc63b9', 'd0937ba2945f669368661a329fb4c053'],
];

function gcmSetup(c: (typeof GCM_CASES)[number]) {
  const [key, nonce, aad, pt, ct, tag] = c.map(hex) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array, Uint8Array];
  const esn = aad.length === 12;
  const params: EspCryptoParams = {
    protocol: 'esp', cipher: 'aes-gcm-16', cipherKey: key, salt: nonce.subarray(0, 4), ivLength: 8, blockSize: 4,
    integrity: 'none', integrityKey: new Uint8Array(0), icvLength: 16, esn,
  };
  const buf = new Uint8Array(16 + pt.length + 16);
  buf.set(aad.subarray(0, 4), 0);
  buf.set(esn ? aad.subarray(8, 12) : aad.subarray(4, 8), 4);
  buf.set(nonce.subarray(4), 8);
  const seqHi = esn ? Buffer.from(aad).readUInt32BE(4) : 0;
  return { params, buf, pt, ct, tag, seqHi };
}

t.test('draft-mcgrew-gcm-test-01 (RFC 4106 ESP) seal and open', async (t) => {
  let i = 0;
  for (const c of GCM_CASES) {
    i++;
    const { params, buf, pt, ct, tag, seqHi } = gcmSetup(c);
    const ctx = engine.createContext(params);
    // Seal: the caller wrote SPI, seq and IV; the engine must produce the vector's bytes.
    buf.set(pt, 16);
    const seal: EspCryptoOp = { kind: 'esp-seal', buf, espOffset: 0, bodyLength: 16 + pt.length, seqHi, status: 'pending' };
    t.equal(ctx.runSync!(seal), 'ok', `case ${i} seal`);
    t.equal(toHex(buf.subarray(16, 16 + pt.length)), toHex(ct), `case ${i} ciphertext`);
    t.equal(toHex(buf.subarray(16 + pt.length)), toHex(tag), `case ${i} tag`);
    // Open.
    const open: EspCryptoOp = { kind: 'esp-open', buf, espOffset: 0, bodyLength: 16 + pt.length, seqHi, status: 'pending' };
    t.equal(ctx.runSync!(open), 'ok', `case ${i} open`);
    t.equal(toHex(buf.subarray(16, 16 + pt.length)), toHex(pt), `case ${i} plaintext`);
    // Wrong ESN high bits must fail (proves they are in the AAD).
    buf.set(ct, 16);
    const bad: EspCryptoOp = { kind: 'esp-open', buf, espOffset: 0, bodyLength: 16 + pt.length, seqHi: params.esn ? seqHi ^ 1 : 0, status: 'pending' };
    if (params.esn) t.equal(ctx.runSync!(bad), 'icv-failure', `case ${i} wrong ESN high`);
    ctx.destroy();
  }
});

t.test('RFC 2202 / RFC 4868 HMAC known answers with IPsec truncation (ah-sign)', async (t) => {
  const hiThere = new TextEncoder().encode('Hi There');
  const cases: readonly [AhCryptoParams['integrity'], Uint8Array, Uint8Array, string][] = [
    ['hmac-md5-96', new Uint8Array(16).fill(0x0b), hiThere, '9294727a3638bb1c13f48ef8158bfc9d'],
    ['hmac-sha1-96', new Uint8Array(20).fill(0x0b), hiThere, 'b617318655057264e28bc0b6fb378c8ef146be00'],
    ['hmac-sha256-128', new Uint8Array(32).fill(0x0b), hiThere, '198a607eb44bfbc69903a0f1cf2bbdc5ba0aa3f3d9ae3c1c7a3b1696a0b68cf7'],
    ['hmac-sha384-192', new Uint8Array(48).fill(0x0b), hiThere, 'b6a8d5636f5c6a7224f9977dcf7ee6c7fb6d0c48cbdee9737a959796489bddbc4c5df61d5b3297b4fb68dab9f1b582c2'],
    ['hmac-sha512-256', new Uint8Array(64).fill(0x0b), hiThere, '637edc6e01dce7e6742a99451aae82df23da3e92439e590e43e761b33e910fb8ac2878ebd5803f6f0b61dbce5e251ff8789a4722c1be65aea45fd464e89f8f5b'],
    ['hmac-sha256-128', new TextEncoder().encode('JefeJefeJefeJefeJefeJefeJefeJefe'), new TextEncoder().encode('what do ya want for nothing?'), '167f928588c5cc2eef8e3093caa0e87c9ff566a14794aa61648d81621a2a40c6'],
  ];
  const icvLen: Record<string, number> = { 'hmac-md5-96': 12, 'hmac-sha1-96': 12, 'hmac-sha256-128': 16, 'hmac-sha384-192': 24, 'hmac-sha512-256': 32 };
  for (const [integrity, key, data, full] of cases) {
    const icvLength = icvLen[integrity]!;
    const ctx = engine.createContext({ protocol: 'ah', integrity, integrityKey: key, icvLength, esn: false });
    const buf = new Uint8Array(data.length + icvLength);
    buf.set(data);
    const op = { kind: 'ah-sign' as const, buf, offset: 0, length: data.length, icvOffset: data.length, seqHi: 0, status: 'pending' as const };
    t.equal(ctx.runSync!(op), 'ok');
    // RFC 4868 2.3 / RFC 2404: the ICV is the leftmost half (SHA-2) or 96 bits (MD5, SHA-1).
    t.equal(toHex(buf.subarray(data.length)), full.slice(0, icvLength * 2), `${integrity} truncated ICV`);
    const verify = { kind: 'ah-verify' as const, buf, offset: 0, length: data.length, icvOffset: data.length, seqHi: 0, expected: hex(full.slice(0, icvLength * 2)), status: 'pending' as const };
    t.equal(ctx.runSync!(verify), 'ok');
    const wrong = hex(full.slice(0, icvLength * 2));
    wrong[0] ^= 1;
    t.equal(ctx.runSync!({ ...verify, expected: wrong, status: 'pending' }), 'icv-failure');
    ctx.destroy();
  }
});

t.test('software engine rejects esp-seal and bad parameters with clear messages', async (t) => {
  const seal: EspCryptoParams = { protocol: 'esp', cipher: 'seal', cipherKey: new Uint8Array(20), salt: new Uint8Array(0), ivLength: 0, blockSize: 4, integrity: 'hmac-sha1-96', integrityKey: new Uint8Array(20), icvLength: 12, esn: false };
  const s = engine.supports(seal);
  t.equal(s.ok, false);
  t.throws(() => engine.createContext(seal), UnsupportedAlgorithmError);
  t.throws(() => engine.createContext(seal), /does not support esp-seal.*not available in the software crypto engine/);
  t.throws(() => engine.createContext(espCbc('aes-cbc', new Uint8Array(15), 16)), UnsupportedAlgorithmError);
  const caps = engine.capabilities();
  t.ok(caps.ciphers.some((c) => c.cipher === 'aes-gcm-16' && c.keyBits.includes(256)));
  t.notOk(caps.ciphers.some((c) => c.cipher === 'seal'));
  t.equal(engine.name, 'software');
  t.equal(engine.status().state, 'up');
});
