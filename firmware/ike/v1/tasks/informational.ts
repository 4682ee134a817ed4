// Informational exchanges (RFC 2408 4.8, RFC 2409 5.7): DELETE, INITIAL-CONTACT, error notifies,
// and RFC 3706 Dead Peer Detection (R-U-THERE / R-U-THERE-ACK with sequence numbers). One
// message each, so no task object lives on: the engine hands them over and forgets them.
import { DOI_IPSEC, ExchangeType, HeaderFlag, NotifyType, PayloadType, ProtocolId, bytesEqual, concatBytes, encodePayloadChain, notifyTypeName, type DecodedPayload, type NotifyPayload, type Payload } from '../../../proto/ikev1/index.js';
import type { V1Context } from '../context.js';
import { emitDebug } from '../debug.js';
import { hash1, phase2Iv } from '../keys.js';
import { MESSAGE_RULES, checkMessage } from '../message-rules.js';
import { decodePlain, decrypt2, plainNotifyFailure, sendEncrypted2 } from '../protection.js';
import type { Phase1, Phase2 } from '../types.js';
import { readU32, u32bytes } from '../util.js';

/** An informational message received on `sa`. */
export function receiveInformational(ctx: V1Context, sa: Phase1, data: Uint8Array, msgId: number, flags: number): void {
  if (!(flags & HeaderFlag.ENCRYPTION)) {
    // Unauthenticated notify: only act on errors for a phase 1 we are still negotiating.
    if (sa.established) return ctx.drop();
    plainNotifyFailure(ctx, sa, decodePlain(data));
    return;
  }
  if (!sa.keys || !sa.iv || msgId === 0) return ctx.drop();
  const x: Phase2 = { msgId, kind: 'info', role: 'responder', iv: phase2Iv(sa.hash!, sa.iv, msgId, sa.enc!.blockLen), done: true, createdAt: ctx.now() };
  const dec = decrypt2(sa, x, data);
  if (!dec) return ctx.drop();
  const p = dec.payloads;
  // HASH(1) covers what follows it: an informational without a payload after it says nothing.
  if (!checkMessage(MESSAGE_RULES.INFO, p).ok || p.length < 2) return ctx.drop();
  const expect = hash1(sa.hash!, sa.keys.a, msgId, dec.plain.subarray(p[1]!.start, p[p.length - 1]!.end));
  if (!bytesEqual(expect, (p[0] as unknown as { data: Uint8Array }).data)) return ctx.drop();
  if (!ctx.rememberMsgId(sa, msgId)) return ctx.drop();
  ctx.authenticated(sa);
  handleNotifies(ctx, sa, p);
  for (const q of p) {
    if (q.type !== PayloadType.D) continue;
    const del = q as unknown as { protocolId: number; spis: Uint8Array[] };
    if (del.protocolId === ProtocolId.PROTO_ISAKMP) {
      if (del.spis.some((s) => s.length === 16 && bytesEqual(s.subarray(0, 8), sa.ckyI) && bytesEqual(s.subarray(8), sa.ckyR))) {
        emitDebug(ctx.debug(sa, sa.connId), 'peer deleted the ISAKMP SA');
        ctx.remove(sa, 'deleted-by-peer');
        return;
      }
    } else {
      for (const s of del.spis) {
        if (s.length !== 4) continue;
        const out = readU32(s);
        ctx.dropIpsec((i) => i.outbound.spi === out && i.remote.address === sa.remote.address, 'deleted-by-peer');
      }
    }
  }
}

