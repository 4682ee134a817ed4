// Two Rampart daemons with a NAT (nftables masquerade in a middle namespace) between them:
//
//   hostA 10.1.0.2 -- [gwA] 172.16.0.1 -- 172.16.0.254 [nat] 172.17.0.254 -- 172.17.0.2 [gwB] -- hostB 10.2.0.2
//
// gwA initiates (traffic), NAT-T detects the NAT, both float to 4500 and carry ESP in UDP;
// ping and TCP pass both ways. Then DPD (`crypto isakmp keepalive 10 2 periodic`): gwB's
// daemon is killed and gwA's DPD removes the ISAKMP and IPsec SAs.
import t from 'tap';
import { isRoot, hasCommand } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { gatewayConfig, rampartPairLab, tcpEcho, waitForText } from './lab.js';

const skip = !isRoot() ? 'needs root: network namespaces' : !hasCommand('nft') ? 'needs nftables (nft) for the NAT namespace' : undefined;
const PSK = 'nat-dpd-psk-0815';

t.test('NAT between two Rampart boxes, then DPD against a killed peer', { skip, timeout: 300_000 }, async (t) => {
  const { lab, gwA, gwB } = await rampartPairLab(t, 'rk1n', { nat: true });
  const common = { psk: PSK, policy: ['encryption aes 256', 'hash sha', 'group 14'], transform: 'esp-aes 256 esp-sha-hmac', keepalive: '10 2' };
  t.notMatch(await gwA.configure(gatewayConfig({ ...common, hostname: 'gwA', wan: '172.16.0.1', lan: '10.1.0.1', lanNet: '10.1.0.0', remoteLanNet: '10.2.0.0', peers: ['172.17.0.2'], gateway: '172.16.0.254' })), /\[.*\] %/);
  // gwB sees gwA as the NAT's outside address
  t.notMatch(await gwB.configure(gatewayConfig({ ...common, hostname: 'gwB', wan: '172.17.0.2', lan: '10.2.0.1', lanNet: '10.2.0.0', remoteLanNet: '10.1.0.0', peers: ['172.17.0.254'] })), /\[.*\] %/);

  await ping(lab, 'hostA', '10.2.0.2', { count: 2, timeoutSec: 1 });
  const up = await ping(lab, 'hostA', '10.2.0.2', { count: 5, timeoutSec: 3 });
  t.ok(up, 'ping hostA -> hostB through the NAT');
  if (!up) {
    t.comment(gwA.proc.output.split('\n').slice(-30).join('\n'));
    t.comment(await gwA.exec('show crypto isakmp sa'));
    t.comment(await gwB.exec('show crypto isakmp sa'));
    return;
  }
  t.ok(await ping(lab, 'hostB', '10.1.0.2', { count: 3 }), 'ping hostB -> hostA through the NAT');
  t.ok(await tcpEcho(lab, 'hostB', 'hostA', '10.2.0.2', 5560), 'TCP hostA -> hostB through the NAT');
  const sessA = await gwA.exec('show crypto session');
  t.match(sessA, /Peer: 172\.17\.0\.2 port 4500/, 'gwA floated to 4500');
  t.match(sessA, /IKEv1 SA: local 172\.16\.0\.1\/4500 remote 172\.17\.0\.2\/4500 Active/);
  t.match(await gwB.exec('show crypto isakmp sa detail'), /ACTIVE aes\s+sha\s+psk\s+14\s+\d\d:\d\d:\d\d N/, 'gwB: NAT-traversal capability');
  const ipsecA = await gwA.exec('show crypto ipsec sa');
  t.match(ipsecA, /#pkts encaps: [1-9]/);

  // DPD: kill gwB's daemon; gwA notices and removes the SAs
  await gwB.proc.stop(100);
  // on-demand DPD (the IOS default): R-U-THERE only once we send traffic and hear nothing
  const traffic = lab.spawn('hostA', ['ping', '-n', '-q', '-i', '0.5', '-c', '120', '-W', '1', '10.2.0.2'], { name: 'ping-dpd' });
  t.teardown(() => traffic.stop(500));
  const gone = await waitForText(() => gwA.exec('show crypto isakmp sa'), /^(?![\s\S]*QM_IDLE)/, 60_000);
  t.notMatch(gone, /QM_IDLE/, 'DPD removed the ISAKMP SA of the dead peer');
  const ipsecGone = await waitForText(() => gwA.exec('show crypto ipsec sa'), /^(?![\s\S]*spi: 0x)/i, 5000);
  t.notMatch(ipsecGone, /spi: 0x/i, 'and its IPsec SAs');
  t.notMatch(gwA.proc.output, new RegExp(PSK), 'PSK not in the daemon output');
});
