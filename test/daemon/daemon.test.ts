// The daemon with real consoles on its unix socket: one running-config shared by every
// session, startup-config kept across a restart only when saved, and a startup-config
// line that fails reported with its line number while the rest loads.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simBoard } from '../../board/sim.js';
import { Daemon } from '../../firmware/daemon/daemon.js';
import { ScriptedConsole } from '../lib/daemon-client.js';

function newBox(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-d-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'run', 'rampart.sock');
  const make = () => new Daemon({ board: simBoard({ stateDir: dir }), socketPath: sock });
  return { dir, sock, make };
}

t.test('several consoles see one running-config', async (t) => {
  const { sock, make } = newBox(t);
  const d = make();
  await d.start();
  t.teardown(() => d.stop());
  const a = await ScriptedConsole.open(sock);
  const b = await ScriptedConsole.open(sock);
  t.teardown(() => { a.close(); b.close(); });
  t.equal(a.state.prompt, 'Router>');
  await a.run('enable');
  await a.run('configure terminal');
  await a.run('hostname Shared');
  t.equal(a.state.prompt, 'Shared(config)#');
  await b.run('enable');
  t.equal(b.state.prompt, 'Shared#', 'the other console sees the new hostname');
  t.match(await b.run('show running-config | include hostname'), /^hostname Shared$/m);
});

t.test('a restart keeps what write memory saved and forgets the rest', async (t) => {
  const { sock, make } = newBox(t);
  let d = make();
  await d.start();
  let c = await ScriptedConsole.open(sock);
  await c.run('enable');
  await c.run('configure terminal');
  await c.run('hostname Saved');
  await c.run('end');
  t.match(await c.run('write memory'), /Building configuration...\n\[OK\]/);
  await c.run('configure terminal');
  await c.run('hostname Unsaved');
  await c.run('end');
  c.close();
  await d.stop();

  d = make();
  await d.start();
  t.teardown(() => d.stop());
  c = await ScriptedConsole.open(sock);
  t.teardown(() => c.close());
  t.equal(c.state.prompt, 'Saved>');
  await c.run('enable');
  t.match(await c.run('erase startup-config', ''), /\[OK\]\nErase of nvram: complete/);
  t.match(await c.run('show startup-config'), /startup-config is not present/);
});

t.test('a failing startup-config line is reported with its number; the rest loads', async (t) => {
  const { dir, sock, make } = newBox(t);
  mkdirSync(join(dir, 'nvram'), { recursive: true });
  writeFileSync(join(dir, 'nvram', 'startup-config'), '!\nservice password-encryption\nhostname\nbogus command here\nhostname Loaded\nend\n');
  const d = make();
  await d.start();
  t.teardown(() => d.stop());
  const c = await ScriptedConsole.open(sock);
  t.teardown(() => c.close());
  t.equal(c.state.prompt, 'Loaded>', 'lines after the failures were applied');
  t.match(c.banner, /startup-config line 3: hostname\n\s+% Incomplete command\./);
  t.match(c.banner, /startup-config line 4: bogus command here\n\s+% Invalid input detected at '\^' marker\./);
  t.match(c.banner, /2 line\(s\) of startup-config failed/);
});

t.test('a vty session needs a password to enable', async (t) => {
  const { sock, make } = newBox(t);
  const d = make();
  await d.start();
  t.teardown(() => d.stop());
  const v = await ScriptedConsole.open(sock, 'vty0');
  t.teardown(() => v.close());
  t.match(await v.run('enable'), /% No password set/);
  t.equal(v.state.prompt, 'Router>');
});

t.test('garbage on the socket does not hurt the daemon', async (t) => {
  const { sock, make } = newBox(t);
  const d = make();
  await d.start();
  t.teardown(() => d.stop());
  const { connect } = await import('node:net');
  const s = connect(sock);
  await new Promise((r) => s.once('connect', r));
  s.write('not json\n{"id":1}\n{"id":2,"method":"exec","params":{"text":"show clock"}}\n');
  const reply = await new Promise<string>((r) => s.once('data', (d) => r(d.toString())));
  t.match(reply, /session not open/);
  s.destroy();
  const c = await ScriptedConsole.open(sock);
  t.teardown(() => c.close());
  t.match(await c.run('show clock'), /UTC/);
});

t.test('show version: power-on, then "returned to ROM by reload" after reload; board serial; unmapped ports down', async (t) => {
  const { dir, sock } = newBox(t);
  let reloaded = false;
  const make = () => new Daemon({ board: simBoard({ stateDir: dir }), socketPath: sock, onReload: () => { reloaded = true; } });
  let d = make();
  await d.start();
  let c = await ScriptedConsole.open(sock);
  await c.run('enable');
  const first = await c.run('show version');
  t.match(first, /^Rampart Software \(RAMPART-SIM\), Version \d+\.\d+\.\d+, RELEASE SOFTWARE \(\S+\)$/m, 'IOS-style first line under Rampart\'s name');
  t.match(first, /^System returned to ROM by power-on$/m, 'first boot: power-on');
  t.match(first, /^Router uptime is /m);
  t.match(first, /^System image file is "flash:rampart-[^"]+\.img"$/m);
  t.match(first, new RegExp(`^Processor board ID ${simBoard({ stateDir: dir }).serial}$`, 'm'), 'serial from the board');
  t.match(first, /processor with [1-9]\d*K\/0K bytes of memory\.$/m, 'the box\'s real memory');
  t.match(first, /^Configuration register is 0x2102$/m);
  t.match(await c.run('show interfaces description'), /^Fa0\/0 +down +down/m, 'a port with no Linux interface behind it is down/down');
  t.match(await c.run('show processes cpu | include rampart daemon'), new RegExp(`^ *${process.pid} +\\d+ `, 'm'), 'show processes cpu lists the daemon (this process)');
  await c.run('reload', 'no', '');
  for (let i = 0; i < 50 && !reloaded; i++) await new Promise((r) => setTimeout(r, 20));
  t.ok(reloaded, 'reload asked the supervisor for a restart');
  c.close();
  d = make();
  await d.start();
  t.teardown(() => d.stop());
  c = await ScriptedConsole.open(sock);
  t.teardown(() => c.close());
  await c.run('enable');
  const after = await c.run('show version');
  t.match(after, /^System returned to ROM by reload at \d\d:\d\d:\d\d UTC \w{3} \w{3} \d+ \d{4}$/m, 'after reload: returned to ROM by reload');
  t.match(after, /^Last reload reason: Reload Command$/m);
  await d.stop();
  d = make();
  await d.start();
  c.close();
  c = await ScriptedConsole.open(sock);
  await c.run('enable');
  t.match(await c.run('show version'), /^System returned to ROM by power-on$/m, 'a start without reload (power cut) is a power-on again');
});
