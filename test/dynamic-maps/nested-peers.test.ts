// IPsec traffic nested to multiple peers (guide, "IPsec Traffic Nested to Multiple Peers"):
// three Rampart boxes in a line, each configured only through its CLI,
//
//   hostA ---- A ------------------ B ------------------ C ---- hostC
//   10.1.0.2   10.1.0.1 172.30.1.1  172.30.1.2 172.30.2.1  172.30.2.2 10.3.0.1  10.3.0.2
//
// A protects LAN-to-LAN traffic for the inner peer C (esp-aes 256 + sha: encryption and
// authentication) and, in another entry of the same map, the ESP between itself and C for the
// outer peer B (esp-null + sha: authentication only). B is the "firewall": its map covers the
// ESP between C and A, so clear ESP from A to C is refused there and ESP from C to A is
// protected again for A. Pings and TCP between the hosts pass through both layers; the inner
// and outer SAs count the same packets on A, B sees only the outer SA, and C only the inner.
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { startRampart, tcpEcho, type RampartGw } from '../ikev1-interop/lab.js';

const skip = !isRoot() ? 'needs root: network namespaces' : !hasCommand('ip') ? 'needs iproute2' : undefined;

const KEY_AB = 'nest-outer-key-9911';
const KEY_AC = 'nest-inner-key-2288';
const PORTS = { 'FastEthernet0/0': 'wan0', 'FastEthernet0/1': 'lan0' };
const ISAKMP = ['crypto isakmp policy 10', ' encryption aes 256', ' hash sha', ' authentication pre-share', ' group 14', 'exit'];
const INNER_TS = ['crypto ipsec transform-set INNER esp-aes 256 esp-sha-hmac', 'exit'];
const OUTER_TS = ['crypto ipsec transform-set OUTER esp-null esp-sha-hmac', 'exit'];

const CONFIG_A = [
  'hostname nestA', ...ISAKMP,
  `crypto isakmp key ${KEY_AB} address 172.30.1.2`, `crypto isakmp key ${KEY_AC} address 172.30.2.2`,
  ...INNER_TS, ...OUTER_TS,
  'ip access-list extended TO-C-ESP', ' permit esp host 172.30.1.1 host 172.30.2.2', 'exit',
  'ip access-list extended LAN-C', ' permit ip 10.1.0.0 0.0.0.255 10.3.0.0 0.0.0.255', 'exit',
  // the outer peer first: A's ESP to C goes through B
  'crypto map NEST 10 ipsec-isakmp', ' set peer 172.30.1.2', ' set transform-set OUTER', ' match address TO-C-ESP', 'exit',
  'crypto map NEST 20 ipsec-isakmp', ' set peer 172.30.2.2', ' set transform-set INNER', ' match address LAN-C', 'exit',
  'interface FastEthernet0/1', ' ip address 10.1.0.1 255.255.255.0', ' no shutdown', 'exit',
  'interface FastEthernet0/0', ' ip address 172.30.1.1 255.255.255.0', ' crypto map NEST', ' no shutdown', 'exit',
  'ip route 0.0.0.0 0.0.0.0 172.30.1.2',
];

const CONFIG_B = [
  'hostname nestB', ...ISAKMP,
  `crypto isakmp key ${KEY_AB} address 172.30.1.1`,
  ...OUTER_TS,
  'ip access-list extended C-TO-A-ESP', ' permit esp host 172.30.2.2 host 172.30.1.1', 'exit',
  'crypto map FW 10 ipsec-isakmp', ' set peer 172.30.1.1', ' set transform-set OUTER', ' match address C-TO-A-ESP', 'exit',
  'interface FastEthernet0/0', ' ip address 172.30.1.2 255.255.255.0', ' crypto map FW', ' no shutdown', 'exit',
  'interface FastEthernet0/1', ' ip address 172.30.2.1 255.255.255.0', ' no shutdown', 'exit',
];

