// SSH: `crypto key generate rsa` (host keys on flash; an Ed25519 key is made beside the
// RSA key), `crypto key zeroize rsa`, `ip ssh ...`, the public-key chain for users,
// `show ip ssh`, `show ssh`, `show crypto key mypubkey rsa`.
import { createHash, createPublicKey } from 'node:crypto';
import { SSH_DEFAULT_AUTH_RETRIES, SSH_DEFAULT_TIMEOUT_SEC, type SshPubkeyUser } from '../../config/ssh.js';
import { CliError, type CommandContext } from '../context.js';
import type { HostKeyInfo, ManagementServices } from '../mgmt-view.js';
import { defineMode } from '../modes.js';
import { defineCommand } from '../registry.js';

defineMode({ name: 'config-ssh-pubkey', prompt: '(conf-ssh-pubkey)', parent: 'config' });
defineMode({ name: 'config-ssh-pubkey-user', prompt: '(conf-ssh-pubkey-user)', parent: 'config-ssh-pubkey' });
defineMode({ name: 'config-ssh-pubkey-data', prompt: '(conf-ssh-pubkey-data)', parent: 'config-ssh-pubkey-user' });

export function mgmtOf(ctx: CommandContext): ManagementServices {
  const m = ctx.system.mgmt;
  if (!m) throw new CliError('% This runtime has no management services');
  return m;
}

/** `R1.example.com`: the RSA key name IOS derives from hostname and domain name. */
function keyName(ctx: CommandContext): string {
  const s = ctx.config.system;
  return s.domainName ? `${s.hostname}.${s.domainName}` : s.hostname;
}

