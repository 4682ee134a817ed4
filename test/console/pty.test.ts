// `npm start`'s console on a real pseudo-terminal, typed at like a user: prompts,
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
// abbreviations, `?`, Tab, arrows and line editing, errors with the caret, paging,
// hidden password entry, saving, and a reload that keeps what was saved.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnOnPty } from '../lib/pty.js';

const root = join(import.meta.dirname, '..', '..');
const state = mkdtempSync(join(tmpdir(), 'rampart-pty-'));
t.teardown(() => rmSync(state, { recursive: true, force: true }));

t.test('a user at the console of a new box', async (t) => {
  const box = spawnOnPty(`node scripts/start.mjs --state ${state}`, { cwd: root });
  t.teardown(async () => { await box.kill(); if (process.env.PTY_DEBUG) require('node:fs').writeFileSync('/tmp/pty-debug.txt', box.output()); });
  await box.expect(/Router>$/, 60000);
  t.pass('boots to the user-mode prompt');

  box.type('en\r');
  await box.expect(/Router#$/);
  box.type('conf t\r');
  await box.expect(/Router\(config\)#$/);
  t.pass('abbreviations: en, conf t');

  box.type('hostname ?');
  // Wait for the help and the line typed so far coming back after it (the echo of
  // `hostname ` alone may arrive first).
  const help = await box.expect(/WORD\s+This system's network name[\s\S]*hostname $/);
  t.match(help, /WORD\s+This system's network name/);

  box.type('Branch\r');
  await box.expect(/Branch\(config\)#$/);
  t.pass('hostname changes the prompt');

  box.type('hostnam\t');
  await box.expect(/hostname $/);
  box.type('HQ\r');
  await box.expect(/HQ\(config\)#$/);
  t.pass('Tab completes the keyword');

  box.type('crypto mapp\r');
  const err = await box.expect(/HQ\(config\)#$/);
  t.match(err, /\n {18}\^\n% Invalid input detected at '\^' marker\./, 'the caret is under the bad word');

  // Line editing: type, go left, insert, Ctrl-A to the start, Ctrl-K to kill the rest.
  box.type('hostnme Edit' + '\x1b[D'.repeat(7) + 'a\r');
  await box.expect(/Edit\(config\)#$/);
  box.type('garbage\x01\x0bhostname Lined\r');
  await box.expect(/Lined\(config\)#$/);
  box.type('hostname Wrong\x17Good\r');
  await box.expect(/Good\(config\)#$/);
  box.type('junk\x15hostname R1\r');
  await box.expect(/R1\(config\)#$/);
  t.pass('left arrow, insert, Ctrl-A/K/W/U');

  box.type('enable secret s3cret\r');
  await box.expect(/R1\(config\)#$/);
  box.type('\x1a');
  await box.expect(/R1#$/);
  t.pass('Ctrl-Z leaves configuration mode');

  // History: up arrow brings back the last command.
  box.type('show clock\r');
  await box.expect(/UTC.*\n.*R1#$/);
  box.type('\x1b[A\r');
  const again = await box.expect(/R1#$/);
  t.match(again, /show clock\n.*UTC/);

  box.type('terminal length 4\r');
  await box.expect(/R1#$/);
  box.type('show running-config\r');
  await box.expect(/--More-- $/);
  box.type(' ');
  await box.expect(/--More-- $/);
  box.type('q');
  await box.expect(/R1#$/);
  t.pass('--More-- pages and q stops');

  box.type('disable\r');
  await box.expect(/R1>$/);
  box.type('enable\r');
  await box.expect(/Password: $/);
  box.type('wrong\r');
  const second = await box.expect(/Password: $/);
  box.type('s3cret\r');
  const priv = await box.expect(/R1#$/);
  t.notMatch(second + priv, /wrong|s3cret/, 'passwords are not echoed');
  t.notMatch(priv, /Bad secrets/);

  box.type('write memory\r');
  await box.expect(/\[OK\]\n.*R1#$/);
  box.type('conf t\r');
  await box.expect(/#$/);
  box.type('hostname Unsaved\r');
  await box.expect(/Unsaved\(config\)#$/);
  box.type('end\r');
  await box.expect(/Unsaved#$/);
  box.type('reload\r');
  await box.expect(/Save\? \[yes\/no\]: $/);
  box.type('no\r');
  await box.expect(/\[confirm\]$/);
  box.type('\r');
  await box.expect(/R1>$/, 30000);
  t.pass('after reload the saved hostname is back and the unsaved one is gone');

  box.type('\x01');
  await new Promise((r) => setTimeout(r, 300));
  box.type('x');
  await new Promise<void>((resolve) => box.child.on('exit', () => resolve()));
  t.pass('Ctrl-A, then x, powers the sim off');
});
