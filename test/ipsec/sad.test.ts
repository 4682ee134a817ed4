import t from 'tap';
import {
  CPI_MAX, CPI_MIN, DuplicateSpiError, InvalidSaError, Sad, SpiExhaustedError,
  type SadEvent, type SaSpec, type TimerHost,
} from '../../firmware/ipsec/sad.js';
import { IPPROTO_AH, IPPROTO_ESP, IPPROTO_IPCOMP, parseIp, valueToWords } from '../../firmware/ipsec/selector.js';

interface FakeTransform { name: string }

const LOCAL = parseIp('192.0.2.1');
const PEER = parseIp('192.0.2.2');

function setup(opts: { random?: () => number; randomU32?: () => number; timer?: TimerHost } = {}) {
  let now = 1_000_000;
  const clock = { now: () => now, advance: (ms: number) => { now += ms; } };
  const sad = new Sad<FakeTransform>({ now: clock.now, random: opts.random ?? (() => 0), ...(opts.randomU32 ? { randomU32: opts.randomU32 } : {}), ...(opts.timer ? { timer: opts.timer } : {}) });
  const events: SadEvent<FakeTransform>[] = [];
  sad.on((e) => events.push(e));
  return { sad, clock, events };
}

const inSpec = (spi: number, extra: Partial<SaSpec<FakeTransform>> = {}): SaSpec<FakeTransform> => ({
  direction: 'inbound', proto: IPPROTO_ESP, spi, local: LOCAL, peer: PEER, transform: { name: `in-${spi}` }, ...extra,
});
const outSpec = (spi: number, extra: Partial<SaSpec<FakeTransform>> = {}): SaSpec<FakeTransform> => ({
  direction: 'outbound', proto: IPPROTO_ESP, spi, local: LOCAL, peer: PEER, transform: { name: `out-${spi}` }, ...extra,
});

t.test('inbound lookup by (destination, SPI, protocol)', async (t) => {
  const { sad } = setup();
  const esp = sad.addInbound(inSpec(0x1000));
  const ah = sad.addInbound(inSpec(0x1000, { proto: IPPROTO_AH }));
  const other = sad.addInbound(inSpec(0x1000, { local: parseIp('198.51.100.1') }));
  const v6 = sad.addInbound(inSpec(0x2000, { local: parseIp('2001:db8::1'), peer: parseIp('2001:db8::2') }));
  t.equal(sad.lookupInbound(0x1000, IPPROTO_ESP, valueToWords(4, LOCAL.value)), esp);
  t.equal(sad.lookupInbound(0x1000, IPPROTO_AH, valueToWords(4, LOCAL.value)), ah);
  t.equal(sad.lookupInboundAddr(parseIp('198.51.100.1'), 0x1000, IPPROTO_ESP), other);
  t.equal(sad.lookupInboundAddr(parseIp('2001:db8::1'), 0x2000, IPPROTO_ESP), v6);
  t.equal(sad.lookupInboundAddr(parseIp('2001:db8::1'), 0x1000, IPPROTO_ESP), undefined);
  t.equal(sad.lookupInboundAddr(PEER, 0x1000, IPPROTO_ESP), undefined, 'wrong destination');
  t.equal(sad.lookupInboundAddr(LOCAL, 0x1001, IPPROTO_ESP), undefined, 'wrong SPI');
  t.equal(sad.lookupInboundAddr(LOCAL, 0x1000, IPPROTO_IPCOMP), undefined, 'wrong protocol');
  t.throws(() => sad.addInbound(inSpec(0x1000)), DuplicateSpiError);
  t.throws(() => sad.addInbound(inSpec(255)), InvalidSaError, 'SPIs 0-255 are reserved');
  t.equal(esp.transform.name, 'in-4096', 'the transform context is carried as is');
  t.equal(sad.size, 4);
});

