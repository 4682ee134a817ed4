// Proves the strongSwan peer harness: two charons (kernel-libipsec, userspace ESP in UDP
// 4500) in two gateway namespaces of the site-to-site topology bring up a PSK tunnel and
// hostA pings hostB through it, with IKEv2 and with IKEv1 main mode.
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { buildSiteToSite, ping } from '../lib/site-to-site.js';
import { haveStrongswan, startStrongswanSiteToSite } from '../lib/strongswan.js';

const skip = !isRoot()
  ? 'needs root: network namespaces and strongSwan'
  : !haveStrongswan()
    ? 'needs strongSwan (strongswan-charon strongswan-swanctl libcharon-extra-plugins)'
    : !hasCommand('ping') ? 'needs ping (iputils-ping)' : undefined;

const cases = [
  { name: 'IKEv2 PSK', version: 2 as const, proposals: ['aes256-sha256-modp2048'], esp: ['aes256gcm16'], ike: 'IKEv2' },
  { name: 'IKEv1 main mode PSK', version: 1 as const, proposals: ['aes128-sha1-modp2048'], esp: ['aes128-sha1'], ike: 'IKEv1' },
  { name: 'IKEv2 PSK through a NAT', version: 2 as const, proposals: ['aes256-sha256-modp2048'], esp: ['aes256gcm16'], ike: 'IKEv2', nat: true },
];

for (const c of cases) {
  t.test(`strongSwan libipsec site-to-site: ${c.name}`, { skip }, async (t) => {
    const lab = Lab.create(`rt-swan${c.version}${c.nat ? 'n' : ''}`);
    t.teardown(() => lab.destroy());
    const topo = buildSiteToSite(lab, { nat: c.nat });

    t.notOk(await ping(lab, 'hostA', topo.addr.hostB, { count: 1, timeoutSec: 1 }), 'no path between the LANs before the tunnel');

    const tun = await startStrongswanSiteToSite(lab, topo, { version: c.version, proposals: c.proposals, espProposals: c.esp });
    const sas = await tun.a.listSas();
    t.match(sas, new RegExp(`ESTABLISHED, ${c.ike}`), 'IKE SA established with the right version');
    t.match(sas, /INSTALLED, TUNNEL-in-UDP/, 'libipsec carries ESP in UDP');
    t.match(sas, /\[4500\]/, 'floated to port 4500');
    if (c.version === 1) t.match(tun.a.log(), /initiating Main Mode/, 'IKEv1 used main mode');
    if (c.nat) {
      t.match(tun.a.log(), /local host is behind NAT/, 'gwA detected the NAT');
      t.match(await tun.b.listSas(), new RegExp(`remote '${topo.addr.gwAWan}' @ ${topo.addr.gwAWanSeenByB.replace(/\./g, '\\.')}\\[\\d+\\]`), 'gwB sees gwA at the NAT address');
    }

    t.ok(await ping(lab, 'hostA', topo.addr.hostB, { count: 3 }), 'hostA pings hostB through the tunnel');
    t.ok(await ping(lab, 'hostB', topo.addr.hostA, { count: 3 }), 'hostB pings hostA through the tunnel');

    const sa = await tun.b.childSa('lan');
    t.ok(sa && sa.packetsIn >= 6, `gwB decrypted the pings (${sa?.packetsIn} packets in)`);
    t.ok(sa && /^[0-9a-f]{8}$/.test(sa.spiIn) && /^[0-9a-f]{8}$/.test(sa.spiOut), 'SPIs parsed');
    t.match(sa?.algorithms ?? '', c.version === 2 ? /AES_GCM_16-256/ : /AES_CBC-128\/HMAC_SHA1_96/, 'negotiated ESP transform');
    t.equal(sa?.localTs, topo.addr.lanB, 'traffic selectors');

    const before = sa?.spiIn;
    const rk = await tun.a.rekey('lan');
    t.equal(rk.code, 0, 'CHILD_SA rekey requested');
    for (let i = 0; i < 50 && (await tun.b.childSa('lan'))?.spiIn === before; i++) await new Promise((r) => setTimeout(r, 100));
    t.not((await tun.b.childSa('lan'))?.spiIn, before, 'new inbound SPI after rekey');
    t.ok(await ping(lab, 'hostA', topo.addr.hostB, { count: 2 }), 'traffic passes after rekey');

    await tun.stop();
    t.notOk(await ping(lab, 'hostA', topo.addr.hostB, { count: 1, timeoutSec: 1 }), 'no path once strongSwan stopped');
  });
}
