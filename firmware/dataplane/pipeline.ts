// The userspace IPsec packet pipeline: pure packet logic, no sockets.
//
//   outbound: inner IP packet (read from the TUN) -> SPD of each crypto-map interface ->
//             protect decision -> SAD outbound bundle -> IpsecSa.protect -> io.sendOuter
//   tunnel interfaces (VTIs): routing already chose the interface, so a packet read from
//             its device goes straight to that interface's bundle (outboundVia), no SPD
//   inbound:  outer IP packet (raw ESP/AH socket) or UDP-4500 payload -> SAD lookup by
//             (dst, SPI, proto) -> IpsecSa.unprotect -> scope check -> io.deliverInner
//   nested peers (guide, "IPsec Traffic Nested to Multiple Peers"): an outer packet an SA
//             built is itself looked up in the SPD (its header is fixed per SA, so the
//             decision is cached per SA until the SPD changes); when another entry protects
//             it (traffic to the inner peer through the outer peer), it is protected again
//             with that entry's SA before it leaves. Inbound, a decrypted packet that is ESP
//             or AH for one of our own SAs is opened again at once. At most MAX_NESTING deep.
//
// Every outcome is counted (pipeline counters, per-SA counters); nothing throws out of the
// packet path. A protect decision without an SA raises an `acquire` (rate-limited per
// policy key) that IKE subscribes to; manual entries never acquire, they drop.
// The I/O side (TUN, raw sockets, policy routing) is firmware/kernel/userspace-backend.ts.

import type { IpsecSa } from '../ipsec/ipsec-sa.js';
import type { Sad, SecurityAssociation } from '../ipsec/sad.js';
import { inboundMatchesScope, type ProtectDecision, type Spd } from '../ipsec/spd.js';
import { IPPROTO_AH, IPPROTO_ESP, IPPROTO_UDP, packetKeyFromIp, type PacketKey } from '../ipsec/selector.js';
import { readU32 } from '../proto/esp.js';

/** Data the service attaches to each SPD entry (crypto map entry). */
export interface MapEntryData {
  /** Interface the crypto map set is applied to (canonical IOS name). */
  iface: string;
}

export interface PipelineIo {
  /**
   * Sends one complete outer IP packet (IPv4 header first). Returns false when the OS
   * refused. A batching backend that learns of a refusal only later reports it with
   * Pipeline.sendFailedLate(sa), `sa` being the tag passed here.
   */
  sendOuter(packet: Uint8Array, sa?: SecurityAssociation<IpsecSa>): boolean;
  /**
   * Hands a decapsulated inner IP packet to the kernel (TUN write). `checksumsOk`: its
   * IPv4 and TCP checksums were already verified (a merging writer need not redo it).
   * `sa`: the SA it came through (a tunnel interface's SA delivers on that interface).
   */
  deliverInner(packet: Uint8Array, checksumsOk?: boolean, sa?: SecurityAssociation<IpsecSa>): boolean;
  /**
   * Optional train path for `sa` (UDP-encapsulated): espTrainBuffer lends at least
   * minBytes of the I/O's own send queue (undefined: no train path for this SA), the
   * pipeline seals ESP packets into it back to back, each `stride` bytes long but the last
   * (`lastLength`), ESP from the SPI on, and sendEspTrain queues them; the I/O adds UDP
   * and IP, with `tos` as the outer TOS.
   */
  espTrainBuffer?(sa: SecurityAssociation<IpsecSa>, minBytes: number): Uint8Array | undefined;
  sendEspTrain?(sa: SecurityAssociation<IpsecSa>, buf: Uint8Array, count: number, stride: number, lastLength: number, tos?: number): boolean;
}

/** One interface with a crypto map set, in the order interfaces are searched. */
export interface PipelineInterface {
  name: string;
  spd: Spd<MapEntryData>;
}

export interface PipelineAcquire {
  iface: string;
  decision: ProtectDecision<MapEntryData>;
  /** The triggering packet's key (copied). */
  packet: PacketKey;
}

