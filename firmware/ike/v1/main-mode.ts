// Main Mode (RFC 2409 5: identity protection) with pre-shared keys, both roles, and the
// responder side of the first message of Main and Aggressive Mode (policy selection).
import { ExchangeType, HeaderFlag, NotifyType, PayloadType, bytesEqual, encodePayloadBody, formatId, type DecodedPayload, type IdPayload, type Payload, type SaPayload } from '../../proto/ikev1/index.js';
import { isSupportedDhGroup } from '../crypto/index.js';
import { createIkeV1Dh } from './dh-fast.js';
import { emitDebug } from './debug.js';
import { hashI, hashR } from './keys.js';
import { findPreSharedKey, matchProfile, selfIdentity } from './peer-config.js';
import { acceptPhase1Reply, selectPhase1 } from './policy.js';
import type { Datagram, Phase1 } from './types.js';
import { find, stripId, peerIdentity } from './util.js';
import { handleNotifies, initialContact } from './informational.js';
import { vids, readVids, natdPayloads, checkNatd, floatIfNeeded } from './nat-t.js';
import { decodePlain, plainNotifyFailure, sendNotifyPlain, sendPlain, sendEncrypted1, decrypt1 } from './protection.js';
import type { IkeV1Engine as Core } from './engine.js';

export function respondPhase1Start(core: Core, d: Datagram, data: Uint8Array, exchangeType: number): void {
  if (!core.admit('incoming', d.remote.address)) {
    core.counters.halfOpenRejected++;
    return;
  }
  const msg = decodePlain(core, data);
  const now = core.o.now();
  const mode = exchangeType === ExchangeType.AGGRESSIVE ? 'aggressive' : 'main';
  const sa = core.newPhase1('responder', mode, data.slice(0, 8), core.rnd(8), d.local, d.remote, now);
  const ctx = core.dbg(sa, 0);
  const saP = msg.find((p) => p.type === PayloadType.SA) as (SaPayload & DecodedPayload) | undefined;
  if (!saP) return core.drop();
  readVids(core, sa, msg);
  emitDebug(ctx, `processing SA payload. message ID = 0`);
  const choice = selectPhase1(saP, core.o.policies, isSupportedDhGroup);
  if ('reason' in choice) {
    emitDebug(ctx, `atts are not acceptable. Next payload is 0`, true);
    sendNotifyPlain(core, sa, exchangeType, NotifyType.NO_PROPOSAL_CHOSEN);
    core.events.push({ type: 'phase1-failed', connId: sa.connId, remote: sa.remote, reason: `no proposal chosen: ${choice.reason}`, notifyType: NotifyType.NO_PROPOSAL_CHOSEN });
    return;
  }
  emitDebug(ctx, `atts are acceptable. Next payload is 0`);
  emitDebug(ctx, `Checking ISAKMP transform against priority ${choice.policy.priority} policy`);
  sa.saiB = saP.body;
  core.setParams(sa, choice.params);
  sa.lastRx = data.slice();
  if (mode === 'main') {
    core.sas.set(core.key(sa), sa);
    core.trackHalfOpen(sa);
    sa.state = 'MM_SA_SETUP';
    sendPlain(core, sa, ExchangeType.IDENTITY_PROTECTION, [choice.sa, ...vids(core)], false);
    return;
  }
  // Aggressive mode message 1: SA, KE, Ni, IDii
  const ke = msg.find((p) => p.type === PayloadType.KE) as ({ keyData: Uint8Array } & DecodedPayload) | undefined;
  const nonce = msg.find((p) => p.type === PayloadType.NONCE) as ({ data: Uint8Array } & DecodedPayload) | undefined;
  const id = msg.find((p) => p.type === PayloadType.ID) as (IdPayload & DecodedPayload) | undefined;
  if (!ke || !nonce || !id || nonce.data.length < 8 || nonce.data.length > 256) return core.drop();
  sa.idI = stripId(id);
  sa.peerId = formatId(id);
  const peer = peerIdentity(id, d.remote.address);
  sa.profile = matchProfile(core.o.peerConfig, { localAddress: d.local.address, peer, peerAddress: d.remote.address }, core.dbg(sa, sa.connId));
  const psk = findPreSharedKey(core.o.peerConfig, {
    localAddress: d.local.address, peerAddress: d.remote.address,
    ...(peer.kind === 'fqdn' ? { peerHostname: peer.fqdn } : {}),
    ...(sa.profile && sa.profile.keyrings.length > 0 ? { keyrings: sa.profile.keyrings } : {}),
  }, ctx);
  if (!psk) {
    core.events.push({ type: 'phase1-failed', connId: sa.connId, remote: sa.remote, reason: 'no pre-shared key for peer' });
    return;
  }
  sa.psk = psk.key;
  sa.dh = createIkeV1Dh(sa.params!.group);
  sa.gxi = ke.keyData;
  sa.gxr = sa.dh.publicKey;
  sa.ni = nonce.data;
  sa.nr = core.rnd(32);
  if (!core.computeKeys(sa)) return;
  sa.idR = selfIdentity(core.o.peerConfig, sa.profile, d.local.address);
  const hr = hashR(sa.hash!, sa.keys!.skeyid, sa.gxi, sa.gxr, sa.ckyI, sa.ckyR, sa.saiB, encodePayloadBody(sa.idR));
  core.sas.set(core.key(sa), sa);
  core.trackHalfOpen(sa);
  sa.state = 'AG_INIT_EXCH';
  sendPlain(core, sa, ExchangeType.AGGRESSIVE, [
    choice.sa,
    { type: PayloadType.KE, keyData: sa.gxr },
    { type: PayloadType.NONCE, data: sa.nr },
    sa.idR,
    ...vids(core),
    ...natdPayloads(core, sa),
    { type: PayloadType.HASH, data: hr },
  ], false);
}

