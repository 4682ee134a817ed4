// What management commands (`crypto key generate`, `show users`, `show ssh`, files) ask
// of the box: a read/act interface the daemon implements and tests fake. It hangs off
// SystemServices as `mgmt`; a runtime without it answers that the feature is not there.

export interface HostKeyInfo {
  type: 'rsa' | 'ed25519';
  bits: number;
  /** The public key as an OpenSSH line (`ssh-rsa AAAA...`). */
  publicKey: string;
  /** `SHA256:...` as OpenSSH prints it. */
  fingerprintSha256: string;
  /** Uppercase hex MD5 of the key blob (IOS's key-hash). */
  md5: string;
  /** Epoch ms the key was generated. */
  created: number;
}

/** One CLI session, whatever feeds it (console, SSH shell, SSH exec, a pipe). */
export interface SessionInfo {
  id: number;
  /** `con 0`, `vty 3` */
  line: string;
  /** IOS absolute line number (con 0 = 0, aux 0 = 1, vty N = 2 + N). */
  lineNumber: number;
  user?: string;
  /** Peer address for network sessions. */
  location?: string;
  transport: 'console' | 'ssh' | 'exec';
  idleMs: number;
  mode: string;
  privilege: number;
  /** For SSH sessions: negotiated algorithms and the protocol state. */
  ssh?: { version: string; cipher: string; hmac: string; state: string };
}

export interface SshStatus {
  /** Listening (host keys exist). */
  enabled: boolean;
  port: number;
}

export interface FlashFile { name: string; size: number; mtimeMs: number }

/** Files on flash (`flash:NAME`). Names are plain (no folders). */
export interface FlashFiles {
  list(): FlashFile[];
  stat(name: string): FlashFile | undefined;
  read(name: string): Buffer | undefined;
  write(name: string, data: Uint8Array): void;
  remove(name: string): boolean;
  space(): { total: number; free: number };
}

/** `show archive`. */
export interface ArchiveStatus {
  /** A `path` is configured. */
  enabled: boolean;
  maximum: number;
  saved?: number;
  /** `flash:NAME-N` the next archive gets. */
  next?: string;
  /** One entry per slot (1..maximum), `flash:NAME-N` or undefined. */
  files: Array<string | undefined>;
  /** Slot number (1-based) of the most recent archive; 0 when none. */
  mostRecent: number;
}

/** One line of `show archive log config`. */
export interface ConfigLogEntry {
  idx: number;
  /** Configuration session number (one per stay in configuration mode). */
  session: number;
  user: string;
  /** `console`, `vty0` */
  line: string;
  /** The command, indented one space per sub-mode. */
  command: string;
  time: number;
}

export interface ConfigLogStats { sessions: number; entries: number; bytesHeld: number; bytesAllocated: number; bytesFreed: number }

/** What `configure replace` did. */
export interface ReplaceResult {
  /** Lines of the file that do not load (then nothing was changed unless forced). */
  failed: string[];
  /** The commands applied, pass by pass (`list` prints them). */
  passes: string[][];
  /** The running configuration now equals the file. */
  done: boolean;
  /** Another session holds the configuration lock: nothing was done. */
  refused?: string;
}

export interface ManagementServices {
  readonly flash: FlashFiles;
  /**
   * Replaces the running configuration with `text`: the file is loaded into a fresh model
   * first (a failing line stops it unless `force`), then only the differences are applied
   * to the running configuration as commands, in up to 5 passes as IOS does.
   */
  replaceRunning(text: string, force: boolean, lockFor?: { id: number; user?: string; line: string }): Promise<ReplaceResult>;
  /** The configuration archive (`archive` / `show archive` / `archive config`). */
  readonly archive: {
    /** Archives the running configuration now; returns the file (`flash:NAME-N`). */
    save(): string;
    status(): ArchiveStatus;
    log(): ConfigLogEntry[];
    statistics(): ConfigLogStats;
  };
  /** `configure terminal revert timer`: arms (or re-arms) the rollback to `snapshot`. */
  armRevert(snapshot: string, minutes: number): void;
  /** `configure confirm`: true when a rollback was pending. */
  confirmRevert(): boolean;
  /** Milliseconds until the pending rollback, if any. */
  revertLeftMs(): number | undefined;
  /** Sends bytes to `scp://user@host[:port]/path` (SFTP) with the password given; returns bytes sent. */
  scpPut(data: Uint8Array, target: { user: string; host: string; port: number; path: string; password: string }): Promise<number>;
  hostKeys(): HostKeyInfo[];
  /** Generates (replacing) a host key and stores it on flash; the SSH server uses it at once. */
  generateHostKey(type: 'rsa' | 'ed25519', bits: number): Promise<HostKeyInfo>;
  /** Removes host keys of a type (all types when omitted); SSH stops without keys. */
  zeroizeHostKeys(type?: 'rsa' | 'ed25519'): void;
  sshStatus(): SshStatus;
  sessions(): SessionInfo[];
  /** Sessions opened per line since boot (`con 0`, `vty 3`), for `show line`. */
  lineUses(): Record<string, number>;
}

declare module './context.js' {
  interface SystemServices {
    /** Management services; absent in runtimes (tests) that have none. */
    readonly mgmt?: ManagementServices;
  }
  interface SessionControl {
    /** Session id, as listed by `show users` (the current one is marked). */
    readonly id: number;
    /** The authenticated user, if the line asked for one. */
    readonly user?: string;
    /** `terminal width` (characters per line; the box does not wrap). */
    terminalWidth?: number;
  }
}
