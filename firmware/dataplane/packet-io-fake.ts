// In-memory PacketBinds for tests (like wireguard-go's bindtest): binds created on one
// FakeNetwork deliver to each other by address and port, with no root and no sockets.
// UDP binds put the same bytes on the "wire" as the real ones (non-ESP marker,
// keepalive octet) and classify them with the same pure functions, so the RFC 3948
// demux is exercised too. Every transit can be captured, dropped or rewritten.
import {
  type BindStats, type BindTransport, type Endpoint, type PacketBind, type PacketHandler, type PacketKind, type SendResult,
  NON_ESP_MARKER_BYTES, TRANSPORT_KINDS, classifyUdpEncap, emptyBindStats, encodeUdpEncap,
} from './packet-io.js';

/** One packet on the fake wire. `wire` is the UDP payload or the raw ESP/AH bytes. */
export interface FakeTransit {
  transport: BindTransport;
  from: Endpoint;
  to: Endpoint;
  wire: Uint8Array;
}

export interface FakeNetworkOptions {
  /**
   * 'microtask' (default): each send is delivered in a microtask, so a test awaits any
   * promise to let packets flow. 'manual': packets wait in a queue until flush().
   */
  delivery?: 'microtask' | 'manual';
}

function isUdp(t: BindTransport): boolean {
  return t === 'udp' || t === 'udp-encap';
}

export class FakeNetwork {
  /** every transit, in order (cleared by the test when it wants) */
  readonly log: FakeTransit[] = [];
  /** Inspect or change a transit: return 'drop', 'pass' or replacement wire bytes. */
  filter: ((t: FakeTransit) => 'pass' | 'drop' | Uint8Array) | undefined;
  /** transits that found no bind at the destination */
  undeliverable = 0;
  private readonly binds = new Set<FakeBind>();
  private readonly queue: FakeTransit[] = [];
  private readonly delivery: 'microtask' | 'manual';

  constructor(opts: FakeNetworkOptions = {}) {
    this.delivery = opts.delivery ?? 'microtask';
  }

  /** Creates a bind. Port 0 on a UDP bind picks a free port from 40000 up. */
  bind(transport: BindTransport, local: Endpoint): PacketBind {
    let port = isUdp(transport) ? local.port : 0;
    if (isUdp(transport) && port === 0) {
      port = 40000;
      while (this.find(transport, { address: local.address, port })) port++;
    }
    const ep = { address: local.address, port };
    for (const b of this.binds) {
      const clash = isUdp(transport) ? isUdp(b.transport) && b.local.port === ep.port : b.transport === transport;
      if (clash && b.local.address === ep.address) {
        throw new Error(`fake: ${transport} ${ep.address}:${ep.port} already bound (EADDRINUSE)`);
      }
    }
    const b = new FakeBind(this, transport, ep);
    this.binds.add(b);
    return b;
  }

  /** Delivers queued transits (manual mode); returns how many were delivered. */
  flush(): number {
    let n = 0;
    while (this.queue.length > 0) {
      this.deliver(this.queue.shift()!);
      n++;
    }
    return n;
  }

  get pending(): number { return this.queue.length; }

  /** @internal */
  transmit(t: FakeTransit): void {
    this.log.push(t);
    if (this.delivery === 'manual') this.queue.push(t);
    else queueMicrotask(() => this.deliver(t));
  }

  /** @internal */
  remove(b: FakeBind): void { this.binds.delete(b); }

  private find(transport: BindTransport, to: Endpoint): FakeBind | undefined {
    let any: FakeBind | undefined;
    for (const b of this.binds) {
      if (isUdp(transport)) {
        if (!isUdp(b.transport) || b.local.port !== to.port) continue;
      } else if (b.transport !== transport) continue;
      if (b.local.address === to.address) return b;
      if (b.local.address === '0.0.0.0' || b.local.address === '::') any = b;
    }
    return any;
  }

  private deliver(t: FakeTransit): void {
    let wire = t.wire;
    if (this.filter) {
      const r = this.filter(t);
      if (r === 'drop') return;
      if (r instanceof Uint8Array) wire = r;
    }
    const dst = this.find(t.transport, t.to);
    if (!dst) { this.undeliverable++; return; }
    dst.receive(wire, t.from, t.to);
  }
}

class FakeBind implements PacketBind {
  readonly kinds: readonly PacketKind[];
  private handler: PacketHandler | undefined;
  private closed = false;
  private readonly s: BindStats = emptyBindStats();

  constructor(private readonly net: FakeNetwork, readonly transport: BindTransport, readonly local: Endpoint) {
    this.kinds = TRANSPORT_KINDS[transport];
  }

  get stats(): Readonly<BindStats> { return { ...this.s }; }

  onPacket(handler: PacketHandler): void { this.handler = handler; }

  send(kind: PacketKind, data: Uint8Array, remote: Endpoint): SendResult {
    if (this.closed) return 'closed';
    if (!this.kinds.includes(kind)) return 'unsupported';
    const wire = this.transport === 'udp-encap' ? encodeUdpEncap(kind, data) : data;
    if (!wire) return 'unsupported';
    if (wire.length > 65507) return 'too-big';
    this.s.txPackets++;
    this.s.txBytes += wire.length;
    const to = isUdp(this.transport) ? { ...remote } : { address: remote.address, port: 0 };
    // copy: the sender may reuse its buffer, as with a real socket
    this.net.transmit({ transport: this.transport, from: { ...this.local }, to, wire: Uint8Array.from(wire) });
    return 'ok';
  }

  /** @internal */
  receive(wire: Uint8Array, from: Endpoint, to: Endpoint): void {
    if (this.closed) return;
    this.s.rxPackets++;
    this.s.rxBytes += wire.length;
    let kind: PacketKind;
    let data = wire;
    switch (this.transport) {
      case 'udp-encap': {
        const c = classifyUdpEncap(wire);
        if (c === 'invalid') { this.s.rxDropped++; return; }
        kind = c;
        if (c === 'ike') data = wire.subarray(NON_ESP_MARKER_BYTES);
        break;
      }
      case 'udp':
        if (wire.length < 28) { this.s.rxDropped++; return; }
        kind = 'ike';
        break;
      case 'raw-esp':
        if (wire.length < 8) { this.s.rxDropped++; return; }
        kind = 'esp';
        break;
      case 'raw-ah':
        if (wire.length < 12) { this.s.rxDropped++; return; }
        kind = 'ah';
        break;
    }
    const h = this.handler;
    if (!h) { this.s.rxDropped++; return; }
    try {
      h(kind, data, { ...from }, { address: this.local.address === '0.0.0.0' ? to.address : this.local.address, port: this.local.port });
    } catch {
      this.s.handlerErrors++;
    }
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.net.remove(this);
    }
    return Promise.resolve();
  }
}
