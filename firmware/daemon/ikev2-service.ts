// The IKEv2 runtime service: one Ikev2Engine on the shared UDP 500/4500 binds of every
// interface that carries a crypto map with IKEv2 entries (`set ikev2-profile`). It
//   - maps the IOS model to the engine's config on every change (ikev2-config.ts),
//   - initiates on the data plane's acquire events (its own entries only),
//   - installs / deletes Child SAs through the data plane API (rekeys replace the outbound
//     bundle first, the old inbound SA goes when the old child is deleted: no loss),
//   - answers `show crypto ikev2 sa`, `show crypto ikev2 diagnose`, `clear crypto ikev2 sa`,
//     `debug crypto ikev2` (runtime.ikev2) and `show crypto session` (IkeSessionSource),
//   - sends Deletes for `clear crypto sa` (an IKE-stage SA clearer: runtime-view.ts).
// The engine does the protocol; this file only carries bytes, events and config.
import type { Ikev2DiagnosisShow, Ikev2RuntimeView, Ikev2SaShow } from '../cli/commands/crypto-ikev2-sa.js';
import type { Config } from '../config/model.js';
import type { CryptoSessionInfo, IkeSessionSource } from '../ike/session-info.js';
import { IkeIntake } from '../ike/intake.js';
import { formatDiagnosis, Ikev2Engine, type ChildSaInfo, type Datagram, type Ikev2Event } from '../ike/v2/index.js';
import type { PacketKey } from '../ipsec/selector.js';
import type { ProtectDecision } from '../ipsec/spd.js';
import type { DaemonService, ServiceContext } from './daemon.js';
import { ikeAuthFailureMessages } from './system-messages.js';
import { ConnectionManager, TunnelKeeper, type ClearFilter, type ManagedConnection } from '../ike/connection-manager.js';
import { ChildSaTable, VirtualAccessSessions, type ChildSaRecord, type VirtualAccess } from '../ike/child-sas.js';
import { installPair } from '../ike/child-install.js';
import type { IkeDataplanePort, PairKeys } from '../ike/dataplane-port.js';
import { IkeSessionReport } from '../ike/session-report.js';
import { underTemporaryEntry, type PairPlace } from '../ike/temporary-entry.js';
import { remotePrefixes, scopeFromPayload } from '../ike/v2/child-scope.js';
import { IkeBinds } from '../ike/ike-binds.js';
import { CryptoEngineDebug } from './crypto-engine-debug.js';
import type { ConfigIntent, IntentDelta } from './config-intent.js';
import type { EventContext, ScopedLogger } from '../lib/event-bus.js';
import { tunnelRetryDelayMs } from '../config/vti.js';
import { aceText as scopeText, lookupPsk, mapIkev2Config, wordsForNegotiated, type ConnectionMeta, type MappedIkev2Config } from './ikev2-config.js';
import type { TedFlow } from '../ike/ted-runtime.js';
import { ikev2SaRows, ikev2Sessions } from './ikev2-show.js';

/** What this service uses of the data plane service: the port both IKE versions use. */
export type Ikev2DataplaneApi = IkeDataplanePort;

export interface Ikev2ServiceOptions {
  /** Monotonic ms for the engine (default performance.now). */
  clock?: () => number;
  /** Half-open IKE SAs before cookies are required (default 50). */
  cookieThreshold?: number;
  /** Engine timer granularity (default 100 ms). */
  tickMs?: number;
}

/** A permit entry as the connection manager sees it (key: its base connection). */
interface Ikev2Managed extends ManagedConnection {
  meta: ConnectionMeta;
}

/** An installed Child SA: the shared record (traffic times on the engine clock) and the engine's view. */
interface V2Child extends ChildSaRecord {
  child: ChildSaInfo;
  meta: ConnectionMeta;
}

const IKEV2_VERSION_BYTE = 0x20;
/** a started negotiation holds further acquires for its permit entry back this long */
const ACQUIRE_HOLD_OFF_MS = 10_000;

/** An IKE_SA_INIT request (responder SPI zero, exchange 34, no response flag): a new negotiation. */
function isInitRequest(d: Uint8Array): boolean {
  for (let i = 8; i < 16; i++) if (d[i] !== 0) return false;
  return d[18] === 34 && (d[19]! & 0x20) === 0;
}

