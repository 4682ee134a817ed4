// KernelIpsec over the kernel's XFRM (NETLINK_XFRM): SAs and policies are installed in
// the kernel, which then does ESP/AH/IPComp itself. Three layers:
//   NetlinkTransport  - sends/receives datagrams (the `netlink` package's RawNetlinkSocket,
//                       or a fake in tests)
//   XfrmNetlink       - request/ack/dump matching by sequence number, notifications
//   XfrmBackend       - the KernelIpsec mapping (IOS transform names -> kernel algorithms)

import { EventEmitter } from 'node:events';
import { RawNetlinkSocket } from 'netlink';
import {
  NETLINK_XFRM, NLMSG_DONE, NLM_F_MULTI, decodeNetlinkMessages, errnoName,
  type NetlinkErrorMessage,
} from '../proto/netlink-core.js';
import {
  AF_INET, AF_INET6, IPPROTO_AH, IPPROTO_COMP, IPPROTO_ESP, UDP_ENCAP_ESPINUDP,
  XFRMNLGRP_ACQUIRE, XFRMNLGRP_EXPIRE, XFRM_INF, XFRM_MODE_TRANSPORT, XFRM_MODE_TUNNEL,
  XFRM_MSG_ACQUIRE, XFRM_MSG_EXPIRE, XFRM_MSG_POLEXPIRE, XFRM_POLICY_ALLOW, XFRM_POLICY_BLOCK,
  XFRM_POLICY_FWD, XFRM_POLICY_IN, XFRM_POLICY_OUT, XFRM_SHARE_ANY, XFRM_STATE_ESN,
  algorithmAttributes, decodeXfrmMessage, emptyUsersaInfo, encodeAllocSpi,
  encodeDelPolicy, encodeDelSa, encodeDumpPolicy, encodeDumpSa, encodeGetPolicy, encodeGetSa,
  encodeNewPolicy, encodeNewSa, encodeFlushPolicy, encodeFlushSa, infiniteLifetime, newReplayEsn,
  parseIpAddress, IOS_TRANSFORM_XFRM,
  type RequestHeader, type XfrmMessage, type XfrmPolicyAttributes, type XfrmSaAttributes,
  type XfrmSelector, type XfrmUserpolicyId, type XfrmUserpolicyInfo, type XfrmUsersaId,
  type XfrmUsersaInfo, type XfrmUserTmpl,
} from '../proto/netlink-xfrm.js';
import {
  ENCRYPTION_TRANSFORMS, INTEGRITY_TRANSFORMS, IPSEC_PROTOCOL_NUMBER,
  KernelIpsecError, parsePrefix,
  type AcquireEvent, type ExpireEvent, type IpsecProtocol, type KernelIpsec,
  type KernelIpsecCapabilities, type KernelIpsecEvents, type PolicyDirection, type PolicyId,
  type PolicyInfo, type PolicySpec, type SaCounters, type SaId, type SaInfo, type SaSpec,
  type SaTemplate, type SaUpdate, type TrafficSelector,
} from './kernel-ipsec.js';

// ---------------------------------------------------------------------------------------
// Transport

export interface NetlinkTransport {
  send(datagram: Uint8Array): void;
  onDatagram(listener: (datagram: Uint8Array) => void): void;
  onError(listener: (error: Error) => void): void;
  addMembership(group: number): void;
  close(): void;
}

export interface RawTransportOptions {
  /** SO_RCVBUF in bytes (bursts of ACQUIREs need room). Default 1 MiB. */
  recvBufferSize?: number;
  sendBufferSize?: number;
}

/** Open sockets, strongly held so that a socket only reachable from pending requests stays alive. */
const liveSockets = new Set<RawNetlinkSocket>();

/** A NETLINK_XFRM socket of the current network namespace (needs CAP_NET_ADMIN to act). */
export function openXfrmTransport(opts: RawTransportOptions = {}): NetlinkTransport {
  const sock = new RawNetlinkSocket(NETLINK_XFRM, {
    recvBufferSize: opts.recvBufferSize ?? 1 << 20,
    sendBufferSize: opts.sendBufferSize ?? 1 << 18,
  });
  liveSockets.add(sock);
  const errorListeners: ((e: Error) => void)[] = [];
  sock.on('error', (e) => { for (const l of errorListeners) l(e); });
  return {
    send(d) {
      sock.send(d, {}, (err) => { if (err) for (const l of errorListeners) l(err); });
    },
    onDatagram(l) { sock.on('message', (msg) => l(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength))); },
    onError(l) { errorListeners.push(l); },
    addMembership(g) { sock.addMembership(g); },
    close() {
      liveSockets.delete(sock);
      sock.close();
    },
  };
}

// ---------------------------------------------------------------------------------------
// Request layer

