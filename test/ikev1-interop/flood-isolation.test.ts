// Issue 20 item 4, behaviour under a flood: two Rampart daemons with an IKEv1 tunnel, and a
// bounded Main Mode message 1 flood (50,000 datagrams) (fresh cookies, 64 source addresses) at gwB from a
// namespace behind it. While it runs (20 s): ESP keeps carrying pings, gwA's ISAKMP SA is cleared
// and set up again (gwA, having been up before, is a known peer of gwB's intake), and
// `show crypto call admission statistics` on gwB accounts for every first message (served +
// dropped = received). Counts only; nothing here asserts a time.
import t from 'tap';
import { join } from 'node:path';
import { isRoot, hasCommand, projectRoot } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { rampartPairWithFlooder, sleep } from './lab.js';

const skip = !isRoot() ? 'needs root: network namespaces' : !hasCommand('ip') ? 'needs iproute2' : undefined;
const PSK = 'flood-isolation-psk';
// long enough that gwA's new setup happens inside it even on a loaded host
const FLOOD_MS = 20_000;
const RATE = 2500;

function intakeCounters(show: string): { received: number; served: number; known: number; dropped: number } | undefined {
  const a = /IKE intake received:\s+(\d+) served:\s+(\d+) known peers:\s+(\d+)/.exec(show);
  const b = /IKE intake dropped:\s+(\d+)/.exec(show);
  if (!a || !b) return undefined;
  return { received: Number(a[1]), served: Number(a[2]), known: Number(a[3]), dropped: Number(b[1]) };
}

t.test('an MM1 flood at gwB: ESP continues, a known peer sets up again, counters add up', { skip, timeout: 300_000 }, async (t) => {
  const { lab, gwA, gwB, sources } = await rampartPairWithFlooder(t, 'rfli', PSK);
  await ping(lab, 'hostA', '10.2.0.2', { count: 2, timeoutSec: 1 });
  t.ok(await ping(lab, 'hostA', '10.2.0.2', { count: 3, timeoutSec: 3 }), 'tunnel up before the flood');
  await gwB.exec('clear crypto call admission statistics');
  const pidB = gwB.proc.pid;

  const flood = await lab.spawnNode('f', join(projectRoot(), 'test/lib/ike-mm1-flood.ts'),
    [JSON.stringify({ sources, target: '172.16.0.2', ratePerSec: RATE, durationMs: FLOOD_MS })], { name: 'mm1-flood' });
  try {
    await sleep(1500);
    // ESP while the flood runs
    const watch = await lab.exec('hostA', ['ping', '-n', '-q', '-i', '0.1', '-c', '20', '-W', '2', '10.2.0.2'], { timeoutMs: 20_000 }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
    const m = /(\d+) packets transmitted, (\d+) received/.exec(watch.stdout);
    t.ok(m && Number(m[2]) >= 5, `ESP carries pings during the flood (${m?.[2] ?? '?'} of ${m?.[1] ?? '?'} answered)`);

    // a legitimate setup during the flood: gwA's SAs go, traffic brings them back
    await gwA.exec('clear crypto session');
    let up = false;
    for (let i = 0; i < 10 && !up; i++) up = await ping(lab, 'hostA', '10.2.0.2', { count: 2, timeoutSec: 2 });
    t.ok(up, 'gwA set the tunnel up again while the flood ran');
    t.ok(flood.running, 'the flood was still running then');
    t.match(await gwB.exec('show crypto isakmp sa'), /172\.16\.0\.2\s+172\.16\.0\.1\s+QM_IDLE/, 'gwB: the new ISAKMP SA with gwA');
  } finally {
    const end = Date.now() + FLOOD_MS + 10_000;
    while (flood.running && Date.now() < end) await sleep(200);
  }
  const sent = Number(/"sent":(\d+)/.exec(flood.output)?.[1] ?? 0);
  t.ok(sent > 1000, `the flood sent ${sent} first messages`);
  // the intake works off what is left on later turns
  let c = intakeCounters(await gwB.exec('show crypto call admission statistics'));
  for (let i = 0; i < 20 && c && c.served + c.dropped < c.received; i++) {
    await sleep(250);
    c = intakeCounters(await gwB.exec('show crypto call admission statistics'));
  }
  t.ok(c, 'show crypto call admission statistics has the intake lines');
  if (c) {
    t.comment(JSON.stringify(c));
    t.ok(c.received >= sent / 2 && c.received <= sent + 50, `received ${c.received} of ${sent} sent (the rest lost in the kernel at most)`);
    t.equal(c.served + c.dropped, c.received, 'every first message was served or dropped');
    t.ok(c.dropped > c.served, 'most of the flood was dropped at the intake');
    t.ok(c.known >= 1, 'gwA\'s new first message went through the known-peer class');
  }
  t.equal(gwB.proc.pid, pidB, 'gwB is the same process');
  t.ok(gwB.proc.running, 'gwB still runs');
  t.ok(await ping(lab, 'hostA', '10.2.0.2', { count: 3, timeoutSec: 2 }), 'the tunnel works after the flood');
});
