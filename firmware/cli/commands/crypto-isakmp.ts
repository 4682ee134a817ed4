// IKEv1 configuration commands: `crypto isakmp policy`, `crypto isakmp key`, keepalive,
// NAT keepalive, identity, default policy, `crypto keyring`, `crypto isakmp profile`, and
// `show crypto isakmp policy|default policy|key|profile`.
//
// The ISAKMP profile sub-mode prompt is `(conf-isa-prof)`, what IOS prints; the guide also
// shows `(conf-isa-profile)` in one task table, a documentation slip.

import { DH_GROUP_TEXT, DH_GROUPS, isContiguousMask, nextRevision, sortByName, type DhGroup } from '../../config/crypto-common.js';
import {
  DEFAULT_ISAKMP_POLICIES, defaultIsakmpPolicy, identityMatchText, keyTarget,
  type IdentityMatch, type IsakmpAuth, type IsakmpEncryption, type IsakmpHash, type IsakmpPolicy, type IsakmpProfile,
  type Keyring, type LocalAddressBinding, type PresharedKey,
} from '../../config/crypto-isakmp.js';
import { effectiveIpv4 } from '../../config/interface.js';
import { canonicalInterfaceName } from '../../config/interface-names.js';
import type { Config } from '../../config/model.js';
import { CliError, type CommandContext } from '../context.js';
import type { Args } from '../matcher.js';
import { defineMode } from '../modes.js';
import { defineCommand } from '../registry.js';
import { presharedKeyText } from '../limits.js';

defineMode({ name: 'isakmp-policy', prompt: '(config-isakmp)', parent: 'config' });
defineMode({ name: 'keyring', prompt: '(conf-keyring)', parent: 'config' });
defineMode({ name: 'isakmp-profile', prompt: '(conf-isa-prof)', parent: 'config' });

const EXEC = ['exec'];

/**
 * Primary IPv4 address of an interface, for `Interface binding: serial2/0 (10.20.0.1:global)`.
 * Reads the interface section (an interface without an address prints `unassigned`).
 */
let interfaceAddress: (cfg: Config, ifname: string) => string | undefined = (cfg, ifname) => effectiveIpv4(cfg, ifname)?.address;
export function setInterfaceAddressLookup(fn: (cfg: Config, ifname: string) => string | undefined): void {
  interfaceAddress = fn;
}

// ---------------------------------------------------------------------------------------
// crypto isakmp policy

defineCommand({
  modes: ['config'],
  syntax: ['crypto isakmp policy (1-10000)$prio', 'no crypto isakmp policy (1-10000)$prio'],
  help: { policy: 'Set policy for an ISAKMP protection suite', prio: 'Priority of protection suite' },
  handler(ctx, a) {
    const prio = a.num('prio')!;
    const pols = ctx.config.isakmpPolicies;
    if (a.no) {
      delete pols[prio];
      return;
    }
    if (!pols[prio]) pols[prio] = defaultIsakmpPolicy(prio, nextRevision(ctx.config));
    ctx.enter('isakmp-policy', { prio });
  },
});

function currentPolicy(ctx: CommandContext): IsakmpPolicy {
  const p = ctx.config.isakmpPolicies[ctx.modeData.prio as number];
  if (!p) throw new CliError('% The ISAKMP policy was removed.');
  return p;
}

function policyCommand(syntax: string[], help: Record<string, string>, apply: (p: IsakmpPolicy, a: Args) => void): void {
  defineCommand({
    modes: ['isakmp-policy'],
    syntax,
    help,
    handler(ctx, a) {
      const p = currentPolicy(ctx);
      apply(p, a);
      p.revision = nextRevision(ctx.config);
    },
  });
}

