// A 2,000-line paste with random control characters at random places (line noise, a binary
// file pasted by mistake) into `npm start`'s console on a real pty: the box stays up, no
// byte of it powers the box off, and the console keeps its raw mode (`?` still answers
// without Return, Ctrl-C in configuration mode only leaves it).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnOnPty } from '../lib/pty.js';

const root = join(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const state = mkdtempSync(join(tmpdir(), 'rampart-noise-'));
t.teardown(() => rmSync(state, { recursive: true, force: true }));

/** A small deterministic generator, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = s;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function noisyPaste(seed: number, lines: number): { text: string; controls: number } {
  const rnd = prng(seed);
  const base = (i: number): string => [
    `interface Loopback${i % 50}`, ` description pasted line ${i}`, `access-list 101 permit ip host 10.0.${i % 250}.1 any`,
    `crypto isakmp policy ${(i % 20) + 1}`, ' encryption aes 256', `hostname Noise${i % 7}`, 'end', 'configure terminal',
  ][i % 8]!;
  let text = 'configure terminal\r';
  let controls = 0;
  for (let i = 0; i < lines; i++) {
    let line = base(i);
    // 0..3 control characters (0x00-0x1f and DEL, 0x1c included) at random places.
    for (let k = Math.floor(rnd() * 4); k > 0; k--) {
      const code = rnd() < 0.1 ? 0x7f : Math.floor(rnd() * 0x20);
      const at = Math.floor(rnd() * (line.length + 1));
      line = line.slice(0, at) + String.fromCharCode(code) + line.slice(at);
      controls++;
    }
    text += `${line}\r`;
  }
  return { text, controls };
}

t.test('a 2,000-line paste full of control characters', { timeout: 300_000 }, async (t) => {
  const box = spawnOnPty(`node scripts/start.mjs --state ${state}`, { cwd: root });
  t.teardown(() => box.kill());
  await box.expect(/Router>$/, 60000);
  box.type('enable\r');
  await box.expect(/Router#$/);

  const { text, controls } = noisyPaste(12, 2000);
  t.ok(controls > 2000, `${controls} control characters in the paste`);
  t.ok(text.includes('\x1c'), 'the paste holds 0x1c bytes');
  // Pasted at about the speed of a 19,200-baud console line (512 bytes every 250 ms): the
  // `script` relay this harness uses as the terminal stops reading the box's output while its
  // own write to the pty waits, so a faster paste stalls the relay (a terminal emulator keeps
  // reading). The box gets the noise all the same, faster than it answers.
  for (let i = 0; i < text.length; i += 512) {
    box.type(text.slice(i, i + 512));
    await sleep(250);
  }

  // A sentinel typed after the paste: its answer means the console worked through all of it
  // (a quiet second is no proof on a loaded machine). Ctrl-U drops what noise left on the line.
  box.type('\x15end\rshow privilege\r');
  await box.expect(/Current privilege level is \d+/, 240_000);
  t.equal(box.child.exitCode, null, 'the box is still up');
  const prompts = (box.output().match(/\n[A-Za-z0-9]+(\([a-z-]+\))?#/g) ?? []).length;
  t.ok(prompts > 1500, `the paste was worked through line by line (${prompts} prompts)`);

  box.mark();
  box.type('\x15\x03');
  await box.expect(/[#>]$/);
  box.type('\renable\r');
  await box.expect(/#$/);
  box.type('configure terminal\r');
  await box.expect(/\(config\)#$/);
  box.type('hostname ?');
  await box.expect(/WORD\s+This system's network name[\s\S]*\(config\)#hostname $/, 15000);
  t.pass('? still answers without Return: the console kept its raw mode');
  box.type('\x15\x03');
  // leaving configuration mode logs %SYS-5-CONFIG_I before the prompt, as IOS does
  await box.expect(/\^C\n(?:.*%SYS-5-CONFIG_I.*\n)*\S*#$/);
  t.equal(box.child.exitCode, null, 'Ctrl-C in configuration mode leaves it; the box stays up');
  box.type('show clock\r');
  const clock = await box.expect(/UTC.*\n.*#$/);
  t.equal(clock.match(/show clock/g)?.length, 1, 'typed lines are echoed once');
});