t.test('one transform object for a whole bundle: extra SPIs are lookup keys too', async (t) => {
  const { sad } = setup();
  const sa = sad.addInbound(inSpec(0x100, { proto: IPPROTO_AH, extraSpis: [{ proto: IPPROTO_ESP, spi: 0x200 }, { proto: IPPROTO_IPCOMP, spi: 3 }] }));
  t.equal(sad.lookupInboundAddr(LOCAL, 0x100, IPPROTO_AH), sa, 'outer AH SPI');
  t.equal(sad.lookupInboundAddr(LOCAL, 0x200, IPPROTO_ESP), sa, 'inner ESP SPI');
  t.equal(sad.lookupInboundAddr(LOCAL, 3, IPPROTO_IPCOMP), sa, 'well-known LZS CPI accepted on install');
  t.equal(sad.lookupInboundAddr(LOCAL, 0x200, IPPROTO_AH), undefined, 'SPI of another protocol');
  t.equal(sad.lookupInboundAddr(LOCAL, 0x100, IPPROTO_ESP), undefined);
  t.throws(() => sad.addInbound(inSpec(0x200)), DuplicateSpiError, 'extra SPIs are taken');
  t.throws(() => sad.addInbound(inSpec(100, { proto: IPPROTO_IPCOMP })), InvalidSaError, 'CPI 64..255 reserved');
  t.equal(sad.findEntry(LOCAL, IPPROTO_ESP, 0x200), sa, 'clear crypto sa entry');
  const { bundle } = sad.setOutbound('k', [outSpec(0x400)]);
  t.equal(sad.findEntry(PEER, IPPROTO_ESP, 0x400), bundle.sas[0], 'outbound entries are found by their destination (the peer)');
  t.equal(sad.findEntry(LOCAL, IPPROTO_ESP, 0x400), undefined);
  sad.delete(sa);
  t.equal(sad.lookupInboundAddr(LOCAL, 0x200, IPPROTO_ESP), undefined, 'every key removed');
  t.equal(sad.lookupInboundAddr(LOCAL, 0x100, IPPROTO_AH), undefined);
  sad.recordError(bundle.sas[0]!, 'engine-error');
  t.equal(bundle.sas[0]!.counters.errors['engine-error'], 1, 'codes of the transform are counted as given');
});

t.test('outbound bundles by policy key (IPComp + ESP + AH together)', async (t) => {
  const { sad } = setup();
  const { bundle } = sad.setOutbound('m/10|scope', [outSpec(300, { proto: IPPROTO_IPCOMP }), outSpec(0x3000), outSpec(0x3001, { proto: IPPROTO_AH })]);
  t.equal(sad.outbound('m/10|scope'), bundle);
  t.same(bundle.sas.map((s) => s.proto), [IPPROTO_IPCOMP, IPPROTO_ESP, IPPROTO_AH], 'application order kept');
  t.equal(sad.outbound('m/10|other'), undefined);
  t.ok(bundle.sas.every((s) => s.policyKey === 'm/10|scope'));
  sad.delete(bundle.sas[1]!);
  t.equal(sad.outbound('m/10|scope'), undefined, 'a bundle missing one SA is removed whole');
  t.equal(sad.size, 0);
});

t.test('SPI allocation: random, unique, never 0-255, CPIs in 256..61439', async (t) => {
  const seq = [5, 100, 255, 0x1000 - 256, 0x1000 - 256, 0x2000 - 256];
  const { sad } = setup({ randomU32: () => seq.shift() ?? 0 });
  const a = sad.allocateSpi(IPPROTO_ESP);
  t.equal(a, 261, '256 + 5');
  t.ok(sad.allocateSpi(IPPROTO_ESP) >= 256);
  t.ok(sad.allocateSpi(IPPROTO_ESP) >= 256);
  const b = sad.allocateSpi(IPPROTO_ESP);
  t.equal(b, 0x1000);
  const c = sad.allocateSpi(IPPROTO_ESP);
  t.equal(c, 0x2000, 'a reserved SPI is not handed out twice');
  sad.addInbound(inSpec(b));
  sad.releaseSpi(IPPROTO_ESP, c);

  let calls = 0;
  const { sad: stuck } = setup({ randomU32: () => { calls++; return 0; } });
  stuck.allocateSpi(IPPROTO_ESP);
  t.throws(() => stuck.allocateSpi(IPPROTO_ESP), SpiExhaustedError, 'bounded retries');
  t.ok(calls <= 65);

  const { sad: real } = setup({ randomU32: undefined });
  const seen = new Set<number>();
  let bad = 0;
  for (let i = 0; i < 2000; i++) {
    const cpi = real.allocateSpi(IPPROTO_IPCOMP);
    if (cpi < CPI_MIN || cpi > CPI_MAX) bad++;
    seen.add(cpi);
    const spi = real.allocateSpi(IPPROTO_ESP);
    if (spi < 256 || spi > 0xffffffff || !Number.isInteger(spi)) bad++;
  }
  t.equal(bad, 0, 'all in range');
  t.equal(seen.size, 2000, 'unique');
});