const DEBUG_LINES_KEPT = 500;

export class Ikev2Service implements DaemonService, IkeSessionSource {
  readonly name = 'ikev2';
  /** Uses the data plane's API from its start. */
  readonly after = ['dataplane'];
  engine!: Ikev2Engine;
  private ctx!: ServiceContext;
  private dp: Ikev2DataplaneApi | undefined;
  private readonly clock: () => number;
  private mapped: MappedIkev2Config = { config: { connections: [] }, meta: new Map(), listenAddresses: [], problems: [] };
  private binds!: IkeBinds;
  private readonly children = new ChildSaTable<V2Child>();
  /** Acquires, peer choice and failover per permit entry (base connection). */
  private readonly connections: ConnectionManager<Ikev2Managed>;
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  /** dynamic VTI: IKE SA -> its Virtual-Access interface */
  private readonly vas = new VirtualAccessSessions<number>(() => this.dp);
  /** static VTI connections: since when (engine clock) each has had no Child SA */
  private readonly tunnels = new TunnelKeeper();
  private lastTunnelCheck = 0;
  /** `show crypto ikev2 debug`: the last IKEv2 debug lines the bus carried. */
  private readonly debugBuf: string[] = [];
  private logger!: ScopedLogger;
  private report!: IkeSessionReport;
  /** Events for tests and the bench (bounded). */
  readonly events: Ikev2Event[] = [];
  /** IKE_SA_INIT requests: budgeted, after the sockets were read (firmware/ike/intake.ts) */
  private readonly intake = new IkeIntake<Datagram>({ handle: (d) => this.engine.receive(d) });

  constructor(private readonly opts: Ikev2ServiceOptions = {}) {
    this.clock = opts.clock ?? (() => performance.now());
    this.connections = new ConnectionManager<Ikev2Managed>(
      { version: 'IKEv2', initiate: (conn, peer) => this.startNegotiation(conn, peer) },
      { now: this.clock, holdOffMs: ACQUIRE_HOLD_OFF_MS },
    );
  }

  async start(ctx: ServiceContext): Promise<void> {
    this.ctx = ctx;
    this.logger = ctx.logger('IKE');
    this.report = new IkeSessionReport('IKEv2', this.logger, new CryptoEngineDebug(this.logger), ikeAuthFailureMessages(this.logger, ctx.system.now));
    this.unsubscribe.push(ctx.bus.subscribe((ev) => {
      if (ev.kind !== 'debug' || ev.debug !== 'ikev2') return;
      this.debugBuf.push(ev.text);
      if (this.debugBuf.length > DEBUG_LINES_KEPT) this.debugBuf.splice(0, this.debugBuf.length - DEBUG_LINES_KEPT);
    }));
    const dp = ctx.service('dataplane') as unknown as Partial<Ikev2DataplaneApi> | undefined;
    if (dp && typeof dp.installChildSa === 'function' && typeof dp.onAcquire === 'function') {
      this.dp = dp as Ikev2DataplaneApi;
    }
    this.binds = new IkeBinds({
      open: (a, port, encap) => ctx.binds.udp(a, port, encap),
      receive: (data, remote, local, port) => this.receive(data, remote, local, port),
      failed: (a, port, e) => ctx.log('ikev2', `cannot bind UDP ${a}:${port}: ${e.message}`),
    });
    this.engine = new Ikev2Engine({
      config: { ...this.mapped.config, psk: () => undefined },
      clock: this.clock,
      send: (d) => this.send(d),
      onEvent: (e) => this.onEvent(e),
      log: (level, msg, context) => this.log(level, msg, context),
    });
    if (this.dp) {
      try {
        // pipeline / SAD exist only once the data plane started
        this.unsubscribe.push(this.dp.onAcquire((a) => this.onAcquire(a)));
        this.unsubscribe.push(this.dp.onExpire((e) => this.onExpire(e)));
      } catch (e) {
        ctx.log('ikev2', `data plane events unavailable: ${(e as Error).message}`);
      }
    } else {
      ctx.log('ikev2', 'no data plane service: SAs are negotiated but not installed');
    }
    this.installRuntime(ctx);
    const tick = this.opts.tickMs ?? 100;
    this.timer = setInterval(() => { this.engine.tick(); this.watchTraffic(); this.keepTunnelsUp(); }, tick);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.intake.stop();
    for (const u of this.unsubscribe.splice(0)) u();
    await this.binds?.close();
  }

