// Crypto conditional debug (the guide's "Crypto Conditional Debug Support" chapter):
// `debug crypto condition peer ipv4 A | peer subnet A M | peer hostname H | peer username U |
// peer group G | isakmp profile P | spi N | connid N engine-id E | flowid N engine-id E | fvrf V | ivrf V`,
// `debug crypto condition unmatched [isakmp|ipsec|engine]` and `reset`.
// A debug line passes when no condition is set, or when its context has a value for some
// configured condition type that matches; a line whose context has no value for any
// configured type is "unmatched" and passes only with the unmatched flag of its class.
// Conditions act only on debug lines, which exist only while a global `debug crypto` is on.
import type { DebugClass, DebugEvent, EventContext } from '../lib/event-bus.js';
import { parseIpv4 } from '../lib/ip.js';
import type { Condition, ConditionType, UnmatchedClass } from '../cli/logging-view.js';

/** Which class's unmatched flag a debug class uses (IKEv2 lines are IKE lines). */
const UNMATCHED_OF: Record<DebugClass, UnmatchedClass> = { isakmp: 'isakmp', ikev2: 'isakmp', ipsec: 'ipsec', engine: 'engine' };

function key(c: Condition): string {
  return `${c.type}|${c.value}|${c.extra ?? ''}`;
}

export class DebugConditions {
  private readonly list = new Map<string, Condition>();
  private readonly unmatched = new Set<UnmatchedClass>();
  /** Parsed subnets, kept beside the text for a cheap check. */
  private subnets: Array<{ net: number; mask: number }> = [];

  add(c: Condition): void {
    this.list.set(key(c), c);
    this.reindex();
  }

  /** `no debug crypto condition ...`; false when it was not set. */
  remove(c: Condition): boolean {
    const had = this.list.delete(key(c));
    this.reindex();
    return had;
  }

  /** `debug crypto condition unmatched [class]` (no class: all three). */
  setUnmatched(cls: UnmatchedClass | undefined, on: boolean): void {
    for (const c of cls ? [cls] : (['isakmp', 'ipsec', 'engine'] as const)) {
      if (on) this.unmatched.add(c);
      else this.unmatched.delete(c);
    }
  }

  reset(): void {
    this.list.clear();
    this.unmatched.clear();
    this.reindex();
  }

  all(): Condition[] {
    return [...this.list.values()];
  }

  unmatchedOn(cls: UnmatchedClass): boolean {
    return this.unmatched.has(cls);
  }

  /** Conditional debug is "ON" once any condition or unmatched flag is set. */
  active(): boolean {
    return this.list.size > 0 || this.unmatched.size > 0;
  }

  private reindex(): void {
    this.subnets = [...this.list.values()].filter((c) => c.type === 'peer-subnet').map((c) => {
      const mask = parseIpv4(c.extra ?? '255.255.255.255') ?? 0xffffffff;
      return { net: ((parseIpv4(c.value) ?? 0) & mask) >>> 0, mask };
    });
  }

  passes(ev: DebugEvent): boolean {
    if (this.list.size === 0) return true;
    const r = this.match(ev.context);
    if (r === 'match') return true;
    if (r === 'nomatch') return false;
    return this.unmatched.has(UNMATCHED_OF[ev.debug]);
  }

  /** 'match': some configured type has a matching value; 'unmatched': no value to check. */
  match(ctx: EventContext): 'match' | 'nomatch' | 'unmatched' {
    let checked = false;
    for (const c of this.list.values()) {
      const have = FIELDS[c.type](ctx);
      if (have === undefined || have.length === 0) continue;
      checked = true;
      if (c.type === 'peer-subnet') continue; // checked below, from the parsed subnets
      const want = c.type === 'peer-hostname' ? c.value.toLowerCase() : NUMERIC.has(c.type) ? Number(c.value) : c.value;
      if (have.some((v) => (typeof v === 'string' && c.type === 'peer-hostname' ? v.toLowerCase() : v) === want)) return 'match';
    }
    if (ctx.peer !== undefined && this.subnets.length > 0) {
      const a = parseIpv4(ctx.peer);
      if (a !== undefined && this.subnets.some((s) => ((a & s.mask) >>> 0) === s.net)) return 'match';
    }
    return checked ? 'nomatch' : 'unmatched';
  }
}

const one = (v: string | undefined): readonly string[] | undefined => (v === undefined ? undefined : [v]);

/** The context values a condition type is checked against. */
const FIELDS: Record<ConditionType, (ctx: EventContext) => readonly (string | number)[] | undefined> = {
  'peer-ipv4': (c) => one(c.peer),
  'peer-subnet': (c) => one(c.peer),
  'peer-hostname': (c) => one(c.peerId),
  'peer-username': (c) => one(c.username),
  'peer-group': (c) => one(c.group),
  'isakmp-profile': (c) => one(c.profile),
  spi: (c) => c.spis,
  connid: (c) => c.connIds,
  flowid: (c) => c.flowIds,
  fvrf: (c) => one(c.fvrf),
  ivrf: (c) => one(c.ivrf),
};
const NUMERIC = new Set<ConditionType>(['spi', 'connid', 'flowid']);
