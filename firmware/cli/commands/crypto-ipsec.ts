// `crypto ipsec transform-set`, `crypto ipsec security-association ...`, `crypto ipsec
// profile` and their show commands. Also the policy sub-commands that crypto map entries,
// dynamic map entries and IPsec profiles share (`set transform-set`, `set pfs`,
// `set security-association lifetime`, `set isakmp-profile`, `set ikev2-profile`): a
// feature registers its sub-mode with `registerPolicyTarget`.

import {
  DH_GROUPS, IPSEC_LIFETIME_KB_MAX, IPSEC_LIFETIME_KB_MIN, IPSEC_LIFETIME_SEC_MAX, IPSEC_LIFETIME_SEC_MIN,
  REPLAY_WINDOW_SIZES, nextRevision, sortByName, type DhGroup, type SaLifetime,
} from '../../config/crypto-common.js';
import {
  AH_TRANSFORMS, COMPRESSION_TRANSFORMS, ESP_AUTH_TRANSFORMS, ESP_ENCRYPTION_TRANSFORMS, TransformSetError,
  effectiveLifetime, parseTransforms, transformSetParts, transformShowName, type IpsecProfile, type Transform, type TransformSet,
} from '../../config/crypto-ipsec.js';
import type { Config } from '../../config/model.js';
import { CliError, type CommandContext } from '../context.js';
import { defineMode } from '../modes.js';
import { defineCommand } from '../registry.js';

defineMode({ name: 'crypto-transform', prompt: '(cfg-crypto-tran)', parent: 'config' });
defineMode({ name: 'ipsec-profile', prompt: '(ipsec-profile)', parent: 'config' });

const EXEC = ['exec'];

// ---------------------------------------------------------------------------------------
// Shared policy sub-commands

/** The object the shared `set ...` commands change in a sub-mode. */
export interface PolicyTarget {
  obj: {
    revision: number;
    transformSets: string[];
    pfsGroup?: DhGroup;
    lifetime: SaLifetime;
    replayWindow?: number;
    replayDisabled?: boolean;
    isakmpProfile?: string;
    ikev2Profile?: string;
  };
  /** ipsec-manual map entries take exactly one transform set. */
  manual?: boolean;
}

const targets = new Map<string, (ctx: CommandContext) => PolicyTarget>();

/** Lets a sub-mode (crypto map, dynamic map, ipsec profile) use the shared `set` commands. */
export function registerPolicyTarget(mode: string, resolve: (ctx: CommandContext) => PolicyTarget): void {
  targets.set(mode, resolve);
}

function target(ctx: CommandContext, notForManual?: string): PolicyTarget {
  const r = targets.get(ctx.mode);
  if (!r) throw new Error(`no policy target for mode ${ctx.mode}`);
  const t = r(ctx);
  // Manual entries have no negotiation: PFS, lifetimes and IKE profiles do not apply.
  if (notForManual !== undefined && t.manual) throw new CliError(`% ${notForManual} is not valid for ipsec-manual crypto map entries.`);
  return t;
}

const POLICY_MODES = ['ipsec-profile', 'crypto-map', 'crypto-dynamic-map'];

export const MAX_TRANSFORM_SETS = 6;

defineCommand({
  modes: POLICY_MODES,
  syntax: ['set transform-set WORD$ts...', 'no set transform-set [WORD$ts...]'],
  help: { 'transform-set': 'Specify list of transform sets in priority order', ts: 'Proposal tag' },
  handler(ctx, a) {
    const t = target(ctx);
    if (a.no) {
      t.obj.transformSets = [];
      t.obj.revision = nextRevision(ctx.config);
      return;
    }
    const names = a.all('ts');
    if (names.length > MAX_TRANSFORM_SETS) throw new CliError(`% At most ${MAX_TRANSFORM_SETS} transform sets can be specified.`);
    if (new Set(names).size !== names.length) throw new CliError('% A transform set is listed more than once.');
    if (t.manual && names.length > 1) throw new CliError('% Only one transform set can be specified for an ipsec-manual crypto map entry.');
    // A name not (yet) defined is kept and shown as missing, like a set deleted after the
    // entry referred to it; saying so here catches typos without breaking a config reload.
    for (const n of names) {
      if (!ctx.config.transformSets[n]) ctx.print(`% Warning: transform set with tag "${n}" does not exist.`);
    }
    t.obj.transformSets = names;
    t.obj.revision = nextRevision(ctx.config);
  },
});