/** A kernel NLMSG_ERROR answer to one request. */
export class XfrmRequestError extends KernelIpsecError {
  override name = 'XfrmRequestError';
  constructor(readonly operation: string, readonly answer: NetlinkErrorMessage) {
    super(
      `${operation}: ${errnoName(answer.errno)}${answer.extAckMessage ? ` (${answer.extAckMessage})` : ''}`,
      errnoName(answer.errno), answer.errno,
    );
  }
}

type Expect = 'ack' | 'reply' | 'dump';
interface Pending {
  expect: Expect;
  operation: string;
  parts: XfrmMessage[];
  resolve: (m: XfrmMessage[]) => void;
  reject: (e: Error) => void;
  timer?: ReturnType<typeof setTimeout>;
}

export interface XfrmNetlinkOptions {
  /** Per-request timeout in ms (0 = none). Default 5000. */
  requestTimeoutMs?: number;
}

/** Matches answers to requests by sequence number; hands notifications to a listener. */
export class XfrmNetlink {
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  notify: (m: XfrmMessage) => void = () => {};
  onError: (e: Error) => void = () => {};

  constructor(readonly transport: NetlinkTransport, private readonly opts: XfrmNetlinkOptions = {}) {
    transport.onDatagram((d) => this.receive(d));
    transport.onError((e) => this.onError(e));
  }

  nextHeader(): RequestHeader {
    this.seq = (this.seq % 0x7fff_ffff) + 1;
    return { seq: this.seq };
  }

