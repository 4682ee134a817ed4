// XFRM backend: the kernel itself must ask for SAs. For every permit line of a static
// isakmp crypto map entry the kernel holds an outbound policy whose template names the peer
// (a "trap"). The first packet of a flow without an SA makes the kernel send an ACQUIRE;
// that becomes the pipeline's acquire (the event the userspace data path raises), so IKE
// starts exactly as it does there. The SA pair's own out policy (same selector, same reqid)
// later replaces the trap and stays after the SA goes, so the next packet acquires again.
// Deny lines are not mapped: a kernel policy has a priority, not an ACL's first match.
import { aceToSelector, type Spd } from '../ipsec/spd.js';
import { formatIp, selectorKey, type PacketKey } from '../ipsec/selector.js';
import { parseTransformSet } from '../ipsec/transform.js';
import type { AcquireEvent, IpsecProtocol, KernelIpsec, PolicySpec } from '../kernel/kernel-ipsec.js';
// a function of the service module, used only at call time (the service imports this file)
import { scopeToKernelSelector } from './dataplane-service.js';

/** One trap: the policy for the kernel, and the SPD policy key IKE will install SAs under. */
export interface TrapPolicy { policyKey: string; spec: PolicySpec }

/**
 * The traps an interface's SPD needs: permits of static isakmp entries with a peer and a
 * local address. `reqidFor` gives the reqid the SA pair of that policy key will carry;
 * `protocolOf` the outer protocol of a transform set's words (ESP, or AH alone).
 */
export function trapPolicies(
  spd: Pick<Spd<unknown>, 'entries'>, local: string | undefined, reqidFor: (policyKey: string) => number,
  transformSetWords: (name: string) => readonly string[] | undefined,
): TrapPolicy[] {
  if (!local) return [];
  const out: TrapPolicy[] = [];
  for (const e of spd.entries) {
    const peer = e.peers?.[0];
    if (e.kind !== 'isakmp' || e.temporaryId !== undefined || !peer) continue;
    const words = e.transformSets?.map(transformSetWords).find((w) => w !== undefined);
    let protocol: IpsecProtocol = 'esp';
    try { if (words && !parseTransformSet([...words]).espCipher) protocol = 'ah'; } catch { /* validated elsewhere: ESP */ }
    for (const ace of e.effectiveAcl) {
      if (ace.action !== 'permit') continue;
      const scope = aceToSelector(ace);
      const policyKey = `${e.policyName}|${selectorKey(scope)}`;
      const reqid = reqidFor(policyKey);
      out.push({
        policyKey,
        spec: {
          selector: scopeToKernelSelector(scope), direction: 'out', action: 'protect', priority: e.seq,
          templates: [{ protocol, mode: 'tunnel', reqid, src: local, dst: formatIp(peer) }],
        },
      });
    }
  }
  return out;
}

/** What the kernel's ACQUIRE says of the packet, as the SPD's packet key (IPv4 only). */
export function packetKeyFromAcquire(ev: AcquireEvent): PacketKey | undefined {
  const word = (a: string): number | undefined => {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/\d+)?$/.exec(a);
    return m ? ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0 : undefined;
  };
  const s = ev.packetSelector;
  const src = word(s.src);
  const dst = word(s.dst);
  if (src === undefined || dst === undefined) return undefined;
  const proto = s.proto ?? 0;
  // XFRM carries ICMP type and code in the port fields; the SPD key has type << 8 | code in both
  const icmp = proto === 1 ? (((s.srcPort ?? 0) & 0xff) << 8) | ((s.dstPort ?? 0) & 0xff) : undefined;
  return {
    family: 4, src: Uint32Array.of(src), dst: Uint32Array.of(dst), proto,
    srcPort: icmp ?? s.srcPort ?? 0, dstPort: icmp ?? s.dstPort ?? 0,
  };
}

/**
 * The traps installed in the kernel: `sync` adds the new ones and deletes the ones no
 * longer wanted. A trap that is already there is left alone, since an SA's policy may have
 * replaced it (with the peer IKE actually chose).
 */
export class XfrmTraps {
  private installed = new Map<string, PolicySpec>();
  constructor(private readonly kernel: KernelIpsec, private readonly log: (text: string) => void) {}

  sync(wanted: readonly TrapPolicy[]): void {
    const next = new Map<string, PolicySpec>();
    for (const t of wanted) next.set(JSON.stringify(t.spec), t.spec);
    const key = (p: PolicySpec) => JSON.stringify(p.selector);
    const keep = new Set([...next.values()].map(key));
    for (const [k, p] of this.installed) {
      if (next.has(k)) continue;
      this.installed.delete(k);
      if (!keep.has(key(p))) void this.kernel.deletePolicy({ selector: p.selector, direction: 'out' }).catch(() => {});
    }
    for (const [k, p] of next) {
      if (this.installed.has(k)) continue;
      this.installed.set(k, p);
      void this.kernel.addPolicy({ ...p, replace: true }).catch((e: unknown) => this.log(`XFRM trap policy ${p.selector.src} -> ${p.selector.dst}: ${(e as Error).message}`));
    }
  }
}
