// Security policy database compiled from the crypto map set applied to one interface
// (or from a VTI's any/any policy). Semantics follow the IOS guide ("Crypto Access Lists",
// "Crypto Map Sets"):
//   - map entries are searched in sequence order (lower seq first; entries of a dynamic
//     map set referenced at one seq are ordered by their own dynamic seq, `subSeq`);
//   - within an entry, the ACL is first-match: the first matching `permit` means "protect
//     with this entry", the first matching `deny` means "this entry does not protect it"
//     and the search goes on with the next map entry; no match in the ACL also goes on;
//   - traffic refused by every entry goes out in the clear (bypass);
//   - the first permit matched sets the SA's scope: the ACE's own selectors, or the exact
//     host pair when the entry has `set security-association level per-host`;
//   - the ACL is applied forward to outbound traffic and mirrored (src/dst and ports
//     swapped) to inbound traffic; inbound clear traffic that matches a permit of an
//     IPsec entry is dropped ("it should have been protected");
//   - ipsec-manual entries use their ACL up to its first permit ("restricted to a single
//     permit entry and subsequent entries are ignored"; denies before it still apply);
//   - an entry without `match address` is ignored in filtering; a dynamic entry whose ACL
//     is missing or empty drops everything that reaches it; a static entry whose ACL is
//     missing or empty is incomplete and ignored.
// All ACEs of all entries are flattened in search order into one AclClassifier, so a
// lookup costs a few hash probes whatever the ACL sizes; a deny restarts the search just
// after the denying entry's last ACE.

import { AclClassifier, formatAclEntry, icmpPortOp, type AclEntry, type PortOp } from './acl-classifier.js';
import {
  anyAddr, ANY_PORTS, compileSelector, formatIpValue, hostAddr, IPPROTO_ANY, ipEquals, mirrorKey,
  selectorContains, selectorIntersect, selectorKey, wordsToValue,
  type IpAddr, type PacketKey, type PortRange, type SelectorMatcher, type TrafficSelector,
} from './selector.js';

export type CryptoMapKind = 'isakmp' | 'manual' | 'dynamic';

/** One crypto map entry as the SPD needs it (the lead maps the IOS config model to this). */
export interface SpdMapEntryInput<M = unknown> {
  mapName: string;
  seq: number;
  /** Order inside a dynamic map set referenced at `seq` (its dynamic-seq-num). Default 0. */
  subSeq?: number;
  kind: CryptoMapKind;
  /** ACL name or number, for counters and show output. */
  aclName?: string;
  /** undefined: no `match address`; []: the named ACL is missing or empty. */
  acl?: readonly AclEntry[];
  /** `set peer` list in configuration order (load sharing / failover order). */
  peers?: readonly IpAddr[];
  transformSets?: readonly string[];
  /** `set security-association level per-host` */
  perHost?: boolean;
  /** Anything the caller wants back with a decision (lifetimes, PFS group, ...). */
  data?: M;
  /**
   * A temporary entry made from a dynamic map entry by a successful negotiation (IOS:
   * "dynamic (created from dynamic map D/N)"): kind 'dynamic' (never initiates), its ACL the
   * negotiated flow. It is searched before the dynamic entries referenced at the same `seq`,
   * and never answers a responder's question (the template does).
   */
  temporaryId?: number;
  /** `discover` on the referencing entry (TED): a packet without an SA starts a probe. */
  discover?: boolean;
}

export interface SpdEntry<M = unknown> extends SpdMapEntryInput<M> {
  /** Position in search order. */
  readonly index: number;
  /** Stable name of the entry: `map/seq` or `map/seq/subSeq`. */
  readonly policyName: string;
  /** ACEs in effect (manual entries: up to the first permit). */
  readonly effectiveAcl: readonly AclEntry[];
  /** First flattened classifier index of this entry's ACEs. */
  readonly aceBase: number;
}

export interface ProtectDecision<M = unknown> {
  readonly action: 'protect';
  readonly entry: SpdEntry<M>;
  /** Index of the matched ACE in the entry's ACL. */
  readonly aceIndex: number;
  /** SA scope, local -> remote (ACE selectors or the per-host pair). */
  readonly scope: TrafficSelector;
  readonly scopeKey: string;
  /** Key of the outbound SA bundle in the SAD: `policyName|scopeKey`. */
  readonly policyKey: string;
  /** true for ipsec-isakmp entries (missing SA -> ask IKE); manual/dynamic: missing SA -> drop. */
  readonly initiate: boolean;
}

