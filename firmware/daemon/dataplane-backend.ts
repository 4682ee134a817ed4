// Which kernel IPsec backend carries the SAs, picked once when the data plane starts: the
// kernel's XFRM where detect.ts finds ESP (with its acquire traps and counter sync), else the
// userspace ESP pipeline over TUN (this host's kernel has no ESP), else none (no root, or no
// board port wired to Linux). Kept apart from the service: the choice and the opening and
// closing of each backend are one concern; what runs over them is another.
import type { Pipeline } from '../dataplane/pipeline.js';
import type { IpsecSa } from '../ipsec/ipsec-sa.js';
import type { Sad } from '../ipsec/sad.js';
import { detectKernelIpsec, type KernelIpsecDetection } from '../kernel/detect.js';
import type { HostNetwork } from '../kernel/host-network.js';
import type { KernelIpsec } from '../kernel/kernel-ipsec.js';
import { UserspaceBackend } from '../kernel/userspace-backend.js';
import { openXfrmBackend } from '../kernel/xfrm-backend.js';
import { KernelSaMirror } from './child-sa-kernel.js';
import { XfrmCounterSync } from './xfrm-counters.js';
import { packetKeyFromAcquire, XfrmTraps } from './xfrm-traps.js';

export interface BackendOptions {
  network: HostNetwork;
  pipeline: Pipeline;
  sad: () => Sad<IpsecSa>;
  /** probe the kernel for ESP (the board's `kernelBackend: detect`) */
  detect: boolean;
  /** open a backend at all (tests of the service alone: false) */
  open: boolean;
  /** the board owns the kernel's IPsec state (the appliance): a previous daemon's is flushed */
  ownsKernelIpsec: boolean;
  log: (text: string) => void;
  /** a tunnel interface's device went up (userspace backend) */
  onTunnelUp: (name: string) => void;
}

export class DataplaneBackend {
  detection: KernelIpsecDetection | undefined;
  /** The kernel's XFRM, when detect.ts found ESP: SAs and policies go there. */
  kernel: KernelIpsec | undefined;
  /** XFRM: the outbound policies whose packets make the kernel acquire. */
  traps: XfrmTraps | undefined;
  /** XFRM: the kernel SAs standing for the SAD's. */
  mirror: KernelSaMirror | undefined;
  /** XFRM: the kernel's SA counters copied into the SAD and show counters. */
  counterSync: XfrmCounterSync | undefined;
  userspace: UserspaceBackend | undefined;
  /** Why no backend carries packets (shown by `show crypto engine`). */
  error: string | undefined;
  private counterTimer: NodeJS.Timeout | undefined;

  /** A box without wired ports runs no packet I/O: no kernel probe, no TUN, no sysctl, no rules. */
  unwired(): void {
    this.error = 'no board port is mapped to a Linux interface (--port NAME=ifname): no packet I/O';
  }

  async open(o: BackendOptions): Promise<void> {
    if (o.detect) {
      try {
        // 5 s per request: the appliance under emulation on a loaded host answers slowly.
        this.detection = await detectKernelIpsec({ probeTransforms: false, requestTimeoutMs: 5000 });
      } catch (e) {
        this.detection = undefined;
        o.log(`kernel IPsec detection failed: ${(e as Error).message}`);
      }
    }
    if (o.open && this.detection?.backend === 'xfrm' && process.getuid?.() === 0) {
      try {
        const k = openXfrmBackend(this.detection.capabilities ? { capabilities: this.detection.capabilities } : {});
        this.kernel = k;
        if (o.ownsKernelIpsec) await k.flushAllKernelState().catch((e: unknown) => o.log(`XFRM flush of a previous daemon's state: ${(e as Error).message}`));
        this.traps = new XfrmTraps(k, o.log);
        const mirror = new KernelSaMirror(k, this.traps, o.log);
        this.mirror = mirror;
        const sync = new XfrmCounterSync(k, o.sad, () => mirror.kernelSas);
        this.counterSync = sync;
        // every 2 s while SAs exist: on-demand DPD, idle checks and kilobyte lifetimes read these
        this.counterTimer = setInterval(() => {
          if (mirror.kernelSas.size > 0) sync.refresh().catch((e: unknown) => o.log(`XFRM SA counters: ${(e as Error).message}`));
        }, 2000);
        this.counterTimer.unref();
        k.on('acquire', (ev) => { const pk = packetKeyFromAcquire(ev); if (pk) o.pipeline.acquireFor(pk); });
      } catch (e) {
        o.log(`XFRM backend: ${(e as Error).message}; using the userspace data path`);
      }
    }
    if (o.open && !this.kernel) {
      if (process.getuid?.() !== 0) {
        this.error = 'needs root (TUN device, raw sockets): packets are not forwarded';
      } else {
        const b = new UserspaceBackend({ pipeline: o.pipeline, net: o.network, log: o.log, onTunnelUp: o.onTunnelUp });
        try {
          b.start();
          this.userspace = b;
        } catch (e) {
          this.error = (e as Error).message;
          await b.close().catch(() => {});
        }
      }
    }
    if (this.error) o.log(this.error);
  }

  async close(): Promise<void> {
    await this.userspace?.close();
    this.userspace = undefined;
    if (this.counterTimer) clearInterval(this.counterTimer);
    this.counterTimer = undefined;
    this.counterSync = undefined;
    if (this.kernel) { await this.kernel.flushPolicies().catch(() => {}); await this.kernel.flushSas().catch(() => {}); await this.kernel.close(); }
    this.kernel = undefined;
    this.mirror = undefined;
  }
}
