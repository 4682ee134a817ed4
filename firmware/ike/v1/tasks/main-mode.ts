// Main Mode (RFC 2409 5: identity protection) with pre-shared keys, both roles. The responder's
// first message is taken by phase1-responder.ts, which creates this task.
import { ExchangeType, HeaderFlag, PayloadType, bytesEqual, encodePayloadBody, formatId, type DecodedPayload, type IdPayload, type Payload, type SaPayload } from '../../../proto/ikev1/index.js';
import { createIkeV1Dh } from '../dh-fast.js';
import { emitDebug } from '../debug.js';
import { hashI, hashR } from '../keys.js';
import { MESSAGE_RULES, checkMessage } from '../message-rules.js';
import { checkNatd, floatIfNeeded, natdPayloads, readVids, vids } from '../nat-t.js';
import { findPreSharedKey, matchProfile, selfIdentity } from '../peer-config.js';
import { acceptPhase1Reply, buildPhase1Sa, type IsakmpPolicy } from '../policy.js';
import { decodePlain, decrypt1, plainNotifyFailure, sendEncrypted1, sendPlain } from '../protection.js';
import type { Datagram } from '../types.js';
import { find, peerIdentity, stripId } from '../util.js';
import { handleNotifies, initialContact } from './informational.js';
import { Phase1Task } from './phase1.js';

export class MainModeTask extends Phase1Task {
  readonly name = 'main-mode';
  readonly exchange = ExchangeType.IDENTITY_PROTECTION;

  /** Initiator, message 1: HDR, SA (every usable policy), vendor IDs. */
  start(policies: IsakmpPolicy[], psk: string): void {
    const sa = this.sa;
    this.psk = psk;
    this.offeredPolicies = policies;
    const saPayload = buildPhase1Sa(policies);
    this.saiB = encodePayloadBody(saPayload);
    emitDebug(this.ctx.debug(sa, 0), 'beginning Main Mode exchange');
    sa.state = 'MM_NO_STATE';
    sendPlain(this.ctx, sa, ExchangeType.IDENTITY_PROTECTION, [saPayload, ...vids(this.ctx)], true);
  }

  process(d: Datagram, data: Uint8Array, flags: number): void {
    if (this.role === 'initiator') this.initiator(d, data, flags);
    else this.responder(d, data, flags);
  }

  private initiator(d: Datagram, data: Uint8Array, flags: number): void {
    const { ctx, sa } = this;
    const dbg = ctx.debug(sa, sa.connId);
    const encrypted = (flags & HeaderFlag.ENCRYPTION) !== 0;
    if (sa.state === 'MM_NO_STATE' && !encrypted) {
      const msg = decodePlain(data);
      if (plainNotifyFailure(ctx, sa, msg)) return;
      if (!checkMessage(MESSAGE_RULES.MAIN_I1, msg).ok) return ctx.drop();
      const params = acceptPhase1Reply(find<SaPayload>(msg, PayloadType.SA)!, this.offeredPolicies);
      if ('reason' in params) return ctx.fail(sa, `bad SA reply: ${params.reason}`);
      readVids(ctx, sa, msg);
      this.setParams(params);
      this.dh = createIkeV1Dh(params.group);
      this.gxi = this.dh.publicKey;
      this.ni = ctx.random(32);
      sa.lastRx = data.slice();
      sa.state = 'MM_SA_SETUP';
      emitDebug(dbg, 'SA has been authenticated with ' + sa.remote.address);
      sendPlain(ctx, sa, ExchangeType.IDENTITY_PROTECTION, [
        { type: PayloadType.KE, keyData: this.gxi },
        { type: PayloadType.NONCE, data: this.ni },
        ...natdPayloads(ctx, sa),
      ], true);
      return;
    }
    if (sa.state === 'MM_SA_SETUP' && !encrypted) {
      const msg = decodePlain(data);
      if (plainNotifyFailure(ctx, sa, msg)) return;
      if (!checkMessage(MESSAGE_RULES.MAIN_I2, msg).ok) return ctx.drop();
      this.gxr = find<{ keyData: Uint8Array }>(msg, PayloadType.KE)!.keyData;
      this.nr = find<{ data: Uint8Array }>(msg, PayloadType.NONCE)!.data;
      if (!this.deriveKeys()) return ctx.fail(sa, 'invalid key exchange data');
      checkNatd(ctx, sa, msg, d);
      sa.lastRx = data.slice();
      sa.state = 'MM_KEY_EXCH';
      floatIfNeeded(ctx, sa);
      this.idI = selfIdentity(ctx.settings.peerConfig, sa.profile, sa.local.address);
      const hi = hashI(sa.hash!, sa.keys!.skeyid, this.gxi!, this.gxr, sa.ckyI, sa.ckyR, this.saiB!, encodePayloadBody(this.idI));
      const payloads: Payload[] = [this.idI, { type: PayloadType.HASH, data: hi }];
      if (sa.initialContactWanted) payloads.push(initialContact(sa));
      sendEncrypted1(ctx, sa, ExchangeType.IDENTITY_PROTECTION, payloads, true);
      return;
    }
    if (sa.state === 'MM_KEY_EXCH' && encrypted) {
      const dec = decrypt1(sa, data);
      if (!dec || !checkMessage(MESSAGE_RULES.MAIN_I3, dec.payloads).ok) return ctx.drop();
      const id = find<IdPayload>(dec.payloads, PayloadType.ID)!;
      const hp = find<{ data: Uint8Array }>(dec.payloads, PayloadType.HASH)!;
      const expect = hashR(sa.hash!, sa.keys!.skeyid, this.gxi!, this.gxr!, sa.ckyI, sa.ckyR, this.saiB!, (id as unknown as DecodedPayload).body);
      if (!bytesEqual(expect, hp.data)) {
        emitDebug(dbg, 'phase 1 HASH_R does not verify (pre-shared key mismatch?)', true);
        return ctx.drop();
      }
      sa.iv = dec.nextIv;
      ctx.authenticated(sa);
      this.idR = stripId(id);
      sa.peerId = formatId(id);
      sa.peerIdType = id.idType;
      sa.lastRx = data.slice();
      sa.retx = undefined;
      // MM6 ends the exchange: a duplicate of it must not trigger our MM5 again.
      sa.lastReply = undefined;
      ctx.established(sa);
      handleNotifies(ctx, sa, dec.payloads);
      return;
    }
    ctx.drop();
  }

