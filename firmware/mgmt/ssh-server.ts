// The box's SSH server, built on the ssh2 package (docs/management.md says why not
// OpenSSH's sshd). It listens only while host keys exist (`crypto key generate`), checks
// `access-class` and `transport input` of the vty lines before the handshake, bounds
// connections that have not authenticated, authenticates with the line's login rules, and
// hands every shell or exec request to the daemon as an ordinary CLI session: a shell runs
// the same terminal side as the console (line editing, paging, questions), an exec
// request runs one command and exits.
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { AuthContext, ClientInfo, Connection, NegotiatedAlgorithms, PseudoTtyInfo, ServerChannel } from 'ssh2';
import { configuredVtys, lineConfigFor } from '../config/line.js';
import type { Config } from '../config/model.js';
import { FIRMWARE_VERSION } from '../lib/version.js';
import { accessClassPermits } from './access-class.js';
import { Console, RpcClient, type Terminal } from './console.js';
import { duplexPair } from './duplex-pair.js';
import { keyHash } from './host-keys.js';
import { checkLogin, loginNeed, loginPrivilege } from './login.js';
import type { LoginGuard } from './login-guard.js';
import type { FlashFiles } from '../cli/mgmt-view.js';
import { MAX_SFTP_FILE, serveSftp } from './sftp-server.js';
import { validFlashName } from './flash-files.js';
import type { Event, SessionOrigin, SessionState } from './rpc-protocol.js';

export interface SshServerDeps {
  config(): Config;
  /** Host private keys (OpenSSH format); none = SSH disabled. */
  hostKeys(): string[];
  /** Serves a CLI session on the daemon's end of an in-process stream. */
  serve(stream: Duplex, origin: SessionOrigin): void;
  /** Events for the log (never a password). */
  log(text: string): void;
  now(): number;
  /** `login block-for` and the %SEC_LOGIN messages, shared with the console's login. */
  guard: LoginGuard;
  /** flash: for SFTP and `scp -O` uploads. */
  flash: FlashFiles;
}

/** Connections that have not authenticated yet, per source address and in all. */
export const MAX_PREAUTH_PER_SOURCE = 10;
export const MAX_PREAUTH = 64;

interface Conn {
  sock: Socket;
  ip: string;
  authenticated: boolean;
  user?: string;
  privilege: number;
  failures: number;
  algorithms?: NegotiatedAlgorithms;
  timer?: NodeJS.Timeout;
}

export class SshServer {
  private net: NetServer | undefined;
  private ssh: ssh2.Server | undefined;
  private keysInUse = '';
  private bannerInUse: string | undefined;
  private readonly conns = new Set<Conn>();
  private readonly vtysInUse = new Set<number>();
  /** Connections refused or dropped before authentication (`show ip ssh`-style counters). */
  readonly counters = { refused: 0, evicted: 0, authFailures: 0, sessions: 0 };

  constructor(private readonly deps: SshServerDeps, private readonly listen: { port: number; host?: string }) {}

  get enabled(): boolean { return this.net !== undefined; }
  get port(): number {
    const a = this.net?.address();
    return a && typeof a === 'object' ? a.port : this.listen.port;
  }

  /** Follows the host keys: listens while keys exist; new keys apply to new connections. */
  async refresh(): Promise<void> {
    const keys = this.deps.hostKeys();
    if (keys.length === 0) {
      await this.stop();
      return;
    }
    this.rebuild(keys);
    if (this.net) return;
    const net = createServer((sock) => this.accept(sock));
    await new Promise<void>((resolve, reject) => {
      net.once('error', reject);
      net.listen(this.listen.port, this.listen.host, () => resolve());
    });
    net.on('error', (err) => this.deps.log(`ssh: ${err.message}`));
    this.net = net;
  }

  /** A new ssh2 server object when the keys or the login banner (fixed per object) changed. */
  private rebuild(keys: string[]): void {
    const banner = this.deps.config().banners.login;
    if (keys.join('\n') !== this.keysInUse || banner !== this.bannerInUse) {
      this.keysInUse = keys.join('\n');
      this.bannerInUse = banner;
      const server = new ssh2.Server({ hostKeys: keys, ident: `Rampart_${FIRMWARE_VERSION}`, ...(banner ? { banner: `${banner.replace(/^\n/, '').replace(/\r?\n/g, '\r\n')}\r\n` } : {}) });
      server.on('connection', (client: Connection, info: ClientInfo) => this.onClient(client, info));
      server.on('error', (err: Error) => this.deps.log(`ssh: ${err.message}`));
      this.ssh = server;
    }
  }

