// What each IKEv1 message must and may carry, one row per message a task receives (as
// libreswan declares required and optional payloads per state transition). The exchanges
// check a message against its row instead of testing payloads inline; what they do with a
// message that fails (drop, fail the phase 1, refuse the quick mode) stays theirs.
// Payloads outside a row are ignored, as before (vendor IDs and notifies of other vendors).
import { ExchangeType, PayloadType, type DecodedPayload } from '../../proto/ikev1/index.js';

export interface MessageRule {
  /** the message as RFC 2409 numbers it, for diagnostics */
  readonly name: string;
  readonly exchange: number;
  readonly required: readonly number[];
  readonly optional: readonly number[];
  /** the payload that must come first (HASH in quick mode and informational, RFC 2409 5.5, 5.7) */
  readonly first?: number;
}

const { SA, KE, NONCE, ID, HASH, N, D, VID, CERT, CR, NAT_D, NAT_D_DRAFT } = PayloadType;
const NATD = [NAT_D, NAT_D_DRAFT];

/** Messages received, by the task and step that receives them. */
export const MESSAGE_RULES = {
  /** responder, Main Mode message 1: HDR, SA */
  MAIN_R0: { name: 'MM1', exchange: ExchangeType.IDENTITY_PROTECTION, required: [SA], optional: [VID] },
  /** initiator, Main Mode message 2: HDR, SA */
  MAIN_I1: { name: 'MM2', exchange: ExchangeType.IDENTITY_PROTECTION, required: [SA], optional: [VID, N] },
  /** responder, Main Mode message 3: HDR, KE, Ni [, NAT-D, NAT-D] */
  MAIN_R1: { name: 'MM3', exchange: ExchangeType.IDENTITY_PROTECTION, required: [KE, NONCE], optional: [...NATD, VID, CR] },
  /** initiator, Main Mode message 4: HDR, KE, Nr [, NAT-D, NAT-D] */
  MAIN_I2: { name: 'MM4', exchange: ExchangeType.IDENTITY_PROTECTION, required: [KE, NONCE], optional: [...NATD, VID, CR, N] },
  /** responder, Main Mode message 5: HDR*, IDii, HASH_I [, N(INITIAL-CONTACT)] */
  MAIN_R2: { name: 'MM5', exchange: ExchangeType.IDENTITY_PROTECTION, required: [ID, HASH], optional: [N, CERT, CR, VID] },
  /** initiator, Main Mode message 6: HDR*, IDir, HASH_R */
  MAIN_I3: { name: 'MM6', exchange: ExchangeType.IDENTITY_PROTECTION, required: [ID, HASH], optional: [N, CERT, VID] },
  /** responder, Aggressive Mode message 1: HDR, SA, KE, Ni, IDii */
  AGGR_R0: { name: 'AM1', exchange: ExchangeType.AGGRESSIVE, required: [SA, KE, NONCE, ID], optional: [VID, CR] },
  /** initiator, Aggressive Mode message 2: HDR, SA, KE, Nr, IDir, HASH_R [, NAT-D, NAT-D] */
  AGGR_I1: { name: 'AM2', exchange: ExchangeType.AGGRESSIVE, required: [SA, KE, NONCE, ID, HASH], optional: [...NATD, VID, CR, N, CERT] },
  /** responder, Aggressive Mode message 3: HDR[*], HASH_I [, NAT-D, NAT-D, N] */
  AGGR_R1: { name: 'AM3', exchange: ExchangeType.AGGRESSIVE, required: [HASH], optional: [...NATD, N, VID, CERT] },
  /** responder, Quick Mode message 1: HDR*, HASH(1), SA, Ni [, KE] [, IDci, IDcr] */
  QUICK_R0: { name: 'QM1', exchange: ExchangeType.QUICK_MODE, required: [HASH, SA, NONCE], optional: [KE, ID, N], first: HASH },
  /** initiator, Quick Mode message 2: HDR*, HASH(2), SA, Nr [, KE] [, IDci, IDcr] [, N(RESPONDER-LIFETIME)] */
  QUICK_I1: { name: 'QM2', exchange: ExchangeType.QUICK_MODE, required: [HASH, SA, NONCE], optional: [KE, ID, N], first: HASH },
  /** initiator, Quick Mode message 2 when we offered PFS: the KE is required too (RFC 2409 5.5) */
  QUICK_I1_PFS: { name: 'QM2', exchange: ExchangeType.QUICK_MODE, required: [HASH, SA, NONCE, KE], optional: [ID, N], first: HASH },
  /** responder, Quick Mode message 3: HDR*, HASH(3) */
  QUICK_R1: { name: 'QM3', exchange: ExchangeType.QUICK_MODE, required: [HASH], optional: [], first: HASH },
  /** either side, Informational: HDR*, HASH(1), N/D */
  INFO: { name: 'INFO', exchange: ExchangeType.INFORMATIONAL, required: [HASH], optional: [N, D], first: HASH },
} as const satisfies Record<string, MessageRule>;

/** RFC 2409 5: a nonce is 8 to 256 octets. */
const NONCE_MIN = 8;
const NONCE_MAX = 256;

export type RuleCheck = { ok: true } | { ok: false; why: string };

/**
 * Checks a decoded message against its row: the first payload, every required payload present
 * (payloads this codec could not decode do not count), and the nonce's length.
 */
export function checkMessage(rule: MessageRule, payloads: readonly DecodedPayload[]): RuleCheck {
  if (rule.first !== undefined && payloads[0]?.type !== rule.first) return { ok: false, why: `${rule.name}: payload ${rule.first} must come first` };
  const known = payloads.filter((p) => !('unknown' in p));
  for (const t of rule.required) {
    if (!known.some((p) => p.type === t)) return { ok: false, why: `${rule.name}: required payload ${t} missing` };
  }
  const nonce = known.find((p) => p.type === NONCE) as (DecodedPayload & { data: Uint8Array }) | undefined;
  if (nonce && (nonce.data.length < NONCE_MIN || nonce.data.length > NONCE_MAX)) return { ok: false, why: `${rule.name}: nonce of ${nonce.data.length} octets` };
  return { ok: true };
}

