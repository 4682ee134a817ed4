// The signed image format: a good image verifies with any of several trusted keys; every
// damaged, foreign or unsigned image is refused with the reason; verification streams with
// flat memory over a 100 MB image.
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSignedImage, generateSigningKey } from '../../firmware/mgmt/update/image-build.js';
import { encodeHeader, encodeSignatureBlock, ImageError, type ImageErrorCode } from '../../firmware/mgmt/update/image-format.js';
import { ImageVerifier, verifyImageFile, type VerifyPolicy } from '../../firmware/mgmt/update/image-verify.js';
import { loadTrustedKeys } from '../../firmware/mgmt/update/trusted-keys.js';
import { compareVersions } from '../../firmware/mgmt/update/version-order.js';
import { xorshift32 } from '../lib/prng.js';

const dir = mkdtempSync(join(tmpdir(), 'rampart-image-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const k1 = generateSigningKey(dir, 'release-1');
const k2 = generateSigningKey(dir, 'release-2');
const keysDir = join(dir, 'trusted');
mkdirSync(keysDir);
copyFileSync(k1.publicPath, join(keysDir, 'release-1.pub'));
copyFileSync(k2.publicPath, join(keysDir, 'release-2.pub'));
const stranger = generateSigningKey(dir, 'stranger');
const keys = loadTrustedKeys(keysDir);
const policy: VerifyPolicy = { keys, board: 'vm', running: '1.0.0' };

const kernel = join(dir, 'kernel'), rootfs = join(dir, 'rootfs');
writeFileSync(kernel, randomBytes(70_001));
writeFileSync(rootfs, randomBytes(250_003));

function image(name: string, over: Partial<Parameters<typeof buildSignedImage>[0]> = {}): string {
  const out = join(dir, name);
  buildSignedImage({ kernel, rootfs, version: '1.1.0', buildId: 'test', boards: ['vm'], keys: [k1.privatePath], out, ...over });
  return out;
}

async function refused(t: Test, path: string, code: ImageErrorCode | ImageErrorCode[], p: VerifyPolicy = policy): Promise<void> {
  try {
    await verifyImageFile(path, p);
    t.fail(`${path} was accepted`);
  } catch (e) {
    t.ok(e instanceof ImageError, `refused with a typed error: ${(e as Error).message}`);
    const codes = Array.isArray(code) ? code : [code];
    t.ok(codes.includes((e as ImageError).code), `reason ${(e as ImageError).code} is one of ${codes.join('/')}`);
  }
}

const good = image('good.img');

t.test('a signed image verifies and says what it is', async (t) => {
  const v = await verifyImageFile(good, policy);
  t.equal(v.manifest.version, '1.1.0');
  t.same(v.manifest.boards, ['vm']);
  t.same(v.manifest.payloads.map((p) => p.name), ['kernel', 'rootfs']);
  t.equal(v.key.id, k1.id);
  t.equal(v.totalBytes, statSync(good).size);
  t.equal(v.headerBytes % 4096, 0);
  for (const p of v.manifest.payloads) t.equal(p.offset % 4096, 0, `${p.name} starts on a 4096-byte boundary`);
  // the payloads sit in the file verbatim at header + offset (a bootloader loads them from there)
  const img = readFileSync(good);
  const k = v.manifest.payloads[0]!;
  t.ok(img.subarray(v.headerBytes + k.offset, v.headerBytes + k.offset + k.size).equals(readFileSync(kernel)));
  t.equal(v.downgrade, false);
});

t.test('key rotation: either trusted key, or both signatures, or one known beside one unknown', async (t) => {
  t.equal((await verifyImageFile(image('k2.img', { keys: [k2.privatePath] }), policy)).key.id, k2.id);
  t.ok(await verifyImageFile(image('both.img', { keys: [k1.privatePath, k2.privatePath] }), policy));
  t.equal((await verifyImageFile(image('mixed.img', { keys: [stranger.privatePath, k2.privatePath] }), policy)).key.id, k2.id);
});

t.test('a flipped bit at 20 random offsets is refused every time', async (t) => {
  const rng = xorshift32(0x18_2026);
  const size = statSync(good).size;
  const v = await verifyImageFile(good, policy);
  const offsets = [
    // one in each region for sure: preamble, manifest, signature block, header padding, payloads, payload gap
    3, 200, v.headerBytes - 10, v.headerBytes + 5, size - 1,
    ...Array.from({ length: 15 }, () => rng.ri(size)),
  ];
  for (const off of offsets) {
    const bad = join(dir, 'flip.img');
    copyFileSync(good, bad);
    const fd = openSync(bad, 'r+');
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, off);
    b[0]! ^= 1 << rng.ri(8);
    writeSync(fd, b, 0, 1, off);
    closeSync(fd);
    await refused(t, bad, ['format', 'signature', 'unknown-key', 'hash', 'truncated', 'too-long', 'unsigned']);
  }
});

t.test('truncated images are refused', async (t) => {
  const size = statSync(good).size;
  for (const len of [0, 10, 300, 4096, size - 4096, size - 1]) {
    const bad = join(dir, 'trunc.img');
    copyFileSync(good, bad);
    truncateSync(bad, len);
    await refused(t, bad, 'truncated');
  }
  const long = join(dir, 'long.img');
  copyFileSync(good, long);
  writeFileSync(long, Buffer.alloc(1), { flag: 'a' });
  await refused(t, long, 'too-long');
});

t.test('wrong board, unsigned, unknown key, wrong product', async (t) => {
  await refused(t, image('board.img', { boards: ['sim', 'x86-box'] }), 'board');
  await refused(t, image('unsigned.img', { keys: [] }), 'unsigned');
  await refused(t, image('stranger.img', { keys: [stranger.privatePath] }), 'unknown-key');
  await refused(t, good, 'unknown-key', { ...policy, keys: [] });
  await refused(t, writeFileBack('notimage.img', Buffer.from('#!/bin/sh\necho hello\n')), 'format');
});

function writeFileBack(name: string, data: Buffer): string {
  writeFileSync(join(dir, name), data);
  return join(dir, name);
}

t.test('a signed manifest whose hashes do not match the payloads is refused', async (t) => {
  // The header of one build (signed, valid) over the payloads of another of the same sizes.
  const other = join(dir, 'rootfs2');
  writeFileSync(other, randomBytes(250_003));
  const a = readFileSync(good);
  const b = readFileSync(image('other.img', { rootfs: other }));
  const hb = (await verifyImageFile(good, policy)).headerBytes;
  const mixed = Buffer.concat([a.subarray(0, hb), b.subarray(hb)]);
  await refused(t, writeFileBack('mixed-payload.img', mixed), 'hash');
  // and a manifest re-signed by a trusted key but naming a hash the payload does not have
  const m = JSON.parse(a.subarray(16, 16 + a.readUInt32BE(8)).toString('utf8'));
  m.payloads[1].sha256 = '0'.repeat(64);
  const mb = Buffer.from(JSON.stringify(m));
  const { signManifest } = await import('../../firmware/mgmt/update/image-build.js');
  const header = encodeHeader(mb, encodeSignatureBlock({ signatures: signManifest(mb, [k1.privatePath]) }));
  await refused(t, writeFileBack('resigned.img', Buffer.concat([header, a.subarray(hb)])), 'hash');
});

t.test('a downgrade is refused unless forced (and then reported as one)', async (t) => {
  const old = image('old.img', { version: '0.9.3' });
  await refused(t, old, 'downgrade');
  const v = await verifyImageFile(old, { ...policy, force: true });
  t.equal(v.downgrade, true);
  t.equal((await verifyImageFile(image('same.img', { version: '1.0.0' }), policy)).downgrade, false, 'the same version is a reinstall');
  t.ok(compareVersions('1.10.0', '1.9.9') > 0);
  t.ok(compareVersions('1.0.0-rc1', '1.0.0') < 0);
  t.equal(compareVersions('2.0', '2.0.0'), 0);
});

t.test('the verifier takes the bytes in any chunk sizes', async (t) => {
  const img = readFileSync(good);
  const rng = xorshift32(7);
  for (let round = 0; round < 5; round++) {
    const v = new ImageVerifier(policy);
    for (let at = 0; at < img.length;) {
      const n = 1 + rng.ri(round === 0 ? 3 : 9000);
      v.update(img.subarray(at, at + n));
      at += n;
    }
    t.equal(v.finish().totalBytes, img.length);
  }
});

t.test('a 100 MB image verifies with flat memory', async (t) => {
  const big = join(dir, 'big-rootfs');
  const fd = openSync(big, 'w');
  const chunk = randomBytes(1 << 20);
  for (let i = 0; i < 100; i++) writeSync(fd, chunk);
  closeSync(fd);
  const out = image('big.img', { rootfs: big });
  rmSync(big);
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const v = await verifyImageFile(out, policy, () => { peak = Math.max(peak, process.memoryUsage().rss); });
  t.ok(v.totalBytes > 100e6);
  const grewMb = (peak - before) / 1e6;
  t.ok(grewMb < 40, `RSS grew ${grewMb.toFixed(1)} MB while verifying ${(v.totalBytes / 1e6).toFixed(0)} MB`);
  rmSync(out);
});
