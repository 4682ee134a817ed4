// One IKE scenario, two wirings (as wireguard-go's genTestPair): two whole Rampart boxes
// back to back, first in this process over the fake packet I/O (no root), then as
// executables on real sockets in network namespaces (root). The same configuration, the
// same traffic, the same checks.
import t from 'tap';
import type { Test as Tap } from 'tap';
import { isRoot } from '../lib/netns.js';
import { ikev2PskBlock } from '../lib/ios-config.js';
import { PAIR_ADDR, startFakePair, startRealPair, type BoxPair } from '../lib/box-pair.js';

const PSK = 'pair-scenario-key';

/** Box A or B of the pair: an IKEv2 crypto map entry toward the other box, LAN to LAN. */
function siteConfig(side: 'a' | 'b'): string[] {
  const a = side === 'a';
  const me = a ? PAIR_ADDR.gwAWan : PAIR_ADDR.gwBWan;
  const peer = a ? PAIR_ADDR.gwBWan : PAIR_ADDR.gwAWan;
  const [lan, remote] = a ? ['10.1.0.0', '10.2.0.0'] : ['10.2.0.0', '10.1.0.0'];
  return [
    `hostname gw${side.toUpperCase()}`,
    'interface FastEthernet0/1', ` ip address ${a ? PAIR_ADDR.gwALan : PAIR_ADDR.gwBLan} 255.255.255.0`, ' no shutdown', 'exit',
    'interface FastEthernet0/0', ` ip address ${me} 255.255.255.0`, ' no shutdown', 'exit',
    ...ikev2PskBlock({
      names: { proposal: 'P1', policy: 'POL1', keyring: 'KR1', keyringPeer: 'OTHER', profile: 'PROF1' },
      psk: PSK, keyringAddress: peer, matchRemote: `${peer} 255.255.255.255`, localAddress: me,
    }), 'exit',
    'crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac', 'exit',
    `access-list 101 permit ip ${lan} 0.0.0.255 ${remote} 0.0.0.255`,
    'crypto map CM 10 ipsec-isakmp', ` set peer ${peer}`, ' set transform-set TS', ' set ikev2-profile PROF1', ' match address 101', 'exit',
    'interface FastEthernet0/0', ' crypto map CM', 'exit',
  ];
}

async function scenario(t: Tap, pair: BoxPair): Promise<void> {
  await pair.a.configure(siteConfig('a'));
  await pair.b.configure(siteConfig('b'));
  t.ok(await pair.trafficAtoB(), `${pair.kind}: traffic from LAN A reaches LAN B once IKEv2 set up the SAs`);
  const ike = await pair.a.exec('show crypto ikev2 sa');
  t.match(ike, new RegExp(`${PAIR_ADDR.gwAWan.replace(/\./g, '\\.')}/500 +${PAIR_ADDR.gwBWan.replace(/\./g, '\\.')}/500 .*READY`), `${pair.kind}: the IKEv2 SA is READY`);
  t.match(await pair.a.exec('show crypto ipsec sa'), /#pkts encaps: [1-9]/, `${pair.kind}: A encapsulated`);
  t.match(await pair.b.exec('show crypto ipsec sa'), /#pkts decaps: [1-9]/, `${pair.kind}: B decapsulated`);
  // a change to another entry leaves the tunnel alone (diffed apply)
  const spis = (await pair.a.exec('show crypto ipsec sa | include spi:')).trim();
  await pair.a.configure(['access-list 102 permit ip 10.1.5.0 0.0.0.255 10.2.5.0 0.0.0.255', 'crypto map CM 20 ipsec-isakmp', ` set peer ${PAIR_ADDR.gwBWan}`, ' set transform-set TS', ' set ikev2-profile PROF1', ' match address 102', 'exit']);
  t.equal((await pair.a.exec('show crypto ipsec sa | include spi:')).trim(), spis, `${pair.kind}: a new entry leaves the tunnel's SAs as they were`);
  t.ok(await pair.trafficAtoB(5000), `${pair.kind}: and traffic still passes`);
}

t.test('fake packet I/O (in process)', { timeout: 300_000 }, async (t) => {
  const pair = await startFakePair();
  t.teardown(() => pair.close());
  await scenario(t, pair);
});

t.test('real sockets (namespaces)', { timeout: 300_000, skip: isRoot() ? false : 'needs root: network namespaces' }, async (t) => {
  const pair = await startRealPair('bxpair');
  t.teardown(() => pair.close());
  await scenario(t, pair);
});
