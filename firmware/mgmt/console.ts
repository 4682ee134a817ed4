// `rampart console`: the terminal side of a CLI session. It owns the line discipline
// (echo, editing, history, `--More--` paging, hidden password entry, typeahead while a
// command runs) and talks to the daemon, which parses and runs every line. The terminal
// is any byte stream: this process's stdin/stdout, a pty, or a serial device.

import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { JsonLines, type Event, type Request, type SessionState } from './rpc-protocol.js';
import { LineEditor, type EditorAction } from './line-editor.js';

export interface Terminal {
  /** True when the line needs CR LF (serial devices); a tty's own output processing adds CR otherwise. */
  crlf?: boolean;
  /** False for a pipe or file (`rampart console < commands.txt`): no `--More--` paging. */
  interactive?: boolean;
  write(text: string): void;
  onData(cb: (data: string) => void): void;
  onEnd(cb: () => void): void;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/** A JSON-lines RPC connection to the daemon. */
export class RpcClient {
  private sock: Duplex | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  onEvent: (ev: Event) => void = () => {};
  onClose: () => void = () => {};

  async connect(path: string): Promise<void> {
    const sock = connect(path);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    sock.setNoDelay?.(true);
    this.attach(sock);
  }

  /** Uses an already connected stream (the SSH server's in-process pair). */
  attach(sock: Duplex): void {
    this.sock = sock;
    const parser = new JsonLines((m) => {
      const msg = m as { id?: number; result?: unknown; error?: string; event?: string };
      if (msg.event !== undefined) {
        this.onEvent(msg as Event);
        return;
      }
      const p = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
      if (!p) return;
      this.pending.delete(msg.id!);
      if (msg.error !== undefined) p.reject(new Error(msg.error));
      else p.resolve(msg.result);
    });
    sock.on('data', (d) => parser.push(d));
    sock.on('error', () => {});
    sock.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('connection to the daemon closed'));
      this.pending.clear();
      this.onClose();
    });
  }

  call<T>(method: Request['method'], params: Record<string, unknown>): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.sock!.write(`${JSON.stringify({ id, method, params })}\n`);
    });
  }

  notify(method: 'answer', params: Record<string, unknown>): void {
    this.sock?.write(`${JSON.stringify({ method, params })}\n`);
  }

  close(): void {
    this.sock?.destroy();
  }
}

type Mode = 'idle' | 'edit' | 'busy' | 'ask' | 'more' | 'closed';

export interface ConsoleOptions {
  socketPath: string;
  /** An in-process connection to the daemon's session host instead of the socket (SSH). */
  connect?: () => Duplex;
  /** End (onQuit) when the session logs out or times out, instead of `Press RETURN` (SSH). */
  exitOnLogout?: boolean;
  terminal: Terminal;
  line?: string;
  /** Called when the user powers the simulator off (the escape, Ctrl-A x) or the terminal ends. */
  onQuit?: () => void;
  /** Whether Ctrl-A then x, each typed on its own, quits (the simulator's power switch). */
  escape?: boolean;
  /** Reconnect after a reload (the supervisor restarts the daemon). */
  reconnect?: boolean;
}

export class Console {
  private client = new RpcClient();
  private readonly editor: LineEditor;
  // Busy until the session is open: keys typed (or piped) before the first prompt wait.
  private mode: Mode = 'busy';
  private state: SessionState = { prompt: '', pageLength: 0, closed: false };
  private typeahead: string[] = [];
  private askEcho = true;
  private askConfirm = false;
  private askBuf = '';
  private linesShown = 0;
  private moreQueue: string[] = [];
  private moreDiscard = false;
  private quitting = false;

  constructor(private readonly opts: ConsoleOptions) {
    this.editor = new LineEditor((t) => this.out(t));
    opts.terminal.onData((d) => {
      if (this.escapeKey(d)) return;
      for (const ch of d) {
        // A terminal that sends CR LF for Return: the LF is part of the same key, in every mode.
        const skip = ch === '\n' && this.lastWasCr;
        this.lastWasCr = ch === '\r';
        if (!skip) this.typeahead.push(ch);
      }
      this.drain();
    });
    // Input that ends (a pipe, a file) still runs every line typed before the end.
    opts.terminal.onEnd(() => {
      this.inputEnded = true;
      this.drain();
    });
  }

  private out(text: string): void {
    this.opts.terminal.write(this.opts.terminal.crlf ? text.replace(/\r?\n/g, '\r\n') : text);
  }

  async start(): Promise<void> {
    await this.attach();
  }

  private async attach(): Promise<void> {
    this.client = new RpcClient();
    this.client.onEvent = (ev) => this.event(ev);
    this.client.onClose = () => { void this.lost(); };
    if (this.opts.connect) this.client.attach(this.opts.connect());
    else await this.client.connect(this.opts.socketPath);
    let r: SessionState & { banner?: string };
    try {
      r = await this.client.call<SessionState & { banner?: string }>('open', { line: this.opts.line ?? 'console' });
    } catch {
      // The line's login failed three times: back to `Press RETURN`, as IOS does.
      this.client.onClose = () => {};
      void this.sessionEnded();
      return;
    }
    if (r.banner) this.out(r.banner);
    this.state = r;
    this.prompt();
  }

