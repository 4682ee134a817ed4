// Quick Mode (RFC 2409 5.5): HASH(1)/(2)/(3), optional PFS, proxy identities, RESPONDER-LIFETIME,
// KEYMAT for ESP/AH in both directions.
import { DOI_IPSEC, ExchangeType, NotifyType, PayloadType, ProtocolId, bytesEqual, concatBytes, encodePayloadChain, tlvNumber, tv, encodeAttributes, decodeAttributes, attrNumber, IpsecAttr, LifeType, type DecodedPayload, type IdPayload, type NotifyPayload, type Payload, type SaPayload } from '../../proto/ikev1/index.js';
import { isSupportedDhGroup } from '../crypto/index.js';
import { createIkeV1Dh } from './dh-fast.js';
import { espCipherByName, hmacByName } from './algorithms.js';
import { emitDebug } from './debug.js';
import { hash1, hash2, hash3, phase2Iv, quickModeKeymat } from './keys.js';
import { buildQuickModeSa, parseQuickModeOffer, proposalMatchesSet } from './policy.js';
import { formatSelector, hostSelector, idToSelector, selectorEquals, selectorToId } from './selectors.js';
import type { QuickModeRequest, IpsecSaInfo, Phase2, Phase1 } from './types.js';
import { find, stripId, readU32 } from './util.js';
import { sendInformational } from './informational.js';
import { sendEncrypted2, decrypt2 } from './protection.js';
import type { IkeV1Engine as Core } from './engine.js';

export function startQuickMode(core: Core, sa: Phase1, req: QuickModeRequest): void {
  const msgId = core.newMsgId(sa);
  const x: Phase2 = {
    msgId, kind: 'quick', role: 'initiator', iv: phase2Iv(sa.hash!, sa.iv!, msgId, sa.enc!.blockLen),
    ni: core.rnd(32), request: req, espSpi: core.newSpi(), ahSpi: core.newSpi(), done: false, createdAt: core.o.now(),
  };
  if (req.pfsGroup !== undefined) x.dh = createIkeV1Dh(req.pfsGroup);
  sa.exchanges.set(msgId, x);
  const udpEncap = sa.natLocal || sa.natRemote;
  const saPayload = buildQuickModeSa(req.transformSets, {
    espSpi: x.espSpi!, ahSpi: x.ahSpi!, udpEncap, rfc3947: sa.peerRfc3947,
    ...(req.pfsGroup !== undefined ? { pfsGroup: req.pfsGroup } : {}),
    lifetimeSec: req.lifetimeSec, lifetimeKb: req.lifetimeKb,
  });
  const rest: Payload[] = [saPayload, { type: PayloadType.NONCE, data: x.ni! }];
  if (x.dh) rest.push({ type: PayloadType.KE, keyData: x.dh.publicKey });
  rest.push(selectorToId(req.localSel), selectorToId(req.remoteSel));
  const restBytes = encodePayloadChain(rest).bytes;
  const h = hash1(sa.hash!, sa.keys!.a, msgId, restBytes);
  emitDebug(core.dbg(sa, sa.connId), `beginning Quick Mode exchange, M-ID of ${msgId}`);
  sendEncrypted2(core, sa, x, ExchangeType.QUICK_MODE, [{ type: PayloadType.HASH, data: h }, ...rest], true);
}

export function quickMode(core: Core, sa: Phase1, data: Uint8Array, msgId: number): void {
  let x = sa.exchanges.get(msgId);
  const ctx = core.dbg(sa, sa.connId);
  if (!x) {
    if (sa.exchanges.size >= 32) return core.drop();
    x = { msgId, kind: 'quick', role: 'responder', iv: phase2Iv(sa.hash!, sa.iv!, msgId, sa.enc!.blockLen), done: false, createdAt: core.o.now() };
    const dec = decrypt2(core, sa, x, data);
    if (!dec) return core.drop();
    const p = dec.payloads;
    if (p[0]?.type !== PayloadType.HASH || p.length < 3) return core.drop();
    const expect = hash1(sa.hash!, sa.keys!.a, msgId, dec.plain.subarray(p[1]!.start, p[p.length - 1]!.end));
    if (!bytesEqual(expect, (p[0] as unknown as { data: Uint8Array }).data)) {
      emitDebug(ctx, 'Quick Mode HASH(1) does not verify', true);
      return core.drop();
    }
    if (!core.rememberMsgId(sa, msgId)) return core.drop();
    x.iv = dec.nextIv;
    x.lastRx = data.slice();
    core.authenticated(sa);
    quickModeRespond(core, sa, x, p);
    return;
  }
  if (x.done && x.role === 'initiator') return core.drop();
  const dec = decrypt2(core, sa, x, data);
  if (!dec) return core.drop();
  const p = dec.payloads;
  if (p[0]?.type !== PayloadType.HASH) return core.drop();
  if (x.role === 'initiator') {
    // HASH(2), SA, Nr, [KE], [IDci, IDcr], [N RESPONDER-LIFETIME]
    if (p.length < 3) return core.drop();
    const expect = hash2(sa.hash!, sa.keys!.a, msgId, x.ni!, dec.plain.subarray(p[1]!.start, p[p.length - 1]!.end));
    if (!bytesEqual(expect, (p[0] as unknown as { data: Uint8Array }).data)) return core.drop();
    x.iv = dec.nextIv;
    x.lastRx = data.slice();
    core.authenticated(sa);
    quickModeInitiatorFinish(core, sa, x, p);
    return;
  }
  // responder: HASH(3)
  const h3 = hash3(sa.hash!, sa.keys!.a, msgId, x.ni!, x.nr!);
  if (!bytesEqual(h3, (p[0] as unknown as { data: Uint8Array }).data)) return core.drop();
  x.lastRx = data.slice();
  core.authenticated(sa, !x.done);
  x.retx = undefined;
  // HASH(3) ends the exchange: a duplicate of it must not trigger our HASH(2) message again.
  x.lastReply = undefined;
  if (!x.done) {
    x.done = true;
    installIpsec(core, sa, x);
  }
}

