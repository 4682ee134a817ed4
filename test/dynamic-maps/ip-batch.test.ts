// firmware/kernel/ip-batch.ts: one long-lived batch reader serves many writes (lines arrive
// while it runs, not at its exit), a dead reader is started again at the next change, and
// close() drops what is still queued.
import t from 'tap';
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IpBatch } from '../../firmware/kernel/ip-batch.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(pred: () => boolean, ms = 20_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred()) { if (Date.now() > end) return false; await sleep(20); }
  return true;
}

t.test('lines reach one running reader; it is restarted when it dies', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ipbatch-'));
  const out = join(dir, 'lines');
  const logs: string[] = [];
  // a recorder standing in for `ip -batch -`: appends each line as it arrives
  const b = new IpBatch({ log: (m) => logs.push(m), argv: ['sh', '-c', `while IFS= read -r l; do echo "$l" >> ${out}; done`], coalesceMs: 5 });
  t.teardown(() => b.close());
  const lines = () => (existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []);
  b.queue(['route replace 10.9.1.0/24 via 172.16.0.254']);
  b.queue(['route replace 10.9.2.0/24 via 172.16.0.254']);
  t.ok(await until(() => lines().length === 2), 'both lines executed while the reader keeps running');
  b.queue(['route del 10.9.1.0/24 via 172.16.0.254']);
  t.ok(await until(() => lines().length === 3), 'a later change goes to the same reader');
  t.equal(b.started, 1, 'one process for all three changes');
  t.same(lines(), ['route replace 10.9.1.0/24 via 172.16.0.254', 'route replace 10.9.2.0/24 via 172.16.0.254', 'route del 10.9.1.0/24 via 172.16.0.254'], 'in order');

  // the reader dies (kill the whole recorder): the next change starts another
  const pid = (b as unknown as { child?: { pid?: number } }).child?.pid;
  t.ok(pid, 'reader running');
  process.kill(pid!, 'SIGKILL');
  t.ok(await until(() => logs.some((l) => /exited/.test(l))), 'its exit is logged');
  b.queue(['route replace 10.9.3.0/24 via 172.16.0.254']);
  t.ok(await until(() => lines().length === 4), 'the change after the death is executed');
  t.equal(b.started, 2, 'by a new reader');

  b.queue(['route replace 10.9.4.0/24 via 172.16.0.254']);
  b.close();
  await sleep(100);
  t.equal(lines().length, 4, 'close() drops what was still queued');
  b.queue(['route replace 10.9.5.0/24 via 172.16.0.254']);
  t.equal(b.started, 2, 'nothing starts after close()');
});
