// Lines and login policy with the real OpenSSH client: AAA method lists over SSH,
// access-class refusing another source, transport input none, session-limit,
// exec-timeout closing an idle shell, login block-for quiet mode with %SEC_LOGIN
// messages, banners, show line, the console's own login, and bounded unauthenticated
// connections that do not keep the administrator out.
import t from 'tap';
import { hasCommand, isRoot } from '../lib/netns.js';
import { ScriptedConsole } from '../lib/daemon-client.js';
import { BOX_IP, OTHER_IP, SshBox } from './ssh-box.js';

const why = !isRoot() ? 'needs root: network namespaces' : !hasCommand('sshpass') || !hasCommand('ssh') ? 'needs openssh-client and sshpass (scripts/ensure.mjs installs them as root)' : undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (why) {
  t.test('lines and login policy', { skip: why }, () => {});
} else {
  let box: SshBox;
  t.before(async () => {
    box = await SshBox.create('mg-line');
    await box.baseline();
  });
  t.teardown(async () => { await box?.lab.destroy(); });

  t.test('aaa new-model: exec authorization decides the privilege, as on IOS', async (t) => {
    await box.configure(['aaa new-model', 'aaa authentication login default local']);
    t.equal((await box.ssh('show privilege')).stdout.trim(), 'Current privilege level is 1', 'no exec authorization: the line level');
    await box.configure(['aaa authorization exec default local']);
    t.equal((await box.ssh('show privilege')).stdout.trim(), 'Current privilege level is 15', 'exec authorization: the user level');
    await box.configure(['aaa authentication login VTYPW line', 'line vty 0 15', 'password Vty-Pw', 'login authentication VTYPW']);
    t.equal((await box.ssh('show privilege', { user: 'whoever', password: 'Vty-Pw' })).code, 0, 'a named list with the line password');
    await box.configure(['line vty 0 15', 'no login authentication', 'no aaa new-model']);
  });

  t.test('access-class refuses another source address; transport input none refuses all', async (t) => {
    await box.configure(['access-list 5 permit host 10.77.0.2', 'line vty 0 15', 'access-class 5 in']);
    t.equal((await box.ssh('show privilege')).code, 0, 'the permitted address logs in');
    const other = await box.ssh('show privilege', { from: OTHER_IP });
    t.not(other.code, 0);
    t.match(other.stderr, /closed|reset|refused/i, 'the other address is cut off before the handshake');
    await box.configure(['line vty 0 15', 'no access-class', 'transport input none']);
    t.not((await box.ssh('show privilege')).code, 0, 'transport input none: no SSH');
    await box.configure(['line vty 0 15', 'transport input ssh']);
    t.equal((await box.ssh('show privilege')).code, 0, 'transport input ssh: SSH again');
  });

  t.test('session-limit and vty allocation', async (t) => {
    await box.configure(['line vty 0 15', 'session-limit 1']);
    const a = box.shell();
    t.teardown(() => a.kill());
    await a.expect(/R1#$/, 20_000);
    const second = await box.ssh('show privilege');
    t.not(second.code, 0, 'a second session past the limit is refused');
    await a.kill();
    await sleep(300);
    await box.configure(['line vty 0 15', 'no session-limit']);
    t.equal((await box.ssh('show privilege')).code, 0);
  });

  t.test('exec-timeout closes an idle SSH shell', async (t) => {
    await box.configure(['line vty 0 15', 'exec-timeout 0 2']);
    const s = box.shell();
    t.teardown(() => s.kill());
    await s.expect(/R1#$/, 20_000);
    const exited = await Promise.race([
      new Promise<boolean>((resolve) => s.child.on('exit', () => resolve(true))),
      sleep(15_000).then(() => false),
    ]);
    t.ok(exited, 'the idle session was closed by the box');
    await box.configure(['line vty 0 15', 'exec-timeout 10 0']);
  });

  t.test('banners and show line', async (t) => {
    await box.configure(['banner login #Authorized access only#', 'banner motd ^C', 'Maintenance tonight', '^C', 'banner exec $Welcome to R1$']);
    const s = box.shell({ logLevel: 'INFO' });
    t.teardown(() => s.kill());
    const text = await s.expect(/R1#$/, 20_000);
    t.match(text, /Authorized access only/, 'the login banner comes before authentication');
    t.match(text, /Maintenance tonight[\s\S]*Welcome to R1[\s\S]*R1#$/, 'motd and exec banner before the prompt');
    s.type('show line\r');
    const lines = await s.expect(/R1#$/);
    t.match(lines, /^\*\s+2\s+2 VTY\s/m, 'the vty in use is marked');
    t.match(lines, /^[ *]\s+0\s+0 CTY/m);
    const run = await box.con.run('show running-config | include banner');
    t.match(run, /^banner exec \^CWelcome to R1\^C$/m);
    t.match(run, /^banner motd \^C$/m, 'a multi-line banner keeps its lines');
    await box.configure(['no banner login', 'no banner motd', 'no banner exec']);
  });

  t.test('login block-for: quiet mode after failures, logged; the console still works', async (t) => {
    await box.configure(['login block-for 5 attempts 3 within 30', 'login on-failure log', 'login on-success log']);
    for (let i = 0; i < 3; i++) await box.ssh('show privilege', { password: `wrong-${i}` });
    const blocked = await box.ssh('show privilege');
    t.not(blocked.code, 0, 'the right password is refused in quiet mode');
    t.match(await box.con.run('show privilege'), /15/, 'the console still works');
    // The daemon's trace (RAMPART_DEBUG) carries every system message.
    const log = box.proc.output;
    t.match(log, /%SEC_LOGIN-4-LOGIN_FAILED: Login failed \[user: admin\] \[Source: 10\.77\.0\.2\] \[localport: 22\]/);
    t.match(log, /%SEC_LOGIN-1-QUIET_MODE_ON/);
    t.notMatch(log, /wrong-|Adm1nPass/, 'no password in the log');
    await sleep(5500);
    t.equal((await box.ssh('show privilege')).code, 0, 'after the block time logins work again');
    t.match(box.proc.output, /%SEC_LOGIN-5-LOGIN_SUCCESS: Login Success \[user: admin\]/);
    await box.configure(['no login block-for']);
  });

  t.test('200 connections that never authenticate do not keep the administrator out', async (t) => {
    // 200 TCP connections from another address that say nothing and stay open.
    const flood = box.lab.spawn('cli', ['sh', '-c', `for i in $(seq 1 200); do (sleep 20 | socat -u - TCP:${BOX_IP}:22,bind=${OTHER_IP} >/dev/null 2>&1 &); done; echo spawned; sleep 25`], { name: 'flood' });
    t.teardown(() => flood.stop());
    for (let i = 0; i < 100 && !flood.output.includes('spawned'); i++) await sleep(100);
    await sleep(1000);
    t.ok(box.proc.running);
    const r = await box.ssh('show privilege', { timeoutMs: 20_000 });
    t.equal(r.stdout.trim(), 'Current privilege level is 15', 'the administrator logs in during the flood');
  });

  t.test('the console asks for a login when line con 0 wants one', async (t) => {
    await box.configure(['line con 0', 'login local']);
    const c = await ScriptedConsole.openWithAnswers(box.socket, ['admin', 'Adm1nPass']);
    t.teardown(() => c.close());
    t.match(c.transcript, /User Access Verification\n\nUsername: Password: /);
    t.equal(c.state.prompt, 'R1#', 'logged in at the user level');
    t.match(await c.run('show users'), /^\*\s+0 con 0\s+admin/m);
    await t.rejects(ScriptedConsole.openWithAnswers(box.socket, ['admin', 'bad', 'admin', 'bad', 'admin', 'bad']), /Login failed/, 'three bad tries end the attempt');
    await c.run('configure terminal');
    await c.run('line con 0');
    await c.run('no login');
    await c.run('end');
  });
}
