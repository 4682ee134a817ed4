import t from 'tap';
import { simplePair, type Pair } from './harness.js';
import { formatDiagnosis, type Ikev2Diagnosis } from '../../firmware/ike/v2/index.js';

function up(p: Pair): void {
  p.a.engine.initiate('to-b');
  p.pump();
}

function only<K extends Ikev2Diagnosis['kind']>(list: Ikev2Diagnosis[], kind: K): Extract<Ikev2Diagnosis, { kind: K }> | undefined {
  return list.find((d): d is Extract<Ikev2Diagnosis, { kind: K }> => d.kind === kind);
}

t.test('IKE proposal mismatch: the responder names the first differing attribute', async (t) => {
  const p = simplePair(
    { ikeProposals: [{ name: 'PROP-A', encryption: ['aes-cbc-128'], integrity: ['sha256'], dhGroups: [14] }] },
    { ikeProposals: [
      { name: 'PROP-B1', encryption: ['aes-cbc-256'], integrity: ['sha256'], dhGroups: [14] },
      { name: 'PROP-B2', encryption: ['aes-cbc-128'], integrity: ['sha1'], dhGroups: [14] },
    ] },
  );
  up(p);
  t.equal(p.ofType(p.a, 'ike-up').length, 0, 'no IKE SA');
  const d = only(p.b.engine.diagnoses(), 'NO_PROPOSAL_CHOSEN');
  t.ok(d, 'responder diagnosis');
  t.equal(d?.protocol, 'IKE');
  t.equal(d?.exchange, 'IKE_SA_INIT');
  t.match(d?.offered[0], /ENCR_AES_CBC_128 PRF_HMAC_SHA2_256 AUTH_HMAC_SHA2_256_128 MODP_2048/);
  t.equal(d?.comparisons.length, 2);
  t.equal(d?.comparisons[0]?.localName, 'PROP-B1');
  t.same(d?.comparisons[0]?.firstDifference, { transformType: 'encryption', offered: ['ENCR_AES_CBC_128'], local: ['ENCR_AES_CBC_256'] });
  t.equal(d?.comparisons[1]?.firstDifference.transformType, 'prf', 'B2 differs first in the PRF (derived from sha1)');
  const a = only(p.a.engine.diagnoses(), 'NOTIFY_RECEIVED');
  t.equal(a?.notify, 'NO_PROPOSAL_CHOSEN', 'initiator recorded the notify');
  t.match(a?.lastSent.join('\n'), /SA proposal #1 protocol 1: ENCR_AES_CBC_128/);
  const text = formatDiagnosis(d!).join('\n');
  t.match(text, /first difference: encryption: offered ENCR_AES_CBC_128 \/ local ENCR_AES_CBC_256/);
  t.equal(p.b.engine.listIkeSas().length, 0, 'responder kept no state');
  const ev = p.ofType(p.b, 'negotiation-failed');
  t.equal(ev.length, 1, 'event emitted');
});

t.test('DH group mismatch is reported as the dh-group attribute', async (t) => {
  const p = simplePair(
    { ikeProposals: [{ encryption: ['aes-cbc-256'], integrity: ['sha256'], dhGroups: [5] }] },
    { ikeProposals: [{ encryption: ['aes-cbc-256'], integrity: ['sha256'], dhGroups: [14, 19] }] },
  );
  up(p);
  const d = only(p.b.engine.diagnoses(), 'NO_PROPOSAL_CHOSEN');
  t.same(d?.comparisons[0]?.firstDifference, { transformType: 'dh-group', offered: ['MODP_1536'], local: ['MODP_2048', 'ECP_256'] });
});

t.test('ESP proposal mismatch: IKE SA up, child refused and explained', async (t) => {
  const p = simplePair(
    { childProposals: [{ name: 'TS-A', encryption: ['aes-cbc-256'], integrity: ['sha1'] }] },
    { childProposals: [{ name: 'TS-B', encryption: ['aes-cbc-256'], integrity: ['sha256'] }] },
  );
  up(p);
  t.equal(p.ofType(p.a, 'ike-up').length, 1, 'IKE SA established');
  t.equal(p.ofType(p.a, 'child-up').length, 0, 'no child');
  const d = only(p.b.engine.diagnoses(), 'NO_PROPOSAL_CHOSEN');
  t.equal(d?.protocol, 'ESP');
  t.equal(d?.exchange, 'IKE_AUTH');
  t.same(d?.comparisons[0]?.firstDifference, { transformType: 'integrity', offered: ['AUTH_HMAC_SHA1_96'], local: ['AUTH_HMAC_SHA2_256_128'] });
  t.equal(only(p.a.engine.diagnoses(), 'NOTIFY_RECEIVED')?.notify, 'NO_PROPOSAL_CHOSEN');
});

t.test('PFS required by the responder but not offered', async (t) => {
  const p = simplePair({ childProposals: [{ encryption: ['aes-cbc-128'], integrity: ['sha1'] }] },
    { childProposals: [{ encryption: ['aes-cbc-128'], integrity: ['sha1'] }], pfsGroup: 14 });
  up(p);
  const ikeSa = p.ofType(p.a, 'ike-up')[0]!.sa.ikeSaId;
  t.equal(p.ofType(p.a, 'child-up').length, 1, 'IKE_AUTH child ignores DH');
  p.a.engine.createChild(ikeSa);
  p.pump();
  const d = only(p.b.engine.diagnoses(), 'NO_PROPOSAL_CHOSEN');
  t.equal(d?.exchange, 'CREATE_CHILD_SA');
  t.same(d?.comparisons[0]?.firstDifference, { transformType: 'dh-group', offered: ['DH_NONE'], local: ['MODP_2048'] });
});

t.test('traffic selector mismatch: TS_UNACCEPTABLE with both sides listed', async (t) => {
  const p = simplePair(
    { localSelectors: [{ cidr: '10.1.0.0/16' }], remoteSelectors: [{ cidr: '10.9.0.0/16' }] },
    { localSelectors: [{ cidr: '10.2.0.0/16' }], remoteSelectors: [{ cidr: '10.1.0.0/16' }] },
  );
  up(p);
  t.equal(p.ofType(p.a, 'ike-up').length, 1);
  t.equal(p.ofType(p.b, 'child-up').length, 0);
  const d = only(p.b.engine.diagnoses(), 'TS_UNACCEPTABLE');
  t.ok(d);
  t.equal(d?.failedSide, 'TSr');
  t.same(d?.requestedTsr, ['10.9.0.0-10.9.255.255 proto any port any']);
  t.same(d?.localLocalSelectors, ['10.2.0.0-10.2.255.255 proto any port any']);
  t.equal(only(p.a.engine.diagnoses(), 'NOTIFY_RECEIVED')?.notify, 'TS_UNACCEPTABLE');
  t.match(formatDiagnosis(d!).join('\n'), /no overlap in TSr/);
});

t.test('narrowing: the responder answers with the intersection', async (t) => {
  const p = simplePair(
    { localSelectors: [{ cidr: '10.1.0.0/16' }], remoteSelectors: [{ cidr: '10.2.0.0/16' }] },
    { localSelectors: [{ cidr: '10.2.5.0/24', protocol: 6 }], remoteSelectors: [{ cidr: '10.1.0.0/24' }] },
  );
  up(p);
  const c = p.ofType(p.a, 'child-up')[0]?.child;
  t.ok(c, 'child up');
  t.same(c?.tsLocal.map((s) => [...s.startAddress, ...s.endAddress]), [[10, 1, 0, 0, 10, 1, 0, 255]], 'TSi narrowed');
  t.same(c?.tsRemote.map((s) => [s.ipProtocol, ...s.startAddress, ...s.endAddress]), [[6, 10, 2, 5, 0, 10, 2, 5, 255]], 'TSr narrowed to TCP /24');
});

t.test('PSK mismatch: AUTHENTICATION_FAILED with identity and key source', async (t) => {
  const p = simplePair({}, {}, { pskA: 'one-key', pskB: 'another-key' });
  up(p);
  t.equal(p.ofType(p.a, 'ike-up').length, 0);
  t.equal(p.ofType(p.b, 'ike-up').length, 0);
  const d = only(p.b.engine.diagnoses(), 'AUTHENTICATION_FAILED');
  t.equal(d?.reason, 'auth-mismatch');
  t.equal(d?.peerIdentity, 'ipv4:192.0.2.1');
  t.equal(d?.keySource, 'keyring test peer 192.0.2.1');
  t.equal(only(p.a.engine.diagnoses(), 'NOTIFY_RECEIVED')?.notify, 'AUTHENTICATION_FAILED');
  t.equal(p.a.engine.listIkeSas().length, 0, 'initiator SA removed');
  t.equal(p.b.engine.listIkeSas().length, 0, 'responder SA removed');
  const all = JSON.stringify([...p.a.logs, ...p.b.logs, p.b.engine.diagnoses(), p.a.engine.diagnoses()]);
  t.notMatch(all, /one-key|another-key/, 'no key in logs or diagnoses');
});

t.test('unknown peer identity: no matching connection', async (t) => {
  const p = simplePair({ localId: { type: 'fqdn', value: 'branch7.example' } }, { remoteId: { type: 'fqdn', value: 'branch1.example' } });
  up(p);
  const d = only(p.b.engine.diagnoses(), 'AUTHENTICATION_FAILED');
  t.equal(d?.reason, 'no-matching-connection');
  t.equal(d?.peerIdentity, 'fqdn:branch7.example');
});

t.test('responder without a key for the peer', async (t) => {
  const p = simplePair({}, {}, { b: { psk: () => undefined } });
  up(p);
  const d = only(p.b.engine.diagnoses(), 'AUTHENTICATION_FAILED');
  t.equal(d?.reason, 'no-key');
});

t.test('initiator without a key for the peer fails locally: no IKE_AUTH goes out', async (t) => {
  const p = simplePair({}, {}, { a: { psk: () => undefined } });
  up(p);
  const d = only(p.a.engine.diagnoses(), 'AUTHENTICATION_FAILED');
  t.equal(d?.role, 'initiator', 'the initiator diagnoses itself');
  t.equal(d?.reason, 'no-key');
  t.match(d?.keySource, /No pre-shared key with 192\.0\.2\.2!/);
  t.match(p.a.logs.join('\n'), /No pre-shared key with 192\.0\.2\.2!/, 'IOS-like message in the log');
  t.equal(p.sent.filter((w) => w.from === 'a').length, 1, 'only IKE_SA_INIT was sent (no AUTH over an empty key)');
  t.equal(p.b.engine.diagnoses().length, 0, 'the responder has nothing to blame the peer for');
  t.equal(p.a.engine.listIkeSas().length, 0, 'initiator SA removed');
  t.equal(p.ofType(p.a, 'ike-up').length, 0);
});
