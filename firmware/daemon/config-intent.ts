// The one compiler from `Config` to what the runtime must do (the intent): interfaces and
// the crypto map entries bound to them, each entry resolved once (its IPsec policy, its
// access list as classifier rules, the local address). Successive compiles are diffed,
// as FRR's northbound hands out changes: services receive add/modify/remove per item.
//
// Diffing is by the model's revision stamps: every object the CLI changes gets the
// revision of the change (entries, sets, transform sets, ACLs, interfaces). An item whose
// stamps did not move is neither re-resolved nor compared. An item whose stamps moved is
// compared by content (a fingerprint), so touching without changing (or a transform set
// edited back) is no change. When the model itself was replaced (boot, `configure
// replace`, the revert timer), stamps of the two models mean nothing to each other and
// every item is compared by content: entries that did not change stay untouched, and
// their tunnels stay up.
import { aclEntrySelector, aclRules, type AccessList } from '../config/acl.js';
import { resolveCryptoMapEntry, type CryptoMapEntry, type CryptoMapSet, type CryptoPolicyEntry, type ResolvedMapEntry } from '../config/crypto-map.js';
import type { Config } from '../config/model.js';
import { aclEntryFromConfig, type AclEntry } from '../ipsec/acl-classifier.js';

/** An interface as the runtime sees it. */
export interface InterfaceIntent {
  name: string;
  /** The crypto map set applied to it. */
  cryptoMap?: string;
  /** The address IKE and ESP use for its crypto map (`local-address`, `ip unnumbered`). */
  local?: string;
  /** Its crypto map entries in search order (seq, then dynamic sub-sequence). */
  entries: readonly MapEntryIntent[];
  /** Content fingerprint (what `modify` compares). */
  readonly fingerprint: string;
}

/** One searchable crypto map entry on one interface. */
export interface MapEntryIntent {
  /** `iface|map/seq` (dynamic entries: `iface|map/seq/subSeq`). */
  key: string;
  iface: string;
  /** The address of the interface's crypto map (see InterfaceIntent.local). */
  local?: string;
  entry: ResolvedMapEntry;
  /** The rules of `match address` in classifier form; undefined: no ACL named or it does not exist. */
  acl?: readonly AclEntry[];
  readonly fingerprint: string;
}

export type IntentChange<T> =
  | { op: 'add'; key: string; next: T }
  | { op: 'modify'; key: string; prev: T; next: T }
  | { op: 'remove'; key: string; prev: T };

/** What one configuration revision means for the runtime, and what changed since the last one. */
export interface IntentDelta {
  revision: number;
  config: Config;
  intent: ConfigIntent;
  /** Rebuild everything (first apply, or a full re-apply was asked for); changes list every item as added. */
  full: boolean;
  /** The model was replaced since the last compile: items were compared by content. */
  replaced: boolean;
  interfaces: IntentChange<InterfaceIntent>[];
  mapEntries: IntentChange<MapEntryIntent>[];
}

/** One compiled revision. */
export class ConfigIntent {
  private readonly sets = new Map<string, ResolvedMapEntry[]>();
  private entriesByKey: Map<string, MapEntryIntent> | undefined;

  constructor(
    readonly revision: number,
    readonly interfaces: ReadonlyMap<string, InterfaceIntent>,
    /** Each crypto map set's configured entries, resolved, in order (kept for the next compile). */
    readonly resolved: ReadonlyMap<string, readonly CachedEntry[]>,
  ) {}

  /** Every interface's crypto map entries by key (`iface|map/seq[/sub]`). */
  get mapEntries(): ReadonlyMap<string, MapEntryIntent> {
    if (!this.entriesByKey) {
      this.entriesByKey = new Map();
      for (const itf of this.interfaces.values()) for (const e of itf.entries) this.entriesByKey.set(e.key, e);
    }
    return this.entriesByKey;
  }

  /** resolveCryptoMapSet(cfg, name) of this revision, without resolving anything again. */
  mapSet(name: string): readonly ResolvedMapEntry[] {
    let out = this.sets.get(name);
    if (!out) {
      out = (this.resolved.get(name) ?? []).flatMap((c) => c.items.map((i) => i.entry));
      this.sets.set(name, out);
    }
    return out;
  }
}

/** A configured entry, resolved: one item (static) or the dynamic map's entries. */
export interface CachedEntry {
  seq: number;
  /** The highest revision stamp among what the entry depends on, and how many of those are missing. */
  stamp: number;
  missing: number;
  items: { entry: ResolvedMapEntry; acl: readonly AclEntry[] | undefined; aclFingerprint: string }[];
}

/**
 * What a configured entry's resolution depends on, as the highest revision stamp among
 * those objects and the count of those missing (cheap: nothing is resolved). Within one
 * model stamps only grow, so a change, a creation (a new, higher stamp) or a deletion (one
 * more missing) always moves the pair.
 */
