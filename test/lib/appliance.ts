// One appliance VM under QEMU for tests: boots image files (scripts/firmware.mjs), gives the
// serial console (a unix-socket chardev, as a terminal program would see it) as text to wait
// for and keys to type, optionally the test command agent on a virtio-serial port (guest
// side: rootfs/etc/init.d/agent), and can be killed (power pulled) and booted again on the
// same flash. Every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from './netns.js';

export interface NicSpec { user?: boolean; /** user networking: a host port forwarded to the guest, e.g. 'tcp:127.0.0.1:2222-:22' */ hostfwd?: string; socket?: { listen?: string; connect?: string }; mcast?: string; mac?: string }
interface QemuModule {
  qemuArgs(o: { image: string; flash?: string; console: { socket: string }; nics?: NicSpec[]; memMb?: number; append?: string; agentSocket?: string; initrd?: string; disk?: string; noReboot?: boolean }): string[];
  qemuMissing(): string | undefined;
  makeFlash(path: string, sizeMb?: number): void;
  QEMU: string;
}
export interface FirmwareManifest { imageSha256: string; bytes: Record<string, number>; modules: number; missingModules: string[]; kernel: { version: string } }
interface FirmwareModule {
  buildImage(o: { outDir: string; log?: (m: string) => void }): Promise<{ outDir: string; manifest: FirmwareManifest }>;
}

interface ExtrasModule {
  extrasMissing(): string | undefined;
  /** Why the extras carry no libreswan (its packages could not be fetched), or undefined. */
  libreswanMissing(): string | undefined;
  buildTestExtras(dir: string): string;
  initrdWithExtras(imageDir: string, extras: string, out: string): Promise<string>;
}
export const extrasModule = (): Promise<ExtrasModule> => import(pathToFileURL(join(projectRoot(), 'scripts', 'qemu-extras.mjs')).href) as Promise<ExtrasModule>;
export const qemuModule = (): Promise<QemuModule> => import(pathToFileURL(join(projectRoot(), 'scripts', 'qemu.mjs')).href) as Promise<QemuModule>;
export const firmwareModule = (): Promise<FirmwareModule> => import(pathToFileURL(join(projectRoot(), 'scripts', 'firmware.mjs')).href) as Promise<FirmwareModule>;

/** Text from one serial line: wait for patterns after a mark, type keys. */
export class SerialLine {
  private out = '';
  private markAt = 0;
  private waiters: Array<() => void> = [];
  onData: (text: string) => void = () => {};
  constructor(private sock: Socket) {
    this.attach(sock);
  }

  /** The same line on a new socket (QEMU started again): the text so far is kept. */
  attach(sock: Socket): void {
    this.sock = sock;
    this.mark();
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
  /** The command agent (`shell`, `exec`) on a virtio-serial port. */
  agent?: boolean;
  /** More kernel command line (e.g. a shorter watchdog for tests). */
  append?: string;
  /** A root archive to boot instead of the image's (the image's with a test cpio appended). */
  initrd?: string;
  /** A factory disk booted through GRUB instead of image + flash (test/updates). */
  disk?: string;
  /**
   * A reboot of the guest (reload, a panic, the watchdog) powers the VM off and on again
   * (QEMU -no-reboot, then started anew) instead of QEMU's warm reset; the console keeps
   * its text. The GRUB-booted factory disk hung after a warm reset under a loaded host.
   */
  coldReboot?: boolean;
}

/** What one command run by the guest agent gave back. */
export interface AgentResult { code: number; out: string }

/**
 * Host side of the guest's command agent: one request line `ID SECONDS BASE64-SCRIPT`, one
 * answer line `ID STATUS BASE64-OUTPUT`. Answers to requests nobody waits for any more (a
 * timed-out probe, a request from before a reboot) are dropped by their id.
 */
export class AgentChannel {
  private buf = '';
  private next = 1;
  private pending = new Map<string, (r: AgentResult) => void>();
  private ready = false;
  constructor(private readonly sock: Socket) {
    sock.on('data', (d: Buffer) => {
      this.buf += d.toString('latin1');
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        const m = /^(\d+) (\d+) ?([A-Za-z0-9+/=]*)$/.exec(line);
        const done = m && this.pending.get(m[1]!);
        if (!m || !done) continue;
        this.pending.delete(m[1]!);
        done({ code: Number(m[2]), out: Buffer.from(m[3]!, 'base64').toString('utf8') });
      }
    });
    sock.on('error', () => {});
  }

  close(): void { this.sock.destroy(); }

