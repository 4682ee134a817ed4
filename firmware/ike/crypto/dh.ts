// Diffie-Hellman for IKE (shared by IKEv1 and IKEv2).
//
// Groups (IANA "Transform Type 4 - Key Exchange Method Transform IDs"):
//   1  768-bit MODP   (RFC 2409 6.1)        19 256-bit random ECP (RFC 5903, P-256)
//   2  1024-bit MODP  (RFC 2409 6.2)        20 384-bit random ECP (RFC 5903, P-384)
//   5  1536-bit MODP  (RFC 3526 2)          21 521-bit random ECP (RFC 5903, P-521)
//   14 2048-bit MODP  (RFC 3526 3)          24 2048-bit MODP, 256-bit prime order subgroup (RFC 5114 2.3)
//   15 3072-bit MODP  (RFC 3526 4)          31 Curve25519 (RFC 8031)
//   16 4096-bit MODP  (RFC 3526 5)
//
// Wire formats of the public value (the KE payload's Key Exchange Data):
//   MODP: big-endian, left-padded with zeros to the prime's length (RFC 7296 3.4).
//   ECP:  x || y, each left-padded to the field length, no 0x04 prefix (RFC 5903 7).
//         The shared secret is the x coordinate of the shared point.
//   Curve25519: the 32-byte u coordinate as in RFC 7748; the all-zero result is refused (RFC 8031 2).
import {
  createDiffieHellman, createECDH, createPrivateKey, createPublicKey, diffieHellman,
  generateKeyPairSync, getDiffieHellman, randomBytes, type KeyObject,
} from 'node:crypto';
import { DhInvalidPublicValueError, DhUnsupportedGroupError } from './errors.js';

/** One side of a Diffie-Hellman exchange. `publicKey` is in the IKE wire format. */
export interface DhKeyPair {
  readonly group: number;
  readonly publicKey: Uint8Array;
  /** Validates `peer` (length, range, on-curve / subgroup) and returns the shared secret g^ir.
   *  Throws DhInvalidPublicValueError. */
  computeSecret(peer: Uint8Array): Uint8Array;
}

export interface CreateDhOptions {
  /** Fixed private value for known-answer tests (big-endian scalar / RFC 7748 scalar). Never set in production. */
  privateKey?: Uint8Array;
}

/** Group numbers implemented here. */
export const SUPPORTED_DH_GROUPS: readonly number[] = [1, 2, 5, 14, 15, 16, 19, 20, 21, 24, 31];

/** Length in bytes of the public value for a group (the KE payload data length). */
export function dhPublicKeyLength(group: number): number {
  const spec = SPECS.get(group);
  if (!spec) throw new DhUnsupportedGroupError(group);
  return spec.publicLen;
}

export function isSupportedDhGroup(group: number): boolean {
  return SPECS.has(group);
}

/** Create a fresh key pair for `group`. Throws DhUnsupportedGroupError. */
export function createDh(group: number, opts: CreateDhOptions = {}): DhKeyPair {
  const spec = SPECS.get(group);
  if (!spec) throw new DhUnsupportedGroupError(group);
  switch (spec.kind) {
    case 'modp': return modpPair(group, spec, opts);
    case 'ecp': return ecpPair(group, spec, opts);
    case 'x25519': return x25519Pair(group, opts);
  }
}

// ---------------------------------------------------------------------------------------

interface ModpSpec { kind: 'modp'; publicLen: number; readonly prime: Uint8Array; generator: Uint8Array; q?: bigint }
interface EcpSpec { kind: 'ecp'; publicLen: number; curve: string; fieldLen: number; p: bigint }
interface X25519Spec { kind: 'x25519'; publicLen: number }
type Spec = ModpSpec | EcpSpec | X25519Spec;

// RFC 5114 2.3: 2048-bit MODP group with 256-bit prime order subgroup.
const RFC5114_P =
  '87A8E61DB4B6663CFFBBD19C651959998CEEF608660DD0F25D2CEED4435E3B00E00DF8F1D61957D4FAF7DF4561B2AA30' +
  '16C3D91134096FAA3BF4296D830E9A7C209E0C6497517ABD5A8A9D306BCF67ED91F9E6725B4758C022E0B1EF4275BF7B' +
  '6C5BFC11D45F9088B941F54EB1E59BB8BC39A0BF12307F5C4FDB70C581B23F76B63ACAE1CAA6B7902D52526735488A0E' +
  'F13C6D9A51BFA4AB3AD8347796524D8EF6A167B5A41825D967E144E5140564251CCACB83E6B486F6B3CA3F7971506026' +
  'C0B857F689962856DED4010ABD0BE621C3A3960A54E710C375F26375D7014103A4B54330C198AF126116D2276E11715F' +
  '693877FAD7EF09CADB094AE91E1A1597';
