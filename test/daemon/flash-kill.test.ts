// Power cuts during `write memory`: SIGKILL at random moments must leave either the old or
// the new startup-config, never a partial one - for the flash layer under a write loop,
// and for a real daemon process saving through its console.
import t from 'tap';
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScriptedConsole } from '../lib/daemon-client.js';
import { bundleForNode } from '../lib/netns.js';

const root = join(import.meta.dirname, '..', '..');
const work = mkdtempSync(join(root, 'node_modules', '.rampart-kill-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('flash writes are atomic under SIGKILL', async (t) => {
  const writer = await bundleForNode(join(import.meta.dirname, 'fixtures', 'flash-writer.ts'));
  const dir = join(work, 'flash');
  let seen = 0;
  for (let round = 0; round < 12; round++) {
    const child = fork(writer, [dir], { stdio: 'ignore' });
    await new Promise((r) => child.once('message', r));
    await sleep(5 + Math.floor(Math.random() * 60));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const path = join(dir, 'nvram', 'startup-config');
    if (!existsSync(path)) continue;
    const text = readFileSync(path, 'utf8');
    const head = /^! generation (\d+)\n/.exec(text)?.[1];
    const tail = /! end of generation (\d+)\n$/.exec(text)?.[1];
    if (head === undefined || head !== tail) {
      t.fail(`round ${round}: torn startup-config (${text.length} bytes, head ${head}, tail ${tail})`);
      return;
    }
    seen++;
  }
  t.ok(seen > 0, `a complete file after every kill (${seen} rounds had written one)`);
  // Temp files of killed writers are left beside it, never in its place.
  t.ok(readdirSync(join(dir, 'nvram')).includes('startup-config'));
});

t.test('a daemon killed during write memory keeps the old or the new config', async (t) => {
  const bin = await bundleForNode(join(root, 'firmware', 'entry.ts'));
  const state = join(work, 'box');
  const sock = join(state, 'run', 'rampart.sock');
  for (let round = 1; round <= 4; round++) {
    const d = spawn(process.execPath, [bin, 'daemon', '--state', state, '--socket', sock], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
    await new Promise((r) => d.once('message', r));
    const c = await ScriptedConsole.open(sock);
    const prompt = c.state.prompt;
    if (round > 1) t.equal(prompt, `R${round - 1}>`, `round ${round}: booted from the config saved before the kill or the one before it`);
    await c.run('enable');
    await c.run('configure terminal');
    await c.run(`hostname R${round}`);
    await c.run('end');
    await c.run('write memory');
    // A second save races the kill.
    void c.run('write memory').catch(() => {});
    await sleep(Math.floor(Math.random() * 5));
    d.kill('SIGKILL');
    await new Promise((r) => d.once('exit', r));
    c.close();
    const text = readFileSync(join(state, 'nvram', 'startup-config'), 'utf8');
    t.match(text, new RegExp(`^hostname R${round}$`, 'm'));
    t.match(text, /\nend\n$/, 'the file is whole');
  }
});
