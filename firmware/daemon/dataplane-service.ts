// The data-plane runtime service. On every configuration change it:
//   1. programs the sim board's Linux interfaces (addresses, up/down) and static routes,
//   2. compiles one SPD per interface crypto map set (resolveCryptoMapSet),
//   3. installs the SAs of `ipsec-manual` entries (reinstalled when the entry changes),
//   4. installs the steering policy (userspace backend: Linux policy routing).
// It picks the backend: xfrm when the kernel takes ESP SAs (detect.ts), else userspace;
// on this kernel (no ESP) the userspace pipeline carries the traffic. Runtime state for
// `show crypto ipsec sa` / `show crypto engine` / `clear crypto sa` goes to ctx.runtime.
// IKE uses the typed API below (installChildSa, deleteSa, onAcquire, onExpire): see
// docs/dataplane-api.md.

import { boardDrivers, type BoardDrivers } from '../../board/drivers.js';
import type {
  ClearCryptoSaFilter, CryptoEngineShow, IpsecSaShowFlow, IpsecSaShowInterface, IpsecSaShowSa,
} from '../cli/commands/crypto-ipsec-sa.js';
import { aclRules } from '../config/acl.js';
import type { ManualDirectionKeys, ResolvedMapEntry } from '../config/crypto-map.js';
import { transformWords } from '../config/crypto-ipsec.js';
import type { Config } from '../config/model.js';
import { Pipeline, type MapEntryData, type PipelineAcquire, type PipelineIo } from '../dataplane/pipeline.js';
import { formatAclEntry, type AclEntry } from '../ipsec/acl-classifier.js';
import { IpsecSa, type IpsecSaConfig } from '../ipsec/ipsec-sa.js';
import { Sad, type SaProto, type SecurityAssociation, type SaSpec, type SadEvent } from '../ipsec/sad.js';
import {
  addrSetBounds, addrSetToPrefix, formatIp, IPPROTO_AH, IPPROTO_ESP, IPPROTO_IPCOMP, parseIp, selectorContains, selectorKey, formatIpValue,
  type AddrSet, type IpAddr, type TrafficSelector,
} from '../ipsec/selector.js';
import { aceToSelector, compileSpd, type Spd, type SpdMapEntryInput } from '../ipsec/spd.js';
import { ahParams, espParams, parseTransformSet, type TransformSet as ParsedTransformSet } from '../ipsec/transform.js';
import { detectKernelIpsec, type KernelIpsecDetection } from '../kernel/detect.js';
import type {
  EncryptionTransform, IntegrityTransform, KernelIpsec, PolicySpec, SaSpec as KernelSaSpec,
  TrafficSelector as KernelSelector,
} from '../kernel/kernel-ipsec.js';
import { openXfrmBackend } from '../kernel/xfrm-backend.js';
import { UserspaceBackend, type InterfacePolicy } from '../kernel/userspace-backend.js';
import { routeArgv, type CommandRunner, type HostNetwork, type RouteChange, type RouteSpec } from '../kernel/host-network.js';
import type { CryptoEngine } from '../lib/crypto-engine.js';
import type { DaemonService, ServiceContext } from './daemon.js';
import { packetErrorMessages } from './system-messages.js';
import { CryptoEngineDebug, type EngineSa } from './crypto-engine-debug.js';
import type { SharedBind } from '../dataplane/bind-registry.js';
import type { Endpoint } from '../dataplane/packet-io.js';
import { UdpGsoBind } from '../dataplane/udp-gso-bind.js';
import { parseIpv4 } from '../lib/ip.js';
import { tunnelMapTag, VtiRuntime, type TunnelTeardown } from './vti-runtime.js';
import { tunnelIfId, virtualTemplate } from '../config/vti.js';
import { VrfTables } from '../kernel/vrf-tables.js';
import { interfacesUsingCryptoMap } from '../config/interface.js';
import { vrfInputs } from './vrf-routing.js';
import { TemporaryEntries, type TemporaryEntry, type TemporaryEntrySpec } from './temporary-entries.js';
import { wantedRriRoutes, type RriRoute } from './reverse-route.js';
import { LoopbackAddresses } from './loopback-addresses.js';
import { withdrawRoutesOnLinkDown } from './link-failover.js';
import { entryLastPriority, packetKeyFromAcquire, scopeToKernelSelector, trapPolicies, XfrmTraps } from './xfrm-traps.js';
import { XfrmCounterSync } from './xfrm-counters.js';
import { IntentCompiler, type ConfigIntent, type IntentDelta, type MapEntryIntent } from './config-intent.js';

/** Linux route protocol number marking RRI routes (found and flushed by it). */
export const RRI_ROUTE_PROTO = 186;

/** A child SA pair (or one direction) IKE asks to install. Keys never logged. */
export interface ChildSaInstall {
  /** Crypto map entry (`map/seq`) or VTI name the SAs belong to. */
  mapName: string;
  mapSeq: number;
  /** The SPD policy key from the acquire (or from `policyKeyFor`). */
  policyKey: string;
  /** Scope local -> remote (narrowed selectors). */
  scope: TrafficSelector;
  local: string;
  peer: string;
  /** Both directions share one transform set and mode. */
  transformWords: readonly string[];
  mode: 'tunnel' | 'transport';
  inbound: SaKeys;
  outbound: SaKeys;
  esn?: boolean;
  replayWindow?: number;
  lifetime?: { seconds?: number; kilobytes?: number };
  udpEncap?: { localPort: number; remotePort: number };
  childId?: number;
  /** ipsec-manual SAs (shown without lifetimes, reinstalled by clear crypto sa). */
  manual?: boolean;
  /** PFS (DH) group the keys were made with, for `show crypto ipsec sa` (undefined: none). */
  pfsGroup?: number;
  /** A tunnel interface's SA pair (`Tunnel0`): decrypted packets arrive on that interface. */
  iface?: string;
}

/** Keys of one direction: ESP cipher key (key || salt for GCM) and auth key, AH key, CPI. */
export interface SaKeys {
  espSpi?: number;
  espCipherKey?: Uint8Array;
  espAuthKey?: Uint8Array;
  ahSpi?: number;
  ahKey?: Uint8Array;
  cpi?: number;
}

export interface DataplaneExpire {
  hard: boolean;
  cause: 'time' | 'bytes';
  direction: 'inbound' | 'outbound';
  spi: number;
  proto: SaProto;
  childId: number | undefined;
  mapName: string | undefined;
  mapSeq: number | undefined;
}

function hexBytes(hex: string | undefined): Uint8Array {
  return hex ? Uint8Array.from(Buffer.from(hex, 'hex')) : new Uint8Array(0);
}

function maskText(bits: number): string {
  const m = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return `${m >>> 24}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}`;
}

function maskLen(mask: string): number {
  return mask.split('.').reduce((n, o) => n + (Number(o).toString(2).match(/1/g)?.length ?? 0), 0);
}

/**
 * A selector side as IOS's `addr/mask` ident. IKEv2 traffic selectors arrive as address
 * ranges: a range that is one prefix shows as that prefix (10.1.0.0-10.1.0.255 is
 * 10.1.0.0/255.255.255.0); any other range shows its first address as a host.
 */
export function addrIdent(s: AddrSet): { addr: string; mask: string } {
  const m0 = s.kind === 'mask' ? s : addrSetToPrefix(s);
  if (m0) {
    const all = (1n << 32n) - 1n;
    const m = Number(all & ~m0.wildcard);
    return { addr: formatIpValue(m0.family, m0.addr), mask: `${m >>> 24}.${(m >>> 16) & 255}.${(m >>> 8) & 255}.${m & 255}` };
  }
  return { addr: formatIpValue(s.family, addrSetBounds(s)[0]), mask: '255.255.255.255' };
}

interface ManualState { sig: string; ids: number[]; error?: string }

interface SaShowExtras { pfsGroup: number | undefined; peerPort: number }

/**
 * The largest inner packet that fits `pathMtu` once encapsulated (IOS's `plaintext mtu`):
 * outer IPv4 header in tunnel mode, UDP header when encapsulated, ESP header, IV, padding
 * to the cipher block with the 2-byte trailer, ICV; AH adds its header and ICV.
 */
export function plaintextMtu(transformWords: readonly string[], mode: 'tunnel' | 'transport', udpEncap: boolean, pathMtu: number): number {
  // one parse per transform/encapsulation, not one per flow (show with 1,000 SAs)
  const key = `${transformWords.join(' ')}|${mode}|${udpEncap}|${pathMtu}`;
  let v = plaintextMtuCache.get(key);
  if (v === undefined) {
    v = computePlaintextMtu(transformWords, mode, udpEncap, pathMtu);
    if (plaintextMtuCache.size > 256) plaintextMtuCache.clear();
    plaintextMtuCache.set(key, v);
  }
  return v;
}

