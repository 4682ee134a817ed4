// Traffic through IKEv2 tunnels between a Rampart daemon and strongSwan (root only), on the
// site-to-site topology (test/lib/site-to-site.ts): hostA - gwA (Rampart) - gwB (strongSwan) - hostB.
//   1. a ping from hostA starts the tunnel (acquire -> IKE) and passes through it;
//   2. CHILD and IKE SA rekeys with short lifetimes while a ping runs: at most one lost;
//   3. DPD against a killed strongSwan removes the SAs; traffic brings the tunnel back;
//   4. the same through a NAT (gwA masqueraded): NAT-T, ESP in UDP 4500.
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { buildSiteToSite, type SiteToSite } from '../lib/site-to-site.js';
import { StrongswanPeer, haveStrongswan, type SwanConnection } from '../lib/strongswan.js';
import { rampartIkev2Config, startRampart, waitUntil, type RampartBox } from './harness.js';

const skip = !isRoot()
  ? 'needs root: network namespaces and strongSwan'
  : !haveStrongswan() ? 'needs strongSwan (strongswan-charon strongswan-swanctl libcharon-extra-plugins)'
    : !hasCommand('ip') || !hasCommand('ping') ? 'needs iproute2 and ping' : undefined;

const PSK = 'rampart-ikev2-traffic-psk';

interface Setup { lab: Lab; s2s: SiteToSite; swan: StrongswanPeer; box: RampartBox; conn: SwanConnection }

async function setup(t: { teardown(fn: () => unknown): void }, prefix: string, o: { nat?: boolean; swanChildLifetimeSec?: number; swanIkeRekeySec?: number; dpd?: string } = {}): Promise<Setup> {
  const lab = Lab.create(prefix);
  t.teardown(() => lab.destroy());
  const s2s = buildSiteToSite(lab, { nat: o.nat ?? false });
  const a = s2s.addr;
  const swan = new StrongswanPeer(lab, 'gwB');
  await swan.start();
  const conn: SwanConnection = {
    name: 'rt', version: 2, localAddr: a.gwBWan, remoteAddr: a.gwAWanSeenByB, remoteId: a.gwAWan,
    proposals: ['aes256-sha256-modp2048'], psk: PSK, encap: true,
    ...(o.swanIkeRekeySec ? { rekeyTimeSec: o.swanIkeRekeySec } : {}),
    children: [{ name: 'lan', localTs: [a.lanB], remoteTs: [a.lanA], espProposals: ['aes256gcm16-modp2048'], ...(o.swanChildLifetimeSec ? { lifetimeSec: o.swanChildLifetimeSec } : {}) }],
  };
  await swan.load([conn]);
  const box = await startRampart(lab, 'gwA', { 'FastEthernet0/0': 'wan0', 'FastEthernet0/1': 'lan0' });
  t.teardown(() => box.stop());
  await box.configure([
    'interface FastEthernet0/1', ' ip address 10.1.0.1 255.255.255.0', ' no shutdown', 'exit',
    ...rampartIkev2Config({
      iface: 'FastEthernet0/0', address: a.gwAWan, mask: '255.255.255.0', peer: a.gwBWan,
      suite: {
        ikeProposal: ['encryption aes-cbc-256', 'integrity sha256', 'group 14'], transformSet: 'esp-gcm 256', pfsGroup: 14, psk: PSK,
        acl: ['permit ip 10.1.0.0 0.0.0.255 10.2.0.0 0.0.0.255'], ...(o.dpd ? { dpd: o.dpd } : {}),
      },
    }),
    o.nat ? 'ip route 0.0.0.0 0.0.0.0 172.16.0.254' : 'ip route 10.2.0.0 255.255.255.0 172.16.0.2',
  ]);
  await waitUntil(() => lab.execSync('gwA', ['ip', '-4', 'addr', 'show', 'dev', 'wan0'], { allowFail: true }).stdout.includes(a.gwAWan), 5000);
  return { lab, s2s, swan, box, conn };
}

function pingStats(out: string): { sent: number; received: number } {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  return m ? { sent: Number(m[1]), received: Number(m[2]) } : { sent: 0, received: 0 };
}

async function pingUntilUp(s: Setup, ms: number): Promise<boolean> {
  return waitUntil(async () => {
    const r = await s.lab.exec('hostA', ['ping', '-n', '-c', '1', '-W', '1', s.s2s.addr.hostB], { timeoutMs: 5000 });
    return r.code === 0;
  }, ms, 300);
}

