// `ping` and `traceroute` at the console of a daemon, real ICMP on loopback: IOS's lines
// (escape hint, what is sent, one `!` per reply, success rate and round-trip times), the
// repeat/size/source options, a source interface without an address refused, and how a
// probe is run and its answer read.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simBoard } from '../../board/sim.js';
import { Daemon } from '../../firmware/daemon/daemon.js';
import { IcmpProbeService, parsePingOutput, pingArgv } from '../../firmware/daemon/icmp-service.js';
import { ScriptedConsole } from '../lib/daemon-client.js';

const isRoot = process.getuid?.() === 0;

t.test('probe arguments and ping output, as the service reads them', async (t) => {
  t.same(pingArgv({ destination: '10.2.0.2', source: '10.1.0.1', sizeBytes: 100, timeoutMs: 2000, ttl: 7 }),
    ['-n', '-c', '1', '-W', '2', '-s', '72', '-t', '7', '-I', '10.1.0.1', '10.2.0.2'], 'size counts the whole datagram, as IOS does');
  t.throws(() => pingArgv({ destination: '10.2.0.2; reboot', sizeBytes: 100, timeoutMs: 1000 }), /not an IPv4 address/);
  t.same(parsePingOutput('PING 10.2.0.2 (10.2.0.2) 72(100) bytes of data.\n80 bytes from 10.2.0.2: icmp_seq=1 ttl=62 time=2.49 ms\n', 3), { kind: 'reply', from: '10.2.0.2', rttMs: 2 });
  t.same(parsePingOutput('64 bytes from 10.2.0.2: seq=0 ttl=64 time=0.081 ms\n', 1), { kind: 'reply', from: '10.2.0.2', rttMs: 0 }, 'busybox');
  t.same(parsePingOutput('From 172.16.0.2 icmp_seq=1 Time to live exceeded\n', 4.4), { kind: 'ttl-exceeded', from: '172.16.0.2', rttMs: 4 });
  t.same(parsePingOutput('From 10.1.0.1 icmp_seq=1 Destination Host Unreachable\n', 3000), { kind: 'unreachable', from: '10.1.0.1', rttMs: 3000, code: 1 });
  t.same(parsePingOutput('1 packets transmitted, 0 received, 100% packet loss\n', 2000), { kind: 'timeout' });
});

t.test('ping and traceroute at the console', { skip: isRoot ? false : 'ICMP from the daemon needs root (run npm test as root)' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-ping-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const sock = join(dir, 'run', 'rampart.sock');
  const d = new Daemon({ board: simBoard({ stateDir: dir }), socketPath: sock, services: [new IcmpProbeService()] });
  await d.start();
  t.teardown(() => d.stop());
  const c = await ScriptedConsole.open(sock);
  t.teardown(() => c.close());

  const user = await c.run('ping 127.0.0.1');
  t.match(user, /^Type escape sequence to abort\.\nSending 5, 100-byte ICMP Echos to 127\.0\.0\.1, timeout is 2 seconds:\n!!!!!\nSuccess rate is 100 percent \(5\/5\), round-trip min\/avg\/max = \d+\/\d+\/\d+ ms\n$/, 'user mode may ping');
  await c.run('enable');
  const opts = await c.run('ping ip 127.0.0.1 source 127.0.0.1 repeat 3 size 1500 timeout 1');
  t.match(opts, /Sending 3, 1500-byte ICMP Echos to 127\.0\.0\.1, timeout is 1 seconds:\nPacket sent with a source address of 127\.0\.0\.1 \n!!!\nSuccess rate is 100 percent \(3\/3\)/);
  t.match(await c.run('ping 127.0.0.1 source FastEthernet0/0'), /% Invalid source interface - FastEthernet0\/0 has no IP address/);
  t.match(await c.run('ping 127.0.0.1 repeat 0'), /% Invalid input detected/);
  const trace = await c.run('traceroute 127.0.0.1');
  t.match(trace, /^Type escape sequence to abort\.\nTracing the route to 127\.0\.0\.1\nVRF info: \(vrf in name\/id, vrf out name\/id\)\n  1 127\.0\.0\.1 \d+ msec \d+ msec \d+ msec \n$/);
  t.match(await c.run('ping 127.0.0.1 | json'), /"received": 5/);
});
