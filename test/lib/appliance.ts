// One appliance VM under QEMU for tests: boots image files (scripts/firmware.mjs), gives the
// serial console (a unix-socket chardev, as a terminal program would see it) as text to wait
// for and keys to type, optionally a root shell on the second serial port, and can be
// killed (power pulled) and booted again on the same flash. Every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from './netns.js';

export interface NicSpec { user?: boolean; socket?: { listen?: string; connect?: string }; mcast?: string; mac?: string }
interface QemuModule {
  qemuArgs(o: { image: string; flash?: string; console: { socket: string }; nics?: NicSpec[]; memMb?: number; append?: string; debugSocket?: string }): string[];
  qemuMissing(): string | undefined;
  makeFlash(path: string, sizeMb?: number): void;
  QEMU: string;
}
export interface FirmwareManifest { imageSha256: string; bytes: Record<string, number>; modules: number; missingModules: string[]; kernel: { version: string } }
interface FirmwareModule {
  buildImage(o: { outDir: string; log?: (m: string) => void }): Promise<{ outDir: string; manifest: FirmwareManifest }>;
}

export const qemuModule = (): Promise<QemuModule> => import(pathToFileURL(join(projectRoot(), 'scripts', 'qemu.mjs')).href) as Promise<QemuModule>;
export const firmwareModule = (): Promise<FirmwareModule> => import(pathToFileURL(join(projectRoot(), 'scripts', 'firmware.mjs')).href) as Promise<FirmwareModule>;

/** Text from one serial line: wait for patterns after a mark, type keys. */
export class SerialLine {
  private out = '';
  private markAt = 0;
  private waiters: Array<() => void> = [];
  onData: (text: string) => void = () => {};
  constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.out += d.toString('latin1');
      this.onData(d.toString('latin1'));
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on('error', () => {});
  }

  output(): string { return this.out; }
  mark(): void { this.markAt = this.out.length; }
  type(keys: string): void { this.sock.write(keys); }
  close(): void { this.sock.destroy(); }

  /** Waits for `re` in the output since the last mark; moves the mark past it. */
  expect(re: RegExp, timeoutMs = 30000): Promise<string> {
    return new Promise((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      let settled = false;
      const check = () => {
        if (settled) return;
        const text = this.out.slice(this.markAt).replace(/\r/g, '');
        if (re.test(text)) {
          settled = true;
          this.markAt = this.out.length;
          return resolve(text);
        }
        if (Date.now() > deadline) {
          settled = true;
          return reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re}; the line ends with ${JSON.stringify(text.slice(-800))}`));
        }
        this.waiters.push(check);
        setTimeout(check, 200).unref();
      };
      check();
    });
  }
}

export interface ApplianceOptions {
  image: string;
  /** Working folder for the console sockets. */
  dir: string;
  flash?: string;
  name?: string;
  nics?: NicSpec[];
  memMb?: number;
  /** A root shell on ttyS1 (`debug`). */
  debugShell?: boolean;
}

// QEMU must not outlive a test process that is killed (tap's timeout sends SIGTERM): every
// running VM is killed on exit and on the usual signals.
const running = new Set<ChildProcess>();
let cleanupInstalled = false;
function killAllOnExit(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const killAll = () => { for (const c of running) c.kill('SIGKILL'); };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => { killAll(); process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1)); });
  }
}

const PROMPT = /\n[\w.-]+(\([\w-]+\))?[>#] ?$/;

export class Appliance {
  console!: SerialLine;
  debug: SerialLine | undefined;
  private qemu: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private shellReady = false;
  /** ms since epoch when QEMU was last started (for boot-to-prompt). */
  startedAt = 0;

  constructor(private readonly opts: ApplianceOptions) {}

  private path(kind: string): string { return join(this.opts.dir, `${this.opts.name ?? 'vm'}.${kind}`); }

  /** Starts QEMU (power on) and connects to its serial lines. */
  async powerOn(): Promise<void> {
    const q = await qemuModule();
    const args = q.qemuArgs({
      image: this.opts.image, flash: this.opts.flash, console: { socket: this.path('console') }, nics: this.opts.nics ?? [],
      memMb: this.opts.memMb, append: this.opts.debugShell ? 'rampart.debugshell' : '', debugSocket: this.opts.debugShell ? this.path('debug') : undefined,
    });
    this.startedAt = Date.now();
    const child = spawn(q.QEMU, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    this.qemu = child;
    killAllOnExit();
    running.add(child);
    child.on('exit', () => running.delete(child));
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    this.exited = new Promise((resolve) => child.on('exit', () => resolve()));
    const open = async (path: string): Promise<SerialLine> => {
      const deadline = Date.now() + 10000;
      for (;;) {
        try {
          return new SerialLine(await new Promise<Socket>((resolve, reject) => {
            const s = connect(path, () => resolve(s));
            s.once('error', reject);
          }));
        } catch (e) {
          if (child.exitCode !== null) throw new Error(`QEMU exited (${child.exitCode}): ${stderr}`);
          if (Date.now() > deadline) throw new Error(`no serial socket ${path} from QEMU: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    this.console = await open(this.path('console'));
    // Everything the console showed, for a failing test's reader (the folder is the test's).
    const log = createWriteStream(this.path('console.log'), { flags: 'a' });
    this.console.onData = (text) => log.write(text);
    this.debug = this.opts.debugShell ? await open(this.path('debug')) : undefined;
    this.shellReady = false;
  }

  /** Types a command line on the console and waits for the next prompt; returns the output. */
  async cli(line: string, timeoutMs = 30000): Promise<string> {
    this.console.mark();
    this.console.type(`${line}\r`);
    return this.console.expect(PROMPT, timeoutMs);
  }

  /** Runs a shell command in the guest (debug shell) and returns what it printed. */
  async shell(command: string, timeoutMs = 20000): Promise<string> {
    if (!this.debug) throw new Error('no debug shell: boot with debugShell');
    if (!this.shellReady) {
      // The first lines typed at a freshly opened line can be lost: probe until one answers.
      const until = Date.now() + timeoutMs * 3;
      for (;;) {
        this.debug.mark();
        this.debug.type('\necho shell_ready_$((2+3))\n');
        try { await this.debug.expect(/shell_ready_5/, 3000); break; } catch (e) { if (Date.now() > until) throw e; }
      }
      this.shellReady = true;
    }
    // The shell echoes what is typed: the end marker is computed, so only its output matches.
    const tag = `__done_${Math.random().toString(36).slice(2)}`;
    this.debug.mark();
    this.debug.type(`${command}; echo ${tag}_$((6*7))\n`);
    const text = await this.debug.expect(new RegExp(`${tag}_42`), timeoutMs);
    const end = text.lastIndexOf(`${tag}_42`);
    // Past the echo of the command line, if the shell echoed it.
    const echoed = text.indexOf(`${tag}_$((6*7))`);
    const start = echoed < 0 ? 0 : text.indexOf('\n', echoed) + 1;
    return text.slice(start, end);
  }

  /** Pulls the virtual power: QEMU is killed, nothing in the guest gets to run. */
  async powerOff(): Promise<void> {
    if (this.qemu && this.qemu.exitCode === null) this.qemu.kill('SIGKILL');
    await this.exited;
    this.console?.close();
    this.debug?.close();
  }
}
