// Issue 15: VRF-aware dynamic VTIs over IKEv1 (guide: "VRF-Aware IPsec", single template model:
// `vrf` in the ISAKMP profile). Two customers whose branches use the same address space
// (10.9.0.0/24) terminate on one hub through one Virtual-Template without a VRF; the ISAKMP
// profile each spoke matches puts its Virtual-Access in the customer's VRF. Pings between the
// customers must fail. Each customer's spoke has its own pre-shared key, kept in the
// customer's keyring.
//
//   hostA 10.1.0.2 - Gi0/1 (vrf A) [hub] Gi0/0 172.16.0.1 -- [inet] -- 172.16.N.1 [spokeN] - hostN 10.9.0.2
//   hostB 10.2.0.2 - Gi0/2 (vrf B)
//
// The second case puts the hub's outside interface in a front-door VRF (`ip vrf forwarding
// INET` on Gi0/0, `ip route vrf INET 0.0.0.0 ...`): IKE and ESP then use INET's table, the
// keyrings are bound to it (`crypto keyring K vrf INET`) and the profiles match the peers in
// it (`match identity address A M INET`). A peer arriving in INET finds its key only in an INET
// keyring: spoke 2's key first sits in a global keyring, and spoke 2 stays down until the key
// moves to an INET keyring. This host's kernel has no vrf devices: VRFs are policy-routing
// tables.
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { startBox, type Box } from '../lib/box.js';
import { buildTunnelHub, TWO_CUSTOMER_HUB_PORTS, TWO_CUSTOMERS } from '../lib/hub-spokes.js';
import { waitUntil } from '../lib/wait.js';
import { checkCustomersApart } from './vrf-customers.js';

const skip = !isRoot() ? 'needs root: network namespaces, TUN, raw sockets' : !hasCommand('ping') ? 'needs ping' : undefined;
const psk = (n: number) => `rampart-v1-vrf-psk-${n}`;

const ISAKMP = ['crypto isakmp policy 1', ' encr aes 256', ' hash sha256', ' authentication pre-share', ' group 14', 'exit'];
const TS = ['crypto ipsec transform-set T1 esp-aes 256 esp-sha256-hmac', ' mode tunnel', 'exit'];

/** `fvrf`: the hub's outside interface's front-door VRF (undefined: global). */
function hubConfig(fvrf: string | undefined, spoke2KeyInFvrf: boolean): string[] {
  const inFvrf = fvrf !== undefined ? ` vrf ${fvrf}` : '';
  const matchVrf = fvrf !== undefined ? ` ${fvrf}` : '';
  const customer = (n: 1 | 2, vrf: 'A' | 'B'): string[] => [
    `crypto isakmp profile CUST${vrf}`, ` vrf ${vrf}`, ` keyring K${n}`,
    ` match identity address 172.16.${n}.1 255.255.255.255${matchVrf}`, ' virtual-template 1', 'exit',
  ];
  return [
    'ip vrf A', ' rd 65000:1', 'exit', 'ip vrf B', ' rd 65000:2', 'exit',
    ...(fvrf !== undefined ? [`ip vrf ${fvrf}`, ' rd 65000:100', 'exit'] : []),
    'interface GigabitEthernet0/0', ...(fvrf !== undefined ? [` ip vrf forwarding ${fvrf}`] : []), ' ip address 172.16.0.1 255.255.255.0', ' no shutdown', 'exit',
    'interface GigabitEthernet0/1', ' ip vrf forwarding A', ' ip address 10.1.0.1 255.255.255.0', ' no shutdown', 'exit',
    'interface GigabitEthernet0/2', ' ip vrf forwarding B', ' ip address 10.2.0.1 255.255.255.0', ' no shutdown', 'exit',
    ...ISAKMP, ...TS,
    `crypto keyring K1${inFvrf}`, ` pre-shared-key address 172.16.1.1 key ${psk(1)}`, 'exit',
    // spoke 2's key: in the front-door VRF's keyring, or (second case, first step) in a global one
    `crypto keyring K2${spoke2KeyInFvrf ? inFvrf : ''}`, ` pre-shared-key address 172.16.2.1 key ${psk(2)}`, 'exit',
    ...customer(1, 'A'), ...customer(2, 'B'),
    'crypto ipsec profile P', ' set transform-set T1', 'exit',
    'interface Virtual-Template1 type tunnel', ' ip unnumbered GigabitEthernet0/0', ' tunnel mode ipsec ipv4', ' tunnel protection ipsec profile P', 'exit',
    fvrf !== undefined ? `ip route vrf ${fvrf} 0.0.0.0 0.0.0.0 172.16.0.254` : 'ip route 0.0.0.0 0.0.0.0 172.16.0.254',
  ];
}

/** Both spokes are alike (the same LAN, all of 10/8 through the hub), crypto maps over IKEv1. */
function spokeConfig(n: number): string[] {
  return [
    'interface GigabitEthernet0/1', ' ip address 10.9.0.1 255.255.255.0', ' no shutdown', 'exit',
    'interface GigabitEthernet0/0', ` ip address 172.16.${n}.1 255.255.255.0`, ' no shutdown', 'exit',
    ...ISAKMP, ...TS,
    `crypto isakmp key ${psk(n)} address 172.16.0.1 255.255.255.255`,
    'access-list 101 permit ip 10.9.0.0 0.0.0.255 10.0.0.0 0.255.255.255',
    'crypto map CM 10 ipsec-isakmp', ' set peer 172.16.0.1', ' set transform-set T1', ' match address 101', 'exit',
    'interface GigabitEthernet0/0', ' crypto map CM', 'exit',
    `ip route 0.0.0.0 0.0.0.0 172.16.${n}.254`,
  ];
}

