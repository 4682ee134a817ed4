// Interface names as IOS spells them: a type (abbreviable, case-insensitive) and a unit
// number such as `0/1`, `2/0.100` or `1`. `Fa0/0`, `fastethernet 0/0` and
// `Virtual-Templat1` all name a canonical `FastEthernet0/0` / `Virtual-Template1`.

export const INTERFACE_TYPES = [
  'ATM', 'BVI', 'Dialer', 'Ethernet', 'FastEthernet', 'GigabitEthernet', 'Loopback', 'Null',
  'Serial', 'TenGigabitEthernet', 'Tunnel', 'Virtual-Access', 'Virtual-Template', 'Vlan',
] as const;

export type InterfaceType = (typeof INTERFACE_TYPES)[number];

/** Types that are logical (created by configuration), not ports of the board. */
export const LOGICAL_TYPES: ReadonlySet<string> = new Set(['Loopback', 'Tunnel', 'Virtual-Template', 'Virtual-Access', 'Dialer', 'BVI', 'Vlan', 'Null']);

/** IOS short forms used by `show ip interface brief` and logs. */
export const SHORT_TYPE: Record<InterfaceType, string> = {
  ATM: 'AT', BVI: 'BV', Dialer: 'Di', Ethernet: 'Et', FastEthernet: 'Fa', GigabitEthernet: 'Gi', Loopback: 'Lo', Null: 'Nu',
  Serial: 'Se', TenGigabitEthernet: 'Te', Tunnel: 'Tu', 'Virtual-Access': 'Vi', 'Virtual-Template': 'Vt', Vlan: 'Vl',
};

export function resolveInterfaceType(prefix: string): InterfaceType | undefined {
  const p = prefix.toLowerCase();
  const exact = INTERFACE_TYPES.find((t) => t.toLowerCase() === p);
  if (exact) return exact;
  const hits = INTERFACE_TYPES.filter((t) => t.toLowerCase().startsWith(p));
  if (hits.length === 1) return hits[0];
  // IOS resolves the common two-letter forms even where a longer type shares the prefix.
  const preferred: Record<string, InterfaceType> = { t: 'Tunnel', tu: 'Tunnel', vi: 'Virtual-Access', v: 'Virtual-Template', vt: 'Virtual-Template', e: 'Ethernet', et: 'Ethernet' };
  return preferred[p];
}

const UNIT = /^\d+(\/\d+)*(\.\d+)?$/;

/** Canonical name for `text` (one word like `fa0/0`, or type and unit as two words). */
export function canonicalInterfaceName(text: string, unit?: string): string | undefined {
  let typePart: string;
  let unitPart: string;
  if (unit !== undefined) {
    typePart = text;
    unitPart = unit;
  } else {
    const m = /^([A-Za-z][A-Za-z-]*?)(\d.*)$/.exec(text);
    if (!m) return undefined;
    typePart = m[1]!;
    unitPart = m[2]!;
  }
  if (!UNIT.test(unitPart)) return undefined;
  const type = resolveInterfaceType(typePart);
  return type ? `${type}${unitPart}` : undefined;
}

export function interfaceTypeOf(name: string): InterfaceType | undefined {
  const m = /^([A-Za-z-]+)/.exec(name);
  return m ? resolveInterfaceType(m[1]!) : undefined;
}

export function shortInterfaceName(name: string): string {
  const type = interfaceTypeOf(name);
  return type ? SHORT_TYPE[type] + name.slice(type.length) : name;
}

/** Orders interfaces as IOS lists them: by type, then numerically by unit. */
export function compareInterfaceNames(a: string, b: string): number {
  const ta = interfaceTypeOf(a) ?? a, tb = interfaceTypeOf(b) ?? b;
  if (ta !== tb) return INTERFACE_TYPES.indexOf(ta as InterfaceType) - INTERFACE_TYPES.indexOf(tb as InterfaceType);
  const na = a.slice(ta.length).split(/[/.]/).map(Number), nb = b.slice(tb.length).split(/[/.]/).map(Number);
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const d = (na[i] ?? -1) - (nb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}