export interface PipelineCounters {
  /** inner packets read from the TUN */
  outPackets: number;
  outProtected: number;
  /** a permit matched but no SA (acquire raised for isakmp entries) */
  outNoSa: number;
  /** reached the TUN but no crypto map protects it (routing steered it here anyway) */
  outBypass: number;
  /** dynamic entry with empty ACL */
  outPolicyDrop: number;
  /** UDP 500 packets taken by the TED intercept (probes in transit) */
  outIntercepted: number;
  outBadPacket: number;
  outProtectErrors: number;
  outSendErrors: number;
  /** TCP super-packets sealed whole (outboundTcpSuperPacket) and their segments (also in outPackets) */
  outSuperPackets: number;
  outSuperSegments: number;
  /** outer packets protected again for an outer peer (nested peers) */
  outNested: number;
  /** decrypted packets that were ESP/AH for one of our SAs, opened again (nested peers) */
  inNested: number;
  /** outer packets received */
  inPackets: number;
  inBadPacket: number;
  /** no SA for (dst, SPI, proto) */
  inNoSa: number;
  inUnprotectErrors: number;
  /** decrypted packet outside the SA's selectors */
  inPolicyFail: number;
  inDelivered: number;
  inDeliverErrors: number;
  /** keepalives, dummy packets, IKE on 4500 (not errors) */
  inInformational: number;
  acquires: number;
  /** UDP GRO trains opened in one engine call (inboundUdpEspTrain), and their segments */
  inTrains: number;
  inTrainSegments: number;
}

export function newPipelineCounters(): PipelineCounters {
  return {
    outPackets: 0, outProtected: 0, outIntercepted: 0, outSuperPackets: 0, outSuperSegments: 0, outNested: 0, inNested: 0, outNoSa: 0, outBypass: 0, outPolicyDrop: 0, outBadPacket: 0, outProtectErrors: 0, outSendErrors: 0,
    inPackets: 0, inBadPacket: 0, inNoSa: 0, inUnprotectErrors: 0, inPolicyFail: 0, inDelivered: 0, inDeliverErrors: 0, inInformational: 0,
    acquires: 0, inTrains: 0, inTrainSegments: 0,
  };
}

export interface PipelineOptions {
  sad: Sad<IpsecSa>;
  io: PipelineIo;
  now: () => number;
  /** Minimum time between two acquires for the same policy key (ms). Default 1000. */
  acquireIntervalMs?: number;
}

/** An unfragmented IPv4 TCP or UDP packet without IP options (its flow is bytes 12-23). */
function plainIpv4Flow(p: Uint8Array): boolean {
  return p.length >= 24 && p[0] === 0x45 && ((p[6]! & 0x3f) | p[7]!) === 0 && (p[9] === 6 || p[9] === 17);
}

/** Protection layers around one packet at most (nested peers); a deeper loop is dropped. */
export const MAX_NESTING = 3;

/** Where an SA's outer packets go next: straight out, or into another entry's bundle (nested peers). */
interface NestDecision {
  /** the SPD generation it was computed for */
  epoch: number;
  /** undefined: sent as built */
  decision: ProtectDecision<MapEntryData> | undefined;
  iface: string;
}

const trainParams = new Uint32Array(12);
const TRAIN_LEND_BYTES = 96 * 1024;

const INFORMATIONAL = new Set(['dummy-packet', 'nat-keepalive', 'non-esp-marker']);

