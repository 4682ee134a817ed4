import t, { type Test } from 'tap';
import { simplePair, type Pair } from './harness.js';
import type { ChildSaInfo, IkeProposalConfig, ChildProposalConfig } from '../../firmware/ike/v2/index.js';


function up(p: Pair): void {
  p.a.engine.initiate('to-b');
  p.pump();
}

function sameKeys(t: Test, x: ChildSaInfo, y: ChildSaInfo): void {
  t.equal(x.spiOut, y.spiIn, 'A out SPI is B in SPI');
  t.equal(x.spiIn, y.spiOut, 'A in SPI is B out SPI');
  t.same(x.keysOut, y.keysIn, 'A outbound keys = B inbound keys');
  t.same(x.keysIn, y.keysOut, 'A inbound keys = B outbound keys');
  t.not(Buffer.from(x.keysOut.encr).toString('hex'), Buffer.from(x.keysIn.encr).toString('hex'), 'directions differ');
}

t.test('IKE_SA_INIT + IKE_AUTH with several suites', async (t) => {
  interface Suite { name: string; ike: IkeProposalConfig; esp: ChildProposalConfig; pfs?: number; encLen: number; integLen: number }
  const suites: Suite[] = [
    { name: 'aes256-sha256-modp2048 + esp aes256gcm16', ike: { encryption: ['aes-cbc-256'], integrity: ['sha256'], dhGroups: [14] }, esp: { encryption: ['aes-gcm-256'] }, encLen: 36, integLen: 0 },
    { name: 'aes128-sha1-modp1536 + esp aes128-sha1 (PFS)', ike: { encryption: ['aes-cbc-128'], integrity: ['sha1'], dhGroups: [5] }, esp: { encryption: ['aes-cbc-128'], integrity: ['sha1'] }, pfs: 5, encLen: 16, integLen: 20 },
    { name: 'aes128-sha256-ecp256', ike: { encryption: ['aes-cbc-128'], integrity: ['sha256'], dhGroups: [19] }, esp: { encryption: ['aes-cbc-128'], integrity: ['sha256'] }, encLen: 16, integLen: 32 },
    { name: '3des-md5-modp1024', ike: { encryption: ['3des'], integrity: ['md5'], dhGroups: [2] }, esp: { encryption: ['3des'], integrity: ['md5'] }, encLen: 24, integLen: 16 },
    { name: 'aes-gcm-256 IKE + curve25519', ike: { encryption: ['aes-gcm-256'], prf: ['sha384'], dhGroups: [31] }, esp: { encryption: ['aes-gcm-128'] }, encLen: 20, integLen: 0 },
    { name: 'aes192 sha512 ecp384 / ecp521 / aes-xcbc', ike: { encryption: ['aes-cbc-192'], integrity: ['aes-xcbc'], prf: ['aes-xcbc'], dhGroups: [21] }, esp: { encryption: ['aes-cbc-192'], integrity: ['sha512'] }, encLen: 24, integLen: 64 },
  ];
  for (const s of suites) {
    const over = { ikeProposals: [s.ike], childProposals: [s.esp], ...(s.pfs !== undefined ? { pfsGroup: s.pfs } : {}) };
    const p = simplePair(over, over);
    up(p);
    const ua = p.ofType(p.a, 'ike-up');
    const ub = p.ofType(p.b, 'ike-up');
    t.equal(ua.length, 1, `${s.name}: A IKE up`);
    t.equal(ub.length, 1, `${s.name}: B IKE up`);
    const ca = p.ofType(p.a, 'child-up');
    const cb = p.ofType(p.b, 'child-up');
    t.equal(ca.length, 1, `${s.name}: A child up`);
    t.equal(cb.length, 1, `${s.name}: B child up`);
    if (ca[0] && cb[0]) {
      sameKeys(t, ca[0].child, cb[0].child);
      t.equal(ca[0].child.keysOut.encr.length, s.encLen, `${s.name}: encryption key length`);
      t.equal(ca[0].child.keysOut.integ.length, s.integLen, `${s.name}: integrity key length`);
      t.equal(ca[0].child.tsLocal.length, 1);
    }
    t.equal(ua[0]?.sa.dhGroup, s.ike.dhGroups[0]);
    t.same(p.a.engine.diagnoses(), [], 'no diagnosis');
    if (s.pfs !== undefined) {
      // A CREATE_CHILD_SA with PFS on the established SA.
      t.ok(p.a.engine.createChild(ua[0]!.sa.ikeSaId));
      p.pump();
      const ca2 = p.ofType(p.a, 'child-up');
      const cb2 = p.ofType(p.b, 'child-up');
      t.equal(ca2.length, 2, 'second child with PFS');
      t.equal(ca2[1]?.child.dhGroup, s.pfs, 'PFS group used');
      if (ca2[1] && cb2[1]) sameKeys(t, ca2[1].child, cb2[1].child);
    }
  }
});

