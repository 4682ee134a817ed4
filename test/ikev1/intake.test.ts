// The budgeted intake of first messages (firmware/ike/intake.ts, issue 20 item 4): nothing is
// handled in the socket's callback, known peers go first, each class stays within its share
// of the clock, a full queue drops from the longest source. Driven with a fake clock and a
// hand-run scheduler: what is measured is counts, never real time.
import t from 'tap';
import { IkeIntake, type IntakeOptions } from '../../firmware/ike/intake.js';

interface Msg { source: string; n: number }

/** An intake whose clock moves only when a message is handled (costMs each). */
function rig(costMs: number, opts: Partial<IntakeOptions<Msg>> = {}): {
  intake: IkeIntake<Msg>; handled: Msg[]; pending: { fn: () => void; delayMs: number }[]; clock: { now: number };
  /** runs the scheduled turns; a delayed turn moves the clock to its time */
  run(maxTurns?: number): number;
} {
  const clock = { now: 1000 };
  const handled: Msg[] = [];
  const pending: { fn: () => void; delayMs: number }[] = [];
  const intake = new IkeIntake<Msg>({
    handle: (m) => { handled.push(m); clock.now += costMs; },
    clock: () => clock.now,
    schedule: (fn, delayMs) => {
      const e = { fn, delayMs };
      pending.push(e);
      return () => { const i = pending.indexOf(e); if (i >= 0) pending.splice(i, 1); };
    },
    ...opts,
  });
  return {
    intake, handled, pending, clock,
    run(maxTurns = 100_000) {
      let turns = 0;
      while (pending.length > 0 && turns < maxTurns) {
        const e = pending.shift()!;
        clock.now += e.delayMs;
        e.fn();
        turns++;
      }
      return turns;
    },
  };
}

const offer = (i: IkeIntake<Msg>, source: string, n = 0): boolean => i.offer(source, () => ({ source, n }));

t.test('nothing runs in the socket callback; a scheduled turn handles the queue', async (t) => {
  const r = rig(0.01);
  for (let i = 0; i < 5; i++) offer(r.intake, `10.0.0.${i}`);
  t.equal(r.handled.length, 0, 'offer() handles nothing itself');
  t.equal(r.pending.length, 1, 'one turn scheduled for all of them');
  t.equal(r.pending[0]!.delayMs, 0, 'right after the sockets were read');
  r.run();
  t.equal(r.handled.length, 5);
  t.same(r.intake.counters, { received: 5, served: 5, servedKnown: 0, dropped: 0, budgetWaits: 0 });
});

t.test('a known source is served before a queue of new ones', async (t) => {
  const r = rig(0.01);
  r.intake.markKnown('192.0.2.1');
  for (let i = 0; i < 40; i++) offer(r.intake, `198.51.100.${i}`);
  offer(r.intake, '192.0.2.1');
  r.run(1);
  t.equal(r.handled[0]!.source, '192.0.2.1', 'the known peer first');
  r.run();
  t.equal(r.handled.length, 41);
  t.equal(r.intake.counters.servedKnown, 1);
  t.equal(r.intake.classOf('192.0.2.1'), 'known');
  t.equal(r.intake.classOf('198.51.100.1'), 'new');
});

t.test('new sources stay within their share of the clock, whatever the flood', async (t) => {
  // each message costs 1 ms; new sources may use 5 % of the time
  const r = rig(1, { new: { share: 0.05 }, burstMs: 20 });
  for (let i = 0; i < 200; i++) offer(r.intake, `198.51.100.${i % 50}`, i);
  const start = r.clock.now;
  r.run();
  const spent = r.handled.length * 1;
  const elapsed = r.clock.now - start;
  t.equal(r.handled.length, 200, 'all served in the end');
  t.ok(spent / elapsed <= 0.055, `work ${spent} ms over ${elapsed.toFixed(0)} ms (${((100 * spent) / elapsed).toFixed(1)} %)`);
  t.ok(r.intake.counters.budgetWaits > 0, 'turns waited for the budget');
  t.ok(r.pending.length === 0, 'nothing left scheduled');
});