const CONFIG_C = [
  'hostname nestC', ...ISAKMP,
  `crypto isakmp key ${KEY_AC} address 172.30.1.1`,
  ...INNER_TS,
  'ip access-list extended LAN-A', ' permit ip 10.3.0.0 0.0.0.255 10.1.0.0 0.0.0.255', 'exit',
  'crypto map IN 10 ipsec-isakmp', ' set peer 172.30.1.1', ' set transform-set INNER', ' match address LAN-A', 'exit',
  'interface FastEthernet0/1', ' ip address 10.3.0.1 255.255.255.0', ' no shutdown', 'exit',
  'interface FastEthernet0/0', ' ip address 172.30.2.2 255.255.255.0', ' crypto map IN', ' no shutdown', 'exit',
  'ip route 0.0.0.0 0.0.0.0 172.30.2.1',
];

interface SaCounters { encaps: number; decaps: number; transform: string }

/** `show crypto ipsec sa`: the counters and ESP transform of the flow with `peer`, by its remote ident. */
function flowCounters(text: string, peer: string, remoteIdent: string): SaCounters | undefined {
  for (const block of text.split(/(?=\n\s+protected vrf:)/)) {
    if (!block.includes(`current_peer ${peer} `) || !block.includes(`remote ident (addr/mask/prot/port): (${remoteIdent}`)) continue;
    return {
      encaps: Number(/#pkts encaps: (\d+)/.exec(block)?.[1] ?? -1),
      decaps: Number(/#pkts decaps: (\d+)/.exec(block)?.[1] ?? -1),
      transform: /transform: ([^,\n]+)/.exec(block)?.[1]?.trim() ?? '',
    };
  }
  return undefined;
}

t.test('traffic to the inner peer C is protected for C, then again for the outer peer B', { skip, timeout: 300_000 }, async (t) => {
  const lab = Lab.create('rdnest');
  t.teardown(() => lab.destroy());
  for (const ns of ['hostA', 'A', 'B', 'C', 'hostC']) lab.addNamespace(ns);
  lab.addVeth({ ns: 'hostA', ifname: 'eth0', addr: '10.1.0.2/24' }, { ns: 'A', ifname: 'lan0' });
  lab.addVeth({ ns: 'A', ifname: 'wan0' }, { ns: 'B', ifname: 'wan0' });
  lab.addVeth({ ns: 'B', ifname: 'lan0' }, { ns: 'C', ifname: 'wan0' });
  lab.addVeth({ ns: 'C', ifname: 'lan0' }, { ns: 'hostC', ifname: 'eth0', addr: '10.3.0.2/24' });
  lab.addRoute('hostA', 'default', { gw: '10.1.0.1' });
  lab.addRoute('hostC', 'default', { gw: '10.3.0.1' });
  for (const ns of ['A', 'B', 'C']) lab.enableForwarding(ns);

  const boxes: Record<'A' | 'B' | 'C', RampartGw> = {} as Record<'A' | 'B' | 'C', RampartGw>;
  for (const [name, cfg] of [['A', CONFIG_A], ['B', CONFIG_B], ['C', CONFIG_C]] as const) {
    const box = await startRampart(lab, name, PORTS);
    t.teardown(() => box.con.close());
    t.notMatch(await box.configure(cfg), /\[.*\] %/, `box ${name} configured`);
    boxes[name] = box;
  }
  const { A, B, C } = boxes;

  // the first pings start IKE A-C, then (for A's first ESP to C) IKE A-B; then they pass
  let up = false;
  for (let i = 0; i < 20 && !up; i++) up = await ping(lab, 'hostA', '10.3.0.2', { count: 2, timeoutSec: 2 });
  t.ok(up, 'ping hostA -> hostC through both layers');
  if (!up) {
    for (const b of [A, B, C]) t.comment(await b.exec('show crypto ipsec sa'));
    return;
  }
  t.ok(await ping(lab, 'hostC', '10.1.0.2', { count: 5 }), 'ping hostC -> hostA through both layers');
  t.ok(await tcpEcho(lab, 'hostC', 'hostA', '10.3.0.2', 5301), 'TCP hostA -> hostC through both layers');

  const isaA = await A.exec('show crypto isakmp sa');
  t.match(isaA, /172\.30\.1\.2\s+172\.30\.1\.1\s+QM_IDLE|172\.30\.1\.1\s+172\.30\.1\.2\s+QM_IDLE/, 'A: ISAKMP SA with the outer peer B');
  t.match(isaA, /172\.30\.2\.2\s+172\.30\.1\.1\s+QM_IDLE|172\.30\.1\.1\s+172\.30\.2\.2\s+QM_IDLE/, 'A: ISAKMP SA with the inner peer C');
  t.notMatch(await B.exec('show crypto isakmp sa'), /172\.30\.2\.2/, 'B: no IKE SA with C (B only forwards the A-C exchange)');

  // a known number of pings, counted on each SA
  const before = { a: await A.exec('show crypto ipsec sa'), b: await B.exec('show crypto ipsec sa'), c: await C.exec('show crypto ipsec sa') };
  const aInner0 = flowCounters(before.a, '172.30.2.2', '10.3.0.0');
  const aOuter0 = flowCounters(before.a, '172.30.1.2', '172.30.2.2');
  const bOuter0 = flowCounters(before.b, '172.30.1.1', '172.30.1.1');
  const cInner0 = flowCounters(before.c, '172.30.1.1', '10.1.0.0');
  t.ok(aInner0 && aOuter0 && bOuter0 && cInner0, 'the inner SA (A, C) and the outer SA (A, B) are listed');
  if (!aInner0 || !aOuter0 || !bOuter0 || !cInner0) { t.comment(before.a); t.comment(before.b); return; }
  t.match(aInner0.transform, /esp-256-aes esp-sha-hmac|esp-aes/, `inner SA protection: ${aInner0.transform}`);
  t.match(aOuter0.transform, /esp-null esp-sha-hmac/, `outer SA protection: ${aOuter0.transform} (authentication only)`);
  const N = 10;
  t.ok(await ping(lab, 'hostA', '10.3.0.2', { count: N, timeoutSec: 3 }), `${N} more pings hostA -> hostC`);
  const after = { a: await A.exec('show crypto ipsec sa'), b: await B.exec('show crypto ipsec sa'), c: await C.exec('show crypto ipsec sa') };
  const aInner = flowCounters(after.a, '172.30.2.2', '10.3.0.0')!;
  const aOuter = flowCounters(after.a, '172.30.1.2', '172.30.2.2')!;
  const bOuter = flowCounters(after.b, '172.30.1.1', '172.30.1.1')!;
  const cInner = flowCounters(after.c, '172.30.1.1', '10.1.0.0')!;
  const d = (x: SaCounters, y: SaCounters): string => `encaps +${x.encaps - y.encaps}, decaps +${x.decaps - y.decaps}`;
  t.ok(aInner.encaps - aInner0.encaps >= N && aInner.decaps - aInner0.decaps >= N, `A inner SA (to C): ${d(aInner, aInner0)}`);
  t.ok(aOuter.encaps - aOuter0.encaps >= N && aOuter.decaps - aOuter0.decaps >= N, `A outer SA (to B): ${d(aOuter, aOuter0)}: the same packets again`);
  t.ok(bOuter.encaps - bOuter0.encaps >= N && bOuter.decaps - bOuter0.decaps >= N, `B outer SA (to A): ${d(bOuter, bOuter0)}`);
  t.ok(cInner.encaps - cInner0.encaps >= N && cInner.decaps - cInner0.decaps >= N, `C inner SA (to A): ${d(cInner, cInner0)}`);
  t.notMatch(after.c, /current_peer 172\.30\.1\.2 /, 'C has no SA with B (C knows only its inner peer)');

  // B is the firewall: clear ESP from A's address to C is refused there (its map says it must be protected)
  const bRules = lab.execSync('B', ['ip', 'rule', 'show']).stdout;
  t.match(bRules, /from 172\.30\.1\.1 to 172\.30\.2\.2 iif wan0 ipproto esp prohibit/, 'B: clear ESP from A to C arriving on the outside is prohibited');
  t.match(bRules, /from all iif lo ipproto esp lookup main/, "B: only the box's own ESP skips its crypto maps");

  for (const b of [A, B, C]) t.ok(b.proc.running, `box ${b.ns} still running`);
  t.notMatch([A, B, C].map((b) => b.proc.output).join(''), new RegExp(`${KEY_AB}|${KEY_AC}`), 'no key in any daemon output');
});
