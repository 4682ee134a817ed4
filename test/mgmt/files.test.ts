// Files on flash with the real OpenSSH client: scp (SFTP, Debian 12's default), scp -O
// (the legacy protocol), sftp both ways; dir, show flash:, copy, more, verify /sha256,
// delete; copy flash:FILE scp://user@host/path (to the box's own SFTP server here), and
// a privilege-1 user refused.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCommand, isRoot } from '../lib/netns.js';
import { BOX_IP, SshBox } from './ssh-box.js';

const why = !isRoot() ? 'needs root: network namespaces' : !hasCommand('sshpass') || !hasCommand('scp') ? 'needs openssh-client and sshpass (scripts/ensure.mjs installs them as root)' : undefined;
const OPTS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-o', 'PubkeyAuthentication=no'];

if (why) {
  t.test('files on flash', { skip: why }, () => {});
} else {
  let box: SshBox;
  t.before(async () => {
    box = await SshBox.create('mg-file');
    await box.baseline();
  });
  t.teardown(async () => { await box?.lab.destroy(); });

  const image = randomBytes(1_500_000);
  const sha = createHash('sha256').update(image).digest('hex');

  t.test('scp onto the box (SFTP and legacy), then dir, verify, copy, more, delete', async (t) => {
    const local = join(box.lab.dir, 'image.bin');
    writeFileSync(local, image);
    const up = await box.client(['sshpass', '-p', 'Adm1nPass', 'scp', ...OPTS, local, `admin@${BOX_IP}:image.bin`]);
    t.equal(up.code, 0, `scp (SFTP): ${up.stderr}`);
    const legacy = await box.client(['sshpass', '-p', 'Adm1nPass', 'scp', '-O', ...OPTS, local, `admin@${BOX_IP}:legacy.bin`]);
    t.equal(legacy.code, 0, `scp -O: ${legacy.stderr}`);
    const dir = await box.con.run('dir flash:');
    t.match(dir, /^Directory of flash:\/\n\n\s+1\s+-rw-\s+1500000\s+\w{3}\s+\d+ \d{4} \d\d:\d\d:\d\d \+00:00\s+image\.bin$/m);
    t.match(dir, /legacy\.bin/);
    t.match(dir, /\d+ bytes total \(\d+ bytes free\)/);
    const rows = (text: string) => text.split('\n').filter((l) => /-rw-/.test(l));
    t.same(rows(await box.con.run('show flash:')), rows(dir), 'show flash: lists the same');
    t.match(await box.con.run('verify /sha256 flash:image.bin'), new RegExp(`verify /sha256 \\(flash:image\\.bin\\) = ${sha}`));
    t.match(await box.con.run('verify /sha256 flash:legacy.bin'), new RegExp(sha), 'scp -O wrote the same bytes');
    t.match(await box.con.run(`verify /sha256 flash:image.bin ${'0'.repeat(64)}`), /%Error verifying/);
    t.match(await box.con.run('copy flash:image.bin flash:backup.bin', ''), /1500000 bytes copied/);
    t.match(await box.con.run('verify /sha256 flash:backup.bin'), new RegExp(sha));
    t.match(await box.con.run('copy running-config flash:run.cfg', ''), /bytes copied/);
    t.match(await box.con.run('more flash:run.cfg'), /^hostname R1$/m);
    t.equal(await box.con.run('delete flash:backup.bin', '', ''), 'Delete filename [backup.bin]? Delete flash:/backup.bin? [confirm]', 'IOS asks twice');
    t.notMatch(await box.con.run('dir'), /backup\.bin/, 'delete removed it');
    t.match(await box.con.run('more flash:../nvram/startup-config'), /Invalid argument/, 'no way out of flash:');
  });

  t.test('sftp lists and fetches; scp copies off the box', async (t) => {
    const batch = join(box.lab.dir, 'batch');
    const got = join(box.lab.dir, 'got.bin');
    writeFileSync(batch, `ls -l\nget image.bin ${got}\n`);
    const r = await box.client(['sshpass', '-p', 'Adm1nPass', 'sftp', ...OPTS, '-o', 'BatchMode=no', '-b', batch, `admin@${BOX_IP}`]);
    t.equal(r.code, 0, r.stderr);
    t.match(r.stdout, /image\.bin/);
    t.equal(createHash('sha256').update(readFileSync(got)).digest('hex'), sha, 'sftp get returns the same bytes');
    const down = join(box.lab.dir, 'down.cfg');
    const d = await box.client(['sshpass', '-p', 'Adm1nPass', 'scp', ...OPTS, `admin@${BOX_IP}:run.cfg`, down]);
    t.equal(d.code, 0, d.stderr);
    t.match(readFileSync(down, 'utf8'), /^hostname R1$/m);
  });

  t.test('copy flash:FILE scp://user@host/path', async (t) => {
    const out = await box.con.run(`copy flash:run.cfg scp://admin@${BOX_IP}/sent.cfg`, '', '', '', 'Adm1nPass');
    t.match(out, /Address or name of remote host \[10\.77\.0\.1\]\? Destination username \[admin\]\? Destination filename \[sent\.cfg\]\? Password: /);
    t.match(out, /bytes copied in/);
    t.notMatch(out, /Adm1nPass/, 'the password is not echoed');
    t.equal(await box.con.run('more flash:sent.cfg'), await box.con.run('more flash:run.cfg'), 'the file arrived (through the box\'s own SFTP server)');
    const bad = await box.con.run(`copy flash:run.cfg scp://admin@${BOX_IP}/x.cfg`, '', '', '', 'wrong');
    t.match(bad, /%Error writing scp:/);
  });

  t.test('a privilege-1 user gets no file transfer', async (t) => {
    const local = join(box.lab.dir, 'small.txt');
    writeFileSync(local, 'x');
    const r = await box.client(['sshpass', '-p', '0perPass', 'scp', ...OPTS, local, `oper@${BOX_IP}:small.txt`]);
    t.not(r.code, 0);
    t.notMatch(await box.con.run('dir'), /small\.txt/);
  });
}
