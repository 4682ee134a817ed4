// The IKEv1 runtime service: the adapter between the box and one IkeV1Engine (every local
// address: each datagram carries its local endpoint). What both IKE versions share is in
// firmware/ike: acquires, peer choice and failover (connection-manager.ts), the Child SA table
// (child-sas.ts), installing pairs and temporary entries (child-install.ts, temporary-entry.ts),
// session reports (session-report.ts), sockets (ike-binds.ts); IKEv1's config mapping, quick
// mode responder policy and engine loop are in firmware/ike/v1 (config-map, responder, driver),
// its show rows in ikev1-show.ts. What is left here: the configuration into the engine, the
// data plane's events into negotiations, the engine's events into SA pairs (TED: ted-service.ts).
// PSKs never reach a log or debug line (the engine redacts; we never print config keys).
import { resolveCryptoMapSet, type ResolvedMapEntry } from '../config/crypto-map.js';
import type { ConfigIntent, IntentDelta } from './config-intent.js';
import { transformWords } from '../config/crypto-ipsec.js';
import type { Config } from '../config/model.js';
import type { PipelineAcquire } from '../dataplane/pipeline.js';
import type { Endpoint as PacketEndpoint, PacketKind } from '../dataplane/packet-io.js';
import { IkeV1Engine, type IkeV1Event, type InitiateOptions, type IpsecSaInfo, type QuickModeRequest } from '../ike/v1/engine.js';
import { formatConnPrefix } from '../ike/v1/debug-format.js';
import { isakmpEventContext, type IsakmpDebugEvent } from '../ike/v1/debug.js';
import type { QuickModeResponderDecision, QuickModeResponderQuery } from '../ike/v1/quick-mode-policy.js';
import type { Selector } from '../ike/v1/selectors.js';
import type { CryptoSessionInfo, IkeSessionSource } from '../ike/session-info.js';
import { aceToSelector, type SpdEntry } from '../ipsec/spd.js';
import { ConnectionManager, TunnelKeeper, shouldRekey, type ManagedConnection } from '../ike/connection-manager.js';
import { ChildSaTable, VirtualAccessSessions, type ChildSaRecord, type VirtualAccess } from '../ike/child-sas.js';
import { installPair } from '../ike/child-install.js';
import type { PairKeys } from '../ike/dataplane-port.js';
import { IkeSessionReport } from '../ike/session-report.js';
import { underTemporaryEntry } from '../ike/temporary-entry.js';
import { IkeBinds } from '../ike/ike-binds.js';
import { addrToSel, flowText, peerConfigFrom, policiesFrom, selsToTraffic } from '../ike/v1/config-map.js';
import { entryFlowPlan, findResolved, ikev1ListenAddresses, ikev1Vtis, localFor, planRequest, rekeyStart, vtiStart } from '../ike/v1/initiator.js';
import { BundleMatcher } from '../ike/v1/bundles.js';
import { EngineDriver } from '../ike/v1/driver.js';
import { answerQuickMode, planKey, type FlowPlan } from '../ike/v1/responder.js';
import type { TedFlow } from '../ike/ted-runtime.js';
import { isTedDatagram } from '../proto/ikev1/ted.js';
import { formatIp, selectorKey, type TrafficSelector } from '../ipsec/selector.js';
import type { DaemonService, ServiceContext } from './daemon.js';
import { reverseRouteSpecOf } from './reverse-route.js';
import { ikeAuthFailureMessages } from './system-messages.js';
import { CryptoEngineDebug } from './crypto-engine-debug.js';
import type { DataplaneService, DataplaneExpire } from './dataplane-service.js';
import type { ClearCryptoSaFilter } from '../cli/commands/crypto-ipsec-sa.js';
import { tunnelRetryDelayMs } from '../config/vti.js';
import type { IsakmpSaShow } from '../cli/commands/crypto-isakmp-sa.js';
import { ikev1Sessions, isakmpSaRows } from './ikev1-show.js';

import { IkeIntake } from '../ike/intake.js';

export const IKEV1_VERSION_BYTE = 0x10;