t.test('a known peer has its own budget: a flood that spent the new class budget does not delay it', async (t) => {
  const r = rig(1, { new: { share: 0.05 }, known: { share: 0.3 }, burstMs: 20 });
  for (let i = 0; i < 100; i++) offer(r.intake, `198.51.100.${i % 50}`);
  r.run(3); // the new class is in debt now
  r.intake.markKnown('192.0.2.1');
  offer(r.intake, '192.0.2.1');
  const before = r.handled.length;
  r.run(1);
  t.ok(r.handled.slice(before).some((m) => m.source === '192.0.2.1'), 'served on the next turn');
});

t.test('a known peer\'s message arriving while new sources wait for their budget gets a turn at once', async (t) => {
  const r = rig(1, { new: { share: 0.05 }, burstMs: 20 });
  for (let i = 0; i < 20; i++) offer(r.intake, `198.51.100.${i}`);
  r.run(1); // spends the new class budget: the next turn is a timer
  t.ok(r.pending.length === 1 && r.pending[0]!.delayMs > 0, `a delayed turn is scheduled (${r.pending[0]?.delayMs} ms)`);
  r.intake.markKnown('192.0.2.1');
  offer(r.intake, '192.0.2.1');
  t.equal(r.pending.length, 1, 'still one turn scheduled');
  t.equal(r.pending[0]!.delayMs, 0, 'now an immediate one');
  const before = r.handled.length;
  r.run(1);
  t.equal(r.handled[before]?.source, '192.0.2.1', 'the known peer was served');
  offer(r.intake, '198.51.100.77');
  t.ok(r.pending.length === 1 && r.pending[0]!.delayMs > 0, 'a new source does not cut the wait short');
});

t.test('a full queue drops from the longest source; a single new peer survives a flood from 64 hosts', async (t) => {
  const r = rig(0.2, { new: { share: 0.05, queueLimit: 256, perSourceLimit: 8 } });
  // 5,000 first messages from 64 hosts arrive before any turn runs; the peer's one among them
  for (let i = 0; i < 5000; i++) {
    if (i === 2500) t.ok(offer(r.intake, '203.0.113.7', -1), 'the peer\'s message is queued');
    offer(r.intake, `198.51.100.${i % 64}`, i);
  }
  t.equal(r.intake.waiting.new, 256, 'the queue holds its limit');
  t.equal(r.intake.counters.dropped, 5001 - 256, 'everything else was dropped and counted');
  r.run();
  t.equal(r.handled.length, 256);
  const at = r.handled.findIndex((m) => m.source === '203.0.113.7');
  t.ok(at >= 0 && at <= 64, `the peer was served within the first round (${at + 1}th): at most one message per flooding host before it`);
});

t.test('per source: a host over its limit loses its newest messages without a copy', async (t) => {
  const r = rig(0.01, { new: { perSourceLimit: 3 } });
  let copies = 0;
  for (let i = 0; i < 10; i++) r.intake.offer('198.51.100.9', () => { copies++; return { source: 'x', n: i }; });
  t.equal(copies, 3, 'only kept messages are copied');
  t.equal(r.intake.counters.dropped, 7);
  r.run();
  t.same(r.handled.map((m) => m.n), [0, 1, 2]);
});

t.test('known sources expire and are bounded in number', async (t) => {
  const r = rig(0.01, { knownTtlMs: 1000, knownMax: 2 });
  r.intake.markKnown('a');
  r.intake.markKnown('b');
  r.intake.markKnown('c');
  t.equal(r.intake.classOf('a'), 'new', 'the oldest known source was forgotten');
  t.equal(r.intake.classOf('c'), 'known');
  r.clock.now += 1001;
  t.equal(r.intake.classOf('c'), 'new', 'known only for knownTtlMs');
});