const PFS_SYNTAX = `[${DH_GROUPS.map((g) => `group${g}`).join('|')}]`;

defineCommand({
  modes: POLICY_MODES,
  syntax: [`set pfs ${PFS_SYNTAX}`, `no set pfs ${PFS_SYNTAX}`],
  help: {
    pfs: 'Specify pfs settings',
    group1: 'D-H Group1 (768-bit modulus)', group2: 'D-H Group2 (1024-bit modulus)', group5: 'D-H Group5 (1536-bit modulus)',
    group14: 'D-H Group14 (2048-bit modulus)', group15: 'D-H Group15 (3072-bit modulus)', group16: 'D-H Group16 (4096-bit modulus)',
    group19: 'D-H Group19 (256-bit elliptic curve)', group20: 'D-H Group20 (384-bit elliptic curve)',
    group21: 'D-H Group21 (521-bit elliptic curve)', group24: 'D-H Group24 (2048-bit modulus & 256-bit subgroup)',
  },
  handler(ctx, a) {
    const t = target(ctx, 'set pfs');
    if (a.no) delete t.obj.pfsGroup;
    else t.obj.pfsGroup = DH_GROUPS.find((g) => a.has(`group${g}`)) ?? 1;
    t.obj.revision = nextRevision(ctx.config);
  },
});

defineCommand({
  modes: POLICY_MODES,
  syntax: [
    `set security-association lifetime <seconds (${IPSEC_LIFETIME_SEC_MIN}-${IPSEC_LIFETIME_SEC_MAX})$sec|kilobytes (${IPSEC_LIFETIME_KB_MIN}-${IPSEC_LIFETIME_KB_MAX})$kb|kilobytes disable>`,
    'no set security-association lifetime <seconds|kilobytes> [LINE]',
  ],
  help: {
    'security-association': 'Security association parameters', lifetime: 'security association lifetime',
    seconds: 'Time-based key duration in seconds', kilobytes: 'Volume-based key duration', disable: 'Disable Volume-based Rekey',
    sec: '<120-86400>', kb: '<2560-4294967295>',
  },
  handler(ctx, a) {
    const t = target(ctx, 'set security-association lifetime');
    const l = t.obj.lifetime;
    if (a.no) {
      if (a.has('seconds')) delete l.lifetimeSec;
      else delete l.lifetimeKb;
    } else if (a.has('seconds')) l.lifetimeSec = a.num('sec')!;
    else if (a.has('disable')) l.lifetimeKb = 'disable';
    else l.lifetimeKb = a.num('kb')!;
    t.obj.revision = nextRevision(ctx.config);
  },
});

defineCommand({
  modes: POLICY_MODES,
  syntax: [
    `set security-association replay window-size [${REPLAY_WINDOW_SIZES.join('|')}]`,
    'set security-association replay disable',
    'no set security-association replay <window-size|disable> [LINE]',
  ],
  help: {
    'security-association': 'Security association parameters', replay: 'Set replay checking.', 'window-size': 'Set replay window size.', disable: 'Disable replay checking.',
    '64': 'Window size of 64', '128': 'Window size of 128', '256': 'Window size of 256', '512': 'Window size of 512', '1024': 'Window size of 1024',
  },
  handler(ctx, a) {
    const t = target(ctx, 'set security-association replay');
    if (a.no) {
      if (a.has('disable')) delete t.obj.replayDisabled;
      else delete t.obj.replayWindow;
    } else if (a.has('disable')) t.obj.replayDisabled = true;
    else t.obj.replayWindow = REPLAY_WINDOW_SIZES.find((n) => a.has(String(n))) ?? 64;
    t.obj.revision = nextRevision(ctx.config);
  },
});

