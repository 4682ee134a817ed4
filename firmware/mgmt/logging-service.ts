// The sinks of the event bus: the IOS logging destinations. One instance per box (the
// daemon owns it). Debug lines pass the debug flags and the crypto conditions; every line
// then goes to each destination whose level admits it: the console line (`logging
// console`), vty sessions with `terminal monitor` (`logging monitor`), the log buffer
// (`logging buffered`, read by `show logging`) and syslog hosts (`logging trap`). A sink
// never blocks the producer: terminals get an asynchronous write, syslog a UDP datagram.
import { DEFAULT_BUFFER_BYTES } from '../config/logging.js';
import { effectiveIpv4 } from '../config/interface.js';
import type { Config } from '../config/model.js';
import type { BusEvent, EventBus, Severity } from '../lib/event-bus.js';
import type { LoggingRuntimeView, LoggingShow } from '../cli/logging-view.js';
import { DebugConditions } from './debug-conditions.js';
import { DebugFlags } from './debug-flags.js';
import { formatLogLine, type TimestampFormat, DEFAULT_TIMESTAMP } from './log-format.js';

/** A CLI session as a log destination (console line or vty). */
export interface LogTerminal {
  /** `console`, `vty0`, ... */
  readonly line: string;
  /** `terminal monitor` is on for this session. */
  monitor(): boolean;
  /** Throws once the session has ended (it is then dropped). */
  write(text: string): void;
}

export interface LevelDest { enabled: boolean; level: Severity }

/** What the logging configuration says (firmware/config/logging.ts maps onto this). */
export interface LoggingSettings {
  /** `logging on` (off: only the console still gets messages, as IOS). */
  on: boolean;
  console: LevelDest;
  monitor: LevelDest;
  buffered: LevelDest & { sizeBytes: number };
  trap: LevelDest;
  /** syslog facility name (`local7`). */
  facility: string;
  hosts: Array<{ address: string; port: number }>;
  /** `logging source-interface`: the address syslog datagrams leave from. */
  sourceAddress?: string;
  sourceInterface?: string;
  /** undefined: `no service timestamps log|debug`. */
  stampLog?: TimestampFormat;
  stampDebug?: TimestampFormat;
  sequenceNumbers: boolean;
  /** `logging rate-limit`: messages per second; `all` counts debug lines too. */
  rateLimit?: { perSec: number; all: boolean; consoleOnly: boolean; except?: Severity };
  hostname: string;
  /** `logging trap syslog-format`. */
  syslogFormat: 'rfc3164' | 'rfc5424';
  /** `logging origin-id`: the HOSTNAME syslog messages carry (default: the hostname). */
  originHost?: string;
  /** `logging origin-id ip`: the address, also as RFC 5424 structured data `[origin ip=...]`. */
  originIp?: string;
}


/** The settings the configuration asks for (`logging ...`, `service timestamps`, hostname). */
export function loggingSettingsFrom(cfg: Config): LoggingSettings {
  const l = cfg.logging;
  const src = l.sourceInterface ? effectiveIpv4(cfg, l.sourceInterface)?.address : undefined;
  // origin-id ip: the source interface's address, else the first interface that has one
  const ip = l.originId?.kind === 'ip'
    ? src ?? Object.keys(cfg.interfaces?.items ?? {}).sort().map((n) => effectiveIpv4(cfg, n)?.address).find((a) => a !== undefined)
    : undefined;
  const originHost = l.originId?.kind === 'string' ? l.originId.value : l.originId?.kind === 'hostname' ? cfg.system.hostname : ip;
  return {
    on: l.on,
    console: { ...l.console },
    monitor: { ...l.monitor },
    buffered: { ...l.buffered },
    trap: { ...l.trap },
    facility: l.facility,
    hosts: l.hosts.map((h) => ({ ...h })),
    ...(l.sourceInterface ? { sourceInterface: l.sourceInterface } : {}),
    ...(src ? { sourceAddress: src } : {}),
    ...(cfg.system.timestampsLog ? { stampLog: cfg.system.timestampsLog } : {}),
    ...(cfg.system.timestampsDebug ? { stampDebug: cfg.system.timestampsDebug } : {}),
    sequenceNumbers: l.sequenceNumbers,
    ...(l.rateLimit ? { rateLimit: { perSec: l.rateLimit.perSec, all: l.rateLimit.all, consoleOnly: l.rateLimit.console, ...(l.rateLimit.except !== undefined ? { except: l.rateLimit.except } : {}) } } : {}),
    hostname: cfg.system.hostname,
    syslogFormat: l.syslogFormat ?? 'rfc3164',
    ...(originHost ? { originHost } : {}),
    ...(ip ? { originIp: ip } : {}),
  };
}

