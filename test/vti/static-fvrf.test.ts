// Issue 15: a static VTI whose outside is in a front-door VRF (guide: "VRF-Aware IPsec"):
// `ip vrf forwarding INET` on the port carrying IKE and ESP, `tunnel vrf INET` on Tunnel0, the
// tunnel itself (and the LANs) global. The boxes' outside addresses are then only in INET's
// table, so the tunnel can only come up if IKE and ESP use that table.
//   - IKEv2: the IKEv2 profile must `match fvrf INET` (IOS: a profile without it serves the
//     global table only): without it the tunnel stays down, with it the tunnel comes up.
//   - IKEv1: the peer arrives in INET, so its key is looked up only in keyrings bound to INET
//     (`crypto keyring K vrf INET`): with the key in a global keyring the tunnel stays down,
//     with it in an INET keyring the tunnel comes up.
// Topology and addresses: test/vti/vti-pair.ts (hostA - gwA = gwB - hostB, Tunnel0 both sides).
import t from 'tap';
import { hasCommand, isRoot } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { waitUntil } from '../ikev2-interop/harness.js';
import { ADDR, startPair, type Gateway } from '../dataplane-e2e/rampart-pair.js';
import { tunnelState, VTI_PSK, vtiPairConfig } from './vti-pair.js';

const skip = !isRoot() ? 'needs root: network namespaces, TUN, raw sockets' : !hasCommand('ping') ? 'needs ping' : undefined;
const bad = /% (Invalid|Incomplete|Ambiguous|Unknown|VRF)/;

/**
 * vti-pair's gateway with the outside port in INET and `tunnel vrf INET`. `fvrfReady` false:
 * IKEv2 profile without `match fvrf`, IKEv1 key in a global keyring (both must fail).
 */
function fvrfConfig(side: 'A' | 'B', ike: 1 | 2, fvrfReady: boolean): string[] {
  const wan = side === 'A' ? ADDR.gwAWan : ADDR.gwBWan;
  const lines: string[] = ['ip vrf INET', ' rd 65000:100', 'exit'];
  for (const l of vtiPairConfig(side, { ike, tunnelLines: [' tunnel vrf INET'] })) {
    // IKEv1's wildcard key moves to a keyring (bound to INET or, first, global)
    if (l.startsWith('crypto isakmp key ')) {
      lines.push(`crypto keyring K${fvrfReady ? ' vrf INET' : ''}`, ` pre-shared-key address 0.0.0.0 0.0.0.0 key ${VTI_PSK}`, 'exit');
      continue;
    }
    if (l === ` ip address ${wan} 255.255.255.0`) lines.push(' ip vrf forwarding INET');
    lines.push(l);
    if (l === ' keyring local KR1' && fvrfReady) lines.push(' match fvrf INET');
  }
  return lines;
}

async function lineProtocol(gw: Gateway): Promise<string | undefined> {
  return tunnelState(await gw.exec('show interfaces Tunnel0'))?.protocol;
}

