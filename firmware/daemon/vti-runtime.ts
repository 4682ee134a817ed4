// The data plane's view of tunnel interfaces (static VTIs): which exist (config/vti.ts),
// their devices on the userspace backend (kernel/vti-devices.ts), and their line protocol,
// which follows the IPsec SA pair as on IOS: up while the tunnel's outbound SA is usable,
// down otherwise (`Tunnel0 is up, line protocol is down`). Every change of line protocol is
// a %LINEPROTO-5-UPDOWN system message and is told to listeners.

import type { InterfaceRuntimeStatus } from '../cli/commands/routing.js';
import type { Config } from '../config/model.js';
import { cloneVirtualAccess, staticVtis, templateProblem, tunnelDeviceName, tunnelMapTag, vtiPolicyKey, type StaticVti, type VirtualTemplate } from '../config/vti.js';
import type { InterfaceConfig } from '../config/interface.js';
export { tunnelMapTag };
import type { IpsecSa } from '../ipsec/ipsec-sa.js';
import type { Sad } from '../ipsec/sad.js';
import type { TunnelDevices } from '../kernel/vti-devices.js';

export interface LineProtocolEvent {
  name: string;
  up: boolean;
}

/** A Virtual-Access interface cloned from a template for one peer (dynamic VTI). */
export interface VirtualAccess extends StaticVti {
  number: number;
  template: string;
  /** Its configuration as `show running-config interface` prints it. */
  config: InterfaceConfig;
  /** The peer's proxies, routed into it while it is up (reverse route injection). */
  routes: string[];
  createdAtMs: number;
}

/**
 * A tunnel whose configuration no longer supports its crypto session (profile or template
 * deleted, tunnel source without address, shutdown, endpoints changed): its SAs must go.
 */
export interface TunnelTeardown {
  name: string;
  peer: string | undefined;
  policyKey: string;
  mapName: string;
  /** a Virtual-Access interface (its session is the peer's IKE SA) */
  dynamic: boolean;
  reason: string;
}

/** Why a static VTI that could negotiate under `was` cannot keep its SAs under `now`. */
function staticTeardownReason(was: StaticVti, now: StaticVti | undefined): string | undefined {
  if (was.shutdown || was.problem !== undefined) return undefined;
  if (!now) return 'interface deleted';
  if (now.shutdown) return 'administratively down (shutdown)';
  if (now.problem !== undefined) return now.problem;
  if (now.local !== was.local || now.peer !== was.peer) return `tunnel endpoints changed (${was.local} -> ${was.peer} is now ${now.local} -> ${now.peer})`;
  if (now.profileName !== was.profileName) return `tunnel protection changed to IPsec profile ${now.profileName}`;
  if (now.frontDoorVrf !== was.frontDoorVrf) return `tunnel vrf changed to ${now.frontDoorVrf ?? 'global'}`;
  return undefined;
}

export class VtiRuntime {
  private vtis = new Map<string, StaticVti>();
  private readonly vas = new Map<string, VirtualAccess>();
  private readonly line = new Map<string, boolean>();
  private readonly listeners = new Set<(e: LineProtocolEvent) => void>();
  private scheduled = false;

  constructor(private readonly host: {
    sad: () => Sad<IpsecSa> | undefined;
    devices: () => TunnelDevices | undefined;
    log: (text: string) => void;
    /** routing table of a VRF (`ip vrf forwarding` on a tunnel or template) */
    vrfTable?: (vrf: string) => number | undefined;
    /** `%LINEPROTO-5-UPDOWN: Line protocol on Interface X, changed state to up|down` */
    lineProtocolMessage: (name: string, up: boolean) => void;
  }) {}

