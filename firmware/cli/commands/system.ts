// Global settings: hostname, enable secret / password, service password-encryption,
// timestamps and domain lookup.

import { DEFAULT_HOSTNAME, type TimestampSpec } from '../../config/system.js';
import { encodeType7, hashType8, hashType9, secretType, verifySecret } from '../../lib/password.js';
import { CliError } from '../context.js';
import { defineCommand } from '../registry.js';

defineCommand({
  modes: ['config'],
  syntax: ['hostname WORD$name', 'no hostname [WORD$name]'],
  help: { hostname: 'Set system\'s network name', name: 'This system\'s network name' },
  handler(ctx, a) {
    if (a.no) {
      ctx.config.system.hostname = DEFAULT_HOSTNAME;
      return;
    }
    const name = a.req('name');
    // RFC 1123 host label rules, as IOS enforces them.
    if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(name)) {
      throw new CliError('% Hostname contains one or more illegal characters.');
    }
    ctx.config.system.hostname = name;
  },
});

defineCommand({
  modes: ['config'],
  syntax: [
    'enable secret [0] WORD$secret',
    'enable secret <5|8|9> WORD$hash',
    'enable algorithm-type <scrypt|sha256> secret WORD$secret',
    'no enable secret [LINE]',
  ],
  help: {
    enable: 'Modify enable password parameters',
    secret: 'Assign the privileged level secret (MAX of 25 characters)',
    '0': 'Specifies an UNENCRYPTED password will follow',
    '5': 'Specifies a MD5 HASHED secret will follow',
    '8': 'Specifies a PBKDF2 HASHED secret will follow',
    '9': 'Specifies a SCRYPT hashed secret will follow',
    hash: 'The HASHED enable secret string',
    sha256: 'Encode the password using the PBKDF2 hashing algorithm',
    'algorithm-type': 'Algorithm to use for hashing the plaintext \'enable\' secret',
    scrypt: 'Encode the password using the SCRYPT hashing algorithm',
  },
  handler(ctx, a) {
    const sys = ctx.config.system;
    if (a.no) {
      delete sys.enableSecret;
      return;
    }
    const hash = a.get('hash');
    if (hash !== undefined) {
      // Pasted hashes of types 5 and 8 (older or PBKDF2 boxes) are kept as they are.
      if (secretType(hash) !== (a.has('5') ? 5 : a.has('8') ? 8 : 9)) throw new CliError('% Invalid encrypted secret.');
      sys.enableSecret = hash;
      return;
    }
    const secret = a.req('secret');
    if (secret.length > 25) throw new CliError('% Password too long - must be 25 characters or less');
    sys.enableSecret = a.has('sha256') ? hashType8(secret) : hashType9(secret);
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['enable password [0] WORD$password', 'enable password 7 WORD$encrypted', 'no enable password [LINE]'],
  help: {
    password: 'Assign the privileged level password (MAX of 25 characters)',
    '0': 'Specifies an UNENCRYPTED password will follow',
    '7': 'Specifies a HIDDEN password will follow',
    encrypted: 'The HIDDEN \'enable\' password string',
  },
  handler(ctx, a) {
    const sys = ctx.config.system;
    if (a.no) {
      delete sys.enablePassword;
      return;
    }
    const enc = a.get('encrypted');
    if (enc !== undefined) {
      sys.enablePassword = { type: 7, value: enc };
      return;
    }
    const pw = a.req('password');
    if (sys.enableSecret && verifySecret(pw, sys.enableSecret)) {
      throw new CliError('The enable password you have chosen is the same as your enable secret.\nThis is not recommended.  Re-enter the enable password.');
    }
    sys.enablePassword = sys.servicePasswordEncryption ? { type: 7, value: encodeType7(pw) } : { type: 0, value: pw };
  },
});

defineCommand({
  modes: ['config'],
  syntax: '[no] service password-encryption',
  help: { service: 'Modify use of network based services', 'password-encryption': 'Encrypt system passwords' },
  handler(ctx, a) {
    const sys = ctx.config.system;
    sys.servicePasswordEncryption = !a.no;
    if (a.no) return;
    // Turning it on obfuscates every clear-text password already configured, as IOS does.
    const hide = (p: { type: 0 | 7; value: string } | undefined) => (p?.type === 0 ? { type: 7 as const, value: encodeType7(p.value) } : p);
    if (sys.enablePassword) sys.enablePassword = hide(sys.enablePassword);
    for (const u of Object.values(ctx.config.users.accounts)) if (u.password) u.password = hide(u.password);
    for (const l of Object.values(ctx.config.lines)) if (l.password) l.password = hide(l.password);
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['[no] service timestamps [debug|log] [datetime [msec] [localtime] [show-timezone] [year]|uptime]'],
  help: { timestamps: 'Timestamp debug/log messages', debug: 'Timestamp debug messages', log: 'Timestamp log messages', datetime: 'Timestamp with date and time', msec: 'Include milliseconds in timestamp', uptime: 'Timestamp with system uptime' },
  handler(ctx, a) {
    // As IOS: no format given means uptime; `no` turns stamping off.
    const both = !a.has('debug') && !a.has('log');
    const spec: TimestampSpec | false = a.no ? false : a.has('datetime')
      ? { kind: 'datetime', msec: a.has('msec'), localtime: a.has('localtime'), showTimezone: a.has('show-timezone'), year: a.has('year') }
      : { kind: 'uptime' };
    if (both || a.has('debug')) ctx.config.system.timestampsDebug = spec;
    if (both || a.has('log')) ctx.config.system.timestampsLog = spec;
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['[no] ip domain lookup', '[no] ip domain-lookup'],
  help: { domain: 'IP DNS Resolver', lookup: 'Enable IP Domain Name System hostname translation', 'domain-lookup': 'Enable IP Domain Name System hostname translation' },
  handler(ctx, a) { ctx.config.system.domainLookup = !a.no; },
});

defineCommand({
  modes: ['config'],
  syntax: ['ip domain name WORD$dom', 'ip domain-name WORD$dom', 'no ip domain name [WORD$dom]', 'no ip domain-name [WORD$dom]'],
  help: { 'domain-name': 'Define the default domain name', name: 'Define the default domain name', dom: 'Default domain name' },
  handler(ctx, a) {
    if (a.no) { delete ctx.config.system.domainName; return; }
    const name = a.req('dom');
    // dot-separated RFC 1123 labels, as IOS accepts them
    if (name.length > 253 || !/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/.test(name)) {
      throw new CliError('% Invalid domain name');
    }
    ctx.config.system.domainName = name.replace(/\.$/, '');
  },
});

defineCommand({
  modes: ['config'],
  syntax: 'version LINE$version',
  help: { version: 'Version' },
  // Saved configs carry the version of the software that wrote them; IOS ignores it on
  // load. Another version (an IOS config pasted in) is ignored too, but said so.
  handler(ctx, a) {
    const mine = ctx.system.version.split('.').slice(0, 2).join('.');
    const given = a.req('version').trim();
    if (given !== mine) ctx.print(`% version ${given} ignored: this box runs Rampart ${ctx.system.version} (running-config says version ${mine})`);
  },
});