/** Notifies in an authenticated message (informational, or the last of a phase 1). */
export function handleNotifies(ctx: V1Context, sa: Phase1, p: DecodedPayload[]): void {
  for (const q of p) {
    if (q.type !== PayloadType.N) continue;
    const n = q as unknown as NotifyPayload;
    switch (n.notifyType) {
      case NotifyType.INITIAL_CONTACT:
        initialContactReceived(ctx, sa);
        break;
      case NotifyType.R_U_THERE:
        if (n.data.length === 4 && n.spi.length === 16) {
          sendInformational(ctx, sa, [{ type: PayloadType.N, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spi: concatBytes(sa.ckyI, sa.ckyR), notifyType: NotifyType.R_U_THERE_ACK, data: n.data }]);
        }
        break;
      case NotifyType.R_U_THERE_ACK:
        if (n.data.length === 4 && sa.dpdOutstanding && readU32(n.data) === sa.dpdOutstanding.seq) sa.dpdOutstanding = undefined;
        break;
      default:
        ctx.event({ type: 'notify', connId: sa.connId, remote: sa.remote, notifyType: n.notifyType, name: notifyTypeName(n.notifyType) });
        if (n.notifyType < 16384) {
          for (const x of [...sa.exchanges.values()]) {
            if (x.kind === 'quick' && x.role === 'initiator' && !x.done) {
              sa.exchanges.delete(x.msgId);
              ctx.event({ type: 'ipsec-failed', connId: sa.connId, remote: sa.remote, reason: notifyTypeName(n.notifyType), notifyType: n.notifyType });
            }
          }
        }
    }
  }
}

function initialContactReceived(ctx: V1Context, sa: Phase1): void {
  emitDebug(ctx.debug(sa, sa.connId), 'received INITIAL-CONTACT: deleting old SAs with this peer');
  for (const other of ctx.othersWithPeer(sa)) ctx.remove(other, 'initial-contact');
  ctx.dropIpsec((i) => i.remote.address === sa.remote.address && i.connId !== sa.connId, 'initial-contact');
}

/** DPD on an established SA with a DPD-capable peer (called from the engine's tick). */
export function dpdTick(ctx: V1Context, sa: Phase1, now: number): void {
  const dpd = ctx.settings.dpd!;
  const max = dpd.maxRetries ?? 5;
  if (sa.dpdOutstanding) {
    if (now < sa.dpdOutstanding.sentAt + dpd.retrySec * 1000) return;
    if (sa.dpdOutstanding.tries > max) {
      emitDebug(ctx.debug(sa, sa.connId), `DPD: peer ${sa.remote.address} not responding, declaring it dead`, true);
      ctx.event({ type: 'peer-dead', connId: sa.connId, remote: sa.remote });
      ctx.dropIpsec((i) => i.remote.address === sa.remote.address, 'dpd');
      ctx.remove(sa, 'dpd');
      return;
    }
    sendDpd(ctx, sa, now, sa.dpdOutstanding.tries + 1);
    return;
  }
  if (dpd.mode === 'on-demand' && sa.lastSentTrafficAt <= sa.lastHeardAt) return;
  if (now >= sa.lastHeardAt + dpd.intervalSec * 1000) sendDpd(ctx, sa, now, 1);
}

function sendDpd(ctx: V1Context, sa: Phase1, now: number, tries: number): void {
  sa.dpdSeq = (sa.dpdSeq + 1) >>> 0;
  sa.dpdOutstanding = { seq: sa.dpdSeq, sentAt: now, tries };
  emitDebug(ctx.debug(sa, sa.connId), `DPD/R_U_THERE sequence ${sa.dpdSeq} sent`);
  sendInformational(ctx, sa, [{ type: PayloadType.N, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spi: concatBytes(sa.ckyI, sa.ckyR), notifyType: NotifyType.R_U_THERE, data: u32bytes(sa.dpdSeq) }]);
}

/** An informational message on an established SA (HASH(1) first). */
export function sendInformational(ctx: V1Context, sa: Phase1, body: Payload[]): void {
  if (!sa.keys || !sa.iv) return;
  const msgId = ctx.newMsgId(sa);
  const x: Phase2 = { msgId, kind: 'info', role: 'initiator', iv: phase2Iv(sa.hash!, sa.iv, msgId, sa.enc!.blockLen), done: true, createdAt: ctx.now() };
  const h = hash1(sa.hash!, sa.keys.a, msgId, encodePayloadChain(body).bytes);
  sendEncrypted2(ctx, sa, x, ExchangeType.INFORMATIONAL, [{ type: PayloadType.HASH, data: h }, ...body], false);
}

/** INITIAL-CONTACT (RFC 2407 4.6.3.3): the peer should forget older SAs with us. */
export function initialContact(sa: Phase1): Payload {
  return { type: PayloadType.N, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spi: concatBytes(sa.ckyI, sa.ckyR), notifyType: NotifyType.INITIAL_CONTACT, data: new Uint8Array(0) };
}
