// Tunnel Endpoint Discovery wiring (the logic is firmware/ike/ted-runtime.ts, for both IKE
// versions): UDP 500 on the addresses of crypto maps with a `discover` entry (shared binds:
// the IKE services see the same sockets and leave TED datagrams alone), the data plane's
// acquires and its in-transit UDP 500 intercept, debug lines on `debug crypto isakmp` or
// `debug crypto ikev2` by the entry's IKE version, `show crypto isakmp ted`, and the hand-off
// of a discovered flow to the IKEv1 or IKEv2 service.
import { randomBytes } from 'node:crypto';
import type { Config } from '../config/model.js';
import { IkeBinds } from '../ike/ike-binds.js';
import { TedRuntime, type TedFlow } from '../ike/ted-runtime.js';
import { formatConnPrefix } from '../ike/v1/debug-format.js';
import type { ScopedLogger } from '../lib/event-bus.js';
import { isTedDatagram } from '../proto/ikev1/ted.js';
import type { DaemonService, ServiceContext } from './daemon.js';
import type { DataplaneService } from './dataplane-service.js';

/** What an IKE service offers TED: start negotiating a discovered flow. */
export interface TedInitiator {
  initiateDiscovered(flow: TedFlow): void;
}

export class TedService implements DaemonService {
  readonly name = 'ted';
  /** The data plane (acquires, SPD) and both IKE services (the hand-off) start first. */
  readonly after = ['dataplane', 'ikev1', 'ikev2'];
  private ctx!: ServiceContext;
  private binds!: IkeBinds;
  private runtime!: TedRuntime;
  private logger!: ScopedLogger;
  private readonly unsub: (() => void)[] = [];

  async start(ctx: ServiceContext): Promise<void> {
    this.ctx = ctx;
    this.logger = ctx.logger('IKE');
    const dp = ctx.service<DataplaneService>('dataplane');
    this.runtime = new TedRuntime({
      now: () => ctx.system.now(),
      random: (n) => new Uint8Array(randomBytes(n)),
      config: () => ctx.config(),
      entries: (iface) => dp?.spdFor(iface)?.entries,
      send: (local, data, remote) => {
        if (!this.binds.send({ address: local, port: 500 }, data, { address: remote, port: 500 })) ctx.log('ted', `no socket for ${local}:500`);
      },
      debug: (version, peer, text, error = false) => this.debug(version, peer, text, error),
      initiate: (flow) => this.initiate(flow),
    });
    this.binds = new IkeBinds({
      open: (a, port, encap) => ctx.binds.udp(a, port, encap),
      receive: (data, remote) => { if (isTedDatagram(data)) this.runtime.receive(data.slice(), remote.address); },
      failed: (a, port, e) => ctx.log('ted', `cannot bind ${a} port ${port}: ${e.message}`),
    });
    if (dp?.pipeline) {
      dp.pipeline.setUdp500Intercept((inner) => this.runtime.intercepted(inner));
      this.unsub.push(() => dp.pipeline.setUdp500Intercept(undefined));
      this.unsub.push(dp.onAcquire((a) => { this.runtime.onAcquire(a); }));
    }
    this.unsub.push(ctx.runtime.provide('ted', { counters: () => ({ ...this.runtime.counters() }) }, this.name));
  }

  async stop(): Promise<void> {
    for (const u of this.unsub.splice(0)) u();
    await this.binds?.close();
  }

  apply(config: Config): Promise<void> {
    return this.binds.reconcile(this.runtime.listenAddresses(config));
  }

  private initiate(flow: TedFlow): void {
    const svc = this.ctx.service<DaemonService & Partial<TedInitiator>>(flow.version === 'IKEv2' ? 'ikev2' : 'ikev1');
    if (!svc?.initiateDiscovered) { this.ctx.log('ted', `no ${flow.version} service for the flow to ${flow.responder}`); return; }
    svc.initiateDiscovered(flow);
  }

  private debug(version: 'IKEv1' | 'IKEv2' | 'both', peer: string, text: string, error: boolean): void {
    const context = { peer };
    if (version !== 'IKEv2') this.logger.debug('isakmp', () => `ISAKMP:${formatConnPrefix(0)}:${text}`, { error, context });
    if (version !== 'IKEv1') this.logger.debug('ikev2', () => `IKEv2: ${text}`, { error, context });
  }
}
