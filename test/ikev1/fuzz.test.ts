// Bounded fuzz: truncated, mutated, misordered, oversized and random ISAKMP messages against a
// responder that has an established SA. The engine must never throw, the established SA must
// keep working, and half-open state must stay within its limit.
import t from 'tap';
import { Net, entry, ofType, pol, sel } from './harness.js';
import type { TransformSet } from '../../firmware/ike/v1/policy.js';
import { ExchangeType, PayloadType, encodeMessage, ZERO_COOKIE, VENDOR_ID_DPD } from '../../firmware/proto/ikev1/index.js';
import { buildPhase1Sa } from '../../firmware/ike/v1/policy.js';

const A = '10.0.0.1';
const B = '10.0.0.2';
const ts: TransformSet = { name: 's', esp: { cipher: 'esp-aes', keyLenBits: 256, integrity: 'sha' }, mode: 'tunnel' };
const MAX_CASES = 4000;
const MAX_MS = 20_000;
const HALF_OPEN_LIMIT = 16;

function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

t.test('fuzz the responder', async (t) => {
  const net = new Net();
  const a = net.add({ address: A, policies: [pol(10, 'aes256', 'sha', 2)], keys: [{ address: B, key: 'k' }], entries: [entry(B, '192.168.1.0/24', '192.168.2.0/24', [ts])] });
  const b = net.add({ address: B, policies: [pol(10, 'aes256', 'sha', 2)], keys: [{ address: '0.0.0.0', mask: '0.0.0.0', key: 'k' }], entries: [entry(A, '192.168.2.0/24', '192.168.1.0/24', [ts])], extra: { halfOpenLimit: HALF_OPEN_LIMIT } });
  const qm = { localSel: sel('192.168.1.0/24'), remoteSel: sel('192.168.2.0/24'), transformSets: [ts], lifetimeSec: 3600, lifetimeKb: 4608000 };
  a.engine.initiate({ local: { address: A, port: 500 }, remote: { address: B, port: 500 }, quickMode: qm });
  net.pump();
  t.equal(ofType(b.events, 'ipsec-up').length, 1, 'baseline SA up');
  const corpus = net.delivered.map((x) => x.d.data);
  const rnd = prng(0xc0ffee);
  const ri = (n: number): number => Math.floor(rnd() * n);
  const rbytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => ri(256));
  const valid1 = (): Uint8Array => encodeMessage({ initiatorCookie: rbytes(8), responderCookie: ZERO_COOKIE, exchangeType: ExchangeType.IDENTITY_PROTECTION, flags: 0, messageId: 0 },
    [buildPhase1Sa([{ priority: 1, encryption: 'aes256', hash: 'sha', authentication: 'pre-share', group: 2, lifetimeSec: 600 }]), { type: PayloadType.VID, data: VENDOR_ID_DPD }]);
  const kinds = ['truncate', 'flip', 'replay', 'oversize', 'random', 'header+random', 'msg1-flood', 'splice'] as const;
  const count: Record<string, number> = {};
  const started = Date.now();
  let thrown = 0;
  let maxHalfOpen = 0;
  let cases = 0;
  for (; cases < MAX_CASES && Date.now() - started < MAX_MS; cases++) {
    const kind = kinds[ri(kinds.length)]!;
    count[kind] = (count[kind] ?? 0) + 1;
    const base = corpus[ri(corpus.length)]!;
    let data: Uint8Array;
    switch (kind) {
      case 'truncate': {
        data = base.slice(0, ri(base.length));
        if (data.length >= 28 && rnd() < 0.5) new DataView(data.buffer).setUint32(24, data.length);
        break;
      }
      case 'flip': {
        data = base.slice();
        for (let i = 0, n = 1 + ri(4); i < n; i++) data[ri(data.length)] ^= 1 << ri(8);
        break;
      }
      case 'replay':
        data = base.slice();
        break;
      case 'oversize': {
        data = new Uint8Array(60000 + ri(5000));
        data.set(base.subarray(0, 28));
        new DataView(data.buffer).setUint32(24, rnd() < 0.5 ? data.length : 0xffffffff);
        data.set(rbytes(64), 28);
        break;
      }
      case 'random':
        data = rbytes(ri(2000));
        break;
      case 'header+random': {
        data = new Uint8Array(28 + ri(400));
        data.set(rbytes(data.length));
        data[17] = 0x10;
        data[18] = [1, 2, 4, 5, 32, 33][ri(6)]!;
        data[19] = ri(2);
        if (rnd() < 0.5) data.set(base.subarray(0, 16));
        new DataView(data.buffer).setUint32(24, data.length);
        break;
      }
      case 'msg1-flood':
        data = valid1();
        break;
      case 'splice': {
        const other = corpus[ri(corpus.length)]!;
        const cut = Math.min(28 + ri(40), base.length);
        data = new Uint8Array([...base.subarray(0, cut), ...other.subarray(Math.min(cut, other.length))]);
        new DataView(data.buffer).setUint32(24, data.length);
        break;
      }
    }
    const src = rnd() < 0.3 ? A : `198.51.100.${1 + ri(200)}`;
    try {
      b.engine.receive({ data, local: { address: B, port: rnd() < 0.8 ? 500 : 4500 }, remote: { address: src, port: 500 } });
    } catch {
      thrown++;
    }
    maxHalfOpen = Math.max(maxHalfOpen, b.engine.halfOpenCount());
    // the responder's answers go nowhere (except to A, which must cope as well)
    net.pump(3);
    if (cases % 200 === 0) {
      net.now += 1000;
      b.engine.tick();
      a.engine.tick();
    }
  }
  t.comment(`cases=${cases} ${JSON.stringify(count)} malformed=${b.engine.counters.rxMalformed} dropped=${b.engine.counters.rxDropped} halfOpenRejected=${b.engine.counters.halfOpenRejected}`);
  t.ok(cases >= 500, `ran ${cases} cases`);
  t.ok(net.delivered.length < corpus.length + 4 * cases, 'no message storm between the peers');
  t.equal(thrown, 0, 'receive() never threw');
  t.ok(maxHalfOpen <= HALF_OPEN_LIMIT, `half-open stayed bounded (max ${maxHalfOpen})`);
  t.ok(b.engine.admission.evicted + b.engine.admission.evictedPerSource + b.engine.counters.halfOpenRejected > 0, 'the limit was exercised (evictions or refusals)');
  t.ok(b.engine.counters.rxMalformed > 0, 'malformed messages were counted');
  // established SA still works: a new quick mode on the existing phase 1
  const upBefore = ofType(b.events, 'ipsec-up').length;
  a.engine.initiate({ local: { address: A, port: 500 }, remote: { address: B, port: 500 }, quickMode: qm });
  net.pump();
  t.equal(ofType(b.events, 'ipsec-up').length, upBefore + 1, 'a new quick mode succeeds after the fuzzing');
  t.equal(ofType(a.events, 'phase1-up').length, 1, 'on the same phase 1');
  // half-open entries expire
  net.advance(200_000, 5000);
  t.equal(b.engine.halfOpenCount(), 0, 'half-open state expired');
});