export function mainInitiator(core: Core, sa: Phase1, d: Datagram, data: Uint8Array, flags: number): void {
  const ctx = core.dbg(sa, sa.connId);
  if (sa.state === 'MM_NO_STATE' && !(flags & HeaderFlag.ENCRYPTION)) {
    const msg = decodePlain(core, data);
    if (plainNotifyFailure(core, sa, msg)) return;
    const saP = msg.find((p) => p.type === PayloadType.SA) as SaPayload | undefined;
    if (!saP) return core.drop();
    const params = acceptPhase1Reply(saP, sa.offeredPolicies);
    if ('reason' in params) return core.fail1(sa, `bad SA reply: ${params.reason}`);
    readVids(core, sa, msg);
    core.setParams(sa, params);
    sa.dh = createIkeV1Dh(params.group);
    sa.gxi = sa.dh.publicKey;
    sa.ni = core.rnd(32);
    sa.lastRx = data.slice();
    sa.state = 'MM_SA_SETUP';
    emitDebug(ctx, 'SA has been authenticated with ' + sa.remote.address);
    sendPlain(core, sa, ExchangeType.IDENTITY_PROTECTION, [
      { type: PayloadType.KE, keyData: sa.gxi },
      { type: PayloadType.NONCE, data: sa.ni },
      ...natdPayloads(core, sa),
    ], true);
    return;
  }
  if (sa.state === 'MM_SA_SETUP' && !(flags & HeaderFlag.ENCRYPTION)) {
    const msg = decodePlain(core, data);
    if (plainNotifyFailure(core, sa, msg)) return;
    const ke = find<{ keyData: Uint8Array }>(msg, PayloadType.KE);
    const nonce = find<{ data: Uint8Array }>(msg, PayloadType.NONCE);
    if (!ke || !nonce || nonce.data.length < 8 || nonce.data.length > 256) return core.drop();
    sa.gxr = ke.keyData;
    sa.nr = nonce.data;
    if (!core.computeKeys(sa)) return core.fail1(sa, 'invalid key exchange data');
    checkNatd(core, sa, msg, d);
    sa.lastRx = data.slice();
    sa.state = 'MM_KEY_EXCH';
    floatIfNeeded(core, sa);
    sa.idI = selfIdentity(core.o.peerConfig, sa.profile, sa.local.address);
    const hi = hashI(sa.hash!, sa.keys!.skeyid, sa.gxi!, sa.gxr, sa.ckyI, sa.ckyR, sa.saiB!, encodePayloadBody(sa.idI));
    const payloads: Payload[] = [sa.idI, { type: PayloadType.HASH, data: hi }];
    if (sa.initialContactWanted) payloads.push(initialContact(core, sa));
    sendEncrypted1(core, sa, ExchangeType.IDENTITY_PROTECTION, payloads, true);
    return;
  }
  if (sa.state === 'MM_KEY_EXCH' && (flags & HeaderFlag.ENCRYPTION)) {
    const dec = decrypt1(core, sa, data);
    if (!dec) return core.drop();
    const id = find<IdPayload>(dec.payloads, PayloadType.ID);
    const hp = find<{ data: Uint8Array }>(dec.payloads, PayloadType.HASH);
    if (!id || !hp) return core.drop();
    const expect = hashR(sa.hash!, sa.keys!.skeyid, sa.gxi!, sa.gxr!, sa.ckyI, sa.ckyR, sa.saiB!, (id as unknown as DecodedPayload).body);
    if (!bytesEqual(expect, hp.data)) {
      emitDebug(ctx, 'phase 1 HASH_R does not verify (pre-shared key mismatch?)', true);
      return core.drop();
    }
    sa.iv = dec.nextIv;
    core.authenticated(sa);
    sa.idR = stripId(id);
    sa.peerId = formatId(id);
    sa.lastRx = data.slice();
    sa.retx = undefined;
    // MM6 ends the exchange: a duplicate of it must not trigger our MM5 again.
    sa.lastReply = undefined;
    core.established(sa);
    handleNotifies(core, sa, dec.payloads);
    return;
  }
  core.drop();
}