export interface BypassDecision { readonly action: 'bypass' }
export interface DropDecision<M = unknown> { readonly action: 'drop'; readonly entry: SpdEntry<M>; readonly reason: 'empty-acl' }
export type OutboundDecision<M = unknown> = ProtectDecision<M> | BypassDecision | DropDecision<M>;

export interface InboundAllow { readonly action: 'allow' }
export interface InboundDrop<M = unknown> {
  readonly action: 'drop';
  readonly entry: SpdEntry<M>;
  /** ACE that says the traffic must be protected; -1 for a dynamic entry with an empty ACL */
  readonly aceIndex: number;
  readonly reason: 'should-be-protected' | 'empty-acl';
}
export type InboundDecision<M = unknown> = InboundAllow | InboundDrop<M>;

/** Answer to an IKE responder's question "may I protect this flow, and with what?". */
export interface ProposalMatch<M = unknown> {
  readonly entry: SpdEntry<M>;
  /** Index of the permit ACE that covers the request; -1 for a dynamic entry without ACL. */
  readonly aceIndex: number;
  /** The selector to install (local -> remote): the request, or its narrowed form. */
  readonly selector: TrafficSelector;
}

/** One entry's answer to a responder's request (see Spd.proposalVerdicts). */
export interface ProposalVerdict<M = unknown> {
  readonly entry: SpdEntry<M>;
  readonly match?: ProposalMatch<M>;
  /** Why the entry does not take the request (for debug output). */
  readonly refused?: string;
}

const BYPASS: BypassDecision = Object.freeze({ action: 'bypass' });
const ALLOW: InboundAllow = Object.freeze({ action: 'allow' });

/** Converts an IOS port operator to the single range a selector can carry (neq -> any). */
export function portOpToRange(op: PortOp | undefined): PortRange {
  if (!op) return ANY_PORTS;
  switch (op.op) {
    case 'any': case 'neq': return ANY_PORTS;
    case 'eq': return { lo: op.port, hi: op.port };
    case 'lt': return { lo: 0, hi: Math.max(0, op.port - 1) };
    case 'gt': return { lo: Math.min(65535, op.port + 1), hi: 65535 };
    case 'range': return { lo: op.lo, hi: op.hi };
  }
}

/** The traffic selector (local -> remote) an ACE describes. */
export function aceToSelector(ace: AclEntry): TrafficSelector {
  if (ace.icmp) {
    // type<<8|code in both port fields, as PacketKey carries ICMP
    const r = portOpToRange(icmpPortOp(ace.icmp));
    return { family: ace.src.family, src: ace.src, dst: ace.dst, proto: ace.proto ?? IPPROTO_ANY, srcPorts: r, dstPorts: r };
  }
  return {
    family: ace.src.family,
    src: ace.src,
    dst: ace.dst,
    proto: ace.proto ?? IPPROTO_ANY,
    srcPorts: portOpToRange(ace.srcPort),
    dstPorts: portOpToRange(ace.dstPort),
  };
}

/** Per flattened classifier index: who owns it and what it means. */
const FLAT_ACE = 0;
const FLAT_DROP_ALL = 1;

const matcherCache = new WeakMap<TrafficSelector, SelectorMatcher>();

/** Does a decrypted inbound packet (remote -> local) belong to an SA of scope `scope`? */
export function inboundMatchesScope(k: PacketKey, scope: TrafficSelector): boolean {
  let m = matcherCache.get(scope);
  if (!m) { m = compileSelector(scope); matcherCache.set(scope, m); }
  return m.matchesReverse(k);
}

export interface SpdOptions {
  /** Count ACE matches (show access-lists). Default true. */
  countMatches?: boolean;
}

export class Spd<M = unknown> {
  /** Entries in search order. */
  readonly entries: readonly SpdEntry<M>[];
  readonly classifier: AclClassifier;
  private readonly flatEntry: Int32Array;
  private readonly flatKind: Uint8Array;
  private readonly flatAce: Int32Array;
  /** 1 when a match ends the search (permit, or a dynamic entry's empty ACL), 0 for deny */
  private readonly flatTerminal: Uint8Array;
  /** prebuilt protect decisions per flattened index (non per-host entries) */
  private readonly flatDecision: (ProtectDecision<M> | undefined)[];
  private readonly flatScope: (TrafficSelector | undefined)[];
  private readonly entryEnd: Int32Array;
  private readonly count: boolean;
  private readonly mirrored: PacketKey = { family: 4, src: new Uint32Array(1), dst: new Uint32Array(1), proto: 0, srcPort: 0, dstPort: 0 };

