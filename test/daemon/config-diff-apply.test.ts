// A whole daemon (default services, in process, no packet I/O) applying changes as diffs:
// a changed crypto map entry has its SAs reinstalled, entries that did not change keep
// theirs (the same SAs: same conn ids, counters and all), also across `configure
// replace`, which swaps in a new model; the applied state says what changed.
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simBoard } from '../../board/sim.js';
import { Daemon } from '../../firmware/daemon/daemon.js';
import { ScriptedConsole } from '../lib/daemon-client.js';
import { applyConfig } from '../lib/ios-config.js';

const KEY = 'cipher 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef authenticator 0123456789abcdef0123456789abcdef01234567';
// a loopback address of its own: the IKE services bind it, no other test does
const LOCAL = `127.${20 + (process.pid % 200)}.${process.pid % 250}.1`;

function manualEntry(seq: number, spiIn: number, spiOut: number, peer: string): string[] {
  return [
    `access-list ${100 + seq} permit ip 10.1.${seq}.0 0.0.0.255 10.2.${seq}.0 0.0.0.255`,
    `crypto map CM ${seq} ipsec-manual`, ` set peer ${peer}`, ' set transform-set TS', ` match address ${100 + seq}`,
    ` set session-key inbound esp ${spiIn} ${KEY}`, ` set session-key outbound esp ${spiOut} ${KEY}`, 'exit',
  ];
}

const CONFIG = [
  'crypto ipsec transform-set TS esp-aes 256 esp-sha-hmac', 'exit',
  ...manualEntry(10, 0x1010, 0x2010, '192.0.2.10'),
  ...manualEntry(20, 0x1020, 0x2020, '192.0.2.20'),
  'interface FastEthernet0/0', ` ip address ${LOCAL} 255.255.255.0`, ' crypto map CM', ' no shutdown', 'exit',
];

interface SaRow { seq: number; spi: number; connId: number }

async function sas(con: ScriptedConsole): Promise<SaRow[]> {
  const j = JSON.parse(await con.run('show crypto ipsec sa | json')) as { flows: { mapSeq: number; inbound: { spi: number; connId: number }[] }[] }[];
  return j.flatMap((i) => i.flows.flatMap((f) => f.inbound.map((s) => ({ seq: f.mapSeq, spi: s.spi, connId: s.connId })))).sort((a, b) => a.seq - b.seq);
}

t.test('unchanged entries keep their SAs across a change and across configure replace', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-diff-'));
  const sock = join(dir, 'run', 'rampart.sock');
  const d = new Daemon({ board: simBoard({ stateDir: dir }), socketPath: sock, sshPort: 0 });
  await d.start();
  t.teardown(async () => { await d.stop(); rmSync(dir, { recursive: true, force: true }); });
  const con = await ScriptedConsole.open(sock);
  t.teardown(() => con.close());
  await con.run('enable');
  await con.run('terminal length 0');
  await applyConfig(con, CONFIG);
  const st0 = await con.waitApplied();
  t.equal(st0.applied, st0.revision, 'applied');
  const before = await sas(con);
  t.same(before.map((s) => [s.seq, s.spi]), [[10, 0x1010], [20, 0x1020]], 'both manual entries have their SAs');

  // a change to entry 20 only
  await applyConfig(con, ['crypto map CM 20 ipsec-manual', ' set session-key inbound esp 4129 ' + KEY, 'exit']);
  const st1 = await con.waitApplied();
  const since = (a: typeof st0, b: typeof st0) => ({
    full: b.changes!.fullApplies - a.changes!.fullApplies, added: b.changes!.added - a.changes!.added,
    modified: b.changes!.modified - a.changes!.modified, removed: b.changes!.removed - a.changes!.removed,
  });
  t.same(since(st0, st1), { full: 0, modified: 1, added: 0, removed: 0 }, 'one entry modified');
  const after = await sas(con);
  t.same(after.map((s) => [s.seq, s.spi]), [[10, 0x1010], [20, 4129]], 'entry 20 has its new SA');
  t.equal(after[0]!.connId, before[0]!.connId, 'entry 10 kept its SA');
  t.not(after[1]!.connId, before[1]!.connId, 'entry 20 got a new one');

  // configure replace with a file that differs in entry 20's peer: a new model
  const running = await con.run('show running-config');
  const text = running.slice(running.indexOf('!')).replace('set peer 192.0.2.20', 'set peer 192.0.2.21');
  mkdirSync(join(dir, 'flash'), { recursive: true });
  writeFileSync(join(dir, 'flash', 'next.cfg'), text);
  t.match(await con.run('configure replace flash:next.cfg force'), /Rollback Done/);
  const st2 = await con.waitApplied();
  t.same(st2.failures, []);
  t.same(since(st1, st2), { full: 0, modified: 1, added: 0, removed: 0 }, 'the replaced model differs in one entry');
  const replaced = await sas(con);
  t.equal(replaced[0]!.connId, after[0]!.connId, 'entry 10 kept its SA across configure replace');
  t.not(replaced[1]!.connId, after[1]!.connId, 'entry 20 (new peer) was reinstalled');
  t.match(await con.run('show crypto ipsec sa'), /current_peer 192\.0\.2\.21 port 500/);

  // the same file again: nothing changes at all
  writeFileSync(join(dir, 'flash', 'same.cfg'), text);
  await con.run('configure replace flash:same.cfg force');
  const st3 = await con.waitApplied();
  t.same(since(st2, st3), { full: 0, modified: 0, added: 0, removed: 0 }, 'replacing with the same configuration changes nothing');
  t.same((await sas(con)).map((s) => s.connId), replaced.map((s) => s.connId), 'every SA kept');

  // a full re-apply rebuilds everything, and still the manual SAs are kept (same content)
  const full = await d.reapplyFull();
  t.equal(full.changes.lastFull, true);
  t.same((await sas(con)).map((s) => s.connId), replaced.map((s) => s.connId), 'a full re-apply keeps SAs whose entries did not change');
});
