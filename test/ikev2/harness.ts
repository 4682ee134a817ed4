// Two IKEv2 engines in one process, wired through in-memory queues with one injected clock.
// Not a test file by itself (no assertions); imported by the exchange tests.
import { Ikev2Engine, type Datagram, type Ikev2Config, type Ikev2Connection, type Ikev2Event } from '../../firmware/ike/v2/index.js';

export interface Peer {
  name: 'a' | 'b';
  engine: Ikev2Engine;
  events: Ikev2Event[];
  logs: string[];
}

export interface Wire {
  from: 'a' | 'b';
  d: Datagram;
}

export class Pair {
  now = 1_000_000;
  readonly queue: Wire[] = [];
  a: Peer;
  b: Peer;
  private readonly mk: (name: 'a' | 'b', cfg: Ikev2Config) => Peer;
  private readonly cfgs: { a: Ikev2Config; b: Ikev2Config };
  /** Return true to drop a datagram. */
  drop: (w: Wire) => boolean = () => false;
  /** Rewrite a datagram in flight (a NAT between the peers). */
  rewrite: (w: Wire) => Wire = (w) => w;
  /** Every datagram that went on the wire (for fuzzing and inspection). */
  readonly sent: Wire[] = [];

  constructor(cfgA: Ikev2Config, cfgB: Ikev2Config, seed = 1) {
    let s = seed >>> 0 || 1;
    // Deterministic random source per pair (xorshift), so runs are reproducible.
    const random = (n: number): Uint8Array => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        s ^= s << 13; s >>>= 0;
        s ^= s >>> 17;
        s ^= s << 5; s >>>= 0;
        out[i] = s & 0xff;
      }
      return out;
    };
    const mk = (name: 'a' | 'b', cfg: Ikev2Config): Peer => {
      const events: Ikev2Event[] = [];
      const logs: string[] = [];
      const engine = new Ikev2Engine({
        config: cfg,
        clock: () => this.now,
        send: (d) => {
          const w = { from: name, d: { ...d, data: new Uint8Array(d.data) } };
          this.sent.push(w);
          this.queue.push(w);
        },
        onEvent: (e) => events.push(e),
        log: (level, msg) => logs.push(`${level} ${msg}`),
        random,
      });
      return { name, engine, events, logs };
    };
    this.mk = mk;
    this.cfgs = { a: cfgA, b: cfgB };
    this.a = mk('a', cfgA);
    this.b = mk('b', cfgB);
  }

  /** Simulate a reboot: a fresh engine with the same configuration (its old state is gone). */
  restart(name: 'a' | 'b'): Peer {
    const peer = this.mk(name, this.cfgs[name]);
    this[name] = peer;
    return peer;
  }

  /** Deliver queued datagrams until quiet (bounded). Returns the number delivered. */
  pump(max = 200): number {
    let n = 0;
    while (this.queue.length > 0 && n < max) {
      const w = this.rewrite(this.queue.shift()!);
      n++;
      if (this.drop(w)) continue;
      const to = w.from === 'a' ? this.b : this.a;
      to.engine.receive({
        localAddress: w.d.remoteAddress, localPort: w.d.remotePort,
        remoteAddress: w.d.localAddress, remotePort: w.d.localPort, data: w.d.data,
      });
    }
    return n;
  }

  /** Move the clock, run both engines' timers, deliver. */
  advance(ms: number): void {
    this.now += ms;
    this.a.engine.tick();
    this.b.engine.tick();
    this.pump();
  }

  /** Advance in steps of `stepMs` up to `totalMs`. */
  run(totalMs: number, stepMs = 500): void {
    for (let t = 0; t < totalMs; t += stepMs) this.advance(stepMs);
  }

  ofType<T extends Ikev2Event['type']>(p: Peer, type: T): Extract<Ikev2Event, { type: T }>[] {
    return p.events.filter((e): e is Extract<Ikev2Event, { type: T }> => e.type === type);
  }
}

export const A_ADDR = '192.0.2.1';
export const B_ADDR = '192.0.2.2';

export function connection(name: string, local: string, remote: string, over: Partial<Ikev2Connection> = {}): Ikev2Connection {
  return {
    name,
    localAddress: local,
    remoteAddress: remote,
    ikeProposals: [{ name: 'p1', encryption: ['aes-cbc-256'], integrity: ['sha256'], dhGroups: [14] }],
    childProposals: [{ name: 'ts1', encryption: ['aes-gcm-256'] }],
    localSelectors: [{ cidr: local === A_ADDR ? '10.1.0.0/16' : '10.2.0.0/16' }],
    remoteSelectors: [{ cidr: local === A_ADDR ? '10.2.0.0/16' : '10.1.0.0/16' }],
    ...over,
  };
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export function config(conns: Ikev2Connection[], psk = 'secret-psk', over: Partial<Ikev2Config> = {}): Ikev2Config {
  return {
    connections: conns,
    psk: (q) => ({ local: enc(psk), remote: enc(psk), source: `keyring test peer ${q.remoteAddress}` }),
    ...over,
  };
}

/** A pair with one connection each side (A initiates to B). */
export function simplePair(overA: Partial<Ikev2Connection> = {}, overB: Partial<Ikev2Connection> = {}, cfgOver: { a?: Partial<Ikev2Config>; b?: Partial<Ikev2Config>; pskA?: string; pskB?: string } = {}, seed = 7): Pair {
  const a = config([connection('to-b', A_ADDR, B_ADDR, overA)], cfgOver.pskA, cfgOver.a);
  const b = config([connection('to-a', B_ADDR, A_ADDR, overB)], cfgOver.pskB, cfgOver.b);
  return new Pair(a, b, seed);
}

/** A NAT in front of A: A's source becomes `publicOf()` with ports 500/4500 -> 40500/44500. */
export function natInFrontOfA(p: Pair, privateAddress: string, publicOf: () => string): void {
  const portMap = new Map<number, number>([[500, 40500], [4500, 44500]]);
  const back = new Map<number, number>([...portMap].map(([k, v]) => [v, k]));
  p.rewrite = (w) => {
    if (w.from === 'a') return { ...w, d: { ...w.d, localAddress: publicOf(), localPort: portMap.get(w.d.localPort) ?? w.d.localPort } };
    return { ...w, d: { ...w.d, remoteAddress: privateAddress, remotePort: back.get(w.d.remotePort) ?? w.d.remotePort } };
  };
}
