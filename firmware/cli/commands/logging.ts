// Logging commands as on IOS: `logging buffered [SIZE] [LEVEL]`, `logging console|monitor
// [LEVEL]`, `logging trap [LEVEL]`, `logging host A [transport udp port N]` (and the old
// `logging A`), `logging trap syslog-format rfc5424`, `logging origin-id`, `logging
// facility`, `logging source-interface`, `logging rate-limit`,
// `logging on`, `service sequence-numbers`, their `no` forms; exec `show logging`,
// `clear logging`, `terminal monitor` / `terminal no monitor` (this vty session receives
// log and debug lines; the console line always gets `logging console`).
import { DEFAULT_BUFFER_BYTES, SYSLOG_FACILITIES, SYSLOG_PORT, defaultLogging } from '../../config/logging.js';
import { SEVERITY_NAMES, type Severity } from '../../lib/event-bus.js';
import type { Args } from '../matcher.js';
import type { DestShow, LoggingShow } from '../logging-view.js';
import { defineCommand } from '../registry.js';
import { isConfirm } from './exec.js';

const LEVEL = `[(0-7)$lvl|${SEVERITY_NAMES.join('|')}]`;

const LEVEL_HELP: Record<string, string> = {
  lvl: 'Logging severity level',
  emergencies: 'System is unusable                (severity=0)',
  alerts: 'Immediate action needed           (severity=1)',
  critical: 'Critical conditions               (severity=2)',
  errors: 'Error conditions                  (severity=3)',
  warnings: 'Warning conditions                (severity=4)',
  notifications: 'Normal but significant conditions (severity=5)',
  informational: 'Informational messages            (severity=6)',
  debugging: 'Debugging messages                (severity=7)',
};

// IOS's `logging facility ?` texts.
const FACILITY_HELP: Record<string, string> = {
  auth: 'Authorization system', cron: 'Cron facility', daemon: 'System daemons', kern: 'Kernel',
  ...Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7].map((n) => [`local${n}`, 'Local use'])),
  lpr: 'Line printer system', mail: 'Mail system', news: 'USENET news',
  ...Object.fromEntries([9, 10, 11, 12, 13, 14].map((n) => [`sys${n}`, 'System use'])),
  syslog: 'Syslog itself', user: 'User process', uucp: 'Unix-to-Unix copy system',
};

const HELP: Record<string, string> = {
  ...LEVEL_HELP,
  logging: 'Modify message logging facilities',
  buffered: 'Set buffered logging parameters',
  size: 'Logging buffer size',
  console: 'Set console logging parameters',
  monitor: 'Set terminal line (monitor) logging parameters',
  trap: 'Set syslog server logging level',
  host: 'Set syslog server IP address and parameters',
  transport: 'Specify the transport protocol (default=UDP)',
  udp: 'UDP Transport Protocol',
  port: 'Specify the port number (default=514)',
  facility: 'Facility parameter for syslog messages',
  'source-interface': 'Specify interface for source address in logging transactions',
  'rate-limit': 'Set messages per second limit',
  rate: 'Messages per second',
  all: 'Rate limit all messages, including debug messages',
  except: 'Messages of this severity or higher are not rate limited',
  on: 'Enable logging to all enabled destinations',
  service: 'Modify use of network based services',
  'sequence-numbers': 'Stamp logger messages with a sequence number',
  ...FACILITY_HELP,
};

/** The level of `[LEVEL]`, or the default when none was typed. */
function levelOf(a: Args, dflt: Severity): Severity {
  const n = a.num('lvl');
  if (n !== undefined) return n as Severity;
  const i = SEVERITY_NAMES.findIndex((s) => a.has(s));
  return i >= 0 ? (i as Severity) : dflt;
}

defineCommand({
  modes: ['config'],
  syntax: [`logging buffered [(4096-2147483647)$size] ${LEVEL}`, 'no logging buffered [LINE]'],
  help: HELP,
  handler(ctx, a) {
    const b = ctx.config.logging.buffered;
    if (a.no) {
      ctx.config.logging.buffered = { ...b, enabled: false, sizeBytes: DEFAULT_BUFFER_BYTES, level: 7 };
      return;
    }
    ctx.config.logging.buffered = { enabled: true, sizeBytes: a.num('size') ?? b.sizeBytes, level: levelOf(a, a.num('size') !== undefined ? b.level : 7) };
  },
});

