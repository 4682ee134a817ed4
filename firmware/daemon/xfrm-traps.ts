// XFRM backend: the kernel itself must ask for SAs. For every permit line of a static
// isakmp crypto map entry the kernel holds an outbound policy whose template names the peer
// (a "trap"). The first packet of a flow without an SA makes the kernel send an ACQUIRE;
// that becomes the pipeline's acquire (the event the userspace data path raises), so IKE
// starts exactly as it does there. The SA pair's own out policy (same selector, same reqid)
// later replaces the trap and stays after the SA goes, so the next packet acquires again.
//
// A crypto ACL is first-match and a deny means "not this entry, try the next one"; a kernel
// policy has a priority (lower wins). So every line gets the priority of its place
// (acePriority: entry sequence number, then line number), a deny line becomes bypass
// policies (out, and mirrored in and fwd, so the clear answers are not dropped by a wider SA
// policy) at its place, and where a permit of a later entry overlaps an earlier deny, the
// overlap is trapped for that later entry just ahead of the deny (a "carve-out"). IPv4 and
// IPv6 lines alike.
import { aceToSelector, type Spd } from '../ipsec/spd.js';
import {
  addrSetBounds, formatIp, formatIpValue, parseIp, selectorKey, valueToWords,
  type AddrSet, type PacketKey, type TrafficSelector,
} from '../ipsec/selector.js';
import { parseTransformSet } from '../ipsec/transform.js';
import type {
  AcquireEvent, IpsecProtocol, KernelIpsec, PolicySpec, TrafficSelector as KernelSelector,
} from '../kernel/kernel-ipsec.js';

// ------------------------------------------------------------------ priorities

const ENTRY_STRIDE = 65536;
const ACE_STRIDE = 32;
/** The last line that gets a place of its own; later lines share it. */
const MAX_ACE = Math.floor(ENTRY_STRIDE / ACE_STRIDE) - 2;

/** Kernel priority of line `aceIndex` of crypto map entry `seq` (lower wins: the ACL's first match). */
export function acePriority(seq: number, aceIndex: number): number {
  return seq * ENTRY_STRIDE + Math.min(Math.max(aceIndex, 0), MAX_ACE) * ACE_STRIDE + ACE_STRIDE / 2;
}

/** Priority of an SA pair whose line is not known (responder-narrowed, dynamic): after its entry's lines. */
export function entryLastPriority(seq: number): number {
  return seq * ENTRY_STRIDE + ENTRY_STRIDE - 1;
}

// ------------------------------------------------------------------ selectors

/** The smallest prefix holding an address set ("10.1.0.0/24", "2001:db8::/48"); non-prefix sets widen. */
export function kernelPrefix(set: AddrSet): string {
  const bits = set.family === 4 ? 32 : 128;
  const [lo, hi] = addrSetBounds(set);
  let host = 0;
  for (let d = lo ^ hi; d > 0n; d >>= 1n) host++;
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(host)) - 1n);
  return `${formatIpValue(set.family, lo & mask)}/${bits - host}`;
}

/** The SAD scope (local -> remote) as a kernel selector; port ranges widen to any. */
export function scopeToKernelSelector(scope: TrafficSelector): KernelSelector {
  const sel: KernelSelector = { src: kernelPrefix(scope.src), dst: kernelPrefix(scope.dst) };
  if (scope.proto) sel.proto = scope.proto;
  if (scope.srcPorts.lo === scope.srcPorts.hi) sel.srcPort = scope.srcPorts.lo;
  if (scope.dstPorts.lo === scope.dstPorts.hi) sel.dstPort = scope.dstPorts.lo;
  return sel;
}

/** The selector of the answers (remote -> local). */
export function mirrorSelector(s: KernelSelector): KernelSelector {
  const m: KernelSelector = { src: s.dst, dst: s.src };
  if (s.proto) m.proto = s.proto;
  if (s.dstPort !== undefined) m.srcPort = s.dstPort;
  if (s.srcPort !== undefined) m.dstPort = s.srcPort;
  return m;
}

