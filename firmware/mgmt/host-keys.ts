// SSH host keys on flash: one RSA key (`crypto key generate rsa modulus N`) and one
// Ed25519 key, as OpenSSH-format private key files under nvram/. They survive reboots
// and are never part of running-config (IOS keeps them in private NVRAM too).
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import type { HostKeyInfo } from '../cli/mgmt-view.js';

const { utils } = ssh2;

/** The few flash operations the key store needs (the daemon's Flash implements them). */
export interface KeyStorage {
  read(name: string): string | undefined;
  writeAtomic(name: string, text: string): void;
  remove(name: string): void;
}

const FILES: Record<HostKeyInfo['type'], string> = {
  rsa: 'nvram/ssh_host_rsa_key',
  ed25519: 'nvram/ssh_host_ed25519_key',
};

/** The comment field carries the creation time, so `show crypto key` survives a reboot. */
const COMMENT_PREFIX = 'rampart-created-';

export class HostKeys {
  private readonly keys = new Map<HostKeyInfo['type'], { pem: string; info: HostKeyInfo }>();

  constructor(private readonly storage: KeyStorage) {
    for (const type of Object.keys(FILES) as Array<HostKeyInfo['type']>) {
      const pem = storage.read(FILES[type]);
      if (pem === undefined) continue;
      const info = describe(type, pem);
      if (info) this.keys.set(type, { pem, info });
    }
  }

  /** Private keys for the SSH server, RSA first (what IOS offers). */
  privateKeys(): string[] {
    return (['rsa', 'ed25519'] as const).flatMap((t) => (this.keys.has(t) ? [this.keys.get(t)!.pem] : []));
  }

  list(): HostKeyInfo[] {
    return [...this.keys.values()].map((k) => k.info);
  }

  async generate(type: HostKeyInfo['type'], bits: number, now: number): Promise<HostKeyInfo> {
    const comment = `${COMMENT_PREFIX}${now}`;
    // The async form: a 4096-bit RSA key takes a second or more and must not stall the box.
    const pair = await new Promise<{ private: string }>((resolve, reject) => {
      const done = (err: Error | null, kp: { private: string }) => (err ? reject(err) : resolve(kp));
      if (type === 'rsa') utils.generateKeyPair('rsa', { bits, comment }, done);
      else utils.generateKeyPair('ed25519', { comment }, done);
    });
    const info = describe(type, pair.private);
    if (!info) throw new Error('generated key does not parse');
    this.storage.writeAtomic(FILES[type], pair.private);
    this.keys.set(type, { pem: pair.private, info });
    return info;
  }

  zeroize(type?: HostKeyInfo['type']): void {
    for (const t of type ? [type] : (Object.keys(FILES) as Array<HostKeyInfo['type']>)) {
      this.storage.remove(FILES[t]);
      this.keys.delete(t);
    }
  }
}

function describe(type: HostKeyInfo['type'], pem: string): HostKeyInfo | undefined {
  const parsed = utils.parseKey(pem);
  if (parsed instanceof Error) return undefined;
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (!key) return undefined;
  const blob = key.getPublicSSH();
  const created = key.comment.startsWith(COMMENT_PREFIX) ? Number(key.comment.slice(COMMENT_PREFIX.length)) || 0 : 0;
  return {
    type,
    bits: type === 'rsa' ? rsaBits(blob) : 256,
    publicKey: `${key.type} ${blob.toString('base64')}`,
    fingerprintSha256: `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`,
    md5: keyHash(blob),
    created,
  };
}

/** IOS's key-hash: uppercase hex MD5 of the public key blob. */
export function keyHash(blob: Buffer): string {
  return createHash('md5').update(blob).digest('hex').toUpperCase();
}

/** Modulus size of an `ssh-rsa` public key blob (string type, mpint e, mpint n). */
function rsaBits(blob: Buffer): number {
  let off = 0;
  const next = (): Buffer => {
    const len = blob.readUInt32BE(off);
    const v = blob.subarray(off + 4, off + 4 + len);
    off += 4 + len;
    return v;
  };
  next();
  next();
  const n = next();
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  return (n.length - i) * 8 - Math.clz32(n[i] ?? 0) + 24;
}