t.test('cookie path: responder above its half-open threshold asks for a COOKIE', async (t) => {
  const p = simplePair({}, {}, { b: { cookieThreshold: 0 } });
  up(p);
  t.equal(p.b.engine.counters.cookiesSent, 1, 'one COOKIE sent');
  t.equal(p.ofType(p.a, 'ike-up').length, 1, 'initiator got through with the cookie');
  t.equal(p.ofType(p.b, 'child-up').length, 1);
  // A request with a wrong cookie is answered with a new COOKIE, no state.
  const before = p.b.engine.listIkeSas().length;
  const first = p.sent.find((w) => w.from === 'a')!;
  p.b.engine.receive({ localAddress: first.d.remoteAddress, localPort: 500, remoteAddress: '198.51.100.9', remotePort: 500, data: first.d.data });
  t.equal(p.b.engine.counters.cookiesSent, 2);
  t.equal(p.b.engine.listIkeSas().length, before, 'no half-open state for a spoofed source');
});

t.test('INVALID_KE_PAYLOAD retry with the requested group', async (t) => {
  const p = simplePair(
    { ikeProposals: [{ encryption: ['aes-cbc-128'], integrity: ['sha256'], dhGroups: [19, 14] }] },
    { ikeProposals: [{ encryption: ['aes-cbc-128'], integrity: ['sha256'], dhGroups: [14] }] },
  );
  up(p);
  const ua = p.ofType(p.a, 'ike-up');
  t.equal(ua.length, 1, 'up after retry');
  t.equal(ua[0]?.sa.dhGroup, 14, 'group 14 as requested');
  t.equal(p.b.engine.diagnoses()[0]?.kind, 'INVALID_KE_PAYLOAD', 'responder recorded the KE mismatch');
  const inits = p.sent.filter((w) => w.from === 'a' && w.d.data[18] === 34);
  t.equal(inits.length, 2, 'two IKE_SA_INIT requests');
});

t.test('child rekey', async (t) => {
  const p = simplePair();
  up(p);
  const old = p.ofType(p.a, 'child-up')[0]!.child;
  t.ok(p.a.engine.rekeyChild(old.childId));
  p.pump();
  const ca = p.ofType(p.a, 'child-up');
  const cb = p.ofType(p.b, 'child-up');
  t.equal(ca.length, 2);
  t.equal(cb.length, 2);
  t.equal(ca[1]?.child.rekeyOf, old.childId, 'new child replaces the old one');
  if (ca[1] && cb[1]) sameKeys(t, ca[1].child, cb[1].child);
  t.equal(p.ofType(p.a, 'child-down').length, 1, 'old child deleted on A');
  t.equal(p.ofType(p.b, 'child-down').length, 1, 'old child deleted on B');
  t.equal(p.ofType(p.a, 'child-down')[0]?.spiIn, old.spiIn);
  t.equal(p.a.engine.listChildSas().length, 1);
  t.equal(p.b.engine.listChildSas().length, 1);
});

t.test('child rekey by lifetime on the injected clock', async (t) => {
  const p = simplePair({ childLifetimeSec: 120, rekeyMarginSec: 30 }, { childLifetimeSec: 3600 });
  up(p);
  p.run(100_000, 1000);
  t.equal(p.ofType(p.a, 'child-up').length, 2, 'rekeyed once before the lifetime');
  t.equal(p.a.engine.listChildSas().length, 1);
  t.equal(p.b.engine.listChildSas().length, 1);
});

t.test('IKE SA rekey keeps the children', async (t) => {
  const p = simplePair();
  up(p);
  const sa = p.ofType(p.a, 'ike-up')[0]!.sa;
  t.ok(p.a.engine.rekeyIke(sa.ikeSaId));
  p.pump();
  const ra = p.ofType(p.a, 'ike-rekeyed');
  const rb = p.ofType(p.b, 'ike-rekeyed');
  t.equal(ra.length, 1, 'A rekeyed');
  t.equal(rb.length, 1, 'B rekeyed');
  t.equal(p.a.engine.listIkeSas().length, 1, 'old SA gone on A');
  t.equal(p.b.engine.listIkeSas().length, 1, 'old SA gone on B');
  t.equal(p.ofType(p.a, 'child-down').length, 0, 'no child went down on A');
  t.equal(p.ofType(p.b, 'child-down').length, 0, 'no child went down on B');
  const newA = p.a.engine.listIkeSas()[0]!;
  t.equal(newA.childIds.length, 1, 'child moved to the new SA');
  t.not(newA.spiI, sa.spiI, 'new SPIs');
  // The new SA works: rekey the child through it, then a liveness check.
  t.ok(p.a.engine.rekeyChild(newA.childIds[0]!));
  p.pump();
  t.equal(p.ofType(p.b, 'child-up').length, 2, 'child rekeyed over the new IKE SA');
  t.ok(p.b.engine.checkLiveness(p.b.engine.listIkeSas()[0]!.ikeSaId), 'B can run DPD on the new SA');
  p.pump();
  t.equal(p.b.engine.listIkeSas().length, 1);
});