/** Main/Aggressive Mode message 1: zero responder cookie, message ID 0. */
function isFirstMessage(d: Uint8Array): boolean {
  for (let i = 8; i < 16; i++) if (d[i] !== 0) return false;
  return d[20] === 0 && d[21] === 0 && d[22] === 0 && d[23] === 0;
}

/** An installed IKEv1 SA pair: the shared record and what a rekey and DELETE need. */
interface V1Child extends ChildSaRecord {
  policyName: string;
  scope: TrafficSelector;
  info: IpsecSaInfo;
  request: QuickModeRequest;
  rekeyed: boolean;
  /** inbound AH SPI of an AH + ESP bundle (info is the ESP half) */
  ahInboundSpi?: number;
}

/** A flow as the connection manager sees it: its policy key, its entry's peers, the plan to start. */
interface V1Managed extends ManagedConnection {
  plan?: FlowPlan;
}

/** The manager's view of a crypto map entry's flow (peers in `set peer` order). */
function managedFlow(entry: Pick<SpdEntry<unknown>, 'peers' | 'kind'>, policyKey: string, plan?: FlowPlan): V1Managed {
  return { key: policyKey, peers: (entry.peers ?? []).map(formatIp), ...(entry.kind === 'dynamic' ? { dynamic: true } : {}), ...(plan ? { plan } : {}) };
}

/** a started negotiation holds further acquires for its flow back this long (then a new packet retries) */
const ACQUIRE_HOLD_OFF_MS = 30_000;

export class IkeV1Service implements DaemonService, IkeSessionSource {
  readonly name = 'ikev1';
  /** Uses the data plane's API from its start. */
  readonly after = ['dataplane'];
  engine!: IkeV1Engine;
  private ctx!: ServiceContext;
  private dataplane: DataplaneService | undefined;
  private binds!: IkeBinds;
  /** Acquires, peer choice and failover per flow (policy key); starts go through startNegotiation. */
  private readonly connections = new ConnectionManager<V1Managed>(
    { version: 'IKEv1', initiate: (conn, peer) => this.startNegotiation(conn, peer) },
    { now: () => this.ctx.system.now(), holdOffMs: ACQUIRE_HOLD_OFF_MS },
  );
  private readonly plans = new Map<string, FlowPlan>();
  private readonly children = new ChildSaTable<V1Child>();
  private report!: IkeSessionReport;
  private driver!: EngineDriver;
  private readonly bundles = new BundleMatcher();
  private nextChildId = 1;
  private trafficPoll: NodeJS.Timeout | undefined;
  private tunnelPoll: NodeJS.Timeout | undefined;
  /** dynamic VTI: peer address -> its Virtual-Access interface */
  private readonly vas = new VirtualAccessSessions<string>(() => this.dataplane);
  /** static VTIs: since when each has had no SA pair */
  private readonly tunnels = new TunnelKeeper();
  private readonly unsub: (() => void)[] = [];
  private stopped = false;
  readonly stats = { acquires: 0, initiations: 0, installs: 0, installErrors: 0, rekeys: 0, ignoredV2: 0 };
  /** Main/Aggressive Mode message 1s: budgeted, after the sockets were read (firmware/ike/intake.ts) */
  private readonly intake = new IkeIntake<{ data: Uint8Array; remote: PacketEndpoint; local: PacketEndpoint }>({
    handle: (m) => { if (!this.stopped) this.engine.receive(m); },
    afterBatch: () => this.pump(),
    // a message 1 older than this has been retransmitted or given up on by its initiator: a
    // burst of new peers (200 DVTI spokes at once) otherwise spent the budget answering those
    maxWaitMs: 2000,
  });

