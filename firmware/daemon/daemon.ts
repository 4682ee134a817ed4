// The daemon: one per box. It owns the configuration (and, as features land, all runtime
// state), loads startup-config at boot, and serves CLI sessions to consoles over a unix
// socket. This is the composition root: the only place that wires every layer together.

import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { BoardProfile } from '../../board/profile.js';
import { DEFAULT_CONFIG } from '../../rootfs/etc/default-config.js';
import '../cli/commands/index.js';
import { loadConfigText } from '../cli/config-loader.js';
import type { RuntimeView, SystemServices } from '../cli/context.js';
import { CliSession } from '../cli/session.js';
import { createConfig, type Config } from '../config/model.js';
import { setBoardPorts } from '../config/interface.js';
import { buildInfo } from '../lib/build-info.js';
import { JsonLines, type Event, type Request, type Response, type SessionOrigin } from '../mgmt/rpc-protocol.js';
import { Flash, RELOAD_MARKER, STARTUP_CONFIG } from './flash.js';
import type { Duplex } from 'node:stream';
import { execTimeoutMs, lineConfigFor } from '../config/line.js';
import type { ManagementServices, ReplaceResult, SessionInfo } from '../cli/mgmt-view.js';
import { renderConfigLines } from '../config/model.js';
import { ConfigArchive } from '../mgmt/config-archive.js';
import { applyDifferences, changedMapEntries } from '../mgmt/config-replace.js';
import { ConfigLock } from '../mgmt/config-lock.js';
import { HostKeys } from '../mgmt/host-keys.js';
import { SshServer } from '../mgmt/ssh-server.js';
import { lineLogin, loginNeed } from '../mgmt/login.js';
import { LoginGuard } from '../mgmt/login-guard.js';
import { FlashStore } from '../mgmt/flash-files.js';
import { scpPut } from '../mgmt/scp-client.js';
import { defaultServices } from './services.js';
import { BindRegistry } from '../dataplane/bind-registry.js';
import { EventBus, type EventContext, type ScopedLogger, type Severity, type Subsystem } from '../lib/event-bus.js';
import { LoggingService, loggingSettingsFrom } from '../mgmt/logging-service.js';
import { SyslogSink } from '../mgmt/syslog-sink.js';
import { interfaceStateMessages } from './system-messages.js';
import { UpdateService } from '../mgmt/update/update-service.js';
import { IntentCompiler, type IntentDelta } from './config-intent.js';
import { RuntimeRegistry } from './runtime-view.js';
import '../cli/logging-view.js';

export interface DaemonOptions {
  board: BoardProfile;
  /** Runtime services; the default set comes from services.ts. */
  services?: DaemonService[];
  socketPath: string;
  /** Called when the box is asked to reload (the supervisor restarts the daemon). */
  onReload?: () => void;
  now?: () => number;
  /** SSH server port (22 on a box; tests pick their own). Listens only once host keys exist. */
  sshPort?: number;
  sshHost?: string;
  /** Shared UDP sockets (tests: binds on a FakeNetwork, so two boxes run in one process). */
  binds?: BindRegistry;
}

/** Something that makes the runtime follow the configuration. */
export interface Applier {
  name: string;
  apply(config: Config): void | Promise<void>;
  /**
   * When present, called instead of `apply` with the compiled intent and what changed
   * since the last apply (add/modify/remove of interfaces and crypto map entries).
   */
  applyChanges?(delta: IntentDelta): void | Promise<void>;
}

/** What a runtime service gets from the daemon. */
export interface ServiceContext {
  board: BoardProfile;
  system: SystemServices;
  /** The live configuration (replaced on reload, so always read it through this). */
  config(): Config;
  /**
   * Show and clear commands reach the runtime through these typed registries (runtime-view.ts):
   * a service registers what it provides and never writes the CLI's RuntimeView itself.
   */
  runtime: RuntimeRegistry;
  /**
   * Diagnostics (never secrets). Errors and warnings (level <= 4; default errors) are
   * system messages `%SUBSYSTEM-L-ERROR: text` on the logging destinations (the console
   * sees "cannot bind" without any environment variable); other levels only trace.
   */
  log(subsystem: string, text: string, level?: Severity): void;
  /** The box's event bus: system messages and debug lines with their context. */
  bus: EventBus;
  /** A logger bound to a subsystem and context (one per SA, per flow, per service). */
  logger(subsystem: Subsystem, context?: EventContext): ScopedLogger;
  /** Shared UDP sockets (IKE and ESP-in-UDP share port 4500). */
  binds: BindRegistry;
  /** Another service by name (started earlier), to use its API: e.g. IKE uses 'dataplane'. */
  service<T extends DaemonService>(name: string): T | undefined;
}