defineCommand({
  modes: POLICY_MODES,
  syntax: ['set isakmp-profile WORD$name', 'no set isakmp-profile [WORD$name]'],
  help: { 'isakmp-profile': 'Specify isakmp Profile', name: 'isakmp profile name' },
  handler(ctx, a) {
    const t = target(ctx, 'set isakmp-profile');
    if (a.no) delete t.obj.isakmpProfile;
    else t.obj.isakmpProfile = a.req('name');
    t.obj.revision = nextRevision(ctx.config);
  },
});

defineCommand({
  modes: POLICY_MODES,
  syntax: ['set ikev2-profile WORD$name', 'no set ikev2-profile [WORD$name]'],
  help: { 'ikev2-profile': 'Specify ikev2 Profile', name: 'ikev2 profile name' },
  handler(ctx, a) {
    const t = target(ctx, 'set ikev2-profile');
    if (a.no) delete t.obj.ikev2Profile;
    else t.obj.ikev2Profile = a.req('name');
    t.obj.revision = nextRevision(ctx.config);
  },
});

// ---------------------------------------------------------------------------------------
// Transform sets

const ALL_TRANSFORMS: readonly string[] = [...AH_TRANSFORMS, ...ESP_ENCRYPTION_TRANSFORMS, ...ESP_AUTH_TRANSFORMS, ...COMPRESSION_TRANSFORMS];

/** Transform words abbreviate like keywords: an exact name, else a unique prefix. */
export function expandTransformWords(words: readonly string[]): string[] {
  return words.map((raw) => {
    const w = raw.toLowerCase();
    if (/^\d+$/.test(w) || ALL_TRANSFORMS.includes(w)) return w;
    const hits = ALL_TRANSFORMS.filter((t) => t.startsWith(w));
    if (hits.length === 1) return hits[0]!;
    if (hits.length > 1) throw new CliError(`% Ambiguous transform "${raw}": ${hits.join(', ')}.`);
    throw new CliError(`% Unknown transform "${raw}". Valid transforms: ${ALL_TRANSFORMS.join(' ')}.`);
  });
}

// The first transform is a keyword choice (so `?` lists the transforms, as IOS does, and
// abbreviations resolve in the engine); the others are words resolved here, because the
// handler needs them in the order typed.
const SIZED = ['esp-aes', 'esp-gcm', 'esp-gmac'];
const FIRST_TRANSFORM = `<${ALL_TRANSFORMS.map((t) => (SIZED.includes(t) ? `${t} [128|192|256]` : t)).join('|')}>`;

export const TRANSFORM_HELP: Record<string, string> = {
  'ah-md5-hmac': 'AH-HMAC-MD5 transform', 'ah-sha-hmac': 'AH-HMAC-SHA transform',
  'esp-aes': 'ESP transform using AES cipher', 'esp-gcm': 'ESP transform using GCM cipher', 'esp-gmac': 'ESP transform using GMAC cipher',
  'esp-des': 'ESP transform using DES cipher (56 bits)', 'esp-3des': 'ESP transform using 3DES(EDE) cipher (168 bits)',
  'esp-null': 'ESP transform w/o cipher', 'esp-seal': 'ESP transform using SEAL cipher (160 bits)',
  'esp-md5-hmac': 'ESP transform using HMAC-MD5 auth', 'esp-sha-hmac': 'ESP transform using HMAC-SHA auth',
  'esp-sha256-hmac': 'ESP transform using HMAC-SHA256 auth', 'esp-sha384-hmac': 'ESP transform using HMAC-SHA384 auth',
  'esp-sha512-hmac': 'ESP transform using HMAC-SHA512 auth', 'comp-lzs': 'IP Compression using the LZS compression algorithm',
  '128': '128 bit keys.', '192': '192 bit keys.', '256': '256 bit keys.',
};

