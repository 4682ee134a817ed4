// Aggressive Mode (RFC 2409 5) with pre-shared keys: initiator (message 2) and responder (message 3).
// The initiator side of message 1 is in IkeV1Engine.initiate().
import { ExchangeType, HeaderFlag, PayloadType, bytesEqual, encodePayloadBody, formatId, type DecodedPayload, type IdPayload, type Payload, type SaPayload } from '../../proto/ikev1/index.js';
import { emitDebug } from './debug.js';
import { hashI, hashR } from './keys.js';
import { acceptPhase1Reply } from './policy.js';
import type { Datagram, Phase1 } from './types.js';
import { find, stripId } from './util.js';
import { handleNotifies, initialContact } from './informational.js';
import { readVids, natdPayloads, checkNatd, floatIfNeeded } from './nat-t.js';
import { decodePlain, plainNotifyFailure, sendEncrypted1, decrypt1 } from './protection.js';
import type { IkeV1Engine as Core } from './engine.js';

export function aggInitiator(core: Core, sa: Phase1, d: Datagram, data: Uint8Array, flags: number): void {
  const ctx = core.dbg(sa, sa.connId);
  if (sa.state !== 'AG_NO_STATE' || (flags & HeaderFlag.ENCRYPTION)) return core.drop();
  const msg = decodePlain(core, data);
  if (plainNotifyFailure(core, sa, msg)) return;
  const saP = find<SaPayload>(msg, PayloadType.SA);
  const ke = find<{ keyData: Uint8Array }>(msg, PayloadType.KE);
  const nonce = find<{ data: Uint8Array }>(msg, PayloadType.NONCE);
  const id = find<IdPayload>(msg, PayloadType.ID);
  const hp = find<{ data: Uint8Array }>(msg, PayloadType.HASH);
  if (!saP || !ke || !nonce || !id || !hp || nonce.data.length < 8 || nonce.data.length > 256) return core.drop();
  const params = acceptPhase1Reply(saP, sa.offeredPolicies);
  if ('reason' in params) return core.fail1(sa, `bad SA reply: ${params.reason}`);
  if (params.group !== sa.dh!.group) return core.fail1(sa, 'responder chose another DH group');
  readVids(core, sa, msg);
  core.setParams(sa, params);
  sa.gxr = ke.keyData;
  sa.nr = nonce.data;
  if (!core.computeKeys(sa)) return core.fail1(sa, 'invalid key exchange data');
  const expect = hashR(sa.hash!, sa.keys!.skeyid, sa.gxi!, sa.gxr, sa.ckyI, sa.ckyR, sa.saiB!, (id as unknown as DecodedPayload).body);
  if (!bytesEqual(expect, hp.data)) {
    emitDebug(ctx, 'phase 1 HASH_R does not verify (pre-shared key mismatch?)', true);
    return core.fail1(sa, 'authentication failed: HASH_R mismatch');
  }
  sa.idR = stripId(id);
  sa.peerId = formatId(id);
  checkNatd(core, sa, msg, d);
  sa.lastRx = data.slice();
  floatIfNeeded(core, sa);
  const hi = hashI(sa.hash!, sa.keys!.skeyid, sa.gxi!, sa.gxr, sa.ckyI, sa.ckyR, sa.saiB!, encodePayloadBody(sa.idI!));
  const payloads: Payload[] = [{ type: PayloadType.HASH, data: hi }, ...natdPayloads(core, sa)];
  if (sa.initialContactWanted) payloads.push(initialContact(core, sa));
  sendEncrypted1(core, sa, ExchangeType.AGGRESSIVE, payloads, false);
  core.established(sa);
}

export function aggResponder(core: Core, sa: Phase1, d: Datagram, data: Uint8Array, flags: number): void {
  const ctx = core.dbg(sa, sa.connId);
  if (sa.state !== 'AG_INIT_EXCH') return core.drop();
  let payloads: DecodedPayload[];
  let nextIv = sa.iv!;
  if (flags & HeaderFlag.ENCRYPTION) {
    const dec = decrypt1(core, sa, data);
    if (!dec) {
      core.fail1(sa, 'message 3 malformed: pre-shared key mismatch?');
      return;
    }
    payloads = dec.payloads;
    nextIv = dec.nextIv;
  } else {
    payloads = decodePlain(core, data);
  }
  const hp = find<{ data: Uint8Array }>(payloads, PayloadType.HASH);
  if (!hp) return core.drop();
  const expect = hashI(sa.hash!, sa.keys!.skeyid, sa.gxi!, sa.gxr!, sa.ckyI, sa.ckyR, sa.saiB!, encodePayloadBody(sa.idI!));
  if (!bytesEqual(expect, hp.data)) {
    emitDebug(ctx, 'phase 1 HASH_I does not verify (pre-shared key mismatch?)', true);
    core.fail1(sa, 'authentication failed: HASH_I mismatch');
    return;
  }
  sa.iv = nextIv;
  core.authenticated(sa);
  checkNatd(core, sa, payloads, d);
  sa.lastRx = data.slice();
  // AM3 ends the exchange: a duplicate of it must not trigger our AM2 again.
  sa.lastReply = undefined;
  core.established(sa);
  handleNotifies(core, sa, payloads);
}
