// Logging and debug commands against a real logging service (the daemon's, without the
// daemon): the guide's conditional-debug examples pasted as they are and their output;
// the order the guide requires to disable; `show debugging`; `show logging` (IOS layout:
// counters per destination, then the buffer), `clear logging`, buffered levels; the
// timestamp and sequence-number forms reaching the lines.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../firmware/cli/commands/index.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import { createConfig, type Config } from '../../firmware/config/model.js';
import { EventBus } from '../../firmware/lib/event-bus.js';
import { LoggingService, loggingSettingsFrom } from '../../firmware/mgmt/logging-service.js';
import { typedLines } from '../corpus/guide-paste.js';
import { fakeSystem } from '../lib/fake-system.js';

const T0 = Date.UTC(2026, 2, 1, 0, 1, 2, 345);

function box() {
  const sys = fakeSystem(T0);
  const bus = new EventBus(() => T0);
  const svc = new LoggingService(bus, { bootMs: T0 - 62_000 });
  sys.runtime.logging = svc.view();
  const config: Config = createConfig();
  const run = async (lines: string[]) => {
    const r = await runTranscript(lines, { config, system: sys, privileged: true });
    svc.configure(loggingSettingsFrom(config)); // what the daemon's logging applier does
    return r.text;
  };
  return { bus, svc, run, config };
}

const guide = (f: string) => typedLines(readFileSync(join(import.meta.dirname, '..', 'corpus', 'guide', f), 'utf8')).map((l) => l.text);

