// Structured failure diagnosis (issue 6 item 4). The side that rejects records exactly what
// failed; the initiator records the notify it got and what it last sent. Records are plain
// data (JSON-friendly: no Uint8Array, no bigint) and never contain keys.
import type { ProposalComparison } from './proposal-select.js';

interface DiagBase {
  atMs: number;
  ikeSaId: number;
  connection?: string;
  localAddress: string;
  remoteAddress: string;
  /** IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA ... */
  exchange: string;
}

/** Responder: nothing offered was acceptable. */
export interface NoProposalDiagnosis extends DiagBase {
  kind: 'NO_PROPOSAL_CHOSEN';
  role: 'responder';
  protocol: 'IKE' | 'ESP';
  /** Offered proposals in the peer's order: "#1: ENCR_AES_CBC_256 PRF_HMAC_SHA2_256 ...". */
  offered: string[];
  /** Our proposals, each compared with the closest offered one. */
  comparisons: ProposalComparison[];
}

/** Responder: the peer's KE group is not the one selected. */
export interface InvalidKeDiagnosis extends DiagBase {
  kind: 'INVALID_KE_PAYLOAD';
  role: 'responder';
  receivedGroup: number;
  selectedGroup: number;
}

/** Responder: no overlap between the requested selectors and ours. */
export interface TsUnacceptableDiagnosis extends DiagBase {
  kind: 'TS_UNACCEPTABLE';
  role: 'responder';
  requestedTsi: string[];
  requestedTsr: string[];
  /** Our selectors for the peer's side (compared with TSi) and our side (compared with TSr). */
  localRemoteSelectors: string[];
  localLocalSelectors: string[];
  /** Which of TSi/TSr had no overlap (or, strict, was not inside ours). */
  failedSide: 'TSi' | 'TSr';
  /** Set when the selectors overlapped but the connection takes only its own exactly (static VTI). */
  exactRequired?: string;
  /** The connection takes selectors only inside its own (a dynamic map template): no narrowing. */
  strict?: boolean;
}

/** Either side: the peer's AUTH did not verify, or there was no key / no matching profile. */
export interface AuthFailedDiagnosis extends DiagBase {
  kind: 'AUTHENTICATION_FAILED';
  role: 'responder' | 'initiator';
  peerIdentity: string;
  /** Where the key came from (keyring / peer entry), or why none was found. */
  keySource: string;
  reason: 'auth-mismatch' | 'no-key' | 'no-matching-connection' | 'identity-mismatch';
}

/** Initiator: the peer answered with an error notify. */
export interface NotifyReceivedDiagnosis extends DiagBase {
  kind: 'NOTIFY_RECEIVED';
  role: 'initiator';
  notify: string;
  notifyType: number;
  /** Summary of the request we sent last (proposals, selectors, identity). */
  lastSent: string[];
}

/** Initiator: the peer never answered (retransmissions exhausted). */
export interface TimeoutDiagnosis extends DiagBase {
  kind: 'TIMEOUT';
  role: 'initiator';
  retransmissions: number;
  lastSent: string[];
}

/** Either side: the peer's answer was not acceptable (e.g. a proposal we did not offer). */
export interface InvalidResponseDiagnosis extends DiagBase {
  kind: 'INVALID_RESPONSE';
  role: 'initiator';
  detail: string;
  lastSent: string[];
}

export type Ikev2Diagnosis =
  | NoProposalDiagnosis | InvalidKeDiagnosis | TsUnacceptableDiagnosis | AuthFailedDiagnosis
  | NotifyReceivedDiagnosis | TimeoutDiagnosis | InvalidResponseDiagnosis;

