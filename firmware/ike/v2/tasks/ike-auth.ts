// IKE_AUTH with pre-shared keys and the first Child SA (RFC 7296 1.2, 2.15).
import { timingSafeEqual } from 'node:crypto';
import {
  ExchangeType, NotifyError, NotifyStatus, notifyName, PayloadType, type AnyPayload, type AuthPayload, type IdPayload,
  type IkeHeader, type Proposal, type SaPayload, type TrafficSelector, type TsPayload,
} from '../../../proto/ikev2/index.js';
import { childProposalsFromConfig } from '../algorithms.js';
import {
  childResponsePayloads, findErrorNotify, findNotify, findPayload, initiatorSelectors, installChild, negotiateChildR, notify,
  spiFromBytes, spiToBytes, tsPayloads, type ChildNegotiation,
} from '../child-sa.js';
import type { Ikev2Connection, Ikev2Identity, PskResult } from '../config-types.js';
import type { IkeSa } from '../ike-sa.js';
import { defaultIdentity, identityFromPayload, identityToPayload, identityToString, sameIdentity } from '../identity.js';
import { pskAuth } from '../keys.js';
import { responseMatchesOffer } from '../proposal-select.js';
import { isSubset } from '../selectors.js';
import { TaskAbortError, type Task, type TaskStatus } from '../task.js';

const AUTH_PSK = 2; // SHARED_KEY_MESSAGE_INTEGRITY_CODE

