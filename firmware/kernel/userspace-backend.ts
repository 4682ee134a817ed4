// Userspace IPsec backend: the path that carries traffic on kernels without ESP (this
// machine). It owns the I/O around the packet pipeline (firmware/dataplane/pipeline.ts):
//
//   TUN `rpt0` (MTU 1400 by default)  <- Linux policy routing steers protected flows here
//   raw IP sockets, protocols 50/51   -> inbound ESP / AH to the pipeline
//   one IPPROTO_RAW socket            <- outer packets built by IpsecSa (header included,
//                                        so AH's immutable fields are sent as computed)
//   UDP 4500 binds (shared with IKE)   <- ESP in UDP (RFC 3948): the service attaches the
//                                        binds that can send it (attachUdpEncap); with
//                                        dataplane/udp-gso-bind.ts equal-size packets to
//                                        one peer leave as one UDP GSO send
// The raw sockets are batched when the native addon is there (dataplane/batch-socket.ts):
// outer packets queue and leave with one sendmmsg at the end of the synchronous run that
// produced them (a TUN batch), and readable sockets are drained with recvmmsg. Without
// the addon (or RAMPART_NATIVE=0 / RAMPART_BATCH_IO=0) the npm raw-socket package does
// one syscall per packet.
//
// Policy install = Linux policy routing, in a priority band this backend owns
// (RULE_BASE .. RULE_BASE + 9999), rebuilt on every policy change:
//   - RULE_BASE + 0..3: the box's own ESP, AH and UDP 500/4500 (`iif lo`) always use the
//     main table (the tunnel's own packets never loop into the TUN, whatever the ACLs say);
//     forwarded ones go through the bands below like any traffic (nested peers);
//   - inbound band (iif OUTSIDE, mirrored ACEs, search order): a permit becomes `prohibit`
//     (clear traffic that should have been protected is dropped), a deny `lookup main`;
//   - outbound band (forward ACEs, search order): a permit becomes `lookup TABLE` whose
//     only route is `default dev rpt0`, a deny `lookup main` (goes out in the clear).
// Decrypted packets are written into the TUN, so their input interface is rpt0 and the
// `iif OUTSIDE` prohibit rules do not see them. ACEs whose addresses are not prefixes
// (non-contiguous wildcards) or that match ICMP types are installed with their addresses
// widened to the covering prefix / all ICMP; the pipeline's SPD still decides exactly
// (a packet steered into the TUN that no entry protects is dropped and counted).

import { createRequire } from 'node:module';
import { MAIN_TABLE, ruleArgv, type HostNetwork, type RuleSpec } from './host-network.js';
import { TunDevice, type TunStats } from '../dataplane/tun.js';
import { BatchReceiver, BatchSender, batchSocketStatus } from '../dataplane/batch-socket.js';
import type { Pipeline } from '../dataplane/pipeline.js';
import type { AclEntry } from '../ipsec/acl-classifier.js';
import { portOpToRange } from '../ipsec/spd.js';
import { addrSetBounds, type AddrMask } from '../ipsec/selector.js';
import { readU32 } from '../proto/esp.js';
import type { SecurityAssociation } from '../ipsec/sad.js';
import type { IpsecSa } from '../ipsec/ipsec-sa.js';
import { TunnelDevices } from './vti-devices.js';

export const RULE_BASE = 10000;

/** What the backend needs of a UDP 4500 bind to send ESP in UDP (dataplane/udp-gso-bind.ts). */
export interface UdpEspSender {
  readonly local: { readonly port: number };
  /** Queues one ESP packet (from the SPI on) to dstAddr (host-order IPv4) : dstPort. */
  sendEsp(payload: Uint8Array, dstAddr: number, dstPort: number, tag?: unknown, tos?: number): boolean;
  /** Zero-copy train path: lend the queue's space, then queue what was written there. */
  trainBuffer(minBytes: number): Uint8Array | undefined;
  sendEspTrain(buf: Uint8Array, count: number, stride: number, lastLength: number, dstAddr: number, dstPort: number, tag?: unknown, tos?: number): boolean;
  /** GSO trains sent / their segments, GRO trains received / their segments. */
  readonly stats?: { readonly gsoMessages?: number; readonly gsoSegments?: number; readonly groMessages?: number; readonly groSegments?: number };
}
export const DEFAULT_TABLE = 220;

