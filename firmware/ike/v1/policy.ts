// Phase-1 (ISAKMP policy) and phase-2 (transform set) proposal building and matching, as IOS
// does it:
//  * The initiator offers its ISAKMP policies in priority order (lowest number first), one
//    transform per policy in a single proposal, followed by the default policies when enabled.
//  * The responder walks ITS OWN policies in priority order and accepts the first one that
//    matches any offered transform: same encryption (incl. key length), hash, authentication
//    method and DH group, and the offered lifetime is less than or equal to its own
//    (Cisco's "Configuring Internet Key Exchange for IPsec VPNs": "the remote peer's policy
//    specifies a lifetime that is less than or equal to the lifetime in the policy being
//    compared"; the shorter, offered lifetime is then used).
//  * Quick Mode: the initiator offers the crypto map's transform sets in order, one proposal
//    each; the responder accepts the first offered proposal that equals one of its own sets.
import {
  AuthMethod, DOI_IPSEC, EncapsulationMode, IpsecAttr, KEY_IKE, LifeType, Phase1Attr, PayloadType,
  ProtocolId, SIT_IDENTITY_ONLY, attrNumber, tlvNumber, tv,
  type DataAttribute, type Proposal, type SaPayload, type Transform,
} from '../../proto/ikev1/index.js';
import {
  espCipherById, espCipherByName, hmacByAhTransformId, hmacByAuthAlgorithm, hmacByName,
  ikeEncryptionByAttr, ikeEncryptionByName, ikeHashByAttr, ikeHashByName,
  type EspCipherName, type IkeAuthName, type IkeEncryptionName, type IkeHashName, type IpsecHmacName,
} from './algorithms.js';

/** RFC 2409 4.5: lifetime when none is proposed is 8 hours. */
export const RFC2409_DEFAULT_LIFETIME_SEC = 28800;

export interface IsakmpPolicy {
  priority: number;
  encryption: IkeEncryptionName;
  hash: IkeHashName;
  authentication: IkeAuthName;
  group: number;
  lifetimeSec: number;
}

/**
 * IOS default protection suites (`show crypto isakmp default policy`), offered after the
 * configured ones unless `no crypto isakmp default policy`.
 */
export const IOS_DEFAULT_ISAKMP_POLICIES: readonly IsakmpPolicy[] = [
  { priority: 65507, encryption: 'aes128', hash: 'sha', authentication: 'rsa-sig', group: 5, lifetimeSec: 86400 },
  { priority: 65508, encryption: 'aes128', hash: 'sha', authentication: 'pre-share', group: 5, lifetimeSec: 86400 },
  { priority: 65509, encryption: 'aes128', hash: 'md5', authentication: 'rsa-sig', group: 5, lifetimeSec: 86400 },
  { priority: 65510, encryption: 'aes128', hash: 'md5', authentication: 'pre-share', group: 5, lifetimeSec: 86400 },
  { priority: 65511, encryption: '3des', hash: 'sha', authentication: 'rsa-sig', group: 2, lifetimeSec: 86400 },
  { priority: 65512, encryption: '3des', hash: 'sha', authentication: 'pre-share', group: 2, lifetimeSec: 86400 },
  { priority: 65513, encryption: '3des', hash: 'md5', authentication: 'rsa-sig', group: 2, lifetimeSec: 86400 },
  { priority: 65514, encryption: '3des', hash: 'md5', authentication: 'pre-share', group: 2, lifetimeSec: 86400 },
];

const AUTH_VALUES: Record<IkeAuthName, number> = {
  'pre-share': AuthMethod.PRE_SHARED_KEY,
  'rsa-sig': AuthMethod.RSA_SIGNATURES,
  'rsa-encr': AuthMethod.RSA_ENCRYPTION,
};

/** Sorts by priority and, with `withDefaults`, appends the IOS default suites. */
export function effectivePolicies(policies: readonly IsakmpPolicy[], withDefaults: boolean): IsakmpPolicy[] {
  const out = [...policies].sort((a, b) => a.priority - b.priority);
  if (withDefaults) out.push(...IOS_DEFAULT_ISAKMP_POLICIES);
  return out;
}

