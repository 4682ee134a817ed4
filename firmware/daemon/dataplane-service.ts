// The data-plane runtime service: the adapter between the daemon (configuration deltas, the
// runtime view) and the parts that do the work, each in its own file:
//   dataplane-backend.ts   which backend carries the SAs (XFRM, userspace ESP over TUN, none)
//   host-programming.ts    interfaces, routes, loopbacks, VRF tables, RRI routes (host-network port)
//   spd-compiler.ts        one SPD per crypto map interface, steering rules and XFRM traps
//   manual-sas.ts          the SAs of ipsec-manual entries
//   sa-pair.ts, child-sa-kernel.ts   a child SA pair for the SAD and for the kernel
//   esp-udp-binds.ts       ESP in UDP on the port-4500 binds shared with IKE
//   ipsec-sa-show.ts       show crypto ipsec sa / show crypto engine
// IKE uses the typed API below (installChildSa, deleteSa, onAcquire, onExpire): see
// docs/dataplane-api.md and dataplane-api.ts.
import { boardDrivers, type BoardDrivers } from '../../board/drivers.js';
import type { ClearCryptoSaFilter, CryptoEngineShow, IpsecSaShowInterface } from '../cli/commands/crypto-ipsec-sa.js';
import type { Config } from '../config/model.js';
import { virtualTemplate } from '../config/vti.js';
import { Pipeline, type MapEntryData, type PipelineAcquire, type PipelineIo } from '../dataplane/pipeline.js';
import { formatAclEntry } from '../ipsec/acl-classifier.js';
import type { IpsecSa } from '../ipsec/ipsec-sa.js';
import { Sad, type SecurityAssociation, type SadEvent } from '../ipsec/sad.js';
import { IPPROTO_AH, IPPROTO_ESP, IPPROTO_IPCOMP, selectorKey, type TrafficSelector } from '../ipsec/selector.js';
import type { Spd } from '../ipsec/spd.js';
import type { CommandRunner, HostNetwork } from '../kernel/host-network.js';
import type { KernelIpsec } from '../kernel/kernel-ipsec.js';
import type { KernelIpsecDetection } from '../kernel/detect.js';
import type { UserspaceBackend } from '../kernel/userspace-backend.js';
import type { CryptoEngine } from '../lib/crypto-engine.js';
import { IntentCompiler, type ConfigIntent, type IntentDelta } from './config-intent.js';
import type { ChildSaInstall, DataplaneExpire } from './dataplane-api.js';
import { DataplaneBackend } from './dataplane-backend.js';
import type { DaemonService, ServiceContext } from './daemon.js';
import { EspUdpBinds } from './esp-udp-binds.js';
import { HostProgramming } from './host-programming.js';
import { clearShownCounters, IpsecSaShow } from './ipsec-sa-show.js';
import { ManualSas } from './manual-sas.js';
import { SaReports } from './sa-reports.js';
import type { RriRoute } from './reverse-route.js';
import { dfBitFor, saPairSpecs } from './sa-pair.js';
import { clearSad } from './sad-clear.js';
import { InterfaceSpds } from './spd-compiler.js';
import { TemporaryEntries, type TemporaryEntry, type TemporaryEntrySpec } from './temporary-entries.js';
import { TemporaryUpkeep } from './temporary-upkeep.js';
import { tunnelMapTag, VtiRuntime, type TunnelTeardown } from './vti-runtime.js';

export type { ChildSaInstall, DataplaneExpire, SaKeys } from './dataplane-api.js';
export { childSaToKernel } from './child-sa-kernel.js';
export { addrIdent, plaintextMtu, siblingFlags } from './ipsec-sa-show.js';
export { RRI_ROUTE_PROTO } from './host-programming.js';

