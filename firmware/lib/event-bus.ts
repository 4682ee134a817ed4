// The runtime's one event bus. Everything the box says about itself goes through here:
// IOS system messages (%SYS-5-CONFIG_I, %CRYPTO-4-RECVD_PKT_INV_SPI), `debug crypto ...`
// lines and internal traces. Every event carries its subsystem, its IOS severity and its
// context (peer, identity, IKE SA, SPIs, conn-ids, VRFs), so sinks (console, vty monitors,
// log buffer, syslog: firmware/mgmt) and crypto conditional debug filter with cheap field
// checks, never by searching text. Producers never format secrets into `text`.

/** IOS severities, index = level (emergencies 0 ... debugging 7). */
export const SEVERITY_NAMES = ['emergencies', 'alerts', 'critical', 'errors', 'warnings', 'notifications', 'informational', 'debugging'] as const;
export type Severity = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;
export type SeverityName = (typeof SEVERITY_NAMES)[number];

export function severityOf(name: string): Severity | undefined {
  const i = SEVERITY_NAMES.indexOf(name as SeverityName);
  return i >= 0 ? (i as Severity) : undefined;
}

/** strongSwan-style subsystem tags. */
export type Subsystem = 'IKE' | 'CHD' | 'KNL' | 'ESP' | 'CFG' | 'SYS' | 'NET' | 'MGMT';

/** What `debug crypto X` turns on. */
export type DebugClass = 'isakmp' | 'ipsec' | 'engine' | 'ikev2';
export const DEBUG_CLASSES: readonly DebugClass[] = ['isakmp', 'ipsec', 'engine', 'ikev2'];

/** Where an event happened: what crypto conditional debug matches on. All optional. */
export interface EventContext {
  /** Remote IKE/IPsec peer address. */
  peer?: string;
  /** Peer identity (FQDN, address, DN) as it authenticated. */
  peerId?: string;
  /** XAuth user name / Unity group of the peer. */
  username?: string;
  group?: string;
  /** The ISAKMP / IKEv2 profile the peer matched. */
  profile?: string;
  /** IKE SA identity: ISAKMP cookies or IKEv2 SPIs, hex. */
  ikeSaId?: string;
  /** IPsec SPIs of the flow (inbound and outbound). */
  spis?: readonly number[];
  /** Crypto engine connection ids (IKE SA conn-id, IPsec flow conn-ids). */
  connIds?: readonly number[];
  flowIds?: readonly number[];
  fvrf?: string;
  ivrf?: string;
}

interface EventBase {
  timeMs: number;
  subsystem: Subsystem;
  level: Severity;
  text: string;
  context: EventContext;
}

/** An IOS system message: `%FACILITY-SEVERITY-MNEMONIC: text`. */
export interface MessageEvent extends EventBase {
  kind: 'message';
  facility: string;
  mnemonic: string;
}

/** A `debug crypto <class>` line (text as IOS prints it after the timestamp). */
export interface DebugEvent extends EventBase {
  kind: 'debug';
  debug: DebugClass;
  /** Also shown by `debug crypto <class> error`. */
  error: boolean;
}

/** Internal diagnostics: only the daemon's stderr trace (RAMPART_DEBUG) shows them. */
export interface TraceEvent extends EventBase {
  kind: 'trace';
}

export type BusEvent = MessageEvent | DebugEvent | TraceEvent;
export type EventSink = (ev: BusEvent) => void;
/** Is any `debug crypto <cls>` (or its `error` form, when `error`) on? */
export type DebugGate = (cls: DebugClass, error: boolean) => boolean;

type Emitted = Omit<MessageEvent, 'timeMs'> | Omit<DebugEvent, 'timeMs'> | Omit<TraceEvent, 'timeMs'>;

export class EventBus {
  private sinks: EventSink[] = [];
  private gate: DebugGate = () => false;
  /** Events a sink threw on (the producer never sees a sink's failure). */
  sinkErrors = 0;

  constructor(readonly now: () => number = Date.now) {}

  subscribe(sink: EventSink): () => void {
    this.sinks = [...this.sinks, sink];
    return () => { this.sinks = this.sinks.filter((s) => s !== sink); };
  }

  /** The debug-flag registry (firmware/mgmt) answers `debugOn`. */
  setDebugGate(gate: DebugGate): void {
    this.gate = gate;
  }

  /** Cheap check before building a debug line nobody would see. */
  debugOn(cls: DebugClass, error = false): boolean {
    return this.gate(cls, error);
  }

  emit(ev: Emitted): void {
    const full = { ...ev, timeMs: this.now() } as BusEvent;
    for (const s of this.sinks) {
      try { s(full); } catch { this.sinkErrors++; }
    }
  }

  logger(subsystem: Subsystem, context: EventContext = {}): ScopedLogger {
    return new ScopedLogger(this, subsystem, context);
  }
}

/**
 * A logger bound to a subsystem and a context (one per IKE SA, per IPsec flow, per
 * service): what it emits carries that context without the caller repeating it.
 */
export class ScopedLogger {
  constructor(readonly bus: EventBus, readonly subsystem: Subsystem, readonly context: EventContext) {}

  /** The same logger with more context (an SA learning its conn-id or SPIs). */
  with(extra: EventContext): ScopedLogger {
    return new ScopedLogger(this.bus, this.subsystem, { ...this.context, ...extra });
  }

  debugOn(cls: DebugClass, error = false): boolean {
    return this.bus.debugOn(cls, error);
  }

  /** A debug line; `text` may be a function so nothing is formatted while debug is off. */
  debug(cls: DebugClass, text: string | (() => string), opts: { error?: boolean; context?: EventContext } = {}): void {
    const error = opts.error ?? false;
    if (!this.bus.debugOn(cls, error)) return;
    this.bus.emit({
      kind: 'debug', debug: cls, error, subsystem: this.subsystem, level: 7,
      text: typeof text === 'string' ? text : text(),
      context: opts.context ? { ...this.context, ...opts.context } : this.context,
    });
  }

  /** An IOS system message (`%FACILITY-LEVEL-MNEMONIC: text`). */
  message(facility: string, level: Severity, mnemonic: string, text: string, context?: EventContext): void {
    this.bus.emit({ kind: 'message', facility, mnemonic, subsystem: this.subsystem, level, text, context: context ? { ...this.context, ...context } : this.context });
  }

  /** Internal diagnostics (daemon trace only). */
  trace(text: string, level: Severity = 7): void {
    this.bus.emit({ kind: 'trace', subsystem: this.subsystem, level, text, context: this.context });
  }
}

/** The `bus` and `logger` members of a service context on a fresh bus (tests, tools). */
export function busMembers(bus = new EventBus()): { bus: EventBus; logger: (s: Subsystem, c?: EventContext) => ScopedLogger } {
  return { bus, logger: (s, c) => bus.logger(s, c) };
}
