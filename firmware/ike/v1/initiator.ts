// What IKEv1 starts and with which settings, as pure functions over the configuration (the
// initiator's half of responder.ts): the flow plan of a crypto map entry's flow (from an
// acquire, a test hook's first permit, TED's discovered proxies, a rekey), the engine's
// request for a plan, the static VTIs IKEv1 keeps up and the addresses IKEv1 listens on.
// The service remembers plans and hands them to the connection manager; nothing here sends.
import { resolveCryptoMapSet, type ResolvedMapEntry } from '../../config/crypto-map.js';
import { effectiveIpv4 } from '../../config/interface.js';
import type { Config } from '../../config/model.js';
import { activeStaticVtis, virtualTemplate, type StaticVti } from '../../config/vti.js';
import { selectorKey, type TrafficSelector } from '../../ipsec/selector.js';
import type { SpdEntry } from '../../ipsec/spd.js';
import { ANY_SEL, selsToTraffic, v1Request } from './config-map.js';
import { vtiPlan, type FlowPlan } from './responder.js';
import type { Selector } from './selectors.js';
import type { InitiateOptions, IpsecSaInfo, QuickModeRequest } from './types.js';

/** The resolved crypto map entry `map seq [sub]`. */
export function findResolved(cfg: Config, mapName: string, seq: number, subSeq?: number, mapSet?: readonly ResolvedMapEntry[]): ResolvedMapEntry | undefined {
  return (mapSet ?? resolveCryptoMapSet(cfg, mapName)).find((r) => r.seq === seq && r.subSeq === subSeq);
}

/** The address IKE speaks from for an entry on `iface` (`crypto map ... local-address`, `ip unnumbered`). */
export function localFor(cfg: Config, iface: string, r: ResolvedMapEntry): string | undefined {
  return effectiveIpv4(cfg, r.localAddressInterface ?? iface)?.address;
}

/** `initiate mode aggressive` in the ISAKMP profile (IOS). */
export function aggressiveFor(cfg: Config, profile: string | undefined): boolean {
  return profile !== undefined && cfg.isakmpProfiles?.[profile]?.initiateMode === 'aggressive';
}

/** Static VTIs negotiated with IKEv1 (their IPsec profile names no IKEv2 profile). */
export function ikev1Vtis(cfg: Config): StaticVti[] {
  return activeStaticVtis(cfg).filter((v) => v.policy?.ikev2Profile === undefined);
}

/**
 * The flow plan of a crypto map entry's flow `local` <-> `remote` to `peer` (policy key: the
 * SPD's, or the entry's policy name with the flow). A string says why IKEv1 cannot start it.
 */
export function entryFlowPlan(o: {
  r: ResolvedMapEntry; entry: SpdEntry<unknown>; iface: string; local: Selector; remote: Selector; peer: string; now: number;
  policyKey?: string; scope?: TrafficSelector; dynamic?: boolean;
}): FlowPlan | string {
  const request = v1Request(o.r, o.local, o.remote);
  if (!request) return `${o.entry.policyName}: no transform set IKEv1 can offer`;
  const scope = o.scope ?? selsToTraffic(o.local, o.remote);
  return {
    mapName: o.r.mapName, seq: o.r.seq, policyName: o.entry.policyName, policyKey: o.policyKey ?? `${o.entry.policyName}|${selectorKey(scope)}`,
    scope, iface: o.iface, request, entry: o.entry as SpdEntry<{ iface: string }>, peer: o.peer, startedAt: o.now, ...(o.dynamic ? { dynamic: o.r } : {}),
  };
}

/** A static VTI's plan (any/any on the tunnel) and the engine's request for it, or why not. */
export function vtiStart(cfg: Config, v: StaticVti, now: number): { plan: FlowPlan; request: InitiateOptions } | string {
  const req = v1Request(v.policy!, ANY_SEL, ANY_SEL);
  if (!req) return `${v.name}: IPsec profile ${v.profileName} has no transform set IKEv1 can offer`;
  const profile = v.policy?.isakmpProfile;
  return {
    plan: vtiPlan(v, req, now),
    request: {
      local: { address: v.local!, port: 500 }, remote: { address: v.peer!, port: 500 },
      ...(profile ? { profile } : {}), ...(aggressiveFor(cfg, profile) ? { aggressive: true } : {}), quickMode: req,
    },
  };
}

/** The engine's request for a crypto map flow plan (undefined: no local address to speak from). */
export function planRequest(cfg: Config, plan: FlowPlan, r: ResolvedMapEntry): InitiateOptions | undefined {
  const local = localFor(cfg, plan.iface, r);
  if (!local) return undefined;
  return {
    local: { address: local, port: 500 }, remote: { address: plan.peer, port: 500 },
    ...(r.isakmpProfile ? { profile: r.isakmpProfile } : {}), ...(aggressiveFor(cfg, r.isakmpProfile) ? { aggressive: true } : {}),
    quickMode: plan.request,
  };
}

/**
 * Where IKEv1 listens: every interface with a crypto map (the address an `ip unnumbered`
 * interface borrows; the first entry's `local-address`), static VTI sources, and the
 * addresses of Virtual-Templates named by ISAKMP profiles.
 */
export function ikev1ListenAddresses(cfg: Config, mapSet: (name: string) => readonly ResolvedMapEntry[]): string[] {
  const out = new Set<string>();
  for (const [name, itf] of Object.entries(cfg.interfaces?.items ?? {})) {
    const ip = effectiveIpv4(cfg, name);
    if (!itf.cryptoMap || !ip) continue;
    out.add(ip.address);
    for (const r of mapSet(itf.cryptoMap).slice(0, 1)) {
      const li = r.localAddressInterface ? effectiveIpv4(cfg, r.localAddressInterface)?.address : undefined;
      if (li) out.add(li);
    }
  }
  for (const v of ikev1Vtis(cfg)) out.add(v.local!);
  for (const p of Object.values(cfg.isakmpProfiles ?? {})) {
    const t = p.virtualTemplate !== undefined ? virtualTemplate(cfg, p.virtualTemplate) : undefined;
    if (t && typeof t !== 'string' && t.local) out.add(t.local);
  }
  return [...out];
}

/**
 * The rekey of an SA pair this side negotiated: the same flow and place, offered with the
 * entry's current settings (the old offer when the entry is gone), from the entry's address.
 */
export function rekeyStart(cfg: Config, pair: {
  mapName: string; mapSeq: number; policyName: string; policyKey: string; scope: TrafficSelector; iface: string; vti?: string;
  request: QuickModeRequest; info: IpsecSaInfo;
}, now: number): { plan: FlowPlan; request: InitiateOptions } {
  const r = findResolved(cfg, pair.mapName, pair.mapSeq);
  const local = (r ? localFor(cfg, pair.iface, r) : undefined) ?? pair.info.local.address;
  const req = r ? (v1Request(r, pair.request.localSel, pair.request.remoteSel) ?? pair.request) : pair.request;
  return {
    plan: {
      mapName: pair.mapName, seq: pair.mapSeq, policyName: pair.policyName, policyKey: pair.policyKey, scope: pair.scope, iface: pair.iface, request: req,
      peer: pair.info.remote.address, startedAt: now, ...(pair.vti !== undefined ? { vti: pair.vti } : {}),
    },
    request: { local: { address: local, port: 500 }, remote: { address: pair.info.remote.address, port: 500 }, quickMode: req },
  };
}