export class DataplaneService implements DaemonService {
  readonly name = 'dataplane';
  /** The board's crypto engines in preference order (board/drivers.ts); the first carries the SAs. */
  engines: CryptoEngine[];
  /** The host-network port (board/drivers.ts): addresses, link state and routes of the box's Linux. */
  network!: HostNetwork;
  sad!: Sad<IpsecSa>;
  pipeline!: Pipeline;
  private readonly chosen = new DataplaneBackend();
  private host: HostProgramming | undefined;
  private ctx!: ServiceContext;
  /** debug crypto engine lines and packet error messages */
  private reports!: SaReports;
  private now: () => number = Date.now;
  /** Temporary crypto map entries made by dynamic map negotiations. */
  readonly temporary = new TemporaryEntries();
  private readonly spds = new InterfaceSpds({
    temporary: this.temporary, pipeline: () => this.pipeline, kernel: () => this.chosen.mirror, config: () => this.lastConfig,
  });
  private readonly manual = new ManualSas({
    spds: this.spds, sad: () => this.sad, dfBitFor: (iface, map) => this.dfBitFor(iface, map),
    installChildSa: (spec) => this.installChildSa(spec), log: (t) => this.ctx.log('dataplane', t),
  });
  private readonly udp = new EspUdpBinds({
    binds: () => (this.ctx as Partial<ServiceContext>).binds, spds: this.spds, tunnels: () => this.tunnels.list,
    pipeline: () => this.pipeline, backend: () => this.backend, log: (t) => this.ctx.log('dataplane', t),
  });
  private readonly show = new IpsecSaShow({
    now: () => this.now(), sas: () => (this.sad ? this.sad.all() : []),
    views: () => [...[...this.spds.entries()].map(([n, s]): [string, { mapName: string; local: string | undefined }] => [n, s]),
      ...this.tunnels.list.map((v): [string, { mapName: string; local: string | undefined }] => [v.name, { mapName: tunnelMapTag(v.name), local: v.local }])],
    ipMtu: (iface) => this.lastConfig?.interfaces?.items[iface]?.ipMtu, protectedVrf: (iface) => this.tunnels.get(iface)?.vrf,
  });
  private readonly upkeep = new TemporaryUpkeep({
    temporary: this.temporary, sad: () => this.sad, now: () => this.now(), rebuildSpds: () => this.rebuildSpds(),
    applied: () => ({ config: this.lastConfig, intent: this.intent }), installRoutes: (cfg, routes) => this.host?.syncRri(cfg, routes),
  });
  private lastConfig: Config | undefined;
  private intent: ConfigIntent | undefined;
  /** For callers of apply(config) (tests driving the service without a daemon). */
  private readonly ownCompiler = new IntentCompiler();
  private readonly expireListeners = new Set<(e: DataplaneExpire) => void>();
  /** Registrations with the runtime view, taken back at stop. */
  private readonly unregister: Array<() => void> = [];
  /** Tunnel interfaces (static VTIs): devices and line protocol. */
  readonly tunnels = new VtiRuntime({
    sad: () => this.sad,
    devices: () => this.backend?.tunnels,
    log: (t) => this.ctx?.log('dataplane', t),
    vrfTable: (vrf) => this.host?.vrfTables?.tableOf(vrf),
    lineProtocolMessage: (name, up) => this.ctx?.logger('NET').message('LINEPROTO', 5, 'UPDOWN', `Line protocol on Interface ${name}, changed state to ${up ? 'up' : 'down'}`),
  });

  /**
   * `drivers`: what the board picked (services.ts passes boardDrivers(board)); without it
   * the service asks the board module for the started box's board.
   * Tests: `userspace: false` opens no TUN/socket, `detect: false` skips the kernel probe,
   * `io` replaces the backend's packet I/O (two services wired back to back in-process),
   * `run` replaces the commands of the board's host network.
   */
  constructor(private readonly opts: { drivers?: BoardDrivers; run?: CommandRunner; userspace?: boolean; detect?: boolean; io?: PipelineIo } = {}) {
    this.engines = opts.drivers?.engines ?? [];
  }

  /** The engine new SAs are keyed on: the board's first. */
  get engine(): CryptoEngine {
    if (this.engines.length === 0) throw new Error('dataplane: not started (no crypto engine yet)');
    return this.engines[0]!;
  }

  get backend(): UserspaceBackend | undefined { return this.chosen.userspace; }
  get kernel(): KernelIpsec | undefined { return this.chosen.kernel; }
  get detection(): KernelIpsecDetection | undefined { return this.chosen.detection; }
  get backendError(): string | undefined { return this.chosen.error; }

