// Identities (RFC 7296 3.5) between configuration form and the ID payload body.
import { IdType } from '../../proto/ikev2/index.js';
import type { Ikev2Identity } from './config-types.js';
import { formatIp, parseIp } from './selectors.js';

export function identityToPayload(id: Ikev2Identity): { idType: number; data: Uint8Array } {
  switch (id.type) {
    case 'ipv4': return { idType: IdType.ID_IPV4_ADDR, data: parseIp(id.value) };
    case 'ipv6': return { idType: IdType.ID_IPV6_ADDR, data: parseIp(id.value) };
    case 'fqdn': return { idType: IdType.ID_FQDN, data: new TextEncoder().encode(id.value) };
    case 'email': return { idType: IdType.ID_RFC822_ADDR, data: new TextEncoder().encode(id.value) };
    case 'key-id': return { idType: IdType.ID_KEY_ID, data: new TextEncoder().encode(id.value) };
  }
}

export function identityFromPayload(p: { idType: number; data: Uint8Array }): Ikev2Identity | undefined {
  const text = (): string => new TextDecoder('utf-8', { fatal: false }).decode(p.data);
  switch (p.idType) {
    case IdType.ID_IPV4_ADDR: return p.data.length === 4 ? { type: 'ipv4', value: formatIp(p.data) } : undefined;
    case IdType.ID_IPV6_ADDR: return p.data.length === 16 ? { type: 'ipv6', value: formatIp(p.data) } : undefined;
    case IdType.ID_FQDN: return { type: 'fqdn', value: text() };
    case IdType.ID_RFC822_ADDR: return { type: 'email', value: text() };
    case IdType.ID_KEY_ID: return { type: 'key-id', value: text() };
    default: return undefined;
  }
}

/** "ipv4:10.0.0.1", "fqdn:vpn.example.com", or "type N (M bytes)" for the rest. */
export function identityToString(p: { idType: number; data: Uint8Array } | Ikev2Identity | undefined): string {
  if (!p) return 'none';
  if (!('idType' in p)) return `${p.type}:${p.value}`;
  const id = identityFromPayload(p);
  return id ? `${id.type}:${id.value}` : `id-type ${p.idType} (${p.data.length} bytes)`;
}

export function sameIdentity(a: Ikev2Identity, b: Ikev2Identity): boolean {
  if (a.type !== b.type) return false;
  if (a.type === 'ipv4' || a.type === 'ipv6') {
    const x = parseIp(a.value);
    const y = parseIp(b.value);
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  return a.value.toLowerCase() === b.value.toLowerCase();
}

/** Default identity: our IP address. */
export function defaultIdentity(address: string): Ikev2Identity {
  return { type: address.includes(':') ? 'ipv6' : 'ipv4', value: address };
}