policyCommand(
  ['encryption <des|3des|aes [128|192|256]>', 'no encryption [LINE]'],
  {
    encryption: 'Set encryption algorithm for protection suite', des: 'DES - Data Encryption Standard (56 bit keys).',
    '3des': 'Three key triple DES', aes: 'AES - Advanced Encryption Standard.', '128': '128 bit keys.', '192': '192 bit keys.', '256': '256 bit keys.',
  },
  (p, a) => {
    let e: IsakmpEncryption = 'des';
    if (!a.no) {
      if (a.has('3des')) e = '3des';
      else if (a.has('aes')) e = a.has('256') ? 'aes256' : a.has('192') ? 'aes192' : 'aes128';
    }
    p.encryption = e;
  },
);

const HASHES: IsakmpHash[] = ['md5', 'sha', 'sha256', 'sha384', 'sha512'];
policyCommand(
  ['hash <md5|sha|sha256|sha384|sha512>', 'no hash [LINE]'],
  { hash: 'Set hash algorithm for protection suite', md5: 'Message Digest 5', sha: 'Secure Hash Standard', sha256: 'Secure Hash Standard 2 (256 bit)', sha384: 'Secure Hash Standard 2 (384 bit)', sha512: 'Secure Hash Standard 2 (512 bit)' },
  (p, a) => { p.hash = a.no ? 'sha' : HASHES.find((h) => a.has(h))!; },
);

const AUTHS: IsakmpAuth[] = ['pre-share', 'rsa-sig', 'rsa-encr'];
policyCommand(
  ['authentication <pre-share|rsa-sig|rsa-encr>', 'no authentication [LINE]'],
  { authentication: 'Set authentication method for protection suite', 'pre-share': 'Pre-Shared Key', 'rsa-sig': 'Rivest-Shamir-Adleman Signature', 'rsa-encr': 'Rivest-Shamir-Adleman Encryption' },
  (p, a) => { p.authentication = a.no ? 'rsa-sig' : AUTHS.find((x) => a.has(x))!; },
);

policyCommand(
  [`group <${DH_GROUPS.join('|')}>`, 'no group [LINE]'],
  Object.fromEntries([['group', 'Set the Diffie-Hellman group'], ...DH_GROUPS.map((g) => [String(g), `Diffie-Hellman group ${g} ${DH_GROUP_TEXT[g]!.replace(/^#\d+ /, '')}`])]),
  (p, a) => { p.group = a.no ? 1 : DH_GROUPS.find((g) => a.has(String(g)))!; },
);

policyCommand(
  ['lifetime (60-86400)$sec', 'no lifetime [LINE]'],
  { lifetime: 'Set lifetime for ISAKMP security association', sec: 'lifetime in seconds' },
  (p, a) => { p.lifetimeSec = a.no ? 86400 : a.num('sec')!; },
);

const ENC_TEXT: Record<IsakmpEncryption, string> = {
  des: 'DES - Data Encryption Standard (56 bit keys).',
  '3des': 'Three key triple DES',
  aes128: 'AES - Advanced Encryption Standard (128 bit keys).',
  aes192: 'AES - Advanced Encryption Standard (192 bit keys).',
  aes256: 'AES - Advanced Encryption Standard (256 bit keys).',
};
const HASH_TEXT: Record<IsakmpHash, string> = {
  md5: 'Message Digest 5', sha: 'Secure Hash Standard', sha256: 'Secure Hash Standard 2 (256 bit)',
  sha384: 'Secure Hash Standard 2 (384 bit)', sha512: 'Secure Hash Standard 2 (512 bit)',
};
const AUTH_TEXT: Record<IsakmpAuth, string> = {
  'pre-share': 'Pre-Shared Key', 'rsa-sig': 'Rivest-Shamir-Adleman Signature', 'rsa-encr': 'Rivest-Shamir-Adleman Encryption',
};

