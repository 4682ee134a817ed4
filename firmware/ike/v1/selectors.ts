// Proxy identities (IDci/IDcr) as plain selectors, and the IOS responder rule: a proposed
// flow is accepted only if it lies inside one of the responder's own crypto ACL permit
// entries (the guide's "Mirror Image Crypto Access Lists", Cases 3 and 4).
import {
  IdType, bytesToIpv4, idIpv4Addr, idIpv4Subnet, ipv4ToBytes, maskToPrefix, type IdPayload,
} from '../../proto/ikev1/index.js';

/** An IPv4 prefix with IP protocol (0 = any) and port (0 = any). */
export interface Selector {
  addr: string;
  prefixLen: number;
  protocol: number;
  port: number;
}

/** One crypto ACL permit entry, seen from this box: source = local side, destination = remote side. */
export interface ProxyPermit {
  local: Selector;
  remote: Selector;
}

function toU32(addr: string): number {
  const b = ipv4ToBytes(addr);
  return ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
}

function maskOf(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** a inside b (address range, protocol, port). */
export function selectorWithin(a: Selector, b: Selector): boolean {
  if (a.prefixLen < b.prefixLen) return false;
  const m = maskOf(b.prefixLen);
  if (((toU32(a.addr) & m) >>> 0) !== ((toU32(b.addr) & m) >>> 0)) return false;
  if (b.protocol !== 0 && a.protocol !== b.protocol) return false;
  if (b.port !== 0 && a.port !== b.port) return false;
  return true;
}

export function selectorEquals(a: Selector, b: Selector): boolean {
  return a.prefixLen === b.prefixLen && a.protocol === b.protocol && a.port === b.port &&
    ((toU32(a.addr) & maskOf(a.prefixLen)) >>> 0) === ((toU32(b.addr) & maskOf(b.prefixLen)) >>> 0);
}

export function hostSelector(addr: string): Selector {
  return { addr, prefixLen: 32, protocol: 0, port: 0 };
}

export function selectorToId(s: Selector): IdPayload {
  return s.prefixLen === 32 ? idIpv4Addr(s.addr, s.protocol, s.port) : idIpv4Subnet(s.addr, s.prefixLen, s.protocol, s.port);
}

/** ID payload -> selector; undefined for forms that are not a single IPv4 prefix. */
export function idToSelector(id: Pick<IdPayload, 'idType' | 'data' | 'protocolId' | 'port'>): Selector | undefined {
  const d = id.data;
  switch (id.idType) {
    case IdType.ID_IPV4_ADDR:
      return { addr: bytesToIpv4(d), prefixLen: 32, protocol: id.protocolId, port: id.port };
    case IdType.ID_IPV4_ADDR_SUBNET: {
      const len = maskToPrefix(d.subarray(4, 8));
      if (len < 0) return undefined;
      const m = maskOf(len);
      const a = (toU32(bytesToIpv4(d)) & m) >>> 0;
      return { addr: u32ToIp(a), prefixLen: len, protocol: id.protocolId, port: id.port };
    }
    case IdType.ID_IPV4_ADDR_RANGE: {
      const lo = toU32(bytesToIpv4(d));
      const hi = toU32(bytesToIpv4(d, 4));
      for (let len = 0; len <= 32; len++) {
        const m = maskOf(len);
        const size = 2 ** (32 - len);
        if (((lo & m) >>> 0) === lo && lo + size - 1 === hi) return { addr: u32ToIp(lo), prefixLen: len, protocol: id.protocolId, port: id.port };
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

function u32ToIp(v: number): string {
  return `${(v >>> 24) & 0xff}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

export function formatSelector(s: Selector): string {
  return `(addr=${s.addr}/${s.prefixLen}, prot=${s.protocol}, port=${s.port})`;
}

/**
 * Responder check: the flow proposed by the initiator (its IDci = our remote side, its
 * IDcr = our local side) must lie inside one of our permits.
 */
export function findPermitForFlow(permits: readonly ProxyPermit[], local: Selector, remote: Selector): ProxyPermit | undefined {
  return permits.find((p) => selectorWithin(local, p.local) && selectorWithin(remote, p.remote));
}

