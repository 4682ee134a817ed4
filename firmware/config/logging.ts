// The logging configuration (IOS `logging ...`, `service sequence-numbers`): destinations
// with their severity thresholds, syslog hosts and format, facility, source interface,
// origin id, rate limit.
// Defaults are IOS's (console, monitor and a 4096-byte buffer at debugging; syslog at
// informational, facility local7) and are not rendered, as on IOS.
import { SEVERITY_NAMES, type Severity } from '../lib/event-bus.js';
import { defineSection } from './model.js';

export interface LevelSetting { enabled: boolean; level: Severity }

export interface SyslogHost { address: string; port: number }

export interface LoggingConfig {
  /** `logging on` (default) / `no logging on`. */
  on: boolean;
  buffered: LevelSetting & { sizeBytes: number };
  console: LevelSetting;
  monitor: LevelSetting;
  /** Syslog threshold (`logging trap`). */
  trap: LevelSetting;
  facility: string;
  hosts: SyslogHost[];
  sourceInterface?: string;
  /** `logging rate-limit [console|all] N [except L]`. */
  rateLimit?: { perSec: number; all: boolean; console: boolean; except?: Severity };
  sequenceNumbers: boolean;
  /** `logging trap syslog-format rfc5424` (absent: RFC 3164, IOS's default). */
  syslogFormat?: 'rfc5424';
  /** `logging origin-id hostname|ip|string S`: what syslog names the box by. */
  originId?: { kind: 'hostname' | 'ip' } | { kind: 'string'; value: string };
}

declare module './model.js' {
  interface Config { logging: LoggingConfig }
}

export const DEFAULT_BUFFER_BYTES = 4096;
export const SYSLOG_PORT = 514;
export const SYSLOG_FACILITIES = [
  'auth', 'cron', 'daemon', 'kern', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7',
  'lpr', 'mail', 'news', 'sys10', 'sys11', 'sys12', 'sys13', 'sys14', 'sys9', 'syslog', 'user', 'uucp',
] as const;

export function defaultLogging(): LoggingConfig {
  return {
    on: true,
    buffered: { enabled: true, level: 7, sizeBytes: DEFAULT_BUFFER_BYTES },
    console: { enabled: true, level: 7 },
    monitor: { enabled: true, level: 7 },
    trap: { enabled: true, level: 6 },
    facility: 'local7',
    hosts: [],
    sequenceNumbers: false,
  };
}

const name = (l: Severity): string => SEVERITY_NAMES[l];

export function renderLogging(l: LoggingConfig): string[] {
  const out: string[] = [];
  if (l.sequenceNumbers) out.push('service sequence-numbers');
  if (l.rateLimit) {
    const r = l.rateLimit;
    out.push(`logging rate-limit ${r.console ? 'console ' : ''}${r.all ? 'all ' : ''}${r.perSec}${r.except !== undefined ? ` except ${name(r.except)}` : ''}`);
  }
  const b = l.buffered;
  if (!b.enabled) out.push('no logging buffered');
  else if (b.sizeBytes !== DEFAULT_BUFFER_BYTES || b.level !== 7) {
    out.push(`logging buffered${b.sizeBytes !== DEFAULT_BUFFER_BYTES ? ` ${b.sizeBytes}` : ''}${b.level !== 7 ? ` ${name(b.level)}` : ''}`);
  }
  for (const [kw, d] of [['console', l.console], ['monitor', l.monitor]] as const) {
    if (!d.enabled) out.push(`no logging ${kw}`);
    else if (d.level !== 7) out.push(`logging ${kw} ${name(d.level)}`);
  }
  if (!l.on) out.push('no logging on');
  if (!l.trap.enabled) out.push('no logging trap');
  else if (l.trap.level !== 6) out.push(`logging trap ${name(l.trap.level)}`);
  if (l.syslogFormat) out.push(`logging trap syslog-format ${l.syslogFormat}`);
  if (l.facility !== 'local7') out.push(`logging facility ${l.facility}`);
  if (l.originId) out.push(`logging origin-id ${l.originId.kind}${l.originId.kind === 'string' ? ` ${l.originId.value}` : ''}`);
  if (l.sourceInterface) out.push(`logging source-interface ${l.sourceInterface}`);
  for (const h of l.hosts) out.push(`logging host ${h.address}${h.port !== SYSLOG_PORT ? ` transport udp port ${h.port}` : ''}`);
  return out;
}

defineSection({
  key: 'logging',
  order: 15,
  create: defaultLogging,
  render: (cfg) => [renderLogging(cfg.logging)],
});