  async start(ctx: ServiceContext): Promise<void> {
    this.ctx = ctx;
    this.now = ctx.system.now;
    const log = (t: string): void => ctx.log('dataplane', t);
    const drivers = this.opts.drivers ?? boardDrivers(ctx.board, this.opts.run ? { run: this.opts.run } : {});
    if (this.engines.length === 0) this.engines = drivers.engines;
    this.network = drivers.network;
    for (const p of drivers.problems) ctx.log('dataplane', p.replace(/^% /, ''), 4);
    this.sad = new Sad<IpsecSa>({
      now: () => this.now(),
      timer: { set: (fn, ms) => { const h = setTimeout(fn, ms); h.unref(); return h; }, clear: (h) => clearTimeout(h as NodeJS.Timeout) },
    });
    this.sad.on((e) => this.onSadEvent(e));
    this.reports = new SaReports(ctx.logger('ESP'), () => this.now(), (sa) => this.show.connId(sa));
    const io = this.opts.io;
    this.pipeline = new Pipeline({
      sad: this.sad,
      now: () => this.now(),
      io: io ?? {
        sendOuter: (p, sa) => this.backend?.sendOuter(p, sa) ?? false,
        deliverInner: (p, ok, sa) => this.backend?.deliverInner(p, ok, sa) ?? false,
        espTrainBuffer: (sa, min) => this.backend?.espTrainBuffer(sa, min),
        sendEspTrain: (sa, buf, count, stride, last, tos) => this.backend?.sendEspTrain(sa, buf, count, stride, last, tos) ?? false,
      },
    });
    this.reports.attach(this.pipeline);
    // ports not wired to Linux (sim board without --port, e.g. CLI tests in the host's namespace): no packet I/O
    if (this.network.wiredPorts().length === 0 && !io) this.chosen.unwired();
    else {
      await this.chosen.open({
        network: this.network, pipeline: this.pipeline, sad: () => this.sad, log, ownsKernelIpsec: ctx.board.ownsKernelIpsec === true,
        detect: this.opts.detect ?? drivers.kernelBackend === 'detect', open: this.opts.userspace ?? true,
        onTunnelUp: (name) => this.host?.tunnelUp(this.tunnels.get(name)?.device),
      });
      if (this.backend || this.kernel) {
        this.host = new HostProgramming({
          net: this.network, log, vrfs: this.backend !== undefined, tunnels: () => this.tunnels.list,
          tunnelDeviceIfUp: (name) => this.backend?.tunnels?.deviceIfUp(name),
        });
      }
    }
    this.installRuntimeView(ctx);
  }

  async stop(): Promise<void> {
    for (const u of this.unregister.splice(0)) u();
    await this.udp.close();
    await this.host?.close();
    this.host = undefined;
    await this.chosen.close();
    if (this.network) { await this.network.idle(); this.network.close(); }
    this.sad?.close();
  }

  apply(config: Config): void {
    void this.applyChanges(this.ownCompiler.compile(config));
  }

  /**
   * One configuration revision: interfaces and routes follow the model (each diffed by
   * content), and only the interfaces whose crypto map entries changed get their SPD
   * recompiled, their manual SAs reinstalled and their steering rules rewritten. SAs of
   * entries that did not change are never touched.
   */
  applyChanges(delta: IntentDelta): Promise<void> {
    const config = delta.config;
    this.lastConfig = config;
    this.intent = delta.intent;
    this.host?.apply(config);
    for (const td of this.tunnels.apply(config)) this.tearDownTunnel(td);
    this.host?.syncVrfs(config);
    const touched = this.spds.compile(delta);
    if (touched.size > 0) this.manual.sync(delta.intent, touched);
    this.upkeep.queue(); // RRI: `reverse-route static` routes and changed entries
    if (this.backend) {
      if (touched.size > 0) this.backend.installPolicies(this.spds.policies((p) => this.network.linuxName(p)));
      this.udp.sync(this.lastConfig);
    }
    // the revision counts as applied once the host holds it (calls run in order)
    return this.network?.idle() ?? Promise.resolve();
  }

  /**
   * A tunnel's configuration no longer supports its crypto session: the peer is told (IKE
   * Deletes; a Virtual-Access's whole session, its IKE SA, ends) and its SAs go, with the reason logged.
   */
  private tearDownTunnel(td: TunnelTeardown): void {
    this.ctx.logger('NET').message('CRYPTO', 5, 'TUNNEL_TEARDOWN', `${td.name}: crypto session ended: ${td.reason}`, td.peer ? { peer: td.peer } : undefined);
    const rt = this.ctx.runtime;
    if (td.dynamic && td.peer) for (const s of rt.sessionSources.list()) s.clearSessions?.(td.peer);
    rt.clearCryptoSa({ kind: 'map', map: td.mapName });
    this.sad?.deleteWhere((sa) => sa.policyKey === td.policyKey);
  }

