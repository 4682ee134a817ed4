// IKEv2 commands: `crypto ikev2 proposal|policy|keyring|profile` with their sub-modes, and
// `show crypto ikev2 proposal [NAME]`, `show crypto ikev2 policy [NAME]`,
// `show crypto ikev2 profile [NAME]`.

import { IKEV2_DH_GROUPS, isContiguousMask, listItems, nextRevision, sortByName, type Ikev2DhGroup } from '../../config/crypto-common.js';
import {
  DEFAULT_IKEV2_POLICY, DEFAULT_IKEV2_PROPOSAL, IKEV2_ENCRYPTIONS, IKEV2_INTEGRITIES, PROPOSAL_INCOMPLETE_MESSAGE,
  isProposalComplete, localIdentityText, lookupProposal, newIkev2Profile, proposalProblem, remoteIdentityText,
  type Ikev2AuthMethod, type Ikev2Encryption, type Ikev2Integrity, type Ikev2Key, type Ikev2Keyring, type Ikev2KeyringPeer,
  type Ikev2Policy, type Ikev2Profile, type Ikev2Proposal, type Ikev2RemoteIdentityMatch,
} from '../../config/crypto-ikev2.js';
import type { Config } from '../../config/model.js';
import { CliError, type CommandContext } from '../context.js';
import type { Args } from '../matcher.js';
import { defineMode } from '../modes.js';
import { defineCommand } from '../registry.js';
import { presharedKeyText } from '../limits.js';

defineMode({ name: 'ikev2-proposal', prompt: '(config-ikev2-proposal)', parent: 'config' });
defineMode({ name: 'ikev2-policy', prompt: '(config-ikev2-policy)', parent: 'config' });
defineMode({ name: 'ikev2-keyring', prompt: '(config-ikev2-keyring)', parent: 'config' });
defineMode({ name: 'ikev2-keyring-peer', prompt: '(config-ikev2-keyring-peer)', parent: 'ikev2-keyring' });
defineMode({ name: 'ikev2-profile', prompt: '(config-ikev2-profile)', parent: 'config' });

const EXEC = ['exec'];

// ---------------------------------------------------------------------------------------
// Proposals

defineCommand({
  modes: ['config'],
  syntax: ['crypto ikev2 proposal WORD$name', 'no crypto ikev2 proposal WORD$name'],
  help: { proposal: 'Define IKEv2 proposals', name: 'Name of the proposal' },
  handler(ctx, a) {
    const name = a.req('name');
    const props = ctx.config.ikev2Proposals;
    if (a.no) {
      const users = policiesUsing(ctx.config, name);
      if (users.length > 0) throw new CliError(`% Proposal ${name} is in use by IKEv2 policy ${users.join(', ')}; remove it from the policy first.`);
      delete props[name];
      return;
    }
    if (name === 'default' && !props[name]) throw new CliError('% The default proposal cannot be modified; configure a proposal with another name.');
    if (!props[name]) props[name] = { name, revision: nextRevision(ctx.config), encryption: [], integrity: [], prf: [], group: [] };
    ctx.enter('ikev2-proposal', { name });
  },
});

function policiesUsing(cfg: Config, proposal: string): string[] {
  return sortByName(Object.values(cfg.ikev2Policies)).filter((p) => p.proposals.includes(proposal)).map((p) => p.name);
}

function currentProposal(ctx: CommandContext): Ikev2Proposal {
  const p = ctx.config.ikev2Proposals[ctx.modeData.name as string];
  if (!p) throw new CliError('% The IKEv2 proposal was removed.');
  return p;
}

/** Resolves list words: exact names, aliases, then unique prefixes. */
function resolveWords<T extends string>(words: readonly string[], valid: readonly T[], aliases: Record<string, T>, what: string): T[] {
  return listItems(words).map((w) => {
    if ((valid as readonly string[]).includes(w)) return w as T;
    const alias = aliases[w];
    if (alias) return alias;
    const hits = valid.filter((v) => v.startsWith(w));
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) throw new CliError(`% Ambiguous ${what} "${w}": ${hits.join(', ')}`);
    throw new CliError(`% Invalid ${what} "${w}". Valid: ${valid.join(' ')}`);
  });
}

const INTEGRITY_ALIASES: Record<string, Ikev2Integrity> = { sha: 'sha1', sha96: 'sha1', md596: 'md5' };

