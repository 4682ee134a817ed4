import t from 'tap';
import { selectProposal } from '../../firmware/ike/v2/index.js';
import { ikeProposalsFromConfig, childProposalsFromConfig } from '../../firmware/ike/v2/algorithms.js';
import { narrow, selectorFromConfig, formatSelector } from '../../firmware/ike/v2/selectors.js';

t.test("the initiator's proposal order wins", async (t) => {
  const offered = ikeProposalsFromConfig([
    { encryption: ['aes-cbc-128'], integrity: ['sha1'], dhGroups: [14] },
    { encryption: ['aes-cbc-256'], integrity: ['sha256'], dhGroups: [14] },
  ]);
  const local = ikeProposalsFromConfig([
    { encryption: ['aes-cbc-256'], integrity: ['sha256'], dhGroups: [14] },
    { encryption: ['aes-cbc-128'], integrity: ['sha1'], dhGroups: [14] },
  ]);
  const r = selectProposal(offered, local);
  t.ok(r.ok);
  if (r.ok) {
    t.equal(r.offeredNum, 1, "the peer's first proposal");
    t.equal(r.localIndex, 1, 'matched by our second one');
    t.equal(r.proposal.transforms.find((x) => x.type === 1)?.keyLength, 128);
    t.equal(r.proposal.transforms.length, 4, 'one transform per type');
  }
});

t.test('inside a proposal the first offered transform of each type is taken', async (t) => {
  const offered = ikeProposalsFromConfig([{ encryption: ['aes-cbc-128', 'aes-cbc-256'], integrity: ['sha1', 'sha256'], dhGroups: [19, 14] }]);
  const local = ikeProposalsFromConfig([{ encryption: ['aes-cbc-256', 'aes-cbc-128'], integrity: ['sha256', 'sha1'], dhGroups: [14, 19] }]);
  const r = selectProposal(offered, local);
  t.ok(r.ok);
  if (r.ok) {
    t.same(r.proposal.transforms.map((x) => [x.type, x.id, x.keyLength]), [[1, 12, 128], [2, 2, undefined], [3, 2, undefined], [4, 19, undefined]]);
  }
});

t.test('unknown transform attributes make a transform unacceptable', async (t) => {
  const offered = ikeProposalsFromConfig([{ encryption: ['aes-cbc-128'], integrity: ['sha1'], dhGroups: [14] }]);
  offered[0]!.transforms[0]!.otherAttributes = [{ type: 77, value: 1 }];
  const r = selectProposal(offered, ikeProposalsFromConfig([{ encryption: ['aes-cbc-128'], integrity: ['sha1'], dhGroups: [14] }]));
  t.notOk(r.ok);
});

t.test('ESP: DH ignored in IKE_AUTH, required with PFS', async (t) => {
  const offered = childProposalsFromConfig([{ encryption: ['aes-gcm-256'] }], Uint8Array.of(1, 2, 3, 4), 14);
  const local = childProposalsFromConfig([{ encryption: ['aes-gcm-256'] }], new Uint8Array(4));
  t.ok(selectProposal(offered, local, [], { ignoreDh: true }).ok, 'IKE_AUTH ignores DH');
  const r = selectProposal(offered, local);
  t.notOk(r.ok, 'CREATE_CHILD_SA does not');
  if (!r.ok) t.equal(r.comparisons[0]?.firstDifference.transformType, 'dh-group');
});

t.test('traffic selector narrowing', async (t) => {
  const req = [selectorFromConfig({ cidr: '10.0.0.0/8' })];
  const loc = [selectorFromConfig({ cidr: '10.1.0.0/16', protocol: 17, startPort: 53, endPort: 53 }), selectorFromConfig({ cidr: '10.2.3.4/32' })];
  t.same(narrow(req, loc).map(formatSelector), ['10.1.0.0-10.1.255.255 proto 17 port 53-53', '10.2.3.4-10.2.3.4 proto any port any']);
  t.same(narrow(req, [selectorFromConfig({ cidr: '192.168.0.0/16' })]), [], 'disjoint');
  t.same(narrow([selectorFromConfig({ cidr: '2001:db8::/32' })], [selectorFromConfig({ cidr: '2001:db8:1::/48' })]).map(formatSelector), ['2001:db8:1::-2001:db8:1:ffff:ffff:ffff:ffff:ffff proto any port any'], 'IPv6');
  t.same(narrow([selectorFromConfig({ cidr: '10.0.0.0/8', protocol: 6 })], [selectorFromConfig({ cidr: '10.0.0.0/8', protocol: 17 })]), [], 'protocol mismatch');
});

t.test('configuration validation', async (t) => {
  const { validateIkev2Config } = await import('../../firmware/ike/v2/index.js');
  const good = {
    connections: [{
      name: 'c', remoteAddress: '192.0.2.2', ikeProposals: [{ encryption: ['aes-cbc-256' as const], integrity: ['sha256' as const], dhGroups: [14] }],
      childProposals: [{ encryption: ['aes-gcm-256' as const] }], localSelectors: [{ cidr: '10.1.0.0/16' }], remoteSelectors: [{ cidr: '10.2.0.0/16' }],
    }],
    psk: () => undefined,
  };
  t.same(validateIkev2Config(good), []);
  const bad = {
    ...good,
    connections: [{
      ...good.connections[0]!, ikeProposals: [{ encryption: ['aes-gcm-128' as const], integrity: ['sha1' as const], dhGroups: [99] }],
      childProposals: [{ encryption: ['aes-cbc-128' as const] }], localSelectors: [{ cidr: '10.1.0.0/40' }],
    }],
  };
  const problems = validateIkev2Config(bad);
  t.match(problems.join('\n'), /AES-GCM proposals take no integrity/);
  t.match(problems.join('\n'), /unsupported DH group 99/);
  t.match(problems.join('\n'), /integrity required with aes-cbc-128/);
  t.match(problems.join('\n'), /bad local selector/);
});