/**
 * A runtime service (data plane, IKE, ...): started after startup-config is loaded, told
 * after every configuration change (coalesced: once per burst of commands, so a pasted
 * config is applied once), stopped on shutdown. Services are listed in services.ts.
 */
export interface DaemonService extends Applier {
  /**
   * Services whose API this one uses from its start (`ctx.service(name)`): they start
   * first, wherever the list puts them (startOrder).
   */
  readonly after?: readonly string[];
  start(ctx: ServiceContext): Promise<void>;
  stop(): Promise<void>;
}

/** An applier or service that could not apply a configuration revision. */
export interface ApplyFailure { service: string; revision: number; message: string }

/**
 * Items (interfaces, crypto map entries) the applies handed to the services since boot, by
 * operation (compare two readings to see what a change did); the last apply's duration.
 */
export interface AppliedChanges { applies: number; fullApplies: number; added: number; modified: number; removed: number; lastMs: number; lastFull: boolean }

/** `revision`: of the running configuration; `applied`: the last one the runtime applied. */
export interface AppliedState { revision: number; applied: number; failures: ApplyFailure[]; changes: AppliedChanges }

/** An apply still running after this long is reported (and no longer holds up the next). */
export const APPLY_WATCHDOG_MS = 30_000;

export class Daemon {
  config: Config;
  readonly flash: Flash;
  readonly bootLog: string[] = [];
  /** The typed registries services register with; `runtime` is the view the CLI reads. */
  readonly registry = new RuntimeRegistry();
  readonly runtime: RuntimeView = this.registry.view;
  private server: Server | undefined;
  private readonly sockets = new Set<Duplex>();
  /** Every open CLI session, whatever feeds it (`show users`, exec-timeout). */
  private readonly sessions = new Map<CliSession, { origin?: SessionOrigin; busy: number; end: () => void }>();
  private idleTimer: NodeJS.Timeout | undefined;
  private revert: { timer: NodeJS.Timeout; at: number; snapshot: string } | undefined;
  private readonly lineUses = new Map<string, number>();
  private readonly appliers: Applier[] = [];
  /** set once start() has started the services: applies wait for it */
  private servicesStarted = false;
  /** Config -> intent, diffed against the last apply (config-intent.ts). */
  readonly compiler = new IntentCompiler();
  private readonly services: DaemonService[];
  private readonly started: DaemonService[] = [];
  readonly binds: BindRegistry;
  readonly bus: EventBus;
  readonly logging: LoggingService;
  private readonly sys: ScopedLogger;
  private readonly now: () => number;
  readonly bootTime: number;
  readonly system: SystemServices;
  readonly hostKeys: HostKeys;
  readonly loginGuard: LoginGuard;
  /** flash: (user files: images, copies of configurations). */
  readonly files: FlashStore;
  readonly ssh: SshServer;
  /** Firmware update over the board's A/B slots (none: the box has no slots). */
  readonly updates: UpdateService | undefined;
  readonly archive: ConfigArchive;
  /** `configuration mode exclusive` and `configure replace` hold it. */
  readonly configLock = new ConfigLock();
  private archiveTimer: { timer: NodeJS.Timeout; minutes: number } | undefined;

