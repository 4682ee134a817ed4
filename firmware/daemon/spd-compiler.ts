// Compiling the SPDs: one per interface with a crypto map set, from the compiled intent's
// entries (config-intent.ts) and the temporary entries of dynamic maps. A change recompiles
// only the interfaces it touched; an entry whose settings changed but not its place or ACL is
// patched in (match counters kept). Also what the SPDs imply elsewhere: the userspace
// backend's steering rules, the XFRM backend's traps, the ACL match counts for show.
import { aclRules } from '../config/acl.js';
import { transformWords } from '../config/crypto-ipsec.js';
import type { Config } from '../config/model.js';
import type { MapEntryData, Pipeline } from '../dataplane/pipeline.js';
import type { AclEntry } from '../ipsec/acl-classifier.js';
import { parseIp, selectorContains } from '../ipsec/selector.js';
import { aceToSelector, compileSpd, type Spd, type SpdMapEntryInput } from '../ipsec/spd.js';
import type { InterfacePolicy } from '../kernel/userspace-backend.js';
import type { IntentDelta, MapEntryIntent } from './config-intent.js';
import type { TemporaryEntries } from './temporary-entries.js';
import type { KernelSaMirror } from './child-sa-kernel.js';
import { trapPolicies } from './xfrm-traps.js';

export interface InterfaceSpd {
  spd: Spd<MapEntryData>;
  mapName: string;
  /** the crypto map's local address (its interface's, or `local-address`) */
  local: string | undefined;
}

interface BaseInputs { inputs: SpdMapEntryInput<MapEntryData>[]; mapName: string; local: string | undefined }

export class InterfaceSpds {
  private spds = new Map<string, InterfaceSpd>();
  /** Configured SPD inputs per interface (temporary entries are added at compile time). */
  private baseInputs = new Map<string, BaseInputs>();
  /** SPD input per crypto map entry item, rebuilt only when the item's content changes. */
  private readonly inputCache = new Map<string, { fingerprint: string; input: SpdMapEntryInput<MapEntryData> | undefined }>();

  constructor(private readonly o: {
    temporary: TemporaryEntries;
    pipeline: () => Pipeline;
    /** XFRM backend: its traps follow the SPDs, with the reqids of the kernel's SA pairs */
    kernel: () => KernelSaMirror | undefined;
    config: () => Config | undefined;
  }) {}

  /** The SPD compiled for an interface (IKE responders: matchProposal / narrowProposal). */
  spdFor(iface: string): Spd<MapEntryData> | undefined {
    return this.spds.get(iface)?.spd;
  }

  entries(): IterableIterator<[string, InterfaceSpd]> {
    return this.spds.entries();
  }

  resetCounters(): void {
    for (const s of this.spds.values()) s.spd.resetCounters();
  }