function phase1Attributes(p: IsakmpPolicy): DataAttribute[] {
  const enc = ikeEncryptionByName(p.encryption);
  const attrs: DataAttribute[] = [tv(Phase1Attr.ENCRYPTION_ALGORITHM, enc.algorithm)];
  if (enc.keyLenBits !== undefined) attrs.push(tv(Phase1Attr.KEY_LENGTH, enc.keyLenBits));
  attrs.push(
    tv(Phase1Attr.HASH_ALGORITHM, ikeHashByName(p.hash).algorithm),
    tv(Phase1Attr.AUTHENTICATION_METHOD, AUTH_VALUES[p.authentication]),
    tv(Phase1Attr.GROUP_DESCRIPTION, p.group),
    tv(Phase1Attr.LIFE_TYPE, LifeType.SECONDS),
    tlvNumber(Phase1Attr.LIFE_DURATION, p.lifetimeSec),
  );
  return attrs;
}

/** The initiator's phase-1 SA payload: one ISAKMP proposal, one transform per policy, in order. */
export function buildPhase1Sa(policies: readonly IsakmpPolicy[]): SaPayload {
  if (policies.length === 0 || policies.length > 255) throw new RangeError('need 1..255 ISAKMP policies');
  return {
    type: PayloadType.SA,
    doi: DOI_IPSEC,
    situation: SIT_IDENTITY_ONLY,
    proposals: [{
      proposalNumber: 1,
      protocolId: ProtocolId.PROTO_ISAKMP,
      spi: new Uint8Array(0),
      transforms: policies.map((p, i) => ({ transformNumber: i + 1, transformId: KEY_IKE, attributes: phase1Attributes(p) })),
    }],
  };
}

/** Negotiated phase-1 parameters. */
export interface Phase1Params {
  encryption: IkeEncryptionName;
  hash: IkeHashName;
  authentication: IkeAuthName | 'other';
  group: number;
  lifetimeSec: number;
  /** kilobytes lifetime if the peer proposed one (IOS ignores it) */
  lifetimeKb?: number;
}

export type ParsedPhase1 = { ok: true; params: Phase1Params } | { ok: false; reason: string };

/** Reads one phase-1 transform's attributes. */
export function parsePhase1Transform(t: Transform): ParsedPhase1 {
  if (t.transformId !== KEY_IKE) return { ok: false, reason: `transform id ${t.transformId} is not KEY_IKE` };
  let encAlg: number | undefined;
  let keyLen: number | undefined;
  let hashAlg: number | undefined;
  let auth: number | undefined;
  let group: number | undefined;
  let lifeType: number | undefined;
  let lifetimeSec: number | undefined;
  let lifetimeKb: number | undefined;
  for (const a of t.attributes) {
    const v = attrNumber(a);
    switch (a.type) {
      case Phase1Attr.ENCRYPTION_ALGORITHM: encAlg = v; break;
      case Phase1Attr.KEY_LENGTH: keyLen = v; break;
      case Phase1Attr.HASH_ALGORITHM: hashAlg = v; break;
      case Phase1Attr.AUTHENTICATION_METHOD: auth = v; break;
      case Phase1Attr.GROUP_DESCRIPTION: group = v; break;
      case Phase1Attr.LIFE_TYPE: lifeType = v; break;
      case Phase1Attr.LIFE_DURATION:
        if (lifeType === LifeType.SECONDS) lifetimeSec = v;
        else if (lifeType === LifeType.KILOBYTES) lifetimeKb = v;
        else return { ok: false, reason: 'life duration without life type' };
        break;
      case Phase1Attr.GROUP_TYPE: case Phase1Attr.GROUP_PRIME: case Phase1Attr.GROUP_GENERATOR_ONE:
      case Phase1Attr.GROUP_GENERATOR_TWO: case Phase1Attr.GROUP_CURVE_A: case Phase1Attr.GROUP_CURVE_B:
      case Phase1Attr.GROUP_ORDER: case Phase1Attr.FIELD_SIZE:
        return { ok: false, reason: 'private groups not supported' };
      case Phase1Attr.PRF:
        return { ok: false, reason: 'PRF attribute not supported' };
      default:
        return { ok: false, reason: `unknown attribute ${a.type}` };
    }
  }
  if (encAlg === undefined || hashAlg === undefined || auth === undefined || group === undefined) {
    return { ok: false, reason: 'mandatory attribute missing' };
  }
  const enc = ikeEncryptionByAttr(encAlg, keyLen);
  if (!enc) return { ok: false, reason: `encryption ${encAlg}/${keyLen ?? '-'} not supported` };
  const h = ikeHashByAttr(hashAlg);
  if (!h) return { ok: false, reason: `hash ${hashAlg} not supported` };
  const authName = (Object.keys(AUTH_VALUES) as IkeAuthName[]).find((k) => AUTH_VALUES[k] === auth) ?? 'other';
  return {
    ok: true,
    params: {
      encryption: enc.name,
      hash: h.name,
      authentication: authName,
      group,
      lifetimeSec: lifetimeSec ?? RFC2409_DEFAULT_LIFETIME_SEC,
      ...(lifetimeKb !== undefined ? { lifetimeKb } : {}),
    },
  };
}

