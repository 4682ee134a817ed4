// Stored passwords as IOS keeps them. Type 9 is scrypt (N=16384, r=1, p=1, 32-byte key)
// over a 14-character salt, both written in Cisco's base64 alphabet. Type 7 is IOS's
// reversible obfuscation (`service password-encryption`), kept only because configs
// carry it; it protects nothing.
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const CISCO_B64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const STD_B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function ciscoBase64(bytes: Uint8Array): string {
  return [...Buffer.from(bytes).toString('base64').replace(/=+$/, '')].map((c) => CISCO_B64[STD_B64.indexOf(c)]).join('');
}

function type9Key(password: string, salt: string): Buffer {
  return scryptSync(password, salt, 32, { N: 16384, r: 1, p: 1 });
}

export function hashType9(password: string, salt?: string): string {
  const s = salt ?? [...randomBytes(14)].map((b) => CISCO_B64[b % 64]).join('');
  return `$9$${s}$${ciscoBase64(type9Key(password, s))}`;
}

export function isType9(hash: string): boolean {
  return /^\$9\$[./0-9A-Za-z]{14}\$[./0-9A-Za-z]{43}$/.test(hash);
}

export function verifyType9(password: string, hash: string): boolean {
  if (!isType9(hash)) return false;
  const salt = hash.slice(3, 17);
  const expected = Buffer.from(hashType9(password, salt));
  const given = Buffer.from(hash);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

// The type 7 key table is public knowledge; the scheme is XOR with it from a seed offset.
const TYPE7_KEY = 'dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87';

export function encodeType7(plain: string, seed = Math.floor(Math.random() * 16)): string {
  let out = seed.toString().padStart(2, '0');
  for (let i = 0; i < plain.length; i++) {
    out += (plain.charCodeAt(i) ^ TYPE7_KEY.charCodeAt((seed + i) % TYPE7_KEY.length)).toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

export function decodeType7(encoded: string): string | undefined {
  if (!/^\d\d([0-9A-Fa-f]{2})*$/.test(encoded)) return undefined;
  const seed = Number(encoded.slice(0, 2));
  if (seed > 52) return undefined;
  let out = '';
  for (let i = 2, j = 0; i < encoded.length; i += 2, j++) {
    out += String.fromCharCode(parseInt(encoded.slice(i, i + 2), 16) ^ TYPE7_KEY.charCodeAt((seed + j) % TYPE7_KEY.length));
  }
  return out;
}
