// Two (or more) IKEv1 engines wired through in-memory queues with an injected clock.
// Optional NAT in front of one address, and a drop filter for loss tests.
import { IkeV1Engine, type Datagram, type IkeV1Event, type IkeV1EngineOptions } from '../../firmware/ike/v1/engine.js';
import { effectivePolicies, type IsakmpPolicy, type TransformSet } from '../../firmware/ike/v1/policy.js';
import { selectQuickModeResponse, type CryptoMapEntryV1 } from '../../firmware/ike/v1/quick-mode-policy.js';
import type { PeerConfigInput } from '../../firmware/ike/v1/peer-config.js';
import type { IsakmpDebugEvent } from '../../firmware/ike/v1/debug.js';
import type { Selector } from '../../firmware/ike/v1/selectors.js';

export const T0 = Date.UTC(2026, 1, 11, 15, 1, 29, 595);

export interface PeerSpec {
  address: string;
  policies: IsakmpPolicy[];
  keys: { address: string; key: string; mask?: string }[];
  entries: CryptoMapEntryV1[];
  dpd?: { intervalSec: number; retrySec: number; maxRetries?: number };
  forceEncap?: boolean;
  peerConfig?: PeerConfigInput;
  extra?: Partial<IkeV1EngineOptions>;
}

export interface Peer {
  address: string;
  engine: IkeV1Engine;
  events: IkeV1Event[];
  debug: IsakmpDebugEvent[];
}

export class Net {
  now = T0;
  readonly clock = (): number => this.now;
  readonly peers = new Map<string, Peer>();
  /** inside address -> public address */
  nat?: { inside: string; outside: string };
  /** return true to drop */
  drop?: (d: Datagram, from: string) => boolean;
  delivered: { from: string; d: Datagram }[] = [];

  add(spec: PeerSpec): Peer {
    const debug: IsakmpDebugEvent[] = [];
    const engine = new IkeV1Engine({
      now: this.clock,
      policies: effectivePolicies(spec.policies, false),
      peerConfig: spec.peerConfig ?? { globalKeys: spec.keys, keyrings: [], profiles: [], interfaces: [] },
      quickModeResponder: (q) => selectQuickModeResponse(spec.entries, q),
      debug: (e) => debug.push(e),
      ...(spec.dpd ? { dpd: spec.dpd } : {}),
      ...(spec.forceEncap ? { forceEncap: true } : {}),
      ...spec.extra,
    });
    const p: Peer = { address: spec.address, engine, events: [], debug };
    this.peers.set(spec.address, p);
    return p;
  }

  private publicOf(addr: string): string {
    return this.nat && this.nat.inside === addr ? this.nat.outside : addr;
  }

  /** Moves datagrams until quiet (bounded). */
  pump(maxRounds = 50): number {
    let moved = 0;
    for (let round = 0; round < maxRounds; round++) {
      let any = false;
      for (const p of this.peers.values()) {
        for (const d of p.engine.drainOutbox()) {
          any = true;
          if (this.drop?.(d, p.address)) continue;
          // source NAT
          let src = { ...d.local };
          if (this.nat && src.address === this.nat.inside) src = { address: this.nat.outside, port: 10000 + src.port };
          // destination: un-NAT
          let dst = { ...d.remote };
          if (this.nat && dst.address === this.nat.outside) dst = { address: this.nat.inside, port: dst.port - 10000 };
          const target = this.peers.get(dst.address);
          if (!target) continue;
          moved++;
          this.delivered.push({ from: p.address, d });
          target.engine.receive({ data: d.data, local: dst, remote: src });
        }
        p.events.push(...p.engine.drainEvents());
      }
      if (!any) break;
    }
    for (const p of this.peers.values()) p.events.push(...p.engine.drainEvents());
    void this.publicOf;
    return moved;
  }

  /** Advances the clock in steps, ticking every engine and pumping. */
  advance(ms: number, stepMs = 500): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now = Math.min(end, this.now + stepMs);
      for (const p of this.peers.values()) p.engine.tick();
      this.pump();
    }
  }
}

export const pol = (priority: number, encryption: IsakmpPolicy['encryption'], hash: IsakmpPolicy['hash'], group: number, lifetimeSec = 86400): IsakmpPolicy =>
  ({ priority, encryption, hash, authentication: 'pre-share', group, lifetimeSec });

export const sel = (cidr: string, protocol = 0, port = 0): Selector => {
  const [addr, len] = cidr.split('/');
  return { addr: addr!, prefixLen: len === undefined ? 32 : Number(len), protocol, port };
};

export function entry(peer: string, local: string, remote: string, sets: TransformSet[], extra: Partial<CryptoMapEntryV1> = {}): CryptoMapEntryV1 {
  return {
    mapName: 'mymap', seq: 10, peers: [peer], permits: [{ local: sel(local), remote: sel(remote) }],
    transformSets: sets, lifetimeSec: 3600, lifetimeKb: 4608000, ...extra,
  };
}

export function ofType<T extends IkeV1Event['type']>(events: IkeV1Event[], type: T): Extract<IkeV1Event, { type: T }>[] {
  return events.filter((e) => e.type === type) as Extract<IkeV1Event, { type: T }>[];
}
