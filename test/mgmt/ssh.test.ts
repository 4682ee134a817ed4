// The SSH server with the real OpenSSH client in namespaces: no keys = no SSH, keys from
// `crypto key generate rsa` kept across a restart, password and public-key login, exec
// requests, interactive shells on a pty (several at once, each with its own mode, listed
// by `show users`), a piped shell, and garbage or truncated handshakes that leave the
// daemon serving.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCommand, isRoot } from '../lib/netns.js';
import { BOX_IP, SshBox } from './ssh-box.js';

const why = !isRoot() ? 'needs root: network namespaces' : !hasCommand('sshpass') || !hasCommand('ssh') ? 'needs openssh-client and sshpass (scripts/ensure.mjs installs them as root)' : undefined;
if (why) {
  t.test('SSH server', { skip: why }, () => {});
} else {
  let box: SshBox;
  t.before(async () => { box = await SshBox.create('mg-ssh'); });
  t.teardown(async () => { await box?.lab.destroy(); });

  t.test('no host keys: SSH is disabled and the port is closed', async (t) => {
    t.match(await box.con.run('show ip ssh'), /^SSH Disabled - version 2\.0\n%Please create RSA keys/);
    const r = await box.ssh('show version', { timeoutMs: 15_000 });
    t.not(r.code, 0);
    t.match(r.stderr, /refused/i);
    const out = await box.configure(['crypto key generate rsa modulus 2048']);
    t.match(out, /% Please define a domain-name first\./, 'IOS wants a domain name before naming the keys');
  });

  t.test('crypto key generate rsa enables SSH; exec prints and exits', async (t) => {
    const out = await box.baseline();
    t.match(out, /The name for the keys will be: R1\.example\.com[\s\S]*% Generating 2048 bit RSA keys[\s\S]*\[OK\]/);
    t.match(await box.con.run('show ip ssh'), /^SSH Enabled - version 2\.0/);
    const r = await box.ssh('show version');
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /^Rampart .*Version /);
    t.match(r.stdout, /R1 uptime is/);
    const priv = await box.ssh('show privilege');
    t.equal(priv.stdout.trim(), 'Current privilege level is 15', 'privilege 15 user gets 15');
    const oper = await box.ssh('show privilege', { user: 'oper', password: '0perPass' });
    t.equal(oper.stdout.trim(), 'Current privilege level is 1', 'a user without a level gets 1');
  });

  t.test('wrong passwords and unknown users are refused; the box keeps serving', async (t) => {
    const bad = await box.ssh('show version', { password: 'nope' });
    t.not(bad.code, 0);
    t.match(bad.stderr, /Permission denied/);
    const unknown = await box.ssh('show version', { user: 'mallory', password: 'x' });
    t.not(unknown.code, 0);
    const ok = await box.ssh('show privilege');
    t.equal(ok.code, 0);
  });

  t.test('public-key login from ip ssh pubkey-chain', async (t) => {
    const dir = box.lab.dir;
    for (const type of ['ed25519', 'rsa']) {
      const key = join(dir, `id_${type}`);
      execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-f', key, ...(type === 'rsa' ? ['-b', '2048'] : [])]);
      const pub = readFileSync(`${key}.pub`, 'utf8').trim().split(' ');
      // IOS wraps the key body over several lines; paste it that way.
      const body = pub[1]!.match(/.{1,72}/g)!;
      await box.configure(['ip ssh pubkey-chain', 'username admin', 'key-string', ...body, 'exit', 'exit', 'exit']);
      const r = await box.ssh('show privilege', { identity: key });
      t.equal(r.code, 0, `${type}: ${r.stderr}`);
      t.equal(r.stdout.trim(), 'Current privilege level is 15', `${type} key logs in`);
    }
    const run = await box.con.run('show running-config | section pubkey');
    t.match(run, /^ip ssh pubkey-chain\n {2}username admin\n {3}key-hash ssh-ed25519 [0-9A-F]{32}\n {3}key-hash ssh-rsa [0-9A-F]{32}$/m, 'keys are kept as IOS key-hash lines');
    const stranger = join(dir, 'id_stranger');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', stranger]);
    const r = await box.ssh('show privilege', { identity: stranger });
    t.not(r.code, 0, 'a key that is not in the chain is refused');
  });

  t.test('interactive shells on a pty: several at once, each with its own mode', async (t) => {
    const a = box.shell();
    const b = box.shell({ user: 'oper', password: '0perPass' });
    t.teardown(async () => { await a.kill(); await b.kill(); });
    await a.expect(/R1#$/, 20_000);
    await b.expect(/R1>$/, 20_000);
    a.type('conf t\r');
    await a.expect(/R1\(config\)#$/);
    a.type('hostname Edge\r');
    await a.expect(/Edge\(config\)#$/);
    b.type('configure terminal\r');
    const refused = await b.expect(/R1>$|Edge>$/);
    t.match(refused, /% Invalid input detected at '\^' marker\./, 'a privilege-1 user cannot enter configuration mode');
    b.type('show privilege\r');
    t.match(await b.expect(/Edge>$/), /Current privilege level is 1/);
    a.type('do show users\r');
    const users = await a.expect(/Edge\(config\)#$/);
    t.match(users, /^\*\s+\d+ vty \d+\s+admin\s+idle\s+\d\d:\d\d:\d\d 10\.77\.0\.2$/m, 'the current session is marked');
    t.match(users, /^ \s*\d+ vty \d+\s+oper\s+idle/m, 'the other shell is listed');
    t.match(users, /^ \s*0 con 0\s/m, 'the console is listed');
    // Line editing works over SSH as on the console (Ctrl-U, left arrow, insert).
    a.type('junk\x15end\r');
    await a.expect(/Edge#$/);
    a.type('show clok\x1b[Dc\r');
    t.match(await a.expect(/Edge#$/), /UTC/);
    a.type('terminal length 5\r');
    await a.expect(/Edge#$/);
    a.type('show running-config\r');
    await a.expect(/--More-- $/);
    a.type('q');
    await a.expect(/Edge#$/);
    t.pass('--More-- paging on an SSH pty');
    a.type('exit\r');
    await new Promise<void>((resolve) => a.child.on('exit', () => resolve()));
    t.pass('exit ends the SSH session');
    await box.configure(['hostname R1']);
  });

  t.test('what IOS automation sends over an SSH shell (Netmiko-style)', async (t) => {
    const a = box.shell();
    t.teardown(() => a.kill());
    await a.expect(/R1#$/, 20_000);
    for (const cmd of ['terminal length 0', 'terminal width 511', 'terminal width 512']) {
      a.type(`${cmd}\r`);
      t.notMatch(await a.expect(/R1#$/), /Invalid|%/, cmd);
    }
    a.type('show privilege\r');
    t.match(await a.expect(/R1#$/), /Current privilege level is 15/);
    a.type('copy running-config startup-config\r');
    await a.expect(/Destination filename \[startup-config\]\? $/);
    a.type('\r');
    t.match(await a.expect(/R1#$/), /Building configuration\.\.\.\n\[OK\]/);
    a.type('write memory\r');
    t.match(await a.expect(/R1#$/), /Building configuration\.\.\.\n\[OK\]/);
    // A configuration pasted at full speed: every line applied, in order.
    const acl = Array.from({ length: 300 }, (_, i) => `access-list 99 permit host 10.9.${Math.floor(i / 250)}.${(i % 250) + 1}`);
    a.type(`configure terminal\r${acl.join('\r')}\rhostname Pasted\rend\r`);
    await a.expect(/Pasted#$/, 60_000);
    a.type('show running-config | include access-list 99\r');
    const shown = await a.expect(/Pasted#$/, 20_000);
    const got = shown.split('\n').filter((l) => l.startsWith('access-list 99 '));
    t.same(got, acl.map((l) => l.replace('permit host ', 'permit ')), '300 pasted lines, none lost, none reordered');
    a.type('configure terminal\rno access-list 99\rhostname R1\rend\r');
    await a.expect(/R1#$/);
  });

  t.test('a shell without a pty runs piped commands', async (t) => {
    const r = await box.ssh(undefined, { input: 'terminal length 0\nshow privilege\nconfigure terminal\nhostname Piped\nend\nshow running-config | include ^hostname\nhostname R1\nconfigure terminal\nhostname R1\nend\n' });
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /Current privilege level is 15/);
    t.match(r.stdout, /^hostname Piped$/m);
  });

  t.test('garbage, truncated handshakes and dropped connections never stop the server', async (t) => {
    const port = `TCP:${BOX_IP}:22`;
    await box.client(['sh', '-c', `head -c 20000 /dev/urandom | timeout 5 socat -u - ${port}`]);
    await box.client(['sh', '-c', `printf 'SSH-2.0-OpenSSH_9.2\\r\\n\\0\\0\\0\\x10\\x06\\x14garbage' | timeout 5 socat - ${port}`]);
    await box.client(['sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 5 socat - ${port}`]);
    await box.client(['sh', '-c', `printf 'SSH-2.0-x\\r\\n' | timeout 3 socat - ${port}`]);
    // A client that is cut off in the middle of key exchange.
    await box.client(['timeout', '-s', 'KILL', '0.3', 'ssh', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', `x@${BOX_IP}`]);
    t.ok(box.proc.running, 'the daemon is still running');
    const r = await box.ssh('show privilege');
    t.equal(r.stdout.trim(), 'Current privilege level is 15', 'and still serves SSH');
  });

  t.test('host keys live on flash and survive a restart', async (t) => {
    const before = await box.con.run('show ip ssh');
    const scan = () => box.client(['sh', '-c', `ssh-keyscan -t ed25519,rsa ${BOX_IP} 2>/dev/null | sort`]);
    const fp1 = await scan();
    t.ok(fp1.stdout.includes('ssh-ed25519') && fp1.stdout.includes('ssh-rsa'), 'both host keys are offered');
    t.match(await box.con.run('write memory'), /\[OK\]/);
    await box.stop();
    await box.start();
    t.equal(await box.con.run('show ip ssh'), before, 'the same RSA key after the restart');
    t.equal((await scan()).stdout, fp1.stdout, 'the same host keys on the wire');
    t.equal((await box.ssh('show privilege')).stdout.trim(), 'Current privilege level is 15', 'saved users log in after the restart');
    t.notMatch(await box.con.run('show running-config'), /BEGIN|PRIVATE/, 'keys are not part of the configuration');
  });
}
