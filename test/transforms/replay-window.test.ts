// Anti-replay window (RFC 4303 3.4.3) and ESN inference (RFC 4303 Appendix A2).
import t from 'tap';
import { ReplayWindow } from '../../firmware/ipsec/replay-window.js';
import { prng } from './helpers.js';

function take(w: ReplayWindow, lo: number): boolean {
  const hi = w.check(lo);
  return hi >= 0 && w.accept(hi, lo);
}

t.test('sizes', async (t) => {
  t.equal(new ReplayWindow().size, 64, 'default 64');
  for (const s of [0, 64, 128, 256, 512, 1024]) t.equal(new ReplayWindow(s).size, s);
  t.throws(() => new ReplayWindow(16), RangeError);
  t.throws(() => new ReplayWindow(5000), RangeError);
  t.throws(() => new ReplayWindow(64.5), RangeError);
});

t.test('window 64: in order, duplicates, out of order, left edge', async (t) => {
  const w = new ReplayWindow(64);
  t.equal(w.check(0), -1, 'sequence number 0 is never valid');
  for (let i = 1; i <= 100; i += 2) t.ok(take(w, i), `odd ${i}`);
  t.notOk(take(w, 51), 'duplicate');
  t.ok(take(w, 98), 'late but inside the window');
  t.notOk(take(w, 98), 'late duplicate');
  // top = 99; window covers 36..99
  t.ok(take(w, 36), 'left edge (top - 63) accepted');
  t.notOk(take(w, 35), 'top - 64 is too old');
  t.ok(take(w, 1000), 'big jump');
  t.notOk(take(w, 99), 'old after the jump');
  t.ok(take(w, 999), 'just below the new top');
  t.equal(w.top, 1000n);
});

t.test('check does not change the window; accept refuses a duplicate that slipped in', async (t) => {
  const w = new ReplayWindow(64);
  t.equal(w.check(5), 0);
  t.equal(w.check(5), 0, 'still acceptable: nothing recorded yet');
  t.ok(w.accept(0, 5));
  t.notOk(w.accept(0, 5), 'second accept of the same number refused');
  t.equal(w.check(5), -1);
});

t.test('window 1024 against a naive reference with random arrivals', async (t) => {
  for (const size of [64, 128, 1024]) {
    const w = new ReplayWindow(size);
    const seen = new Set<number>();
    let top = 0;
    const rnd = prng(size);
    let next = 1;
    let mismatches = 0;
    for (let i = 0; i < 20000; i++) {
      const r = rnd(2);
      // mostly forward, sometimes reordered back, sometimes jumps
      let seq: number;
      if (r[0]! < 200) seq = next++;
      else if (r[0]! < 250) seq = Math.max(1, next - 1 - ((r[1]! * 7) % (size + 40)));
      else seq = (next += 1 + (r[1]! % 3) * size);
      const expect = seq > top || (top - seq < size && !seen.has(seq));
      const got = take(w, seq);
      if (got !== expect) mismatches++;
      if (expect) { seen.add(seq); if (seq > top) top = seq; }
    }
    t.equal(mismatches, 0, `window ${size} agrees with the reference on 20000 arrivals`);
  }
});

t.test('disabled window (0) accepts replays', async (t) => {
  const w = new ReplayWindow(0);
  t.ok(take(w, 5));
  t.ok(take(w, 5));
  t.ok(take(w, 1));
});

t.test('ESN: high half inferred across the 2^32 boundary (RFC 4303 A2.2)', async (t) => {
  const w = new ReplayWindow(64, true);
  w.seed(0, 0xfffffff0);
  t.equal(w.check(0xfffffff5), 0, 'same epoch');
  t.equal(w.check(5), 1, 'wrapped: next epoch (case A)');
  t.ok(w.accept(1, 5));
  t.equal(w.top, 0x100000005n);
  // Now Tl = 5 < W - 1: case B. A late packet from the previous epoch:
  t.equal(w.check(0xfffffff8), 0, 'late packet from the old epoch');
  t.ok(w.accept(0, 0xfffffff8));
  t.equal(w.check(0xfffffff8), -1, 'and it is now a replay');
  t.equal(w.check(0xffffffc0), 1, 'below the wrapped window bottom: read as far ahead in the current epoch (the ICV decides)');
  t.equal(w.check(3), 1, 'in window, new epoch');
  t.equal(w.check(200), 1, 'ahead, new epoch');
  const big = new ReplayWindow(1024, true);
  big.seed(7, 100);
  t.equal(big.check(0xfffffe00), 6, 'case B with a 1024 window: previous epoch');
  t.equal(big.check(0xfffff000), 7, 'below the wrapped bottom: current epoch, ahead');
});

t.test('ESN: exhausted high half is refused', async (t) => {
  const w = new ReplayWindow(64, true);
  w.seed(0xffffffff, 0xfffffff0);
  t.equal(w.check(3), -1, 'would need high half 2^32');
});