  constructor(inputs: readonly SpdMapEntryInput<M>[], opts: SpdOptions = {}) {
    this.count = opts.countMatches ?? true;
    // one crypto map set per interface: order by seq, then by dynamic seq (stable sort)
    // temporary entries first within their seq, so the template behind them never shadows them
    const tempRank = (x: SpdMapEntryInput<M>): number => (x.temporaryId !== undefined ? 0 : 1);
    const sorted = [...inputs].sort((a, b) => (a.seq - b.seq) || (tempRank(a) - tempRank(b))
      || ((a.temporaryId ?? a.subSeq ?? 0) - (b.temporaryId ?? b.subSeq ?? 0)));
    const flat: AclEntry[] = [];
    const flatEntry: number[] = [];
    const flatKind: number[] = [];
    const flatAce: number[] = [];
    const entries: SpdEntry<M>[] = [];
    const entryEnd: number[] = [];
    sorted.forEach((inp, index) => {
      const policyName = inp.temporaryId !== undefined ? `${inp.mapName}/${inp.seq}/t${inp.temporaryId}`
        : inp.subSeq === undefined ? `${inp.mapName}/${inp.seq}` : `${inp.mapName}/${inp.seq}/${inp.subSeq}`;
      let effective: readonly AclEntry[] = inp.acl ?? [];
      if (inp.kind === 'manual') {
        const firstPermit = effective.findIndex((a) => a.action === 'permit');
        effective = firstPermit < 0 ? [] : effective.slice(0, firstPermit + 1);
      }
      const aceBase = flat.length;
      if (inp.acl !== undefined) {
        if (inp.kind === 'dynamic' && inp.acl.length === 0) {
          // "A dynamic crypto map entry with an empty access list causes traffic to be dropped."
          for (const family of [4, 6] as const) {
            flat.push({ action: 'permit', src: anyAddr(family), dst: anyAddr(family) });
            flatEntry.push(index); flatKind.push(FLAT_DROP_ALL); flatAce.push(-1);
          }
        } else {
          effective.forEach((ace, i) => {
            flat.push(ace);
            flatEntry.push(index); flatKind.push(FLAT_ACE); flatAce.push(i);
          });
        }
      }
      entryEnd.push(flat.length);
      entries.push(Object.assign({}, inp, { index, policyName, effectiveAcl: effective, aceBase }));
    });
    this.entries = entries;
    this.entryEnd = Int32Array.from(entryEnd);
    this.flatEntry = Int32Array.from(flatEntry);
    this.flatKind = Uint8Array.from(flatKind);
    this.flatAce = Int32Array.from(flatAce);
    this.classifier = new AclClassifier(flat);
    this.flatTerminal = Uint8Array.from(flat, (ace, i) => (flatKind[i] === FLAT_DROP_ALL || ace.action === 'permit' ? 1 : 0));
    this.flatScope = flat.map((ace, i) => (flatKind[i] === FLAT_ACE ? aceToSelector(ace) : undefined));
    this.flatDecision = flat.map((ace, i) => {
      const entry = entries[flatEntry[i]!]!;
      const scope = this.flatScope[i];
      if (!scope || ace.action !== 'permit' || entry.perHost) return undefined;
      const scopeKey = selectorKey(scope);
      return Object.freeze({
        action: 'protect' as const, entry, aceIndex: flatAce[i]!, scope, scopeKey,
        policyKey: `${entry.policyName}|${scopeKey}`, initiate: entry.kind === 'isakmp',
      });
    });
  }

  /**
   * The same SPD with the settings of some entries replaced (peers, transform sets, data,
   * TED), by search index: the classifier and its match counters are shared, nothing is
   * recompiled. Undefined when an update would move the entry or change its ACL (the
   * same rules array), kind or per-host level: compile a new SPD then.
   */
  patched(updates: ReadonlyMap<number, SpdMapEntryInput<M>>): Spd<M> | undefined {
    const entries = [...this.entries];
    for (const [i, inp] of updates) {
      const e = entries[i];
      if (!e || inp.mapName !== e.mapName || inp.seq !== e.seq || inp.subSeq !== e.subSeq || inp.temporaryId !== e.temporaryId
        || inp.kind !== e.kind || (inp.perHost ?? false) !== (e.perHost ?? false) || inp.acl !== e.acl) return undefined;
      entries[i] = Object.assign({}, inp, { index: e.index, policyName: e.policyName, effectiveAcl: e.effectiveAcl, aceBase: e.aceBase });
    }
    const out = Object.create(Spd.prototype) as Spd<M>;
    Object.assign(out, this, {
      entries,
      mirrored: { family: 4, src: new Uint32Array(1), dst: new Uint32Array(1), proto: 0, srcPort: 0, dstPort: 0 },
      flatDecision: this.flatDecision.map((d) => (d && updates.has(d.entry.index) ? Object.freeze({ ...d, entry: entries[d.entry.index]! }) : d)),
    });
    return out;
  }

