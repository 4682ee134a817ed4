// Child SA negotiation helpers shared by IKE_AUTH and CREATE_CHILD_SA tasks: proposals,
// responder-side selection with traffic selector narrowing, key derivation and install.
import {
  NotifyError, NotifyStatus, PayloadType, ProtocolId, TransformType,
  type AnyPayload, type NotifyPayload, type Proposal, type SaPayload, type TrafficSelector, type TsPayload,
} from '../../proto/ikev2/index.js';
import { SUPPORTED_DH_GROUPS } from '../crypto/index.js';
import { childProposalsFromConfig, childSuiteOf, transformName } from './algorithms.js';
import type { Ikev2Connection } from './config-types.js';
import type { Ikev2Diagnosis } from './diagnosis.js';
import type { ChildSa, IkeSa } from './ike-sa.js';
import { rekeySchedule } from '../connection-manager.js';
import { deriveChildKeys } from './keys.js';
import { selectProposal } from './proposal-select.js';
import { formatSelector, isSubset, narrow, sameSelector, selectorFromConfig } from './selectors.js';

function sameSelectors(a: readonly TrafficSelector[], b: readonly TrafficSelector[]): boolean {
  return a.length === b.length && a.every((x, i) => sameSelector(x, b[i]!));
}

export const DEFAULT_CHILD_LIFETIME_SEC = 3600;

export function spiToBytes(spi: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, spi >>> 0);
  return b;
}
export function spiFromBytes(b: Uint8Array): number {
  return b.length === 4 ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0) : -1;
}

export function findNotify(payloads: readonly AnyPayload[], type: number): NotifyPayload | undefined {
  return payloads.find((p): p is NotifyPayload => p.type === PayloadType.NOTIFY && (p as NotifyPayload).notifyType === type);
}
/** First error notify (type < 16384). */
export function findErrorNotify(payloads: readonly AnyPayload[]): NotifyPayload | undefined {
  return payloads.find((p): p is NotifyPayload => p.type === PayloadType.NOTIFY && (p as NotifyPayload).notifyType < 16384);
}
export function findPayload<T extends AnyPayload>(payloads: readonly AnyPayload[], type: number): T | undefined {
  return payloads.find((p) => p.type === type && !('raw' in p)) as T | undefined;
}
export function notify(type: number, data: Uint8Array = new Uint8Array(0), protocolId = 0, spi: Uint8Array = new Uint8Array(0)): NotifyPayload {
  return { type: PayloadType.NOTIFY, protocolId, spi, notifyType: type, data };
}

/** Local proposals for the responder: with `set pfs` the group is required, otherwise none or any group is fine. */
export function localChildProposals(conn: Ikev2Connection, spi: Uint8Array, ignoreDh: boolean): Proposal[] {
  const props = childProposalsFromConfig(conn.childProposals, spi, ignoreDh ? undefined : conn.pfsGroup);
  if (!ignoreDh && !conn.pfsGroup) {
    for (const p of props) {
      const i = p.transforms.findIndex((t) => t.type === TransformType.ESN);
      p.transforms.splice(i, 0, { type: TransformType.DH, id: 0 }, ...SUPPORTED_DH_GROUPS.map((g) => ({ type: TransformType.DH, id: g })));
    }
  }
  return props;
}

export function initiatorSelectors(conn: Ikev2Connection): { tsi: TrafficSelector[]; tsr: TrafficSelector[] } {
  return { tsi: conn.localSelectors.map(selectorFromConfig), tsr: conn.remoteSelectors.map(selectorFromConfig) };
}

export type ChildNegotiation =
  | { ok: true; connection: Ikev2Connection; proposal: Proposal; tsi: TrafficSelector[]; tsr: TrafficSelector[]; transport: boolean }
  | { ok: false; notify: number; diagnosis?: Ikev2Diagnosis };

/**
 * Responder side: pick the first candidate connection that accepts the offered proposals and
 * selectors; otherwise answer with the error of the first candidate (and its diagnosis).
 */
