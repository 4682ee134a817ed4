// Rekeys started by Rampart (root only): `set security-association lifetime seconds 120` and
// `lifetime 120` in the IKEv2 profile (IOS minimums), strongSwan with long lifetimes, so the
// CHILD and IKE SA rekeys (CREATE_CHILD_SA with PFS) come from the Rampart daemon before its
// soft lifetime, while a ping runs through the tunnel: at most one lost. About two minutes.
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { buildSiteToSite } from '../lib/site-to-site.js';
import { StrongswanPeer, haveStrongswan } from '../lib/strongswan.js';
import { rampartIkev2Config, startRampart, waitUntil } from './harness.js';

const skip = !isRoot()
  ? 'needs root: network namespaces and strongSwan'
  : !haveStrongswan() ? 'needs strongSwan (strongswan-charon strongswan-swanctl libcharon-extra-plugins)'
    : !hasCommand('ip') || !hasCommand('ping') ? 'needs iproute2 and ping' : undefined;

const PSK = 'rampart-ikev2-rekey-psk';

t.test('Rampart rekeys CHILD and IKE SA (120 s lifetimes) under ping: at most one lost', { skip, timeout: 300_000 }, async (t) => {
  const lab = Lab.create('ri2rkey');
  t.teardown(() => lab.destroy());
  const s2s = buildSiteToSite(lab);
  const a = s2s.addr;
  const swan = new StrongswanPeer(lab, 'gwB');
  await swan.start();
  await swan.load([{
    name: 'rt', version: 2, localAddr: a.gwBWan, remoteAddr: a.gwAWan, proposals: ['aes128-sha256-modp2048'], psk: PSK, encap: true,
    children: [{ name: 'lan', localTs: [a.lanB], remoteTs: [a.lanA], espProposals: ['aes128-sha1-modp2048'] }],
  }]);
  const box = await startRampart(lab, 'gwA', { 'FastEthernet0/0': 'wan0', 'FastEthernet0/1': 'lan0' });
  t.teardown(() => box.stop());
  await box.configure([
    'interface FastEthernet0/1', ' ip address 10.1.0.1 255.255.255.0', ' no shutdown', 'exit',
    ...rampartIkev2Config({
      iface: 'FastEthernet0/0', address: a.gwAWan, mask: '255.255.255.0', peer: a.gwBWan,
      suite: {
        ikeProposal: ['encryption aes-cbc-128', 'integrity sha256', 'group 14'], transformSet: 'esp-aes esp-sha-hmac', pfsGroup: 14, psk: PSK,
        acl: ['permit ip 10.1.0.0 0.0.0.255 10.2.0.0 0.0.0.255'], lifetimeSec: 120, ikeLifetimeSec: 120,
      },
    }),
    'ip route 10.2.0.0 255.255.255.0 172.16.0.2',
  ]);
  const up = await waitUntil(async () => (await lab.exec('hostA', ['ping', '-n', '-c', '1', '-W', '1', a.hostB], { timeoutMs: 5000 })).code === 0, 25_000, 300);
  t.ok(up, 'tunnel up (traffic-triggered)');
  if (!up) return;
  const sa0 = await box.run('show crypto ikev2 sa');
  const tunnel0 = /^(\d+) +172\.16\.0\.1/m.exec(sa0)?.[1];
  const spis0: string[] = (await box.run('show crypto ipsec sa')).match(/spi: 0x[0-9A-F]+/gi) ?? [];
  const r = await lab.exec('hostA', ['ping', '-n', '-q', '-c', '640', '-i', '0.2', '-W', '1', a.hostB], { timeoutMs: 170_000 });
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  const sent = Number(m?.[1] ?? 0);
  const got = Number(m?.[2] ?? 0);
  t.comment(`ping over ~128 s of rekeys: ${got}/${sent}`);
  t.ok(sent >= 600, 'ping ran');
  t.ok(sent - got <= 1, `at most one ping lost (${sent - got})`);
  const sa1 = await box.run('show crypto ikev2 sa detail');
  const tunnel1 = /^(\d+) +172\.16\.0\.1/m.exec(sa1)?.[1];
  t.match(sa1, /READY/);
  t.not(tunnel1, tunnel0, `IKE SA rekeyed by Rampart (tunnel-id ${tunnel0} -> ${tunnel1})`);
  t.match(sa1, /Initiator of SA/, 'Rampart initiated the IKE rekey (it is the initiator of the new SA)');
  const spis1: string[] = (await box.run('show crypto ipsec sa')).match(/spi: 0x[0-9A-F]+/gi) ?? [];
  t.ok(spis1.length > 0 && spis1.every((s) => !spis0.includes(s)), `CHILD SA rekeyed: new SPIs (${spis0.join(',')} -> ${spis1.join(',')})`);
  const swanSas = await swan.listSas();
  t.match(swanSas, /ESTABLISHED, IKEv2/, 'strongSwan agrees');
  t.match(swanSas, /lan: #\d+, reqid \d+, INSTALLED/);
});