t.test('lifetime by time: soft (rekey) then hard (expire), one heap, injected clock', async (t) => {
  const { sad, clock, events } = setup({ random: () => 0.5 });
  const sa = sad.addInbound(inSpec(0x5000, { lifetime: { seconds: 3600 }, childId: 7 }));
  // soft = 3600*0.9 - 0.5*min(180, 30) = 3240 - 15 = 3225 s
  t.equal(sa.softAtMs, 1_000_000 + 3_225_000);
  t.equal(sad.nextDeadline(), sa.softAtMs);
  clock.advance(3_224_999);
  sad.runTimers();
  t.equal(events.length, 0, 'nothing before the soft deadline');
  clock.advance(1);
  sad.runTimers();
  t.equal(events.length, 1);
  t.match(events[0], { type: 'soft', cause: 'time', sa: { id: sa.id, childId: 7 } });
  t.equal(sa.state, 'soft-expired');
  t.ok(sad.lookupInboundAddr(LOCAL, 0x5000, IPPROTO_ESP), 'still usable after soft');
  t.same(sa.remaining(clock.now()), { kilobytes: undefined, seconds: 375 });
  clock.advance(375_000);
  sad.runTimers();
  t.equal(events.length, 2);
  t.match(events[1], { type: 'hard', cause: 'time' });
  t.equal(sa.state, 'expired');
  t.equal(sad.lookupInboundAddr(LOCAL, 0x5000, IPPROTO_ESP), undefined, 'gone after hard');
  t.equal(sad.nextDeadline(), undefined);
});

t.test('soft time jitter stays in [hard*0.9 - min(5%, 30 s), hard*0.9]', async (t) => {
  for (const [r, lifetime, want] of [[0, 3600, 3240], [0.999999, 3600, 3210.00003], [1 - 1e-9, 120, 102.0000000006]] as const) {
    const { sad } = setup({ random: () => r });
    const sa = sad.addInbound(inSpec(0x6000, { lifetime: { seconds: lifetime } }));
    t.ok(Math.abs((sa.softAtMs! - 1_000_000) / 1000 - want) < 0.01, `lifetime ${lifetime}s random ${r}: soft ${(sa.softAtMs! - 1_000_000) / 1000}`);
  }
  const { sad } = setup();
  const sa = sad.addInbound(inSpec(0x6001, { lifetime: { seconds: 100, softSeconds: 50 } }));
  t.equal(sa.softAtMs, 1_050_000, 'IKE can override the soft limit');
});

t.test('lifetime by volume: soft at 90% of kilobytes, hard drops the packet that would cross it', async (t) => {
  const { sad, events } = setup();
  const { bundle } = sad.setOutbound('p', [outSpec(0x7000, { lifetime: { kilobytes: 10 } })]);
  const sa = bundle.sas[0]!;
  t.equal(sa.softBytes, 9216);
  t.equal(sa.hardBytes, 10240);
  for (let i = 0; i < 9; i++) t.ok(sad.recordEncaps(sa, 1000));
  t.equal(sa.state, 'active');
  t.ok(sad.recordEncaps(sa, 300), 'crosses 9216 bytes');
  t.equal(sa.state, 'soft-expired', 'state changes at once');
  t.equal(events.length, 0, 'events are not delivered inside the packet path');
  await Promise.resolve();
  t.equal(events.length, 1);
  t.match(events[0], { type: 'soft', cause: 'bytes' });
  t.ok(sad.recordEncaps(sa, 900), '10200 bytes: still below hard');
  t.notOk(sad.recordEncaps(sa, 100), 'would cross 10240: dropped');
  t.equal(sa.state, 'expired');
  t.equal(sad.outbound('p'), undefined, 'bundle removed at hard expiry');
  t.equal(sa.counters.encapsPkts, 11);
  t.equal(sa.counters.encapsBytes, 10200);
  t.equal(sa.counters.sendErrors, 1);
  sad.flushEvents();
  t.match(events[1], { type: 'hard', cause: 'bytes', sa: { id: sa.id } });
  t.notOk(sad.recordEncaps(sa, 1), 'an expired SA refuses further packets');
});