/** Text lines for `show crypto ikev2 diagnose`. */
export function formatDiagnosis(d: Ikev2Diagnosis): string[] {
  const head = `${d.kind} (${d.role}) ${d.exchange} local ${d.localAddress} remote ${d.remoteAddress}` +
    (d.connection ? ` connection ${d.connection}` : '');
  const out = [head];
  switch (d.kind) {
    case 'NO_PROPOSAL_CHOSEN':
      out.push(`  ${d.protocol} proposals offered by the peer:`);
      for (const o of d.offered) out.push(`    ${o}`);
      for (const c of d.comparisons) {
        out.push(`  local proposal ${c.localName ?? `#${c.localIndex + 1}`}: ${c.local.join(' ')}`);
        out.push(`    closest offered #${c.offeredNum}: ${c.offered.join(' ')}`);
        out.push(`    first difference: ${c.firstDifference.transformType}: offered ${c.firstDifference.offered.join(',') || '-'}` +
          ` / local ${c.firstDifference.local.join(',') || '-'}`);
      }
      break;
    case 'INVALID_KE_PAYLOAD':
      out.push(`  KE group received ${d.receivedGroup}, selected ${d.selectedGroup}`);
      break;
    case 'TS_UNACCEPTABLE':
      out.push(d.exactRequired ? `  ${d.exactRequired}` : d.strict ? `  ${d.failedSide} wider than the dynamic map template allows (not narrowed)` : `  no overlap in ${d.failedSide}`);
      out.push(`  requested TSi: ${d.requestedTsi.join(', ')}`);
      out.push(`  requested TSr: ${d.requestedTsr.join(', ')}`);
      out.push(`  local selectors for the peer side: ${d.localRemoteSelectors.join(', ')}`);
      out.push(`  local selectors for our side: ${d.localLocalSelectors.join(', ')}`);
      break;
    case 'AUTHENTICATION_FAILED':
      out.push(`  peer identity ${d.peerIdentity}, key source ${d.keySource}, reason ${d.reason}`);
      break;
    case 'NOTIFY_RECEIVED':
      out.push(`  received notify ${d.notify} (${d.notifyType}); last sent:`);
      for (const l of d.lastSent) out.push(`    ${l}`);
      break;
    case 'TIMEOUT':
      out.push(`  no answer after ${d.retransmissions} retransmissions; last sent:`);
      for (const l of d.lastSent) out.push(`    ${l}`);
      break;
    case 'INVALID_RESPONSE':
      out.push(`  ${d.detail}; last sent:`);
      for (const l of d.lastSent) out.push(`    ${l}`);
      break;
  }
  return out;
}

// Diagnoses are kept for peers that have not authenticated: what they may store is bounded in
// count (engine: maxDiagnoses in all, MAX_DIAGNOSES_PER_PEER per address) and in size (here).
export const MAX_DIAGNOSES_PER_PEER = 4;
export const MAX_DIAGNOSIS_LINES = 16;
export const MAX_DIAGNOSIS_LINE_CHARS = 200;

function boundLines(list: readonly string[]): string[] {
  const cut = list.slice(0, MAX_DIAGNOSIS_LINES).map((l) => (l.length > MAX_DIAGNOSIS_LINE_CHARS ? `${l.slice(0, MAX_DIAGNOSIS_LINE_CHARS)}...` : l));
  if (list.length > MAX_DIAGNOSIS_LINES) cut.push(`... ${list.length - MAX_DIAGNOSIS_LINES} more`);
  return cut;
}

/** The diagnosis with every peer-supplied list and string cut to the size limits. */
export function boundDiagnosis(d: Ikev2Diagnosis): Ikev2Diagnosis {
  switch (d.kind) {
    case 'NO_PROPOSAL_CHOSEN':
      return {
        ...d, offered: boundLines(d.offered),
        comparisons: d.comparisons.slice(0, MAX_DIAGNOSIS_LINES).map((c) => ({
          ...c, offered: boundLines(c.offered),
          firstDifference: { ...c.firstDifference, offered: boundLines(c.firstDifference.offered) },
        })),
      };
    case 'TS_UNACCEPTABLE':
      return { ...d, requestedTsi: boundLines(d.requestedTsi), requestedTsr: boundLines(d.requestedTsr) };
    case 'AUTHENTICATION_FAILED':
      return { ...d, peerIdentity: boundLines([d.peerIdentity])[0]! };
    default:
      return d;
  }
}
