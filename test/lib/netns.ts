// Network-namespace lab for root-only tests and benches.
//
// A Lab owns every namespace, veth pair, temp directory and long-running process it
// creates, all named with one unique prefix. destroy() removes them; the same cleanup
// also runs on process exit, SIGINT/SIGTERM/SIGHUP and uncaught exceptions, so a failing
// test does not leave namespaces behind. Lab.create() first removes leftovers with the
// same prefix from an earlier crashed run.
//
// Written in plain TypeScript with no tap import at runtime, so scripts/bench.mjs can
// bundle it with esbuild and use it from plain node (see scripts/bench.mjs).
//
// Network rule: every address configured here lives inside namespaces this lab created;
// nothing is ever sent from the root namespace.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, createWriteStream, type WriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (the directory whose package.json is named "rampart"), found upward from this file. */
export function projectRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(d, 'package.json');
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'rampart') return d;
      } catch { /* keep looking */ }
    }
    const up = dirname(d);
    if (up === d) return process.cwd();
    d = up;
  }
}

/**
 * Bundles a TypeScript entry with esbuild into node_modules/.cache/rampart-lab/ (npm
 * packages stay external and resolve from the project's node_modules) and returns the
 * .mjs path, so plain node can run it inside a namespace.
 */
let bundleSeq = 0;
export async function bundleForNode(entry: string): Promise<string> {
  const { build } = await import('esbuild');
  const root = projectRoot();
  const outDir = join(root, 'node_modules', '.cache', 'rampart-lab');
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, `${basename(entry).replace(/\.[cm]?ts$/, '')}-${process.pid}-${++bundleSeq}.mjs`);
  await build({
    entryPoints: [entry], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20',
    packages: 'external', sourcemap: 'inline', logLevel: 'warning',
  });
  return out;
}

/** True when running as root (namespaces, TUN, raw sockets need it). */
export function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The part of a tap Test this file uses (type-only, so no runtime tap dependency). */
export interface SkippableTest {
  skip(name: string): unknown;
  comment(...msg: unknown[]): void;
}

/**
 * Returns true (and records a skipped test with a clear reason) when not root.
 * Usage: `if (skipUnlessRoot(t, 'TUN devices')) return;` or at file top level.
 */
export function skipUnlessRoot(t: SkippableTest, what: string): boolean {
  if (isRoot()) return false;
  const msg = `needs root: ${what} (run as root to exercise network namespaces)`;
  t.comment(msg);
  t.skip(msg);
  return true;
}

/** tap test option form: `t.test('x', rootOnly('raw sockets'), async (t) => ...)`. */
export function rootOnly(what: string): { skip?: string } {
  return isRoot() ? {} : { skip: `needs root: ${what}` };
}

/** Does this machine have the given executable (in PATH or as an absolute path)? */
export function hasCommand(cmd: string): boolean {
  if (cmd.startsWith('/')) return existsSync(cmd);
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export class LabCommandError extends Error {
  constructor(readonly argv: readonly string[], readonly code: number | null, readonly stdout: string, readonly stderr: string) {
    super(`command failed (${code}): ${argv.join(' ')}\n${stderr.trim()}`);
    this.name = 'LabCommandError';
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command synchronously in the root namespace; throws LabCommandError on failure. */
export function sh(argv: readonly string[], opts: { allowFail?: boolean; timeoutMs?: number; input?: string } = {}): RunResult {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
    input: opts.input,
    stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  const res: RunResult = { code: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
  if (!opts.allowFail && res.code !== 0) throw new LabCommandError(argv, res.code, res.stdout, res.stderr);
  return res;
}

/** Runs a command asynchronously; never throws for a non-zero exit (look at code). */
export function run(argv: readonly string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    p.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const timer = setTimeout(() => { p.kill('SIGKILL'); stderr += `\n(timeout after ${opts.timeoutMs ?? 60_000} ms)`; }, opts.timeoutMs ?? 60_000);
    p.on('error', (e) => { stderr += String(e); });
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** A long-running process started inside a namespace. */
export class LabProcess {
  private out = '';
  private readonly exited: Promise<number | null>;
  exitCode: number | null | undefined = undefined;

  constructor(readonly name: string, readonly child: ChildProcess, logFile?: string) {
    let log: WriteStream | undefined;
    if (logFile) log = createWriteStream(logFile);
    const take = (d: Buffer): void => {
      this.out = (this.out + d.toString()).slice(-64_000);
      log?.write(d);
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    this.exited = new Promise((resolve) => {
      child.on('error', (e) => { this.out += `\n${String(e)}`; });
      child.on('close', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        log?.end();
        resolve(code);
      });
    });
  }

  get pid(): number | undefined { return this.child.pid; }
  /** The last 64 KB of stdout+stderr. */
  get output(): string { return this.out; }
  get running(): boolean { return this.exitCode === undefined; }
  wait(): Promise<number | null> { return this.exited; }

  /** SIGTERM the process group, then SIGKILL after graceMs. */
  async stop(graceMs = 2000): Promise<void> {
    if (!this.running || this.pid === undefined) return;
    killGroup(this.pid, 'SIGTERM');
    const t = new Promise<'timeout'>((r) => { const h = setTimeout(() => r('timeout'), graceMs); h.unref(); });
    if ((await Promise.race([this.exited, t])) === 'timeout') {
      killGroup(this.pid, 'SIGKILL');
      await this.exited;
    }
  }

  /** Synchronous kill used by the exit handler. */
  killNow(): void {
    if (this.running && this.pid !== undefined) killGroup(this.pid, 'SIGKILL');
  }
}

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(-pid, sig); } catch { /* group gone */ }
  try { process.kill(pid, sig); } catch { /* process gone */ }
}

export interface VethEnd {
  /** short namespace name (as given to addNamespace) */
  ns: string;
  ifname: string;
  /** CIDR, e.g. '10.1.0.1/24' */
  addr?: string;
  mtu?: number;
}

const liveLabs = new Set<Lab>();
let handlersInstalled = false;

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => { for (const lab of liveLabs) lab.destroySync(); });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const lab of liveLabs) lab.destroySync();
      process.kill(process.pid, sig);
    });
  }
}

