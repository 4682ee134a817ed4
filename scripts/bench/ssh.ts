// SSH: full connections per second from the OpenSSH client in a namespace, each a new TCP
// connection, key exchange, public-key login and one command, one after another:
//   ssh-exec-rampart     `ssh admin@box show version` against the box's SSH server (ssh2)
//   ssh-login-rampart    `ssh -tt` to the box's prompt and `exit`
//   ssh-exec-openssh     `ssh root@box true` against OpenSSH's sshd on the same namespace
// ratio ssh-exec-vs-openssh = Rampart exec rate / sshd exec rate (goal >= 0.5).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { hasCommand, isRoot } from '../../test/lib/netns.js';
import { BOX_IP, SshBox } from '../../test/mgmt/ssh-box.js';

export const meta = { description: 'SSH exec and login rates: Rampart (ssh2) against OpenSSH sshd', needsRoot: true };

interface Ctx { seconds: number; report(name: string, value: number, unit: string): void; ratio(name: string, value: number): void; log(...msg: unknown[]): void }

const MAX_ROUNDS = 300;

async function rate(ctx: Ctx, once: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  let n = 0;
  let failures = 0;
  while (performance.now() - t0 < ctx.seconds * 1000 && n < MAX_ROUNDS) {
    if (await once()) n++;
    else if (++failures > 3) throw new Error('connections keep failing');
  }
  return n / ((performance.now() - t0) / 1000);
}

export async function run(ctx: Ctx): Promise<void> {
  if (!isRoot() || !hasCommand('sshd') || !hasCommand('ssh')) {
    ctx.log('ssh bench needs root, ssh and sshd (openssh-client, openssh-server)');
    return;
  }
  const box = await SshBox.create('bn-ssh');
  try {
    await box.baseline();
    const key = join(box.lab.dir, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const pub = readFileSync(`${key}.pub`, 'utf8').trim();
    await box.configure(['ip ssh pubkey-chain', 'username admin', 'key-string', pub.split(' ')[1]!, 'exit', 'exit', 'exit']);

    // OpenSSH's sshd in the box's namespace on port 2222, same key type, same client key.
    const dir = join(box.lab.dir, 'sshd');
    mkdirSync(dir, { recursive: true });
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_ed25519')]);
    writeFileSync(join(dir, 'authorized_keys'), `${pub}\n`);
    chmodSync(join(dir, 'authorized_keys'), 0o600);
    writeFileSync(join(dir, 'sshd_config'), [
      `ListenAddress ${BOX_IP}:2222`, `HostKey ${join(dir, 'host_ed25519')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no', 'PermitRootLogin prohibit-password', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no',
      'UsePAM no', 'UseDNS no', `PidFile ${join(dir, 'sshd.pid')}`, 'PrintMotd no', 'PrintLastLog no', '',
    ].join('\n'));
    if (!existsSync('/run/sshd')) mkdirSync('/run/sshd', { recursive: true }); // sshd's privilege-separation directory
    const sshd = box.lab.spawn('box', ['/usr/sbin/sshd', '-D', '-e', '-f', join(dir, 'sshd_config')], { name: 'sshd' });
    await new Promise((r) => setTimeout(r, 500));
    if (!sshd.running) throw new Error(`sshd did not start: ${sshd.output}`);

    const base = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'IdentitiesOnly=yes',
      '-o', 'PasswordAuthentication=no', '-o', 'KbdInteractiveAuthentication=no', '-i', key];
    const exec = async (argv: string[], expect: RegExp): Promise<boolean> => {
      const r = await box.client(['ssh', ...base, ...argv], 20_000);
      return r.code === 0 && expect.test(r.stdout);
    };
    // Warm both servers once (first connection pays for page-ins and JIT).
    await exec([`admin@${BOX_IP}`, 'show version'], /Version/);
    await exec(['-p', '2222', `root@${BOX_IP}`, 'echo ok'], /ok/);

    const rampart = await rate(ctx, () => exec([`admin@${BOX_IP}`, 'show version'], /Version/));
    ctx.report('ssh-exec-rampart', rampart, 'connections/s');
    const openssh = await rate(ctx, () => exec(['-p', '2222', `root@${BOX_IP}`, 'true'], /^$/));
    ctx.report('ssh-exec-openssh', openssh, 'connections/s');
    ctx.ratio('ssh-exec-vs-openssh', rampart / openssh);
    const login = await rate(ctx, async () => {
      const r = await box.ssh(undefined, { identity: key, args: ['-tt'], input: 'exit\r', timeoutMs: 20_000 });
      return /R1#/.test(r.stdout);
    });
    ctx.report('ssh-login-rampart', login, 'logins/s');
    await sshd.stop();
  } finally {
    await box.lab.destroy();
  }
}
