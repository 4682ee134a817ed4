// Stored passwords as IOS keeps them. Type 9 is scrypt (N=16384, r=1, p=1, 32-byte key)
// over a 14-character salt, both written in Cisco's base64 alphabet. Type 7 is IOS's
// reversible obfuscation (`service password-encryption`), kept only because configs
// carry it; it protects nothing.
import { createHash, pbkdf2Sync, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

const CISCO_B64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const STD_B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function ciscoBase64(bytes: Uint8Array): string {
  return [...Buffer.from(bytes).toString('base64').replace(/=+$/, '')].map((c) => CISCO_B64[STD_B64.indexOf(c)]).join('');
}

function type9Key(password: string, salt: string): Buffer {
  return scryptSync(password, salt, 32, { N: 16384, r: 1, p: 1 });
}

function randomSalt(): string {
  return [...randomBytes(14)].map((b) => CISCO_B64[b % 64]).join('');
}

export function hashType9(password: string, salt?: string): string {
  const s = salt ?? randomSalt();
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

// Type 8 is PBKDF2-HMAC-SHA256 (20000 iterations, 32-byte key) over the same 14-character
// salt and alphabet as type 9.
function type8Key(password: string, salt: string): Buffer {
  return pbkdf2Sync(password, salt, 20000, 32, 'sha256');
}

export function hashType8(password: string, salt?: string): string {
  const s = salt ?? randomSalt();
  return `$8$${s}$${ciscoBase64(type8Key(password, s))}`;
}

export function isType8(hash: string): boolean {
  return /^\$8\$[./0-9A-Za-z]{14}\$[./0-9A-Za-z]{43}$/.test(hash);
}

// Type 5 is FreeBSD md5crypt (`$1$salt$hash`). Rampart never writes it, but configs
// pasted from older boxes carry it, so it must verify.
export function isType5(hash: string): boolean {
  return /^\$1\$[./0-9A-Za-z]{1,8}\$[./0-9A-Za-z]{22}$/.test(hash);
}

export function md5Crypt(password: string, salt: string): string {
  const pw = Buffer.from(password);
  const s = Buffer.from(salt.slice(0, 8));
  const md5 = (...parts: Buffer[]) => {
    const h = createHash('md5');
    for (const p of parts) h.update(p);
    return h.digest();
  };
  let alt = md5(pw, s, pw);
  const first = createHash('md5').update(pw).update('$1$').update(s);
  for (let left = pw.length; left > 0; left -= 16) first.update(alt.subarray(0, Math.min(16, left)));
  for (let i = pw.length; i > 0; i >>= 1) first.update(i & 1 ? Buffer.from([0]) : pw.subarray(0, 1));
  alt = first.digest();
  for (let i = 0; i < 1000; i++) {
    const parts: Buffer[] = [i & 1 ? pw : alt];
    if (i % 3) parts.push(s);
    if (i % 7) parts.push(pw);
    parts.push(i & 1 ? alt : pw);
    alt = md5(...parts);
  }
  let out = '';
  const to64 = (v: number, n: number) => {
    for (; n > 0; n--, v >>= 6) out += CISCO_B64[v & 0x3f];
  };
  for (const [a, b, c] of [[0, 6, 12], [1, 7, 13], [2, 8, 14], [3, 9, 15], [4, 10, 5]] as const) to64((alt[a]! << 16) | (alt[b]! << 8) | alt[c]!, 4);
  to64(alt[11]!, 2);
  return `$1$${s.toString()}$${out}`;
}

/** Checks a password against a stored type 5, 8 or 9 secret (constant time in the hash). */
export function verifySecret(password: string, stored: string): boolean {
  let computed: string;
  if (isType9(stored)) computed = hashType9(password, stored.slice(3, 17));
  else if (isType8(stored)) computed = hashType8(password, stored.slice(3, 17));
  else if (isType5(stored)) computed = md5Crypt(password, stored.slice(3, stored.lastIndexOf('$')));
  else return false;
  const a = Buffer.from(computed), b = Buffer.from(stored);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The IOS type number of a stored secret, or undefined when it is none of 5, 8, 9. */
export function secretType(stored: string): 5 | 8 | 9 | undefined {
  return isType9(stored) ? 9 : isType8(stored) ? 8 : isType5(stored) ? 5 : undefined;
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
