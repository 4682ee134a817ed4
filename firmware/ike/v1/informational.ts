// Informational exchanges (RFC 2408 4.8, RFC 2409 5.7): DELETE, INITIAL-CONTACT, error notifies,
// and RFC 3706 Dead Peer Detection (R-U-THERE / R-U-THERE-ACK with sequence numbers).
import { DOI_IPSEC, ExchangeType, HeaderFlag, NotifyType, PayloadType, ProtocolId, bytesEqual, concatBytes, encodePayloadChain, notifyTypeName, type DecodedPayload, type NotifyPayload, type Payload } from '../../proto/ikev1/index.js';
import { emitDebug } from './debug.js';
import { hash1, phase2Iv } from './keys.js';
import type { Phase2, Phase1 } from './types.js';
import { readU32, u32bytes } from './util.js';
import { decodePlain, plainNotifyFailure, sendEncrypted2, decrypt2 } from './protection.js';
import type { IkeV1Engine as Core } from './engine.js';

export function informational(core: Core, sa: Phase1, data: Uint8Array, msgId: number, flags: number): void {
  if (!(flags & HeaderFlag.ENCRYPTION)) {
    // Unauthenticated notify: only act on errors for a phase 1 we are still negotiating.
    if (sa.established) return core.drop();
    const msg = decodePlain(core, data);
    plainNotifyFailure(core, sa, msg);
    return;
  }
  if (!sa.keys || !sa.iv || msgId === 0) return core.drop();
  const x: Phase2 = { msgId, kind: 'info', role: 'responder', iv: phase2Iv(sa.hash!, sa.iv, msgId, sa.enc!.blockLen), done: true, createdAt: core.o.now() };
  const dec = decrypt2(core, sa, x, data);
  if (!dec) return core.drop();
  const p = dec.payloads;
  if (p[0]?.type !== PayloadType.HASH || p.length < 2) return core.drop();
  const expect = hash1(sa.hash!, sa.keys.a, msgId, dec.plain.subarray(p[1]!.start, p[p.length - 1]!.end));
  if (!bytesEqual(expect, (p[0] as unknown as { data: Uint8Array }).data)) return core.drop();
  if (!core.rememberMsgId(sa, msgId)) return core.drop();
  core.authenticated(sa);
  handleNotifies(core, sa, p);
  for (const q of p) {
    if (q.type !== PayloadType.D) continue;
    const del = q as unknown as { protocolId: number; spis: Uint8Array[] };
    if (del.protocolId === ProtocolId.PROTO_ISAKMP) {
      if (del.spis.some((s) => s.length === 16 && bytesEqual(s.subarray(0, 8), sa.ckyI) && bytesEqual(s.subarray(8), sa.ckyR))) {
        emitDebug(core.dbg(sa, sa.connId), 'peer deleted the ISAKMP SA');
        core.removePhase1(sa, 'deleted-by-peer');
        return;
      }
    } else {
      for (const s of del.spis) {
        if (s.length !== 4) continue;
        const out = readU32(s);
        for (const [inSpi, rec] of [...core.ipsec]) {
          if (rec.info.outbound.spi === out && rec.info.remote.address === sa.remote.address) {
            core.ipsec.delete(inSpi);
            core.events.push({ type: 'ipsec-deleted', remote: rec.info.remote, protocol: rec.info.protocol, inboundSpi: inSpi, outboundSpi: out, reason: 'deleted-by-peer' });
          }
        }
      }
    }
  }
}

export function handleNotifies(core: Core, sa: Phase1, p: DecodedPayload[]): void {
  for (const q of p) {
    if (q.type !== PayloadType.N) continue;
    const n = q as unknown as NotifyPayload;
    switch (n.notifyType) {
      case NotifyType.INITIAL_CONTACT:
        initialContactReceived(core, sa);
        break;
      case NotifyType.R_U_THERE:
        if (n.data.length === 4 && n.spi.length === 16) {
          sendInformational(core, sa, [{ type: PayloadType.N, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spi: concatBytes(sa.ckyI, sa.ckyR), notifyType: NotifyType.R_U_THERE_ACK, data: n.data }]);
        }
        break;
      case NotifyType.R_U_THERE_ACK:
        if (n.data.length === 4 && sa.dpdOutstanding && readU32(n.data) === sa.dpdOutstanding.seq) sa.dpdOutstanding = undefined;
        break;
      default:
        core.events.push({ type: 'notify', connId: sa.connId, remote: sa.remote, notifyType: n.notifyType, name: notifyTypeName(n.notifyType) });
        if (n.notifyType < 16384) {
          for (const x of [...sa.exchanges.values()]) {
            if (x.kind === 'quick' && x.role === 'initiator' && !x.done) {
              sa.exchanges.delete(x.msgId);
              core.events.push({ type: 'ipsec-failed', connId: sa.connId, remote: sa.remote, reason: notifyTypeName(n.notifyType), notifyType: n.notifyType });
            }
          }
        }
    }
  }
}

