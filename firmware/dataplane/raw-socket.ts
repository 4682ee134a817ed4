// Raw IP binds for ESP (protocol 50) and AH (protocol 51) on the npm raw-socket package.
// See packet-io.ts for the PacketBind contract. IPv4 and IPv6.
//
// How the package is used (and why not its Socket.send/"message" API):
// - raw-socket's Socket queues each send until the next "writable" poll event and reads
//   ONE packet per "readable" event: one event-loop turn per packet. We keep its
//   SocketWrap (a non-blocking fd under a uv_poll on the main loop) but call
//   wrap.send() (a synchronous sendto) directly, and on each readable event drain up to
//   `maxBatch` packets with wrap.recv() (synchronous recvfrom) until EAGAIN.
// - The package has no bind(). Receiving: an IPv4 raw socket gets the IP header, so the
//   destination is checked against `localAddress` (packets to other local addresses are
//   dropped and counted). Sending: with a specific IPv4 `localAddress` we set IP_HDRINCL
//   and write the IPv4 header ourselves so the source address is exactly the bound one
//   (the kernel fills total length, checksum and, when 0, the id). IPv6 raw sockets
//   deliver no header: the local address is not checked and the kernel picks the source.
// - `device` sets SO_BINDTODEVICE (receive only what arrives on, and send out of, that
//   interface).
import { createRequire } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';
import {
  type BindStats, type BindTransport, type Endpoint, type PacketBind, type PacketHandler, type PacketKind, type SendResult,
  IPPROTO_AH, IPPROTO_ESP, TRANSPORT_KINDS, emptyBindStats,
} from './packet-io.js';

/** The parts of raw-socket's native SocketWrap we use (the package ships no types). */
interface RawWrap {
  send(buf: Buffer, offset: number, length: number, address: string, cb: (bytes: number) => void): void;
  recv(buf: Buffer, cb: (buf: Buffer, bytes: number, source: string) => void): void;
  setOption(level: number, option: number, value: Buffer | number, length?: number): void;
  close(): void;
  on(ev: string, fn: (...a: unknown[]) => void): void;
  removeAllListeners(ev: string): void;
}
interface RawSocketModule {
  createSocket(opts: { protocol: number; addressFamily: number; bufferSize?: number }): { wrap: RawWrap; close(): void };
  AddressFamily: { IPv4: number; IPv6: number };
  SocketLevel: Record<string, number>;
  SocketOption: Record<string, number>;
}

let rawMod: RawSocketModule | undefined;
function raw(): RawSocketModule {
  if (!rawMod) rawMod = createRequire(import.meta.url)('raw-socket') as RawSocketModule;
  return rawMod;
}

export class RawBindError extends Error {
  constructor(readonly protocol: number, readonly code: string | undefined, detail: string) {
    super(`cannot open raw IP protocol ${protocol} socket: ${detail}${/EPERM|Operation not permitted/.test(detail) ? ' (needs root or CAP_NET_RAW)' : ''}`);
    this.name = 'RawBindError';
  }
}

export interface RawBindOptions {
  protocol: 'esp' | 'ah';
  /** local address: '0.0.0.0'/'::' for any, else packets to other addresses are dropped */
  localAddress: string;
  /** SO_BINDTODEVICE interface name */
  device?: string;
  /** packets read per readable event before yielding (default 64) */
  maxBatch?: number;
  /** largest packet read, default 65535 */
  maxPacketBytes?: number;
  /**
   * IPv4 only: deliver the whole packet, outer IPv4 header included (AH's ICV and the
   * SAD lookup need it), instead of the ESP/AH bytes only. Default false.
   */
  withIpHeader?: boolean;
}

const IPV4_HEADER_BYTES = 20;

function ipv4Bytes(a: string): number[] {
  return a.split('.').map(Number);
}

class RawBind implements PacketBind {
  readonly transport: BindTransport;
  readonly kinds: readonly PacketKind[];
  readonly local: Endpoint;
  private handler: PacketHandler | undefined;
  private closed = false;
  private readonly s: BindStats = emptyBindStats();
  private readonly rxBuf: Buffer;
  private readonly v4: boolean;
  private readonly anyAddr: boolean;
  private readonly localV4: number[];
  private readonly proto: number;
  /** outgoing IPv4 header template when IP_HDRINCL is on */
  private readonly hdr: Buffer | undefined;
  private txBuf: Buffer;
  private readonly withIpHeader: boolean;

  constructor(private readonly wrap: RawWrap, private readonly sockClose: () => void, opts: RawBindOptions, hdrIncl: boolean) {
    this.transport = opts.protocol === 'esp' ? 'raw-esp' : 'raw-ah';
    this.kinds = TRANSPORT_KINDS[this.transport];
    this.proto = opts.protocol === 'esp' ? IPPROTO_ESP : IPPROTO_AH;
    this.local = { address: opts.localAddress, port: 0 };
    this.v4 = isIPv4(opts.localAddress);
    this.anyAddr = opts.localAddress === '0.0.0.0' || opts.localAddress === '::';
    this.localV4 = this.v4 ? ipv4Bytes(opts.localAddress) : [];
    // a dedicated ArrayBuffer (never Node's shared pool): without withIpHeader the view
    // handed to handlers starts right after the IPv4 header, at byteOffset = header length
    this.rxBuf = Buffer.allocUnsafeSlow(opts.maxPacketBytes ?? 65535);
    this.withIpHeader = opts.withIpHeader === true && this.v4;
    this.txBuf = Buffer.allocUnsafe(2048);
    if (hdrIncl) {
      const h = Buffer.alloc(IPV4_HEADER_BYTES);
      h[0] = 0x45; h[8] = 64; h[9] = this.proto;
      h.set(this.localV4, 12);
      this.hdr = h;
    }
    const maxBatch = opts.maxBatch ?? 64;
    wrap.removeAllListeners('recvReady');
    wrap.removeAllListeners('sendReady');
    wrap.removeAllListeners('error');
    wrap.on('error', () => { this.s.sendErrors++; });
    wrap.on('recvReady', () => this.drain(maxBatch));
  }