defineCommand({
  modes: ['config'],
  syntax: [`crypto ipsec transform-set WORD$name ${FIRST_TRANSFORM} [WORD$t...]`, 'no crypto ipsec transform-set WORD$name [LINE]'],
  help: {
    'transform-set': 'Define transform and settings', name: 'Transform set tag', ...TRANSFORM_HELP,
    t: 'More transforms: ah-md5-hmac ah-sha-hmac esp-aes [128|192|256] esp-gcm [128|192|256] esp-gmac [128|192|256] esp-des esp-3des esp-null esp-seal esp-md5-hmac esp-sha-hmac esp-sha256-hmac esp-sha384-hmac esp-sha512-hmac comp-lzs',
  },
  handler(ctx, a) {
    const name = a.req('name');
    const sets = ctx.config.transformSets;
    if (a.no) {
      // IOS allows this even while a map or profile uses the set; they show it missing.
      delete sets[name];
      return;
    }
    const first = ALL_TRANSFORMS.find((t) => a.has(t))!;
    const size = ['128', '192', '256'].find((n) => a.has(n));
    const words = [first, ...(size !== undefined ? [size] : []), ...a.all('t')];
    let transforms: Transform[];
    try {
      transforms = parseTransforms(expandTransformWords(words));
    } catch (err) {
      if (err instanceof TransformSetError) throw new CliError(err.message);
      throw err;
    }
    const existing = sets[name];
    if (existing) {
      existing.transforms = transforms;
      existing.revision = nextRevision(ctx.config);
    } else {
      sets[name] = { name, revision: nextRevision(ctx.config), transforms, mode: 'tunnel' };
    }
    ctx.enter('crypto-transform', { name });
  },
});

function currentSet(ctx: CommandContext): TransformSet {
  const ts = ctx.config.transformSets[ctx.modeData.name as string];
  if (!ts) throw new CliError('% The transform set was removed.');
  return ts;
}

defineCommand({
  modes: ['crypto-transform'],
  syntax: ['mode [tunnel|transport]', 'no mode [tunnel|transport]'],
  help: { mode: 'encapsulation (transport/tunnel)', tunnel: 'tunnel (datagram encapsulation) mode', transport: 'transport (payload encapsulation) mode' },
  handler(ctx, a) {
    const ts = currentSet(ctx);
    const mode = !a.no && a.has('transport') ? 'transport' : 'tunnel';
    if (ts.mode !== mode) {
      ts.mode = mode;
      ts.revision = nextRevision(ctx.config);
    }
  },
});

/** `show crypto ipsec transform-set` text for one set (IOS layout, blank line after). */
export function formatTransformSetShow(ts: TransformSet): string[] {
  const p = transformSetParts(ts);
  const mode = ts.mode === 'transport' ? 'Transport' : 'Tunnel';
  const groups: string[][] = [];
  if (p.ah) groups.push([transformShowName(p.ah)]);
  const esp = [p.espEncryption, p.espAuth].filter((t): t is Transform => t !== undefined).map(transformShowName);
  if (esp.length > 0) groups.push(esp);
  if (p.compression) groups.push([transformShowName(p.compression)]);
  const out: string[] = [];
  groups.forEach((g, i) => {
    const body = `{ ${g.join(' ')}  }`;
    out.push(i === 0 ? `Transform set ${ts.name}: ${body}` : `   ${body}`);
    out.push(`   will negotiate = { ${mode},  },`);
  });
  out.push('');
  return out;
}

defineCommand({
  modes: EXEC,
  syntax: 'show crypto ipsec transform-set [tag WORD$tagname]',
  help: { 'transform-set': 'Crypto transform sets', tag: 'Show transform sets with the specified tag', tagname: 'Transform set tag' },
  pipe: true,
  handler(ctx, a) {
    const tag = a.get('tagname');
    const sets = sortByName(Object.values(ctx.config.transformSets)).filter((s) => tag === undefined || s.name === tag);
    ctx.data(sets);
    const lines = sets.flatMap(formatTransformSetShow);
    if (lines.length > 0) ctx.print(lines.join('\n'));
  },
});

// ---------------------------------------------------------------------------------------
// Global SA settings