const plaintextMtuCache = new Map<string, number>();

function computePlaintextMtu(transformWords: readonly string[], mode: 'tunnel' | 'transport', udpEncap: boolean, pathMtu: number): number {
  let ts: ParsedTransformSet;
  try { ts = parseTransformSet(transformWords); } catch { return pathMtu; }
  let room = pathMtu - (mode === 'tunnel' ? 20 : 0) - (udpEncap ? 8 : 0);
  if (ts.ah) room -= 12 + ts.ah.icvLength;
  if (!ts.espCipher) return Math.max(0, room);
  const c = ts.espCipher;
  const icv = c.combined ? c.icvLength : (ts.espIntegrity?.icvLength ?? 0);
  room -= 8 + c.ivLength + icv;
  const block = Math.max(4, c.blockSize);
  return Math.max(0, Math.floor(room / block) * block - 2);
}

/** Rampart's `sibling_flags` word (docs/show-output.md): what an operator asks of an SA. */
export function siblingFlags(sa: { usable: boolean; mode: string; direction: string }, udpEncap: boolean, esn: boolean): number {
  return ((sa.usable ? 0x80000000 : 0) | (sa.mode === 'tunnel' ? 0x40 : 0) | (udpEncap ? 0x8 : 0)
    | (esn ? 0x4 : 0) | (sa.direction === 'inbound' ? 0x2 : 0)) >>> 0;
}

/**
 * One child SA pair for the kernel (XFRM backend): the inbound and outbound ESP/AH SAs
 * and the out/in/fwd policies whose templates carry `reqid` (pure: tested without a kernel).
 */
export function childSaToKernel(spec: ChildSaInstall, reqid: number, priority: number): { sas: KernelSaSpec[]; policies: PolicySpec[] } {
  const ts = parseTransformSet(spec.transformWords);
  const sas: KernelSaSpec[] = [];
  const lifetime = {
    ...(spec.lifetime?.seconds !== undefined ? { softSec: Math.floor(spec.lifetime.seconds * 0.9), hardSec: spec.lifetime.seconds } : {}),
    ...(spec.lifetime?.kilobytes !== undefined ? { softBytes: BigInt(spec.lifetime.kilobytes) * 1024n * 9n / 10n, hardBytes: BigInt(spec.lifetime.kilobytes) * 1024n } : {}),
  };
  for (const [dir, k] of [['in', spec.inbound], ['out', spec.outbound]] as const) {
    const src = dir === 'in' ? spec.peer : spec.local;
    const dst = dir === 'in' ? spec.local : spec.peer;
    const base = { src, dst, mode: spec.mode, reqid, direction: dir, replayWindow: dir === 'in' ? (spec.replayWindow ?? 64) : 0, esn: spec.esn ?? false, lifetime } as const;
    if (ts.espCipher && k.espSpi !== undefined) {
      const sa: KernelSaSpec = {
        ...base, spi: k.espSpi, protocol: 'esp',
        encryption: { transform: ts.espCipher.name as EncryptionTransform, key: k.espCipherKey ?? new Uint8Array(0) },
      };
      if (ts.espIntegrity && k.espAuthKey) sa.integrity = { transform: ts.espIntegrity.name as IntegrityTransform, key: k.espAuthKey };
      if (spec.udpEncap) sa.udpEncap = dir === 'out' ? { srcPort: spec.udpEncap.localPort, dstPort: spec.udpEncap.remotePort } : { srcPort: spec.udpEncap.remotePort, dstPort: spec.udpEncap.localPort };
      sas.push(sa);
    }
    if (ts.ah && k.ahSpi !== undefined && k.ahKey) sas.push({ ...base, spi: k.ahSpi, protocol: 'ah', integrity: { transform: ts.ah.name as IntegrityTransform, key: k.ahKey } });
  }
  const out = scopeToKernelSelector(spec.scope);
  const inSel: KernelSelector = { ...out, src: out.dst, dst: out.src };
  if (out.srcPort !== undefined) inSel.dstPort = out.srcPort; else delete inSel.dstPort;
  if (out.dstPort !== undefined) inSel.srcPort = out.dstPort; else delete inSel.srcPort;
  const protos = [...(ts.espCipher ? ['esp' as const] : []), ...(ts.ah ? ['ah' as const] : [])];
  const tmpl = (src: string, dst: string) => protos.map((protocol, i) => (i === 0 && spec.mode === 'tunnel'
    ? { protocol, mode: spec.mode, reqid, src, dst }
    : { protocol, mode: 'transport' as const, reqid }));
  const policies: PolicySpec[] = [
    { selector: out, direction: 'out', action: 'protect', priority, templates: tmpl(spec.local, spec.peer), replace: true },
    { selector: inSel, direction: 'in', action: 'protect', priority, templates: tmpl(spec.peer, spec.local), replace: true },
    { selector: inSel, direction: 'fwd', action: 'protect', priority, templates: tmpl(spec.peer, spec.local), replace: true },
  ];
  // a tunnel interface's pair belongs to its xfrm interface (if_id): routing into that
  // interface, not the any/any selector, decides what is encrypted
  const ifId = spec.iface !== undefined ? tunnelIfId(spec.iface) : undefined;
  if (ifId !== undefined) {
    for (const sa of sas) sa.ifId = ifId;
    for (const p of policies) p.ifId = ifId;
  }
  return { sas, policies };
}

export class DataplaneService implements DaemonService {
  readonly name = 'dataplane';
  /** The board's crypto engines in preference order (board/drivers.ts); the first carries the SAs. */
  engines: CryptoEngine[];
  /** The host-network port (board/drivers.ts): addresses, link state and routes of the box's Linux. */
  network!: HostNetwork;
  sad!: Sad<IpsecSa>;
  pipeline!: Pipeline;
  backend: UserspaceBackend | undefined;
  /** The kernel's XFRM, when detect.ts found ESP: SAs and policies go there instead. */
  kernel: KernelIpsec | undefined;
  private readonly kernelReqids = new Map<string, number>();
  private readonly kernelSas = new Map<number, KernelSaSpec[]>();
  /** XFRM backend: the outbound policies whose packets make the kernel acquire. */
  private traps: XfrmTraps | undefined;
  /** XFRM backend: the kernel's SA counters copied into the SAD and show counters. */
  private counterSync: XfrmCounterSync | undefined;
  private counterTimer: NodeJS.Timeout | undefined;
  backendError: string | undefined;
  detection: KernelIpsecDetection | undefined;
  private ctx!: ServiceContext;
  private engineDebug!: CryptoEngineDebug;
  /** Both SPIs of each negotiated flow, so `debug crypto condition spi` matches either direction's lines. */
  private readonly flowSpis = new WeakMap<object, readonly number[]>();
  private now: () => number = Date.now;
  private spds = new Map<string, { spd: Spd<MapEntryData>; mapName: string; local: string | undefined }>();
  /** Configured SPD inputs per interface (temporary entries are added at compile time). */
  private baseInputs = new Map<string, { inputs: SpdMapEntryInput<MapEntryData>[]; mapName: string; local: string | undefined }>();
  /** Temporary crypto map entries made by dynamic map negotiations. */
  readonly temporary = new TemporaryEntries();
  private tempCheckQueued = false;
  /** RRI routes wanted now (show ip route) and installed in Linux (key -> argv). */
  private rriRoutes: RriRoute[] = [];
  /** Loopback interfaces' addresses on `lo` (crypto map local-address Loopback0). */
  private loopbacks: LoopbackAddresses | undefined;
  /** ignore_routes_with_linkdown set (tried once per daemon). */
  private linkDownKnobTried = false;
  private readonly rriInstalled = new Map<string, RouteSpec>();
  private rriFlushed = false;
  private manual = new Map<string, ManualState>();
  private ifState = new Map<string, string>();
  private routes = new Map<string, RouteSpec>();
  private lastConfig: Config | undefined;
  private intent: ConfigIntent | undefined;
  /** For callers of apply(config) (tests driving the service without a daemon). */
  private readonly ownCompiler = new IntentCompiler();
  /** SPD input per crypto map entry item, rebuilt only when the item's content changes. */
  private readonly inputCache = new Map<string, { fingerprint: string; input: SpdMapEntryInput<MapEntryData> | undefined }>();
  /** UDP 4500 binds (shared with IKE through ctx.binds), one per crypto-map local address. */
  private readonly udpBinds = new Map<string, Promise<SharedBind | undefined>>();
  private readonly expireListeners = new Set<(e: DataplaneExpire) => void>();
  /** Registrations with the runtime view, taken back at stop. */
  private readonly unregister: Array<() => void> = [];
  private nextConnId = 2001;
  private readonly connIds = new WeakMap<object, number>();
  /** What `show crypto ipsec sa` prints about an SA that the SAD does not keep. */
  private readonly showExtras = new WeakMap<object, SaShowExtras>();
  /** VRFs as policy-routing tables (userspace backend: this kernel has no vrf devices). */
  private vrfTables: VrfTables | undefined;
  /** Tunnel interfaces (static VTIs): devices and line protocol. */
  readonly tunnels = new VtiRuntime({
    sad: () => this.sad,
    devices: () => this.backend?.tunnels,
    log: (t) => this.ctx?.log('dataplane', t),
    vrfTable: (vrf) => this.vrfTables?.tableOf(vrf),
    lineProtocolMessage: (name, up) => this.ctx?.logger('NET').message('LINEPROTO', 5, 'UPDOWN', `Line protocol on Interface ${name}, changed state to ${up ? 'up' : 'down'}`),
  });