/** One "Protection suite" block as `show crypto isakmp policy` prints it (tabs expanded). */
export function formatIsakmpPolicy(p: Readonly<IsakmpPolicy>): string[] {
  const row = (label: string, value: string): string => `        ${label.padEnd(24)}${value}`;
  return [
    `Protection suite of priority ${p.priority}`,
    row('encryption algorithm:', ENC_TEXT[p.encryption]),
    row('hash algorithm:', HASH_TEXT[p.hash]),
    row('authentication method:', AUTH_TEXT[p.authentication]),
    row('Diffie-Hellman group:', DH_GROUP_TEXT[p.group]!),
    row('lifetime:', `${p.lifetimeSec} seconds, no volume limit`),
  ];
}

defineCommand({
  modes: EXEC,
  syntax: 'show crypto isakmp policy',
  help: { isakmp: 'Show ISAKMP', policy: 'Show ISAKMP protection suite policy' },
  pipe: true,
  handler(ctx) {
    const own = Object.values(ctx.config.isakmpPolicies).sort((a, b) => a.priority - b.priority);
    const defaults = ctx.config.isakmpGlobals.defaultPolicy ? DEFAULT_ISAKMP_POLICIES : [];
    ctx.data({ policies: own, defaultPolicies: defaults });
    const lines = ['', 'Global IKE policy'];
    for (const p of own) lines.push(...formatIsakmpPolicy(p));
    if (defaults.length > 0) {
      lines.push('', 'Default IKE policy');
      for (const p of defaults) lines.push(...formatIsakmpPolicy(p));
    }
    ctx.print(lines.join('\n'));
  },
});

defineCommand({
  modes: EXEC,
  syntax: 'show crypto isakmp default policy',
  help: { default: 'Show ISAKMP default', policy: 'Show ISAKMP default protection suite policy' },
  pipe: true,
  handler(ctx) {
    const defaults = ctx.config.isakmpGlobals.defaultPolicy ? DEFAULT_ISAKMP_POLICIES : [];
    ctx.data(defaults);
    if (defaults.length === 0) return;
    ctx.print(['', 'Default IKE policy', ...defaults.flatMap((p) => formatIsakmpPolicy(p))].join('\n'));
  },
});

// ---------------------------------------------------------------------------------------
// Pre-shared keys (global and keyrings)

function parseMask(mask: string | undefined): string {
  if (mask === undefined) return '255.255.255.255';
  if (!isContiguousMask(mask)) throw new CliError(`% Invalid mask ${mask}`);
  return mask;
}

/** Key identity of `address A [MASK]` / `hostname H` / `address ipv6 P` from args. */
function keyIdentity(a: Args): Omit<PresharedKey, 'key' | 'keyType'> {
  const host = a.get('host');
  if (host !== undefined) return { hostname: host };
  const v6 = a.get('v6');
  if (v6 !== undefined) return { ipv6Prefix: v6 };
  return { address: { address: a.req('addr'), mask: parseMask(a.get('mask')) } };
}

function sameTarget(x: Omit<PresharedKey, 'key' | 'keyType'>, y: Omit<PresharedKey, 'key' | 'keyType'>): boolean {
  return keyTarget({ ...x, key: '', keyType: 0 }) === keyTarget({ ...y, key: '', keyType: 0 });
}

/** Adds or replaces the key for the same address/hostname. */
function upsertKey(list: PresharedKey[], k: PresharedKey): void {
  const i = list.findIndex((x) => sameTarget(x, k));
  if (i >= 0) list[i] = k;
  else list.push(k);
}

