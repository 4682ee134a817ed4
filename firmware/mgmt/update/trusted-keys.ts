// Public keys an image may be signed with. Several at once, so a signing key can be
// rotated: images signed by the old and the new key both install while both are listed.
// The firmware holds them in its read-only root (/etc/rampart/trusted-keys/*.pub, put
// there by the image build); private keys never enter the repository.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TrustedKey {
  /** first 16 hex digits of SHA-256 over the raw 32-byte key */
  id: string;
  /** file name or label, for messages */
  name: string;
  key: KeyObject;
}

export const TRUSTED_KEYS_DIR = '/etc/rampart/trusted-keys';

/** The raw 32-byte Ed25519 public key of a key object. */
export function rawEd25519(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') throw new Error('not an Ed25519 key');
  return Buffer.from(jwk.x, 'base64url');
}

export function keyId(key: KeyObject): string {
  return createHash('sha256').update(rawEd25519(key)).digest('hex').slice(0, 16);
}

/** A PEM public key (or the public half of a PEM private key) as a trusted key. */
export function trustedKey(pem: string | Buffer, name: string): TrustedKey {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${name}: not an Ed25519 key`);
  return { id: keyId(key), name, key };
}

/** Every `*.pub` PEM file of a folder; a missing folder gives none. */
export function loadTrustedKeys(dir = TRUSTED_KEYS_DIR): TrustedKey[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.pub')).sort();
  } catch {
    return [];
  }
  return names.map((f) => trustedKey(readFileSync(join(dir, f)), f));
}
