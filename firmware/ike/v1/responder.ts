// The IKEv1 quick mode responder's policy: which local configuration takes a peer's offer.
// In order: a static VTI with that peer (only `IP any any`), a dynamic VTI (an ISAKMP
// profile with `virtual-template N` the peer matches), then the crypto map entries of every
// interface in search order (static entries, then each dynamic map entry by its sequence
// number; the guide's "Dynamic Crypto Maps Overview"). The answer is a decision for the
// engine and, when accepted, the flow plan the SAs are installed under. Nothing here sends,
// installs or remembers anything: the service does (ikev1-service.ts).
import type { ResolvedMapEntry } from '../../config/crypto-map.js';
import type { Config } from '../../config/model.js';
import { tunnelMapTag, virtualTemplate, type StaticVti, type VirtualTemplate } from '../../config/vti.js';
import { formatIp, parseIp, selectorKey, type IpAddr, type TrafficSelector } from '../../ipsec/selector.js';
import type { Spd, SpdEntry } from '../../ipsec/spd.js';
import { flowText, formatSel, isAnySel, quickModeFor, responderEntry, selKey, selsToTraffic, v1Request, ANY_SEL } from './config-map.js';
import type { QuickModeRequest } from './engine.js';
import { selectQuickModeResponse, type QuickModeResponderDecision, type QuickModeResponderQuery } from './quick-mode-policy.js';
import type { Selector } from './selectors.js';
import type { Severity } from '../../lib/event-bus.js';

/** A flow IKE negotiates (initiator) or accepted (responder): where its SAs go. */
export interface FlowPlan {
  mapName: string;
  seq: number;
  policyName: string;
  policyKey: string;
  scope: TrafficSelector;
  iface: string;
  request: QuickModeRequest;
  entry?: SpdEntry<{ iface: string }>;
  peer: string;
  startedAt: number;
  /** a static VTI's flow (any/any): the tunnel interface */
  vti?: string;
  /** a dynamic VTI's flow: the peer's Virtual-Access is cloned from Virtual-Template<n> */
  vtemplate?: number;
  /** a dynamic VTI's inside VRF from its ISAKMP profile (`vrf V`, single template model) */
  vrf?: string;
  /** Accepted by this dynamic map entry: the SAs go under a temporary entry. */
  dynamic?: ResolvedMapEntry;
}

/** The key a plan is found by when its SAs come up: peer and proxy identities. */
export function planKey(peer: string, local: Selector, remote: Selector): string {
  return `${peer}|${selKey(local)}|${selKey(remote)}`;
}

/** A static VTI's plan: any/any on the tunnel interface. */
export function vtiPlan(v: StaticVti, req: QuickModeRequest, now: number): FlowPlan {
  return {
    mapName: tunnelMapTag(v.name), seq: 0, policyName: v.name, policyKey: v.policyKey, scope: selsToTraffic(ANY_SEL, ANY_SEL), iface: v.name,
    request: req, peer: v.peer!, startedAt: now, vti: v.name,
  };
}

/** What the responder reads of the box. */
export interface ResponderContext {
  config: Config;
  now: number;
  /** static VTIs negotiated with IKEv1 */
  vtis: readonly StaticVti[];
  spdFor(iface: string): Spd<unknown> | undefined;
  resolve(mapName: string, seq: number, subSeq?: number): ResolvedMapEntry | undefined;
  /** the IKE address of an entry on an interface (`set ... local-address` or the interface's) */
  localFor(iface: string, r: ResolvedMapEntry): string | undefined;
  log(text: string, level?: Severity): void;
}

export interface ResponderAnswer {
  decision: QuickModeResponderDecision;
  /** accepted: where the SAs go */
  plan?: FlowPlan;
  /** accepted by a crypto map entry: its peer (normalised) is the one in use from now on */
  heardFrom?: string;
  /** a `debug crypto isakmp` line about the choice */
  debug?: string;
}

