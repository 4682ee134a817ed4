// Tunnel endpoint discovery with IKEv2 between two Rampart boxes (test/lib/hub-spokes.ts
// spokes rw1 and rw2, LANs 10.9.N.0/24; the `inet` router knows the LANs). Each box has one
// dynamic map entry with `set ikev2-profile` and `discover`, a wildcard IKEv2 keyring, and no
// other box's address. A ping from host1 to host2 makes box 1 probe toward host2; box 2 (the
// gateway on the path that protects host2) answers; box 1 brings up an IKEv2 SA with it for
// the combined proxies (no IKEv1 SA anywhere), and host1 and host2 talk through it (ICMP and
// TCP, counted on both boxes' SAs). The probe and reply are on the wire and in
// `debug crypto ikev2`. A forged reply naming another responder is dropped and counted.
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { buildHubSpokes, type Spoke } from '../lib/hub-spokes.js';
import { ikev2PskBlock } from '../lib/ios-config.js';
import { startRampart, tcpEcho, waitForText, type RampartGw } from '../ikev1-interop/lab.js';
import { encodeTed } from '../../firmware/proto/ikev1/ted.js';

const skip = !isRoot() ? 'needs root: network namespaces' : !hasCommand('ip') ? 'needs iproute2'
  : !hasCommand('tcpdump') ? 'needs tcpdump' : undefined;

const KEY = 'ted-ikev2-mesh-key-5150';

function boxConfig(s: Spoke, n: number): string[] {
  return [
    `hostname tedv2-${n}`,
    ...ikev2PskBlock({
      names: { proposal: 'P2', policy: 'POL2', keyring: 'KR2', keyringPeer: 'ANY', profile: 'MESH2' },
      psk: KEY, keyringAddress: '0.0.0.0 0.0.0.0', matchRemote: '0.0.0.0', localAddress: s.wan,
    }), 'exit',
    'crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac', 'exit',
    'ip access-list extended MESH', ` permit ip 10.9.${n}.0 0.0.0.255 10.9.0.0 0.0.255.255`, 'exit',
    'crypto dynamic-map DT 10', ' set transform-set TS', ' set ikev2-profile MESH2', ' match address MESH', 'exit',
    'crypto map TED 10 ipsec-isakmp dynamic DT discover',
    'interface FastEthernet0/1', ` ip address ${s.lanGw} 255.255.255.0`, ' no shutdown', 'exit',
    'interface FastEthernet0/0', ` ip address ${s.wan} 255.255.255.0`, ' crypto map TED', ' no shutdown', 'exit',
    `ip route 0.0.0.0 0.0.0.0 ${s.wanGw}`,
  ];
}

/** Pings until one gets through (the first are dropped while TED and IKE run); bounded. */
async function pingThrough(lab: Lab, ns: string, dst: string, tries = 20): Promise<boolean> {
  for (let i = 0; i < tries; i++) if (await ping(lab, ns, dst, { count: 2, timeoutSec: 2 })) return true;
  return false;
}

const esc = (s: string): string => s.replace(/\./g, '\\.');
const counter = (text: string, label: string): number => Number(new RegExp(`${label}: (\\d+)`).exec(text)?.[1] ?? -1);

