import t from 'tap';
import { simplePair } from './harness.js';

t.test('simultaneous child rekey: one new child survives on both sides (RFC 7296 2.8.1)', async (t) => {
  for (const seed of [3, 11, 29, 57]) {
    const p = simplePair({}, {}, {}, seed);
    p.a.engine.initiate('to-b');
    p.pump();
    const ca = p.ofType(p.a, 'child-up')[0]!.child;
    const cb = p.ofType(p.b, 'child-up')[0]!.child;
    t.ok(p.a.engine.rekeyChild(ca.childId));
    t.ok(p.b.engine.rekeyChild(cb.childId));
    p.pump();
    p.advance(100);
    const la = p.a.engine.listChildSas();
    const lb = p.b.engine.listChildSas();
    t.equal(la.length, 1, `seed ${seed}: A keeps one child`);
    t.equal(lb.length, 1, `seed ${seed}: B keeps one child`);
    t.equal(la[0]?.spiIn, lb[0]?.spiOut, `seed ${seed}: the survivors are the same SA pair`);
    t.equal(la[0]?.spiOut, lb[0]?.spiIn);
    t.same(la[0]?.keysOut, lb[0]?.keysIn, `seed ${seed}: keys agree`);
    t.not(la[0]?.spiIn, ca.spiIn, `seed ${seed}: it is a new SA`);
    t.equal(p.ofType(p.a, 'child-up').length, 3, 'A saw two new children (its own and the peer\'s)');
  }
});

t.test('simultaneous IKE SA rekey: one new IKE SA survives with the children', async (t) => {
  for (const seed of [5, 13, 31]) {
    const p = simplePair({}, {}, {}, seed);
    p.a.engine.initiate('to-b');
    p.pump();
    const sa = p.a.engine.listIkeSas()[0]!;
    const sb = p.b.engine.listIkeSas()[0]!;
    t.ok(p.a.engine.rekeyIke(sa.ikeSaId));
    t.ok(p.b.engine.rekeyIke(sb.ikeSaId));
    p.pump();
    p.advance(100);
    const la = p.a.engine.listIkeSas();
    const lb = p.b.engine.listIkeSas();
    t.equal(la.length, 1, `seed ${seed}: A has one IKE SA`);
    t.equal(lb.length, 1, `seed ${seed}: B has one IKE SA`);
    t.equal(la[0]?.spiI, lb[0]?.spiI, 'same SA on both sides');
    t.equal(la[0]?.spiR, lb[0]?.spiR);
    t.not(la[0]?.spiI, sa.spiI, 'a new one');
    t.equal(la[0]?.childIds.length, 1, 'A child moved to the survivor');
    t.equal(lb[0]?.childIds.length, 1, 'B child moved to the survivor');
    t.equal(p.ofType(p.a, 'child-down').length, 0, 'no child lost on A');
    t.equal(p.ofType(p.b, 'child-down').length, 0, 'no child lost on B');
    // The survivor works.
    t.ok(p.a.engine.rekeyChild(la[0]!.childIds[0]!));
    p.pump();
    t.equal(p.b.engine.listChildSas().length, 1);
    t.equal(p.ofType(p.b, 'child-up').length, 2, 'child rekey over the survivor');
  }
});