function proposalListCommand<K extends 'encryption' | 'integrity' | 'prf' | 'group'>(
  key: K, help: Record<string, string>, parse: (words: string[]) => Ikev2Proposal[K],
): void {
  defineCommand({
    modes: ['ikev2-proposal'],
    syntax: [`${key} WORD$alg...`, `no ${key} [WORD$alg...]`],
    help,
    handler(ctx, a) {
      const p = currentProposal(ctx);
      const words = a.all('alg');
      const items = words.length > 0 ? parse(words) : undefined;
      const current = p[key] as unknown[];
      let next: unknown[];
      if (a.no) next = items ? current.filter((x) => !(items as unknown[]).includes(x)) : [];
      else next = [...current, ...(items as unknown[]).filter((x, i, arr) => !current.includes(x) && arr.indexOf(x) === i)];
      const candidate = { ...p, [key]: next };
      const users = policiesUsing(ctx.config, p.name);
      if (users.length > 0 && !isProposalComplete(candidate)) {
        throw new CliError(`% Proposal ${p.name} is in use by IKEv2 policy ${users.join(', ')} and would become incomplete (${proposalProblem(candidate)}).`);
      }
      (p as unknown as Record<string, unknown>)[key] = next;
      p.revision = nextRevision(ctx.config);
    },
  });
}

proposalListCommand('encryption', { encryption: 'Set encryption algorithm(s) for proposal', alg: `Encryption algorithms: ${IKEV2_ENCRYPTIONS.join(' ')}` },
  (w) => resolveWords<Ikev2Encryption>(w, IKEV2_ENCRYPTIONS, { aes: 'aes-cbc-128' }, 'encryption algorithm'));
proposalListCommand('integrity', { integrity: 'Set integrity hash algorithm(s) for proposal', alg: `Integrity algorithms: ${IKEV2_INTEGRITIES.join(' ')}` },
  (w) => resolveWords<Ikev2Integrity>(w, IKEV2_INTEGRITIES, INTEGRITY_ALIASES, 'integrity algorithm'));
proposalListCommand('prf', { prf: 'Set PRF algorithm(s) for proposal (needed with aes-gcm)', alg: `PRF algorithms: ${IKEV2_INTEGRITIES.join(' ')}` },
  (w) => resolveWords<Ikev2Integrity>(w, IKEV2_INTEGRITIES, INTEGRITY_ALIASES, 'PRF algorithm'));
proposalListCommand('group', { group: 'Set the Diffie-Hellman group(s)', alg: `DH groups: ${IKEV2_DH_GROUPS.join(' ')}` },
  (w) => listItems(w).map((g) => {
    const n = Number(g);
    if (!/^\d+$/.test(g) || !(IKEV2_DH_GROUPS as readonly number[]).includes(n)) throw new CliError(`% Invalid DH group "${g}". Valid: ${IKEV2_DH_GROUPS.join(' ')}`);
    return n as Ikev2DhGroup;
  }));

const ENC_SHOW: Record<Ikev2Encryption, string> = {
  des: 'DES', '3des': '3DES', 'aes-cbc-128': 'AES-CBC-128', 'aes-cbc-192': 'AES-CBC-192', 'aes-cbc-256': 'AES-CBC-256',
  'aes-gcm-128': 'AES-GCM-128', 'aes-gcm-256': 'AES-GCM-256',
};
const INTEG_SHOW: Record<Ikev2Integrity, string> = { md5: 'MD596', sha1: 'SHA96', sha256: 'SHA256', sha384: 'SHA384', sha512: 'SHA512' };
const PRF_SHOW: Record<Ikev2Integrity, string> = { md5: 'MD5', sha1: 'SHA1', sha256: 'SHA256', sha384: 'SHA384', sha512: 'SHA512' };
export const DH_SHOW: Record<number, string> = {
  1: 'DH_GROUP_768_MODP/Group 1', 2: 'DH_GROUP_1024_MODP/Group 2', 5: 'DH_GROUP_1536_MODP/Group 5', 14: 'DH_GROUP_2048_MODP/Group 14',
  15: 'DH_GROUP_3072_MODP/Group 15', 16: 'DH_GROUP_4096_MODP/Group 16', 19: 'DH_GROUP_256_ECP/Group 19', 20: 'DH_GROUP_384_ECP/Group 20',
  21: 'DH_GROUP_521_ECP/Group 21', 24: 'DH_GROUP_2048_MODP_256_SUBGRP/Group 24', 31: 'DH_GROUP_CURVE25519/Group 31',
};

