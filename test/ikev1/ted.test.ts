// TED messages (firmware/proto/ikev1/ted.ts) and the probe/reply logic (firmware/ike/ted.ts):
// round trips, and every way a reply can be forged or malformed is dropped and counted.
import t from 'tap';
import { decodeTed, encodeTed, isTedDatagram, TedDecodeError, type TedReply } from '../../firmware/proto/ikev1/ted.js';
import { IsakmpDecodeError } from '../../firmware/proto/ikev1/errors.js';
import { prefixCovers, TedDiscovery } from '../../firmware/ike/ted.js';

function rng(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => Uint8Array.from({ length: n }, () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) & 0xff; });
}

t.test('probe and reply round trip; header marks them as TED', async (t) => {
  const probe = { kind: 'probe' as const, probeId: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), srcHost: '10.1.0.2', dstHost: '10.2.0.2', prober: '172.16.0.1' };
  const b = encodeTed(probe);
  t.ok(isTedDatagram(b), 'TED exchange type in the header');
  t.same(decodeTed(b), probe);
  const reply: TedReply = { kind: 'reply', probeId: probe.probeId, replyId: Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2]), proxy: { addr: '10.2.0.0', prefixLen: 24 }, dstHost: '10.2.0.2', responder: '172.16.0.2' };
  t.same(decodeTed(encodeTed(reply)), reply);
  t.throws(() => encodeTed({ ...reply, replyId: new Uint8Array(8) }), RangeError, 'a reply id of zeros would read as a probe');
});

t.test('malformed TED messages throw typed decode errors, never anything else', async (t) => {
  const good = encodeTed({ kind: 'probe', probeId: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]), srcHost: '10.1.0.2', dstHost: '10.2.0.2', prober: '172.16.0.1' });
  const r = rng(7);
  let typed = 0;
  for (let i = 0; i < 3000; i++) {
    const b = good.slice(0, i % 3 === 0 ? r(1)[0]! % good.length : good.length);
    const flips = r(1)[0]! % 4;
    for (let k = 0; k < flips && b.length > 0; k++) b[r(1)[0]! % b.length] = r(1)[0]!;
    try { decodeTed(b); } catch (e) {
      t.ok(e instanceof IsakmpDecodeError, 'typed error') || t.comment(String(e));
      typed++;
    }
  }
  t.ok(typed > 1000, `${typed} of 3000 mutated messages rejected with a typed error`);
  const quick = Uint8Array.from(good);
  quick[18] = 32;
  t.throws(() => decodeTed(quick), TedDecodeError, 'another exchange type is not TED');
});

t.test('replies: only for an outstanding probe, its host, from the named responder, covering the host', async (t) => {
  let now = 1000;
  const ted = new TedDiscovery<string>({ now: () => now, random: rng(3), probeTimeoutMs: 5000, maxOutstanding: 2 });
  const p = ted.probe('10.1.0.2', '10.2.0.2', '172.16.0.1', 'ctx-1')!;
  t.ok(p, 'probe made');
  const answer = (): undefined => undefined;
  const mk = (over: Partial<TedReply>): Uint8Array => encodeTed({
    kind: 'reply', probeId: p.probe.probeId, replyId: Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1]), proxy: { addr: '10.2.0.0', prefixLen: 24 },
    dstHost: '10.2.0.2', responder: '172.16.0.2', ...over,
  });
  t.equal(ted.receive(mk({ probeId: Uint8Array.from([8, 8, 8, 8, 8, 8, 8, 8]) }), '172.16.0.2', answer).kind, 'dropped', 'unknown probe id');
  t.equal(ted.receive(mk({ responder: '172.16.0.66' }), '172.16.0.2', answer).kind, 'dropped', 'responder is not the sender');
  t.equal(ted.receive(mk({ dstHost: '10.2.0.9' }), '172.16.0.2', answer).kind, 'dropped', 'another host');
  t.equal(ted.receive(mk({ proxy: { addr: '10.3.0.0', prefixLen: 24 } }), '172.16.0.2', answer).kind, 'dropped', 'proxy does not cover the host');
  const ok = ted.receive(mk({}), '172.16.0.2', answer);
  t.equal(ok.kind, 'discovered', 'the genuine reply');
  if (ok.kind === 'discovered') t.same({ c: ok.found.context, r: ok.found.responder }, { c: 'ctx-1', r: '172.16.0.2' });
  t.equal(ted.receive(mk({}), '172.16.0.2', answer).kind, 'dropped', 'a replay of it: the probe is used up');
  t.equal(ted.counters.droppedUnsolicited, 2);
  t.equal(ted.counters.droppedMismatch, 3);
  // timeout and table bound
  const p2 = ted.probe('10.1.0.2', '10.4.0.2', '172.16.0.1', 'ctx-2')!;
  now += 6000;
  t.equal(ted.receive(encodeTed({ kind: 'reply', probeId: p2.probe.probeId, replyId: Uint8Array.from([2, 2, 2, 2, 2, 2, 2, 2]), proxy: { addr: '10.4.0.0', prefixLen: 24 }, dstHost: '10.4.0.2', responder: '172.16.0.4' }), '172.16.0.4', answer).kind, 'dropped', 'a late reply');
  t.ok(ted.probe('10.1.0.2', '10.5.0.1', '172.16.0.1', 'x') && ted.probe('10.1.0.2', '10.6.0.1', '172.16.0.1', 'y'), 'two outstanding');
  t.equal(ted.probe('10.1.0.2', '10.7.0.1', '172.16.0.1', 'z'), undefined, 'the third is suppressed (bounded table)');
  t.equal(ted.counters.probesSuppressed, 1);
  t.equal(ted.receive(Uint8Array.from([1, 2, 3]), '1.2.3.4', answer).kind, 'dropped', 'garbage');
  t.equal(ted.counters.droppedMalformed, 1);
});

t.test('probes: answered only for protected hosts', async (t) => {
  const ted = new TedDiscovery<string>({ now: () => 0, random: rng(5) });
  const probe = encodeTed({ kind: 'probe', probeId: Uint8Array.from([4, 4, 4, 4, 4, 4, 4, 4]), srcHost: '10.1.0.2', dstHost: '10.2.0.2', prober: '172.16.0.1' });
  t.equal(ted.receive(probe, '172.16.0.1', () => undefined).kind, 'dropped', 'not protected here');
  t.equal(ted.counters.droppedNotProtected, 1);
  const r = ted.receive(probe, '172.16.0.1', (dst, src) => (dst === '10.2.0.2' && src === '10.1.0.2' ? { proxy: { addr: '10.2.0.0', prefixLen: 24 }, responder: '172.16.0.2' } : undefined));
  t.equal(r.kind, 'reply-to-send');
  if (r.kind === 'reply-to-send') {
    t.equal(r.to, '172.16.0.1', 'the reply goes to the prober');
    const back = decodeTed(r.bytes);
    t.equal(back.kind, 'reply');
    t.same(back.probeId, Uint8Array.from([4, 4, 4, 4, 4, 4, 4, 4]), 'echoes the probe id');
  }
  t.ok(prefixCovers({ addr: '10.2.0.0', prefixLen: 24 }, '10.2.0.200'));
  t.notOk(prefixCovers({ addr: '10.2.0.0', prefixLen: 24 }, '10.2.1.1'));
  t.ok(prefixCovers({ addr: '0.0.0.0', prefixLen: 0 }, '8.8.8.8'));
});
