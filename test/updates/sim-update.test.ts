// Firmware update on the sim board (slots are files; the daemon plays GRUB with the same
// boot-counting rule, boot-selection.ts): refused images write nothing; `upgrade` writes
// the standby slot with progress, the next boot runs it on trial and marks it good when
// healthy; `upgrade rollback`; an image that never gets healthy is rolled back after its
// tries; startup-config survives. Power cuts during an install are modelled by snapshots
// of the slot and the environment taken at 10 points of the write.
import t from 'tap';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simBoard } from '../../board/sim.js';
import { Daemon } from '../../firmware/daemon/daemon.js';
import { buildSignedImage, generateSigningKey } from '../../firmware/mgmt/update/image-build.js';
import { selectBootSlot } from '../../firmware/mgmt/update/boot-selection.js';
import { decodeGrubEnv, encodeGrubEnv } from '../../firmware/mgmt/update/grub-env.js';
import { verifyImageFile } from '../../firmware/mgmt/update/image-verify.js';
import { SlotStore } from '../../firmware/mgmt/update/slot-store.js';
import { loadTrustedKeys } from '../../firmware/mgmt/update/trusted-keys.js';
import { buildInfo } from '../../firmware/lib/build-info.js';
import { ScriptedConsole } from '../lib/daemon-client.js';

