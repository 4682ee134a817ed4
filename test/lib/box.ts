// One way for tests and benches to start a Rampart box: the real executable (bundled once
// per process) inside a lab namespace, with its board ports wired to the namespace's
// interfaces, or a Daemon in this process (no root: the sim board without packet I/O, or
// the fake packet I/O of box-pair.ts). Either way the box is driven through its console,
// configuration fails on any CLI error, and tests wait for the applied revision instead
// of sleeping.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simBoard } from '../../board/sim.js';
import { Daemon, type DaemonService } from '../../firmware/daemon/daemon.js';
import type { BindRegistry } from '../../firmware/dataplane/bind-registry.js';
import type { AppliedReply } from '../../firmware/mgmt/rpc-protocol.js';
import { ScriptedConsole } from './daemon-client.js';
import { applyConfig, ConfigLineError, isCliError } from './ios-config.js';
import { bundleForNode, projectRoot, type Lab, type LabProcess } from './netns.js';

let bundled: Promise<string> | undefined;

/** The rampart executable as one ESM file (built once per process). */
export function rampartBundle(): Promise<string> {
  bundled ??= bundleForNode(join(projectRoot(), 'firmware', 'entry.ts'));
  return bundled;
}

export interface Box {
  /** Namespace (lab boxes) or a name given by the test. */
  name: string;
  socket: string;
  /** The daemon's flash (state directory). */
  state: string;
  con: ScriptedConsole;
  /** Lab boxes: the daemon process. */
  proc?: LabProcess;
  /** In-process boxes: the daemon itself. */
  daemon?: Daemon;
  /** Runs one exec-mode line; returns its output. */
  exec(line: string, ...answers: string[]): Promise<string>;
  /** Runs lines in order; returns all their output. */
  run(...lines: string[]): Promise<string>;
  /**
   * Enters configuration mode, runs the lines, ends, and waits until the runtime applied
   * them. Throws ConfigLineError on the first line that fails.
   */
  configure(lines: readonly string[]): Promise<string>;
  /** The same, but a failing line does not throw: its output is in the returned text. */
  configureLenient(lines: readonly string[]): Promise<string>;
  waitApplied(timeoutMs?: number): Promise<AppliedReply>;
  stop(): Promise<void>;
}

export interface LabBoxOptions {
  lab: Lab;
  ns: string;
  /** Board port -> Linux interface in the namespace (`FastEthernet0/0: 'wan0'`). */
  ports: Record<string, string>;
  /** State directory name under lab.dir (default: the namespace). */
  stateName?: string;
  env?: NodeJS.ProcessEnv;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** How long the daemon may take to open its console (default 20 s). */
  startTimeoutMs?: number;
}

export interface InProcessBoxOptions {
  name?: string;
  /** Runtime services (default: the board's default set). */
  services?: DaemonService[];
  /** Shared UDP sockets (e.g. over a FakeNetwork). */
  binds?: BindRegistry;
  portMap?: Record<string, string>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function boxOf(name: string, socket: string, state: string, con: ScriptedConsole, stop: () => Promise<void>): Box {
  const configureLenient = async (lines: readonly string[]): Promise<string> => {
    let out = await con.run('configure terminal');
    for (const l of lines) out += await con.run(l);
    out += await con.run('end');
    await con.waitApplied();
    return out;
  };
  return {
    name, socket, state, con,
    exec: (line, ...answers) => con.run(line, ...answers),
    async run(...lines) {
      let out = '';
      for (const l of lines) out += await con.run(l);
      return out;
    },
    async configure(lines) {
      const out = await applyConfig(con, lines);
      await con.waitApplied();
      return out;
    },
    configureLenient,
    waitApplied: (timeoutMs) => con.waitApplied(timeoutMs),
    stop,
  };
}

async function openConsole(socket: string, alive: () => boolean, why: () => string, timeoutMs: number): Promise<ScriptedConsole> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive()) throw new Error(`rampart daemon exited: ${why()}`);
    if (existsSync(socket)) {
      try {
        const con = await ScriptedConsole.open(socket);
        await con.run('enable');
        await con.run('terminal length 0');
        return con;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`rampart console: ${(e as Error).message} ${why()}`);
      }
    }
    if (Date.now() > deadline) throw new Error(`rampart daemon did not open its console in ${timeoutMs} ms: ${why()}`);
    await sleep(50);
  }
}

/** A Rampart daemon (sim board) in a lab namespace. Stopped with the lab or by stop(). */
export async function startBox(opts: LabBoxOptions): Promise<Box> {
  const bin = await rampartBundle();
  const state = join(opts.lab.dir, opts.stateName ?? opts.ns);
  mkdirSync(state, { recursive: true });
  const socket = join(state, 'rampart.sock');
  const argv = [process.execPath, '--enable-source-maps', ...(opts.nodeFlags ?? []), bin, 'daemon', '--board', 'sim', '--state', state, '--socket', socket];
  for (const [port, ifname] of Object.entries(opts.ports)) argv.push('--port', `${port}=${ifname}`);
  const proc = opts.lab.spawn(opts.ns, argv, { name: `${opts.ns}-rampart`, env: { ...process.env, RAMPART_DEBUG: '1', ...opts.env } });
  const con = await openConsole(socket, () => proc.running, () => proc.output, opts.startTimeoutMs ?? 120_000);
  const box = boxOf(opts.ns, socket, state, con, async () => { con.close(); await proc.stop(); });
  box.proc = proc;
  return box;
}

/** A Daemon in this process (no root needed); its flash is a temp directory removed by stop(). */
export async function startInProcessBox(opts: InProcessBoxOptions = {}): Promise<Box> {
  const state = mkdtempSync(join(tmpdir(), 'rampart-box-'));
  const socket = join(state, 'run', 'rampart.sock');
  const daemon = new Daemon({
    board: simBoard({ stateDir: state, ...(opts.portMap ? { portMap: opts.portMap, linkExists: () => true } : {}) }), socketPath: socket, sshPort: 0,
    ...(opts.services ? { services: opts.services } : {}), ...(opts.binds ? { binds: opts.binds } : {}),
  });
  await daemon.start();
  const con = await openConsole(socket, () => true, () => daemon.bootLog.join('\n'), 60_000);
  const box = boxOf(opts.name ?? 'box', socket, state, con, async () => {
    con.close();
    await daemon.stop();
    rmSync(state, { recursive: true, force: true });
  });
  box.daemon = daemon;
  return box;
}

export { ConfigLineError, isCliError };