export function quickModeRespond(core: Core, sa: Phase1, x: Phase2, p: DecodedPayload[]): void {
  const ctx = core.dbg(sa, sa.connId);
  const saP = find<SaPayload>(p, PayloadType.SA);
  const nonce = find<{ data: Uint8Array }>(p, PayloadType.NONCE);
  const ke = find<{ keyData: Uint8Array }>(p, PayloadType.KE);
  const ids = p.filter((q) => q.type === PayloadType.ID) as unknown as (IdPayload & DecodedPayload)[];
  if (!saP || !nonce || nonce.data.length < 8 || nonce.data.length > 256 || (ids.length !== 0 && ids.length !== 2)) {
    return qmReject(core, sa, x, NotifyType.PAYLOAD_MALFORMED, 'malformed quick mode message');
  }
  x.ni = nonce.data;
  let remoteSel = hostSelector(sa.remote.address);
  let localSel = hostSelector(sa.local.address);
  if (ids.length === 2) {
    const ci = idToSelector(ids[0]!);
    const cr = idToSelector(ids[1]!);
    if (!ci || !cr) return qmReject(core, sa, x, NotifyType.INVALID_ID_INFORMATION, 'unsupported proxy identity');
    remoteSel = ci;
    localSel = cr;
  }
  const offers = parseQuickModeOffer(saP);
  const decision = core.o.quickModeResponder({
    peerAddress: sa.remote.address, localAddress: sa.local.address, localSel, remoteSel, offers, connId: sa.connId, ...(sa.profile ? { profile: sa.profile.name } : {}),
  });
  if (!decision.accept) {
    emitDebug(ctx, `IPSec policy invalidated proposal with error ${decision.notifyType}: ${decision.reason} local=${formatSelector(localSel)} remote=${formatSelector(remoteSel)}`, true);
    return qmReject(core, sa, x, decision.notifyType, decision.reason);
  }
  const params = decision.alternative.params;
  if (params.pfsGroup !== undefined) {
    if (!ke || !isSupportedDhGroup(params.pfsGroup)) return qmReject(core, sa, x, NotifyType.NO_PROPOSAL_CHOSEN, 'PFS group without KE');
    x.dh = createIkeV1Dh(params.pfsGroup);
  } else if (ke) {
    return qmReject(core, sa, x, NotifyType.NO_PROPOSAL_CHOSEN, 'KE without PFS group');
  }
  let gxy: Uint8Array | undefined;
  if (x.dh) {
    try {
      gxy = x.dh.computeSecret(ke!.keyData);
    } catch {
      return qmReject(core, sa, x, NotifyType.INVALID_KEY_INFORMATION, 'bad PFS public value');
    }
  }
  x.nr = core.rnd(32);
  const mySpiFor = (proto: number): Uint8Array => core.newSpi(proto);
  const replyProposals = decision.alternative.reply.map((pr) => ({ ...pr, spi: mySpiFor(pr.protocolId) }));
  for (const pr of replyProposals) {
    if (pr.protocolId === ProtocolId.PROTO_IPSEC_ESP) x.espSpi = pr.spi;
    if (pr.protocolId === ProtocolId.PROTO_IPSEC_AH) x.ahSpi = pr.spi;
  }
  // Our answer carries our SPIs; the transforms are echoed with the negotiated lifetimes
  // left as offered (the RESPONDER-LIFETIME notify says when ours are shorter).
  x.accepted = { params, lifetimeSec: decision.lifetimeSec, lifetimeKb: decision.lifetimeKb, localSel, remoteSel, ...(gxy ? { gxy } : {}) };
  const rest: Payload[] = [
    { type: PayloadType.SA, doi: DOI_IPSEC, situation: saP.situation, proposals: replyProposals },
    { type: PayloadType.NONCE, data: x.nr },
  ];
  if (x.dh) rest.push({ type: PayloadType.KE, keyData: x.dh.publicKey });
  if (ids.length === 2) rest.push(stripId(ids[0]!), stripId(ids[1]!));
  if (decision.responderLifetime) {
    const attrs = encodeAttributes([
      tv(IpsecAttr.SA_LIFE_TYPE, LifeType.SECONDS), tlvNumber(IpsecAttr.SA_LIFE_DURATION, decision.lifetimeSec),
      tv(IpsecAttr.SA_LIFE_TYPE, LifeType.KILOBYTES), tlvNumber(IpsecAttr.SA_LIFE_DURATION, decision.lifetimeKb),
    ]);
    const first = replyProposals[replyProposals.length - 1]!;
    rest.push({ type: PayloadType.N, doi: DOI_IPSEC, protocolId: first.protocolId, spi: first.spi, notifyType: NotifyType.RESPONDER_LIFETIME, data: attrs });
  }
  const restBytes = encodePayloadChain(rest).bytes;
  const h = hash2(sa.hash!, sa.keys!.a, x.msgId, x.ni, restBytes);
  sa.exchanges.set(x.msgId, x);
  sendEncrypted2(core, sa, x, ExchangeType.QUICK_MODE, [{ type: PayloadType.HASH, data: h }, ...rest], true);
}

