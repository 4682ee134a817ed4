// The event bus and its sinks as units: debug gating by the flag registry, scoped loggers
// carrying their context, crypto debug conditions (peer, subnet, SPI of either direction,
// conn-id, VRFs, unmatched), destination levels, the buffer's size, IOS line formats.
import t from 'tap';
import { EventBus, SEVERITY_NAMES, severityOf, type BusEvent, type DebugEvent } from '../../firmware/lib/event-bus.js';
import { DebugConditions } from '../../firmware/mgmt/debug-conditions.js';
import { formatLogLine, formatStamp, formatUptime, DEFAULT_TIMESTAMP } from '../../firmware/mgmt/log-format.js';
import { LoggingService, type LogTerminal } from '../../firmware/mgmt/logging-service.js';

const T0 = Date.UTC(2026, 2, 1, 0, 1, 2, 345); // Mar  1 00:01:02.345

function box() {
  let now = T0;
  const bus = new EventBus(() => now);
  const svc = new LoggingService(bus, { bootMs: T0 - 62_345 });
  const out: Record<string, string[]> = {};
  const term = (line: string, monitor = false): LogTerminal & { monitorOn: boolean } => {
    out[line] = [];
    const t = { line, monitorOn: monitor, monitor: () => t.monitorOn, write: (s: string) => { out[line]!.push(s); } };
    svc.attachTerminal(t);
    return t;
  };
  return { bus, svc, out, term, tick: (ms: number) => { now += ms; } };
}

t.test('severities are IOS names and numbers', async (t) => {
  t.same(SEVERITY_NAMES, ['emergencies', 'alerts', 'critical', 'errors', 'warnings', 'notifications', 'informational', 'debugging']);
  t.equal(severityOf('warnings'), 4);
  t.equal(severityOf('bogus'), undefined);
});

t.test('IOS stamps and lines', async (t) => {
  t.equal(formatStamp(T0, DEFAULT_TIMESTAMP, 0), '*Mar  1 00:01:02.345');
  t.equal(formatStamp(T0, { kind: 'datetime', localtime: false, msec: false, year: true, showTimezone: true }, 0), '*Mar  1 2026 00:01:02 UTC');
  t.equal(formatStamp(T0, { kind: 'uptime' }, T0 - 3_723_000), '01:02:03');
  t.equal(formatUptime(2 * 86400_000 + 5 * 3600_000), '2d05h');
  t.equal(formatUptime(9 * 86400_000), '1w2d');
  const ev: BusEvent = { kind: 'message', facility: 'SYS', level: 5, mnemonic: 'CONFIG_I', text: 'Configured from console by console', subsystem: 'SYS', context: {}, timeMs: T0 };
  t.equal(formatLogLine(ev, { stamp: DEFAULT_TIMESTAMP, bootMs: 0 }), '*Mar  1 00:01:02.345: %SYS-5-CONFIG_I: Configured from console by console');
  t.equal(formatLogLine(ev, { seq: 42, bootMs: 0 }), '000042: %SYS-5-CONFIG_I: Configured from console by console');
});

t.test('debug lines exist only while their flag is on; error lines also for `error`', async (t) => {
  const { bus, svc, out, term } = box();
  term('console');
  const ike = bus.logger('IKE', { peer: '10.0.0.2' });
  let built = 0;
  ike.debug('isakmp', () => { built++; return 'ISAKMP: off'; });
  t.equal(built, 0, 'nothing is formatted while debug is off');
  svc.flags.set('isakmp', 'error');
  ike.debug('isakmp', 'ISAKMP: chatty');
  ike.debug('isakmp', 'ISAKMP: failed', { error: true });
  svc.flags.set('isakmp', 'all');
  ike.debug('isakmp', 'ISAKMP: chatty again');
  ike.debug('ipsec', 'IPSEC: other class');
  t.same(out.console!.map((l) => l.replace(/^\S+ +\S+ \S+: /, '')), ['ISAKMP: failed\n', 'ISAKMP: chatty again\n']);
  svc.flags.clear();
  t.notOk(bus.debugOn('isakmp'));
});

