// Transform tables: configuration names <-> RFC 7296 transform IDs <-> shared crypto helpers,
// and wire proposals built from the configuration.
import {
  EncrId, EsnId, IntegId, PrfId, ProtocolId, TransformType, type Proposal, type Transform,
} from '../../proto/ikev2/index.js';
import {
  createIkeCipher, createInteg, createPrf, isSupportedDhGroup,
  type AeadAlg, type BlockCipherAlg, type IkeCipher, type Integ, type IntegAlg, type Prf, type PrfAlg,
} from '../crypto/index.js';
import type {
  ChildProposalConfig, IkeProposalConfig, Ikev2EncrName, Ikev2IntegName, Ikev2PrfName,
} from './config-types.js';

export const ENCR_FROM_NAME: Record<Ikev2EncrName, Transform> = {
  'aes-cbc-128': { type: TransformType.ENCR, id: EncrId.ENCR_AES_CBC, keyLength: 128 },
  'aes-cbc-192': { type: TransformType.ENCR, id: EncrId.ENCR_AES_CBC, keyLength: 192 },
  'aes-cbc-256': { type: TransformType.ENCR, id: EncrId.ENCR_AES_CBC, keyLength: 256 },
  'aes-gcm-128': { type: TransformType.ENCR, id: EncrId.ENCR_AES_GCM_16, keyLength: 128 },
  'aes-gcm-192': { type: TransformType.ENCR, id: EncrId.ENCR_AES_GCM_16, keyLength: 192 },
  'aes-gcm-256': { type: TransformType.ENCR, id: EncrId.ENCR_AES_GCM_16, keyLength: 256 },
  '3des': { type: TransformType.ENCR, id: EncrId.ENCR_3DES },
  des: { type: TransformType.ENCR, id: EncrId.ENCR_DES },
};

export const INTEG_FROM_NAME: Record<Ikev2IntegName, number> = {
  md5: IntegId.AUTH_HMAC_MD5_96,
  sha1: IntegId.AUTH_HMAC_SHA1_96,
  sha256: IntegId.AUTH_HMAC_SHA2_256_128,
  sha384: IntegId.AUTH_HMAC_SHA2_384_192,
  sha512: IntegId.AUTH_HMAC_SHA2_512_256,
  'aes-xcbc': IntegId.AUTH_AES_XCBC_96,
};

export const PRF_FROM_NAME: Record<Ikev2PrfName, number> = {
  md5: PrfId.PRF_HMAC_MD5,
  sha1: PrfId.PRF_HMAC_SHA1,
  sha256: PrfId.PRF_HMAC_SHA2_256,
  sha384: PrfId.PRF_HMAC_SHA2_384,
  sha512: PrfId.PRF_HMAC_SHA2_512,
  'aes-xcbc': PrfId.PRF_AES128_XCBC,
};

const PRF_ALG: Record<number, PrfAlg> = {
  [PrfId.PRF_HMAC_MD5]: 'hmac-md5',
  [PrfId.PRF_HMAC_SHA1]: 'hmac-sha1',
  [PrfId.PRF_AES128_XCBC]: 'aes128-xcbc',
  [PrfId.PRF_HMAC_SHA2_256]: 'hmac-sha256',
  [PrfId.PRF_HMAC_SHA2_384]: 'hmac-sha384',
  [PrfId.PRF_HMAC_SHA2_512]: 'hmac-sha512',
};

const INTEG_ALG: Record<number, IntegAlg> = {
  [IntegId.AUTH_HMAC_MD5_96]: 'hmac-md5-96',
  [IntegId.AUTH_HMAC_SHA1_96]: 'hmac-sha1-96',
  [IntegId.AUTH_AES_XCBC_96]: 'aes-xcbc-96',
  [IntegId.AUTH_HMAC_SHA2_256_128]: 'hmac-sha256-128',
  [IntegId.AUTH_HMAC_SHA2_384_192]: 'hmac-sha384-192',
  [IntegId.AUTH_HMAC_SHA2_512_256]: 'hmac-sha512-256',
};

/** Crypto helper name of an ENCR transform, or undefined if we cannot do it. */
export function cipherAlgOf(t: Transform): BlockCipherAlg | AeadAlg | undefined {
  switch (t.id) {
    case EncrId.ENCR_DES: return t.keyLength === undefined ? 'des-cbc' : undefined;
    case EncrId.ENCR_3DES: return t.keyLength === undefined ? '3des-cbc' : undefined;
    case EncrId.ENCR_AES_CBC:
      return t.keyLength === 128 || t.keyLength === 192 || t.keyLength === 256 ? `aes${t.keyLength}-cbc` : undefined;
    case EncrId.ENCR_AES_GCM_8:
    case EncrId.ENCR_AES_GCM_12:
    case EncrId.ENCR_AES_GCM_16: {
      const icv = t.id === EncrId.ENCR_AES_GCM_8 ? 8 : t.id === EncrId.ENCR_AES_GCM_12 ? 12 : 16;
      return t.keyLength === 128 || t.keyLength === 192 || t.keyLength === 256 ? `aes${t.keyLength}-gcm${icv}` as AeadAlg : undefined;
    }
    default: return undefined;
  }
}

