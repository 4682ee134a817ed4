// `show crypto session` rows, built the same way for both IKE versions: a session per peer
// (IKEv1) or per peer address and port (IKEv2), its IKE SAs, and its flows with the SA
// pairs and packet counters of the Child SA table. The services say only how their IKE SAs
// look; the flows come from the shared records (child-sas.ts).
import type { ChildSaCounters, ChildSaRecord } from './child-sas.js';
import type { CryptoSessionFlow, CryptoSessionIkeSa, CryptoSessionInfo } from './session-info.js';

/** Seconds left until `expiresAt` (ms, same clock as `now`), or undefined when it never expires. */
export function secondsLeft(expiresAt: number | undefined, now: number): number | undefined {
  if (expiresAt === undefined || !Number.isFinite(expiresAt)) return undefined;
  return Math.max(0, Math.round((expiresAt - now) / 1000));
}

export class SessionTable {
  private readonly byKey = new Map<string, CryptoSessionInfo>();
  /** session -> flow key -> its flow */
  private readonly flowsOf = new Map<CryptoSessionInfo, Map<string, CryptoSessionFlow>>();

  /** The session for `key`, made by `make` the first time; a later non-empty interface fills an empty one. */
  session(key: string, make: () => CryptoSessionInfo, iface?: string): CryptoSessionInfo {
    let s = this.byKey.get(key);
    if (!s) {
      s = make();
      this.byKey.set(key, s);
    }
    if (!s.interface && iface) s.interface = iface;
    return s;
  }

  addIkeSa(s: CryptoSessionInfo, sa: CryptoSessionIkeSa): void {
    s.ikeSas.push(sa);
  }

  /**
   * Adds SAs and packet counts to the session's flow `key` (made with `text` the first time):
   * pairs of the same flow (a rekey's old and new) add up.
   */
  addFlow(s: CryptoSessionInfo, key: string, text: string, activeSas: number, encrypted: number, decrypted: number): void {
    let flows = this.flowsOf.get(s);
    if (!flows) { flows = new Map(); this.flowsOf.set(s, flows); }
    let f = flows.get(key);
    if (!f) {
      f = { text, activeSas: 0, origin: 'crypto map', encryptedPackets: 0, decryptedPackets: 0 };
      flows.set(key, f);
      s.flows.push(f);
    }
    f.activeSas += activeSas;
    f.encryptedPackets = (f.encryptedPackets ?? 0) + encrypted;
    f.decryptedPackets = (f.decryptedPackets ?? 0) + decrypted;
  }

  /**
   * A Child SA record's flow: the directions the data plane still holds count as active SAs
   * (both when it reports nothing), with their packet counters.
   */
  addChild(s: CryptoSessionInfo, key: string, r: ChildSaRecord, sad: ChildSaCounters | undefined): void {
    const inSa = sad?.get(r.inboundId);
    const outSa = sad?.get(r.outboundId);
    const n = sad ? (inSa ? 1 : 0) + (outSa ? 1 : 0) : 2;
    this.addFlow(s, key, r.flowText, n, outSa?.counters.encapsPkts ?? 0, inSa?.counters.decapsPkts ?? 0);
  }

  list(): CryptoSessionInfo[] {
    return [...this.byKey.values()];
  }
}