function entryStamp(cfg: Config, set: CryptoMapSet, e: CryptoMapEntry): { stamp: number; missing: number } {
  let stamp = Math.max(set.revision, e.revision, cfg.ipsecSa.revision);
  let missing = 0;
  const policy = (p: CryptoPolicyEntry): void => {
    if (p.revision > stamp) stamp = p.revision;
    for (const n of p.transformSets) {
      const t = cfg.transformSets[n];
      if (!t) missing++;
      else if (t.revision > stamp) stamp = t.revision;
    }
    if (p.matchAddress !== undefined) {
      const l = cfg.acl?.lists[p.matchAddress];
      if (!l) missing++;
      else if (l.revision > stamp) stamp = l.revision;
    }
  };
  if (e.dynamicMap === undefined) {
    policy(e);
    return { stamp, missing };
  }
  const dm = cfg.dynamicMaps[e.dynamicMap];
  if (!dm) return { stamp, missing: missing + 1 };
  if (dm.revision > stamp) stamp = dm.revision;
  for (const d of dm.entries) policy(d);
  // an entry of the dynamic map deleted: one less counted
  return { stamp, missing: missing * 65536 + dm.entries.length };
}

function compileAcl(list: AccessList | undefined): readonly AclEntry[] | undefined {
  return list ? aclRules(list).map((rule) => aclEntryFromConfig(aclEntrySelector(rule))) : undefined;
}

/**
 * Resolves a configured entry. An ACL that did not change keeps its compiled rules (the
 * same array as `old`'s): the data plane then updates the entry without recompiling.
 */
function resolveEntry(cfg: Config, set: CryptoMapSet, e: CryptoMapEntry, stamp: { stamp: number; missing: number }, old?: CachedEntry): CachedEntry {
  return {
    seq: e.seq, ...stamp,
    items: resolveCryptoMapEntry(cfg, set, e).map((entry, i) => {
      const list = entry.matchAddress !== undefined ? cfg.acl?.lists[entry.matchAddress] : undefined;
      const aclFingerprint = list ? contentJson(aclRules(list)) : '-';
      const prev = old?.items[i];
      const acl = prev && prev.aclFingerprint === aclFingerprint && prev.entry.matchAddress === entry.matchAddress ? prev.acl : compileAcl(list);
      return { entry, acl, aclFingerprint };
    }),
  };
}

/** An interface's own address, or the one it borrows (`ip unnumbered`). */
export function interfaceAddress(cfg: Config, name: string | undefined): string | undefined {
  if (!name) return undefined;
  const i = cfg.interfaces?.items[name];
  return i?.ipAddress?.address ?? (i?.unnumbered ? cfg.interfaces.items[i.unnumbered]?.ipAddress?.address : undefined);
}

function entryId(r: ResolvedMapEntry): string {
  return r.subSeq !== undefined ? `${r.mapName}/${r.seq}/${r.subSeq}` : `${r.mapName}/${r.seq}`;
}

/** Content as JSON without revision stamps (bookkeeping, different in a replaced model). */
function contentJson(v: unknown): string {
  return JSON.stringify(v, (k, x: unknown) => (k === 'revision' ? undefined : x));
}

function entryFingerprint(r: ResolvedMapEntry, aclFingerprint: string, local: string | undefined): string {
  return `${local ?? '-'}|${aclFingerprint}|${contentJson(r)}`;
}

function interfaceFingerprint(cfg: Config, name: string): string {
  return `${interfaceAddress(cfg, name) ?? '-'}|${contentJson(cfg.interfaces.items[name])}`;
}

/** Keeps the last compiled revision; `compile` returns the next one and what changed. */
export class IntentCompiler {
  private last: { config: Config; intent: ConfigIntent } | undefined;

  /** The last compiled intent (undefined before the first compile). */
  get current(): ConfigIntent | undefined {
    return this.last?.intent;
  }

