// Quick Mode (RFC 2409 5.5): HASH(1)/(2)/(3), optional PFS, proxy identities, RESPONDER-LIFETIME,
// KEYMAT for ESP/AH in both directions. One task per message ID and role; the engine keeps the
// exchange's record (IV chain, retransmission, duplicates) in a Phase2.
import { DOI_IPSEC, ExchangeType, NotifyType, PayloadType, ProtocolId, bytesEqual, concatBytes, encodePayloadChain, tlvNumber, tv, encodeAttributes, decodeAttributes, attrNumber, IpsecAttr, LifeType, type DecodedPayload, type IdPayload, type NotifyPayload, type Payload, type SaPayload } from '../../../proto/ikev1/index.js';
import { isSupportedDhGroup, type DhKeyPair } from '../../crypto/index.js';
import { espCipherByName, hmacByName } from '../algorithms.js';
import type { V1Context } from '../context.js';
import { createIkeV1Dh } from '../dh-fast.js';
import { emitDebug } from '../debug.js';
import { hash1, hash2, hash3, phase2Iv, quickModeKeymat } from '../keys.js';
import { MESSAGE_RULES, checkMessage } from '../message-rules.js';
import { buildQuickModeSa, parseQuickModeOffer, proposalMatchesSet, type IpsecProposalParams } from '../policy.js';
import { decrypt2, sendEncrypted2 } from '../protection.js';
import { formatSelector, hostSelector, idToSelector, selectorEquals, selectorToId, type Selector } from '../selectors.js';
import type { V1Task } from '../task.js';
import type { Datagram, IpsecSaInfo, Phase1, Phase2, QuickModeRequest } from '../types.js';
import { find, readU32, stripId } from '../util.js';
import { sendInformational } from './informational.js';

/** Most quick modes a peer may have open on one ISAKMP SA. */
const MAX_OPEN_EXCHANGES = 32;

export class QuickModeTask implements V1Task {
  readonly name = 'quick-mode';
  readonly exchange = ExchangeType.QUICK_MODE;
  private ni?: Uint8Array;
  private nr?: Uint8Array;
  private dh?: DhKeyPair;
  private espSpi?: Uint8Array;
  private ahSpi?: Uint8Array;
  private accepted?: { params: IpsecProposalParams; lifetimeSec: number; lifetimeKb: number; localSel: Selector; remoteSel: Selector; gxy?: Uint8Array };

  private constructor(private readonly ctx: V1Context, private readonly sa: Phase1, private readonly x: Phase2, readonly role: 'initiator' | 'responder', private readonly request?: QuickModeRequest) {}

  /** Initiator: message 1 (HASH(1), SA, Ni [, KE], IDci, IDcr) on an established SA. */
  static start(ctx: V1Context, sa: Phase1, req: QuickModeRequest): void {
    const msgId = ctx.newMsgId(sa);
    const x: Phase2 = { msgId, kind: 'quick', role: 'initiator', iv: phase2Iv(sa.hash!, sa.iv!, msgId, sa.enc!.blockLen), done: false, createdAt: ctx.now() };
    const task = new QuickModeTask(ctx, sa, x, 'initiator', req);
    x.task = task;
    task.ni = ctx.random(32);
    task.espSpi = ctx.newSpi();
    task.ahSpi = ctx.newSpi();
    if (req.pfsGroup !== undefined) task.dh = createIkeV1Dh(req.pfsGroup);
    sa.exchanges.set(msgId, x);
    const udpEncap = sa.natLocal || sa.natRemote;
    const saPayload = buildQuickModeSa(req.transformSets, {
      espSpi: task.espSpi, ahSpi: task.ahSpi, udpEncap, rfc3947: sa.peerRfc3947,
      ...(req.pfsGroup !== undefined ? { pfsGroup: req.pfsGroup } : {}),
      lifetimeSec: req.lifetimeSec, lifetimeKb: req.lifetimeKb,
    });
    const rest: Payload[] = [saPayload, { type: PayloadType.NONCE, data: task.ni }];
    if (task.dh) rest.push({ type: PayloadType.KE, keyData: task.dh.publicKey });
    rest.push(selectorToId(req.localSel), selectorToId(req.remoteSel));
    const h = hash1(sa.hash!, sa.keys!.a, msgId, encodePayloadChain(rest).bytes);
    emitDebug(ctx.debug(sa, sa.connId), `beginning Quick Mode exchange, M-ID of ${msgId}`);
    sendEncrypted2(ctx, sa, x, ExchangeType.QUICK_MODE, [{ type: PayloadType.HASH, data: h }, ...rest], true);
  }

