// One connection manager for IKEv1 and IKEv2: what a connection (a crypto map permit entry,
// a VTI) needs whichever IKE version negotiates it. It decides; an engine port acts:
//   - acquire: a packet without SAs starts at most one negotiation per connection within a
//     hold-off, and none while the connection has SAs up;
//   - peer choice and failover: the peer last heard from, else the first `set peer`; after a
//     failure the next one in configuration order (wrapping), as IOS fails over;
//   - rekey scheduling: when to rekey (lifetime minus a margin with jitter) and who rekeys
//     (the side that negotiated the pair, once, unless a newer pair exists);
//   - clear: which SAs `clear crypto sa|session` filters select, by peer, map, SPI or connection;
//   - tunnels (static VTIs) that come up by themselves after a retry delay.
// Times come from an injected clock; nothing here sends or installs anything.

/** What the manager asks an IKE engine to do (each service implements it over its engine). */
export interface IkeEnginePort<C> {
  readonly version: 'IKEv1' | 'IKEv2';
  /** Start negotiating `conn` with `peer` (on an IKE SA that is up, or a new one). false: nothing started. */
  initiate(conn: C, peer: string): boolean;
}

/** A connection as the manager knows it: a stable key and its `set peer` list in order. */
export interface ManagedConnection {
  readonly key: string;
  readonly peers: readonly string[];
  /** a dynamic map entry: any peer that negotiates becomes its peer */
  readonly dynamic?: boolean;
}

export type AcquireResult = 'started' | 'pending' | 'up' | 'no-peer' | 'refused';

export interface ConnectionManagerOptions {
  now: () => number;
  /** how long a started negotiation holds further acquires for its connection back */
  holdOffMs: number;
}

/** A negotiation the manager started and has not seen end. */
export interface PendingNegotiation<C> {
  conn: C;
  peer: string;
  at: number;
}

export class ConnectionManager<C extends ManagedConnection> {
  /** connection key -> its negotiation in progress */
  private readonly pending = new Map<string, PendingNegotiation<C>>();
  /** connection key -> the peer in use (last heard from, or chosen by failover) */
  private readonly current = new Map<string, string>();

  constructor(private readonly port: IkeEnginePort<C>, private readonly opts: ConnectionManagerOptions) {}

  get version(): 'IKEv1' | 'IKEv2' {
    return this.port.version;
  }

  /** Peer to use now: the last heard from (or failed over to), else the first configured. */
  peerFor(conn: C): string | undefined {
    return this.current.get(conn.key) ?? conn.peers[0];
  }

  /** Is a negotiation for this connection started within the hold-off? */
  isPending(key: string): boolean {
    const p = this.pending.get(key);
    return p !== undefined && this.opts.now() - p.at < this.opts.holdOffMs;
  }

  /**
   * A packet needs SAs for `conn` (or the connection must come up): one negotiation within the
   * hold-off, none while SAs are up (`up`), to the peer in use.
   */
  acquire(conn: C, up = false): AcquireResult {
    if (this.isPending(conn.key)) return 'pending';
    if (up) return 'up';
    const peer = this.peerFor(conn);
    if (peer === undefined) return 'no-peer';
    return this.start(conn, peer) ? 'started' : 'refused';
  }

  /** Starts a negotiation to `peer` now (a rekey, TED's answer, a failover), marking it pending. */
  start(conn: C, peer: string): boolean {
    this.track(conn, peer);
    const ok = this.port.initiate(conn, peer);
    if (!ok) this.pending.delete(conn.key);
    return ok;
  }

  /** Marks a negotiation the service started itself (it is then failed over like any other). */
  track(conn: C, peer: string): void {
    this.pending.set(conn.key, { conn, peer, at: this.opts.now() });
  }

  /** Negotiations in progress with `peer`, oldest first. */
  pendingWith(peer: string): PendingNegotiation<C>[] {
    return [...this.pending.values()].filter((p) => p.peer === peer);
  }

  /** SAs came up (or the negotiation ended otherwise): acquires may start negotiations again. */
  settled(key: string): void {
    this.pending.delete(key);
  }

  /** The peer negotiated or sent traffic for this connection: it stays the one in use. */
  heardFrom(conn: Pick<C, 'key' | 'peers' | 'dynamic'>, peer: string): void {
    if (conn.dynamic || conn.peers.includes(peer)) this.current.set(conn.key, peer);
  }

  /**
   * Negotiating with `peer` failed: the next peer in configuration order (wrapping) is the one
   * in use from now on, and is returned; undefined without configured peers.
   */
  failed(conn: C, peer: string): string | undefined {
    this.pending.delete(conn.key);
    if (conn.peers.length === 0) return undefined;
    const at = conn.peers.indexOf(peer);
    const next = conn.peers[(at + 1) % conn.peers.length]!;
    this.current.set(conn.key, next);
    return next;
  }