/** Validates names that end up in command lines and file paths. */
function checkName(kind: string, s: string, max: number): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(s) || s.length > max) throw new Error(`bad ${kind} name: ${JSON.stringify(s)}`);
}

export class Lab {
  private readonly namespaces: string[] = [];
  private readonly processes = new Set<LabProcess>();
  private readonly cleanups: Array<() => void> = [];
  private destroyed = false;
  /** A private temp directory removed by destroy(). */
  readonly dir: string;

  private constructor(readonly prefix: string) {
    this.dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  }

  /**
   * Creates a lab. prefix must be unique per test file (tests run in parallel), e.g.
   * 'rt-swan'. Leftover namespaces named `${prefix}-*` from a crashed run are removed.
   */
  static create(prefix: string): Lab {
    checkName('prefix', prefix, 20);
    Lab.cleanupPrefix(prefix);
    installExitHandlers();
    const lab = new Lab(prefix);
    liveLabs.add(lab);
    return lab;
  }

  /** Removes namespaces (and processes inside them) and /etc/netns dirs named `${prefix}-*`. */
  static cleanupPrefix(prefix: string): void {
    const list = sh(['ip', 'netns', 'list'], { allowFail: true }).stdout;
    for (const line of list.split('\n')) {
      const name = line.split(' ')[0];
      if (name && name.startsWith(`${prefix}-`)) deleteNamespace(name);
    }
  }

  /** The full namespace name for a short name. */
  nsName(short: string): string {
    return `${this.prefix}-${short}`;
  }

  /** Creates a namespace with loopback up. Returns its full name. */
  addNamespace(short: string): string {
    checkName('namespace', short, 20);
    const full = this.nsName(short);
    sh(['ip', 'netns', 'add', full]);
    this.namespaces.push(full);
    sh(['ip', '-n', full, 'link', 'set', 'lo', 'up']);
    return full;
  }

  /** Creates a veth pair whose two ends are created directly inside the two namespaces. */
  addVeth(a: VethEnd, b: VethEnd): void {
    checkName('interface', a.ifname, 15);
    checkName('interface', b.ifname, 15);
    const na = this.nsName(a.ns);
    const nb = this.nsName(b.ns);
    sh(['ip', '-n', na, 'link', 'add', a.ifname, 'type', 'veth', 'peer', 'name', b.ifname, 'netns', nb]);
    for (const [end, ns] of [[a, na], [b, nb]] as const) {
      if (end.mtu) sh(['ip', '-n', ns, 'link', 'set', end.ifname, 'mtu', String(end.mtu)]);
      if (end.addr) sh(['ip', '-n', ns, 'addr', 'add', end.addr, 'dev', end.ifname]);
      sh(['ip', '-n', ns, 'link', 'set', end.ifname, 'up']);
    }
  }

  /** Adds a dummy interface with an address (a stand-in LAN inside one namespace). */
  addDummy(ns: string, ifname: string, addr: string): void {
    checkName('interface', ifname, 15);
    const full = this.nsName(ns);
    sh(['ip', '-n', full, 'link', 'add', ifname, 'type', 'dummy']);
    sh(['ip', '-n', full, 'addr', 'add', addr, 'dev', ifname]);
    sh(['ip', '-n', full, 'link', 'set', ifname, 'up']);
  }