export function mainResponder(core: Core, sa: Phase1, d: Datagram, data: Uint8Array, flags: number): void {
  const ctx = core.dbg(sa, sa.connId);
  if (sa.state === 'MM_SA_SETUP' && !(flags & HeaderFlag.ENCRYPTION)) {
    const msg = decodePlain(core, data);
    const ke = find<{ keyData: Uint8Array }>(msg, PayloadType.KE);
    const nonce = find<{ data: Uint8Array }>(msg, PayloadType.NONCE);
    if (!ke || !nonce || nonce.data.length < 8 || nonce.data.length > 256) return core.drop();
    const psk = findPreSharedKey(core.o.peerConfig, {
      localAddress: d.local.address, peerAddress: d.remote.address, ...(sa.fvrf ? { fvrf: sa.fvrf } : {}),
    }, core.dbg(sa, 0));
    if (!psk) {
      core.events.push({ type: 'phase1-failed', connId: sa.connId, remote: sa.remote, reason: 'no pre-shared key for peer' });
      core.forget(sa);
      return;
    }
    sa.psk = psk.key;
    sa.dh = createIkeV1Dh(sa.params!.group);
    sa.gxi = ke.keyData;
    sa.gxr = sa.dh.publicKey;
    sa.ni = nonce.data;
    sa.nr = core.rnd(32);
    if (!core.computeKeys(sa)) return core.drop();
    checkNatd(core, sa, msg, d);
    sa.lastRx = data.slice();
    sa.state = 'MM_KEY_EXCH';
    sendPlain(core, sa, ExchangeType.IDENTITY_PROTECTION, [
      { type: PayloadType.KE, keyData: sa.gxr },
      { type: PayloadType.NONCE, data: sa.nr },
      ...natdPayloads(core, sa),
    ], false);
    return;
  }
  if (sa.state === 'MM_KEY_EXCH' && (flags & HeaderFlag.ENCRYPTION)) {
    const dec = decrypt1(core, sa, data);
    const id = dec && find<IdPayload>(dec.payloads, PayloadType.ID);
    const hp = dec && find<{ data: Uint8Array }>(dec.payloads, PayloadType.HASH);
    if (!dec || !id || !hp) {
      emitDebug(ctx, `IKE message from ${d.remote.address} failed its sanity check or is malformed (pre-shared key mismatch?)`, true);
      core.fail1(sa, 'message 5 malformed: pre-shared key mismatch?');
      return;
    }
    const expect = hashI(sa.hash!, sa.keys!.skeyid, sa.gxi!, sa.gxr!, sa.ckyI, sa.ckyR, sa.saiB!, (id as unknown as DecodedPayload).body);
    if (!bytesEqual(expect, hp.data)) {
      emitDebug(ctx, 'phase 1 HASH_I does not verify (pre-shared key mismatch?)', true);
      core.fail1(sa, 'authentication failed: HASH_I mismatch');
      return;
    }
    sa.iv = dec.nextIv;
    core.authenticated(sa);
    sa.idI = stripId(id);
    sa.peerId = formatId(id);
    sa.lastRx = data.slice();
    const peer = peerIdentity(id, sa.remote.address);
    sa.profile = matchProfile(core.o.peerConfig, { localAddress: sa.local.address, peer, peerAddress: sa.remote.address, ...(sa.fvrf ? { fvrf: sa.fvrf } : {}) }, core.dbg(sa, sa.connId));
    sa.idR = selfIdentity(core.o.peerConfig, sa.profile, sa.local.address);
    const hr = hashR(sa.hash!, sa.keys!.skeyid, sa.gxi!, sa.gxr!, sa.ckyI, sa.ckyR, sa.saiB!, encodePayloadBody(sa.idR));
    sendEncrypted1(core, sa, ExchangeType.IDENTITY_PROTECTION, [sa.idR, { type: PayloadType.HASH, data: hr }], false);
    core.established(sa);
    handleNotifies(core, sa, dec.payloads);
    return;
  }
  core.drop();
}