  async start(ctx: ServiceContext): Promise<void> {
    this.ctx = ctx;
    this.dataplane = ctx.service<DataplaneService>('dataplane');
    this.binds = new IkeBinds({
      open: (a, port, encap) => ctx.binds.udp(a, port, encap),
      receive: (data, remote, local) => this.onDatagram(data, remote, local),
      failed: (a, port, e) => ctx.log('ikev1', `cannot bind ${a} port ${port}: ${e.message}`),
    });
    const now = (): number => ctx.system.now();
    this.engine = new IkeV1Engine({
      now, policies: [], peerConfig: { globalKeys: [], keyrings: [], profiles: [], interfaces: [] },
      quickModeResponder: (q) => this.respond(q),
      debug: (ev) => this.onDebug(ev),
      natTraversal: true,
      // 1 s, 2 s, 4 s, then give up at ~15 s: the next `set peer` is tried (failover)
      retransmit: { initialMs: 1000, factor: 2, maxTries: 3 },
    });
    this.driver = new EngineDriver(this.engine, {
      now, send: (d) => this.binds.send(d.local, d.data, d.remote), event: (ev) => this.onEvent(ev), error: (text) => ctx.log('ikev1', text),
    });
    const log = ctx.logger('IKE');
    this.report = new IkeSessionReport('IKEv1', log, new CryptoEngineDebug(log), ikeAuthFailureMessages(log, now));
    if (this.dataplane?.pipeline) {
      this.unsub.push(this.dataplane.onAcquire((a) => this.onAcquire(a)));
      this.unsub.push(this.dataplane.onExpire((e) => this.onExpire(e)));
    }
    const rt = ctx.runtime;
    this.unsub.push(rt.sessionSources.add(this));
    this.unsub.push(rt.provide('ikev1', {
      isakmpSas: () => this.isakmpSas(),
      clearIsakmp: (id) => this.clearIsakmp(id),
      counters: () => ({ ...this.engine.counters, ...this.stats, firstMessagesDropped: this.intake.counters.dropped, halfOpen: this.engine.halfOpenCount() }),
      admission: () => {
        const negotiating = this.engine.halfOpenCount();
        return {
          ...this.engine.admission, maxIkeSas: this.engine.o.saLimit ?? 0, maxInNegotiation: this.engine.inNegotiationLimit(),
          active: this.engine.saCount() - negotiating, negotiating, intake: { ...this.intake.counters },
        };
      },
      clearAdmission: () => { this.engine.clearAdmissionCounters(); this.intake.clearCounters(); },
      initiateEntry: (m, s) => this.initiateEntry(m, s),
    }, this.name));
    // `clear crypto sa`: DELETEs for the IKE-made SAs it removes, before the data plane removes them
    this.unsub.push(rt.saClearers.add({ name: this.name, stage: 'ike', clear: (f) => this.clearChildren(f) }));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.driver.stop();
    this.intake.stop();
    if (this.trafficPoll) clearInterval(this.trafficPoll);
    if (this.tunnelPoll) clearInterval(this.tunnelPoll);
    for (const u of this.unsub) u();
    await this.binds.close();
  }

  /** The compiled intent of the configuration being applied (config-intent.ts): entries resolved once. */
  private intent: { config: Config; intent: ConfigIntent } | undefined;

  private intentOf(cfg: Config): ConfigIntent | undefined {
    return this.intent?.config === cfg ? this.intent.intent : undefined;
  }

  applyChanges(delta: IntentDelta): void | Promise<void> {
    this.intent = { config: delta.config, intent: delta.intent };
    return this.apply(delta.config);
  }

  apply(config: Config): void | Promise<void> {
    const o = this.engine.o as { -readonly [K in keyof typeof this.engine.o]: (typeof this.engine.o)[K] };
    o.policies = policiesFrom(config);
    o.peerConfig = peerConfigFrom(config);
    const cac = config.callAdmission;
    if (cac?.ikeInNegotiationLimit !== undefined) o.halfOpenLimit = cac.ikeInNegotiationLimit;
    else delete o.halfOpenLimit;
    if (cac?.ikeSaLimit !== undefined) o.saLimit = cac.ikeSaLimit;
    else delete o.saLimit;
    const ka = config.isakmpGlobals?.keepalive;
    if (ka) o.dpd = { intervalSec: ka.intervalSec, retrySec: ka.retrySec, mode: ka.mode, maxRetries: 5 };
    else delete o.dpd;
    if (ka && !this.trafficPoll) {
      this.trafficPoll = setInterval(() => this.pollTraffic(), 1000);
      this.trafficPoll.unref();
    } else if (!ka && this.trafficPoll) {
      clearInterval(this.trafficPoll);
      this.trafficPoll = undefined;
    }
    if (!this.tunnelPoll && ikev1Vtis(config).length > 0) {
      this.tunnelPoll = setInterval(() => this.keepTunnelsUp(), 1000);
      this.tunnelPoll.unref();
    }
    return this.binds.reconcile(ikev1ListenAddresses(config, (name) => this.mapSet(config, name)));
  }