  async stop(): Promise<void> {
    const net = this.net;
    this.net = undefined;
    this.ssh = undefined;
    this.keysInUse = '';
    for (const c of this.conns) c.sock.destroy();
    this.conns.clear();
    if (net) await new Promise<void>((resolve) => net.close(() => resolve()));
  }

  /**
   * The vty a new session would get: the lowest free one, unless its `session-limit` is
   * reached (counted over the vtys in use that carry a limit: `line vty 0 15` may have
   * split into several blocks that all got the same setting).
   */
  private freeVty(cfg: Config): number | undefined {
    const limited = [...this.vtysInUse].filter((v) => lineConfigFor(cfg, 'vty', v)?.sessionLimit !== undefined).length;
    return configuredVtys(cfg).find((n) => {
      if (this.vtysInUse.has(n)) return false;
      const limit = lineConfigFor(cfg, 'vty', n)?.sessionLimit;
      return limit === undefined || limited < limit;
    });
  }

  private accept(sock: Socket): void {
    sock.on('error', () => sock.destroy());
    const ip = (sock.remoteAddress ?? '').replace(/^::ffff:/, '');
    const cfg = this.deps.config();
    if (this.ssh) this.rebuild(this.deps.hostKeys());
    const vty = this.freeVty(cfg);
    const quiet = this.deps.guard.quietLeftMs() > 0;
    const line = lineConfigFor(cfg, 'vty', vty ?? 0);
    const transports = line?.transportInput;
    const sshAllowed = !transports || transports.includes('ssh') || transports.includes('all');
    if (!this.ssh || quiet || vty === undefined || !sshAllowed || !accessClassPermits(cfg, line?.accessClassIn, ip)) {
      this.counters.refused++;
      this.deps.log(`ssh: connection from ${ip} refused (${quiet ? 'login quiet mode' : vty === undefined ? 'no free vty' : !sshAllowed ? 'transport input' : 'access-class'})`);
      sock.destroy();
      return;
    }
    const conn: Conn = { sock, ip, authenticated: false, privilege: 1, failures: 0 };
    this.conns.add(conn);
    this.boundPreauth(conn);
    conn.timer = setTimeout(() => {
      if (!conn.authenticated) sock.destroy();
    }, cfg.ssh.timeoutSec * 1000);
    conn.timer.unref();
    sock.once('close', () => {
      clearTimeout(conn.timer);
      this.conns.delete(conn);
    });
    this.ssh.injectSocket(sock);
  }

  /**
   * Keeps connections that never authenticate from filling the box: past the per-source or
   * the total bound, the oldest unauthenticated one (from that source first) is dropped,
   * so a newcomer, the administrator among them, always gets a turn.
   */
  private boundPreauth(conn: Conn): void {
    const pending = [...this.conns].filter((c) => !c.authenticated);
    const sameSource = pending.filter((c) => c.ip === conn.ip);
    const victim = sameSource.length > MAX_PREAUTH_PER_SOURCE ? sameSource[0] : pending.length > MAX_PREAUTH ? pending[0] : undefined;
    if (victim && victim !== conn) {
      this.counters.evicted++;
      victim.sock.destroy();
      this.conns.delete(victim);
    }
  }

  private connOf(client: Connection): Conn | undefined {
    const sock = (client as unknown as { _sock?: Socket })._sock;
    for (const c of this.conns) if (c.sock === sock) return c;
    return undefined;
  }

  private onClient(client: Connection, info: ClientInfo): void {
    const conn = this.connOf(client) ?? { sock: undefined as unknown as Socket, ip: info.ip, authenticated: false, privilege: 1, failures: 0 };
    client.on('error', (err: Error) => this.deps.log(`ssh: ${conn.ip}: ${err.message}`));
    client.on('handshake', (neg: NegotiatedAlgorithms) => { conn.algorithms = neg; });
    client.on('authentication', (ctx: AuthContext) => this.authenticate(conn, client, ctx));
    client.on('ready', () => {
      conn.authenticated = true;
      clearTimeout(conn.timer);
    });
    client.on('session', (accept) => {
      const session = accept();
      let pty: PseudoTtyInfo | undefined;
      session.on('pty', (ok, _no, info) => { pty = info; ok?.(); });
      session.on('window-change', (ok) => ok?.());
      session.on('env', (ok) => ok?.());
      session.on('shell', (ok) => { this.shell(conn, ok(), pty); });
      session.on('exec', (ok, _no, info) => {
        const scp = /^scp\s+(?:-[a-zA-Z]+\s+)*-t\s+(?:--\s+)?(.+)$/.exec(info.command);
        if (scp && conn.privilege >= 15) this.scpSink(ok(), scp[1]!.trim());
        else void this.exec(conn, ok(), info.command, pty !== undefined);
      });
      session.on('sftp', (ok, no) => {
        if (conn.privilege < 15) return no?.();
        serveSftp(ok(), this.deps.flash, this.deps.log);
      });
      session.on('subsystem', (_ok, no) => no?.());
    });
  }