export class Pipeline {
  readonly counters: PipelineCounters = newPipelineCounters();
  private interfaces: readonly PipelineInterface[] = [];
  private readonly sad: Sad<IpsecSa>;
  private readonly io: PipelineIo;
  private readonly now: () => number;
  private readonly acquireIntervalMs: number;
  private readonly lastAcquire = new Map<string, number>();
  private readonly acquireListeners = new Set<(a: PipelineAcquire) => void>();
  /** An inbound ESP/AH packet whose SPI has no SA (%CRYPTO-4-RECVD_PKT_INV_SPI); counted anyway. */
  onInvalidSpi: ((e: { spi: number; proto: number; src: string; dst: string }) => void) | undefined;
  /** An SA refused an inbound packet (replay, ICV failure, ...); `seq` is its sequence number when readable. */
  onUnprotectError: ((sa: SecurityAssociation<IpsecSa>, code: string, seq: number | undefined) => void) | undefined;
  private readonly key: PacketKey = { family: 4, src: new Uint32Array(1), dst: new Uint32Array(1), proto: 0, srcPort: 0, dstPort: 0 };
  private readonly dstWords4 = new Uint32Array(1);
  /** sameFlowAsLastInScope: the SA and [src, dst, ports, protocol] of the last packet found in scope */
  private scopeSa: SecurityAssociation<IpsecSa> | undefined;
  private udp500Intercept: ((inner: Uint8Array, k: PacketKey) => boolean) | undefined;
  private readonly scopeFlow = new Float64Array(4);
  /** nested peers: each SA's outer-packet decision, valid while `epoch` is the SPDs' generation */
  private readonly nest = new WeakMap<SecurityAssociation<IpsecSa>, NestDecision>();
  private epoch = 0;
  private readonly nestKey: PacketKey = { family: 4, src: new Uint32Array(1), dst: new Uint32Array(1), proto: 0, srcPort: 0, dstPort: 0 };
  /** current protection depth (outbound) and decryption depth (inbound) */
  private outDepth = 0;
  private inDepth = 0;

  constructor(opts: PipelineOptions) {
    this.sad = opts.sad;
    this.io = opts.io;
    this.now = opts.now;
    this.acquireIntervalMs = opts.acquireIntervalMs ?? 1000;
  }

  setInterfaces(list: readonly PipelineInterface[]): void {
    this.interfaces = list;
    this.lastAcquire.clear();
    this.epoch++;
  }

  get spds(): readonly PipelineInterface[] {
    return this.interfaces;
  }

  onAcquire(fn: (a: PipelineAcquire) => void): () => void {
    this.acquireListeners.add(fn);
    return () => this.acquireListeners.delete(fn);
  }

  // ------------------------------------------------------------------ outbound

  /** One inner packet leaving through the tunnel. Never throws. */
  outbound(inner: Uint8Array): void {
    const c = this.counters;
    c.outPackets++;
    const k = packetKeyFromIp(inner, this.key);
    if (!k) { c.outBadPacket++; return; }
    if (k.proto === IPPROTO_UDP && k.dstPort === 500 && this.udp500Intercept?.(inner, k)) { c.outIntercepted++; return; }
    for (const itf of this.interfaces) {
      const d = itf.spd.outbound(k);
      if (d.action === 'bypass') continue;
      if (d.action === 'drop') { c.outPolicyDrop++; return; }
      const bundle = this.sad.outbound(d.policyKey);
      const sa = bundle?.sas[0];
      if (!sa) {
        c.outNoSa++;
        if (d.initiate || d.entry.discover) this.acquire(itf.name, d, k);
        return;
      }
      this.protectWith(sa, inner);
      return;
    }
    c.outBypass++;
  }

  /**
   * A packet the kernel's XFRM held for want of an SA (its ACQUIRE): the same SPD search
   * and acquire as outbound() without a packet to protect. True if it raised an acquire
   * (not for a flow with an SA, a drop, a manual entry, or within the rate limit).
   */
  acquireFor(k: PacketKey): boolean {
    for (const itf of this.interfaces) {
      const d = itf.spd.outbound(k);
      if (d.action === 'bypass') continue;
      if (d.action === 'drop' || this.sad.outbound(d.policyKey)?.sas[0] || !(d.initiate || d.entry.discover)) return false;
      return this.acquire(itf.name, d, k);
    }
    return false;
  }

  /**
   * TED: UDP packets to port 500 that policy routing steered here (probes in transit to a
   * host this box protects) are offered to `fn` first; true = consumed.
   */
  setUdp500Intercept(fn: ((inner: Uint8Array, k: PacketKey) => boolean) | undefined): void {
    this.udp500Intercept = fn;
  }

