// The one packet-I/O interface shared by IKE and the data plane (like wireguard-go's
// conn.Bind): a PacketBind is one local socket that sends and receives classified
// packets. Implementations:
//   - udp-encap-socket.ts: UDP 500 (IKE only) and UDP 4500 (RFC 3948: IKE behind a
//     non-ESP marker, ESP in UDP, NAT-keepalives), node:dgram
//   - raw-socket.ts: raw IP protocol 50 (ESP) or 51 (AH), the npm raw-socket package
//   - packet-io-fake.ts: in-memory network for tests (no root, deterministic)
//
// Conventions for every implementation:
//   - send() never throws: it returns a SendResult and counts failures in stats.
//   - The bytes given to a PacketHandler are valid only during the call (a bind may reuse
//     its receive buffer); copy them to keep them.
//   - A handler that throws loses that packet only (counted in stats.handlerErrors).
//   - IKE messages are passed WITHOUT the 4-byte non-ESP marker: the UDP 4500 bind adds
//     it on send and strips it on receive. ESP is passed from the SPI onwards (no IP or
//     UDP header); AH from its next-header byte onwards.

/** RFC 3948 / RFC 7296 ports */
export const IKE_PORT = 500;
export const IKE_NATT_PORT = 4500;
/** IANA protocol numbers */
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_UDP = 17;

export type PacketKind = 'ike' | 'esp' | 'ah' | 'keepalive';

/** What a bind carries. */
export type BindTransport =
  | 'udp' //          UDP 500 style: IKE only
  | 'udp-encap' //    UDP 4500 style: IKE (with marker), ESP in UDP, keepalives
  | 'raw-esp' //      IP protocol 50
  | 'raw-ah'; //      IP protocol 51

export interface Endpoint {
  address: string;
  /** UDP port; 0 for raw IP binds */
  port: number;
}

export type SendResult =
  | 'ok'
  | 'unsupported' // this bind does not carry that kind (e.g. ESP on a UDP 500 bind)
  | 'too-big' //    larger than the bind accepts (65507 for UDP)
  | 'closed'
  | 'error'; //     the OS refused (EHOSTUNREACH, ENOBUFS...): see stats.sendErrors

/** Receives one classified packet. `data` is valid only during the call. */
export type PacketHandler = (kind: PacketKind, data: Uint8Array, remote: Endpoint, local: Endpoint) => void;

export interface BindStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  sendErrors: number;
  /** received but unusable: too short, zero SPI, not addressed to this bind... */
  rxDropped: number;
  handlerErrors: number;
}

export function emptyBindStats(): BindStats {
  return { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, sendErrors: 0, rxDropped: 0, handlerErrors: 0 };
}

export interface PacketBind {
  readonly transport: BindTransport;
  /** the bound local address and port (port 0 for raw binds) */
  readonly local: Endpoint;
  /** the packet kinds send() accepts and onPacket() can deliver */
  readonly kinds: readonly PacketKind[];
  /** Sends one packet of the given kind to `remote` (port ignored by raw binds). */
  send(kind: PacketKind, data: Uint8Array, remote: Endpoint): SendResult;
  /** Sets the receive handler (replaces any earlier one). */
  onPacket(handler: PacketHandler): void;
  readonly stats: Readonly<BindStats>;
  /** Stops receiving and releases the socket; safe to call twice. */
  close(): Promise<void>;
}

/** Which kinds each transport carries. */
export const TRANSPORT_KINDS: Readonly<Record<BindTransport, readonly PacketKind[]>> = {
  'udp': ['ike'],
  'udp-encap': ['ike', 'esp', 'keepalive'],
  'raw-esp': ['esp'],
  'raw-ah': ['ah'],
};

/** RFC 3948 section 2.2: the 4 zero octets in front of IKE messages on port 4500. */
export const NON_ESP_MARKER_BYTES = 4;
/** RFC 3948 section 2.3: a NAT-keepalive is one octet 0xFF. */
export const NAT_KEEPALIVE_BYTE = 0xff;

export type UdpEncapClass = 'ike' | 'esp' | 'keepalive' | 'invalid';

/**
 * Classifies a UDP 4500 payload (RFC 3948 section 2): one 0xFF octet is a keepalive;
 * four zero octets (then at least an IKE header) is IKE; otherwise a non-zero SPI and
 * room for SPI + sequence number is ESP. Pure function, shared by the real socket and
 * the fake.
 */
export function classifyUdpEncap(payload: Uint8Array): UdpEncapClass {
  const n = payload.length;
  if (n === 1 && payload[0] === NAT_KEEPALIVE_BYTE) return 'keepalive';
  if (n < 8) return 'invalid';
  const zeroMarker = payload[0] === 0 && payload[1] === 0 && payload[2] === 0 && payload[3] === 0;
  if (zeroMarker) return n >= NON_ESP_MARKER_BYTES + 28 ? 'ike' : 'invalid'; // IKE header is 28 octets
  return 'esp'; // SPI (4, non-zero) + sequence number (4) present
}

/**
 * What a UDP bind received: on a port-4500 style bind (encap) the RFC 3948 class, on a
 * port-500 bind IKE when it can hold an IKE header (28 octets); undefined: drop it.
 */
export function classifyBindPayload(encap: boolean, payload: Uint8Array): PacketKind | undefined {
  if (!encap) return payload.length >= 28 ? 'ike' : undefined;
  const c = classifyUdpEncap(payload);
  return c === 'invalid' ? undefined : c;
}

/** Builds the UDP 4500 payload for a kind (adds the marker to IKE). */
export function encodeUdpEncap(kind: PacketKind, data: Uint8Array): Uint8Array | undefined {
  switch (kind) {
    case 'ike': {
      const out = new Uint8Array(NON_ESP_MARKER_BYTES + data.length);
      out.set(data, NON_ESP_MARKER_BYTES);
      return out;
    }
    case 'esp':
      return data;
    case 'keepalive':
      return Uint8Array.of(NAT_KEEPALIVE_BYTE);
    default:
      return undefined;
  }
}