defineCommand({
  modes: ['config'],
  syntax: [
    `crypto ipsec security-association lifetime <seconds (${IPSEC_LIFETIME_SEC_MIN}-${IPSEC_LIFETIME_SEC_MAX})$sec|kilobytes (${IPSEC_LIFETIME_KB_MIN}-${IPSEC_LIFETIME_KB_MAX})$kb|kilobytes disable>`,
    'no crypto ipsec security-association lifetime <seconds|kilobytes> [LINE]',
  ],
  help: {
    'security-association': 'Security association parameters', lifetime: 'security association lifetime',
    seconds: 'Time-based key duration in seconds', kilobytes: 'Volume-based key duration', disable: 'Disable Volume-based Rekey',
    sec: '<120-86400>', kb: '<2560-4294967295>',
  },
  handler(ctx, a) {
    const g = ctx.config.ipsecSa;
    if (a.no) {
      if (a.has('seconds')) g.lifetimeSec = 3600;
      else {
        g.lifetimeKb = 4608000;
        g.lifetimeKbDisabled = false;
      }
    } else if (a.has('seconds')) g.lifetimeSec = a.num('sec')!;
    else if (a.has('disable')) g.lifetimeKbDisabled = true;
    else {
      g.lifetimeKb = a.num('kb')!;
      g.lifetimeKbDisabled = false;
    }
    g.revision = nextRevision(ctx.config);
  },
});