const INVALID_ID_INFORMATION = 18;
const NO_PROPOSAL_CHOSEN = 14;

/** Answers a quick mode offer (see the file comment for the order). */
export function answerQuickMode(q: QuickModeResponderQuery, c: ResponderContext): ResponderAnswer {
  let peer: IpAddr;
  try { peer = parseIp(q.peerAddress); } catch { return { decision: { accept: false, reason: 'bad peer address', notifyType: INVALID_ID_INFORMATION } }; }
  return staticVti(q, c) ?? virtualTemplateAnswer(q, c) ?? cryptoMapAnswer(q, c, peer);
}

/**
 * Responder for a static VTI: the peer and local address are the tunnel's; only `IP any
 * any` is accepted (IOS: SVTIs support only the any/any proxy), with the profile's sets.
 */
function staticVti(q: QuickModeResponderQuery, c: ResponderContext): ResponderAnswer | undefined {
  const v = c.vtis.find((x) => x.peer === q.peerAddress && x.local === q.localAddress);
  if (!v) return undefined;
  if (!isAnySel(q.localSel) || !isAnySel(q.remoteSel)) {
    const reason = `proxy identities not supported: static VTI ${v.name} accepts only IP any any`;
    c.log(`${q.peerAddress}: ${reason} (proposed ${flowText(q.remoteSel, q.localSel)})`, 6);
    return { decision: { accept: false, reason, notifyType: INVALID_ID_INFORMATION } };
  }
  const req = v1Request(v.policy!, ANY_SEL, ANY_SEL);
  if (!req) return { decision: { accept: false, reason: `${v.name}: no transform set IKEv1 can offer`, notifyType: NO_PROPOSAL_CHOSEN } };
  const decision = selectQuickModeResponse([responderEntry(tunnelMapTag(v.name), 0, req)], q);
  return { decision, ...(decision.accept ? { plan: vtiPlan(v, req, c.now) } : {}) };
}

/** ISAKMP profiles with `virtual-template N` whose `match identity address` takes the peer. */
function templateProfileFor(c: ResponderContext, peer: string): { profile: string; template: VirtualTemplate } | undefined {
  const inMask = (a: string, base: string, mask: string): boolean => {
    const v = (x: string): number => x.split('.').reduce((n, o) => n * 256 + Number(o), 0);
    return ((v(a) & v(mask)) >>> 0) === ((v(base) & v(mask)) >>> 0);
  };
  for (const p of Object.values(c.config.isakmpProfiles ?? {}).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (p.virtualTemplate === undefined) continue;
    if (!p.matchIdentities.some((m) => m.kind === 'address' && inMask(peer, m.address, m.mask))) continue;
    const t = virtualTemplate(c.config, p.virtualTemplate);
    if (typeof t === 'string') { c.log(`isakmp profile ${p.name}: ${t}`, 4); continue; }
    return { profile: p.name, template: t };
  }
  return undefined;
}

/**
 * Responder for a dynamic VTI (`virtual-template N` in the ISAKMP profile the peer matches):
 * the peer's proxies are accepted as proposed (a DVTI takes several) with the template's
 * IPsec profile; the SA pair goes to the session's Virtual-Access interface.
 */
function virtualTemplateAnswer(q: QuickModeResponderQuery, c: ResponderContext): ResponderAnswer | undefined {
  const m = templateProfileFor(c, q.peerAddress);
  if (!m || (m.template.local !== undefined && m.template.local !== q.localAddress)) return undefined;
  const req = quickModeFor(m.template.policy, q.localSel, q.remoteSel);
  const decision = selectQuickModeResponse([responderEntry(tunnelMapTag(m.template.name), 0, req)], q);
  if (!decision.accept) return { decision };
  const vrf = c.config.isakmpProfiles?.[m.profile]?.vrf;
  return {
    decision,
    plan: {
      mapName: tunnelMapTag(m.template.name), seq: 0, policyName: m.template.name, policyKey: `vt:${q.peerAddress}`,
      scope: selsToTraffic(q.localSel, q.remoteSel), iface: m.template.name, request: req, peer: q.peerAddress,
      startedAt: c.now, vtemplate: Number(m.template.name.slice('Virtual-Template'.length)), ...(vrf !== undefined ? { vrf } : {}),
    },
  };
}

