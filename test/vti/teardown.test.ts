// Issue 15, bad input: a tunnel whose configuration stops supporting its crypto session is
// brought down cleanly and the box says why (two Rampart boxes, test/vti/vti-pair.ts):
//   - `no crypto ipsec profile P1` while Tunnel0 uses it: the SAs go on both boxes (the peer
//     gets a Delete), the log names the reason, the tunnel stays down until the profile is back;
//   - the tunnel source interface loses its address; `shutdown` on the tunnel;
//   - a dynamic VTI hub whose Virtual-Template is deleted: the Virtual-Access interface, its
//     device and SAs go, and the spoke cannot bring the session back until the template returns.
import t from 'tap';
import { hasCommand, isRoot } from '../lib/netns.js';
import { waitUntil } from '../ikev2-interop/harness.js';
import { ADDR, startPair, type Gateway } from '../dataplane-e2e/rampart-pair.js';
import { tunnelState, vtiCryptoLines, vtiPairConfig } from './vti-pair.js';

const skip = !isRoot() ? 'needs root: network namespaces, TUN, raw sockets'
  : !hasCommand('ip') ? 'needs iproute2' : undefined;
const bad = /% (Invalid|Incomplete|Ambiguous|Unknown)/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function lineProtocol(gw: Gateway, name = 'Tunnel0'): Promise<string | undefined> {
  return tunnelState(await gw.exec(`show interfaces ${name}`), name)?.protocol;
}
const bothUp = (a: Gateway, b: Gateway) => waitUntil(async () => (await lineProtocol(a)) === 'up' && (await lineProtocol(b)) === 'up', 45_000, 500);
const hasSa = async (gw: Gateway) => /spi: 0x/.test(await gw.exec('show crypto ipsec sa'));

const versions = process.env.VTI_IKE ? [Number(process.env.VTI_IKE) as 1 | 2] : [2, 1] as const;
for (const ike of versions) {
  t.test(`static VTI torn down by its configuration, IKEv${ike}`, { skip, timeout: 300_000 }, async (t) => {
    const pair = await startPair(`vtitd${ike}`);
    t.teardown(() => pair.close());
    const { gwA, gwB } = pair;
    t.notMatch(await gwA.configure(vtiPairConfig('A', { ike })), bad, 'gwA: static VTI');
    t.notMatch(await gwB.configure(vtiPairConfig('B', { ike })), bad, 'gwB: static VTI');
    t.ok(await bothUp(gwA, gwB), 'Tunnel0 up on both boxes');

    // the IPsec profile in use is deleted
    await gwA.configure(['no crypto ipsec profile P1']);
    t.equal(await lineProtocol(gwA), 'down', 'gwA: line protocol down at once');
    t.notOk(await hasSa(gwA), 'gwA: no IPsec SA left');
    t.ok(await waitUntil(async () => (await lineProtocol(gwB)) === 'down' && !(await hasSa(gwB)), 15_000, 300), 'gwB: its SAs went too (Delete from gwA)');
    t.match(await gwA.exec('show logging'), /Tunnel0: crypto session ended: IPsec profile P1 does not exist/, 'gwA logs why');
    await sleep(8000); // gwB retries (2-6 s): gwA has no tunnel for it now
    t.equal(await lineProtocol(gwB), 'down', 'gwB cannot bring it back while the profile is missing');
    t.notOk(await hasSa(gwA), 'gwA accepted no new SA');
    await gwA.configure(['crypto ipsec profile P1', ' set transform-set T1', ...(ike === 2 ? [' set ikev2-profile IKEV2P'] : []), 'exit']);
    t.match(await gwA.exec('show running-config | section crypto ipsec profile'), /set transform-set T1/, 'profile P1 is back');
    t.ok(await bothUp(gwA, gwB), 'the tunnel comes back by itself once the profile exists again');

    // the tunnel source interface loses its address
    await gwA.configure(['interface FastEthernet0/0', ' no ip address', 'exit']);
    t.equal(await lineProtocol(gwA), 'down', 'tunnel source without address: line protocol down');
    t.notOk(await hasSa(gwA), 'and its SAs are gone');
    t.match(await gwA.exec('show logging'), /Tunnel0: crypto session ended: tunnel source FastEthernet0\/0 has no IP address/, 'logged');
    await gwA.configure(['interface FastEthernet0/0', ` ip address ${ADDR.gwAWan} 255.255.255.0`, 'exit']);
    t.ok(await bothUp(gwA, gwB), 'back up with the address');

    // shutdown on the tunnel ends the session on both sides
    await gwA.configure(['interface Tunnel0', ' shutdown', 'exit']);
    t.match(await gwA.exec('show interfaces Tunnel0'), /Tunnel0 is administratively down, line protocol is down/);
    const gone = await waitUntil(async () => !(await hasSa(gwA)) && !(await hasSa(gwB)), 15_000, 300);
    t.ok(gone, 'shutdown: SAs gone on both boxes');
    if (!gone) t.comment(await gwA.exec('show crypto ipsec sa'), await gwB.exec('show crypto ipsec sa'), await gwB.exec('show logging'), gwA.proc.output.slice(-4000));
    await gwA.configure(['interface Tunnel0', ' no shutdown', 'exit']);
    t.ok(await bothUp(gwA, gwB), 'no shutdown: up again');
  });
}

