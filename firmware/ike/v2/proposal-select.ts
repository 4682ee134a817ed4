// Proposal selection (RFC 7296 2.7, 3.3.6) with the initiator's order winning: the
// responder takes the first offered proposal it can accept and, inside it, the first
// offered transform of each type that it also has. When nothing matches, a comparison of
// every local proposal with the offered ones names the first differing transform type.
import { ProtocolId, TransformType, type Proposal, type Transform } from '../../proto/ikev2/index.js';
import { isImplemented, transformName, TRANSFORM_TYPE_NAMES } from './algorithms.js';

/** Transform types in the order they are compared (and reported). */
function typesFor(protocolId: number, ignoreDh: boolean): number[] {
  const base = protocolId === ProtocolId.IKE
    ? [TransformType.ENCR, TransformType.PRF, TransformType.INTEG, TransformType.DH]
    : [TransformType.ENCR, TransformType.INTEG, TransformType.DH, TransformType.ESN];
  return ignoreDh ? base.filter((t) => t !== TransformType.DH) : base;
}

/** Transforms of one type; absent INTEG/DH/ESN count as the NONE/NO_ESN value (id 0). */
function listOf(p: Proposal, type: number): Transform[] {
  const l = p.transforms.filter((t) => t.type === type);
  if (l.length === 0 && (type === TransformType.INTEG || type === TransformType.DH || type === TransformType.ESN)) {
    return [{ type, id: 0 }];
  }
  return l;
}

function sameTransform(a: Transform, b: Transform): boolean {
  return a.type === b.type && a.id === b.id && a.keyLength === b.keyLength;
}

export interface SelectOptions {
  /** IKE_AUTH's first Child SA: DH transforms are ignored (RFC 7296 1.2). */
  ignoreDh?: boolean;
}

export interface TypeDifference {
  transformType: string;
  offered: string[];
  local: string[];
}

/** One local proposal against the offered proposal that came closest to it. */
export interface ProposalComparison {
  localIndex: number;
  localName?: string;
  local: string[];
  /** Proposal Num of the closest offered proposal (0 when protocols differ everywhere). */
  offeredNum: number;
  offered: string[];
  /** First transform type with no common transform, or the protocol mismatch. */
  firstDifference: TypeDifference;
}

export type SelectResult =
  | { ok: true; proposal: Proposal; offeredNum: number; localIndex: number }
  | { ok: false; comparisons: ProposalComparison[] };

function tryMatch(off: Proposal, loc: Proposal, types: number[]): { chosen?: Transform[]; matchedTypes: number; diff?: TypeDifference } {
  if (off.protocolId !== loc.protocolId) {
    return { matchedTypes: -1, diff: { transformType: 'protocol', offered: [String(off.protocolId)], local: [String(loc.protocolId)] } };
  }
  const chosen: Transform[] = [];
  let matched = 0;
  for (const type of types) {
    const o = listOf(off, type);
    const l = listOf(loc, type);
    const pick = o.find((t) => isImplemented(off.protocolId, t) && l.some((x) => sameTransform(x, t)));
    if (!pick) {
      return {
        matchedTypes: matched,
        diff: { transformType: TRANSFORM_TYPE_NAMES[type] ?? String(type), offered: o.map(transformName), local: l.map(transformName) },
      };
    }
    matched++;
    if (!(pick.id === 0 && (type === TransformType.INTEG || type === TransformType.DH) && !off.transforms.some((t) => t.type === type))) {
      chosen.push({ ...pick });
    }
  }
  return { chosen, matchedTypes: matched };
}

/**
 * Select from `offered` (peer's order) against `local` (our proposals, each a set of acceptable
 * transforms). The returned proposal keeps the offered Proposal Num and SPI and holds one
 * transform per type (RFC 7296 3.3.6).
 */
export function selectProposal(offered: readonly Proposal[], local: readonly Proposal[], localNames: readonly (string | undefined)[] = [], opts: SelectOptions = {}): SelectResult {
  for (const off of offered) {
    if (off.protocolId === 0) continue;
    const types = typesFor(off.protocolId, opts.ignoreDh ?? false);
    for (let li = 0; li < local.length; li++) {
      const r = tryMatch(off, local[li]!, types);
      if (r.chosen) {
        return { ok: true, proposal: { num: off.num, protocolId: off.protocolId, spi: off.spi, transforms: r.chosen }, offeredNum: off.num, localIndex: li };
      }
    }
  }
  const comparisons: ProposalComparison[] = local.map((loc, li) => {
    const types = typesFor(loc.protocolId, opts.ignoreDh ?? false);
    let best: { off?: Proposal; matched: number; diff: TypeDifference } = {
      matched: -2, diff: { transformType: 'proposal', offered: [], local: [] },
    };
    for (const off of offered) {
      const r = tryMatch(off, loc, types);
      if (r.diff && r.matchedTypes > best.matched) best = { off, matched: r.matchedTypes, diff: r.diff };
    }
    const localView = loc.transforms.filter((t) => !opts.ignoreDh || t.type !== TransformType.DH).map(transformName);
    const name = localNames[li];
    return {
      localIndex: li,
      ...(name !== undefined ? { localName: name } : {}),
      local: localView,
      offeredNum: best.off?.num ?? 0,
      offered: best.off ? best.off.transforms.filter((t) => !opts.ignoreDh || t.type !== TransformType.DH).map(transformName) : [],
      firstDifference: best.diff,
    };
  });
  return { ok: false, comparisons };
}

/** Check that a responder's answer is one of the offers (and has one transform per type). */
export function responseMatchesOffer(answer: Proposal, offered: readonly Proposal[], opts: SelectOptions = {}): boolean {
  const off = offered.find((p) => p.num === answer.num && p.protocolId === answer.protocolId);
  if (!off) return false;
  for (const type of typesFor(off.protocolId, opts.ignoreDh ?? false)) {
    const a = answer.transforms.filter((t) => t.type === type);
    if (a.length > 1) return false;
    const pick = a[0] ?? (type === TransformType.INTEG || type === TransformType.DH || type === TransformType.ESN ? { type, id: 0 } : undefined);
    if (!pick) return false;
    if (!listOf(off, type).some((t) => sameTransform(t, pick))) return false;
  }
  return true;
}