  /** Responder: a quick mode message with a message ID this SA has no exchange for. */
  static respond(ctx: V1Context, sa: Phase1, data: Uint8Array, msgId: number): void {
    if (sa.exchanges.size >= MAX_OPEN_EXCHANGES) return ctx.drop();
    const x: Phase2 = { msgId, kind: 'quick', role: 'responder', iv: phase2Iv(sa.hash!, sa.iv!, msgId, sa.enc!.blockLen), done: false, createdAt: ctx.now() };
    const dec = decrypt2(sa, x, data);
    if (!dec) return ctx.drop();
    const p = dec.payloads;
    // HASH(1) covers everything after it: without a payload after it there is nothing to check.
    if (p[0]?.type !== PayloadType.HASH || p.length < 3) return ctx.drop();
    const expect = hash1(sa.hash!, sa.keys!.a, msgId, dec.plain.subarray(p[1]!.start, p[p.length - 1]!.end));
    if (!bytesEqual(expect, (p[0] as unknown as { data: Uint8Array }).data)) {
      emitDebug(ctx.debug(sa, sa.connId), 'Quick Mode HASH(1) does not verify', true);
      return ctx.drop();
    }
    if (!ctx.rememberMsgId(sa, msgId)) return ctx.drop();
    x.iv = dec.nextIv;
    x.lastRx = data.slice();
    ctx.authenticated(sa);
    const task = new QuickModeTask(ctx, sa, x, 'responder');
    x.task = task;
    task.answer(p);
  }

  /** A later message of this exchange: HASH(2) for the initiator, HASH(3) for the responder. */
  process(_d: Datagram, data: Uint8Array): void {
    const { ctx, sa, x } = this;
    if (x.done && this.role === 'initiator') return ctx.drop();
    const dec = decrypt2(sa, x, data);
    if (!dec) return ctx.drop();
    const p = dec.payloads;
    if (this.role === 'initiator') {
      // HASH(2) covers what follows it; what must follow is checked against our offer in finish().
      if (p[0]?.type !== PayloadType.HASH || p.length < 3) return ctx.drop();
      const expect = hash2(sa.hash!, sa.keys!.a, x.msgId, this.ni!, dec.plain.subarray(p[1]!.start, p[p.length - 1]!.end));
      if (!bytesEqual(expect, (p[0] as unknown as { data: Uint8Array }).data)) return ctx.drop();
      x.iv = dec.nextIv;
      x.lastRx = data.slice();
      ctx.authenticated(sa);
      this.finish(p);
      return;
    }
    if (!checkMessage(MESSAGE_RULES.QUICK_R1, p).ok) return ctx.drop();
    const h3 = hash3(sa.hash!, sa.keys!.a, x.msgId, this.ni!, this.nr!);
    if (!bytesEqual(h3, (p[0] as unknown as { data: Uint8Array }).data)) return ctx.drop();
    x.lastRx = data.slice();
    ctx.authenticated(sa, !x.done);
    x.retx = undefined;
    // HASH(3) ends the exchange: a duplicate of it must not trigger our HASH(2) message again.
    x.lastReply = undefined;
    if (!x.done) {
      x.done = true;
      this.install();
    }
  }