export function isAeadTransform(t: Transform): boolean {
  return t.id === EncrId.ENCR_AES_GCM_8 || t.id === EncrId.ENCR_AES_GCM_12 || t.id === EncrId.ENCR_AES_GCM_16;
}

export function prfAlgOf(id: number): PrfAlg | undefined {
  return PRF_ALG[id];
}
export function integAlgOf(id: number): IntegAlg | undefined {
  return INTEG_ALG[id];
}

/** Whether this side implements a transform (used to filter what we accept). */
export function isImplemented(protocolId: number, t: Transform): boolean {
  if (t.otherAttributes && t.otherAttributes.length > 0) return false;
  switch (t.type) {
    case TransformType.ENCR: return cipherAlgOf(t) !== undefined;
    case TransformType.PRF: return protocolId === ProtocolId.IKE && t.keyLength === undefined && PRF_ALG[t.id] !== undefined;
    case TransformType.INTEG: return t.keyLength === undefined && (t.id === IntegId.NONE || INTEG_ALG[t.id] !== undefined);
    case TransformType.DH: return t.keyLength === undefined && (t.id === 0 || isSupportedDhGroup(t.id));
    case TransformType.ESN: return protocolId !== ProtocolId.IKE && (t.id === EsnId.NO_ESN || t.id === EsnId.ESN);
    default: return false;
  }
}

const reverse = (o: Record<string, number>): Map<number, string> => new Map(Object.entries(o).map(([k, v]) => [v, k]));
const ENCR_NAMES = reverse(EncrId);
const PRF_NAMES = reverse(PrfId);
const INTEG_NAMES = reverse(IntegId);

/** Human-readable transform name, close to the RFC / IANA names. */
export function transformName(t: Transform): string {
  const kl = t.keyLength !== undefined ? `_${t.keyLength}` : '';
  switch (t.type) {
    case TransformType.ENCR: return (ENCR_NAMES.get(t.id) ?? `ENCR_${t.id}`) + kl;
    case TransformType.PRF: return (PRF_NAMES.get(t.id) ?? `PRF_${t.id}`) + kl;
    case TransformType.INTEG: return t.id === 0 ? 'INTEG_NONE' : (INTEG_NAMES.get(t.id) ?? `AUTH_${t.id}`) + kl;
    case TransformType.DH: return t.id === 0 ? 'DH_NONE' : dhName(t.id);
    case TransformType.ESN: return t.id === 1 ? 'ESN' : t.id === 0 ? 'NO_ESN' : `ESN_${t.id}`;
    default: return `TRANSFORM_${t.type}_${t.id}`;
  }
}

export function dhName(group: number): string {
  const names: Record<number, string> = {
    1: 'MODP_768', 2: 'MODP_1024', 5: 'MODP_1536', 14: 'MODP_2048', 15: 'MODP_3072', 16: 'MODP_4096',
    19: 'ECP_256', 20: 'ECP_384', 21: 'ECP_521', 24: 'MODP_2048_256', 31: 'CURVE_25519',
  };
  return names[group] ?? `DH_${group}`;
}

export const TRANSFORM_TYPE_NAMES: Record<number, string> = {
  [TransformType.ENCR]: 'encryption', [TransformType.PRF]: 'prf', [TransformType.INTEG]: 'integrity',
  [TransformType.DH]: 'dh-group', [TransformType.ESN]: 'esn',
};

const DEFAULT_PRF_FOR_INTEG: Record<Ikev2IntegName, Ikev2PrfName> = {
  md5: 'md5', sha1: 'sha1', sha256: 'sha256', sha384: 'sha384', sha512: 'sha512', 'aes-xcbc': 'aes-xcbc',
};

