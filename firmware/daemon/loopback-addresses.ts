// Loopback interfaces (`interface Loopback0` / `ip address A M`) on a wired board: the box
// owns their addresses, so IKE and ESP can be sourced from them (`crypto map NAME
// local-address Loopback0`, guide: "Redundant Interfaces Sharing the Same Crypto Map") and
// peers can reach them through any outside interface. Linux has no loopback interface per
// IOS loopback here (no `dummy` link type on this kernel), so each address goes onto the
// namespace's `lo` as a /32: a wider prefix on `lo` would make its whole subnet local.
import type { Config } from '../config/model.js';
import { interfaceTypeOf } from '../config/interface-names.js';

/** The /32s Linux should hold for the configured, not shut down, global-table loopbacks. */
export function wantedLoopbackAddresses(cfg: Config): string[] {
  const out = new Set<string>();
  for (const [name, itf] of Object.entries(cfg.interfaces?.items ?? {})) {
    if (interfaceTypeOf(name) !== 'Loopback' || itf.shutdown || itf.vrf !== undefined) continue;
    for (const a of [itf.ipAddress, ...(itf.secondary ?? [])]) if (a) out.add(`${a.address}/32`);
  }
  return [...out].sort();
}

/** Keeps `lo`'s extra addresses equal to the loopbacks' (adds and removes only its own). */
export class LoopbackAddresses {
  private readonly installed = new Set<string>();

  constructor(private readonly sh: (argv: string[]) => boolean) {}

  sync(cfg: Config): void {
    const want = new Set(wantedLoopbackAddresses(cfg));
    for (const a of [...this.installed]) {
      if (want.has(a)) continue;
      this.sh(['ip', 'addr', 'del', a, 'dev', 'lo']);
      this.installed.delete(a);
    }
    for (const a of want) {
      if (this.installed.has(a)) continue;
      // replace: a restarted daemon finds its predecessor's address already there
      if (this.sh(['ip', 'addr', 'replace', a, 'dev', 'lo'])) this.installed.add(a);
    }
  }

  /** Removes what it added (daemon stop). */
  clear(): void {
    for (const a of this.installed) this.sh(['ip', 'addr', 'del', a, 'dev', 'lo']);
    this.installed.clear();
  }
}
