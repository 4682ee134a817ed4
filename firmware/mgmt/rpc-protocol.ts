// The console <-> daemon protocol: JSON objects, one per line, over a unix socket.
// One connection is one CLI session. Requests carry an id and get one response with it;
// while a request runs the daemon may push events (output, a question, a log line).

export type Request =
  | { id: number; method: 'open'; params: { line: string } }
  | { id: number; method: 'exec'; params: { text: string } }
  | { id: number; method: 'help'; params: { text: string } }
  | { id: number; method: 'complete'; params: { text: string } }
  | { id: number; method: 'answer'; params: { text: string } }
  /** Waits until the runtime applied every configuration change made so far (bounded). */
  | { id: number; method: 'applied'; params: { timeoutMs?: number } }
  /**
   * Test hook, not a console feature: runs a full garbage collection in the daemon and answers
   * its heap afterwards. Only a daemon started with node's --expose-gc (tests) has one; any
   * other answers an error. Leak tests call it before each heap snapshot.
   */
  | { id: number; method: 'gc'; params?: Record<string, never> };

/** The answer to `gc`: process.memoryUsage() after the collection. */
export interface GcReply {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

/** The answer to `applied` (daemon.ts AppliedState). */
export interface AppliedReply {
  revision: number;
  applied: number;
  failures: Array<{ service: string; revision: number; message: string }>;
  /** Items (interfaces, crypto map entries) handed to the services since boot, by operation; the last apply's duration. */
  changes?: { applies: number; fullApplies: number; added: number; modified: number; removed: number; lastMs: number; lastFull: boolean };
}

export interface SessionState {
  prompt: string;
  /** Lines per page for `--More--` (0: no paging). */
  pageLength: number;
  closed: boolean;
}

export type Response =
  | { id: number; result: SessionState & { banner?: string } }
  | { id: number; result: { text: string } }
  | { id: number; result: { line: string | null } }
  | { id: number; result: AppliedReply }
  | { id: number; result: GcReply }
  | { id: number; error: string };

export type Event =
  | { event: 'output'; text: string }
  | { event: 'ask'; prompt: string; echo: boolean }
  | { event: 'log'; text: string }
  /** The daemon ended the session (exec-timeout); `text` is what to print. */
  | { event: 'closed'; text: string }
  | { event: 'reload' };

export type ServerMessage = Response | Event;

/** Splits a byte stream into JSON lines. */
export class JsonLines {
  private buf = '';
  constructor(private readonly onMessage: (msg: unknown) => void) {}
  push(chunk: Buffer | string): void {
    this.buf += chunk.toString();
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.trim() === '') continue;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        continue; // a garbled line is dropped; the peer's request times out or is retried
      }
      this.onMessage(msg);
    }
  }
}

/**
 * Who a session belongs to when the box itself opened it for an authenticated network
 * user (SSH shell or exec). Passed beside the stream, never read from the wire, so a
 * local client cannot claim a user or a privilege level.
 */
export interface SessionOrigin {
  /** `vty 3` */
  line: string;
  transport: 'ssh' | 'exec';
  user?: string;
  privilege: number;
  location?: string;
  /** Negotiated SSH algorithms for `show ssh`. */
  ssh?: { version: string; cipher: string; hmac: string };
}
