// RFC 5424 syslog to a real Debian rsyslogd in a test namespace (`logging trap syslog-format
// rfc5424`): version 1 header, UTC timestamp with milliseconds (`service timestamps log
// datetime msec`), the IOS mnemonic as MSGID, `service sequence-numbers` as structured data
// `[meta sequenceId]` that counts up, and `logging origin-id string|ip` as the HOSTNAME
// (ip also as `[origin ip]`).
// Back to RFC 3164 with `no logging trap syslog-format`. No configured secret is received.
import t from 'tap';
import { Lab } from '../lib/netns.js';
import { startRampart } from '../ikev1-interop/lab.js';
import { rsyslogSkip as skip, startRsyslog } from './rsyslog.js';
const SECRET = 'rfc5424-s3cret';

t.test('rsyslog parses Rampart\'s RFC 5424 messages', { timeout: 300_000, ...(skip ? { skip } : {}) }, async (t) => {
  const lab = Lab.create('rt-5424');
  t.teardown(() => lab.destroy());
  lab.addNamespace('box');
  lab.execSync('box', ['ip', 'link', 'set', 'lo', 'up'], { allowFail: true });
  // what rsyslog's own RFC 5424 parser made of each datagram, one line each
  const rsyslog = await startRsyslog(lab, 'box', 'v=%protocol-version% pri=%pri% time=%timereported:::date-rfc3339% host=%hostname% msgid=%msgid% sd=%structured-data% msg=%msg% tag=%syslogtag%');
  t.teardown(() => rsyslog.proc.stop());

  const box = await startRampart(lab, 'box', {});
  t.teardown(() => { box.con.close(); return box.proc.stop(); });
  const waitFor = (re: RegExp) => rsyslog.waitFor(re);

  const cfg = await box.configure([
    'hostname Branch5424', `crypto isakmp key ${SECRET} address 10.9.9.9`,
    'service timestamps log datetime msec', 'service sequence-numbers',
    'logging trap syslog-format rfc5424', 'logging origin-id string BRANCH-7', 'logging facility local4',
    'logging trap debugging', 'logging host 127.0.0.1',
  ]);
  t.notMatch(cfg, /\[.*\] %/, 'the configuration is accepted');
  await box.con.waitApplied();
  const run = await box.exec('show running-config | include logging|sequence');
  t.match(run, /logging trap syslog-format rfc5424\n/, 'running-config: format');
  t.match(run, /logging origin-id string BRANCH-7\n/, 'running-config: origin-id');
  await box.configure(['interface FastEthernet0/1', ' shutdown']);
  await box.con.waitApplied();
  let got = await waitFor(/msgid=CHANGED/);
  const config = /^v=1 pri=165 time=(\S+) host=BRANCH-7 msgid=CONFIG_I sd=\[meta sequenceId="(\d+)"\] msg=%SYS-5-CONFIG_I: Configured from console by console tag=/m.exec(got);
  t.ok(config, 'CONFIG_I: version 1, local4.notice (PRI 165), origin-id as host, mnemonic as MSGID, sequence number as structured data');
  t.match(config?.[1] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}/, `timestamp with milliseconds (${config?.[1]})`);
  const changed = /^v=1 pri=165 time=\S+ host=BRANCH-7 msgid=CHANGED sd=\[meta sequenceId="(\d+)"\] msg=%LINK-5-CHANGED: Interface FastEthernet0\/1, changed state to administratively down tag=/m.exec(got);
  t.ok(changed, 'LINK-5-CHANGED');
  t.ok(Number(changed?.[1]) > Number(config?.[2]), 'sequence numbers count up');

  await box.configure(['logging origin-id ip', 'interface FastEthernet0/0', ' ip address 192.0.2.1 255.255.255.0', ' no shutdown']);
  await box.con.waitApplied();
  await box.configure(['interface FastEthernet0/1', ' no shutdown']);
  await box.con.waitApplied();
  got = await waitFor(/host=192\.0\.2\.1 msgid=UPDOWN/);
  t.match(got, /^v=1 pri=163 time=\S+ host=192\.0\.2\.1 msgid=UPDOWN sd=\[meta sequenceId="\d+"\]\[origin ip="192\.0\.2\.1"\] msg=%LINK-3-UPDOWN: Interface FastEthernet0\/1, changed state to up tag=/m,
    'origin-id ip: the interface address as host and [origin ip]');

  await box.configure(['no logging trap syslog-format', 'no logging origin-id', 'no service sequence-numbers', 'interface FastEthernet0/1', ' shutdown']);
  await box.con.waitApplied();
  got = await waitFor(/host=Branch5424.*tag=%LINK-5-CHANGED/);
  t.match(got, /^v=0 pri=165 time=\S+ host=Branch5424 msgid=- sd=- msg= ?Interface FastEthernet0\/1, changed state to administratively down tag=%LINK-5-CHANGED:$/m, 'back to RFC 3164 (rsyslog: version 0), the hostname, the mnemonic as tag');
  t.notMatch(got, new RegExp(SECRET), 'the configured key never reaches syslog');
});