/** One policy-routing rule of the band, before its place gives it a priority. */
export type PolicyRule = Omit<RuleSpec, 'priority'>;

/** What the rules are built from: an interface's ACEs in search order. */
export interface InterfacePolicy {
  /** Linux interface name of the crypto-map interface. */
  device: string;
  aces: readonly AclEntry[];
  /** TED: UDP 500 arriving on the device for these networks is steered to the TUN (probes in transit). */
  tedIntercepts?: readonly AddrMask[];
}

function prefixText(a: AddrMask): string {
  const [lo, hi] = addrSetBounds(a);
  // the smallest prefix covering [lo, hi]
  let len = 32;
  while (len > 0 && ((lo >> BigInt(32 - len)) !== (hi >> BigInt(32 - len)))) len--;
  const net = len === 0 ? 0n : (lo >> BigInt(32 - len)) << BigInt(32 - len);
  const n = Number(net);
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}/${len}`;
}

function portRange(lo: number, hi: number): { lo: number; hi: number } | undefined {
  return lo !== 0 || hi !== 65535 ? { lo, hi } : undefined;
}

function selectorOf(ace: AclEntry, mirror: boolean): PolicyRule | undefined {
  if (ace.src.family !== 4 || ace.dst.family !== 4) return undefined;
  const rule: PolicyRule = { from: prefixText(mirror ? ace.dst : ace.src), to: prefixText(mirror ? ace.src : ace.dst) };
  if (ace.proto) {
    rule.ipproto = ace.proto;
    if ((ace.proto === 6 || ace.proto === 17) && !ace.icmp) {
      const s = portOpToRange(mirror ? ace.dstPort : ace.srcPort);
      const d = portOpToRange(mirror ? ace.srcPort : ace.dstPort);
      const sport = portRange(s.lo, s.hi);
      const dport = portRange(d.lo, d.hi);
      if (sport) rule.sport = sport;
      if (dport) rule.dport = dport;
    }
  }
  return rule;
}

/** The full rule list for the given interfaces (pure; tested without root). */
export function buildPolicyRules(policies: readonly InterfacePolicy[], table = DEFAULT_TABLE): PolicyRule[] {
  const main = { table: MAIN_TABLE };
  const tun = { table };
  // TED probes in transit to a protected network come first: they are UDP 500 like IKE
  const rules: PolicyRule[] = policies.flatMap((p) => (p.tedIntercepts ?? []).filter((n) => n.family === 4)
    .map((n) => ({ iif: p.device, ipproto: 17, dport: { lo: 500, hi: 500 }, to: prefixText(n), action: tun })));
  // the box's own ESP, AH and IKE (`iif lo`: sent by this host) never loop into the TUN; the
  // data plane protects its own outer packets again itself when a crypto map says so (nested
  // peers, pipeline.ts). Forwarded ones are steered like any traffic: a box between two peers
  // protects their ESP when its crypto map covers it (the guide's outer peer).
  rules.push(
    { iif: 'lo', ipproto: 50, action: main },
    { iif: 'lo', ipproto: 51, action: main },
    { iif: 'lo', ipproto: 17, sport: { lo: 500, hi: 500 }, action: main },
    { iif: 'lo', ipproto: 17, sport: { lo: 4500, hi: 4500 }, action: main },
  );
  for (const p of policies) {
    for (const ace of p.aces) {
      const sel = selectorOf(ace, true);
      if (!sel) continue;
      rules.push({ iif: p.device, ...sel, action: ace.action === 'permit' ? 'prohibit' : main });
    }
  }
  for (const p of policies) {
    for (const ace of p.aces) {
      const sel = selectorOf(ace, false);
      if (!sel) continue;
      rules.push({ ...sel, action: ace.action === 'permit' ? tun : main });
    }
  }
  return rules;
}

/** The parts of the raw-socket package's native SocketWrap used here (it ships no types). */
interface RawWrap {
  /** `buf`: the native side checks node::Buffer::HasInstance, which is true for any Uint8Array. */
  send(buf: Uint8Array, offset: number, length: number, address: string, cb: (bytes: number) => void): void;
  recv(buf: Buffer, cb: (buf: Buffer, bytes: number, source: string) => void): void;
  setOption(level: number, option: number, value: Buffer | number, length?: number): void;
  on(ev: string, fn: (...a: unknown[]) => void): void;
  removeAllListeners(ev: string): void;
}
interface RawModule {
  createSocket(opts: { protocol: number; addressFamily: number; bufferSize?: number }): { wrap: RawWrap; close(): void };
  AddressFamily: { IPv4: number };
  SocketLevel: Record<string, number>;
  SocketOption: Record<string, number>;
}

/** Receive buffer of the raw ESP/AH sockets: the kernel caps it at net.core.rmem_max. */
const RAW_RCVBUF_BYTES = 4 * 1024 * 1024;
const RAW_MAX_BATCH = 256;

const IPPROTO_RAW = 255;

/** The raw-socket send callback (called synchronously with the byte count; nothing to do). */
const ignoreSent = (): void => {};

export interface UserspaceBackendOptions {
  pipeline: Pipeline;
  tunName?: string;
  /** TUN MTU (inner packets); default 1400 so ESP fits a 1500-byte path. */
  mtu?: number;
  table?: number;
  /**
   * TUN offloads: TSO super-packets read and cut into segments (tun-offload.ts), decrypted
   * TCP merged back into super-packets on write (tun-gro.ts). Default on
   * (RAMPART_TUN_OFFLOAD=0: off): ESP TCP ~2x here (524-654 vs 252-309 Mbit/s).
   */
  offload?: boolean;
  /** The host-network port (kernel/host-network.ts): the TUN's link and route, the rules, sysctls. */
  net: HostNetwork;
  log?: (text: string) => void;
  /** Outer packets per sendmmsg at most (batched I/O only); default 256 (RAMPART_BATCH_TX). */
  sendBatch?: number;
  /** A tunnel interface's device went up (routes through it must be reinstalled). */
  onTunnelUp?: (name: string) => void;
}

export interface UserspaceBackendStats {
  tun: Partial<TunStats>;
  rawEspRx: number;
  rawAhRx: number;
  rawRxDropped: number;
  sent: number;
  sendErrors: number;
  rules: number;
  ruleErrors: number;
  /** outer packet I/O: 'sendmmsg/recvmmsg' or why raw-socket is used */
  io: string;
  /** sendmmsg calls (batched I/O) */
  sendBatches: number;
  /** recvmmsg calls that returned packets (batched I/O) */
  rxBatches: number;
  /** received packets larger than a receive slot (dropped; also in rawRxDropped) */
  rawRxTruncated: number;
  /** ESP in UDP through the attached binds: packets queued, GSO/GRO trains and segments */
  udpEspSent: number;
  udpGsoMessages: number;
  udpGsoSegments: number;
  udpGroMessages: number;
  udpGroSegments: number;
}

export class UserspaceBackend {
  readonly name = 'userspace' as const;
  readonly tunName: string;
  readonly table: number;
  private tun: TunDevice | undefined;
  /** Tunnel interfaces (VTIs): one TUN device each (vti-devices.ts). */
  tunnels: TunnelDevices | undefined;
  private readonly rxSockets: { close(): void }[] = [];
  private rawRx = { esp: 0, ah: 0 };
  private sendSock: ReturnType<RawModule['createSocket']> | undefined;
  private batchTx: BatchSender | undefined;
  private readonly batchRx: { rx: BatchReceiver; which: 'esp' | 'ah' }[] = [];
  private ioMethod = 'not started';
  private readonly net: HostNetwork;
  private readonly log: (text: string) => void;
  private readonly mtu: number;
  private installed: string[] = [];
  private sent = 0;
  private lastDst = -1;
  /** ESP-in-UDP senders by local IPv4 address (host order). */
  private readonly udpSenders = new Map<number, UdpEspSender>();
  private udpSent = 0;
  private lastDstText = '';
  private sendErrors = 0;
  private rawRxDropped = 0;
  private ruleErrors = 0;
  private closed = false;

  constructor(private readonly opts: UserspaceBackendOptions) {
    this.tunName = opts.tunName ?? 'rpt0';
    this.table = opts.table ?? DEFAULT_TABLE;
    this.net = opts.net;
    this.log = opts.log ?? (() => {});
    this.mtu = opts.mtu ?? 1400;
  }

  /** Opens the TUN and sockets (needs root) and prepares routing. Throws with a clear message otherwise. */
  start(): void {
    const offload = this.opts.offload ?? process.env.RAMPART_TUN_OFFLOAD !== '0';
    const tun = TunDevice.open({ name: this.tunName, offload });
    this.tun = tun;
    this.tunnels = new TunnelDevices({
      pipeline: this.opts.pipeline, net: this.net, log: this.log, offload,
      ...(this.opts.onTunnelUp ? { onLinkUp: this.opts.onTunnelUp } : {}),
    });
    const logged = (e: string | undefined): void => { if (e !== undefined) this.log(e); };
    // a longer queue than the TUN default (500) absorbs bursts while the pipeline is busy
    void this.net.setLink(this.tunName, { mtu: this.mtu, txqlen: 4000, up: true }).then(logged);
    void this.net.replaceRoute({ dest: 'default', device: this.tunName, table: this.table }).then(logged);
    for (const k of ['net.ipv4.ip_forward', 'net.ipv4.conf.all.rp_filter', `net.ipv4.conf.${this.tunName}.rp_filter`]) {
      void this.net.sysctl({ [k]: k.endsWith('ip_forward') ? '1' : '0' }).then(logged);
    }
    const pipeline = this.opts.pipeline;
    if (!this.openBatchSockets(pipeline)) this.openRawSockets(pipeline);
    // TCP super-packets to a peer reached through a GSO-capable UDP bind are sealed whole
    tun.onTcpSuperPacket((packet, mss) => pipeline.outboundTcpSuperPacket(packet, mss));
    tun.onPacket((packet) => pipeline.outbound(packet));
  }

  /** The batched sockets of the native addon; false (nothing open) when unavailable. */
  private openBatchSockets(pipeline: Pipeline): boolean {
    const why = batchSocketStatus();
    let tx: BatchSender | undefined;
    const rxs: { rx: BatchReceiver; which: 'esp' | 'ah' }[] = [];
    try {
      const envBatch = Number(process.env.RAMPART_BATCH_TX);
      tx = BatchSender.open({ maxBatch: this.opts.sendBatch ?? (envBatch > 0 ? envBatch : 256) });
      if (!tx) { this.ioMethod = `raw-socket: batched I/O ${why}`; return false; }
      for (const [protocol, which] of [[50, 'esp'], [51, 'ah']] as const) {
        const rx = BatchReceiver.open({ protocol, rcvbufBytes: RAW_RCVBUF_BYTES, slots: 64, slotBytes: 2048, maxPerEvent: RAW_MAX_BATCH });
        if (!rx) throw new Error('batch receiver unavailable');
        rxs.push({ rx, which });
      }
    } catch (e) {
      tx?.close();
      for (const r of rxs) r.rx.close();
      this.log(`batched raw sockets: ${(e as Error).message}; using raw-socket`);
      this.ioMethod = `raw-socket: ${(e as Error).message}`;
      return false;
    }
    this.batchTx = tx;
    // refusals seen at flush time land on the SA's #send errors like immediate ones
    tx.onSendError((tag) => pipeline.sendFailedLate(tag as SecurityAssociation<IpsecSa> | undefined));
    for (const r of rxs) {
      this.batchRx.push(r);
      // the pipeline never throws; the receiver counts a handler error anyway
      r.rx.onPacket((packet) => pipeline.inbound(packet));
    }
    this.ioMethod = why;
    return true;
  }

  /** One syscall per packet through the npm raw-socket package (the fallback). */
  private openRawSockets(pipeline: Pipeline): void {
    const raw = createRequire(import.meta.url)('raw-socket') as RawModule;
    this.sendSock = raw.createSocket({ protocol: IPPROTO_RAW, addressFamily: raw.AddressFamily.IPv4 });
    // Receiving: our own raw sockets rather than raw-socket.ts's PacketBind, because the
    // pipeline needs the whole IPv4 header (AH covers it; the SAD wants the destination)
    // and a large SO_RCVBUF (the default ~200 KB overflows at a few thousand packets/s).
    for (const [proto, which] of [[50, 'esp'], [51, 'ah']] as const) {
      const sock = raw.createSocket({ protocol: proto, addressFamily: raw.AddressFamily.IPv4, bufferSize: 16 });
      this.rxSockets.push(sock);
      const w = sock.wrap;
      try { w.setOption(raw.SocketLevel.SOL_SOCKET!, raw.SocketOption.SO_RCVBUF!, RAW_RCVBUF_BYTES); } catch (e) { this.log(`SO_RCVBUF: ${(e as Error).message}`); }
      const buf = Buffer.allocUnsafeSlow(65536);
      const view = new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
      w.removeAllListeners('recvReady');
      w.removeAllListeners('sendReady');
      w.removeAllListeners('error');
      w.on('error', () => { this.rawRxDropped++; });
      // One callback for every recv (the native call runs it synchronously): no closure per packet.
      let n = -1;
      const onRecv = (_b: Buffer, bytes: number): void => { n = bytes; };
      w.on('recvReady', () => {
        for (let i = 0; i < RAW_MAX_BATCH && !this.closed; i++) {
          n = -1;
          try { w.recv(buf, onRecv); } catch { return; /* EAGAIN: drained */ }
          if (n <= 0) return;
          this.rawRx[which]++;
          try { pipeline.inbound(view.subarray(0, n)); } catch { this.rawRxDropped++; }
        }
      });
    }
  }

  /**
   * ESP in UDP from this local address leaves through `sender` (the port-4500 bind)
   * instead of the raw socket, so the kernel can send equal-size packets as one UDP GSO
   * train. undefined detaches.
   */
  attachUdpEncap(localAddr: number, sender: UdpEspSender | undefined): void {
    if (sender) this.udpSenders.set(localAddr >>> 0, sender);
    else this.udpSenders.delete(localAddr >>> 0);
  }

  /** The attached bind that carries `sa`'s ESP in UDP (its local address and port), if any. */
  private udpSenderFor(sa: SecurityAssociation<IpsecSa>): UdpEspSender | undefined {
    const e = sa.transform.udpEndpoints;
    const sender = e && !this.closed ? this.udpSenders.get(e.local) : undefined;
    return sender && sender.local.port === e!.localPort ? sender : undefined;
  }

  /** Where the pipeline may seal `sa`'s next ESP train: the bind's own queue space (no copy); undefined: no train path. */
  espTrainBuffer(sa: SecurityAssociation<IpsecSa>, minBytes: number): Uint8Array | undefined {
    return this.udpSenderFor(sa)?.trainBuffer(minBytes);
  }

  /** ESP packets back to back in buf (all `stride` long but the last): queued on the SA's bind. */
  sendEspTrain(sa: SecurityAssociation<IpsecSa>, buf: Uint8Array, count: number, stride: number, lastLength: number, tos?: number): boolean {
    const sender = this.udpSenderFor(sa);
    const e = sa.transform.udpEndpoints!;
    const ok = sender?.sendEspTrain(buf, count, stride, lastLength, e.remote, e.remotePort, sa, tos) ?? false;
    if (ok) this.udpSent += count;
    else this.sendErrors += count;
    return ok;
  }

  /** Sends a complete outer IPv4 packet. */
  sendOuter(packet: Uint8Array, sa?: SecurityAssociation<IpsecSa>): boolean {
    // the UDP socket runs path MTU discovery (DF on datagrams that fit): an outer header
    // IpsecSa built without DF (df-bit copied from an inner packet without it) goes out as
    // built, through the raw socket
    if (packet[9] === 17 && (packet[6]! & 0x40) !== 0 && this.udpSenders.size > 0 && packet.length >= 28) {
      const sender = this.udpSenders.get(readU32(packet, 12));
      const ihl = (packet[0]! & 0x0f) * 4;
      // the bind owns the source port: only packets built for it may take this way
      if (sender && packet.length >= ihl + 8 && ((packet[ihl]! << 8) | packet[ihl + 1]!) === sender.local.port) {
        if (this.closed) { this.sendErrors++; return false; }
        // the outer TOS IpsecSa computed (inner DSCP/ECN) goes along as IP_TOS
        const ok = sender.sendEsp(packet.subarray(ihl + 8), readU32(packet, 16), (packet[ihl + 2]! << 8) | packet[ihl + 3]!, sa, packet[1]!);
        if (ok) this.udpSent++;
        else this.sendErrors++;
        return ok;
      }
    }
    // copied into the sender's slab: the caller's packet may be reused after this returns
    if (this.batchTx) {
      if (this.closed) { this.sendErrors++; return false; }
      return this.batchTx.send(packet, sa);
    }
    const s = this.sendSock;
    if (!s || this.closed || packet.length < 20) { this.sendErrors++; return false; }
    const d = ((packet[16]! << 24) | (packet[17]! << 16) | (packet[18]! << 8) | packet[19]!) >>> 0;
    if (d !== this.lastDst) { this.lastDst = d; this.lastDstText = `${packet[16]}.${packet[17]}.${packet[18]}.${packet[19]}`; }
    const dst = this.lastDstText;
    try {
      s.wrap.send(packet, 0, packet.length, dst, ignoreSent);
      this.sent++;
      return true;
    } catch {
      this.sendErrors++;
      return false;
    }
  }

  deliverInner(packet: Uint8Array, checksumsOk?: boolean, sa?: SecurityAssociation<IpsecSa>): boolean {
    // a tunnel interface's SA delivers on that interface's device
    if (sa?.iface !== undefined && this.tunnels) {
      const r = this.tunnels.write(sa.iface, packet, checksumsOk);
      if (r !== undefined) return r;
    }
    return this.tun?.write(packet, 0, checksumsOk) ?? false;
  }

  /** Replaces the installed policy-routing rules by these. */
  installPolicies(policies: readonly InterfacePolicy[]): void {
    const rules: RuleSpec[] = buildPolicyRules(policies, this.table).map((r, i) => ({ ...r, priority: RULE_BASE + i }));
    const wanted = rules.map((r) => ruleArgv(r).join(' '));
    if (wanted.length === this.installed.length && wanted.every((w, i) => w === this.installed[i])) return;
    this.removeRules();
    for (const rule of rules) {
      void this.net.addRule(rule).then((e) => { if (e !== undefined) { this.ruleErrors++; this.log(e); } });
    }
    this.installed = wanted;
  }

  private removeRules(): void {
    for (let i = 0; i < this.installed.length; i++) void this.net.deleteRule({ priority: RULE_BASE + i });
    this.installed = [];
  }

  /** One line for `show crypto engine configuration`: how packets enter and leave. */
  describeIo(): string {
    const t = this.tun;
    const tun = t ? `TUN ${this.tunName}${t.offload ? ' with TSO/GRO offloads' : ''}` : `TUN ${this.tunName} (closed)`;
    const udp = this.udpSenders.size > 0 ? `; ESP in UDP: port-4500 bind${this.udpSenders.size > 1 ? 's' : ''} with UDP GSO/GRO` : '';
    return `${tun}; outer packets: ${this.ioMethod}${udp}`;
  }

  get stats(): UserspaceBackendStats {
    const rx = { esp: this.rawRx.esp, ah: this.rawRx.ah };
    let dropped = this.rawRxDropped;
    let truncated = 0;
    let rxBatches = 0;
    for (const { rx: r, which } of this.batchRx) {
      const st = r.stats;
      rx[which] += st.packets + st.truncated;
      dropped += st.truncated + st.errors + st.handlerErrors;
      truncated += st.truncated;
      rxBatches += st.batches;
    }
    const tx = this.batchTx?.stats;
    const udp = { udpGsoMessages: 0, udpGsoSegments: 0, udpGroMessages: 0, udpGroSegments: 0 };
    for (const sender of this.udpSenders.values()) {
      const st = sender.stats;
      udp.udpGsoMessages += st?.gsoMessages ?? 0;
      udp.udpGsoSegments += st?.gsoSegments ?? 0;
      udp.udpGroMessages += st?.groMessages ?? 0;
      udp.udpGroSegments += st?.groSegments ?? 0;
    }
    return {
      ...udp,
      udpEspSent: this.udpSent,
      tun: this.tun?.stats ?? {},
      rawEspRx: rx.esp,
      rawAhRx: rx.ah,
      rawRxDropped: dropped,
      sent: this.sent + this.udpSent + (tx?.sent ?? 0),
      sendErrors: this.sendErrors + (tx?.sendErrors ?? 0),
      rules: this.installed.length,
      ruleErrors: this.ruleErrors,
      io: this.ioMethod,
      sendBatches: tx?.batches ?? 0,
      rxBatches,
      rawRxTruncated: truncated,
    };
  }

  /** Sends the queued outer packets now (batched I/O; they also go at the end of the current run). */
  flush(): void {
    this.batchTx?.flush();
  }

  get installedRules(): readonly string[] {
    return this.installed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.removeRules();
    await this.tunnels?.close();
    await this.net.flushRoutes({ table: this.table });
    for (const s of this.rxSockets) { try { s.close(); } catch { /* closed */ } }
    for (const r of this.batchRx) r.rx.close();
    this.batchTx?.close(); // sends what is still queued first
    try { this.sendSock?.close(); } catch { /* closed */ }
    await this.tun?.close();
  }
}