  constructor(private readonly opts: DaemonOptions) {
    this.now = opts.now ?? Date.now;
    this.binds = opts.binds ?? new BindRegistry();
    this.bootTime = this.now();
    this.bus = new EventBus(() => this.now());
    this.sys = this.bus.logger('SYS');
    const trace = process.env.RAMPART_DEBUG ? (line: string) => { process.stderr.write(`rampart: ${line}\n`); } : undefined;
    this.logging = new LoggingService(this.bus, { bootMs: this.bootTime, syslog: new SyslogSink(), ...(trace ? { trace } : {}) });
    this.registry.provide('logging', this.logging.view(), 'logging');
    this.appliers.push({ name: 'logging', apply: (c) => this.logging.configure(loggingSettingsFrom(c)) });
    this.appliers.push(interfaceStateMessages(this.bus.logger('NET')));
    this.flash = new Flash(opts.board.stateDir);
    this.config = this.newConfig();
    this.services = opts.services ?? defaultServices(opts.board);
    const lastReload = this.takeReloadMarker();
    this.hostKeys = new HostKeys(this.flash);
    this.files = new FlashStore(opts.board.stateDir);
    this.loginGuard = new LoginGuard(() => this.now(), this.bus.logger('MGMT'));
    this.ssh = new SshServer({
      config: () => this.config,
      hostKeys: () => this.hostKeys.privateKeys(),
      serve: (stream, origin) => this.serve(stream, origin),
      log: (text) => this.log(text),
      now: () => this.now(),
      guard: this.loginGuard,
      flash: this.files,
    }, { port: opts.sshPort ?? 22, host: opts.sshHost });
    this.archive = new ConfigArchive(this.files, () => this.config.archive, () => this.config.system.hostname, () => this.now(),
      (user, command) => this.sys.message('PARSER', 5, 'CFGLOG_LOGGEDCMD', `User:${user}  logged command:${command}`));
    this.appliers.push({ name: 'archive', apply: (c) => this.armArchiveTimer(c.archive.path !== undefined ? c.archive.timePeriodMin : undefined) });
    const mgmt: ManagementServices = {
      hostKeys: () => this.hostKeys.list(),
      generateHostKey: async (type, bits) => {
        const info = await this.hostKeys.generate(type, bits, this.now());
        await this.refreshSsh();
        return info;
      },
      zeroizeHostKeys: (type) => {
        this.hostKeys.zeroize(type);
        void this.refreshSsh();
      },
      sshStatus: () => ({ enabled: this.ssh.enabled, port: this.ssh.port }),
      sessions: () => this.sessionList(),
      flash: this.files,
      scpPut: (data, target) => scpPut(data, target),
      replaceRunning: (text, force, lockFor) => this.replaceRunning(text, force, lockFor),
      archive: {
        save: () => this.archive.save(configText(this.config)),
        status: () => this.archive.status(),
        log: () => this.archive.entries(),
        statistics: () => this.archive.statistics(),
      },
      armRevert: (snapshot, minutes) => {
        clearTimeout(this.revert?.timer);
        const keep = this.revert?.snapshot ?? snapshot;
        const timer = setTimeout(() => {
          this.revert = undefined;
          this.sys.message('ARCHIVE_DIFF', 5, 'ROLLBACK_START', 'Rollback to the configuration before `configure terminal revert timer`');
          void this.replaceRunning(keep, true);
        }, minutes * 60_000 / REVERT_SPEEDUP);
        timer.unref();
        this.revert = { timer, at: this.now() + minutes * 60_000 / REVERT_SPEEDUP, snapshot: keep };
      },
      confirmRevert: () => {
        if (!this.revert) return false;
        clearTimeout(this.revert.timer);
        this.revert = undefined;
        return true;
      },
      revertLeftMs: () => (this.revert ? Math.max(0, this.revert.at - this.now()) : undefined),
      lineUses: () => Object.fromEntries(this.lineUses),
    };
    const slots = opts.board.bootSlots;
    const upgradeLog = this.bus.logger('MGMT');
    this.updates = slots ? new UpdateService({
      layout: slots, trustedKeysDir: slots.trustedKeys, board: opts.board.name, runningVersion: buildInfo().version,
      flashDir: this.files.dir, log: (sev, mnemonic, text) => upgradeLog.message('UPGRADE', sev as Severity, mnemonic, text),
    }) : undefined;
    const daemon = this;
    this.system = {
      board: {
        name: opts.board.name, model: opts.board.model, description: opts.board.description, ports: opts.board.ports,
        roles: opts.board.roles ?? {},
        ...(opts.board.serial !== undefined ? { serial: opts.board.serial } : {}),
      },
      version: buildInfo().version,
      bootTime: this.bootTime,
      lastReload,
      now: () => this.now(),
      readStartup: async () => this.flash.read(STARTUP_CONFIG),
      writeStartup: async (text) => {
        this.flash.writeAtomic(STARTUP_CONFIG, text);
        // `archive` / `write-memory`: every save also goes to the archive
        if (this.config.archive.writeMemory && this.config.archive.path !== undefined) {
          try { this.archive.save(text); } catch (e) { this.sys.message('ARCHIVE_ISSU', 3, 'ERROR', (e as Error).message.replace(/^%/, '')); }
        }
      },
      eraseStartup: async () => this.flash.remove(STARTUP_CONFIG),
      reload: () => this.reload(),
      configChanged: () => this.configChanged(),
      configured: (by, session) => {
        if (session !== undefined) {
          this.archive.sessionEnded(session);
          this.configLock.release(session);
        }
        if (by !== 'boot') this.sys.message('SYS', 5, 'CONFIG_I', `Configured from console by ${by}`);
      },
      configLock: {
        refusal: (session) => this.configLock.refusal(session),
        enter: (s, explicit) => {
          if (!explicit && this.config.configMode.exclusive !== 'auto') {
            const refused = this.configLock.refusal(s.id);
            return refused ? { refused } : {};
          }
          const refused = this.configLock.take({ session: s.id, user: s.user, terminal: lineNumberOf(s.line) });
          return refused ? { refused } : { locked: true };
        },
      },
      configCommand: (cmd) => { if (cmd.line !== 'boot') this.archive.logged(cmd); },
      get runtime() { return daemon.runtime; },
      mgmt,
      ...(this.updates ? { updates: this.updates } : {}),
    };
  }

