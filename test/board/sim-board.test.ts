// The sim board as a branch box: profiles with WAN/LAN ports, `--port` checked against the
// board and the namespace, and ports shown as they are: wired to a Linux interface that is
// up -> up/up, wired to nothing -> down/down, shut -> administratively down.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simBoard } from '../../board/sim.js';
import { Daemon } from '../../firmware/daemon/daemon.js';
import { PortStatusService } from '../../firmware/daemon/port-status.js';
import { ScriptedConsole } from '../lib/daemon-client.js';
import { bundleForNode } from '../lib/netns.js';

const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'rampart-board-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('the branch profile: three Gigabit ports with roles', async (t) => {
  const b = simBoard({ profile: 'branch', stateDir: dir });
  t.same(b.ports, ['GigabitEthernet0/0', 'GigabitEthernet0/1', 'GigabitEthernet0/2']);
  t.same(b.roles, { 'GigabitEthernet0/0': 'WAN', 'GigabitEthernet0/1': 'LAN', 'GigabitEthernet0/2': 'LAN' });
  t.match(b.notes!.join('\n'), /GigabitEthernet0\/0 \(WAN\): not connected \(wire it with --port GigabitEthernet0\/0=IFNAME\)/);
  t.equal(simBoard({ stateDir: dir }).ports.length, 14, 'the default sim profile keeps every port name of the guide');
});

t.test('--port: names are made canonical, unknown ports refused, missing Linux interfaces said', async (t) => {
  const b = simBoard({ profile: 'branch', stateDir: dir, portMap: { 'gi0/0': 'lo', 'Gi0/1': 'nosuch0' } });
  t.same(b.portMap, { 'GigabitEthernet0/0': 'lo', 'GigabitEthernet0/1': 'nosuch0' });
  t.match(b.notes!.join('\n'), /% GigabitEthernet0\/1: Linux interface nosuch0 does not exist in this network namespace; the port stays down/);
  t.match(b.notes!.join('\n'), /GigabitEthernet0\/0 \(WAN\): wired to Linux interface lo/);
  t.throws(() => simBoard({ profile: 'branch', portMap: { 'FastEthernet0/0': 'lo' } }), /this board has no port FastEthernet0\/0/);
});

t.test('a profile from a JSON file, checked', async (t) => {
  const file = join(dir, 'two-port.json');
  writeFileSync(file, JSON.stringify({ model: 'Two port', ports: [{ name: 'fa0/0', role: 'WAN' }, { name: 'Fa0/1', role: 'LAN' }] }));
  const b = simBoard({ profile: file, stateDir: dir });
  t.same(b.ports, ['FastEthernet0/0', 'FastEthernet0/1']);
  t.equal(b.model, 'Two port');
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ ports: [{ name: 'Frobnicator7', role: 'WAN' }] }));
  t.throws(() => simBoard({ profile: bad }), /"Frobnicator7" is not an interface name/);
  t.throws(() => simBoard({ profile: 'nosuch' }), /unknown sim profile "nosuch"/);
});

t.test('ports are shown as they are wired', async (t) => {
  const state = join(dir, 'box');
  const sock = join(state, 'run', 'rampart.sock');
  // `lo` exists (and is up) in every network namespace: a stand-in for a wired, live port.
  const board = simBoard({ profile: 'branch', stateDir: state, portMap: { 'GigabitEthernet0/0': 'lo', 'GigabitEthernet0/1': 'nosuch0' } });
  const d = new Daemon({ board, socketPath: sock, services: [new PortStatusService()] });
  await d.start();
  t.teardown(() => d.stop());
  const c = await ScriptedConsole.open(sock);
  t.teardown(() => c.close());
  t.match(c.banner, /Linux interface nosuch0 does not exist/, 'the console says so at boot');
  await c.run('enable');
  await c.run('configure terminal');
  await c.run('interface GigabitEthernet0/2');
  await c.run('shutdown');
  await c.run('end');
  const brief = await c.run('show ip interface brief');
  t.match(brief, /^GigabitEthernet0\/0 .* up {20}up$/m, 'wired to a live interface: up/up');
  t.match(brief, /^GigabitEthernet0\/1 .* down {18}down$/m, 'wired to a missing interface: down/down');
  t.match(brief, /^GigabitEthernet0\/2 .* administratively down down$/m, 'shut: administratively down');
  t.match(await c.run('show interfaces GigabitEthernet0/0'), /GigabitEthernet0\/0 is up, line protocol is up\n  Hardware is Gigabit Ethernet, address is 0000\.0000\.0000/);
});

t.test('rampart daemon refuses a --port naming no port of the board', async (t) => {
  const bundle = await bundleForNode(join(root, 'firmware', 'entry.ts'));
  const r = spawnSync(process.execPath, [bundle, 'daemon', '--profile', 'branch', '--state', join(dir, 'refuse'), '--port', 'Serial9/9=lo'], { encoding: 'utf8', timeout: 60_000 });
  t.not(r.status, 0);
  t.match(r.stderr, /--port Serial9\/9=lo: this board has no port Serial9\/9/);
});
