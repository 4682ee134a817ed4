// The Child SAs (IPsec SA pairs) both IKE versions installed in the data plane, in one table
// of records: what `clear crypto sa` selects, what `show crypto session` counts per flow,
// what the ESP traffic watch (DPD) reads, what a rekey replaces, and which Virtual-Access
// interface a dynamic VTI session has. Each service adds the fields of its own version to a
// record (ChildSaRecord & its own); nothing here sends or installs anything.
import { clearSelects, type ClearFilter } from './connection-manager.js';

/** What the table reads of the data plane (firmware/daemon/dataplane-service.ts). */
export interface ChildSaCounters {
  get(id: number): { readonly counters: { readonly encapsPkts: number; readonly decapsPkts: number } } | undefined;
}

export interface ChildSaRecord {
  /** the service's child id (IKEv2's Child SA id, IKEv1's install counter) */
  readonly id: number;
  readonly peer: string;
  readonly peerPort: number;
  /** crypto map entry (or a tunnel's map tag) and the SPD policy key the pair serves */
  readonly mapName: string;
  readonly mapSeq: number;
  readonly policyKey: string;
  /** interface the session shows on (a crypto map interface, Tunnel0, Virtual-Access1) */
  readonly iface: string;
  /** a tunnel interface's pair (static VTI or Virtual-Access) */
  readonly vti?: string;
  readonly spiIn: number;
  readonly spiOut: number;
  /** the data plane's SAD ids of the two directions */
  readonly inboundId: number;
  readonly outboundId: number;
  /** `show crypto session` flow text ("permit ip 10.1.0.0/255.255.255.0 ...") */
  readonly flowText: string;
  readonly createdAt: number;
  /** traffic watch: the counters last seen and when they last moved */
  decaps: number;
  encaps: number;
  lastInboundMs: number;
  lastOutboundMs: number;
}

/** The traffic-watch fields of a new record (inbound counts as heard from at install). */
export function freshTraffic(now: number): Pick<ChildSaRecord, 'decaps' | 'encaps' | 'lastInboundMs' | 'lastOutboundMs'> {
  return { decaps: 0, encaps: 0, lastInboundMs: now, lastOutboundMs: 0 };
}

export class ChildSaTable<R extends ChildSaRecord> {
  private readonly byId = new Map<number, R>();
  /** inbound SPI (and its aliases, e.g. the AH half of an AH + ESP bundle) -> id */
  private readonly bySpi = new Map<number, number>();

  get size(): number {
    return this.byId.size;
  }

  add(r: R, alsoSpis: readonly number[] = []): void {
    this.byId.set(r.id, r);
    this.bySpi.set(r.spiIn, r.id);
    for (const s of alsoSpis) this.bySpi.set(s, r.id);
  }

  get(id: number): R | undefined {
    return this.byId.get(id);
  }

  /** The record an inbound SPI (or an alias of it) belongs to. */
  bySpiIn(spi: number): R | undefined {
    const id = this.bySpi.get(spi);
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** Forgets a record (its SPIs with it). */
  remove(r: R): void {
    if (this.byId.get(r.id) !== r) return;
    this.byId.delete(r.id);
    for (const [spi, id] of [...this.bySpi]) if (id === r.id) this.bySpi.delete(spi);
  }

  values(): R[] {
    return [...this.byId.values()];
  }

  forPolicy(policyKey: string): R[] {
    return this.values().filter((r) => r.policyKey === policyKey);
  }

  forPeer(peer: string): R[] {
    return this.values().filter((r) => r.peer === peer);
  }

  /** Has the tunnel interface an SA pair? */
  tunnelUp(name: string): boolean {
    return this.values().some((r) => r.vti === name);
  }

  /** Creation time of the newest pair of a policy key (rekey: is a newer pair there?). */
  newestFor(policyKey: string): number {
    return Math.max(Number.NEGATIVE_INFINITY, ...this.forPolicy(policyKey).map((r) => r.createdAt));
  }

  /** `clear crypto sa [peer A | map M [seq] | entry D esp SPI]`: the pairs selected. */
  selectedBy(f: ClearFilter): R[] {
    return this.values().filter((r) => clearSelects(f, { peer: r.peer, mapName: r.mapName, mapSeq: r.mapSeq, espSpis: [r.spiIn, r.spiOut] }));
  }

  /**
   * Reads the data plane's packet counters; `each` sees every pair with whether its inbound
   * (decapsulated) or outbound (encapsulated) count grew since the last call.
   */
  watchTraffic(sad: ChildSaCounters, now: number, each: (r: R, inbound: boolean, outbound: boolean) => void): void {
    for (const r of this.byId.values()) {
      const dec = sad.get(r.inboundId)?.counters.decapsPkts ?? r.decaps;
      const enc = sad.get(r.outboundId)?.counters.encapsPkts ?? r.encaps;
      const inbound = dec > r.decaps;
      const outbound = enc > r.encaps;
      if (inbound) { r.decaps = dec; r.lastInboundMs = now; }
      if (outbound) { r.encaps = enc; r.lastOutboundMs = now; }
      each(r, inbound, outbound);
    }
  }
}

// ------------------------------------------------------------------ dynamic VTI sessions

/** A Virtual-Access interface cloned for one session (dataplane-service.ts createVirtualAccess). */
export interface VirtualAccess {
  name: string;
  policyKey: string;
  mapName: string;
}

/** What Virtual-Access sessions need of the data plane. */
export interface VirtualAccessPort {
  /** `vrf`: the inside VRF the interface goes into (the profile's `vrf` / `ivrf`) */
  createVirtualAccess?(template: number, local: string, peer: string, routes: readonly string[], vrf?: string): VirtualAccess | string;
  releaseVirtualAccess?(name: string): void;
}

/**
 * Dynamic VTIs: each session (an IKEv1 peer, an IKEv2 IKE SA) gets its Virtual-Access
 * interface at its first SA pair, cloned from the template, and gives it back when the
 * session ends.
 */
export class VirtualAccessSessions<K> {
  private readonly byKey = new Map<K, VirtualAccess>();

  constructor(private readonly port: () => VirtualAccessPort | undefined) {}

  get(key: K): VirtualAccess | undefined {
    return this.byKey.get(key);
  }

  /** The session's interface, cloned now when it has none (a string says why not). */
  open(key: K, template: number, local: string, peer: string, routes: readonly string[], vrf?: string): VirtualAccess | string {
    const have = this.byKey.get(key);
    if (have) return have;
    const port = this.port();
    if (!port?.createVirtualAccess) return 'the data plane has no Virtual-Access interfaces';
    const r = port.createVirtualAccess(template, local, peer, routes, vrf);
    if (typeof r !== 'string') this.byKey.set(key, r);
    return r;
  }

  /** The session ended: its interface goes (with its routes); returns what was released. */
  close(key: K): VirtualAccess | undefined {
    const va = this.byKey.get(key);
    if (!va) return undefined;
    this.byKey.delete(key);
    this.port()?.releaseVirtualAccess?.(va.name);
    return va;
  }

  /** The session continues under another key (an IKE SA rekeyed into a new one). */
  move(from: K, to: K): void {
    const va = this.byKey.get(from);
    if (!va) return;
    this.byKey.delete(from);
    this.byKey.set(to, va);
  }
}
