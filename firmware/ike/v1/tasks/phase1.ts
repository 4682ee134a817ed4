// What Main and Aggressive Mode share: the negotiation's keying material (held by the task
// and dropped with it once the ISAKMP SA is up, so the SA record keeps only its keys) and
// the SKEYID computation (RFC 2409 5, pre-shared keys).
import { PayloadType, type DecodedPayload, type IdPayload } from '../../../proto/ikev1/index.js';
import type { DhKeyPair } from '../../crypto/index.js';
import { ikeEncryptionByName, ikeHashByName } from '../algorithms.js';
import type { V1Context } from '../context.js';
import { createIkeV1Dh } from '../dh-fast.js';
import { deriveSkeyids, encryptionKey, phase1Iv, skeyidPsk } from '../keys.js';
import type { IsakmpPolicy, Phase1Params } from '../policy.js';
import type { V1Task } from '../task.js';
import type { Datagram, Phase1 } from '../types.js';
import { find } from '../util.js';

export abstract class Phase1Task implements V1Task {
  abstract readonly name: 'main-mode' | 'aggressive-mode';
  abstract readonly exchange: number;
  offeredPolicies: IsakmpPolicy[] = [];
  /** the initiator's SA payload body (SAi_b in HASH_I / HASH_R) */
  saiB?: Uint8Array;
  dh?: DhKeyPair;
  gxi?: Uint8Array;
  gxr?: Uint8Array;
  ni?: Uint8Array;
  nr?: Uint8Array;
  /** secret; never logged */
  psk?: string;
  idI?: IdPayload;
  idR?: IdPayload;

  constructor(protected readonly ctx: V1Context, protected readonly sa: Phase1, readonly role: 'initiator' | 'responder') {}

  abstract process(d: Datagram, data: Uint8Array, flags: number): void;

  /** The chosen ISAKMP policy and the algorithms it names. */
  setParams(params: Phase1Params): void {
    const sa = this.sa;
    sa.params = params;
    sa.enc = ikeEncryptionByName(params.encryption);
    sa.hash = ikeHashByName(params.hash).hash;
  }

  /**
   * Responder: the initiator's KE and nonce (a message checked against its row), our own DH
   * pair and nonce, then the keys; false when the initiator's public value is bad.
   */
  respondKeyExchange(psk: string, msg: DecodedPayload[]): boolean {
    this.psk = psk;
    this.dh = createIkeV1Dh(this.sa.params!.group);
    this.gxi = find<{ keyData: Uint8Array }>(msg, PayloadType.KE)!.keyData;
    this.gxr = this.dh.publicKey;
    this.ni = find<{ data: Uint8Array }>(msg, PayloadType.NONCE)!.data;
    this.nr = this.ctx.random(32);
    return this.deriveKeys();
  }

  /** SKEYID and its children, the phase-1 IV; false when the peer's public value is bad. */
  deriveKeys(): boolean {
    const sa = this.sa;
    let gxy: Uint8Array;
    try {
      gxy = this.dh!.computeSecret(this.role === 'initiator' ? this.gxr! : this.gxi!);
    } catch {
      return false;
    }
    const h = sa.hash!;
    const skeyid = skeyidPsk(h, new TextEncoder().encode(this.psk!), this.ni!, this.nr!);
    sa.keys = deriveSkeyids(h, skeyid, gxy, sa.ckyI, sa.ckyR);
    sa.encKey = encryptionKey(h, sa.keys.e, sa.enc!.keyLen);
    sa.iv = phase1Iv(h, this.gxi!, this.gxr!, sa.enc!.blockLen);
    // Is there an older SA with this peer? If not, tell it INITIAL-CONTACT.
    sa.initialContactWanted = !this.ctx.hasOtherEstablished(sa);
    return true;
  }
}