export function defaultLoggingSettings(): LoggingSettings {
  return {
    on: true,
    console: { enabled: true, level: 7 },
    monitor: { enabled: true, level: 7 },
    buffered: { enabled: true, level: 7, sizeBytes: DEFAULT_BUFFER_BYTES },
    trap: { enabled: true, level: 6 },
    facility: 'local7',
    hosts: [],
    stampLog: DEFAULT_TIMESTAMP,
    stampDebug: DEFAULT_TIMESTAMP,
    sequenceNumbers: false,
    hostname: 'Router',
    syslogFormat: 'rfc3164',
  };
}

/** Per destination: lines logged, and lines the rate limit dropped. */
export interface DestCounters { logged: number; rateLimited: number }

/** Something that sends a formatted line to the syslog hosts (firmware/mgmt/syslog-sink.ts). */
export interface SyslogOutput {
  /** `seq`: the line's number under `service sequence-numbers`. */
  send(ev: BusEvent, line: string, settings: LoggingSettings, seq?: number): void;
  counters(address: string, port: number): DestCounters & { dropped: number };
  close(): void;
}

export interface LoggingOptions {
  bootMs: number;
  /** The daemon's stderr trace (RAMPART_DEBUG): every event, internal traces included. */
  trace?: (line: string) => void;
  syslog?: SyslogOutput;
}

export class LoggingService {
  readonly flags = new DebugFlags();
  readonly conditions = new DebugConditions();
  settings: LoggingSettings = defaultLoggingSettings();
  private readonly terminals = new Set<LogTerminal>();
  private buffer: string[] = [];
  private bufferBytes = 0;
  private seq = 0;
  readonly counters = {
    console: { logged: 0, rateLimited: 0 } as DestCounters,
    monitor: { logged: 0, rateLimited: 0 } as DestCounters,
    buffer: { logged: 0, rateLimited: 0 } as DestCounters,
    trap: { logged: 0, rateLimited: 0 } as DestCounters,
    /** messages dropped by the rate limit (all destinations) */
    rateLimited: 0,
    flushes: 0,
    overruns: 0,
  };
  private rateWindow = { startMs: 0, count: 0 };
  private readonly unsubscribe: () => void;

  constructor(readonly bus: EventBus, private readonly opts: LoggingOptions) {
    bus.setDebugGate((cls, error) => this.flags.passes(cls, error));
    this.unsubscribe = bus.subscribe((ev) => this.deliver(ev));
  }

  close(): void {
    this.unsubscribe();
    this.opts.syslog?.close();
  }

  attachTerminal(t: LogTerminal): () => void {
    this.terminals.add(t);
    return () => { this.terminals.delete(t); };
  }

  configure(settings: LoggingSettings): void {
    const shrink = settings.buffered.sizeBytes < this.settings.buffered.sizeBytes;
    this.settings = settings;
    if (shrink) this.trimBuffer();
    if (!settings.buffered.enabled) this.clearBuffer();
  }

  /** The log buffer, oldest first. */
  bufferLines(): string[] {
    return [...this.buffer];
  }

  clearBuffer(): void {
    this.buffer = [];
    this.bufferBytes = 0;
    this.counters.flushes++;
  }

  syslogCounters(address: string, port: number): DestCounters & { dropped: number } {
    return this.opts.syslog?.counters(address, port) ?? { logged: 0, rateLimited: 0, dropped: 0 };
  }

  /** What `show logging` prints. */
  show(): LoggingShow {
    const s = this.settings;
    const c = this.counters;
    return {
      on: s.on,
      console: { ...s.console, ...c.console },
      monitor: { ...s.monitor, ...c.monitor },
      buffered: { ...s.buffered, ...c.buffer },
      trap: { ...s.trap, ...c.trap },
      facility: s.facility,
      hosts: s.hosts.map((h) => ({ ...h, ...this.syslogCounters(h.address, h.port) })),
      ...(s.sourceInterface ? { sourceInterface: s.sourceInterface } : {}),
      rateLimited: c.rateLimited,
      flushes: c.flushes,
      overruns: c.overruns,
      sequenceNumbers: s.sequenceNumbers,
      lines: this.bufferLines(),
    };
  }