  /** Runs the ordered search; returns the flattened index of the deciding ACE or -1. */
  private search(k: PacketKey): number {
    let from = 0;
    for (;;) {
      const i = this.count ? this.classifier.matchCounted(k, from) : this.classifier.match(k, from);
      if (i < 0) return -1;
      if (this.flatTerminal[i] === 1) return i;
      // deny: this entry does not protect it; go on with the next entry
      from = this.entryEnd[this.flatEntry[i]!]!;
    }
  }

  /** Decision for a packet leaving through the interface. */
  outbound(k: PacketKey): OutboundDecision<M> {
    const i = this.search(k);
    if (i < 0) return BYPASS;
    const entry = this.entries[this.flatEntry[i]!]!;
    if (this.flatKind[i] === FLAT_DROP_ALL) return { action: 'drop', entry, reason: 'empty-acl' };
    const prebuilt = this.flatDecision[i];
    if (prebuilt) return prebuilt;
    // per-host: scope is the exact host pair, with the ACE's protocol and ports
    const aceScope = this.flatScope[i]!;
    const scope: TrafficSelector = {
      ...aceScope,
      src: hostAddr({ family: k.family, value: wordsToValue(k.src) }),
      dst: hostAddr({ family: k.family, value: wordsToValue(k.dst) }),
    };
    const scopeKey = selectorKey(scope);
    return {
      action: 'protect', entry, aceIndex: this.flatAce[i]!, scope, scopeKey,
      policyKey: `${entry.policyName}|${scopeKey}`, initiate: entry.kind === 'isakmp',
    };
  }

  /** Decision for a clear (not IPsec-protected) packet arriving on the interface. */
  inboundClear(k: PacketKey): InboundDecision<M> {
    const m = mirrorKey(k, this.mirrored);
    const i = this.search(m);
    if (i < 0) return ALLOW;
    const entry = this.entries[this.flatEntry[i]!]!;
    if (this.flatKind[i] === FLAT_DROP_ALL) return { action: 'drop', entry, aceIndex: -1, reason: 'empty-acl' };
    return { action: 'drop', entry, aceIndex: this.flatAce[i]!, reason: 'should-be-protected' };
  }

  /** Does a packet that came out of an inbound SA belong to that SA's scope (local -> remote)? */
  checkDecrypted(k: PacketKey, scope: TrafficSelector): boolean {
    return inboundMatchesScope(k, scope);
  }

  private peerAllowed(e: SpdEntry<M>, peer: IpAddr | undefined): boolean {
    if (!peer) return true;
    if (e.kind === 'dynamic' && (!e.peers || e.peers.length === 0)) return true;
    return (e.peers ?? []).some((p) => ipEquals(p, peer));
  }

  /**
   * IKEv1 responder (quick mode proxy identities) and static checks: the first entry, in
   * sequence order, naming `peer` (dynamic entries accept any peer unless they name some)
   * whose ACL has a permit ACE containing the whole requested flow `request` (written local
   * -> remote, i.e. the peer's proposal mirrored). A deny ACE before that permit disqualifies
   * the entry when it covers the whole request (one that only overlaps it is a carve-out for
   * packets). Manual entries never match (nothing to negotiate).
   */
  matchProposal(request: TrafficSelector, peer?: IpAddr): ProposalMatch<M> | undefined {
    return this.scanProposal(request, peer, false);
  }

  /**
   * IKEv2 responder narrowing (RFC 7296 2.9): like matchProposal, but a permit ACE that
   * only overlaps the request is accepted and the result is the intersection.
   */
  narrowProposal(request: TrafficSelector, peer?: IpAddr): ProposalMatch<M> | undefined {
    return this.scanProposal(request, peer, true);
  }

  private scanProposal(request: TrafficSelector, peer: IpAddr | undefined, narrow: boolean): ProposalMatch<M> | undefined {
    for (const r of this.proposalVerdicts(request, peer, narrow)) if (r.match) return r.match;
    return undefined;
  }

