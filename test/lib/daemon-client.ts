// A scripted console: opens a CLI session on a running daemon over its unix socket and
// runs lines, collecting the output (answers to questions are given up front).
import { RpcClient } from '../../firmware/mgmt/console.js';
import type { AppliedReply, GcReply, SessionState } from '../../firmware/mgmt/rpc-protocol.js';

export class ScriptedConsole {
  private client = new RpcClient();
  private buf = '';
  /** Everything the session printed so far, debug lines between commands included. */
  transcript = '';
  private answers: string[] = [];
  state!: SessionState;
  banner = '';

  static async open(socketPath: string, line = 'console'): Promise<ScriptedConsole> {
    const c = new ScriptedConsole();
    c.client.onEvent = (ev) => {
      if (ev.event === 'output' || ev.event === 'log') { c.buf += ev.text; c.transcript += ev.text; }
      if (ev.event === 'ask') {
        c.buf += ev.prompt;
        c.client.notify('answer', { text: c.answers.shift() ?? '' });
      }
    };
    await c.client.connect(socketPath);
    const r = await c.client.call<SessionState & { banner?: string }>('open', { line });
    c.state = r;
    c.banner = r.banner ?? '';
    return c;
  }

  /** Opens a session on a line that asks for a login, answering its questions in order. */
  static async openWithAnswers(socketPath: string, answers: string[], line = 'console'): Promise<ScriptedConsole> {
    const c = new ScriptedConsole();
    c.answers = [...answers];
    c.client.onEvent = (ev) => {
      if (ev.event === 'output' || ev.event === 'log') { c.buf += ev.text; c.transcript += ev.text; }
      if (ev.event === 'ask') {
        c.buf += ev.prompt;
        c.transcript += ev.prompt;
        c.client.notify('answer', { text: c.answers.shift() ?? '' });
      }
    };
    await c.client.connect(socketPath);
    try {
      const r = await c.client.call<SessionState & { banner?: string }>('open', { line });
      c.state = r;
      c.banner = r.banner ?? '';
    } catch (err) {
      c.close();
      throw err;
    }
    return c;
  }

  /** Runs one line; returns its output. */
  async run(line: string, ...answers: string[]): Promise<string> {
    this.buf = '';
    this.answers = answers;
    this.state = await this.client.call<SessionState>('exec', { text: line });
    return this.buf;
  }

  /**
   * Waits until the daemon applied every configuration change made so far (instead of
   * sleeping); returns the revision, the applied revision and the last apply's failures.
   */
  async waitApplied(timeoutMs = 60_000): Promise<AppliedReply> {
    return this.client.call<AppliedReply>('applied', { timeoutMs });
  }

  /**
   * Test hook: a full garbage collection in the daemon, then its heap (the daemon must run with
   * node's --expose-gc: startBox({ nodeFlags: ['--expose-gc'] }); otherwise this rejects).
   */
  async collectGarbage(): Promise<GcReply> {
    return this.client.call<GcReply>('gc', {});
  }

  /** Output received since the last run() (asynchronous log and debug lines). */
  pending(): string { return this.buf; }

  /** Waits (bounded) until output received since the last run() matches `re`; returns it. */
  async waitForOutput(re: RegExp, timeoutMs = 5000): Promise<string> {
    const end = Date.now() + timeoutMs;
    while (!re.test(this.buf) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    return this.buf;
  }

  close(): void { this.client.close(); }
}
