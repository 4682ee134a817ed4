// The XFRM side of a child SA pair (kernel backend, when detect.ts found ESP): the pair and
// its out/in/fwd policies translated for the kernel (pure, tested without a kernel), and the
// mirror that installs them, remembers which kernel SAs stand for which SAD entry (the
// counter sync reads them) and removes them with their SAD entry.
import type {
  EncryptionTransform, IntegrityTransform, KernelIpsec, PolicySpec, SaSpec as KernelSaSpec,
  TrafficSelector as KernelSelector,
} from '../kernel/kernel-ipsec.js';
import { parseTransformSet } from '../ipsec/transform.js';
import { tunnelIfId } from '../config/vti.js';
import type { ChildSaInstall } from './dataplane-api.js';
import { entryLastPriority, scopeToKernelSelector, type XfrmTraps } from './xfrm-traps.js';

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

export class KernelSaMirror {
  private readonly kernelReqids = new Map<string, number>();
  /** kernel SAs by the SAD id they mirror */
  readonly kernelSas = new Map<number, KernelSaSpec[]>();

  constructor(private readonly k: KernelIpsec, readonly traps: XfrmTraps | undefined, private readonly log: (text: string) => void) {}

  /** The kernel reqid of a policy key: its trap and its SA pairs share it. */
  reqidFor(policyKey: string): number {
    let reqid = this.kernelReqids.get(policyKey);
    if (reqid === undefined) { reqid = this.kernelReqids.size + 1; this.kernelReqids.set(policyKey, reqid); }
    return reqid;
  }

  /** XFRM backend: the same SAs and their policies in the kernel (errors are logged). */
  install(spec: ChildSaInstall, inboundId: number, outboundId: number): void {
    const k = this.k;
    // the place of the crypto ACL line the pair serves (deny lines before it stay bypassed)
    const priority = this.traps?.priorityOf(spec.policyKey) ?? entryLastPriority(spec.mapSeq);
    const { sas, policies } = childSaToKernel(spec, this.reqidFor(spec.policyKey), priority);
    this.kernelSas.set(inboundId, sas.filter((x) => x.direction === 'in'));
    this.kernelSas.set(outboundId, sas.filter((x) => x.direction === 'out'));
    void (async () => {
      for (const sa of sas) await k.addSa(sa);
      for (const p of policies) await k.addPolicy(p);
    })().catch((e: unknown) => this.log(`XFRM install ${spec.mapName} ${spec.mapSeq}: ${(e as Error).message}`));
  }

  /** The SAD entry went: so do its kernel SAs. */
  deleted(saId: number): void {
    const ks = this.kernelSas.get(saId);
    if (!ks) return;
    this.kernelSas.delete(saId);
    for (const x of ks) void this.k.deleteSa({ dst: x.dst, spi: x.spi, protocol: x.protocol, src: x.src }).catch(() => {});
  }
}