  /**
   * Follows the configuration. Returns the tunnels whose crypto session must end because of
   * it; Virtual-Access interfaces whose template can no longer serve them are already gone.
   */
  apply(cfg: Config): TunnelTeardown[] {
    const before = this.vtis;
    this.vtis = new Map(staticVtis(cfg).map((v) => [v.name, v]));
    const out: TunnelTeardown[] = [];
    for (const was of before.values()) {
      const reason = staticTeardownReason(was, this.vtis.get(was.name));
      if (reason !== undefined) out.push({ name: was.name, peer: was.peer, policyKey: was.policyKey, mapName: tunnelMapTag(was.name), dynamic: false, reason });
    }
    for (const va of [...this.vas.values()]) {
      const reason = templateProblem(cfg, Number(va.template.slice('Virtual-Template'.length)), va.profileName ?? '');
      if (reason === undefined) continue;
      this.vas.delete(va.name);
      out.push({ name: va.name, peer: va.peer, policyKey: va.policyKey, mapName: tunnelMapTag(va.name), dynamic: true, reason });
    }
    this.syncDevices();
    return out;
  }

  private syncDevices(): void {
    for (const name of [...this.line.keys()]) if (!this.vtis.has(name) && !this.vas.has(name)) this.line.delete(name);
    const devices = this.host.devices();
    if (devices) {
      void devices.sync(this.list.map((v) => {
        const table = v.vrf !== undefined ? this.host.vrfTable?.(v.vrf) : undefined;
        return {
          name: v.name, device: v.device, policyKey: v.policyKey, addresses: v.addresses, enabled: !v.shutdown,
          ...(v.ipMtu !== undefined ? { mtu: v.ipMtu } : {}), ...(v.tcpAdjustMss !== undefined ? { tcpAdjustMss: v.tcpAdjustMss } : {}),
          // a Virtual-Access per spoke: its TUN is read without a thread of its own
          ...('routes' in v ? { routes: (v as VirtualAccess).routes, reader: 'poll' as const } : {}),
          ...(table !== undefined ? { table } : {}),
        };
      })).then(() => this.refresh());
    } else this.refreshSoon();
  }

  /** Static VTIs, then Virtual-Access interfaces. */
  get list(): StaticVti[] {
    return [...this.vtis.values(), ...this.vas.values()];
  }

  get(name: string): StaticVti | undefined {
    return this.vtis.get(name) ?? this.vas.get(name);
  }

  get virtualAccesses(): VirtualAccess[] {
    return [...this.vas.values()];
  }

  /**
   * Clones `Virtual-AccessN` (lowest free N) from a template for one peer: its device, its SA
   * pair key, and routes to the peer's proxies while it is up. The caller installs the SAs
   * with the returned policy key and interface name. `vrf` (the ISAKMP profile's `vrf` / the
   * IKEv2 profile's `ivrf`, single template model) puts it in that VRF; a template with another
   * `ip vrf forwarding` refuses it (a string says why).
   */
  createVirtualAccess(t: VirtualTemplate, local: string, peer: string, routes: readonly string[], nowMs: number, vrf?: string): VirtualAccess | string {
    if (vrf !== undefined && t.config.vrf !== undefined && t.config.vrf !== vrf) {
      return `${t.name} is in vrf ${t.config.vrf}, the peer's profile names vrf ${vrf}`;
    }
    let n = 1;
    while (this.vas.has(`Virtual-Access${n}`)) n++;
    const name = `Virtual-Access${n}`;
    const config = cloneVirtualAccess(t.config, name, local, peer);
    const va: VirtualAccess = {
      name, number: n, template: t.name, config, device: tunnelDeviceName(name), policyKey: vtiPolicyKey(name), shutdown: false,
      local, peer, profileName: t.profileName, policy: t.policy, addresses: t.addresses, routes: [...routes], createdAtMs: nowMs, signature: '',
    };
    if (t.config.ipMtu !== undefined) va.ipMtu = t.config.ipMtu;
    if (t.config.tcpAdjustMss !== undefined) va.tcpAdjustMss = t.config.tcpAdjustMss;
    if (t.frontDoorVrf !== undefined) va.frontDoorVrf = t.frontDoorVrf;
    const inVrf = vrf ?? t.config.vrf;
    if (inVrf !== undefined) {
      va.vrf = inVrf;
      // `show running-config interface Virtual-AccessN` shows the VRF it was put in
      config.vrf = inVrf;
    }
    this.vas.set(name, va);
    this.syncDevices();
    return va;
  }

  /** The session is gone: the interface and its routes go with it. */
  removeVirtualAccess(name: string): void {
    if (!this.vas.delete(name)) return;
    this.syncDevices();
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
    for (const v of this.list) {
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
    const v = this.get(name);
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
