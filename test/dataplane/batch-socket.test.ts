// Batched raw sockets (firmware/dataplane/batch-socket.ts on drivers/native/src/netio.c):
// sendmmsg/recvmmsg inside test namespaces, across a veth, truncation, wrong arguments to
// the addon, and the userspace backend with and without the batched path. The socket work
// runs in child processes (fixtures/batch-socket-peer.ts) inside the namespaces, so a
// crash in the addon is a failed test, not a dead test runner.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Lab, isRoot, type LabProcess } from '../lib/netns.js';
import {
  BatchReceiver, BatchSender, batchSocketAddon, batchSocketStatus, resetBatchSocketForTests,
} from '../../firmware/dataplane/batch-socket.js';

const PEER = fileURLToPath(new URL('./fixtures/batch-socket-peer.ts', import.meta.url));
const native = withSwitches({}, () => ({ ok: batchSocketAddon() !== undefined, why: batchSocketStatus() }));
const skip = !isRoot() ? 'needs root: raw sockets and network namespaces'
  : !native.ok ? `native addon unavailable: ${native.why}` : undefined;

/** The child's last JSON line (and its exit code, which must be 0). */
function report<T>(p: LabProcess): T {
  const line = p.output.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}';
  return JSON.parse(line) as T;
}

/** Environment of a child: the batched path on (whatever this run has) or forced off. */
function env(off?: 'RAMPART_NATIVE' | 'RAMPART_BATCH_IO'): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { RAMPART_NATIVE: '1', RAMPART_BATCH_IO: '1' };
  if (off) e[off] = '0';
  return e;
}

async function runChild<T>(lab: Lab, ns: string, args: string[], e = env()): Promise<{ r: T; code: number | null; out: string }> {
  const p = await lab.spawnNode(ns, PEER, args, { name: `${ns}-${args[0]}-${Math.random().toString(36).slice(2, 6)}`, env: e });
  const code = await p.wait();
  return { r: report<T>(p), code, out: p.output };
}

interface Got { len: number; dst: string; id: number; proto: number }
interface SenderStats { sent: number; sendErrors: number; batches: number; lastErrno: number }
interface RxStats { packets: number; truncated: number; batches: number; errors: number; handlerErrors: number; slotBytes: number }

/** Runs fn with exactly these switches set (the others removed), then restores the environment. */
function withSwitches<T>(set: Partial<Record<'RAMPART_NATIVE' | 'RAMPART_BATCH_IO', string>>, fn: () => T): T {
  const saved = { RAMPART_NATIVE: process.env.RAMPART_NATIVE, RAMPART_BATCH_IO: process.env.RAMPART_BATCH_IO };
  try {
    for (const k of ['RAMPART_NATIVE', 'RAMPART_BATCH_IO'] as const) {
      if (set[k] === undefined) delete process.env[k]; else process.env[k] = set[k];
    }
    resetBatchSocketForTests();
    return fn();
  } finally {
    for (const k of ['RAMPART_NATIVE', 'RAMPART_BATCH_IO'] as const) {
      if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
    }
    resetBatchSocketForTests();
  }
}

t.test('fallback: unavailable when switched off, callers are told why', async (t) => {
  for (const [name, reason] of [['RAMPART_NATIVE', /RAMPART_NATIVE=0/], ['RAMPART_BATCH_IO', /RAMPART_BATCH_IO=0/]] as const) {
    withSwitches({ [name]: '0' }, () => {
      t.equal(batchSocketAddon(), undefined, `${name}=0: no addon`);
      t.match(batchSocketStatus(), reason, 'the reason names the switch');
      t.equal(BatchSender.open(), undefined, 'no sender');
      t.equal(BatchReceiver.open({ protocol: 50 }), undefined, 'no receiver');
    });
  }
});