export function qmReject(core: Core, sa: Phase1, _x: Phase2, notifyType: number, reason: string): void {
  core.events.push({ type: 'ipsec-failed', connId: sa.connId, remote: sa.remote, reason, notifyType });
  sendInformational(core, sa, [{ type: PayloadType.N, doi: DOI_IPSEC, protocolId: ProtocolId.PROTO_ISAKMP, spi: concatBytes(sa.ckyI, sa.ckyR), notifyType, data: new Uint8Array(0) }]);
}

export function quickModeInitiatorFinish(core: Core, sa: Phase1, x: Phase2, p: DecodedPayload[]): void {
  const req = x.request!;
  const saP = find<SaPayload>(p, PayloadType.SA);
  const nonce = find<{ data: Uint8Array }>(p, PayloadType.NONCE);
  const ke = find<{ keyData: Uint8Array }>(p, PayloadType.KE);
  const fail = (reason: string): void => {
    sa.exchanges.delete(x.msgId);
    core.events.push({ type: 'ipsec-failed', connId: sa.connId, remote: sa.remote, reason });
  };
  if (!saP || !nonce || nonce.data.length < 8 || nonce.data.length > 256) return fail('malformed quick mode reply');
  const alts = parseQuickModeOffer(saP);
  if (alts.length !== 1) return fail('reply must hold exactly one proposal');
  const params = alts[0]!.params;
  if (!req.transformSets.some((ts) => proposalMatchesSet(params, ts))) return fail('reply is not one of our transform sets');
  if ((params.pfsGroup ?? undefined) !== req.pfsGroup) return fail('PFS group mismatch');
  let gxy: Uint8Array | undefined;
  if (x.dh) {
    if (!ke) return fail('missing KE in PFS reply');
    try {
      gxy = x.dh.computeSecret(ke.keyData);
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
      emitDebug(core.dbg(sa, sa.connId), `processing RESPONDER_LIFETIME: ${lifetimeSec} seconds, ${lifetimeKb} kilobytes`);
    } catch {
      // a malformed RESPONDER-LIFETIME is ignored
    }
  }
  x.nr = nonce.data;
  x.accepted = { params, lifetimeSec, lifetimeKb, localSel: req.localSel, remoteSel: req.remoteSel, ...(gxy ? { gxy } : {}) };
  const h3 = hash3(sa.hash!, sa.keys!.a, x.msgId, x.ni!, x.nr);
  x.done = true;
  sendEncrypted2(core, sa, x, ExchangeType.QUICK_MODE, [{ type: PayloadType.HASH, data: h3 }], false);
  installIpsec(core, sa, x);
}

export function installIpsec(core: Core, sa: Phase1, x: Phase2): void {
  const acc = x.accepted!;
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
    const km = (spi: Uint8Array): Uint8Array => quickModeKeymat(sa.hash!, sa.keys!.d, acc.gxy, proto, spi, x.ni!, x.nr!, encLen + authLen);
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
    core.ipsec.set(info.inbound.spi, { info });
    emitDebug({ ...core.dbg(sa, sa.connId), spi: String(info.inbound.spi), spis: [info.inbound.spi, info.outbound.spi] }, `IPsec SA created: ${protocol} inbound SPI 0x${info.inbound.spi.toString(16).toUpperCase()}, outbound SPI 0x${info.outbound.spi.toString(16).toUpperCase()}`);
    core.events.push({ type: 'ipsec-up', sa: info });
  };
  if (params.esp) mk('esp', x.espSpi!, params.esp.spi);
  if (params.ah) mk('ah', x.ahSpi!, params.ah.spi);
}
