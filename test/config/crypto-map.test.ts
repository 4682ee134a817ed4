// Crypto map model rules: ordering, manual restrictions, dynamic references, deletion of
// referenced objects, revisions.
import t from 'tap';
import { cryptoMapWarnings, isEntryComplete } from '../../firmware/config/crypto-map.js';
import { configure, exec } from './crypto-helpers.js';

t.test('entries are kept in sequence order', async (t) => {
  const { cfg } = await configure(['crypto map m 30', 'crypto map m 10', 'crypto map m 20 ipsec-manual']);
  t.same(cfg.cryptoMaps.m!.entries.map((e) => [e.seq, e.kind]), [[10, 'ipsec-isakmp'], [20, 'ipsec-manual'], [30, 'ipsec-isakmp']]);
});

t.test('new entry note, completeness', async (t) => {
  const { cfg, text } = await configure(['crypto map m 10 ipsec-isakmp', ' set peer 10.0.0.1']);
  t.match(text, /% NOTE: This new crypto map will remain disabled until a peer\n        and a valid access list have been configured\./);
  t.notOk(isEntryComplete(cfg.cryptoMaps.m!.entries[0]!));
  await configure(['crypto map m 10', ' match address 101'], cfg);
  t.ok(isEntryComplete(cfg.cryptoMaps.m!.entries[0]!));
  const again = await configure(['crypto map m 10 ipsec-isakmp'], cfg);
  t.notMatch(again.text, /NOTE/, 'no note for an existing entry');
});

t.test('manual entries: one peer, one transform set, keys only there', async (t) => {
  const { cfg, text } = await configure([
    'crypto ipsec transform-set a esp-des esp-md5-hmac', 'crypto ipsec transform-set b esp-3des esp-sha-hmac',
    'crypto map m 10 ipsec-manual', ' set peer 10.0.0.5', ' set peer 10.0.0.6', ' set transform-set a b',
    ' set session-key inbound esp 300 cipher 0011223344556677 authenticator 00112233445566778899aabbccddeeff00112233',
    'crypto map m 20 ipsec-isakmp', ' set session-key inbound ah 256 00',
  ]);
  const e = cfg.cryptoMaps.m!.entries[0]!;
  t.same(e.peers, ['10.0.0.5']);
  t.same(e.transformSets, []);
  t.match(text, /Only one peer can be specified for an ipsec-manual crypto map entry/);
  t.match(text, /Only one transform set can be specified for an ipsec-manual crypto map entry/);
  t.match(text, /Session keys can only be set on ipsec-manual crypto map entries/);
  t.same(e.sessionKeys?.inbound.esp, { spi: 300, cipherKey: '0011223344556677', authKey: '00112233445566778899aabbccddeeff00112233' });
  const json = await exec(cfg, ['show crypto map | json']);
  t.notMatch(json, /0011223344556677/, 'session keys are not in the JSON form');
});

t.test('dynamic references: lowest priority warning, IPv6 refusal, warnings list', async (t) => {
  const { cfg, text } = await configure([
    'crypto dynamic-map d 10',
    'crypto map m 20 ipsec-isakmp dynamic d',
    'crypto map m 30 ipsec-isakmp',
    'crypto map ipv6 v 10 ipsec-isakmp dynamic d',
  ]);
  t.match(text, /should be the lowest priority/);
  t.match(text, /IPv6 crypto maps do not support dynamic crypto maps/);
  t.notOk(cfg.cryptoMaps.v);
  const w = cryptoMapWarnings(cfg);
  t.ok(w.some((l) => /crypto map m 20: an entry referring to a dynamic map should be the lowest priority/.test(l)));
  t.ok(w.some((l) => /crypto dynamic-map d 10: a dynamic map entry needs a transform set/.test(l)));
});

t.test('IPv4 and IPv6 maps do not mix', async (t) => {
  const { cfg, text } = await configure(['crypto map ipv6 v 10', ' set peer 10.0.0.1', ' set peer 2001:db8::1', 'crypto map v 20']);
  t.same(cfg.cryptoMaps.v!.entries.map((e) => e.seq), [10]);
  t.same(cfg.cryptoMaps.v!.entries[0]!.peers, ['2001:db8::1']);
  t.match(text, /An IPv6 crypto map takes IPv6 peers/);
  t.match(text, /Crypto map v is an IPv6 crypto map/);
});