  /** Reads (and removes) the marker `reload` leaves in flash: a boot without it was a power-on. */
  private takeReloadMarker(): { reason: 'reload' | 'power-on'; atMs?: number } {
    let text: string | undefined;
    try { text = this.flash.read(RELOAD_MARKER); } catch { text = undefined; }
    if (text === undefined) return { reason: 'power-on' };
    try { this.flash.remove(RELOAD_MARKER); } catch { /* read-only flash: shown again next boot */ }
    const atMs = Number(/^reload (\d+)/.exec(text)?.[1]);
    return Number.isFinite(atMs) ? { reason: 'reload', atMs } : { reason: 'reload' };
  }

  /** An empty configuration for this board: its ports exist before any line is applied. */
  private newConfig(): Config {
    const cfg = createConfig();
    setBoardPorts(cfg, this.opts.board.ports);
    return cfg;
  }

  addApplier(a: Applier): void {
    this.appliers.push(a);
  }

  /** Loads startup-config (or the board's default) and starts serving consoles. */
  async start(): Promise<void> {
    try {
      this.updates?.store.boot();
      // Logged before any console is served: said again with the console's first lines.
      if (this.updates?.store.rollbackNotice) this.bootLog.push(this.updates.store.rollbackNotice);
    } catch (err) {
      this.bootLog.push(`% boot slots: ${(err as Error).message}`);
    }
    await this.boot();
    const ctx: ServiceContext = {
      board: this.opts.board,
      system: this.system,
      config: () => this.config,
      runtime: this.registry,
      log: (subsystem, text, level = 3) => this.serviceLog(subsystem, text, level),
      bus: this.bus,
      logger: (subsystem, context) => this.bus.logger(subsystem, context),
      binds: this.binds,
      service: <T extends DaemonService>(name: string) => this.started.find((s) => s.name === name) as T | undefined,
    };
    for (const svc of startOrder(this.services)) {
      try {
        await svc.start(ctx);
        this.started.push(svc);
      } catch (err) {
        this.bootLog.push(`% ${svc.name} did not start: ${(err as Error).message}`);
        this.sys.message('SYS', 3, 'SERVICE_START', `${svc.name} did not start: ${(err as Error).message}`);
      }
    }
    this.servicesStarted = true;
    this.configChanged();
    // The console is served once the startup-config is in effect (bounded): host
    // programming is asynchronous, and a `ping ... source` typed at the first prompt found
    // its source address not yet on the host.
    await this.waitApplied(3 * APPLY_WATCHDOG_MS);
    await this.listen();
    await this.refreshSsh();
  }

  /** The SSH server follows the host keys; a port it cannot bind is reported, not fatal. */
  private async refreshSsh(): Promise<void> {
    try {
      await this.ssh.refresh();
    } catch (err) {
      this.bootLog.push(`% SSH server could not start: ${(err as Error).message}`);
    }
  }

  /**
   * `configure replace` and the revert timer: the file is loaded into a fresh model first
   * (a failing line stops here unless forced), then only the differences are applied to the
   * running configuration as commands (mgmt/config-replace.ts). Should they not converge in
   * IOS's 5 passes, the fresh model is swapped in whole so the result is still the file.
   * Crypto map entries that changed lose their SAs once the runtime has the new configuration.
   */
  private async replaceRunning(text: string, force: boolean, lockFor?: { id: number; user?: string; line: string }): Promise<ReplaceResult> {
    // IOS locks the running configuration while it replaces it (unless `nolock`)
    const held = lockFor !== undefined && this.configLock.holder?.session === lockFor.id;
    if (lockFor) {
      const refused = this.configLock.take({ session: lockFor.id, user: lockFor.user, terminal: lineNumberOf(lockFor.line) });
      if (refused) return { failed: [], passes: [], done: false, refused };
    }
    try {
      return await this.replaceLocked(text, force);
    } finally {
      if (lockFor && !held) this.configLock.release(lockFor.id);
    }
  }

  /** While configure replace applies: crypto map entries the compiler saw modified or removed. */
  private replaceWatch: Map<string, { map: string; seq: number }> | undefined;