  private responder(d: Datagram, data: Uint8Array, flags: number): void {
    const { ctx, sa } = this;
    const dbg = ctx.debug(sa, sa.connId);
    const encrypted = (flags & HeaderFlag.ENCRYPTION) !== 0;
    if (sa.state === 'MM_SA_SETUP' && !encrypted) {
      const msg = decodePlain(data);
      if (!checkMessage(MESSAGE_RULES.MAIN_R1, msg).ok) return ctx.drop();
      const psk = findPreSharedKey(ctx.settings.peerConfig, {
        localAddress: d.local.address, peerAddress: d.remote.address, ...(sa.fvrf ? { fvrf: sa.fvrf } : {}),
      }, ctx.debug(sa, 0));
      if (!psk) {
        ctx.event({ type: 'phase1-failed', connId: sa.connId, remote: sa.remote, reason: 'no pre-shared key for peer' });
        ctx.forget(sa);
        return;
      }
      if (!this.respondKeyExchange(psk.key, msg)) return ctx.drop();
      checkNatd(ctx, sa, msg, d);
      sa.lastRx = data.slice();
      sa.state = 'MM_KEY_EXCH';
      sendPlain(ctx, sa, ExchangeType.IDENTITY_PROTECTION, [
        { type: PayloadType.KE, keyData: this.gxr! },
        { type: PayloadType.NONCE, data: this.nr! },
        ...natdPayloads(ctx, sa),
      ], false);
      return;
    }
    if (sa.state === 'MM_KEY_EXCH' && encrypted) {
      const dec = decrypt1(sa, data);
      if (!dec || !checkMessage(MESSAGE_RULES.MAIN_R2, dec.payloads).ok) {
        emitDebug(dbg, `IKE message from ${d.remote.address} failed its sanity check or is malformed (pre-shared key mismatch?)`, true);
        ctx.fail(sa, 'message 5 malformed: pre-shared key mismatch?');
        return;
      }
      const id = find<IdPayload>(dec.payloads, PayloadType.ID)!;
      const hp = find<{ data: Uint8Array }>(dec.payloads, PayloadType.HASH)!;
      const expect = hashI(sa.hash!, sa.keys!.skeyid, this.gxi!, this.gxr!, sa.ckyI, sa.ckyR, this.saiB!, (id as unknown as DecodedPayload).body);
      if (!bytesEqual(expect, hp.data)) {
        emitDebug(dbg, 'phase 1 HASH_I does not verify (pre-shared key mismatch?)', true);
        ctx.fail(sa, 'authentication failed: HASH_I mismatch');
        return;
      }
      sa.iv = dec.nextIv;
      ctx.authenticated(sa);
      this.idI = stripId(id);
      sa.peerId = formatId(id);
      sa.peerIdType = id.idType;
      sa.lastRx = data.slice();
      const peer = peerIdentity(id, sa.remote.address);
      sa.profile = matchProfile(ctx.settings.peerConfig, { localAddress: sa.local.address, peer, peerAddress: sa.remote.address, ...(sa.fvrf ? { fvrf: sa.fvrf } : {}) }, ctx.debug(sa, sa.connId));
      this.idR = selfIdentity(ctx.settings.peerConfig, sa.profile, sa.local.address);
      const hr = hashR(sa.hash!, sa.keys!.skeyid, this.gxi!, this.gxr!, sa.ckyI, sa.ckyR, this.saiB!, encodePayloadBody(this.idR));
      sendEncrypted1(ctx, sa, ExchangeType.IDENTITY_PROTECTION, [this.idR, { type: PayloadType.HASH, data: hr }], false);
      ctx.established(sa);
      handleNotifies(ctx, sa, dec.payloads);
      return;
    }
    ctx.drop();
  }
}