  /** Responder: policy decision on message 1, then message 2 (HASH(2), SA, Nr [, KE] [, IDs] [, RESPONDER-LIFETIME]). */
  private answer(p: DecodedPayload[]): void {
    const { ctx, sa, x } = this;
    const ids = p.filter((q) => q.type === PayloadType.ID) as unknown as (IdPayload & DecodedPayload)[];
    if (!checkMessage(MESSAGE_RULES.QUICK_R0, p).ok || (ids.length !== 0 && ids.length !== 2)) {
      return this.reject(NotifyType.PAYLOAD_MALFORMED, 'malformed quick mode message');
    }
    const saP = find<SaPayload>(p, PayloadType.SA)!;
    const ke = find<{ keyData: Uint8Array }>(p, PayloadType.KE);
    this.ni = find<{ data: Uint8Array }>(p, PayloadType.NONCE)!.data;
    let remoteSel = hostSelector(sa.remote.address);
    let localSel = hostSelector(sa.local.address);
    if (ids.length === 2) {
      const ci = idToSelector(ids[0]!);
      const cr = idToSelector(ids[1]!);
      if (!ci || !cr) return this.reject(NotifyType.INVALID_ID_INFORMATION, 'unsupported proxy identity');
      remoteSel = ci;
      localSel = cr;
    }
    const offers = parseQuickModeOffer(saP);
    const decision = ctx.settings.quickModeResponder({
      peerAddress: sa.remote.address, localAddress: sa.local.address, localSel, remoteSel, offers, connId: sa.connId, ...(sa.profile ? { profile: sa.profile.name } : {}),
    });
    if (!decision.accept) {
      emitDebug(ctx.debug(sa, sa.connId), `IPSec policy invalidated proposal with error ${decision.notifyType}: ${decision.reason} local=${formatSelector(localSel)} remote=${formatSelector(remoteSel)}`, true);
      return this.reject(decision.notifyType, decision.reason);
    }
    const params = decision.alternative.params;
    if (params.pfsGroup !== undefined) {
      if (!ke || !isSupportedDhGroup(params.pfsGroup)) return this.reject(NotifyType.NO_PROPOSAL_CHOSEN, 'PFS group without KE');
      this.dh = createIkeV1Dh(params.pfsGroup);
    } else if (ke) {
      return this.reject(NotifyType.NO_PROPOSAL_CHOSEN, 'KE without PFS group');
    }
    let gxy: Uint8Array | undefined;
    if (this.dh) {
      try {
        gxy = this.dh.computeSecret(ke!.keyData);
      } catch {
        return this.reject(NotifyType.INVALID_KEY_INFORMATION, 'bad PFS public value');
      }
    }
    this.nr = ctx.random(32);
    const replyProposals = decision.alternative.reply.map((pr) => ({ ...pr, spi: ctx.newSpi() }));
    for (const pr of replyProposals) {
      if (pr.protocolId === ProtocolId.PROTO_IPSEC_ESP) this.espSpi = pr.spi;
      if (pr.protocolId === ProtocolId.PROTO_IPSEC_AH) this.ahSpi = pr.spi;
    }
    // Our answer carries our SPIs; the transforms are echoed with the negotiated lifetimes
    // left as offered (the RESPONDER-LIFETIME notify says when ours are shorter).
    this.accepted = { params, lifetimeSec: decision.lifetimeSec, lifetimeKb: decision.lifetimeKb, localSel, remoteSel, ...(gxy ? { gxy } : {}) };
    const rest: Payload[] = [
      { type: PayloadType.SA, doi: DOI_IPSEC, situation: saP.situation, proposals: replyProposals },
      { type: PayloadType.NONCE, data: this.nr },
    ];
    if (this.dh) rest.push({ type: PayloadType.KE, keyData: this.dh.publicKey });
    if (ids.length === 2) rest.push(stripId(ids[0]!), stripId(ids[1]!));
    if (decision.responderLifetime) {
      const attrs = encodeAttributes([
        tv(IpsecAttr.SA_LIFE_TYPE, LifeType.SECONDS), tlvNumber(IpsecAttr.SA_LIFE_DURATION, decision.lifetimeSec),
        tv(IpsecAttr.SA_LIFE_TYPE, LifeType.KILOBYTES), tlvNumber(IpsecAttr.SA_LIFE_DURATION, decision.lifetimeKb),
      ]);
      const first = replyProposals[replyProposals.length - 1]!;
      rest.push({ type: PayloadType.N, doi: DOI_IPSEC, protocolId: first.protocolId, spi: first.spi, notifyType: NotifyType.RESPONDER_LIFETIME, data: attrs });
    }
    const h = hash2(sa.hash!, sa.keys!.a, x.msgId, this.ni, encodePayloadChain(rest).bytes);
    sa.exchanges.set(x.msgId, x);
    sendEncrypted2(ctx, sa, x, ExchangeType.QUICK_MODE, [{ type: PayloadType.HASH, data: h }, ...rest], true);
  }

