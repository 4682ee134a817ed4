// `nat force-encap` (IOS IKEv2 profile) on the site-to-site topology WITHOUT a NAT (root only):
//   1. Rampart gwA (CLI: nat force-encap) <-> strongSwan gwB (no `encap`), Rampart initiating
//      by traffic: strongSwan sees a NAT in front of us, IKE floats to 4500, both sides
//      install UDP-encapsulated child SAs, pings pass;
//   2. Rampart <-> Rampart, force-encap on the initiator only: pings pass and the wire
//      between the gateways carries ESP in UDP 4500, no IP protocol 50 (nftables counters
//      in gwB's prerouting hook); after `no nat force-encap` and a new session, raw ESP.
import t from 'tap';
import { hasCommand, isRoot, type Lab } from '../lib/netns.js';
import { buildSiteToSite } from '../lib/site-to-site.js';
import { StrongswanPeer, haveStrongswan, type SwanConnection } from '../lib/strongswan.js';
import { rampartBundle, startGateway, type Gateway } from '../dataplane-e2e/rampart-pair.js';
import { ikev2PairConfig, IKEV2_PAIR_PSK } from '../dataplane-e2e/ikev2-pair.js';
import { rampartPairLab } from '../ikev1-interop/lab.js';
import { waitUntil } from './harness.js';

const rootSkip = !isRoot() ? 'needs root: network namespaces'
  : !hasCommand('ip') || !hasCommand('ping') ? 'needs iproute2 and ping'
    : !hasCommand('nft') ? 'needs nftables (nft) for the wire counters' : undefined;
const swanSkip = rootSkip ?? (!haveStrongswan() ? 'needs strongSwan (strongswan-charon strongswan-swanctl libcharon-extra-plugins)' : undefined);

const BAD = /^% (Invalid|Incomplete|Ambiguous|Unknown|Unrecognized)/m;

async function pingUntilUp(lab: Lab, from: string, to: string, ms: number): Promise<boolean> {
  return waitUntil(async () => (await lab.exec(from, ['ping', '-n', '-c', '1', '-W', '1', to], { timeoutMs: 5000 })).code === 0, ms, 300);
}

async function pingCount(lab: Lab, from: string, to: string, count: number): Promise<{ sent: number; received: number }> {
  const r = await lab.exec(from, ['ping', '-n', '-q', '-c', String(count), '-i', '0.2', '-W', '1', to], { timeoutMs: 30_000 });
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  return m ? { sent: Number(m[1]), received: Number(m[2]) } : { sent: 0, received: 0 };
}

/** Counters of what enters a namespace from its WAN veth: raw ESP, ESP in UDP 4500, IKE on 4500 (non-ESP marker). */
function installWireCounters(lab: Lab, ns: string): () => { esp: number; udpEsp: number; udpIke: number } {
  lab.execSync(ns, ['nft', '-f', '-'], {
    input: [
      'table ip fe_wire {',
      ' chain pre {',
      '  type filter hook prerouting priority -300; policy accept;',
      '  iifname "wan0" ip protocol esp counter',
      '  iifname "wan0" udp dport 4500 @th,64,32 != 0 counter',
      '  iifname "wan0" udp dport 4500 @th,64,32 == 0 counter',
      ' }',
      '}',
    ].join('\n'),
  });
  return () => {
    const out = lab.execSync(ns, ['nft', 'list', 'table', 'ip', 'fe_wire']).stdout;
    const n = [...out.matchAll(/counter packets (\d+)/g)].map((m) => Number(m[1]));
    return { esp: n[0] ?? -1, udpEsp: n[1] ?? -1, udpIke: n[2] ?? -1 };
  };
}

t.test('force-encap: Rampart (initiator) <-> strongSwan without NAT, ESP in UDP 4500 both ways', { skip: swanSkip, timeout: 300_000 }, async (t) => {
  const { Lab } = await import('../lib/netns.js');
  const lab = Lab.create('fe-swan');
  t.teardown(() => lab.destroy());
  const s2s = buildSiteToSite(lab);
  const a = s2s.addr;
  const swan = new StrongswanPeer(lab, 'gwB');
  await swan.start();
  t.teardown(() => swan.stop());
  const conn: SwanConnection = {
    name: 'fe', version: 2, localAddr: a.gwBWan, remoteAddr: a.gwAWan, remoteId: a.gwAWan,
    proposals: ['aes256-sha256-modp2048'], psk: IKEV2_PAIR_PSK, // no `encap`: only Rampart forces
    children: [{ name: 'lan', localTs: [a.lanB], remoteTs: [a.lanA], espProposals: ['aes256gcm16'] }],
  };
  await swan.load([conn]);
  const wire = installWireCounters(lab, 'gwB');
  const gw: Gateway = await startGateway(lab, 'gwA', await rampartBundle());
  t.teardown(() => gw.con.close());
  const out = await gw.configure(ikev2PairConfig('A', { forceEncap: true }));
  t.notMatch(out, BAD, 'gwA takes the IKEv2 config with nat force-encap');
  t.match(await gw.exec('show running-config | section ikev2 profile'), /keyring local KR1\n nat force-encap\n/, 'running-config shows it');

  t.ok(await pingUntilUp(lab, 'hostA', a.hostB, 30_000), 'hostA pings hostB (traffic started the tunnel)');
  const st = await pingCount(lab, 'hostA', a.hostB, 10);
  t.equal(st.received, st.sent, `10 more pings pass (${st.received}/${st.sent})`);

  const sas = await swan.listSas();
  t.comment(sas.trim());
  t.match(sas, new RegExp(`${a.gwAWan.replace(/\./g, '\\.')}\\[4500\\]`), 'strongSwan: IKE with us on 4500');
  t.match(sas, /TUNNEL-in-UDP/, 'strongSwan: child SA UDP-encapsulated (encap)');
  const detail = await gw.exec('show crypto ikev2 sa detail');
  t.match(detail, /172\.16\.0\.1\/4500 +172\.16\.0\.2\/4500 +none\/none +READY/, 'Rampart: IKE SA on 4500');
  t.match(detail, /NAT-T is detected inside/, 'Rampart: NAT-T shown as for a NAT in front of us');
  const ipsec = await gw.exec('show crypto ipsec sa');
  t.match(ipsec, /in use settings =\{Tunnel UDP-Encaps, \}/, 'Rampart: SAs UDP-encapsulated');
  t.match(await gw.exec('show crypto session detail'), /IKEv2 SA: local 172\.16\.0\.1\/4500 remote 172\.16\.0\.2\/4500 Active/, 'show crypto session: on 4500');
  const w = wire();
  t.comment(`gwB wire: raw ESP ${w.esp}, ESP in UDP 4500 ${w.udpEsp}, IKE on 4500 ${w.udpIke}`);
  t.equal(w.esp, 0, 'no IP protocol 50 from gwA');
  t.ok(w.udpEsp >= 10, 'ESP in UDP 4500 from gwA');
});

