// The checks shared by the VRF-aware hub tests (vrf-aware, vrf-ikev1): two customers on one hub,
// hostA (10.1.0.2, vrf A) and hostB (10.2.0.2, vrf B), whose branches behind spoke 1 and spoke
// 2 use the same LAN (host1 / host2 at 10.9.0.2). Each customer reaches only its own branch and
// pings that would cross between the customers fail; the global table holds no customer route.
import type { Test } from 'tap';
import type { Lab } from '../lib/netns.js';
import type { Box } from '../lib/box.js';
import { ping } from '../lib/site-to-site.js';
import { waitUntil } from '../lib/wait.js';

/** Packets a box decrypted (all its SAs). */
async function decrypted(b: Box): Promise<number> {
  return [...(await b.run('show crypto ipsec sa')).matchAll(/#pkts decaps: (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
}

/** The isolation checks (15); `spokes` are spoke 1 and spoke 2, the hub runs in namespace `hub`. */
export async function checkCustomersApart(t: Test, lab: Lab, spokes: readonly Box[]): Promise<string> {
  // each hub-side customer reaches its own branch at the same address
  for (const [host, n] of [['hostA', 0], ['hostB', 1]] as const) {
    const mine = spokes[n]!, other = spokes[1 - n]!;
    const [m0, o0] = [await decrypted(mine), await decrypted(other)];
    t.ok(await waitUntil(() => ping(lab, host, '10.9.0.2', { count: 1, timeoutSec: 1 }), 15_000, 300), `${host} -> 10.9.0.2`);
    t.ok(await ping(lab, host, '10.9.0.2', { count: 3 }), `${host} -> 10.9.0.2 again`);
    const [m1, o1] = [await decrypted(mine), await decrypted(other)];
    t.ok(m1 >= m0 + 3, `${host}'s pings arrived at spoke ${n + 1} (decrypted ${m0} -> ${m1})`);
    t.equal(o1, o0, `none arrived at spoke ${2 - n} (${o0} -> ${o1})`);
  }
  t.ok(await ping(lab, 'host1', '10.1.0.2', { count: 2 }), 'spoke 1\'s host -> hostA (its own customer)');
  t.ok(await ping(lab, 'host2', '10.2.0.2', { count: 2 }), 'spoke 2\'s host -> hostB');
  // crossing between customers must fail
  t.notOk(await ping(lab, 'host1', '10.2.0.2', { count: 2, timeoutSec: 1 }), 'spoke 1\'s host cannot reach customer B\'s hostB');
  t.notOk(await ping(lab, 'host2', '10.1.0.2', { count: 2, timeoutSec: 1 }), 'spoke 2\'s host cannot reach customer A\'s hostA');
  t.notOk(await ping(lab, 'hostA', '10.2.0.2', { count: 2, timeoutSec: 1 }), 'hostA cannot reach hostB through the hub');
  t.notOk(await ping(lab, 'hostB', '10.1.0.2', { count: 2, timeoutSec: 1 }), 'hostB cannot reach hostA through the hub');
  const main = lab.execSync('hub', ['ip', 'route', 'show', 'table', 'main']).stdout;
  t.notMatch(main, /10\.(1|2|9)\.0\.0\/24/, 'the global table holds no customer route');
  return main;
}