  // ------------------------------------------------------------------ IKE API

  /** Subscribes to acquires (outbound packet matched a permit of an isakmp entry, no SA). */
  onAcquire(fn: (a: PipelineAcquire) => void): () => void {
    return this.pipeline.onAcquire(fn);
  }

  /** Subscribes to soft (rekey) and hard (gone) lifetime events. */
  onExpire(fn: (e: DataplaneExpire) => void): () => void {
    this.expireListeners.add(fn);
    return () => this.expireListeners.delete(fn);
  }

  /** Allocates an unused inbound SPI (ESP/AH) or CPI (IPComp) for a negotiation. */
  allocateSpi(proto: 'esp' | 'ah' | 'comp'): number {
    return this.sad.allocateSpi(proto === 'esp' ? IPPROTO_ESP : proto === 'ah' ? IPPROTO_AH : IPPROTO_IPCOMP);
  }

  /**
   * Installs an SA pair: the inbound SA first, then the outbound bundle (replacing the
   * previous one of the same policy key: a rekey without loss; the old inbound SA stays
   * until deleted). Throws on bad keys or a taken SPI. Returns the SAD ids (in, out).
   */
  installChildSa(spec: ChildSaInstall): { inboundId: number; outboundId: number } {
    const specs = saPairSpecs(spec, this.engine, this.dfBitFor(spec.iface, spec.mapName));
    let inbound: SecurityAssociation<IpsecSa>;
    try {
      inbound = this.sad.addInbound(specs.inbound);
    } catch (e) {
      specs.inbound.transform.destroy(); specs.outbound.transform.destroy();
      throw e;
    }
    const outbound = this.sad.setOutbound(spec.policyKey, [specs.outbound]).bundle.sas[0]!;
    const extras = { pfsGroup: spec.pfsGroup, peerPort: spec.udpEncap?.remotePort ?? 500 };
    for (const sa of [inbound, outbound]) this.show.extras.set(sa, extras);
    this.reports.created(inbound, outbound);
    this.chosen.mirror?.install(spec, inbound.id, outbound.id);
    if (spec.iface !== undefined) this.tunnels.refreshSoon();
    this.upkeep.queue(); // RRI routes follow the new SAs
    return { inboundId: inbound.id, outboundId: outbound.id };
  }

  private dfBitFor(iface: string | undefined, mapName: string): ReturnType<typeof dfBitFor> {
    return dfBitFor(this.lastConfig ?? this.ctx?.config(), iface, mapName, (n) => this.tunnels.virtualAccesses.find((v) => v.name === n)?.config);
  }

  /**
   * Dynamic VTI: a Virtual-Access interface cloned from `Virtual-Template<n>` for one peer,
   * whose SA pair the caller then installs with the returned policy key and interface.
   * `routes` are the peer's proxies (reverse route injection); `vrf` the inside VRF of the
   * peer's ISAKMP / IKEv2 profile (single template model). A string says why not.
   */
  createVirtualAccess(n: number, local: string, peer: string, routes: readonly string[], vrf?: string): { name: string; policyKey: string; mapName: string } | string {
    const t = virtualTemplate(this.lastConfig ?? this.ctx.config(), n);
    if (typeof t === 'string') return t;
    const va = this.tunnels.createVirtualAccess(t, local, peer, routes, this.now(), vrf);
    if (typeof va === 'string') return va;
    // a peer answered in a front-door VRF: the box's ESP to it goes by that VRF's table
    if (va.frontDoorVrf !== undefined) this.syncVrfs();
    return { name: va.name, policyKey: va.policyKey, mapName: tunnelMapTag(va.name) };
  }

  /** The session of a Virtual-Access interface ended: it and its routes go. */
  releaseVirtualAccess(name: string): void {
    const fvrf = this.tunnels.get(name)?.frontDoorVrf;
    this.tunnels.removeVirtualAccess(name);
    if (fvrf !== undefined) this.syncVrfs();
  }

  private syncVrfs(): void {
    if (this.lastConfig) this.host?.syncVrfs(this.lastConfig);
  }

  /** Deletes an SA by SAD id (an outbound SA takes its bundle with it). */
  deleteSa(id: number, reason = 'deleted'): boolean {
    return this.sad.delete(id, reason);
  }

  /** The SPD policy key a flow of a crypto map entry maps to (for IKE responders). */
  policyKeyFor(mapName: string, seq: number, scope: TrafficSelector): string {
    return `${mapName}/${seq}|${selectorKey(scope)}`;
  }