  /** A crypto map set's entries, resolved once per apply (the compiled intent). */
  private mapSet(cfg: Config, name: string): readonly ResolvedMapEntry[] {
    return this.intentOf(cfg)?.mapSet(name) ?? resolveCryptoMapSet(cfg, name);
  }

  // ------------------------------------------------------------------ sockets

  private onDatagram(data: Uint8Array, remote: PacketEndpoint, local: PacketEndpoint): void {
    if (isTedDatagram(data)) return; // tunnel endpoint discovery: ted-service.ts
    if (data.length < 28) { this.engine.receive({ data: data.slice(), local: { ...local }, remote: { ...remote } }); this.pump(); return; }
    if ((data[17]! & 0xf0) !== IKEV1_VERSION_BYTE) { this.stats.ignoredV2++; return; }
    if (isFirstMessage(data)) {
      this.intake.offer(remote.address, () => ({ data: data.slice(), remote: { address: remote.address, port: remote.port }, local: { address: local.address, port: local.port } }));
      return;
    }
    // Liveness for DPD comes from the engine (authenticated messages only), not from any datagram.
    this.engine.receive({ data: data.slice(), local: { address: local.address, port: local.port }, remote: { address: remote.address, port: remote.port } });
    this.pump();
  }

  private pump(): void {
    this.driver.pump();
  }

  // ------------------------------------------------------------------ initiator

  private onAcquire(a: PipelineAcquire): void {
    const d = a.decision;
    if (!d.initiate) return;
    this.stats.acquires++;
    const cfg = this.ctx.config();
    const r = findResolved(cfg, d.entry.mapName, d.entry.seq, d.entry.subSeq);
    if (!r || r.ikev2Profile || r.kind !== 'isakmp') return;
    if (this.connections.isPending(d.policyKey)) return;
    const peer = this.connections.peerFor(managedFlow(d.entry, d.policyKey));
    if (!peer) return;
    const local = addrToSel(d.scope.src, d.scope.proto, d.scope.srcPorts);
    const remote = addrToSel(d.scope.dst, d.scope.proto, d.scope.dstPorts);
    if (!local || !remote) { this.ctx.log('ikev1', `${d.policyKey}: selector not expressible as an IKEv1 identity`); return; }
    const plan = entryFlowPlan({ r, entry: d.entry, iface: a.iface, local, remote, peer, now: this.ctx.system.now(), policyKey: d.policyKey, scope: d.scope });
    if (typeof plan === 'string') { this.ctx.log('ikev1', plan); return; }
    this.connections.start(managedFlow(d.entry, d.policyKey, plan), peer);
  }

  /** The engine port: main mode (or aggressive) + quick mode for the flow, to `peer`. */
  private startNegotiation(conn: V1Managed, peer: string): boolean {
    const cfg = this.ctx.config();
    const plan = { ...conn.plan!, peer, startedAt: this.ctx.system.now() };
    const r = findResolved(cfg, plan.mapName, plan.seq, plan.entry?.subSeq);
    const request = r && planRequest(cfg, plan, r);
    if (!request) return false;
    this.initiate(plan, request);
    return true;
  }

  private initiate(plan: FlowPlan, request: InitiateOptions): void {
    this.plans.set(planKey(plan.peer, plan.request.localSel, plan.request.remoteSel), plan);
    this.stats.initiations++;
    this.engine.initiate(request);
    this.pump();
  }