t.test('manual SAs and `kilobytes disable` have no deadline', async (t) => {
  const { sad, clock, events } = setup();
  const sa = sad.addInbound(inSpec(256, { manual: true }));
  const vol = sad.addInbound(inSpec(257, { lifetime: { seconds: 60 } }));
  t.equal(sa.hardAtMs, undefined);
  t.equal(vol.hardBytes, undefined);
  for (let i = 0; i < 1000; i++) sad.recordDecaps(sa, 1_000_000);
  clock.advance(86_400_000);
  sad.runTimers();
  t.equal(sa.state, 'active');
  t.equal(vol.state, 'expired');
  t.equal(events.filter((e) => e.sa === sa).length, 0);
  t.equal(sa.counters.decapsBytes, 1e9);
});

t.test('one host timer for the whole SAD, always armed for the earliest deadline', async (t) => {
  const armed: { fn: () => void; at: number; handle: number }[] = [];
  let nextHandle = 1;
  let cleared = 0;
  let base = 0;
  const timer: TimerHost = {
    set: (fn, delay) => { const h = nextHandle++; armed.push({ fn, at: base + delay, handle: h }); return h; },
    clear: (h) => { cleared++; const i = armed.findIndex((a) => a.handle === h); if (i >= 0) armed.splice(i, 1); },
  };
  const { sad, clock, events } = setup({ timer });
  base = clock.now();
  for (let i = 0; i < 100; i++) sad.addInbound(inSpec(1000 + i, { lifetime: { seconds: 1000 + i, softSeconds: 500 + i } }));
  t.equal(armed.length, 1, '100 SAs, one timer');
  t.equal(armed[0]!.at, base + 500_000);
  sad.addInbound(inSpec(5000, { lifetime: { seconds: 10, softSeconds: 5 } }));
  t.equal(armed.length, 1, 'earlier deadline re-arms the single timer');
  t.equal(armed[0]!.at, base + 5000);
  t.equal(cleared, 1);
  clock.advance(5000);
  base = clock.now();
  armed.shift()!.fn();
  t.match(events.at(-1), { type: 'soft', sa: { spi: 5000 } });
  t.equal(armed.length, 1);
  t.equal(armed[0]!.at, base + 5000, 'next: the hard deadline of the same SA');
  sad.close();
  t.equal(armed.length, 0);
});

