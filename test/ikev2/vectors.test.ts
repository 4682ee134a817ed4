import t from 'tap';
import { createPrf, prfPlus } from '../../firmware/ike/crypto/index.js';
import { deriveChildKeys, deriveIkeKeys, skeyseedInitial, skeyseedRekey, pskAuth } from '../../firmware/ike/v2/index.js';
import { childSuiteOf, ikeSuiteOf } from '../../firmware/ike/v2/algorithms.js';

// NIST CAVS SP 800-135 IKEv2 KDF sample vector (SHA-1, DKM 1056 bits), as published in
// csrc.nist.gov .../800-135testvectors/ikev2.zip.
const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const ni = hex('3651fef5c9c35e93');
const nr = hex('c09a8b90a3f04d59');
const gir = hex('d084a30166a50fb7325c3960874a839449ef9741c2f4f947d0201dd8c1269273d79509f37e3ca3eb4fa2fe2a28254e289cd3f34dad4eb4df1a07685a4b8a94fa61e2491f7598b3ce65547ff133b3f63d1ac4175eaa695033f3cedb026a6873a36455172a8540b8a5d23a0143bed0390ee49b168269d75fffee9fb62be965993c');
const girNew = hex('52f00ab174c25d5b7139ae5ff4e8e9eddee5992d2e36adf8a559ffd90dab1442e4fbe429d320c0f33552a17d1557fa41ea70e8fb916c4fa27ed52b5f8ebd8461afa78f1159159a64055ac5f6319e29c28eae58cbc6847770f32c3fed1d04750484f854790f95e9ec01bc5bc461f24966462e359511329305038e94deb6dd42c2');
const spiI = 0x8e5c3ae507221684n;
const spiR = 0xb1f201bb155c3acdn;
const SKEYSEED = 'cd2e8050137832245f1dbacc6e4f0a92f94d45d6';
const DKM = '6f1b12cad3cbe097b35430356d869d54cddb0198ec859174d53ceb92dddedbe2436db69f60977c58fa63bbb667f8d36920b109baae8f6c61a9ac49feda01843225d080ec5539d5881a25521ffb2a0a91874a9c0a27fcc2d717eb8963a9e3a89c7ab264757284c28cf8c3ca40576f4220b052b1fb8e9ad60ba3c80557323331a8cbb89f20';
const DKM_CHILD = '4727dc0ef94eb326ce131cf282fb652faa638ad0ddae3786a11bcc0309876009f8c485de011ad962c5b1ca8a41ff8145445749079c5686e26ffebbc342f06981f3da745e11ca0976424d1f8caec623d59dc7186deb20a27b411d1dcb70a365440bf7de905088b0692e8addc094e18d1939bdb67e89798ca6b239e2ccb81c2409dac0106c';
const DKM_CHILD_DH = 'b109c21ad4c0797768c1cec9e63554681e48f224bca7f23c20c4ea7041983451e9aa1d5408656c8a975ff1b9d9a12c75ffeb64bdecb30174664cccb4e14f1c377b7f6d1525af77c7092aac3e47f917ebae8297fb5539d2008ce830823a09cc197361d4a289c72745f6ce9fefe812be5bf55b3200fbb82e41a4a40877d3fe106db909707b';
const SKEYSEED_REKEY = '3b03bce748c96d5e8306918d2ff89b68f0648da3';

const prf = createPrf('hmac-sha1');
const spiBytes = hex('8e5c3ae507221684b1f201bb155c3acd');

t.test('SKEYSEED = prf(Ni | Nr, g^ir)', async (t) => {
  t.equal(toHex(skeyseedInitial(prf, 2, ni, nr, gir)), SKEYSEED);
});

t.test('prf+(SKEYSEED, Ni | Nr | SPIi | SPIr)', async (t) => {
  const seed = new Uint8Array([...ni, ...nr, ...spiBytes]);
  t.equal(toHex(prfPlus(prf, hex(SKEYSEED), seed, 132)), DKM);
});