const only = process.env.VRF_IKEV1_CASE;
for (const fvrf of [undefined, 'INET'] as (string | undefined)[]) {
  const name = fvrf ?? 'global';
  if (only !== undefined && only !== name) continue;
  const title = fvrf === undefined
    ? 'IKEv1 dynamic VTIs, single template model (vrf in the ISAKMP profile)'
    : `IKEv1 dynamic VTIs behind front-door vrf ${fvrf} (keyrings bound to it)`;
  t.test(`${title}: two customers with overlapping addresses on one hub stay apart`, { skip, timeout: 300_000 }, async (t) => {
    const lab = Lab.create(fvrf === undefined ? 'v1vg' : 'v1vf');
    t.teardown(() => lab.destroy());
    buildTunnelHub(lab, TWO_CUSTOMERS);
    const hub = await startBox({ lab, ns: 'hub', ports: TWO_CUSTOMER_HUB_PORTS });
    t.teardown(() => hub.stop());
    await hub.configure(hubConfig(fvrf, fvrf === undefined));
    const spokes: Box[] = [];
    for (const n of [1, 2]) {
      const b = await startBox({ lab, ns: `s${n}`, ports: { 'GigabitEthernet0/0': 'wan0', 'GigabitEthernet0/1': 'lan0' } });
      t.teardown(() => b.stop());
      await b.configure(spokeConfig(n));
      spokes.push(b);
    }
    const customerHost = ['10.1.0.2', '10.2.0.2'] as const;
    const up = (n: 1 | 2) => waitUntil(() => ping(lab, `host${n}`, customerHost[n - 1], { count: 1, timeoutSec: 1 }), 45_000, 300);

    t.ok(await up(1), 'spoke 1\'s host -> customer A\'s hub LAN brings the session up');
    if (fvrf !== undefined) {
      // spoke 2's key is only in a global keyring: a peer arriving in INET does not find it
      t.notOk(await ping(lab, 'host2', customerHost[1], { count: 3, timeoutSec: 1 }), 'spoke 2 (key in a global keyring) gets no session');
      t.equal(/172\.16\.2\.1/.test(await hub.run('show vtemplate')), false, 'no Virtual-Access for spoke 2');
      const s2 = await spokes[1]!.run('show crypto isakmp sa');
      t.notMatch(s2, /QM_IDLE/, `spoke 2 has no established ISAKMP SA (${s2.trim().split('\n').slice(-1)[0]})`);
      // the key moves to a keyring bound to INET: spoke 2 comes up
      await hub.configure(['no crypto keyring K2', `crypto keyring K2 vrf ${fvrf}`, ` pre-shared-key address 172.16.2.1 key ${psk(2)}`, 'exit',
        'crypto isakmp profile CUSTB', ' keyring K2', 'exit']);
    }
    t.ok(await up(2), 'spoke 2\'s host -> customer B\'s hub LAN brings the session up');

    const main = await checkCustomersApart(t, lab, spokes);
    if (fvrf !== undefined) t.notMatch(main, /172\.16\.0\.0\/24|default/, `nor the front-door VRF's routes (${fvrf})`);

    const vt = await hub.run('show vtemplate');
    for (const [n, vrf] of [[1, 'A'], [2, 'B']] as const) {
      const va = new RegExp(`^(Virtual-Access\\d+)\\s+Virtual-Template1\\s+172\\.16\\.${n}\\.1`, 'm').exec(vt)?.[1];
      t.ok(va, `spoke ${n} on a Virtual-Access of template 1 (${va})`);
      t.match(await hub.run(`show running-config interface ${va ?? 'Virtual-Access1'}`), new RegExp(`ip vrf forwarding ${vrf}`), `show running-config interface ${va}: ip vrf forwarding ${vrf}`);
    }
    const sa = await hub.run('show crypto ipsec sa');
    t.match(sa, /protected vrf: A/, 'show crypto ipsec sa: protected vrf A');
    t.match(sa, /protected vrf: B/, 'and protected vrf B');
    const detail = await hub.run('show crypto session detail');
    const f = fvrf ?? '\\(none\\)';
    t.match(detail, new RegExp(`Peer: 172\\.16\\.1\\.1 port 500 fvrf: ${f} ivrf: A`), `show crypto session detail: spoke 1 fvrf ${fvrf ?? '(none)'} ivrf A`);
    t.match(detail, new RegExp(`Peer: 172\\.16\\.2\\.1 port 500 fvrf: ${f} ivrf: B`), `show crypto session detail: spoke 2 fvrf ${fvrf ?? '(none)'} ivrf B`);
    const isa = await hub.run('show crypto isakmp sa detail');
    t.match(isa, /172\.16\.1\.1\s+A\s+ACTIVE/, 'show crypto isakmp sa detail: I-VRF A for spoke 1');
    t.match(isa, /172\.16\.2\.1\s+B\s+ACTIVE/, 'and I-VRF B for spoke 2');
  });
}
