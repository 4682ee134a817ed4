// 20 SSH sessions at once (real OpenSSH clients on ptys) plus the console, each with its own
// user, privilege and mode: `show users` lists them all, every session's commands answer in
// that session only, configuration from many sessions at once loses nothing (IOS lets
// several sessions configure at once unless `configuration mode exclusive` is set), and
// malformed SSH input from one connection (garbage, a broken binary packet, a corrupted
// stream after login) closes only that connection: the daemon and the 20 sessions go on.
// Root only (namespaces).
import t from 'tap';
import { join } from 'node:path';
import { hasCommand, isRoot, projectRoot } from '../lib/netns.js';
import type { PtyProgram } from '../lib/pty.js';
import { BOX_IP, SshBox } from './ssh-box.js';

const why = !isRoot() ? 'needs root: network namespaces' : !hasCommand('sshpass') || !hasCommand('ssh') || !hasCommand('socat') ? 'needs openssh-client, sshpass and socat (scripts/ensure.mjs installs them as root)' : undefined;
const SESSIONS = 20;

interface Sess { s: PtyProgram; user: 'admin' | 'oper'; n: number; prompt: RegExp }

/** An ssh2 client that logs in, gets a prompt, then writes bytes that break the SSH stream. */
const CORRUPTER = `
const { Client } = require(${JSON.stringify(join(projectRoot(), 'node_modules', 'ssh2'))});
const c = new Client();
let done = false;
const finish = (code, why) => { if (done) return; done = true; console.log(why); process.exit(code); };
c.on('ready', () => c.shell((err, ch) => {
  if (err) finish(2, 'shell: ' + err.message);
  let out = '';
  ch.on('data', (d) => {
    out += d;
    if (/#\\s*$/.test(out) && !c.sentGarbage) {
      c.sentGarbage = true;
      // a packet whose length field is absurd, then noise: the stream cannot be decrypted
      c._sock.write(Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xf0]), Buffer.alloc(256, 0x41)]));
    }
  });
}));
c.on('close', () => finish(c.sentGarbage ? 0 : 3, c.sentGarbage ? 'closed after the garbage' : 'closed before the prompt'));
c.on('error', () => {});
setTimeout(() => finish(4, 'not closed in time'), 20000);
c.connect({ host: ${JSON.stringify(BOX_IP)}, port: 22, username: 'admin', password: 'Adm1nPass', readyTimeout: 15000 });
`;

