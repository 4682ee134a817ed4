// The daemon's test-only `gc` RPC (firmware/mgmt/rpc-protocol.ts), which the dynamic VTI leak
// test calls before each heap snapshot: refused by a daemon without node's --expose-gc, and with
// it a full collection that gives back what unreachable objects held.
import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startInProcessBox } from '../lib/box.js';

t.test('gc hook: refused without --expose-gc, collects with it', async (t) => {
  const g = globalThis as { gc?: () => void };
  t.equal(typeof g.gc, 'undefined', 'this test process runs without --expose-gc');
  const box = await startInProcessBox({ name: 'gc' });
  t.teardown(() => box.stop());
  await t.rejects(box.con.collectGarbage(), /gc: not available/, 'no --expose-gc: the RPC answers an error');
  t.match(await box.exec('show clock'), /\d{2}:\d{2}:\d{2}/, 'the session still works after the refused call');

  // what --expose-gc gives the daemon's process: a global gc()
  setFlagsFromString('--expose-gc');
  g.gc = runInNewContext('gc') as () => void;
  t.teardown(() => { delete g.gc; });
  // garbage (tens of MB) the daemon's heap holds until a major collection
  let junk: unknown[] | undefined = Array.from({ length: 16 }, () => Array.from({ length: 131072 }, (_, i) => ({ i })));
  const held = process.memoryUsage().heapUsed;
  t.ok((junk?.length ?? 0) === 16 && held > 40 * 1048576, `garbage allocated (heap ${Math.round(held / 1048576)} MB)`);
  junk = undefined;
  const r = await box.con.collectGarbage();
  t.ok(r.heapUsed < held - 24 * 1048576, `collected: heap ${Math.round(held / 1048576)} -> ${Math.round(r.heapUsed / 1048576)} MB`);
  t.ok(r.external >= 0 && r.arrayBuffers >= 0, 'external and array buffer sizes answered');
});
