// Local users, AAA and privilege: `username`, `aaa new-model`, `aaa authentication login`,
// `aaa authorization exec|network`, `privilege exec level`, `show privilege`, `show users`.
// Secrets typed in clear are stored as type 9 (scrypt) by default or type 8 (PBKDF2) on
// request; pasted type 5, 8 and 9 hashes are kept as they are.
import { encodeType7, hashType8, hashType9, secretType } from '../../lib/password.js';
import type { AaaMethod, UserAccount } from '../../config/users.js';
import { CliError, InvalidInputError } from '../context.js';
import { defineCommand } from '../registry.js';
import { mgmtOf } from './ssh.js';

const MAX_USER_NAME = 64;

defineCommand({
  modes: ['config'],
  syntax: [
    'username WORD$name [privilege (0-15)$level] secret [0] WORD$secret',
    'username WORD$name [privilege (0-15)$level] secret <5|8|9> WORD$hash',
    'username WORD$name [privilege (0-15)$level] algorithm-type <sha256|scrypt|md5> secret WORD$secret',
    'username WORD$name [privilege (0-15)$level] password [0] WORD$password',
    'username WORD$name [privilege (0-15)$level] password 7 WORD$encrypted',
    'username WORD$name privilege (0-15)$level',
    'no username WORD$name [LINE]',
  ],
  help: {
    username: 'Establish User Name Authentication', name: 'User name', privilege: 'Set user privilege level', level: 'User privilege level',
    secret: 'Specify the secret for the user', password: 'Specify the password for the user',
    '0': 'Specifies an UNENCRYPTED secret will follow', '5': 'Specifies a MD5 HASHED secret will follow',
    '8': 'Specifies a PBKDF2 HASHED secret will follow', '9': 'Specifies a SCRYPT HASHED secret will follow',
    '7': 'Specifies a HIDDEN password will follow', hash: 'The HASHED secret string', encrypted: 'The HIDDEN password string',
    'algorithm-type': 'Algorithm to use for hashing the plaintext secret for the user',
    sha256: 'Encode the password using the PBKDF2 hashing algorithm', scrypt: 'Encode the password using the SCRYPT hashing algorithm',
    md5: 'Encode the password using the MD5 hashing algorithm (refused: too weak)',
  },
  handler(ctx, a) {
    const name = a.req('name');
    const accounts = ctx.config.users.accounts;
    if (a.no) {
      if (!accounts[name]) throw new CliError(`% User ${name} does not exist`);
      delete accounts[name];
      return;
    }
    if (name.length > MAX_USER_NAME) throw new CliError(`% Username too long: at most ${MAX_USER_NAME} characters`);
    const prev = accounts[name];
    const user: UserAccount = { name, privilege: a.num('level') ?? prev?.privilege };
    const hash = a.get('hash');
    const secret = a.get('secret');
    if (hash !== undefined) {
      const type = a.has('5') ? 5 : a.has('8') ? 8 : 9;
      if (secretType(hash) !== type) throw new CliError(`% Invalid type ${type} secret`);
      user.secret = { type, hash };
    } else if (secret !== undefined) {
      if (a.has('md5')) throw new CliError('% MD5 secrets are not created on this box; use algorithm-type scrypt or sha256');
      user.secret = a.has('sha256') ? { type: 8, hash: hashType8(secret) } : { type: 9, hash: hashType9(secret) };
    } else if (a.get('encrypted') !== undefined) {
      user.password = { type: 7, value: a.req('encrypted') };
    } else if (a.get('password') !== undefined) {
      const pw = a.req('password');
      user.password = ctx.config.system.servicePasswordEncryption ? { type: 7, value: encodeType7(pw) } : { type: 0, value: pw };
    } else {
      // `username X privilege N` alone changes the level and keeps the credential.
      user.secret = prev?.secret;
      user.password = prev?.password;
    }
    if (user.privilege === undefined) delete user.privilege;
    if (!user.secret) delete user.secret;
    if (!user.password) delete user.password;
    accounts[name] = user;
  },
});

const METHODS = 'WORD$m...';
const METHOD_NAMES: AaaMethod[] = ['local', 'local-case', 'line', 'enable', 'none'];

defineCommand({
  modes: ['config'],
  syntax: ['aaa new-model', 'no aaa new-model'],
  help: { aaa: 'Authentication, Authorization and Accounting.', 'new-model': 'Enable NEW access control commands and functions.(Disables OLD commands.)' },
  handler(ctx, a) { ctx.config.users.aaa.newModel = !a.no; },
});

function needNewModel(newModel: boolean): void {
  if (!newModel) throw new CliError('% AAA: Warning, authentication lists need "aaa new-model" first');
}

