// Diffie-Hellman key pairs for IKEv1. Groups 1 and 2 (768/1024-bit MODP) are the ones IOS
// configurations use most, but OpenSSL 3 validates those (non-"named") groups on every new
// DH object, which costs 100-200 ms per key pair here. This keeps one validated node:crypto
// object per group and loads each exchange's private value into it just for the
// (synchronous) computation, so a key pair costs about 1 ms. Every other group is delegated
// to the shared helper in ../crypto/dh.ts.
import { createDiffieHellman, getDiffieHellman, randomBytes, type DiffieHellman } from 'node:crypto';
import { createDh, DhInvalidPublicValueError, type DhKeyPair } from '../crypto/index.js';

const FAST: Record<number, { name: 'modp1' | 'modp2'; len: number }> = { 1: { name: 'modp1', len: 96 }, 2: { name: 'modp2', len: 128 } };
const objects = new Map<number, { dh: DiffieHellman; p: bigint }>();

function shared(group: number): { dh: DiffieHellman; p: bigint } {
  let o = objects.get(group);
  if (!o) {
    const w = getDiffieHellman(FAST[group]!.name);
    const dh = createDiffieHellman(w.getPrime(), w.getGenerator());
    dh.generateKeys(); // pays OpenSSL's parameter check once
    o = { dh, p: BigInt('0x' + w.getPrime().toString('hex')) };
    objects.set(group, o);
  }
  return o;
}

function leftPad(b: Uint8Array, len: number): Uint8Array {
  if (b.length === len) return new Uint8Array(b);
  const out = new Uint8Array(len);
  out.set(b.subarray(Math.max(0, b.length - len)), Math.max(0, len - b.length));
  return out;
}

export function createIkeV1Dh(group: number): DhKeyPair {
  const spec = FAST[group];
  if (!spec) return createDh(group);
  const { dh, p } = shared(group);
  // 256-bit private exponent (well above twice the strength of these groups)
  const x = new Uint8Array(randomBytes(32));
  x[0] |= 0x80;
  dh.setPrivateKey(x);
  dh.generateKeys();
  const publicKey = leftPad(new Uint8Array(dh.getPublicKey()), spec.len);
  return {
    group,
    publicKey,
    computeSecret(peer: Uint8Array): Uint8Array {
      if (peer.length !== spec.len) throw new DhInvalidPublicValueError(group, 'length', `got ${peer.length}, expected ${spec.len}`);
      const y = BigInt('0x' + Buffer.from(peer).toString('hex'));
      if (y <= 1n || y >= p - 1n) throw new DhInvalidPublicValueError(group, 'range');
      dh.setPrivateKey(x);
      return leftPad(new Uint8Array(dh.computeSecret(peer)), spec.len);
    },
  };
}
