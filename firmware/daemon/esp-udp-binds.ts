// ESP in UDP (RFC 3948) arrives on the port-4500 socket IKE shares (BindRegistry): one bind per
// local address that crypto maps, tunnels and virtual templates use, subscribed for ESP and
// handed to the pipeline (GRO trains whole); where the bind can send with UDP GSO, the
// userspace backend sends that address's ESP in UDP through it. Binds follow the configuration.
import type { Config } from '../config/model.js';
import type { StaticVti } from '../config/vti.js';
import { virtualTemplate } from '../config/vti.js';
import type { BindRegistry, SharedBind } from '../dataplane/bind-registry.js';
import type { Endpoint } from '../dataplane/packet-io.js';
import type { Pipeline } from '../dataplane/pipeline.js';
import { UdpGsoBind } from '../dataplane/udp-gso-bind.js';
import type { IpsecSa } from '../ipsec/ipsec-sa.js';
import type { SecurityAssociation } from '../ipsec/sad.js';
import type { UserspaceBackend } from '../kernel/userspace-backend.js';
import { parseIpv4 } from '../lib/ip.js';
import type { InterfaceSpds } from './spd-compiler.js';

export class EspUdpBinds {
  /** UDP 4500 binds (shared with IKE), one per local address. */
  private readonly binds = new Map<string, Promise<SharedBind | undefined>>();

  constructor(private readonly o: {
    binds: () => BindRegistry | undefined;
    spds: InterfaceSpds;
    tunnels: () => readonly StaticVti[];
    pipeline: () => Pipeline;
    backend: () => UserspaceBackend | undefined;
    log: (text: string) => void;
  }) {}

  /** ESP in UDP (RFC 3948) arrives on the shared port-4500 bind of each local address. */
  sync(config: Config | undefined): void {
    const binds = this.o.binds();
    if (!binds) return;
    const want = new Set<string>();
    for (const [, s] of this.o.spds.entries()) if (s.local) want.add(s.local);
    for (const v of this.o.tunnels()) if (v.local && !v.shutdown && v.problem === undefined) want.add(v.local);
    // dynamic VTIs: sessions arrive on the address a template borrows, before any Virtual-Access exists
    for (const name of Object.keys(config?.interfaces?.items ?? {})) {
      const m = /^Virtual-Template(\d+)$/.exec(name);
      const t = m ? virtualTemplate(config!, Number(m[1])) : undefined;
      if (t && typeof t !== 'string' && t.local) want.add(t.local);
    }
    for (const addr of want) {
      if (this.binds.has(addr)) continue;
      const dst = Uint8Array.from(addr.split('.').map(Number));
      const p = binds.udp(addr, 4500, true).then((b) => {
        // a bind passes the same Endpoint object while the peer stays the same: the
        // address bytes are parsed once per peer change, not per packet
        let lastRemote: Endpoint | undefined;
        let src = new Uint8Array(4);
        const srcOf = (remote: Endpoint): Uint8Array => {
          if (remote !== lastRemote) { lastRemote = remote; src = Uint8Array.from(remote.address.split('.').map(Number)); }
          return src;
        };
        b.subscribe(['esp'], (_kind, data, remote) => this.o.pipeline().inboundUdpEsp(data, srcOf(remote), dst));
        // GRO trains of ESP: the SA opens them in one engine call (Pipeline.inboundUdpEspTrain)
        b.onEspTrain((buf, off, segSize, count, lastLen, remote) => this.o.pipeline().inboundUdpEspTrain(buf, off, segSize, count, lastLen, srcOf(remote), dst));
        this.attachUdpSender(addr, b);
        return b;
      }, (e: unknown) => {
        this.o.log(`UDP 4500 on ${addr}: ${(e as Error).message}`);
        this.binds.delete(addr);
        return undefined;
      });
      this.binds.set(addr, p);
    }
    for (const [addr, p] of this.binds) {
      if (want.has(addr)) continue;
      this.binds.delete(addr);
      this.o.backend()?.attachUdpEncap(parseIpv4(addr) ?? 0, undefined);
      void p.then((b) => b?.release());
    }
  }

  /**
   * A bind that can queue ESP itself (dataplane/udp-gso-bind.ts: UDP GSO) carries this
   * address's ESP in UDP; otherwise the backend's raw socket sends it with the headers
   * IpsecSa built. Refusals at the bind's flush land on the SA like immediate ones.
   */
  private attachUdpSender(addr: string, b: SharedBind): void {
    const bind = b.bind;
    const backend = this.o.backend();
    if (!backend || !(bind instanceof UdpGsoBind) || !this.binds.has(addr)) return;
    bind.onSendError((tag) => { if (tag) this.o.pipeline().sendFailedLate(tag as SecurityAssociation<IpsecSa>); });
    backend.attachUdpEncap(parseIpv4(addr) ?? 0, bind);
  }

  async close(): Promise<void> {
    for (const p of this.binds.values()) await p.then((b) => b?.release()).catch(() => {});
    this.binds.clear();
  }
}