t.test("the guide's conditional debug examples, pasted as they are", async (t) => {
  const { run, svc } = box();
  const out = await run(guide('28-conditional-debug-enable.txt'));
  t.ok(out.includes([
    'Router#show crypto debug-condition',
    'Crypto conditional debug currently is turned ON',
    'IKE debug context unmatched flag:ON',
    'IPsec debug context unmatched flag:ON',
    'Crypto Engine debug context unmatched flag:ON',
    'IKE peer IP address filters:',
    '10.1.1.1 10.1.1.2 10.1.1.3',
    'Connection-id filters:[connid:engine_id]2000:1,',
    '',
  ].join('\n')), `the guide's layout\n${out}`);
  t.match(out, /Router#debug crypto isakmp\nCrypto ISAKMP debugging is on\nRouter#debug crypto ipsec\nCrypto IPSEC debugging is on\nRouter#debug crypto engine\nCrypto Engine debugging is on\n/);
  t.same(svc.flags.entries(), [['isakmp', 'all'], ['ipsec', 'all'], ['engine', 'all']]);
  const refused = await run(guide('29-conditional-debug-disable.txt'));
  t.match(refused, /% Turn off the global crypto debugs/, 'the guide: global debugs off first');
  t.match(refused, /currently is turned ON/);
  const dbg = await run(['show debugging']);
  t.match(dbg, /Cryptographic Subsystem:\n  Crypto ISAKMP debugging is on\n  Crypto IPSEC debugging is on\n  Crypto Engine debugging is on\n  Crypto conditional debug is on/);
  await run(['undebug all']);
  const off = await run(guide('29-conditional-debug-disable.txt'));
  t.ok(off.includes([
    'Router#show crypto debug-condition',
    'Crypto conditional debug currently is turned OFF',
    'IKE debug context unmatched flag:OFF',
    'IPsec debug context unmatched flag:OFF',
    'Crypto Engine debug context unmatched flag:OFF',
    '',
  ].join('\n')), off);
});

t.test('every condition type and its no form', async (t) => {
  const { run } = box();
  const out = await run([
    'debug crypto condition peer subnet 10.2.0.0 255.255.0.0', 'debug crypto condition peer hostname branch.example.com',
    'debug crypto condition peer username alice', 'debug crypto condition peer group sales', 'debug crypto condition isakmp profile spokes', 'debug crypto condition spi 4096',
    'debug crypto condition flowid 5 engine-id 1', 'debug crypto condition fvrf wan', 'debug crypto condition ivrf blue',
    'debug crypto condition unmatched ipsec',
    'show crypto debug-condition', 'show crypto debug-condition spi', 'show crypto debug-condition unmatched',
    'no debug crypto condition spi 4096', 'no debug crypto condition spi 7', 'show crypto debug-condition spi',
  ]);
  t.match(out, /IKE peer subnet filters:\n10\.2\.0\.0\/255\.255\.0\.0\nIKE peer hostname filters:\nbranch\.example\.com\nIKE peer username filters:\nalice\nIKE peer group filters:\nsales\nISAKMP profile filters:\nspokes\nFlow-id filters:\[flowid:engine_id\]5:1,\nSPI filters:\n4096\nFront-door VRF filters:\nwan\nInside VRF filters:\nblue\n/);
  t.match(out, /Router#show crypto debug-condition spi\nSPI filters:\n4096\nRouter#show crypto debug-condition unmatched\nIKE debug context unmatched flag:OFF\nIPsec debug context unmatched flag:ON\nCrypto Engine debug context unmatched flag:OFF\n/);
  t.match(out, /Router#no debug crypto condition spi 7\n% No such debug condition\nRouter#show crypto debug-condition spi\n\nRouter#/);
});

t.test('show logging: counters per destination, then the buffer; clear logging', async (t) => {
  const { run, bus } = box();
  await run(['configure terminal', 'logging buffered 8192 informational', 'logging host 192.0.2.10', 'logging trap notifications', 'logging source-interface FastEthernet0/0', 'end']);
  const sys = bus.logger('SYS');
  sys.message('SYS', 5, 'CONFIG_I', 'Configured from console by console');
  sys.message('LINK', 3, 'UPDOWN', 'Interface FastEthernet0/0, changed state to up');
  sys.message('SYS', 7, 'NOISE', 'not at informational');
  const out = await run(['show logging']);
  t.equal(out, [
    'Router#show logging',
    'Syslog logging: enabled (0 messages dropped, 0 messages rate-limited, 0 flushes, 0 overruns, xml disabled, filtering disabled)',
    '', 'No Active Message Discriminator.', '', '', '', 'No Inactive Message Discriminator.', '', '',
    '    Console logging: level debugging, 3 messages logged, xml disabled,',
    '                     filtering disabled',
    '    Monitor logging: level debugging, 3 messages logged, xml disabled,',
    '                     filtering disabled',
    '    Buffer logging:  level informational, 2 messages logged, xml disabled,',
    '                    filtering disabled',
    '    Exception Logging: size (4096 bytes)',
    '    Count and timestamp logging messages: disabled',
    '    Persistent logging: disabled',
    '', 'No active filter modules.', '',
    '    Trap logging: level notifications, 0 message lines logged',
    '        Logging to 192.0.2.10  (udp port 514, audit disabled,',
    '              link up),',
    '              0 message lines logged, ',
    '              0 message lines rate-limited, ',
    '              0 message lines dropped-by-MD, ',
    '              xml disabled, sequence number disabled',
    '              filtering disabled',
    '        Logging Source-Interface:       VRF Name:',
    '        FastEthernet0/0                 ',
    '',
    'Log Buffer (8192 bytes):',
    '',
    '*Mar  1 00:01:02.345: %SYS-5-CONFIG_I: Configured from console by console',
    '*Mar  1 00:01:02.345: %LINK-3-UPDOWN: Interface FastEthernet0/0, changed state to up',
    'Router#',
  ].join('\n'));
  const cleared = await run(['clear logging', '', 'show logging | begin Log Buffer']);
  t.match(cleared, /Clear logging buffer \[confirm\]\nRouter#show logging \| begin Log Buffer\nLog Buffer \(8192 bytes\):\n\nRouter#$/);
  const kept = await run(['clear logging', 'n', 'show logging | include flushes']);
  t.match(kept, /1 flushes/, 'n keeps the buffer; one flush counted');
});

t.test('timestamps and sequence numbers as configured', async (t) => {
  const { run, bus, svc } = box();
  await run(['configure terminal', 'service sequence-numbers', 'service timestamps log uptime', 'no service timestamps debug', 'end']);
  svc.flags.set('isakmp', 'all');
  bus.logger('SYS').message('SYS', 5, 'CONFIG_I', 'Configured from console by console');
  bus.logger('IKE').debug('isakmp', 'ISAKMP:(0:1:SW:1):hello');
  t.same(svc.bufferLines(), ['000001: 00:01:02: %SYS-5-CONFIG_I: Configured from console by console', '000002: ISAKMP:(0:1:SW:1):hello']);
  await run(['configure terminal', 'no service sequence-numbers', 'service timestamps log datetime year', 'no logging buffered', 'end']);
  t.same(svc.bufferLines(), [], 'no logging buffered empties the buffer');
  await run(['configure terminal', 'logging buffered', 'end']);
  bus.logger('SYS').message('SYS', 5, 'X', 'y');
  t.same(svc.bufferLines(), ['*Mar  1 2026 00:01:02: %SYS-5-X: y']);
});