  /**
   * Negotiating with `peer` failed: every connection waiting on it may start again; with
   * `failover`, each that `movable` allows moves to its next `set peer` and starts there now.
   */
  failedWith(peer: string, failover: boolean, movable: (conn: C) => boolean = () => true): void {
    for (const p of this.pendingWith(peer)) {
      this.settled(p.conn.key);
      if (!failover || !movable(p.conn)) continue;
      const next = this.failed(p.conn, p.peer);
      if (next && next !== p.peer) this.start(p.conn, next);
    }
  }

  /** `clear crypto session [remote A]` and friends: forget negotiations in progress (with that peer). */
  clearPending(peer?: string): void {
    for (const [k, p] of [...this.pending]) if (peer === undefined || p.peer === peer) this.pending.delete(k);
  }

  /** A connection left the configuration. */
  forget(key: string): void {
    this.pending.delete(key);
    this.current.delete(key);
  }
}

// ------------------------------------------------------------------ tunnels that come up by themselves

/**
 * Static VTIs need no packet to come up: a tunnel without SAs is (re)started once it has been
 * down for its retry delay (counted from when it was first seen down), and again after each
 * hold-off while it stays down.
 */
export class TunnelKeeper {
  /** tunnel -> since when it has had no SAs */
  private readonly downSince = new Map<string, number>();

  /** Should `name` be started now? `up`: it has SAs (the down time starts again from zero). */
  due(name: string, up: boolean, delayMs: number, now: number): boolean {
    if (up) {
      this.downSince.delete(name);
      return false;
    }
    const since = this.downSince.get(name);
    if (since === undefined) {
      this.downSince.set(name, now);
      return false;
    }
    return now - since >= delayMs;
  }

  /** The tunnels to start now, of those configured (the others are forgotten). */
  dueNow(tunnels: readonly { name: string; up: boolean; delayMs: number }[], now: number): string[] {
    const names = new Set(tunnels.map((x) => x.name));
    this.retain((name) => names.has(name));
    return tunnels.filter((x) => this.due(x.name, x.up, x.delayMs, now)).map((x) => x.name);
  }

  /** Forgets tunnels no longer configured. */
  retain(keep: (name: string) => boolean): void {
    for (const name of [...this.downSince.keys()]) if (!keep(name)) this.downSince.delete(name);
  }
}

// ------------------------------------------------------------------ rekey scheduling

/** Rekey margin: configured or 10 % of the lifetime (at most 540 s), plus up to a third as jitter. */
export function rekeyMarginMs(marginSec: number | undefined, lifetimeMs: number, randomByte: number): number {
  const base = marginSec !== undefined ? marginSec * 1000 : Math.min(lifetimeMs * 0.1, 540_000);
  return Math.floor(base + (base / 3) * (randomByte / 255));
}

/** When an SA created at `nowMs` with `lifetimeSec` is rekeyed and when it expires. */
export function rekeySchedule(nowMs: number, lifetimeSec: number, marginSec: number | undefined, randomByte: number): { rekeyAtMs: number; expireAtMs: number } {
  const lifeMs = lifetimeSec * 1000;
  return { rekeyAtMs: nowMs + lifeMs - rekeyMarginMs(marginSec, lifeMs, randomByte), expireAtMs: nowMs + lifeMs };
}

/**
 * Who rekeys an SA pair at its soft lifetime: only the side that negotiated it (so the peers do
 * not replace each other's fresh SAs), once, and not when a newer pair for the flow exists.
 */
export function shouldRekey(pair: { initiator: boolean; rekeyed: boolean; createdAt: number }, newestForFlowAt: number): boolean {
  return pair.initiator && !pair.rekeyed && newestForFlowAt <= pair.createdAt;
}

// ------------------------------------------------------------------ clear

/** `clear crypto sa` filters (as firmware/cli/commands/crypto-ipsec-sa.ts defines them). */
export type ClearFilter =
  | { kind: 'all' }
  | { kind: 'peer'; peer: string }
  | { kind: 'map'; map: string; seq?: number }
  | { kind: 'entry'; destination: string; protocol: 'esp' | 'ah' | 'comp'; spi: number };

/** What a clear filter looks at in an installed SA pair. */
export interface ClearTarget {
  peer: string;
  mapName: string;
  mapSeq: number;
  /** ESP SPIs of the pair, both directions */
  espSpis: readonly number[];
}

/** Does `clear crypto sa [peer A | map M | entry D esp SPI]` (or configure replace's map entry) select this pair? */
export function clearSelects(f: ClearFilter, t: ClearTarget): boolean {
  switch (f.kind) {
    case 'all': return true;
    case 'peer': return t.peer === f.peer;
    case 'map': return t.mapName === f.map && (f.seq === undefined || t.mapSeq === f.seq);
    case 'entry': return f.protocol === 'esp' && t.espSpis.includes(f.spi);
  }
}