  /** Responder: refuse with an error notify (informational on the ISAKMP SA). */
  private reject(notifyType: number, reason: string): void {
    const { ctx, sa } = this;
    ctx.event({ type: 'ipsec-failed', connId: sa.connId, remote: sa.remote, reason, notifyType });
    sendInformational(ctx, sa, [{ type: PayloadType.N, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spi: concatBytes(sa.ckyI, sa.ckyR), notifyType, data: new Uint8Array(0) }]);
  }

  /** Initiator: message 2 checked against what we offered, then HASH(3) and the SAs. */
  private finish(p: DecodedPayload[]): void {
    const { ctx, sa, x } = this;
    const req = this.request!;
    const fail = (reason: string): void => {
      sa.exchanges.delete(x.msgId);
      ctx.event({ type: 'ipsec-failed', connId: sa.connId, remote: sa.remote, reason });
    };
    if (!checkMessage(MESSAGE_RULES.QUICK_I1, p).ok) return fail('malformed quick mode reply');
    const saP = find<SaPayload>(p, PayloadType.SA)!;
    const nonce = find<{ data: Uint8Array }>(p, PayloadType.NONCE)!;
    const ke = find<{ keyData: Uint8Array }>(p, PayloadType.KE);
    const alts = parseQuickModeOffer(saP);
    if (alts.length !== 1) return fail('reply must hold exactly one proposal');
    const params = alts[0]!.params;
    if (!req.transformSets.some((ts) => proposalMatchesSet(params, ts))) return fail('reply is not one of our transform sets');
    if ((params.pfsGroup ?? undefined) !== req.pfsGroup) return fail('PFS group mismatch');
    let gxy: Uint8Array | undefined;
    if (this.dh) {
      if (!checkMessage(MESSAGE_RULES.QUICK_I1_PFS, p).ok) return fail('missing KE in PFS reply');
      try {
        gxy = this.dh.computeSecret(ke!.keyData); // the row requires it
      } catch {
        return fail('bad PFS public value');
      }
    }
    const ids = p.filter((q) => q.type === PayloadType.ID) as unknown as IdPayload[];
    if (ids.length === 2) {
      const ci = idToSelector(ids[0]!);
      const cr = idToSelector(ids[1]!);
      if (!ci || !cr || !selectorEquals(ci, req.localSel) || !selectorEquals(cr, req.remoteSel)) return fail('responder changed the proxy identities');
    }
    let lifetimeSec = Math.min(params.lifetimeSec ?? req.lifetimeSec, req.lifetimeSec);
    let lifetimeKb = Math.min(params.lifetimeKb ?? req.lifetimeKb, req.lifetimeKb);
    for (const n of p.filter((q) => q.type === PayloadType.N) as unknown as NotifyPayload[]) {
      if (n.notifyType !== NotifyType.RESPONDER_LIFETIME) continue;
      try {
        let lt: number | undefined;
        for (const a of decodeAttributes(n.data, 0)) {
          const v = attrNumber(a);
          if (v === undefined) continue;
          if (a.type === IpsecAttr.SA_LIFE_TYPE) lt = v;
          else if (a.type === IpsecAttr.SA_LIFE_DURATION) {
            if (lt === LifeType.SECONDS) lifetimeSec = Math.min(lifetimeSec, v);
            if (lt === LifeType.KILOBYTES) lifetimeKb = Math.min(lifetimeKb, v);
          }
        }
        emitDebug(ctx.debug(sa, sa.connId), `processing RESPONDER_LIFETIME: ${lifetimeSec} seconds, ${lifetimeKb} kilobytes`);
      } catch {
        // a malformed RESPONDER-LIFETIME is ignored
      }
    }
    this.nr = nonce.data;
    this.accepted = { params, lifetimeSec, lifetimeKb, localSel: req.localSel, remoteSel: req.remoteSel, ...(gxy ? { gxy } : {}) };
    const h3 = hash3(sa.hash!, sa.keys!.a, x.msgId, this.ni!, this.nr);
    x.done = true;
    sendEncrypted2(ctx, sa, x, ExchangeType.QUICK_MODE, [{ type: PayloadType.HASH, data: h3 }], false);
    this.install();
  }