  /** The compiled intent of the configuration being applied (config-intent.ts): entries resolved once. */
  private intent: { config: Config; intent: ConfigIntent } | undefined;

  applyChanges(delta: IntentDelta): Promise<void> {
    this.intent = { config: delta.config, intent: delta.intent };
    return this.apply(delta.config);
  }

  /** Maps the model to the engine; resolves once the IKE sockets of the new addresses are open. */
  apply(config: Config): Promise<void> {
    const intent = this.intent?.config === config ? this.intent.intent : undefined;
    this.mapped = mapIkev2Config(config, {
      ...(this.opts.cookieThreshold !== undefined ? { cookieThreshold: this.opts.cookieThreshold } : {}),
      ...(intent ? { resolve: (name: string) => intent.mapSet(name) } : {}),
    });
    const mapped = this.mapped;
    this.engine.updateConfig({
      ...mapped.config,
      psk: (q) => lookupPsk(config, mapped.meta.get(q.connection)?.profile, q.remoteAddress, q.peerId),
    });
    for (const p of mapped.problems) this.log('debug', `IKE config: ${p}`);
    return this.binds.reconcile(mapped.listenAddresses);
  }

  // ---------------------------------------------------------------- sockets

  /** An IKE datagram on one of our sockets: IKEv2 only (both services see every IKE datagram). */
  private receive(data: Uint8Array, remote: { address: string; port: number }, local: { address: string }, port: number): void {
    if (data.length < 28 || (data[17]! & 0xf0) !== IKEV2_VERSION_BYTE) return; // any minor version (RFC 7296 2.5)
    const d = (): Datagram => ({ localAddress: local.address, localPort: port, remoteAddress: remote.address, remotePort: remote.port, data: new Uint8Array(data) });
    if (!isInitRequest(data)) { this.engine.receive(d()); return; }
    // under a flood, unknown sources first echo a COOKIE (a hash) before a DH is spent on them
    if (this.intake.underPressure() && this.intake.classOf(remote.address) === 'new') {
      const verdict = this.engine.challenge(d());
      if (verdict === 'challenged') return;
      this.intake.offer(remote.address, d, verdict === 'verified' ? 'known' : undefined);
    } else this.intake.offer(remote.address, d);
  }

  private send(d: Datagram): void {
    if (!this.binds.send({ address: d.localAddress, port: d.localPort }, d.data, { address: d.remoteAddress, port: d.remotePort })) {
      this.log('debug', `IKE no socket for ${d.localAddress}:${d.localPort}`);
    }
  }

  // ---------------------------------------------------------------- data plane

  private onAcquire(a: { iface: string; decision: ProtectDecision<unknown>; packet: PacketKey }): void {
    const e = a.decision.entry;
    const name = `${e.mapName}/${e.seq}/${a.decision.aceIndex}`;
    const meta = this.mapped.meta.get(name);
    if (!meta) return; // an IKEv1 entry (or not ours)
    this.initiateConnection(name, meta);
  }

  /** The manager's view of a permit entry: its base connection and its `set peer` list in order. */
  private managed(first: ConnectionMeta): Ikev2Managed {
    const peers: string[] = [];
    for (let i = 0; i < first.peerCount; i++) {
      const m = this.mapped.meta.get(i === 0 ? first.baseName : `${first.baseName}@${i}`);
      if (m) peers.push(m.peer);
    }
    return { key: first.baseName, peers, meta: first };
  }

  /**
   * Starts a Child SA for a permit entry: on an IKE SA to the peer if one is up, else a new
   * IKE SA. With several `set peer`, the peer currently chosen (the next one after a peer
   * timed out, as IOS fails over).
   */
  initiateConnection(name: string, meta?: ConnectionMeta): boolean {
    const first = meta ?? this.mapped.meta.get(name);
    if (!first) return false;
    const up = this.engine.listChildSas().some((c) => this.mapped.meta.get(c.connection)?.baseName === first.baseName);
    return this.connections.acquire(this.managed(first), up) === 'started';
  }

