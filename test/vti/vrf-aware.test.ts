// Issue 15: VRF-aware tunnels (guide: "VRF-Aware IPsec", the VRF-aware SVTI / DVTI examples).
// Two customers whose branches use the same address space (10.9.0.0/24) terminate on one hub,
// each in its own VRF (`ip vrf forwarding` on the hub's tunnel and LAN interfaces, `ip route
// vrf`): each customer reaches only its own side, and pings that would cross between the
// customers must fail. This host's kernel has no vrf devices: VRFs are policy-routing tables.
//
//   hostA 10.1.0.2 - Gi0/1 (vrf A) [hub] Gi0/0 172.16.0.1 -- [inet] -- 172.16.N.1 [spokeN] - hostN 10.9.0.2
//   hostB 10.2.0.2 - Gi0/2 (vrf B)        Tunnel1 (vrf A) -> spoke1, Tunnel2 (vrf B) -> spoke2
//   (static VTI: hub Tunnel1/2 <-> spoke Tunnel0; dynamic VTI: one Virtual-Template per VRF)
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { startBox, type Box } from '../lib/box.js';
import { buildTunnelHub, TWO_CUSTOMER_HUB_PORTS, TWO_CUSTOMERS } from '../lib/hub-spokes.js';
import { waitUntil } from '../lib/wait.js';
import { tunnelState } from './vti-pair.js';
import { checkCustomersApart } from './vrf-customers.js';

const skip = !isRoot() ? 'needs root: network namespaces, TUN, raw sockets' : !hasCommand('ping') ? 'needs ping' : undefined;
const PSK = 'rampart-vrf-psk';

const IKEV2 = [
  'crypto ikev2 proposal PROP1', ' encryption aes-cbc-256', ' integrity sha256', ' group 14', 'exit',
  'crypto ikev2 policy POL1', ' proposal PROP1', 'exit',
  'crypto ipsec transform-set T1 esp-gcm 256', 'exit',
];

type Model = 'static' | 'dynamic' | 'single';

function hubConfig(model: Model): string[] {
  const dynamic = model !== 'static';
  const customer = (n: 1 | 2, vrf: 'A' | 'B'): string[] => model === 'single'
    // single template model (guide): one Virtual-Template without a VRF; the IKEv2 profile the
    // spoke matches puts its Virtual-Access in the customer's VRF (`ivrf`)
    ? [
      `crypto ikev2 profile CUST${vrf}`, ` match identity remote address 172.16.${n}.1 255.255.255.255`, ' identity local address 172.16.0.1',
      ' authentication local pre-share', ' authentication remote pre-share', ' keyring local KR', ` ivrf ${vrf}`, ' virtual-template 1', 'exit',
    ]
    : dynamic
    ? [
      `crypto ikev2 profile CUST${vrf}`, ` match identity remote address 172.16.${n}.1 255.255.255.255`, ' identity local address 172.16.0.1',
      ' authentication local pre-share', ' authentication remote pre-share', ' keyring local KR', ` virtual-template ${n}`, 'exit',
      `crypto ipsec profile P${vrf}`, ' set transform-set T1', ` set ikev2-profile CUST${vrf}`, 'exit',
      `interface Virtual-Template${n} type tunnel`, ` ip vrf forwarding ${vrf}`, ' ip unnumbered GigabitEthernet0/0',
      ' tunnel mode ipsec ipv4', ` tunnel protection ipsec profile P${vrf}`, 'exit',
    ]
    : [
      `interface Tunnel${n}`, ` ip vrf forwarding ${vrf}`, ` ip address 10.0.${n}.1 255.255.255.252`, ' tunnel source GigabitEthernet0/0',
      ` tunnel destination 172.16.${n}.1`, ' tunnel mode ipsec ipv4', ' tunnel protection ipsec profile P', 'exit',
      `ip route vrf ${vrf} 10.9.0.0 255.255.255.0 Tunnel${n}`,
    ];
  return [
    'ip vrf A', ' rd 65000:1', 'exit', 'ip vrf B', ' rd 65000:2', 'exit',
    'interface GigabitEthernet0/0', ' ip address 172.16.0.1 255.255.255.0', ' no shutdown', 'exit',
    'interface GigabitEthernet0/1', ' ip vrf forwarding A', ' ip address 10.1.0.1 255.255.255.0', ' no shutdown', 'exit',
    'interface GigabitEthernet0/2', ' ip vrf forwarding B', ' ip address 10.2.0.1 255.255.255.0', ' no shutdown', 'exit',
    ...IKEV2,
    'crypto ikev2 keyring KR', ' peer SPOKES', '  address 172.16.0.0 255.255.0.0', `  pre-shared-key ${PSK}`, ' exit', 'exit',
    ...(dynamic ? [] : [
      'crypto ikev2 profile SPOKES', ' match identity remote address 172.16.0.0 255.255.0.0', ' identity local address 172.16.0.1',
      ' authentication local pre-share', ' authentication remote pre-share', ' keyring local KR', 'exit',
      'crypto ipsec profile P', ' set transform-set T1', ' set ikev2-profile SPOKES', 'exit',
    ]),
    ...(model === 'single' ? [
      'crypto ipsec profile P', ' set transform-set T1', 'exit',
      'interface Virtual-Template1 type tunnel', ' ip unnumbered GigabitEthernet0/0', ' tunnel mode ipsec ipv4', ' tunnel protection ipsec profile P', 'exit',
    ] : []),
    ...customer(1, 'A'), ...customer(2, 'B'),
    'ip route 0.0.0.0 0.0.0.0 172.16.0.254',
  ];
}

