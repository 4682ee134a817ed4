// Two Rampart daemons configured with the guide's "Example Configuring AES-Based Static
// Crypto Map" (ISAKMP policy 10 aes 256 / pre-share / lifetime 180, key cisco123, transform
// set aasset esp-aes 256 esp-sha-hmac mode transport, crypto map aesmap 10).
// Adapted where the netns topology needs it (the guide's example is not self-consistent):
//   - the two WAN addresses are the guide's 10.0.110.2 (gwA) and 10.0.110.1 (gwB), each
//     peer pointing at the other;
//   - ACL 120 protects LAN A 10.1.0.0/24 <-> LAN B 10.2.0.0/24 (the guide's ACL names the
//     same /24 on both sides, which two boxes cannot both own);
//   - `mode transport` stays: as on IOS, subnet traffic is negotiated in tunnel mode;
//   - NAT, voice and serial lines of the example are left out.
// Then: traffic-triggered bring-up, ping and TCP both ways, show commands on both boxes,
// a volume rekey (lifetime kilobytes 2560) while a ping runs (at most one lost), debug
// crypto isakmp output on the console, `clear crypto sa` sending DELETE to the peer.
import t from 'tap';
import { isRoot, hasCommand } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { sleep, rampartPairLab, tcpEcho, waitForText } from './lab.js';

const skip = !isRoot() ? 'needs root: network namespaces' : !hasCommand('ip') ? 'needs iproute2' : undefined;

function guideConfig(side: 'A' | 'B'): string[] {
  const a = side === 'A';
  const me = a ? '10.0.110.2' : '10.0.110.1';
  const peer = a ? '10.0.110.1' : '10.0.110.2';
  return [
    `hostname gw${side}`,
    'crypto isakmp policy 10', ' encryption aes 256', ' authentication pre-share', ' lifetime 180', 'exit',
    `crypto isakmp key cisco123 address ${peer}`,
    'crypto ipsec transform-set aasset esp-aes 256 esp-sha-hmac', ' mode transport', 'exit',
    'crypto map aesmap 10 ipsec-isakmp', ` set peer ${peer}`, ' set transform-set aasset', ' match address 120', 'exit',
    'interface FastEthernet0/0', ` ip address ${me} 255.255.255.0`, ' crypto map aesmap', ' no shutdown', 'exit',
    'interface FastEthernet0/1', ` ip address ${a ? '10.1.0.1' : '10.2.0.1'} 255.255.255.0`, ' no shutdown', 'exit',
    `access-list 120 permit ip ${a ? '10.1.0.0' : '10.2.0.0'} 0.0.0.255 ${a ? '10.2.0.0' : '10.1.0.0'} 0.0.0.255`,
  ];
}