  /**
   * Every entry that could answer a responder (static and dynamic, search order; manual and
   * temporary entries never do) with its verdict on the requested flow: the match, or why
   * it refused. The IKE responders walk this list checking their own parameters
   * (transform sets, PFS, profile) and take the first entry that accepts everything.
   * Without `narrow` a request wider than every permit is refused, never narrowed.
   */
  proposalVerdicts(request: TrafficSelector, peer: IpAddr | undefined, narrow = false): ProposalVerdict<M>[] {
    const out: ProposalVerdict<M>[] = [];
    for (const e of this.entries) {
      if (e.kind === 'manual' || e.temporaryId !== undefined) continue;
      if (!this.peerAllowed(e, peer)) { out.push({ entry: e, refused: 'peer not listed in the entry' }); continue; }
      if (e.acl === undefined) {
        // dynamic without match address: accepts any flow the peer proposes; static: incomplete
        if (e.kind === 'dynamic') out.push({ entry: e, match: { entry: e, aceIndex: -1, selector: request } });
        continue;
      }
      let partial: ProposalMatch<M> | undefined;
      let verdict: ProposalVerdict<M> | undefined;
      for (let i = 0; i < e.effectiveAcl.length && !verdict; i++) {
        const ace = e.effectiveAcl[i]!;
        const sel = aceToSelector(ace);
        const overlap = selectorIntersect(sel, request);
        if (!overlap) continue;
        // A deny that covers the whole request refuses it. One that only carves a part out
        // (deny a host pair, then permit the /24; the guide's denies before `permit ... any`)
        // does not: the peer asks for the permit's flow, and the deny keeps working on packets
        // (first match: that traffic is neither sent into the SA nor expected from it).
        if (ace.action === 'deny') {
          if (!selectorContains(sel, request)) continue;
          verdict = partial ? { entry: e, match: partial } : { entry: e, refused: `proxies hit deny entry ${i + 1} of access list ${e.aclName ?? '?'}` };
          break;
        }
        if (selectorContains(sel, request)) verdict = { entry: e, match: { entry: e, aceIndex: i, selector: request } };
        else if (narrow && !partial) partial = { entry: e, aceIndex: i, selector: overlap };
      }
      if (!verdict && partial) verdict = { entry: e, match: partial };
      out.push(verdict ?? { entry: e, refused: e.acl.length === 0 ? `access list ${e.aclName ?? '?'} missing or empty`
        : `proxies not inside a permit of access list ${e.aclName ?? '?'}` });
    }
    return out;
  }

  /** ACE match counters summed per ACL name: name -> counts by ACE index (original ACL order). */
  aclMatchCounts(): Map<string, number[]> {
    const out = new Map<string, number[]>();
    for (let i = 0; i < this.classifier.entries.length; i++) {
      if (this.flatKind[i] !== FLAT_ACE) continue;
      const e = this.entries[this.flatEntry[i]!]!;
      if (e.aclName === undefined) continue;
      let arr = out.get(e.aclName);
      if (!arr) { arr = new Array<number>((e.acl ?? []).length).fill(0); out.set(e.aclName, arr); }
      const ai = this.flatAce[i]!;
      arr[ai] = (arr[ai] ?? 0) + this.classifier.counters[i]!;
    }
    return out;
  }

  resetCounters(): void {
    this.classifier.resetCounters();
  }

  /** Text dump for debugging: entries in search order with their effective ACEs. */
  describe(): string {
    const lines: string[] = [];
    for (const e of this.entries) {
      const peers = (e.peers ?? []).map((p) => formatIpValue(p.family, p.value)).join(',');
      lines.push(`${e.policyName} ${e.kind}${e.perHost ? ' per-host' : ''} peers=[${peers}] acl=${e.aclName ?? '-'}`);
      for (const a of e.effectiveAcl) lines.push(`  ${formatAclEntry(a)}`);
    }
    return lines.join('\n');
  }
}

/**
 * The policy of a VTI (`tunnel protection ipsec profile`): one entry permitting any/any of
 * the family, so routing decides what enters the tunnel and everything in it is protected.
 */
export function vtiPolicy<M = unknown>(tunnelName: string, family: 4 | 6, rest: Partial<SpdMapEntryInput<M>> = {}): SpdMapEntryInput<M> {
  return {
    mapName: tunnelName, seq: 1, kind: 'isakmp', ...rest,
    acl: [{ action: 'permit', proto: IPPROTO_ANY, src: anyAddr(family), dst: anyAddr(family) }],
  };
}

export function compileSpd<M = unknown>(entries: readonly SpdMapEntryInput<M>[], opts?: SpdOptions): Spd<M> {
  return new Spd<M>(entries, opts);
}