  /**
   * One IPv4 TCP super-packet (a TSO frame read from an offload TUN, IP header first)
   * leaving through the tunnel whole: one SPD and SAD lookup for all its segments (they
   * share the 5-tuple), sealed by one engine call and sent as one ESP train. Returns false
   * with nothing done or counted when it cannot go this way (no train I/O, no SA yet, not
   * a GCM tunnel SA...); the caller then cuts it and calls outbound() per segment.
   */
  outboundTcpSuperPacket(frame: Uint8Array, mss: number): boolean {
    const io = this.io;
    if (!io.sendEspTrain || !io.espTrainBuffer) return false;
    const k = packetKeyFromIp(frame, this.key);
    if (!k) return false;
    for (const itf of this.interfaces) {
      const d = itf.spd.outbound(k);
      if (d.action === 'bypass') continue;
      if (d.action === 'drop') return false;
      return this.sealSuperPacket(this.sad.outbound(d.policyKey)?.sas[0], frame, mss);
    }
    return false;
  }

  /** outboundTcpSuperPacket for a tunnel interface: its bundle, no SPD lookup. */
  outboundSuperVia(policyKey: string, frame: Uint8Array, mss: number): boolean {
    if (!this.io.sendEspTrain || !this.io.espTrainBuffer) return false;
    return this.sealSuperPacket(this.sad.outbound(policyKey)?.sas[0], frame, mss);
  }

  /** One inner packet routed into a tunnel interface: protected with that interface's SA. Never throws. */
  outboundVia(policyKey: string, inner: Uint8Array): void {
    const c = this.counters;
    c.outPackets++;
    const sa = this.sad.outbound(policyKey)?.sas[0];
    if (!sa) { c.outNoSa++; return; }
    this.protectWith(sa, inner);
  }

  private sealSuperPacket(sa: SecurityAssociation<IpsecSa> | undefined, frame: Uint8Array, mss: number): boolean {
    const io = this.io;
    // a frame whose outer DF must be clear (copied from an inner packet without DF) goes
    // per segment, so sendOuter sends it as IpsecSa built it; so does one whose outer
    // packets another entry protects again (nested peers)
    if (!sa || !sa.transform.outerDontFragment(frame) || this.nestFor(sa, undefined)) return false;
    // a 64 KB frame in 1400-byte segments needs ~68 KB; one with a tiny MSS may not fit,
    // and the seal declines it (nothing consumed): it goes per segment
    const out = io.espTrainBuffer!(sa, TRAIN_LEND_BYTES);
    if (!out) return false;
    const p = trainParams;
    const n = sa.transform.sealTcpSuperPacket(frame, mss, out, p);
    if (n === 0) return false;
    const c = this.counters;
    c.outSuperPackets++;
    if (n < 0) {
      c.outPackets++;
      c.outProtectErrors++;
      this.sad.recordError(sa, 'engine-error');
      return true;
    }
    c.outPackets += n;
    c.outSuperSegments += n;
    if (!this.sad.recordEncapsMany(sa, n, p[11]!)) { c.outProtectErrors += n; return true; }
    // tunnel mode copies the inner TOS (DSCP/ECN) to the outer header, as protect() does
    if (!io.sendEspTrain!(sa, out, n, p[8] === 1 ? p[10]! : p[9]!, p[10]!, frame[1]!)) {
      c.outSendErrors += n;
      this.sad.recordError(sa, 'send');
      return true;
    }
    c.outProtected += n;
    return true;
  }

  private protectWith(sa: SecurityAssociation<IpsecSa>, inner: Uint8Array): void {
    const c = this.counters;
    if (!this.sad.recordEncaps(sa, inner.length)) { c.outProtectErrors++; return; }
    const r = sa.transform.protect(inner);
    if (r.code !== 'ok') {
      c.outProtectErrors++;
      this.sad.recordError(sa, r.code);
      return;
    }
    const nest = this.nestFor(sa, r.packet);
    if (nest) { this.protectAgain(sa, nest, r.packet); return; }
    if (!this.io.sendOuter(r.packet, sa)) {
      c.outSendErrors++;
      this.sad.recordError(sa, 'send');
      return;
    }
    c.outProtected++;
  }