/** `show crypto ikev2 proposal` block (IOS 15 layout). */
export function formatProposalShow(p: Readonly<Ikev2Proposal>): string[] {
  const prf = p.prf.length > 0 ? p.prf : p.integrity;
  const out = [
    ` IKEv2 proposal: ${p.name} `,
    `     Encryption : ${p.encryption.map((e) => ENC_SHOW[e]).join(' ')}`,
    `     Integrity  : ${p.integrity.map((i) => INTEG_SHOW[i]).join(' ')}`,
    `     PRF        : ${prf.map((i) => PRF_SHOW[i]).join(' ')}`,
    `     DH Group   : ${p.group.map((g) => DH_SHOW[g]).join(' ')}`,
  ].map((l) => (l.endsWith(': ') ? l.trimEnd() : l));
  const problem = proposalProblem(p);
  if (problem !== undefined) out.push(`     Status     : incomplete (${problem})`);
  return out;
}

defineCommand({
  modes: EXEC,
  syntax: 'show crypto ikev2 proposal [WORD$name]',
  help: { ikev2: 'Shows ikev2 information', proposal: 'Show ikev2 proposals', name: 'Proposal name' },
  pipe: true,
  handler(ctx, a) {
    const name = a.get('name');
    const list: Readonly<Ikev2Proposal>[] = [...sortByName(Object.values(ctx.config.ikev2Proposals)), DEFAULT_IKEV2_PROPOSAL]
      .filter((p) => name === undefined || p.name === name);
    ctx.data(list);
    if (list.length > 0) ctx.print(list.flatMap((p) => [...formatProposalShow(p), '']).join('\n'));
  },
});

// ---------------------------------------------------------------------------------------
// Policies

defineCommand({
  modes: ['config'],
  syntax: ['crypto ikev2 policy WORD$name', 'no crypto ikev2 policy WORD$name'],
  help: { policy: 'Define IKEV2 policies', name: 'Name of the policy' },
  handler(ctx, a) {
    const name = a.req('name');
    const pols = ctx.config.ikev2Policies;
    if (a.no) {
      delete pols[name];
      return;
    }
    if (name === 'default') throw new CliError('% The default policy cannot be modified; configure a policy with another name.');
    if (!pols[name]) pols[name] = { name, revision: nextRevision(ctx.config), proposals: [], matchAddressLocal: [] };
    ctx.enter('ikev2-policy', { name });
  },
});

function currentPolicy(ctx: CommandContext): Ikev2Policy {
  const p = ctx.config.ikev2Policies[ctx.modeData.name as string];
  if (!p) throw new CliError('% The IKEv2 policy was removed.');
  return p;
}

defineCommand({
  modes: ['ikev2-policy'],
  syntax: ['proposal WORD$prop', 'no proposal WORD$prop'],
  help: { proposal: 'Specify Proposal', prop: 'Name of the proposal' },
  handler(ctx, a) {
    const pol = currentPolicy(ctx);
    const name = a.req('prop');
    if (a.no) pol.proposals = pol.proposals.filter((n) => n !== name);
    else {
      const prop = lookupProposal(ctx.config, name);
      if (!prop) throw new CliError(`% IKEv2 proposal ${name} does not exist.`);
      if (!isProposalComplete(prop)) throw new CliError(`${PROPOSAL_INCOMPLETE_MESSAGE}\n% Proposal ${name} is incomplete (${proposalProblem(prop)}).`);
      if (!pol.proposals.includes(name)) pol.proposals.push(name);
    }
    pol.revision = nextRevision(ctx.config);
  },
});

defineCommand({
  modes: ['ikev2-policy'],
  syntax: ['match address local <A.B.C.D$addr|X:X::X:X$addr>', 'no match address local <A.B.C.D$addr|X:X::X:X$addr>', 'match fvrf <any|WORD$vrf>', 'no match fvrf [LINE]'],
  help: { match: 'Match values of local or remote peer', address: 'Local address', local: 'Local address', addr: 'Local address', fvrf: 'Front door VRF', any: 'Any FVRF', vrf: 'VRF name' },
  handler(ctx, a) {
    const pol = currentPolicy(ctx);
    if (a.has('fvrf')) {
      if (a.no) delete pol.matchFvrf;
      else pol.matchFvrf = a.has('any') ? 'any' : a.req('vrf');
    } else {
      const addr = a.req('addr');
      const rest = pol.matchAddressLocal.filter((x) => x !== addr);
      pol.matchAddressLocal = a.no ? rest : [...rest, addr];
    }
    pol.revision = nextRevision(ctx.config);
  },
});

