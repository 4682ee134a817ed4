import t from 'tap';
import { simplePair, type Wire } from './harness.js';

// Bounded fuzz at the state machine: mutated copies of real messages are thrown at an
// established pair and at a fresh responder. Nothing may throw out of receive(), no internal
// error may be logged, and the established SA must keep working.

function lcg(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
}

function mutate(data: Uint8Array, rnd: (n: number) => number): Uint8Array {
  const m = new Uint8Array(data);
  switch (rnd(7)) {
    case 0: { // flip a few bytes anywhere
      const n = 1 + rnd(4);
      for (let i = 0; i < n; i++) m[rnd(m.length)] = rnd(256);
      return m;
    }
    case 1: // truncate
      return m.subarray(0, rnd(m.length));
    case 2: { // break a payload length (first payload header at 28)
      if (m.length > 31) {
        m[30] = rnd(256);
        m[31] = rnd(256);
      }
      return m;
    }
    case 3: { // unknown payload type with the critical bit as first payload
      const out = new Uint8Array(m.length + 4);
      out.set(m.subarray(0, 28));
      out[16] = 200 + rnd(50);
      out[28] = m[16]!;
      out[29] = 0x80;
      out[30] = 0;
      out[31] = 4;
      out.set(m.subarray(28), 32);
      new DataView(out.buffer).setUint32(24, out.length);
      return out;
    }
    case 4: // corrupt the header length
      new DataView(m.buffer).setUint32(24, rnd(2) ? m.length + 1 + rnd(100) : rnd(m.length));
      return m;
    case 5: // flip one bit in the encrypted part / ICV
      m[Math.max(28, m.length - 1 - rnd(40))]! ^= 1 << rnd(8);
      return m;
    default: { // random garbage with a plausible header
      const g = new Uint8Array(28 + rnd(200));
      for (let i = 0; i < g.length; i++) g[i] = rnd(256);
      g.set(m.subarray(0, 20));
      g[17] = 0x20;
      new DataView(g.buffer).setUint32(24, g.length);
      return g;
    }
  }
}

t.test('mutated messages never break the engines', async (t) => {
  const p = simplePair({ dpd: { intervalSec: 30, retrySec: 5, mode: 'periodic' } });
  p.a.engine.initiate('to-b');
  p.pump();
  const child = p.ofType(p.a, 'child-up')[0]!.child;
  p.a.engine.rekeyChild(child.childId);
  p.pump();
  p.a.engine.checkLiveness(p.a.engine.listIkeSas()[0]!.ikeSaId);
  p.pump();
  const corpus: Wire[] = [...p.sent];
  t.ok(corpus.length >= 6, `corpus of ${corpus.length} real messages`);
  const fresh = simplePair({}, {}, {}, 99);
  const rnd = lcg(4242);
  const started = Date.now();
  let n = 0;
  let thrown = 0;
  for (; n < 2500 && Date.now() - started < 20_000; n++) {
    const w = corpus[rnd(corpus.length)]!;
    const data = mutate(w.d.data, rnd);
    const target = w.from === 'a' ? p.b : p.a;
    const d = { localAddress: w.d.remoteAddress, localPort: w.d.remotePort, remoteAddress: w.d.localAddress, remotePort: w.d.localPort, data };
    try {
      target.engine.receive(d);
      fresh.b.engine.receive(d);
    } catch {
      thrown++;
    }
    // Whatever the engines answered goes nowhere (the peer would not expect it).
    p.queue.length = 0;
    fresh.queue.length = 0;
    if (n % 500 === 0) p.advance(1000);
  }
  t.ok(n >= 500, `${n} mutated messages`);
  t.equal(thrown, 0, 'receive() never threw');
  const internal = [...p.a.logs, ...p.b.logs, ...fresh.b.logs].filter((l) => l.includes('internal error'));
  t.same(internal, [], 'no internal error on any input');
  // Replays of real messages are answered from cache or dropped, never processed twice.
  const childrenBefore = p.b.engine.listChildSas().length;
  for (const w of corpus) {
    const target = w.from === 'a' ? p.b : p.a;
    target.engine.receive({ localAddress: w.d.remoteAddress, localPort: w.d.remotePort, remoteAddress: w.d.localAddress, remotePort: w.d.localPort, data: w.d.data });
  }
  p.queue.length = 0;
  t.equal(p.b.engine.listChildSas().length, childrenBefore, 'replays did not create children');
  // The established SA still works in both directions.
  const sa = p.a.engine.listIkeSas()[0]!;
  t.equal(sa.state, 'established');
  const upBefore = p.ofType(p.b, 'child-up').length;
  t.ok(p.a.engine.rekeyChild(p.a.engine.listChildSas()[0]!.childId));
  p.pump();
  t.equal(p.ofType(p.b, 'child-up').length, upBefore + 1, 'a rekey still succeeds after the fuzz');
  t.ok(p.b.engine.checkLiveness(p.b.engine.listIkeSas()[0]!.ikeSaId));
  p.pump();
  t.equal(p.ofType(p.a, 'ike-down').length, 0, 'no SA went down');
  t.ok(fresh.b.engine.counters.halfOpen <= 2600, 'half-open state bounded by the inputs');
  fresh.now += 60_000;
  fresh.b.engine.tick();
  t.equal(fresh.b.engine.counters.halfOpen, 0, 'half-open SAs expire');
});
