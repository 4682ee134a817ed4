// A running Rampart daemon (IKEv1 service + userspace data plane), configured only through
// its CLI, against strongSwan 5.9 (kernel-libipsec) in network namespaces. Per suite:
//   1. Rampart initiates, triggered by traffic (ping hostA -> hostB), then ping both ways and
//      a TCP connection through the tunnel; show crypto isakmp sa / show crypto session;
//   2. clear crypto session (DELETE reaches charon), then strongSwan initiates and Rampart
//      responds; ping hostB -> hostA.
// strongSwan's libipsec only does ESP in UDP 4500, so charon is told `encap = yes` (it then
// fakes NAT detection and both sides float to 4500).
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { StrongswanPeer, haveStrongswan, type SwanConnection } from '../lib/strongswan.js';
import { buildSiteToSite, ping, SITE_ADDR } from '../lib/site-to-site.js';
import { gatewayConfig, startRampart, tcpEcho, waitForText } from './lab.js';

const skip = !isRoot()
  ? 'needs root: network namespaces and strongSwan'
  : !haveStrongswan() ? 'needs strongSwan (strongswan-charon strongswan-swanctl libcharon-extra-plugins)'
    : !hasCommand('ip') ? 'needs iproute2' : undefined;

const A = { host: SITE_ADDR.hostA, lan: SITE_ADDR.gwALan, wan: SITE_ADDR.gwAWan };
const B = { host: SITE_ADDR.hostB, lan: SITE_ADDR.gwBLan, wan: SITE_ADDR.gwBWan };
const PSK = 'ikev1-daemon-psk-4711';

interface Suite {
  tag: string;
  name: string;
  policy: string[];
  transform: string;
  pfs?: string;
  swanIke: string;
  swanEsp: string;
  aggressive?: boolean;
  /** Rampart initiates in aggressive mode (ISAKMP profile with `initiate mode aggressive`) */
  rampartAggressive?: boolean;
}

const suites: Suite[] = [
  { tag: 'a', name: 'aes256/sha/group2 + esp-aes 256 esp-sha-hmac', policy: ['encryption aes 256', 'hash sha', 'group 2'], transform: 'esp-aes 256 esp-sha-hmac', swanIke: 'aes256-sha1-modp1024', swanEsp: 'aes256-sha1' },
  { tag: 'b', name: '3des/md5/group2 + esp-3des esp-md5-hmac', policy: ['encryption 3des', 'hash md5', 'group 2'], transform: 'esp-3des esp-md5-hmac', swanIke: '3des-md5-modp1024', swanEsp: '3des-md5' },
  { tag: 'c', name: 'aes128/sha256/group14 + set pfs group14', policy: ['encryption aes', 'hash sha256', 'group 14'], transform: 'esp-aes esp-sha256-hmac', pfs: 'group14', swanIke: 'aes128-sha256-modp2048', swanEsp: 'aes128-sha256-modp2048' },
  { tag: 'h', name: 'aggressive mode (Rampart initiates, then strongSwan) aes256/sha/group2', policy: ['encryption aes 256', 'hash sha', 'group 2'], transform: 'esp-aes 256 esp-sha-hmac', swanIke: 'aes256-sha1-modp1024', swanEsp: 'aes256-sha1', aggressive: true, rampartAggressive: true },
  { tag: 'g', name: 'aggressive mode (strongSwan initiates) aes256/sha/group2', policy: ['encryption aes 256', 'hash sha', 'group 2'], transform: 'esp-aes 256 esp-sha-hmac', swanIke: 'aes256-sha1-modp1024', swanEsp: 'aes256-sha1', aggressive: true },
];

const ONLY = process.env.IKEV1_DAEMON_ONLY;

