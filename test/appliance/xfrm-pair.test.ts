// The kernel fast path for real: two appliance VMs joined by a QEMU socket network (their
// GigabitEthernet0/0), each with a LAN port (GigabitEthernet0/1). In the guests the XFRM
// backend is chosen by itself; IKEv2, then IKEv1, tunnels carry pings and a TCP transfer
// between the LAN addresses through kernel ESP (the kernel's SA counters prove it). The first
// ping has no SA: the kernel's trap policy (firmware/daemon/xfrm-traps.ts) acquires, and IKE
// starts from that; `show crypto ipsec sa` counts the kernel's packets. Then A's daemon is
// SIGKILLed: init restarts it, it clears the dead one's kernel SAs and the tunnel is
// negotiated again. Then B's WAN port goes to a namespace where strongSwan (charon) and then
// libreswan (pluto), both programming the guest kernel's XFRM, meet Rampart A with IKEv1 and
// IKEv2, each side initiating; strongSwan also rekeys every 15 s under a ping and is then
// killed for Rampart's DPD. Commands inside the guests go through the test agent
// (virtio-serial).
//
//   10.1.0.1 Gi0/1 [A] Gi0/0 172.16.0.1 ==== QEMU socket ==== 172.16.0.2 Gi0/0 [B] Gi0/1 10.2.0.1
//
// Budget: ~5 minutes on 2 idle cores (one image build, two VMs booted side by side, the
// rekeys and DPD about 90 s of it); 12.7 min at a load average of 45.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Appliance, extrasModule, firmwareModule, qemuModule } from '../lib/appliance.js';
import { guestSwanctl, loadGuestSwanctl, startGuestCharon } from '../lib/guest-strongswan.js';
import { guestPlutoLog, guestWhack, loadGuestLibreswan, startGuestPluto, stopGuestPluto, type LibreswanConn } from '../lib/guest-libreswan.js';
import type { SwanConnection } from '../lib/strongswan.js';
import { isRoot } from '../lib/netns.js';
import { ikev2PairConfig, IKEV2_PAIR_PSK as IKEV2_PSK } from '../dataplane-e2e/ikev2-pair.js';
import { gatewayConfig } from '../ikev1-interop/lab.js';

const BOOT_MS = 480000;
const q = await qemuModule();
const skip = !isRoot() ? 'needs root: the image build makes device nodes' : q.qemuMissing() && `cannot boot the appliance: ${q.qemuMissing()}`;
t.setTimeout(30 * 60000);

/** The pair configs name the sim board's FastEthernet ports; the VM's are GigabitEthernet. */
const onVm = (lines: string[]) => lines.map((l) => l.replace(/FastEthernet0\/(\d)/, 'GigabitEthernet0/$1'));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function configure(vm: Appliance, lines: string[]): Promise<string> {
  let out = await vm.cli('configure terminal');
  for (const l of lines) out += await vm.cli(l);
  out += await vm.cli('end');
  return out;
}

/**
 * A's configuration for a peer in B's namespace, with only this version's crypto map and no
 * SAs left: IKEv2 (the pair's, `ikev2Extra` after it) or IKEv1 (main mode, group 14).
 */
async function onlyVersion(a: Appliance, version: 1 | 2, ikev2Extra: string[] = []): Promise<string> {
  await configure(a, ['interface GigabitEthernet0/0', ' no crypto map CM', ' no crypto map mymap', 'exit', 'no crypto map CM 10', 'no crypto map mymap 10']);
  await a.cli('clear crypto session');
  return configure(a, version === 2 ? [...onVm(ikev2PairConfig('A')), ...ikev2Extra, 'ip route 10.2.0.0 255.255.255.0 172.16.0.2'] : onVm(gatewayConfig({
    hostname: 'gwA', wan: '172.16.0.1', lan: '10.1.0.1', lanNet: '10.1.0.0', remoteLanNet: '10.2.0.0',
    peers: ['172.16.0.2'], psk: 'rampart-v1-psk', policy: ['encryption aes 256', 'hash sha', 'group 14'], transform: 'esp-aes 256 esp-sha-hmac',
  })));
}