defineCommand({
  modes: ['config'],
  syntax: [
    'crypto isakmp key [0|6] WORD$secret <address A.B.C.D$addr [A.B.C.D$mask] [no-xauth]|address ipv6 X:X::X:X/M$v6|hostname WORD$host [no-xauth]>',
    'no crypto isakmp key [0|6] [WORD$secret] <address A.B.C.D$addr [A.B.C.D$mask] [no-xauth]|address ipv6 X:X::X:X/M$v6|hostname WORD$host [no-xauth]>',
  ],
  help: {
    key: 'Set pre-shared key for remote peer', '0': 'Specifies an UNENCRYPTED password will follow', '6': 'Specifies an ENCRYPTED password will follow',
    secret: 'The pre-shared key', address: 'define shared key with IP address', addr: 'Peer IP address', mask: 'Peer IP subnet mask', hostname: 'define shared key with hostname',
    host: 'hostname', 'no-xauth': 'Bypasses XAuth for this peer', v6: 'IPv6 prefix',
  },
  handler(ctx, a) {
    const keys = ctx.config.isakmpKeys;
    const id = keyIdentity(a);
    if (a.no) {
      keys.keys = keys.keys.filter((k) => !sameTarget(k, id));
    } else {
      const keyType = a.has('6') ? 6 : 0;
      const k: PresharedKey = { key: presharedKeyText(a.req('secret'), keyType), keyType, ...id };
      if (a.has('no-xauth')) k.noXauth = true;
      upsertKey(keys.keys, k);
    }
    keys.revision = nextRevision(ctx.config);
  },
});

defineCommand({
  modes: EXEC,
  syntax: 'show crypto isakmp key',
  help: { key: 'Show ISAKMP preshared keys' },
  pipe: true,
  handler(ctx) {
    // Privileged EXEC only, as IOS: the keys are shown in clear (type 0) as configured.
    const rows: Array<{ keyring: string; peer: string; key: string }> = [];
    for (const k of ctx.config.isakmpKeys.keys) rows.push({ keyring: 'default', peer: keyPeerText(k), key: k.key });
    for (const r of sortByName(Object.values(ctx.config.keyrings))) for (const k of r.keys) rows.push({ keyring: r.name, peer: keyPeerText(k), key: k.key });
    ctx.data(rows);
    const fmt = (a: string, b: string, c: string): string => `${a.padEnd(22)}${b.padEnd(44)}${c}`.trimEnd();
    ctx.print([fmt('Keyring', 'Hostname/Address', 'Preshared Key'), '', ...rows.map((r) => fmt(r.keyring, r.peer, r.key))].join('\n'));
  },
});

function keyPeerText(k: PresharedKey): string {
  if (k.hostname !== undefined) return k.hostname;
  if (k.ipv6Prefix !== undefined) return k.ipv6Prefix;
  return k.address!.mask === '255.255.255.255' ? k.address!.address : `${k.address!.address} ${k.address!.mask}`;
}

// ---------------------------------------------------------------------------------------
// Globals

function globals(ctx: CommandContext): Config['isakmpGlobals'] {
  const g = ctx.config.isakmpGlobals;
  g.revision = nextRevision(ctx.config);
  return g;
}

