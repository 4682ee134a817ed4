// Tunnel interfaces (static VTIs) on the userspace backend: one TUN device per interface,
// named by IOS's short form (`Tunnel0` -> `Tu0`), in the box's namespace. Linux routing
// decides what enters it (`ip route ... Tunnel0`, the connected route of its address); what
// is read from it is protected with that interface's SA (Pipeline.outboundVia: no SPD),
// and what that SA decrypts is written into it, so it arrives on the tunnel interface and
// is routed from there. The device is up only while the interface is up and its line
// protocol is (an SA pair exists): routes through it leave the kernel's table while down.

import { TunDevice, type TunStats } from '../dataplane/tun.js';
import type { Pipeline } from '../dataplane/pipeline.js';
import { clampTcpMss } from '../dataplane/tcp-mss.js';
import type { HostNetwork } from './host-network.js';

/** Inner MTU of a tunnel device without `ip mtu`: ESP (in UDP) fits a 1500-byte path. */
export const DEFAULT_TUNNEL_MTU = 1400;

export interface TunnelDeviceSpec {
  /** IOS name (`Tunnel0`). */
  name: string;
  /** Linux device name (`Tu0`). */
  device: string;
  /** SAD outbound key of its SA pair. */
  policyKey: string;
  /** `A.B.C.D/len` addresses. */
  addresses: readonly string[];
  mtu?: number;
  tcpAdjustMss?: number;
  /** administratively up (no `shutdown`) */
  enabled: boolean;
  /** `A.B.C.D/len` routed into the device while it is up (a Virtual-Access's peer proxies) */
  routes?: readonly string[];
  /**
   * Routing table of its VRF (`ip vrf forwarding`): its routes go there, and its addresses
   * make no connected route in main (kernel/vrf-tables.ts adds it to the VRF's table).
   */
  table?: number;
  /** `poll`: read on the main loop, no reader thread (Virtual-Access interfaces: many, mostly quiet) */
  reader?: 'poll';
}

interface TunnelDevice {
  spec: TunnelDeviceSpec;
  tun: TunDevice;
  /** addresses and MTU last programmed */
  programmed: string;
  mtu: string;
  /** link state last asked for */
  linkWant: boolean | undefined;
  /** link state the kernel has (set once the request was answered) */
  linkUp: boolean;
  lineUp: boolean;
  /** packets and bytes routed into the tunnel (TCP super-packets counted per segment) */
  outPackets: number;
  outBytes: number;
}

export interface TunnelDeviceStatus {
  link: boolean;
  protocol: boolean;
  /** routed into the tunnel (per segment) */
  outPackets: number;
  outBytes: number;
  /** the device's own counters (tx = written = arrived on the tunnel) */
  stats: Readonly<Partial<TunStats>>;
}

/** Segments and wire bytes of an IPv4 TCP super-packet cut at `mss`. */
function superPacketSize(frame: Uint8Array, mss: number): { packets: number; bytes: number } {
  const ihl = (frame[0]! & 0x0f) * 4;
  const headers = ihl + (frame.length > ihl + 12 ? (frame[ihl + 12]! >> 4) * 4 : 20);
  const payload = Math.max(0, frame.length - headers);
  const packets = Math.max(1, Math.ceil(payload / Math.max(1, mss)));
  return { packets, bytes: payload + packets * headers };
}

