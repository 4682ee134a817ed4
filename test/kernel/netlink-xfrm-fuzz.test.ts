// Bounded fuzz of the netlink/XFRM decoders: thousands of mutated copies of real messages
// (ip xfrm requests and kernel notifications captured here). Each decode either succeeds or
// throws a NetlinkDecodeError; never a RangeError or anything else.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { NetlinkDecodeError, decodeNetlinkMessages } from '../../firmware/proto/netlink-core.js';
import { decodeXfrmMessage } from '../../firmware/proto/netlink-xfrm.js';
import { XfrmBackend } from '../../firmware/kernel/xfrm-backend.js';
import { FakeXfrmKernel } from './fixtures/fake-xfrm-kernel.js';

const load = (f: string) => Object.values(JSON.parse(readFileSync(new URL(`./fixtures/${f}`, import.meta.url), 'utf8')) as Record<string, { hex: string }>)
  .map((e) => new Uint8Array(Buffer.from(e.hex, 'hex')));
const seeds = [...load('ip-xfrm-requests.json'), ...load('kernel-xfrm-notifications.json')];

// Small deterministic PRNG (xorshift32) so failures reproduce.
let state = 0x2545f491;
const rnd = (n: number) => {
  state ^= state << 13; state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5; state >>>= 0;
  return state % n;
};

function mutate(seed: Uint8Array): Uint8Array {
  let b = seed.slice();
  const kind = rnd(5);
  if (kind === 0) {
    for (let i = 0, n = 1 + rnd(8); i < n; i++) b[rnd(b.length)] = rnd(256);
  } else if (kind === 1) {
    b = b.slice(0, rnd(b.length + 1));
  } else if (kind === 2) {
    // corrupt a 16-bit length field somewhere (nlmsg_len low bytes or an nla_len)
    const o = rnd(Math.max(1, b.length - 1)) & ~3;
    b[o] = rnd(256); b[o + 1] = rnd(4);
  } else if (kind === 3) {
    const extra = new Uint8Array(rnd(64)).map(() => rnd(256));
    b = new Uint8Array([...b, ...extra]);
  } else {
    // keep nlmsg_len consistent with a truncated body so the inner decoders are reached
    b = b.slice(0, 16 + rnd(Math.max(1, b.length - 16)));
    new DataView(b.buffer).setUint32(0, b.length, true);
  }
  return b;
}

t.test('mutated messages: decoded or a typed decode error', async (t) => {
  const deadline = Date.now() + 20_000;
  let decoded = 0;
  let rejected = 0;
  const ITER = 20_000;
  for (let i = 0; i < ITER && Date.now() < deadline; i++) {
    const b = mutate(seeds[rnd(seeds.length)]!);
    try {
      for (const m of decodeNetlinkMessages(b)) decodeXfrmMessage(m);
      decoded++;
    } catch (e) {
      if (!(e instanceof NetlinkDecodeError)) {
        t.fail(`iteration ${i}: ${(e as Error).name}: ${(e as Error).message} on ${Buffer.from(b).toString('hex')}`);
        return;
      }
      rejected++;
    }
  }
  t.ok(decoded > 100, `some mutations still decode (${decoded})`);
  t.ok(rejected > 1000, `many are rejected (${rejected})`);
});

t.test('garbage from the socket never throws out of the backend', async (t) => {
  const k = new FakeXfrmKernel();
  const b = new XfrmBackend(k, { requestTimeoutMs: 0 });
  let errors = 0;
  let events = 0;
  b.on('error', () => errors++);
  b.on('acquire', () => events++);
  b.on('expire', () => events++);
  for (let i = 0; i < 2000; i++) {
    k.inject(mutate(seeds[rnd(seeds.length)]!));
  }
  t.ok(errors > 0, `decode errors reported as events (${errors})`);
  t.ok(events > 0, `valid notifications still delivered (${events})`);
  await b.close();
});