t.test('deleting an ACL leaves match address pointing at an empty list', async (t) => {
  const { cfg } = await configure([
    'access-list 101 permit ip 10.1.1.0 0.0.0.255 172.16.1.0 0.0.0.255',
    'crypto map m 10 ipsec-isakmp', ' set peer 10.0.0.1', ' match address 101',
    'no access-list 101',
  ]);
  t.equal(cfg.cryptoMaps.m!.entries[0]!.matchAddress, '101');
  const show = await exec(cfg, ['show crypto map']);
  t.match(show, /Extended IP access list 101\n        Current peer: 10.0.0.1/);
  t.ok(cryptoMapWarnings(cfg).some((l) => /access list 101 does not exist or is empty/.test(l)));
});

t.test('set peer order and default', async (t) => {
  const { cfg } = await configure(['crypto map m 10', ' set peer 10.0.0.1', ' set peer 10.0.0.2', ' set peer 10.0.0.3 default', ' set peer peer.example.com', ' no set peer 10.0.0.1']);
  t.same(cfg.cryptoMaps.m!.entries[0]!.peers, ['10.0.0.3', '10.0.0.2', 'peer.example.com']);
});

t.test('entry revisions move only for the entry changed', async (t) => {
  const { cfg } = await configure(['crypto map m 10', ' set peer 10.0.0.1', 'crypto map m 20', ' set peer 10.0.0.2']);
  const [r10, r20] = cfg.cryptoMaps.m!.entries.map((e) => e.revision);
  await configure(['crypto map m 20', ' set pfs group14'], cfg);
  t.equal(cfg.cryptoMaps.m!.entries[0]!.revision, r10);
  t.ok(cfg.cryptoMaps.m!.entries[1]!.revision > r20!);
  t.equal(cfg.cryptoMaps.m!.entries[1]!.pfsGroup, 14);
});

t.test('manual entries refuse negotiation settings', async (t) => {
  const { cfg, text } = await configure(['crypto map m 10 ipsec-manual', ' set pfs group2', ' set security-association lifetime seconds 300', ' set isakmp-profile p']);
  t.match(text, /set pfs is not valid for ipsec-manual crypto map entries/);
  t.match(text, /set security-association lifetime is not valid for ipsec-manual/);
  t.equal(cfg.cryptoMaps.m!.entries[0]!.pfsGroup, undefined);
});

t.test('resolveCryptoMapSet expands dynamic maps in place and tracks dependencies', async (t) => {
  const { cfg } = await configure([
    'crypto ipsec security-association lifetime seconds 1800',
    'crypto ipsec transform-set a esp-aes esp-sha-hmac', 'crypto ipsec transform-set b esp-3des esp-md5-hmac',
    'crypto dynamic-map d 20', ' set transform-set b', 'crypto dynamic-map d 10', ' set transform-set a gone', ' set pfs group14',
    'crypto map m 10 ipsec-isakmp', ' set peer 10.0.0.1', ' set transform-set a', ' match address 101', ' set security-association lifetime kilobytes disable',
    'crypto map m 20 ipsec-manual', ' set peer 10.0.0.2', ' set transform-set b', ' set session-key inbound esp 300 cipher 00112233445566778899aabbccddeeff',
    'crypto map m 100 ipsec-isakmp dynamic d discover',
    'crypto map m 200 ipsec-isakmp dynamic nosuch',
    'crypto map m local-address Loopback0', 'crypto map m isakmp-profile ip1',
  ]);
  const { resolveCryptoMapSet } = await import('../../firmware/config/crypto-map.js');
  const r = resolveCryptoMapSet(cfg, 'm');
  t.same(r.map((e) => [e.seq, e.subSeq, e.kind]), [[10, undefined, 'isakmp'], [20, undefined, 'manual'], [100, 10, 'dynamic'], [100, 20, 'dynamic']]);
  t.same(r[0]!.transformSets.map((s) => s.name), ['a']);
  t.equal(r[0]!.lifetimeSec, 1800);
  t.equal(r[0]!.lifetimeKb, 'disable');
  t.equal(r[0]!.isakmpProfile, 'ip1', 'set-level isakmp-profile');
  t.equal(r[0]!.localAddressInterface, 'Loopback0');
  t.same(r[2]!.missingTransformSets, ['gone']);
  t.equal(r[2]!.pfsGroup, 14);
  t.equal(r[2]!.discover, true);
  t.ok(r[1]!.sessionKeys?.inbound.esp);
  const before = r[0]!.revision;
  await configure(['crypto ipsec transform-set a esp-aes 256 esp-sha-hmac'], cfg);
  t.ok(resolveCryptoMapSet(cfg, 'm')[0]!.revision > before, 'a transform set change moves the entry policy revision');
  const r1 = resolveCryptoMapSet(cfg, 'm')[1]!.revision;
  await configure(['crypto ipsec transform-set a esp-aes 192 esp-sha-hmac'], cfg);
  t.equal(resolveCryptoMapSet(cfg, 'm')[1]!.revision, r1, 'an unrelated entry keeps its revision');
});