t.test('two Rampart boxes with the guide AES static crypto map example', { skip, timeout: 300_000 }, async (t) => {
  const { lab, gwA, gwB } = await rampartPairLab(t, 'rk1p');
  t.notMatch(await gwA.configure(guideConfig('A')), /\[.*\] %/, 'gwA accepts the guide config');
  t.notMatch(await gwB.configure(guideConfig('B')), /\[.*\] %/, 'gwB accepts the guide config');

  await ping(lab, 'hostA', '10.2.0.2', { count: 2, timeoutSec: 1 });
  const up = await ping(lab, 'hostA', '10.2.0.2', { count: 5, timeoutSec: 3 });
  t.ok(up, 'ping hostA -> hostB (gwA initiated on traffic)');
  if (!up) {
    t.comment(gwA.proc.output.split('\n').slice(-30).join('\n'));
    t.comment(gwB.proc.output.split('\n').slice(-30).join('\n'));
    t.comment(await gwA.exec('show crypto isakmp sa'));
    return;
  }
  t.ok(await ping(lab, 'hostB', '10.1.0.2', { count: 3 }), 'ping hostB -> hostA');
  t.ok(await tcpEcho(lab, 'hostA', 'hostB', '10.1.0.2', 5556), 'TCP hostB -> hostA through the tunnel');
  t.ok(await tcpEcho(lab, 'hostB', 'hostA', '10.2.0.2', 5557), 'TCP hostA -> hostB through the tunnel');
  t.match(await gwA.exec('show crypto isakmp sa'), /10\.0\.110\.1\s+10\.0\.110\.2\s+QM_IDLE\s+\d+ ACTIVE/, 'gwA: initiator row');
  t.match(await gwB.exec('show crypto isakmp sa'), /10\.0\.110\.1\s+10\.0\.110\.2\s+QM_IDLE\s+\d+ ACTIVE/, 'gwB: responder row');
  const sessB = await gwB.exec('show crypto session');
  t.match(sessB, /Session status: UP-ACTIVE[\s\S]*Peer: 10\.0\.110\.2 port 500[\s\S]*IPSEC FLOW: permit ip 10\.2\.0\.0\/255\.255\.255\.0 10\.1\.0\.0\/255\.255\.255\.0/);
  const ipsecA = await gwA.exec('show crypto ipsec sa');
  t.match(ipsecA, /in use settings =\{Tunnel/i, 'tunnel mode negotiated for subnets (transform set says transport)');

  // volume rekey while a ping runs
  await gwA.configure(['crypto map aesmap 10 ipsec-isakmp', ' set security-association lifetime kilobytes 2560', 'exit']);
  await gwA.exec('clear crypto sa');
  await ping(lab, 'hostA', '10.2.0.2', { count: 2, timeoutSec: 1 });
  const spisBefore = new Set((await gwA.exec('show crypto ipsec sa')).match(/spi: 0x[0-9A-F]+/gi) ?? []);
  const watch = lab.spawn('hostA', ['ping', '-n', '-i', '0.1', '-c', '80', '-W', '1', '10.2.0.2'], { name: 'ping-watch' });
  await sleep(1500);
  await lab.exec('hostA', ['ping', '-n', '-q', '-f', '-c', '2600', '-s', '1200', '-W', '1', '10.2.0.2'], { timeoutMs: 30_000 });
  const end = Date.now() + 15_000;
  while (watch.running && Date.now() < end) await sleep(200);
  const m = /(\d+) packets transmitted, (\d+) received/.exec(watch.output);
  const lost = m ? Number(m[1]) - Number(m[2]) : -1;
  const counters = await gwA.exec('show crypto isakmp sa');
  t.ok(m && lost <= 1, `ping during volume rekey: ${m?.[0] ?? watch.output.slice(-200)} (lost ${lost})`);
  void counters;
  const spisAfter = (await gwA.exec('show crypto ipsec sa')).match(/spi: 0x[0-9A-F]+/gi) ?? [];
  t.ok(spisBefore.size > 0 && spisAfter.length > 0 && spisAfter.some((x) => !spisBefore.has(x)), `new SPIs after the volume rekey (${[...spisBefore].join(',')} -> ${spisAfter.join(',')})`);
  t.ok(await ping(lab, 'hostA', '10.2.0.2', { count: 3 }), 'tunnel works after the rekey');

  // debug crypto isakmp on gwB, clear crypto sa on gwA: DELETE arrives at gwB
  await gwB.exec('debug crypto isakmp');
  const before = await gwB.exec('show crypto ipsec sa');
  t.match(before, /spi: 0x/i, 'gwB has SAs');
  await gwA.exec('clear crypto sa');
  const after = await waitForText(() => gwB.exec('show crypto ipsec sa'), /^(?![\s\S]*spi: 0x)/i, 5000);
  t.notMatch(after, /spi: 0x/i, 'gwB deleted its SAs on the DELETE from gwA');
  await ping(lab, 'hostA', '10.2.0.2', { count: 2, timeoutSec: 1 });
  // the new negotiation's debug lines reach gwB's console (bounded wait, no sleep)
  const dbg = await waitForText(async () => gwB.con.pending(), /ISAKMP:\(0:\d+:SW:1\):/, 15_000);
  t.match(dbg, /ISAKMP:\(0:\d+:SW:1\):/, 'debug lines with the IOS prefix on the console that enabled them');
  t.notMatch(dbg, /cisco123/, 'the PSK never appears in debug output');
  t.notMatch(gwA.proc.output + gwB.proc.output, /cisco123/, 'nor in the daemon logs');
  await gwB.exec('undebug crypto isakmp');
  // clear crypto isakmp: the ISAKMP SA goes on both boxes (DELETE for the ISAKMP SA)
  t.match(await gwB.exec('show crypto isakmp sa'), /QM_IDLE/, 'gwB has an ISAKMP SA');
  await gwA.exec('clear crypto isakmp');
  const isaB = await waitForText(() => gwB.exec('show crypto isakmp sa'), /^(?![\s\S]*QM_IDLE)/, 5000);
  t.notMatch(isaB, /QM_IDLE/, 'gwB removed the ISAKMP SA on the DELETE from gwA');
});