t.test('rekey: successor replaces the SA without loss; old inbound kept until it expires or is deleted', async (t) => {
  const { sad, clock, events } = setup();
  const oldIn = sad.addInbound(inSpec(0x8000, { lifetime: { seconds: 100, softSeconds: 80 }, childId: 1 }));
  sad.setOutbound('pk', [outSpec(0x9000, { lifetime: { seconds: 100, softSeconds: 80 }, childId: 1 })]);
  const oldOut = sad.outbound('pk')!.sas[0]!;
  clock.advance(80_000);
  sad.runTimers();
  t.equal(events.filter((e) => e.type === 'soft').length, 2, 'both directions reach soft');
  events.length = 0;

  const r = sad.rekey({
    policyKey: 'pk',
    inbound: [inSpec(0x8001, { lifetime: { seconds: 100 }, childId: 2 })],
    outbound: [outSpec(0x9001, { lifetime: { seconds: 100 }, childId: 2 })],
    oldInbound: [oldIn],
  });
  t.equal(sad.outbound('pk')!.sas[0]!.spi, 0x9001, 'outbound switched to the successor');
  t.equal(r.replaced?.sas[0], oldOut);
  t.equal(oldOut.state, 'superseded');
  t.equal(oldOut.successorId, r.bundle.sas[0]!.id);
  t.equal(sad.lookupInboundAddr(LOCAL, 0x8000, IPPROTO_ESP), oldIn, 'old inbound still decrypts in-flight packets');
  t.equal(sad.lookupInboundAddr(LOCAL, 0x8001, IPPROTO_ESP)?.childId, 2, 'new inbound ready');
  t.ok(sad.recordDecaps(oldIn, 100), 'old inbound usable');
  t.equal(oldIn.state, 'superseded');
  t.equal(oldIn.successorId, r.inbound[0]!.id);
  clock.advance(20_000);
  sad.runTimers();
  t.equal(sad.lookupInboundAddr(LOCAL, 0x8000, IPPROTO_ESP), undefined, 'old inbound gone at its hard lifetime');
  t.ok(events.some((e) => e.type === 'hard' && e.sa === oldIn));
  t.notOk(events.some((e) => e.type === 'hard' && e.sa === oldOut), 'the replaced outbound SA raises no expiry');
  t.ok(events.some((e) => e.type === 'deleted' && e.sa === oldOut && e.reason === 'rekeyed'));

  // grace period chosen by IKE
  const a = sad.addInbound(inSpec(0xa000, { lifetime: { seconds: 3600 } }));
  sad.supersedeInbound(a, 5);
  clock.advance(5000);
  sad.runTimers();
  t.equal(a.state, 'expired', 'grace period shortens the old inbound SA');
});

t.test('counters: packets/bytes both ways and errors by reason', async (t) => {
  const { sad } = setup();
  const i = sad.addInbound(inSpec(0xb000));
  const { bundle } = sad.setOutbound('x', [outSpec(0xb001)]);
  const o = bundle.sas[0]!;
  sad.recordEncaps(o, 100);
  sad.recordEncaps(o, 50);
  sad.recordDecaps(i, 70);
  sad.recordError(i, 'replay');
  sad.recordError(i, 'replay');
  sad.recordError(i, 'auth');
  sad.recordError(i, 'padding');
  sad.recordError(o, 'seq-overflow');
  t.match(o.counters, { encapsPkts: 2, encapsBytes: 150, sendErrors: 1, recvErrors: 0 });
  t.match(i.counters, { decapsPkts: 1, decapsBytes: 70, recvErrors: 4, sendErrors: 0 });
  t.match(i.counters.errors, { replay: 2, auth: 1, padding: 1, decrypt: 0 });
  t.equal(o.counters.errors['seq-overflow'], 1);
});

t.test('clear by peer / map, and delete events', async (t) => {
  const { sad, events } = setup();
  sad.addInbound(inSpec(0xc000, { mapName: 'a', mapSeq: 10 }));
  sad.addInbound(inSpec(0xc001, { mapName: 'b', mapSeq: 10, peer: parseIp('203.0.113.9') }));
  sad.setOutbound('k1', [outSpec(0xc002, { mapName: 'a', mapSeq: 10 }), outSpec(0xc003, { proto: IPPROTO_AH, mapName: 'a', mapSeq: 10 })]);
  t.equal(sad.deleteWhere((s) => s.mapName === 'a'), 3, 'clear crypto sa map a');
  t.equal(sad.size, 1);
  t.equal(sad.deleteWhere((s) => s.peer.value === parseIp('203.0.113.9').value), 1, 'clear crypto sa peer');
  sad.flushEvents();
  t.equal(events.filter((e) => e.type === 'deleted').length, 4);
  t.equal(sad.delete(12345), false);
});

t.test('deadlines of deleted SAs do not pile up (heap compaction)', async (t) => {
  const { sad } = setup();
  for (let i = 0; i < 5000; i++) {
    const sa = sad.addInbound(inSpec(1000 + i, { lifetime: { seconds: 3600, kilobytes: 4608000 } }));
    sad.delete(sa);
  }
  t.equal(sad.size, 0);
  t.ok(sad.pendingDeadlines <= 200, `heap holds ${sad.pendingDeadlines} deadlines after 5000 install/delete cycles`);
  t.equal(sad.nextDeadline(), undefined);
});
