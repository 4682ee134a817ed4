// Aggressive Mode (RFC 2409 5) with pre-shared keys: the initiator's messages 1 and 3, the
// responder's message 3. The responder's first message is taken by phase1-responder.ts.
import { ExchangeType, HeaderFlag, PayloadType, bytesEqual, encodePayloadBody, formatId, type DecodedPayload, type IdPayload, type Payload, type SaPayload } from '../../../proto/ikev1/index.js';
import { createIkeV1Dh } from '../dh-fast.js';
import { emitDebug } from '../debug.js';
import { hashI, hashR } from '../keys.js';
import { MESSAGE_RULES, checkMessage } from '../message-rules.js';
import { checkNatd, floatIfNeeded, natdPayloads, readVids, vids } from '../nat-t.js';
import { selfIdentity } from '../peer-config.js';
import { acceptPhase1Reply, buildPhase1Sa, type IsakmpPolicy } from '../policy.js';
import { decodePlain, decrypt1, plainNotifyFailure, sendEncrypted1, sendPlain } from '../protection.js';
import type { Datagram } from '../types.js';
import { find, stripId } from '../util.js';
import { handleNotifies, initialContact } from './informational.js';
import { Phase1Task } from './phase1.js';

export class AggressiveModeTask extends Phase1Task {
  readonly name = 'aggressive-mode';
  readonly exchange = ExchangeType.AGGRESSIVE;

  /** Initiator, message 1: HDR, SA, KE, Ni, IDii. One DH group only: the first policy's. */
  start(policies: IsakmpPolicy[], psk: string): void {
    const { ctx, sa } = this;
    this.psk = psk;
    emitDebug(ctx.debug(sa, 0), 'beginning Aggressive Mode exchange');
    sa.state = 'AG_NO_STATE';
    const group = policies[0]!.group;
    const same = policies.filter((p) => p.group === group);
    this.offeredPolicies = same;
    const aggSa = buildPhase1Sa(same);
    this.saiB = encodePayloadBody(aggSa);
    this.dh = createIkeV1Dh(group);
    this.gxi = this.dh.publicKey;
    this.ni = ctx.random(32);
    this.idI = selfIdentity(ctx.settings.peerConfig, sa.profile, sa.local.address);
    sendPlain(ctx, sa, ExchangeType.AGGRESSIVE, [
      aggSa,
      { type: PayloadType.KE, keyData: this.gxi },
      { type: PayloadType.NONCE, data: this.ni },
      this.idI,
      ...vids(ctx),
    ], true);
  }

  process(d: Datagram, data: Uint8Array, flags: number): void {
    if (this.role === 'initiator') this.initiator(d, data, flags);
    else this.responder(d, data, flags);
  }

  /** Message 2 in, message 3 out: the SA is up. */
  private initiator(d: Datagram, data: Uint8Array, flags: number): void {
    const { ctx, sa } = this;
    if (sa.state !== 'AG_NO_STATE' || (flags & HeaderFlag.ENCRYPTION)) return ctx.drop();
    const msg = decodePlain(data);
    if (plainNotifyFailure(ctx, sa, msg)) return;
    if (!checkMessage(MESSAGE_RULES.AGGR_I1, msg).ok) return ctx.drop();
    const id = find<IdPayload>(msg, PayloadType.ID)!;
    const hp = find<{ data: Uint8Array }>(msg, PayloadType.HASH)!;
    const params = acceptPhase1Reply(find<SaPayload>(msg, PayloadType.SA)!, this.offeredPolicies);
    if ('reason' in params) return ctx.fail(sa, `bad SA reply: ${params.reason}`);
    if (params.group !== this.dh!.group) return ctx.fail(sa, 'responder chose another DH group');
    readVids(ctx, sa, msg);
    this.setParams(params);
    this.gxr = find<{ keyData: Uint8Array }>(msg, PayloadType.KE)!.keyData;
    this.nr = find<{ data: Uint8Array }>(msg, PayloadType.NONCE)!.data;
    if (!this.deriveKeys()) return ctx.fail(sa, 'invalid key exchange data');
    const expect = hashR(sa.hash!, sa.keys!.skeyid, this.gxi!, this.gxr, sa.ckyI, sa.ckyR, this.saiB!, (id as unknown as DecodedPayload).body);
    if (!bytesEqual(expect, hp.data)) {
      emitDebug(ctx.debug(sa, sa.connId), 'phase 1 HASH_R does not verify (pre-shared key mismatch?)', true);
      return ctx.fail(sa, 'authentication failed: HASH_R mismatch');
    }
    this.idR = stripId(id);
    sa.peerId = formatId(id);
    sa.peerIdType = id.idType;
    checkNatd(ctx, sa, msg, d);
    sa.lastRx = data.slice();
    floatIfNeeded(ctx, sa);
    const hi = hashI(sa.hash!, sa.keys!.skeyid, this.gxi!, this.gxr, sa.ckyI, sa.ckyR, this.saiB!, encodePayloadBody(this.idI!));
    const payloads: Payload[] = [{ type: PayloadType.HASH, data: hi }, ...natdPayloads(ctx, sa)];
    if (sa.initialContactWanted) payloads.push(initialContact(sa));
    sendEncrypted1(ctx, sa, ExchangeType.AGGRESSIVE, payloads, false);
    ctx.established(sa);
  }

  /** Message 3 in (encrypted or not, as peers differ): the SA is up. */
  private responder(d: Datagram, data: Uint8Array, flags: number): void {
    const { ctx, sa } = this;
    if (sa.state !== 'AG_INIT_EXCH') return ctx.drop();
    let payloads: DecodedPayload[];
    let nextIv = sa.iv!;
    if (flags & HeaderFlag.ENCRYPTION) {
      const dec = decrypt1(sa, data);
      if (!dec) {
        ctx.fail(sa, 'message 3 malformed: pre-shared key mismatch?');
        return;
      }
      payloads = dec.payloads;
      nextIv = dec.nextIv;
    } else {
      payloads = decodePlain(data);
    }
    if (!checkMessage(MESSAGE_RULES.AGGR_R1, payloads).ok) return ctx.drop();
    const hp = find<{ data: Uint8Array }>(payloads, PayloadType.HASH)!;
    const expect = hashI(sa.hash!, sa.keys!.skeyid, this.gxi!, this.gxr!, sa.ckyI, sa.ckyR, this.saiB!, encodePayloadBody(this.idI!));
    if (!bytesEqual(expect, hp.data)) {
      emitDebug(ctx.debug(sa, sa.connId), 'phase 1 HASH_I does not verify (pre-shared key mismatch?)', true);
      ctx.fail(sa, 'authentication failed: HASH_I mismatch');
      return;
    }
    sa.iv = nextIv;
    ctx.authenticated(sa);
    checkNatd(ctx, sa, payloads, d);
    sa.lastRx = data.slice();
    // AM3 ends the exchange: a duplicate of it must not trigger our AM2 again.
    sa.lastReply = undefined;
    ctx.established(sa);
    handleNotifies(ctx, sa, payloads);
  }
}