export interface Phase1Choice {
  /** the responder's policy that matched */
  policy: IsakmpPolicy;
  params: Phase1Params;
  /** the SA payload to send back: the accepted transform, unchanged, in a single proposal */
  sa: SaPayload;
}

/**
 * Responder: first local policy (priority order) that matches any offered transform.
 * `supportedGroups` filters groups that cannot be computed.
 */
export function selectPhase1(
  offered: SaPayload,
  localPolicies: readonly IsakmpPolicy[],
  isSupportedGroup: (g: number) => boolean,
): Phase1Choice | { reason: string } {
  const isakmpProposals = offered.proposals.filter((p) => p.protocolId === ProtocolId.PROTO_ISAKMP);
  if (isakmpProposals.length === 0) return { reason: 'no ISAKMP proposal' };
  const candidates: { proposal: Proposal; transform: Transform; params: Phase1Params }[] = [];
  for (const pr of isakmpProposals) {
    for (const t of pr.transforms) {
      const parsed = parsePhase1Transform(t);
      if (parsed.ok) candidates.push({ proposal: pr, transform: t, params: parsed.params });
    }
  }
  for (const pol of localPolicies) {
    if (pol.authentication !== 'pre-share') continue; // only PSK is implemented
    if (!isSupportedGroup(pol.group)) continue;
    for (const c of candidates) {
      const p = c.params;
      if (p.encryption !== pol.encryption || p.hash !== pol.hash || p.authentication !== pol.authentication || p.group !== pol.group) continue;
      if (p.lifetimeSec > pol.lifetimeSec) continue;
      return {
        policy: pol,
        params: p,
        sa: {
          type: PayloadType.SA,
          doi: DOI_IPSEC,
          situation: SIT_IDENTITY_ONLY,
          proposals: [{ proposalNumber: c.proposal.proposalNumber, protocolId: ProtocolId.PROTO_ISAKMP, spi: new Uint8Array(0), transforms: [c.transform] }],
        },
      };
    }
  }
  return { reason: 'no offered transform matches a local policy' };
}

/** Initiator: checks the responder's answer is exactly one of the offered transforms. */
export function acceptPhase1Reply(reply: SaPayload, offeredPolicies: readonly IsakmpPolicy[]): Phase1Params | { reason: string } {
  if (reply.proposals.length !== 1 || reply.proposals[0]!.transforms.length !== 1) return { reason: 'reply must hold one transform' };
  const parsed = parsePhase1Transform(reply.proposals[0]!.transforms[0]!);
  if (!parsed.ok) return { reason: parsed.reason };
  const p = parsed.params;
  const match = offeredPolicies.find((o) => o.encryption === p.encryption && o.hash === p.hash && o.authentication === p.authentication && o.group === p.group && p.lifetimeSec <= o.lifetimeSec);
  if (!match) return { reason: 'reply is not one of the offered transforms' };
  return p;
}

// ---------------------------------------------------------------- Quick Mode

export interface TransformSet {
  name: string;
  esp?: { cipher: EspCipherName; keyLenBits?: number; integrity?: IpsecHmacName };
  ah?: { integrity: IpsecHmacName };
  mode: 'tunnel' | 'transport';
}