function prefixParts(p: string): { family: 4 | 6; value: bigint; len: number } {
  const [a, l] = p.split('/');
  const ip = parseIp(a!);
  return { family: ip.family, value: ip.value, len: l === undefined ? (ip.family === 4 ? 32 : 128) : Number(l) };
}

function intersectPrefix(x: string, y: string): string | undefined {
  const a = prefixParts(x);
  const b = prefixParts(y);
  if (a.family !== b.family) return undefined;
  const bits = a.family === 4 ? 32 : 128;
  const [wide, narrow] = a.len <= b.len ? [a, b] : [b, a];
  const shift = BigInt(bits - wide.len);
  return wide.value >> shift === narrow.value >> shift ? `${formatIpValue(narrow.family, narrow.value)}/${narrow.len}` : undefined;
}

/** The packets two kernel selectors both match, as one selector; undefined when none. */
export function intersectSelectors(x: KernelSelector, y: KernelSelector): KernelSelector | undefined {
  const src = intersectPrefix(x.src, y.src);
  const dst = intersectPrefix(x.dst, y.dst);
  if (!src || !dst) return undefined;
  const out: KernelSelector = { src, dst };
  const one = (p?: number, q?: number): number | undefined | null => (p !== undefined && q !== undefined && p !== q ? null : p ?? q);
  const proto = one(x.proto || undefined, y.proto || undefined);
  const sp = one(x.srcPort, y.srcPort);
  const dp = one(x.dstPort, y.dstPort);
  if (proto === null || sp === null || dp === null) return undefined;
  if (proto !== undefined) out.proto = proto;
  if (sp !== undefined) out.srcPort = sp;
  if (dp !== undefined) out.dstPort = dp;
  return out;
}

// ------------------------------------------------------------------ traps

/**
 * One kernel policy of the crypto map: a trap (a permit line; `policyKey` is the SPD policy
 * key IKE will install SAs under) or a bypass of a deny line (no policyKey).
 */
export interface TrapPolicy { policyKey?: string; spec: PolicySpec }

/**
 * The policies an interface's SPD needs: traps for the permits of static isakmp entries with
 * a peer and a local address, bypasses for the deny lines, and carve-outs for permits of
 * later entries overlapping those denies. `reqidFor` gives the reqid the SA pair of a policy
 * key will carry; `transformSetWords` a transform set's words (ESP, or AH alone).
 */
export function trapPolicies(
  spd: Pick<Spd<unknown>, 'entries'>, local: string | undefined, reqidFor: (policyKey: string) => number,
  transformSetWords: (name: string) => readonly string[] | undefined,
): TrapPolicy[] {
  if (!local) return [];
  const out: TrapPolicy[] = [];
  const denies: { sel: KernelSelector; priority: number; entry: number; carved: number }[] = [];
  spd.entries.forEach((e, entryIndex) => {
    if (e.temporaryId !== undefined) return;
    const peer = e.peers?.[0];
    const traps = e.kind === 'isakmp' && peer !== undefined;
    const words = e.transformSets?.map(transformSetWords).find((w) => w !== undefined);
    let protocol: IpsecProtocol = 'esp';
    try { if (words && !parseTransformSet([...words]).espCipher) protocol = 'ah'; } catch { /* validated elsewhere: ESP */ }
    e.effectiveAcl.forEach((ace, i) => {
      const scope = aceToSelector(ace);
      const selector = scopeToKernelSelector(scope);
      const priority = acePriority(e.seq, i);
      if (ace.action !== 'permit') {
        denies.push({ sel: selector, priority, entry: entryIndex, carved: 0 });
        for (const [direction, sel] of [['out', selector], ['in', mirrorSelector(selector)], ['fwd', mirrorSelector(selector)]] as const) {
          out.push({ spec: { selector: sel, direction, action: 'bypass', priority, templates: [] } });
        }
        return;
      }
      if (!traps) return;
      const policyKey = `${e.policyName}|${selectorKey(scope)}`;
      const reqid = reqidFor(policyKey);
      const templates = [{ protocol, mode: 'tunnel' as const, reqid, src: local, dst: formatIp(peer) }];
      out.push({ policyKey, spec: { selector, direction: 'out', action: 'protect', priority, templates } });
      // an earlier entry's deny would hide this permit's packets from it: trap the overlap ahead
      for (const d of denies) {
        if (d.entry === entryIndex || d.carved >= ACE_STRIDE / 2 - 1) continue;
        const overlap = intersectSelectors(d.sel, selector);
        if (!overlap) continue;
        d.carved++;
        out.push({ policyKey, spec: { selector: overlap, direction: 'out', action: 'protect', priority: d.priority - ACE_STRIDE / 2 + d.carved, templates } });
      }
    });
  });
  return out;
}

