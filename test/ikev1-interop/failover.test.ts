// `set peer` failover and "last heard from" (the guide's load sharing among crypto map
// peers): gwA's crypto map lists a dead peer first (172.16.0.9, nobody there) and gwB second.
// The first traffic starts IKE to the dead peer; after the retransmissions give up (~15 s)
// the next peer is tried and the tunnel comes up. After `clear crypto session`, new traffic
// goes straight to the peer last heard from (gwB), without waiting for the dead one again.
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { gatewayConfig, sleep, rampartPairLab } from './lab.js';
import type { RampartGw } from './lab.js';

const skip = !isRoot() ? 'needs root: network namespaces' : !hasCommand('ip') ? 'needs iproute2' : undefined;
const PSK = 'failover-psk-42';

/**
 * Pings hostA -> hostB until one answers (bounded), meanwhile watching gwA's ISAKMP SAs:
 * returns how long it took and whether gwA negotiated with `peer` on the way.
 */
async function pingUntil(lab: Lab, gw: RampartGw, ms: number, peer: string): Promise<{ ms: number; triedPeer: boolean }> {
  const t0 = Date.now();
  let triedPeer = false;
  const seen = (out: string) => { if (out.includes(peer)) triedPeer = true; };
  while (Date.now() - t0 < ms) {
    seen(await gw.exec('show crypto isakmp sa'));
    if (await ping(lab, 'hostA', '10.2.0.2', { count: 1, timeoutSec: 1 })) return { ms: Date.now() - t0, triedPeer };
    await sleep(200);
  }
  return { ms: -1, triedPeer };
}

t.test('set peer failover, then the peer last heard from', { skip, timeout: 300_000 }, async (t) => {
  const { lab, gwA, gwB } = await rampartPairLab(t, 'rk1o');
  const common = { psk: PSK, policy: ['encryption aes 256', 'hash sha', 'group 2'], transform: 'esp-aes 256 esp-sha-hmac' };
  t.notMatch(await gwA.configure(gatewayConfig({ ...common, hostname: 'gwA', wan: '172.16.0.1', lan: '10.1.0.1', lanNet: '10.1.0.0', remoteLanNet: '10.2.0.0', peers: ['172.16.0.9', '172.16.0.2'] })), /\[.*\] %/);
  t.notMatch(await gwB.configure(gatewayConfig({ ...common, hostname: 'gwB', wan: '172.16.0.2', lan: '10.2.0.1', lanNet: '10.2.0.0', remoteLanNet: '10.1.0.0', peers: ['172.16.0.1'] })), /\[.*\] %/);

  const first = await pingUntil(lab, gwA, 120_000, '172.16.0.9');
  t.ok(first.ms >= 0, `the tunnel came up (${first.ms} ms)`);
  t.ok(first.triedPeer, 'the first `set peer` (172.16.0.9, dead) was tried first');
  t.ok(first.ms > 8000, `and given up before the second was tried (${first.ms} ms)`);
  t.match(await gwA.exec('show crypto isakmp sa'), /172\.16\.0\.2\s+172\.16\.0\.1\s+QM_IDLE/, 'up with the second peer');
  await gwA.exec('clear crypto session');
  const again = await pingUntil(lab, gwA, 120_000, '172.16.0.9');
  t.ok(again.ms >= 0, `after clear, the tunnel came back (${again.ms} ms)`);
  t.notOk(again.triedPeer, 'straight to the peer last heard from: no negotiation with the dead peer');
});
