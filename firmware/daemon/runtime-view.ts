// The runtime view the CLI reads (`RuntimeView`, declared piecewise by the show commands)
// is built here from typed registries; services register what they provide and never
// write the view themselves.
//
// One registry per kind of capability:
//   - single providers (`show crypto ipsec sa`, `show crypto isakmp sa`, ping, ...): one
//     service owns each member; a second registration of the same member is an error;
//   - SA clearers (`clear crypto sa [peer|map|entry]`, configure replace, tunnel teardown):
//     every registered clearer is called, IKE stage first (Deletes to the peers, records
//     forgotten), then the SAD stage (SAs removed, manual SAs reinstalled);
//   - SA counter clearers (`clear crypto sa counters`);
//   - IKE session sources (`show crypto session`, `clear crypto session`), listed by name;
//   - interface status providers (ports, tunnels), each answering for its own interfaces,
//     and status decorators (load rates) applied to whatever a provider answered.
// Because each composed member asks its registry when it is called, the order in which
// services start (and register) changes nothing.
import type { RuntimeView } from '../cli/context.js';
import type { ClearCryptoSaFilter } from '../cli/commands/crypto-ipsec-sa.js';
import type { InterfaceRuntimeStatus } from '../cli/commands/routing.js';
import type { IkeSessionSource } from '../lib/session-info.js';

/** Members the registries compose; every other member of RuntimeView has one provider. */
type ComposedKey = 'clearCryptoSa' | 'clearCryptoSaCounters' | 'ikeSessionSources' | 'interfaceStatus';
export type ProvidedKey = Exclude<keyof RuntimeView, ComposedKey>;

/** Something that removes IPsec SAs for `clear crypto sa`. */
export interface SaClearer {
  /** Who registered it (diagnostics). */
  readonly name: string;
  /**
   * `ike`: tells the peers (Deletes) and forgets its own records of the SAs the filter
   * selects; runs before every `sad` clearer. `sad`: removes the SAs themselves and
   * returns how many it removed.
   */
  readonly stage: 'ike' | 'sad';
  clear(filter: ClearCryptoSaFilter): number | void;
}

/** Answers `interfaceStatus` for the interfaces it owns (undefined for the others). */
export interface InterfaceStatusProvider {
  readonly name: string;
  status(ifname: string): InterfaceRuntimeStatus | undefined;
}

/** Adds to a status a provider answered (e.g. load rates of a port). */
export type InterfaceStatusDecorator = (ifname: string, status: InterfaceRuntimeStatus) => InterfaceRuntimeStatus;

/** A set of registrations; `add` returns the function that takes one back. */
export class Registry<T> {
  private readonly items: T[] = [];

  add(item: T): () => void {
    this.items.push(item);
    return () => {
      const i = this.items.indexOf(item);
      if (i >= 0) this.items.splice(i, 1);
    };
  }

  list(): readonly T[] {
    return [...this.items];
  }

  get size(): number {
    return this.items.length;
  }
}

export class RuntimeRegistry {
  /** What the CLI reads (SystemServices.runtime). */
  readonly view: RuntimeView;
  readonly saClearers = new Registry<SaClearer>();
  readonly saCounterClearers = new Registry<{ readonly name: string; clearCounters(): void }>();
  readonly sessionSources = new Registry<IkeSessionSource>();
  readonly interfaceStatus = new Registry<InterfaceStatusProvider>();
  readonly statusDecorators = new Registry<InterfaceStatusDecorator>();
  private readonly owners = new Map<ProvidedKey, string>();

  /** `view`: the object to fill (tests pass their fake system's `runtime`); a new one by default. */
  constructor(view: RuntimeView = {}) {
    this.view = view;
    view.clearCryptoSa = (f) => this.clearCryptoSa(f);
    view.clearCryptoSaCounters = () => this.clearCryptoSaCounters();
    view.interfaceStatus = (name) => this.statusOf(name);
    Object.defineProperty(view, 'ikeSessionSources', { get: () => this.sessionSources.list(), enumerable: true, configurable: true });
  }

  /**
   * `owner` provides one member of the view (`show crypto ipsec sa`'s data, ping, ...).
   * Throws when another owner already provides it. Returns the function that withdraws it.
   */
  provide<K extends ProvidedKey>(key: K, value: NonNullable<RuntimeView[K]>, owner: string): () => void {
    const held = this.owners.get(key);
    if (held !== undefined && held !== owner) throw new Error(`runtime view: ${String(key)} is already provided by ${held} (${owner} tried)`);
    this.owners.set(key, owner);
    this.view[key] = value;
    return () => {
      if (this.owners.get(key) !== owner) return;
      this.owners.delete(key);
      delete this.view[key];
    };
  }

  /** Who provides a member (undefined: nobody). */
  ownerOf(key: ProvidedKey): string | undefined {
    return this.owners.get(key);
  }

  /** `clear crypto sa ...`: every IKE clearer, then every SAD clearer; the SAs the SAD clearers removed. */
  clearCryptoSa(filter: ClearCryptoSaFilter): number {
    const all = this.saClearers.list();
    let n = 0;
    for (const stage of ['ike', 'sad'] as const) {
      for (const c of all) {
        if (c.stage !== stage) continue;
        const r = c.clear(filter);
        if (stage === 'sad' && typeof r === 'number') n += r;
      }
    }
    return n;
  }

  /** `clear crypto sa counters`. */
  clearCryptoSaCounters(): void {
    for (const c of this.saCounterClearers.list()) c.clearCounters();
  }

  /** The first provider's answer for the interface, with every decorator applied. */
  statusOf(ifname: string): InterfaceRuntimeStatus | undefined {
    let st = this.providedStatus(ifname);
    if (st === undefined) return undefined;
    for (const d of this.statusDecorators.list()) st = d(ifname, st);
    return st;
  }

  /** The answer of the provider owning the interface, without decorators (the rate sampler's input). */
  providedStatus(ifname: string): InterfaceRuntimeStatus | undefined {
    for (const p of this.interfaceStatus.list()) {
      const st = p.status(ifname);
      if (st !== undefined) return st;
    }
    return undefined;
  }
}
