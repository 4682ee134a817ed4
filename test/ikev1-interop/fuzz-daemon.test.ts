// Bad input against a RUNNING daemon: two Rampart boxes with an established IKEv1 tunnel;
// from a third namespace a fuzzer (fuzz-tool.ts) throws truncated, misordered, oversized,
// bit-flipped, random and valid-but-abandoned ISAKMP messages at gwB's UDP 500/4500.
// Afterwards: gwB's daemon still runs, the tunnel still carries pings (the established SAs
// keep working) and gwB's half-open ISAKMP state stays within the limit (256).
import t from 'tap';
import { join } from 'node:path';
import { isRoot, hasCommand, projectRoot } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { gatewayConfig, sleep, rampartPairLab } from './lab.js';

const skip = !isRoot() ? 'needs root: network namespaces' : !hasCommand('ip') ? 'needs iproute2' : undefined;
const PSK = 'fuzz-psk-1234';
const COUNT = 20_000;
const MAX_MS = 20_000;
const HALF_OPEN_LIMIT = 256;

t.test('fuzz a running IKEv1 responder', { skip, timeout: 300_000 }, async (t) => {
  const { lab, gwA, gwB } = await rampartPairLab(t, 'rk1f', {
    extend: (l) => { // the fuzzer's namespace, behind gwB
      l.addNamespace('fz');
      l.addVeth({ ns: 'fz', ifname: 'fz0', addr: '192.168.77.2/24' }, { ns: 'gwB', ifname: 'fz0', addr: '192.168.77.1/24' });
      l.addRoute('fz', '172.16.0.0/24', { gw: '192.168.77.1' });
    },
  });
  const common = { psk: PSK, policy: ['encryption aes 256', 'hash sha', 'group 2'], transform: 'esp-aes 256 esp-sha-hmac' };
  await gwA.configure(gatewayConfig({ ...common, hostname: 'gwA', wan: '172.16.0.1', lan: '10.1.0.1', lanNet: '10.1.0.0', remoteLanNet: '10.2.0.0', peers: ['172.16.0.2'] }));
  // gwB also has a key for the fuzzer's address, so valid first messages get answered
  await gwB.configure([...gatewayConfig({ ...common, hostname: 'gwB', wan: '172.16.0.2', lan: '10.2.0.1', lanNet: '10.2.0.0', remoteLanNet: '10.1.0.0', peers: ['172.16.0.1'] }),
    `crypto isakmp key ${PSK} address 192.168.77.2`]);
  await ping(lab, 'hostA', '10.2.0.2', { count: 2, timeoutSec: 1 });
  t.ok(await ping(lab, 'hostA', '10.2.0.2', { count: 5, timeoutSec: 3 }), 'tunnel up before the fuzz');
  const spisBefore = (await gwB.exec('show crypto ipsec sa')).match(/spi: 0x[0-9A-F]+/gi) ?? [];

  const fz = await lab.spawnNode('fz', join(projectRoot(), 'test/ikev1-interop/fuzz-tool.ts'),
    [JSON.stringify({ local: '192.168.77.2', target: '172.16.0.2', count: COUNT, maxMs: MAX_MS, seed: 0x5eed1, psk: PSK })], { name: 'ikev1-fuzz' });
  // a ping runs during the fuzz
  const watch = lab.spawn('hostA', ['ping', '-n', '-i', '0.2', '-c', '60', '-W', '1', '10.2.0.2'], { name: 'ping-fuzz' });
  const end = Date.now() + MAX_MS + 20_000;
  while ((fz.running || watch.running) && Date.now() < end) await sleep(200);
  const line = fz.output.split('\n').find((l) => l.startsWith('{"result"'));
  t.ok(line?.includes('"fuzz"'), `fuzzer ran: ${line ?? fz.output.slice(-500)}`);
  t.ok(gwB.proc.running, 'gwB daemon still running');
  const m = /(\d+) packets transmitted, (\d+) received/.exec(watch.output);
  t.ok(m && Number(m[2]) >= Number(m[1]) - 1, `ping during the fuzz: ${m?.[0] ?? watch.output.slice(-200)}`);
  const isa = await gwB.exec('show crypto isakmp sa');
  const halfOpen = (isa.match(/MM_|AG_/g) ?? []).length;
  t.ok(halfOpen <= HALF_OPEN_LIMIT, `half-open ISAKMP SAs on gwB: ${halfOpen} (limit ${HALF_OPEN_LIMIT})`);
  t.match(isa, /172\.16\.0\.2\s+172\.16\.0\.1\s+QM_IDLE\s+\d+ ACTIVE/, 'the established ISAKMP SA survived');
  const spisAfter = (await gwB.exec('show crypto ipsec sa')).match(/spi: 0x[0-9A-F]+/gi) ?? [];
  t.same(spisAfter, spisBefore, 'the established IPsec SAs are the same ones');
  t.ok(await ping(lab, 'hostA', '10.2.0.2', { count: 3 }), 'tunnel still works after the fuzz');
});