  /**
   * Nested peers: the entry that protects this SA's outer packets (`outer`: one of them, to
   * look it up the first time; undefined: the cached answer only), or undefined when they
   * leave as built. The outer header is the same for every packet of an SA, so the SPD is
   * searched once per SA and SPD generation.
   */
  private nestFor(sa: SecurityAssociation<IpsecSa>, outer: Uint8Array | undefined): NestDecision | undefined {
    const have = this.nest.get(sa);
    if (have && have.epoch === this.epoch) return have.decision ? have : undefined;
    if (!outer) return undefined;
    const k = packetKeyFromIp(outer, this.nestKey);
    let found: NestDecision = { epoch: this.epoch, decision: undefined, iface: '' };
    if (k) {
      for (const itf of this.interfaces) {
        const d = itf.spd.outbound(k);
        if (d.action === 'bypass') continue;
        if (d.action === 'protect') found = { epoch: this.epoch, decision: d, iface: itf.name };
        break;
      }
    }
    this.nest.set(sa, found);
    return found.decision ? found : undefined;
  }

  /** An outer packet of `sa` that another entry protects (nested peers): that entry's SA protects it again. */
  private protectAgain(sa: SecurityAssociation<IpsecSa>, nest: NestDecision, outer: Uint8Array): void {
    const c = this.counters;
    const d = nest.decision!;
    const next = this.sad.outbound(d.policyKey)?.sas[0];
    if (!next) {
      // the outer peer's SA is not up yet: the packet is dropped, IKE with the outer peer starts
      c.outNoSa++;
      const k = packetKeyFromIp(outer, this.nestKey);
      if (k && (d.initiate || d.entry.discover)) this.acquire(nest.iface, d, k);
      return;
    }
    if (next === sa || this.outDepth >= MAX_NESTING - 1) { c.outPolicyDrop++; return; }
    c.outNested++;
    this.outDepth++;
    try {
      // the outer packet may live in the SA's reused output buffer: the next SA gets its own copy
      this.protectWith(next, outer.slice());
    } finally {
      this.outDepth--;
    }
  }

  /** A packet protectWith() counted as sent was refused by the kernel at a later flush. */
  sendFailedLate(sa: SecurityAssociation<IpsecSa> | undefined): void {
    this.counters.outSendErrors++;
    if (this.counters.outProtected > 0) this.counters.outProtected--;
    if (sa) this.sad.recordError(sa, 'send');
  }

  /** Raises an acquire unless one for the same policy went out within acquireIntervalMs. */
  private acquire(iface: string, decision: ProtectDecision<MapEntryData>, k: PacketKey): boolean {
    const now = this.now();
    // TED probes go per destination host (one entry covers many gateways)
    const key = decision.entry.discover ? `${decision.policyKey}|${k.dst.join('.')}` : decision.policyKey;
    const last = this.lastAcquire.get(key);
    if (last !== undefined && now - last < this.acquireIntervalMs) return false;
    if (this.lastAcquire.size >= 4096) this.lastAcquire.clear();
    this.lastAcquire.set(key, now);
    this.counters.acquires++;
    const packet: PacketKey = { ...k, src: Uint32Array.from(k.src), dst: Uint32Array.from(k.dst) };
    const ev: PipelineAcquire = { iface, decision, packet };
    // delivered after the packet path returns
    queueMicrotask(() => {
      for (const fn of this.acquireListeners) {
        try { fn(ev); } catch { /* a listener bug must not reach the packet path */ }
      }
    });
    return true;
  }

  // ------------------------------------------------------------------ inbound

