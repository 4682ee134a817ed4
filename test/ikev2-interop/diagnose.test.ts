// `show crypto ikev2 diagnose` on a real daemon against strongSwan (root only): a deliberate
// IKE proposal mismatch and a traffic selector mismatch, with Rampart responding (it names the
// differing attribute / the selectors) and initiating (it shows the notify it got and what it
// last sent).
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { buildPeerPair } from '../lib/peer-pair.js';
import { StrongswanPeer, haveStrongswan, type SwanConnection } from '../lib/strongswan.js';
import { rampartIkev2Config, startRampart, waitUntil } from './harness.js';

const skip = !isRoot()
  ? 'needs root: network namespaces and strongSwan'
  : !haveStrongswan() ? 'needs strongSwan (strongswan-charon strongswan-swanctl libcharon-extra-plugins)'
    : !hasCommand('ip') ? 'needs iproute2' : undefined;

const PSK = 'rampart-ikev2-diagnose-psk';
const R = '10.79.90.1';
const S = '10.79.90.2';

t.test('show crypto ikev2 diagnose names what differed (strongSwan peer)', { skip, timeout: 300_000 }, async (t) => {
  const lab = Lab.create('ri2diag');
  t.teardown(() => lab.destroy());
  buildPeerPair(lab, { local: R, peer: S, box: true, localLoopback: '192.168.21.1/24', peerLoopback: '192.168.22.1/24', peerRoutes: ['192.168.21.0/24'] });
  const swan = new StrongswanPeer(lab, 's');
  await swan.start();
  const swanConn = (proposal: string, localTs: string, remoteTs = '192.168.21.0/24'): SwanConnection => ({
    name: 'rt', version: 2, localAddr: S, remoteAddr: R, proposals: [proposal], psk: PSK, encap: true,
    children: [{ name: 'lan', localTs: [localTs], remoteTs: [remoteTs], espProposals: ['aes256gcm16'] }],
  });
  const box = await startRampart(lab, 'r', { 'FastEthernet0/0': 'r0' });
  t.teardown(() => box.stop());
  await box.configure(rampartIkev2Config({
    iface: 'FastEthernet0/0', address: R, mask: '255.255.255.0', peer: S,
    suite: { ikeProposal: ['encryption aes-cbc-256', 'integrity sha256', 'group 14'], transformSet: 'esp-gcm 256', psk: PSK },
  }));
  await waitUntil(() => lab.execSync('r', ['ip', '-4', 'addr', 'show', 'dev', 'r0'], { allowFail: true }).stdout.includes(R), 5000);
  lab.execSync('r', ['ip', 'route', 'replace', '192.168.22.0/24', 'via', S]);
  const diag = () => box.run(`show crypto ikev2 diagnose peer ${S}`);
  const ping = () => lab.exec('r', ['ping', '-n', '-c', '3', '-i', '0.5', '-W', '1', '-I', '192.168.21.1', '192.168.22.1'], { timeoutMs: 10_000 });

  t.match(await diag(), /No IKEv2 negotiation failures recorded/, 'nothing recorded at first');

  // 1. IKE proposal mismatch, strongSwan initiates: Rampart (responder) names the attribute.
  await swan.load([swanConn('aes128-sha1-modp2048', '192.168.22.0/24')]);
  await swan.initiate('lan', 8000).catch(() => undefined);
  t.ok(await waitUntil(async () => /NO_PROPOSAL_CHOSEN/.test(await diag()), 10_000), 'responder recorded NO_PROPOSAL_CHOSEN');
  let out = await diag();
  t.match(out, /NO_PROPOSAL_CHOSEN \(responder\) IKE_SA_INIT/, 'kind, role and exchange');
  t.match(out, /IKE proposals offered by the peer:\n\s+#1: .*ENCR_AES_CBC_128/, 'the peer\'s offer, transform by transform');
  t.match(out, /local proposal PROP1: .*ENCR_AES_CBC_256/, 'our proposal side by side');
  t.match(out, /first difference: encryption: offered ENCR_AES_CBC_128 \/ local ENCR_AES_CBC_256/, 'the differing attribute is named');
  t.match(swan.log(), /NO_PROPOSAL_CHOSEN/, 'strongSwan got NO_PROPOSAL_CHOSEN');
  const json = await box.run(`show crypto ikev2 diagnose peer ${S} | json`);
  t.match(json, /"firstDifference"/, '| json carries the structured record');

  // 2. Same mismatch, Rampart initiates: it shows the notify and what it sent.
  await ping();
  t.ok(await waitUntil(async () => /NOTIFY_RECEIVED \(initiator\)/.test(await diag()), 10_000), 'initiator recorded the notify');
  out = await diag();
  t.match(out, /NOTIFY_RECEIVED \(initiator\) IKE_SA_INIT .*\n\s+received notify NO_PROPOSAL_CHOSEN \(14\); last sent:/, 'the notify received');
  t.match(out, /SA proposal #1 protocol 1: ENCR_AES_CBC_256 .*MODP_2048/, 'and the proposal it sent');

  // 3. Proposals agree, selectors do not: strongSwan asks for 192.168.23.0/24, our ACL has 192.168.22.0/24.
  await swan.load([swanConn('aes256-sha256-modp2048', '192.168.23.0/24')]);
  await swan.initiate('lan', 8000).catch(() => undefined);
  t.ok(await waitUntil(async () => /TS_UNACCEPTABLE \(responder\)/.test(await diag()), 10_000), 'responder recorded TS_UNACCEPTABLE');
  out = await diag();
  t.match(out, /TS_UNACCEPTABLE \(responder\) IKE_AUTH/);
  t.match(out, /requested TSi: 192\.168\.23\.0-192\.168\.23\.255/, 'the requested selectors');
  t.match(out, /local selectors for the peer side: 192\.168\.22\.0-192\.168\.22\.255/, 'the local permit entry');
  t.match(out, /no overlap in TSi/, 'which side failed');
  t.match(swan.log(), /TS_UNACCEPTABLE/, 'strongSwan got TS_UNACCEPTABLE');

  // 4. Rampart initiates for 192.168.22.0/24 while strongSwan only allows 192.168.30.0/24.
  await box.run('clear crypto ikev2 sa');
  await swan.load([swanConn('aes256-sha256-modp2048', '192.168.30.0/24')]);
  await waitUntil(async () => !/ESTABLISHED/.test(await swan.listSas()), 5000);
  await ping();
  t.ok(await waitUntil(async () => /received notify TS_UNACCEPTABLE/.test(await diag()), 10_000), 'initiator recorded TS_UNACCEPTABLE from the peer');
  out = await diag();
  t.match(out, /TSi 192\.168\.21\.0-192\.168\.21\.255/, 'with the TSi it sent');
  t.match(out, /TSr 192\.168\.22\.0-192\.168\.22\.255/, 'and the TSr');
  t.notMatch(box.proc.output, new RegExp(PSK), 'no PSK in the daemon output');
});
