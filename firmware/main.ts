// `rampart`: one executable, every role a subcommand (busybox style).
//   rampart daemon  [--board sim|vm] [--profile guide|branch|FILE.json] [--state DIR] [--socket PATH] [--port NAME=ifname ...] [--ssh-port N] [--ssh-address A]
//                   [--heartbeat FILE] [--console /dev/ttyS0 [--baud 9600]]   (the appliance: also serve the console on a serial line)
//   rampart console [--socket PATH] [--state DIR] [--device /dev/ttyS0 [--baud 9600]]
//   rampart sim     [--profile branch|guide|FILE.json] [--state DIR] [--port NAME=ifname ...]   daemon + console on this terminal
//   rampart image   build|verify|disk|write|push ...   firmware images on a host (firmware/mgmt/update/host-tool.ts)
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { uptime } from 'node:os';
import { join } from 'node:path';
import { loadBoard } from '../board/index.js';
import { Daemon } from './daemon/daemon.js';
import { Console, type Terminal } from './mgmt/console.js';
import { buildInfo } from './lib/build-info.js';

/** Exit code a daemon uses to ask its supervisor for a restart (`reload`). */
export const RELOAD_EXIT_CODE = 100;

/** Shown at boot: how to switch the simulated box off (see Console's escape). */
export const POWER_OFF_HINT = '(sim board: to power the box off type Ctrl-A, then x)';

interface Flags { positional: string[]; opts: Map<string, string[]> }

function parseFlags(argv: string[]): Flags {
  const positional: string[] = [];
  const opts = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const key = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const value = eq > 0 ? a.slice(eq + 1) : (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--') ? argv[++i]! : 'true');
      opts.set(key, [...(opts.get(key) ?? []), value]);
    } else positional.push(a);
  }
  return { positional, opts };
}

const one = (f: Flags, k: string): string | undefined => f.opts.get(k)?.[0];

function portMap(f: Flags): Record<string, string> {
  const map: Record<string, string> = {};
  for (const p of f.opts.get('port') ?? []) {
    const [name, ifname] = p.split('=');
    if (!name || !ifname) throw new Error(`--port wants NAME=ifname, got "${p}"`);
    map[name] = ifname;
  }
  return map;
}

function stateDir(f: Flags): string {
  return one(f, 'state') ?? join(process.cwd(), 'state', one(f, 'board') ?? 'sim');
}

function socketPath(f: Flags): string {
  return one(f, 'socket') ?? join(stateDir(f), 'run', 'rampart.sock');
}

