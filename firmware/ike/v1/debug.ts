// Structured `debug crypto isakmp` events. Every event carries its context so the
// conditional-debug layer can filter on peer, SPI, connection id and VRFs. Never put keys here.

export interface IsakmpDebugEvent {
  subsystem: 'ISAKMP';
  /** wall-clock ms of the injected clock */
  timeMs: number;
  /** IOS conn-id; 0 = not yet assigned (printed as (0:0:N/A:0)) */
  connId: number;
  peer?: string;
  /** ISAKMP SA identity (cookies, hex) or IPsec SPI (decimal) */
  spi?: string;
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
    ...(ctx.fvrf !== undefined ? { fvrf: ctx.fvrf } : {}),
    ...(ctx.ivrf !== undefined ? { ivrf: ctx.ivrf } : {}),
    ...(error ? { error: true } : {}),
    text,
  });
}
