// IOS system messages from a running daemon: %SYS-5-CONFIG_I when a console leaves
// configuration mode, %LINK/%LINEPROTO on shutdown / no shutdown, %CRYPTO-6-ISAKMP_ON_OFF
// when the first crypto map is applied, all kept in the log buffer (`show logging`);
// %CRYPTO-4-RECVD_PKT_INV_SPI from the data plane, rate-limited as IOS does.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simBoard } from '../../board/sim.js';
import '../../firmware/cli/commands/index.js';
import { createConfig } from '../../firmware/config/model.js';
import { Daemon, type ServiceContext } from '../../firmware/daemon/daemon.js';
import { DataplaneService } from '../../firmware/daemon/dataplane-service.js';
import { INVALID_SPI_INTERVAL_MS, RateGate } from '../../firmware/daemon/system-messages.js';
import { BindRegistry } from '../../firmware/dataplane/bind-registry.js';
import { busMembers, EventBus, type BusEvent } from '../../firmware/lib/event-bus.js';
import { fakeSystem } from '../lib/fake-system.js';
import { ScriptedConsole } from '../lib/daemon-client.js';
import { RuntimeRegistry } from '../../firmware/daemon/runtime-view.js';

t.test('configuration, interface and ISAKMP messages on the console and in the buffer', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-sysmsg-'));
  const sock = join(dir, 'run', 'rampart.sock');
  const d = new Daemon({ board: simBoard({ stateDir: dir }), socketPath: sock, services: [] });
  await d.start();
  t.teardown(async () => { await d.stop(); rmSync(dir, { recursive: true, force: true }); });
  const con = await ScriptedConsole.open(sock);
  t.teardown(() => con.close());
  // messages arrive while later lines run (an apply follows each command): collect everything
  let all = '';
  const run = async (l: string) => { all += await con.run(l); };
  for (const l of ['enable', 'configure terminal', 'interface FastEthernet0/1', ' shutdown', 'end']) await run(l);
  await con.waitApplied();
  for (const l of ['configure terminal', 'crypto map m 10 ipsec-isakmp', 'interface FastEthernet0/1', ' no shutdown', ' crypto map m']) await run(l);
  const end = await con.run('end');
  t.match(end, /^\*\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: %SYS-5-CONFIG_I: Configured from console by console$/m, 'CONFIG_I when leaving config mode');
  all += end;
  await con.waitApplied();
  all += con.pending();
  t.match(all, /%LINK-5-CHANGED: Interface FastEthernet0\/1, changed state to administratively down/);
  t.match(all, /%LINEPROTO-5-UPDOWN: Line protocol on Interface FastEthernet0\/1, changed state to down/);
  t.match(all, /%LINK-3-UPDOWN: Interface FastEthernet0\/1, changed state to up/);
  t.match(all, /%LINEPROTO-5-UPDOWN: Line protocol on Interface FastEthernet0\/1, changed state to up/);
  t.match(all, /%CRYPTO-6-ISAKMP_ON_OFF: ISAKMP is ON/);
  for (const l of ['configure terminal', 'interface FastEthernet0/1', ' no crypto map', 'end']) await run(l);
  await con.waitApplied();
  all += con.pending();
  t.match(all, /%CRYPTO-6-ISAKMP_ON_OFF: ISAKMP is OFF/);
  const log = await con.run('show logging');
  t.match(log, /Log Buffer \(4096 bytes\):\n\n[\s\S]*%LINK-5-CHANGED: Interface FastEthernet0\/1[\s\S]*%SYS-5-CONFIG_I[\s\S]*%LINK-3-UPDOWN: Interface FastEthernet0\/1, changed state to up[\s\S]*%CRYPTO-6-ISAKMP_ON_OFF: ISAKMP is OFF/);
});

t.test('RateGate: one per interval per key', async (t) => {
  let now = 0;
  const g = new RateGate(1000, () => now);
  t.ok(g.pass('a'));
  t.notOk(g.pass('a'));
  t.ok(g.pass('b'));
  now = 1000;
  t.ok(g.pass('a'));
  t.equal(g.suppressed, 1);
});

/** An ESP packet (IPv4, proto 50) for `spi` from src to dst. */
function esp(spi: number, src: number[], dst: number[]): Uint8Array {
  const p = new Uint8Array(60);
  p[0] = 0x45; p[9] = 50;
  p.set(src, 12); p.set(dst, 16);
  new DataView(p.buffer).setUint32(20, spi);
  return p;
}

t.test('%CRYPTO-4-RECVD_PKT_INV_SPI, rate-limited', async (t) => {
  const cfg = createConfig();
  const sys = fakeSystem();
  let now = 1_000_000;
  const bus = new EventBus(() => now);
  const seen: BusEvent[] = [];
  bus.subscribe((e) => { if (e.kind === 'message') seen.push(e); });
  const svc = new DataplaneService({ userspace: false, detect: false, io: { sendOuter: () => true, deliverInner: () => true } });
  const ctx: ServiceContext = {
    board: simBoard({ portMap: {} }), system: { ...sys, now: () => now }, config: () => cfg, runtime: new RuntimeRegistry(sys.runtime), log: () => {}, ...busMembers(bus),
    binds: new BindRegistry(async () => { throw new Error('no sockets in this test'); }), service: () => undefined,
  };
  await svc.start(ctx);
  t.teardown(() => svc.stop());
  for (let i = 0; i < 500; i++) svc.pipeline.inbound(esp(0x1234, [10, 0, 0, 2], [10, 0, 0, 1]));
  t.equal(seen.length, 1, '500 bad packets, one message');
  t.equal(seen[0]!.text, "decaps: rec'd IPSEC packet has invalid spi for destaddr=10.0.0.1, prot=50, spi=0x1234(4660), srcaddr=10.0.0.2");
  t.same(seen[0]!.context, { peer: '10.0.0.2', spis: [0x1234] }, 'with peer and SPI for conditional debug');
  svc.pipeline.inbound(esp(0x99, [10, 0, 0, 3], [10, 0, 0, 1]));
  t.equal(seen.length, 2, 'another peer gets its own line');
  now += INVALID_SPI_INTERVAL_MS;
  svc.pipeline.inbound(esp(0x1234, [10, 0, 0, 2], [10, 0, 0, 1]));
  t.equal(seen.length, 3, 'and the first peer again after the interval');
});
