// Transform sets: the guide's "Allowed Transform Combinations" table, key sizes, show
// names, and agreement with the data plane's parser (firmware/ipsec/transform.ts).
import t from 'tap';
import {
  TransformSetError, parseTransforms, transformSetParts, transformShowName, transformWords,
} from '../../firmware/config/crypto-ipsec.js';
import { parseTransformSet } from '../../firmware/ipsec/transform.js';
import { effectiveLifetime } from '../../firmware/config/crypto-ipsec.js';
import { configure, exec } from './crypto-helpers.js';

const OK = [
  'esp-aes 256 esp-sha-hmac', 'esp-3des esp-sha-hmac', 'esp-des esp-md5-hmac', 'ah-sha-hmac', 'ah-md5-hmac esp-des',
  'ah-sha-hmac esp-aes 192 esp-sha-hmac comp-lzs', 'esp-gcm', 'esp-gcm 256', 'esp-gmac 128', 'esp-null esp-sha-hmac',
  'esp-seal esp-sha-hmac', 'esp-aes esp-sha512-hmac', 'esp-sha-hmac', 'esp-3des comp-lzs',
];
const BAD: Array<[string, RegExp]> = [
  ['esp-des esp-3des', /Only one ESP encryption transform.*esp-des conflicts with esp-3des/],
  ['esp-md5-hmac esp-sha-hmac', /Only one ESP authentication transform/],
  ['ah-md5-hmac ah-sha-hmac', /Only one AH transform/],
  ['esp-gcm esp-sha-hmac', /esp-gcm cannot be configured together with any other ESP transform/],
  ['esp-gmac esp-md5-hmac', /esp-gmac cannot be configured together/],
  ['esp-gcm esp-aes', /Only one ESP encryption transform/],
  ['comp-lzs comp-lzs esp-des', /Only one compression transform/],
  ['comp-lzs', /at least one AH or ESP transform/],
  ['esp-aes 100', /key size must be 128, 192, 256/],
  ['esp-des 256', /Key size 256 must follow/],
  ['esp-rc4', /Unknown transform esp-rc4/],
];

t.test('allowed combinations', async (t) => {
  for (const s of OK) t.doesNotThrow(() => parseTransforms(s.split(' ')), s);
  for (const [s, re] of BAD) t.throws(() => parseTransforms(s.split(' ')), re, s);
  let caught: unknown;
  try { parseTransforms(['esp-des', 'esp-3des']); } catch (e) { caught = e; }
  t.ok(caught instanceof TransformSetError, 'typed error');
});

t.test('parts, words and show names', async (t) => {
  const ts = parseTransforms('ah-sha-hmac esp-aes 256 esp-sha-hmac comp-lzs'.split(' '));
  const p = transformSetParts({ transforms: ts });
  t.equal(p.ah?.name, 'ah-sha-hmac');
  t.same(p.espEncryption, { name: 'esp-aes', keyBits: 256 });
  t.equal(p.espAuth?.name, 'esp-sha-hmac');
  t.equal(p.compression?.name, 'comp-lzs');
  t.equal(p.combinedMode, false);
  t.same(transformWords({ transforms: ts }), ['ah-sha-hmac', 'esp-aes', '256', 'esp-sha-hmac', 'comp-lzs']);
  t.equal(transformShowName({ name: 'esp-aes', keyBits: 256 }), 'esp-256-aes');
  t.equal(transformShowName({ name: 'esp-aes', keyBits: 128 }), 'esp-aes');
  t.equal(transformShowName({ name: 'esp-gcm', keyBits: 192 }), 'esp-192-gcm');
  t.equal(transformSetParts({ transforms: parseTransforms(['esp-gcm']) }).combinedMode, true);
  t.same(parseTransforms(['esp-aes']), [{ name: 'esp-aes', keyBits: 128 }]);
});

t.test('every accepted set is accepted by the data plane parser with the same transforms', async (t) => {
  for (const s of OK) {
    const words = transformWords({ transforms: parseTransforms(s.split(' ')) });
    if (s === 'esp-3des comp-lzs') continue; // ESP without authentication: the data plane's RFC 4301 choice
    const dp = parseTransformSet(words);
    t.ok(dp, s);
  }
});

t.test('changing a transform set bumps its revision only; maps keep theirs', async (t) => {
  const { cfg } = await configure([
    'crypto ipsec transform-set ts1 esp-aes esp-sha-hmac',
    'crypto map m 10 ipsec-isakmp', ' set peer 10.0.0.1', ' set transform-set ts1', ' match address 101',
  ]);
  const tsRev = cfg.transformSets.ts1!.revision;
  const entryRev = cfg.cryptoMaps.m!.entries[0]!.revision;
  await configure(['crypto ipsec transform-set ts1 esp-aes 256 esp-sha-hmac'], cfg);
  t.ok(cfg.transformSets.ts1!.revision > tsRev, 'transform set revision moved');
  t.equal(cfg.cryptoMaps.m!.entries[0]!.revision, entryRev, 'map entry untouched');
  t.ok(cfg.transformSets.ts1!.revision <= cfg.revision, 'object revision never ahead of the config revision');
  const before = cfg.transformSets.ts1!.revision;
  await configure(['crypto ipsec transform-set ts1', ' mode transport'], cfg); // incomplete first line: no change
  t.equal(cfg.transformSets.ts1!.revision, before);
  await configure(['crypto ipsec transform-set ts1 esp-aes 256 esp-sha-hmac', ' mode transport'], cfg);
  t.equal(cfg.transformSets.ts1!.mode, 'transport');
});

t.test('a deleted transform set is shown missing by the maps using it', async (t) => {
  const { cfg } = await configure([
    'crypto ipsec transform-set ts1 esp-aes esp-sha-hmac',
    'crypto ipsec profile p', ' set transform-set ts1',
    'no crypto ipsec transform-set ts1',
  ]);
  t.same(cfg.ipsecProfiles.p!.transformSets, ['ts1']);
  t.match(await exec(cfg, ['show crypto ipsec profile p']), /ts1 \(missing\),/);
});

t.test('lifetimes fall back to the globals', async (t) => {
  const { cfg } = await configure(['crypto ipsec security-association lifetime seconds 7200']);
  t.same(effectiveLifetime(cfg, {}), { lifetimeSec: 7200, lifetimeKb: 4608000 });
  t.same(effectiveLifetime(cfg, { lifetimeKb: 'disable' }), { lifetimeSec: 7200, lifetimeKb: 'disable' });
  await configure(['crypto ipsec security-association lifetime kilobytes disable'], cfg);
  t.same(effectiveLifetime(cfg, { lifetimeSec: 300 }), { lifetimeSec: 300, lifetimeKb: 'disable' });
});
