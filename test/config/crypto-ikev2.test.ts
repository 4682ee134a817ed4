// IKEv2 proposals: the guide's expansion examples, completeness, default proposal/policy.
import t from 'tap';
import {
  DEFAULT_IKEV2_PROPOSAL, effectiveIkev2Policies, expandProposal, isProposalComplete, policyProposals, proposalProblem,
  type Ikev2Combination,
} from '../../firmware/config/crypto-ikev2.js';
import { configure, exec } from './crypto-helpers.js';

const fmt = (c: Ikev2Combination): string => `${c.encryption}, ${c.integrity === 'sha1' ? 'sha' : c.integrity}, ${c.group}`;

t.test('default proposal expands exactly as the guide lists it', async (t) => {
  t.same(expandProposal(DEFAULT_IKEV2_PROPOSAL).map(fmt), [
    'aes-cbc-128, sha, 5', 'aes-cbc-128, sha, 2', 'aes-cbc-128, md5, 5', 'aes-cbc-128, md5, 2',
    '3des, sha, 5', '3des, sha, 2', '3des, md5, 5', '3des, md5, 2',
  ]);
});

t.test('proposal-2 of "IKEv2 Proposal with Multiple Transforms" expands as the guide lists it', async (t) => {
  const { cfg } = await configure(['crypto ikev2 proposal proposal-2', 'encryption 3des aes-cbc-128', 'integrity sha md5', 'group 2 5']);
  t.same(expandProposal(cfg.ikev2Proposals['proposal-2']!).map(fmt), [
    '3des, sha, 2', '3des, sha, 5', '3des, md5, 2', '3des, md5, 5',
    'aes-cbc-128, sha, 2', 'aes-cbc-128, sha, 5', 'aes-cbc-128, md5, 2', 'aes-cbc-128, md5, 5',
  ]);
});

t.test('the minority example (encryption fastest) gives the same set in majority order', async (t) => {
  const { cfg } = await configure(['crypto ikev2 proposal proposal-1', 'encryption 3des, aes-cbc-128', 'integrity sha, md5', 'group 2']);
  const got = expandProposal(cfg.ikev2Proposals['proposal-1']!).map(fmt);
  const guide = ['3des, sha, 2', 'aes-cbc-128, sha, 2', '3des, md5, 2', 'aes-cbc-128, md5, 2'];
  t.same([...got].sort(), [...guide].sort(), 'same combinations');
  t.same(got, ['3des, sha, 2', '3des, md5, 2', 'aes-cbc-128, sha, 2', 'aes-cbc-128, md5, 2'], 'encryption outermost');
});

t.test('AEAD proposals use PRFs, no integrity', async (t) => {
  const p = { encryption: ['aes-gcm-256' as const], integrity: [], prf: ['sha384' as const, 'sha256' as const], group: [20 as const] };
  t.ok(isProposalComplete(p));
  t.same(expandProposal(p), [
    { encryption: 'aes-gcm-256', prf: 'sha384', group: 20 },
    { encryption: 'aes-gcm-256', prf: 'sha256', group: 20 },
  ]);
});

t.test('completeness', async (t) => {
  t.equal(proposalProblem({ encryption: ['3des'], integrity: ['md5'], prf: [], group: [] }), 'missing group');
  t.equal(proposalProblem({ encryption: [], integrity: [], prf: [], group: [2] }), 'missing encryption');
  t.equal(proposalProblem({ encryption: ['3des'], integrity: [], prf: [], group: [2] }), 'missing integrity');
  t.equal(proposalProblem({ encryption: ['aes-gcm-128'], integrity: [], prf: [], group: [2] }), 'missing prf');
  t.same(expandProposal({ encryption: ['3des'], integrity: ['md5'], prf: [], group: [] }), []);
  const { cfg, text } = await configure([
    'crypto ikev2 proposal p', 'encryption 3des', 'integrity sha',
    'crypto ikev2 policy pol', 'proposal p',
  ]);
  t.match(text, /IKEv2 proposal MUST have atleast an encryption algorithm, an integrity algorithm and a dh group configured/);
  t.same(cfg.ikev2Policies.pol!.proposals, []);
  const r = await configure(['crypto ikev2 proposal p', 'group 14', 'crypto ikev2 policy pol', 'proposal p', 'crypto ikev2 proposal p', 'no group 14'], cfg);
  t.same(cfg.ikev2Policies.pol!.proposals, ['p']);
  t.match(r.text, /would become incomplete \(missing group\)/);
  t.same(cfg.ikev2Proposals.p!.group, [14], 'still complete');
});

t.test('default policy and proposal', async (t) => {
  const { cfg } = await configure([]);
  const pols = effectiveIkev2Policies(cfg);
  t.equal(pols.length, 1);
  t.equal(pols[0]!.name, 'default');
  t.same(policyProposals(cfg, pols[0]!).map((p) => p.name), ['default']);
  await configure(['crypto ikev2 proposal a', 'encryption aes-cbc-256', 'integrity sha256', 'group 14', 'crypto ikev2 policy x', 'proposal a'], cfg);
  t.same(effectiveIkev2Policies(cfg).map((p) => p.name), ['x']);
  t.match(await exec(cfg, ['show crypto ikev2 proposal a']), /Encryption : AES-CBC-256\n\s+Integrity  : SHA256\n\s+PRF        : SHA256\n\s+DH Group   : DH_GROUP_2048_MODP\/Group 14/);
});

t.test('proposal lists are additive and removable', async (t) => {
  const { cfg } = await configure(['crypto ikev2 proposal a', 'encryption aes-cbc-128', 'encryption 3des aes-cbc-128', 'no encryption aes-cbc-128']);
  t.same(cfg.ikev2Proposals.a!.encryption, ['3des']);
});