  /**
   * One outer IPv4 packet carrying ESP, AH or UDP-encapsulated ESP (IP header first).
   * Decrypts in place. Never throws.
   */
  inbound(packet: Uint8Array): void {
    const c = this.counters;
    c.inPackets++;
    const n = packet.length;
    if (n < 20 || packet[0]! >> 4 !== 4) { c.inBadPacket++; return; }
    const ihl = (packet[0]! & 0x0f) * 4;
    if (ihl < 20 || n < ihl + 8) { c.inBadPacket++; return; }
    const proto = packet[9]!;
    let spiOff: number;
    if (proto === IPPROTO_ESP) spiOff = ihl;
    else if (proto === IPPROTO_AH) spiOff = ihl + 4;
    else if (proto === IPPROTO_UDP) spiOff = ihl + 8;
    else { c.inBadPacket++; return; }
    if (n < spiOff + 4) { c.inBadPacket++; return; }
    const spi = ((packet[spiOff]! << 24) | (packet[spiOff + 1]! << 16) | (packet[spiOff + 2]! << 8) | packet[spiOff + 3]!) >>> 0;
    this.dstWords4[0] = ((packet[16]! << 24) | (packet[17]! << 16) | (packet[18]! << 8) | packet[19]!) >>> 0;
    const sa = this.sad.lookupInbound(spi, proto === IPPROTO_UDP ? IPPROTO_ESP : proto, this.dstWords4);
    if (!sa) {
      c.inNoSa++;
      this.onInvalidSpi?.({ spi, proto: proto === IPPROTO_UDP ? IPPROTO_ESP : proto, src: `${packet[12]}.${packet[13]}.${packet[14]}.${packet[15]}`, dst: `${packet[16]}.${packet[17]}.${packet[18]}.${packet[19]}` });
      return;
    }
    this.finishInbound(sa, sa.transform.unprotect(packet), false, packet, spiOff + 4);
  }

  /**
   * One UDP-4500 payload classified as ESP (from SPI on). `src`/`dst` are the outer
   * addresses (4 bytes each). Never throws.
   */
  inboundUdpEsp(payload: Uint8Array, src: Uint8Array, dst: Uint8Array): void {
    const c = this.counters;
    c.inPackets++;
    if (payload.length < 8 || dst.length !== 4) { c.inBadPacket++; return; }
    const spi = ((payload[0]! << 24) | (payload[1]! << 16) | (payload[2]! << 8) | payload[3]!) >>> 0;
    this.dstWords4[0] = ((dst[0]! << 24) | (dst[1]! << 16) | (dst[2]! << 8) | dst[3]!) >>> 0;
    const sa = this.sad.lookupInbound(spi, IPPROTO_ESP, this.dstWords4);
    if (!sa) {
      c.inNoSa++;
      this.onInvalidSpi?.({ spi, proto: IPPROTO_ESP, src: src.join('.'), dst: dst.join('.') });
      return;
    }
    this.finishInbound(sa, sa.transform.unprotectPayload(payload, IPPROTO_UDP, src, dst), false, payload, 4);
  }

  /**
   * A UDP GRO train of UDP-4500 payloads in buf: segment i at off + i*segSize, the last one
   * lastLen bytes. One SAD lookup for the first SPI, then the SA opens the segments that
   * carry that SPI in one engine call (IpsecSa.openTrain). Returns how many leading segments
   * were handled, each counted as inboundUdpEsp would count it; the caller hands the rest
   * to inboundUdpEsp (or IKE) one by one. 0 when the train cannot go this way. Never throws.
   */
  inboundUdpEspTrain(buf: Uint8Array, off: number, segSize: number, count: number, lastLen: number, src: Uint8Array, dst: Uint8Array): number {
    if (count < 1 || segSize < 8 || dst.length !== 4 || off < 0 || lastLen < 1 || lastLen > segSize || off + (count - 1) * segSize + lastLen > buf.length) return 0;
    const spi = ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
    const dw = this.dstWords4;
    dw[0] = ((dst[0]! << 24) | (dst[1]! << 16) | (dst[2]! << 8) | dst[3]!) >>> 0;
    const sa = this.sad.lookupInbound(spi, IPPROTO_ESP, dw);
    if (!sa) return 0;
    const t = sa.transform;
    const n = t.openTrain(buf, off, segSize, count, lastLen);
    if (n === 0) return 0;
    const c = this.counters;
    c.inTrains++;
    c.inTrainSegments += n;
    for (let i = 0; i < n; i++) {
      c.inPackets++;
      // a segment can expire the SA (hard byte limit): the per-packet lookup of the next
      // ones would then miss it
      if (!sa.usable && this.sad.lookupInbound(spi, IPPROTO_ESP, dw) !== sa) { c.inNoSa++; continue; }
      this.finishInbound(sa, t.trainResult(i), t.trainChecksumsOk, buf, off + i * segSize + 4);
    }
    return n;
  }