  /** KEYMAT for each protocol and direction, then ipsec-up per protocol (ESP first). */
  private install(): void {
    const { ctx, sa, x } = this;
    const acc = this.accepted!;
    const params = acc.params;
    const mk = (protocol: 'esp' | 'ah', mySpi: Uint8Array, peerSpi: Uint8Array): void => {
      let encLen = 0;
      let authLen = 0;
      let cipher: string | undefined;
      let keyLenBits: number | undefined;
      let integrity: string | undefined;
      if (protocol === 'esp') {
        const c = espCipherByName(params.esp!.cipher);
        encLen = c.keyLen(params.esp!.keyLenBits);
        cipher = params.esp!.cipher;
        if (params.esp!.keyLenBits !== undefined) keyLenBits = params.esp!.keyLenBits;
        if (params.esp!.integrity) {
          authLen = hmacByName(params.esp!.integrity).keyLen;
          integrity = params.esp!.integrity;
        }
      } else {
        authLen = hmacByName(params.ah!.integrity).keyLen;
        integrity = params.ah!.integrity;
      }
      const proto = protocol === 'esp' ? ProtocolId.PROTO_IPSEC_ESP : ProtocolId.PROTO_IPSEC_AH;
      const km = (spi: Uint8Array): Uint8Array => quickModeKeymat(sa.hash!, sa.keys!.d, acc.gxy, proto, spi, this.ni!, this.nr!, encLen + authLen);
      const kin = km(mySpi);
      const kout = km(peerSpi);
      const info: IpsecSaInfo = {
        connId: sa.connId, role: x.role, local: { ...sa.local }, remote: { ...sa.remote }, protocol,
        mode: params.mode, udpEncap: params.udpEncap, localSel: acc.localSel, remoteSel: acc.remoteSel,
        ...(cipher ? { cipher } : {}), ...(keyLenBits !== undefined ? { keyLenBits } : {}), ...(integrity ? { integrity } : {}),
        ...(params.pfsGroup !== undefined ? { pfsGroup: params.pfsGroup } : {}),
        lifetimeSec: acc.lifetimeSec, lifetimeKb: acc.lifetimeKb,
        inbound: { spi: readU32(mySpi), encKey: kin.slice(0, encLen), authKey: kin.slice(encLen) },
        outbound: { spi: readU32(peerSpi), encKey: kout.slice(0, encLen), authKey: kout.slice(encLen) },
      };
      emitDebug({ ...ctx.debug(sa, sa.connId), spi: String(info.inbound.spi), spis: [info.inbound.spi, info.outbound.spi] }, `IPsec SA created: ${protocol} inbound SPI 0x${info.inbound.spi.toString(16).toUpperCase()}, outbound SPI 0x${info.outbound.spi.toString(16).toUpperCase()}`);
      ctx.ipsecUp(info);
    };
    if (params.esp) mk('esp', this.espSpi!, params.esp.spi);
    if (params.ah) mk('ah', this.ahSpi!, params.ah.spi);
  }
}