export function negotiateChildR(sa: IkeSa, candidates: readonly Ikev2Connection[], payloads: readonly AnyPayload[], exchange: string, ignoreDh: boolean): ChildNegotiation {
  const saP = findPayload<SaPayload>(payloads, PayloadType.SA);
  const tsiP = findPayload<TsPayload>(payloads, PayloadType.TSi);
  const tsrP = findPayload<TsPayload>(payloads, PayloadType.TSr);
  if (!saP || !tsiP || !tsrP) return { ok: false, notify: NotifyError.INVALID_SYNTAX };
  const transport = findNotify(payloads, NotifyStatus.USE_TRANSPORT_MODE) !== undefined;
  let firstFailure: ChildNegotiation | undefined;
  const base = {
    atMs: sa.ctx.now(), ikeSaId: sa.id, localAddress: sa.local.address, remoteAddress: sa.remote.address, exchange,
  };
  for (const conn of candidates) {
    const local = localChildProposals(conn, new Uint8Array(4), ignoreDh);
    const sel = selectProposal(saP.proposals.filter((p) => p.protocolId === ProtocolId.ESP || p.protocolId === ProtocolId.AH), local, conn.childProposals.map((p) => p.name), { ignoreDh });
    if (!sel.ok) {
      firstFailure ??= {
        ok: false, notify: NotifyError.NO_PROPOSAL_CHOSEN,
        diagnosis: {
          ...base, kind: 'NO_PROPOSAL_CHOSEN', role: 'responder', protocol: 'ESP', connection: conn.name,
          offered: saP.proposals.map((p) => `#${p.num}: ${p.transforms.filter((t) => !ignoreDh || t.type !== TransformType.DH).map(transformName).join(' ')}`),
          comparisons: sel.comparisons,
        },
      };
      continue;
    }
    const remoteSel = conn.remoteSelectors.map(selectorFromConfig);
    const localSel = conn.localSelectors.map(selectorFromConfig);
    const inside = (req: readonly TrafficSelector[], ours: readonly TrafficSelector[]): TrafficSelector[] =>
      (req.length > 0 && req.every((r) => ours.some((o) => isSubset(r, o))) ? [...req] : []);
    const tsi = conn.strictSelectors ? inside(tsiP.selectors, remoteSel) : narrow(tsiP.selectors, remoteSel);
    const tsr = conn.strictSelectors ? inside(tsrP.selectors, localSel) : narrow(tsrP.selectors, localSel);
    const exactMiss = conn.exactSelectors === true && tsi.length > 0 && tsr.length > 0 && (!sameSelectors(tsi, remoteSel) || !sameSelectors(tsr, localSel));
    if (tsi.length === 0 || tsr.length === 0 || exactMiss) {
      firstFailure ??= {
        ok: false, notify: NotifyError.TS_UNACCEPTABLE,
        diagnosis: {
          ...base, kind: 'TS_UNACCEPTABLE', role: 'responder', connection: conn.name,
          requestedTsi: tsiP.selectors.map(formatSelector), requestedTsr: tsrP.selectors.map(formatSelector),
          localRemoteSelectors: remoteSel.map(formatSelector), localLocalSelectors: localSel.map(formatSelector),
          failedSide: tsi.length === 0 || (exactMiss && !sameSelectors(tsi, remoteSel)) ? 'TSi' : 'TSr',
          ...(exactMiss ? { exactRequired: `proxy identities not supported: ${conn.name} (static VTI) accepts only ${remoteSel.map(formatSelector).join(', ')} <=> ${localSel.map(formatSelector).join(', ')}` } : {}),
          ...(conn.strictSelectors ? { strict: true } : {}),
        },
      };
      continue;
    }
    if ((conn.mode ?? 'tunnel') === 'transport' !== transport && transport) {
      // Peer wants transport mode but we are configured for tunnel: answer in tunnel mode (RFC 7296 1.3.1).
    }
    return { ok: true, connection: conn, proposal: sel.proposal, tsi, tsr, transport: transport && conn.mode === 'transport' };
  }
  return firstFailure ?? { ok: false, notify: NotifyError.NO_PROPOSAL_CHOSEN };
}