/** What a quick-mode proposal carries, after parsing. */
export interface IpsecProposalParams {
  esp?: { cipher: EspCipherName; keyLenBits?: number; integrity?: IpsecHmacName; spi: Uint8Array };
  ah?: { integrity: IpsecHmacName; spi: Uint8Array };
  mode: 'tunnel' | 'transport';
  udpEncap: boolean;
  /** the encapsulation mode value on the wire (1, 2, 3, 4, 61443, 61444) */
  encapsulationValue: number;
  pfsGroup?: number;
  lifetimeSec?: number;
  lifetimeKb?: number;
}

export function encapsulationValue(mode: 'tunnel' | 'transport', udpEncap: boolean, rfc3947: boolean): number {
  if (!udpEncap) return mode === 'tunnel' ? EncapsulationMode.TUNNEL : EncapsulationMode.TRANSPORT;
  if (rfc3947) return mode === 'tunnel' ? EncapsulationMode.UDP_ENCAPSULATED_TUNNEL : EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT;
  return mode === 'tunnel' ? EncapsulationMode.UDP_ENCAPSULATED_TUNNEL_DRAFT : EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT_DRAFT;
}

export function decodeEncapsulation(v: number): { mode: 'tunnel' | 'transport'; udpEncap: boolean } | undefined {
  switch (v) {
    case EncapsulationMode.TUNNEL: return { mode: 'tunnel', udpEncap: false };
    case EncapsulationMode.TRANSPORT: return { mode: 'transport', udpEncap: false };
    case EncapsulationMode.UDP_ENCAPSULATED_TUNNEL:
    case EncapsulationMode.UDP_ENCAPSULATED_TUNNEL_DRAFT: return { mode: 'tunnel', udpEncap: true };
    case EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT:
    case EncapsulationMode.UDP_ENCAPSULATED_TRANSPORT_DRAFT: return { mode: 'transport', udpEncap: true };
    default: return undefined;
  }
}

export interface QuickModeOfferOptions {
  espSpi: Uint8Array;
  ahSpi: Uint8Array;
  pfsGroup?: number;
  lifetimeSec?: number;
  lifetimeKb?: number;
  udpEncap: boolean;
  rfc3947: boolean;
}

function ipsecCommonAttrs(o: QuickModeOfferOptions, encap: number, integrity?: IpsecHmacName): DataAttribute[] {
  const a: DataAttribute[] = [];
  if (o.lifetimeSec !== undefined) a.push(tv(IpsecAttr.SA_LIFE_TYPE, LifeType.SECONDS), tlvNumber(IpsecAttr.SA_LIFE_DURATION, o.lifetimeSec));
  if (o.lifetimeKb !== undefined) a.push(tv(IpsecAttr.SA_LIFE_TYPE, LifeType.KILOBYTES), tlvNumber(IpsecAttr.SA_LIFE_DURATION, o.lifetimeKb));
  a.push(tv(IpsecAttr.ENCAPSULATION_MODE, encap));
  if (integrity) a.push(tv(IpsecAttr.AUTHENTICATION_ALGORITHM, hmacByName(integrity).authAlgorithm));
  if (o.pfsGroup !== undefined) a.push(tv(IpsecAttr.GROUP_DESCRIPTION, o.pfsGroup));
  return a;
}