const RFC5114_G =
  '3FB32C9B73134D0B2E77506660EDBD484CA7B18F21EF205407F4793A1A0BA12510DBC15077BE463FFF4FED4AAC0BB555' +
  'BE3A6C1B0C6B47B1BC3773BF7E8C6F62901228F8C28CBB18A55AE31341000A650196F931C77A57F2DDF463E5E9EC144B' +
  '777DE62AAAB8A8628AC376D282D6ED3864E67982428EBC831D14348F6F2F9193B5045AF2767164E1DFC967C1FB3F2E55' +
  'A4BD1BFFE83B9C80D052B985D182EA0ADB2A3B7313D3FE14C8484B1E052588B9B7D2BBD2DF016199ECD06E1557CD0915' +
  'B3353BBB64E0EC377FD028370DF92B52C7891428CDC67EB6184B523D1DB246C32F63078490F00EF8D647D148D4795451' +
  '5E2327CFEF98C582664B4C0F6CC41659';
const RFC5114_Q = '8CF83642A709A097B447997640129DA299B1A47D1EB3750BA308B0FE64F5FBD3';

// The RFC 2409 / 3526 MODP primes are the well-known groups built into OpenSSL/Node
// ('modp1' = IKE group 1, ...), all with generator 2.
// Looking a group up costs tens of milliseconds, so it happens on first use only.
function wellKnown(name: string, publicLen: number): ModpSpec {
  let prime: Uint8Array | undefined;
  return {
    kind: 'modp', publicLen, generator: Uint8Array.of(2),
    get prime(): Uint8Array {
      prime ??= new Uint8Array(getDiffieHellman(name).getPrime());
      return prime;
    },
  };
}

const P256 = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn;
const P384 = (1n << 384n) - (1n << 128n) - (1n << 96n) + (1n << 32n) - 1n;
const P521 = (1n << 521n) - 1n;

const SPECS = new Map<number, Spec>();
function fillSpecs(): void {
  SPECS.set(1, wellKnown('modp1', 96));
  SPECS.set(2, wellKnown('modp2', 128));
  SPECS.set(5, wellKnown('modp5', 192));
  SPECS.set(14, wellKnown('modp14', 256));
  SPECS.set(15, wellKnown('modp15', 384));
  SPECS.set(16, wellKnown('modp16', 512));
  SPECS.set(24, {
    kind: 'modp', publicLen: 256, prime: hex(RFC5114_P), generator: hex(RFC5114_G), q: BigInt('0x' + RFC5114_Q),
  });
  SPECS.set(19, { kind: 'ecp', publicLen: 64, curve: 'prime256v1', fieldLen: 32, p: P256 });
  SPECS.set(20, { kind: 'ecp', publicLen: 96, curve: 'secp384r1', fieldLen: 48, p: P384 });
  SPECS.set(21, { kind: 'ecp', publicLen: 132, curve: 'secp521r1', fieldLen: 66, p: P521 });
  SPECS.set(31, { kind: 'x25519', publicLen: 32 });
}
fillSpecs();

function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

function toBig(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b).toString('hex'));
}

function fromBig(v: bigint, len: number): Uint8Array {
  const h = v.toString(16).padStart(len * 2, '0');
  return hex(h);
}

function leftPad(b: Uint8Array, len: number): Uint8Array {
  if (b.length === len) return new Uint8Array(b);
  const out = new Uint8Array(len);
  out.set(b.subarray(Math.max(0, b.length - len)), Math.max(0, len - b.length));
  return out;
}

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let e = exp;
  while (e > 0n) {
    if (e & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= 1n;
  }
  return result;
}