t.test('force-encap on the initiator only: Rampart <-> Rampart, UDP 4500 on the wire, no protocol 50', { skip: rootSkip, timeout: 300_000 }, async (t) => {
  const { lab, topo, gwA, gwB } = await rampartPairLab(t, 'fe-pair');
  const a = topo.addr;
  const wire = installWireCounters(lab, 'gwB');
  t.notMatch(await gwA.configure(ikev2PairConfig('A', { forceEncap: true })), BAD, 'gwA configured (nat force-encap)');
  t.notMatch(await gwB.configure(ikev2PairConfig('B')), BAD, 'gwB configured (no force-encap)');

  t.ok(await pingUntilUp(lab, 'hostA', a.hostB, 30_000), 'hostA pings hostB through the tunnel');
  const ab = await pingCount(lab, 'hostA', a.hostB, 10);
  const ba = await pingCount(lab, 'hostB', a.hostA, 10);
  t.equal(ab.received, ab.sent, `A -> B pings pass (${ab.received}/${ab.sent})`);
  t.equal(ba.received, ba.sent, `B -> A pings pass (${ba.received}/${ba.sent})`);
  const w = wire();
  t.comment(`gwB wire (forced): raw ESP ${w.esp}, ESP in UDP 4500 ${w.udpEsp}, IKE on 4500 ${w.udpIke}`);
  t.equal(w.esp, 0, 'no IP protocol 50 between the gateways');
  t.ok(w.udpEsp >= 20, 'the pings crossed as ESP in UDP 4500');
  t.ok(w.udpIke >= 1, 'IKE floated to 4500');
  const dA = await gwA.exec('show crypto ikev2 sa detail');
  const dB = await gwB.exec('show crypto ikev2 sa detail');
  t.match(dA, /NAT-T is detected inside/, 'gwA: behind a "NAT" (forced)');
  t.match(dB, /NAT-T is detected outside/, 'gwB: sees a NAT at the peer');
  t.match(dB, /172\.16\.0\.2\/4500 +172\.16\.0\.1\/4500/, 'gwB: IKE SA on 4500');
  t.match(await gwA.exec('show crypto ipsec sa'), /UDP-Encaps/, 'gwA: SAs UDP-encapsulated');
  t.match(await gwB.exec('show crypto ipsec sa'), /UDP-Encaps/, 'gwB: SAs UDP-encapsulated');

  // Control: without the option a new session runs raw ESP (the counters see protocol 50).
  t.notMatch(await gwA.configure(['crypto ikev2 profile PROF1', ' no nat force-encap', 'exit']), BAD, 'no nat force-encap');
  await gwA.exec('clear crypto session');
  await waitUntil(async () => !/READY/.test(await gwA.exec('show crypto ikev2 sa')) && !/READY/.test(await gwB.exec('show crypto ikev2 sa')), 15_000, 300);
  const base = wire(); // anonymous rule counters cannot be reset: compare with a snapshot
  t.ok(await pingUntilUp(lab, 'hostA', a.hostB, 30_000), 'tunnel back up without force-encap');
  const again = await pingCount(lab, 'hostA', a.hostB, 10);
  t.equal(again.received, again.sent, 'pings pass');
  const now = wire();
  const w2 = { esp: now.esp - base.esp, udpEsp: now.udpEsp - base.udpEsp, udpIke: now.udpIke - base.udpIke };
  t.comment(`gwB wire (not forced): raw ESP ${w2.esp}, ESP in UDP 4500 ${w2.udpEsp}, IKE on 4500 ${w2.udpIke}`);
  t.ok(w2.esp >= 10, 'raw ESP (protocol 50) now');
  t.equal(w2.udpEsp, 0, 'no ESP in UDP');
  t.match(await gwB.exec('show crypto ikev2 sa detail'), /NAT-T is not detected/, 'no NAT-T');
});