export function formatPolicyShow(p: Readonly<Ikev2Policy>): string[] {
  const out = [
    ` IKEv2 policy : ${p.name}`,
    `      Match fvrf          : ${p.matchFvrf ?? 'global'}`,
    `      Match address local : ${p.matchAddressLocal.length > 0 ? p.matchAddressLocal.join(' ') : 'any'}`,
  ];
  const props = p.proposals.length > 0 ? p.proposals : ['default'];
  for (const n of props) out.push(`      Proposal            : ${n}`);
  return out;
}

defineCommand({
  modes: EXEC,
  syntax: 'show crypto ikev2 policy [WORD$name]',
  help: { policy: 'Show ikev2 policies', name: 'Policy name' },
  pipe: true,
  handler(ctx, a) {
    const name = a.get('name');
    const list: Readonly<Ikev2Policy>[] = [...sortByName(Object.values(ctx.config.ikev2Policies)), DEFAULT_IKEV2_POLICY]
      .filter((p) => name === undefined || p.name === name);
    ctx.data(list);
    if (list.length > 0) ctx.print(list.flatMap((p) => [...formatPolicyShow(p), '']).join('\n'));
  },
});

// ---------------------------------------------------------------------------------------
// Keyrings

defineCommand({
  modes: ['config'],
  syntax: ['crypto ikev2 keyring WORD$name', 'no crypto ikev2 keyring WORD$name'],
  help: { keyring: 'Define IKEv2 keyring', name: 'Name of the keyring' },
  handler(ctx, a) {
    const name = a.req('name');
    const rings = ctx.config.ikev2Keyrings;
    if (a.no) {
      delete rings[name];
      return;
    }
    if (!rings[name]) rings[name] = { name, revision: nextRevision(ctx.config), peers: [] };
    ctx.enter('ikev2-keyring', { name });
  },
});

function currentIkev2Keyring(ctx: CommandContext): Ikev2Keyring {
  const k = ctx.config.ikev2Keyrings[ctx.modeData.name as string];
  if (!k) throw new CliError('% The IKEv2 keyring was removed.');
  return k;
}

defineCommand({
  modes: ['ikev2-keyring'],
  syntax: ['peer WORD$peername', 'no peer WORD$peername'],
  help: { peer: 'Configure a Peer and associated keys', peername: 'Name of the peer block' },
  handler(ctx, a) {
    const ring = currentIkev2Keyring(ctx);
    const name = a.req('peername');
    if (a.no) ring.peers = ring.peers.filter((p) => p.name !== name);
    else if (!ring.peers.some((p) => p.name === name)) ring.peers.push({ name });
    ring.revision = nextRevision(ctx.config);
    if (!a.no) ctx.enter('ikev2-keyring-peer', { name: ring.name, peer: name });
  },
});

function currentPeer(ctx: CommandContext): { ring: Ikev2Keyring; peer: Ikev2KeyringPeer } {
  const ring = currentIkev2Keyring(ctx);
  const peer = ring.peers.find((p) => p.name === ctx.modeData.peer);
  if (!peer) throw new CliError('% The keyring peer was removed.');
  return { ring, peer };
}

function peerCommand(syntax: string[], help: Record<string, string>, apply: (p: Ikev2KeyringPeer, a: Args) => void): void {
  defineCommand({
    modes: ['ikev2-keyring-peer'],
    syntax,
    help,
    handler(ctx, a) {
      const { ring, peer } = currentPeer(ctx);
      apply(peer, a);
      ring.revision = nextRevision(ctx.config);
    },
  });
}

function checkMask(mask: string | undefined): string | undefined {
  if (mask !== undefined && !isContiguousMask(mask)) throw new CliError(`% Invalid mask ${mask}`);
  return mask;
}

