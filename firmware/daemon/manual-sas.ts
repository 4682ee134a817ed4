// The SAs of `crypto map NAME SEQ ipsec-manual` entries: keyed from the configuration
// (`set session-key`), installed through the same child-SA API IKE uses, reinstalled when
// the entry's content, local address or df-bit changed or its SAs were cleared, removed
// with the entry. An entry whose content did not change keeps its SAs.
import type { ManualDirectionKeys, ResolvedMapEntry } from '../config/crypto-map.js';
import { transformWords } from '../config/crypto-ipsec.js';
import type { MapEntryData } from '../dataplane/pipeline.js';
import type { IpsecSa } from '../ipsec/ipsec-sa.js';
import type { Sad } from '../ipsec/sad.js';
import { selectorKey } from '../ipsec/selector.js';
import { aceToSelector, type Spd } from '../ipsec/spd.js';
import { parseTransformSet, type TransformSet as ParsedTransformSet } from '../ipsec/transform.js';
import type { ConfigIntent } from './config-intent.js';
import type { ChildSaInstall, SaKeys } from './dataplane-api.js';
import type { InterfaceSpds } from './spd-compiler.js';

interface ManualState { sig: string; ids: number[]; error?: string }

function hexBytes(hex: string | undefined): Uint8Array {
  return hex ? Uint8Array.from(Buffer.from(hex, 'hex')) : new Uint8Array(0);
}

export class ManualSas {
  private readonly manual = new Map<string, ManualState>();

  constructor(private readonly o: {
    spds: InterfaceSpds;
    sad: () => Sad<IpsecSa>;
    dfBitFor: (iface: string, mapName: string) => string | undefined;
    installChildSa: (spec: ChildSaInstall) => { inboundId: number; outboundId: number };
    log: (text: string) => void;
  }) {}

  /**
   * Installs / replaces / removes the SAs of ipsec-manual entries (`only`: of these
   * interfaces). An entry whose content did not change keeps its SAs, even across a
   * replaced model (`configure replace`).
   */
  sync(intent: ConfigIntent, only?: ReadonlySet<string>): void {
    const seen = new Set<string>();
    for (const [iface, s] of this.o.spds.entries()) {
      if (only && !only.has(iface)) continue;
      for (const item of intent.interfaces.get(iface)?.entries ?? []) {
        const r = item.entry;
        if (r.kind !== 'manual') continue;
        const key = `${iface}|${r.mapName}/${r.seq}`;
        seen.add(key);
        const entry = s.spd.entries.find((e) => e.mapName === r.mapName && e.seq === r.seq);
        const sig = `${item.fingerprint}|${s.local ?? ''}|${entry !== undefined}|${this.o.dfBitFor(iface, r.mapName) ?? ''}`;
        const old = this.manual.get(key);
        if (old && old.sig === sig && old.ids.every((id) => this.o.sad().get(id) !== undefined)) continue;
        for (const id of old?.ids ?? []) this.o.sad().delete(id, 'reconfigured');
        const st: ManualState = { sig, ids: [] };
        this.manual.set(key, st);
        try {
          st.ids = this.installEntry(iface, r, s.local, entry);
        } catch (e) {
          st.error = (e as Error).message;
          this.o.log(`crypto map ${r.mapName} ${r.seq}: manual SAs not installed: ${st.error}`);
        }
      }
    }
    for (const [key, st] of this.manual) {
      if (seen.has(key) || (only && !only.has(key.slice(0, key.indexOf('|'))))) continue;
      for (const id of st.ids) this.o.sad().delete(id, 'unconfigured');
      this.manual.delete(key);
    }
  }

  private installEntry(iface: string, r: ResolvedMapEntry, local: string | undefined, entry: Spd<MapEntryData>['entries'][number] | undefined): number[] {
    if (!entry) return [];
    if (!local) throw new Error(`interface ${iface} has no IP address`);
    const peer = r.peers[0];
    if (!peer) return [];
    const set = r.transformSets[0];
    if (!set) throw new Error('no transform set');
    const keys = r.sessionKeys;
    if (!keys) throw new Error('no session keys');
    const permit = entry.effectiveAcl[entry.effectiveAcl.length - 1];
    if (!permit || permit.action !== 'permit') throw new Error('access list has no permit');
    const scope = aceToSelector(permit);
    const ts: ParsedTransformSet = parseTransformSet(transformWords(set));
    const conv = (k: ManualDirectionKeys): SaKeys => {
      const out: SaKeys = {};
      if (k.esp) {
        out.espSpi = k.esp.spi;
        out.espCipherKey = hexBytes(k.esp.cipherKey);
        if (k.esp.authKey !== undefined) out.espAuthKey = hexBytes(k.esp.authKey);
      }
      if (k.ah) { out.ahSpi = k.ah.spi; out.ahKey = hexBytes(k.ah.key); }
      return out;
    };
    const ids = this.o.installChildSa({
      mapName: r.mapName, mapSeq: r.seq, policyKey: `${entry.policyName}|${selectorKey(scope)}`, scope,
      local, peer, transformWords: ts.words, mode: set.mode,
      inbound: conv(keys.inbound), outbound: conv(keys.outbound),
      replayWindow: r.replayDisabled ? 0 : r.replayWindow, manual: true,
    });
    return [ids.inboundId, ids.outboundId];
  }
}
