// XFRM backend: the kernel carries the packets, so the SAD's and the SAs' counters (what
// `show crypto ipsec sa`, on-demand DPD, idle checks and kilobyte lifetimes read) only move
// when someone copies the kernel's numbers over. One XFRM_MSG_GETSA dump gives every SA's
// lifetime-current packets and bytes and its replay / integrity failure stats; what grew
// since the last read is recorded through the SAD (so byte lifetimes soft- and hard-expire
// as on the userspace path) and added to the SA's show counters.
import type { Sad } from '../ipsec/sad.js';
import type { IpsecSa } from '../ipsec/ipsec-sa.js';
import type { KernelIpsec, SaInfo, SaSpec as KernelSaSpec } from '../kernel/kernel-ipsec.js';

interface Seen { packets: bigint; bytes: bigint; replay: number; integrity: number }

const kernelKey = (x: { protocol: string; dst: string; spi: number }): string => `${x.protocol}/${x.dst}/${x.spi >>> 0}`;
const small = (v: bigint): number => (v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v));
/** Transforms that authenticate without a separate integrity algorithm. */
const COMBINED = /gcm|gmac|ccm|chacha/;

export class XfrmCounterSync {
  private readonly seen = new Map<number, Seen>();
  private inflight: Promise<void> | undefined;

  /**
   * `kernelSas`: the kernel SAs of each SAD SA (by SAD id), as installed; an ESP+AH bundle
   * has two, which count the same packets (the larger number wins).
   */
  constructor(
    private readonly kernel: Pick<KernelIpsec, 'listSas'>,
    private readonly sad: () => Sad<IpsecSa> | undefined,
    private readonly kernelSas: () => ReadonlyMap<number, readonly KernelSaSpec[]>,
  ) {}

  /** Reads the kernel's counters once; concurrent callers share one read. */
  refresh(): Promise<void> {
    this.inflight ??= this.read().finally(() => { this.inflight = undefined; });
    return this.inflight;
  }

  private async read(): Promise<void> {
    if (this.kernelSas().size === 0) { this.seen.clear(); return; }
    const byKey = new Map<string, SaInfo>();
    for (const s of await this.kernel.listSas()) byKey.set(kernelKey(s), s);
    this.apply(byKey);
  }

  /** Adds what grew since the last read to the SAD and SA counters (exported for tests through refresh). */
  private apply(byKey: ReadonlyMap<string, SaInfo>): void {
    const sad = this.sad();
    const wanted = this.kernelSas();
    for (const id of this.seen.keys()) if (!wanted.has(id)) this.seen.delete(id);
    if (!sad) return;
    for (const [id, specs] of wanted) {
      const sa = sad.get(id);
      if (!sa) continue;
      const now: Seen = { packets: 0n, bytes: 0n, replay: 0, integrity: 0 };
      let found = false;
      for (const spec of specs) {
        const k = byKey.get(kernelKey(spec));
        if (!k) continue;
        found = true;
        const c = k.counters;
        if (c.packets > now.packets) now.packets = c.packets;
        if (c.bytes > now.bytes) now.bytes = c.bytes;
        now.replay = Math.max(now.replay, c.replayErrors + c.replayWindowDrops);
        now.integrity = Math.max(now.integrity, c.integrityFailures);
      }
      if (!found) continue;
      const prev = this.seen.get(id) ?? { packets: 0n, bytes: 0n, replay: 0, integrity: 0 };
      this.seen.set(id, {
        packets: now.packets > prev.packets ? now.packets : prev.packets, bytes: now.bytes > prev.bytes ? now.bytes : prev.bytes,
        replay: Math.max(now.replay, prev.replay), integrity: Math.max(now.integrity, prev.integrity),
      });
      const dp = now.packets > prev.packets ? small(now.packets - prev.packets) : 0;
      const db = now.bytes > prev.bytes ? small(now.bytes - prev.bytes) : 0;
      const spec = specs[0]!;
      const enc = spec.encryption?.transform;
      const encrypts = enc !== undefined && enc !== 'esp-null' && enc !== 'esp-gmac';
      const digests = spec.integrity !== undefined || (enc !== undefined && COMBINED.test(enc)) || specs.some((s) => s.protocol === 'ah');
      const c = sa.transform.counters;
      if (dp > 0 || db > 0) {
        if (sa.direction === 'outbound') {
          sad.recordEncapsMany(sa, dp, db);
          c.encapsPkts += dp;
          if (encrypts) c.encryptPkts += dp;
          if (digests) c.digestPkts += dp;
          c.bytesOut += db;
        } else {
          sad.recordDecapsMany(sa, dp, db);
          c.decapsPkts += dp;
          if (encrypts) c.decryptPkts += dp;
          if (digests) c.verifyPkts += dp;
          c.bytesIn += db;
        }
      }
      const dReplay = Math.max(0, now.replay - prev.replay);
      const dAuth = Math.max(0, now.integrity - prev.integrity);
      if (dReplay + dAuth > 0) {
        c.unprotectDrops.replay += dReplay;
        c.unprotectDrops['icv-failure'] += dAuth;
        c.recvErrors += dReplay + dAuth;
      }
    }
  }
}