  /** The engine port: a Child SA for the connection on the IKE SA with `peer`, or a new IKE SA. */
  private startNegotiation(conn: Ikev2Managed, peer: string): boolean {
    const idx = conn.peers.indexOf(peer);
    const m = this.mapped.meta.get(idx <= 0 ? conn.key : `${conn.key}@${idx}`) ?? conn.meta;
    const ike = this.engine.listIkeSas().find((s) => s.state === 'established' && s.remoteAddress === m.peer && s.localAddress === m.localAddress);
    if (ike) {
      this.debugLine(`IKEv2: creating child SA for ${m.name} on IKE SA ${ike.ikeSaId}`);
      return this.engine.createChild(ike.ikeSaId, m.name);
    }
    if (this.engine.listIkeSas().some((s) => s.state === 'connecting' && s.remoteAddress === m.peer && s.initiator)) return false;
    this.debugLine(`IKEv2: initiating to ${m.peer} for ${m.name} (traffic matched ${m.aclName})`);
    try {
      this.engine.initiate(m.name);
      return true;
    } catch (err) {
      this.log('warn', `IKE cannot initiate ${m.name}: ${(err as Error).message}`);
      // held off like a started negotiation, so a connection that cannot start does not log per packet
      this.connections.track(conn, peer);
      return false;
    }
  }

  /**
   * A flow tunnel endpoint discovery found a gateway for (firmware/ike/ted-runtime.ts): the
   * dynamic entry's template connection toward that gateway for the combined proxies, as a
   * Child SA on an IKE SA already up with it, else IKE_SA_INIT + IKE_AUTH. The Child SA goes
   * under a temporary entry like one the template accepted as responder.
   */
  initiateDiscovered(f: TedFlow): void {
    const m = [...this.mapped.meta.values()].find((x) => x.dynamic && x.iface === f.iface && x.mapName === f.mapName && x.seq === f.seq
      && x.dynamic.dynamicSeq === f.subSeq && x.aceIndex === f.aceIndex && x.peerIndex === 0);
    if (!m) { this.log('warn', `IKE TED: no IKEv2 template for crypto map ${f.mapName} ${f.seq} entry ${f.aceIndex}`); return; }
    const discovered = { remoteAddress: f.responder, localSelectors: [{ cidr: `${f.local.addr}/${f.local.prefixLen}` }], remoteSelectors: [{ cidr: `${f.remote.addr}/${f.remote.prefixLen}` }] };
    const ikes = this.engine.listIkeSas().filter((s) => s.remoteAddress === f.responder && s.localAddress === m.localAddress);
    const up = ikes.find((s) => s.state === 'established');
    if (up) {
      this.debugLine(`IKEv2: TED: creating child SA for ${m.name} on IKE SA ${up.ikeSaId} with ${f.responder}`);
      this.engine.createChild(up.ikeSaId, m.name, discovered);
      return;
    }
    if (ikes.some((s) => s.state === 'connecting' && s.initiator)) return;
    this.debugLine(`IKEv2: TED: initiating to ${f.responder} for ${m.name}`);
    try {
      this.engine.initiate(m.name, { discovered });
    } catch (err) {
      this.log('warn', `IKE TED: cannot initiate ${m.name} to ${f.responder}: ${(err as Error).message}`);
    }
  }

  /**
   * Static VTIs come up by themselves and after the peer restarts: every second, a tunnel
   * without a Child SA is initiated once it has been down for tunnelRetryDelayMs.
   */
  private keepTunnelsUp(): void {
    const now = this.clock();
    if (now - this.lastTunnelCheck < 1000) return;
    this.lastTunnelCheck = now;
    const withChild = new Set<string>();
    for (const rec of this.children.values()) if (rec.meta.vti !== undefined) withChild.add(rec.meta.name);
    const vtis = [...this.mapped.meta.values()].filter((m) => m.vti !== undefined);
    const due = this.tunnels.dueNow(vtis.map((m) => ({ name: m.name, up: withChild.has(m.name), delayMs: tunnelRetryDelayMs(m.localAddress, m.peer) })), now);
    for (const name of due) this.initiateConnection(name);
  }


  private clearPending(connection: string): void {
    const m = this.mapped.meta.get(connection);
    this.connections.settled(m?.baseName ?? connection);
  }

