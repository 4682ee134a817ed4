// Small helpers shared by the IKEv1 exchanges.
import { IdType, PayloadType, bytesToIpv4, formatId, type DecodedPayload, type IdPayload } from '../../proto/ikev1/index.js';
import { type PeerIdentity } from './peer-config.js';


// ------------------------------------------------------------------ free helpers

export function find<T>(msg: DecodedPayload[], type: number): (T & DecodedPayload) | undefined {
  return msg.find((p) => p.type === type && !('unknown' in p)) as (T & DecodedPayload) | undefined;
}

export function stripId(id: IdPayload): IdPayload {
  return { type: PayloadType.ID, idType: id.idType, protocolId: id.protocolId, port: id.port, data: id.data };
}

export function peerIdentity(id: IdPayload, fallback: string): PeerIdentity {
  if (id.idType === IdType.ID_IPV4_ADDR && id.data.length === 4) return { kind: 'address', address: bytesToIpv4(id.data) };
  if (id.idType === IdType.ID_FQDN) return { kind: 'fqdn', fqdn: formatId(id) };
  if (id.idType === IdType.ID_USER_FQDN) return { kind: 'user-fqdn', userFqdn: formatId(id) };
  return { kind: 'address', address: fallback };
}

export function readU32(b: Uint8Array): number {
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0);
}

export function readU64(b: Uint8Array): bigint {
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0);
}

export function u32bytes(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0);
  return b;
}