/** Wire proposals (numbered from 1) for IKE SA negotiation. `spi` is empty for IKE_SA_INIT. */
export function ikeProposalsFromConfig(list: readonly IkeProposalConfig[], spi: Uint8Array = new Uint8Array(0)): Proposal[] {
  return list.map((p, i) => {
    const transforms: Transform[] = [];
    for (const e of p.encryption) transforms.push({ ...ENCR_FROM_NAME[e] });
    const aeadOnly = p.encryption.every((e) => e.startsWith('aes-gcm'));
    const prfs = p.prf && p.prf.length > 0
      ? p.prf
      : (p.integrity && p.integrity.length > 0 ? p.integrity.map((x) => DEFAULT_PRF_FOR_INTEG[x]) : ['sha256' as const]);
    for (const r of [...new Set(prfs)]) transforms.push({ type: TransformType.PRF, id: PRF_FROM_NAME[r] });
    if (!aeadOnly) for (const g of p.integrity ?? []) transforms.push({ type: TransformType.INTEG, id: INTEG_FROM_NAME[g] });
    for (const g of p.dhGroups) transforms.push({ type: TransformType.DH, id: g });
    return { num: i + 1, protocolId: ProtocolId.IKE, spi, transforms };
  });
}

/** Wire proposals for ESP. `pfsGroup` adds a DH transform (CREATE_CHILD_SA with PFS). */
export function childProposalsFromConfig(list: readonly ChildProposalConfig[], spi: Uint8Array, pfsGroup?: number): Proposal[] {
  return list.map((p, i) => {
    const transforms: Transform[] = [];
    for (const e of p.encryption) transforms.push({ ...ENCR_FROM_NAME[e] });
    const aeadOnly = p.encryption.every((e) => e.startsWith('aes-gcm'));
    if (!aeadOnly) for (const g of p.integrity ?? []) transforms.push({ type: TransformType.INTEG, id: INTEG_FROM_NAME[g] });
    if (pfsGroup !== undefined && pfsGroup !== 0) transforms.push({ type: TransformType.DH, id: pfsGroup });
    transforms.push({ type: TransformType.ESN, id: p.esn ? EsnId.ESN : EsnId.NO_ESN });
    return { num: i + 1, protocolId: ProtocolId.ESP, spi, transforms };
  });
}

/** A negotiated IKE SA suite with its crypto objects. */
export interface IkeSuite {
  encr: Transform;
  prf: Transform;
  integ?: Transform;
  dhGroup: number;
  cipher: IkeCipher;
  prfFn: Prf;
  integFn?: Integ;
  /** Bytes of SK_e (incl. the 4-byte salt for AEAD). */
  encrKeyLen: number;
  integKeyLen: number;
}

export function ikeSuiteOf(p: Proposal): IkeSuite {
  const encr = p.transforms.find((t) => t.type === TransformType.ENCR)!;
  const prf = p.transforms.find((t) => t.type === TransformType.PRF)!;
  const integT = p.transforms.find((t) => t.type === TransformType.INTEG && t.id !== 0);
  const dh = p.transforms.find((t) => t.type === TransformType.DH);
  const cipher = createIkeCipher(cipherAlgOf(encr)!);
  const integFn = integT ? createInteg(integAlgOf(integT.id)!) : undefined;
  return {
    encr, prf, ...(integT ? { integ: integT } : {}), dhGroup: dh?.id ?? 0,
    cipher, prfFn: createPrf(prfAlgOf(prf.id)!), ...(integFn ? { integFn } : {}),
    encrKeyLen: cipher.kind === 'aead' ? cipher.keyLen + cipher.saltLen : cipher.keyLen,
    integKeyLen: integFn?.keyLen ?? 0,
  };
}

/** A negotiated Child SA suite, in a form the data plane can install. */
export interface ChildSuite {
  encr: Transform;
  integ?: Transform;
  dhGroup: number;
  esn: boolean;
  /** Crypto helper names (firmware/ike/crypto), e.g. 'aes256-gcm16', 'hmac-sha256-128'. */
  encrAlg: BlockCipherAlg | AeadAlg;
  integAlg?: IntegAlg;
  /** Key bytes per direction: encryption key (+ 4-byte salt for GCM), integrity key. */
  encrKeyLen: number;
  integKeyLen: number;
}

export function childSuiteOf(p: Proposal): ChildSuite {
  const encr = p.transforms.find((t) => t.type === TransformType.ENCR)!;
  const integT = p.transforms.find((t) => t.type === TransformType.INTEG && t.id !== 0);
  const dh = p.transforms.find((t) => t.type === TransformType.DH);
  const esn = p.transforms.find((t) => t.type === TransformType.ESN)?.id === EsnId.ESN;
  const encrAlg = cipherAlgOf(encr)!;
  const cipher = createIkeCipher(encrAlg);
  const integAlg = integT ? integAlgOf(integT.id) : undefined;
  return {
    encr, ...(integT ? { integ: integT } : {}), dhGroup: dh?.id ?? 0, esn, encrAlg,
    ...(integAlg ? { integAlg } : {}),
    encrKeyLen: cipher.kind === 'aead' ? cipher.keyLen + cipher.saltLen : cipher.keyLen,
    integKeyLen: integAlg ? createInteg(integAlg).keyLen : 0,
  };
}