peerCommand(['address A.B.C.D$addr [A.B.C.D$mask]', 'address X:X::X:X/M$prefix', 'no address [LINE]'],
  { address: 'IP address of the peer', addr: 'IPv4 address', mask: 'Mask', prefix: 'IPv6 prefix' },
  (p, a) => {
    if (a.no) delete p.address;
    else {
      const prefix = a.get('prefix');
      if (prefix !== undefined) p.address = { address: prefix.split('/')[0]!, prefix };
      else {
        p.address = { address: a.req('addr') };
        const m = checkMask(a.get('mask'));
        if (m !== undefined) p.address.mask = m;
      }
    }
  });

peerCommand(['hostname WORD$host', 'no hostname [LINE]'], { hostname: 'Hostname of the peer', host: 'Hostname' }, (p, a) => {
  if (a.no) delete p.hostname;
  else p.hostname = a.req('host');
});

peerCommand(['description LINE$text', 'no description [LINE]'], { description: 'Peer description', text: 'Description' }, (p, a) => {
  if (a.no) delete p.description;
  else p.description = a.req('text');
});

peerCommand(['identity <address|fqdn|email|key-id> WORD$id', 'no identity [LINE]'],
  { identity: 'IKE identity of the peer', address: 'IP address', fqdn: 'Fully qualified domain name', email: 'Email id', 'key-id': 'Proprietary key id', id: 'Identity' },
  (p, a) => {
    if (a.no) delete p.identity;
    else p.identity = { kind: a.has('fqdn') ? 'fqdn' : a.has('email') ? 'email' : a.has('key-id') ? 'key-id' : 'address', value: a.req('id') };
  });

peerCommand(['pre-shared-key [local|remote] [0|6] WORD$secret', 'no pre-shared-key [local|remote] [LINE]'],
  { 'pre-shared-key': 'pre-shared key for the peer', local: 'Key for signing (local)', remote: 'Key for verifying (remote)', '0': 'Specifies an UNENCRYPTED password will follow', '6': 'Specifies an ENCRYPTED password will follow', secret: 'The key' },
  (p, a) => {
    const slot = a.has('local') ? 'localKey' : a.has('remote') ? 'remoteKey' : 'presharedKey';
    if (a.no) delete p[slot];
    else {
      const keyType = a.has('6') ? 6 : 0;
      const k: Ikev2Key = { key: presharedKeyText(a.req('secret'), keyType), keyType };
      p[slot] = k;
    }
  });

// ---------------------------------------------------------------------------------------
// Profiles

defineCommand({
  modes: ['config'],
  syntax: ['crypto ikev2 profile WORD$name', 'no crypto ikev2 profile WORD$name'],
  help: { profile: 'Define IKEv2 profiles', name: 'Name of the profile' },
  handler(ctx, a) {
    const name = a.req('name');
    const profs = ctx.config.ikev2Profiles;
    if (a.no) {
      delete profs[name];
      return;
    }
    if (!profs[name]) profs[name] = newIkev2Profile(name, nextRevision(ctx.config));
    ctx.enter('ikev2-profile', { name });
  },
});

function currentIkev2Profile(ctx: CommandContext): Ikev2Profile {
  const p = ctx.config.ikev2Profiles[ctx.modeData.name as string];
  if (!p) throw new CliError('% The IKEv2 profile was removed.');
  return p;
}

function ikev2ProfileCommand(syntax: string[], help: Record<string, string>, apply: (p: Ikev2Profile, a: Args) => void): void {
  defineCommand({
    modes: ['ikev2-profile'],
    syntax,
    help,
    handler(ctx, a) {
      const p = currentIkev2Profile(ctx);
      apply(p, a);
      p.revision = nextRevision(ctx.config);
    },
  });
}

const REMOTE_ID = '<address A.B.C.D$addr [A.B.C.D$mask]|address X:X::X:X/M$prefix|fqdn [domain] WORD$value|email [domain] WORD$value|key-id WORD$value>';
ikev2ProfileCommand([`match identity remote ${REMOTE_ID}`, `no match identity remote ${REMOTE_ID}`],
  {
    match: 'Match values of peer', identity: 'Peer identity', remote: 'Remote identity', address: 'IP address', fqdn: 'Fully qualified domain name',
    email: 'Email id', 'key-id': 'Proprietary key id', domain: 'Match the domain part', addr: 'IPv4 address', mask: 'Mask', prefix: 'IPv6 prefix', value: 'Identity string',
  },
  (p, a) => {
    let m: Ikev2RemoteIdentityMatch;
    if (a.has('address')) {
      const prefix = a.get('prefix');
      if (prefix !== undefined) m = { kind: 'address', address: prefix.split('/')[0]!, prefix };
      else {
        m = { kind: 'address', address: a.req('addr') };
        const mask = checkMask(a.get('mask'));
        if (mask !== undefined) m.mask = mask;
      }
    } else if (a.has('key-id')) m = { kind: 'key-id', value: a.req('value') };
    else m = { kind: a.has('email') ? 'email' : 'fqdn', value: a.req('value'), domain: a.has('domain') };
    const text = remoteIdentityText(m);
    const rest = p.matchIdentityRemote.filter((x) => remoteIdentityText(x) !== text);
    p.matchIdentityRemote = a.no ? rest : [...rest, m];
  });

