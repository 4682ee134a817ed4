// What the logging/debug commands see of the daemon's logging service (firmware/mgmt/
// logging-service.ts implements it): debug flags, crypto debug conditions, the log buffer
// and the counters of `show logging`. Absent in a runtime without logging (unit tests).
import type { DebugClass, Severity } from '../lib/event-bus.js';

/** `all`: every debug line of the class; `error`: failures only (`debug crypto X error`). */
export type DebugMode = 'all' | 'error';

export type ConditionType = 'peer-ipv4' | 'peer-subnet' | 'peer-hostname' | 'peer-username' | 'peer-group' | 'isakmp-profile' | 'spi' | 'connid' | 'flowid' | 'fvrf' | 'ivrf';

export interface Condition {
  type: ConditionType;
  /** address, FQDN, name, VRF, or the number as text */
  value: string;
  /** peer-subnet: the mask; connid/flowid: the engine id */
  extra?: string;
}

export type UnmatchedClass = 'isakmp' | 'ipsec' | 'engine';

export interface ConditionState {
  active: boolean;
  unmatched: Record<UnmatchedClass, boolean>;
  conditions: Condition[];
}

export interface DestShow { enabled: boolean; level: Severity; logged: number; rateLimited: number }

export interface LoggingShow {
  on: boolean;
  console: DestShow;
  monitor: DestShow;
  buffered: DestShow & { sizeBytes: number };
  trap: DestShow;
  facility: string;
  hosts: Array<{ address: string; port: number; logged: number; rateLimited: number; dropped: number }>;
  sourceInterface?: string;
  rateLimited: number;
  flushes: number;
  overruns: number;
  sequenceNumbers: boolean;
  /** The log buffer, oldest first. */
  lines: string[];
}

export interface LoggingRuntimeView {
  setDebug(cls: DebugClass, mode: DebugMode | undefined): void;
  debugFlags(): Array<[DebugClass, DebugMode]>;
  /** `undebug all` / `no debug all`. */
  undebugAll(): void;
  addCondition(c: Condition): void;
  removeCondition(c: Condition): boolean;
  resetConditions(): void;
  setUnmatched(cls: UnmatchedClass | undefined, on: boolean): void;
  conditionState(): ConditionState;
  show(): LoggingShow;
  clearBuffer(): void;
}

declare module './context.js' {
  interface RuntimeView {
    logging?: LoggingRuntimeView;
  }
}