t.test('batched raw sockets in test namespaces', { skip }, async (t) => {
  const lab = Lab.create('rt-batchsk');
  t.teardown(() => lab.destroy());
  lab.addNamespace('a');
  lab.addNamespace('b');
  lab.addVeth({ ns: 'a', ifname: 'veth-a', addr: '10.78.0.1/24' }, { ns: 'b', ifname: 'veth-b', addr: '10.78.0.2/24' });
  lab.addAddress('a', 'veth-a', '10.77.0.1/24'); // a second local address of A

  t.test('batch send and receive in one namespace', async (t) => {
    const { r, code, out } = await runChild<{
      queued: number; pendingBeforeFlush: number; pendingAfterFlush: number; afterFirst: SenderStats; first: Got[];
      truncation: { got: Got[]; stats: RxStats }; afterGrow: { got: Got[]; stats: RxStats };
      pendingAfter150: number; full: { batches: number; got: number; ids: boolean };
      reply: { ids: number[]; order: string[] };
      refused: boolean[]; refusedCounted: number; final: SenderStats; sendAfterClose: boolean; info: { rcvbuf: number };
    }>(lab, 'a', ['local']);
    t.equal(code, 0, 'child exited cleanly', { output: out.slice(-2000) });
    t.equal(r.queued, 20, 'every packet queued');
    t.equal(r.pendingBeforeFlush, 21, 'nothing sent during the synchronous run');
    t.equal(r.pendingAfterFlush, 0, 'flushed at the end of the run');
    t.match(r.afterFirst, { sent: 20, sendErrors: 1, batches: 1, lastErrno: 101 }, 'one sendmmsg; the unroutable packet alone failed (ENETUNREACH)');
    t.equal(r.first.length, 20, '19 ESP and 1 AH packets received');
    const esp = r.first.filter((g) => g.proto === 50).map((g) => g.id).sort((a, b) => a - b);
    t.same(esp, Array.from({ length: 20 }, (_, i) => 100 + i).filter((i) => i !== 107), 'every ESP packet arrived once, intact although the caller reused its buffer');
    t.ok(r.first.some((g) => g.proto === 50 && g.dst === '10.77.0.1') && r.first.some((g) => g.dst === '127.0.0.1'), 'destinations taken from each header');
    t.ok(r.first.some((g) => g.proto === 51 && g.id === 500), 'AH arrived on the AH socket');
    t.same(r.first.filter((g) => g.proto === 50).map((g) => g.len).slice(0, 6), [28, 100, 1400, 1500, 60, 999], 'lengths as sent, in order');
    t.ok(r.info.rcvbuf >= 4 << 20, `SO_RCVBUF set (${r.info.rcvbuf})`);

    t.same(r.truncation.got.map((g) => g.id), [601], 'the 5000-byte packet did not fit a 2048-byte slot; the next one arrived');
    t.match(r.truncation.stats, { truncated: 1, slotBytes: 8192 }, 'counted as truncated; slots grew to hold it');
    t.same(r.afterGrow.got.map((g) => [g.id, g.len]), [[602, 5000]], 'the next large packet arrives whole');

    t.equal(r.pendingAfter150, 150 - 128, 'two full batches of 64 went at once');
    t.same(r.full, { batches: 3, got: 150, ids: true }, '150 packets in 3 sendmmsg calls, all received in order');
    t.same(r.reply.ids, [700, 701], 'a packet sent from a receive callback went out');
    t.same(r.reply.order, ['micro pending=0', 'immediate pending=0'], 'microtasks (the flush) ran right after the native callback');
    t.same(r.refused, [false, false], 'a packet shorter than an IPv4 header or over 64 KiB is refused');
    t.equal(r.refusedCounted, 2, 'and counted');
    t.equal(r.sendAfterClose, false, 'sending after close is refused');
  });

  t.test('batch across a veth between namespaces', async (t) => {
    const go = join(lab.dir, 'recv-go');
    const rx = await lab.spawnNode('b', PEER, ['recv', '200', go], { name: 'b-recv', env: env() });
    for (let i = 0; i < 200 && !rx.output.includes('ready'); i++) await new Promise((r) => setTimeout(r, 25));
    t.ok(rx.output.includes('ready'), 'receiver ready');
    const { r: sent, code } = await runChild<SenderStats>(lab, 'a', ['send', '10.78.0.2', '200']);
    t.equal(code, 0, 'sender exited cleanly');
    t.match(sent, { sent: 200, sendErrors: 0, batches: 1 }, '200 packets in one sendmmsg (default batch 256)');
    writeFileSync(go, '');
    await rx.wait();
    const got = report<{ got: number; ids: number[]; lens: number[]; stats: RxStats }>(rx);
    t.equal(got.got, 200, 'all received in B');
    t.same(got.ids, Array.from({ length: 200 }, (_, i) => i), 'in order');
    t.same(got.lens.slice(0, 8), [64, 244, 424, 604, 784, 964, 1144, 1324], 'lengths kept');
    // all 200 were queued before polling started: 64 slots per recvmmsg -> 4 calls
    t.equal(got.stats.batches, 4, `200 queued packets drained in ${got.stats.batches} recvmmsg calls`);
  });

  t.test('wrong arguments throw or return an error, never crash', async (t) => {
    const { r, code, out } = await runChild<Record<string, string>>(lab, 'a', ['badargs']);
    t.equal(code, 0, 'child survived every call', { output: out.slice(-2000) });
    const threw = (k: string, re: RegExp): void => { t.match(r[k], re, k); };
    threw('open: protocol 0', /^threw protocol must be an integer/);
    threw('open: protocol 256', /^threw protocol/);
    threw('open: protocol text', /^threw protocol/);
    threw('open: negative rcvbuf', /^threw rcvbufBytes/);
    threw('open: no arguments', /^threw netOpen\(/);
    for (const k of ['send: not a handle', 'send: foreign external', 'send: number as handle', 'close: not a handle']) threw(k, /^threw expected a socket handle/);
    threw('send: buffer not bytes', /^threw expected a Uint8Array/);
    threw('send: desc Int32Array', /^threw expected a Uint32Array/);
    threw('send: count beyond desc', /^threw count exceeds/);
    for (const k of ['send: count negative', 'send: count NaN', 'send: count 1e9']) threw(k, /^threw count must be an integer/);
    threw('send: errs too short', /^threw errs is shorter/);
    threw('send: errs wrong type', /^threw expected an Int32Array/);
    for (const k of ['send: offset past the end', 'send: offset+len wraps', 'send: too short for IPv4', 'send: not IPv4']) threw(k, /^returned \[0,22\]$/); // EINVAL for that packet
    threw('recv: slot 0', /^threw slotBytes/);
    threw('recv: slot too big', /^threw slotBytes/);
    threw('recv: slots beyond buffer', /^threw maxCount \* slotBytes exceeds/);
    threw('recv: maxCount beyond lens', /^threw maxCount exceeds lens/);
    threw('recv: lens wrong type', /^threw expected a Uint32Array/);
    threw('recv: nothing waiting', /^returned 0$/);
    threw('poll: not a function', /^threw expected a callback/);
    threw('poll: twice', /^threw already polling/);
    threw('poll stop: twice', /^returned undefined$/);
    threw('info', /"protocol":50/);
    threw('close: twice', /^returned undefined$/);
    threw('send: closed', /^returned -9$/);
    threw('recv: closed', /^returned -9$/);
    threw('poll: closed', /^threw netPollStart: Bad file descriptor \[EBADF\]/);
  });

  const backendRuns: Array<[string, NodeJS.ProcessEnv, RegExp]> = [
    ['batched', env(), /^sendmmsg\/recvmmsg$/],
    ['RAMPART_BATCH_IO=0', env('RAMPART_BATCH_IO'), /^raw-socket: batched I\/O disabled \(RAMPART_BATCH_IO=0\)/],
    ['RAMPART_NATIVE=0', env('RAMPART_NATIVE'), /^raw-socket: batched I\/O disabled \(RAMPART_NATIVE=0\)/],
  ];
  for (const [name, e, io] of backendRuns) {
    t.test(`userspace backend I/O: ${name}`, async (t) => {
      const { r, code, out } = await runChild<{
        ok: boolean[]; late: unknown[]; got: number; ids: number[]; available: boolean;
        stats: { sent: number; sendErrors: number; rawEspRx: number; rawAhRx: number; rawRxDropped: number; io: string; sendBatches: number; rxBatches: number };
      }>(lab, 'a', ['backend'], e);
      t.equal(code, 0, 'child exited cleanly', { output: out.slice(-2000) });
      t.match(r.stats.io, io, `I/O method: ${r.stats.io}`);
      t.equal(r.got, 30, '30 outer packets came back through the receive path');
      t.same(r.ids, Array.from({ length: 30 }, (_, i) => i), 'each once');
      t.equal(r.ok.at(-1), false, 'an unusable packet is refused at once');
      const batched = name === 'batched';
      // the raw-socket path refuses the unroutable packet at once; the batched path
      // queues it and counts the kernel's refusal at the flush
      t.equal(r.ok.at(-2), batched, 'the unroutable packet: queued (batched) or refused (raw-socket)');
      t.match(r.stats, { sent: 30, sendErrors: 2, rawEspRx: 29, rawAhRx: 1, rawRxDropped: 0 }, 'counters');
      t.same(r.late, batched ? ['sa-of-unroutable'] : [], 'a refusal at the flush is reported to the pipeline with its SA');
      if (batched) t.ok(r.stats.sendBatches === 1 && r.stats.rxBatches >= 1, `one sendmmsg (${r.stats.sendBatches}), ${r.stats.rxBatches} recvmmsg`);
      else t.equal(r.stats.sendBatches, 0, 'no sendmmsg');
    });
  }
});