function idBody(p: { idType: number; data: Uint8Array }): Uint8Array {
  const b = new Uint8Array(4 + p.data.length);
  b[0] = p.idType;
  b.set(p.data, 4);
  return b;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export function identityMatches(conn: Ikev2Connection, id: Ikev2Identity): boolean {
  if (conn.matchRemoteId) return conn.matchRemoteId(id);
  return conn.remoteId === undefined || sameIdentity(conn.remoteId, id);
}

function lookupPsk(sa: IkeSa, conn: Ikev2Connection, peerId?: Ikev2Identity): PskResult | undefined {
  return sa.ctx.config.psk({
    connection: conn.name, localAddress: sa.local.address, remoteAddress: sa.remote.address,
    ...(peerId ? { peerId } : {}),
  });
}

export class IkeAuthTask implements Task {
  readonly name = 'ike-auth';
  readonly exchange = ExchangeType.IKE_AUTH;
  private spiIn = 0;
  private offered: Proposal[] = [];
  private tsi: TrafficSelector[] = [];
  private tsr: TrafficSelector[] = [];
  private psk?: PskResult;

  constructor(private readonly sa: IkeSa) {}

  buildI(): AnyPayload[] {
    const sa = this.sa;
    const conn = sa.connection!;
    sa.localId = conn.localId ?? defaultIdentity(sa.local.address);
    this.psk = lookupPsk(sa, conn, conn.remoteId);
    if (!this.psk) {
      // As IOS (and the IKEv1 code): fail here instead of sending AUTH over an empty key,
      // which the peer would answer with AUTHENTICATION_FAILED and be blamed for.
      sa.ctx.diagnose({
        atMs: sa.ctx.now(), ikeSaId: sa.id, connection: conn.name, localAddress: sa.local.address, remoteAddress: sa.remote.address,
        exchange: 'IKE_AUTH', role: 'initiator', kind: 'AUTHENTICATION_FAILED',
        peerIdentity: conn.remoteId ? identityToString(conn.remoteId) : `ipv4:${sa.remote.address}`,
        keySource: `none (No pre-shared key with ${sa.remote.address}!)`, reason: 'no-key',
      });
      throw new TaskAbortError(`No pre-shared key with ${sa.remote.address}!`, 'auth-failed');
    }
    const idi = identityToPayload(sa.localId);
    const auth = pskAuth(sa.suite!.prfFn, this.psk?.local ?? new Uint8Array(0), sa.initRequest!, sa.nr, sa.keys!.skPi, idBody(idi));
    if (this.spiIn === 0) this.spiIn = sa.ctx.allocateChildSpi();
    this.offered = childProposalsFromConfig(conn.childProposals, spiToBytes(this.spiIn));
    ({ tsi: this.tsi, tsr: this.tsr } = initiatorSelectors(conn));
    const out: AnyPayload[] = [{ type: PayloadType.IDi, ...idi }];
    if (conn.remoteId) out.push({ type: PayloadType.IDr, ...identityToPayload(conn.remoteId) });
    out.push({ type: PayloadType.AUTH, method: AUTH_PSK, data: auth });
    // First IKE SA to this peer: tell it to drop any state it still has from us (RFC 7296 2.4).
    if (!sa.ctx.otherSasWithPeer(sa).some((o) => o.establishedAtMs !== undefined)) out.push(notify(NotifyStatus.INITIAL_CONTACT));
    if (conn.mode === 'transport') out.push(notify(NotifyStatus.USE_TRANSPORT_MODE));
    out.push({ type: PayloadType.SA, proposals: this.offered }, ...tsPayloads(this.tsi, this.tsr));
    return out;
  }

  processI(payloads: AnyPayload[]): TaskStatus {
    const sa = this.sa;
    const conn = sa.connection!;
    const idr = findPayload<IdPayload>(payloads, PayloadType.IDr);
    const auth = findPayload<AuthPayload>(payloads, PayloadType.AUTH);
    const err = findErrorNotify(payloads);
    const base = {
      atMs: sa.ctx.now(), ikeSaId: sa.id, connection: conn.name, localAddress: sa.local.address,
      remoteAddress: sa.remote.address, exchange: 'IKE_AUTH', role: 'initiator' as const,
    };
    if (!idr || !auth) {
      const type = err?.notifyType ?? NotifyError.INVALID_SYNTAX;
      sa.ctx.diagnose({ ...base, kind: 'NOTIFY_RECEIVED', notify: notifyName(type), notifyType: type, lastSent: sa.lastSent });
      sa.destroy(type === NotifyError.AUTHENTICATION_FAILED ? 'auth-failed' : 'negotiation-failed');
      return 'failed';
    }
    const peerId = identityFromPayload(idr);
    const keySource = this.psk?.source ?? 'none';
    if (!peerId || (conn.remoteId && !identityMatches(conn, peerId))) {
      sa.ctx.diagnose({ ...base, kind: 'AUTHENTICATION_FAILED', peerIdentity: identityToString(idr), keySource, reason: 'identity-mismatch' });
      sa.destroy('auth-failed');
      return 'failed';
    }
    if (!this.psk) {
      sa.ctx.diagnose({ ...base, kind: 'AUTHENTICATION_FAILED', peerIdentity: identityToString(peerId), keySource, reason: 'no-key' });
      sa.destroy('auth-failed');
      return 'failed';
    }
    const expected = pskAuth(sa.suite!.prfFn, this.psk.remote, sa.initResponse!, sa.ni, sa.keys!.skPr, idBody(idr));
    if (auth.method !== AUTH_PSK || !equal(expected, auth.data)) {
      sa.ctx.diagnose({ ...base, kind: 'AUTHENTICATION_FAILED', peerIdentity: identityToString(peerId), keySource, reason: 'auth-mismatch' });
      sa.destroy('auth-failed');
      return 'failed';
    }
    sa.remoteId = peerId;
    sa.markEstablished();
    // The first Child SA: its failure leaves the IKE SA up (RFC 7296 2.21.2).
    if (err) {
      sa.ctx.diagnose({ ...base, kind: 'NOTIFY_RECEIVED', notify: notifyName(err.notifyType), notifyType: err.notifyType, lastSent: sa.lastSent });
      return 'done';
    }
    completeChildI(sa, conn, payloads, this.offered, this.tsi, this.tsr, this.spiIn, true, sa.ni, sa.nr, undefined, undefined, 'IKE_AUTH');
    return 'done';
  }

  timedOut(): void {
    const sa = this.sa;
    sa.ctx.diagnose({
      atMs: sa.ctx.now(), ikeSaId: sa.id, connection: sa.connectionName, localAddress: sa.local.address,
      remoteAddress: sa.remote.address, exchange: 'IKE_AUTH', kind: 'TIMEOUT', role: 'initiator',
      retransmissions: sa.ctx.config.retransmit?.maxRetries ?? 5, lastSent: sa.lastSent,
    });
    sa.destroy('peer-timeout');
  }

  // ---- responder ----
  private authError = false;
  private child?: ChildNegotiation;
  private childSpiIn = 0;
  private rpsk?: PskResult;

  processR(payloads: AnyPayload[]): void {
    const sa = this.sa;
    const idi = findPayload<IdPayload>(payloads, PayloadType.IDi);
    const auth = findPayload<AuthPayload>(payloads, PayloadType.AUTH);
    const base = {
      atMs: sa.ctx.now(), ikeSaId: sa.id, localAddress: sa.local.address,
      remoteAddress: sa.remote.address, exchange: 'IKE_AUTH', role: 'responder' as const,
    };
    if (!idi || !auth) {
      this.authError = true;
      sa.ctx.diagnose({ ...base, kind: 'AUTHENTICATION_FAILED', peerIdentity: identityToString(idi), keySource: 'none', reason: 'auth-mismatch' });
      return;
    }
    const peerId = identityFromPayload(idi);
    const candidates = peerId
      ? sa.ctx.connectionsFor(sa.local.address, sa.remote.address).filter((c) => identityMatches(c, peerId))
      : [];
    if (!peerId || candidates.length === 0) {
      this.authError = true;
      sa.ctx.diagnose({ ...base, kind: 'AUTHENTICATION_FAILED', peerIdentity: identityToString(idi), keySource: 'none', reason: 'no-matching-connection' });
      return;
    }
    const conn = candidates[0]!;
    this.rpsk = lookupPsk(sa, conn, peerId);
    if (!this.rpsk) {
      this.authError = true;
      sa.ctx.diagnose({ ...base, connection: conn.name, kind: 'AUTHENTICATION_FAILED', peerIdentity: identityToString(peerId), keySource: 'none (no key for this peer)', reason: 'no-key' });
      return;
    }
    const expected = pskAuth(sa.suite!.prfFn, this.rpsk.remote, sa.initRequest!, sa.nr, sa.keys!.skPi, idBody(idi));
    if (auth.method !== AUTH_PSK || !equal(expected, auth.data)) {
      this.authError = true;
      sa.ctx.diagnose({ ...base, connection: conn.name, kind: 'AUTHENTICATION_FAILED', peerIdentity: identityToString(peerId), keySource: this.rpsk.source, reason: 'auth-mismatch' });
      return;
    }
    sa.connection = conn;
    sa.remoteId = peerId;
    sa.localId = conn.localId ?? defaultIdentity(sa.local.address);
    if (findNotify(payloads, NotifyStatus.INITIAL_CONTACT)) {
      for (const old of sa.ctx.otherSasWithPeer(sa)) {
        if (old.remoteId && sameIdentity(old.remoteId, peerId) && old.establishedAtMs !== undefined) {
          sa.log('info', `INITIAL_CONTACT: removing old IKE SA ${old.id} of this peer`);
          old.destroy('initial-contact');
        }
      }
    }
    sa.markEstablished();
    this.child = negotiateChildR(sa, candidates, payloads, 'IKE_AUTH', true);
    if (this.child.ok) {
      this.childSpiIn = sa.ctx.allocateChildSpi();
      // The selected proposal keeps the peer's SPI: that is our outbound SPI.
      const spiOut = spiFromBytes(this.child.proposal.spi);
      installChild(sa, {
        connection: this.child.connection, proposal: this.child.proposal, spiIn: this.childSpiIn, spiOut,
        weInitiated: false, ni: sa.ni, nr: sa.nr, tsLocal: this.child.tsr, tsRemote: this.child.tsi, transport: this.child.transport,
      });
    } else if (this.child.diagnosis) {
      sa.ctx.diagnose(this.child.diagnosis);
    }
  }

  buildR(): AnyPayload[] {
    const sa = this.sa;
    if (this.authError) return [notify(NotifyError.AUTHENTICATION_FAILED)];
    const idr = identityToPayload(sa.localId!);
    const auth = pskAuth(sa.suite!.prfFn, this.rpsk!.local, sa.initResponse!, sa.ni, sa.keys!.skPr, idBody(idr));
    const out: AnyPayload[] = [{ type: PayloadType.IDr, ...idr }, { type: PayloadType.AUTH, method: AUTH_PSK, data: auth }];
    const c = this.child!;
    if (c.ok) out.push(...childResponsePayloads(c, this.childSpiIn), ...tsPayloads(c.tsi, c.tsr));
    else out.push(notify(c.notify));
    return out;
  }

  afterR(): void {
    if (this.authError) this.sa.destroy('auth-failed');
  }
}

/**
 * Initiator: check the Child SA part of a response (SA with one offered proposal, selectors
 * inside what we asked for) and install it. Returns the new child or undefined (diagnosed).
 */
export function completeChildI(
  sa: IkeSa, conn: Ikev2Connection, payloads: readonly AnyPayload[], offered: Proposal[], tsi: TrafficSelector[], tsr: TrafficSelector[],
  spiIn: number, ignoreDh: boolean, ni: Uint8Array, nr: Uint8Array, gir: Uint8Array | undefined, rekeyOf: number | undefined, exchange: string,
) {
  const saP = findPayload<SaPayload>(payloads, PayloadType.SA);
  const tsiP = findPayload<TsPayload>(payloads, PayloadType.TSi);
  const tsrP = findPayload<TsPayload>(payloads, PayloadType.TSr);
  const fail = (detail: string): undefined => {
    sa.ctx.diagnose({
      atMs: sa.ctx.now(), ikeSaId: sa.id, connection: conn.name, localAddress: sa.local.address, remoteAddress: sa.remote.address,
      exchange, kind: 'INVALID_RESPONSE', role: 'initiator', detail, lastSent: sa.lastSent,
    });
    return undefined;
  };
  if (!saP || !tsiP || !tsrP) return fail('response lacks SA, TSi or TSr');
  const chosen = saP.proposals[0];
  if (saP.proposals.length !== 1 || !chosen || !responseMatchesOffer(chosen, offered, { ignoreDh })) return fail('responder chose an ESP proposal we did not offer');
  if (chosen.spi.length !== 4) return fail('bad ESP SPI size');
  if (!tsiP.selectors.every((s) => tsi.some((o) => isSubset(s, o))) || !tsrP.selectors.every((s) => tsr.some((o) => isSubset(s, o)))) {
    return fail('responder selectors are not inside ours');
  }
  const transport = payloads.some((p) => p.type === PayloadType.NOTIFY && (p as { notifyType: number }).notifyType === NotifyStatus.USE_TRANSPORT_MODE);
  return installChild(sa, {
    connection: conn, proposal: chosen, spiIn, spiOut: spiFromBytes(chosen.spi), weInitiated: true, ni, nr,
    ...(gir ? { gir } : {}), tsLocal: tsiP.selectors, tsRemote: tsrP.selectors, transport: transport && conn.mode === 'transport',
    ...(rekeyOf !== undefined ? { rekeyOf } : {}),
  });
}