  /** Sends one encoded request built with `header` and waits for its answer. */
  request(operation: string, expect: Expect, build: (h: RequestHeader) => Uint8Array): Promise<XfrmMessage[]> {
    if (this.closed) return Promise.reject(new KernelIpsecError(`${operation}: netlink closed`, 'ECLOSED'));
    const h = this.nextHeader();
    const bytes = build(h);
    return new Promise((resolve, reject) => {
      const p: Pending = { expect, operation, parts: [], resolve, reject };
      const timeout = this.opts.requestTimeoutMs ?? 5000;
      if (timeout > 0) {
        p.timer = setTimeout(() => {
          this.pending.delete(h.seq);
          reject(new KernelIpsecError(`${operation}: no answer from the kernel`, 'ETIMEDOUT'));
        }, timeout);
        p.timer.unref?.();
      }
      this.pending.set(h.seq, p);
      try {
        this.transport.send(bytes);
      } catch (e) {
        this.finish(h.seq);
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  }

  close(): void {
    this.closed = true;
    for (const [seq, p] of this.pending) {
      this.finish(seq);
      p.reject(new KernelIpsecError(`${p.operation}: netlink closed`, 'ECLOSED'));
    }
    this.transport.close();
  }

  private finish(seq: number): void {
    const p = this.pending.get(seq);
    if (p?.timer) clearTimeout(p.timer);
    this.pending.delete(seq);
  }

  private receive(datagram: Uint8Array): void {
    let messages: XfrmMessage[];
    try {
      messages = decodeNetlinkMessages(datagram).map(decodeXfrmMessage);
    } catch (e) {
      this.onError(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    for (const m of messages) {
      const t = m.header.type;
      if (t === XFRM_MSG_ACQUIRE || t === XFRM_MSG_EXPIRE || t === XFRM_MSG_POLEXPIRE) {
        this.notify(m);
        continue;
      }
      const p = this.pending.get(m.header.seq);
      if (!p) { this.notify(m); continue; }
      if (m.kind === 'error') {
        this.finish(m.header.seq);
        if (m.error.errno === 0) p.resolve(p.parts);
        else p.reject(new XfrmRequestError(p.operation, m.error));
      } else if (m.kind === 'done' || t === NLMSG_DONE) {
        this.finish(m.header.seq);
        p.resolve(p.parts);
      } else {
        p.parts.push(m);
        if (p.expect === 'reply' && !(m.header.flags & NLM_F_MULTI)) {
          this.finish(m.header.seq);
          p.resolve(p.parts);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// KernelIpsec types -> XFRM structures (pure; exported for golden tests)

const PROTO_NUMBER = IPSEC_PROTOCOL_NUMBER;
function protoName(n: number): IpsecProtocol {
  if (n === IPPROTO_ESP) return 'esp';
  if (n === IPPROTO_AH) return 'ah';
  if (n === IPPROTO_COMP) return 'comp';
  throw new KernelIpsecError(`unknown IPsec protocol ${n}`, 'EINVAL');
}
const DIR_NUMBER: Record<PolicyDirection, number> = { in: XFRM_POLICY_IN, out: XFRM_POLICY_OUT, fwd: XFRM_POLICY_FWD };
function dirName(n: number): PolicyDirection {
  return n === XFRM_POLICY_IN ? 'in' : n === XFRM_POLICY_FWD ? 'fwd' : 'out';
}

function familyOf(address: string, what: string): number {
  try {
    return parseIpAddress(address).family;
  } catch {
    throw new KernelIpsecError(`${what}: not an IP address: ${address}`, 'EINVAL');
  }
}

/** TrafficSelector -> struct xfrm_selector. */
export function toXfrmSelector(ts: TrafficSelector): XfrmSelector {
  const s = parsePrefix(ts.src);
  const d = parsePrefix(ts.dst);
  if (s.ipv6 !== d.ipv6) throw new KernelIpsecError(`selector mixes IPv4 and IPv6: ${ts.src} -> ${ts.dst}`, 'EINVAL');
  const family = s.ipv6 ? AF_INET6 : AF_INET;
  familyOf(s.address, 'selector src');
  familyOf(d.address, 'selector dst');
  return {
    family,
    saddr: s.address, daddr: d.address, prefixlenS: s.length, prefixlenD: d.length,
    proto: ts.proto ?? 0,
    sport: ts.srcPort ?? 0, sportMask: ts.srcPort ? 0xffff : 0,
    dport: ts.dstPort ?? 0, dportMask: ts.dstPort ? 0xffff : 0,
    ifindex: 0, user: 0,
  };
}

/** struct xfrm_selector -> TrafficSelector. */
export function fromXfrmSelector(s: XfrmSelector): TrafficSelector {
  const ts: TrafficSelector = { src: `${s.saddr}/${s.prefixlenS}`, dst: `${s.daddr}/${s.prefixlenD}` };
  if (s.proto) ts.proto = s.proto;
  if (s.sportMask && s.sport) ts.srcPort = s.sport;
  if (s.dportMask && s.dport) ts.dstPort = s.dport;
  return ts;
}

const u64OrInf = (v: bigint | undefined): bigint => (v === undefined ? XFRM_INF : v);
const secOrZero = (v: number | undefined): bigint => (v === undefined ? 0n : BigInt(Math.max(0, Math.floor(v))));

/** Builds the NEWSA/UPDSA content for an SaSpec. Throws KernelIpsecError on bad specs. */
export function saSpecToXfrm(sa: SaSpec): { info: XfrmUsersaInfo; attrs: XfrmSaAttributes } {
  const family = familyOf(sa.dst, 'SA dst');
  if (familyOf(sa.src, 'SA src') !== family) throw new KernelIpsecError(`SA mixes address families: ${sa.src} -> ${sa.dst}`, 'EINVAL');
  const proto = PROTO_NUMBER[sa.protocol];
  if (sa.protocol === 'comp' && sa.spi > 0xffff) throw new KernelIpsecError(`IPComp CPI 0x${sa.spi.toString(16)} > 0xffff`, 'EINVAL');
  const info = emptyUsersaInfo(family);
  info.id = { daddr: sa.dst, spi: sa.spi, proto };
  info.saddr = sa.src;
  info.reqid = sa.reqid;
  info.mode = sa.mode === 'tunnel' ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT;
  info.seq = sa.acquireSeq ?? 0;
  if (sa.selector) info.sel = toXfrmSelector(sa.selector);
  const l = sa.lifetime;
  info.lft = {
    ...infiniteLifetime(),
    softByteLimit: u64OrInf(l.softBytes), hardByteLimit: u64OrInf(l.hardBytes),
    softPacketLimit: u64OrInf(l.softPackets), hardPacketLimit: u64OrInf(l.hardPackets),
    softAddExpiresSec: secOrZero(l.softSec), hardAddExpiresSec: secOrZero(l.hardSec),
    hardUseExpiresSec: secOrZero(l.hardIdleSec),
  };

  let attrs: XfrmSaAttributes = {};
  const alg = (transform: string, key: Uint8Array, icv?: number): XfrmSaAttributes => {
    if (!IOS_TRANSFORM_XFRM[transform]) throw new KernelIpsecError(`${transform} is not supported by the kernel backend`, 'UNSUPPORTED');
    try {
      return algorithmAttributes(transform, key, icv);
    } catch (e) {
      throw new KernelIpsecError((e as Error).message, 'EINVAL');
    }
  };
  switch (sa.protocol) {
    case 'esp': {
      if (sa.compression) throw new KernelIpsecError('compression on an ESP SA (use a separate comp SA)', 'EINVAL');
      if (sa.encryption) attrs = { ...attrs, ...alg(sa.encryption.transform, sa.encryption.key, sa.encryption.icvBits) };
      if (sa.integrity) {
        if (!sa.integrity.transform.startsWith('esp-')) throw new KernelIpsecError(`${sa.integrity.transform} on an ESP SA`, 'EINVAL');
        if (attrs.algAead) throw new KernelIpsecError(`${sa.integrity.transform} with combined-mode ${sa.encryption?.transform}`, 'EINVAL');
        attrs = { ...attrs, ...alg(sa.integrity.transform, sa.integrity.key) };
      }
      if (!attrs.algAead && !attrs.algCrypt) {
        if (!attrs.algAuthTrunc) throw new KernelIpsecError('ESP SA without any algorithm', 'EINVAL');
        attrs = { ...attrs, ...alg('esp-null', new Uint8Array(0)) };
      }
      break;
    }
    case 'ah':
      if (sa.encryption || sa.compression) throw new KernelIpsecError('AH SA with encryption or compression', 'EINVAL');
      if (!sa.integrity) throw new KernelIpsecError('AH SA without integrity algorithm', 'EINVAL');
      if (!sa.integrity.transform.startsWith('ah-')) throw new KernelIpsecError(`${sa.integrity.transform} on an AH SA`, 'EINVAL');
      attrs = alg(sa.integrity.transform, sa.integrity.key);
      break;
    case 'comp':
      if (!sa.compression) throw new KernelIpsecError('IPComp SA without compression algorithm', 'EINVAL');
      attrs = alg(sa.compression.transform, new Uint8Array(0));
      break;
  }
  if (sa.udpEncap) {
    if (sa.protocol !== 'esp') throw new KernelIpsecError('UDP encapsulation is for ESP only', 'EINVAL');
    attrs.encap = {
      type: UDP_ENCAP_ESPINUDP, sport: sa.udpEncap.srcPort, dport: sa.udpEncap.dstPort,
      oa: sa.udpEncap.originalAddress ?? (family === AF_INET6 ? '::' : '0.0.0.0'),
    };
  }
  if (sa.protocol !== 'comp') {
    const window = sa.replayWindow;
    if (!Number.isInteger(window) || window < 0 || window > 4096) throw new KernelIpsecError(`replay window ${window} out of range`, 'EINVAL');
    if (sa.esn) {
      info.flags |= XFRM_STATE_ESN;
      // The kernel insists on a non-zero window with ESN.
      attrs.replayEsn = newReplayEsn(Math.max(window, 32));
    } else if (window > 32) {
      // The legacy replay state has a 32-bit bitmap: the kernel caps replay_window at 32.
      // Larger windows (IOS default 64) need the bitmap of XFRMA_REPLAY_ESN_VAL.
      attrs.replayEsn = newReplayEsn(window);
    } else {
      info.replayWindow = window;
    }
  } else if (sa.esn) {
    throw new KernelIpsecError('ESN on an IPComp SA', 'EINVAL');
  }
  if (sa.mark) attrs.mark = { ...sa.mark };
  if (sa.ifId !== undefined) attrs.ifId = sa.ifId;
  return { info, attrs };
}

export function saIdToXfrm(id: SaId): { id: XfrmUsersaId; attrs: XfrmSaAttributes } {
  const family = familyOf(id.dst, 'SA dst');
  const attrs: XfrmSaAttributes = {};
  if (id.src !== undefined) attrs.srcaddr = id.src;
  if (id.mark) attrs.mark = { ...id.mark };
  return { id: { daddr: id.dst, spi: id.spi, family, proto: PROTO_NUMBER[id.protocol] }, attrs };
}

function templateToXfrm(t: SaTemplate, selFamily: number): XfrmUserTmpl {
  const family = t.dst ? familyOf(t.dst, 'template dst') : t.src ? familyOf(t.src, 'template src') : selFamily;
  const zero = family === AF_INET6 ? '::' : '0.0.0.0';
  if (t.mode === 'tunnel' && (!t.src || !t.dst)) throw new KernelIpsecError('tunnel-mode template without src/dst', 'EINVAL');
  return {
    id: { daddr: t.dst ?? zero, spi: t.spi ?? 0, proto: PROTO_NUMBER[t.protocol] },
    family,
    saddr: t.src ?? zero,
    reqid: t.reqid,
    mode: t.mode === 'tunnel' ? XFRM_MODE_TUNNEL : XFRM_MODE_TRANSPORT,
    share: XFRM_SHARE_ANY,
    optional: t.optional ? 1 : 0,
    aalgos: 0xffff_ffff, ealgos: 0xffff_ffff, calgos: 0xffff_ffff,
  };
}

/** Builds the NEWPOLICY/UPDPOLICY content for a PolicySpec. */
export function policySpecToXfrm(p: PolicySpec): { info: XfrmUserpolicyInfo; attrs: XfrmPolicyAttributes } {
  const sel = toXfrmSelector(p.selector);
  if (p.action === 'protect' && p.templates.length === 0) throw new KernelIpsecError('protect policy without templates', 'EINVAL');
  if (p.action !== 'protect' && p.templates.length > 0) throw new KernelIpsecError(`${p.action} policy with templates`, 'EINVAL');
  const info: XfrmUserpolicyInfo = {
    sel, lft: infiniteLifetime(), curlft: { bytes: 0n, packets: 0n, addTime: 0n, useTime: 0n },
    priority: p.priority, index: 0, dir: DIR_NUMBER[p.direction],
    action: p.action === 'drop' ? XFRM_POLICY_BLOCK : XFRM_POLICY_ALLOW, flags: 0, share: XFRM_SHARE_ANY,
  };
  const attrs: XfrmPolicyAttributes = {};
  if (p.templates.length > 0) attrs.tmpls = p.templates.map((t) => templateToXfrm(t, sel.family));
  if (p.mark) attrs.mark = { ...p.mark };
  if (p.ifId !== undefined) attrs.ifId = p.ifId;
  return { info, attrs };
}

export function policyIdToXfrm(p: PolicyId): { id: XfrmUserpolicyId; attrs: XfrmPolicyAttributes } {
  const attrs: XfrmPolicyAttributes = {};
  if (p.mark) attrs.mark = { ...p.mark };
  if (p.ifId !== undefined) attrs.ifId = p.ifId;
  return { id: { sel: toXfrmSelector(p.selector), index: 0, dir: DIR_NUMBER[p.direction] }, attrs };
}

/** XFRM ACQUIRE -> AcquireEvent. */
export function acquireEventFrom(m: Extract<XfrmMessage, { kind: 'acquire' }>): AcquireEvent {
  const a = m.acquire;
  const tmpl = m.attrs.tmpls?.[0];
  return {
    policyIndex: a.policy.index,
    direction: dirName(a.policy.dir),
    policySelector: fromXfrmSelector(a.policy.sel),
    packetSelector: fromXfrmSelector(a.sel),
    src: a.saddr,
    dst: a.id.daddr,
    protocol: protoName(a.id.proto),
    reqid: tmpl?.reqid ?? 0,
    seq: a.seq,
  };
}

/** XFRM EXPIRE -> ExpireEvent. */
export function expireEventFrom(m: Extract<XfrmMessage, { kind: 'expire' }>): ExpireEvent {
  const s = m.expire.state;
  const id: SaId = { dst: s.id.daddr, spi: s.id.spi, protocol: protoName(s.id.proto), src: s.saddr };
  if (m.attrs.mark) id.mark = { ...m.attrs.mark };
  return { hard: m.expire.hard, id, reqid: s.reqid, bytes: s.curlft.bytes, packets: s.curlft.packets };
}

function countersFrom(info: XfrmUsersaInfo, attrs: XfrmSaAttributes): SaCounters {
  let outboundSeq = 0n;
  let inboundSeq = 0n;
  if (attrs.replayEsn) {
    outboundSeq = (BigInt(attrs.replayEsn.oseqHi) << 32n) | BigInt(attrs.replayEsn.oseq);
    inboundSeq = (BigInt(attrs.replayEsn.seqHi) << 32n) | BigInt(attrs.replayEsn.seq);
  } else if (attrs.replay) {
    outboundSeq = BigInt(attrs.replay.oseq);
    inboundSeq = BigInt(attrs.replay.seq);
  }
  return {
    bytes: info.curlft.bytes,
    packets: info.curlft.packets,
    addTimeSec: Number(info.curlft.addTime),
    useTimeSec: Number(info.curlft.useTime),
    replayErrors: info.stats.replay,
    integrityFailures: info.stats.integrityFailed,
    replayWindowDrops: info.stats.replayWindow,
    outboundSeq,
    inboundSeq,
  };
}

const zeroCounters = (): SaCounters => ({
  bytes: 0n, packets: 0n, addTimeSec: 0, useTimeSec: 0, replayErrors: 0, integrityFailures: 0,
  replayWindowDrops: 0, outboundSeq: 0n, inboundSeq: 0n,
});

// ---------------------------------------------------------------------------------------
// The backend

function saKey(id: SaId): string {
  const m = id.mark ? `/${id.mark.value}:${id.mark.mask}` : '';
  return `${id.protocol}/${id.dst}/${id.spi >>> 0}${m}`;
}
function policyKey(p: PolicyId): string {
  const s = p.selector;
  const m = p.mark ? `/${p.mark.value}:${p.mark.mask}` : '';
  return `${p.direction}/${s.src}/${s.dst}/${s.proto ?? 0}/${s.srcPort ?? 0}/${s.dstPort ?? 0}${m}/${p.ifId ?? ''}`;
}

/** SaSpec without keys, kept for listSas/updateSa bookkeeping. */
type SaRecord = Omit<SaInfo, 'counters'> & { id: SaId };

/**
 * What a kernel with ESP normally offers, before probing. No compression: Linux has no LZS
 * (the only IOS IPComp algorithm), so comp-lzs SAs answer ENOSYS and belong to userspace.
 */
export const XFRM_DEFAULT_CAPABILITIES: KernelIpsecCapabilities = {
  protocols: ['esp', 'ah'],
  encryption: ENCRYPTION_TRANSFORMS.filter((t) => t !== 'esp-seal'),
  integrity: [...INTEGRITY_TRANSFORMS],
  compression: [],
  udpEncap: true,
  esn: true,
  ipv6: true,
  maxReplayWindow: 4096,
  acquire: true,
  marks: true,
};

export interface XfrmBackendOptions extends XfrmNetlinkOptions {
  /** What the kernel was found to support (see detect.ts); default: everything. */
  capabilities?: KernelIpsecCapabilities;
  /** Join the ACQUIRE and EXPIRE multicast groups (default true). */
  subscribe?: boolean;
}

export class XfrmBackend extends EventEmitter implements KernelIpsec {
  readonly name = 'xfrm' as const;
  readonly capabilities: KernelIpsecCapabilities;
  readonly netlink: XfrmNetlink;
  private readonly sas = new Map<string, SaRecord>();
  /** SPIs reserved with getSpi (larval SAs in the kernel): addSa must use UPDSA for them. */
  private readonly larval = new Map<string, SaId>();
  private readonly policies = new Map<string, PolicyInfo>();

  constructor(transport: NetlinkTransport, opts: XfrmBackendOptions = {}) {
    super();
    this.capabilities = opts.capabilities ?? XFRM_DEFAULT_CAPABILITIES;
    this.netlink = new XfrmNetlink(transport, opts);
    this.netlink.notify = (m) => this.onNotification(m);
    this.netlink.onError = (e) => this.emitError(e);
    if (opts.subscribe ?? true) {
      transport.addMembership(XFRMNLGRP_ACQUIRE);
      transport.addMembership(XFRMNLGRP_EXPIRE);
    }
  }

  override on<E extends keyof KernelIpsecEvents>(event: E, listener: KernelIpsecEvents[E]): this {
    return super.on(event, listener);
  }
  override off<E extends keyof KernelIpsecEvents>(event: E, listener: KernelIpsecEvents[E]): this {
    return super.off(event, listener);
  }

  private emitError(e: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }

  private onNotification(m: XfrmMessage): void {
    try {
      if (m.kind === 'acquire') this.emit('acquire', acquireEventFrom(m));
      else if (m.kind === 'expire') {
        const ev = expireEventFrom(m);
        if (ev.hard) this.sas.delete(saKey(ev.id));
        this.emit('expire', ev);
      }
    } catch (e) {
      this.emitError(e instanceof Error ? e : new Error(String(e)));
    }
  }

  async getSpi(req: { src: string; dst: string; protocol: IpsecProtocol; reqid: number; min?: number; max?: number }): Promise<number> {
    const family = familyOf(req.dst, 'getSpi dst');
    const info = emptyUsersaInfo(family);
    info.lft = { ...info.lft, softByteLimit: 0n, hardByteLimit: 0n, softPacketLimit: 0n, hardPacketLimit: 0n };
    info.id = { daddr: req.dst, spi: 0, proto: PROTO_NUMBER[req.protocol] };
    info.saddr = req.src;
    info.reqid = req.reqid;
    info.mode = XFRM_MODE_TUNNEL;
    const comp = req.protocol === 'comp';
    const min = req.min ?? 0x100;
    const max = req.max ?? (comp ? 0xffff : 0xffff_ffff);
    const parts = await this.netlink.request(`getSpi ${req.protocol} ${req.src}->${req.dst}`, 'reply',
      (h) => encodeAllocSpi(h, { info, min, max }));
    const reply = parts.find((p) => p.kind === 'sa');
    if (!reply || reply.kind !== 'sa') throw new KernelIpsecError('getSpi: no SA in the answer', 'EPROTO');
    const spi = reply.info.id.spi;
    const id: SaId = { dst: req.dst, spi, protocol: req.protocol, src: req.src };
    this.larval.set(saKey(id), id);
    return spi;
  }

  async addSa(sa: SaSpec): Promise<void> {
    const { info, attrs } = saSpecToXfrm(sa);
    const id: SaId = { dst: sa.dst, spi: sa.spi, protocol: sa.protocol, src: sa.src };
    if (sa.mark) id.mark = sa.mark;
    const key = saKey(id);
    const update = this.larval.has(saKey({ ...id, mark: undefined })) || this.larval.has(key);
    await this.netlink.request(`addSa ${sa.protocol} spi 0x${sa.spi.toString(16)} ${sa.src}->${sa.dst}`, 'ack',
      (h) => encodeNewSa(h, info, attrs, update));
    this.larval.delete(saKey({ ...id, mark: undefined }));
    this.larval.delete(key);
    this.sas.set(key, {
      id, src: sa.src, dst: sa.dst, spi: sa.spi, protocol: sa.protocol, mode: sa.mode, reqid: sa.reqid,
      encryption: sa.encryption?.transform, integrity: sa.integrity?.transform, compression: sa.compression?.transform,
      udpEncap: sa.udpEncap ? { ...sa.udpEncap } : undefined, replayWindow: sa.replayWindow, esn: sa.esn,
    });
  }

  /** Reads an SA back from the kernel (keys included: keep the result to yourself). */
  async getSaRaw(id: SaId): Promise<{ info: XfrmUsersaInfo; attrs: XfrmSaAttributes }> {
    const x = saIdToXfrm(id);
    const parts = await this.netlink.request(`querySa ${id.protocol} spi 0x${id.spi.toString(16)} ${id.dst}`, 'reply',
      (h) => encodeGetSa(h, x.id, x.attrs));
    const sa = parts.find((p) => p.kind === 'sa');
    if (!sa || sa.kind !== 'sa') throw new KernelIpsecError('querySa: no SA in the answer', 'EPROTO');
    return { info: sa.info, attrs: sa.attrs };
  }

  async querySa(id: SaId): Promise<SaCounters> {
    const { info, attrs } = await this.getSaRaw(id);
    return countersFrom(info, attrs);
  }

  async updateSa(u: SaUpdate): Promise<void> {
    const { info, attrs } = await this.getSaRaw(u.id);
    const family = info.family;
    const newSrc = u.newSrc ?? info.saddr;
    const newDst = u.newDst ?? info.id.daddr;
    if (familyOf(newSrc, 'newSrc') !== family || familyOf(newDst, 'newDst') !== family) {
      throw new KernelIpsecError('updateSa cannot change the address family', 'EINVAL');
    }
    const next: XfrmUsersaInfo = {
      ...info, saddr: newSrc, id: { ...info.id, daddr: newDst },
      curlft: { bytes: 0n, packets: 0n, addTime: 0n, useTime: 0n },
      stats: { replayWindow: 0, replay: 0, integrityFailed: 0 },
    };
    // The kernel reports both AUTH and AUTH_TRUNC; NEWSA takes one. Counters ride in LTIME_VAL.
    const nextAttrs: XfrmSaAttributes = { ...attrs, ltime: info.curlft };
    if (nextAttrs.algAuthTrunc) delete nextAttrs.algAuth;
    delete nextAttrs.lastUsed;
    delete nextAttrs.srcaddr;
    delete nextAttrs.other;
    if (u.udpEncap === null) delete nextAttrs.encap;
    else if (u.udpEncap) {
      nextAttrs.encap = {
        type: UDP_ENCAP_ESPINUDP, sport: u.udpEncap.srcPort, dport: u.udpEncap.dstPort,
        oa: u.udpEncap.originalAddress ?? (family === AF_INET6 ? '::' : '0.0.0.0'),
      };
    }
    const newId: SaId = { ...u.id, src: newSrc, dst: newDst };
    // Same (dst, spi, proto): delete and re-add (the kernel refuses UPDSA on a valid SA that
    // gains or loses UDP encapsulation). Otherwise add the new one first, then delete.
    const sameId = newDst === info.id.daddr;
    if (sameId) {
      const old = saIdToXfrm(u.id);
      await this.netlink.request(`updateSa delete spi 0x${u.id.spi.toString(16)}`, 'ack', (h) => encodeDelSa(h, old.id, old.attrs));
      await this.netlink.request(`updateSa re-add spi 0x${u.id.spi.toString(16)}`, 'ack', (h) => encodeNewSa(h, next, nextAttrs));
    } else {
      await this.netlink.request(`updateSa spi 0x${u.id.spi.toString(16)} -> ${newDst}`, 'ack', (h) => encodeNewSa(h, next, nextAttrs));
      const old = saIdToXfrm(u.id);
      await this.netlink.request(`updateSa delete old spi 0x${u.id.spi.toString(16)}`, 'ack', (h) => encodeDelSa(h, old.id, old.attrs));
    }
    const rec = this.sas.get(saKey(u.id));
    if (rec) {
      this.sas.delete(saKey(u.id));
      const encap = u.udpEncap === null ? undefined : u.udpEncap ?? rec.udpEncap;
      this.sas.set(saKey(newId), { ...rec, id: newId, src: newSrc, dst: newDst, udpEncap: encap });
    }
  }

  async deleteSa(id: SaId): Promise<void> {
    const x = saIdToXfrm(id);
    await this.netlink.request(`deleteSa ${id.protocol} spi 0x${id.spi.toString(16)} ${id.dst}`, 'ack', (h) => encodeDelSa(h, x.id, x.attrs));
    this.sas.delete(saKey(id));
    this.larval.delete(saKey(id));
  }

  /** Our SAs with the kernel's counters: one XFRM_MSG_GETSA dump, however many SAs. */
  async listSas(): Promise<SaInfo[]> {
    if (this.sas.size === 0) return [];
    const parts = await this.netlink.request('listSas', 'dump', (h) => encodeDumpSa(h));
    const counters = new Map<string, SaCounters>();
    for (const m of parts) {
      if (m.kind !== 'sa' || ![IPPROTO_ESP, IPPROTO_AH, IPPROTO_COMP].includes(m.info.id.proto)) continue;
      const id: SaId = { dst: m.info.id.daddr, spi: m.info.id.spi, protocol: protoName(m.info.id.proto) };
      if (m.attrs.mark) id.mark = { ...m.attrs.mark };
      counters.set(saKey(id), countersFrom(m.info, m.attrs));
    }
    const out: SaInfo[] = [];
    for (const [key, rec] of this.sas) {
      const { id: _id, ...info } = rec;
      out.push({ ...info, counters: counters.get(key) ?? zeroCounters() });
    }
    return out;
  }

  async addPolicy(p: PolicySpec): Promise<number> {
    const { info, attrs } = policySpecToXfrm(p);
    const what = `addPolicy ${p.direction} ${p.selector.src}->${p.selector.dst}`;
    await this.netlink.request(what, 'ack', (h) => encodeNewPolicy(h, info, attrs, p.replace ?? false));
    const id = policyIdToXfrm(p);
    const parts = await this.netlink.request(`${what} (read back)`, 'reply', (h) => encodeGetPolicy(h, id.id, id.attrs));
    const got = parts.find((m) => m.kind === 'policy');
    const index = got && got.kind === 'policy' ? got.info.index : 0;
    this.policies.set(policyKey(p), { ...p, templates: p.templates.map((t) => ({ ...t })), index });
    return index;
  }

  async deletePolicy(p: PolicyId): Promise<void> {
    const x = policyIdToXfrm(p);
    await this.netlink.request(`deletePolicy ${p.direction} ${p.selector.src}->${p.selector.dst}`, 'ack',
      (h) => encodeDelPolicy(h, x.id, x.attrs));
    this.policies.delete(policyKey(p));
  }

  async listPolicies(): Promise<PolicyInfo[]> {
    return [...this.policies.values()].map((p) => ({ ...p, templates: p.templates.map((t) => ({ ...t })) }));
  }

  /** Every policy in the kernel (this namespace), installed by us or not. */
  async dumpPolicies(): Promise<Array<{ info: XfrmUserpolicyInfo; attrs: XfrmPolicyAttributes }>> {
    const parts = await this.netlink.request('dumpPolicies', 'dump', (h) => encodeDumpPolicy(h));
    return parts.flatMap((m) => (m.kind === 'policy' ? [{ info: m.info, attrs: m.attrs }] : []));
  }

  /** Every SA in the kernel (this namespace) without keys. */
  async dumpSas(): Promise<Array<{ info: XfrmUsersaInfo }>> {
    const parts = await this.netlink.request('dumpSas', 'dump', (h) => encodeDumpSa(h));
    return parts.flatMap((m) => (m.kind === 'sa' ? [{ info: m.info }] : []));
  }

  async flushSas(): Promise<void> {
    const ids = [...this.sas.values()].map((r) => r.id).concat([...this.larval.values()]);
    let first: Error | undefined;
    for (const id of ids) {
      try {
        await this.deleteSa(id);
      } catch (e) {
        this.sas.delete(saKey(id));
        this.larval.delete(saKey(id));
        if (!(e instanceof KernelIpsecError && (e.code === 'ESRCH' || e.code === 'ENOENT'))) first ??= e as Error;
      }
    }
    if (first) throw first;
  }

  async flushPolicies(): Promise<void> {
    let first: Error | undefined;
    for (const p of [...this.policies.values()]) {
      try {
        await this.deletePolicy(p);
      } catch (e) {
        this.policies.delete(policyKey(p));
        if (!(e instanceof KernelIpsecError && e.code === 'ENOENT')) first ??= e as Error;
      }
    }
    if (first) throw first;
  }

  /** XFRM_MSG_FLUSHSA / FLUSHPOLICY of the whole namespace (not only ours): for tests and `clear`. */
  async flushAllKernelState(): Promise<void> {
    await this.netlink.request('flush all SAs', 'ack', (h) => encodeFlushSa(h, 0));
    await this.netlink.request('flush all policies', 'ack', (h) => encodeFlushPolicy(h));
    this.sas.clear();
    this.larval.clear();
    this.policies.clear();
  }

  async close(): Promise<void> {
    this.netlink.close();
  }
}

/** Opens the XFRM backend on a NETLINK_XFRM socket of the current network namespace. */
export function openXfrmBackend(opts: XfrmBackendOptions & RawTransportOptions = {}): XfrmBackend {
  return new XfrmBackend(openXfrmTransport(opts), opts);
}