const versions = process.env.VTI_IKE ? [Number(process.env.VTI_IKE) as 1 | 2] : [2, 1] as const;
for (const ike of versions) {
  t.test(`static VTI with tunnel vrf INET (outside port in front-door VRF INET), IKEv${ike}`, { skip, timeout: 300_000 }, async (t) => {
    const pair = await startPair(`vtf${ike}`);
    t.teardown(() => pair.close());
    const { lab, gwA, gwB } = pair;
    t.notMatch(await gwA.configure(fvrfConfig('A', ike, false)), bad, 'gwA takes the configuration');
    t.notMatch(await gwB.configure(fvrfConfig('B', ike, false)), bad, 'gwB takes it too');
    t.match(await gwA.exec('show running-config interface Tunnel0'), / tunnel mode ipsec ipv4\n tunnel vrf INET\n/, 'show running-config: tunnel vrf INET');
    const main = lab.execSync('gwA', ['ip', 'route', 'show', 'table', 'main']).stdout;
    t.notMatch(main, /172\.16\.0\.0\/24/, 'the outside subnet is not in the global table (only in INET\'s)');

    const why = ike === 2 ? 'IKEv2 profile without match fvrf' : 'key only in a global keyring';
    // bounded: each side starts its tunnel within 6 s of it being down
    t.notOk(await waitUntil(async () => (await lineProtocol(gwA)) === 'up', 20_000, 1000), `${why}: Tunnel0 stays down (20 s)`);
    if (ike === 1) {
      t.notMatch(await gwA.exec('show crypto isakmp sa'), /QM_IDLE/, 'no ISAKMP SA established');
      await gwA.configure(['no crypto keyring K', 'crypto keyring K vrf INET', ` pre-shared-key address 0.0.0.0 0.0.0.0 key ${VTI_PSK}`, 'exit']);
      await gwB.configure(['no crypto keyring K', 'crypto keyring K vrf INET', ` pre-shared-key address 0.0.0.0 0.0.0.0 key ${VTI_PSK}`, 'exit']);
    } else {
      t.notMatch(await gwA.exec('show crypto ikev2 sa'), /READY/, 'no IKEv2 SA established');
      t.match(await gwA.exec('show crypto ikev2 diagnose'), /ikev2 profile IKEV2P matches fvrf global, but its peers arrive in vrf INET/, 'show crypto ikev2 diagnose says why');
      for (const gw of [gwA, gwB]) await gw.configure(['crypto ikev2 profile IKEV2P', ' match fvrf INET', 'exit']);
      t.match(await gwA.exec('show crypto ikev2 profile IKEV2P'), /Match criteria:[\s\S]*Fvrf: INET/, 'show crypto ikev2 profile: Fvrf INET');
    }
    const up = await waitUntil(async () => (await lineProtocol(gwA)) === 'up' && (await lineProtocol(gwB)) === 'up', 45_000, 500);
    t.ok(up, `${ike === 2 ? 'match fvrf INET' : 'key in a keyring bound to INET'}: Tunnel0 up on both boxes by itself`);
    t.ok(await ping(lab, 'hostA', ADDR.hostB, { count: 3 }), 'ping hostA -> hostB through Tunnel0');
    t.ok(await ping(lab, 'hostB', ADDR.hostA, { count: 3 }), 'ping hostB -> hostA through Tunnel0');
    const rules = lab.execSync('gwA', ['ip', 'rule', 'show']).stdout;
    t.match(rules, new RegExp(`from ${ADDR.gwAWan.replace(/\./g, '\\.')} lookup \\d+`), 'the box\'s packets from its INET address use INET\'s table');
    t.match(rules, new RegExp(`from all to ${ADDR.gwBWan.replace(/\./g, '\\.')} iif lo lookup \\d+`), 'and so do its packets to the tunnel destination (raw ESP)');
    const sa = await gwA.exec('show crypto ipsec sa');
    t.match(sa, /interface: Tunnel0/, 'show crypto ipsec sa: Tunnel0');
    t.match(sa, /#pkts decaps: [1-9]/, 'decrypted packets counted');
    t.match(await gwA.exec('show crypto session detail'), /Peer: 172\.16\.0\.2 port (500|4500) fvrf: INET ivrf: \(none\)/, 'show crypto session detail: fvrf INET ivrf (none)');
    if (ike === 2) t.match(await gwA.exec('show crypto ikev2 sa'), /172\.16\.0\.2\/500\s+INET\/none\s+READY/, 'show crypto ikev2 sa: fvrf/ivrf INET/none');

    // the tunnel leaves INET: its destination's rule goes with it
    await gwA.configure(['interface Tunnel0', ' no tunnel vrf', 'exit']);
    t.ok(await waitUntil(() => !new RegExp(`to ${ADDR.gwBWan.replace(/\./g, '\\.')} iif lo`).test(lab.execSync('gwA', ['ip', 'rule', 'show']).stdout), 20_000, 500),
      'no tunnel vrf: the rule sending the tunnel\'s packets through INET is gone');
  });
}