t.test('IKEv2 tunnel Rampart <-> strongSwan carries traffic, survives rekeys, detects a dead peer', { skip, timeout: 300_000 }, async (t) => {
  const s = await setup(t, 'ri2traf', { swanChildLifetimeSec: 12, swanIkeRekeySec: 20, dpd: '10 2 periodic' });
  // 1. traffic starts the tunnel and passes
  t.ok(await pingUntilUp(s, 25_000), 'hostA pings hostB through the IKEv2 tunnel (traffic-triggered)');
  const sa = await s.box.run('show crypto ikev2 sa');
  t.match(sa, /READY/, 'IKE SA up');
  const ipsec = await s.box.run('show crypto ipsec sa');
  const enc = Number(/#pkts encaps: (\d+)/.exec(ipsec)?.[1] ?? 0);
  const dec = Number(/#pkts decaps: (\d+)/.exec(ipsec)?.[1] ?? 0);
  t.ok(enc > 0 && dec > 0, `data plane counted the pings (encaps ${enc}, decaps ${dec})`);

  // 2. strongSwan rekeys the CHILD SA every ~12 s (with PFS) and the IKE SA every ~20 s while we ping
  const before = (await s.swan.listSas()).match(/#(\d+)/g)?.join(',');
  const r = await s.lab.exec('hostA', ['ping', '-n', '-q', '-c', '150', '-i', '0.2', '-W', '1', s.s2s.addr.hostB], { timeoutMs: 60_000 });
  const st = pingStats(r.stdout);
  const after = await s.swan.listSas();
  t.comment(`ping during rekeys: ${st.received}/${st.sent}; strongSwan SAs before ${before}, after ${after.match(/#(\d+)/g)?.join(',')}`);
  t.ok(st.sent >= 140, 'ping ran');
  t.ok(st.sent - st.received <= 1, `at most one ping lost during rekeys (${st.sent - st.received} lost)`);
  const ev = s.box.proc.output;
  t.match(after, /ESTABLISHED/, 'IKE SA still up after rekeys');
  const childNum = Number(/lan: #(\d+)/.exec(after)?.[1] ?? 0);
  t.ok(childNum >= 3, `CHILD SA rekeyed at least twice (strongSwan child #${childNum})`);
  const ikeNum = Number(/rt: #(\d+)/.exec(after)?.[1] ?? 0);
  t.ok(ikeNum >= 2, `IKE SA rekeyed (strongSwan IKE #${ikeNum})`);
  void ev;

  // 3. DPD: kill strongSwan; Rampart (dpd 10 2 periodic) removes the SAs
  await s.swan.stop();
  const dead = await waitUntil(async () => !/READY/.test(await s.box.run('show crypto ikev2 sa')), 60_000, 1000);
  t.ok(dead, 'DPD removed the IKE SA of the dead peer');
  const ipsecAfter = await s.box.run('show crypto ipsec sa');
  t.notMatch(ipsecAfter, /spi: 0x/i, 'and its IPsec SAs');
  // the peer comes back; traffic re-initiates
  const swan2 = new StrongswanPeer(s.lab, 'gwB');
  await swan2.start();
  await swan2.load([s.conn]);
  t.teardown(() => swan2.stop());
  t.ok(await pingUntilUp(s, 30_000), 'traffic re-initiates the tunnel after the peer returns');
});

t.test('IKEv2 through a NAT: NAT-T detected, ESP in UDP 4500, traffic passes', { skip, timeout: 300_000 }, async (t) => {
  const s = await setup(t, 'ri2nat', { nat: true });
  t.ok(await pingUntilUp(s, 25_000), 'hostA pings hostB through the NATed tunnel');
  const d = await s.box.run('show crypto ikev2 sa detail');
  t.match(d, /172\.16\.0\.1\/4500 +172\.17\.0\.2\/4500 +none\/none +READY/, 'floated to 4500');
  t.match(d, /NAT-T is detected inside/, 'NAT detected in front of us');
  const swanSas = await s.swan.listSas();
  t.match(swanSas, /172\.17\.0\.254\[4500\]|172\.17\.0\.254.*4500/, 'strongSwan sees us behind the NAT on 4500');
  t.match(await s.box.run('show crypto ipsec sa'), /in use settings =\{Tunnel UDP-Encaps|UDP-Encaps|udp/i, 'SAs UDP-encapsulated');
});