async function runDaemon(f: Flags): Promise<void> {
  const board = loadBoard(one(f, 'board') ?? buildInfo().board, { stateDir: stateDir(f), portMap: portMap(f), profile: one(f, 'profile') });
  const sshPort = one(f, 'ssh-port');
  const daemon = new Daemon({
    board, socketPath: socketPath(f), onReload: () => process.exit(RELOAD_EXIT_CODE),
    sshPort: sshPort !== undefined ? Number(sshPort) : undefined, sshHost: one(f, 'ssh-address'),
  });
  await daemon.start();
  const stop = () => { void daemon.stop().then(() => process.exit(0)); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  if (process.send) process.send('ready');
  const heartbeat = one(f, 'heartbeat');
  if (heartbeat) beat(heartbeat);
  const lineConsole = one(f, 'console');
  if (lineConsole) await serveLineConsole(f, lineConsole);
  // Up, configured and (on the appliance) serving its console: firmware on trial is good.
  daemon.markHealthy();
}

/**
 * Touches FILE every second from the event loop: the appliance's init feeds the hardware
 * watchdog only while this file is fresh, so a hung daemon (stopped, or a loop that never
 * yields) reboots the box.
 */
function beat(file: string): void {
  // "alive UPTIME": init's shell compares it with /proc/uptime without forking.
  const touch = () => { try { writeFileSync(file, `alive ${Math.floor(uptime())}\n`); } catch { /* tmpfs full: init sees a stale beat */ } };
  touch();
  setInterval(touch, 1000).unref();
}

function stdioTerminal(): Terminal {
  const stdin = process.stdin;
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  return {
    interactive: stdin.isTTY === true,
    write: (t) => { process.stdout.write(t); },
    onData: (cb) => { stdin.on('data', (d: string) => cb(d)); },
    onEnd: (cb) => { stdin.on('end', cb); },
  };
}

async function serialTerminal(path: string, baudRate: number): Promise<Terminal> {
  // require, not import(): the single executable resolves packages beside itself only
  // through createRequire (its dynamic import() would look where the bundle was built).
  const { SerialPort } = createRequire(import.meta.url)('serialport') as typeof import('serialport');
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  return {
    crlf: true,
    write: (t) => { port.write(t); },
    onData: (cb) => { port.on('data', (d: Buffer) => cb(d.toString('latin1'))); },
    onEnd: (cb) => { port.on('close', cb); },
  };
}

async function runConsole(f: Flags, reconnect: boolean, onQuit: () => void): Promise<void> {
  const device = one(f, 'device');
  const terminal = device ? await serialTerminal(device, Number(one(f, 'baud') ?? 9600)) : stdioTerminal();
  // The escape quits a console on this terminal; a console served on a serial line stays up.
  const con = new Console({ socketPath: socketPath(f), terminal, reconnect, onQuit, escape: !device });
  await con.start();
}

/**
 * The appliance's console (line con 0) served by the daemon process itself: one node
 * process to start instead of two, which halves boot time under emulation. A new session
 * starts when one ends; the console goes and comes back with the daemon.
 */
async function serveLineConsole(f: Flags, device: string): Promise<void> {
  const line = await serialTerminal(device, Number(one(f, 'baud') ?? 9600));
  line.write('\r\n\r\nPress RETURN to get started!\r\n\r\n');
  // Keys go to the current session only (each Console subscribes once, at construction).
  let current: ((d: string) => void) | undefined;
  line.onData((d) => current?.(d));
  const session = (): void => {
    const terminal: Terminal = { crlf: line.crlf, write: (t) => line.write(t), onData: (cb) => { current = cb; }, onEnd: () => {} };
    const con = new Console({ socketPath: socketPath(f), terminal, reconnect: false, onQuit: () => setTimeout(session, 500) });
    con.start().catch((e: unknown) => { process.stderr.write(`rampart: console on ${device}: ${(e as Error).message}\n`); });
  };
  session();
}

/** Daemon as a supervised child (restarted on reload) plus a console on this terminal. */
async function runSim(f: Flags): Promise<void> {
  // Run from a script, node needs the script path; in the single executable argv[1] is the
  // executable itself and the child takes its subcommand directly.
  const script = process.argv[1];
  const self = script && script !== process.execPath && existsSync(script) ? [script] : [];
  // The box a person boots is a branch box (one WAN, two LAN ports) unless told otherwise.
  const childArgs = [...self, 'daemon', '--board', 'sim', '--profile', one(f, 'profile') ?? 'branch', '--state', stateDir(f), '--socket', socketPath(f)];
  for (const p of f.opts.get('port') ?? []) childArgs.push('--port', p);
  let child: ReturnType<typeof spawn> | undefined;
  let quitting = false;
  const startDaemon = () => new Promise<void>((resolve, reject) => {
    // The daemon never gets the terminal itself: Node restores, at exit, the terminal mode
    // it saw at startup on every stdio fd that is a tty, so a daemon holding the console as
    // stderr would put it back in cooked mode on each `reload` (double echo, `?` waiting for
    // Return, Ctrl-C killing the simulator). Its messages are relayed instead.
    child = spawn(process.execPath, childArgs, { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (t: string) => { process.stderr.write(process.stdin.isTTY ? t.replace(/\r?\n/g, '\r\n') : t); });
    child.once('message', () => resolve());
    child.once('exit', (code) => {
      if (quitting) return;
      if (code === RELOAD_EXIT_CODE) void startDaemon();
      else {
        process.stdout.write(`\r\nrampart: daemon exited (${code ?? 'signal'})\r\n`);
        process.exit(1);
      }
      reject(new Error('daemon exited'));
    });
  });
  await startDaemon();
  if (process.stdin.isTTY) process.stdout.write(`${POWER_OFF_HINT}\r\n`);
  await runConsole(f, true, () => {
    quitting = true;
    child?.kill('SIGTERM');
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
    process.stdout.write('\r\n');
    process.exit(0);
  });
}

/** `rampart version`: what this build is (the same facts `show version` names). */
export function versionText(): string {
  const b = buildInfo();
  return `rampart ${b.version}\ncommit ${b.commit}\nbuilt ${b.date}\nboard ${b.board}\n`;
}

export async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  const f = parseFlags(rest);
  switch (cmd) {
    case 'daemon': return runDaemon(f);
    case 'console': return runConsole(f, one(f, 'reconnect') === 'true', () => process.exit(0));
    case 'sim': case undefined: return runSim(f);
    case 'image': {
      // Host tools: build/verify/push images, the factory disk (docs/firmware-update.md).
      const { imageTool } = await import('./mgmt/update/host-tool.js');
      const { VM_DISK } = await import('../board/vm.js');
      process.exitCode = await imageTool(f.positional[0], f.positional.slice(1), f.opts, VM_DISK);
      return;
    }
    case 'version': case '--version':
      process.stdout.write(versionText());
      return;
    default:
      process.stderr.write(`rampart: unknown command "${cmd}" (daemon, console, sim, image, version)\n`);
      process.exit(2);
  }
}