/** What the kernel's ACQUIRE says of the packet, as the SPD's packet key (IPv4 and IPv6). */
export function packetKeyFromAcquire(ev: AcquireEvent): PacketKey | undefined {
  const addr = (a: string) => {
    try {
      return parseIp(a.split('/')[0]!);
    } catch {
      return undefined;
    }
  };
  const s = ev.packetSelector;
  const src = addr(s.src);
  const dst = addr(s.dst);
  if (!src || !dst || src.family !== dst.family) return undefined;
  const proto = s.proto ?? 0;
  // XFRM carries ICMP type and code in the port fields; the SPD key has type << 8 | code in both
  const icmp = proto === (src.family === 4 ? 1 : 58) ? (((s.srcPort ?? 0) & 0xff) << 8) | ((s.dstPort ?? 0) & 0xff) : undefined;
  return {
    family: src.family, src: valueToWords(src.family, src.value), dst: valueToWords(dst.family, dst.value), proto,
    srcPort: icmp ?? s.srcPort ?? 0, dstPort: icmp ?? s.dstPort ?? 0,
  };
}

/**
 * The crypto map's policies installed in the kernel: `sync` adds the new ones and deletes
 * the ones no longer wanted. A trap that is already there is left alone, since an SA's
 * policy may have replaced it (with the peer IKE actually chose).
 */
export class XfrmTraps {
  private installed = new Map<string, PolicySpec>();
  private priorities = new Map<string, number>();
  constructor(private readonly kernel: KernelIpsec, private readonly log: (text: string) => void) {}

  /** The priority of a permit's trap: its SA pair's policies take the same place. */
  priorityOf(policyKey: string): number | undefined {
    return this.priorities.get(policyKey);
  }

  sync(wanted: readonly TrapPolicy[]): void {
    const next = new Map<string, PolicySpec>();
    this.priorities = new Map();
    for (const t of wanted) {
      next.set(JSON.stringify(t.spec), t.spec);
      // the permit's own trap comes first; carve-outs of the same key sit elsewhere
      if (t.policyKey !== undefined && !this.priorities.has(t.policyKey)) this.priorities.set(t.policyKey, t.spec.priority);
    }
    const key = (p: PolicySpec) => JSON.stringify([p.direction, p.selector]);
    const keep = new Set([...next.values()].map(key));
    for (const [k, p] of this.installed) {
      if (next.has(k)) continue;
      this.installed.delete(k);
      if (!keep.has(key(p))) void this.kernel.deletePolicy({ selector: p.selector, direction: p.direction }).catch(() => {});
    }
    for (const [k, p] of next) {
      if (this.installed.has(k)) continue;
      this.installed.set(k, p);
      void this.kernel.addPolicy({ ...p, replace: true }).catch((e: unknown) => this.log(`XFRM ${p.action === 'bypass' ? 'bypass' : 'trap'} policy ${p.direction} ${p.selector.src} -> ${p.selector.dst}: ${(e as Error).message}`));
    }
  }
}