  get stats(): Readonly<BindStats> { return { ...this.s }; }

  onPacket(handler: PacketHandler): void { this.handler = handler; }

  private drain(maxBatch: number): void {
    for (let i = 0; i < maxBatch && !this.closed; i++) {
      let n = -1;
      let src = '';
      try {
        this.wrap.recv(this.rxBuf, (_b, bytes, source) => { n = bytes; src = source; });
      } catch {
        return; // EAGAIN: drained
      }
      if (n < 0) return;
      this.deliver(n, src);
    }
  }

  private deliver(n: number, src: string): void {
    this.s.rxPackets++;
    this.s.rxBytes += n;
    const b = this.rxBuf;
    let off = 0;
    let dst = this.local.address;
    if (this.v4) {
      if (n < IPV4_HEADER_BYTES || b[0]! >> 4 !== 4) { this.s.rxDropped++; return; }
      off = (b[0]! & 0x0f) * 4;
      if (off < IPV4_HEADER_BYTES || off > n || b[9] !== this.proto) { this.s.rxDropped++; return; }
      if (!this.anyAddr) {
        const l = this.localV4;
        if (b[16] !== l[0] || b[17] !== l[1] || b[18] !== l[2] || b[19] !== l[3]) { this.s.rxDropped++; return; }
      } else {
        dst = `${b[16]}.${b[17]}.${b[18]}.${b[19]}`;
      }
    }
    // ESP: SPI + sequence number at least; AH: fixed header is 12 octets
    const min = this.proto === IPPROTO_ESP ? 8 : 12;
    if (n - off < min) { this.s.rxDropped++; return; }
    const h = this.handler;
    if (!h) { this.s.rxDropped++; return; }
    try {
      h(this.proto === IPPROTO_ESP ? 'esp' : 'ah', b.subarray(this.withIpHeader ? 0 : off, n), { address: src, port: 0 }, { address: dst, port: 0 });
    } catch {
      this.s.handlerErrors++;
    }
  }

  send(kind: PacketKind, data: Uint8Array, remote: Endpoint): SendResult {
    if (this.closed) return 'closed';
    if (!this.kinds.includes(kind)) return 'unsupported';
    if (this.v4 ? !isIPv4(remote.address) : !isIPv6(remote.address)) { this.s.sendErrors++; return 'error'; }
    let buf: Buffer;
    let len: number;
    if (this.hdr) {
      len = IPV4_HEADER_BYTES + data.length;
      if (len > 65535) return 'too-big';
      if (this.txBuf.length < len) this.txBuf = Buffer.allocUnsafe(len);
      buf = this.txBuf;
      this.hdr.copy(buf, 0);
      buf.writeUInt16BE(len, 2);
      const d = ipv4Bytes(remote.address);
      buf[16] = d[0]!; buf[17] = d[1]!; buf[18] = d[2]!; buf[19] = d[3]!;
      buf.set(data, IPV4_HEADER_BYTES);
    } else {
      len = data.length;
      if (len > 65515) return 'too-big';
      buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    }
    try {
      this.wrap.send(buf, 0, len, remote.address, () => {});
      this.s.txPackets++;
      this.s.txBytes += len;
      return 'ok';
    } catch {
      this.s.sendErrors++;
      return 'error';
    }
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      try { this.sockClose(); } catch { /* already closed */ }
    }
    return Promise.resolve();
  }
}

/**
 * Opens a raw IP socket for ESP or AH. Needs root (CAP_NET_RAW); throws RawBindError
 * otherwise. Note: the raw socket sees every ESP/AH packet reaching this network
 * namespace; open one per local address (or one with '0.0.0.0' and demux by `local`).
 */
export function openRawBind(opts: RawBindOptions): PacketBind {
  const proto = opts.protocol === 'esp' ? IPPROTO_ESP : IPPROTO_AH;
  const m = raw();
  const v6 = isIPv6(opts.localAddress);
  if (!v6 && !isIPv4(opts.localAddress)) throw new RawBindError(proto, undefined, `bad local address ${opts.localAddress}`);
  let sock: { wrap: RawWrap; close(): void };
  try {
    sock = m.createSocket({ protocol: proto, addressFamily: v6 ? m.AddressFamily.IPv6 : m.AddressFamily.IPv4, bufferSize: 16 });
  } catch (e) {
    throw new RawBindError(proto, (e as NodeJS.ErrnoException).code, (e as Error).message);
  }
  const hdrIncl = !v6 && opts.localAddress !== '0.0.0.0';
  try {
    if (opts.device) {
      const name = Buffer.from(`${opts.device}\0`, 'latin1');
      sock.wrap.setOption(m.SocketLevel.SOL_SOCKET!, m.SocketOption.SO_BINDTODEVICE!, name, name.length);
    }
    if (hdrIncl) {
      const one = Buffer.alloc(4);
      one.writeInt32LE(1, 0);
      sock.wrap.setOption(m.SocketLevel.IPPROTO_IP!, m.SocketOption.IP_HDRINCL!, one, 4);
    }
  } catch (e) {
    sock.close();
    throw new RawBindError(proto, undefined, (e as Error).message);
  }
  return new RawBind(sock.wrap, () => sock.close(), opts, hdrIncl);
}
