// Configuration safety over SSH: `configure terminal revert timer` rolls back a change that
// cut the operator off (the box runs with RAMPART_REVERT_SPEEDUP=60: a minute is a second),
// `configure confirm` keeps the change, `configure replace flash:FILE` swaps the whole
// configuration and leaves it untouched when the file has a failing line.
import t from 'tap';
import { hasCommand, isRoot } from '../lib/netns.js';
import { SshBox } from './ssh-box.js';

const why = !isRoot() ? 'needs root: network namespaces' : !hasCommand('sshpass') || !hasCommand('ssh') ? 'needs openssh-client and sshpass (scripts/ensure.mjs installs them as root)' : undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (why) {
  t.test('configuration safety', { skip: why }, () => {});
} else {
  let box: SshBox;
  t.before(async () => {
    box = await SshBox.create('mg-rev');
    await box.baseline();
  });
  t.teardown(async () => { await box?.lab.destroy(); });

  t.test('a change that breaks SSH is rolled back by the revert timer', async (t) => {
    const s = box.shell();
    t.teardown(() => s.kill());
    await s.expect(/R1#$/, 20_000);
    s.type('configure terminal revert timer 1\r');
    t.match(await s.expect(/R1\(config\)#$/), /Rollback Confirmed Change timer is set/);
    s.type('line vty 0 15\rtransport input none\rend\r');
    await s.expect(/R1#$/);
    await s.kill();
    t.not((await box.ssh('show privilege')).code, 0, 'SSH is cut off by the change');
    let back = false;
    for (let i = 0; i < 20 && !back; i++) {
      await sleep(500);
      back = (await box.ssh('show privilege')).code === 0;
    }
    t.ok(back, 'after the timer SSH works again');
    t.notMatch(await box.con.run('show running-config | include transport'), /transport input none/, 'the change is gone');
  });

  t.test('configure confirm keeps the change', async (t) => {
    await box.con.run('configure terminal revert timer 1');
    await box.con.run('hostname Kept');
    await box.con.run('end');
    t.equal(await box.con.run('configure confirm'), '');
    await sleep(1500);
    t.equal(box.con.state.prompt, 'Kept#');
    t.match(await box.con.run('show running-config | include hostname'), /hostname Kept/, 'no rollback after confirm');
    t.match(await box.con.run('configure confirm'), /No Rollback Confirmed Change pending/);
    await box.configure(['hostname R1']);
  });

  t.test('configure replace swaps the configuration; a bad file changes nothing', async (t) => {
    t.match(await box.con.run('copy running-config flash:base.cfg', ''), /bytes copied/);
    await box.configure(['hostname Changed', 'access-list 42 permit any', 'ip ssh time-out 30']);
    t.match(await box.con.run('configure replace flash:base.cfg force'), /Rollback Done/);
    const run = await box.con.run('show running-config');
    t.match(run, /^hostname R1$/m);
    t.notMatch(run, /access-list 42|time-out 30/, 'what the file lacks is removed');
    t.equal((await box.ssh('show privilege')).stdout.trim(), 'Current privilege level is 15', 'users from the file still log in');
    await box.configure(['hostname Before']);
    await box.con.run('copy running-config flash:bad.cfg', '');
    const bad = (await box.con.run('more flash:bad.cfg')).replace('hostname Before', 'hostname Before\nbogus command here');
    await box.con.run('configure terminal');
    await box.con.run('end');
    // Write the broken file through the box's own SFTP-less path: copy via a new flash file.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(`${box.state}/flash/bad.cfg`, bad);
    t.match(await box.con.run('configure replace flash:bad.cfg force'), /configure replace failed, the running configuration is unchanged:\nline \d+: bogus command here/);
    t.match(await box.con.run('show running-config | include hostname'), /hostname Before/);
    t.match(await box.con.run('configure replace flash:base.cfg', 'no'), /Enter Y if you are sure/);
    t.match(await box.con.run('show running-config | include hostname'), /hostname Before/, 'answering no changes nothing');
  });
}