  /**
   * Static VTIs come up by themselves and after the peer restarts: every second, a tunnel
   * without an SA pair starts main mode + quick mode (any/any) once it has been down for
   * tunnelRetryDelayMs.
   */
  private keepTunnelsUp(): void {
    if (this.stopped) return;
    const cfg = this.ctx.config();
    const vtis = new Map(ikev1Vtis(cfg).map((v) => [v.name, v]));
    const now = this.ctx.system.now();
    for (const name of this.tunnels.dueNow([...vtis.values()].map((v) => ({ name: v.name, up: this.children.tunnelUp(v.name), delayMs: tunnelRetryDelayMs(v.local!, v.peer!) })), now)) {
      const v = vtis.get(name)!;
      if (this.connections.isPending(v.policyKey)) continue;
      const start = vtiStart(cfg, v, now);
      if (typeof start === 'string') { this.ctx.log('ikev1', start); continue; }
      this.connections.track({ key: start.plan.policyKey, peers: [start.plan.peer], plan: start.plan }, start.plan.peer);
      this.initiate(start.plan, start.request);
    }
  }

  /** The peer's Virtual-Access interface (cloned at its first SA pair; routes: its proxy unless any). */
  private virtualAccessFor(plan: FlowPlan, info: IpsecSaInfo): VirtualAccess | undefined {
    const routes = info.remoteSel.prefixLen > 0 ? [`${info.remoteSel.addr}/${info.remoteSel.prefixLen}`] : [];
    const r = this.vas.open(plan.peer, plan.vtemplate!, info.local.address, plan.peer, routes, plan.vrf);
    if (typeof r === 'string') { this.ctx.log('ikev1', `no Virtual-Access interface for ${plan.peer}: ${r}`); return undefined; }
    return r;
  }

  /** A dynamic VTI session ended: its SAs, its Virtual-Access interface and its routes go. */
  private endVirtualAccess(peer: string): void {
    const va = this.vas.get(peer);
    if (!va) return;
    for (const c of this.children.values()) if (c.vti === va.name) this.dropChild(c, true);
    this.vas.close(peer);
  }

  /** Test hook and `crypto map` bring-up without traffic: the entry's first permit. */
  initiateEntry(mapName: string, seq: number): string {
    const cfg = this.ctx.config();
    for (const [iface, itf] of Object.entries(cfg.interfaces?.items ?? {})) {
      if (itf.cryptoMap !== mapName) continue;
      const e = this.dataplane?.spdFor(iface)?.entries.find((x) => x.mapName === mapName && x.seq === seq);
      const r = findResolved(cfg, mapName, seq);
      if (!e || !r) return '% no such entry';
      const ace = e.effectiveAcl.find((x) => x.action === 'permit');
      if (!ace) return '% no permit';
      const ts = aceToSelector(ace);
      const local = addrToSel(ts.src, ts.proto, ts.srcPorts);
      const remote = addrToSel(ts.dst, ts.proto, ts.dstPorts);
      if (!local || !remote) return '% selector';
      const policyKey = `${e.policyName}|${selectorKey(selsToTraffic(local, remote))}`;
      const peer = this.connections.peerFor(managedFlow(e, policyKey));
      if (!peer) return '% no peer';
      const plan = entryFlowPlan({ r, entry: e, iface, local, remote, peer, now: 0 });
      if (typeof plan === 'string') return '% transform set';
      this.connections.start(managedFlow(e, policyKey, plan), peer);
      return 'ok';
    }
    return '% map not on an interface';
  }

  /** A flow tunnel endpoint discovery found a gateway for (firmware/ike/ted-runtime.ts): main mode + quick mode to it. */
  initiateDiscovered(f: TedFlow): void {
    const local: Selector = { addr: f.local.addr, prefixLen: f.local.prefixLen, protocol: 0, port: 0 };
    const remote: Selector = { addr: f.remote.addr, prefixLen: f.remote.prefixLen, protocol: 0, port: 0 };
    const plan = entryFlowPlan({ r: f.resolved, entry: f.entry, iface: f.iface, local, remote, peer: f.responder, now: 0, dynamic: true });
    if (typeof plan === 'string') { this.ctx.log('ikev1', plan); return; }
    this.connections.start(managedFlow(f.entry, plan.policyKey, { ...plan, mapName: f.mapName, seq: f.seq }), f.responder);
  }