  /**
   * `drivers`: what the board picked (services.ts passes boardDrivers(board)); without it
   * the service asks the board module for the started box's board.
   * Tests: `userspace: false` opens no TUN/socket, `detect: false` skips the kernel probe,
   * `io` replaces the backend's packet I/O (two services wired back to back in-process),
   * `run` replaces the commands of the board's host network.
   */
  constructor(opts: { drivers?: BoardDrivers; run?: CommandRunner; userspace?: boolean; detect?: boolean; io?: PipelineIo } = {}) {
    this.drivers = opts.drivers;
    this.engines = opts.drivers?.engines ?? [];
    this.runOverride = opts.run;
    this.wantUserspace = opts.userspace ?? true;
    this.detectOption = opts.detect;
    this.testIo = opts.io;
  }

  private drivers: BoardDrivers | undefined;
  private readonly runOverride: CommandRunner | undefined;
  private readonly wantUserspace: boolean;
  private readonly detectOption: boolean | undefined;
  private readonly testIo: PipelineIo | undefined;

  /** The engine new SAs are keyed on: the board's first. */
  get engine(): CryptoEngine {
    if (this.engines.length === 0) throw new Error('dataplane: not started (no crypto engine yet)');
    return this.engines[0]!;
  }

  async start(ctx: ServiceContext): Promise<void> {
    this.ctx = ctx;
    this.now = ctx.system.now;
    const drivers = this.drivers ?? boardDrivers(ctx.board, this.runOverride ? { run: this.runOverride } : {});
    this.drivers = drivers;
    if (this.engines.length === 0) this.engines = drivers.engines;
    this.network = drivers.network;
    this.loopbacks = new LoopbackAddresses({ net: this.network, log: (t) => ctx.log('dataplane', t) });
    for (const p of drivers.problems) ctx.log('dataplane', p.replace(/^% /, ''), 4);
    const wantDetect = this.detectOption ?? drivers.kernelBackend === 'detect';
    this.sad = new Sad<IpsecSa>({
      now: () => this.now(),
      timer: { set: (fn, ms) => { const h = setTimeout(fn, ms); h.unref(); return h; }, clear: (h) => clearTimeout(h as NodeJS.Timeout) },
    });
    this.sad.on((e) => this.onSadEvent(e));
    this.engineDebug = new CryptoEngineDebug(ctx.logger('ESP'));
    this.sad.on((e) => { if (this.engineDebug.debugging()) this.engineDebug.ended(this.engineSa(e.sa), e.type === 'deleted' ? `delete IPsec SA (${e.reason})` : `IPsec SA ${e.type} lifetime expired (${e.cause})`); });
    const packetMessages = packetErrorMessages(ctx.logger('ESP'), () => this.now());
    this.pipeline = new Pipeline({
      sad: this.sad,
      now: () => this.now(),
      io: this.testIo ?? {
        sendOuter: (p, sa) => this.backend?.sendOuter(p, sa) ?? false,
        deliverInner: (p, ok, sa) => this.backend?.deliverInner(p, ok, sa) ?? false,
        espTrainBuffer: (sa, min) => this.backend?.espTrainBuffer(sa, min),
        sendEspTrain: (sa, buf, count, stride, last, tos) => this.backend?.sendEspTrain(sa, buf, count, stride, last, tos) ?? false,
      },
    });
    this.pipeline.onInvalidSpi = packetMessages.invalidSpi;
    this.pipeline.onUnprotectError = (sa, code, seq) => {
      packetMessages.unprotectError({ code, connId: this.connId(sa), spi: sa.spi, local: formatIp(sa.local), peer: formatIp(sa.peer), ...(seq !== undefined ? { seq } : {}) });
      if (this.engineDebug.debugging(true)) this.engineDebug.refused(this.engineSa(sa), code, seq);
    };
    // A box whose ports are not wired to Linux interfaces (sim board without --port, e.g.
    // a daemon started by CLI tests in the host's namespace) runs no packet I/O at all:
    // no kernel probe, no TUN, no sysctl, no policy rules.
    const wired = this.network.wiredPorts().length > 0;
    if (!wired && !this.testIo) {
      this.backendError = 'no board port is mapped to a Linux interface (--port NAME=ifname): no packet I/O';
      this.installRuntimeView(ctx);
      return;
    }
    if (wantDetect) {
      try {
        // 5 s per request: the appliance under emulation on a loaded host answers slowly.
        this.detection = await detectKernelIpsec({ probeTransforms: false, requestTimeoutMs: 5000 });
      } catch (e) {
        this.detection = undefined;
        ctx.log('dataplane', `kernel IPsec detection failed: ${(e as Error).message}`);
      }
    }
    if (this.wantUserspace && this.detection?.backend === 'xfrm' && process.getuid?.() === 0) {
      try {
        const k = openXfrmBackend(this.detection.capabilities ? { capabilities: this.detection.capabilities } : {});
        this.kernel = k;
        if (ctx.board.ownsKernelIpsec) await k.flushAllKernelState().catch((e: unknown) => ctx.log('dataplane', `XFRM flush of a previous daemon's state: ${(e as Error).message}`));
        this.traps = new XfrmTraps(k, (t) => ctx.log('dataplane', t));
        const sync = new XfrmCounterSync(k, () => this.sad, () => this.kernelSas);
        this.counterSync = sync;
        // every 2 s while SAs exist: on-demand DPD, idle checks and kilobyte lifetimes read these
        this.counterTimer = setInterval(() => {
          if (this.kernelSas.size > 0) sync.refresh().catch((e: unknown) => ctx.log('dataplane', `XFRM SA counters: ${(e as Error).message}`));
        }, 2000);
        this.counterTimer.unref();
        k.on('acquire', (ev) => { const pk = packetKeyFromAcquire(ev); if (pk) this.pipeline.acquireFor(pk); });
      } catch (e) {
        ctx.log('dataplane', `XFRM backend: ${(e as Error).message}; using the userspace data path`);
      }
    }
    if (this.wantUserspace && !this.kernel) {
      if (process.getuid?.() !== 0) {
        this.backendError = 'needs root (TUN device, raw sockets): packets are not forwarded';
      } else {
        const b = new UserspaceBackend({
          pipeline: this.pipeline, net: this.network, log: (t) => ctx.log('dataplane', t),
          onTunnelUp: (name) => { const dev = this.tunnels.get(name)?.device; if (dev) this.reinstallRoutesVia(dev); this.syncVrfs(); },
        });
        try {
          b.start();
          this.backend = b;
          this.vrfTables = new VrfTables({ net: this.network, log: (t) => ctx.log('dataplane', t) });
        } catch (e) {
          this.backendError = (e as Error).message;
          await b.close().catch(() => {});
        }
      }
    }
    if (this.backendError) ctx.log('dataplane', this.backendError);
    this.installRuntimeView(ctx);
  }

  async stop(): Promise<void> {
    for (const u of this.unregister.splice(0)) u();
    for (const p of this.udpBinds.values()) await p.then((b) => b?.release()).catch(() => {});
    this.udpBinds.clear();
    await this.vrfTables?.close();
    this.vrfTables = undefined;
    await this.backend?.close();
    this.backend = undefined;
    if (this.counterTimer) clearInterval(this.counterTimer);
    this.counterTimer = undefined;
    this.counterSync = undefined;
    if (this.kernel) { await this.kernel.flushPolicies().catch(() => {}); await this.kernel.flushSas().catch(() => {}); await this.kernel.close(); }
    this.kernel = undefined;
    if (this.network) {
      await Promise.all([...this.rriInstalled.values()].map((r) => this.network.deleteRoute(r)));
      this.rriInstalled.clear();
      await this.loopbacks?.clear();
      await this.network.idle();
      this.network.close();
    }
    this.sad?.close();
  }

