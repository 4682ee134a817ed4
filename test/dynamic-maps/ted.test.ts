// Tunnel endpoint discovery among three Rampart boxes (test/lib/hub-spokes.ts spokes rw1-3,
// each with its LAN 10.9.N.0/24 behind it; the `inet` router knows the LANs): every box has the
// same configuration (one dynamic map with `discover`, a wildcard key), none names another.
// A ping from each LAN to each other LAN brings the right tunnel up; the probes and replies
// are on the wire (tcpdump in `inet`) and in `debug crypto isakmp`. Forged replies (no
// outstanding probe, wrong responder) and garbage are dropped and counted, and never make a
// box start IKE.
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { buildHubSpokes, type Spoke } from '../lib/hub-spokes.js';
import { startRampart, waitForText, type RampartGw } from '../ikev1-interop/lab.js';
import { waitOutput } from '../lib/wait.js';
import { encodeTed } from '../../firmware/proto/ikev1/ted.js';

const skip = !isRoot() ? 'needs root: network namespaces' : !hasCommand('ip') ? 'needs iproute2'
  : !hasCommand('tcpdump') ? 'needs tcpdump' : undefined;

const KEY = 'ted-mesh-key-1234';

function tedBoxConfig(s: Spoke, n: number): string[] {
  return [
    `hostname ted${n}`,
    'crypto isakmp policy 10', ' encryption aes 256', ' hash sha', ' authentication pre-share', ' group 14', 'exit',
    `crypto isakmp key ${KEY} address 0.0.0.0 0.0.0.0`,
    'crypto ipsec transform-set TS esp-aes 256 esp-sha-hmac', 'exit',
    'ip access-list extended MESH', ` permit ip 10.9.${n}.0 0.0.0.255 10.9.0.0 0.0.255.255`, 'exit',
    'crypto dynamic-map DT 10', ' set transform-set TS', ' match address MESH', 'exit',
    'crypto map TED 10 ipsec-isakmp dynamic DT discover',
    'interface FastEthernet0/1', ` ip address ${s.lanGw} 255.255.255.0`, ' no shutdown', 'exit',
    'interface FastEthernet0/0', ` ip address ${s.wan} 255.255.255.0`, ' crypto map TED', ' no shutdown', 'exit',
    `ip route 0.0.0.0 0.0.0.0 ${s.wanGw}`,
  ];
}

