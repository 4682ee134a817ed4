// The IKEv2 runtime commands through the CLI engine (no root): empty tables without a
// runtime, IOS layout with one, the diagnosis of a real engine failure (two engines in one
// process, mismatched proposals), debug on/off, clear.
import t from 'tap';
import '../../firmware/cli/commands/index.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import type { Ikev2RuntimeView, Ikev2SaShow } from '../../firmware/cli/commands/crypto-ikev2-sa.js';
import { createConfig } from '../../firmware/config/model.js';
import { Ikev2Engine, formatDiagnosis, type Datagram } from '../../firmware/ike/v2/index.js';
import { fakeSystem } from '../lib/fake-system.js';

t.test('without an IKEv2 runtime the shows are empty', async (t) => {
  const sys = fakeSystem();
  const { text } = await runTranscript(['show crypto ikev2 sa', 'show crypto ikev2 diagnose'], { config: createConfig(), system: sys, privileged: true });
  t.match(text, / IPv4 Crypto IKEv2 {2}SA \n\nTunnel-id Local {17}Remote {16}fvrf\/ivrf {12}Status \n\n IPv6 Crypto IKEv2 {2}SA /);
  t.match(text, /No IKEv2 negotiation failures recorded\./);
});

function realNoProposalDiagnosis() {
  // two engines wired back to back: the responder accepts only AES-256, the initiator offers AES-128
  let now = 0;
  const psk = new TextEncoder().encode('k');
  const q: Datagram[] = [];
  const mk = (local: string, remote: string, encr: 'aes-cbc-128' | 'aes-cbc-256') => new Ikev2Engine({
    config: {
      connections: [{ name: 'c', localAddress: local, remoteAddress: remote, ikeProposals: [{ name: encr === 'aes-cbc-256' ? 'STRONG' : 'WEAK', encryption: [encr], integrity: ['sha256'], dhGroups: [14] }], childProposals: [{ encryption: ['aes-gcm-256'] }], localSelectors: [{ cidr: '10.1.0.0/24' }], remoteSelectors: [{ cidr: '10.2.0.0/24' }] }],
      psk: () => ({ local: psk, remote: psk, source: 'test' }),
    },
    clock: () => now, send: (d) => q.push(d),
  });
  const i = mk('10.0.0.1', '10.0.0.2', 'aes-cbc-128');
  const r = mk('10.0.0.2', '10.0.0.1', 'aes-cbc-256');
  i.initiate('c');
  for (let n = 0; n < 10 && q.length > 0; n++) {
    const d = q.shift()!;
    (d.remoteAddress === '10.0.0.2' ? r : i).receive({ localAddress: d.remoteAddress, localPort: d.remotePort, remoteAddress: d.localAddress, remotePort: d.localPort, data: d.data });
  }
  now += 1;
  return { responder: r.diagnoses(), initiator: i.diagnoses() };
}

t.test('show crypto ikev2 sa / diagnose / debug / clear with a runtime', async (t) => {
  const sys = fakeSystem();
  const diag = realNoProposalDiagnosis();
  t.equal(diag.responder[0]?.kind, 'NO_PROPOSAL_CHOSEN', 'the engine diagnosed the mismatch');
  t.equal(diag.initiator[0]?.kind, 'NOTIFY_RECEIVED');
  let debug = false;
  let cleared: string | undefined | null = null;
  const sa: Ikev2SaShow = {
    tunnelId: 1, local: '10.0.0.1', localPort: 500, remote: '10.0.0.2', remotePort: 500, fvrf: 'none', ivrf: 'none', status: 'READY',
    encr: 'AES-CBC', keySize: 256, prf: 'SHA256', hash: 'SHA256', dhGroup: 14, authSign: 'PSK', authVerify: 'PSK', lifetimeSec: 86400, activeSec: 12,
    localSpi: '0011223344556677', remoteSpi: '8899AABBCCDDEEFF', localId: '10.0.0.1', remoteId: '10.0.0.2', initiator: true,
    natLocal: false, natRemote: false, childSas: 1, connection: 'CM/10/0', profile: 'PROF1',
  };
  const view: Ikev2RuntimeView = {
    sas: () => [sa],
    diagnoses: (peer) => [...diag.responder, ...diag.initiator].filter((d) => !peer || d.remoteAddress === peer)
      .map((d) => ({ atMs: sys.now() - 5000, kind: d.kind, role: d.role, peer: d.remoteAddress, lines: formatDiagnosis(d), record: d })),
    clearSas: (peer) => { cleared = peer; return 1; },
    setDebug: (on) => { debug = on; },
    debugOn: () => debug,
    debugLines: () => (debug ? ['IKEv2: IKE SA 1 up'] : []),
    counters: () => ({ received: 3 }),
  };
  (sys.runtime as { ikev2?: Ikev2RuntimeView }).ikev2 = view;
  const { text } = await runTranscript([
    'show crypto ikev2 sa', 'show crypto ikev2 sa detail', 'show crypto ikev2 diagnose peer 10.0.0.1', 'show crypto ikev2 diagnose peer 10.0.0.2',
    'debug crypto ikev2', 'show crypto ikev2 debug', 'undebug crypto ikev2', 'clear crypto ikev2 sa remote 10.0.0.2',
  ], { config: createConfig(), system: sys, privileged: true });
  t.match(text, /1 {9}10\.0\.0\.1\/500 {10}10\.0\.0\.2\/500 {10}none\/none {12}READY \n {6}Encr: AES-CBC, keysize: 256, PRF: SHA256, Hash: SHA256, DH Grp:14, Auth sign: PSK, Auth verify: PSK\n {6}Life\/Active Time: 86400\/12 sec/);
  t.match(text, /Local spi: 0011223344556677 {7}Remote spi: 8899AABBCCDDEEFF/);
  t.match(text, /5 sec ago: NO_PROPOSAL_CHOSEN \(responder\) IKE_SA_INIT local 10\.0\.0\.2 remote 10\.0\.0\.1/, 'the responder side of the failure');
  t.match(text, /local proposal STRONG: ENCR_AES_CBC_256/);
  t.match(text, /first difference: encryption: offered ENCR_AES_CBC_128 \/ local ENCR_AES_CBC_256/, 'names the attribute');
  t.match(text, /NOTIFY_RECEIVED \(initiator\) IKE_SA_INIT local 10\.0\.0\.1 remote 10\.0\.0\.2[\s\S]*received notify NO_PROPOSAL_CHOSEN \(14\); last sent:\n\s+IKE_SA_INIT request #0|received notify NO_PROPOSAL_CHOSEN \(14\); last sent:/);
  t.match(text, /IKEv2 default debugging is on\n[\s\S]*IKEv2: IKE SA 1 up\n[\s\S]*IKEv2 default debugging is off/);
  t.equal(debug, false);
  t.equal(cleared, '10.0.0.2');
});
