// The event bus in a running daemon with real consoles on its socket: a daemon error
// ("cannot bind") reaches the console as a system message without any environment
// variable; debug lines reach the console line, and a vty only with `terminal monitor`;
// `debug ...` / `show debugging` / `undebug all` drive the box-wide flag registry.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simBoard } from '../../board/sim.js';
import { Daemon } from '../../firmware/daemon/daemon.js';
import { IkeV1Service } from '../../firmware/daemon/ikev1-service.js';
import { ScriptedConsole } from '../lib/daemon-client.js';

async function newBox(t: { teardown(fn: () => unknown): void }, services = [] as IkeV1Service[]) {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-bus-'));
  const sock = join(dir, 'run', 'rampart.sock');
  const d = new Daemon({ board: simBoard({ stateDir: dir }), socketPath: sock, services });
  const saved = process.env.RAMPART_DEBUG;
  delete process.env.RAMPART_DEBUG;
  await d.start();
  if (saved !== undefined) process.env.RAMPART_DEBUG = saved;
  t.teardown(async () => { await d.stop(); rmSync(dir, { recursive: true, force: true }); });
  const open = async (line = 'console') => {
    const c = await ScriptedConsole.open(sock, line);
    t.teardown(() => c.close());
    return c;
  };
  return { d, open };
}

t.test('"cannot bind" reaches the console without RAMPART_DEBUG', async (t) => {
  const { open } = await newBox(t, [new IkeV1Service()]);
  const con = await open();
  await con.run('enable');
  for (const l of ['configure terminal', 'crypto isakmp policy 10', ' authentication pre-share', 'crypto isakmp key k3y address 0.0.0.0 0.0.0.0',
    'crypto ipsec transform-set ts esp-aes esp-sha-hmac', 'access-list 101 permit ip 10.1.0.0 0.0.0.255 10.2.0.0 0.0.0.255',
    'crypto map m 10 ipsec-isakmp', ' set peer 192.0.2.9', ' set transform-set ts', ' match address 101',
    'interface FastEthernet0/0', ' ip address 192.0.2.1 255.255.255.0', ' crypto map m']) await con.run(l);
  // 192.0.2.1 (TEST-NET-1) is on no interface of this host: the bind fails
  const out = await con.waitForOutput(/IKEV1-3-ERROR/);
  t.match(out, /^\*\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: %IKEV1-3-ERROR: cannot bind 192\.0\.2\.1 port 500: /m, 'an IOS system message on the console');
  t.notMatch(out, /k3y/, 'no key in it');
});

t.test('debug lines: console always, vty with terminal monitor only', async (t) => {
  const { d, open } = await newBox(t);
  const con = await open();
  const vty = await open('vty0');
  const other = await open('vty1');
  await con.run('enable');
  t.equal(await con.run('debug crypto isakmp'), 'Crypto ISAKMP debugging is on\n');
  t.equal(await con.run('debug crypto ipsec error'), 'Crypto IPSEC Error debugging is on\n');
  t.equal(await con.run('show debugging'), 'Cryptographic Subsystem:\n  Crypto ISAKMP debugging is on\n  Crypto IPSEC Error debugging is on\n');
  t.equal(await vty.run('terminal monitor'), '');
  const sa = d.bus.logger('IKE', { peer: '10.0.0.2', connIds: [1] });
  sa.debug('isakmp', 'ISAKMP:(0:1:SW:1):beginning Main Mode exchange');
  sa.debug('ipsec', 'IPSEC(chatty): not an error');
  sa.debug('ipsec', 'IPSEC(validate): proposal rejected', { error: true });
  const onCon = await con.waitForOutput(/proposal rejected/);
  t.match(onCon, /^\*\w{3} [ \d]\d [\d:.]+: ISAKMP:\(0:1:SW:1\):beginning Main Mode exchange$/m);
  t.notMatch(onCon, /chatty/, '`error` shows failures only');
  const onVty = await vty.waitForOutput(/proposal rejected/);
  t.match(onVty, /beginning Main Mode exchange/, 'the monitoring vty sees debug lines');
  t.equal(other.pending(), '', 'a vty without terminal monitor sees none');
  await vty.run('terminal no monitor');
  t.equal(await con.run('undebug all'), 'All possible debugging has been turned off\n');
  t.equal(await con.run('show debugging'), '');
  t.notOk(d.bus.debugOn('isakmp'));
});