  private request(script: string, timeoutMs: number): Promise<AgentResult> {
    const id = String(this.next++);
    const secs = Math.max(1, Math.ceil(timeoutMs / 1000));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`guest agent: no answer within ${timeoutMs} ms to ${JSON.stringify(script.slice(0, 200))}`));
      }, timeoutMs + 5000);
      this.pending.set(id, (r) => { clearTimeout(timer); resolve(r); });
      this.sock.write(`${id} ${secs} ${Buffer.from(script).toString('base64')}\n`);
    });
  }

  /** Probes until the agent answers (it starts late in a boot; after a reboot it starts again). */
  async waitReady(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      try {
        const r = await this.request('echo ready', 3000);
        if (r.out.trim() === 'ready') { this.ready = true; return; }
      } catch (e) {
        if (Date.now() > until) throw new Error(`guest agent not answering after ${timeoutMs} ms: ${(e as Error).message}`);
      }
    }
  }

  /** Runs a shell script in the guest (killed after timeoutMs); a lost answer makes the next call probe first. */
  async exec(script: string, timeoutMs = 20000): Promise<AgentResult> {
    if (!this.ready) await this.waitReady(Math.max(timeoutMs, 60000));
    try {
      return await this.request(script, timeoutMs);
    } catch (e) {
      this.ready = false;
      throw e;
    }
  }
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
  agent: AgentChannel | undefined;
  private qemu: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  /** Cold reboots made for the guest (coldReboot), and the last one's error if it failed. */
  reboots = 0;
  rebootError: Error | undefined;
  /** ms since epoch when QEMU was last started (for boot-to-prompt). */
  startedAt = 0;

  constructor(private readonly opts: ApplianceOptions) {}

  private path(kind: string): string { return join(this.opts.dir, `${this.opts.name ?? 'vm'}.${kind}`); }

  /** Starts QEMU (power on) and connects to its serial lines. */
  async powerOn(afterReboot = false): Promise<void> {
    if (!afterReboot) this.stopping = false;
    const q = await qemuModule();
    if (this.stopping) return; // powered off while a cold reboot was starting
    const args = q.qemuArgs({
      image: this.opts.image, flash: this.opts.flash, console: { socket: this.path('console') }, nics: this.opts.nics ?? [],
      memMb: this.opts.memMb, initrd: this.opts.initrd, disk: this.opts.disk, noReboot: this.opts.coldReboot,
      append: [this.opts.agent ? 'rampart.agent' : '', this.opts.append ?? ''].filter(Boolean).join(' '),
      agentSocket: this.opts.agent ? this.path('agent') : undefined,
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
    // The guest rebooted (QEMU exits under -no-reboot): power on again, same console.
    if (this.opts.coldReboot) {
      child.on('exit', () => {
        if (this.stopping) return;
        this.reboots++;
        this.console?.close();
        this.agent?.close();
        this.powerOn(true).catch((e: Error) => { this.rebootError = e; });
      });
    }
    const open = async (path: string): Promise<Socket> => {
      const deadline = Date.now() + 10000;
      for (;;) {
        try {
          return await new Promise<Socket>((resolve, reject) => {
            const s = connect(path, () => resolve(s));
            s.once('error', reject);
          });
        } catch (e) {
          if (child.exitCode !== null) throw new Error(`QEMU exited (${child.exitCode}): ${stderr}`);
          if (Date.now() > deadline) throw new Error(`no serial socket ${path} from QEMU: ${(e as Error).message}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const sock = await open(this.path('console'));
    if (this.opts.coldReboot && this.console) {
      this.console.attach(sock);
    } else {
      this.console = new SerialLine(sock);
      // Everything the console showed, for a failing test's reader (the folder is the test's).
      const log = createWriteStream(this.path('console.log'), { flags: 'a' });
      this.console.onData = (text) => log.write(text);
    }
    this.agent = this.opts.agent ? new AgentChannel(await open(this.path('agent'))) : undefined;
  }

  /** Types a command line on the console and waits for the next prompt; returns the output. */
  async cli(line: string, timeoutMs = 30000): Promise<string> {
    this.console.mark();
    this.console.type(`${line}\r`);
    return this.console.expect(PROMPT, timeoutMs);
  }

  /** Runs a shell script in the guest (the agent) and returns its exit status and output. */
  exec(script: string, timeoutMs = 20000): Promise<AgentResult> {
    if (!this.agent) throw new Error('no guest agent: boot with agent: true');
    return this.agent.exec(script, timeoutMs);
  }

  /** Runs a shell script in the guest; its output, or an error naming the exit status. */
  async shell(script: string, timeoutMs = 20000): Promise<string> {
    const r = await this.exec(script, timeoutMs);
    if (r.code !== 0) throw new Error(`guest: ${JSON.stringify(script.slice(0, 200))} exited ${r.code}: ${r.out.slice(-1000)}`);
    return r.out;
  }

  /**
   * Stops the whole QEMU process (SIGSTOP) until thaw(): meanwhile its disk files hold what
   * a power cut at this instant would leave (every write QEMU made, nothing the guest still
   * holds in memory), so a copy taken now is such a power cut (test/updates).
   */
  freeze(): void {
    if (this.qemu && this.qemu.exitCode === null) this.qemu.kill('SIGSTOP');
  }

  thaw(): void {
    if (this.qemu && this.qemu.exitCode === null) this.qemu.kill('SIGCONT');
  }

  /** Pulls the virtual power: QEMU is killed, nothing in the guest gets to run. */
  async powerOff(): Promise<void> {
    this.stopping = true;
    if (this.qemu && this.qemu.exitCode === null) this.qemu.kill('SIGKILL');
    await this.exited;
    this.console?.close();
    this.agent?.close();
  }
}