  private onExpire(e: { hard: boolean; direction: 'inbound' | 'outbound'; childId: number | undefined }): void {
    if (e.childId === undefined || !this.children.get(e.childId)) return;
    if (!e.hard) this.engine.rekeyChild(e.childId); // volume (kilobytes) soft limit, or time if first
  }

  private install(child: ChildSaInfo): void {
    const meta = this.mapped.meta.get(child.connection);
    if (!meta) {
      this.log('warn', `IKE child ${child.childId}: connection ${child.connection} no longer configured`);
      return;
    }
    if (!this.dp) return;
    const words = wordsForNegotiated(child.encryption, child.integrity);
    if (!words) {
      this.log('error', `IKE child ${child.childId}: cannot install ${child.encryption}`);
      return;
    }
    const keys = (k: ChildSaInfo['keysIn'], spi: number): PairKeys => ({ espSpi: spi, espCipherKey: k.encr, ...(k.integ.length > 0 ? { espAuthKey: k.integ } : {}) });
    let at: PairPlace & { vti?: string } = {
      iface: meta.iface, mapName: meta.mapName, seq: meta.seq, policyKey: meta.policyKey,
      scope: child.tsLocal[0] && child.tsRemote[0] ? scopeFromPayload(child.tsLocal[0], child.tsRemote[0]) : meta.scope,
      ...(meta.vti !== undefined ? { vti: meta.vti } : {}),
    };
    let flowText = meta.aceText;
    if (meta.dynamic) {
      const d = meta.dynamic;
      const temp = underTemporaryEntry(this.dp, at, d, child.remoteAddress, 'IKEv2');
      if (!temp) {
        this.log('error', `IKE child ${child.childId}: negotiated selectors have no access-list form; deleting it`);
        this.engine.deleteChild(child.childId);
        return;
      }
      at = temp;
      flowText = scopeText(at.scope);
      this.debugLine(`IKEv2: child ${child.childId} from ${child.remoteAddress} accepted by dynamic map ${d.dynamicMapName} ${d.dynamicSeq} (crypto map ${meta.mapName} ${meta.seq}): temporary entry`);
    }
    if (meta.vtemplate !== undefined) {
      const va = this.virtualAccessFor(child, meta.vtemplate, meta.ivrf);
      if (!va) return;
      at = { ...at, policyKey: va.policyKey, mapName: va.mapName, iface: va.name, vti: va.name };
    }
    try {
      const rec = installPair(this.dp, at, {
        childId: child.childId, local: child.localAddress, peer: child.remoteAddress, peerPort: child.remotePort, transformWords: words, mode: child.mode,
        inbound: keys(child.keysIn, child.spiIn), outbound: keys(child.keysOut, child.spiOut), esn: child.esn, replayWindow: meta.replayWindow,
        // the engine rekeys before this and deletes at it; the data plane enforces it too
        lifetime: { seconds: child.lifetimeSec + 5, ...(child.lifetimeKb ? { kilobytes: child.lifetimeKb } : {}) },
        ...(child.udpEncap ? { udpEncap: { localPort: child.localPort, remotePort: child.remotePort } } : {}),
        ...(child.dhGroup > 0 ? { pfsGroup: child.dhGroup } : {}),
        protocol: 'esp', spiIn: child.spiIn, spiOut: child.spiOut, flowText, context: { connIds: [child.ikeSaId] },
      }, this.logger, this.clock());
      this.children.add({ ...rec, child, meta });
      this.debugLine(`IKEv2: installed child ${child.childId} ${words.join(' ')} in ${child.spiIn.toString(16)} out ${child.spiOut.toString(16)}${child.udpEncap ? ' (UDP-encapsulated)' : ''}`);
    } catch (err) {
      this.log('error', `IKE child ${child.childId}: data plane refused the SAs: ${(err as Error).message}`);
    }
  }

