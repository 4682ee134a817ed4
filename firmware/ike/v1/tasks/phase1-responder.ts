// The responder's side of a first message (Main Mode 1 or Aggressive Mode 1): call admission,
// policy selection, and the Main or Aggressive Mode task that takes the exchange from there.
import { ExchangeType, NotifyType, PayloadType, encodePayloadBody, formatId, type IdPayload, type SaPayload } from '../../../proto/ikev1/index.js';
import { isSupportedDhGroup } from '../../crypto/index.js';
import type { V1Context } from '../context.js';
import { emitDebug } from '../debug.js';
import { hashR } from '../keys.js';
import { MESSAGE_RULES, checkMessage } from '../message-rules.js';
import { natdPayloads, readVids, vids } from '../nat-t.js';
import { findPreSharedKey, matchProfile, selfIdentity } from '../peer-config.js';
import { selectPhase1 } from '../policy.js';
import { decodePlain, sendNotifyPlain, sendPlain } from '../protection.js';
import type { Datagram } from '../types.js';
import { find, peerIdentity, stripId } from '../util.js';
import { AggressiveModeTask } from './aggressive-mode.js';
import { MainModeTask } from './main-mode.js';

export function respondPhase1Start(ctx: V1Context, d: Datagram, data: Uint8Array, exchangeType: number): void {
  if (!ctx.admitResponder(d.remote.address)) return;
  const msg = decodePlain(data);
  const mode = exchangeType === ExchangeType.AGGRESSIVE ? 'aggressive' : 'main';
  const sa = ctx.newPhase1('responder', mode, data.slice(0, 8), ctx.random(8), d.local, d.remote);
  const dbg = ctx.debug(sa, 0);
  if (!checkMessage(MESSAGE_RULES.MAIN_R0, msg).ok) return ctx.drop();
  const saP = find<SaPayload>(msg, PayloadType.SA)!;
  readVids(ctx, sa, msg);
  emitDebug(dbg, `processing SA payload. message ID = 0`);
  const choice = selectPhase1(saP, ctx.settings.policies, isSupportedDhGroup);
  if ('reason' in choice) {
    emitDebug(dbg, `atts are not acceptable. Next payload is 0`, true);
    sendNotifyPlain(ctx, sa, exchangeType, NotifyType.NO_PROPOSAL_CHOSEN);
    ctx.event({ type: 'phase1-failed', connId: sa.connId, remote: sa.remote, reason: `no proposal chosen: ${choice.reason}`, notifyType: NotifyType.NO_PROPOSAL_CHOSEN });
    return;
  }
  emitDebug(dbg, `atts are acceptable. Next payload is 0`);
  emitDebug(dbg, `Checking ISAKMP transform against priority ${choice.policy.priority} policy`);
  if (mode === 'main') {
    const task = new MainModeTask(ctx, sa, 'responder');
    sa.task = task;
    task.saiB = saP.body;
    task.setParams(choice.params);
    sa.lastRx = data.slice();
    ctx.track(sa);
    sa.state = 'MM_SA_SETUP';
    sendPlain(ctx, sa, ExchangeType.IDENTITY_PROTECTION, [choice.sa, ...vids(ctx)], false);
    return;
  }
  // Aggressive mode message 1: SA, KE, Ni, IDii
  const task = new AggressiveModeTask(ctx, sa, 'responder');
  sa.task = task;
  task.saiB = saP.body;
  task.setParams(choice.params);
  sa.lastRx = data.slice();
  if (!checkMessage(MESSAGE_RULES.AGGR_R0, msg).ok) return ctx.drop();
  const id = find<IdPayload>(msg, PayloadType.ID)!;
  task.idI = stripId(id);
  sa.peerId = formatId(id);
  sa.peerIdType = id.idType;
  const peer = peerIdentity(id, d.remote.address);
  const fvrf = sa.fvrf ? { fvrf: sa.fvrf } : {};
  sa.profile = matchProfile(ctx.settings.peerConfig, { localAddress: d.local.address, peer, peerAddress: d.remote.address, ...fvrf }, ctx.debug(sa, sa.connId));
  const psk = findPreSharedKey(ctx.settings.peerConfig, {
    localAddress: d.local.address, peerAddress: d.remote.address, ...fvrf,
    ...(peer.kind === 'fqdn' ? { peerHostname: peer.fqdn } : {}),
    ...(sa.profile && sa.profile.keyrings.length > 0 ? { keyrings: sa.profile.keyrings } : {}),
  }, dbg);
  if (!psk) {
    ctx.event({ type: 'phase1-failed', connId: sa.connId, remote: sa.remote, reason: 'no pre-shared key for peer' });
    return;
  }
  if (!task.respondKeyExchange(psk.key, msg)) return;
  task.idR = selfIdentity(ctx.settings.peerConfig, sa.profile, d.local.address);
  const hr = hashR(sa.hash!, sa.keys!.skeyid, task.gxi!, task.gxr!, sa.ckyI, sa.ckyR, task.saiB!, encodePayloadBody(task.idR));
  ctx.track(sa);
  sa.state = 'AG_INIT_EXCH';
  sendPlain(ctx, sa, ExchangeType.AGGRESSIVE, [
    choice.sa,
    { type: PayloadType.KE, keyData: task.gxr! },
    { type: PayloadType.NONCE, data: task.nr! },
    task.idR,
    ...vids(ctx),
    ...natdPayloads(ctx, sa),
    { type: PayloadType.HASH, data: hr },
  ], false);
}