ikev2ProfileCommand(['match fvrf <any|WORD$vrf>', 'no match fvrf [LINE]', 'match address local <A.B.C.D$addr|X:X::X:X$addr>', 'no match address local <A.B.C.D$addr|X:X::X:X$addr>'],
  { fvrf: 'Front door VRF', any: 'Any FVRF', vrf: 'VRF name', address: 'Local address', local: 'Local address', addr: 'Local address' },
  (p, a) => {
    if (a.has('fvrf')) {
      if (a.no) delete p.matchFvrf;
      else p.matchFvrf = a.has('any') ? 'any' : a.req('vrf');
      return;
    }
    const addr = a.req('addr');
    const rest = p.matchAddressLocal.filter((x) => x !== addr);
    p.matchAddressLocal = a.no ? rest : [...rest, addr];
  });

ikev2ProfileCommand(['identity local <address <A.B.C.D$value|X:X::X:X$value>|fqdn WORD$value|email WORD$value|key-id WORD$value|dn>', 'no identity local [LINE]'],
  { identity: 'Specify local identity', local: 'Local identity', address: 'IP address', fqdn: 'Fully qualified domain name', email: 'Email id', 'key-id': 'Proprietary key id', dn: 'Distinguished name', value: 'Identity' },
  (p, a) => {
    if (a.no) delete p.identityLocal;
    else if (a.has('dn')) p.identityLocal = { kind: 'dn' };
    else p.identityLocal = { kind: a.has('fqdn') ? 'fqdn' : a.has('email') ? 'email' : a.has('key-id') ? 'key-id' : 'address', value: a.req('value') };
  });

const AUTH_METHODS: Ikev2AuthMethod[] = ['pre-share', 'rsa-sig', 'ecdsa-sig'];
ikev2ProfileCommand(['authentication <local|remote> <pre-share|rsa-sig|ecdsa-sig>', 'no authentication <local|remote> [pre-share|rsa-sig|ecdsa-sig]'],
  { authentication: 'Set authentication method', local: 'Local authentication method', remote: 'Remote authentication method', 'pre-share': 'Pre-Shared Key', 'rsa-sig': 'Rivest-Shamir-Adleman Signature', 'ecdsa-sig': 'ECDSA Signature' },
  (p, a) => {
    const m = AUTH_METHODS.find((x) => a.has(x));
    if (a.has('local')) {
      if (a.no) delete p.authLocal;
      else p.authLocal = m!;
    } else if (a.no) p.authRemote = m ? p.authRemote.filter((x) => x !== m) : [];
    else if (!p.authRemote.includes(m!)) p.authRemote.push(m!);
  });

ikev2ProfileCommand(['keyring [local] WORD$ring', 'no keyring [local] [WORD$ring]'], { keyring: 'Specify keyring', local: 'Local keyring', ring: 'Keyring name' }, (p, a) => {
  if (a.no) delete p.keyringLocal;
  else p.keyringLocal = a.req('ring');
});

ikev2ProfileCommand(['lifetime (120-86400)$sec', 'no lifetime [LINE]'], { lifetime: 'Specify lifetime for IKEv2 SA', sec: 'lifetime in seconds' }, (p, a) => {
  p.lifetimeSec = a.no ? 86400 : a.num('sec')!;
});

ikev2ProfileCommand(['dpd (10-3600)$sec (2-60)$retry <on-demand|periodic>', 'no dpd [LINE]'],
  { dpd: 'Enable IKE liveness check for peers', sec: 'DPD interval in seconds', retry: 'Retry interval in seconds', 'on-demand': 'Send keepalives on demand', periodic: 'Send keepalives periodically' },
  (p, a) => {
    if (a.no) delete p.dpd;
    else p.dpd = { intervalSec: a.num('sec')!, retrySec: a.num('retry')!, mode: a.has('periodic') ? 'periodic' : 'on-demand' };
  });

