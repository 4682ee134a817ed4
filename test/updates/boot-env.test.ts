// GRUB's environment block (byte format as grub-editenv writes it) and the boot-counting
// rule: a good slot boots as it is, a slot on trial loses a try per boot, a slot out of
// tries is skipped, and with nothing bootable slot A is tried anyway.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeGrubEnv, encodeGrubEnv, readGrubEnv, writeGrubEnv } from '../../firmware/mgmt/update/grub-env.js';
import { grubCfg, MAX_TRIES, selectBootSlot } from '../../firmware/mgmt/update/boot-selection.js';

const dir = mkdtempSync(join(tmpdir(), 'rampart-grubenv-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('the environment block round-trips and is 1024 bytes', async (t) => {
  const env = { ORDER: 'B A', A_GOOD: '1', B_TRIES: '3', B_CMDLINE: 'console=ttyS0,115200 quiet', ODD: 'back\\slash' };
  const b = encodeGrubEnv(env);
  t.equal(b.length, 1024);
  t.ok(b.toString().startsWith('# GRUB Environment Block\n'));
  t.same(decodeGrubEnv(b), env);
  const f = join(dir, 'grubenv');
  writeFileSync(f, encodeGrubEnv({}));
  writeGrubEnv(f, env);
  t.same(readGrubEnv(f), env);
  t.equal(readFileSync(f).length, 1024, 'rewritten in place, same size');
  t.throws(() => encodeGrubEnv({ BIG: 'x'.repeat(1100) }), /do not fit/);
});

t.test('grub-editenv reads what we write and we read what it writes', { skip: spawnSync('grub-editenv', ['--version']).status === 0 ? false : 'grub-editenv not installed (grub-common)' }, async (t) => {
  const f = join(dir, 'tool.env');
  writeFileSync(f, encodeGrubEnv({ A_GOOD: '1', ORDER: 'A B' }));
  const list = spawnSync('grub-editenv', [f, 'list'], { encoding: 'utf8' });
  t.equal(list.stdout, 'A_GOOD=1\nORDER=A B\n');
  spawnSync('grub-editenv', [f, 'set', 'B_TRIES=3', 'ORDER=B A']);
  t.same(readGrubEnv(f), { A_GOOD: '1', ORDER: 'B A', B_TRIES: '3' });
});

t.test('boot counting', async (t) => {
  t.same(selectBootSlot({ ORDER: 'A B', A_GOOD: '1' }), { slot: 'A', trial: false, desperate: false, env: { ORDER: 'A B', A_GOOD: '1' } });
  let env: Record<string, string> = { ORDER: 'B A', A_GOOD: '1', B_GOOD: '0', B_TRIES: String(MAX_TRIES) };
  for (let i = MAX_TRIES - 1; i >= 0; i--) {
    const c = selectBootSlot(env);
    t.equal(c.slot, 'B');
    t.equal(c.trial, true);
    t.equal(c.env.B_TRIES, String(i), `try taken: ${i} left`);
    env = c.env;
  }
  t.equal(selectBootSlot(env).slot, 'A', 'tries used up: the good slot boots');
  t.same(selectBootSlot({ ORDER: 'B A', B_GOOD: '1', A_GOOD: '1' }).slot, 'B');
  t.equal(selectBootSlot({ A_TRIES: '9' }).desperate, true, 'an out-of-range count is not a try');
  const cfg = grubCfg({ A: '(hd0,msdos2)', B: '(hd0,msdos3)' });
  t.match(cfg, /load_env/);
  t.match(cfg, /save_env A_TRIES B_TRIES/);
  t.match(cfg, /linux \(hd0,msdos3\)\$B_KERNEL \$B_CMDLINE rampart\.slot=B/);
  for (let n = MAX_TRIES; n >= 1; n--) t.match(cfg, `elif [ "$A_TRIES" = ${n} ]; then\n        set A_TRIES=${n - 1}`);
  // The console says that the chosen slot's kernel and root were read (and in which state it
  // boots), or that they were not; then the other slot boots if it is good.
  t.match(cfg, /if initrd \(hd0,msdos3\)\$B_INITRD; then\n\s+echo "Rampart: slot B loaded, trial=\$trial"\n\s+boot/);
  t.match(cfg, /echo "Rampart: slot B could not be loaded"\n\s+if \[ "\$A_GOOD" = 1 \]; then\n\s+set trial=0\n\s+echo "Rampart: booting slot A/);
  t.match(cfg, /echo "Rampart: slot A could not be loaded"\n\s+if \[ "\$B_GOOD" = 1 \]; then/);
});

t.test('GRUB parses the generated grub.cfg', { skip: spawnSync('grub-script-check', ['--version']).status === 0 ? false : 'grub-script-check not installed (grub-common)' }, async (t) => {
  const f = join(dir, 'grub.cfg');
  writeFileSync(f, grubCfg({ A: '(hd0,msdos2)', B: '(hd0,msdos3)' }));
  const r = spawnSync('grub-script-check', [f], { encoding: 'utf8' });
  t.equal(r.status, 0, `grub-script-check: ${r.stderr}`);
});