  // ------------------------------------------------------------------ responder

  /** Quick mode responder: the policy is firmware/ike/v1/responder.ts; the service remembers the plan. */
  private respond(q: QuickModeResponderQuery): QuickModeResponderDecision {
    const cfg = this.ctx.config();
    const a = answerQuickMode(q, {
      config: cfg, now: this.ctx.system.now(), vtis: ikev1Vtis(cfg), spdFor: (iface) => this.dataplane?.spdFor(iface),
      resolve: (m, seq, sub) => findResolved(cfg, m, seq, sub), localFor: (iface, r) => localFor(cfg, iface, r),
      log: (text, level) => this.ctx.log('ikev1', text, level),
    });
    if (a.plan) this.plans.set(planKey(q.peerAddress, q.localSel, q.remoteSel), a.plan);
    if (a.plan?.entry && a.heardFrom) this.connections.heardFrom(managedFlow(a.plan.entry, a.plan.policyKey), a.heardFrom);
    if (a.debug) this.debugLine(q.connId ?? 0, q.peerAddress, a.debug);
    return a.decision;
  }

  /** One `debug crypto isakmp` line of the service's own (policy selection). */
  private debugLine(connId: number, peer: string, text: string, error = false): void {
    this.onDebug({ subsystem: 'ISAKMP', timeMs: this.ctx.system.now(), connId, peer, text, ...(error ? { error: true } : {}) });
  }

  // ------------------------------------------------------------------ events

  private onEvent(ev: IkeV1Event): void {
    this.reportEvent(ev);
    switch (ev.type) {
      case 'phase1-up': return this.intake.markKnown(ev.sa.remote.address);
      case 'ipsec-up': return this.install(ev.sa);
      case 'ipsec-deleted': {
        const c = this.children.bySpiIn(ev.inboundSpi);
        if (c) this.dropChild(c, false);
        return;
      }
      case 'phase1-failed':
      case 'ipsec-failed': {
        // failover (phase 1): the next `set peer` for every crypto map flow waiting on this peer
        this.connections.failedWith(ev.remote.address, ev.type === 'phase1-failed', (c) => c.plan?.vti === undefined);
        return;
      }
      case 'peer-dead':
        for (const c of this.children.forPeer(ev.remote.address)) this.dropChild(c, false);
        this.endVirtualAccess(ev.remote.address);
        return;
      case 'phase1-down':
        // a dynamic VTI's session is its ISAKMP SA (an expiry is replaced by a new one)
        if (ev.reason !== 'expired') this.endVirtualAccess(ev.remote.address);
        return;
      default:
        return;
    }
  }

  /** IOS system messages for session changes (docs/system-messages.md). */
  private reportEvent(ev: IkeV1Event): void {
    if (ev.type === 'phase1-up') {
      this.report.up(ev.sa.connId, ev.sa.remote, ev.sa.peerId, { peerId: ev.sa.peerId, ...(ev.sa.profile ? { profile: ev.sa.profile } : {}) });
    } else if (ev.type === 'phase1-down' || ev.type === 'peer-dead') {
      this.report.down(ev.connId, ev.remote, ev.type === 'phase1-down');
    } else if (ev.type === 'phase1-failed') {
      // the engine's reasons for a wrong key: a HASH that does not verify, or message 5/3 that does not decrypt
      if (/authentication failed|pre-shared key mismatch/.test(ev.reason)) this.report.authFailed(ev.remote.address, ev.connId);
      this.ctx.logger('IKE').message('CRYPTO', 6, 'IKMP_MODE_FAILURE', `Processing of Main mode failed with peer at ${ev.remote.address}`, { peer: ev.remote.address, connIds: [ev.connId] });
    }
  }

