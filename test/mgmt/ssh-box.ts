// A Rampart box in a network namespace with its SSH server on port 22, and a client
// namespace on a veth beside it that runs the real OpenSSH client (`ssh`, `sshpass`,
// `scp`, `sftp`). The box is configured through a console on its unix socket.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, projectRoot, bundleForNode, type LabProcess, type RunResult } from '../lib/netns.js';
import { ScriptedConsole } from '../lib/daemon-client.js';
import { spawnOnPty, type PtyProgram } from '../lib/pty.js';

export const BOX_IP = '10.77.0.1';
export const CLIENT_IP = '10.77.0.2';
/** A second source address on the client, for access-class tests. */
export const OTHER_IP = '10.77.0.3';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let bundled: Promise<string> | undefined;
export function rampartBundle(): Promise<string> {
  bundled ??= bundleForNode(join(projectRoot(), 'firmware', 'entry.ts'));
  return bundled;
}

export interface SshOptions {
  user?: string;
  password?: string;
  /** Private key file: public-key login instead of a password. */
  identity?: string;
  /** Source address to bind (`ssh -b`). */
  from?: string;
  /** Extra ssh options. */
  args?: string[];
  /** ssh's LogLevel (ERROR by default; INFO shows the server's banner). */
  logLevel?: string;
  input?: string;
  timeoutMs?: number;
}

export class SshBox {
  proc!: LabProcess;
  con!: ScriptedConsole;
  readonly state: string;
  readonly socket: string;
  bin = '';

  private constructor(readonly lab: Lab) {
    this.state = join(lab.dir, 'box');
    this.socket = join(this.state, 'rampart.sock');
  }

  static async create(prefix: string): Promise<SshBox> {
    const lab = Lab.create(prefix);
    lab.addNamespace('box');
    lab.addNamespace('cli');
    lab.addVeth({ ns: 'box', ifname: 'wan0', addr: `${BOX_IP}/24` }, { ns: 'cli', ifname: 'eth0', addr: `${CLIENT_IP}/24` });
    lab.addAddress('cli', 'eth0', `${OTHER_IP}/24`);
    const box = new SshBox(lab);
    box.bin = await rampartBundle();
    await box.start();
    return box;
  }

  /** Starts (or restarts) the daemon on the same flash and opens a privileged console. */
  async start(): Promise<void> {
    mkdirSync(this.state, { recursive: true });
    this.proc = this.lab.spawn('box', [process.execPath, '--enable-source-maps', this.bin, 'daemon', '--board', 'sim', '--state', this.state,
      '--socket', this.socket, '--ssh-port', '22'], { name: 'box-rampart', env: { ...process.env, RAMPART_DEBUG: '1', RAMPART_REVERT_SPEEDUP: '60' } });
    for (let i = 0; i < 200; i++) {
      if (existsSync(this.socket)) {
        try {
          this.con = await ScriptedConsole.open(this.socket);
          break;
        } catch { /* not listening yet */ }
      }
      if (!this.proc.running) throw new Error(`daemon exited: ${this.proc.output}`);
      await sleep(50);
    }
    if (!this.con) throw new Error(`daemon did not start: ${this.proc.output}`);
    await this.con.run('enable');
    await this.con.run('terminal length 0');
  }

  async stop(): Promise<void> {
    this.con?.close();
    await this.proc.stop();
  }

  /** Runs configuration lines on the console; returns what they printed. */
  async configure(lines: string[], answers: Record<string, string> = {}): Promise<string> {
    let out = await this.con.run('configure terminal');
    for (const l of lines) out += await this.con.run(l, ...(answers[l] !== undefined ? [answers[l]!] : []));
    out += await this.con.run('end');
    return out;
  }

  /** The usual management setup: a domain, host keys, an admin user, vty login local. */
  async baseline(): Promise<string> {
    return this.configure([
      'hostname R1',
      'ip domain name example.com',
      'username admin privilege 15 secret Adm1nPass',
      'username oper secret 0perPass',
      'line vty 0 15',
      'login local',
      'crypto key generate rsa modulus 2048',
    ]);
  }

  private sshArgv(o: SshOptions): string[] {
    const argv = ['ssh', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', `LogLevel=${o.logLevel ?? 'ERROR'}`,
      '-o', 'ConnectTimeout=10', '-o', 'NumberOfPasswordPrompts=1'];
    if (o.identity) argv.push('-i', o.identity, '-o', 'PasswordAuthentication=no', '-o', 'KbdInteractiveAuthentication=no', '-o', 'IdentitiesOnly=yes');
    else argv.push('-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password');
    if (o.from) argv.push('-b', o.from);
    argv.push(...(o.args ?? []), `${o.user ?? 'admin'}@${BOX_IP}`);
    return o.identity || o.password === undefined ? argv : ['sshpass', '-p', o.password, ...argv];
  }

  /** `ssh admin@box COMMAND` from the client namespace. */
  async ssh(command: string | undefined, o: SshOptions = {}): Promise<RunResult> {
    const argv = [...this.sshArgv({ password: 'Adm1nPass', ...o }), ...(command !== undefined ? [command] : [])];
    if (o.input !== undefined) {
      const file = join(this.lab.dir, `stdin-${Math.random().toString(36).slice(2)}`);
      writeFileSync(file, o.input);
      return this.lab.exec('cli', ['sh', '-c', `exec "$@" < ${file}`, 'sh', ...argv], { timeoutMs: o.timeoutMs ?? 30_000 });
    }
    return this.lab.exec('cli', argv, { timeoutMs: o.timeoutMs ?? 30_000 });
  }

  /** An interactive shell on a real pty (`ssh -tt`), typed at like a user. */
  shell(o: SshOptions = {}): PtyProgram {
    const argv = this.sshArgv({ password: 'Adm1nPass', ...o, args: ['-tt', ...(o.args ?? [])] });
    const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    return spawnOnPty(`ip netns exec ${this.lab.nsName('cli')} ${quoted}`);
  }

  /** A command in the client namespace. */
  client(argv: string[], timeoutMs = 30_000): Promise<RunResult> {
    return this.lab.exec('cli', argv, { timeoutMs });
  }
}
