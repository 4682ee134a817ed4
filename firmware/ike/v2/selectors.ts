// Traffic selectors: configuration to wire form, intersection / narrowing (RFC 7296 2.9),
// and address helpers.
import { isIPv4, isIPv6 } from 'node:net';
import { TsType, type TrafficSelector } from '../../proto/ikev2/index.js';
import type { SelectorConfig } from './config-types.js';

export class SelectorConfigError extends Error {
  constructor(readonly value: string) {
    super(`bad selector / address: ${value}`);
    this.name = 'SelectorConfigError';
  }
}

/** "10.1.2.3" or an IPv6 text address -> 4 or 16 bytes. */
export function parseIp(text: string): Uint8Array {
  if (isIPv4(text)) return Uint8Array.from(text.split('.').map(Number));
  if (isIPv6(text)) {
    let s = text;
    const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
    let tail: number[] = [];
    if (v4) {
      const b = parseIp(v4[1]!);
      tail = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!];
      s = s.slice(0, s.length - v4[1]!.length).replace(/:$/, ':0');
      if (s.endsWith('::0')) s = s.slice(0, -1);
    }
    const [head, rest] = s.includes('::') ? s.split('::') as [string, string] : [s, undefined];
    const h = head ? head.split(':').filter((x) => x !== '').map((x) => parseInt(x, 16)) : [];
    const r = rest !== undefined && rest !== '' ? rest.split(':').filter((x) => x !== '').map((x) => parseInt(x, 16)) : [];
    let groups: number[];
    if (rest === undefined) groups = [...h, ...tail];
    else {
      const fill = 8 - h.length - r.length - tail.length;
      groups = [...h, ...new Array<number>(Math.max(0, fill)).fill(0), ...r, ...tail];
    }
    if (groups.length !== 8) throw new SelectorConfigError(text);
    const out = new Uint8Array(16);
    groups.forEach((g, i) => {
      out[2 * i] = (g >> 8) & 0xff;
      out[2 * i + 1] = g & 0xff;
    });
    return out;
  }
  throw new SelectorConfigError(text);
}

export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::').replace(/:{3,}/, '::');
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Range of a CIDR block. */
export function cidrRange(cidr: string): { start: Uint8Array; end: Uint8Array } {
  const [addr, lenText] = cidr.split('/') as [string, string | undefined];
  const base = parseIp(addr);
  const bits = base.length * 8;
  const len = lenText === undefined ? bits : Number(lenText);
  if (!Number.isInteger(len) || len < 0 || len > bits) throw new SelectorConfigError(cidr);
  const start = new Uint8Array(base);
  const end = new Uint8Array(base);
  for (let i = 0; i < bits; i++) {
    if (i < len) continue;
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    start[byte]! &= ~mask;
    end[byte]! |= mask;
  }
  return { start, end };
}

export function selectorFromConfig(c: SelectorConfig): TrafficSelector {
  let start: Uint8Array;
  let end: Uint8Array;
  if (c.cidr) ({ start, end } = cidrRange(c.cidr));
  else if (c.startAddress) {
    start = parseIp(c.startAddress);
    end = parseIp(c.endAddress ?? c.startAddress);
  } else throw new SelectorConfigError('selector without address');
  if (start.length !== end.length) throw new SelectorConfigError(`${c.startAddress}-${c.endAddress}`);
  return {
    tsType: start.length === 4 ? TsType.TS_IPV4_ADDR_RANGE : TsType.TS_IPV6_ADDR_RANGE,
    ipProtocol: c.protocol ?? 0,
    startPort: c.startPort ?? 0,
    endPort: c.endPort ?? 65535,
    startAddress: start,
    endAddress: end,
  };
}

/** Intersection of two selectors, or undefined. */
export function intersect(a: TrafficSelector, b: TrafficSelector): TrafficSelector | undefined {
  if (a.tsType !== b.tsType) return undefined;
  let proto: number;
  if (a.ipProtocol === 0) proto = b.ipProtocol;
  else if (b.ipProtocol === 0 || b.ipProtocol === a.ipProtocol) proto = a.ipProtocol;
  else return undefined;
  const sp = Math.max(a.startPort, b.startPort);
  const ep = Math.min(a.endPort, b.endPort);
  if (sp > ep) return undefined;
  const sa = compare(a.startAddress, b.startAddress) >= 0 ? a.startAddress : b.startAddress;
  const ea = compare(a.endAddress, b.endAddress) <= 0 ? a.endAddress : b.endAddress;
  if (compare(sa, ea) > 0) return undefined;
  return { tsType: a.tsType, ipProtocol: proto, startPort: sp, endPort: ep, startAddress: new Uint8Array(sa), endAddress: new Uint8Array(ea) };
}

/** RFC 7296 2.9 narrowing: every non-empty intersection of a requested and a local selector, deduplicated. */
export function narrow(requested: readonly TrafficSelector[], local: readonly TrafficSelector[]): TrafficSelector[] {
  const out: TrafficSelector[] = [];
  for (const r of requested) {
    for (const l of local) {
      const x = intersect(r, l);
      if (x && !out.some((y) => sameSelector(x, y))) out.push(x);
    }
  }
  return out;
}

export function sameSelector(a: TrafficSelector, b: TrafficSelector): boolean {
  return a.tsType === b.tsType && a.ipProtocol === b.ipProtocol && a.startPort === b.startPort && a.endPort === b.endPort &&
    compare(a.startAddress, b.startAddress) === 0 && compare(a.endAddress, b.endAddress) === 0;
}

/** True when `inner` lies within `outer`. */
export function isSubset(inner: TrafficSelector, outer: TrafficSelector): boolean {
  const x = intersect(inner, outer);
  return x !== undefined && sameSelector(x, inner);
}

/** "10.0.0.0-10.0.0.255 proto 0 ports 0-65535" */
export function formatSelector(ts: TrafficSelector): string {
  const proto = ts.ipProtocol === 0 ? 'any' : String(ts.ipProtocol);
  const ports = ts.startPort === 0 && ts.endPort === 65535 ? 'any' : `${ts.startPort}-${ts.endPort}`;
  return `${formatIp(ts.startAddress)}-${formatIp(ts.endAddress)} proto ${proto} port ${ports}`;
}

/** Does the address (text) fall inside "A" or "A/len" ("0.0.0.0/0" = any)? */
export function addressMatches(pattern: string, address: string): boolean {
  try {
    const { start, end } = cidrRange(pattern);
    const a = parseIp(address);
    return a.length === start.length && compare(a, start) >= 0 && compare(a, end) <= 0;
  } catch {
    return false;
  }
}