defineCommand({
  modes: ['config'],
  syntax: ['crypto key generate rsa [general-keys] [label WORD$label] [modulus (360-4096)$bits] [exportable]'],
  help: {
    key: 'Long term key operations', generate: 'Generate new keys', rsa: 'Generate RSA keys',
    'general-keys': 'Generate a general purpose RSA key pair for signing and encryption', label: 'Provide a label',
    modulus: 'Provide number of modulus bits on the command line', bits: 'size of the key modulus [360-4096]',
    exportable: 'Allow the key to be exported',
  },
  async handler(ctx, a) {
    const mgmt = mgmtOf(ctx);
    if (!ctx.config.system.domainName && !a.get('label')) throw new CliError('% Please define a domain-name first.');
    const name = a.get('label') ?? keyName(ctx);
    if (mgmt.hostKeys().some((k) => k.type === 'rsa')) {
      const answer = await ctx.ask(`% You already have RSA keys defined named ${name}.\n% Do you really want to replace them? [yes/no]: `);
      if (!/^y(es?)?$/i.test(answer.trim())) return;
    }
    ctx.print(`The name for the keys will be: ${name}`);
    let bits = a.num('bits');
    if (bits === undefined) {
      ctx.print('Choose the size of the key modulus in the range of 360 to 4096 for your\n  General Purpose Keys. Choosing a key modulus greater than 512 may take\n  a few minutes.\n');
      const answer = (await ctx.ask('How many bits in the modulus [512]: ')).trim();
      bits = answer === '' ? 512 : Number(answer);
      if (!Number.isInteger(bits) || bits < 360 || bits > 4096) throw new CliError('% Invalid modulus size; choose between 360 and 4096 bits.');
    } else ctx.print(`\n% The key modulus size is ${bits} bits`);
    // OpenSSL (and so node) refuses RSA keys under 512 bits; IOS's lower bound is older than that.
    if (bits < 512) throw new CliError('% Key modulus under 512 bits is refused by this box\'s crypto library; choose 512 to 4096.');
    ctx.print(`% Generating ${bits} bit RSA keys, keys will be ${a.has('exportable') ? 'exportable' : 'non-exportable'}...`);
    const t0 = ctx.system.now();
    await mgmt.generateHostKey('rsa', bits);
    // SSH clients prefer Ed25519; IOS 15 has none, so the box makes one beside the RSA key.
    await mgmt.generateHostKey('ed25519', 256);
    ctx.print(`[OK] (elapsed time was ${Math.max(0, Math.round((ctx.system.now() - t0) / 1000))} seconds)\n`);
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['crypto key zeroize rsa [WORD$label]', 'crypto key zeroize ed25519'],
  help: { zeroize: 'Remove keys', rsa: 'Remove RSA keys', ed25519: 'Remove the Ed25519 SSH host key' },
  async handler(ctx, a) {
    const mgmt = mgmtOf(ctx);
    if (a.has('ed25519')) {
      mgmt.zeroizeHostKeys('ed25519');
      return;
    }
    if (!mgmt.hostKeys().some((k) => k.type === 'rsa')) throw new CliError('% No Signature RSA Keys found in configuration.');
    const answer = await ctx.ask('% All keys will be removed.\n% All router certs issued using these keys will also be removed.\nDo you really want to remove these keys? [yes/no]: ');
    if (!/^y(es?)?$/i.test(answer.trim())) return;
    // Without its RSA key IOS turns SSH off; the Ed25519 key made beside it goes too.
    mgmt.zeroizeHostKeys();
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['ip ssh version <1|2>', 'no ip ssh version'],
  help: { ssh: 'Configure ssh options', version: 'Specify protocol version to be supported', '1': 'Protocol version 1', '2': 'Protocol version 2' },
  handler(ctx, a) {
    if (a.no) {
      delete ctx.config.ssh.version;
      return;
    }
    if (a.has('1')) throw new CliError('% SSH version 1 is not supported on Rampart (SSH 2 only)');
    ctx.config.ssh.version = 2;
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['ip ssh time-out (1-120)$sec', 'no ip ssh time-out [(1-120)]'],
  help: { 'time-out': 'Specify SSH time-out interval', sec: 'SSH time-out interval (secs)' },
  handler(ctx, a) { ctx.config.ssh.timeoutSec = a.no ? SSH_DEFAULT_TIMEOUT_SEC : a.num('sec')!; },
});

defineCommand({
  modes: ['config'],
  syntax: ['ip ssh authentication-retries (0-5)$n', 'no ip ssh authentication-retries [(0-5)]'],
  help: { 'authentication-retries': 'Specify number of authentication retries', n: 'Number of authentication retries' },
  handler(ctx, a) { ctx.config.ssh.authRetries = a.no ? SSH_DEFAULT_AUTH_RETRIES : a.num('n')!; },
});

defineCommand({
  modes: ['config'],
  syntax: ['ip ssh pubkey-chain', 'no ip ssh pubkey-chain'],
  help: { 'pubkey-chain': 'pubkey-chain' },
  handler(ctx, a) {
    if (a.no) {
      ctx.config.ssh.pubkeyUsers = {};
      return;
    }
    ctx.enter('config-ssh-pubkey');
  },
});

defineCommand({
  modes: ['config-ssh-pubkey'],
  syntax: ['username WORD$name', 'no username WORD$name'],
  help: { username: 'Configure the user\'s public keys', name: 'SSH user name' },
  handler(ctx, a) {
    const name = a.req('name');
    const users = ctx.config.ssh.pubkeyUsers;
    if (a.no) {
      delete users[name];
      return;
    }
    users[name] ??= { name, keys: [] };
    ctx.enter('config-ssh-pubkey-user', { user: name });
  },
});

function pubkeyUser(ctx: CommandContext): SshPubkeyUser {
  const name = ctx.modeData.user as string;
  return (ctx.config.ssh.pubkeyUsers[name] ??= { name, keys: [] });
}

/** The algorithm name inside an SSH public key blob (`ssh-rsa`, `ssh-ed25519`). */
function blobAlgorithm(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) return undefined;
  const algo = blob.subarray(4, 4 + len).toString('latin1');
  return /^[a-z0-9@.-]+$/.test(algo) ? algo : undefined;
}

defineCommand({
  modes: ['config-ssh-pubkey-user'],
  syntax: ['key-hash WORD$algo HEX$hash [WORD$comment]', 'no key-hash WORD$algo HEX$hash [WORD$comment]'],
  help: { 'key-hash': 'Configure the user\'s public key as a hash', algo: 'Signature algorithm (ssh-rsa, ssh-ed25519)', hash: 'Hash of the public key (MD5, hex)' },
  handler(ctx, a) {
    const u = pubkeyUser(ctx);
    const hash = a.req('hash').toUpperCase();
    if (!/^[0-9A-F]{32}$/.test(hash)) throw new CliError('% Invalid key hash: 32 hex digits (MD5) expected');
    u.keys = u.keys.filter((k) => k.hash !== hash);
    if (!a.no) u.keys.push({ algo: a.req('algo'), hash, comment: a.get('comment') });
  },
});

defineCommand({
  modes: ['config-ssh-pubkey-user'],
  syntax: 'key-string',
  help: { 'key-string': 'Enter public key (the key body of an OpenSSH .pub line, may span lines); end with `exit`' },
  handler(ctx) { ctx.enter('config-ssh-pubkey-data', { user: ctx.modeData.user as string, text: '' }); },
});

// The key body may span several lines (IOS wraps it); each line re-derives the key-hash
// entry from all the text so far, so whatever `exit` ends the block, the key is stored.
defineCommand({
  modes: ['config-ssh-pubkey-data'],
  syntax: 'LINE$text',
  help: { text: 'Key data (base64), or a whole `ssh-rsa AAAA... comment` line' },
  handler(ctx, a) {
    const data = ctx.modeData as { user: string; text: string; hash?: string };
    data.text += ` ${a.req('text')}`;
    const words = data.text.trim().split(/\s+/);
    const start = words.findIndex((w) => /^AAAA[0-9A-Za-z+/=]+$/.test(w));
    if (start < 0) return;
    const body = words.slice(start).filter((w) => /^[0-9A-Za-z+/=]+$/.test(w)).join('');
    const blob = Buffer.from(body, 'base64');
    const algo = blobAlgorithm(blob);
    if (!algo) return;
    const hash = createHash('md5').update(blob).digest('hex').toUpperCase();
    const u = pubkeyUser(ctx);
    u.keys = u.keys.filter((k) => k.hash !== hash && k.hash !== data.hash);
    u.keys.push({ algo, hash });
    data.hash = hash;
  },
});

/** `30820122 300D0609 ...`: DER of the public key in 8-digit groups, as IOS prints key data. */
function derGroups(publicKey: string): string[] {
  const blob = Buffer.from(publicKey.split(' ')[1] ?? '', 'base64');
  let der: Buffer;
  try {
    der = createPublicKey({ key: sshRsaToJwk(blob), format: 'jwk' }).export({ type: 'spki', format: 'der' });
  } catch {
    der = blob;
  }
  const hex = der.toString('hex').toUpperCase();
  const groups = hex.match(/.{1,8}/g) ?? [];
  const lines: string[] = [];
  for (let i = 0; i < groups.length; i += 8) lines.push(`  ${groups.slice(i, i + 8).join(' ')}`);
  return lines;
}

function sshRsaToJwk(blob: Buffer): { kty: 'RSA'; e: string; n: string } {
  const parts: Buffer[] = [];
  for (let off = 0; off < blob.length && parts.length < 3;) {
    const len = blob.readUInt32BE(off);
    parts.push(blob.subarray(off + 4, off + 4 + len));
    off += 4 + len;
  }
  const strip = (b: Buffer) => (b[0] === 0 ? b.subarray(1) : b).toString('base64url');
  return { kty: 'RSA', e: strip(parts[1]!), n: strip(parts[2]!) };
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
function keyTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} UTC ${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()} ${d.getUTCFullYear()}`;
}

defineCommand({
  modes: ['exec'],
  syntax: 'show crypto key mypubkey rsa',
  help: { key: 'Show long term public keys', mypubkey: 'Show public keys associated with this router', rsa: 'Show RSA public keys' },
  pipe: true,
  handler(ctx) {
    const keys = mgmtOf(ctx).hostKeys().filter((k) => k.type === 'rsa');
    ctx.data(keys);
    ctx.print(keys.map((k) => [
      `% Key pair was generated at: ${keyTime(k.created)}`,
      `Key name: ${keyName(ctx)}`,
      'Key type: RSA KEYS',
      ' Storage Device: private-config',
      ' Usage: General Purpose Key',
      ' Key is not exportable.',
      ' Key Data:',
      ...derGroups(k.publicKey),
    ].join('\n')).join('\n'));
  },
});

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show ip ssh',
  help: { ssh: 'Information on SSH' },
  pipe: true,
  handler(ctx) {
    const mgmt = mgmtOf(ctx);
    const st = mgmt.sshStatus();
    const ssh = ctx.config.ssh;
    const keys = mgmt.hostKeys();
    const rsa = keys.find((k) => k.type === 'rsa');
    ctx.data({ ...st, version: '2.0', timeoutSec: ssh.timeoutSec, authRetries: ssh.authRetries, hostKeys: keys.map((k: HostKeyInfo) => ({ type: k.type, bits: k.bits, fingerprint: k.fingerprintSha256 })) });
    const lines = st.enabled
      ? [
          'SSH Enabled - version 2.0',
          'Authentication methods:publickey,keyboard-interactive,password',
          'Authentication Publickey Algorithms:ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ssh-rsa',
          `Hostkey Algorithms:${keys.map((k) => (k.type === 'rsa' ? 'rsa-sha2-512,rsa-sha2-256,ssh-rsa' : 'ssh-ed25519')).join(',')}`,
          'Encryption Algorithms:chacha20-poly1305@openssh.com,aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr',
          'MAC Algorithms:hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1',
        ]
      : ['SSH Disabled - version 2.0', '%Please create RSA keys to enable SSH (and of atleast 768 bits for SSH v2).'];
    lines.push(
      `Authentication timeout: ${ssh.timeoutSec} secs; Authentication retries: ${ssh.authRetries}`,
      'Minimum expected Diffie Hellman key size : 2048 bits',
      `IOS Keys in SECSH format(ssh-rsa, base64 encoded): ${rsa ? keyName(ctx) : 'NONE'}`,
    );
    if (rsa) lines.push(...(rsa.publicKey.match(/.{1,64}/g) ?? []));
    ctx.print(lines.join('\n'));
  },
});

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show ssh',
  help: { ssh: 'Status of SSH server connections' },
  pipe: true,
  handler(ctx) {
    const sessions = mgmtOf(ctx).sessions().filter((s) => s.ssh);
    ctx.data(sessions);
    const row = (c: string, v: string, m: string, e: string, h: string, st: string, u: string) =>
      `${c.padEnd(10)} ${v.padEnd(7)} ${m.padEnd(4)} ${e.padEnd(28)} ${h.padEnd(28)} ${st.padEnd(21)} ${u}`.trimEnd();
    const out = [row('Connection', 'Version', 'Mode', 'Encryption', 'Hmac', 'State', 'Username')];
    for (const s of sessions) {
      const num = String(s.line.split(' ')[1] ?? 0);
      for (const mode of ['IN', 'OUT']) out.push(row(num, s.ssh!.version, mode, s.ssh!.cipher, s.ssh!.hmac, s.ssh!.state, s.user ?? ''));
    }
    if (sessions.length === 0) out.length = 0;
    out.push('%No SSHv1 server connections running.');
    if (sessions.length === 0) out.unshift('%No SSHv2 server connections running.');
    ctx.print(out.join('\n'));
  },
});
