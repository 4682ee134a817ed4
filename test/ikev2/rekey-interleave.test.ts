// IKE SA rekey and CHILD SA rekey due at about the same time (lifetimes alike, as in
// test/ikev2-interop/rekey-initiator.test.ts). Window size 1 queues one behind the other; when
// the IKE rekey finishes first, what was queued on the old IKE SA must move to the new one
// (RFC 7296 2.8: the old SA is only deleted), else a peer that refuses or ignores requests on a
// rekeyed SA (strongSwan answers them with TEMPORARY_FAILURE or not at all) leaves the old IKE
// SA and the old CHILD SA behind.
import t from 'tap';
import { ExchangeType, decodeHeader } from '../../firmware/proto/ikev2/index.js';
import { simplePair } from './harness.js';

t.test('child rekey queued behind an IKE rekey runs on the new IKE SA; the old one is deleted first', async (t) => {
  for (const seed of [3, 17, 41]) {
    const p = simplePair({}, {}, {}, seed);
    p.a.engine.initiate('to-b');
    p.pump();
    const sa0 = p.a.engine.listIkeSas()[0]!;
    const child0 = p.a.engine.listChildSas()[0]!;
    const from = p.sent.length;
    t.ok(p.a.engine.rekeyIke(sa0.ikeSaId), 'IKE rekey started');
    t.ok(p.a.engine.rekeyChild(child0.childId), 'child rekey queued behind it');
    p.pump();
    p.advance(100);
    const onOld = p.sent.slice(from).filter((w) => w.from === 'a').map((w) => decodeHeader(w.d.data)).filter((h) => h.spiI === sa0.spiI && !h.response);
    t.same(onOld.map((h) => h.exchangeType), [ExchangeType.CREATE_CHILD_SA, ExchangeType.INFORMATIONAL],
      `seed ${seed}: on the old IKE SA only the IKE rekey and then its delete`);
    const la = p.a.engine.listIkeSas();
    t.equal(la.length, 1, `seed ${seed}: one IKE SA left`);
    t.not(la[0]?.ikeSaId, sa0.ikeSaId, 'the new one');
    const ca = p.a.engine.listChildSas();
    t.equal(ca.length, 1, `seed ${seed}: one CHILD SA on A`);
    t.not(ca[0]?.spiIn, child0.spiIn, 'the child was rekeyed');
    t.equal(p.b.engine.listChildSas().length, 1, 'one CHILD SA on B');
    t.equal(ca[0]?.spiOut, p.b.engine.listChildSas()[0]?.spiIn, 'the same pair');
  }
});

t.test('IKE rekey queued behind a child rekey: the old CHILD SA is deleted on the new IKE SA, not left behind', async (t) => {
  for (const seed of [5, 23, 47]) {
    const p = simplePair({}, {}, {}, seed);
    p.a.engine.initiate('to-b');
    p.pump();
    const sa0 = p.a.engine.listIkeSas()[0]!;
    const child0 = p.a.engine.listChildSas()[0]!;
    t.ok(p.a.engine.rekeyChild(child0.childId), 'child rekey started');
    t.ok(p.a.engine.rekeyIke(sa0.ikeSaId), 'IKE rekey queued behind it');
    p.pump();
    p.advance(100);
    t.equal(p.a.engine.listIkeSas().length, 1, `seed ${seed}: one IKE SA left`);
    t.not(p.a.engine.listIkeSas()[0]?.ikeSaId, sa0.ikeSaId, 'the new one');
    const ca = p.a.engine.listChildSas();
    const cb = p.b.engine.listChildSas();
    t.equal(ca.length, 1, `seed ${seed}: A keeps only the new CHILD SA`);
    t.equal(cb.length, 1, `seed ${seed}: B keeps only the new CHILD SA`);
    t.not(ca[0]?.spiIn, child0.spiIn, 'rekeyed');
    t.ok(p.ofType(p.a, 'child-down').some((e) => e.spiIn === child0.spiIn && e.reason === 'rekeyed'), 'the old CHILD SA went down as rekeyed');
  }
});