if (why) {
  t.test('20 SSH sessions at once', { skip: why }, () => {});
} else {
  let box: SshBox;
  const open: Sess[] = [];
  t.before(async () => {
    box = await SshBox.create('mg-ses');
    await box.baseline();
    await box.configure(['line vty 0 30', 'login local', 'exec-timeout 0 0']);
  });
  t.teardown(async () => {
    await Promise.all(open.map((x) => x.s.kill()));
    await box?.lab.destroy();
  });

  t.test('20 sessions log in at once, each with its own user, privilege and mode', async (t) => {
    for (let i = 0; i < SESSIONS; i++) {
      const user = i % 2 === 0 ? 'admin' : 'oper';
      const s = box.shell({ user, password: user === 'admin' ? 'Adm1nPass' : '0perPass' });
      open.push({ s, user, n: i, prompt: user === 'admin' ? /R1#$/ : /R1>$/ });
    }
    const logins = await Promise.allSettled(open.map((x) => x.s.expect(x.prompt, 60_000)));
    t.equal(logins.filter((r) => r.status === 'fulfilled').length, SESSIONS, 'all 20 got their prompt');
    const users = await box.con.run('show users');
    t.equal((users.match(/^\s+\d+ vty \d+\s+admin\s/gm) ?? []).length, SESSIONS / 2, 'show users: 10 admin vtys');
    t.equal((users.match(/^\s+\d+ vty \d+\s+oper\s/gm) ?? []).length, SESSIONS / 2, 'show users: 10 oper vtys');
    t.match(users, /^\*\s+0 con 0\s/m, 'and the console, marked as the current session');
    // every session asks its own privilege at the same time
    const privs = await Promise.all(open.map(async (x) => {
      x.s.type('show privilege\r');
      return x.s.expect(x.prompt, 30_000);
    }));
    t.ok(privs.every((p, i) => p.includes(`Current privilege level is ${open[i]!.user === 'admin' ? 15 : 1}`)), 'each session has its own privilege level');
    const refused = await Promise.all(open.filter((x) => x.user === 'oper').map(async (x) => {
      x.s.type('configure terminal\r');
      return x.s.expect(x.prompt, 30_000);
    }));
    t.ok(refused.every((r) => /Invalid input|Unknown command/.test(r)), 'privilege-1 sessions cannot enter configuration mode');
  });

  t.test('ten sessions configure at once: every change lands, each keeps its mode', async (t) => {
    const admins = open.filter((x) => x.user === 'admin');
    await Promise.all(admins.map(async (x) => {
      x.s.type('configure terminal\r');
      await x.s.expect(/R1\(config\)#$/, 30_000);
      x.s.type(`interface Loopback${x.n + 100}\r`);
      await x.s.expect(/R1\(config-if\)#$/, 30_000);
    }));
    // all ten are in configuration mode at once (IOS's default: no exclusive lock)
    const modes = await Promise.allSettled(admins.map(async (x) => {
      x.s.type(`description session ${x.n}\r`);
      return x.s.expect(/R1\(config-if\)#$/, 30_000);
    }));
    t.equal(modes.filter((m) => m.status === 'fulfilled').length, admins.length, 'each session is still in its own interface sub-mode');
    await Promise.all(admins.map(async (x) => {
      x.s.type('end\r');
      await x.s.expect(/R1#$/, 30_000);
    }));
    const run = await box.con.run('show running-config | include ^interface Loopback1|description session');
    for (const x of admins) t.match(run, new RegExp(`interface Loopback${x.n + 100}\\n description session ${x.n}\\n`), `session ${x.n}'s change is there, under its own interface`);
  });

  t.test('configuration mode exclusive: one session configures, the others are told who holds the lock', async (t) => {
    await box.configure(['configuration mode exclusive auto']);
    const [first, ...rest] = open.filter((x) => x.user === 'admin');
    first!.s.type('configure terminal\r');
    t.match(await first!.s.expect(/R1\(config\)#$/, 30_000), /Configuration mode locked exclusively/, 'the first session takes the lock');
    const answers = await Promise.all(rest.map(async (x) => {
      x.s.type('configure terminal\r');
      return x.s.expect(/R1#$/, 30_000).catch(() => '');
    }));
    t.ok(answers.every((a) => /Configuration mode is locked by process '\d+' user 'admin' from terminal '\d+'\. Please try later\./.test(a)), 'the nine others are refused and stay in exec mode');
    first!.s.type('end\r');
    await first!.s.expect(/R1#$/, 30_000);
    rest[0]!.s.type('configure terminal\r');
    t.match(await rest[0]!.s.expect(/R1\(config\)#$/, 30_000), /locked exclusively/, 'after end another session gets it');
    rest[0]!.s.type('no configuration mode exclusive\rend\r');
    await rest[0]!.s.expect(/R1#$/, 30_000);
  });

  t.test('malformed SSH input from one connection never touches the others', async (t) => {
    const port = `TCP:${BOX_IP}:22`;
    // garbage, a version line followed by a broken binary packet, and an HTTP request
    await box.client(['sh', '-c', `head -c 50000 /dev/urandom | timeout 5 socat -u - ${port}`]);
    await box.client(['sh', '-c', `printf 'SSH-2.0-OpenSSH_9.2\\r\\n\\x7f\\xff\\xff\\xff\\x06\\x14broken' | timeout 5 socat - ${port}`]);
    await box.client(['sh', '-c', `printf 'SSH-2.0-OpenSSH_9.2\\r\\n\\0\\0\\0\\x0c\\x0a\\x14\\0\\0\\0\\0\\0\\0\\0\\0\\0\\0' | timeout 5 socat - ${port}`]);
    // a logged-in session whose encrypted stream is corrupted
    const r = await box.client([process.execPath, '-e', CORRUPTER], 40_000);
    t.equal(r.code, 0, `the corrupted session is closed by the box: ${r.stdout.trim()} ${r.stderr.trim().slice(-200)}`);
    t.ok(box.proc.running, 'the daemon is still running');
    const answers = await Promise.all(open.map(async (x) => {
      x.s.type('show clock\r');
      return x.s.expect(x.prompt, 30_000).then((o) => /\d\d:\d\d:\d\d/.test(o), () => false);
    }));
    t.equal(answers.filter(Boolean).length, SESSIONS, 'all 20 sessions still answer');
    const fresh = await box.ssh('show privilege');
    t.equal(fresh.stdout.trim(), 'Current privilege level is 15', 'and a new SSH session works');
  });

  t.test('sessions end cleanly', async (t) => {
    await Promise.all(open.map(async (x) => {
      x.s.type('exit\r');
      await new Promise<void>((resolve) => {
        if (x.s.child.exitCode !== null) return resolve();
        const timer = setTimeout(resolve, 15_000);
        x.s.child.on('exit', () => { clearTimeout(timer); resolve(); });
      });
    }));
    t.equal(open.filter((x) => x.s.child.exitCode === null).length, 0, 'every client exited after `exit`');
    let users = '';
    for (let i = 0; i < 20; i++) {
      users = await box.con.run('show users');
      if (!/vty/.test(users)) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    t.notMatch(users, /vty/, 'show users: only the console is left');
  });
}