/** Pings B's LAN address from A's LAN address until one answers (the first packets start IKE). */
async function pingThrough(a: Appliance, deadlineMs: number): Promise<string> {
  const until = Date.now() + deadlineMs;
  let last = '';
  while (Date.now() < until) {
    last = (await a.exec('ping -c 3 -W 3 -I 10.1.0.1 10.2.0.1', 30000)).out;
    if (/ [1-3] packets received/.test(last)) return last;
  }
  throw new Error(`no answer through the tunnel: ${last}`);
}

/** Packets the kernel's ESP SAs carried (iproute2's `ip -s xfrm state`; the shell's own `ip` applet has no xfrm). */
async function kernelEspPackets(vm: Appliance): Promise<number> {
  const out = await vm.shell('/sbin/ip -s xfrm state');
  if (!/proto esp/.test(out)) return 0;
  return [...out.matchAll(/(\d+)\(packets\)/g)].reduce((n, m) => n + Number(m[1]), 0);
}

t.test('two appliances, IKEv2 and IKEv1 through kernel ESP; strongSwan with kernel XFRM against Rampart', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-xfrm-'));
  // Kept when a check failed: dir/{a,b}.console.log are what the serial consoles showed.
  t.teardown(() => { if (t.passing()) rmSync(dir, { recursive: true, force: true }); else t.comment(`console logs kept in ${dir}`); });
  const built = await (await firmwareModule()).buildImage({ outDir: join(dir, 'image'), log: () => {} });
  // iperf3 and strongSwan ride along in a second archive (the image stays as shipped)
  const ex = await extrasModule();
  const swanMissing = ex.extrasMissing();
  const initrd = swanMissing ? undefined : await ex.initrdWithExtras(built.outDir, ex.buildTestExtras(dir), join(dir, 'initrd-extras'));
  const port = await freePort();
  const a = new Appliance({ image: built.outDir, dir, name: 'a', agent: true, initrd, nics: [{ socket: { listen: `127.0.0.1:${port}` }, mac: '52:54:00:00:00:0a' }, { user: true }] });
  const b = new Appliance({ image: built.outDir, dir, name: 'b', agent: true, initrd, nics: [{ socket: { connect: `127.0.0.1:${port}` }, mac: '52:54:00:00:00:0b' }, { user: true }] });
  t.teardown(async () => { await a.powerOff(); await b.powerOff(); });
  await a.powerOn();
  await b.powerOn();
  await Promise.all([a, b].map((vm) => vm.console.expect(/Press RETURN to get started![\s\S]*\nRouter>$/, BOOT_MS)));
  t.comment(`both booted in ${((Date.now() - a.startedAt) / 1000).toFixed(1)} s`);
  for (const vm of [a, b]) {
    await vm.cli('enable');
    t.match(await vm.cli('show crypto engine configuration | include data path'), /IPsec data path:\s+xfrm/, 'XFRM chosen by itself');
  }

  await t.test('IKEv2', async (t) => {
    const bad = /% Invalid|% Incomplete|% Ambiguous|Error/;
    t.notMatch(await configure(a, [...onVm(ikev2PairConfig('A')), 'ip route 10.2.0.0 255.255.255.0 172.16.0.2']), bad, 'A configured');
    t.notMatch(await configure(b, [...onVm(ikev2PairConfig('B')), 'ip route 10.1.0.0 255.255.255.0 172.16.0.1']), bad, 'B configured');
    // A deny line ahead of the permit, on both sides (mirrors), before any SA: the kernel
    // carries the denied host's traffic in the clear (bypass policies), the rest through the SA.
    const withDeny = (deny: string, permit: string) => ['no access-list 101', `access-list 101 deny ip ${deny}`, `access-list 101 permit ip ${permit}`];
    await a.shell('/sbin/ip addr add 10.1.0.5/32 dev lo');
    t.notMatch(await configure(a, withDeny('host 10.1.0.5 10.2.0.0 0.0.0.255', '10.1.0.0 0.0.0.255 10.2.0.0 0.0.0.255')), bad, 'A: deny line for 10.1.0.5');
    t.notMatch(await configure(b, withDeny('10.2.0.0 0.0.0.255 host 10.1.0.5', '10.2.0.0 0.0.0.255 10.1.0.0 0.0.0.255')), bad, 'B: its mirror');
    t.match(await a.shell('/sbin/ip xfrm policy'), /src 10\.1\.0\.0\/24 dst 10\.2\.0\.0\/24\s+dir out[\s\S]*?tmpl src 172\.16\.0\.1 dst 172\.16\.0\.2/,
      'before any SA: the kernel holds the trap policy of the crypto map\'s permit');
    const before = await kernelEspPackets(a);
    t.match(await pingThrough(a, 180000), / [1-3] packets received/, 'ping from LAN A to LAN B');
    t.match(await a.cli('show crypto ikev2 sa'), /READY/, 'IKEv2 SA up, started by the kernel\'s acquire');
    // TCP from LAN address to LAN address (busybox nc has no source option: the route says it).
    await a.shell('/sbin/ip route replace 10.2.0.0/24 via 172.16.0.2 src 10.1.0.1');
    // busybox nc -l stops when its own input ends: it reads from a sleep instead.
    await b.shell('(sleep 120 | nc -l -p 5001 | wc -c > /tmp/got) </dev/null >/dev/null 2>&1 & sleep 1');
    // busybox nc may wait for the far end after its input ends: bounded, its status unused.
    await a.exec('dd if=/dev/zero bs=1k count=512 2>/dev/null | timeout 60 nc 10.2.0.1 5001', 90000);
    t.equal((await b.shell('sleep 1; cat /tmp/got')).trim(), '524288', 'a 512 KiB TCP transfer arrived whole');
    t.ok(await kernelEspPackets(a) > before, 'the kernel ESP SAs counted the packets');
    t.ok(await kernelEspPackets(b) > 0, 'on both sides');
    // 512 KiB in segments of at most 1448 bytes: at least 363 packets out of A and into B
    const sa = await a.cli('show crypto ipsec sa | include pkts');
    const encaps = Number(/#pkts encaps: (\d+)/.exec(sa)?.[1] ?? 0);
    const decaps = Number(/#pkts decaps: (\d+)/.exec(sa)?.[1] ?? 0);
    t.ok(encaps >= 363 && decaps > 0, `show crypto ipsec sa counts the kernel's packets (A encaps ${encaps}, decaps ${decaps})`);
    const bsa = await b.cli('show crypto ipsec sa | include pkts');
    t.ok(Number(/#pkts decaps: (\d+)/.exec(bsa)?.[1] ?? 0) >= 363, 'and B\'s decaps');

    t.match(await a.shell('/sbin/ip xfrm policy'), /src 10\.1\.0\.5\/32 dst 10\.2\.0\.0\/24\s+dir out priority \d+/, 'A\'s kernel holds a bypass policy for the denied host');
    const espBefore = await kernelEspPackets(a);
    const clear = (await a.exec('ping -c 3 -W 3 -I 10.1.0.5 10.2.0.1', 30000)).out;
    if (!/ [1-3] packets received/.test(clear)) t.comment(`A:\n${await a.shell('/sbin/ip xfrm policy')}\nB:\n${await b.shell('/sbin/ip xfrm policy; cat /proc/net/xfrm_stat')}`);
    t.match(clear, / [1-3] packets received/, 'the denied host reaches LAN B');
    t.equal(await kernelEspPackets(a), espBefore, 'in the clear: no ESP SA counted its packets');
    t.match(await pingThrough(a, 60000), / [1-3] packets received/, 'the permitted host still goes through the SA');
    t.ok(await kernelEspPackets(a) > espBefore, 'which counted those');
    for (const [vm, permit] of [[a, '10.1.0.0 0.0.0.255 10.2.0.0 0.0.0.255'], [b, '10.2.0.0 0.0.0.255 10.1.0.0 0.0.0.255']] as const) {
      await configure(vm, ['no access-list 101', `access-list 101 permit ip ${permit}`]);
    }
  });

  await t.test('IKEv1', async (t) => {
    const v1 = (side: 'A' | 'B') => onVm(gatewayConfig({
      hostname: `gw${side}`, wan: side === 'A' ? '172.16.0.1' : '172.16.0.2', lan: side === 'A' ? '10.1.0.1' : '10.2.0.1',
      lanNet: side === 'A' ? '10.1.0.0' : '10.2.0.0', remoteLanNet: side === 'A' ? '10.2.0.0' : '10.1.0.0',
      peers: [side === 'A' ? '172.16.0.2' : '172.16.0.1'], psk: 'rampart-v1-psk', policy: ['encryption aes 256', 'hash sha'], transform: 'esp-aes 256 esp-sha-hmac',
    }));
    for (const [vm, side] of [[a, 'A'], [b, 'B']] as const) {
      await configure(vm, ['interface GigabitEthernet0/0', ' no crypto map CM', 'exit', 'no crypto map CM 10']);
      await vm.cli('clear crypto session');
      t.notMatch(await configure(vm, v1(side)), /% Invalid|% Incomplete/, `${side} configured for IKEv1`);
    }
    const before = await kernelEspPackets(a);
    t.match(await pingThrough(a, 180000), / [1-3] packets received/, 'ping from LAN A to LAN B');
    t.match(await a.cli('show crypto isakmp sa'), /QM_IDLE/, 'IKEv1 SA up');
    t.ok(await kernelEspPackets(a) > before, 'the kernel ESP SAs counted the packets');
  });

  await t.test('a daemon killed with SIGKILL is restarted and its tunnel comes back', async (t) => {
    t.match(await a.cli('write memory'), /\[OK\]/);
    const spisBefore: string[] = (await a.shell('/sbin/ip xfrm state')).match(/spi 0x[0-9a-f]+/g) ?? [];
    t.ok(spisBefore.length > 0, 'the kernel holds the tunnel\'s SAs');
    const pid = (await a.shell('cat /run/rampart/daemon.pid')).trim();
    a.console.mark();
    await a.shell(`kill -9 ${pid}`);
    await a.console.expect(/Press RETURN to get started![\s\S]*\ngwA>$/, BOOT_MS);
    await a.cli('enable');
    const left = ((await a.exec('/sbin/ip xfrm state')).out.match(/spi 0x[0-9a-f]+/g) ?? []).filter((x) => spisBefore.includes(x));
    t.same(left, [], 'the restarted daemon cleared the SAs nobody knows any more');
    t.match(await pingThrough(a, 180000), / [1-3] packets received/, 'ping through again');
    t.match(await a.cli('show crypto isakmp sa'), /QM_IDLE/, 'a new IKEv1 SA from the restarted daemon');
  });

  // B's Rampart gives up its WAN port: strongSwan takes it in its own namespace of the guest,
  // with 10.2.0.1 on that namespace's loopback, and A's Rampart meets it, both initiating.
  await t.test('strongSwan (charon, kernel XFRM) in a namespace of B against Rampart A, IKEv1 and IKEv2, both initiating; rekeys; DPD',
    { skip: swanMissing && `no strongSwan for the guest: ${swanMissing}` }, async (t) => {
      await configure(b, ['interface GigabitEthernet0/0', ' no crypto map mymap', 'exit']);
      await startGuestCharon(b, { netns: 'swan', ifname: 'eth0', wan: '172.16.0.2/24', lan: '10.2.0.1/32' });
      const swanNs = (cmd: string) => b.shell(`/sbin/ip netns exec swan ${cmd}`);
      const conn = (version: 1 | 2, childLifetimeSec?: number): SwanConnection => ({
        name: 'rampart', version, localAddr: '172.16.0.2', remoteAddr: '172.16.0.1',
        proposals: [version === 2 ? 'aes256-sha256-modp2048' : 'aes256-sha1-modp2048'], psk: version === 2 ? IKEV2_PSK : 'rampart-v1-psk',
        children: [{
          name: 'lan', localTs: ['10.2.0.0/24'], remoteTs: ['10.1.0.0/24'], espProposals: [version === 2 ? 'aes256gcm16' : 'aes256-sha1'],
          ...(childLifetimeSec ? { lifetimeSec: childLifetimeSec } : {}),
        }],
      });
      for (const version of [1, 2] as const) {
        // IKEv2 with periodic DPD (10 s, 2 s retries): the dead peer check at the end
        t.notMatch(await onlyVersion(a, version, ['crypto ikev2 profile PROF1', ' dpd 10 2 periodic', 'exit']), /% Invalid|% Incomplete/, `A configured for IKEv${version}`);
        await guestSwanctl(b, '--terminate --ike rampart');
        t.match(await loadGuestSwanctl(b, [conn(version)]), /loaded connection 'rampart'/, `strongSwan loaded for IKEv${version}`);

        // Rampart initiates (the kernel's acquire on A)
        t.match(await pingThrough(a, 180000), / [1-3] packets received/, `IKEv${version}, Rampart initiating: ping through`);
        const sas = (await guestSwanctl(b, '--list-sas')).out;
        t.match(sas, new RegExp(`ESTABLISHED, IKEv${version}[\\s\\S]*INSTALLED, TUNNEL`), 'strongSwan lists the IKE and CHILD SA');
        const swanXfrm = await swanNs('/sbin/ip -s xfrm state');
        t.match(swanXfrm, /proto esp[\s\S]*[1-9]\d*\(packets\)/, "strongSwan's SAs are the guest kernel's XFRM and carried packets");

        // strongSwan initiates
        await a.cli('clear crypto session');
        await guestSwanctl(b, '--terminate --ike rampart');
        const init = await guestSwanctl(b, '--initiate --child lan', 90000);
        t.equal(init.code, 0, `IKEv${version}, strongSwan initiating: ${init.out.trim().split('\n').at(-1) ?? ''}`);
        t.match(await pingThrough(a, 60000), / [1-3] packets received/, 'ping through the SA strongSwan negotiated');
        t.match(await a.cli(version === 2 ? 'show crypto ikev2 sa' : 'show crypto isakmp sa'), version === 2 ? /READY/ : /QM_IDLE/, 'Rampart lists the SA');
      }

      // Rekeys on the XFRM backend: strongSwan rekeys the CHILD SA every ~15 s; Rampart answers
      // CREATE_CHILD_SA, puts the new pair into the kernel and takes the old one out, while a
      // ping runs through.
      await guestSwanctl(b, '--terminate --ike rampart');
      await a.cli('clear crypto session');
      await loadGuestSwanctl(b, [conn(2, 15)]);
      t.equal((await guestSwanctl(b, '--initiate --child lan', 90000)).code, 0, 'strongSwan up again, child lifetime 15 s');
      await pingThrough(a, 60000);
      const spis = async () => new Set((await a.shell('/sbin/ip xfrm state')).match(/spi 0x[0-9a-f]+/g) ?? []);
      const first = await spis();
      const ping = (await a.exec('ping -q -c 90 -i 0.5 -W 2 -I 10.1.0.1 10.2.0.1', 180000)).out;
      const [sent, got] = (/(\d+) packets transmitted, (\d+) (?:packets )?received/.exec(ping) ?? ['', '0', '0']).slice(1).map(Number) as [number, number];
      const childNo = Number(/lan: #(\d+)/.exec((await guestSwanctl(b, '--list-sas')).out)?.[1] ?? 0);
      t.ok(childNo >= 3, `strongSwan rekeyed the CHILD SA at least twice (child #${childNo})`);
      // a rekey that broke the tunnel would lose every ping after it; the responder switching its
      // outbound SA before the initiator has the inbound one costs about one (docs/appliance.md)
      t.ok(sent >= 90 && sent - got <= 3, `ping through the rekeys: ${got}/${sent} answered`);
      const now = await spis();
      t.ok([...first].every((x) => !now.has(x)), `the kernel no longer holds the first pair's SAs (${[...first].join(' ')} -> ${[...now].join(' ')})`);
      t.ok(now.size >= 2, 'it holds the new ones');

      // DPD on the XFRM backend: charon dies; Rampart's periodic DPD gives up on it and takes
      // the SAs out of the kernel.
      await b.shell('kill -9 $(pidof charon)');
      const until = Date.now() + 150000;
      let ike = '';
      while (Date.now() < until && /READY/.test(ike = await a.cli('show crypto ikev2 sa'))) await new Promise((r) => setTimeout(r, 3000));
      t.notMatch(ike, /READY/, 'DPD declared the dead peer dead');
      t.notMatch(await a.shell('/sbin/ip xfrm state'), /proto esp/, 'and its SAs left the kernel');
    });

  // libreswan (pluto, kernel XFRM) takes over B's namespace: IKEv1 and IKEv2, both initiating.
  await t.test('libreswan (pluto, kernel XFRM) in a namespace of B against Rampart A, IKEv1 and IKEv2, both initiating',
    { skip: (swanMissing && `no strongSwan namespace for the guest: ${swanMissing}`) || (ex.libreswanMissing() && `no libreswan for the guest: ${ex.libreswanMissing()}`) }, async (t) => {
      // what the killed charon left in the namespace (SAs, policies, its route table) goes first
      const ns = '/sbin/ip netns exec swan /sbin/ip';
      await b.shell(`${ns} xfrm state flush; ${ns} xfrm policy flush; ${ns} route flush table 220 2>/dev/null; ${ns} route replace 10.1.0.0/24 via 172.16.0.1 src 10.2.0.1`);
      await startGuestPluto(b, { netns: 'swan' });
      const lsw = (version: 1 | 2): LibreswanConn => ({
        name: `rampart${version}`, version, left: '172.16.0.2', leftSubnet: '10.2.0.0/24', right: '172.16.0.1', rightSubnet: '10.1.0.0/24',
        psk: version === 2 ? IKEV2_PSK : 'rampart-v1-psk',
        ike: version === 2 ? 'aes256-sha2_256-modp2048' : 'aes256-sha1-modp2048', esp: version === 2 ? 'aes_gcm256' : 'aes256-sha1',
      });
      for (const version of [1, 2] as const) {
        t.notMatch(await onlyVersion(a, version), /% Invalid|% Incomplete/, `A configured for IKEv${version}`);
        await loadGuestLibreswan(b, [lsw(version)], ['rampart1', 'rampart2']);
        t.match((await guestWhack(b, '--status')).out, new RegExp(`"rampart${version}": 10\\.2\\.0\\.0/24===172\\.16\\.0\\.2`), `libreswan loaded for IKEv${version}`);

        // Rampart initiates (the kernel's acquire on A)
        const up = await pingThrough(a, 180000).catch(async (e: unknown) => { t.comment(await guestPlutoLog(b)); throw e; });
        t.match(up, / [1-3] packets received/, `IKEv${version}, Rampart initiating: ping through`);
        const st = (await guestWhack(b, '--trafficstatus')).out;
        t.match(st, new RegExp(`"rampart${version}".*inBytes=[1-9]`), 'libreswan counts the traffic of its IPsec SA');
        t.match(await b.shell('/sbin/ip netns exec swan /sbin/ip -s xfrm state'), /proto esp[\s\S]*[1-9]\d*\(packets\)/, "libreswan's SAs are the guest kernel's XFRM and carried packets");

        // libreswan initiates
        await a.cli('clear crypto session');
        await loadGuestLibreswan(b, [lsw(version)], ['rampart1', 'rampart2']);
        const init = await guestWhack(b, `--initiate --name rampart${version}`, 120000);
        if (init.code !== 0) t.comment(await guestPlutoLog(b));
        t.equal(init.code, 0, `IKEv${version}, libreswan initiating: ${init.out.trim().split('\n').at(-1) ?? ''}`);
        t.match(await pingThrough(a, 60000), / [1-3] packets received/, 'ping through the SA libreswan negotiated');
        t.match(await a.cli(version === 2 ? 'show crypto ikev2 sa' : 'show crypto isakmp sa'), version === 2 ? /READY/ : /QM_IDLE/, 'Rampart lists the SA');
      }
      await stopGuestPluto(b);
    });
});