  private async replaceLocked(text: string, force: boolean): Promise<ReplaceResult> {
    const next = this.newConfig();
    const errors = await loadConfigText(text, next, this.system);
    const failed = errors.map((e) => `line ${e.lineNo}: ${e.line.trim()}: ${e.message.split('\n').pop()}`);
    if (failed.length > 0 && !force) return { failed, passes: [], done: false };
    const before = configText(this.config);
    const target = configText(next);
    await this.waitApplied();
    const watch = new Map<string, { map: string; seq: number }>();
    this.replaceWatch = watch;
    const r = await applyDifferences(target, {
      runningText: () => configText(this.config),
      applyLines: async (lines) => { await loadConfigText(lines.join('\n'), this.config, this.system); },
    });
    if (!r.done) {
      this.sys.message('ARCHIVE_DIFF', 5, 'ROLLBACK', `configure replace did not converge in ${r.passes.length} passes: the configuration was replaced whole`);
      next.revision = this.config.revision + 1;
      this.config = next;
      this.configChanged();
    }
    try {
      await this.waitApplied();
    } finally {
      this.replaceWatch = undefined;
    }
    // the compiler's modify/remove (content compare, ACLs and transform sets followed) and the
    // text diff of the entries (a profile or key they name changed) together
    for (const e of changedMapEntries(before, target)) watch.set(`${e.map} ${e.seq}`, e);
    for (const e of watch.values()) this.registry.clearCryptoSa({ kind: 'map', map: e.map, seq: e.seq });
    return { failed, passes: r.passes, done: r.done };
  }

  /** `archive` / `time-period MIN`: the running configuration is archived every MIN minutes. */
  private armArchiveTimer(minutes: number | undefined): void {
    if (this.archiveTimer?.minutes === minutes) return;
    if (this.archiveTimer) clearInterval(this.archiveTimer.timer);
    this.archiveTimer = undefined;
    if (minutes === undefined) return;
    const timer = setInterval(() => {
      try { this.archive.save(configText(this.config)); } catch (e) { this.sys.message('ARCHIVE_ISSU', 3, 'ERROR', (e as Error).message.replace(/^%/, '')); }
    }, minutes * 60_000 / REVERT_SPEEDUP);
    timer.unref();
    this.archiveTimer = { timer, minutes };
  }

  async boot(): Promise<void> {
    const stored = this.flash.read(STARTUP_CONFIG);
    const text = stored ?? DEFAULT_CONFIG;
    this.config = this.newConfig();
    const t0 = performance.now();
    const errors = await loadConfigText(text, this.config, this.system);
    const ms = performance.now() - t0;
    for (const e of errors) {
      this.bootLog.push(`startup-config line ${e.lineNo}: ${e.line.trim()}`, ...e.message.split('\n').map((l) => `  ${l}`));
    }
    if (errors.length > 0) this.bootLog.push(`% ${errors.length} line(s) of startup-config failed; the rest was applied.`);
    if (stored === undefined) this.bootLog.push('No startup-config found: booted with the default configuration.');
    this.bootLog.push(...(this.opts.board.notes ?? []));
    this.log(`config loaded in ${ms.toFixed(1)} ms`);
  }

  private applyPending = false;
  /** Applies run one burst after the other, each awaited (see applyAll). */
  private applying: Promise<void> = Promise.resolve();
  private applied: AppliedState = {
    revision: 0, applied: -1, failures: [], changes: { applies: 0, fullApplies: 0, added: 0, modified: 0, removed: 0, lastMs: 0, lastFull: false },
  };

  /** Runs appliers and services once per burst of changes (a paste is applied once). */
  private configChanged(): void {
    // Before the services run, nothing is applied: the diffed apply hands each change out
    // once, so a delta compiled while they start (the startup-config's lines) would be lost
    // to them. start() applies everything once they are up.
    if (!this.servicesStarted) return;
    if (this.applyPending) return;
    this.applyPending = true;
    setImmediate(() => {
      this.applyPending = false;
      this.applying = this.applying.then(() => this.applyAll());
    });
  }

