// `rampart console < commands.txt`: a console whose input is not a terminal runs every
// line (answers to questions included), prints the output without `--More--` paging, and
// exits when the input ends; exec-timeout ends an idle console session.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simBoard } from '../../board/sim.js';
import { Daemon } from '../../firmware/daemon/daemon.js';
import { bundleForNode, projectRoot } from '../lib/netns.js';
import { ScriptedConsole } from '../lib/daemon-client.js';

const dir = mkdtempSync(join(tmpdir(), 'rampart-pipe-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const sock = join(dir, 'run', 'rampart.sock');

function runConsole(bin: string, input: string): Promise<{ code: number | null; out: string }> {
  const file = join(dir, `in-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(file, input);
  const fd = openSync(file, 'r');
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [bin, 'console', '--socket', sock], { stdio: [fd, 'pipe', 'pipe'] });
    closeSync(fd);
    let out = '';
    p.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    p.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

t.test('commands piped into the console run and print their output', async (t) => {
  const d = new Daemon({ board: simBoard({ stateDir: dir }), socketPath: sock });
  await d.start();
  t.teardown(() => d.stop());
  const bin = await bundleForNode(join(projectRoot(), 'firmware', 'entry.ts'));
  t.teardown(() => rmSync(bin, { force: true }));
  const lines = ['enable', 'configure terminal', 'hostname Piped', ...Array.from({ length: 40 }, (_, i) => `access-list 10 permit host 10.0.0.${i + 1}`), 'end',
    'show running-config', 'copy running-config startup-config', '', 'show privilege'];
  const r = await runConsole(bin, `${lines.join('\n')}\n`);
  t.equal(r.code, 0, 'exits 0 when the input ends');
  t.match(r.out, /Piped#show running-config\nBuilding configuration/);
  t.match(r.out, /access-list 10 permit 10\.0\.0\.40/, 'the whole config, no --More-- stop');
  t.notMatch(r.out, /--More--/);
  t.match(r.out, /Destination filename \[startup-config\]\? \nBuilding configuration\.\.\.\n\[OK\]/, 'the question takes the next line as its answer');
  t.match(r.out, /Current privilege level is 15\nPiped#\n$/);
  const check = await ScriptedConsole.open(sock);
  t.teardown(() => check.close());
  await check.run('enable');
  t.match(await check.run('show startup-config | include hostname'), /hostname Piped/);
});

t.test('exec-timeout closes an idle session', async (t) => {
  const d = new Daemon({ board: simBoard({ stateDir: dir }), socketPath: sock });
  await d.start();
  t.teardown(() => d.stop());
  const c = await ScriptedConsole.open(sock);
  t.teardown(() => c.close());
  await c.run('enable');
  await c.run('configure terminal');
  await c.run('line con 0');
  await c.run('exec-timeout 0 1');
  await c.run('end');
  const other = await ScriptedConsole.open(sock);
  t.teardown(() => other.close());
  await other.run('enable');
  t.match(await other.run('show users'), /^ {3}0 con 0[\s\S]*^\* {2}0 con 0/m, 'both console sessions are listed');
  const closed = await new Promise<boolean>((resolve) => {
    const deadline = setTimeout(() => resolve(false), 10_000);
    (c as unknown as { client: { onClose: () => void } }).client.onClose = () => { clearTimeout(deadline); resolve(true); };
  });
  t.ok(closed, 'the daemon ended the idle session');
});