function modpPair(group: number, spec: ModpSpec, opts: CreateDhOptions): DhKeyPair {
  const dh = createDiffieHellman(spec.prime, spec.generator);
  if (opts.privateKey) {
    dh.setPrivateKey(opts.privateKey);
  } else if (spec.q !== undefined) {
    // RFC 5114 group: private value in [1, q-1] (a 256-bit exponent).
    let x = 0n;
    while (x < 1n || x >= spec.q) x = toBig(randomBytes(32));
    dh.setPrivateKey(fromBig(x, 32));
  }
  dh.generateKeys();
  const len = spec.publicLen;
  const p = toBig(spec.prime);
  const publicKey = leftPad(new Uint8Array(dh.getPublicKey()), len);
  return {
    group,
    publicKey,
    computeSecret(peer: Uint8Array): Uint8Array {
      if (peer.length !== len) throw new DhInvalidPublicValueError(group, 'length', `got ${peer.length}, expected ${len}`);
      const y = toBig(peer);
      // RFC 7296 / NIST SP 800-56A: 1 < y < p-1.
      if (y <= 1n || y >= p - 1n) throw new DhInvalidPublicValueError(group, 'range');
      if (spec.q !== undefined && modPow(y, spec.q, p) !== 1n) throw new DhInvalidPublicValueError(group, 'subgroup');
      return leftPad(new Uint8Array(dh.computeSecret(peer)), len);
    },
  };
}

function ecpPair(group: number, spec: EcpSpec, opts: CreateDhOptions): DhKeyPair {
  const ecdh = createECDH(spec.curve);
  if (opts.privateKey) ecdh.setPrivateKey(leftPad(opts.privateKey, spec.fieldLen));
  else ecdh.generateKeys();
  const uncompressed = new Uint8Array(ecdh.getPublicKey()); // 0x04 || x || y
  const publicKey = uncompressed.slice(1);
  return {
    group,
    publicKey,
    computeSecret(peer: Uint8Array): Uint8Array {
      if (peer.length !== spec.publicLen) {
        throw new DhInvalidPublicValueError(group, 'length', `got ${peer.length}, expected ${spec.publicLen}`);
      }
      const x = toBig(peer.subarray(0, spec.fieldLen));
      const y = toBig(peer.subarray(spec.fieldLen));
      if (x >= spec.p || y >= spec.p) throw new DhInvalidPublicValueError(group, 'range');
      const point = new Uint8Array(1 + peer.length);
      point[0] = 4;
      point.set(peer, 1);
      try {
        return leftPad(new Uint8Array(ecdh.computeSecret(point)), spec.fieldLen);
      } catch {
        throw new DhInvalidPublicValueError(group, 'not-on-curve');
      }
    },
  };
}

// DER wrappers (RFC 8410) to import raw X25519 keys into node:crypto.
const X25519_PKCS8_PREFIX = hex('302e020100300506032b656e04220420');
const X25519_SPKI_PREFIX = hex('302a300506032b656e032100');

function concat(a: Uint8Array, b: Uint8Array): Buffer {
  return Buffer.concat([a, b]);
}

function x25519Pair(group: number, opts: CreateDhOptions): DhKeyPair {
  let privateKey: KeyObject;
  let spki: Uint8Array;
  if (opts.privateKey) {
    if (opts.privateKey.length !== 32) throw new DhInvalidPublicValueError(group, 'length', 'private scalar must be 32 bytes');
    privateKey = createPrivateKey({ key: concat(X25519_PKCS8_PREFIX, opts.privateKey), format: 'der', type: 'pkcs8' });
    spki = new Uint8Array(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
  } else {
    const pair = generateKeyPairSync('x25519');
    privateKey = pair.privateKey;
    spki = new Uint8Array(pair.publicKey.export({ format: 'der', type: 'spki' }));
  }
  const publicKey = spki.slice(spki.length - 32);
  return {
    group,
    publicKey,
    computeSecret(peer: Uint8Array): Uint8Array {
      if (peer.length !== 32) throw new DhInvalidPublicValueError(group, 'length', `got ${peer.length}, expected 32`);
      const pub = createPublicKey({ key: concat(X25519_SPKI_PREFIX, peer), format: 'der', type: 'spki' });
      let secret: Uint8Array;
      try {
        secret = new Uint8Array(diffieHellman({ privateKey, publicKey: pub }));
      } catch {
        // OpenSSL refuses low-order points itself (all-zero result).
        throw new DhInvalidPublicValueError(group, 'zero-secret');
      }
      if (secret.every((b) => b === 0)) throw new DhInvalidPublicValueError(group, 'zero-secret');
      return secret;
    },
  };
}