  /**
   * One apply of the configuration as it is now: every applier and service at once, all
   * awaited; a failure (or an apply still running after APPLY_WATCHDOG_MS) is reported on
   * the logging destinations as %SYS-3-CONFIG_APPLY and kept for `applied`. Then the
   * revision counts as applied.
   */
  private async applyAll(full = false): Promise<void> {
    const config = this.config;
    const revision = config.revision;
    const failures: ApplyFailure[] = [];
    const t0 = performance.now();
    const delta = this.compiler.compile(config, { full });
    // configure replace: the entries the compiler finds modified or removed lose their SAs
    if (this.replaceWatch) for (const c of delta.mapEntries) if (c.op !== 'add') this.replaceWatch.set(`${c.prev.entry.mapName} ${c.prev.entry.seq}`, { map: c.prev.entry.mapName, seq: c.prev.entry.seq });
    const count = (op: string) => delta.mapEntries.filter((c) => c.op === op).length + delta.interfaces.filter((c) => c.op === op).length;
    const c = this.applied.changes;
    const changes: AppliedChanges = {
      applies: c.applies + 1, fullApplies: c.fullApplies + (delta.full ? 1 : 0), added: c.added + count('add'), modified: c.modified + count('modify'),
      removed: c.removed + count('remove'), lastMs: 0, lastFull: delta.full,
    };
    const targets: Applier[] = [...this.appliers, ...this.started];
    // A service applies once those it names in `after` have: the host must hold an
    // interface's address before IKE binds to it (host programming is asynchronous).
    const done = new Map<string, Promise<void>>();
    const applyOne = async (a: Applier): Promise<void> => {
      const deps = ((a as Partial<Pick<DaemonService, 'after'>>).after ?? []).map((d) => done.get(d)).filter((p): p is Promise<void> => p !== undefined);
      await Promise.all(deps);
      let timer: NodeJS.Timeout | undefined;
      const watchdog = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`still applying after ${APPLY_WATCHDOG_MS / 1000} s`)), APPLY_WATCHDOG_MS);
        timer.unref();
      });
      try {
        await Promise.race([Promise.resolve().then(() => (a.applyChanges ? a.applyChanges(delta) : a.apply(config))), watchdog]);
      } catch (err) {
        const message = (err as Error).message;
        failures.push({ service: a.name, revision, message });
        this.sys.message('SYS', 3, 'CONFIG_APPLY', `${a.name} could not apply configuration revision ${revision}: ${message}`);
      } finally {
        clearTimeout(timer);
      }
    };
    for (const a of targets) done.set(a.name, applyOne(a));
    await Promise.all(done.values());
    changes.lastMs = performance.now() - t0;
    this.applied = { revision, applied: revision, failures, changes };
  }

  /**
   * Applies the running configuration again from scratch (every service rebuilds all it
   * derives from it), queued like any apply: the bench's anchor for the diffed apply.
   */
  async reapplyFull(): Promise<AppliedState> {
    this.applying = this.applying.then(() => this.applyAll(true));
    await this.applying;
    return { ...this.applied, revision: this.config.revision };
  }

  /**
   * The configuration revision the runtime has applied (tests wait for it instead of
   * sleeping): resolves once every change made before the call is applied, or after
   * `timeoutMs` with `applied` still behind `revision`.
   */
  async waitApplied(timeoutMs = 10_000): Promise<AppliedState> {
    const want = this.config;
    const end = Date.now() + timeoutMs;
    const done = () => !this.applyPending && this.applied.applied >= want.revision && this.config === want;
    while (!done() && Date.now() < end) {
      const left = end - Date.now();
      await Promise.race([this.applying, new Promise((r) => setTimeout(r, Math.min(left, 50)))]);
      if (this.applyPending) await new Promise((r) => setImmediate(r));
    }
    return { ...this.applied, revision: this.config.revision };
  }

  private log(text: string): void {
    this.sys.trace(text, 6);
  }

  /** ServiceContext.log: a system message for errors and warnings, a trace otherwise. */
  private serviceLog(subsystem: string, text: string, level: Severity): void {
    const tag: Subsystem = subsystem.startsWith('ike') ? 'IKE' : subsystem === 'dataplane' ? 'KNL' : 'SYS';
    const logger = this.bus.logger(tag);
    if (level <= 4) logger.message(subsystem.toUpperCase(), level, level <= 3 ? 'ERROR' : 'WARNING', text);
    else logger.trace(`${subsystem}: ${text}`, level);
  }

  private async listen(): Promise<void> {
    const path = this.opts.socketPath;
    mkdirSync(dirname(path), { recursive: true });
    // Listen on a temporary name and move it into place: a console that sees the socket
    // file can connect at once (no window between bind and listen).
    const tmp = `${path}.${process.pid}.tmp`;
    if (existsSync(tmp)) rmSync(tmp);
    this.server = createServer((sock) => this.serve(sock));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(tmp, () => resolve());
    });
    renameSync(tmp, path);
    this.idleTimer = setInterval(() => this.closeIdleSessions(), 1000);
    this.idleTimer.unref();
  }

  /** exec-timeout: sessions idle longer than their line allows are closed. */
  private closeIdleSessions(): void {
    const now = this.now();
    for (const [s, entry] of this.sessions) {
      if (entry.busy > 0 || s.closed) continue;
      const limit = execTimeoutMs(sessionLineConfig(this.config, s.line));
      if (limit > 0 && now - s.lastInput >= limit) {
        this.sessions.delete(s);
        entry.end();
      }
    }
  }

  /** Open sessions for `show users` / `show ssh`. */
  sessionList(): SessionInfo[] {
    const now = this.now();
    return [...this.sessions].filter(([s]) => !s.closed).map(([s, e]) => {
      const [kind, num] = lineParts(s.line);
      return {
        id: s.id,
        line: `${kind} ${num}`,
        lineNumber: kind === 'con' ? 0 : kind === 'aux' ? 1 : 2 + num,
        user: s.user,
        location: s.location,
        transport: e.origin?.transport ?? 'console',
        idleMs: now - s.lastInput,
        mode: s.mode,
        privilege: s.privilege,
        ssh: e.origin?.ssh ? { ...e.origin.ssh, state: 'Session started' } : undefined,
      };
    });
  }

  /**
   * One connection = one CLI session: a console process on the unix socket, or (with an
   * origin) an SSH shell or exec request through an in-process stream pair.
   */
  serve(sock: Duplex, origin?: SessionOrigin): void {
    this.sockets.add(sock);
    (sock as Socket).setNoDelay?.(true);
    let session: CliSession | undefined;
    let pendingAnswer: ((text: string) => void) | undefined;
    let detachTerminal: (() => void) | undefined;
    let queue = Promise.resolve();
    const send = (msg: Response | Event) => {
      if (!sock.destroyed) sock.write(`${JSON.stringify(msg)}\n`);
    };
    const state = () => ({ prompt: session!.prompt(), pageLength: session!.terminalLength, closed: session!.closed });
    const handle = async (req: Request): Promise<void> => {
      try {
        if (req.method === 'open') {
          if (session) this.sessions.delete(session);
          const io = {
            write: (text: string) => send({ event: 'output', text }),
            ask: (prompt: string, echo: boolean) => new Promise<string>((resolve) => {
              pendingAnswer = resolve;
              send({ event: 'ask', prompt, echo });
            }),
          };
          const banners = this.config.banners;
          let login: { user?: string; privilege: number } | undefined = origin;
          const conLine = lineConfigFor(this.config, 'con', 0);
          // Boot messages and the motd come before a login prompt, or with the prompt when there is none.
          const early = [...(!origin && this.bootLog.length > 0 ? [`${this.bootLog.join('\n')}\n`] : []), ...(banners.motd ? [`${banners.motd.replace(/^\n/, '')}\n`] : [])];
          const loginFirst = !origin && loginNeed(this.config, conLine, 'con') !== 'none';
          if (loginFirst) for (const text of early.splice(0)) io.write(text);
          if (!origin) {
            const r = await lineLogin(this.config, conLine, 'con', io);
            if (!r.ok) {
              send({ id: req.id, error: r.reason });
              sock.end();
              return;
            }
            login = r;
          }
          session = new CliSession({
            config: () => this.config,
            system: this.system,
            line: origin?.line ?? req.params.line,
            privilege: login?.privilege,
            user: login?.user,
            location: origin?.location,
            io,
          });
          const [kind, num] = lineParts(session.line);
          this.lineUses.set(`${kind} ${num}`, (this.lineUses.get(`${kind} ${num}`) ?? 0) + 1);
          this.sessions.set(session, {
            origin,
            busy: 0,
            end: () => {
              send({ event: 'closed', text: '\n' });
              sock.end();
            },
          });
          // SSH sessions see the motd here (their login banner went before authentication).
          const shown = [...early, ...(banners.exec ? [`${banners.exec.replace(/^\n/, '')}\n`] : [])];
          const banner = shown.length > 0 ? shown.join('') : undefined;
          const s = session;
          detachTerminal = this.logging.attachTerminal({ line: s.line, monitor: () => s.monitor, write: (text) => {
            if (s.closed) throw new Error('session closed');
            send({ event: 'log', text });
          } });
          send({ id: req.id, result: { ...state(), banner } });
          return;
        }
        if (req.method === 'applied') {
          send({ id: req.id, result: await this.waitApplied(req.params?.timeoutMs) });
          return;
        }
        if (req.method === 'gc') {
          // test hook (rpc-protocol.ts): only node's --expose-gc defines globalThis.gc
          const gc = (globalThis as { gc?: () => void }).gc;
          if (typeof gc !== 'function') throw new Error('gc: not available (the daemon runs without --expose-gc)');
          gc();
          const u = process.memoryUsage();
          send({ id: req.id, result: { heapUsed: u.heapUsed, external: u.external, arrayBuffers: u.arrayBuffers } });
          return;
        }
        if (!session) throw new Error('session not open');
        switch (req.method) {
          case 'exec':
            await session.execute(req.params.text);
            send({ id: req.id, result: state() });
            return;
          case 'help':
            send({ id: req.id, result: { text: session.help(req.params.text) } });
            return;
          case 'complete':
            send({ id: req.id, result: { line: session.complete(req.params.text) ?? null } });
            return;
        }
      } catch (err) {
        send({ id: req.id, error: (err as Error).message });
      }
    };
    const parser = new JsonLines((msg) => {
      const req = msg as Request;
      if (typeof req !== 'object' || req === null || typeof req.method !== 'string') return;
      // Answers to a question go straight to the waiting command; everything else queues.
      if (req.method === 'answer') {
        const r = pendingAnswer;
        pendingAnswer = undefined;
        r?.(String(req.params?.text ?? ''));
        return;
      }
      const entry = session ? this.sessions.get(session) : undefined;
      if (entry) entry.busy++;
      queue = queue.then(() => handle(req)).finally(() => { if (entry) entry.busy--; });
    });
    sock.on('data', (d) => parser.push(d));
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      this.sockets.delete(sock);
      detachTerminal?.();
      session?.close();
      if (session) {
        this.sessions.delete(session);
        this.configLock.release(session.id);
      }
      pendingAnswer?.('');
    });
  }

  /**
   * The box is healthy (daemon up, startup-config applied, console served): firmware on
   * trial in its slot is marked good, so the bootloader keeps it.
   */
  markHealthy(): void {
    try {
      this.updates?.store.markHealthy();
    } catch (err) {
      this.sys.message('UPGRADE', 3, 'HEALTHY', `could not mark slot ${this.updates?.store.booted} good: ${(err as Error).message}`);
    }
  }

  reload(): void {
    try { this.flash.writeAtomic(RELOAD_MARKER, `reload ${this.now()}\n`); } catch (e) { this.log(`reload marker: ${(e as Error).message}`); }
    for (const s of this.sockets) s.write(`${JSON.stringify({ event: 'reload' } satisfies Event)}\n`);
    setTimeout(() => {
      void this.stop().then(() => this.opts.onReload?.());
    }, 50);
  }

  async stop(): Promise<void> {
    if (this.idleTimer) clearInterval(this.idleTimer);
    if (this.archiveTimer) clearInterval(this.archiveTimer.timer);
    await this.ssh.stop();
    for (const svc of this.started.splice(0).reverse()) await svc.stop().catch(() => {});
    await this.binds.closeAll();
    this.logging.close();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}