defineCommand({
  modes: ['config'],
  syntax: [`logging <console|monitor|trap> ${LEVEL}`, 'no logging <console|monitor|trap> [LINE]'],
  help: HELP,
  handler(ctx, a) {
    const kw = a.has('console') ? 'console' : a.has('monitor') ? 'monitor' : 'trap';
    const dflt = kw === 'trap' ? 6 : 7;
    ctx.config.logging[kw] = a.no ? { enabled: false, level: dflt } : { enabled: true, level: levelOf(a, dflt) };
  },
});

defineCommand({
  modes: ['config'],
  syntax: [
    'logging host A.B.C.D$host [transport udp [port (1-65535)$port]]',
    'logging A.B.C.D$host',
    'no logging host A.B.C.D$host [transport udp [port (1-65535)$port]]',
    'no logging A.B.C.D$host',
  ],
  help: { ...HELP, host: 'Set syslog server IP address and parameters', 'A.B.C.D': 'IP address of the logging host' },
  handler(ctx, a) {
    const address = a.req('host');
    const hosts = ctx.config.logging.hosts.filter((h) => h.address !== address);
    if (!a.no) hosts.push({ address, port: a.num('port') ?? SYSLOG_PORT });
    ctx.config.logging.hosts = hosts;
  },
});

defineCommand({
  modes: ['config'],
  syntax: [`logging facility <${SYSLOG_FACILITIES.join('|')}>`, 'no logging facility [WORD]'],
  help: HELP,
  handler(ctx, a) {
    ctx.config.logging.facility = a.no ? 'local7' : SYSLOG_FACILITIES.find((f) => a.has(f))!;
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['logging trap syslog-format <rfc5424|rfc3164>', 'no logging trap syslog-format [WORD]'],
  help: { ...HELP, 'syslog-format': 'Specify the syslog message format', rfc5424: 'RFC 5424 format (version 1 header, structured data)', rfc3164: 'RFC 3164 (BSD) format (default)' },
  handler(ctx, a) {
    if (a.no || a.has('rfc3164')) delete ctx.config.logging.syslogFormat;
    else ctx.config.logging.syslogFormat = 'rfc5424';
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['logging origin-id <hostname|ip>', 'logging origin-id string WORD$origin', 'no logging origin-id [LINE]'],
  help: {
    ...HELP, 'origin-id': 'Add origin ID to syslog messages', hostname: 'Use origin hostname as ID', ip: 'Use origin IP address as ID',
    string: 'Define a unique text string as ID', WORD: 'Text string (enclose in quotes if contains spaces)',
  },
  handler(ctx, a) {
    if (a.no) delete ctx.config.logging.originId;
    else if (a.has('string')) ctx.config.logging.originId = { kind: 'string', value: a.req('origin').replace(/^"(.*)"$/, '$1') };
    else ctx.config.logging.originId = { kind: a.has('ip') ? 'ip' : 'hostname' };
  },
});

defineCommand({
  modes: ['config'],
  syntax: ['logging source-interface IFNAME$ifname', 'no logging source-interface [IFNAME]'],
  help: HELP,
  handler(ctx, a) {
    if (a.no) delete ctx.config.logging.sourceInterface;
    else ctx.config.logging.sourceInterface = a.req('ifname');
  },
});

defineCommand({
  modes: ['config'],
  syntax: [`logging rate-limit [console] [all] (1-10000)$rate [except ${LEVEL}]`, 'no logging rate-limit [LINE]'],
  help: HELP,
  handler(ctx, a) {
    if (a.no) {
      delete ctx.config.logging.rateLimit;
      return;
    }
    ctx.config.logging.rateLimit = {
      perSec: a.num('rate')!, all: a.has('all'), console: a.has('console'),
      ...(a.has('except') ? { except: levelOf(a, 3) } : {}),
    };
  },
});

defineCommand({
  modes: ['config'],
  syntax: '[no] logging on',
  help: HELP,
  handler(ctx, a) { ctx.config.logging.on = !a.no; },
});

defineCommand({
  modes: ['config'],
  syntax: '[no] service sequence-numbers',
  help: HELP,
  handler(ctx, a) { ctx.config.logging.sequenceNumbers = !a.no; },
});

// ---------------------------------------------------------------- exec

defineCommand({
  modes: ['user', 'exec'],
  syntax: ['terminal monitor', 'terminal no monitor'],
  help: { terminal: 'Set terminal line parameters', monitor: 'Copy debug output to the current terminal line', no: 'Negate a command or set its defaults' },
  handler(ctx, a) {
    ctx.session.monitor = !a.has('no');
  },
});

function dest(label: string, d: DestShow): string[] {
  const pad = ' '.repeat(4 + label.length + 2);
  if (!d.enabled) return [`    ${label}: disabled`];
  return [`    ${label}: level ${SEVERITY_NAMES[d.level]}, ${d.logged} messages logged, xml disabled,`, `${pad}filtering disabled`];
}

/** `show logging` in the IOS 15 layout: counters per destination, then the buffer. */
export function renderShowLogging(s: LoggingShow): string {
  const out = [
    `Syslog logging: ${s.on ? 'enabled' : 'disabled'} (0 messages dropped, ${s.rateLimited} messages rate-limited, ${s.flushes} flushes, ${s.overruns} overruns, xml disabled, filtering disabled)`,
    '', 'No Active Message Discriminator.', '', '', '', 'No Inactive Message Discriminator.', '', '',
    ...dest('Console logging', s.console),
    ...dest('Monitor logging', s.monitor),
    ...(s.buffered.enabled
      ? [`    Buffer logging:  level ${SEVERITY_NAMES[s.buffered.level]}, ${s.buffered.logged} messages logged, xml disabled,`, '                    filtering disabled']
      : ['    Buffer logging:  disabled, xml disabled,', '                    filtering disabled']),
    `    Exception Logging: size (${DEFAULT_BUFFER_BYTES} bytes)`,
    '    Count and timestamp logging messages: disabled',
    '    Persistent logging: disabled',
    '', 'No active filter modules.', '',
    s.trap.enabled ? `    Trap logging: level ${SEVERITY_NAMES[s.trap.level]}, ${s.trap.logged} message lines logged` : '    Trap logging: disabled',
  ];
  for (const h of s.hosts) {
    out.push(
      `        Logging to ${h.address}  (udp port ${h.port}, audit disabled,`,
      '              link up),',
      `              ${h.logged} message lines logged, `,
      `              ${h.rateLimited} message lines rate-limited, `,
      `              ${h.dropped} message lines dropped-by-MD, `,
      `              xml disabled, sequence number ${s.sequenceNumbers ? 'enabled' : 'disabled'}`,
      '              filtering disabled',
    );
  }
  if (s.sourceInterface) out.push('        Logging Source-Interface:       VRF Name:', `        ${s.sourceInterface.padEnd(32)}`);
  out.push('');
  if (s.buffered.enabled) out.push(`Log Buffer (${s.buffered.sizeBytes} bytes):`, '', ...s.lines);
  return `${out.join('\n')}\n`;
}

const EMPTY: LoggingShow = (() => {
  const d = defaultLogging();
  const z = { logged: 0, rateLimited: 0 };
  return {
    on: d.on, console: { ...d.console, ...z }, monitor: { ...d.monitor, ...z }, buffered: { ...d.buffered, ...z }, trap: { ...d.trap, ...z },
    facility: d.facility, hosts: [], rateLimited: 0, flushes: 0, overruns: 0, sequenceNumbers: false, lines: [],
  };
})();

defineCommand({
  modes: ['exec'],
  syntax: 'show logging',
  help: { logging: 'Show the contents of logging buffers' },
  pipe: true,
  handler(ctx) {
    const s = ctx.system.runtime.logging?.show() ?? EMPTY;
    ctx.data(s);
    ctx.print(renderShowLogging(s));
  },
});

defineCommand({
  modes: ['exec'],
  syntax: 'clear logging',
  help: { clear: 'Reset functions', logging: 'Clear logging buffer' },
  async handler(ctx) {
    if (!isConfirm(await ctx.ask('Clear logging buffer [confirm]'))) return;
    ctx.system.runtime.logging?.clearBuffer();
  },
});
