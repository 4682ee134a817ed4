// Renders ISAKMP debug events as IOS prints them:
//   *Feb 11 15:01:29.595: ISAKMP:(0:0:N/A:0):Keyring keyring2 is bound to 10.0.0.2, skipping
//   *Feb 11 15:01:29.935: ISAKMP:(0:1:SW:1):: peer matches profile1 profile
// The leading '*' is IOS's mark for a clock that is not NTP-synchronised.
import type { IsakmpDebugEvent } from './debug.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface DebugFormatOptions {
  /** clock synchronised: no leading '*' */
  synced?: boolean;
}

/** "*Feb 11 15:01:29.595" (UTC). */
export function formatIosTimestamp(ms: number, opts: DebugFormatOptions = {}): string {
  const d = new Date(ms);
  const p2 = (n: number): string => String(n).padStart(2, '0');
  return `${opts.synced ? '' : '*'}${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
}

/** "(0:0:N/A:0)" before a conn-id exists, "(0:N:SW:1)" after (software crypto engine). */
export function formatConnPrefix(connId: number): string {
  return connId > 0 ? `(0:${connId}:SW:1)` : '(0:0:N/A:0)';
}

export function formatIsakmpDebug(ev: IsakmpDebugEvent, opts: DebugFormatOptions = {}): string {
  return `${formatIosTimestamp(ev.timeMs, opts)}: ${ev.subsystem}:${formatConnPrefix(ev.connId)}:${ev.text}`;
}