  /**
   * The scope check's result for the flow of the last packet found in scope: an
   * unfragmented IPv4 TCP/UDP packet without options is judged on exactly its addresses,
   * protocol and ports, so the next packet with the same ones on the same SA passes too
   * (a TCP stream is checked once per change of flow, not per segment).
   */
  private sameFlowAsLastInScope(sa: SecurityAssociation<IpsecSa>, p: Uint8Array): boolean {
    return sa === this.scopeSa && plainIpv4Flow(p) && p[9] === this.scopeFlow[3]
      && this.scopeFlow[0] === readU32(p, 12) && this.scopeFlow[1] === readU32(p, 16) && this.scopeFlow[2] === readU32(p, 20);
  }

  private rememberInScope(sa: SecurityAssociation<IpsecSa>, p: Uint8Array): void {
    if (!plainIpv4Flow(p)) { this.scopeSa = undefined; return; }
    this.scopeSa = sa;
    this.scopeFlow[0] = readU32(p, 12);
    this.scopeFlow[1] = readU32(p, 16);
    this.scopeFlow[2] = readU32(p, 20);
    this.scopeFlow[3] = p[9]!;
  }

  /**
   * A decrypted IPv4 packet (no options) carrying ESP, AH or ESP in UDP (port 4500) to an SA
   * of ours (nested peers), within the depth bound.
   */
  private innerIsOurs(p: Uint8Array): boolean {
    if (this.inDepth >= MAX_NESTING - 1 || p.length < 28 || p[0] !== 0x45) return false;
    const proto = p[9];
    let off: number;
    if (proto === IPPROTO_ESP) off = 20;
    else if (proto === IPPROTO_AH) off = 24;
    else if (proto === IPPROTO_UDP && ((p[22]! << 8) | p[23]!) === 4500) off = 28;
    else return false;
    if (p.length < off + 4) return false;
    const spi = readU32(p, off);
    if (spi === 0) return false; // IKE on 4500 (non-ESP marker)
    this.dstWords4[0] = readU32(p, 16);
    return this.sad.lookupInbound(spi, proto === IPPROTO_AH ? IPPROTO_AH : IPPROTO_ESP, this.dstWords4) !== undefined;
  }

  /** `seqBuf`/`seqOff`: where the packet's sequence number is, read only for the error hook. */
  private finishInbound(sa: SecurityAssociation<IpsecSa>, r: ReturnType<IpsecSa['unprotect']>, checksumsOk: boolean, seqBuf: Uint8Array, seqOff: number): void {
    const c = this.counters;
    if (r.code !== 'ok') {
      if (INFORMATIONAL.has(r.code)) { c.inInformational++; return; }
      c.inUnprotectErrors++;
      this.sad.recordError(sa, r.code);
      this.onUnprotectError?.(sa, r.code, seqOff + 4 <= seqBuf.length ? readU32(seqBuf, seqOff) : undefined);
      return;
    }
    const inner = r.packet;
    if (sa.scope && !this.sameFlowAsLastInScope(sa, inner)) {
      const k = packetKeyFromIp(inner, this.key);
      if (!k || !inboundMatchesScope(k, sa.scope)) {
        c.inPolicyFail++;
        this.sad.recordError(sa, 'policy');
        sa.transform.counters.recvErrors++;
        return;
      }
      this.rememberInScope(sa, inner);
    }
    if (!this.sad.recordDecaps(sa, inner.length)) { c.inUnprotectErrors++; return; }
    if (this.innerIsOurs(inner)) {
      // nested peers: the outer peer's SA carried ESP/AH for one of ours (from the inner peer)
      c.inNested++;
      this.inDepth++;
      try { this.inbound(inner.slice()); } finally { this.inDepth--; }
      return;
    }
    if (this.io.deliverInner(inner, checksumsOk, sa)) c.inDelivered++;
    else c.inDeliverErrors++;
  }
}
