// The data plane's view of tunnel interfaces (static VTIs): which exist (config/vti.ts),
// their devices on the userspace backend (kernel/vti-devices.ts), and their line protocol,
// which follows the IPsec SA pair as on IOS: up while the tunnel's outbound SA is usable,
// down otherwise (`Tunnel0 is up, line protocol is down`). Every change of line protocol is
// a %LINEPROTO-5-UPDOWN system message and is told to listeners.

import type { InterfaceRuntimeStatus } from '../cli/commands/routing.js';
import type { Config } from '../config/model.js';
import { staticVtis, type StaticVti } from '../config/vti.js';
export { tunnelMapTag } from '../config/vti.js';
import type { IpsecSa } from '../ipsec/ipsec-sa.js';
import type { Sad } from '../ipsec/sad.js';
import type { TunnelDevices } from '../kernel/vti-devices.js';

export interface LineProtocolEvent {
  name: string;
  up: boolean;
}

export class VtiRuntime {
  private vtis = new Map<string, StaticVti>();
  private readonly line = new Map<string, boolean>();
  private readonly listeners = new Set<(e: LineProtocolEvent) => void>();
  private scheduled = false;

  constructor(private readonly host: {
    sad: () => Sad<IpsecSa> | undefined;
    devices: () => TunnelDevices | undefined;
    log: (text: string) => void;
    /** `%LINEPROTO-5-UPDOWN: Line protocol on Interface X, changed state to up|down` */
    lineProtocolMessage: (name: string, up: boolean) => void;
  }) {}

  apply(cfg: Config): void {
    this.vtis = new Map(staticVtis(cfg).map((v) => [v.name, v]));
    for (const name of [...this.line.keys()]) if (!this.vtis.has(name)) this.line.delete(name);
    const devices = this.host.devices();
    if (devices) {
      void devices.sync([...this.vtis.values()].map((v) => ({
        name: v.name, device: v.device, policyKey: v.policyKey, addresses: v.addresses, enabled: !v.shutdown,
        ...(v.ipMtu !== undefined ? { mtu: v.ipMtu } : {}), ...(v.tcpAdjustMss !== undefined ? { tcpAdjustMss: v.tcpAdjustMss } : {}),
      }))).then(() => this.refresh());
    } else this.refreshSoon();
  }

  get list(): StaticVti[] {
    return [...this.vtis.values()];
  }

  get(name: string): StaticVti | undefined {
    return this.vtis.get(name);
  }

  onLineProtocol(fn: (e: LineProtocolEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Re-evaluates line protocols after the current synchronous work (SA installs and deletes). */
  refreshSoon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => { this.scheduled = false; this.refresh(); });
  }

  lineUp(name: string): boolean {
    return this.line.get(name) ?? false;
  }

  private saUp(v: StaticVti): boolean {
    const sa = this.host.sad()?.outbound(v.policyKey)?.sas[0];
    return !v.shutdown && sa !== undefined && sa.usable;
  }

  refresh(): void {
    const devices = this.host.devices();
    for (const v of this.vtis.values()) {
      const up = this.saUp(v);
      const was = this.line.get(v.name);
      this.line.set(v.name, up);
      devices?.setLineProtocol(v.name, up);
      if (was === up || (was === undefined && !up)) continue;
      this.host.lineProtocolMessage(v.name, up);
      for (const fn of this.listeners) { try { fn({ name: v.name, up }); } catch { /* listener bug */ } }
    }
  }

  /** `show interfaces TunnelN` / `show ip interface brief`: real state and counters. */
  status(name: string): InterfaceRuntimeStatus | undefined {
    const v = this.vtis.get(name);
    if (!v) return undefined;
    const link = !v.shutdown && v.problem === undefined;
    const out: InterfaceRuntimeStatus = { link, protocol: link && this.lineUp(name) };
    const d = this.host.devices()?.status(name);
    if (d) {
      // read from the device = routed into the tunnel (output); written = arrived on it (input)
      const st = d.stats;
      out.counters = {
        inPackets: st.txPackets ?? 0, inBytes: st.txBytes ?? 0, outPackets: d.outPackets, outBytes: d.outBytes,
        inErrors: st.txErrors ?? 0,
      };
    }
    return out;
  }
}
