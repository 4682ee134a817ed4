// Loopback interfaces (`interface Loopback0` / `ip address A M`) on a wired board: the box
// owns their addresses, so IKE and ESP can be sourced from them (`crypto map NAME
// local-address Loopback0`, guide: "Redundant Interfaces Sharing the Same Crypto Map") and
// peers can reach them through any outside interface. Linux has no loopback interface per
// IOS loopback here (no `dummy` link type on this kernel), so each address goes onto the
// namespace's `lo` as a /32: a wider prefix on `lo` would make its whole subnet local.
import type { Config } from '../config/model.js';
import { interfaceTypeOf } from '../config/interface-names.js';
import type { HostNetwork } from '../kernel/host-network.js';

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

  constructor(private readonly o: { net: HostNetwork; log: (text: string) => void }) {}

  async sync(cfg: Config): Promise<void> {
    const want = new Set(wantedLoopbackAddresses(cfg));
    const calls: Promise<unknown>[] = [];
    for (const a of [...this.installed]) {
      if (want.has(a)) continue;
      calls.push(this.o.net.deleteAddress('lo', a).then((e) => this.logged(e)));
      this.installed.delete(a);
    }
    for (const a of want) {
      if (this.installed.has(a)) continue;
      this.installed.add(a);
      // replace: a restarted daemon finds its predecessor's address already there
      calls.push(this.o.net.addAddress('lo', a, { replace: true }).then((e) => { if (!this.logged(e)) this.installed.delete(a); }));
    }
    await Promise.all(calls);
  }

  /** Removes what it added (daemon stop). */
  async clear(): Promise<void> {
    const calls = [...this.installed].map((a) => this.o.net.deleteAddress('lo', a).then((e) => this.logged(e)));
    this.installed.clear();
    await Promise.all(calls);
  }

  private logged(error: string | undefined): boolean {
    if (error !== undefined) this.o.log(error);
    return error === undefined;
  }
}
