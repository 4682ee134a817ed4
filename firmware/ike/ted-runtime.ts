// Tunnel Endpoint Discovery at runtime, for both IKE versions (guide, "Tunnel Endpoint
// Discovery"; wire format docs/ted-wire-format.md). The probe and reply are the same whatever
// IKE the `discover` entry negotiates; only the last step differs: the discovered flow goes to
// IKEv1 (main mode + quick mode) or, for an entry with `set ikev2-profile`, to IKEv2
// (IKE_SA_INIT + IKE_AUTH, or CREATE_CHILD_SA on an IKE SA already up with that gateway).
//   - acquire: a packet hit a `discover` dynamic entry without an SA (dropped by the data
//     plane): a probe goes toward its destination host from the entry's local address;
//   - probe (received on our port 500, or intercepted in transit to a host we protect): answered
//     when a `discover` entry protects the destination toward the source;
//   - reply: checked against the outstanding probes (ted.ts), then the initiator of the entry's
//     IKE version is handed the combined proxies and the answering gateway.
// No sockets and no services here: the port carries bytes, debug lines and the initiation.
import { resolveCryptoMapSet, type ResolvedMapEntry } from '../config/crypto-map.js';
import { effectiveIpv4 } from '../config/interface.js';
import type { Config } from '../config/model.js';
import {
  addrSetToPrefix, ANY_PORTS, formatIp, prefixAddr, prefixLength, selectorContains, selectorIntersect, type AddrSet, type TrafficSelector,
} from '../ipsec/selector.js';
import { aceToSelector, type ProtectDecision, type SpdEntry } from '../ipsec/spd.js';
import type { PacketKey } from '../ipsec/selector.js';
import { isTedDatagram } from '../proto/ikev1/ted.js';
import { TedDiscovery, type TedAnswer, type TedCounters } from './ted.js';

/** One side of a proxy pair: an IPv4 prefix. */
export interface TedHalf {
  addr: string;
  prefixLen: number;
}

/** A discovered flow: what the IKE initiator of the entry's version needs. */
export interface TedFlow {
  /** IKEv2 when the entry has `set ikev2-profile`. */
  version: 'IKEv1' | 'IKEv2';
  iface: string;
  mapName: string;
  seq: number;
  subSeq: number | undefined;
  /** The permit entry of the dynamic entry's ACL whose traffic raised the probe. */
  aceIndex: number;
  /** Our half proxy (the permit's source) and the answering gateway's. */
  local: TedHalf;
  remote: TedHalf;
  /** Our IKE address and the gateway that answered. */
  localAddress: string;
  responder: string;
  /** The dynamic entry as the SPD holds it (not a temporary one) and as configured. */
  entry: SpdEntry<unknown>;
  resolved: ResolvedMapEntry;
}

/** What a probe remembers until its reply: the entry and permit that raised it, our half proxy. */
type ProbeContext = Pick<TedFlow, 'iface' | 'mapName' | 'seq' | 'subSeq' | 'aceIndex' | 'local'>;

export interface TedPort {
  now(): number;
  random(n: number): Uint8Array;
  config(): Config;
  /** The crypto map entries in effect on an interface (dynamic entries expanded). */
  entries(iface: string): readonly SpdEntry<unknown>[] | undefined;
  /** A datagram from local:500 to remote:500. */
  send(local: string, data: Uint8Array, remote: string): void;
  /** A debug line on the stream of the entry's IKE version (`debug crypto isakmp` / `ikev2`; both when no entry is known). */
  debug(version: 'IKEv1' | 'IKEv2' | 'both', peer: string, text: string, error?: boolean): void;
  /** Hands a discovered flow to the entry's IKE version. */
  initiate(flow: TedFlow): void;
}

/** An address set as one IPv4 prefix, when it is one. */
function halfOf(a: AddrSet): TedHalf | undefined {
  const p = addrSetToPrefix(a);
  if (!p || p.family !== 4) return undefined;
  const len = prefixLength(p);
  return len === undefined ? undefined : { addr: formatIp({ family: 4, value: p.addr }), prefixLen: len };
}