t.test('delete: IKE SA delete takes the children down on both sides', async (t) => {
  const p = simplePair();
  up(p);
  const sa = p.ofType(p.a, 'ike-up')[0]!.sa;
  t.ok(p.a.engine.deleteIke(sa.ikeSaId));
  p.pump();
  t.equal(p.ofType(p.a, 'ike-down')[0]?.reason, 'deleted');
  t.equal(p.ofType(p.b, 'ike-down')[0]?.reason, 'deleted-by-peer');
  t.equal(p.ofType(p.a, 'child-down').length, 1);
  t.equal(p.ofType(p.b, 'child-down').length, 1);
  t.equal(p.a.engine.listIkeSas().length, 0);
  t.equal(p.b.engine.listIkeSas().length, 0);
});

t.test('delete of a single child', async (t) => {
  const p = simplePair();
  up(p);
  const c = p.ofType(p.b, 'child-up')[0]!.child;
  t.ok(p.b.engine.deleteChild(c.childId));
  p.pump();
  t.equal(p.ofType(p.a, 'child-down')[0]?.reason, 'deleted-by-peer');
  t.equal(p.ofType(p.b, 'child-down')[0]?.reason, 'deleted');
  t.equal(p.a.engine.listIkeSas().length, 1, 'IKE SA stays');
});

t.test('DPD: a silent peer is declared dead', async (t) => {
  const p = simplePair({ dpd: { intervalSec: 10, retrySec: 2, mode: 'periodic' } });
  up(p);
  p.run(30_000, 1000);
  t.equal(p.ofType(p.a, 'ike-down').length, 0, 'answering peer stays up');
  const dpdRequests = p.sent.filter((w) => w.from === 'a' && w.d.data[18] === 37).length;
  t.ok(dpdRequests >= 2, `DPD checks were sent (${dpdRequests})`);
  p.drop = (w) => w.from === 'b';
  p.run(60_000, 1000);
  const down = p.ofType(p.a, 'ike-down');
  t.equal(down.length, 1, 'A removed the IKE SA');
  t.equal(down[0]?.reason, 'dpd-timeout');
  t.equal(p.ofType(p.a, 'child-down').length, 1, 'and its child');
});

t.test('retransmission with backoff; duplicate requests get the cached response', async (t) => {
  const p = simplePair();
  let dropped = 0;
  p.drop = (w) => w.from === 'a' && dropped++ < 2;
  p.a.engine.initiate('to-b');
  p.pump();
  t.equal(p.ofType(p.a, 'ike-up').length, 0, 'nothing yet');
  p.advance(1999);
  t.equal(p.sent.filter((w) => w.from === 'a').length, 1, 'not before the first timeout');
  p.advance(1);
  t.equal(p.sent.filter((w) => w.from === 'a').length, 2, 'first retransmission at 2 s');
  p.advance(3999);
  t.equal(p.sent.filter((w) => w.from === 'a').length, 2, 'backoff: second one after 4 s more');
  p.advance(1);
  t.equal(p.ofType(p.a, 'ike-up').length, 1, 'up after retransmissions');
  // Lose B's IKE_AUTH-era response once more: B must answer the retransmission from its cache.
  const sa = p.ofType(p.a, 'ike-up')[0]!.sa;
  let lost = 0;
  p.drop = (w) => w.from === 'b' && lost++ < 1;
  p.a.engine.rekeyChild(p.ofType(p.a, 'child-up')[0]!.child.childId);
  p.pump();
  p.advance(2000);
  t.equal(p.ofType(p.b, 'child-up').length, 2, 'B created exactly one new child');
  t.equal(p.ofType(p.a, 'child-up').length, 2, 'A got the cached response');
  t.ok(sa.ikeSaId > 0);
});

t.test('initiator gives up when the responder never answers', async (t) => {
  const p = simplePair({}, {}, { a: { retransmit: { initialTimeoutMs: 1000, backoff: 2, maxRetries: 3 } } });
  p.drop = () => true;
  p.a.engine.initiate('to-b');
  p.run(20_000, 500);
  t.equal(p.sent.filter((w) => w.from === 'a').length, 4, '1 + 3 retransmissions');
  const d = p.a.engine.diagnoses()[0];
  t.equal(d?.kind, 'TIMEOUT');
  t.equal(p.a.engine.listIkeSas().length, 0);
});

t.test('INITIAL_CONTACT: a rebooted initiator replaces its old IKE SA on the responder', async (t) => {
  const p = simplePair();
  up(p);
  t.equal(p.b.engine.listIkeSas().length, 1);
  const first = p.sent.find((w) => w.from === 'a' && w.d.data[18] === 35);
  t.ok(first, 'IKE_AUTH sent');
  // A second IKE SA from the running A does not carry INITIAL_CONTACT: B keeps both.
  p.a.engine.initiate('to-b');
  p.pump();
  t.equal(p.b.engine.listIkeSas().length, 2, 'two IKE SAs while A keeps its first');
  // A "reboots": a fresh engine with the same configuration connects again.
  p.restart('a');
  p.a.engine.initiate('to-b');
  p.pump();
  const down = p.ofType(p.b, 'ike-down');
  t.equal(down.length, 2, 'both old IKE SAs removed');
  t.ok(down.every((d) => d.reason === 'initial-contact'));
  t.equal(p.b.engine.listIkeSas().length, 1, 'only the new one is left');
});
