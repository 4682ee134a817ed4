// The XFRM backend against this machine's real kernel, inside a network namespace the test
// creates (and deletes, also on failure). Every packet stays inside that namespace.
// Root only. The backend runs in a child process started with `ip netns exec`, so its
// netlink socket belongs to the namespace; the test drives it over a JSON-line pipe and
// checks the kernel's view with `ip -n NS xfrm ...`.
import t from 'tap';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { replacer, reviver } from './fixtures/json-wire.js';
import type { AcquireEvent, ExpireEvent, PolicySpec, SaSpec } from '../../firmware/kernel/kernel-ipsec.js';

const PREFIX = 'rampart-xfrm-';
const NS = `${PREFIX}${process.pid}`;
const repo = fileURLToPath(new URL('../../', import.meta.url));

function ip(...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync('ip', args, { encoding: 'utf8', timeout: 60_000 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}
function must(...args: string[]): string {
  const r = ip(...args);
  if (!r.ok) throw new Error(`ip ${args.join(' ')}: ${r.out}`);
  return r.out;
}

interface Answer { id?: number; ok?: boolean; result?: unknown; error?: { code?: string; message: string; name: string }; event?: string; data?: unknown }

/** Talks to fixtures/xfrm-child.ts running inside the namespace. */
class Child {
  private nextId = 1;
  private readonly waiting = new Map<number, (a: Answer) => void>();
  readonly events: Answer[] = [];
  private eventWaiters: Array<() => void> = [];
  readonly stderr: string[] = [];
  readonly ready: Promise<void>;

  constructor(readonly proc: ChildProcessWithoutNullStreams) {
    let onReady: () => void = () => {};
    this.ready = new Promise((res) => { onReady = res; });
    createInterface({ input: proc.stdout }).on('line', (line) => {
      const a = JSON.parse(line, reviver) as Answer;
      if (a.event === 'ready') { onReady(); return; }
      if (a.event) {
        this.events.push(a);
        for (const w of this.eventWaiters.splice(0)) w();
        return;
      }
      const w = this.waiting.get(a.id!);
      this.waiting.delete(a.id!);
      w?.(a);
    });
    proc.stderr.on('data', (d: Buffer) => this.stderr.push(d.toString()));
  }

  call(op: string, ...args: unknown[]): Promise<Answer> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${op}: no answer in 15 s (child stderr: ${this.stderr.join('')})`));
      }, 15_000);
      this.waiting.set(id, (a) => { clearTimeout(timer); resolve(a); });
      this.proc.stdin.write(JSON.stringify({ id, op, args }, replacer) + '\n');
    });
  }

  async ok<T>(op: string, ...args: unknown[]): Promise<T> {
    const a = await this.call(op, ...args);
    if (!a.ok) throw new Error(`${op} failed: ${a.error?.code} ${a.error?.message}`);
    return a.result as T;
  }

  /** Waits (bounded) for an event matching `pred`. */
  async event<T>(name: string, pred: (d: T) => boolean, timeoutMs: number): Promise<T | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find((e) => e.event === name && pred(e.data as T));
      if (hit) return hit.data as T;
      const left = deadline - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((res) => {
        const timer = setTimeout(res, left);
        this.eventWaiters.push(() => { clearTimeout(timer); res(); });
      });
    }
  }
}

if (process.getuid?.() !== 0) {
  t.test('XFRM backend in a network namespace', { skip: 'needs root: creates a network namespace and talks NETLINK_XFRM in it' }, async () => {});
} else if (!ip('-V').ok) {
  t.test('XFRM backend in a network namespace', { skip: 'needs iproute2 (`ip`)' }, async () => {});
} else {
  // Leftovers of an earlier, killed run of this file.
  for (const line of ip('netns', 'list').out.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    if (name.startsWith(PREFIX)) ip('netns', 'del', name);
  }
  const work = mkdtempSync(join(tmpdir(), PREFIX));
  let child: Child | undefined;
  t.teardown(() => {
    child?.proc.stdin.end();
    child?.proc.kill('SIGKILL');
    ip('netns', 'del', NS);
    rmSync(work, { recursive: true, force: true });
  });

  must('netns', 'add', NS);
  must('-n', NS, 'link', 'set', 'lo', 'up');
  // A veth pair whose both ends are in the namespace: packets to 10.2.0.0/24 leave v0
  // and arrive on v1, never outside.
  must('-n', NS, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
  must('-n', NS, 'addr', 'add', '10.1.0.1/24', 'dev', 'v0');
  must('-n', NS, 'link', 'set', 'v0', 'up');
  must('-n', NS, 'link', 'set', 'v1', 'up');
  must('-n', NS, 'route', 'add', '10.2.0.0/24', 'dev', 'v0');
  // Larval SAs (ALLOCSPI, ACQUIRE) expire after 2 s in this namespace instead of 30 s.
  spawnSync('ip', ['netns', 'exec', NS, 'sysctl', '-q', '-w', 'net.core.xfrm_acq_expires=2']);

  const bundle = join(work, 'xfrm-child.cjs');
  buildSync({
    entryPoints: [join(repo, 'test/kernel/fixtures/xfrm-child.ts')], bundle: true, platform: 'node', format: 'cjs',
    target: 'node20', external: ['netlink'], outfile: bundle, logLevel: 'silent',
  });
  const proc = spawn('ip', ['netns', 'exec', NS, process.execPath, bundle], {
    cwd: repo, env: { ...process.env, NODE_PATH: join(repo, 'node_modules'), NODE_OPTIONS: '' },
  });
  child = new Child(proc);
  const c = child;

  t.test('detection in the namespace: XFRM without ESP -> userspace, nothing left behind', async (t) => {
    await c.ready;
    const d = await c.ok<{ backend: string; esp: boolean; reason: string; probes: Array<{ result: string }>; hints: { xfrmStat: boolean } }>('detect');
    t.equal(d.backend, 'userspace', d.reason);
    t.equal(d.esp, false);
    t.equal(d.probes[0]?.result, 'EPROTONOSUPPORT');
    t.equal(d.hints.xfrmStat, true, '/proc/net/xfrm_stat exists');
    t.equal(must('-n', NS, 'xfrm', 'state').trim(), '', 'no probe SA left');
  });

  t.test('SAs: this kernel refuses ESP and AH with EPROTONOSUPPORT', async (t) => {
    await c.ok('open');
    const sa: SaSpec = {
      src: '10.1.0.1', dst: '10.2.0.2', spi: 0x1001, protocol: 'esp', mode: 'tunnel', reqid: 7, direction: 'out',
      encryption: { transform: 'esp-aes', key: new Uint8Array(16).fill(1) },
      integrity: { transform: 'esp-sha256-hmac', key: new Uint8Array(32).fill(2) },
      replayWindow: 64, esn: false, lifetime: { softSec: 3300, hardSec: 3600 },
    };
    const a = await c.call('addSa', sa);
    t.equal(a.ok, false);
    t.equal(a.error?.code, 'EPROTONOSUPPORT', a.error?.message ?? 'no error');
    t.notMatch(a.error?.message ?? '', /0101010101/, 'no key bytes in the error');
    const ah = await c.call('addSa', { ...sa, protocol: 'ah', spi: 0x1002, encryption: undefined, integrity: { transform: 'ah-sha-hmac', key: new Uint8Array(20) } });
    t.equal(ah.error?.code, 'EPROTONOSUPPORT', 'AH too');
    t.equal(must('-n', NS, 'xfrm', 'state').trim(), '');
  });

  const out: PolicySpec = {
    selector: { src: '10.1.0.0/24', dst: '10.2.0.0/24' }, direction: 'out', action: 'protect', priority: 100,
    templates: [{ protocol: 'esp', mode: 'tunnel', reqid: 7, src: '192.0.2.1', dst: '198.51.100.2' }],
  };
  let outIndex = 0;

  t.test('policies installed, read back with ip xfrm policy, deleted', async (t) => {
    outIndex = await c.ok<number>('addPolicy', out);
    t.ok(outIndex > 0 && (outIndex & 7) === 1, `kernel index ${outIndex} encodes dir out`);
    const bundlePolicy: PolicySpec = {
      selector: { src: '10.2.0.0/24', dst: '10.1.0.0/24', proto: 6, srcPort: 443 }, direction: 'in', action: 'protect', priority: 200,
      templates: [
        { protocol: 'comp', mode: 'tunnel', reqid: 7, src: '198.51.100.2', dst: '192.0.2.1', optional: true },
        { protocol: 'esp', mode: 'transport', reqid: 7 },
      ],
    };
    await c.ok('addPolicy', bundlePolicy);
    await c.ok('addPolicy', { selector: { src: '10.9.0.0/16', dst: '0.0.0.0/0' }, direction: 'fwd', action: 'drop', priority: 5, templates: [] });
    await c.ok('addPolicy', { selector: { src: '10.3.0.0/24', dst: '10.4.0.5' }, direction: 'out', action: 'bypass', priority: 1, templates: [] });
    await c.ok('addPolicy', {
      selector: { src: '2001:db8:1::/48', dst: '2001:db8:2::/48' }, direction: 'out', action: 'protect', priority: 50,
      templates: [{ protocol: 'esp', mode: 'tunnel', reqid: 9, src: '2001:db8::1', dst: '2001:db8::2' }],
      mark: { value: 7, mask: 0xffff },
    });

    const text = must('-s', '-n', NS, 'xfrm', 'policy');
    t.match(text, /src 10\.1\.0\.0\/24 dst 10\.2\.0\.0\/24[^\n]*\n\s+dir out action allow index (\d+) priority 100/);
    t.match(text, new RegExp(`dir out action allow index ${outIndex} priority 100`), 'index returned by addPolicy');
    t.match(text, /tmpl src 192\.0\.2\.1 dst 198\.51\.100\.2\s+proto esp spi 0x00000000\(0\) reqid 7\(0x00000007\) mode tunnel/);
    t.match(text, /src 10\.2\.0\.0\/24 dst 10\.1\.0\.0\/24 proto tcp sport 443[^\n]*\n\s+dir in action allow index \d+ priority 200/);
    t.match(text, /proto comp spi 0x00000000\(0\) reqid 7\(0x00000007\) mode tunnel\n\s+level use/);
    t.match(text, /proto esp spi 0x00000000\(0\) reqid 7\(0x00000007\) mode transport/);
    t.match(text, /src 10\.9\.0\.0\/16 dst 0\.0\.0\.0\/0[^\n]*\n\s+dir fwd action block index \d+ priority 5/);
    t.match(text, /src 10\.3\.0\.0\/24 dst 10\.4\.0\.5\/32[^\n]*\n\s+dir out action allow index \d+ priority 1 /);
    t.match(text, /src 2001:db8:1::\/48 dst 2001:db8:2::\/48[^\n]*\n\s+dir out action allow index \d+ priority 50/);
    t.match(text, /mark 0x7\/0xffff/);

    const dumped = await c.ok<unknown[]>('dumpPolicies');
    t.equal(dumped.length, 5, 'our own dump sees the same five');
    const dup = await c.call('addPolicy', out);
    t.equal(dup.error?.code, 'EEXIST');
    t.equal(await c.ok<number>('addPolicy', { ...out, replace: true, priority: 90 }), outIndex, 'replace keeps the index');
    t.match(must('-n', NS, 'xfrm', 'policy'), /dir out priority 90/);

    await c.ok('deletePolicy', { selector: bundlePolicy.selector, direction: 'in' });
    t.notMatch(must('-n', NS, 'xfrm', 'policy'), /proto tcp sport 443/, 'deleted');
    const again = await c.call('deletePolicy', { selector: bundlePolicy.selector, direction: 'in' });
    t.equal(again.error?.code, 'ENOENT');
    t.equal((await c.ok<unknown[]>('listPolicies')).length, 4);
  });

  t.test('ACQUIRE: a packet inside the namespace hits the out policy', async (t) => {
    await c.ok('sendUdp', { src: '10.1.0.1', dst: '10.2.0.5', port: 9 });
    const acq = await c.event<AcquireEvent>('acquire', (e) => e.packetSelector.dst === '10.2.0.5/32', 10_000);
    t.ok(acq, 'the kernel sent XFRM_MSG_ACQUIRE');
    if (!acq) return;
    t.equal(acq.policyIndex, outIndex);
    t.equal(acq.direction, 'out');
    t.same(acq.policySelector, { src: '10.1.0.0/24', dst: '10.2.0.0/24' });
    t.equal(acq.packetSelector.src, '10.1.0.1/32');
    t.equal(acq.packetSelector.proto, 17);
    t.equal(acq.packetSelector.dstPort, 9);
    t.same([acq.src, acq.dst, acq.protocol, acq.reqid], ['192.0.2.1', '198.51.100.2', 'esp', 7]);
    t.ok(acq.seq > 0);
    t.match(must('-n', NS, 'xfrm', 'state'), /src 192\.0\.2\.1 dst 198\.51\.100\.2\s+proto esp spi 0x00000000 reqid 7 mode tunnel/, 'larval SA');
  });

  t.test('getSpi reserves an SPI; its larval SA expires with a hard EXPIRE', async (t) => {
    const spi = await c.ok<number>('getSpi', { src: '198.51.100.2', dst: '10.1.0.1', protocol: 'esp', reqid: 11, min: 0x1000, max: 0x1fff });
    t.ok(spi >= 0x1000 && spi <= 0x1fff, `SPI 0x${spi.toString(16)} in range`);
    const hexSpi = `0x${spi.toString(16).padStart(8, '0')}`;
    t.match(must('-n', NS, 'xfrm', 'state'), new RegExp(`src 198\\.51\\.100\\.2 dst 10\\.1\\.0\\.1\\s+proto esp spi ${hexSpi} reqid 11`));
    const exp = await c.event<ExpireEvent>('expire', (e) => e.id.spi === spi, 15_000);
    t.ok(exp, 'the kernel sent XFRM_MSG_EXPIRE');
    if (exp) {
      t.equal(exp.hard, true);
      t.same([exp.id.dst, exp.id.src, exp.id.protocol, exp.reqid], ['10.1.0.1', '198.51.100.2', 'esp', 11]);
    }
    t.notMatch(must('-n', NS, 'xfrm', 'state'), new RegExp(hexSpi), 'gone from the kernel');
    const cpi = await c.ok<number>('getSpi', { src: '198.51.100.2', dst: '10.1.0.1', protocol: 'comp', reqid: 11 });
    t.ok(cpi >= 0x100 && cpi <= 0xffff, `IPComp CPI 0x${cpi.toString(16)} is 16 bits`);
    t.match(must('-n', NS, 'xfrm', 'state'), new RegExp(`proto comp spi 0x${cpi.toString(16).padStart(8, '0')} reqid 11`));
  });

  t.test('flushPolicies removes ours only', async (t) => {
    must('-n', NS, 'xfrm', 'policy', 'add', 'src', '10.50.0.0/16', 'dst', '10.60.0.0/16', 'dir', 'out', 'action', 'block');
    await c.ok('flushPolicies');
    const left = must('-n', NS, 'xfrm', 'policy');
    t.match(left, /src 10\.50\.0\.0\/16 dst 10\.60\.0\.0\/16/, 'foreign policy kept');
    t.equal(left.match(/^src /gm)?.length, 1, 'only that one');
    t.same(await c.ok('listPolicies'), []);
    await c.ok('flushSas');
    await c.ok('close');
  });
}