export const formatHalf = (h: TedHalf): string => `${h.addr}/${h.prefixLen}`;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class TedRuntime {
  private readonly ted: TedDiscovery<ProbeContext>;

  constructor(private readonly port: TedPort) {
    this.ted = new TedDiscovery<ProbeContext>({ now: () => port.now(), random: (n) => port.random(n) });
  }

  counters(): TedCounters & { outstanding: number } {
    return { ...this.ted.counters, outstanding: this.ted.outstandingCount };
  }

  private resolve(cfg: Config, mapName: string, seq: number, subSeq: number | undefined): ResolvedMapEntry | undefined {
    return resolveCryptoMapSet(cfg, mapName).find((r) => r.seq === seq && r.subSeq === subSeq);
  }

  private localFor(cfg: Config, iface: string, r: ResolvedMapEntry): string | undefined {
    return effectiveIpv4(cfg, r.localAddressInterface ?? iface)?.address;
  }

  private static version(r: ResolvedMapEntry): 'IKEv1' | 'IKEv2' {
    return r.ikev2Profile !== undefined ? 'IKEv2' : 'IKEv1';
  }

  /** The addresses TED speaks from: those of the interfaces whose crypto map has a `discover` entry. */
  listenAddresses(cfg: Config): string[] {
    const out = new Set<string>();
    for (const [iface, itf] of Object.entries(cfg.interfaces?.items ?? {})) {
      if (!itf.cryptoMap) continue;
      for (const r of resolveCryptoMapSet(cfg, itf.cryptoMap)) {
        if (!r.discover) continue;
        const a = this.localFor(cfg, iface, r);
        if (a) out.add(a);
      }
    }
    return [...out];
  }

  /**
   * A packet without an SA hit an entry (the data plane dropped it). true when it was a
   * `discover` dynamic entry: a probe went (or was suppressed) toward the packet's destination.
   */
  onAcquire(a: { iface: string; decision: ProtectDecision<unknown>; packet: PacketKey }): boolean {
    const d = a.decision;
    if (d.initiate || !d.entry.discover || d.entry.temporaryId !== undefined) return false;
    const cfg = this.port.config();
    const r = this.resolve(cfg, d.entry.mapName, d.entry.seq, d.entry.subSeq);
    if (!r || a.packet.family !== 4) return true;
    const prober = this.localFor(cfg, a.iface, r);
    const local = halfOf(d.scope.src);
    if (!prober || !local) return true;
    const src = formatIp({ family: 4, value: BigInt(a.packet.src[0]!) });
    const dst = formatIp({ family: 4, value: BigInt(a.packet.dst[0]!) });
    const p = this.ted.probe(src, dst, prober, { iface: a.iface, mapName: d.entry.mapName, seq: d.entry.seq, subSeq: d.entry.subSeq, aceIndex: d.aceIndex, local });
    if (!p) return true;
    this.port.debug(TedRuntime.version(r), dst, `TED: probe ${hex(p.probe.probeId)} sent toward ${dst} for ${src} -> ${dst} (crypto map ${r.mapName} ${r.seq} discover)`);
    this.port.send(prober, p.bytes, dst);
    return true;
  }

  /** An IPv4 packet to UDP port 500 in transit to a protected host: true when it was TED (consumed). */
  intercepted(inner: Uint8Array): boolean {
    const ihl = (inner[0]! & 0x0f) * 4;
    if (inner.length < ihl + 8 + 28) return false;
    const payload = inner.subarray(ihl + 8);
    if (!isTedDatagram(payload)) return false;
    this.receive(payload.slice(), `${inner[12]}.${inner[13]}.${inner[14]}.${inner[15]}`);
    return true;
  }

  /** A TED datagram (exchange type 242) from `from`. */
  receive(data: Uint8Array, from: string): void {
    let answeredBy: 'IKEv1' | 'IKEv2' = 'IKEv1';
    const res = this.ted.receive(data, from, (dstHost, srcHost) => {
      const a = this.answer(dstHost, srcHost);
      if (a) answeredBy = a.version;
      return a;
    });
    if (res.kind === 'dropped') { this.port.debug('both', from, `TED: dropped: ${res.reason}`, true); return; }
    if (res.kind === 'reply-to-send') {
      const p = res.probe;
      this.port.debug(answeredBy, p.prober, `TED: probe ${hex(p.probeId)} from ${p.prober} for ${p.srcHost} -> ${p.dstHost}: reply proxy ${res.reply.proxy.addr}/${res.reply.proxy.prefixLen}, responder ${res.reply.responder}`);
      this.port.send(res.reply.responder, res.bytes, res.to);
      return;
    }
    const f = res.found;
    const c = f.context;
    const cfg = this.port.config();
    const r = this.resolve(cfg, c.mapName, c.seq, c.subSeq);
    const entry = this.port.entries(c.iface)?.find((e) => e.mapName === c.mapName && e.seq === c.seq && e.subSeq === c.subSeq && e.temporaryId === undefined);
    const localAddress = r ? this.localFor(cfg, c.iface, r) : undefined;
    if (!r || !entry || !localAddress) { this.port.debug('both', f.responder, `TED: reply from ${f.responder}: crypto map ${c.mapName} ${c.seq} is gone`, true); return; }
    const version = TedRuntime.version(r);
    this.port.debug(version, f.responder, `TED: reply from ${f.responder}: peer ${f.responder}, proxies ${formatHalf(c.local)} <-> ${formatHalf(f.proxy)}; initiating ${version === 'IKEv2' ? 'IKEv2' : 'main mode'}`);
    this.port.initiate({
      version, iface: c.iface, mapName: c.mapName, seq: c.seq, subSeq: c.subSeq, aceIndex: c.aceIndex,
      local: c.local, remote: { ...f.proxy }, localAddress, responder: f.responder, entry, resolved: r,
    });
  }

  /** The half proxy and IKE address we answer a probe for dstHost (from srcHost) with, if a discover entry protects it. */
  private answer(dstHost: string, srcHost: string): (TedAnswer & { version: 'IKEv1' | 'IKEv2' }) | undefined {
    const cfg = this.port.config();
    let want: TrafficSelector;
    try { want = { family: 4, src: prefixAddr(dstHost, 32), dst: prefixAddr(srcHost, 32), proto: 0, srcPorts: ANY_PORTS, dstPorts: ANY_PORTS }; } catch { return undefined; }
    for (const [iface, itf] of Object.entries(cfg.interfaces?.items ?? {})) {
      if (!itf.cryptoMap) continue;
      for (const e of this.port.entries(iface) ?? []) {
        if (!e.discover || e.temporaryId !== undefined) continue;
        const ace = e.effectiveAcl.find((x) => selectorIntersect(aceToSelector(x), want) !== undefined);
        if (!ace || ace.action !== 'permit' || !selectorContains(aceToSelector(ace), want)) continue;
        const half = halfOf(ace.src);
        const r = this.resolve(cfg, e.mapName, e.seq, e.subSeq);
        const responder = r ? this.localFor(cfg, iface, r) : undefined;
        if (!half || !r || !responder) continue;
        return { proxy: half, responder, version: TedRuntime.version(r) };
      }
    }
    return undefined;
  }
}