  private install(info: IpsecSaInfo): void {
    const flow = planKey(info.remote.address, info.localSel, info.remoteSel);
    const plan = this.plans.get(flow);
    if (!plan || !this.dataplane) { this.ctx.log('ikev1', `IPsec SA with ${info.remote.address} has no crypto map flow: not installed`); return; }
    const b = this.bundles.match(this.ctx.config(), plan.request.transformSets.map((x) => x.name), flow, info);
    if (b === 'wait') return;
    if (b === 'none') { this.ctx.log('ikev1', 'negotiated transform matches no local transform set'); return; }
    const { set, esp, ah, primary } = b;
    const keys = (dir: 'inbound' | 'outbound'): PairKeys => ({
      ...(esp ? { espSpi: esp[dir].spi, espCipherKey: esp[dir].encKey, espAuthKey: esp[dir].authKey } : {}),
      ...(ah ? { ahSpi: ah[dir].spi, ahKey: ah[dir].authKey } : {}),
    });
    if (plan.vtemplate !== undefined) {
      const va = this.virtualAccessFor(plan, primary);
      if (!va) return;
      Object.assign(plan, { policyKey: va.policyKey, mapName: va.mapName, vti: va.name, iface: va.name });
    }
    if (plan.dynamic) {
      const d = plan.dynamic;
      const rr = reverseRouteSpecOf(d);
      const at = underTemporaryEntry(this.dataplane, { iface: plan.iface, mapName: d.mapName, seq: d.seq, policyKey: plan.policyKey, scope: plan.scope }, {
        dynamicMapName: d.dynamicMapName ?? '', dynamicSeq: d.subSeq ?? 0, transformSets: [set.name],
        ...(d.pfsGroup !== undefined ? { pfsGroup: d.pfsGroup } : {}), ...(rr ? { reverseRoute: rr } : {}),
      }, primary.remote.address, 'IKEv1');
      if (!at) { this.ctx.log('ikev1', `IPsec SA with ${primary.remote.address}: flow has no access-list form, not installed`); return; }
      Object.assign(plan, { policyKey: at.policyKey, policyName: at.policyKey.split('|')[0]!, scope: at.scope, seq: d.seq });
    }
    try {
      const now = this.ctx.system.now();
      const old = this.children.forPolicy(plan.policyKey);
      const rec = installPair(this.dataplane, plan, {
        childId: this.nextChildId++, local: primary.local.address, peer: primary.remote.address, peerPort: primary.remote.port,
        transformWords: transformWords(set), mode: primary.mode, inbound: keys('inbound'), outbound: keys('outbound'),
        lifetime: { seconds: primary.lifetimeSec, kilobytes: primary.lifetimeKb },
        ...(primary.udpEncap ? { udpEncap: { localPort: primary.local.port, remotePort: primary.remote.port } } : {}),
        ...(primary.pfsGroup !== undefined ? { pfsGroup: primary.pfsGroup } : {}),
        protocol: primary.protocol, spiIn: primary.inbound.spi, spiOut: primary.outbound.spi, flowText: flowText(primary.localSel, primary.remoteSel),
        context: { ...this.report.context(primary.connId), connIds: [primary.connId] },
      }, this.ctx.logger('CHD'), now);
      this.stats.installs++;
      this.children.add({
        ...rec, policyName: plan.policyName, scope: plan.scope, info: primary, request: plan.request, rekeyed: false,
        ...(esp && ah ? { ahInboundSpi: ah.inbound.spi } : {}),
      }, esp && ah ? [ah.inbound.spi] : []);
      this.connections.settled(plan.policyKey);
      if (plan.entry) this.connections.heardFrom(managedFlow(plan.entry, plan.policyKey), primary.remote.address);
      // a rekey: the previous pair goes a little later (packets in flight still decrypt)
      if (old.length > 0) {
        const h = setTimeout(() => { for (const c of old) if (this.children.get(c.id) === c) this.dropChild(c, true); this.pump(); }, 3000);
        h.unref();
      }
    } catch (e) {
      this.stats.installErrors++;
      this.ctx.log('ikev1', `install failed: ${(e as Error).message}`);
    }
  }