for (const s of suites.filter((x) => !ONLY || x.tag === ONLY)) {
  t.test(`Rampart daemon <-> strongSwan IKEv1: ${s.name}`, { skip, timeout: 300_000 }, async (t) => {
    const lab = Lab.create(`rk1d${s.tag}`);
    t.teardown(() => lab.destroy());
    buildSiteToSite(lab, { boxes: ['gwA'] });
    const swan = new StrongswanPeer(lab, 'gwB', {
      ...(s.aggressive ? { extraCharon: '    i_dont_care_about_security_and_use_aggressive_mode_psk = yes' } : {}),
    });
    await swan.start();
    const conn: SwanConnection = {
      name: 'rt', version: 1, aggressive: !!s.aggressive, localAddr: B.wan, remoteAddr: A.wan, proposals: [s.swanIke], psk: PSK, encap: true,
      children: [{ name: 'lan', localTs: ['10.2.0.0/24'], remoteTs: ['10.1.0.0/24'], espProposals: [s.swanEsp] }],
    };
    await swan.load([conn]);
    t.teardown(() => swan.stop());
    const gw = await startRampart(lab, 'gwA', { 'FastEthernet0/0': 'wan0', 'FastEthernet0/1': 'lan0' });
    t.teardown(() => gw.con.close());
    const cfgOut = await gw.configure(gatewayConfig({
      hostname: 'gwA', wan: A.wan, lan: A.lan, lanNet: '10.1.0.0', remoteLanNet: '10.2.0.0', peers: [B.wan], psk: PSK,
      policy: s.policy, transform: s.transform, ...(s.pfs ? { pfs: s.pfs } : {}),
      ...(s.rampartAggressive ? { aggressiveProfile: true } : {}),
    }));
    t.notMatch(cfgOut, /\[.*\] %/, 'configuration accepted');

    if (!s.aggressive || s.rampartAggressive) {
      // 1. traffic-triggered: the first pings start IKE
      await ping(lab, 'hostA', B.host, { count: 3, timeoutSec: 1 });
      const up = await ping(lab, 'hostA', B.host, { count: 5, timeoutSec: 3 }) || await ping(lab, 'hostA', B.host, { count: 5, timeoutSec: 3 });
      t.ok(up, 'ping hostA -> hostB through the tunnel (Rampart initiated)');
      if (!up) {
        t.comment(gw.proc.output.split('\n').slice(-30).join('\n'));
        t.comment(swan.log().split('\n').slice(-40).join('\n'));
        t.comment(await gw.exec('show crypto isakmp sa'));
        return;
      }
      t.ok(await ping(lab, 'hostB', A.host, { count: 3 }), 'ping hostB -> hostA');
      t.ok(await tcpEcho(lab, 'hostB', 'hostA', B.host, 5555), 'TCP hostA -> hostB through the tunnel');
      t.ok(await tcpEcho(lab, 'hostA', 'hostB', A.host, 5556), 'TCP hostB -> hostA through the tunnel');
      const isa = await gw.exec('show crypto isakmp sa');
      t.match(isa, /172\.16\.0\.2\s+172\.16\.0\.1\s+QM_IDLE\s+\d+ ACTIVE/, 'show crypto isakmp sa: QM_IDLE ACTIVE');
      const sess = await gw.exec('show crypto session');
      t.match(sess, /Interface: FastEthernet0\/0/);
      t.match(sess, /Session status: UP-ACTIVE/);
      t.match(sess, /Peer: 172\.16\.0\.2 port 4500/);
      t.match(sess, /IPSEC FLOW: permit ip 10\.1\.0\.0\/255\.255\.255\.0 10\.2\.0\.0\/255\.255\.255\.0/);
      t.match(sess, /Active SAs: 2, origin: crypto map/);
      const detail = await gw.exec('show crypto session detail');
      t.match(detail, /Outbound: #pkts enc'ed [1-9]/, 'show crypto session detail: encrypted packets counted');
      t.match(detail, /Inbound:  #pkts dec'ed [1-9]/, 'and decrypted packets');
      const ipsec = await gw.exec('show crypto ipsec sa');
      t.match(ipsec, /#pkts encaps: [1-9]/, 'show crypto ipsec sa counts encapsulated packets');
      t.match(await swan.listSas(), /ESTABLISHED, IKEv1/);
      if (s.rampartAggressive) t.match(swan.log(), /Aggressive Mode|AGGRESSIVE/i, 'charon saw an Aggressive Mode exchange started by Rampart');
      // 2. clear crypto session: DELETEs reach charon
      await gw.exec('clear crypto session');
      const gone = await waitForText(() => swan.listSas(), /^(?![\s\S]*INSTALLED)/, 10_000);
      t.notMatch(gone, /INSTALLED/, 'charon removed the CHILD_SA after clear crypto session (DELETE received)');
      t.notMatch(await gw.exec('show crypto isakmp sa'), /QM_IDLE/, 'no ISAKMP SA left');
    }
    // 3. strongSwan initiates, Rampart responds
    await swan.initiate('lan', 30_000).catch((e: Error) => t.comment(e.message));
    const up2 = await ping(lab, 'hostB', A.host, { count: 5, timeoutSec: 3 });
    t.ok(up2, 'ping hostB -> hostA through the tunnel (strongSwan initiated, Rampart responded)');
    t.ok(await ping(lab, 'hostA', B.host, { count: 3 }), 'ping hostA -> hostB');
    const isa2 = await gw.exec('show crypto isakmp sa');
    t.match(isa2, /172\.16\.0\.1\s+172\.16\.0\.2\s+QM_IDLE\s+\d+ ACTIVE/, 'responder row: dst = us');
    if (!up2) {
      t.comment(gw.proc.output.split('\n').slice(-30).join('\n'));
      t.comment(swan.log().split('\n').slice(-40).join('\n'));
    }
    t.notMatch(gw.proc.output, new RegExp(PSK), 'the PSK never appears in the daemon output');
  });
}
