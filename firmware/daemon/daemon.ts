// The daemon: one per box. It owns the configuration (and, as features land, all runtime
// state), loads startup-config at boot, and serves CLI sessions to consoles over a unix
// socket. This is the composition root: the only place that wires every layer together.

import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { BoardProfile } from '../../board/profile.js';
import { DEFAULT_CONFIG } from '../../rootfs/etc/default-config.js';
import '../cli/commands/index.js';
import { loadConfigText } from '../cli/config-loader.js';
import type { RuntimeView, SystemServices } from '../cli/context.js';
import { CliSession } from '../cli/session.js';
import { createConfig, type Config } from '../config/model.js';
import { FIRMWARE_VERSION } from '../lib/version.js';
import { JsonLines, type Event, type Request, type Response } from '../mgmt/rpc-protocol.js';
import { Flash, STARTUP_CONFIG } from './flash.js';

export interface DaemonOptions {
  board: BoardProfile;
  socketPath: string;
  /** Called when the box is asked to reload (the supervisor restarts the daemon). */
  onReload?: () => void;
  now?: () => number;
}

/** Something that makes the runtime follow the configuration. */
export interface Applier {
  name: string;
  apply(config: Config): void | Promise<void>;
}

export class Daemon {
  config: Config = createConfig();
  readonly flash: Flash;
  readonly bootLog: string[] = [];
  readonly runtime: RuntimeView = {};
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly appliers: Applier[] = [];
  private readonly now: () => number;
  readonly bootTime: number;
  readonly system: SystemServices;

  constructor(private readonly opts: DaemonOptions) {
    this.now = opts.now ?? Date.now;
    this.bootTime = this.now();
    this.flash = new Flash(opts.board.stateDir);
    const daemon = this;
    this.system = {
      board: { name: opts.board.name, model: opts.board.model, description: opts.board.description, ports: opts.board.ports },
      version: FIRMWARE_VERSION,
      bootTime: this.bootTime,
      now: () => this.now(),
      readStartup: async () => this.flash.read(STARTUP_CONFIG),
      writeStartup: async (text) => this.flash.writeAtomic(STARTUP_CONFIG, text),
      eraseStartup: async () => this.flash.remove(STARTUP_CONFIG),
      reload: () => this.reload(),
      configChanged: () => this.configChanged(),
      get runtime() { return daemon.runtime; },
    };
  }

  addApplier(a: Applier): void {
    this.appliers.push(a);
  }

  /** Loads startup-config (or the board's default) and starts serving consoles. */
  async start(): Promise<void> {
    await this.boot();
    await this.listen();
  }

  async boot(): Promise<void> {
    const stored = this.flash.read(STARTUP_CONFIG);
    const text = stored ?? DEFAULT_CONFIG;
    this.config = createConfig();
    const t0 = performance.now();
    const errors = await loadConfigText(text, this.config, this.system);
    const ms = performance.now() - t0;
    for (const e of errors) {
      this.bootLog.push(`startup-config line ${e.lineNo}: ${e.line.trim()}`, ...e.message.split('\n').map((l) => `  ${l}`));
    }
    if (errors.length > 0) this.bootLog.push(`% ${errors.length} line(s) of startup-config failed; the rest was applied.`);
    if (stored === undefined) this.bootLog.push('No startup-config found: booted with the default configuration.');
    this.log(`config loaded in ${ms.toFixed(1)} ms`);
    this.configChanged();
  }

  private configChanged(): void {
    for (const a of this.appliers) {
      try {
        void a.apply(this.config);
      } catch (err) {
        this.log(`applier ${a.name} failed: ${(err as Error).message}`);
      }
    }
  }

  private log(text: string): void {
    if (process.env.RAMPART_DEBUG) process.stderr.write(`rampart: ${text}\n`);
  }

  private async listen(): Promise<void> {
    const path = this.opts.socketPath;
    mkdirSync(dirname(path), { recursive: true });
    if (existsSync(path)) rmSync(path);
    this.server = createServer((sock) => this.serve(sock));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(path, () => resolve());
    });
  }

  /** One console connection = one CLI session. */
  private serve(sock: Socket): void {
    this.sockets.add(sock);
    sock.setNoDelay?.(true);
    let session: CliSession | undefined;
    let pendingAnswer: ((text: string) => void) | undefined;
    let queue = Promise.resolve();
    const send = (msg: Response | Event) => {
      if (!sock.destroyed) sock.write(`${JSON.stringify(msg)}\n`);
    };
    const state = () => ({ prompt: session!.prompt(), pageLength: session!.terminalLength, closed: session!.closed });
    const handle = async (req: Request): Promise<void> => {
      try {
        if (req.method === 'open') {
          session = new CliSession({
            config: () => this.config,
            system: this.system,
            line: req.params.line,
            io: {
              write: (text) => send({ event: 'output', text }),
              ask: (prompt, echo) => new Promise((resolve) => {
                pendingAnswer = resolve;
                send({ event: 'ask', prompt, echo });
              }),
            },
          });
          const banner = this.bootLog.length > 0 ? `${this.bootLog.join('\n')}\n` : undefined;
          send({ id: req.id, result: { ...state(), banner } });
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
      queue = queue.then(() => handle(req));
    });
    sock.on('data', (d) => parser.push(d));
    sock.on('error', () => sock.destroy());
    sock.on('close', () => {
      this.sockets.delete(sock);
      pendingAnswer?.('');
    });
  }

  reload(): void {
    for (const s of this.sockets) s.write(`${JSON.stringify({ event: 'reload' } satisfies Event)}\n`);
    setTimeout(() => {
      void this.stop().then(() => this.opts.onReload?.());
    }, 50);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }
}
