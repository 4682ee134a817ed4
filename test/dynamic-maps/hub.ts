// The dynamic-map hub the tests in this folder share: a Rampart daemon in the `hub`
// namespace of test/lib/hub-spokes.ts, configured through its CLI, and strongSwan road
// warriors for the spokes.
import { Lab } from '../lib/netns.js';
import { StrongswanPeer, type SwanConnection } from '../lib/strongswan.js';
import type { Spoke } from '../lib/hub-spokes.js';
import { startRampart, type RampartGw } from '../ikev1-interop/lab.js';
import { waitUntil } from '../lib/wait.js';
import { ikev2PskBlock } from '../lib/ios-config.js';

export const PSK_V1 = 'dyn-main-psk-0815';
export const PSK_AGG = 'dyn-aggr-psk-4711';
export const PSK_V2 = 'dyn-ikev2-psk-2323';
const AGG_FQDN = 'rw2.example.net';

/** The hub: one dynamic map, entry 10 for IKEv1 peers, entry 20 (IKEv2 profile) for IKEv2 peers. */
export function hubConfig(extra: string[] = []): string[] {
  return [
    'hostname hub',
    'interface FastEthernet0/1', ' ip address 10.0.0.1 255.255.255.0', ' no shutdown', 'exit',
    'crypto isakmp policy 10', ' encryption aes 256', ' hash sha', ' authentication pre-share', ' group 14', 'exit',
    `crypto isakmp key ${PSK_V1} address 0.0.0.0 0.0.0.0`,
    `crypto isakmp key ${PSK_AGG} hostname ${AGG_FQDN}`,
    ...ikev2PskBlock({
      names: { proposal: 'P2', policy: 'POL2', keyring: 'KR2', keyringPeer: 'ANY', profile: 'RW2' },
      psk: PSK_V2, keyringAddress: '0.0.0.0 0.0.0.0', matchRemote: '0.0.0.0', localAddress: '172.16.0.1',
    }), 'exit',
    'crypto ipsec transform-set TS1 esp-aes 256 esp-sha-hmac', 'exit',
    'crypto ipsec transform-set TS2 esp-gcm 256', 'exit',
    'ip access-list extended RW', ' permit ip 10.0.0.0 0.0.0.255 10.9.0.0 0.0.255.255', 'exit',
    'crypto dynamic-map DYN 10', ' set transform-set TS1', ' match address RW', ' reverse-route', 'exit',
    'crypto dynamic-map DYN 20', ' set transform-set TS2', ' set ikev2-profile RW2', ' match address RW', ' reverse-route tag 20', 'exit',
    ...extra,
    'crypto map HUB 65535 ipsec-isakmp dynamic DYN',
    'interface FastEthernet0/0', ' ip address 172.16.0.1 255.255.255.0', ' crypto map HUB', ' no shutdown', 'exit',
    'ip route 0.0.0.0 0.0.0.0 172.16.0.254',
  ];
}

export type RwKind = 'v1-main' | 'v1-aggressive' | 'v2';

/** The strongSwan side of one road warrior (LAN 10.9.N.0/24 <-> hub LAN). */
export function rwConnection(s: Spoke, kind: RwKind, opts: { localTs?: string; name?: string } = {}): SwanConnection {
  const child = { name: opts.name ?? 'lan', localTs: [opts.localTs ?? s.lan], remoteTs: ['10.0.0.0/24'], espProposals: [kind === 'v2' ? 'aes256gcm16' : 'aes256-sha1'] };
  const base = { name: 'hub', localAddr: s.wan, remoteAddr: '172.16.0.1', remoteId: '172.16.0.1', encap: true, children: [child] };
  if (kind === 'v2') return { ...base, version: 2, proposals: ['aes256-sha256-modp2048'], psk: PSK_V2 };
  if (kind === 'v1-aggressive') return { ...base, version: 1, aggressive: true, localId: `fqdn:${AGG_FQDN}`, proposals: ['aes256-sha1-modp2048'], psk: PSK_AGG };
  return { ...base, version: 1, proposals: ['aes256-sha1-modp2048'], psk: PSK_V1 };
}

export async function startRoadWarrior(lab: Lab, s: Spoke, kind: RwKind): Promise<StrongswanPeer> {
  const swan = new StrongswanPeer(lab, s.gw, kind === 'v1-aggressive' ? { extraCharon: '    i_dont_care_about_security_and_use_aggressive_mode_psk = yes' } : {});
  await swan.start();
  await swan.load([rwConnection(s, kind)]);
  return swan;
}

export async function startHub(lab: Lab, extra: string[] = []): Promise<RampartGw> {
  const hub = await startRampart(lab, 'hub', { 'FastEthernet0/0': 'wan0', 'FastEthernet0/1': 'lan0' });
  const out = await hub.configure(hubConfig(extra));
  // configure returns once the hub applied it (its IKE sockets are open)
  if (/\[.*\] %/.test(out)) throw new Error(`hub configuration refused: ${out}`);
  return hub;
}


/** The hub's RRI routes in its Linux table (`ip route show proto 186`), polled until `want` holds (bounded). */
export async function hubRriRoutes(lab: Lab, want: (text: string) => boolean, ms = 30_000): Promise<string> {
  let text = '';
  await waitUntil(() => want(text = lab.execSync('hub', ['ip', 'route', 'show', 'proto', '186']).stdout.trim()), ms, 100);
  return text;
}