const dir = mkdtempSync(join(tmpdir(), 'rampart-upd-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const keysDir = join(dir, 'trusted');
mkdirSync(keysDir);
const key = generateSigningKey(dir, 'test-release');
copyFileSync(key.publicPath, join(keysDir, 'test-release.pub'));
const stranger = generateSigningKey(dir, 'stranger');
process.env.RAMPART_TRUSTED_KEYS = keysDir;

const kernel = join(dir, 'kernel'), rootfs = join(dir, 'rootfs');
writeFileSync(kernel, randomBytes(300_000));
writeFileSync(rootfs, randomBytes(3_000_000));
const images = join(dir, 'images');
mkdirSync(images);
function image(name: string, over: Partial<Parameters<typeof buildSignedImage>[0]> = {}): string {
  const out = join(images, name);
  buildSignedImage({ kernel, rootfs, version: '99.1.0', buildId: `test ${name}`, boards: ['sim'], keys: [key.privatePath], out, ...over });
  return out;
}
const good = image('new.img');
image('newer.img', { version: '99.2.0' });
image('old.img', { version: '0.0.1' });
image('board.img', { boards: ['vm'] });
image('unsigned.img', { keys: [] });
image('stranger.img', { keys: [stranger.privatePath] });
const flipped = readFileSync(good);
flipped[flipped.length - 5000]! ^= 0x10;
writeFileSync(join(images, 'flipped.img'), flipped);
writeFileSync(join(images, 'truncated.img'), readFileSync(good).subarray(0, 1_000_000));

const state = join(dir, 'state');
const sock = join(state, 'run', 'rampart.sock');

/** One boot of the box: daemon start (the sim bootloader chooses the slot), a console. */
async function bootBox(healthy = true): Promise<{ d: Daemon; c: ScriptedConsole; down: () => Promise<void> }> {
  const d = new Daemon({ board: simBoard({ stateDir: state }), socketPath: sock, services: [] });
  await d.start();
  if (healthy) d.markHealthy();
  const c = await ScriptedConsole.open(sock);
  await c.run('enable');
  return { d, c, down: async () => { c.close(); await d.stop(); } };
}

function putOnFlash(...names: string[]): void {
  mkdirSync(join(state, 'flash'), { recursive: true });
  for (const n of names) copyFileSync(join(images, n), join(state, 'flash', n));
}

const envNow = () => decodeGrubEnv(readFileSync(join(state, 'boot', 'grubenv')));

t.test('factory state: slot A runs and is good, slot B is empty', async (t) => {
  const box = await bootBox();
  t.teardown(box.down);
  const boot = await box.c.run('show boot');
  t.match(boot, /^A\s+yes\s+yes\s+good\s+-\s+/m);
  t.match(boot, /^B\s+no\s+no\s+empty\s+0\s+-$/m);
  t.match(await box.c.run('show version'), /Running from boot slot A\n\s+slot A: version \S+, active, good, next boot\n\s+slot B: empty, 0 tries left/);
  await box.c.run('configure terminal');
  await box.c.run('hostname Kept');
  await box.c.run('end');
  t.match(await box.c.run('write memory'), /\[OK\]/);
});

t.test('refused images: verify says why, upgrade writes nothing', async (t) => {
  const box = await bootBox();
  t.teardown(box.down);
  putOnFlash('board.img', 'unsigned.img', 'stranger.img', 'flipped.img', 'truncated.img', 'old.img');
  const envBefore = readFileSync(join(state, 'boot', 'grubenv'));
  const cases: [string, RegExp][] = [
    ['board.img', /for board vm, not sim/],
    ['unsigned.img', /not signed/],
    ['stranger.img', /unknown key/],
    ['flipped.img', /SHA-256 .* does not match/],
    ['truncated.img', /ends after/],
    ['old.img', /downgrade refused/],
  ];
  for (const [file, why] of cases) {
    const out = await box.c.run(`upgrade flash:${file}`);
    t.match(out, /%Error installing/, `${file} refused`);
    t.match(out, why, `${file}: ${why}`);
    t.notOk(existsSync(join(state, 'slots', 'B.img')), `${file}: nothing written to slot B`);
    t.ok(readFileSync(join(state, 'boot', 'grubenv')).equals(envBefore), `${file}: boot environment untouched`);
  }
  t.match(await box.c.run('verify flash:board.img'), /%Error verifying flash:board.img: image is for board vm, not sim/);
  t.match(await box.c.run('verify flash:nothere.img'), /%Error verifying/);
});

t.test('verify prints the manifest; upgrade writes slot B with progress', async (t) => {
  const box = await bootBox();
  t.teardown(box.down);
  putOnFlash('new.img');
  const v = await box.c.run('verify flash:new.img');
  t.match(v, /Verifying file integrity of flash:new\.img\.+Done!/);
  t.match(v, /Version\s+: 99\.1\.0/);
  t.match(v, /Boards\s+: sim/);
  t.match(v, new RegExp(`Signed by key\\s+: ${key.id} \\(test-release\\.pub\\)`));
  t.match(v, /Payload kernel\s*: 300000 bytes, SHA-256 [0-9a-f]{64}/);
  t.match(v, /Signature Verified/);
  const up = await box.c.run('upgrade flash:new.img');
  for (const phase of ['Verifying flash:new.img', 'Writing the standby slot', 'Reading the slot back']) t.match(up, phase);
  t.match(up, /^Writing the standby slot \((\d+) bytes\):( \d+%)* 100% \(\1 bytes\) done$/m, 'percent and bytes, one line');
  t.match(up, /^Reading the slot back \((\d+) bytes\):( \d+%)* 100% \(\1 bytes\) done$/m);
  t.match(up, /\[OK\] Slot B holds version 99\.1\.0/);
  const boot = await box.c.run('show boot');
  t.match(boot, /^A\s+yes\s+no\s+good/m);
  t.match(boot, /^B\s+no\s+yes\s+trial\s+3\s+99\.1\.0 \(test new\.img\)$/m);
  t.match(box.c.transcript, /%UPGRADE-5-INSTALLED: Firmware version 99\.1\.0/);
  t.equal((await verifyImageFile(join(state, 'slots', 'B.img'), { keys: loadTrustedKeys(keysDir), board: 'sim' })).manifest.version, '99.1.0', 'slot B holds the image');
});

t.test('reload: B boots on trial, becomes good when healthy; config kept; rollback on demand', async (t) => {
  let box = await bootBox(false);
  t.match(await box.c.run('show version'), /Running from boot slot B \(on trial: not yet marked good\)/);
  t.equal(envNow().B_TRIES, '2', 'the bootloader took one try');
  box.d.markHealthy();
  t.match(await box.c.run('show boot'), /^B\s+yes\s+yes\s+good\s+-\s+99\.1\.0/m);
  t.match(await box.c.run('show boot'), /^A\s+no\s+no\s+good/m, 'the old slot is still listed');
  t.equal(box.c.state.prompt, 'Kept#', 'startup-config survived the update');
  t.match(await box.c.run('upgrade rollback'), /Next boot: slot A/);
  await box.down();
  box = await bootBox();
  t.teardown(box.down);
  t.match(await box.c.run('show version'), /Running from boot slot A\n/);
  t.equal(box.c.state.prompt, 'Kept#');
});

t.test('an image that never becomes healthy is rolled back after its tries', async (t) => {
  let box = await bootBox();
  putOnFlash('newer.img');
  t.match(await box.c.run('upgrade flash:newer.img'), /\[OK\] Slot B holds version 99\.2\.0/);
  await box.down();
  for (let i = 0; i < 3; i++) {
    box = await bootBox(false);
    t.match(await box.c.run('show version'), /Running from boot slot B \(on trial/, `trial boot ${i + 1}`);
    await box.down();
  }
  box = await bootBox();
  t.teardown(box.down);
  t.match(box.c.banner, /%UPGRADE-1-ROLLBACK: Firmware in slot B \(version 99\.2\.0\) did not come up healthy in 3 boots: rolled back to slot A/, 'said on the console');
  const ver = await box.c.run('show version');
  t.match(ver, /Running from boot slot A\n/);
  t.match(ver, /Rolled back: the firmware in slot B did not come up healthy; slot A booted instead/);
  t.match(ver, /slot B: version 99\.2\.0, 0 tries left/);
  t.match(await box.c.run('show logging'), /%UPGRADE-1-ROLLBACK: Firmware in slot B \(version 99\.2\.0\) did not come up healthy in 3 boots: rolled back to slot A/, 'in the log');
  t.match(await box.c.run('show boot'), /^B\s+no\s+no\s+failed\s+0\s+99\.2\.0/m);
});

t.test('power cut at 10 points of the write and right after the switch: a good slot boots', async (t) => {
  const pc = join(dir, 'powercut');
  mkdirSync(pc);
  const layout = { devices: { A: join(pc, 'A.img'), B: join(pc, 'B.img') }, env: join(pc, 'grubenv'), booted: 'A' as const, slotBytes: 64 << 20 };
  copyFileSync(good, layout.devices.A); // the factory disk: slot A holds an image and is good
  const keys = loadTrustedKeys(keysDir);
  const store = new SlotStore(layout, { keys, board: 'sim', runningVersion: buildInfo().version, log: () => {} });
  store.boot();
  const total = readFileSync(join(images, 'newer.img')).length;
  const points = Array.from({ length: 10 }, (_, i) => Math.floor(((i + 0.5) * total) / 10));
  const snaps: { env: Buffer; b: Buffer | undefined; at: string }[] = [];
  const snap = (at: string) => snaps.push({ env: readFileSync(layout.env), b: existsSync(layout.devices.B) ? readFileSync(layout.devices.B) : undefined, at });
  let next = 0;
  // The event loop turns between two progress reports of the write (else a console shows
  // the progress in one burst at the end: the vm board's serial console did).
  let turned = true, unturned = 0, writes = 0;
  await store.install(join(images, 'newer.img'), {
    progress: (phase, done) => {
      if (phase === 'write') {
        writes++;
        if (!turned) unturned++;
        turned = false;
        setImmediate(() => { turned = true; });
      }
      while (phase === 'write' && next < points.length && done >= points[next]!) { snap(`write ${next + 1}/10 (${done} bytes)`); next++; }
    },
  });
  snap('right after the switch');
  t.ok(writes >= 3, `the write reported progress ${writes} times (${total} bytes)`);
  t.equal(unturned, 0, 'the event loop ran between every two progress reports of the write');
  t.equal(snaps.length, 11);
  for (const s of snaps) {
    const choice = selectBootSlot(decodeGrubEnv(s.env));
    const slotFile = join(pc, 'check.img');
    writeFileSync(slotFile, choice.slot === 'A' ? readFileSync(layout.devices.A) : s.b ?? Buffer.alloc(0));
    const v = await verifyImageFile(slotFile, { keys, board: 'sim' }).catch((e: Error) => e);
    t.notOk(v instanceof Error, `${s.at}: the bootloader picks slot ${choice.slot}, which holds a complete signed image${v instanceof Error ? ` (${v.message})` : ''}`);
    t.equal(choice.slot, s.at.startsWith('write') ? 'A' : 'B', `${s.at}: slot ${choice.slot}`);
    // What the box says after that boot: a slot cut off mid-write is incomplete, names no
    // version and cannot be rolled back to; after the switch it is the new firmware on trial.
    const after = join(pc, 'after');
    rmSync(after, { recursive: true, force: true });
    mkdirSync(after);
    const cut = { ...layout, devices: { A: join(after, 'A.img'), B: join(after, 'B.img') }, env: join(after, 'grubenv'), booted: choice.slot };
    copyFileSync(layout.devices.A, cut.devices.A);
    writeFileSync(cut.devices.B, s.b ?? Buffer.alloc(0));
    writeFileSync(cut.env, encodeGrubEnv(choice.env)); // as GRUB left it: a try counted
    const cutStore = new SlotStore(cut, { keys, board: 'sim', runningVersion: buildInfo().version, log: () => {} });
    cutStore.boot();
    const b = cutStore.status().find((x) => x.name === 'B')!;
    if (s.at.startsWith('write')) {
      t.match(b, { content: 'incomplete', good: false, triesLeft: 0, next: false, version: undefined }, `${s.at}: slot B is listed as incomplete`);
      t.throws(() => cutStore.rollback(), /incomplete image/, `${s.at}: no rollback to the torn slot`);
    } else {
      t.match(b, { content: 'image', good: false, triesLeft: 2, active: true, version: '99.2.0' }, `${s.at}: slot B runs on trial`);
    }
  }
});
