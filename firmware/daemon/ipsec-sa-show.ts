// What `show crypto ipsec sa` and `show crypto engine` print, built from the SAD and the
// data plane's state on demand: flows per interface with their counters and error classes,
// plaintext MTU, the connection ids and flags IOS shows. Kept apart from the service so the
// show layout can change without touching how SAs are installed.
import type { CryptoEngineShow, IpsecSaShowFlow, IpsecSaShowInterface, IpsecSaShowSa } from '../cli/commands/crypto-ipsec-sa.js';
import type { Pipeline } from '../dataplane/pipeline.js';
import type { IpsecSa } from '../ipsec/ipsec-sa.js';
import type { SecurityAssociation } from '../ipsec/sad.js';
import { addrSetBounds, addrSetToPrefix, formatIp, formatIpValue, selectorKey, type AddrSet } from '../ipsec/selector.js';
import { parseTransformSet, type TransformSet as ParsedTransformSet } from '../ipsec/transform.js';
import type { KernelIpsecDetection } from '../kernel/detect.js';
import type { KernelIpsec } from '../kernel/kernel-ipsec.js';
import type { UserspaceBackend } from '../kernel/userspace-backend.js';
import type { CryptoEngine } from '../lib/crypto-engine.js';

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

/** What `show crypto ipsec sa` prints about an SA that the SAD does not keep. */
export interface SaShowExtras { pfsGroup: number | undefined; peerPort: number }

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

/** The data plane's state `show crypto engine` describes. */
export interface EngineViewInputs {
  detection: KernelIpsecDetection | undefined;
  kernel: KernelIpsec | undefined;
  backend: UserspaceBackend | undefined;
  backendError: string | undefined;
  /** packets go to a test's I/O (in-process boxes) */
  testIo: boolean;
  engines: readonly CryptoEngine[];
  sadSize: number;
  pipeline: Pipeline | undefined;
}

/** Show data of the SAs: connection ids and extras live as long as their SA object. */
export class IpsecSaShow {
  private nextConnId = 2001;
  private readonly connIds = new WeakMap<object, number>();
  readonly extras = new WeakMap<object, SaShowExtras>();

  constructor(private readonly o: {
    now: () => number;
    sas: () => readonly SecurityAssociation<IpsecSa>[];
    /** interfaces with crypto (crypto map interfaces, then tunnels): map name and local address */
    views: () => [string, { mapName: string; local: string | undefined }][];
    ipMtu: (iface: string) => number | undefined;
    protectedVrf: (iface: string) => string | undefined;
  }) {}

  /** IOS's conn id of an SA (debug lines and show use the same). */
  connId(sa: object): number {
    let id = this.connIds.get(sa);
    if (id === undefined) { id = this.nextConnId++; this.connIds.set(sa, id); }
    return id;
  }

  private showSa(sa: SecurityAssociation<IpsecSa>): IpsecSaShowSa[] {
    const info = sa.transform.info();
    const rem = sa.remaining(this.o.now());
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
    const all = this.o.sas();
    const views = this.o.views();
    for (const [iface, s] of views) {
      const flows = new Map<string, IpsecSaShowFlow>();
      for (const sa of all) {
        if (sa.mapName !== s.mapName || !sa.scope) continue;
        const fkey = `${sa.mapSeq}|${formatIp(sa.peer)}|${selectorKey(sa.scope)}`;
        let f = flows.get(fkey);
        if (!f) {
          const protectedVrf = this.o.protectedVrf(iface);
          const lid = addrIdent(sa.scope.src);
          const rid = addrIdent(sa.scope.dst);
          const extras = this.extras.get(sa);
          const pathMtu = 1500;
          const ipMtu = this.o.ipMtu(iface) ?? pathMtu;
          f = {
            mapSeq: sa.mapSeq ?? 0, localIdent: { ...lid, proto: sa.scope.proto, port: sa.scope.srcPorts.lo === sa.scope.srcPorts.hi ? sa.scope.srcPorts.lo : 0 },
            remoteIdent: { ...rid, proto: sa.scope.proto, port: sa.scope.dstPorts.lo === sa.scope.dstPorts.hi ? sa.scope.dstPorts.lo : 0 },
            peer: formatIp(sa.peer), peerPort: extras?.peerPort ?? 500, local: formatIp(sa.local),
            pfsGroup: extras?.pfsGroup,
            ...(protectedVrf !== undefined ? { protectedVrf } : {}),
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

  engineView(e: EngineViewInputs): CryptoEngineShow {
    const d = e.detection;
    const b = e.backend;
    return {
      backend: e.kernel ? 'xfrm' : b || e.testIo ? 'userspace' : 'none',
      backendReason: e.kernel ? `kernel XFRM (${d?.reason ?? ''})` : b
        ? `userspace ESP over TUN ${b.tunName} (${d ? d.reason : 'kernel detection unavailable'})`
        : e.backendError ?? d?.reason ?? 'not started',
      kernelEsp: d?.esp,
      // the board's engines in preference order; new SAs are keyed on the first
      engines: e.engines.map((x, i) => ({
        name: x.name, kind: x.kind, state: x.status().state, activeSas: i === 0 ? e.sadSize : 0,
        method: x.contextMethod?.(),
      })),
      counters: e.pipeline ? { ...e.pipeline.counters, ...(b ? ioCounters(b) : {}) } : {},
      dataPathIo: b?.describeIo(),
    };
  }
}

/**
 * `clear crypto sa counters`: the packet and error counts `show crypto ipsec sa` prints start
 * again at 0. The SAD's byte counts (kilobyte lifetimes) and packet counts (IKE's idle and
 * session figures) are not shown there and keep counting.
 */
export function clearShownCounters(sas: readonly SecurityAssociation<IpsecSa>[]): void {
  for (const sa of sas) {
    zeroCounts(sa.transform.counters);
    zeroCounts(sa.counters.errors);
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