defineCommand({
  modes: ['config'],
  syntax: ['crypto isakmp keepalive (10-3600)$sec [(2-60)$retry] [periodic|on-demand]', 'no crypto isakmp keepalive [LINE]'],
  help: { keepalive: 'Set a keepalive interval for use with IOS peers', sec: 'Number of seconds between keep alives', retry: 'Number of seconds between retries if keepalive fails', periodic: 'Send keepalives regularly', 'on-demand': 'Send keepalives on demand (default)' },
  handler(ctx, a) {
    const g = globals(ctx);
    if (a.no) delete g.keepalive;
    else g.keepalive = { intervalSec: a.num('sec')!, retrySec: a.num('retry') ?? 2, mode: a.has('periodic') ? 'periodic' : 'on-demand' };
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['crypto isakmp nat keepalive (5-3600)$sec', 'no crypto isakmp nat keepalive [LINE]'],
  help: { nat: 'Set NAT traversal parameters', keepalive: 'Set NAT keepalive interval', sec: 'Number of seconds between keep alives' },
  handler(ctx, a) {
    const g = globals(ctx);
    if (a.no) delete g.natKeepaliveSec;
    else g.natKeepaliveSec = a.num('sec')!;
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['crypto isakmp identity <address|hostname|dn>', 'no crypto isakmp identity [LINE]'],
  help: { identity: 'Set the identity which ISAKMP will use', address: 'Use the IP address of the interface for the identity', hostname: 'Use the hostname of the router for the identity', dn: 'Use the distinguished name of the router cert for the identity' },
  handler(ctx, a) {
    const g = globals(ctx);
    g.identity = a.no ? 'address' : a.has('hostname') ? 'hostname' : a.has('dn') ? 'dn' : 'address';
  },
});

defineCommand({
  modes: ['config'],
  syntax: '[no] crypto isakmp default policy',
  help: { default: 'ISAKMP default configuration', policy: 'Enable the default ISAKMP policy (protection suites)' },
  handler(ctx, a) { globals(ctx).defaultPolicy = !a.no; },
});

defineCommand({
  modes: ['config'],
  syntax: '[no] crypto isakmp enable',
  help: { enable: 'Enable ISAKMP' },
  handler(ctx, a) { globals(ctx).enabled = !a.no; },
});

// ---------------------------------------------------------------------------------------
// crypto keyring

defineCommand({
  modes: ['config'],
  syntax: ['crypto keyring WORD$name [vrf WORD$vrf]', 'no crypto keyring WORD$name [vrf WORD$vrf]'],
  help: { keyring: 'Key ring commands', name: 'Name of the key ring', vrf: 'Front door VRF', vrfname: 'VRF name' },
  handler(ctx, a) {
    const name = a.req('name');
    const rings = ctx.config.keyrings;
    if (a.no) {
      delete rings[name];
      return;
    }
    const vrf = a.get('vrf');
    const existing = rings[name];
    if (existing) {
      if ((existing.vrf ?? undefined) !== vrf) {
        throw new CliError(`% Keyring ${name} already exists${existing.vrf !== undefined ? ` in vrf ${existing.vrf}` : ' without vrf'}.`);
      }
    } else {
      const k: Keyring = { name, revision: nextRevision(ctx.config), keys: [] };
      if (vrf !== undefined) k.vrf = vrf;
      rings[name] = k;
    }
    ctx.enter('keyring', { name });
  },
});

function currentKeyring(ctx: CommandContext): Keyring {
  const k = ctx.config.keyrings[ctx.modeData.name as string];
  if (!k) throw new CliError('% The keyring was removed.');
  return k;
}

defineCommand({
  modes: ['keyring'],
  syntax: [
    'pre-shared-key <address A.B.C.D$addr [A.B.C.D$mask]|address ipv6 X:X::X:X/M$v6|hostname WORD$host> key [0|6] WORD$secret',
    'no pre-shared-key <address A.B.C.D$addr [A.B.C.D$mask]|address ipv6 X:X::X:X/M$v6|hostname WORD$host> [LINE]',
  ],
  help: {
    'pre-shared-key': 'Pre-Shared Key', address: 'pre shared key by address', hostname: 'pre shared key by hostname',
    addr: 'IP address', mask: 'Mask', host: 'hostname', secret: 'The pre-shared key', key: 'specify the key', '0': 'Specifies an UNENCRYPTED password will follow', '6': 'Specifies an ENCRYPTED password will follow',
  },
  handler(ctx, a) {
    const ring = currentKeyring(ctx);
    const id = keyIdentity(a);
    if (a.no) ring.keys = ring.keys.filter((k) => !sameTarget(k, id));
    else {
      const keyType = a.has('6') ? 6 : 0;
      upsertKey(ring.keys, { key: presharedKeyText(a.req('secret'), keyType), keyType, ...id });
    }
    ring.revision = nextRevision(ctx.config);
  },
});

function localAddressFromArgs(a: Args): LocalAddressBinding {
  const ifname = a.get('ifname');
  if (ifname !== undefined) {
    const canon = canonicalInterfaceName(ifname.replace(/\s+/, ''));
    if (!canon) throw new CliError(`% Invalid interface ${ifname}`);
    return { interface: canon };
  }
  const b: LocalAddressBinding = { address: a.req('addr') };
  const vrf = a.get('vrf');
  if (vrf !== undefined) b.vrf = vrf;
  return b;
}

const LOCAL_ADDRESS_SYNTAX = ['local-address <IFNAME$ifname|A.B.C.D$addr [WORD$vrf]>', 'no local-address [LINE]'];
const LOCAL_ADDRESS_HELP = { 'local-address': 'Limit scope of the profile to a local address/interface', ifname: 'Interface', addr: 'IP address', vrf: 'VRF tag' };

defineCommand({
  modes: ['keyring'],
  syntax: LOCAL_ADDRESS_SYNTAX,
  help: LOCAL_ADDRESS_HELP,
  handler(ctx, a) {
    const ring = currentKeyring(ctx);
    if (a.no) delete ring.localAddress;
    else ring.localAddress = localAddressFromArgs(a);
    ring.revision = nextRevision(ctx.config);
  },
});

defineCommand({
  modes: ['keyring'],
  syntax: ['description LINE$text', 'no description [LINE]'],
  help: { description: 'Keyring description', text: 'Up to 80 characters describing this keyring' },
  handler(ctx, a) {
    const ring = currentKeyring(ctx);
    if (a.no) delete ring.description;
    else ring.description = a.req('text');
    ring.revision = nextRevision(ctx.config);
  },
});

// ---------------------------------------------------------------------------------------
// crypto isakmp profile

defineCommand({
  modes: ['config'],
  syntax: ['crypto isakmp profile WORD$name', 'no crypto isakmp profile WORD$name'],
  help: { profile: 'Define ISAKMP Profiles', name: 'Name of the profile' },
  handler(ctx, a) {
    const name = a.req('name');
    const profiles = ctx.config.isakmpProfiles;
    if (a.no) {
      delete profiles[name];
      return;
    }
    if (!profiles[name]) profiles[name] = { name, revision: nextRevision(ctx.config), keyrings: [], matchIdentities: [] };
    ctx.enter('isakmp-profile', { name });
  },
});

function currentIsaProfile(ctx: CommandContext): IsakmpProfile {
  const p = ctx.config.isakmpProfiles[ctx.modeData.name as string];
  if (!p) throw new CliError('% The ISAKMP profile was removed.');
  return p;
}

function profileCommand(syntax: string | string[], help: Record<string, string>, apply: (p: IsakmpProfile, a: Args, ctx: CommandContext) => void): void {
  defineCommand({
    modes: ['isakmp-profile'],
    syntax,
    help,
    handler(ctx, a) {
      const p = currentIsaProfile(ctx);
      apply(p, a, ctx);
      p.revision = nextRevision(ctx.config);
    },
  });
}

profileCommand(['keyring WORD$ring', 'no keyring WORD$ring'], { keyring: 'Use keyring with this profile', ring: 'keyring name' }, (p, a) => {
  const ring = a.req('ring');
  if (a.no) p.keyrings = p.keyrings.filter((k) => k !== ring);
  else if (!p.keyrings.includes(ring)) p.keyrings.push(ring);
});

profileCommand(
  [
    'match identity <address A.B.C.D$addr [A.B.C.D$mask] [WORD$vrf]|host WORD$host|host domain WORD$domain|group WORD$group|user WORD$user>',
    'no match identity <address A.B.C.D$addr [A.B.C.D$mask] [WORD$vrf]|host WORD$host|host domain WORD$domain|group WORD$group|user WORD$user>',
  ],
  {
    match: 'Match values of peer', identity: 'Peer identity', address: 'IP Address(es)', host: 'Fully qualified domain name of the peer',
    domain: 'Domain name of the peer', group: 'Group name (Easy VPN)', user: 'User name', addr: 'IP address prefix', mask: 'Mask', vrf: 'VRF to match',
  },
  (p, a) => {
    let m: IdentityMatch;
    if (a.has('address')) {
      m = { kind: 'address', address: a.req('addr'), mask: parseMask(a.get('mask')) };
      const vrf = a.get('vrf');
      if (vrf !== undefined) m.vrf = vrf;
    } else if (a.has('domain')) m = { kind: 'host-domain', domain: a.req('domain') };
    else if (a.has('host')) m = { kind: 'host', host: a.req('host') };
    else if (a.has('group')) m = { kind: 'group', group: a.req('group') };
    else m = { kind: 'user', user: a.req('user') };
    const text = identityMatchText(m);
    const rest = p.matchIdentities.filter((x) => identityMatchText(x) !== text);
    p.matchIdentities = a.no ? rest : [...rest, m];
  },
);

profileCommand(
  ['self-identity <address|fqdn|user-fqdn WORD$user>', 'no self-identity [LINE]'],
  { 'self-identity': 'Specify Identity to use', address: 'address', fqdn: 'Fully qualified domain name', 'user-fqdn': 'user fully qualified domain name', user: 'user fqdn' },
  (p, a) => {
    if (a.no) delete p.selfIdentity;
    else if (a.has('user-fqdn')) p.selfIdentity = { kind: 'user-fqdn', user: a.req('user') };
    else p.selfIdentity = { kind: a.has('fqdn') ? 'fqdn' : 'address' };
  },
);

profileCommand(LOCAL_ADDRESS_SYNTAX, LOCAL_ADDRESS_HELP, (p, a) => {
  if (a.no) delete p.localAddress;
  else p.localAddress = localAddressFromArgs(a);
});

profileCommand(['virtual-template (1-65535)$n', 'no virtual-template [LINE]'], { 'virtual-template': 'Specify the virtual-template for dynamic interface creation.', n: 'Virtual-template number' }, (p, a) => {
  if (a.no) delete p.virtualTemplate;
  else p.virtualTemplate = a.num('n')!;
});

profileCommand(['initiate mode aggressive', 'no initiate mode [aggressive]'], { initiate: 'Initiator property', mode: 'Initiator mode', aggressive: 'Aggressive Mode Exchange' }, (p, a) => {
  if (a.no) delete p.initiateMode;
  else p.initiateMode = 'aggressive';
});

profileCommand(['vrf WORD$vrf', 'no vrf [LINE]'], { vrf: 'Specify the VRF it is related to', vrfname: 'VRF name' }, (p, a) => {
  if (a.no) delete p.vrf;
  else p.vrf = a.req('vrf');
});

profileCommand(['keepalive (10-3600)$sec retry (2-60)$retry', 'no keepalive [LINE]'], { keepalive: 'Set a keepalive interval for use with IOS peers', sec: 'Number of seconds between keep alives', retry: 'Number of seconds between retries if keepalive fails' }, (p, a) => {
  if (a.no) delete p.keepalive;
  else p.keepalive = { intervalSec: a.num('sec')!, retrySec: a.num('retry')! };
});

profileCommand(['description LINE$text', 'no description [LINE]'], { description: 'Specify a description of this profile', text: 'Up to 80 characters describing this profile' }, (p, a) => {
  if (a.no) delete p.description;
  else p.description = a.req('text');
});

// Easy VPN server pieces of a profile (the guide's DVTI Easy VPN example) are outside this
// product: say so in one line instead of a caret.
defineCommand({
  modes: ['isakmp-profile'],
  syntax: ['[no] client LINE', '[no] isakmp authorization LINE'],
  help: { client: 'Specify client configuration settings (Easy VPN server)', isakmp: 'ISAKMP', authorization: 'ISAKMP authorization parameters (Easy VPN server)' },
  handler() {
    throw new CliError('% Not supported on Rampart: Easy VPN server (client configuration and ISAKMP authorization)');
  },
});

/** `show crypto isakmp profile` block for one profile, exactly in the guide's layout. */
export function formatIsakmpProfileShow(cfg: Config, p: IsakmpProfile): string[] {
  const out = [`ISAKMP PROFILE ${p.name}`, '  Identities matched are:'];
  for (const m of p.matchIdentities) {
    switch (m.kind) {
      case 'address': out.push(`    ip-address ${m.address} ${m.mask}${m.vrf !== undefined ? ` vrf ${m.vrf}` : ''}`); break;
      case 'host': out.push(`    host ${m.host}`); break;
      case 'host-domain': out.push(`    host domain ${m.domain}`); break;
      case 'group': out.push(`    group ${m.group}`); break;
      case 'user': out.push(`    user ${m.user}`); break;
    }
  }
  out.push('  Certificate maps matched are:');
  out.push(`  keyring(s): ${p.keyrings.length > 0 ? p.keyrings.join(', ') : '<none>'}`);
  out.push('  trustpoint(s): <all>');
  if (p.virtualTemplate !== undefined) out.push(`  virtual-template: Virtual-Template${p.virtualTemplate}`);
  if (p.vrf !== undefined) out.push(`  vrf: ${p.vrf}`);
  const b = p.localAddress;
  if (b) {
    if (b.interface !== undefined) {
      const addr = interfaceAddress(cfg, b.interface) ?? 'unassigned';
      out.push(`  Interface binding: ${b.interface} (${addr}:global)`);
    } else {
      out.push(`  Interface binding: ${b.address} (${b.address}:${b.vrf ?? 'global'})`);
    }
  }
  return out;
}

defineCommand({
  modes: EXEC,
  syntax: 'show crypto isakmp profile [tag WORD$name]',
  help: { profile: 'Show ISAKMP profile information', tag: 'Show profile with the specified tag', name: 'Profile name' },
  pipe: true,
  handler(ctx, a) {
    const name = a.get('name');
    const list = sortByName(Object.values(ctx.config.isakmpProfiles)).filter((p) => name === undefined || p.name === name);
    ctx.data(list);
    const lines = list.flatMap((p) => formatIsakmpProfileShow(ctx.config, p));
    if (lines.length > 0) ctx.print(lines.join('\n'));
  },
});

export type { DhGroup };

// ---------------------------------------------------------------------------------------
// Easy VPN server (outside this product): `crypto isakmp client configuration group NAME`
// is refused with one clear line; its sub-lines are swallowed by a sink mode with the same
// message so a pasted block does not spill carets. (`crypto ipsec client ezvpn` is refused
// by unsupported.ts.)

defineMode({ name: 'isakmp-client-group', prompt: '(config-isakmp-group)', parent: 'config' });

const EZVPN_SERVER = '% Not supported on Rampart: Easy VPN server (crypto isakmp client configuration)';

defineCommand({
  modes: ['config'],
  syntax: ['crypto isakmp client configuration LINE', 'no crypto isakmp client configuration LINE'],
  help: { client: 'Set client configuration policy (Easy VPN server, not supported)', configuration: 'Client configuration' },
  handler(ctx, a) {
    if (!a.no) ctx.enter('isakmp-client-group', {});
    throw new CliError(EZVPN_SERVER);
  },
});

defineCommand({
  modes: ['isakmp-client-group'],
  syntax: ['key', 'pool', 'save-password', 'dns', 'wins', 'domain', 'acl', 'include-local-lan', 'max-users', 'netmask', 'banner', 'split-dns', 'firewall', 'backup-gateway', 'pfs']
    .map((w) => `[no] ${w} [LINE]`),
  help: Object.fromEntries(['key', 'pool', 'save-password', 'dns', 'wins', 'domain', 'acl', 'include-local-lan', 'max-users', 'netmask', 'banner', 'split-dns', 'firewall', 'backup-gateway', 'pfs']
    .map((w) => [w, 'Easy VPN server group setting (not supported)'])),
  handler() { throw new CliError(EZVPN_SERVER); },
});
