// `nat force-encap` in crypto ikev2 profile: model, running-config place, no/default forms,
// round trip, and the mapping to the engine's connection (forceEncap).
import t from 'tap';
import { mapIkev2Config } from '../../firmware/daemon/ikev2-config.js';
import { ikev2PairConfig } from '../dataplane-e2e/ikev2-pair.js';
import { configure, errorLines, exec, running, stripRevisions } from './crypto-helpers.js';
import { generate } from './gen-crypto.js';

t.test('nat force-encap sets the flag; running-config puts it after nat keepalive; no/default remove it', async (t) => {
  const { cfg, text } = await configure(['crypto ikev2 profile P', ' dpd 10 2 on-demand', ' nat force-encap', ' nat keepalive 20', ' ivrf blue', 'exit']);
  t.same(errorLines(text), []);
  t.equal(cfg.ikev2Profiles['P']?.natForceEncap, true);
  const lines = running(cfg);
  const at = lines.indexOf('crypto ikev2 profile P');
  t.same(lines.slice(at, at + 5), ['crypto ikev2 profile P', ' dpd 10 2 on-demand', ' nat keepalive 20', ' nat force-encap', ' ivrf blue']);
  const again = await configure(lines.filter((l) => l !== 'end' && !l.startsWith('!')));
  t.same(stripRevisions(again.cfg.ikev2Profiles), stripRevisions(cfg.ikev2Profiles), 'round trip');
  await configure(['crypto ikev2 profile P', ' no nat force-encap', 'exit'], cfg);
  t.equal(cfg.ikev2Profiles['P']?.natForceEncap, undefined, 'no form removes it');
  t.notOk(running(cfg).includes(' nat force-encap'));
  t.ok(running(cfg).includes(' nat keepalive 20'), 'nat keepalive stays');
  await configure(['crypto ikev2 profile P', ' nat force-encap', ' default nat force-encap', 'exit'], cfg);
  t.equal(cfg.ikev2Profiles['P']?.natForceEncap, undefined, 'default form removes it');
  const bad = await configure(['crypto ikev2 profile P', ' nat force-encap 5', 'exit'], cfg);
  t.ok(errorLines(bad.text).length > 0, 'no argument accepted');
});

t.test('show crypto ikev2 profile says whether force-encap is on', async (t) => {
  const { cfg } = await configure(['crypto ikev2 profile P', ' nat force-encap', 'exit', 'crypto ikev2 profile Q', 'exit']);
  const out = await exec(cfg, ['show crypto ikev2 profile']);
  t.match(out, /IKEv2 profile: P[\s\S]* NAT-keepalive: disabled\n NAT force-encap: enabled\n/);
  t.match(out, /IKEv2 profile: Q[\s\S]* NAT force-encap: disabled\n/);
  const json = await exec(cfg, ['show crypto ikev2 profile P | json']);
  t.match(json, /"natForceEncap": true/);
});

t.test('the round-trip generator exercises nat force-encap', async (t) => {
  let seen = 0;
  for (let seed = 1; seed <= 60; seed++) {
    let a = seed >>> 0;
    const rng = (): number => {
      a = (a + 0x6d2b79f5) >>> 0;
      let x = a;
      x = Math.imul(x ^ (x >>> 15), x | 1);
      x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
    if (generate(rng).includes(' nat force-encap')) seen++;
  }
  t.ok(seen > 0, `generated in ${seen} of 60 configs`);
});

t.test('ikev2PairConfig: both sides load cleanly; force-encap reaches the engine connection', async (t) => {
  for (const side of ['A', 'B'] as const) {
    for (const forceEncap of [false, true]) {
      const { cfg, text } = await configure(ikev2PairConfig(side, { forceEncap }));
      t.same(errorLines(text), [], `side ${side} forceEncap ${forceEncap}: no errors`);
      const m = mapIkev2Config(cfg);
      t.same(m.problems, [], 'no mapping problems');
      t.equal(m.config.connections.length, 1, 'one connection');
      const c = m.config.connections[0]!;
      t.equal(c.forceEncap === true, forceEncap, 'forceEncap mapped');
      t.equal(c.remoteAddress, side === 'A' ? '172.16.0.2' : '172.16.0.1');
      t.same(c.ikeProposals.map((p) => [p.encryption, p.integrity, p.dhGroups]), [[['aes-cbc-256'], ['sha256'], [14]]]);
      t.same(c.childProposals.map((p) => p.encryption), [['aes-gcm-256']]);
    }
  }
});