  /** The SPD compiled for an interface (IKE responders: matchProposal / narrowProposal). */
  spdFor(iface: string): Spd<MapEntryData> | undefined {
    return this.spds.spdFor(iface);
  }

  /**
   * The temporary crypto map entry for a flow a dynamic map entry accepted (made if new; the
   * SPD is recompiled so the flow is steered to its SAs). IKE installs the SAs under the
   * returned entry's policyKey and scope. Undefined: the flow has no access-list form.
   * The entry goes away by itself once the SAD holds no SA under its policy key.
   */
  addTemporaryEntry(spec: TemporaryEntrySpec): TemporaryEntry | undefined {
    return this.upkeep.add(spec);
  }

  private rebuildSpds(): void {
    this.spds.rebuild();
    this.backend?.installPolicies(this.spds.policies((p) => this.network.linuxName(p)));
  }

  /** RRI routes wanted now (for `show ip route`). */
  reverseRoutes(): readonly RriRoute[] {
    return this.upkeep.routes;
  }

  private onSadEvent(e: SadEvent<IpsecSa>): void {
    if (e.sa.iface !== undefined && e.type !== 'soft') this.tunnels.refreshSoon();
    if (e.type === 'deleted' || e.type === 'hard') {
      this.upkeep.queue();
      e.sa.transform.destroy();
      this.chosen.mirror?.deleted(e.sa.id);
    }
    if (e.type === 'soft' || e.type === 'hard') {
      const ev: DataplaneExpire = {
        hard: e.type === 'hard', cause: e.cause, direction: e.sa.direction, spi: e.sa.spi, proto: e.sa.proto,
        childId: e.sa.childId, mapName: e.sa.mapName, mapSeq: e.sa.mapSeq,
      };
      for (const fn of this.expireListeners) { try { fn(ev); } catch { /* listener bug */ } }
    }
    this.reports.sadEvent(e);
  }

  /** `clear crypto sa ...`: deletes SAs, then reinstalls manual ones at once. */
  clearSas(filter: ClearCryptoSaFilter): number {
    const n = clearSad(this.sad, filter);
    if (this.intent) this.manual.sync(this.intent);
    return n;
  }

  ipsecSaView(): IpsecSaShowInterface[] {
    return this.show.ipsecSaView();
  }

  engineView(): CryptoEngineShow {
    return this.show.engineView({
      detection: this.detection, kernel: this.kernel, backend: this.backend, backendError: this.backendError, testIo: this.opts.io !== undefined,
      engines: this.engines, sadSize: this.sad ? this.sad.size : 0, pipeline: this.pipeline,
    });
  }

  private installRuntimeView(ctx: ServiceContext): void {
    const rt = ctx.runtime;
    const me = this.name;
    this.unregister.push(
      rt.provide('ipsecSas', () => this.ipsecSaView(), me),
      rt.provide('refreshIpsecSas', async () => { await this.chosen.counterSync?.refresh(); }, me),
      rt.provide('cryptoEngine', () => this.engineView(), me),
      rt.provide('reverseRoutes', () => this.upkeep.routes, me),
      rt.provide('cryptoMapTemporaryEntries', () => this.temporary.list().map((e) => ({ ...e, aclLine: formatAclEntry(e.ace) })), me),
      // crypto ACL match counts (the SPD classifier's) for `show access-lists`
      rt.provide('aclMatches', (list) => this.spds.aclMatches(list), me),
      rt.provide('clearAclCounters', () => this.spds.resetCounters(), me),
      rt.provide('virtualAccess', () => this.tunnels.virtualAccesses.map((va) => ({
        name: va.name, template: va.template, config: va.config, peer: va.peer ?? '', local: va.local ?? '',
        createdAtMs: va.createdAtMs, routes: [...va.routes],
      })), me),
      // `clear crypto sa`: the SAs themselves go after IKE told the peers (runtime-view.ts)
      rt.saClearers.add({ name: me, stage: 'sad', clear: (f) => this.clearSas(f) }),
      rt.saCounterClearers.add({ name: me, clearCounters: () => { if (this.sad) clearShownCounters(this.sad.all()); } }),
      // tunnel interfaces: line protocol and counters
      rt.interfaceStatus.add({ name: 'tunnels', status: (name) => this.tunnels.status(name) }),
    );
  }
}
