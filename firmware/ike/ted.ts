// Tunnel Endpoint Discovery (guide, "Tunnel Endpoint Discovery"), the protocol logic without
// I/O. The box whose outbound packet hits a `discover` dynamic map entry without an SA sends a
// probe toward the packet's destination host; the gateway on the path that protects that host
// intercepts it and answers with its half proxy and its IKE address; the prober combines its
// own half proxy with the answer and runs IKE with the answering gateway.
//
// What keeps it safe: a reply is accepted only for a probe still outstanding (random 8-byte
// id, bounded table, timeout), for the destination that probe asked about, from the address
// the reply names, with a proxy that covers that destination. Everything else is dropped and
// counted; decode errors never escape.
import { decodeTed, encodeTed, type TedProbe, type TedReply } from '../proto/ikev1/ted.js';

export interface TedCounters {
  probesSent: number;
  probesReceived: number;
  repliesSent: number;
  repliesReceived: number;
  /** malformed TED messages */
  droppedMalformed: number;
  /** replies for no outstanding probe (forged, late, duplicate) */
  droppedUnsolicited: number;
  /** replies whose content does not fit the probe (other host, proxy not covering it, sender not the named responder) */
  droppedMismatch: number;
  /** probes for hosts this box does not protect with a discover entry */
  droppedNotProtected: number;
  /** probes not sent: too many outstanding */
  probesSuppressed: number;
}

/** What the box answers for a probed destination (its half proxy and IKE address), if it protects it. */
export interface TedAnswer {
  proxy: { addr: string; prefixLen: number };
  responder: string;
}

export interface TedDiscovered<C> {
  /** The context given to probe(). */
  context: C;
  responder: string;
  proxy: { addr: string; prefixLen: number };
}

export interface TedOptions {
  now: () => number;
  random: (n: number) => Uint8Array;
  /** An outstanding probe is forgotten after this (default 10 s). */
  probeTimeoutMs?: number;
  /** At most this many probes outstanding (default 256). */
  maxOutstanding?: number;
}

function ipv4Value(a: string): number | undefined {
  const p = a.split('.');
  if (p.length !== 4) return undefined;
  let v = 0;
  for (const x of p) {
    if (!/^\d{1,3}$/.test(x) || Number(x) > 255) return undefined;
    v = v * 256 + Number(x);
  }
  return v;
}

/** Does `addr/prefixLen` contain `host`? */
export function prefixCovers(proxy: { addr: string; prefixLen: number }, host: string): boolean {
  const n = ipv4Value(proxy.addr);
  const h = ipv4Value(host);
  if (n === undefined || h === undefined || proxy.prefixLen < 0 || proxy.prefixLen > 32) return false;
  const size = 2 ** (32 - proxy.prefixLen);
  return Math.floor(n / size) === Math.floor(h / size);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class TedDiscovery<C> {
  readonly counters: TedCounters = {
    probesSent: 0, probesReceived: 0, repliesSent: 0, repliesReceived: 0,
    droppedMalformed: 0, droppedUnsolicited: 0, droppedMismatch: 0, droppedNotProtected: 0, probesSuppressed: 0,
  };
  private readonly outstanding = new Map<string, { probe: TedProbe; context: C; expiresAt: number }>();
  private readonly timeoutMs: number;
  private readonly max: number;

  constructor(private readonly o: TedOptions) {
    this.timeoutMs = o.probeTimeoutMs ?? 10_000;
    this.max = o.maxOutstanding ?? 256;
  }

  private expire(): void {
    const now = this.o.now();
    for (const [k, p] of this.outstanding) if (p.expiresAt <= now) this.outstanding.delete(k);
  }

  get outstandingCount(): number {
    this.expire();
    return this.outstanding.size;
  }

  /** A probe for a packet srcHost -> dstHost (datagram to send to dstHost:500), or undefined when suppressed. */
  probe(srcHost: string, dstHost: string, prober: string, context: C): { bytes: Uint8Array; probe: TedProbe } | undefined {
    this.expire();
    if (this.outstanding.size >= this.max) { this.counters.probesSuppressed++; return undefined; }
    const probe: TedProbe = { kind: 'probe', probeId: this.o.random(8), srcHost, dstHost, prober };
    let bytes: Uint8Array;
    try { bytes = encodeTed(probe); } catch { return undefined; } // not IPv4 addresses
    this.outstanding.set(hex(probe.probeId), { probe, context, expiresAt: this.o.now() + this.timeoutMs });
    this.counters.probesSent++;
    return { bytes, probe };
  }

  /**
   * A datagram of the TED exchange. A probe is answered (the reply goes to the prober) when
   * `answer` says we protect its destination toward its source; a reply is checked against
   * the outstanding probes. `from` is the datagram's source address.
   */
  receive(data: Uint8Array, from: string, answer: (dstHost: string, srcHost: string) => TedAnswer | undefined):
    | { kind: 'reply-to-send'; bytes: Uint8Array; to: string; probe: TedProbe; reply: TedReply }
    | { kind: 'discovered'; found: TedDiscovered<C>; reply: TedReply }
    | { kind: 'dropped'; reason: string } {
    let m;
    try {
      m = decodeTed(data);
    } catch (e) {
      this.counters.droppedMalformed++;
      return { kind: 'dropped', reason: `malformed TED message: ${(e as Error).message}` };
    }
    if (m.kind === 'probe') {
      this.counters.probesReceived++;
      const a = answer(m.dstHost, m.srcHost);
      if (!a) { this.counters.droppedNotProtected++; return { kind: 'dropped', reason: `probe for ${m.dstHost}: no discover entry protects it toward ${m.srcHost}` }; }
      let replyId = this.o.random(8);
      if (replyId.every((b) => b === 0)) replyId = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0]);
      const reply: TedReply = { kind: 'reply', probeId: m.probeId, replyId, proxy: a.proxy, dstHost: m.dstHost, responder: a.responder };
      this.counters.repliesSent++;
      return { kind: 'reply-to-send', bytes: encodeTed(reply), to: m.prober, probe: m, reply };
    }
    this.counters.repliesReceived++;
    this.expire();
    const key = hex(m.probeId);
    const o = this.outstanding.get(key);
    if (!o) { this.counters.droppedUnsolicited++; return { kind: 'dropped', reason: `reply from ${from} answers no outstanding probe` }; }
    if (m.dstHost !== o.probe.dstHost || !prefixCovers(m.proxy, o.probe.dstHost) || m.responder !== from) {
      this.counters.droppedMismatch++;
      return { kind: 'dropped', reason: `reply from ${from} does not fit the probe for ${o.probe.dstHost} (host ${m.dstHost}, proxy ${m.proxy.addr}/${m.proxy.prefixLen}, responder ${m.responder})` };
    }
    this.outstanding.delete(key);
    return { kind: 'discovered', found: { context: o.context, responder: m.responder, proxy: m.proxy }, reply: m };
  }
}