t.test('TED over IKEv2: box 1 discovers the gateway of host 2 and brings up an IKEv2 SA with it', { skip, timeout: 300_000 }, async (t) => {
  const lab = Lab.create('rdted2');
  t.teardown(() => lab.destroy());
  const topo = buildHubSpokes(lab, 2);
  for (const s of topo.spokes) lab.addRoute('inet', s.lan, { gw: s.wan });
  const [s1, s2] = topo.spokes as [Spoke, Spoke];
  const boxes: RampartGw[] = [];
  for (const [i, s] of topo.spokes.entries()) {
    const box = await startRampart(lab, s.gw, { 'FastEthernet0/0': 'wan0', 'FastEthernet0/1': 'lan0' });
    t.teardown(() => box.con.close());
    const out = await box.configure(boxConfig(s, i + 1));
    t.notMatch(out, /\[.*\] %/, `box ${i + 1} configured`);
    await box.exec('debug crypto ikev2');
    boxes.push(box);
  }
  const [b1, b2] = boxes as [RampartGw, RampartGw];
  const cap = lab.spawn('inet', ['tcpdump', '-l', '-n', '-i', 'any', 'udp', 'port', '500'], { name: 'tedv2-tcpdump' });
  t.teardown(() => cap.stop(1000));
  // tcpdump prints its banner on stderr once it listens
  await waitForText(async () => cap.output, /listening on/, 30_000);

  t.ok(await pingThrough(lab, s1.host, s2.hostAddr), `ping ${s1.hostAddr} -> ${s2.hostAddr} through a discovered IKEv2 tunnel`);
  t.ok(await ping(lab, s2.host, s1.hostAddr, { count: 3 }), `ping ${s2.hostAddr} -> ${s1.hostAddr} on the same tunnel`);
  t.ok(await tcpEcho(lab, s2.host, s1.host, s2.hostAddr, 5201), 'TCP host1 -> host2 through the tunnel');

  const sa1 = await b1.exec('show crypto ikev2 sa');
  t.match(sa1, new RegExp(`${esc(s1.wan)}/500\\s+${esc(s2.wan)}/500.*READY`), 'box 1: IKEv2 SA with box 2, READY');
  t.match(await b2.exec('show crypto ikev2 sa'), new RegExp(`${esc(s2.wan)}/500\\s+${esc(s1.wan)}/500.*READY`), 'box 2: IKEv2 SA with box 1, READY');
  t.notMatch(await b1.exec('show crypto isakmp sa'), new RegExp(esc(s2.wan)), 'box 1: no IKEv1 SA (the entry is IKEv2)');
  for (const [i, b] of boxes.entries()) {
    const other = topo.spokes[1 - i]!;
    const map = await b.exec('show crypto map');
    t.match(map, new RegExp(`Peer = ${esc(other.wan)}\\s+Extended IP access list`), `box ${i + 1}: temporary entry for box ${2 - i}`);
    t.match(map, new RegExp(`permit ip 10\\.9\\.${i + 1}\\.0 0\\.0\\.0\\.255 10\\.9\\.${2 - i}\\.0 0\\.0\\.0\\.255`), `box ${i + 1}: the combined proxies (own LAN <-> the other's LAN), not the template's /16`);
    t.match(map, /dynamic \(created from dynamic map DT\/10\)/, `box ${i + 1}: created from DT/10`);
    const ipsec = await b.exec('show crypto ipsec sa');
    const enc = Number(/#pkts encaps: (\d+)/.exec(ipsec)?.[1] ?? 0);
    const dec = Number(/#pkts decaps: (\d+)/.exec(ipsec)?.[1] ?? 0);
    t.ok(enc >= 3 && dec >= 3, `box ${i + 1}: SA counters encaps ${enc}, decaps ${dec}`);
  }

  const ted1 = await b1.exec('show crypto isakmp ted');
  const ted2 = await b2.exec('show crypto isakmp ted');
  t.ok(counter(ted1, 'Probes sent') >= 1, `box 1 sent ${counter(ted1, 'Probes sent')} probe(s)`);
  t.ok(counter(ted2, 'Replies sent') >= 1, `box 2 sent ${counter(ted2, 'Replies sent')} reply(ies)`);
  t.equal(counter(ted1, 'Dropped, reply not fitting its probe'), 0, 'no reply rejected in the normal run');
  t.match(b1.con.transcript, new RegExp(`IKEv2: TED: probe [0-9a-f]{16} sent toward ${esc(s2.hostAddr)} for ${esc(s1.hostAddr)} -> ${esc(s2.hostAddr)}`), 'debug crypto ikev2: box 1 probes toward host 2');
  t.match(b1.con.transcript, new RegExp(`IKEv2: TED: reply from ${esc(s2.wan)}: peer ${esc(s2.wan)}, proxies 10\\.9\\.1\\.0/24 <-> 10\\.9\\.2\\.0/24; initiating IKEv2`), 'debug crypto ikev2: box 1 combines the proxies and initiates IKEv2');
  t.match(b2.con.transcript, new RegExp(`IKEv2: TED: probe [0-9a-f]{16} from ${esc(s1.wan)} for ${esc(s1.hostAddr)} -> ${esc(s2.hostAddr)}: reply proxy 10\\.9\\.2\\.0/24, responder ${esc(s2.wan)}`), 'debug crypto ikev2: box 2 answers');

  // a forged reply (no outstanding probe, naming host 2's LAN as responder) from host 2: dropped, counted, no IKE to it
  const forged = encodeTed({ kind: 'reply', probeId: Uint8Array.from([8, 7, 6, 5, 4, 3, 2, 1]), replyId: Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1]), proxy: { addr: '10.9.0.0', prefixLen: 16 }, dstHost: '10.9.2.2', responder: s2.hostAddr });
  const script = `const s=require('dgram').createSocket('udp4');s.send(Buffer.from('${Buffer.from(forged).toString('hex')}','hex'),500,'${s1.wan}',()=>s.close())`;
  await lab.exec(s2.host, [process.execPath, '-e', script], { timeoutMs: 10_000 });
  const after = await waitForText(() => b1.exec('show crypto isakmp ted'), /Dropped, reply to no outstanding probe: [1-9]/, 30_000);
  t.ok(counter(after, 'Dropped, reply to no outstanding probe') >= 1, 'the forged reply is dropped and counted');
  t.notMatch(await b1.exec('show crypto ikev2 sa'), new RegExp(esc(s2.hostAddr)), 'no IKE toward the forger');

  await cap.stop(1000);
  t.match(cap.output, new RegExp(`${esc(s1.wan)}\\.500 > ${esc(s2.hostAddr)}\\.500: isakmp`), 'capture: the probe travels toward host 2');
  t.match(cap.output, new RegExp(`${esc(s2.wan)}\\.500 > ${esc(s1.wan)}\\.500: isakmp`), 'capture: the reply (and IKE) from box 2');
  for (const b of boxes) t.ok(b.proc.running, `box ${b.ns} still running`);
  t.notMatch(boxes.map((b) => b.proc.output).join(''), new RegExp(KEY), 'no key in any daemon output');
});
