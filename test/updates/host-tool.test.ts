// `rampart image ...` on a host: build and verify a signed image, build the factory disk
// and write it onto a target with read-back, and push an update to a box over SSH (a sim
// box's SSH server on loopback: SFTP upload into flash:, then `upgrade` in an exec channel).
import t from 'tap';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes, createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simBoard } from '../../board/sim.js';
import { VM_DISK } from '../../board/vm.js';
import { Daemon } from '../../firmware/daemon/daemon.js';
import { generateSigningKey } from '../../firmware/mgmt/update/image-build.js';
import { factoryDiskMissing } from '../../firmware/mgmt/update/factory-disk.js';
import { decodeGrubEnv } from '../../firmware/mgmt/update/grub-env.js';
import { imageTool, pushUpdate } from '../../firmware/mgmt/update/host-tool.js';
import { ScriptedConsole } from '../lib/daemon-client.js';

const dir = mkdtempSync(join(tmpdir(), 'rampart-hosttool-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const keys = join(dir, 'keys');
mkdirSync(keys);
const key = generateSigningKey(dir, 'release');
copyFileSync(key.publicPath, join(keys, 'release.pub'));
writeFileSync(join(dir, 'kernel'), randomBytes(200_000));
writeFileSync(join(dir, 'rootfs'), randomBytes(1_500_000));
const opts = (o: Record<string, string | string[]>) => new Map(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));
const img = join(dir, 'fw.img');

t.test('build and verify', async (t) => {
  t.equal(await imageTool('build', [], opts({ kernel: join(dir, 'kernel'), rootfs: join(dir, 'rootfs'), version: '50.0.0', board: ['sim', 'vm'], key: key.privatePath, cmdline: 'console=ttyS0', out: img }), VM_DISK), 0);
  t.equal(await imageTool('verify', [img], opts({ keys, board: 'vm' }), VM_DISK), 0);
  await t.rejects(imageTool('verify', [img], opts({ keys: join(dir, 'none'), board: 'vm' }), VM_DISK), /unknown key/, 'no trusted key in that folder');
});

t.test('factory disk: partition table, GRUB, slot A holds the image, the environment names it', { skip: factoryDiskMissing() ?? false }, async (t) => {
  const disk = join(dir, 'disk.img');
  t.equal(await imageTool('disk', [], opts({ image: img, out: disk, 'trial-sec': '120' }), VM_DISK), 0);
  const d = readFileSync(disk);
  t.equal(d.readUInt16LE(510), 0xaa55, 'MBR signature');
  t.equal(d[446], 0x80, 'boot partition active');
  const lba = (i: number) => d.readUInt32LE(446 + 16 * i + 8) * 512;
  t.equal(lba(1), VM_DISK.slotA.startMiB * 1024 * 1024);
  const image = readFileSync(img);
  t.ok(d.subarray(lba(1), lba(1) + image.length).equals(image), 'slot A is the image byte for byte');
  t.ok(d.subarray(lba(2), lba(2) + 4096).every((b) => b === 0), 'slot B empty');
  t.ok(d.subarray(512, 1024).includes(Buffer.from('GRUB')) || d.subarray(0, 440).includes(Buffer.from('GRUB')), 'GRUB boot code and core image');
  // the environment block inside the ext2 boot partition
  const envAt = d.indexOf('# GRUB Environment Block\n', lba(0));
  t.ok(envAt > lba(0) && envAt < lba(1));
  const env = decodeGrubEnv(d.subarray(envAt, envAt + 1024));
  t.equal(env.A_GOOD, '1');
  t.equal(env.TRIAL_SEC, '120');
  t.match(env.A_KERNEL!, /^\d+\+\d+$/);
  const [first, count] = env.A_KERNEL!.split('+').map(Number);
  t.ok(d.subarray(lba(1) + first! * 512, lba(1) + first! * 512 + 200_000).equals(readFileSync(join(dir, 'kernel'))), 'the kernel blocklist points at the kernel');
  t.equal(count, Math.ceil(200_000 / 512));
  const target = join(dir, 'target.img');
  t.equal(await imageTool('write', [disk, target], opts({}), VM_DISK), 0);
  t.equal(statSync(target).size, d.length);
  t.equal(createHash('sha256').update(readFileSync(target)).digest('hex'), createHash('sha256').update(d).digest('hex'));
});

t.test('push an update to a box over SSH', async (t) => {
  const state = join(dir, 'box');
  process.env.RAMPART_TRUSTED_KEYS = keys;
  const port = 20000 + Math.floor(Math.random() * 20000);
  const sock = join(state, 'run', 'rampart.sock');
  const d = new Daemon({ board: simBoard({ stateDir: state }), socketPath: sock, services: [], sshPort: port, sshHost: '127.0.0.1' });
  await d.start();
  t.teardown(() => d.stop());
  const c = await ScriptedConsole.open(sock);
  t.teardown(() => c.close());
  for (const line of ['enable', 'configure terminal', 'ip domain name example.com', 'username admin privilege 15 secret Adm1nPass', 'line vty 0 4', 'login local', 'exit', 'crypto key generate rsa modulus 2048', 'end']) await c.run(line);
  for (let i = 0; i < 50 && !d.ssh.enabled; i++) await new Promise((r) => setTimeout(r, 100));
  let said = '', upload = '';
  const code = await pushUpdate(img, `admin@127.0.0.1:${port}`, { password: 'Adm1nPass', out: (s) => { said += s; }, progress: (s) => { upload += s; } });
  t.equal(code, 0, 'upload and upgrade succeeded');
  t.match(upload, /upload fw\.img: 100% \((\d+)\/\1 bytes\)/, 'upload progress');
  t.match(said, /Writing the standby slot \((\d+) bytes\):[\d% ]* 100% \(\1 bytes\) done/, 'install progress over SSH');
  t.match(await c.run('show boot'), /^B\s+no\s+yes\s+trial\s+3\s+50\.0\.0/m);
  t.ok(readFileSync(join(state, 'flash', 'fw.img')).equals(readFileSync(img)), 'the image is on flash:');
});
