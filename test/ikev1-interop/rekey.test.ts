// Rekey with traffic running, against strongSwan 5.9:
//   1. strongSwan initiates with a 20 s CHILD_SA rekey time; Rampart answers the rekey quick
//      modes, installs the new pair and drops the old one: a ping across two rekeys loses at
//      most one packet;
//   2. Rampart initiates with `set security-association lifetime seconds 120` (the IOS
//      minimum) and rekeys by itself before the soft lifetime (~102-108 s): again at most one
//      ping lost, and the SPIs change. (About two minutes: RAMPART_SKIP_SLOW_REKEY=1 skips it.)
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { StrongswanPeer, haveStrongswan, type SwanConnection } from '../lib/strongswan.js';
import { buildSiteToSite, ping } from '../lib/site-to-site.js';
import { gatewayConfig, startRampart, type RampartGw } from './lab.js';

const skip = !isRoot()
  ? 'needs root: network namespaces and strongSwan'
  : !haveStrongswan() ? 'needs strongSwan (strongswan-charon strongswan-swanctl libcharon-extra-plugins)'
    : !hasCommand('ip') ? 'needs iproute2' : undefined;
const PSK = 'rekey-psk-31337';

async function setup(tag: string, rampartLifetime: number | undefined, swanRekeySec: number): Promise<{ lab: Lab; gw: RampartGw; swan: StrongswanPeer }> {
  const lab = Lab.create(`rk1r${tag}`);
  buildSiteToSite(lab, { boxes: ['gwA'] });
  const swan = new StrongswanPeer(lab, 'gwB');
  await swan.start();
  const conn: SwanConnection = {
    name: 'rt', version: 1, localAddr: '172.16.0.2', remoteAddr: '172.16.0.1', proposals: ['aes256-sha1-modp1024'], psk: PSK, encap: true,
    children: [{ name: 'lan', localTs: ['10.2.0.0/24'], remoteTs: ['10.1.0.0/24'], espProposals: ['aes256-sha1'], lifetimeSec: swanRekeySec }],
  };
  await swan.load([conn]);
  const gw = await startRampart(lab, 'gwA', { 'FastEthernet0/0': 'wan0', 'FastEthernet0/1': 'lan0' });
  await gw.configure(gatewayConfig({
    hostname: 'gwA', wan: '172.16.0.1', lan: '10.1.0.1', lanNet: '10.1.0.0', remoteLanNet: '10.2.0.0', peers: ['172.16.0.2'], psk: PSK,
    policy: ['encryption aes 256', 'hash sha', 'group 2'], transform: 'esp-aes 256 esp-sha-hmac', ...(rampartLifetime ? { lifetimeSec: rampartLifetime } : {}),
  })); // applied (IKE sockets open) when it returns
  return { lab, gw, swan };
}

async function pingFor(lab: Lab, seconds: number): Promise<{ sent: number; got: number; text: string }> {
  const count = Math.round(seconds / 0.2);
  const r = await lab.exec('hostA', ['ping', '-n', '-q', '-i', '0.2', '-c', String(count), '-W', '1', '10.2.0.2'], { timeoutMs: (seconds + 20) * 1000 });
  const m = /(\d+) packets transmitted, (\d+) received/.exec(r.stdout);
  return { sent: Number(m?.[1] ?? 0), got: Number(m?.[2] ?? 0), text: m?.[0] ?? r.stdout.slice(-200) };
}

const spis = async (gw: RampartGw): Promise<string[]> => (await gw.exec('show crypto ipsec sa')).match(/spi: 0x[0-9A-F]+/gi) ?? [];

t.test('strongSwan rekeys every 20 s, Rampart responds, ping keeps flowing', { skip, timeout: 300_000 }, async (t) => {
  const { lab, gw, swan } = await setup('s', undefined, 20);
  t.teardown(async () => { gw.con.close(); await swan.stop(); await lab.destroy(); });
  await swan.initiate('lan', 30_000);
  t.ok(await ping(lab, 'hostA', '10.2.0.2', { count: 3, timeoutSec: 2 }), 'tunnel up (strongSwan initiated)');
  const before = await spis(gw);
  const p = await pingFor(lab, 45);
  t.ok(p.sent > 0 && p.sent - p.got <= 1, `ping across strongSwan's rekeys: ${p.text}`);
  const after = await spis(gw);
  t.ok(after.length > 0 && after.every((x) => !before.includes(x)), `new SPIs (${before.join(',')} -> ${after.join(',')})`);
  t.match(await swan.listSas(), /INSTALLED/);
});

t.test('Rampart rekeys before its soft lifetime (120 s), ping keeps flowing', { skip: skip ?? (process.env.RAMPART_SKIP_SLOW_REKEY ? 'RAMPART_SKIP_SLOW_REKEY set' : undefined), timeout: 300_000 }, async (t) => {
  const { lab, gw, swan } = await setup('r', 120, 3600);
  t.teardown(async () => { gw.con.close(); await swan.stop(); await lab.destroy(); });
  await ping(lab, 'hostA', '10.2.0.2', { count: 2, timeoutSec: 1 });
  t.ok(await ping(lab, 'hostA', '10.2.0.2', { count: 3, timeoutSec: 2 }), 'tunnel up (Rampart initiated on traffic)');
  const before = await spis(gw);
  const p = await pingFor(lab, 118);
  t.ok(p.sent > 0 && p.sent - p.got <= 1, `ping across Rampart's rekey: ${p.text}`);
  const after = await spis(gw);
  t.ok(after.length > 0 && after.some((x) => !before.includes(x)), `new SPIs (${before.join(',')} -> ${after.join(',')})`);
});