/**
 * Both spokes are alike: the same LAN, all of 10/8 through the hub; a static VTI to a static
 * hub, a crypto map (its proxies become the Virtual-Access's routes) to the dynamic one.
 */
function spokeConfig(n: number, dynamic: boolean): string[] {
  const toHub = dynamic
    ? [
      'access-list 101 permit ip 10.9.0.0 0.0.0.255 10.0.0.0 0.255.255.255',
      'crypto map CM 10 ipsec-isakmp', ' set peer 172.16.0.1', ' set transform-set T1', ' set ikev2-profile HUB', ' match address 101', 'exit',
      'interface GigabitEthernet0/0', ' crypto map CM', 'exit',
    ]
    : [
      'crypto ipsec profile P', ' set transform-set T1', ' set ikev2-profile HUB', 'exit',
      'interface Tunnel0', ` ip address 10.0.${n}.2 255.255.255.252`, ' tunnel source GigabitEthernet0/0', ' tunnel destination 172.16.0.1',
      ' tunnel mode ipsec ipv4', ' tunnel protection ipsec profile P', 'exit',
      'ip route 10.0.0.0 255.0.0.0 Tunnel0',
    ];
  return [
    'interface GigabitEthernet0/1', ' ip address 10.9.0.1 255.255.255.0', ' no shutdown', 'exit',
    'interface GigabitEthernet0/0', ` ip address 172.16.${n}.1 255.255.255.0`, ' no shutdown', 'exit',
    ...IKEV2,
    'crypto ikev2 keyring KR', ' peer HUB', '  address 172.16.0.1', `  pre-shared-key ${PSK}`, ' exit', 'exit',
    'crypto ikev2 profile HUB', ' match identity remote address 172.16.0.1 255.255.255.255', ` identity local address 172.16.${n}.1`,
    ' authentication local pre-share', ' authentication remote pre-share', ' keyring local KR', 'exit',
    ...toHub,
    `ip route 0.0.0.0 0.0.0.0 172.16.${n}.254`,
  ];
}

const only = process.env.VRF_AWARE_MODEL;
for (const model of ['static', 'dynamic', 'single'] as const) {
  if (only !== undefined && only !== model) continue;
  const dynamic = model !== 'static';
  const title = model === 'single' ? 'dynamic VTIs, single template model (IKEv2 profile ivrf)' : `${model} VTIs`;
  t.test(`VRF-aware ${title}: two customers with overlapping addresses on one hub stay apart`, { skip, timeout: 300_000 }, async (t) => {
    const lab = Lab.create(model === 'single' ? 'vrf1' : dynamic ? 'vrfd' : 'vrfs');
    t.teardown(() => lab.destroy());
    buildTunnelHub(lab, TWO_CUSTOMERS);
    const hub = await startBox({ lab, ns: 'hub', ports: TWO_CUSTOMER_HUB_PORTS });
    t.teardown(() => hub.stop());
    await hub.configure(hubConfig(model));
    const spokes: Box[] = [];
    for (const n of [1, 2]) {
      const b = await startBox({ lab, ns: `s${n}`, ports: { 'GigabitEthernet0/0': 'wan0', 'GigabitEthernet0/1': 'lan0' } });
      t.teardown(() => b.stop());
      await b.configure(spokeConfig(n, dynamic));
      spokes.push(b);
    }
    if (dynamic) {
      // a crypto map spoke starts on traffic
      for (const [n, hub] of [[1, '10.1.0.2'], [2, '10.2.0.2']] as const) {
        t.ok(await waitUntil(() => ping(lab, `host${n}`, hub, { count: 1, timeoutSec: 1 }), 30_000, 300), `spoke ${n}'s host -> its customer's hub LAN brings the session up`);
      }
    } else {
      const spokeUp = async (b: Box) => tunnelState(await b.run('show interfaces Tunnel0'))?.protocol === 'up';
      t.ok(await waitUntil(async () => (await spokeUp(spokes[0]!)) && (await spokeUp(spokes[1]!)), 45_000, 500), 'both spokes\' tunnels up by themselves');
    }
    await checkCustomersApart(t, lab, spokes);

    const sa = await hub.run('show crypto ipsec sa');
    t.match(sa, /protected vrf: A/, 'show crypto ipsec sa: protected vrf A');
    t.match(sa, /protected vrf: B/, 'and protected vrf B');
    if (dynamic) {
      const vt = await hub.run('show vtemplate');
      const t2 = model === 'single' ? 1 : 2;
      t.match(vt, /Virtual-Access\d+\s+Virtual-Template1\s+172\.16\.1\.1/, 'spoke 1 on a Virtual-Access of template 1 (vrf A)');
      t.match(vt, new RegExp(`Virtual-Access\\d+\\s+Virtual-Template${t2}\\s+172\\.16\\.2\\.1`), `spoke 2 on a Virtual-Access of template ${t2} (vrf B)`);
    }
    if (model === 'single') {
      // the clone shows the VRF its profile gave it
      const va = /^(Virtual-Access\d+)\s+Virtual-Template1\s+172\.16\.2\.1/m.exec(await hub.run('show vtemplate'))?.[1];
      t.match(await hub.run(`show running-config interface ${va ?? 'Virtual-Access1'}`), /ip vrf forwarding B/, `show running-config interface ${va}: ip vrf forwarding B`);
    }
  });
}
