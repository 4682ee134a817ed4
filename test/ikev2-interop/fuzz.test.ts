// Bad input against the RUNNING daemon (root only): a Rampart daemon in a namespace, an IKE
// SA established with it by our load tool, then a bounded, seeded stream of malformed
// datagrams to its UDP 500 and 4500 sockets (truncated and lying headers, bad versions and
// exchange types, broken payload chains and lengths, unknown critical payloads, SK payloads
// with garbage / bad ICVs on the real SPIs, noise). The daemon must not crash, must keep the
// established SA (a liveness check still gets its answer: message IDs not desynchronised)
// and must keep answering its console. Second test: an IKE_SA_INIT flood from 64 sources
// turns cookies on while a legitimate initiator still connects.
import t from 'tap';
import { join } from 'node:path';
import { Lab, isRoot, hasCommand, projectRoot } from '../lib/netns.js';
import { buildPeerPair } from '../lib/peer-pair.js';
import { rampartIkev2Config, startRampart, waitUntil, type RampartBox } from './harness.js';
import type { LoadToolConfig } from './load-tool.js';

const skip = !isRoot() ? 'needs root: network namespaces' : !hasCommand('ip') ? 'needs iproute2' : undefined;
const PSK = 'rampart-ikev2-fuzz-psk';

const base: Omit<LoadToolConfig, 'mode' | 'durationMs'> = {
  local: '10.81.1.2', remote: '10.81.1.1', psk: PSK,
  ike: [{ encryption: ['aes-cbc-256'], integrity: ['sha256'], dhGroups: [14] }], esp: [{ encryption: ['aes-gcm-256'] }],
  localCidr: '192.168.41.0/24', remoteCidr: '192.168.42.0/24',
};

async function setup(t: { teardown(fn: () => unknown): void }, prefix: string): Promise<{ lab: Lab; box: RampartBox }> {
  const lab = Lab.create(prefix);
  t.teardown(() => lab.destroy());
  buildPeerPair(lab, { local: '10.81.1.1', peer: '10.81.1.2', box: true, names: { peer: 'i', peerIf: 'ir0' } });
  const box = await startRampart(lab, 'r', { 'FastEthernet0/0': 'r0' }); // RAMPART_DEBUG=1: internal errors reach stderr
  t.teardown(() => box.stop());
  await box.configure(rampartIkev2Config({
    iface: 'FastEthernet0/0', address: '10.81.1.1', mask: '255.255.255.0', peer: '10.81.1.2',
    suite: {
      ikeProposal: ['encryption aes-cbc-256', 'integrity sha256', 'group 14'], transformSet: 'esp-gcm 256', psk: PSK,
      acl: ['permit ip 192.168.42.0 0.0.0.255 192.168.41.0 0.0.0.255'],
    },
  }));
  await waitUntil(() => lab.execSync('r', ['ip', '-4', 'addr', 'show', 'dev', 'r0'], { allowFail: true }).stdout.includes('10.81.1.1'), 5000);
  return { lab, box };
}

function results(out: string, key: string): Record<string, unknown> | undefined {
  for (const l of out.split('\n').reverse()) {
    if (!l.startsWith('{')) continue;
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      if (o.result === key) return o;
    } catch { /* partial */ }
  }
  return undefined;
}

async function tool(lab: Lab, cfg: LoadToolConfig, ms: number): Promise<{ out: string; result: Record<string, unknown> | undefined }> {
  const p = await lab.spawnNode('i', join(projectRoot(), 'test/ikev2-interop/load-tool.ts'), [JSON.stringify(cfg)], { name: `tool-${cfg.mode}` });
  await waitUntil(() => !p.running, ms, 100);
  if (p.running) await p.stop();
  return { out: p.output, result: results(p.output, cfg.mode) };
}

t.test('malformed IKEv2 input to the running daemon: no crash, the established SA keeps working', { skip, timeout: 300_000 }, async (t) => {
  const { lab, box } = await setup(t, 'ri2fuzz');
  const seeds = [1, 7, 4242];
  for (const seed of seeds) {
    const { out, result } = await tool(lab, { ...base, mode: 'fuzz', count: 1500, durationMs: 10_000, seed }, 40_000);
    t.ok(result, `seed ${seed}: the fuzz run finished`);
    if (!result) { t.comment(out.slice(-2000)); continue; }
    t.ok(Number(result.sent) >= 1000, `seed ${seed}: ${String(result.sent)} malformed datagrams sent`);
    t.equal(result.livenessStarted, true, `seed ${seed}: liveness check sent on the established SA`);
    t.equal(result.alive, true, `seed ${seed}: the daemon answered it after the garbage (message IDs intact)`);
    t.ok(box.proc.running, `seed ${seed}: daemon still running`);
    const sa = await box.run('show crypto ikev2 sa');
    t.match(sa, /10\.81\.1\.1\/500 +10\.81\.1\.2\/500 +none\/none +READY/, `seed ${seed}: its IKE SA is still READY`);
    await box.run('clear crypto ikev2 sa');
  }
  const counters = JSON.parse(await box.run('show crypto ikev2 debug | json')) as { counters: Record<string, number> };
  t.ok(counters.counters.decodeErrors + counters.counters.dropped > 1000, `the engine counted the garbage (${JSON.stringify(counters.counters)})`);
  t.match(await box.run('show version'), /Rampart|Version/i, 'console still answers');
  t.notMatch(box.proc.output, /internal error|TypeError|RangeError/, 'no internal errors logged');
});

t.test('IKE_SA_INIT flood from 64 sources: cookies, and a legitimate initiator still connects', { skip, timeout: 300_000 }, async (t) => {
  const { lab, box } = await setup(t, 'ri2flood');
  const sources: string[] = [];
  for (let k = 1; k <= 64; k++) {
    lab.execSync('i', ['ip', 'addr', 'add', `10.81.3.${k}/32`, 'dev', 'ir0']);
    sources.push(`10.81.3.${k}`);
  }
  lab.execSync('r', ['ip', 'route', 'replace', '10.81.3.0/24', 'via', '10.81.1.2']);
  const flood = tool(lab, { ...base, mode: 'flood', local: '10.81.1.2', sources, count: 12_000, durationMs: 5000 }, 30_000);
  await new Promise((r) => setTimeout(r, 800));
  const legit = await tool(lab, { ...base, mode: 'setup', concurrency: 2, durationMs: 3500 }, 30_000);
  const f = await flood;
  t.ok(f.result, 'flood ran');
  t.comment(`flood ${JSON.stringify(f.result)}; legit ${JSON.stringify(legit.result)}`);
  t.ok(Number(f.result?.cookies ?? 0) > 100, `the daemon answered the flood with COOKIEs (${String(f.result?.cookies)})`);
  t.ok(Number(legit.result?.setups ?? 0) >= 1, `the legitimate initiator still connected (${String(legit.result?.setups)} setups during the flood)`);
  t.ok(box.proc.running, 'daemon still running');
  const c = JSON.parse(await box.run('show crypto ikev2 debug | json')) as { counters: Record<string, number> };
  t.ok(c.counters.halfOpen <= 60, `half-open SAs stay bounded (${c.counters.halfOpen})`);
});