  compile(cfg: Config, opts: { full?: boolean } = {}): IntentDelta {
    const prev = this.last?.intent;
    const full = opts.full === true || prev === undefined;
    const replaced = this.last !== undefined && this.last.config !== cfg;
    // stamps compare only within one model
    const trustStamps = !full && !replaced;

    const resolved = new Map<string, CachedEntry[]>();
    /** Sets whose every entry kept its resolution (same objects as the last compile). */
    const setsUnchanged = new Set<string>();
    for (const set of Object.values(cfg.cryptoMaps)) {
      const olds = trustStamps ? prev!.resolved.get(set.name) : undefined;
      let same = olds !== undefined && olds.length === set.entries.length;
      const list: CachedEntry[] = [];
      for (let i = 0; i < set.entries.length; i++) {
        const e = set.entries[i]!;
        const st = entryStamp(cfg, set, e);
        let old = olds?.[i];
        if (old && old.seq !== e.seq) old = olds!.find((o) => o.seq === e.seq);
        const reuse = old !== undefined && old.stamp === st.stamp && old.missing === st.missing;
        list.push(reuse ? old! : resolveEntry(cfg, set, e, st, old));
        if (!reuse || olds![i] !== old) same = false;
      }
      resolved.set(set.name, list);
      if (same) setsUnchanged.add(set.name);
    }

    const interfaces = new Map<string, InterfaceIntent>();
    const ifChanges: IntentChange<InterfaceIntent>[] = [];
    const entryChanges: IntentChange<MapEntryIntent>[] = [];
    for (const name of Object.keys(cfg.interfaces?.items ?? {}).sort()) {
      const itf = cfg.interfaces.items[name]!;
      const old = prev?.interfaces.get(name);
      const ownSame = trustStamps && old !== undefined && old.cryptoMap === itf.cryptoMap
        && itf.revision <= prev!.revision && !unnumberedMoved(cfg, name, prev!.revision);
      const cached = itf.cryptoMap ? resolved.get(itf.cryptoMap) ?? [] : [];
      const first = cached.find((c) => c.items.length > 0)?.items[0]?.entry;
      const local = itf.cryptoMap ? interfaceAddress(cfg, first?.localAddressInterface ?? name) : undefined;
      // nothing it depends on moved: the same interface, entries and all
      if (ownSame && old.local === local && (!itf.cryptoMap || setsUnchanged.has(itf.cryptoMap)) && (itf.cryptoMap || old.entries.length === 0)) {
        interfaces.set(name, old);
        continue;
      }
      const entries: MapEntryIntent[] = [];
      let oldByKey: Map<string, MapEntryIntent> | undefined;
      const oldItem = (i: number, key: () => string): MapEntryIntent | undefined => {
        if (!old) return undefined;
        const k = key();
        const aligned = old.entries[i];
        if (aligned?.key === k) return aligned;
        oldByKey ??= new Map(old.entries.map((x) => [x.key, x]));
        return oldByKey.get(k);
      };
      for (const c of cached) {
        for (const it of c.items) {
          const idx = entries.length;
          const aligned = old?.entries[idx];
          // same resolution and address (the key follows from the resolution): the same item
          if (trustStamps && aligned && aligned.entry === it.entry && aligned.local === local && aligned.iface === name) {
            entries.push(aligned);
            continue;
          }
          const key = `${name}|${entryId(it.entry)}`;
          const prevItem = oldItem(idx, () => key);
          const item: MapEntryIntent = {
            key, iface: name, entry: it.entry, fingerprint: entryFingerprint(it.entry, it.aclFingerprint, local),
            ...(local !== undefined ? { local } : {}), ...(it.acl ? { acl: it.acl } : {}),
          };
          entries.push(item);
          if (full || !prevItem) entryChanges.push({ op: 'add', key, next: item });
          else if (prevItem.fingerprint !== item.fingerprint) entryChanges.push({ op: 'modify', key, prev: prevItem, next: item });
        }
      }
      if (old && !full) {
        const now = new Set(entries.map((e) => e.key));
        for (const e of old.entries) if (!now.has(e.key)) entryChanges.push({ op: 'remove', key: e.key, prev: e });
      }
      const fingerprint = ownSame && old.local === local ? old.fingerprint : `${local ?? '-'}|${interfaceFingerprint(cfg, name)}`;
      const next: InterfaceIntent = { name, entries, fingerprint, ...(itf.cryptoMap ? { cryptoMap: itf.cryptoMap } : {}), ...(local !== undefined ? { local } : {}) };
      interfaces.set(name, next);
      // an interface changes with its own settings or its list of entries (an entry's
      // content is the entry's change)
      if (full || !old) ifChanges.push({ op: 'add', key: name, next });
      else if (old.fingerprint !== next.fingerprint || !sameKeys(old.entries, entries)) ifChanges.push({ op: 'modify', key: name, prev: old, next });
    }
    if (prev && !full) {
      for (const [key, old] of prev.interfaces) {
        if (interfaces.has(key)) continue;
        ifChanges.push({ op: 'remove', key, prev: old });
        for (const e of old.entries) entryChanges.push({ op: 'remove', key: e.key, prev: e });
      }
    }
    const intent = new ConfigIntent(cfg.revision, interfaces, resolved);
    this.last = { config: cfg, intent };
    return { revision: cfg.revision, config: cfg, intent, full, replaced, interfaces: ifChanges, mapEntries: entryChanges };
  }
}

/** The same entries in the same order (an entry added, removed or moved changes an interface). */
function sameKeys(a: readonly MapEntryIntent[], b: readonly MapEntryIntent[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.key !== b[i]!.key) return false;
  return true;
}

/** An `ip unnumbered` interface's borrowed address follows the source interface. */
function unnumberedMoved(cfg: Config, name: string, since: number): boolean {
  const src = cfg.interfaces.items[name]?.unnumbered;
  return src !== undefined && (cfg.interfaces.items[src]?.revision ?? Infinity) > since;
}