t.test('deriveIkeKeys slices the keying material in RFC 7296 2.14 order', async (t) => {
  // PRF_HMAC_SHA1, AUTH_HMAC_SHA1_96, ENCR_AES_CBC-128: 20 + 2*20 + 2*16 + 2*20 = 132 bytes.
  const suite = ikeSuiteOf({
    num: 1, protocolId: 1, spi: new Uint8Array(0),
    transforms: [{ type: 1, id: 12, keyLength: 128 }, { type: 2, id: 2 }, { type: 3, id: 2 }, { type: 4, id: 2 }],
  });
  const k = deriveIkeKeys(suite, hex(SKEYSEED), ni, nr, spiI, spiR);
  const dkm = hex(DKM);
  t.equal(toHex(k.skD), toHex(dkm.subarray(0, 20)), 'SK_d');
  t.equal(toHex(k.skAi), toHex(dkm.subarray(20, 40)), 'SK_ai');
  t.equal(toHex(k.skAr), toHex(dkm.subarray(40, 60)), 'SK_ar');
  t.equal(toHex(k.skEi), toHex(dkm.subarray(60, 76)), 'SK_ei');
  t.equal(toHex(k.skEr), toHex(dkm.subarray(76, 92)), 'SK_er');
  t.equal(toHex(k.skPi), toHex(dkm.subarray(92, 112)), 'SK_pi');
  t.equal(toHex(k.skPr), toHex(dkm.subarray(112, 132)), 'SK_pr');
});

t.test('Child SA KEYMAT with and without PFS, and the rekeyed SKEYSEED', async (t) => {
  const skD = hex(DKM).subarray(0, 20);
  t.equal(toHex(prfPlus(prf, skD, new Uint8Array([...ni, ...nr]), 132)), DKM_CHILD);
  t.equal(toHex(prfPlus(prf, skD, new Uint8Array([...girNew, ...ni, ...nr]), 132)), DKM_CHILD_DH);
  t.equal(toHex(skeyseedRekey(prf, skD, girNew, ni, nr)), SKEYSEED_REKEY);
  // deriveChildKeys: ESP AES-CBC-256 + HMAC-SHA1-96 takes encr_i(32) integ_i(20) encr_r(32) integ_r(20).
  const suite = childSuiteOf({ num: 1, protocolId: 3, spi: new Uint8Array(4), transforms: [{ type: 1, id: 12, keyLength: 256 }, { type: 3, id: 2 }, { type: 5, id: 0 }] });
  const c = deriveChildKeys(prf, skD, suite, ni, nr);
  const km = hex(DKM_CHILD);
  t.equal(toHex(c.encrI), toHex(km.subarray(0, 32)));
  t.equal(toHex(c.integI), toHex(km.subarray(32, 52)));
  t.equal(toHex(c.encrR), toHex(km.subarray(52, 84)));
  t.equal(toHex(c.integR), toHex(km.subarray(84, 104)));
  const d = deriveChildKeys(prf, skD, suite, ni, nr, girNew);
  t.equal(toHex(d.encrI), toHex(hex(DKM_CHILD_DH).subarray(0, 32)), 'PFS keys');
});

t.test('PSK AUTH construction', async (t) => {
  // AUTH = prf(prf(PSK, "Key Pad for IKEv2"), msg | nonce | prf(SK_p, ID body)), computed independently.
  const p = createPrf('hmac-sha256');
  const psk = new TextEncoder().encode('test');
  const msg = hex('00112233');
  const nonce = hex('aabb');
  const skp = hex('0102');
  const id = hex('01000000c0000201');
  const inner = p.compute(psk, new TextEncoder().encode('Key Pad for IKEv2'));
  const expected = p.compute(inner, new Uint8Array([...msg, ...nonce, ...p.compute(skp, id)]));
  t.same(pskAuth(p, psk, msg, nonce, skp, id), expected);
  t.notSame(pskAuth(p, new TextEncoder().encode('tesT'), msg, nonce, skp, id), expected, 'another key gives another AUTH');
});
