// Console faults a person met in the first five minutes, each typed on a real pty through
// `npm start`: the terminal mode after `reload` (no double echo, `?` and Tab answer at once,
// arrows recall history, Ctrl-C in configuration mode only leaves it), Ctrl-Z running the
// line typed before it, a 0x1c byte in pasted data doing nothing, and the power-off escape
// (Ctrl-A, then x) that the boot message shows.
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnOnPty, type PtyProgram } from '../lib/pty.js';

const root = join(import.meta.dirname, '..', '..');
const state = mkdtempSync(join(tmpdir(), 'rampart-keys-'));
t.teardown(() => rmSync(state, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The keys whose behaviour depends on the terminal being in raw mode, checked once. */
async function checkRawKeys(t: Test, box: PtyProgram, when: string): Promise<void> {
  box.type('show clock\r');
  const clock = await box.expect(/UTC.*\n.*Router#$/);
  t.equal(clock.match(/show clock/g)?.length, 1, `${when}: a typed line is echoed once`);

  box.type('conf t\r');
  await box.expect(/Router\(config\)#$/);
  box.type('hostname ?');
  // No Return typed: help must come at once, then the line typed so far.
  const help = await box.expect(/WORD\s+This system's network name[\s\S]*Router\(config\)#hostname $/);
  t.notMatch(help, /\^\[/, `${when}: ? answers without Return`);
  box.type('\x15');
  box.type('int Gi\t');
  await box.expect(/int GigabitEthernet$/);
  t.pass(`${when}: Tab completes the interface type at once`);
  box.type('\x15\x03');
  // leaving configuration mode logs %SYS-5-CONFIG_I before the prompt, as IOS does
  await box.expect(/\^C\n(?:.*%SYS-5-CONFIG_I.*\n)*Router#$/);
  t.pass(`${when}: Ctrl-C in configuration mode leaves it and the box stays up`);
  t.equal(box.child.exitCode, null);

  box.type('\x1b[A');
  const recalled = await box.expect(/(conf t|show clock)$/);
  t.notMatch(recalled, /\^\[\[A/, `${when}: up arrow recalls history, no ^[[A`);
  box.type('\x15');

  box.type('conf t\r');
  await box.expect(/Router\(config\)#$/);
  box.type('crypto isakmp policy 10\r');
  await box.expect(/Router\(config-isakmp\)#$/);
  box.type('encryption aes 256\x1a');
  await box.expect(/\^Z\n[\s\S]*Router#$/);
  box.type('show running-config | include encr\r');
  const enc = await box.expect(/Router#$/);
  t.match(enc, /^ encr aes 256$/m, `${when}: Ctrl-Z runs the typed line, then leaves configuration mode`);
}

t.test('keys after reload, Ctrl-Z, pasted 0x1c, the power-off escape', async (t) => {
  const box = spawnOnPty(`node scripts/start.mjs --state ${state}`, { cwd: root });
  t.teardown(() => box.kill());
  const boot = await box.expect(/Router>$/, 60000);
  t.match(boot, /to power the box off type Ctrl-A, then x/, 'the boot message shows the escape');
  // The README's quick start shows this screen: every line of it must be what was printed.
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const shown = /<!-- quick-start-boot[^>]*-->\n```\n([\s\S]*?)\n```/.exec(readme)?.[1]?.split('\n') ?? [];
  t.ok(shown.length >= 5, 'the README shows the boot screen');
  // Times differ from run to run: `(0.1 s so far)` stands for any time.
  const times = (l: string) => l.replace(/\(\d+\.\d s so far\)/, '(T s so far)');
  const printed = boot.split('\n').map(times);
  for (const line of shown) t.ok(printed.includes(times(line)) || boot.endsWith(line), `README line printed: ${line}`);

  box.type('enable\r');
  await box.expect(/Router#$/);
  await checkRawKeys(t, box, 'before reload');

  // Pasted data with a 0x1c (Ctrl-\) in it: ignored like other line noise.
  box.type('conf t\rhostname Pas\x1cted\rend\r');
  await box.expect(/Pasted#$/);
  t.equal(box.child.exitCode, null, 'a 0x1c byte in a paste does not power the box off');
  box.type('conf t\rhostname Router\rend\r');
  await box.expect(/Router#$/);

  box.type('reload\r');
  await box.expect(/Save\? \[yes\/no\]: $/);
  box.type('no\r');
  await box.expect(/\[confirm\]$/);
  box.type('\r');
  await box.expect(/Router>$/, 30000);
  box.type('enable\r');
  await box.expect(/Router#$/);
  await checkRawKeys(t, box, 'after reload');

  // Ctrl-A and x typed together in one chunk (as a paste would) do not power off...
  box.type('\x01x\x15');
  await sleep(300);
  t.equal(box.child.exitCode, null, 'Ctrl-A x inside pasted data does not power off');
  // ...typed as two keys they do.
  box.type('\x01');
  await sleep(300);
  box.type('x');
  const exited = await Promise.race([
    new Promise<boolean>((resolve) => box.child.on('exit', () => resolve(true))),
    sleep(15000).then(() => false),
  ]);
  t.ok(exited, 'Ctrl-A, then x, powers the simulator off');
});