/** Initiator's quick-mode SA: one proposal number per transform set, in order (AH and ESP of a set share the number). */
export function buildQuickModeSa(sets: readonly TransformSet[], o: QuickModeOfferOptions): SaPayload {
  if (sets.length === 0 || sets.length > 255) throw new RangeError('need 1..255 transform sets');
  const proposals: Proposal[] = [];
  sets.forEach((ts, i) => {
    const encap = encapsulationValue(ts.mode, o.udpEncap, o.rfc3947);
    if (ts.ah) {
      proposals.push({
        proposalNumber: i + 1,
        protocolId: ProtocolId.PROTO_IPSEC_AH,
        spi: o.ahSpi,
        transforms: [{ transformNumber: 1, transformId: hmacByName(ts.ah.integrity).ahTransformId, attributes: ipsecCommonAttrs(o, encap, ts.ah.integrity) }],
      });
    }
    if (ts.esp) {
      const c = espCipherByName(ts.esp.cipher);
      const attrs = ipsecCommonAttrs(o, encap, ts.esp.integrity);
      if (c.variableKey) attrs.push(tv(IpsecAttr.KEY_LENGTH, ts.esp.keyLenBits ?? 128));
      proposals.push({
        proposalNumber: i + 1,
        protocolId: ProtocolId.PROTO_IPSEC_ESP,
        spi: o.espSpi,
        transforms: [{ transformNumber: 1, transformId: c.transformId, attributes: attrs }],
      });
    }
  });
  return { type: PayloadType.SA, doi: DOI_IPSEC, situation: SIT_IDENTITY_ONLY, proposals };
}

interface ParsedIpsecTransform {
  mode: 'tunnel' | 'transport';
  udpEncap: boolean;
  encapsulationValue: number;
  integrity?: IpsecHmacName;
  keyLenBits?: number;
  pfsGroup?: number;
  lifetimeSec?: number;
  lifetimeKb?: number;
}

function parseIpsecAttrs(t: Transform): ParsedIpsecTransform | undefined {
  let lifeType: number | undefined;
  const r: Partial<ParsedIpsecTransform> & { encap?: number; auth?: number } = {};
  for (const a of t.attributes) {
    const v = attrNumber(a);
    if (v === undefined) return undefined;
    switch (a.type) {
      case IpsecAttr.SA_LIFE_TYPE: lifeType = v; break;
      case IpsecAttr.SA_LIFE_DURATION:
        if (lifeType === LifeType.SECONDS) r.lifetimeSec = v;
        else if (lifeType === LifeType.KILOBYTES) r.lifetimeKb = v;
        else return undefined;
        break;
      case IpsecAttr.GROUP_DESCRIPTION: r.pfsGroup = v; break;
      case IpsecAttr.ENCAPSULATION_MODE: r.encap = v; break;
      case IpsecAttr.AUTHENTICATION_ALGORITHM: r.auth = v; break;
      case IpsecAttr.KEY_LENGTH: r.keyLenBits = v; break;
      default: return undefined; // key rounds, compression, ESN...: not supported
    }
  }
  const enc = decodeEncapsulation(r.encap ?? 1);
  if (!enc) return undefined;
  let integrity: IpsecHmacName | undefined;
  if (r.auth !== undefined) {
    const h = hmacByAuthAlgorithm(r.auth);
    if (!h) return undefined;
    integrity = h.name;
  }
  return {
    mode: enc.mode,
    udpEncap: enc.udpEncap,
    encapsulationValue: r.encap ?? 1,
    ...(integrity ? { integrity } : {}),
    ...(r.keyLenBits !== undefined ? { keyLenBits: r.keyLenBits } : {}),
    ...(r.pfsGroup !== undefined ? { pfsGroup: r.pfsGroup } : {}),
    ...(r.lifetimeSec !== undefined ? { lifetimeSec: r.lifetimeSec } : {}),
    ...(r.lifetimeKb !== undefined ? { lifetimeKb: r.lifetimeKb } : {}),
  };
}

/** One offered alternative: the proposals sharing a proposal number (AND), each with one chosen transform. */
export interface OfferedAlternative {
  proposalNumber: number;
  /** one entry per protocol; `transforms` lists the alternatives (OR) */
  proposals: Proposal[];
}

export function groupProposals(sa: SaPayload): OfferedAlternative[] {
  const out: OfferedAlternative[] = [];
  for (const p of sa.proposals) {
    const last = out[out.length - 1];
    if (last && last.proposalNumber === p.proposalNumber) last.proposals.push(p);
    else out.push({ proposalNumber: p.proposalNumber, proposals: [p] });
  }
  return out;
}

