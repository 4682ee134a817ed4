// Structured `debug crypto isakmp` events. Every event carries its context so the
// conditional-debug layer can filter on peer, SPI, connection id and VRFs. Never put keys here.
import { IdType } from '../../proto/ikev1/index.js';
import type { EventContext } from '../../lib/event-bus.js';
import type { Phase1 } from './types.js';

export interface IsakmpDebugEvent {
  subsystem: 'ISAKMP';
  /** wall-clock ms of the injected clock */
  timeMs: number;
  /** IOS conn-id; 0 = not yet assigned (printed as (0:0:N/A:0)) */
  connId: number;
  peer?: string;
  /** ISAKMP SA identity (cookies, hex) or IPsec SPI (decimal) */
  spi?: string;
  /** both IPsec SPIs of a flow (inbound, outbound) */
  spis?: readonly number[];
  /** the peer's phase-1 identity once it has sent it, and the ISAKMP profile it matched */
  peerId?: string;
  profile?: string;
  /** a Unity group name (the peer's ID_KEY_ID) */
  group?: string;
  fvrf?: string;
  ivrf?: string;
  /** true for lines `debug crypto isakmp error` also shows */
  error?: boolean;
  text: string;
}

export type IsakmpDebugSink = (ev: IsakmpDebugEvent) => void;

export interface DebugContext {
  now: () => number;
  sink?: IsakmpDebugSink;
  connId?: number;
  peer?: string;
  spi?: string;
  spis?: readonly number[];
  peerId?: string;
  profile?: string;
  group?: string;
  fvrf?: string;
  ivrf?: string;
}

export function emitDebug(ctx: DebugContext, text: string, error = false): void {
  if (!ctx.sink) return;
  ctx.sink({
    subsystem: 'ISAKMP',
    timeMs: ctx.now(),
    connId: ctx.connId ?? 0,
    ...(ctx.peer !== undefined ? { peer: ctx.peer } : {}),
    ...(ctx.spi !== undefined ? { spi: ctx.spi } : {}),
    ...(ctx.spis !== undefined ? { spis: ctx.spis } : {}),
    ...(ctx.peerId !== undefined ? { peerId: ctx.peerId } : {}),
    ...(ctx.profile !== undefined ? { profile: ctx.profile } : {}),
    ...(ctx.group !== undefined ? { group: ctx.group } : {}),
    ...(ctx.fvrf !== undefined ? { fvrf: ctx.fvrf } : {}),
    ...(ctx.ivrf !== undefined ? { ivrf: ctx.ivrf } : {}),
    ...(error ? { error: true } : {}),
    text,
  });
}

/**
 * What conditional debug can match an ISAKMP SA's lines on besides its address: the peer's
 * identity once its ID payload has arrived (`peer hostname`), a Unity group name sent as
 * ID_KEY_ID (`peer group`) and the ISAKMP profile it matched.
 */
export function phase1Identity(sa: Pick<Phase1, 'peerIdType' | 'peerId' | 'profile'>): Pick<DebugContext, 'peerId' | 'group' | 'profile'> {
  const sent = sa.peerIdType !== undefined;
  return {
    ...(sent ? { peerId: sa.peerId } : {}),
    ...(sa.peerIdType === IdType.ID_KEY_ID ? { group: sa.peerId } : {}),
    ...(sa.profile ? { profile: sa.profile.name } : {}),
  };
}

/** The bus context of an ISAKMP debug event: cookies become the IKE SA id, a decimal SPI an IPsec SPI. */
export function isakmpEventContext(ev: IsakmpDebugEvent): EventContext {
  const spi = ev.spi;
  return {
    ...(ev.peer !== undefined ? { peer: ev.peer } : {}),
    ...(ev.connId > 0 ? { connIds: [ev.connId] } : {}),
    ...(spi !== undefined ? (/^\d+$/.test(spi) ? { spis: [Number(spi)] } : { ikeSaId: spi }) : {}),
    ...(ev.spis !== undefined ? { spis: ev.spis } : {}),
    ...(ev.peerId !== undefined ? { peerId: ev.peerId } : {}),
    ...(ev.group !== undefined ? { group: ev.group } : {}),
    ...(ev.profile !== undefined ? { profile: ev.profile } : {}),
    ...(ev.fvrf !== undefined ? { fvrf: ev.fvrf } : {}),
    ...(ev.ivrf !== undefined ? { ivrf: ev.ivrf } : {}),
  };
}