  private authenticate(conn: Conn, client: Connection, ctx: AuthContext): void {
    const cfg = this.deps.config();
    const line = lineConfigFor(cfg, 'vty', this.freeVty(cfg) ?? 0);
    const methods: Array<'password' | 'publickey' | 'keyboard-interactive'> = ['publickey', 'password', 'keyboard-interactive'];
    const who = { user: ctx.username, source: conn.ip, port: this.port };
    const accept = (user: string, privilege: number): void => {
      if (this.deps.guard.quietLeftMs() > 0) {
        ctx.reject([]);
        client.end();
        return;
      }
      conn.user = user;
      conn.privilege = privilege;
      this.deps.guard.success(cfg, who);
      ctx.accept();
    };
    const fail = (): void => {
      conn.failures++;
      this.counters.authFailures++;
      this.deps.guard.failure(cfg, who);
      if (conn.failures >= Math.max(1, cfg.ssh.authRetries) || this.deps.guard.quietLeftMs() > 0) {
        ctx.reject([]);
        client.end();
        return;
      }
      ctx.reject(methods);
    };
    const checkPassword = (password: string): void => {
      const r = checkLogin(cfg, line, 'vty', ctx.username, password);
      if (r.ok) accept(ctx.username, r.privilege);
      else fail();
    };
    switch (ctx.method) {
      case 'none':
        if (loginNeed(cfg, line, 'vty') === 'none') accept(ctx.username, loginPrivilege(cfg, line, ctx.username));
        else ctx.reject(methods);
        return;
      case 'password':
        checkPassword(ctx.password);
        return;
      case 'keyboard-interactive':
        ctx.prompt([{ prompt: 'Password: ', echo: false }], (answers) => checkPassword(answers[0] ?? ''));
        return;
      case 'publickey': {
        const hash = keyHash(ctx.key.data);
        const known = cfg.ssh.pubkeyUsers[ctx.username]?.keys.some((k) => k.hash === hash);
        if (!known) {
          ctx.reject(methods); // not a failure: clients offer each key they hold
          return;
        }
        if (!ctx.signature || !ctx.blob) {
          ctx.accept(); // "this key would do": the client signs next
          return;
        }
        const key = ssh2.utils.parseKey(ctx.key.data);
        const parsed = key instanceof Error ? undefined : Array.isArray(key) ? key[0] : key;
        if (parsed?.verify(ctx.blob, ctx.signature, ctx.hashAlgo)) accept(ctx.username, loginPrivilege(cfg, line, ctx.username));
        else fail();
        return;
      }
      default:
        ctx.reject(methods);
    }
  }

  /** Takes a vty for a session; undefined when every configured vty is busy. */
  private takeVty(): number | undefined {
    const vty = this.freeVty(this.deps.config());
    if (vty !== undefined) this.vtysInUse.add(vty);
    return vty;
  }

  private origin(conn: Conn, vty: number, transport: SessionOrigin['transport']): SessionOrigin {
    const alg = conn.algorithms;
    return {
      line: `vty ${vty}`,
      transport,
      user: conn.user,
      privilege: conn.privilege,
      location: conn.ip,
      ssh: alg ? { version: '2.0', cipher: alg.cs.cipher, hmac: alg.cs.mac || 'aead' } : undefined,
    };
  }

