// IOS call admission control for IKE: `[no] crypto call admission limit ike sa N`,
// `[no] crypto call admission limit ike in-negotiation-sa N` (config model only; the IKEv1
// service applies them), `show crypto call admission statistics` and
// `clear crypto call admission statistics`. Counters come from `runtime.ikev1.admission()`.
import { DEFAULT_IKE_IN_NEGOTIATION_LIMIT, type CallAdmissionCounters, type IkeIntakeCounters } from '../../config/crypto-call-admission.js';
import { nextRevision } from '../../config/crypto-common.js';
import type { CommandContext } from '../context.js';
import { defineCommand } from '../registry.js';

/** What the runtime reports for `show crypto call admission statistics`. */
export interface CallAdmissionView extends CallAdmissionCounters {
  /** limits in force: 0 = no limit (IOS prints 0) */
  maxIkeSas: number;
  maxInNegotiation: number;
  active: number;
  negotiating: number;
  /** the budgeted intake of first messages, IKEv1 and IKEv2 added up (absent: no IKE running) */
  intake?: IkeIntakeCounters;
}

declare module './crypto-ikev2-sa.js' {
  interface Ikev2RuntimeView {
    intakeCounters?(): IkeIntakeCounters;
    clearIntakeCounters?(): void;
  }
}

declare module './crypto-isakmp-sa.js' {
  interface IkeV1RuntimeView {
    admission?(): CallAdmissionView;
    clearAdmission?(): void;
  }
}

function callAdmission(ctx: CommandContext): CommandContext['config']['callAdmission'] {
  const c = ctx.config.callAdmission;
  c.revision = nextRevision(ctx.config);
  return c;
}

defineCommand({
  modes: ['config'],
  syntax: ['crypto call admission limit ike sa (0-99999)$n', 'no crypto call admission limit ike sa [LINE]'],
  help: {
    call: 'Configure Call Admission Control', admission: 'Call Admission Control', limit: 'Set Call Admission Control limit',
    ike: 'Limit on IKE', sa: 'Limit on number of IKE SAs', n: 'Maximum number of IKE SAs',
  },
  handler(ctx, a) {
    const c = callAdmission(ctx);
    if (a.no) delete c.ikeSaLimit;
    else c.ikeSaLimit = a.num('n')!;
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['crypto call admission limit ike in-negotiation-sa (10-99999)$n', 'no crypto call admission limit ike in-negotiation-sa [LINE]'],
  help: {
    call: 'Configure Call Admission Control', admission: 'Call Admission Control', limit: 'Set Call Admission Control limit',
    ike: 'Limit on IKE', 'in-negotiation-sa': 'Limit on number of IKE SAs in negotiation', n: 'Maximum number of in-negotiation IKE SAs',
  },
  handler(ctx, a) {
    const c = callAdmission(ctx);
    if (a.no) delete c.ikeInNegotiationLimit;
    else c.ikeInNegotiationLimit = a.num('n')!;
  },
});

function addIntake(a: IkeIntakeCounters, b: IkeIntakeCounters): IkeIntakeCounters {
  return {
    received: a.received + b.received, served: a.served + b.served, servedKnown: a.servedKnown + b.servedKnown,
    dropped: a.dropped + b.dropped, budgetWaits: a.budgetWaits + b.budgetWaits,
  };
}

export function renderCallAdmission(v: CallAdmissionView): string {
  const n = (x: number, w: number): string => String(x).padStart(w);
  const rule = '-'.repeat(69);
  return [
    rule,
    '              Crypto Call Admission Control Statistics',
    rule,
    `System Resource Limit:   ${n(0, 6)} Max IKE SAs:   ${n(v.maxIkeSas, 6)} Max in nego: ${n(v.maxInNegotiation, 6)}`,
    `Total IKE SA Count:      ${n(v.active + v.negotiating, 6)} active:        ${n(v.active, 6)} negotiating: ${n(v.negotiating, 6)}`,
    `Incoming IKE Requests:   ${n(v.incomingRequests, 6)} accepted:      ${n(v.incomingAccepted, 6)} rejected:    ${n(v.incomingRejected, 6)}`,
    `Outgoing IKE Requests:   ${n(v.outgoingRequests, 6)} accepted:      ${n(v.outgoingAccepted, 6)} rejected:    ${n(v.outgoingRejected, 6)}`,
    `Rejected IKE Requests:   ${n(v.incomingRejected + v.outgoingRejected, 6)} rsrc low:      ${n(0, 6)} Active SA limit: ${n(v.rejectedSaLimit, 6)} In-neg SA limit: ${n(v.rejectedInNegotiationLimit, 6)}`,
    `Half-open evicted:       ${n(v.evicted, 6)} per source:    ${n(v.evictedPerSource, 6)} expired early: ${n(v.expiredUnderPressure, 6)}`,
    ...(v.intake ? [
      `IKE intake received:     ${n(v.intake.received, 6)} served:        ${n(v.intake.served, 6)} known peers: ${n(v.intake.servedKnown, 6)}`,
      `IKE intake dropped:      ${n(v.intake.dropped, 6)} budget waits:  ${n(v.intake.budgetWaits, 6)}`,
    ] : []),
    '',
  ].join('\n');
}

defineCommand({
  modes: ['exec'],
  syntax: 'show crypto call admission statistics',
  help: { call: 'Show Call Admission Control information', admission: 'Call Admission Control', statistics: 'Call Admission Control statistics' },
  pipe: true,
  handler(ctx) {
    const c = ctx.config.callAdmission;
    const live = ctx.system.runtime.ikev1?.admission?.();
    const v: CallAdmissionView = live ?? {
      maxIkeSas: c.ikeSaLimit ?? 0, maxInNegotiation: c.ikeInNegotiationLimit ?? DEFAULT_IKE_IN_NEGOTIATION_LIMIT, active: 0, negotiating: 0,
      incomingRequests: 0, incomingAccepted: 0, incomingRejected: 0, outgoingRequests: 0, outgoingAccepted: 0, outgoingRejected: 0,
      rejectedSaLimit: 0, rejectedInNegotiationLimit: 0, evicted: 0, evictedPerSource: 0, expiredUnderPressure: 0,
    };
    const v2 = ctx.system.runtime.ikev2?.intakeCounters?.();
    if (v2) v.intake = v.intake ? addIntake(v.intake, v2) : v2;
    ctx.data(v);
    ctx.print(renderCallAdmission(v));
  },
});

defineCommand({
  modes: ['exec'],
  syntax: 'clear crypto call admission statistics',
  help: { call: 'Clear Call Admission Control information', admission: 'Call Admission Control', statistics: 'Call Admission Control statistics' },
  handler(ctx) {
    ctx.system.runtime.ikev1?.clearAdmission?.();
    ctx.system.runtime.ikev2?.clearIntakeCounters?.();
  },
});
