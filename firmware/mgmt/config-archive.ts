// The configuration archive and the configuration change log, as IOS 15 keeps them:
//   - archive files `flash:NAME-N` (N counts from 1 since boot, as on IOS), kept in
//     `maximum` slots used round: the oldest file is deleted when its slot is reused;
//   - the change log: every configuration command that ran, with its session number,
//     user and line, at most `logging size` entries (the oldest go first).
// The archive's settings are read from the live configuration at each use.
import type { ArchiveConfig } from '../config/archive.js';
import { ARCHIVE_DEFAULT_MAXIMUM, ARCHIVE_LOG_DEFAULT_SIZE } from '../config/archive.js';
import type { ArchiveStatus, ConfigLogEntry, ConfigLogStats, FlashFiles } from '../cli/mgmt-view.js';
import { validFlashName } from './flash-files.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** IOS's `$t` in an archive path: `Dec-7-17-53-52.484-UTC`. */
export function archiveTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${MONTHS[d.getUTCMonth()]}-${d.getUTCDate()}-${two(d.getUTCHours())}-${two(d.getUTCMinutes())}-${two(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}-UTC`;
}

/** `flash:NAME` (with `$h`, `$t`) -> the flash file name of archive number `n`. */
export function archiveFileName(path: string, hostname: string, n: number, now: number): string {
  const base = path.replace(/^flash:\/?/i, '').replace(/\$h/g, hostname).replace(/\$t/g, archiveTime(now));
  return `${base}-${n}`;
}

/** Secrets in a logged command replaced by `*`, as IOS 15 logs them (with or without hidekeys). */
export function hideKeys(command: string): string {
  return command
    .replace(/\b((?:secret|password)(?: [0-9])?) \S+/g, '$1 *')
    .replace(/^(\s*crypto isakmp key(?: [0-9])?) \S+/, '$1 *')
    .replace(/\b(pre-shared-key(?: local| remote)?(?: [0-9])?) \S+/g, '$1 *')
    .replace(/\b((?:key-string|authentication-key)(?: [0-9])?(?: md5)?) \S+/g, '$1 *')
    .replace(/^(\s*snmp-server community) \S+/, '$1 *');
}

export interface LoggedCommand { session: number; user?: string; line: string; depth: number; text: string }

export class ConfigArchive {
  /** Archive files by slot (index 0 = slot 1). */
  private slots: Array<string | undefined> = [];
  private count = 0;
  private last = -1;
  private readonly log: ConfigLogEntry[] = [];
  private nextIdx = 1;
  private nextSession = 1;
  /** CLI session id -> config-log session number while it stays in configuration mode. */
  private readonly openSessions = new Map<number, number>();
  private readonly stats = { allocated: 0, freed: 0 };

  constructor(
    private readonly flash: FlashFiles,
    private readonly settings: () => ArchiveConfig,
    private readonly hostname: () => string,
    private readonly now: () => number,
    /** `notify syslog`: one system message per logged command (secrets hidden). */
    private readonly notify: (user: string, command: string) => void,
  ) {}

  private maximum(): number {
    return this.settings().maximum ?? ARCHIVE_DEFAULT_MAXIMUM;
  }

  /** The name the next archive file gets, or undefined without `path`. */
  private nextName(): string | undefined {
    const path = this.settings().path;
    return path === undefined ? undefined : archiveFileName(path, this.hostname(), this.count + 1, this.now());
  }

  /** `archive config` (and write-memory, time-period): writes `text`; returns `flash:NAME`. */
  save(text: string): string {
    const name = this.nextName();
    if (name === undefined) throw new Error('%Error: Archive path not specified');
    if (!validFlashName(name)) throw new Error(`%Error opening flash:${name} (Invalid argument)`);
    const max = this.maximum();
    if (this.slots.length > max) this.slots.length = max;
    const slot = this.count % max;
    const old = this.slots[slot];
    this.flash.write(name, Buffer.from(text));
    if (old !== undefined && old !== name) this.flash.remove(old);
    this.slots[slot] = name;
    this.count++;
    this.last = slot;
    return `flash:${name}`;
  }

  status(): ArchiveStatus {
    const s = this.settings();
    if (s.path === undefined) return { enabled: false, maximum: this.maximum(), files: [], mostRecent: 0 };
    const max = this.maximum();
    const files = Array.from({ length: max }, (_, i) => (this.slots[i] !== undefined ? `flash:${this.slots[i]}` : undefined));
    return { enabled: true, maximum: max, saved: files.filter((f) => f !== undefined).length, next: `flash:${this.nextName()!}`, files, mostRecent: this.last + 1 };
  }

  /** A configuration command ran (called for every command of every session). */
  logged(cmd: LoggedCommand): void {
    const s = this.settings().log;
    if (!s.enabled && !s.notifySyslog) return;
    let session = this.openSessions.get(cmd.session);
    if (session === undefined) {
      session = this.nextSession++;
      this.openSessions.set(cmd.session, session);
    }
    const user = cmd.user ?? (/^con/.test(cmd.line) ? 'console' : 'unknown');
    const line = /^con/.test(cmd.line) ? 'console' : cmd.line.replace(/\s+/g, '');
    if (s.notifySyslog) this.notify(user, hideKeys(cmd.text));
    if (!s.enabled) return;
    // secrets never reach the log, hidekeys or not (IOS 15 masks them either way)
    const text = `${' '.repeat(cmd.depth)}${hideKeys(cmd.text)}`;
    const entry: ConfigLogEntry = { idx: this.nextIdx++, session, user, line, command: text, time: this.now() };
    this.log.push(entry);
    this.stats.allocated += entrySize(entry);
    const size = s.size ?? ARCHIVE_LOG_DEFAULT_SIZE;
    while (this.log.length > size) this.stats.freed += entrySize(this.log.shift()!);
  }

  /** The session left configuration mode: its next command starts a new log session. */
  sessionEnded(session: number): void {
    this.openSessions.delete(session);
  }

  entries(): ConfigLogEntry[] {
    return this.log.slice();
  }

  statistics(): ConfigLogStats {
    const held = this.log.reduce((n, e) => n + entrySize(e), 0);
    return {
      sessions: new Set(this.log.map((e) => e.session)).size,
      entries: this.log.length,
      bytesHeld: held,
      bytesAllocated: this.stats.allocated,
      bytesFreed: this.stats.freed,
    };
  }
}

/** What an entry costs, counted as IOS counts its log memory: the texts plus a fixed header. */
function entrySize(e: ConfigLogEntry): number {
  return 64 + e.command.length + e.user.length + e.line.length;
}
