// The lab library itself: namespaces, veth, exec, NAT, and cleanup when the owning
// process dies (uncaught exception, process.exit, SIGTERM).
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { Lab, isRoot, bundleForNode, sh } from '../lib/netns.js';
import { buildSiteToSite, ping } from '../lib/site-to-site.js';

const skip = isRoot() ? undefined : 'needs root: network namespaces';
const CRASH = fileURLToPath(new URL('./fixtures/lab-crash.ts', import.meta.url));

function namespacesWith(prefix: string): string[] {
  return sh(['ip', 'netns', 'list']).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(prefix));
}

/** Running (a zombie waiting for its reaper counts as dead). */
function alive(pid: number): boolean {
  const r = spawnSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' });
  const stat = r.stdout.trim();
  return stat !== '' && !stat.startsWith('Z');
}

t.test('namespaces, veth, exec, processes, destroy', { skip }, async (t) => {
  const lab = Lab.create('rt-labt');
  t.teardown(() => lab.destroy());
  lab.addNamespace('a');
  lab.addNamespace('b');
  lab.addVeth({ ns: 'a', ifname: 'va', addr: '10.98.0.1/24' }, { ns: 'b', ifname: 'vb', addr: '10.98.0.2/24' });
  t.same(namespacesWith('rt-labt-').sort(), ['rt-labt-a', 'rt-labt-b'], 'two namespaces with the prefix');
  t.match(lab.execSync('a', ['ip', '-br', 'addr', 'show', 'va']).stdout, /10\.98\.0\.1\/24/, 'address configured');
  t.ok(await ping(lab, 'a', '10.98.0.2', { count: 1 }), 'a pings b over the veth');
  const r = await lab.exec('b', ['sh', '-c', 'echo out; echo err >&2; exit 3']);
  t.same([r.code, r.stdout.trim(), r.stderr.trim()], [3, 'out', 'err'], 'exec returns code and output');
  t.throws(() => lab.execSync('a', ['false']), { name: 'LabCommandError' }, 'execSync throws on failure');
  const p = lab.spawn('a', ['sleep', '30']);
  t.ok(p.running, 'long process running');
  await lab.destroy();
  t.notOk(p.running, 'stopped by destroy');
  t.same(namespacesWith('rt-labt-'), [], 'namespaces deleted');
});

t.test('NAT namespace masquerades gwA', { skip }, async (t) => {
  const lab = Lab.create('rt-labn');
  t.teardown(() => lab.destroy());
  const topo = buildSiteToSite(lab, { nat: true });
  // a UDP datagram from gwA to gwB arrives with the NAT's outside address as source
  const rx = lab.spawn('gwB', ['timeout', '10', 'socat', '-u', `UDP-RECVFROM:7000,bind=${topo.addr.gwBWan}`, 'SYSTEM:echo from $SOCAT_PEERADDR'], { name: 'rx' });
  await new Promise((r) => setTimeout(r, 300));
  await lab.exec('gwA', ['sh', '-c', `echo hi | socat -u - UDP-SENDTO:${topo.addr.gwBWan}:7000`]);
  await rx.wait();
  t.match(rx.output, new RegExp(`from ${topo.addr.gwAWanSeenByB.replace(/\./g, '\\.')}`), 'source rewritten to the NAT outside address');
  t.notOk(await ping(lab, 'gwB', topo.addr.gwAWan, { count: 1, timeoutSec: 1 }), 'gwB cannot reach gwA directly');
});

for (const how of ['throw', 'exit', 'sigterm']) {
  t.test(`cleanup when the owner dies (${how})`, { skip }, async (t) => {
    const file = await bundleForNode(CRASH);
    t.teardown(() => { Lab.cleanupPrefix('rt-crash'); spawnSync('rm', ['-f', file]); });
    const r = spawnSync(process.execPath, [file, how], { encoding: 'utf8', timeout: 60_000 });
    const m = /ready (\d+)/.exec(r.stdout);
    t.ok(m, `child built its lab (${r.stdout.trim()} ${r.stderr.split('\n')[0] ?? ''})`);
    t.not(r.status, 0, 'child died');
    t.same(namespacesWith('rt-crash-'), [], 'no namespace left');
    if (m) {
      for (let i = 0; i < 20 && alive(Number(m[1])); i++) await new Promise((res) => setTimeout(res, 50));
      t.notOk(alive(Number(m[1])), 'process inside was killed');
    }
  });
}