  /** The read-only/command interface the CLI sees (runtime.logging). */
  view(): LoggingRuntimeView {
    return {
      setDebug: (cls, mode) => this.flags.set(cls, mode),
      debugFlags: () => this.flags.entries(),
      undebugAll: () => this.flags.clear(),
      addCondition: (c) => this.conditions.add(c),
      removeCondition: (c) => this.conditions.remove(c),
      resetConditions: () => this.conditions.reset(),
      setUnmatched: (cls, on) => this.conditions.setUnmatched(cls, on),
      conditionState: () => ({
        active: this.conditions.active(),
        unmatched: { isakmp: this.conditions.unmatchedOn('isakmp'), ipsec: this.conditions.unmatchedOn('ipsec'), engine: this.conditions.unmatchedOn('engine') },
        conditions: this.conditions.all(),
      }),
      show: () => this.show(),
      clearBuffer: () => this.clearBuffer(),
    };
  }

  private deliver(ev: BusEvent): void {
    // debug lines the flags or crypto conditions refuse go nowhere, not even to the trace
    if (ev.kind === 'debug' && (!this.flags.passes(ev.debug, ev.error) || !this.conditions.passes(ev))) return;
    if (this.opts.trace) this.opts.trace(`${ev.subsystem}: ${ev.kind === 'message' ? `%${ev.facility}-${ev.level}-${ev.mnemonic}: ${ev.text}` : ev.text}`);
    if (ev.kind === 'trace') return;
    const s = this.settings;
    const limited = this.rateLimited(ev);
    if (limited && !s.rateLimit?.consoleOnly) {
      this.counters.rateLimited++;
      return;
    }
    const seq = s.sequenceNumbers ? ++this.seq : undefined;
    const line = formatLogLine(ev, {
      seq,
      stamp: ev.kind === 'debug' ? s.stampDebug : s.stampLog,
      bootMs: this.opts.bootMs,
    });
    const text = `${line}\n`;
    if (s.console.enabled && ev.level <= s.console.level) {
      if (limited) {
        this.counters.console.rateLimited++;
      } else {
        this.counters.console.logged++;
        for (const t of this.terminals) if (t.line === 'console') this.write(t, text);
      }
    }
    if (!s.on) return;
    if (s.monitor.enabled && ev.level <= s.monitor.level) {
      this.counters.monitor.logged++;
      for (const t of this.terminals) if (t.line !== 'console' && t.monitor()) this.write(t, text);
    }
    if (s.buffered.enabled && ev.level <= s.buffered.level) {
      this.counters.buffer.logged++;
      this.buffer.push(line);
      this.bufferBytes += line.length + 1;
      this.trimBuffer();
    }
    if (s.trap.enabled && ev.level <= s.trap.level && s.hosts.length > 0 && this.opts.syslog) {
      this.counters.trap.logged++;
      this.opts.syslog.send(ev, line, s, seq);
    }
  }

  private write(t: LogTerminal, text: string): void {
    try { t.write(text); } catch { this.terminals.delete(t); }
  }

  private trimBuffer(): void {
    const max = this.settings.buffered.sizeBytes;
    while (this.bufferBytes > max && this.buffer.length > 0) {
      this.bufferBytes -= this.buffer.shift()!.length + 1;
      this.counters.overruns++;
    }
  }

  /** IOS rate limit: at most perSec messages a second; `except L` exempts levels <= L. */
  private rateLimited(ev: BusEvent): boolean {
    const rl = this.settings.rateLimit;
    if (!rl) return false;
    if (ev.kind === 'debug' && !rl.all) return false;
    if (rl.except !== undefined && ev.level <= rl.except) return false;
    const now = ev.timeMs;
    if (now - this.rateWindow.startMs >= 1000) this.rateWindow = { startMs: now, count: 0 };
    this.rateWindow.count++;
    return this.rateWindow.count > rl.perSec;
  }
}
