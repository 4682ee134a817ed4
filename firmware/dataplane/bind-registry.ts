// One socket per (address, port), shared by the services that need it: UDP 4500 carries
// both IKE (behind the non-ESP marker) and ESP in UDP, so the IKE services and the data
// plane subscribe to the kinds they handle on the same bind. Reference counted: the
// socket closes when its last user releases it. The default opener takes the GSO/GRO bind
// of the native addon when available, else node:dgram (udp-gso-bind.ts).
import { openBestUdpBind, type EspTrainHandler } from './udp-gso-bind.js';
import type { Endpoint, PacketBind, PacketHandler, PacketKind, SendResult } from './packet-io.js';

export interface SharedBind {
  readonly bind: PacketBind;
  readonly local: Endpoint;
  /** Receives the given kinds; returns an unsubscribe function. */
  subscribe(kinds: readonly PacketKind[], handler: PacketHandler): () => void;
  send(kind: PacketKind, data: Uint8Array, remote: Endpoint): SendResult;
  /**
   * Whole GRO trains of ESP (udp-gso-bind.ts onEspTrain), one handler per bind: the last one
   * set wins; undefined (or this user's release) goes back to per-datagram 'esp' delivery.
   * False when the bind cannot deliver trains.
   */
  onEspTrain(fn: EspTrainHandler | undefined): boolean;
  /** Gives this user's reference back. */
  release(): Promise<void>;
}

interface Entry { bind: PacketBind; users: number; handlers: Map<PacketKind, Set<PacketHandler>>; train?: EspTrainHandler }

type TrainBind = PacketBind & { onEspTrain?: (fn: EspTrainHandler | undefined) => void };

export type BindOpener = (address: string, port: number, encap: boolean) => Promise<PacketBind>;

export class BindRegistry {
  private readonly entries = new Map<string, Promise<Entry>>();

  constructor(private readonly open: BindOpener = (address, port, encap) => openBestUdpBind({ address, port, encap })) {}

  /** The UDP bind for `address:port` (`encap` for the RFC 3948 port), opened on first use. */
  async udp(address: string, port: number, encap: boolean): Promise<SharedBind> {
    const key = `${address}|${port}`;
    let p = this.entries.get(key);
    if (!p) {
      p = this.open(address, port, encap).then((bind) => {
        const entry: Entry = { bind, users: 0, handlers: new Map() };
        bind.onPacket((kind, data, remote, local) => {
          for (const h of entry.handlers.get(kind) ?? []) h(kind, data, remote, local);
        });
        return entry;
      });
      this.entries.set(key, p);
      p.catch(() => this.entries.delete(key));
    }
    const entry = await p;
    entry.users++;
    let released = false;
    const mine: Array<[PacketKind, PacketHandler]> = [];
    let myTrain: EspTrainHandler | undefined;
    return {
      bind: entry.bind,
      local: entry.bind.local,
      subscribe: (kinds, handler) => {
        for (const k of kinds) {
          let set = entry.handlers.get(k);
          if (!set) entry.handlers.set(k, (set = new Set()));
          set.add(handler);
          mine.push([k, handler]);
        }
        return () => { for (const k of kinds) entry.handlers.get(k)?.delete(handler); };
      },
      send: (kind, data, remote) => entry.bind.send(kind, data, remote),
      onEspTrain: (fn) => {
        const b = entry.bind as TrainBind;
        if (typeof b.onEspTrain !== 'function') return false;
        entry.train = fn;
        myTrain = fn;
        b.onEspTrain(fn);
        return true;
      },
      release: async () => {
        if (released) return;
        released = true;
        for (const [k, h] of mine) entry.handlers.get(k)?.delete(h);
        if (myTrain && entry.train === myTrain) { entry.train = undefined; (entry.bind as TrainBind).onEspTrain?.(undefined); }
        if (--entry.users === 0) {
          this.entries.delete(key);
          await entry.bind.close();
        }
      },
    };
  }

  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    for (const p of all) await p.then((e) => e.bind.close(), () => {});
  }
}