t.test('dynamic VTI hub: deleting the Virtual-Template ends its sessions', { skip, timeout: 300_000 }, async (t) => {
  const pair = await startPair('vtitdd');
  t.teardown(() => pair.close());
  const { lab, gwA, gwB } = pair;
  const template = ['interface Virtual-Template1 type tunnel', ' ip unnumbered FastEthernet0/0', ' tunnel mode ipsec ipv4', ' tunnel protection ipsec profile P1', 'exit'];
  // gwA: the IKEv2 profile of the pair plus `virtual-template 1`; no Tunnel0
  t.notMatch(await gwA.configure([
    'hostname gwA', ...vtiCryptoLines('A', { ike: 2 }),
    'crypto ikev2 profile IKEV2P', ' virtual-template 1', 'exit',
    'interface FastEthernet0/1', ` ip address ${ADDR.gwALan} 255.255.255.0`, ' no shutdown', 'exit',
    'interface FastEthernet0/0', ` ip address ${ADDR.gwAWan} 255.255.255.0`, ' no shutdown', 'exit',
    ...template,
  ]), bad, 'gwA: DVTI hub');
  t.notMatch(await gwB.configure(vtiPairConfig('B', { ike: 2 })), bad, 'gwB: static VTI spoke');
  const vaUp = () => waitUntil(async () => /Virtual-Access1\s+\S+\s+YES \w+\s+up\s+up/.test(await gwA.exec('show ip interface brief')) && (await lineProtocol(gwB)) === 'up', 45_000, 500);
  t.ok(await vaUp(), 'gwB\'s session gets Virtual-Access1 on the hub');
  t.match(lab.execSync('gwA', ['ip', 'link', 'show']).stdout, /Vi1/, 'its device Vi1 exists');

  await gwA.configure(['no interface Virtual-Template1']);
  t.notMatch(await gwA.exec('show ip interface brief'), /Virtual-Access1/, 'Virtual-Access1 is gone at once');
  t.notOk(await hasSa(gwA), 'the hub holds no SA');
  t.match(await gwA.exec('show logging'), /Virtual-Access1: crypto session ended: Virtual-Template1 does not exist/, 'the hub logs why');
  t.ok(await waitUntil(async () => (await lineProtocol(gwB)) === 'down' && !/Vi1/.test(lab.execSync('gwA', ['ip', 'link', 'show']).stdout), 15_000, 300),
    'the spoke\'s tunnel went down (Delete) and the hub\'s Vi1 device is gone');
  await sleep(8000);
  t.equal(await lineProtocol(gwB), 'down', 'the spoke cannot come back without the template');
  t.notMatch(await gwA.exec('show ip interface brief'), /Virtual-Access/, 'no Virtual-Access was cloned meanwhile');

  await gwA.configure(template);
  t.ok(await vaUp(), 'with the template back the spoke\'s session returns');
  // the IKEv2 profile stops naming the template: same effect
  await gwA.configure(['crypto ikev2 profile IKEV2P', ' no virtual-template 1', 'exit']);
  t.ok(await waitUntil(async () => !/Virtual-Access/.test(await gwA.exec('show ip interface brief')), 10_000, 300), 'no virtual-template 1: Virtual-Access gone');
  t.match(await gwA.exec('show logging'), /no ISAKMP or IKEv2 profile names virtual-template 1/, 'logged');
});
