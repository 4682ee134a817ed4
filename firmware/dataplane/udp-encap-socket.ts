// UDP binds for IKE (port 500) and RFC 3948 UDP encapsulation (port 4500: IKE behind a
// non-ESP marker, ESP in UDP, NAT-keepalives), on node:dgram. See packet-io.ts for the
// PacketBind contract.
//
// Node's dgram cannot report a datagram's destination address (no IP_PKTINFO), so a bind
// on a wildcard address passes `local` = the wildcard to handlers. IKE needs the real
// local address (NAT detection hashes, choosing the SA): open one bind per local address.
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import {
  type BindStats, type BindTransport, type Endpoint, type PacketBind, type PacketHandler, type PacketKind, type SendResult,
  IKE_NATT_PORT, IKE_PORT, NON_ESP_MARKER_BYTES, TRANSPORT_KINDS, classifyBindPayload, emptyBindStats, encodeUdpEncap,
} from './packet-io.js';

export const UDP_MAX_PAYLOAD = 65507;

export interface UdpBindOptions {
  /** local address to bind ('0.0.0.0' or '::' for all) */
  address: string;
  /** default 4500 when encap, else 500; 0 picks a free port (tests) */
  port?: number;
  /** true: RFC 3948 demux (port 4500 style); false: IKE only (port 500 style) */
  encap: boolean;
  /** SO_RCVBUF / SO_SNDBUF in bytes (default: leave the kernel's) */
  recvBufferBytes?: number;
  sendBufferBytes?: number;
}

export class UdpBindError extends Error {
  constructor(readonly local: Endpoint, readonly code: string | undefined, detail: string) {
    super(`cannot bind UDP ${local.address}:${local.port}: ${detail}`);
    this.name = 'UdpBindError';
  }
}

class UdpBind implements PacketBind {
  readonly transport: BindTransport;
  readonly kinds: readonly PacketKind[];
  local: Endpoint;
  private handler: PacketHandler | undefined;
  private closed = false;
  private readonly s: BindStats = emptyBindStats();

  constructor(private readonly sock: Socket, readonly encap: boolean, local: Endpoint) {
    this.transport = encap ? 'udp-encap' : 'udp';
    this.kinds = TRANSPORT_KINDS[this.transport];
    this.local = local;
    sock.on('message', (msg, rinfo) => this.receive(msg, { address: rinfo.address, port: rinfo.port }));
    // ICMP errors surface as 'error' on some sends; they must not kill the daemon
    sock.on('error', () => { this.s.sendErrors++; });
  }

  get stats(): Readonly<BindStats> { return { ...this.s }; }

  onPacket(handler: PacketHandler): void { this.handler = handler; }

  private receive(msg: Buffer, remote: Endpoint): void {
    this.s.rxPackets++;
    this.s.rxBytes += msg.length;
    const kind = classifyBindPayload(this.encap, msg);
    if (!kind) { this.s.rxDropped++; return; }
    const data: Uint8Array = kind === 'ike' && this.encap ? msg.subarray(NON_ESP_MARKER_BYTES) : msg;
    const h = this.handler;
    if (!h) { this.s.rxDropped++; return; }
    try {
      h(kind, data, remote, this.local);
    } catch {
      this.s.handlerErrors++;
    }
  }

  send(kind: PacketKind, data: Uint8Array, remote: Endpoint): SendResult {
    if (this.closed) return 'closed';
    if (!this.kinds.includes(kind)) return 'unsupported';
    const payload = this.encap ? encodeUdpEncap(kind, data) : data;
    if (!payload) return 'unsupported';
    if (payload.length > UDP_MAX_PAYLOAD) return 'too-big';
    this.s.txPackets++;
    this.s.txBytes += payload.length;
    try {
      this.sock.send(payload, remote.port, remote.address, (err) => { if (err) this.s.sendErrors++; });
      return 'ok';
    } catch {
      this.s.sendErrors++;
      return 'error';
    }
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      try { this.sock.close(() => resolve()); } catch { resolve(); }
    });
  }
}

/**
 * Opens a UDP bind. encap=true is the port 4500 socket (IKE + ESP-in-UDP + keepalives),
 * encap=false the port 500 socket (IKE only). Resolves once bound; the returned bind's
 * `local.port` is the real port (useful with port 0 in tests).
 */
export async function openUdpBind(opts: UdpBindOptions): Promise<PacketBind> {
  const port = opts.port ?? (opts.encap ? IKE_NATT_PORT : IKE_PORT);
  const sock = createSocket({
    type: isIPv6(opts.address) ? 'udp6' : 'udp4',
    reuseAddr: false,
    recvBufferSize: opts.recvBufferBytes,
    sendBufferSize: opts.sendBufferBytes,
  });
  await new Promise<void>((resolve, reject) => {
    const onErr = (e: NodeJS.ErrnoException): void => {
      sock.close();
      reject(new UdpBindError({ address: opts.address, port }, e.code, e.message));
    };
    sock.once('error', onErr);
    sock.bind({ address: opts.address, port, exclusive: true }, () => {
      sock.off('error', onErr);
      resolve();
    });
  });
  const a = sock.address();
  return new UdpBind(sock, opts.encap, { address: a.address, port: a.port });
}
