// How a bus event is printed, as IOS prints it:
//   000042: *Mar  1 00:01:02.345: %SYS-5-CONFIG_I: Configured from console by console
//   *Mar  1 00:01:02.345: ISAKMP:(0:1:SW:1):beginning Main Mode exchange
// (sequence number with `service sequence-numbers`; the stamp per `service timestamps log`
// for messages and `service timestamps debug` for debug lines; '*' marks a clock that is
// not NTP-synchronised, which this box never claims).
import type { TimestampSpec } from '../config/system.js';
import type { BusEvent } from '../lib/event-bus.js';

export type TimestampFormat = TimestampSpec;
export { DEFAULT_TIMESTAMP } from '../config/system.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => String(n).padStart(2, '0');

/** `*Mar  1 00:01:02.345` (day padded with a space, as IOS), or uptime `1d02h`/`00:01:02`. */
export function formatStamp(ms: number, fmt: TimestampFormat, bootMs: number): string {
  if (fmt.kind === 'uptime') return formatUptime(Math.max(0, ms - bootMs));
  const d = new Date(ms);
  const local = fmt.localtime;
  const mon = local ? d.getMonth() : d.getUTCMonth();
  const day = local ? d.getDate() : d.getUTCDate();
  const year = local ? d.getFullYear() : d.getUTCFullYear();
  const h = local ? d.getHours() : d.getUTCHours();
  const m = local ? d.getMinutes() : d.getUTCMinutes();
  const s = local ? d.getSeconds() : d.getUTCSeconds();
  let out = `*${MONTHS[mon]} ${String(day).padStart(2, ' ')} ${fmt.year ? `${year} ` : ''}${p2(h)}:${p2(m)}:${p2(s)}`;
  if (fmt.msec) out += `.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
  if (fmt.showTimezone) out += ` ${local ? localZoneName(d) : 'UTC'}`;
  return out;
}

function localZoneName(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  return part?.value ?? 'UTC';
}

/** IOS uptime stamps: `00:01:02` under a day, `1d02h` under a week, `1w2d` after. */
export function formatUptime(ms: number): string {
  const sec = Math.floor(ms / 1000);
  const days = Math.floor(sec / 86400);
  if (days === 0) return `${p2(Math.floor(sec / 3600))}:${p2(Math.floor((sec % 3600) / 60))}:${p2(sec % 60)}`;
  if (days < 7) return `${days}d${p2(Math.floor((sec % 86400) / 3600))}h`;
  return `${Math.floor(days / 7)}w${days % 7}d`;
}

/** `%FACILITY-SEV-MNEMONIC: text` for messages; the debug text as it is. */
export function eventBody(ev: BusEvent): string {
  if (ev.kind === 'message') return `%${ev.facility}-${ev.level}-${ev.mnemonic}: ${ev.text}`;
  return ev.text;
}

export interface LineFormat {
  /** `service sequence-numbers`: the event's number, else undefined. */
  seq?: number;
  /** undefined: `no service timestamps ...`. */
  stamp?: TimestampFormat;
  bootMs: number;
}

export function formatLogLine(ev: BusEvent, f: LineFormat): string {
  const seq = f.seq !== undefined ? `${String(f.seq).padStart(6, '0')}: ` : '';
  const stamp = f.stamp ? `${formatStamp(ev.timeMs, f.stamp, f.bootMs)}: ` : '';
  return `${seq}${stamp}${eventBody(ev)}`;
}