defineCommand({
  modes: ['config'],
  syntax: [
    `aaa authentication login WORD$list ${METHODS}`,
    'no aaa authentication login WORD$list [LINE]',
    `aaa authorization <exec|network> WORD$list ${METHODS}`,
    'no aaa authorization <exec|network> WORD$list [LINE]',
  ],
  help: {
    authentication: 'Authentication configurations parameters.', authorization: 'Authorization configurations parameters.',
    login: 'Set authentication lists for logins.', exec: 'For starting an exec (shell).', network: 'For network services. (PPP, SLIP, ARAP)',
    list: 'Named authentication list, or default', m: 'Method: local, local-case, line, enable, none',
    local: 'Use local username authentication.', 'local-case': 'Use case-sensitive local username authentication.',
    line: 'Use line password for authentication.', enable: 'Use enable password for authentication.', none: 'NO authentication.',
  },
  handler(ctx, a) {
    const aaa = ctx.config.users.aaa;
    needNewModel(aaa.newModel);
    const list = a.get('list') ?? 'default';
    const table = a.has('authentication') ? aaa.authenticationLogin : a.has('network') ? aaa.authorizationNetwork : aaa.authorizationExec;
    if (a.no) {
      delete table[list];
      return;
    }
    const methods: AaaMethod[] = [];
    for (const [i, word] of a.all('m').entries()) {
      const w = word.toLowerCase();
      const hits = METHOD_NAMES.filter((n) => n.startsWith(w));
      const m = METHOD_NAMES.find((n) => n === w) ?? (hits.length === 1 ? hits[0] : undefined);
      // The grammar takes any words here so the caret can point at the bad one.
      if (!m || i >= 4) throw new InvalidInputError(4 + i);
      methods.push(m);
    }
    table[list] = methods;
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['aaa session-id common', 'no aaa session-id [common]'],
  help: { 'session-id': 'AAA Session ID', common: 'Common Session ID' },
  handler(ctx, a) { ctx.config.users.aaa.sessionIdCommon = !a.no; },
});

defineCommand({
  modes: ['config'],
  syntax: ['privilege exec level (0-15)$level LINE$command', 'no privilege exec level (0-15)$level LINE$command'],
  help: { privilege: 'Command privilege parameters', exec: 'Exec mode', level: 'Set privilege level of command', command: 'Initial keywords of the command to modify' },
  handler(ctx, a) {
    const command = a.req('command').trim().toLowerCase().split(/\s+/).join(' ');
    if (a.no) delete ctx.config.users.execLevels[command];
    else ctx.config.users.execLevels[command] = a.num('level')!;
  },
});

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show privilege',
  help: { privilege: 'Show current privilege level' },
  pipe: true,
  handler(ctx) {
    ctx.data({ privilege: ctx.session.privilege });
    ctx.print(`Current privilege level is ${ctx.session.privilege}`);
  },
});

function hms(ms: number): string {
  const s = Math.floor(ms / 1000);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(Math.floor(s / 3600))}:${two(Math.floor(s / 60) % 60)}:${two(s % 60)}`;
}

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show users [all]',
  help: { users: 'Display information about terminal lines', all: 'Include information about inactive lines' },
  pipe: true,
  handler(ctx) {
    const sessions = mgmtOf(ctx).sessions().sort((x, y) => x.lineNumber - y.lineNumber || x.id - y.id);
    ctx.data(sessions);
    const out = ['    Line       User       Host(s)              Idle       Location'];
    for (const s of sessions) {
      const mark = s.id === ctx.session.id ? '*' : ' ';
      out.push(`${mark}${String(s.lineNumber).padStart(3)} ${s.line.padEnd(9)} ${(s.user ?? '').padEnd(10)} ${'idle'.padEnd(20)} ${hms(s.idleMs)} ${s.location ?? ''}`.trimEnd());
    }
    out.push('', '  Interface    User               Mode         Idle     Peer Address', '');
    ctx.print(out.join('\n'));
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['login block-for (1-65535)$block attempts (1-65535)$n within (1-65535)$within', 'no login block-for [LINE]'],
  help: {
    login: 'Enable secure login checking', 'block-for': 'Set quiet-mode active time period', block: 'Quiet-mode active time period (seconds)',
    attempts: 'Set max number of fail attempts', n: 'Max number of fail attempts', within: 'Watch period for fail attempts (seconds)',
  },
  handler(ctx, a) {
    if (a.no) delete ctx.config.users.loginBlock;
    else ctx.config.users.loginBlock = { blockSec: a.num('block')!, attempts: a.num('n')!, withinSec: a.num('within')! };
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['[no] login <on-failure|on-success> log [every (1-65535)]'],
  help: { 'on-failure': 'Set options for failed login attempt', 'on-success': 'Set options for successful login', log: 'Generate syslogs on login', every: 'Log every N attempts' },
  handler(ctx, a) {
    if (a.has('on-failure')) ctx.config.users.loginOnFailureLog = !a.no;
    else ctx.config.users.loginOnSuccessLog = !a.no;
  },
});
