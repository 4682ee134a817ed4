// A program on a real pseudo-terminal (util-linux `script` allocates it), driven like a
// user typing: write keys, wait for text to appear. Output is kept whole for assertions.
import { spawn, type ChildProcess } from 'node:child_process';

export interface PtyProgram {
  output(): string;
  /** Output since the last `mark()`. */
  sinceMark(): string;
  mark(): void;
  type(keys: string): void;
  /** Waits until `re` matches the output since the last mark (bounded by `timeoutMs`). */
  expect(re: RegExp, timeoutMs?: number): Promise<string>;
  kill(): Promise<void>;
  readonly child: ChildProcess;
}

export function spawnOnPty(command: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): PtyProgram {
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: opts.cwd, env: { ...process.env, TERM: 'vt100', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let markAt = 0;
  const waiters: Array<() => void> = [];
  const onData = (d: Buffer) => {
    out += d.toString('utf8');
    for (const w of waiters.splice(0)) w();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  // Closed: exited and its output read to the end.
  let closed = false;
  child.on('close', () => { closed = true; for (const w of waiters.splice(0)) w(); });
  return {
    child,
    output: () => out,
    sinceMark: () => out.slice(markAt),
    mark: () => { markAt = out.length; },
    type: (keys) => { child.stdin!.write(keys); },
    expect: (re, timeoutMs = 60_000) => new Promise((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      let settled = false;
      const check = () => {
        if (settled) return;
        const text = out.slice(markAt).replace(/\r/g, '');
        const m = re.exec(text);
        if (m) {
          settled = true;
          markAt = out.length;
          return resolve(text);
        }
        if (Date.now() > deadline) {
          settled = true;
          return reject(new Error(`timed out waiting for ${re}; the output ends with ${JSON.stringify(text.slice(-300))}`));
        }
        // A program that is gone never prints it: say so now (the poll timer is unref'd, so
        // waiting on would let the test process end with the test unfinished and no reason).
        if (closed) {
          settled = true;
          return reject(new Error(`the program ended (${child.exitCode ?? child.signalCode}) before ${re}; the output ends with ${JSON.stringify(text.slice(-600))}`));
        }
        waiters.push(check);
        setTimeout(check, 100).unref();
      };
      check();
    }),
    kill: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