  /** Removes a child's SAs from the data plane; with `sendDelete`, tells the peer. */
  private dropChild(c: V1Child, sendDelete: boolean): void {
    this.children.remove(c);
    if (sendDelete) {
      this.engine.deleteIpsecSa(c.info.inbound.spi);
      if (c.ahInboundSpi !== undefined) this.engine.deleteIpsecSa(c.ahInboundSpi);
    }
    this.dataplane?.deleteSa(c.inboundId, 'ike');
    // the outbound bundle may already have been replaced by a rekey: only delete our own
    // (the last child of a key takes the live outbound SA along, even when it was another's:
    // after a collision the newer pair's outbound may belong to a child deleted before)
    if (this.children.forPolicy(c.policyKey).length === 0) {
      this.dataplane?.deleteSa(c.outboundId, 'ike');
      const live = this.dataplane?.sad?.outbound(c.policyKey)?.sas[0];
      if (live) this.dataplane?.deleteSa(live.id, 'ike');
    }
  }

  private onExpire(e: DataplaneExpire): void {
    if (e.childId === undefined) return;
    const c = this.children.get(e.childId);
    if (!c) return;
    if (e.hard) {
      this.dropChild(c, true);
      this.pump();
      return;
    }
    // One side rekeys (the one that negotiated the pair), so the peers do not replace each
    // other's fresh SAs; the responder's pair is replaced by the initiator's rekey or dies at
    // its hard lifetime (the next packet then starts a new negotiation).
    if (!shouldRekey({ initiator: c.info.role === 'initiator', rekeyed: c.rekeyed, createdAt: c.createdAt }, this.children.newestFor(c.policyKey))) return;
    c.rekeyed = true;
    this.stats.rekeys++;
    const { plan, request } = rekeyStart(this.ctx.config(), c, this.ctx.system.now());
    this.plans.set(planKey(plan.peer, plan.request.localSel, plan.request.remoteSel), plan);
    this.engine.initiate(request);
    this.pump();
  }

  /**
   * DPD needs to know about ESP traffic: inbound bytes count as hearing from the peer,
   * outbound bytes arm on-demand DPD (IOS default for `crypto isakmp keepalive`).
   */
  private pollTraffic(): void {
    const sad = this.dataplane?.sad;
    if (!sad) return;
    this.children.watchTraffic(sad, this.ctx.system.now(), (c, inbound, outbound) => {
      if (inbound) this.engine.notePeerTraffic(c.peer);
      if (outbound) this.engine.noteOutboundTraffic(c.peer);
    });
    this.driver.arm();
  }

  // ------------------------------------------------------------------ clear

  private clearChildren(f: ClearCryptoSaFilter): void {
    for (const c of this.children.selectedBy(f)) this.dropChild(c, true);
    this.pump();
  }

  clearIsakmp(connId?: number): number {
    const list = this.engine.listPhase1().filter((s) => connId === undefined || s.connId === connId);
    for (const s of list) this.engine.deletePhase1(s.connId);
    this.pump();
    return list.length;
  }

  clearSessions(peer?: string): void {
    for (const c of peer === undefined ? this.children.values() : this.children.forPeer(peer)) this.dropChild(c, true);
    for (const s of this.engine.listPhase1()) if (peer === undefined || s.remote.address === peer) this.engine.deletePhase1(s.connId);
    this.pump();
  }

  // ------------------------------------------------------------------ show

  isakmpSas(): IsakmpSaShow[] {
    return isakmpSaRows(this.engine.listPhase1(), this.ctx.system.now());
  }

  sessions(): CryptoSessionInfo[] {
    return ikev1Sessions(this.engine.listPhase1(), this.children.values(), this.ctx.config(), this.dataplane?.sad, this.ctx.system.now());
  }

  // ------------------------------------------------------------------ debug

  /** The engine's structured events onto the bus: cookies or SPIs become context fields. */
  private onDebug(ev: IsakmpDebugEvent): void {
    const bus = this.ctx.bus;
    if (!bus.debugOn('isakmp', ev.error ?? false)) return;
    bus.emit({
      kind: 'debug', debug: 'isakmp', error: ev.error ?? false, subsystem: 'IKE', level: 7,
      text: `ISAKMP:${formatConnPrefix(ev.connId)}:${ev.text}`,
      context: isakmpEventContext(ev),
    });
  }

  get counters(): Record<string, number> {
    return { ...this.stats };
  }
}

export type { PacketKind };