  apply(config: Config): void {
    this.applyChanges(this.ownCompiler.compile(config));
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
    if (this.backend || this.kernel) {
      if (!this.linkDownKnobTried) {
        this.linkDownKnobTried = true;
        withdrawRoutesOnLinkDown((m) => this.ctx.log('dataplane', m));
      }
      void this.loopbacks?.sync(config);
      this.programInterfaces(config);
      this.programRoutes(config);
    }
    for (const td of this.tunnels.apply(config)) this.tearDownTunnel(td);
    this.syncVrfs();
    const touched = this.compileSpds(delta);
    if (touched.size > 0) this.installManual(delta.intent, touched);
    this.queueTemporaryCheck(); // RRI: `reverse-route static` routes and changed entries
    if (this.backend) {
      if (touched.size > 0) this.backend.installPolicies(this.policies());
      this.syncUdpBinds();
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

  /** VRF tables follow the configuration and the tunnels' line protocol. */
  private syncVrfs(): void {
    if (!this.vrfTables || !this.lastConfig) return;
    const inputs = vrfInputs(this.lastConfig, {
      portMap: Object.fromEntries(this.network.wiredPorts()), tunnels: this.tunnels.list,
      tunnelDeviceIfUp: (name) => this.backend?.tunnels?.deviceIfUp(name),
    });
    void this.vrfTables.sync(inputs.members, inputs.routes, inputs.frontDoor);
  }

  /** ESP in UDP (RFC 3948) arrives on the shared port-4500 bind of each local address. */
  private syncUdpBinds(): void {
    const binds = (this.ctx as Partial<ServiceContext>).binds;
    if (!binds) return;
    const want = new Set<string>();
    for (const s of this.spds.values()) if (s.local) want.add(s.local);
    for (const v of this.tunnels.list) if (v.local && !v.shutdown && v.problem === undefined) want.add(v.local);
    // dynamic VTIs: sessions arrive on the address a template borrows, before any Virtual-Access exists
    for (const name of Object.keys(this.lastConfig?.interfaces?.items ?? {})) {
      const m = /^Virtual-Template(\d+)$/.exec(name);
      const t = m ? virtualTemplate(this.lastConfig!, Number(m[1])) : undefined;
      if (t && typeof t !== 'string' && t.local) want.add(t.local);
    }
    for (const addr of want) {
      if (this.udpBinds.has(addr)) continue;
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
        b.subscribe(['esp'], (_kind, data, remote) => this.pipeline.inboundUdpEsp(data, srcOf(remote), dst));
        // GRO trains of ESP: the SA opens them in one engine call (Pipeline.inboundUdpEspTrain)
        b.onEspTrain((buf, off, segSize, count, lastLen, remote) => this.pipeline.inboundUdpEspTrain(buf, off, segSize, count, lastLen, srcOf(remote), dst));
        this.attachUdpSender(addr, b);
        return b;
      }, (e: unknown) => {
        this.ctx.log('dataplane', `UDP 4500 on ${addr}: ${(e as Error).message}`);
        this.udpBinds.delete(addr);
        return undefined;
      });
      this.udpBinds.set(addr, p);
    }
    for (const [addr, p] of this.udpBinds) {
      if (want.has(addr)) continue;
      this.udpBinds.delete(addr);
      this.backend?.attachUdpEncap(parseIpv4(addr) ?? 0, undefined);
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
    if (!this.backend || !(bind instanceof UdpGsoBind) || !this.udpBinds.has(addr)) return;
    bind.onSendError((tag) => { if (tag) this.pipeline.sendFailedLate(tag as SecurityAssociation<IpsecSa>); });
    this.backend.attachUdpEncap(parseIpv4(addr) ?? 0, bind);
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
    const ts = parseTransformSet(spec.transformWords);
    const local = parseIp(spec.local);
    const peer = parseIp(spec.peer);
    const mk = (k: SaKeys, dir: 'in' | 'out'): IpsecSa => {
      const cfg: { -readonly [K in keyof IpsecSaConfig]: IpsecSaConfig[K] } = {
        mode: spec.mode, local: ipBytes(local), remote: ipBytes(peer),
        replayWindow: spec.replayWindow ?? 64,
      };
      if (ts.espCipher && k.espSpi !== undefined) cfg.esp = { spi: k.espSpi, params: espParams(ts, k.espCipherKey ?? new Uint8Array(0), ts.espIntegrity ? k.espAuthKey : undefined, spec.esn ?? false) };
      if (ts.ah && k.ahSpi !== undefined && k.ahKey) cfg.ah = { spi: k.ahSpi, params: ahParams(ts, k.ahKey, spec.esn ?? false) };
      if (ts.compression) cfg.ipcomp = k.cpi !== undefined ? { cpi: k.cpi } : {};
      if (spec.udpEncap) cfg.udpEncap = { localPort: spec.udpEncap.localPort, remotePort: spec.udpEncap.remotePort };
      // `crypto ipsec df-bit clear|set|copy`: the outer header's DF (crypto maps and tunnels alike)
      const dfBit = this.dfBitFor(spec.iface, spec.mapName);
      if (dfBit) cfg.dfBit = dfBit;
      void dir;
      return new IpsecSa(cfg, this.engine);
    };
    const inSa = mk(spec.inbound, 'in');
    const outSa = mk(spec.outbound, 'out');
    const common = {
      local, peer, mode: spec.mode, scope: spec.scope, policyKey: spec.policyKey, mapName: spec.mapName, mapSeq: spec.mapSeq,
      transformName: ts.words.join(' '), childId: spec.childId,
      lifetime: spec.lifetime, manual: spec.manual ?? false, iface: spec.iface,
    };
    const inSpec = this.saSpec(inSa, 'inbound', common);
    const outSpec = this.saSpec(outSa, 'outbound', common);
    let inbound: SecurityAssociation<IpsecSa>;
    try {
      inbound = this.sad.addInbound(inSpec);
    } catch (e) {
      inSa.destroy(); outSa.destroy();
      throw e;
    }
    const { bundle } = this.sad.setOutbound(spec.policyKey, [outSpec]);
    const extras: SaShowExtras = { pfsGroup: spec.pfsGroup, peerPort: spec.udpEncap?.remotePort ?? 500 };
    this.showExtras.set(inbound, extras);
    this.showExtras.set(bundle.sas[0]!, extras);
    const flow = [inbound.spi, bundle.sas[0]!.spi];
    this.flowSpis.set(inbound, flow);
    this.flowSpis.set(bundle.sas[0]!, flow);
    if (this.engineDebug.debugging()) this.engineDebug.created(this.engineSa(inbound), this.engineSa(bundle.sas[0]!));
    if (this.kernel) this.installInKernel(spec, inbound.id, bundle.sas[0]!.id);
    if (spec.iface !== undefined) this.tunnels.refreshSoon();
    this.queueTemporaryCheck(); // RRI routes follow the new SAs
    return { inboundId: inbound.id, outboundId: bundle.sas[0]!.id };
  }

  /** The kernel reqid of a policy key: its trap and its SA pairs share it. */
  private reqidFor(policyKey: string): number {
    let reqid = this.kernelReqids.get(policyKey);
    if (reqid === undefined) { reqid = this.kernelReqids.size + 1; this.kernelReqids.set(policyKey, reqid); }
    return reqid;
  }

  /**
   * The outer DF bit of an SA: `crypto ipsec df-bit` of its interface (the tunnel, the
   * Virtual-Access's template, or the interface carrying the crypto map), else the global one.
   */
  private dfBitFor(iface: string | undefined, mapName: string): 'clear' | 'set' | 'copy' | undefined {
    const cfg = this.lastConfig ?? this.ctx?.config();
    if (!cfg) return undefined;
    const name = iface ?? interfacesUsingCryptoMap(cfg, mapName)[0];
    const itf = name === undefined ? undefined : cfg.interfaces?.items[name] ?? this.tunnels.virtualAccesses.find((v) => v.name === name)?.config;
    return itf?.dfBit ?? cfg.ipsecSa?.dfBit;
  }

  /** XFRM backend: the same SAs and their policies in the kernel (errors are logged). */
  private installInKernel(spec: ChildSaInstall, inboundId: number, outboundId: number): void {
    const k = this.kernel!;
    // the place of the crypto ACL line the pair serves (deny lines before it stay bypassed)
    const priority = this.traps?.priorityOf(spec.policyKey) ?? entryLastPriority(spec.mapSeq);
    const { sas, policies } = childSaToKernel(spec, this.reqidFor(spec.policyKey), priority);
    this.kernelSas.set(inboundId, sas.filter((x) => x.direction === 'in'));
    this.kernelSas.set(outboundId, sas.filter((x) => x.direction === 'out'));
    void (async () => {
      for (const sa of sas) await k.addSa(sa);
      for (const p of policies) await k.addPolicy(p);
    })().catch((e: unknown) => this.ctx.log('dataplane', `XFRM install ${spec.mapName} ${spec.mapSeq}: ${(e as Error).message}`));
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
    return this.spds.get(iface)?.spd;
  }

  /**
   * The temporary crypto map entry for a flow a dynamic map entry accepted (made if new; the
   * SPD is recompiled so the flow is steered to its SAs). IKE installs the SAs under the
   * returned entry's policyKey and scope. Undefined: the flow has no access-list form.
   * The entry goes away by itself once the SAD holds no SA under its policy key.
   */
  addTemporaryEntry(spec: TemporaryEntrySpec): TemporaryEntry | undefined {
    const r = this.temporary.add(spec, this.now());
    if (!r) return undefined;
    if (r.created) {
      this.rebuildSpds();
      this.backend?.installPolicies(this.policies());
      // removed again if IKE never installs SAs under it
      this.queueTemporaryCheck(5000);
    }
    return r.entry;
  }

  private queueTemporaryCheck(delayMs = 0): void {
    if (delayMs > 0) {
      const h = setTimeout(() => this.checkTemporaryEntries(), delayMs);
      h.unref();
      return;
    }
    if (this.tempCheckQueued) return;
    this.tempCheckQueued = true;
    queueMicrotask(() => { this.tempCheckQueued = false; this.checkTemporaryEntries(); });
  }

  /** Drops temporary entries without SAs, then brings the RRI routes up to date. */
  private checkTemporaryEntries(): void {
    if (!this.sad) return;
    const live = new Set<string>();
    for (const sa of this.sad.all()) if (sa.policyKey !== undefined) live.add(sa.policyKey);
    let removed = false;
    const now = this.now();
    for (const e of this.temporary.list()) {
      if (live.has(e.policyKey) || now - e.createdAtMs < 4000) continue;
      this.temporary.remove(e);
      removed = true;
    }
    if (removed) {
      this.rebuildSpds();
      this.backend?.installPolicies(this.policies());
    }
    this.syncRri();
  }

  /** RRI routes wanted now (for `show ip route`). */
  reverseRoutes(): readonly RriRoute[] {
    return this.rriRoutes;
  }

  /** Recomputes the RRI routes and installs / removes them in Linux (wired boards). */
  private syncRri(): void {
    const cfg = this.lastConfig;
    if (!cfg || !this.sad) return;
    const sas = this.sad.all().filter((sa) => sa.direction === 'outbound')
      .map((sa) => ({ policyKey: sa.policyKey, mapName: sa.mapName, mapSeq: sa.mapSeq, scope: sa.scope, peer: formatIp(sa.peer) }));
    const intent = this.intent?.revision === cfg.revision ? this.intent : undefined;
    this.rriRoutes = wantedRriRoutes(cfg, sas, (k) => this.temporary.byPolicyKey(k), intent ? (m) => intent.mapSet(m) : undefined);
    if (!this.backend && !this.kernel) return;
    if (!this.rriFlushed) {
      // leftovers of a previous daemon in this namespace
      void this.network.flushRoutes({ proto: RRI_ROUTE_PROTO });
      this.rriFlushed = true;
    }
    const want = new Map<string, RouteSpec>();
    for (const r of this.rriRoutes) {
      const route = this.rriRoute(cfg, r);
      if (route) want.set(routeArgv(route).join(' '), route);
    }
    const changes: RouteChange[] = [];
    for (const [key, route] of [...this.rriInstalled]) {
      if (want.has(key)) continue;
      changes.push({ op: 'delete', route });
      this.rriInstalled.delete(key);
    }
    for (const [key, route] of want) {
      if (this.rriInstalled.has(key)) continue;
      changes.push({ op: 'replace', route });
      this.rriInstalled.set(key, route);
    }
    // not waited for: a road warrior coming or going must not stall the packet and IKE paths
    if (changes.length > 0) this.network.queueRoutes(changes, (m) => this.ctx.log('dataplane', m));
  }

  /**
   * `ip route` arguments of an RRI route: via the next hop when it is on a connected
   * network, else via the gateway the configuration routes it through; the peer host
   * route (remote-peer) via that gateway.
   */
  private rriRoute(cfg: Config, r: RriRoute): RouteSpec | undefined {
    const target = r.nextHop || r.prefix;
    const inNet = (addr: string, net: string, mask: string): boolean => {
      const a = parseIpv4(addr); const n = parseIpv4(net); const m = parseIpv4(mask);
      return a !== undefined && n !== undefined && m !== undefined && ((a & m) >>> 0) === ((n & m) >>> 0);
    };
    for (const [port, itf] of Object.entries(cfg.interfaces?.items ?? {})) {
      const a = itf.ipAddress;
      const dev = this.linuxIf(port);
      if (!a || !dev || !inNet(target, a.address, a.mask)) continue;
      if (!r.nextHop) return undefined; // a connected peer needs no host route
      return { dest: `${r.prefix}/${r.length}`, via: r.nextHop, device: dev, proto: RRI_ROUTE_PROTO, metric: r.distance };
    }
    const via = (cfg.routing?.routes ?? []).filter((s) => s.vrf === undefined && s.nextHop && inNet(target, s.prefix, s.mask))
      .sort((x, y) => maskLen(y.mask) - maskLen(x.mask))[0]?.nextHop;
    if (!via && !r.nextHop) return undefined;
    return { dest: `${r.prefix}/${r.length}`, via: via ?? r.nextHop, proto: RRI_ROUTE_PROTO, metric: r.distance };
  }

  private saSpec(sa: IpsecSa, direction: 'inbound' | 'outbound', common: Omit<SaSpec<IpsecSa>, 'direction' | 'proto' | 'spi' | 'transform'>): SaSpec<IpsecSa> {
    const keys: { proto: SaProto; spi: number }[] = [];
    if (sa.ahSpi !== undefined) keys.push({ proto: IPPROTO_AH, spi: sa.ahSpi });
    if (sa.espSpi !== undefined) keys.push({ proto: IPPROTO_ESP, spi: sa.espSpi });
    if (sa.cpi !== undefined) keys.push({ proto: IPPROTO_IPCOMP, spi: sa.cpi });
    const [first, ...rest] = keys;
    const spec: SaSpec<IpsecSa> = { ...common, direction, proto: first!.proto, spi: first!.spi, transform: sa };
    if (rest.length > 0) spec.extraSpis = rest;
    return spec;
  }

  private onSadEvent(e: SadEvent<IpsecSa>): void {
    if (e.sa.iface !== undefined && e.type !== 'soft') this.tunnels.refreshSoon();
    if (e.type === 'deleted' || e.type === 'hard') this.queueTemporaryCheck();
    if (e.type === 'deleted' || e.type === 'hard') {
      e.sa.transform.destroy();
      const ks = this.kernelSas.get(e.sa.id);
      if (ks && this.kernel) {
        this.kernelSas.delete(e.sa.id);
        for (const x of ks) void this.kernel.deleteSa({ dst: x.dst, spi: x.spi, protocol: x.protocol, src: x.src }).catch(() => {});
      }
    }
    if (e.type === 'soft' || e.type === 'hard') {
      const ev: DataplaneExpire = {
        hard: e.type === 'hard', cause: e.cause, direction: e.sa.direction, spi: e.sa.spi, proto: e.sa.proto,
        childId: e.sa.childId, mapName: e.sa.mapName, mapSeq: e.sa.mapSeq,
      };
      for (const fn of this.expireListeners) { try { fn(ev); } catch { /* listener bug */ } }
    }
  }

  // ------------------------------------------------------------------ config -> runtime

  private linuxIf(port: string): string | undefined {
    return this.network.linuxName(port);
  }

  private programInterfaces(cfg: Config): void {
    for (const [port] of this.network.wiredPorts()) {
      const itf = cfg.interfaces?.items[port];
      if (!itf) continue;
      const addrs = [itf.ipAddress, ...(itf.secondary ?? [])].filter((a): a is NonNullable<typeof a> => a !== undefined)
        .map((a) => `${a.address}/${maskLen(a.mask)}`);
      const sig = JSON.stringify({ addrs, down: itf.shutdown, vrf: itf.vrf });
      if (this.ifState.get(port) === sig) continue;
      this.ifState.set(port, sig);
      // an interface in a VRF: its connected route goes to the VRF's table only (syncVrfs)
      void this.network.setPort(port, { addrs, down: itf.shutdown, ...(itf.vrf ? { vrf: itf.vrf } : {}) }).then((errors) => {
        for (const e of errors) this.ctx.log('dataplane', e);
      });
    }
  }

  private programRoutes(cfg: Config): void {
    const want = new Map<string, RouteSpec>();
    for (const r of cfg.routing?.routes ?? []) {
      if (r.vrf !== undefined) continue;
      const route: RouteSpec = { dest: `${r.prefix}/${maskLen(r.mask)}` };
      if (r.nextHop) route.via = r.nextHop;
      if (r.interface) {
        // a route through a tunnel is in the table only while its line protocol is up
        const dev = this.linuxIf(r.interface) ?? this.backend?.tunnels?.deviceIfUp(r.interface);
        if (!dev) continue;
        route.device = dev;
      }
      if (r.distance !== undefined) route.metric = r.distance;
      want.set(routeArgv(route).join(' '), route);
    }
    for (const [key, route] of [...this.routes]) {
      // (quietly: a route through a tunnel that went down is already gone from the kernel)
      if (!want.has(key)) { void this.network.deleteRoute(route); this.routes.delete(key); }
    }
    for (const [key, route] of want) {
      if (this.routes.has(key)) continue;
      this.routes.set(key, route);
      void this.network.replaceRoute(route).then((error) => {
        if (error === undefined) return;
        // not installed: tried again at the next apply
        if (this.routes.get(key) === route) this.routes.delete(key);
        this.ctx.log('dataplane', error);
      });
    }
  }

  /** A tunnel device came up: the kernel dropped the routes through it while it was down. */
  private reinstallRoutesVia(device: string): void {
    for (const [key, route] of [...this.routes]) if (route.device === device) this.routes.delete(key);
    if (this.lastConfig) this.programRoutes(this.lastConfig);
  }

  /**
   * The SPD inputs of the interfaces a change touched (every interface on a full apply);
   * returns the names of the interfaces whose SPD was rebuilt.
   */
  private compileSpds(delta: IntentDelta): Set<string> {
    const touched = new Set<string>();
    if (delta.full) {
      this.inputCache.clear();
      for (const name of delta.intent.interfaces.keys()) touched.add(name);
      for (const name of this.baseInputs.keys()) touched.add(name);
    } else {
      for (const c of delta.interfaces) touched.add(c.key);
      for (const c of delta.mapEntries) touched.add(c.op === 'remove' ? c.prev.iface : c.next.iface);
    }
    if (touched.size === 0) return touched;
    const base = new Map(this.baseInputs);
    const recompile = new Set<string>();
    for (const name of touched) {
      const itf = delta.intent.interfaces.get(name);
      if (!itf?.cryptoMap) { base.delete(name); recompile.add(name); continue; }
      const inputs: SpdMapEntryInput<MapEntryData>[] = [];
      for (const item of itf.entries) {
        const inp = this.spdInput(item);
        if (inp) inputs.push(inp);
      }
      const old = base.get(name);
      base.set(name, { inputs, mapName: itf.cryptoMap, local: itf.local });
      if (delta.full || !this.patchSpd(name, delta, old, inputs)) recompile.add(name);
    }
    for (const c of delta.mapEntries) if (c.op === 'remove' && !delta.intent.mapEntries.has(c.key)) this.inputCache.delete(c.key);
    // interfaces in name order, as a full compile lists them
    this.baseInputs = new Map([...base].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    this.rebuildSpds(recompile);
    return touched;
  }

  /**
   * Entries whose settings changed but not their place or ACL (a new peer, transform set,
   * PFS group...) are updated in the interface's SPD without recompiling it (its match
   * counters stay). False: the SPD must be recompiled.
   */
  private patchSpd(name: string, delta: IntentDelta, old: { inputs: SpdMapEntryInput<MapEntryData>[]; local: string | undefined } | undefined,
    inputs: SpdMapEntryInput<MapEntryData>[]): boolean {
    const cur = this.spds.get(name);
    if (!cur || !old || old.inputs.length !== inputs.length || old.local !== delta.intent.interfaces.get(name)?.local) return false;
    if (delta.interfaces.some((c) => c.key === name)) return false;
    const updates = new Map<number, SpdMapEntryInput<MapEntryData>>();
    for (const c of delta.mapEntries) {
      if (c.op === 'remove' ? c.prev.iface !== name : c.next.iface !== name) continue;
      if (c.op !== 'modify') return false;
      const inp = this.inputCache.get(c.key)?.input;
      const policyName = c.key.slice(name.length + 1);
      const index = cur.spd.entries.findIndex((e) => e.temporaryId === undefined && e.policyName === policyName);
      if (!inp || index < 0) return false;
      updates.set(index, inp);
    }
    const spd = cur.spd.patched(updates);
    if (!spd) return false;
    this.spds.set(name, { ...cur, spd });
    return true;
  }

  /** An entry's SPD input; undefined for an incomplete static entry (no peer or ACL), which IOS disables. */
  private spdInput(item: MapEntryIntent): SpdMapEntryInput<MapEntryData> | undefined {
    const cached = this.inputCache.get(item.key);
    if (cached && cached.fingerprint === item.fingerprint) return cached.input;
    const r = item.entry;
    const inp: SpdMapEntryInput<MapEntryData> = {
      mapName: r.mapName, seq: r.seq, kind: r.kind, perHost: r.perHost, data: { iface: item.iface },
      transformSets: r.transformSets.map((t) => t.name),
      peers: r.peers.flatMap((p) => { try { return [parseIp(p)]; } catch { return []; } }),
    };
    if (r.subSeq !== undefined) inp.subSeq = r.subSeq;
    if (r.discover) inp.discover = true;
    if (r.matchAddress !== undefined) {
      inp.aclName = r.matchAddress;
      inp.acl = item.acl ?? [];
    }
    const usable = r.kind === 'dynamic' || (inp.acl !== undefined && (inp.peers?.length ?? 0) > 0);
    this.inputCache.set(item.key, { fingerprint: item.fingerprint, input: usable ? inp : undefined });
    return usable ? inp : undefined;
  }

  /**
   * Compiles the SPD of each interface from its configured and its temporary entries
   * (`only`: just these interfaces; the others keep their SPD and its match counters).
   */
  private rebuildSpds(only?: ReadonlySet<string>): void {
    const next = new Map<string, { spd: Spd<MapEntryData>; mapName: string; local: string | undefined }>();
    const list: { name: string; spd: Spd<MapEntryData> }[] = [];
    for (const [name, b] of this.baseInputs) {
      const kept = only && !only.has(name) ? this.spds.get(name) : undefined;
      if (kept) {
        next.set(name, kept);
        list.push({ name, spd: kept.spd });
        continue;
      }
      const temps = this.temporary.spdInputs<MapEntryData>(name, { iface: name }).filter((t) => t.mapName === b.mapName);
      const spd = compileSpd([...b.inputs, ...temps]);
      next.set(name, { spd, mapName: b.mapName, local: b.local });
      list.push({ name, spd });
    }
    this.spds = next;
    this.pipeline.setInterfaces(list);
    if (this.traps) {
      const cfg = this.lastConfig;
      const words = (name: string) => { const set = cfg?.transformSets[name]; return set ? transformWords(set) : undefined; };
      this.traps.sync([...next.values()].flatMap((s) => trapPolicies(s.spd, s.local, (k) => this.reqidFor(k), words)));
    }
  }

  private policies(): InterfacePolicy[] {
    const out: InterfacePolicy[] = [];
    for (const [name, s] of this.spds) {
      const device = this.linuxIf(name);
      if (!device) continue;
      const aces: AclEntry[] = [];
      const configured = s.spd.entries.filter((e) => e.temporaryId === undefined).flatMap((e) => e.effectiveAcl)
        .filter((a) => a.action === 'permit').map(aceToSelector);
      for (const e of s.spd.entries) {
        // a temporary entry's flow lies inside its template's permit, whose rules already
        // steer it: only a template without `match address` needs rules of its own (and
        // the rules, one `ip` call each, are not rewritten for every road warrior)
        if (e.temporaryId !== undefined && e.effectiveAcl.every((a) => configured.some((c) => selectorContains(c, aceToSelector(a))))) continue;
        aces.push(...e.effectiveAcl);
      }
      // TED: probes in transit to the networks a discover entry protects
      const ted = s.spd.entries.filter((e) => e.discover && e.temporaryId === undefined)
        .flatMap((e) => e.effectiveAcl).filter((a) => a.action === 'permit').map((a) => a.src);
      if (ted.length > 0) { out.push({ device, aces, tedIntercepts: ted }); continue; }
      out.push({ device, aces });
    }
    return out;
  }

  /**
   * Installs / replaces / removes the SAs of ipsec-manual entries (`only`: of these
   * interfaces). An entry whose content did not change keeps its SAs, even across a
   * replaced model (`configure replace`).
   */
  private installManual(intent: ConfigIntent, only?: ReadonlySet<string>): void {
    const seen = new Set<string>();
    for (const [iface, s] of this.spds) {
      if (only && !only.has(iface)) continue;
      for (const item of intent.interfaces.get(iface)?.entries ?? []) {
        const r = item.entry;
        if (r.kind !== 'manual') continue;
        const key = `${iface}|${r.mapName}/${r.seq}`;
        seen.add(key);
        const entry = s.spd.entries.find((e) => e.mapName === r.mapName && e.seq === r.seq);
        const sig = `${item.fingerprint}|${s.local ?? ''}|${entry !== undefined}|${this.dfBitFor(iface, r.mapName) ?? ''}`;
        const old = this.manual.get(key);
        if (old && old.sig === sig && old.ids.every((id) => this.sad.get(id) !== undefined)) continue;
        for (const id of old?.ids ?? []) this.sad.delete(id, 'reconfigured');
        const st: ManualState = { sig, ids: [] };
        this.manual.set(key, st);
        try {
          st.ids = this.installManualEntry(iface, r, s.local, entry);
        } catch (e) {
          st.error = (e as Error).message;
          this.ctx.log('dataplane', `crypto map ${r.mapName} ${r.seq}: manual SAs not installed: ${st.error}`);
        }
      }
    }
    for (const [key, st] of this.manual) {
      if (seen.has(key) || (only && !only.has(key.slice(0, key.indexOf('|'))))) continue;
      for (const id of st.ids) this.sad.delete(id, 'unconfigured');
      this.manual.delete(key);
    }
  }

  private installManualEntry(iface: string, r: ResolvedMapEntry, local: string | undefined, entry: Spd<MapEntryData>['entries'][number] | undefined): number[] {
    if (!entry) return [];
    if (!local) throw new Error(`interface ${iface} has no IP address`);
    const peer = r.peers[0];
    if (!peer) return [];
    const set = r.transformSets[0];
    if (!set) throw new Error('no transform set');
    const keys = r.sessionKeys;
    if (!keys) throw new Error('no session keys');
    const permit = entry.effectiveAcl[entry.effectiveAcl.length - 1];
    if (!permit || permit.action !== 'permit') throw new Error('access list has no permit');
    const scope = aceToSelector(permit);
    const ts: ParsedTransformSet = parseTransformSet(transformWords(set));
    const conv = (k: ManualDirectionKeys): SaKeys => {
      const out: SaKeys = {};
      if (k.esp) {
        out.espSpi = k.esp.spi;
        out.espCipherKey = hexBytes(k.esp.cipherKey);
        if (k.esp.authKey !== undefined) out.espAuthKey = hexBytes(k.esp.authKey);
      }
      if (k.ah) { out.ahSpi = k.ah.spi; out.ahKey = hexBytes(k.ah.key); }
      return out;
    };
    const ids = this.installChildSa({
      mapName: r.mapName, mapSeq: r.seq, policyKey: `${entry.policyName}|${selectorKey(scope)}`, scope,
      local, peer, transformWords: ts.words, mode: set.mode,
      inbound: conv(keys.inbound), outbound: conv(keys.outbound),
      replayWindow: r.replayDisabled ? 0 : r.replayWindow, manual: true,
    });
    return [ids.inboundId, ids.outboundId];
  }

  /** `clear crypto sa ...`: deletes SAs, then reinstalls manual ones at once. */
  clearSas(filter: ClearCryptoSaFilter): number {
    let n: number;
    if (filter.kind === 'all') n = this.sad.clear('cleared');
    else if (filter.kind === 'peer') n = this.sad.deleteWhere((sa) => formatIp(sa.peer) === filter.peer);
    else if (filter.kind === 'map') n = this.sad.deleteWhere((sa) => sa.mapName === filter.map && (filter.seq === undefined || sa.mapSeq === filter.seq));
    else {
      const proto = filter.protocol === 'esp' ? IPPROTO_ESP : filter.protocol === 'ah' ? IPPROTO_AH : IPPROTO_IPCOMP;
      let dst: IpAddr;
      try { dst = parseIp(filter.destination); } catch { return 0; }
      const sa = this.sad.findEntry(dst, proto, filter.spi);
      n = sa && this.sad.delete(sa, 'cleared') ? 1 : 0;
    }
    if (this.intent) this.installManual(this.intent);
    return n;
  }

  /**
   * `clear crypto sa counters`: the packet and error counts `show crypto ipsec sa` prints
   * start again at 0. The SAD's byte counts (kilobyte lifetimes) and packet counts (IKE's
   * idle and session figures) are not shown there and keep counting.
   */
  clearSaCounters(): void {
    if (!this.sad) return;
    for (const sa of this.sad.all()) {
      zeroCounts(sa.transform.counters);
      zeroCounts(sa.counters.errors);
    }
  }

  /** An SA as `debug crypto engine` names it. */
  private engineSa(sa: SecurityAssociation<IpsecSa>): EngineSa {
    return { direction: sa.direction, spi: sa.spi, flowSpis: this.flowSpis.get(sa) ?? [sa.spi], peer: formatIp(sa.peer), connId: this.connId(sa), transform: sa.transformName ?? '' };
  }

  // ------------------------------------------------------------------ show

  private connId(sa: object): number {
    let id = this.connIds.get(sa);
    if (id === undefined) { id = this.nextConnId++; this.connIds.set(sa, id); }
    return id;
  }

  private showSa(sa: SecurityAssociation<IpsecSa>): IpsecSaShowSa[] {
    const info = sa.transform.info();
    const rem = sa.remaining(this.now());
    const base = {
      transform: sa.transformName ?? '', mode: info.mode, connId: this.connId(sa), mapName: sa.mapName ?? '',
      remainingKb: rem.kilobytes, remainingSec: rem.seconds, replayWindow: info.replayWindow,
      ivBytes: ivBytesOf(sa.transformName ?? ''), status: sa.usable ? 'ACTIVE' : sa.state.toUpperCase(), udpEncap: info.udpEncap, manual: sa.manual,
      siblingFlags: siblingFlags(sa, info.udpEncap, info.esn),
    };
    const out: IpsecSaShowSa[] = [];
    if (info.espSpi !== undefined) out.push({ ...base, protocol: 'esp', spi: info.espSpi });
    if (info.ahSpi !== undefined) out.push({ ...base, protocol: 'ah', spi: info.ahSpi });
    if (info.cpi !== undefined) out.push({ ...base, protocol: 'pcp', spi: info.cpi });
    return out;
  }

  ipsecSaView(): IpsecSaShowInterface[] {
    const out: IpsecSaShowInterface[] = [];
    const all = this.sad ? this.sad.all() : [];
    const views: [string, { mapName: string; local: string | undefined }][] = [...this.spds];
    for (const v of this.tunnels.list) views.push([v.name, { mapName: tunnelMapTag(v.name), local: v.local }]);
    for (const [iface, s] of views) {
      const flows = new Map<string, IpsecSaShowFlow>();
      for (const sa of all) {
        if (sa.mapName !== s.mapName || !sa.scope) continue;
        const fkey = `${sa.mapSeq}|${formatIp(sa.peer)}|${selectorKey(sa.scope)}`;
        let f = flows.get(fkey);
        if (!f) {
          const lid = addrIdent(sa.scope.src);
          const rid = addrIdent(sa.scope.dst);
          const extras = this.showExtras.get(sa);
          const pathMtu = 1500;
          const ipMtu = this.lastConfig?.interfaces?.items[iface]?.ipMtu ?? pathMtu;
          f = {
            mapSeq: sa.mapSeq ?? 0, localIdent: { ...lid, proto: sa.scope.proto, port: sa.scope.srcPorts.lo === sa.scope.srcPorts.hi ? sa.scope.srcPorts.lo : 0 },
            remoteIdent: { ...rid, proto: sa.scope.proto, port: sa.scope.dstPorts.lo === sa.scope.dstPorts.hi ? sa.scope.dstPorts.lo : 0 },
            peer: formatIp(sa.peer), peerPort: extras?.peerPort ?? 500, local: formatIp(sa.local),
            pfsGroup: extras?.pfsGroup,
            ...(this.tunnels.get(iface)?.vrf !== undefined ? { protectedVrf: this.tunnels.get(iface)!.vrf! } : {}),
            plaintextMtu: plaintextMtu((sa.transformName ?? '').split(' '), sa.mode, sa.transform.info().udpEncap, Math.min(pathMtu, ipMtu)),
            pathMtu, ipMtu,
            errors: {
              noSaSend: 0, invalidSaRecv: 0, encapsFailedSend: 0, decapsFailedRecv: 0, invalidProtRecv: 0, verifyFailed: 0,
              invalidIdentityRecv: 0, invalidLenRecv: 0, replayRolloverSend: 0, replayRolloverRecv: 0, replayFailedRecv: 0,
              internalErrSend: 0, internalErrRecv: 0,
            },
            encaps: 0, encrypt: 0, digest: 0, decaps: 0, decrypt: 0, verify: 0, compressed: 0, decompressed: 0,
            notCompressed: 0, notDecompressed: 0, decompressFailed: 0, sendErrors: 0, recvErrors: 0,
            replayFailures: 0, authFailures: 0,
            inbound: [], outbound: [], currentOutboundSpi: 0,
          };
          flows.set(fkey, f);
        }
        const c = sa.transform.counters;
        if (sa.direction === 'outbound') {
          f.encaps += c.encapsPkts; f.encrypt += c.encryptPkts; f.digest += c.digestPkts;
          f.compressed += c.compressedPkts; f.notCompressed += c.notCompressedPkts;
          f.sendErrors += c.sendErrors + (sa.counters.errors.send ?? 0) + (sa.counters.errors.expired ?? 0);
          const p = c.protectDrops;
          f.errors.encapsFailedSend += p['bad-inner-packet'] + p['too-big'] + p['sa-destroyed'] + (sa.counters.errors.send ?? 0);
          f.errors.noSaSend += sa.counters.errors.expired ?? 0;
          f.errors.replayRolloverSend += p['seq-overflow'];
          f.errors.internalErrSend += p['engine-error'] + p['engine-async'];
          f.outbound.push(...this.showSa(sa));
          f.currentOutboundSpi = sa.transform.espSpi ?? sa.transform.ahSpi ?? 0;
        } else {
          f.decaps += c.decapsPkts; f.decrypt += c.decryptPkts; f.verify += c.verifyPkts;
          f.decompressed += c.decompressedPkts; f.notDecompressed += c.notDecompressedPkts; f.decompressFailed += c.decompressFailedPkts;
          f.recvErrors += c.recvErrors;
          f.replayFailures += c.unprotectDrops.replay;
          f.authFailures += c.unprotectDrops['icv-failure'];
          const u = c.unprotectDrops;
          f.errors.invalidSaRecv += u['bad-spi'] + u['sa-destroyed'];
          f.errors.decapsFailedRecv += u['bad-padding'] + u['bad-next-header'] + u['bad-inner-packet'] + u['decompress-failed'] + u.fragment + u['bad-outer-packet'];
          f.errors.invalidProtRecv += u['unexpected-protocol'];
          f.errors.verifyFailed += u['icv-failure'];
          f.errors.invalidLenRecv += u.truncated + u['bad-length'];
          f.errors.replayFailedRecv += u.replay;
          f.errors.internalErrRecv += u['engine-error'] + u['engine-async'] + u['needs-ip-header'];
          f.inbound.push(...this.showSa(sa));
        }
      }
      out.push({ name: iface, mapName: s.mapName, localAddr: s.local ?? '', flows: [...flows.values()].sort((a, b) => a.mapSeq - b.mapSeq) });
    }
    return out;
  }

  engineView(): CryptoEngineShow {
    const d = this.detection;
    const b = this.backend;
    return {
      backend: this.kernel ? 'xfrm' : b || this.testIo ? 'userspace' : 'none',
      backendReason: this.kernel ? `kernel XFRM (${d?.reason ?? ''})` : b
        ? `userspace ESP over TUN ${b.tunName} (${d ? d.reason : 'kernel detection unavailable'})`
        : this.backendError ?? d?.reason ?? 'not started',
      kernelEsp: d?.esp,
      // the board's engines in preference order; new SAs are keyed on the first
      engines: this.engines.map((e, i) => ({
        name: e.name, kind: e.kind, state: e.status().state, activeSas: i === 0 && this.sad ? this.sad.size : 0,
        method: e.contextMethod?.(),
      })),
      counters: this.pipeline ? { ...this.pipeline.counters, ...(b ? ioCounters(b) : {}) } : {},
      dataPathIo: b?.describeIo(),
    };
  }

  private installRuntimeView(ctx: ServiceContext): void {
    const rt = ctx.runtime;
    const me = this.name;
    this.unregister.push(
      rt.provide('ipsecSas', () => this.ipsecSaView(), me),
      rt.provide('refreshIpsecSas', async () => { await this.counterSync?.refresh(); }, me),
      rt.provide('cryptoEngine', () => this.engineView(), me),
      rt.provide('reverseRoutes', () => this.rriRoutes, me),
      rt.provide('cryptoMapTemporaryEntries', () => this.temporary.list().map((e) => ({ ...e, aclLine: formatAclEntry(e.ace) })), me),
      // crypto ACL match counts (the SPD classifier's) for `show access-lists`
      rt.provide('aclMatches', (list) => this.aclMatches(list), me),
      rt.provide('clearAclCounters', () => { for (const s of this.spds.values()) s.spd.resetCounters(); }, me),
      rt.provide('virtualAccess', () => this.tunnels.virtualAccesses.map((va) => ({
        name: va.name, template: va.template, config: va.config, peer: va.peer ?? '', local: va.local ?? '',
        createdAtMs: va.createdAtMs, routes: [...va.routes],
      })), me),
      // `clear crypto sa`: the SAs themselves go after IKE told the peers (runtime-view.ts)
      rt.saClearers.add({ name: me, stage: 'sad', clear: (f) => this.clearSas(f) }),
      rt.saCounterClearers.add({ name: me, clearCounters: () => this.clearSaCounters() }),
      // tunnel interfaces: line protocol and counters
      rt.interfaceStatus.add({ name: 'tunnels', status: (name) => this.tunnels.status(name) }),
    );
  }

  /** Matches per ACL rule sequence number, summed over the SPDs using the list. */
  aclMatches(list: string): ReadonlyMap<number, number> | undefined {
    const cfgList = this.lastConfig?.acl?.lists[list];
    if (!cfgList) return undefined;
    const rules = aclRules(cfgList);
    let out: Map<number, number> | undefined;
    for (const s of this.spds.values()) {
      const counts = s.spd.aclMatchCounts().get(list);
      if (!counts) continue;
      out ??= new Map();
      counts.forEach((n, i) => {
        const seq = rules[i]?.seq;
        if (seq !== undefined) out!.set(seq, (out!.get(seq) ?? 0) + n);
      });
    }
    return out;
  }
}

/** Sets every number of a counter record (and of the records inside it) to 0. */
function zeroCounts(rec: object): void {
  const r = rec as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    const v = r[k];
    if (typeof v === 'number') r[k] = 0;
    else if (v !== null && typeof v === 'object') zeroCounts(v);
  }
}

function ivBytesOf(transform: string): number {
  if (/esp-aes/.test(transform)) return 16;
  if (/esp-(gcm|gmac|3des|des)/.test(transform)) return 8;
  return 0;
}

function ipBytes(a: IpAddr): Uint8Array {
  const n = a.family === 4 ? 4 : 16;
  const out = new Uint8Array(n);
  let v = a.value;
  for (let i = n - 1; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

export { maskText };

/** Batching and offload counters of the userspace backend, for `show crypto engine configuration`. */
function ioCounters(b: UserspaceBackend): Record<string, number> {
  const st = b.stats;
  return {
    outerSent: st.sent, outerSendErrors: st.sendErrors, outerSendBatches: st.sendBatches, outerRxBatches: st.rxBatches,
    outerRxDropped: st.rawRxDropped, tunRxSegments: st.tun.rxSegments ?? 0, tunTxGsoFrames: st.tun.txGsoFrames ?? 0,
    tunTxGsoSegments: st.tun.txGsoSegments ?? 0,
    // with GRO a TUN write happens after deliverInner returned: its failures count here
    tunTxErrors: st.tun.txErrors ?? 0,
    tunRxSuperPackets: st.tun.rxSuperPackets ?? 0,
    udpEspSent: st.udpEspSent, udpGsoTrains: st.udpGsoMessages, udpGsoSegments: st.udpGsoSegments,
    udpGroTrains: st.udpGroMessages, udpGroSegments: st.udpGroSegments,
  };
}
