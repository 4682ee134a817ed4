// `set peer` failover and "last heard from" (the guide's load sharing among crypto map
// peers): gwA's crypto map lists a dead peer first (172.16.0.9, nobody there) and gwB second.
// The first traffic starts IKE to the dead peer; after the retransmissions give up (~15 s)
// the next peer is tried and the tunnel comes up. After `clear crypto session`, new traffic
// goes straight to the peer last heard from (gwB), without waiting for the dead one again.
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { gatewayConfig, sleep, rampartPairLab } from './lab.js';

const skip = !isRoot() ? 'needs root: network namespaces' : !hasCommand('ip') ? 'needs iproute2' : undefined;
const PSK = 'failover-psk-42';

async function pingUntil(lab: Lab, ms: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (await ping(lab, 'hostA', '10.2.0.2', { count: 1, timeoutSec: 1 })) return Date.now() - t0;
    await sleep(200);
  }
  return -1;
}

t.test('set peer failover, then the peer last heard from', { skip, timeout: 150_000 }, async (t) => {
  const { lab, gwA, gwB } = await rampartPairLab(t, 'rk1o');
  const common = { psk: PSK, policy: ['encryption aes 256', 'hash sha', 'group 2'], transform: 'esp-aes 256 esp-sha-hmac' };
  t.notMatch(await gwA.configure(gatewayConfig({ ...common, hostname: 'gwA', wan: '172.16.0.1', lan: '10.1.0.1', lanNet: '10.1.0.0', remoteLanNet: '10.2.0.0', peers: ['172.16.0.9', '172.16.0.2'] })), /\[.*\] %/);
  t.notMatch(await gwB.configure(gatewayConfig({ ...common, hostname: 'gwB', wan: '172.16.0.2', lan: '10.2.0.1', lanNet: '10.2.0.0', remoteLanNet: '10.1.0.0', peers: ['172.16.0.1'] })), /\[.*\] %/);
  await sleep(800);

  const first = await pingUntil(lab, 45_000);
  t.ok(first > 8000, `the tunnel came up only after the first peer was given up (${first} ms)`);
  t.match(await gwA.exec('show crypto isakmp sa'), /172\.16\.0\.2\s+172\.16\.0\.1\s+QM_IDLE/, 'up with the second peer');
  await gwA.exec('clear crypto session');
  await sleep(500);
  const again = await pingUntil(lab, 20_000);
  t.ok(again >= 0 && again < 6000, `after clear, traffic goes to the peer last heard from at once (${again} ms)`);
  t.notMatch(await gwA.exec('show crypto isakmp sa'), /172\.16\.0\.9/, 'no negotiation with the dead peer');
});