/**
 * The services in an order where each starts after those it names in `after` (present
 * ones), otherwise in list order. A cycle is broken at the list order.
 */
export function startOrder(services: readonly DaemonService[]): DaemonService[] {
  const out: DaemonService[] = [];
  const placed = new Set<DaemonService>();
  const visiting = new Set<DaemonService>();
  const place = (svc: DaemonService): void => {
    if (placed.has(svc) || visiting.has(svc)) return;
    visiting.add(svc);
    for (const dep of svc.after ?? []) for (const d of services) if (d.name === dep) place(d);
    visiting.delete(svc);
    placed.add(svc);
    out.push(svc);
  };
  for (const svc of services) place(svc);
  return out;
}

/** Running-config text as the CLI renders it. */
function configText(cfg: Config): string {
  return `${renderConfigLines(cfg).join('\n')}\n`;
}

/** Tests shorten the revert timer's and the archive time-period's minutes (RAMPART_REVERT_SPEEDUP=60: a minute is a second). */
const REVERT_SPEEDUP = Math.max(1, Number(process.env.RAMPART_REVERT_SPEEDUP ?? 1) || 1);

/** `console` / `con 0` / `vty 3` as kind and number. */
function lineParts(line: string): ['con' | 'aux' | 'vty', number] {
  const m = /^(con|console|aux|vty)\s*(\d*)/.exec(line);
  const kind = !m || m[1] === 'console' ? 'con' : (m[1] as 'con' | 'aux' | 'vty');
  return [kind, Number(m?.[2] || 0)];
}

/** IOS absolute line number of a session's line (con 0 = 0, aux 0 = 1, vty N = 2 + N). */
function lineNumberOf(line: string): number {
  const [kind, n] = lineParts(line);
  return kind === 'con' ? 0 : kind === 'aux' ? 1 : 2 + n;
}

function sessionLineConfig(cfg: Config, line: string) {
  const [kind, n] = lineParts(line);
  return lineConfigFor(cfg, kind, n);
}
