// One long-lived `ip -force -batch -` for route changes that must not wait (RRI routes of
// road warriors coming and going): lines are written to its stdin, which it executes as they
// arrive. A process per change cost the daemon's main thread more than the whole IKE
// exchange (spawning forks the daemon: about 15 % of the CPU in `npm run bench -- dynamic`).
// Changes queued within `coalesceMs` go in one write. If `ip` dies it is started again at the
// next write; its error output is logged (bounded).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

export interface IpBatchOptions {
  log: (msg: string) => void;
  /** The batch reader (default `ip -force -batch -`); tests substitute a recorder. */
  argv?: readonly string[];
  coalesceMs?: number;
}

export class IpBatch {
  private child: ChildProcessByStdio<Writable, null, Readable> | undefined;
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Processes started so far (show/debug; a test checks one serves many writes). */
  started = 0;

  constructor(private readonly opts: IpBatchOptions) {}

  queue(lines: readonly string[]): void {
    if (this.closed || lines.length === 0) return;
    this.pending.push(...lines);
    if (this.timer) return;
    this.timer = setTimeout(() => { this.timer = undefined; this.flush(); }, this.opts.coalesceMs ?? 20);
  }

  /** Writes what is queued now. */
  flush(): void {
    if (this.closed || this.pending.length === 0) return;
    const text = `${this.pending.splice(0).join('\n')}\n`;
    const child = this.child ?? this.start();
    if (!child) return;
    child.stdin.write(text);
  }

  private start(): ChildProcessByStdio<Writable, null, Readable> | undefined {
    const [cmd, ...args] = this.opts.argv ?? ['ip', '-force', '-batch', '-'];
    let child: ChildProcessByStdio<Writable, null, Readable>;
    try {
      child = spawn(cmd!, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    } catch (e) {
      this.opts.log(`ip -batch: ${(e as Error).message}`);
      return undefined;
    }
    this.started++;
    this.child = child;
    let logged = 0;
    child.stderr.on('data', (d: Buffer) => {
      // bounded: a flood of refused routes does not flood the log
      if (logged++ < 20) this.opts.log(`RRI routes: ${d.toString().trim().slice(0, 500)}`);
    });
    child.stdin.on('error', () => { /* EPIPE: it died; the exit handler forgets it */ });
    const gone = (why: string): void => {
      if (this.child !== child) return;
      this.child = undefined;
      if (!this.closed) this.opts.log(`ip -batch ${why}; started again at the next change`);
    };
    child.on('error', (e) => gone(`failed: ${e.message}`));
    child.on('exit', (code, sig) => gone(`exited (${sig ?? code})`));
    return child;
  }

  /**
   * Drops what is still queued (the caller removes its routes itself, synchronously) and lets
   * `ip` finish what it was given and exit (end of its input).
   */
  close(): void {
    if (this.timer) { clearTimeout(this.timer); this.timer = undefined; }
    this.pending = [];
    this.closed = true;
    this.child?.stdin.end();
    this.child = undefined;
  }
}
