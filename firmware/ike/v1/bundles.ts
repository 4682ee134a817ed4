// The local transform set of a negotiated IKEv1 SA, and AH + ESP bundles: quick mode reports
// the two halves of a bundle as two SAs (ESP first), so the first half waits here (30 s at
// most) for the second; a single SA matches a set with only its protocol. The result is the
// set and the halves to install as one pair.
import type { TransformSet as CfgTransformSet } from '../../config/crypto-ipsec.js';
import type { Config } from '../../config/model.js';
import { toV1TransformSet } from './config-map.js';
import type { TransformSet as V1TransformSet } from './policy.js';
import type { IpsecSaInfo } from './types.js';

export interface MatchedBundle {
  set: CfgTransformSet;
  esp?: IpsecSaInfo;
  ah?: IpsecSaInfo;
  /** the half whose SPIs and addresses the pair is recorded with (ESP when there is one) */
  primary: IpsecSaInfo;
}

const PARTIAL_WAIT_MS = 30_000;

const espOk = (v: V1TransformSet, i: IpsecSaInfo): boolean => !!v.esp && v.esp.cipher === i.cipher
  && (v.esp.keyLenBits ?? undefined) === (i.keyLenBits ?? undefined) && (v.esp.integrity ?? undefined) === (i.integrity ?? undefined);
const ahOk = (v: V1TransformSet, i: IpsecSaInfo): boolean => !!v.ah && v.ah.integrity === i.integrity;

export class BundleMatcher {
  private readonly partial = new Map<string, IpsecSaInfo>();

  /**
   * The pair `info` completes, among the offered sets (`offered`: their names). 'wait': the
   * first half of a bundle; 'none': no local set matches what was negotiated.
   * `flow`: the key of the SA's flow (both halves share it).
   */
  match(cfg: Config, offered: readonly string[], flow: string, info: IpsecSaInfo): MatchedBundle | 'wait' | 'none' {
    const candidates = Object.values(cfg.transformSets ?? {}).filter((ts) => offered.includes(ts.name))
      .map((ts) => ({ ts, v: toV1TransformSet(ts) })).filter((x): x is { ts: CfgTransformSet; v: V1TransformSet } => x.v !== undefined);
    const pairKey = `${info.connId}|${flow}`;
    const other = this.partial.get(pairKey);
    const esp = info.protocol === 'esp' ? info : other?.protocol === 'esp' ? other : undefined;
    const ah = info.protocol === 'ah' ? info : other?.protocol === 'ah' ? other : undefined;
    const both = esp && ah ? candidates.find((c) => espOk(c.v, esp) && ahOk(c.v, ah)) : undefined;
    const single = !both ? candidates.find((c) => (info.protocol === 'esp' ? espOk(c.v, info) && !c.v.ah : ahOk(c.v, info) && !c.v.esp)) : undefined;
    if (!both && !single) {
      if (!candidates.some((c) => c.v.ah && c.v.esp && (info.protocol === 'esp' ? espOk(c.v, info) : ahOk(c.v, info)))) return 'none';
      this.partial.set(pairKey, info);
      const h = setTimeout(() => this.partial.delete(pairKey), PARTIAL_WAIT_MS);
      h.unref();
      return 'wait';
    }
    this.partial.delete(pairKey);
    const useEsp = both ? esp : info.protocol === 'esp' ? info : undefined;
    const useAh = both ? ah : info.protocol === 'ah' ? info : undefined;
    return { set: (both ?? single)!.ts, ...(useEsp ? { esp: useEsp } : {}), ...(useAh ? { ah: useAh } : {}), primary: (useEsp ?? useAh)! };
  }
}