export class TunnelDevices {
  private readonly devices = new Map<string, TunnelDevice>();
  private closed = false;
  /** syncs and link changes run one after the other (deleting a device awaits its reader threads) */
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: {
    pipeline: Pipeline;
    /** addresses, MTU, link state, routes: the host-network port (rtnetlink, or ip commands) */
    net: HostNetwork;
    log: (text: string) => void;
    offload: boolean;
    /** Called after a device went up (the kernel dropped routes through it while down). */
    onLinkUp?: (name: string) => void;
  }) {}

  /** Creates, reprograms and deletes devices so they match `specs`. Errors are logged. */
  sync(specs: readonly TunnelDeviceSpec[]): Promise<void> {
    return this.enqueue(() => this.syncNow(specs));
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(fn).catch((e: unknown) => this.o.log(`tunnel devices: ${(e as Error).message}`));
    return this.chain;
  }

  /** Resolves when every sync and link change asked for so far is done. */
  idle(): Promise<void> {
    return this.chain;
  }

  private async syncNow(specs: readonly TunnelDeviceSpec[]): Promise<void> {
    if (this.closed) return;
    const want = new Map(specs.map((s) => [s.name, s]));
    for (const [name, d] of [...this.devices]) {
      const s = want.get(name);
      if (s && s.device === d.spec.device && s.policyKey === d.spec.policyKey) continue;
      this.devices.delete(name);
      await d.tun.close().catch(() => {});
    }
    for (const s of specs) {
      let d = this.devices.get(s.name);
      if (!d) {
        let tun: TunDevice;
        try {
          tun = TunDevice.open({ name: s.device, offload: this.o.offload, ...(s.reader ? { reader: s.reader } : {}) });
        } catch (e) {
          this.o.log(`${s.name}: ${(e as Error).message}`);
          continue;
        }
        const dev: TunnelDevice = { spec: s, tun, programmed: '', mtu: '', linkWant: undefined, linkUp: false, lineUp: false, outPackets: 0, outBytes: 0 };
        d = dev;
        this.devices.set(s.name, dev);
        const pipeline = this.o.pipeline;
        tun.onTcpSuperPacket((frame, mss) => {
          if (!pipeline.outboundSuperVia(dev.spec.policyKey, frame, mss)) return false;
          const n = superPacketSize(frame, mss);
          dev.outPackets += n.packets;
          dev.outBytes += n.bytes;
          return true;
        });
        tun.onPacket((packet) => {
          dev.outPackets++;
          dev.outBytes += packet.length;
          const m = dev.spec.tcpAdjustMss;
          if (m !== undefined) clampTcpMss(packet, m);
          pipeline.outboundVia(dev.spec.policyKey, packet);
        });
        // IPv4 tunnels: no IPv6 on the device, so it sends nothing of its own (router solicitations) into the SA
        this.logged(await this.o.net.sysctl({ [`net.ipv4.conf.${s.device}.rp_filter`]: '0', [`net.ipv6.conf.${s.device}.disable_ipv6`]: '1' }));
      }
      d.spec = s;
      const mtu = String(s.mtu ?? DEFAULT_TUNNEL_MTU);
      if (d.mtu !== mtu) {
        d.mtu = mtu;
        this.logged(await this.o.net.setLink(s.device, { mtu: Number(mtu), txqlen: 4000 }));
      }
      const addrs = JSON.stringify([s.addresses, s.table]);
      if (d.programmed !== addrs) {
        // removing a device's last address takes the routes through it along: put them back
        const hadRoutes = d.programmed !== '' && d.linkUp;
        d.programmed = addrs;
        this.logged(await this.o.net.flushAddresses(s.device));
        for (const a of s.addresses) this.logged(await this.o.net.addAddress(s.device, a, { noPrefixRoute: s.table !== undefined }));
        if (hadRoutes) await this.routesUp(d);
      }
      await this.applyLink(d);
    }
  }

  /** Line protocol of a tunnel (its SA pair is up or not). */
  setLineProtocol(name: string, up: boolean): void {
    const d = this.devices.get(name);
    if (!d) return;
    d.lineUp = up;
    if (d.linkWant === (d.spec.enabled && up)) return;
    void this.enqueue(() => (this.devices.get(name) === d ? this.applyLink(d) : Promise.resolve()));
  }

  private async applyLink(d: TunnelDevice): Promise<void> {
    const up = d.spec.enabled && d.lineUp;
    if (d.linkWant === up) return;
    d.linkWant = up;
    this.logged(await this.o.net.setLink(d.spec.device, { up }));
    d.linkUp = up;
    if (up) await this.routesUp(d);
  }

  private async routesUp(d: TunnelDevice): Promise<void> {
    for (const r of d.spec.routes ?? []) {
      this.logged(await this.o.net.replaceRoute({ dest: r, device: d.spec.device, ...(d.spec.table !== undefined ? { table: d.spec.table } : {}) }));
    }
    this.o.onLinkUp?.(d.spec.name);
  }

  private logged(error: string | undefined): void {
    if (error !== undefined) this.o.log(error);
  }

  has(name: string): boolean {
    return this.devices.has(name);
  }

  /** Linux device of a tunnel interface while it is up (routes through it can be installed). */
  deviceIfUp(name: string): string | undefined {
    const d = this.devices.get(name);
    return d?.linkUp === true && d.linkWant === true ? d.spec.device : undefined;
  }

  /** A decrypted packet arriving on tunnel `name`; undefined when there is no such device. */
  write(name: string, packet: Uint8Array, checksumsOk?: boolean): boolean | undefined {
    const d = this.devices.get(name);
    if (!d) return undefined;
    const m = d.spec.tcpAdjustMss;
    if (m !== undefined) clampTcpMss(packet, m);
    return d.tun.write(packet, 0, checksumsOk);
  }

  status(name: string): TunnelDeviceStatus | undefined {
    const d = this.devices.get(name);
    if (!d) return undefined;
    return { link: d.spec.enabled, protocol: d.spec.enabled && d.lineUp, outPackets: d.outPackets, outBytes: d.outBytes, stats: d.tun.stats };
  }

  get names(): string[] {
    return [...this.devices.keys()];
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.chain;
    const all = [...this.devices.values()];
    this.devices.clear();
    for (const d of all) await d.tun.close().catch(() => {});
  }
}