t.test('console always, vty only with terminal monitor, buffer by level and size', async (t) => {
  const { bus, svc, out, term } = box();
  term('console');
  const vty = term('vty0');
  const quiet = term('vty1');
  svc.flags.set('ikev2', 'all');
  const log = bus.logger('IKE');
  log.debug('ikev2', 'IKEv2: one');
  vty.monitorOn = true;
  log.debug('ikev2', 'IKEv2: two');
  log.message('CRYPTO', 5, 'IKMP_SA_UP', 'up');
  t.equal(out.console!.length, 3);
  t.same(out.vty0!.map((l) => l.trim().split(': ').slice(1).join(': ')), ['IKEv2: two', '%CRYPTO-5-IKMP_SA_UP: up']);
  t.equal(quiet && out.vty1!.length, 0, 'a vty without terminal monitor sees nothing');
  t.equal(svc.bufferLines().length, 3);
  svc.configure({ ...svc.settings, buffered: { enabled: true, level: 5, sizeBytes: 4096 } });
  log.debug('ikev2', 'IKEv2: not buffered');
  log.message('CRYPTO', 5, 'X', 'buffered');
  t.equal(svc.bufferLines().length, 4, 'debug lines skip a buffer at notifications');
  svc.configure({ ...svc.settings, buffered: { enabled: true, level: 7, sizeBytes: 120 } });
  for (let i = 0; i < 10; i++) log.message('SYS', 6, 'N', `line ${i}`);
  const kept = svc.bufferLines();
  t.ok(kept.join('\n').length <= 120 && kept.at(-1)!.endsWith('line 9'), 'the oldest lines leave a full buffer');
  svc.configure({ ...svc.settings, console: { enabled: true, level: 3 } });
  const before = out.console!.length;
  log.message('SYS', 5, 'N', 'not on the console');
  log.message('SYS', 3, 'E', 'on the console');
  t.equal(out.console!.length, before + 1);
});

t.test('a terminal that throws is dropped; a sink that throws never reaches the producer', async (t) => {
  const { bus, svc } = box();
  let calls = 0;
  svc.attachTerminal({ line: 'console', monitor: () => false, write: () => { calls++; throw new Error('closed'); } });
  bus.subscribe(() => { throw new Error('bad sink'); });
  bus.logger('SYS').message('SYS', 5, 'A', 'one');
  bus.logger('SYS').message('SYS', 5, 'A', 'two');
  t.equal(calls, 1);
  t.equal(bus.sinkErrors, 2);
});

t.test('scoped loggers carry and extend their context', async (t) => {
  const bus = new EventBus(() => T0);
  const seen: BusEvent[] = [];
  bus.subscribe((e) => seen.push(e));
  bus.setDebugGate(() => true);
  const sa = bus.logger('IKE', { peer: '10.0.0.2', fvrf: 'wan' });
  sa.with({ connIds: [7], spis: [0x1000, 0x2000] }).debug('ipsec', 'IPSEC: up');
  t.same(seen[0]!.context, { peer: '10.0.0.2', fvrf: 'wan', connIds: [7], spis: [0x1000, 0x2000] });
  t.same(sa.context, { peer: '10.0.0.2', fvrf: 'wan' }, 'the parent logger is unchanged');
});

function dbg(context: DebugEvent['context'], debug: DebugEvent['debug'] = 'isakmp'): DebugEvent {
  return { kind: 'debug', debug, error: false, subsystem: 'IKE', level: 7, text: 'x', context, timeMs: 0 };
}

t.test('crypto debug conditions', async (t) => {
  const c = new DebugConditions();
  t.ok(c.passes(dbg({ peer: '10.9.9.9' })), 'no condition: everything');
  c.add({ type: 'peer-ipv4', value: '10.1.1.1' });
  c.add({ type: 'peer-subnet', value: '10.2.0.0', extra: '255.255.0.0' });
  t.ok(c.passes(dbg({ peer: '10.1.1.1' })));
  t.ok(c.passes(dbg({ peer: '10.2.33.4' })), 'inside the subnet');
  t.notOk(c.passes(dbg({ peer: '10.1.1.2' })));
  t.notOk(c.passes(dbg({})), 'a line without context is unmatched');
  c.setUnmatched('isakmp', true);
  t.ok(c.passes(dbg({})), 'unmatched isakmp shows it');
  t.ok(c.passes(dbg({}, 'ikev2')), 'IKEv2 lines use the IKE flag');
  t.notOk(c.passes(dbg({}, 'ipsec')), 'not the IPsec one');
  c.reset();
  c.add({ type: 'spi', value: String(0x2000) });
  t.ok(c.passes(dbg({ spis: [0x1000, 0x2000] })), 'either SPI of the flow');
  t.ok(c.passes(dbg({ spis: [0x2000, 0x1000] })), 'in both directions');
  t.notOk(c.passes(dbg({ spis: [0x3000, 0x4000], peer: '10.1.1.1' })));
  c.add({ type: 'connid', value: '2000', extra: '1' });
  t.ok(c.passes(dbg({ connIds: [2000] })));
  c.add({ type: 'fvrf', value: 'wan' });
  c.add({ type: 'ivrf', value: 'blue' });
  t.ok(c.passes(dbg({ fvrf: 'wan' })));
  t.ok(c.passes(dbg({ ivrf: 'blue' })));
  t.notOk(c.passes(dbg({ ivrf: 'red' })));
  c.add({ type: 'peer-hostname', value: 'Branch.Example.com' });
  t.ok(c.passes(dbg({ peerId: 'branch.example.com' })));
  t.ok(c.remove({ type: 'spi', value: String(0x2000) }));
  t.notOk(c.remove({ type: 'spi', value: '1' }));
  t.equal(c.all().length, 4);
});