/**
 * The crypto map entries of every interface in search order; the first that takes everything
 * wins: the peer, the proxies inside a permit of its ACL (never narrowed: a wider offer is
 * refused with INVALID-ID-INFORMATION), the ISAKMP profile the phase-1 SA matched, transform
 * sets, PFS and lifetimes. A dynamic entry takes what it leaves unset from the offer; the SAs
 * then live under a temporary entry.
 */
function cryptoMapAnswer(q: QuickModeResponderQuery, c: ResponderContext, peer: IpAddr): ResponderAnswer {
  const cfg = c.config;
  let notifyType = INVALID_ID_INFORMATION;
  const reject = (reason: string): ResponderAnswer => ({ decision: { accept: false, reason, notifyType } });
  const request = selsToTraffic(q.localSel, q.remoteSel);
  const refusals: string[] = [];
  for (const [iface, itf] of Object.entries(cfg.interfaces?.items ?? {})) {
    if (!itf.cryptoMap) continue;
    const spd = c.spdFor(iface);
    if (!spd) continue;
    for (const v of spd.proposalVerdicts(request, peer)) {
      const e = v.entry;
      const where = e.kind === 'dynamic' ? `${e.mapName} ${e.seq} dynamic ${e.subSeq ?? ''}` : `${e.mapName} ${e.seq}`;
      if (!v.match) { refusals.push(`${where}: ${v.refused ?? 'refused'}`); continue; }
      const r = c.resolve(e.mapName, e.seq, e.subSeq);
      if (!r) continue;
      const label = r.dynamicMapName !== undefined ? `crypto map ${r.mapName} ${r.seq} (dynamic map ${r.dynamicMapName} ${r.subSeq})` : `crypto map ${r.mapName} ${r.seq}`;
      if (r.ikev2Profile) { refusals.push(`${label}: IKEv2 entry`); continue; }
      if (c.localFor(iface, r) !== q.localAddress) { refusals.push(`${label}: other local address`); continue; }
      if (r.isakmpProfile !== undefined && r.isakmpProfile !== q.profile) {
        refusals.push(`${label}: needs ISAKMP profile ${r.isakmpProfile}, peer matched ${q.profile ?? 'none'}`);
        continue;
      }
      const req = quickModeFor(r, q.localSel, q.remoteSel);
      const decision = selectQuickModeResponse([responderEntry(r.mapName, r.seq, req)], q);
      if (!decision.accept) {
        refusals.push(`${label}: ${decision.reason}`);
        notifyType = decision.notifyType;
        continue;
      }
      const policyKey = `${e.policyName}|${selectorKey(request)}`;
      return {
        decision,
        plan: {
          mapName: r.mapName, seq: r.seq, policyName: e.policyName, policyKey, scope: request, iface, request: req,
          entry: e as SpdEntry<{ iface: string }>, peer: q.peerAddress, startedAt: c.now, ...(r.kind === 'dynamic' ? { dynamic: r } : {}),
        },
        heardFrom: formatIp(peer),
        debug: `IPsec policy for peer ${q.peerAddress} proxies ${formatSel(q.localSel)} <-> ${formatSel(q.remoteSel)}: ${label} accepted${r.kind === 'dynamic' ? ' (template, temporary entry)' : ''}`,
      };
    }
  }
  return reject(refusals.length > 0 ? `no crypto map entry accepts the offer: ${refusals.join('; ')}` : 'no crypto map entry for this peer');
}