defineCommand({
  modes: ['config'],
  syntax: [
    `crypto ipsec security-association replay window-size [${REPLAY_WINDOW_SIZES.join('|')}]`,
    'crypto ipsec security-association replay disable',
    'no crypto ipsec security-association replay <window-size|disable> [LINE]',
  ],
  help: {
    replay: 'Set replay checking.', 'window-size': 'Set replay window size.', disable: 'Disable replay checking.',
    '64': 'Window size of 64', '128': 'Window size of 128', '256': 'Window size of 256', '512': 'Window size of 512', '1024': 'Window size of 1024',
  },
  handler(ctx, a) {
    const g = ctx.config.ipsecSa;
    if (a.no) {
      if (a.has('disable')) g.replayDisabled = false;
      else g.replayWindow = 64;
    } else if (a.has('disable')) g.replayDisabled = true;
    else g.replayWindow = REPLAY_WINDOW_SIZES.find((n) => a.has(String(n))) ?? 64;
    g.revision = nextRevision(ctx.config);
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['crypto ipsec df-bit <clear|set|copy>', 'no crypto ipsec df-bit [clear|set|copy]'],
  help: { 'df-bit': 'Handling of encapsulated DF bit.', clear: 'Clear DF bit for encapsulated packets.', set: 'Set DF bit for encapsulated packets.', copy: 'Copy DF bit from inner for encapsulated packets.' },
  handler(ctx, a) {
    const g = ctx.config.ipsecSa;
    g.dfBit = a.no ? 'copy' : a.has('clear') ? 'clear' : a.has('set') ? 'set' : 'copy';
    g.revision = nextRevision(ctx.config);
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['crypto ipsec fragmentation <before-encryption|after-encryption>', 'no crypto ipsec fragmentation [LINE]'],
  help: { fragmentation: 'Fragmentation handling', 'before-encryption': 'Perform fragmentation of large packets before encryption', 'after-encryption': 'Perform fragmentation of large packets after encryption' },
  handler(ctx, a) {
    const g = ctx.config.ipsecSa;
    g.fragmentation = !a.no && a.has('after-encryption') ? 'after-encryption' : 'before-encryption';
    g.revision = nextRevision(ctx.config);
  },
});

// ---------------------------------------------------------------------------------------
// IPsec profiles

defineCommand({
  modes: ['config'],
  syntax: ['crypto ipsec profile WORD$name', 'no crypto ipsec profile WORD$name'],
  help: { profile: 'Configure an ipsec policy profile', name: 'Profile name' },
  handler(ctx, a) {
    const name = a.req('name');
    const profiles = ctx.config.ipsecProfiles;
    if (a.no) {
      delete profiles[name];
      return;
    }
    if (!profiles[name]) profiles[name] = { name, revision: nextRevision(ctx.config), transformSets: [], lifetime: {} };
    ctx.enter('ipsec-profile', { name });
  },
});

function currentProfile(ctx: CommandContext): IpsecProfile {
  const p = ctx.config.ipsecProfiles[ctx.modeData.name as string];
  if (!p) throw new CliError('% The IPsec profile was removed.');
  return p;
}

registerPolicyTarget('ipsec-profile', (ctx) => ({ obj: currentProfile(ctx) }));

defineCommand({
  modes: ['ipsec-profile'],
  syntax: ['description LINE$text', 'no description [LINE]'],
  help: { description: 'Description of the crypto ipsec profile', text: 'Up to 80 characters describing this crypto ipsec profile' },
  handler(ctx, a) {
    const p = currentProfile(ctx);
    if (a.no) delete p.description;
    else p.description = a.req('text');
    p.revision = nextRevision(ctx.config);
  },
});

/** `Transform sets={ ... }` block shared by the crypto map and profile shows. */
export function transformSetsBlock(cfg: Config, names: readonly string[], indent: string): string[] {
  const out = [`${indent}Transform sets={ `];
  for (const n of names) {
    const ts = cfg.transformSets[n];
    // A set deleted after the entry referred to it is shown as missing, as IOS does.
    out.push(ts ? `${indent}        ${n}, ` : `${indent}        ${n} (missing), `);
  }
  out.push(`${indent}}`);
  return out;
}

/** Lifetime and PFS lines shared by the crypto map and profile shows. */
export function lifetimePfsLines(cfg: Config, obj: { lifetime: SaLifetime; pfsGroup?: DhGroup; replayWindow?: number; replayDisabled?: boolean }, indent: string): string[] {
  const l = effectiveLifetime(cfg, obj.lifetime);
  const kb = l.lifetimeKb === 'disable' ? cfg.ipsecSa.lifetimeKb : l.lifetimeKb;
  const out = [`${indent}Security association lifetime: ${kb} kilobytes/${l.lifetimeSec} seconds`];
  if (l.lifetimeKb === 'disable') out.push(`${indent}Volume-based rekey: disabled`);
  if (obj.replayDisabled) out.push(`${indent}Replay detection: disabled`);
  else if (obj.replayWindow !== undefined) out.push(`${indent}Replay window size: ${obj.replayWindow}`);
  out.push(`${indent}PFS (Y/N): ${obj.pfsGroup !== undefined ? 'Y' : 'N'}`);
  if (obj.pfsGroup !== undefined) out.push(`${indent}DH group:  group${obj.pfsGroup}`);
  return out;
}

export function formatIpsecProfileShow(cfg: Config, p: IpsecProfile): string[] {
  const ind = '        ';
  const out = [`IPSEC profile ${p.name}`];
  if (p.description !== undefined) out.push(`${ind}Description: ${p.description}`);
  if (p.isakmpProfile !== undefined) out.push(`${ind}ISAKMP Profile: ${p.isakmpProfile}`);
  if (p.ikev2Profile !== undefined) out.push(`${ind}IKEv2 Profile: ${p.ikev2Profile}`);
  out.push(...lifetimePfsLines(cfg, p, ind));
  out.push(...transformSetsBlock(cfg, p.transformSets, ind));
  out.push('');
  return out;
}

defineCommand({
  modes: EXEC,
  syntax: 'show crypto ipsec profile [WORD$name]',
  help: { profile: 'Show ipsec profile information', name: 'ipsec profile name' },
  pipe: true,
  handler(ctx, a) {
    const name = a.get('name');
    const list = sortByName(Object.values(ctx.config.ipsecProfiles)).filter((p) => name === undefined || p.name === name);
    ctx.data(list);
    const lines = list.flatMap((p) => formatIpsecProfileShow(ctx.config, p));
    if (lines.length > 0) ctx.print(lines.join('\n'));
  },
});

defineCommand({
  modes: EXEC,
  syntax: 'show crypto ipsec security-association',
  help: { 'security-association': 'Show parameters for IPSec security associations' },
  pipe: true,
  handler(ctx) {
    const g = ctx.config.ipsecSa;
    ctx.data(g);
    ctx.print([
      `Security association lifetime: ${g.lifetimeKb} kilobytes/${g.lifetimeSec} seconds`,
      `Volume-based rekey: ${g.lifetimeKbDisabled ? 'disabled' : 'enabled'}`,
      `Replay window size: ${g.replayDisabled ? 'disabled' : g.replayWindow}`,
      `DF bit: ${g.dfBit}`,
      `Fragmentation: ${g.fragmentation}`,
    ].join('\n'));
  },
});