/** Parses one (protocol proposal, transform) pair into params, or undefined if unsupported. */
function parseIpsecTransform(p: Proposal, t: Transform): { params: IpsecProposalParams } | undefined {
  if (p.spi.length !== 4) return undefined;
  const a = parseIpsecAttrs(t);
  if (!a) return undefined;
  const base = {
    mode: a.mode,
    udpEncap: a.udpEncap,
    encapsulationValue: a.encapsulationValue,
    ...(a.pfsGroup !== undefined ? { pfsGroup: a.pfsGroup } : {}),
    ...(a.lifetimeSec !== undefined ? { lifetimeSec: a.lifetimeSec } : {}),
    ...(a.lifetimeKb !== undefined ? { lifetimeKb: a.lifetimeKb } : {}),
  };
  if (p.protocolId === ProtocolId.PROTO_IPSEC_ESP) {
    const c = espCipherById(t.transformId);
    if (!c) return undefined;
    if (c.variableKey && a.keyLenBits === undefined) return undefined;
    if (c.variableKey && ![128, 192, 256].includes(a.keyLenBits!)) return undefined;
    if (!c.variableKey && a.keyLenBits !== undefined) return undefined;
    if (c.name === 'esp-null' && !a.integrity) return undefined;
    return { params: { ...base, esp: { cipher: c.name, ...(c.variableKey ? { keyLenBits: a.keyLenBits! } : {}), ...(a.integrity ? { integrity: a.integrity } : {}), spi: p.spi } } };
  }
  if (p.protocolId === ProtocolId.PROTO_IPSEC_AH) {
    const h = hmacByAhTransformId(t.transformId);
    if (!h || a.integrity !== h.name) return undefined;
    return { params: { ...base, ah: { integrity: h.name, spi: p.spi } } };
  }
  return undefined;
}

/** Does the parsed proposal carry exactly the algorithms of `ts`? */
export function proposalMatchesSet(p: IpsecProposalParams, ts: TransformSet): boolean {
  if (p.mode !== ts.mode) return false;
  if (!!p.esp !== !!ts.esp || !!p.ah !== !!ts.ah) return false;
  if (p.esp && ts.esp) {
    if (p.esp.cipher !== ts.esp.cipher) return false;
    if (espCipherByName(ts.esp.cipher).variableKey && p.esp.keyLenBits !== (ts.esp.keyLenBits ?? 128)) return false;
    if (p.esp.integrity !== ts.esp.integrity) return false;
  }
  if (p.ah && ts.ah && p.ah.integrity !== ts.ah.integrity) return false;
  return true;
}

export interface ParsedAlternative {
  proposalNumber: number;
  params: IpsecProposalParams;
  /** the proposals to echo back, each holding the one accepted transform */
  reply: Proposal[];
}

/** All offered alternatives in the order offered, each expanded over its transforms. */
export function parseQuickModeOffer(sa: SaPayload): ParsedAlternative[] {
  const out: ParsedAlternative[] = [];
  for (const alt of groupProposals(sa)) {
    // cartesian product would be unusual; take each protocol's transforms in order, AND across protocols
    let combos: { params: IpsecProposalParams | undefined; reply: Proposal[] }[] = [{ params: undefined, reply: [] }];
    let bad = false;
    for (const pr of alt.proposals) {
      const next: typeof combos = [];
      for (const t of pr.transforms) {
        const parsed = parseIpsecTransform(pr, t);
        if (!parsed) continue;
        for (const c of combos) {
          const merged = mergeParams(c.params, parsed.params);
          if (merged) next.push({ params: merged, reply: [...c.reply, { ...pr, transforms: [t] }] });
        }
      }
      if (next.length === 0) { bad = true; break; }
      combos = next.slice(0, 64);
    }
    if (bad) continue;
    for (const c of combos) if (c.params) out.push({ proposalNumber: alt.proposalNumber, params: c.params, reply: c.reply });
  }
  return out;
}

function mergeParams(a: IpsecProposalParams | undefined, b: IpsecProposalParams): IpsecProposalParams | undefined {
  if (!a) return b;
  if (a.mode !== b.mode || a.udpEncap !== b.udpEncap || a.pfsGroup !== b.pfsGroup) return undefined;
  if ((a.esp && b.esp) || (a.ah && b.ah)) return undefined;
  return { ...a, ...(b.esp ? { esp: b.esp } : {}), ...(b.ah ? { ah: b.ah } : {}) };
}