  private shell(conn: Conn, channel: ServerChannel, pty: PseudoTtyInfo | undefined): void {
    const vty = this.takeVty();
    if (vty === undefined) {
      channel.end('% All vty lines are busy\r\n');
      return;
    }
    this.counters.sessions++;
    const [mine, theirs] = duplexPair();
    this.deps.serve(theirs, this.origin(conn, vty, 'ssh'));
    const terminal: Terminal = {
      // The client's terminal is raw: line ends need CR LF. Without a pty (a pipe) plain LF.
      crlf: pty !== undefined,
      interactive: pty !== undefined,
      write: (t) => { if (channel.writable) channel.write(t); },
      onData: (cb) => { channel.on('data', (d: Buffer) => cb(d.toString('latin1'))); },
      onEnd: (cb) => { channel.on('end', cb); },
    };
    let ended = false;
    const con = new Console({
      socketPath: '',
      connect: () => mine,
      terminal,
      line: `vty ${vty}`,
      exitOnLogout: true,
      onQuit: () => {
        if (ended) return;
        ended = true;
        this.vtysInUse.delete(vty);
        if (channel.writable) {
          channel.exit(0);
          channel.end();
        }
      },
    });
    channel.on('close', () => con.quit());
    con.start().catch(() => con.quit());
  }

  /** `ssh box show version`: one command, its output, exit. */
  private async exec(conn: Conn, channel: ServerChannel, command: string, pty: boolean): Promise<void> {
    const vty = this.takeVty();
    if (vty === undefined) {
      channel.stderr.write('% All vty lines are busy\n');
      channel.exit(1);
      channel.end();
      return;
    }
    this.counters.sessions++;
    const [mine, theirs] = duplexPair();
    this.deps.serve(theirs, this.origin(conn, vty, 'exec'));
    const client = new RpcClient();
    const eol = (t: string) => (pty ? t.replace(/\r?\n/g, '\r\n') : t);
    client.onEvent = (ev: Event) => {
      if (ev.event === 'output' || ev.event === 'log') channel.write(eol(ev.text));
      // Nobody answers questions on an exec channel: the default answer.
      if (ev.event === 'ask') {
        channel.write(eol(`${ev.prompt}\n`));
        client.notify('answer', { text: '' });
      }
    };
    client.attach(mine);
    channel.on('close', () => client.close());
    try {
      await client.call<SessionState>('open', { line: `vty ${vty}` });
      await client.call<SessionState>('exec', { text: command });
      if (channel.writable) {
        channel.exit(0);
        channel.end();
      }
    } catch {
      if (channel.writable) {
        channel.exit(1);
        channel.end();
      }
    } finally {
      client.close();
      this.vtysInUse.delete(vty);
    }
  }

  /**
   * `scp -O file box:name`: the legacy scp sink protocol (`scp -t`). One `C` record per file,
   * written to flash when complete; anything else is refused with an error record.
   */
  private scpSink(channel: ServerChannel, target: string): void {
    const dest = target.replace(/^['"]|['"]$/g, '').replace(/^\/+/, '').replace(/^flash:\/?/i, '').replace(/^\.$/, '');
    let buf = Buffer.alloc(0);
    let want: { name: string; size: number } | undefined;
    const fail = (msg: string) => {
      channel.write(`\x01scp: ${msg}\n`);
      channel.exit(1);
      channel.end();
    };
    channel.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (!want) {
          const nl = buf.indexOf(0x0a);
          if (nl < 0) return;
          const line = buf.subarray(0, nl).toString('latin1');
          buf = buf.subarray(nl + 1);
          if (line.startsWith('T')) { channel.write('\0'); continue; } // times: ignored
          if (line === 'E') { channel.write('\0'); continue; }
          const m = /^C[0-7]{4} (\d+) (.+)$/.exec(line);
          if (!m) return fail('protocol error');
          const name = dest === '' ? m[2]! : dest;
          const size = Number(m[1]);
          if (!validFlashName(name)) return fail(`${name}: invalid flash file name`);
          if (size > MAX_SFTP_FILE) return fail(`${name}: file too large for flash`);
          want = { name, size };
          channel.write('\0');
          continue;
        }
        if (buf.length < want.size + 1) return;
        this.deps.flash.write(want.name, buf.subarray(0, want.size));
        this.deps.log(`scp: wrote flash:${want.name} (${want.size} bytes)`);
        buf = buf.subarray(want.size + 1);
        want = undefined;
        channel.write('\0');
      }
    });
    channel.on('end', () => {
      channel.exit(want ? 1 : 0);
      channel.end();
    });
    channel.write('\0');
  }

  /** Live SSH connections for `show ssh` (authenticated ones). */
  connections(): Array<{ ip: string; user?: string; algorithms?: NegotiatedAlgorithms }> {
    return [...this.conns].filter((c) => c.authenticated).map((c) => ({ ip: c.ip, user: c.user, algorithms: c.algorithms }));
  }
}
