// What a command handler sees. Config handlers change `config` only; the daemon's appliers
// make the runtime follow. Exec handlers read state through `system` and `runtime`,
// read-only interfaces that the daemon implements (and tests fake).

import type { Config } from '../config/model.js';

/** An error a handler reports to the user; the message is printed as IOS would print it. */
export class CliError extends Error {
  constructor(message: string) {
    super(message.startsWith('%') || /^[A-Z]/.test(message) ? message : `% ${message}`);
  }
}

/**
 * `% Invalid input detected at '^' marker.` from a handler, for a word the grammar accepts
 * but this box does not (an interface name the board lacks): the session prints the caret
 * under word `word` (0-based) of the line as typed.
 */
export class InvalidInputError extends CliError {
  constructor(readonly word: number) {
    super('% Invalid input detected at \'^\' marker.');
  }
}

export interface BoardInfo {
  name: string;
  model: string;
  /** Physical ports of the board, canonical IOS names (`FastEthernet0/0`, ...). */
  ports: string[];
  /** Processor / memory text for `show version`. */
  description: string;
  /** Board serial number (`Processor board ID`, `show inventory`). */
  serial?: string;
  /** WAN/LAN role of the ports that have one (branch profiles). */
  roles?: Readonly<Record<string, 'WAN' | 'LAN'>>;
}

/**
 * Read-only runtime state for show commands. Feature files add members by augmenting this
 * interface (`declare module '../runtime-view.js' { interface RuntimeView { ... } }`) and
 * must tolerate them being absent (a runtime without that feature yet).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface RuntimeView {}

export interface SystemServices {
  readonly board: BoardInfo;
  readonly version: string;
  /** Epoch ms when the daemon booted. */
  readonly bootTime: number;
  /** Why the box last started: `reload` (the command, at atMs) or `power-on` (anything else). */
  readonly lastReload?: { reason: 'reload' | 'power-on'; atMs?: number };
  now(): number;
  readStartup(): Promise<string | undefined>;
  writeStartup(text: string): Promise<void>;
  eraseStartup(): Promise<void>;
  reload(): void;
  /** The running config changed (the session calls this after each config command). */
  configChanged(): void;
  /** A session left configuration mode (%SYS-5-CONFIG_I); `by`: its line, `session`: its id. */
  configured?(by: string, session?: number): void;
  /**
   * The configuration lock (`configuration mode exclusive`, `configure replace`): `refusal`
   * is IOS's message when another session holds it; `enter` is asked by `configure terminal
   * [lock]` and takes the lock when the configuration (or `lock`) wants it.
   */
  configLock?: {
    refusal(session: number): string | undefined;
    enter(session: { id: number; user?: string; line: string }, explicit: boolean): { refused?: string; locked?: boolean };
  };
  /** A configuration command ran without error (the archive's change log); `depth`: sub-modes deep. */
  configCommand?(cmd: { session: number; user?: string; line: string; depth: number; text: string }): void;
  readonly runtime: RuntimeView;
  /** Name of the terminal line this session is on, for messages (`console`, `vty0`). */
}

export interface SessionControl {
  readonly line: string;
  privilege: number;
  terminalLength: number;
  /** `terminal monitor`: this vty session receives log and debug lines. */
  monitor: boolean;
  readonly history: readonly string[];
  /** Ends the session (exec-mode `exit`/`logout`). */
  close(): void;
  readonly closed: boolean;
  /**
   * Writes to this session's terminal outside any command (debug output the session turned
   * on). Throws once the session has ended, so a producer can drop it.
   */
  writeAsync(text: string): void;
}

export interface CommandContext {
  readonly config: Config;
  readonly mode: string;
  /** Data of the current sub-mode, as given to `enter` (e.g. which crypto map entry). */
  readonly modeData: Readonly<Record<string, unknown>>;
  /** True for `default ...`: the handler runs as its `no` form unless it says otherwise. */
  readonly isDefault: boolean;
  enter(mode: string, data?: Record<string, unknown>): void;
  print(text: string): void;
  /** The structured form of the output, printed instead by `| json`. */
  data(value: unknown): void;
  ask(prompt: string, opts?: { echo?: boolean }): Promise<string>;
  readonly session: SessionControl;
  readonly system: SystemServices;
}
