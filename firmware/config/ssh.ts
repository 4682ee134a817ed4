// `ip ssh ...`: protocol version, negotiation time-out, authentication retries, and the
// public-key chain (user keys kept as IOS keeps them: the MD5 hash of the key blob).
// The host keys themselves are not configuration: `crypto key generate` writes them to
// flash, and IOS does not show them in running-config either.
import { defineSection } from './model.js';

export interface SshPubkeyUser {
  name: string;
  /** `key-hash ssh-rsa HEX` entries: algorithm and uppercase hex MD5 of the key blob. */
  keys: Array<{ algo: string; hash: string; comment?: string }>;
}

export interface SshConfig {
  /** `ip ssh version 2` (1 is refused: this box speaks SSH 2 only). */
  version?: 2;
  /** Seconds a connection has to authenticate (IOS default 120). */
  timeoutSec: number;
  /** Failed authentications before the connection is closed (IOS default 3). */
  authRetries: number;
  pubkeyUsers: Record<string, SshPubkeyUser>;
}

declare module './model.js' {
  interface Config { ssh: SshConfig }
}

export const SSH_DEFAULT_TIMEOUT_SEC = 120;
export const SSH_DEFAULT_AUTH_RETRIES = 3;

defineSection({
  key: 'ssh',
  order: 450,
  create: () => ({ timeoutSec: SSH_DEFAULT_TIMEOUT_SEC, authRetries: SSH_DEFAULT_AUTH_RETRIES, pubkeyUsers: {} }),
  render: (cfg) => {
    const s = cfg.ssh;
    const out: string[] = [];
    if (s.timeoutSec !== SSH_DEFAULT_TIMEOUT_SEC) out.push(`ip ssh time-out ${s.timeoutSec}`);
    if (s.authRetries !== SSH_DEFAULT_AUTH_RETRIES) out.push(`ip ssh authentication-retries ${s.authRetries}`);
    if (s.version) out.push(`ip ssh version ${s.version}`);
    const users = Object.values(s.pubkeyUsers).sort((a, b) => a.name.localeCompare(b.name));
    if (users.length > 0) {
      out.push('ip ssh pubkey-chain');
      for (const u of users) {
        out.push(`  username ${u.name}`);
        for (const k of u.keys) out.push(`   key-hash ${k.algo} ${k.hash}${k.comment ? ` ${k.comment}` : ''}`);
      }
    }
    return [out];
  },
});