t.test('TED among three Rampart boxes: each LAN reaches each other LAN, peers discovered', { skip, timeout: 300_000 }, async (t) => {
  const lab = Lab.create('rdynted');
  t.teardown(() => lab.destroy());
  const topo = buildHubSpokes(lab, 3);
  for (const s of topo.spokes) lab.addRoute('inet', s.lan, { gw: s.wan });
  const boxes: RampartGw[] = [];
  for (const [i, s] of topo.spokes.entries()) {
    const box = await startRampart(lab, s.gw, { 'FastEthernet0/0': 'wan0', 'FastEthernet0/1': 'lan0' });
    t.teardown(() => box.con.close());
    const out = await box.configure(tedBoxConfig(s, i + 1));
    t.notMatch(out, /\[.*\] %/, `box ${i + 1} configured`);
    await box.exec('debug crypto isakmp');
    boxes.push(box);
  }
  // each box's configure returned once it was applied; the capture is awaited until it listens
  const cap = lab.spawn('inet', ['tcpdump', '-l', '-n', '-i', 'any', 'udp', 'port', '500'], { name: 'ted-tcpdump' });
  t.teardown(() => cap.stop(1000));
  await waitOutput(cap, /listening on/);

  // every ordered pair: the first pings are dropped while TED and IKE run, then they pass
  for (const [i, a] of topo.spokes.entries()) {
    for (const [j, b] of topo.spokes.entries()) {
      if (i === j) continue;
      await ping(lab, a.host, b.hostAddr, { count: 2, timeoutSec: 1 });
      let ok = false;
      for (let k = 0; k < 4 && !ok; k++) ok = await ping(lab, a.host, b.hostAddr, { count: 2, timeoutSec: 2 });
      t.ok(ok, `ping ${a.hostAddr} -> ${b.hostAddr} through a discovered tunnel`);
    }
  }
  for (const [i, box] of boxes.entries()) {
    const map = await box.exec('show crypto map');
    for (const [j, other] of topo.spokes.entries()) {
      if (i === j) continue;
      t.match(map, new RegExp(`Peer = ${other.wan.replace(/\./g, '\\.')}\\s+Extended IP access list`), `box ${i + 1} has a temporary entry for box ${j + 1}`);
    }
    t.match(map, /dynamic \(created from dynamic map DT\/10\)/, `box ${i + 1}: entries created from DT/10`);
  }
  // the first ping of a pair probes; the way back already has its tunnel: 3 pairs, 3 probes
  const teds = await Promise.all(boxes.map((b) => b.exec('show crypto isakmp ted')));
  const sum = (label: string): number => teds.reduce((n, x) => n + Number(new RegExp(`${label}: (\\d+)`).exec(x)?.[1] ?? 0), 0);
  t.ok(sum('Probes sent') >= 3, `probes sent: ${sum('Probes sent')} (one per box pair at least)`);
  t.ok(sum('Replies sent') >= 3, `replies sent: ${sum('Replies sent')}`);
  t.equal(sum('Dropped, reply not fitting its probe'), 0, 'no reply rejected in the normal run');
  const dbg = boxes[0]!.con.transcript;
  t.match(dbg, /TED: probe [0-9a-f]{16} sent toward 10\.9\.2\.2 for 10\.9\.1\.2 -> 10\.9\.2\.2/, 'debug: box 1 probes toward host 2');
  t.match(dbg, /TED: reply from 172\.18\.2\.2: peer 172\.18\.2\.2, proxies 10\.9\.1\.0\/24 <-> 10\.9\.2\.0\/24; initiating main mode/, 'debug: box 1 combines the proxies and initiates');
  t.match(boxes[1]!.con.transcript, /TED: probe [0-9a-f]{16} from 172\.18\.1\.2 for 10\.9\.1\.2 -> 10\.9\.2\.2: reply proxy 10\.9\.2\.0\/24, responder 172\.18\.2\.2/, 'debug: box 2 answers');
  await cap.stop(1000);
  const wire = cap.output;
  t.match(wire, /172\.18\.1\.2\.500 > 10\.9\.2\.2\.500: isakmp/, 'capture: the probe travels toward host 2');
  t.match(wire, /172\.18\.2\.2\.500 > 172\.18\.1\.2\.500: isakmp/, 'capture: the reply comes from box 2');

  // forged replies and garbage at box 1: dropped, counted, no IKE toward the forger
  const before = await boxes[0]!.exec('show crypto isakmp ted');
  const count = (text: string, label: string): number => Number(new RegExp(`${label}: (\\d+)`).exec(text)?.[1] ?? -1);
  const forge = [
    encodeTed({ kind: 'reply', probeId: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), replyId: Uint8Array.from([9, 9, 9, 9, 9, 9, 9, 9]), proxy: { addr: '10.9.0.0', prefixLen: 16 }, dstHost: '10.9.2.2', responder: '172.18.3.2' }),
    Uint8Array.from([...new Uint8Array(17), 0x10, 242, ...new Uint8Array(9)]),
    Buffer.from('not ISAKMP at all, but sent to port 500'),
  ];
  // the forger is host 3 (behind box 3, whose map does not cover traffic to box 1's WAN)
  const script = `const s=require('dgram').createSocket('udp4');const m=${JSON.stringify(forge.map((b) => Buffer.from(b).toString('hex')))};let n=0;for(const h of m){s.send(Buffer.from(h,'hex'),500,'${topo.spokes[0]!.wan}',()=>{if(++n===m.length)s.close()})}`;
  await lab.exec(topo.spokes[2]!.host, [process.execPath, '-e', script], { timeoutMs: 10_000 });
  const after = await waitForText(() => boxes[0]!.exec('show crypto isakmp ted'), /Dropped, malformed: [1-9]/, 5000);
  t.ok(count(after, 'Dropped, reply to no outstanding probe') > count(before, 'Dropped, reply to no outstanding probe'), 'a reply to no probe is dropped and counted');
  t.ok(count(after, 'Dropped, malformed') > count(before, 'Dropped, malformed'), 'a malformed TED message is dropped and counted');
  t.notMatch(await boxes[0]!.exec('show crypto isakmp sa'), /10\.9\.3\.2/, 'no IKE toward the forger');
  for (const b of boxes) t.ok(b.proc.running, `box ${b.ns} still running`);
  t.notMatch(boxes.map((b) => b.proc.output).join(''), new RegExp(KEY), 'no key in any daemon output');
});