  addAddress(ns: string, ifname: string, addr: string): void {
    sh(['ip', '-n', this.nsName(ns), 'addr', 'add', addr, 'dev', ifname]);
  }

  /** `ip route add DEST via GW` (or `dev IF` when via is an interface: pass { dev }). */
  addRoute(ns: string, dest: string, via: { gw?: string; dev?: string }): void {
    const argv = ['ip', '-n', this.nsName(ns), 'route', 'add', dest];
    if (via.gw) argv.push('via', via.gw);
    if (via.dev) argv.push('dev', via.dev);
    sh(argv);
  }

  /** Enables IPv4 forwarding inside a namespace (a router). */
  enableForwarding(ns: string): void {
    this.execSync(ns, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  }

  /**
   * Makes `ns` a NAT router: forwarding on and nftables masquerade for everything leaving
   * through `outIfname`. Needs the nft binary (Debian nftables).
   */
  addNat(ns: string, outIfname: string): void {
    this.enableForwarding(ns);
    const rules = [
      'table ip rampart_nat {',
      '  chain postrouting {',
      '    type nat hook postrouting priority 100; policy accept;',
      `    oifname "${outIfname}" masquerade`,
      '  }',
      '}',
      '',
    ].join('\n');
    sh(['ip', 'netns', 'exec', this.nsName(ns), 'nft', '-f', '-'], { input: rules });
  }

  /** Runs a command inside a namespace synchronously; throws on non-zero exit unless allowFail. */
  execSync(ns: string, argv: readonly string[], opts: { allowFail?: boolean; timeoutMs?: number; input?: string } = {}): RunResult {
    return sh(['ip', 'netns', 'exec', this.nsName(ns), ...argv], opts);
  }

  /** Runs a command inside a namespace asynchronously (does not block the event loop). */
  exec(ns: string, argv: readonly string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    return run(['ip', 'netns', 'exec', this.nsName(ns), ...argv], opts);
  }

  /**
   * Starts a long-running process inside a namespace in its own process group. It is
   * killed by destroy() and by the exit handlers. Output is kept (last 64 KB) and, with
   * opts.log, also written to a file in the lab directory.
   */
  spawn(ns: string, argv: readonly string[], opts: { name?: string; log?: boolean; env?: NodeJS.ProcessEnv } = {}): LabProcess {
    if (this.destroyed) throw new Error('lab destroyed');
    const name = opts.name ?? `${ns}-${argv[0] ?? 'proc'}`;
    const child = spawn('ip', ['netns', 'exec', this.nsName(ns), ...argv], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    const proc = new LabProcess(name, child, opts.log ? join(this.dir, `${name}.log`) : undefined);
    this.processes.add(proc);
    void proc.wait().then(() => this.processes.delete(proc));
    return proc;
  }

  /**
   * Runs a TypeScript (or .mjs) program with node inside a namespace, bundled on the fly
   * by bundleForNode(). Same lifetime rules as spawn().
   */
  async spawnNode(ns: string, entry: string, args: readonly string[] = [], opts: { name?: string; log?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<LabProcess> {
    const file = /\.[cm]?ts$/.test(entry) ? await bundleForNode(entry) : entry;
    if (file !== entry) this.onCleanup(() => rmSync(file, { force: true }));
    return this.spawn(ns, [process.execPath, '--enable-source-maps', file, ...args], {
      name: opts.name ?? `${ns}-${basename(entry)}`, log: opts.log, env: opts.env ? { ...process.env, ...opts.env } : undefined,
    });
  }

  /** Registers extra cleanup (run synchronously, in reverse order, by destroy()). */
  onCleanup(fn: () => void): void {
    this.cleanups.push(fn);
  }

  /** Stops processes gracefully, then removes everything. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    await Promise.all([...this.processes].map((p) => p.stop(1500)));
    this.destroySync();
  }

  /** Kills everything at once (used on exit); safe to call twice. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    liveLabs.delete(this);
    for (const p of this.processes) p.killNow();
    for (const fn of this.cleanups.reverse()) {
      try { fn(); } catch { /* keep cleaning */ }
    }
    for (const ns of this.namespaces) deleteNamespace(ns);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Kills every process in a namespace, deletes it and its /etc/netns directory. */
function deleteNamespace(name: string): void {
  const pids = sh(['ip', 'netns', 'pids', name], { allowFail: true }).stdout.split(/\s+/).filter(Boolean);
  for (const pid of pids) {
    try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
  }
  sh(['ip', 'netns', 'del', name], { allowFail: true });
  rmSync(join('/etc/netns', name), { recursive: true, force: true });
}
