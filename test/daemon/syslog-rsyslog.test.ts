// Syslog to a real Debian rsyslogd in a test namespace: a Rampart daemon in the same
// namespace sends RFC 3164 datagrams (`logging host`, `logging trap`, `logging facility`);
// rsyslog receives the messages at or above the trap level with the configured facility
// (PRI) and hostname, and none below it. Then rsyslog is killed: the console still gets
// every message and the daemon answers at once; an unreachable host counts drops. No
// configured secret appears in anything rsyslog received.
import t from 'tap';
import { Lab } from '../lib/netns.js';
import { startRampart } from '../ikev1-interop/lab.js';
import { rsyslogSkip as skip, startRsyslog } from '../logging/rsyslog.js';

const SECRET = 'sysl0g-s3cret';

t.test('rsyslog in a namespace receives what logging trap admits', { timeout: 300_000, ...(skip ? { skip } : {}) }, async (t) => {
  const lab = Lab.create('rt-syslog');
  t.teardown(() => lab.destroy());
  lab.addNamespace('box');
  const ns = 'box';
  const rsyslog = await startRsyslog(lab, ns, '%pri% %hostname% %syslogtag%%msg%');

  const box = await startRampart(lab, ns, {});
  t.teardown(() => { box.con.close(); return box.proc.stop(); });
  const cfg = await box.configure([
    'hostname SyslogBox', `crypto isakmp key ${SECRET} address 10.9.9.9`,
    'logging host 127.0.0.1', 'logging trap notifications', 'logging facility local5',
  ]);
  t.notMatch(cfg, /\[.*\] %/, 'the configuration is accepted');
  await box.con.waitApplied();
  // level 5 (CONFIG_I) and 3 (LINK up) pass `logging trap notifications`; 6 (ISAKMP_ON_OFF) does not
  await box.configure(['crypto map m 10 ipsec-isakmp', 'interface FastEthernet0/1', ' shutdown', ' no shutdown', ' crypto map m']);
  await box.con.waitApplied();
  const got = await rsyslog.waitFor(/LINK-3-UPDOWN: Interface FastEthernet0\/1/);
  t.match(got, /^173 SyslogBox %SYS-5-CONFIG_I: Configured from console by console$/m, 'local5.notice (PRI 173), hostname, the IOS mnemonic as tag');
  t.match(got, /^171 SyslogBox %LINK-3-UPDOWN: Interface FastEthernet0\/1, changed state to up$/m, 'local5.err (PRI 171)');
  t.notMatch(got, /ISAKMP_ON_OFF/, 'informational is below the trap level');
  t.notMatch(got, new RegExp(SECRET), 'the configured key never reaches syslog');

  // a dead server: the console gets everything, the daemon answers at once
  await rsyslog.proc.stop();
  await box.configure(['logging host 192.0.2.99', 'interface FastEthernet0/1', ' shutdown']);
  const t0 = Date.now();
  let all = '';
  for (let i = 0; i < 20; i++) all += await box.exec('show clock');
  const ms = Date.now() - t0;
  t.ok(ms < 10_000, `20 commands answered while syslog is dead (${ms} ms)`);
  for (const l of ['configure terminal', 'interface FastEthernet0/1', ' no shutdown', 'end']) all += await box.con.run(l);
  await box.con.waitApplied();
  all += box.con.pending();
  t.match(all, /%LINK-3-UPDOWN: Interface FastEthernet0\/1, changed state to up/, 'console output is not lost');
  const show = await box.exec('show logging');
  t.match(show, /Logging to 127\.0\.0\.1 {2}\(udp port 514, audit disabled,/);
  t.match(show, /Logging to 192\.0\.2\.99 {2}\(udp port 514[\s\S]*?\d+ message lines logged/, 'both hosts listed with counters');
  t.match(show, /Trap logging: level notifications, [1-9]\d* message lines logged/);
});