  /** The session's Virtual-Access interface, cloned at its first Child SA (routes: the peer's proxies). */
  private virtualAccessFor(child: ChildSaInfo, template: number, ivrf: string | undefined): VirtualAccess | undefined {
    const have = this.vas.get(child.ikeSaId);
    if (have) return have;
    const routes = remotePrefixes(child.tsRemote);
    const r = this.vas.open(child.ikeSaId, template, child.localAddress, child.remoteAddress, routes, ivrf);
    if (typeof r === 'string') { this.log('error', `IKE child ${child.childId}: no Virtual-Access interface: ${r}`); return undefined; }
    this.debugLine(`IKEv2: ${r.name} cloned from Virtual-Template${template} for ${child.remoteAddress}${routes.length ? ` (routes ${routes.join(', ')})` : ''}`);
    return r;
  }

  /**
   * ESP traffic and DPD (called with every engine tick): inbound packets on a child prove the
   * peer alive (the engine's periodic DPD stays quiet while they flow); with `dpd ... on-demand`
   * (IOS's default mode) a liveness check goes out when we sent traffic but heard nothing for
   * the DPD interval.
   */
  watchTraffic(): void {
    const sad = this.dp?.sad;
    if (!sad || this.children.size === 0) return;
    const now = this.clock();
    let ikeOf: Map<number, number> | undefined;
    this.children.watchTraffic(sad, now, (rec, inbound) => {
      if (inbound) this.engine.noteChildTraffic(rec.id);
      const dpd = this.mapped.config.connections.find((c) => c.name === rec.child.connection)?.dpd;
      if (dpd?.mode !== 'on-demand') return;
      if (rec.lastOutboundMs > rec.lastInboundMs && now - rec.lastInboundMs >= dpd.intervalSec * 1000) {
        ikeOf ??= new Map(this.engine.listChildSas().map((c) => [c.childId, c.ikeSaId]));
        const ike = ikeOf.get(rec.id);
        if (ike !== undefined && this.engine.checkLiveness(ike)) {
          this.debugLine(`IKEv2: on-demand DPD: traffic sent to ${rec.peer} without reply for ${dpd.intervalSec} s, checking liveness`);
          rec.lastInboundMs = now; // one check per interval
        }
      }
    });
  }

  private uninstall(childId: number, reason: string): void {
    const rec = this.children.get(childId);
    if (!rec) return;
    this.children.remove(rec);
    if (!this.dp) return;
    this.dp.deleteSa(rec.inboundId, reason);
    this.dp.deleteSa(rec.outboundId, reason); // no-op when a rekey already replaced it
  }

  private onEvent(e: Ikev2Event): void {
    this.events.push(e);
    if (this.events.length > 200) this.events.splice(0, this.events.length - 200);
    switch (e.type) {
      case 'child-up':
        this.clearPending(e.child.connection);
        this.install(e.child);
        break;
      case 'child-down':
        this.uninstall(e.childId, e.reason);
        this.debugLine(`IKEv2: child ${e.childId} down (${e.reason})`);
        break;
      case 'ike-up':
        this.intake.markKnown(e.sa.remoteAddress);
        this.report.up(e.sa.ikeSaId, { address: e.sa.remoteAddress, port: e.sa.remotePort });
        this.debugLine(`IKEv2: IKE SA ${e.sa.ikeSaId} with ${e.sa.remoteAddress}:${e.sa.remotePort} up (${e.sa.encryption} ${e.sa.prf} group ${e.sa.dhGroup})`);
        break;
      case 'ike-down': {
        this.clearPending(e.connection);
        this.vas.close(e.ikeSaId);
        this.report.down(e.ikeSaId);
        this.debugLine(`IKEv2: IKE SA ${e.ikeSaId} down (${e.reason})`);
        break;
      }
      case 'ike-rekeyed': {
        this.debugLine(`IKEv2: IKE SA ${e.oldIkeSaId} rekeyed into ${e.newIkeSaId}`);
        // the children (and a dynamic VTI's interface) move to the new IKE SA
        this.vas.move(e.oldIkeSaId, e.newIkeSaId);
        break;
      }
      case 'negotiation-failed': {
        this.clearPending(e.connection);
        const m = this.mapped.meta.get(e.connection);
        const base = m && this.mapped.meta.get(m.baseName);
        if (e.diagnosis.kind === 'TIMEOUT' && m && base && m.peerCount > 1) {
          // the next acquire goes to the next peer (as IOS fails over)
          const conn = this.managed(base);
          const next = this.connections.failed(conn, m.peer);
          this.debugLine(`IKEv2: peer ${m.peer} did not answer; next attempt goes to peer #${conn.peers.indexOf(next ?? '') + 1}`);
        }
        if (e.diagnosis.kind === 'AUTHENTICATION_FAILED' && e.diagnosis.reason === 'auth-mismatch' && this.ctx) this.report.authFailed(e.diagnosis.remoteAddress, e.ikeSaId);
        for (const l of formatDiagnosis(e.diagnosis)) this.debugLine(`IKEv2-ERROR: ${l}`);
        this.ctx?.log('ikev2', `negotiation with ${e.diagnosis.remoteAddress} failed: ${e.diagnosis.kind}`);
        break;
      }
    }
  }