  /**
   * The SPD inputs of the interfaces a change touched (every interface on a full apply);
   * returns the names of the interfaces whose SPD was rebuilt.
   */
  compile(delta: IntentDelta): Set<string> {
    const touched = new Set<string>();
    if (delta.full) {
      this.inputCache.clear();
      for (const name of delta.intent.interfaces.keys()) touched.add(name);
      for (const name of this.baseInputs.keys()) touched.add(name);
    } else {
      for (const c of delta.interfaces) touched.add(c.key);
      for (const c of delta.mapEntries) touched.add(c.op === 'remove' ? c.prev.iface : c.next.iface);
    }
    if (touched.size === 0) return touched;
    const base = new Map(this.baseInputs);
    const recompile = new Set<string>();
    for (const name of touched) {
      const itf = delta.intent.interfaces.get(name);
      if (!itf?.cryptoMap) { base.delete(name); recompile.add(name); continue; }
      const inputs: SpdMapEntryInput<MapEntryData>[] = [];
      for (const item of itf.entries) {
        const inp = this.spdInput(item);
        if (inp) inputs.push(inp);
      }
      const old = base.get(name);
      base.set(name, { inputs, mapName: itf.cryptoMap, local: itf.local });
      if (delta.full || !this.patchSpd(name, delta, old, inputs)) recompile.add(name);
    }
    for (const c of delta.mapEntries) if (c.op === 'remove' && !delta.intent.mapEntries.has(c.key)) this.inputCache.delete(c.key);
    // interfaces in name order, as a full compile lists them
    this.baseInputs = new Map([...base].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    this.rebuild(recompile);
    return touched;
  }

  /**
   * Entries whose settings changed but not their place or ACL (a new peer, transform set,
   * PFS group...) are updated in the interface's SPD without recompiling it (its match
   * counters stay). False: the SPD must be recompiled.
   */
  private patchSpd(name: string, delta: IntentDelta, old: { inputs: SpdMapEntryInput<MapEntryData>[]; local: string | undefined } | undefined,
    inputs: SpdMapEntryInput<MapEntryData>[]): boolean {
    const cur = this.spds.get(name);
    if (!cur || !old || old.inputs.length !== inputs.length || old.local !== delta.intent.interfaces.get(name)?.local) return false;
    if (delta.interfaces.some((c) => c.key === name)) return false;
    const updates = new Map<number, SpdMapEntryInput<MapEntryData>>();
    for (const c of delta.mapEntries) {
      if (c.op === 'remove' ? c.prev.iface !== name : c.next.iface !== name) continue;
      if (c.op !== 'modify') return false;
      const inp = this.inputCache.get(c.key)?.input;
      const policyName = c.key.slice(name.length + 1);
      const index = cur.spd.entries.findIndex((e) => e.temporaryId === undefined && e.policyName === policyName);
      if (!inp || index < 0) return false;
      updates.set(index, inp);
    }
    const spd = cur.spd.patched(updates);
    if (!spd) return false;
    this.spds.set(name, { ...cur, spd });
    return true;
  }

  /** An entry's SPD input; undefined for an incomplete static entry (no peer or ACL), which IOS disables. */
  private spdInput(item: MapEntryIntent): SpdMapEntryInput<MapEntryData> | undefined {
    const cached = this.inputCache.get(item.key);
    if (cached && cached.fingerprint === item.fingerprint) return cached.input;
    const r = item.entry;
    const inp: SpdMapEntryInput<MapEntryData> = {
      mapName: r.mapName, seq: r.seq, kind: r.kind, perHost: r.perHost, data: { iface: item.iface },
      transformSets: r.transformSets.map((t) => t.name),
      peers: r.peers.flatMap((p) => { try { return [parseIp(p)]; } catch { return []; } }),
    };
    if (r.subSeq !== undefined) inp.subSeq = r.subSeq;
    if (r.discover) inp.discover = true;
    if (r.matchAddress !== undefined) {
      inp.aclName = r.matchAddress;
      inp.acl = item.acl ?? [];
    }
    const usable = r.kind === 'dynamic' || (inp.acl !== undefined && (inp.peers?.length ?? 0) > 0);
    this.inputCache.set(item.key, { fingerprint: item.fingerprint, input: usable ? inp : undefined });
    return usable ? inp : undefined;
  }

  /**
   * Compiles the SPD of each interface from its configured and its temporary entries
   * (`only`: just these interfaces; the others keep their SPD and its match counters).
   */
  rebuild(only?: ReadonlySet<string>): void {
    const next = new Map<string, { spd: Spd<MapEntryData>; mapName: string; local: string | undefined }>();
    const list: { name: string; spd: Spd<MapEntryData> }[] = [];
    for (const [name, b] of this.baseInputs) {
      const kept = only && !only.has(name) ? this.spds.get(name) : undefined;
      if (kept) {
        next.set(name, kept);
        list.push({ name, spd: kept.spd });
        continue;
      }
      const temps = this.o.temporary.spdInputs<MapEntryData>(name, { iface: name }).filter((t) => t.mapName === b.mapName);
      const spd = compileSpd([...b.inputs, ...temps]);
      next.set(name, { spd, mapName: b.mapName, local: b.local });
      list.push({ name, spd });
    }
    this.spds = next;
    this.o.pipeline().setInterfaces(list);
    const kernel = this.o.kernel();
    if (kernel?.traps) {
      const cfg = this.o.config();
      const words = (name: string) => { const set = cfg?.transformSets[name]; return set ? transformWords(set) : undefined; };
      kernel.traps.sync([...next.values()].flatMap((s) => trapPolicies(s.spd, s.local, (k) => kernel.reqidFor(k), words)));
    }
  }

  /** The steering rules of the userspace backend: each wired interface's ACEs in search order. */
  policies(linuxIf: (port: string) => string | undefined): InterfacePolicy[] {
    const out: InterfacePolicy[] = [];
    for (const [name, s] of this.spds) {
      const device = linuxIf(name);
      if (!device) continue;
      const aces: AclEntry[] = [];
      const configured = s.spd.entries.filter((e) => e.temporaryId === undefined).flatMap((e) => e.effectiveAcl)
        .filter((a) => a.action === 'permit').map(aceToSelector);
      for (const e of s.spd.entries) {
        // a temporary entry's flow lies inside its template's permit, whose rules already
        // steer it: only a template without `match address` needs rules of its own (and
        // the rules, one `ip` call each, are not rewritten for every road warrior)
        if (e.temporaryId !== undefined && e.effectiveAcl.every((a) => configured.some((c) => selectorContains(c, aceToSelector(a))))) continue;
        aces.push(...e.effectiveAcl);
      }
      // TED: probes in transit to the networks a discover entry protects
      const ted = s.spd.entries.filter((e) => e.discover && e.temporaryId === undefined)
        .flatMap((e) => e.effectiveAcl).filter((a) => a.action === 'permit').map((a) => a.src);
      if (ted.length > 0) { out.push({ device, aces, tedIntercepts: ted }); continue; }
      out.push({ device, aces });
    }
    return out;
  }

  /** Matches per ACL rule sequence number, summed over the SPDs using the list. */
  aclMatches(list: string): ReadonlyMap<number, number> | undefined {
    const cfgList = this.o.config()?.acl?.lists[list];
    if (!cfgList) return undefined;
    const rules = aclRules(cfgList);
    let out: Map<number, number> | undefined;
    for (const s of this.spds.values()) {
      const counts = s.spd.aclMatchCounts().get(list);
      if (!counts) continue;
      out ??= new Map();
      counts.forEach((n, i) => {
        const seq = rules[i]?.seq;
        if (seq !== undefined) out!.set(seq, (out!.get(seq) ?? 0) + n);
      });
    }
    return out;
  }
}