/** Derive keys and register a Child SA on `sa`; emits child-up. */
export function installChild(sa: IkeSa, p: {
  connection: Ikev2Connection; proposal: Proposal; spiIn: number; spiOut: number;
  weInitiated: boolean; ni: Uint8Array; nr: Uint8Array; gir?: Uint8Array;
  tsLocal: TrafficSelector[]; tsRemote: TrafficSelector[]; transport: boolean; rekeyOf?: number;
}): ChildSa {
  const suite = childSuiteOf(p.proposal);
  const keys = deriveChildKeys(sa.suite!.prfFn, sa.keys!.skD, suite, p.ni, p.nr, p.gir);
  const now = sa.ctx.now();
  const lifeSec = p.connection.childLifetimeSec ?? DEFAULT_CHILD_LIFETIME_SEC;
  const times = rekeySchedule(now, lifeSec, p.connection.rekeyMarginSec, sa.ctx.random(1)[0]!);
  const id = sa.ctx.nextChildId();
  const mine = p.weInitiated ? { encr: keys.encrI, integ: keys.integI } : { encr: keys.encrR, integ: keys.integR };
  const theirs = p.weInitiated ? { encr: keys.encrR, integ: keys.integR } : { encr: keys.encrI, integ: keys.integI };
  const udpEncap = sa.natLocal || sa.natRemote;
  const child: ChildSa = {
    id, connection: p.connection, spiIn: p.spiIn, spiOut: p.spiOut, suite, keys,
    mode: p.transport ? 'transport' : 'tunnel', tsLocal: p.tsLocal, tsRemote: p.tsRemote,
    createdAtMs: now, rekeyAtMs: times.rekeyAtMs, expireAtMs: times.expireAtMs,
    state: 'installed', ni: p.ni, nr: p.nr,
    info: {
      ikeSaId: sa.id, childId: id, connection: p.connection.name, protocol: 'esp',
      mode: p.transport ? 'transport' : 'tunnel', spiIn: p.spiIn, spiOut: p.spiOut,
      encrAlg: suite.encrAlg, ...(suite.integAlg ? { integAlg: suite.integAlg } : {}),
      encryption: transformName(suite.encr), ...(suite.integ ? { integrity: transformName(suite.integ) } : {}),
      esn: suite.esn, dhGroup: p.gir ? suite.dhGroup : 0,
      keysIn: theirs, keysOut: mine,
      tsLocal: p.tsLocal, tsRemote: p.tsRemote,
      localAddress: sa.local.address, remoteAddress: sa.remote.address,
      udpEncap, localPort: sa.local.port, remotePort: sa.remote.port,
      lifetimeSec: lifeSec, ...(p.connection.childLifetimeKb !== undefined ? { lifetimeKb: p.connection.childLifetimeKb } : {}),
      ...(p.rekeyOf !== undefined ? { rekeyOf: p.rekeyOf } : {}),
      createdAtMs: now,
    },
  };
  sa.children.set(id, child);
  sa.ctx.emit({ type: 'child-up', child: child.info });
  sa.log('info', `CHILD_SA ${id} established spi in ${child.spiIn.toString(16)} out ${child.spiOut.toString(16)} ${child.info.encryption}`);
  return child;
}

/** In the response to a child request: SA (one proposal, our SPI), TSi, TSr. */
export function childResponsePayloads(n: Extract<ChildNegotiation, { ok: true }>, spiIn: number): AnyPayload[] {
  const out: AnyPayload[] = [];
  if (n.transport) out.push(notify(NotifyStatus.USE_TRANSPORT_MODE));
  out.push(
    { type: PayloadType.SA, proposals: [{ ...n.proposal, spi: spiToBytes(spiIn) }] },
  );
  return out;
}

export function tsPayloads(tsi: TrafficSelector[], tsr: TrafficSelector[]): AnyPayload[] {
  return [{ type: PayloadType.TSi, selectors: tsi }, { type: PayloadType.TSr, selectors: tsr }];
}
