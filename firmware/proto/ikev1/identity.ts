// RFC 2407 4.6.2 identification data helpers: build and print ID payloads.
import { IdType, PayloadType } from './constants.js';
import type { IdPayload } from './payloads.js';

export function ipv4ToBytes(addr: string): Uint8Array {
  const parts = addr.split('.');
  if (parts.length !== 4) throw new RangeError(`bad IPv4 address ${addr}`);
  const out = new Uint8Array(4);
  parts.forEach((p, i) => {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) throw new RangeError(`bad IPv4 address ${addr}`);
    out[i] = n;
  });
  return out;
}

export function bytesToIpv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

export function prefixToMask(len: number): Uint8Array {
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const bits = Math.max(0, Math.min(8, len - i * 8));
    out[i] = (0xff << (8 - bits)) & 0xff;
  }
  return out;
}

/** Prefix length of a contiguous mask, or -1 if not contiguous. */
export function maskToPrefix(mask: Uint8Array): number {
  let n = 0;
  let seenZero = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      if (byte & (1 << bit)) {
        if (seenZero) return -1;
        n++;
      } else seenZero = true;
    }
  }
  return n;
}

export function bytesToIpv6(b: Uint8Array, off = 0): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[off + i]! << 8) | b[off + i + 1]!).toString(16));
  return groups.join(':');
}

export function idIpv4Addr(addr: string, protocolId = 0, port = 0): IdPayload {
  return { type: PayloadType.ID, idType: IdType.ID_IPV4_ADDR, protocolId, port, data: ipv4ToBytes(addr) };
}

export function idIpv4Subnet(addr: string, prefixLen: number, protocolId = 0, port = 0): IdPayload {
  const a = ipv4ToBytes(addr);
  const m = prefixToMask(prefixLen);
  const data = new Uint8Array(8);
  for (let i = 0; i < 4; i++) data[i] = a[i]! & m[i]!;
  data.set(m, 4);
  return { type: PayloadType.ID, idType: IdType.ID_IPV4_ADDR_SUBNET, protocolId, port, data };
}

export function idIpv4Range(from: string, to: string, protocolId = 0, port = 0): IdPayload {
  const data = new Uint8Array(8);
  data.set(ipv4ToBytes(from), 0);
  data.set(ipv4ToBytes(to), 4);
  return { type: PayloadType.ID, idType: IdType.ID_IPV4_ADDR_RANGE, protocolId, port, data };
}

export function idFqdn(name: string, protocolId = 0, port = 0): IdPayload {
  return { type: PayloadType.ID, idType: IdType.ID_FQDN, protocolId, port, data: new TextEncoder().encode(name) };
}

/** Human form used in debug/show output: "10.0.0.1", "10.0.0.0/255.255.255.0", "router.example". */
export function formatId(p: Pick<IdPayload, 'idType' | 'data'>): string {
  const d = p.data;
  switch (p.idType) {
    case IdType.ID_IPV4_ADDR:
      return d.length === 4 ? bytesToIpv4(d) : '?';
    case IdType.ID_IPV4_ADDR_SUBNET:
      return d.length === 8 ? `${bytesToIpv4(d)}/${bytesToIpv4(d, 4)}` : '?';
    case IdType.ID_IPV4_ADDR_RANGE:
      return d.length === 8 ? `${bytesToIpv4(d)}-${bytesToIpv4(d, 4)}` : '?';
    case IdType.ID_IPV6_ADDR:
      return d.length === 16 ? bytesToIpv6(d) : '?';
    case IdType.ID_IPV6_ADDR_SUBNET:
      return d.length === 32 ? `${bytesToIpv6(d)}/${bytesToIpv6(d, 16)}` : '?';
    case IdType.ID_IPV6_ADDR_RANGE:
      return d.length === 32 ? `${bytesToIpv6(d)}-${bytesToIpv6(d, 16)}` : '?';
    case IdType.ID_FQDN:
    case IdType.ID_USER_FQDN:
    case IdType.ID_KEY_ID:
      return new TextDecoder().decode(d).replace(/[^\x20-\x7e]/g, '.');
    default:
      return `type${p.idType}:${Buffer.from(d).toString('hex')}`;
  }
}
