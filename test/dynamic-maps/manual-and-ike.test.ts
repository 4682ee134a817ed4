// Issue 16 item 4: manual and IKE entries in one crypto map set at once (guide: a crypto map
// set may hold ipsec-manual and ipsec-isakmp entries). Two Rampart boxes
// (test/dataplane-e2e/rampart-pair.ts); `mymap 10 ipsec-manual` protects the lower halves of the
// LANs (10.1.0.0/25 <-> 10.2.0.0/25) with fixed keys, `mymap 20 ipsec-isakmp` the upper halves
// (10.1.0.128/25 <-> 10.2.0.128/25) through IKEv1. Each flow gets its own SAs; both pass at once.
import t from 'tap';
import { isRoot } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { waitUntil } from '../ikev2-interop/harness.js';
import { ADDR, manualConfig, startPair } from '../dataplane-e2e/rampart-pair.js';

const skip = !isRoot() ? 'needs root: network namespaces, TUN, raw sockets' : undefined;
const bad = /% (Invalid|Incomplete|Ambiguous|Unknown)/;
const PSK = 'rampart-manual-ike-psk';

function config(side: 'A' | 'B'): string[] {
  const a = side === 'A';
  const [lan, remote] = a ? ['10.1.0', '10.2.0'] : ['10.2.0', '10.1.0'];
  return [
    // the manual entry keeps the lower halves only
    ...manualConfig(side).map((l) => (l.startsWith('access-list 101 ') ? `access-list 101 permit ip ${lan}.0 0.0.0.127 ${remote}.0 0.0.0.127` : l)),
    'crypto isakmp policy 1', ' encr aes 256', ' hash sha', ' authentication pre-share', ' group 14', 'exit',
    `crypto isakmp key ${PSK} address ${a ? ADDR.gwBWan : ADDR.gwAWan}`,
    `access-list 102 permit ip ${lan}.128 0.0.0.127 ${remote}.128 0.0.0.127`,
    'crypto map mymap 20 ipsec-isakmp', ` set peer ${a ? ADDR.gwBWan : ADDR.gwAWan}`, ' set transform-set ts', ' match address 102', 'exit',
  ];
}

t.test('one crypto map set with an ipsec-manual and an ipsec-isakmp entry: both carry their own traffic', { skip, timeout: 300_000 }, async (t) => {
  const pair = await startPair('mixmap');
  t.teardown(() => pair.close());
  const { lab, gwA, gwB } = pair;
  t.notMatch(await gwA.configure(config('A')), bad, 'gwA takes both entries');
  t.notMatch(await gwB.configure(config('B')), bad, 'gwB too');
  lab.execSync('hostA', ['ip', 'addr', 'add', '10.1.0.130/24', 'dev', 'eth0']);
  lab.execSync('hostB', ['ip', 'addr', 'add', '10.2.0.130/24', 'dev', 'eth0']);
  const pingFrom = async (src: string, dst: string) => (await lab.exec('hostA', ['ping', '-n', '-q', '-c', '2', '-i', '0.2', '-W', '2', '-I', src, dst], { timeoutMs: 20_000 })).code === 0;

  t.ok(await ping(lab, 'hostA', ADDR.hostB, { count: 3 }), 'lower halves: through the manual SAs (no IKE needed)');
  t.notMatch(await gwA.exec('show crypto isakmp sa'), /QM_IDLE/, 'no ISAKMP SA for it');
  t.ok(await waitUntil(() => pingFrom('10.1.0.130', '10.2.0.130'), 30_000, 500), 'upper halves: IKEv1 brings the isakmp entry up');
  t.match(await gwA.exec('show crypto isakmp sa'), /QM_IDLE/, 'now an ISAKMP SA exists');
  t.ok(await ping(lab, 'hostA', ADDR.hostB, { count: 2 }), 'the manual flow still passes');
  t.ok(await pingFrom('10.1.0.130', '10.2.0.130'), 'and the IKE flow passes again');

  const sa = await gwA.exec('show crypto ipsec sa');
  const flows = sa.split(/(?=   protected vrf:)/).slice(1);
  const manual = flows.find((f) => /local  ident \(addr\/mask\/prot\/port\): \(10\.1\.0\.0\/255\.255\.255\.128/.test(f));
  const ike = flows.find((f) => /local  ident \(addr\/mask\/prot\/port\): \(10\.1\.0\.128\/255\.255\.255\.128/.test(f));
  t.ok(manual, 'show crypto ipsec sa: the manual flow (lower halves)');
  t.ok(ike, 'and the IKE flow (upper halves)');
  t.match(manual ?? '', /spi: 0x1001\(4097\)/, 'the manual flow uses the configured SPI');
  t.notMatch(ike ?? '', /spi: 0x1001\(4097\)/, 'the IKE flow has negotiated SPIs');
  const encaps = (f: string | undefined) => Number(/#pkts encaps: (\d+)/.exec(f ?? '')?.[1] ?? 0);
  t.ok(encaps(manual) >= 5 && encaps(ike) >= 3, `each flow counted its own packets (manual ${encaps(manual)}, IKE ${encaps(ike)})`);
  t.match(await gwA.exec('show crypto map'), /Crypto Map "mymap" 10 ipsec-manual[\s\S]*Crypto Map "mymap" 20 ipsec-isakmp/, 'show crypto map lists both entries');
});