  // ---------------------------------------------------------------- logs

  /**
   * Engine logs: errors are system messages (console); info and warnings trace (daemon
   * stderr with RAMPART_DEBUG); every level is a `debug crypto ikev2` line (warnings and
   * errors also for `debug crypto ikev2 error`), with the SA's context.
   */
  private log(level: string, msg: string, context: EventContext = {}): void {
    if (level === 'error') this.ctx?.log('ikev2', msg, 3);
    else if (level !== 'debug') this.logger?.trace(`ikev2: ${msg}`, level === 'warn' ? 4 : 6);
    this.debugLine(`${level}: ${msg}`, context, level === 'warn' || level === 'error');
  }

  private debugLine(text: string, context: EventContext = {}, error = false): void {
    this.logger?.debug('ikev2', text, { error, context });
  }

  // ---------------------------------------------------------------- show / clear

  /** `clear crypto ikev2 sa [remote A]`, `clear crypto session [remote A]`: Deletes to the peer(s). */
  clearSas(peer?: string): number {
    let n = 0;
    for (const s of this.engine.listIkeSas()) {
      if (peer !== undefined && s.remoteAddress !== peer) continue;
      if (this.engine.deleteIke(s.ikeSaId)) n++;
    }
    this.connections.clearPending(peer);
    return n;
  }

  /** `clear crypto sa [peer A | map M]`: Delete (child) to the peer, then the data plane removes them. */
  private clearChildren(f: ClearFilter): void {
    for (const rec of this.children.selectedBy(f)) this.engine.deleteChild(rec.id);
  }

  saView(): Ikev2SaShow[] {
    return ikev2SaRows(this.engine.listIkeSas(), this.mapped, this.clock());
  }

  diagnosesView(peer?: string): Ikev2DiagnosisShow[] {
    const wallOffset = Date.now() - this.clock();
    return this.engine.diagnoses(peer).map((d) => ({
      atMs: d.atMs + wallOffset, kind: d.kind, role: d.role, peer: d.remoteAddress, lines: formatDiagnosis(d), record: d,
    }));
  }

  sessions(): CryptoSessionInfo[] {
    return ikev2Sessions(this.engine.listIkeSas(), this.mapped, this.children, (id) => this.vas.get(id)?.name, this.dp?.sad, this.clock());
  }

  clearSessions(peer?: string): void {
    this.clearSas(peer);
  }

  private installRuntime(ctx: ServiceContext): void {
    const view: Ikev2RuntimeView = {
      sas: () => this.saView(),
      diagnoses: (peer) => this.diagnosesView(peer),
      clearSas: (peer) => this.clearSas(peer),
      // the flag itself is the box's debug registry (`debug crypto ikev2`); off empties the ring
      setDebug: (on) => { if (!on) this.debugBuf.length = 0; },
      debugOn: () => ctx.bus.debugOn('ikev2'),
      debugLines: () => [...this.debugBuf],
      counters: () => ({ ...this.engine.counters }),
      intakeCounters: () => ({ ...this.intake.counters }),
      clearIntakeCounters: () => this.intake.clearCounters(),
      configProblems: () => [...this.mapped.problems],
    };
    this.unsubscribe.push(
      ctx.runtime.provide('ikev2', view, this.name),
      ctx.runtime.sessionSources.add(this),
      // `clear crypto sa`: tell the peer first (Delete), before the data plane removes the SAs
      ctx.runtime.saClearers.add({ name: this.name, stage: 'ike', clear: (f) => this.clearChildren(f) }),
    );
  }
}