t.test('stop() drops what waits and handles nothing more; counters clear', async (t) => {
  const r = rig(0.01);
  offer(r.intake, 'a');
  r.intake.stop();
  r.run();
  t.equal(r.handled.length, 0);
  t.notOk(offer(r.intake, 'b'), 'refused after stop');
  r.intake.clearCounters();
  t.same(r.intake.counters, { received: 0, served: 0, servedKnown: 0, dropped: 0, budgetWaits: 0 });
});

t.test('a handler that throws costs its message only', async (t) => {
  let n = 0;
  const r = rig(0.01, { handle: () => { n++; if (n === 1) throw new Error('bug'); } });
  offer(r.intake, 'a');
  offer(r.intake, 'b');
  r.run();
  t.equal(n, 2, 'the second message still ran');
  t.equal(r.intake.handlerErrors, 1, 'the error was counted');
});

t.test('pressure: a backlog of new sources (or their spent budget) asks for proof of address; a verified source queues with the known peers', async (t) => {
  const r = rig(1, { new: { share: 0.05 } });
  t.notOk(r.intake.underPressure(), 'an idle intake is not under pressure');
  offer(r.intake, '198.51.100.1');
  t.notOk(r.intake.underPressure(), 'one waiting message is no flood');
  for (let i = 0; i < 40; i++) offer(r.intake, `198.51.100.${i % 20}`, i);
  t.ok(r.intake.underPressure(), 'a backlog of a whole turn is');
  // a source that echoed a valid cookie goes first although it is not known
  t.ok(r.intake.offer('203.0.113.9', () => ({ source: '203.0.113.9', n: -1 }), 'known'));
  t.equal(r.intake.classOf('203.0.113.9'), 'new', 'the override does not make the source known');
  r.run(1);
  t.equal(r.handled[0]!.source, '203.0.113.9', 'the verified source is served before the backlog');
  r.run();
  t.notOk(r.intake.underPressure(), 'drained: no pressure');
});

t.test('maxWaitMs: a backlog longer than initiators wait is dropped unserved, not answered late', async (t) => {
  // 200 new peers at once (a dynamic VTI hub's spokes after its restart) within the new class's
  // 3 %: at 1 ms a message the queue takes ~7 s, far longer than an initiator waits for an answer
  const waited: number[] = [];
  // n = when offered; handled at 1 ms each as in rig()
  const r = rig(1, { maxWaitMs: 2000, handle: (m) => { waited.push(r.clock.now - m.n); r.handled.push(m); r.clock.now += 1; } });
  const stale = r.intake;
  for (let i = 0; i < 200; i++) stale.offer(`198.51.100.${i}`, () => ({ source: `198.51.100.${i}`, n: r.clock.now }));
  r.run();
  const served = r.handled.length;
  t.ok(served > 0 && served < 200, `some served within their wait (${served}), the rest dropped`);
  t.ok(waited.every((w) => w <= 2000), `every served message had waited 2 s at most (longest ${Math.max(...waited).toFixed(0)} ms)`);
  t.equal(stale.staleDropped, 200 - served, `the others dropped unserved (${stale.staleDropped})`);
  t.same(stale.counters, { received: 200, served, servedKnown: 0, dropped: 200 - served, budgetWaits: stale.counters.budgetWaits }, 'received = served + dropped');
  // the peers that were dropped retransmit: fresh copies are served at once, not behind stale work
  r.handled.length = 0;
  waited.length = 0;
  for (let i = 0; i < 5; i++) stale.offer(`198.51.100.${199 - i}`, () => ({ source: `198.51.100.${199 - i}`, n: r.clock.now }));
  r.run();
  t.equal(r.handled.length, 5, 'their retransmissions are served');
  t.ok(waited.every((w) => w <= 2000), 'promptly');

  // without maxWaitMs (the default) everything is served, however late
  const r2 = rig(1);
  for (let i = 0; i < 200; i++) offer(r2.intake, `198.51.100.${i}`);
  r2.run();
  t.equal(r2.handled.length, 200, 'default: the whole backlog is served');
  t.equal(r2.intake.staleDropped, 0);
});