export function initialContactReceived(core: Core, sa: Phase1): void {
  emitDebug(core.dbg(sa, sa.connId), 'received INITIAL-CONTACT: deleting old SAs with this peer');
  for (const other of [...core.sas.values()]) {
    if (other !== sa && other.remote.address === sa.remote.address && other.established) core.removePhase1(other, 'initial-contact');
  }
  for (const [spi, rec] of [...core.ipsec]) {
    if (rec.info.remote.address === sa.remote.address && rec.info.connId !== sa.connId) {
      core.ipsec.delete(spi);
      core.events.push({ type: 'ipsec-deleted', remote: rec.info.remote, protocol: rec.info.protocol, inboundSpi: spi, outboundSpi: rec.info.outbound.spi, reason: 'initial-contact' });
    }
  }
}

export function dpdTick(core: Core, sa: Phase1, now: number): void {
  const dpd = core.o.dpd!;
  const max = dpd.maxRetries ?? 5;
  if (sa.dpdOutstanding) {
    if (now < sa.dpdOutstanding.sentAt + dpd.retrySec * 1000) return;
    if (sa.dpdOutstanding.tries > max) {
      emitDebug(core.dbg(sa, sa.connId), `DPD: peer ${sa.remote.address} not responding, declaring it dead`, true);
      core.events.push({ type: 'peer-dead', connId: sa.connId, remote: sa.remote });
      for (const [spi, rec] of [...core.ipsec]) {
        if (rec.info.remote.address === sa.remote.address) {
          core.ipsec.delete(spi);
          core.events.push({ type: 'ipsec-deleted', remote: rec.info.remote, protocol: rec.info.protocol, inboundSpi: spi, outboundSpi: rec.info.outbound.spi, reason: 'dpd' });
        }
      }
      core.removePhase1(sa, 'dpd');
      return;
    }
    sendDpd(core, sa, now, sa.dpdOutstanding.tries + 1);
    return;
  }
  if (dpd.mode === 'on-demand' && sa.lastSentTrafficAt <= sa.lastHeardAt) return;
  if (now >= sa.lastHeardAt + dpd.intervalSec * 1000) sendDpd(core, sa, now, 1);
}

export function sendDpd(core: Core, sa: Phase1, now: number, tries: number): void {
  sa.dpdSeq = (sa.dpdSeq + 1) >>> 0;
  sa.dpdOutstanding = { seq: sa.dpdSeq, sentAt: now, tries };
  emitDebug(core.dbg(sa, sa.connId), `DPD/R_U_THERE sequence ${sa.dpdSeq} sent`);
  sendInformational(core, sa, [{ type: PayloadType.N, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spi: concatBytes(sa.ckyI, sa.ckyR), notifyType: NotifyType.R_U_THERE, data: u32bytes(sa.dpdSeq) }]);
}

export function sendInformational(core: Core, sa: Phase1, body: Payload[]): void {
  if (!sa.keys || !sa.iv) return;
  const msgId = core.newMsgId(sa);
  const x: Phase2 = { msgId, kind: 'info', role: 'initiator', iv: phase2Iv(sa.hash!, sa.iv, msgId, sa.enc!.blockLen), done: true, createdAt: core.o.now() };
  const restBytes = encodePayloadChain(body).bytes;
  const h = hash1(sa.hash!, sa.keys.a, msgId, restBytes);
  sendEncrypted2(core, sa, x, ExchangeType.INFORMATIONAL, [{ type: PayloadType.HASH, data: h }, ...body], false);
}

export function initialContact(_core: Core, sa: Phase1): Payload {
  return { type: PayloadType.N, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spi: concatBytes(sa.ckyI, sa.ckyR), notifyType: NotifyType.INITIAL_CONTACT, data: new Uint8Array(0) };
}