  private async lost(): Promise<void> {
    if (this.quitting) return;
    this.mode = 'closed';
    if (!this.opts.reconnect) {
      this.out('\n% Connection to the daemon closed\n');
      this.quit();
      return;
    }
    // Wait for the daemon to come back (reload), then start a new session.
    for (let i = 0; i < 600 && !this.quitting; i++) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        await this.attach();
        return;
      } catch {
        /* not up yet */
      }
    }
  }

  private event(ev: Event): void {
    switch (ev.event) {
      case 'output': this.showOutput(ev.text); break;
      case 'ask':
        this.flushMore();
        this.out(ev.prompt);
        this.mode = 'ask';
        this.askEcho = ev.echo;
        this.askConfirm = /\[confirm\]\s*$/.test(ev.prompt);
        this.askBuf = '';
        this.drain();
        break;
      case 'log': this.showLog(ev.text); break;
      case 'closed':
        // The daemon ended the session (exec-timeout): what the user typed meanwhile is dropped.
        this.flushMore();
        this.out(ev.text);
        this.typeahead = [];
        this.state = { ...this.state, closed: true };
        void this.sessionEnded();
        break;
      case 'reload':
        // The old session is gone: ignore its last answers and wait for the new daemon.
        this.mode = 'closed';
        this.done = undefined;
        this.typeahead = [];
        this.out('\n\nSystem Bootstrap, Version 0.1 (sim)\n\nReloading...\n');
        break;
    }
  }

  /**
   * A log or debug message that arrived on its own: on lines of its own, and at a prompt the
   * prompt and the text typed so far are drawn again below it (IOS's `logging synchronous`),
   * so a message never leaves the person without a prompt.
   */
  private showLog(text: string): void {
    const body = text.replace(/\n+$/, '');
    if (this.mode === 'more') {
      this.moreQueue.push(`${body}\n`);
    } else if (this.mode === 'edit') {
      const { buffer, cursor } = this.editor;
      this.out(`\n${body}\n${this.state.prompt}${buffer}${'\b'.repeat(buffer.length - cursor)}`);
    } else {
      this.out(`${body}\n`);
    }
  }

  /** Output with `--More--` paging at the session's terminal length. */
  private showOutput(text: string): void {
    if (this.moreDiscard) return;
    const lines = text.split('\n');
    const last = lines.pop()!;
    if (this.mode === 'more') {
      this.moreQueue.push(...lines.map((l) => `${l}\n`));
      if (last) this.moreQueue.push(last);
      return;
    }
    const page = this.opts.terminal.interactive === false ? 0 : this.state.pageLength;
    for (let i = 0; i < lines.length; i++) {
      if (page > 0 && this.linesShown >= page - 1) {
        this.moreQueue.push(...lines.slice(i).map((l) => `${l}\n`));
        if (last) this.moreQueue.push(last);
        this.mode = 'more';
        this.out(' --More-- ');
        return;
      }
      this.out(`${lines[i]}\n`);
      this.linesShown++;
    }
    if (last) this.out(last);
  }

  private moreKey(ch: string): void {
    this.out(`${'\b'.repeat(10)}${' '.repeat(10)}${'\b'.repeat(10)}`);
    const page = this.state.pageLength;
    let n: number;
    if (ch === ' ') n = page - 1;
    else if (ch === '\r' || ch === '\n') n = 1;
    else {
      this.moreQueue = [];
      this.moreDiscard = true;
      this.mode = 'busy';
      this.finishIfDone();
      return;
    }
    let printed = 0;
    while (n > 0 && this.moreQueue.length > 0) {
      const l = this.moreQueue.shift()!;
      this.out(l);
      if (l.endsWith('\n')) {
        n--;
        printed++;
      }
    }
    if (this.moreQueue.length > 0) {
      this.out(' --More-- ');
      return;
    }
    this.mode = 'busy';
    // Output that is still to come continues the page just shown.
    this.linesShown = ch === ' ' ? printed : page - 1;
    this.finishIfDone();
  }

  private flushMore(): void {
    for (const l of this.moreQueue) this.out(l);
    this.moreQueue = [];
  }

  private done: SessionState | undefined;

  private finishIfDone(): void {
    if (this.mode !== 'busy' || !this.done) return;
    this.state = this.done;
    this.done = undefined;
    if (this.state.closed) {
      void this.sessionEnded();
      return;
    }
    this.prompt();
  }

  private prompt(): void {
    this.mode = 'edit';
    this.linesShown = 0;
    this.moreDiscard = false;
    this.out(this.state.prompt);
    this.editor.reset();
    this.drain();
  }

  private async sessionEnded(): Promise<void> {
    this.mode = 'closed';
    this.client.close();
    if (this.quitting) return;
    if (this.opts.exitOnLogout) return this.quit();
    const host = this.state.prompt.replace(/[>#(].*$/, '');
    this.out(`\n\n\n${host} con0 is now available\n\n\n\n\n\nPress RETURN to get started.\n`);
    this.mode = 'idle';
    this.drain();
  }

  private drain(): void {
    this.drainKeys();
    // Piped input that has run out: quit once the last line has finished.
    if (this.inputEnded && this.typeahead.length === 0 && this.mode !== 'busy') {
      if (this.mode === 'edit') this.out('\n');
      this.quit();
    }
  }

  private drainKeys(): void {
    while (this.typeahead.length > 0) {
      const ch = this.typeahead[0]!;
      switch (this.mode) {
        case 'busy': case 'closed': return;
        case 'idle':
          this.typeahead.shift();
          if (ch === '\r' || ch === '\n') {
            this.mode = 'busy';
            this.client.onClose = () => { void this.lost(); };
            void this.attach().catch(() => this.quit());
            return;
          }
          continue;
        case 'more': this.typeahead.shift(); this.moreKey(ch); continue;
        case 'ask': this.typeahead.shift(); this.askKey(ch); continue;
        case 'edit': {
          this.typeahead.shift();
          const action = this.editor.key(ch);
          if (action) this.action(action);
          continue;
        }
      }
    }
  }

  private askKey(ch: string): void {
    if (this.askConfirm) {
      const answer = ch === '\r' || ch === '\n' ? '' : ch;
      this.out(answer === '' ? '\n' : `${ch}\n`);
      this.mode = 'busy';
      this.client.notify('answer', { text: answer });
      return;
    }
    if (ch === '\r' || ch === '\n') {
      this.out('\n');
      this.mode = 'busy';
      this.client.notify('answer', { text: this.askBuf });
      return;
    }
    if (ch === '\x7f' || ch === '\b') {
      if (this.askBuf.length > 0) {
        this.askBuf = this.askBuf.slice(0, -1);
        if (this.askEcho) this.out('\b \b');
      }
      return;
    }
    if (ch.charCodeAt(0) < 0x20) return;
    this.askBuf += ch;
    if (this.askEcho) this.out(ch);
  }

  private lastWasCr = false;
  private inputEnded = false;

  private action(a: EditorAction): void {
    switch (a.kind) {
      case 'submit': return this.run(a.line);
      case 'ctrl-z':
        // IOS runs the line typed before ^Z, then leaves configuration mode.
        if (!this.inConfig()) return a.line.trim() ? this.run(a.line) : this.prompt();
        return a.line.trim() ? this.run(a.line, 'end') : this.run('end');
      case 'ctrl-c': {
        // IOS: Ctrl-C leaves configuration mode like Ctrl-Z; in exec it just drops the line.
        if (this.inConfig()) return this.run('end');
        this.prompt();
        return;
      }
      case 'help': {
        this.mode = 'busy';
        const line = a.line;
        const rest = this.editor.buffer;
        void this.client.call<{ text: string }>('help', { text: line }).then((r) => {
          this.out(r.text);
          this.mode = 'edit';
          this.out(this.state.prompt);
          this.editor.reset(rest);
          this.drain();
        }, () => {});
        return;
      }
      case 'complete': {
        this.mode = 'busy';
        void this.client.call<{ line: string | null }>('complete', { text: a.line }).then((r) => {
          this.mode = 'edit';
          if (r.line !== null) this.editor.replace(r.line);
          else this.out('\x07');
          this.drain();
        }, () => {});
        return;
      }
    }
  }

  private inConfig(): boolean {
    return /\(.*\)#$/.test(this.state.prompt);
  }

  /** Runs `line`, then `then` (Ctrl-Z's `end`) when the first left the session in configuration mode. */
  private run(line: string, then?: string): void {
    this.mode = 'busy';
    this.linesShown = 0;
    this.moreDiscard = false;
    const client = this.client;
    client.call<SessionState>('exec', { text: line }).then(async (st) => {
      if (then !== undefined && !st.closed && /\(.*\)#$/.test(st.prompt)) st = await client.call<SessionState>('exec', { text: then });
      if (client !== this.client || this.mode === 'closed') return;
      this.done = st;
      this.finishIfDone();
    }, () => {});
  }

  private escapeArmedAt = 0;

  /**
   * The power-off escape: Ctrl-A, then x within two seconds, each arriving on its own as
   * typed keys do. Pasted data arrives in chunks of many bytes and never matches, so no
   * paste (line noise, a binary file) can switch the box off. Ctrl-A still moves to the
   * start of the line.
   */
  private escapeKey(d: string): boolean {
    if (!this.opts.escape) return false;
    const armed = this.escapeArmedAt > 0 && Date.now() - this.escapeArmedAt < 2000;
    this.escapeArmedAt = d === '\x01' ? Date.now() : 0;
    if (armed && (d === 'x' || d === 'X')) {
      this.quit();
      return true;
    }
    return false;
  }

  quit(): void {
    if (this.quitting) return;
    this.quitting = true;
    this.client.close();
    this.opts.onQuit?.();
  }
}