ikev2ProfileCommand(['nat keepalive (5-3600)$sec', 'no nat keepalive [LINE]'], { nat: 'NAT-transparency', keepalive: 'NAT keepalive', sec: 'Keepalive interval in seconds' }, (p, a) => {
  if (a.no) delete p.natKeepaliveSec;
  else p.natKeepaliveSec = a.num('sec')!;
});

ikev2ProfileCommand(['nat force-encap', 'no nat force-encap'], { nat: 'NAT-transparency', 'force-encap': 'Force UDP encapsulation of ESP even if no NAT is detected' }, (p, a) => {
  if (a.no) delete p.natForceEncap;
  else p.natForceEncap = true;
});

ikev2ProfileCommand(['ivrf WORD$vrf', 'no ivrf [LINE]'], { ivrf: 'Inside VRF', vrf: 'VRF name' }, (p, a) => {
  if (a.no) delete p.ivrf;
  else p.ivrf = a.req('vrf');
});

ikev2ProfileCommand(['virtual-template (1-65535)$n', 'no virtual-template [LINE]'], { 'virtual-template': 'Specify the virtual template for dynamic interface creation', n: 'Virtual-template number' }, (p, a) => {
  if (a.no) delete p.virtualTemplate;
  else p.virtualTemplate = a.num('n')!;
});

ikev2ProfileCommand(['description LINE$text', 'no description [LINE]'], { description: 'Specify a description of this profile', text: 'Description' }, (p, a) => {
  if (a.no) delete p.description;
  else p.description = a.req('text');
});

/** `show crypto ikev2 profile` block (IOS 15 layout, the fields this product has). */
export function formatIkev2ProfileShow(p: Ikev2Profile): string[] {
  const out = [`IKEv2 profile: ${p.name}`];
  if (p.description !== undefined) out.push(` Description: ${p.description}`);
  out.push(' Match criteria: ');
  out.push(`  Fvrf: ${p.matchFvrf ?? 'global'}`);
  out.push(`  Local address/interface: ${p.matchAddressLocal.length > 0 ? p.matchAddressLocal.join(' ') : 'none'}`);
  if (p.matchIdentityRemote.length === 0) out.push('  Identities: none');
  else {
    out.push('  Identities: ');
    for (const m of p.matchIdentityRemote) out.push(`   ${remoteIdentityText(m)}`);
  }
  out.push('  Certificate maps: none');
  out.push(` Local identity: ${p.identityLocal ? localIdentityText(p.identityLocal) : 'none'}`);
  out.push(' Remote identity: none');
  out.push(` Local authentication method: ${p.authLocal ?? 'none'}`);
  out.push(` Remote authentication method(s): ${p.authRemote.length > 0 ? p.authRemote.join(', ') : 'none'}`);
  out.push(` Keyring: ${p.keyringLocal ?? 'none'}`);
  out.push(' Trustpoint(s): none');
  out.push(` Lifetime: ${p.lifetimeSec} seconds`);
  out.push(` DPD: ${p.dpd ? `interval ${p.dpd.intervalSec} retry-interval ${p.dpd.retrySec} ${p.dpd.mode}` : 'disabled'}`);
  out.push(` NAT-keepalive: ${p.natKeepaliveSec !== undefined ? `${p.natKeepaliveSec} seconds` : 'disabled'}`);
  out.push(` NAT force-encap: ${p.natForceEncap ? 'enabled' : 'disabled'}`);
  out.push(` Ivrf: ${p.ivrf ?? 'none'}`);
  out.push(` Virtual-template: ${p.virtualTemplate !== undefined ? `Virtual-Template${p.virtualTemplate}` : 'none'}`);
  return out;
}

defineCommand({
  modes: EXEC,
  syntax: 'show crypto ikev2 profile [WORD$name]',
  help: { profile: 'Show ikev2 profiles', name: 'Profile name' },
  pipe: true,
  handler(ctx, a) {
    const name = a.get('name');
    const list = sortByName(Object.values(ctx.config.ikev2Profiles)).filter((p) => name === undefined || p.name === name);
    ctx.data(list);
    if (list.length > 0) ctx.print(list.flatMap((p) => [...formatIkev2ProfileShow(p), '']).join('\n'));
  },
});
