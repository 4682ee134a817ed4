// ISAKMP model: defaults, effective policy order, keys, keyrings, profiles.
import t from 'tap';
import { DEFAULT_ISAKMP_POLICIES, effectiveIsakmpPolicies } from '../../firmware/config/crypto-isakmp.js';
import { configure, exec } from './crypto-helpers.js';

t.test('policy defaults and effective order', async (t) => {
  const { cfg } = await configure(['crypto isakmp policy 20', 'crypto isakmp policy 10', ' encryption aes 192', ' group 14']);
  t.same(cfg.isakmpPolicies[20], { priority: 20, revision: cfg.isakmpPolicies[20]!.revision, encryption: 'des', hash: 'sha', authentication: 'rsa-sig', group: 1, lifetimeSec: 86400 });
  t.equal(cfg.isakmpPolicies[10]!.encryption, 'aes192');
  const eff = effectiveIsakmpPolicies(cfg);
  t.same(eff.map((p) => p.priority), [10, 20, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514]);
  await configure(['no crypto isakmp default policy'], cfg);
  t.same(effectiveIsakmpPolicies(cfg).map((p) => p.priority), [10, 20]);
  t.equal(DEFAULT_ISAKMP_POLICIES.length, 8);
});

t.test('keys: replace by target, delete, masks', async (t) => {
  const { cfg, text } = await configure([
    'crypto isakmp key a address 10.0.0.1', 'crypto isakmp key b address 10.0.0.1 255.255.255.255',
    'crypto isakmp key c address 10.0.0.0 255.255.255.0', 'crypto isakmp key d address 10.0.0.0 255.0.255.0',
    'crypto isakmp key 6 encryptedblob hostname h.example.com',
  ]);
  t.same(cfg.isakmpKeys.keys.map((k) => [k.key, k.keyType]), [['b', 0], ['c', 0], ['encryptedblob', 6]]);
  t.match(text, /Invalid mask 255.0.255.0/);
  await configure(['no crypto isakmp key b address 10.0.0.1'], cfg);
  t.equal(cfg.isakmpKeys.keys.length, 2);
  t.match(await exec(cfg, ['show running-config']), /crypto isakmp key 6 encryptedblob hostname h.example.com/);
});

t.test('show crypto isakmp key is privileged only', async (t) => {
  const { cfg } = await configure(['crypto isakmp key secret1 address 10.0.0.1']);
  const { runTranscript } = await import('../../firmware/cli/transcript.js');
  const { fakeSystem } = await import('../lib/fake-system.js');
  const { text } = await runTranscript(['show crypto isakmp key'], { config: cfg, system: fakeSystem(), privileged: false });
  t.notMatch(text, /secret1/);
  t.match(await exec(cfg, ['show crypto isakmp key']), /secret1/);
});

t.test('keyrings and profiles', async (t) => {
  const { cfg } = await configure([
    'interface Serial2/0', ' ip address 10.20.0.1 255.255.255.0',
    'crypto keyring k1 vrf blue', ' local-address Serial2/0', ' pre-shared-key address 10.0.0.3 key s1', ' pre-shared-key address 10.0.0.3 key s2',
    'crypto isakmp profile p1', ' keyring k1', ' keyring k1', ' match identity address 10.0.0.0 255.0.0.0', ' local-address serial2/0',
  ]);
  t.same(cfg.keyrings.k1!.keys, [{ key: 's2', keyType: 0, address: { address: '10.0.0.3', mask: '255.255.255.255' } }]);
  t.equal(cfg.keyrings.k1!.vrf, 'blue');
  t.same(cfg.isakmpProfiles.p1!.keyrings, ['k1']);
  t.same(cfg.isakmpProfiles.p1!.localAddress, { interface: 'Serial2/0' });
  t.equal(await exec(cfg, ['show crypto isakmp profile']),
    'Router#show crypto isakmp profile\nISAKMP PROFILE p1\n  Identities matched are:\n    ip-address 10.0.0.0 255.0.0.0\n  Certificate maps matched are:\n  keyring(s): k1\n  trustpoint(s): <all>\n  Interface binding: Serial2/0 (10.20.0.1:global)\nRouter#');
  const again = await configure(['crypto keyring k1'], cfg);
  t.match(again.text, /Keyring k1 already exists in vrf blue/);
});
