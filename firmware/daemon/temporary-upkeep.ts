// The life of dynamic crypto map entries after IKE made them (temporary-entries.ts keeps the
// table): a new entry is steered at once (its interface's SPD rebuilt), an entry whose SAs are
// all gone is dropped (after a grace period for the negotiation that made it), and after each
// change of SAs or configuration the reverse-route-injection routes are computed again and
// handed to the host. Checks are coalesced: many SA events in one turn make one check.
import type { Config } from '../config/model.js';
import type { IpsecSa } from '../ipsec/ipsec-sa.js';
import type { Sad } from '../ipsec/sad.js';
import { formatIp } from '../ipsec/selector.js';
import type { ConfigIntent } from './config-intent.js';
import { wantedRriRoutes, type RriRoute } from './reverse-route.js';
import type { TemporaryEntries, TemporaryEntry, TemporaryEntrySpec } from './temporary-entries.js';

/** An entry IKE never installed SAs under goes after this. */
const UNUSED_CHECK_MS = 5000;
/** An entry younger than this stays (its SAs are being installed). */
const GRACE_MS = 4000;

export class TemporaryUpkeep {
  private queued = false;
  /** RRI routes wanted now (show ip route). */
  routes: RriRoute[] = [];

  constructor(private readonly o: {
    temporary: TemporaryEntries;
    sad: () => Sad<IpsecSa> | undefined;
    now: () => number;
    /** the SPDs (and what follows them) must be compiled again */
    rebuildSpds: () => void;
    /** the configuration and its compiled intent last applied */
    applied: () => { config: Config | undefined; intent: ConfigIntent | undefined };
    /** installs the routes in Linux (wired boxes with a backend) */
    installRoutes: (cfg: Config, routes: readonly RriRoute[]) => void;
  }) {}

  /** The temporary entry for a flow a dynamic map entry accepted (made if new). */
  add(spec: TemporaryEntrySpec): TemporaryEntry | undefined {
    const r = this.o.temporary.add(spec, this.o.now());
    if (!r) return undefined;
    if (r.created) {
      this.o.rebuildSpds();
      // removed again if IKE never installs SAs under it
      this.queue(UNUSED_CHECK_MS);
    }
    return r.entry;
  }

  queue(delayMs = 0): void {
    if (delayMs > 0) {
      const h = setTimeout(() => this.check(), delayMs);
      h.unref();
      return;
    }
    if (this.queued) return;
    this.queued = true;
    queueMicrotask(() => { this.queued = false; this.check(); });
  }

  /** Drops temporary entries without SAs, then brings the RRI routes up to date. */
  private check(): void {
    const sad = this.o.sad();
    if (!sad) return;
    const live = new Set<string>();
    for (const sa of sad.all()) if (sa.policyKey !== undefined) live.add(sa.policyKey);
    const now = this.o.now();
    const stale = this.o.temporary.list().filter((e) => !live.has(e.policyKey) && now - e.createdAtMs >= GRACE_MS);
    for (const e of stale) this.o.temporary.remove(e);
    if (stale.length > 0) this.o.rebuildSpds();
    const { config: cfg, intent: applied } = this.o.applied();
    if (!cfg) return;
    const sas = sad.all().filter((sa) => sa.direction === 'outbound')
      .map((sa) => ({ policyKey: sa.policyKey, mapName: sa.mapName, mapSeq: sa.mapSeq, scope: sa.scope, peer: formatIp(sa.peer) }));
    const intent = applied?.revision === cfg.revision ? applied : undefined;
    this.routes = wantedRriRoutes(cfg, sas, (k) => this.o.temporary.byPolicyKey(k), intent ? (m) => intent.mapSet(m) : undefined);
    this.o.installRoutes(cfg, this.routes);
  }
}
