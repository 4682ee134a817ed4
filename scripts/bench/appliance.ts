// The appliance image under QEMU (software emulation: every number is the emulated CPU's,
// far below real hardware; the ratios compare like with like on the same VMs).
//   bench image-size: N MB              kernel + compressed root, as shipped
//   bench boot-to-prompt: S s           QEMU start to `Router>` (fresh flash)
//   bench esp-tcp-xfrm: N Mbit/s        iperf3 LAN A -> LAN B through a Rampart IKEv2 tunnel
//                                       (esp-gcm 256) between two VMs, kernel XFRM data path
//   bench esp-tcp-libreswan-guest       on the same VMs at the same time, libreswan (pluto,
//                                       kernel XFRM) at both ends over a second wire, same
//                                       algorithms, in a namespace of each guest (the issue's
//                                       anchor; where its packages cannot be fetched, strongSwan
//                                       with kernel-netlink stands in: esp-tcp-strongswan-guest)
//   bench esp-tcp-userspace-guest       the VMs rebooted with rampart.dataplane=userspace
//   ratio esp-tcp-vs-libreswan-guest    Rampart's kernel path over libreswan's (goal >= 1: both
//                                       are the kernel's ESP, Rampart must add no cost)
//   ratio xfrm-vs-userspace-guest       kernel XFRM over Rampart's userspace path in the guest
// The host is shared and its load swings, so the runs alternate (Rampart, anchor, ...) and
// medians are compared; across the reboot the anchor tunnel, measured in both boots, is the
// yardstick: xfrm-vs-userspace = (xfrm/anchor) / (userspace/anchor).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { Appliance, extrasModule, firmwareModule, qemuModule, type NicSpec } from '../../test/lib/appliance.js';
import { ikev2PairConfig, IKEV2_PAIR_PSK } from '../../test/dataplane-e2e/ikev2-pair.js';
import { loadGuestSwanctl, guestSwanctl, startGuestCharon } from '../../test/lib/guest-strongswan.js';
import { guestWhack, loadGuestLibreswan, startGuestPluto } from '../../test/lib/guest-libreswan.js';

export const meta: BenchModuleMeta = { description: 'appliance image size, boot-to-prompt and kernel-XFRM TCP between two VMs under QEMU', needsRoot: true };

const BOOT_MS = 600000;
const PROMPT = /Press RETURN to get started![\s\S]*\nRouter>$/;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** iperf3 from A (source 10.1.0.1) to 10.2.0.1 for `secs`; the receiver's Mbit/s. `ns` wraps commands into a namespace. */
async function iperf(a: Appliance, b: Appliance, secs: number, ns = ''): Promise<number> {
  await b.shell(`${ns}iperf3 -s -D -1 -B 10.2.0.1; sleep 1`);
  // a first ping makes sure the SA is up before the clock starts
  await a.exec(`${ns}ping -c 3 -W 3 -I 10.1.0.1 10.2.0.1`, 30000);
  const out = await a.shell(`${ns}iperf3 -c 10.2.0.1 -B 10.1.0.1 -t ${secs} -f m`, (secs + 60) * 1000);
  const m = /([\d.]+) Mbits\/sec\s+receiver/.exec(out);
  if (!m) throw new Error(`no iperf3 result: ${out.slice(-500)}`);
  return Number(m[1]);
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;

/** Two VMs: Gi0/0 joined by one wire (Rampart), Gi0/1 a LAN, and eth2 joined by a second wire (strongSwan). */
async function pair(image: string, dir: string, initrd: string | undefined, tag: string, append = ''): Promise<[Appliance, Appliance]> {
  const [p1, p2] = [await freePort(), await freePort()];
  const nics = (side: 'a' | 'b'): NicSpec[] => {
    const sock = (port: number) => (side === 'a' ? { listen: `127.0.0.1:${port}` } : { connect: `127.0.0.1:${port}` });
    return [{ socket: sock(p1), mac: `52:54:00:00:00:0${side}` }, { user: true }, { socket: sock(p2), mac: `52:54:00:00:01:0${side}` }];
  };
  const a = new Appliance({ image, dir, name: `${tag}a`, agent: true, initrd, append, nics: nics('a') });
  const b = new Appliance({ image, dir, name: `${tag}b`, agent: true, initrd, append, nics: nics('b') });
  await a.powerOn();
  await b.powerOn();
  await Promise.all([a, b].map((vm) => vm.console.expect(PROMPT, BOOT_MS)));
  return [a, b];
}

type Anchor = 'libreswan' | 'strongswan';

/** Rampart's IKEv2 tunnel over the first wire and the anchor's over the second, both up. */
async function tunnels(a: Appliance, b: Appliance, anchor: Anchor): Promise<void> {
  for (const [vm, side] of [[a, 'A'], [b, 'B']] as const) {
    const lines = ikev2PairConfig(side).map((l) => l.replace(/FastEthernet0\/(\d)/, 'GigabitEthernet0/$1'));
    for (const l of ['enable', 'configure terminal', ...lines, `ip route ${side === 'A' ? '10.2.0.0 255.255.255.0 172.16.0.2' : '10.1.0.0 255.255.255.0 172.16.0.1'}`, 'end']) await vm.cli(l);
    const [wan, lan, peer, ownLan, peerLan] = side === 'A'
      ? ['172.17.0.1', '10.1.0.1', '172.17.0.2', '10.1.0.0/24', '10.2.0.0/24'] : ['172.17.0.2', '10.2.0.1', '172.17.0.1', '10.2.0.0/24', '10.1.0.0/24'];
    if (anchor === 'libreswan') {
      await startGuestPluto(vm, { netns: 'swan', ifname: 'eth2', wan: `${wan}/24`, lan: `${lan}/32` });
      await vm.shell(`/sbin/ip netns exec swan /sbin/ip route add ${peerLan} via ${peer} src ${lan}`);
      await loadGuestLibreswan(vm, [{
        name: 'peer', version: 2, left: wan, right: peer, leftSubnet: ownLan, rightSubnet: peerLan, psk: IKEV2_PAIR_PSK,
        ike: 'aes256-sha2_256-modp2048', esp: 'aes_gcm256',
      }]);
      continue;
    }
    await startGuestCharon(vm, { netns: 'swan', ifname: 'eth2', wan: `${wan}/24`, lan: `${lan}/32` });
    await vm.shell(`/sbin/ip netns exec swan /sbin/ip route add ${peerLan} via ${peer} src ${lan}`);
    await loadGuestSwanctl(vm, [{
      name: 'peer', version: 2, localAddr: wan, remoteAddr: peer, proposals: ['aes256-sha256-modp2048'], psk: IKEV2_PAIR_PSK,
      children: [{ name: 'lan', localTs: [ownLan], remoteTs: [peerLan], espProposals: ['aes256gcm16'] }],
    }]);
  }
  // local traffic from the LAN address leaves by the route with that source
  await a.shell('/sbin/ip route replace 10.2.0.0/24 via 172.16.0.2 src 10.1.0.1');
  const init = anchor === 'libreswan' ? await guestWhack(a, '--initiate --name peer', 120000) : await guestSwanctl(a, '--initiate --child lan', 90000);
  if (init.code !== 0) throw new Error(`${anchor} pair did not come up: ${init.out.slice(-500)}`);
}

/** Alternating runs through Rampart's tunnel and strongSwan's; the medians. */
async function alternate(a: Appliance, b: Appliance, secs: number, rounds = 3): Promise<{ rampart: number; swan: number }> {
  const r: number[] = [];
  const w: number[] = [];
  for (let i = 0; i < rounds; i++) {
    r.push(await iperf(a, b, secs));
    w.push(await iperf(a, b, secs, '/sbin/ip netns exec swan '));
  }
  return { rampart: median(r), swan: median(w) };
}

export async function run(ctx: BenchContext): Promise<void> {
  const q = await qemuModule();
  const missing = q.qemuMissing();
  if (missing) { ctx.log(`appliance: skipped, ${missing}`); return; }
  const dir = mkdtempSync(join(tmpdir(), 'rampart-bench-appliance-'));
  const vms: Appliance[] = [];
  const secs = Math.max(5, ctx.seconds);
  try {
    const { outDir, manifest } = await (await firmwareModule()).buildImage({ outDir: join(dir, 'image'), log: () => {} });
    ctx.report('image-size', (manifest.bytes.vmlinuz! + manifest.bytes['rootfs.cpio.zst']!) / 1e6, 'MB');
    const flash = join(dir, 'flash.img');
    q.makeFlash(flash);
    const vm = new Appliance({ image: outDir, dir, flash, nics: [{ user: true }] });
    vms.push(vm);
    await vm.powerOn();
    await vm.console.expect(PROMPT, BOOT_MS);
    ctx.report('boot-to-prompt', (Date.now() - vm.startedAt) / 1000, 's');
    await vm.powerOff();

    const ex = await extrasModule();
    const why = ex.extrasMissing();
    if (why) { ctx.log(`appliance: esp-tcp-xfrm skipped, ${why}`); return; }
    const initrd = await ex.initrdWithExtras(outDir, ex.buildTestExtras(dir), join(dir, 'initrd-extras'));
    // BENCH_APPLIANCE_ANCHOR=strongswan: strongSwan (kernel-netlink) as the anchor instead
    const lswMissing = process.env.BENCH_APPLIANCE_ANCHOR === 'strongswan' ? 'strongSwan asked for' : ex.libreswanMissing();
    if (lswMissing) ctx.log(`appliance: ${lswMissing}; strongSwan is the anchor`);
    const anchor: Anchor = lswMissing ? 'strongswan' : 'libreswan';

    // 1. Rampart at both ends on the kernel XFRM path, the anchor beside it
    let [a, b] = await pair(outDir, dir, initrd, 'x');
    vms.push(a, b);
    await tunnels(a, b, anchor);
    const x = await alternate(a, b, secs);
    ctx.report('esp-tcp-xfrm', x.rampart, 'Mbit/s');
    ctx.report(`esp-tcp-${anchor}-guest`, x.swan, 'Mbit/s');
    ctx.ratio(`esp-tcp-vs-${anchor}-guest`, x.rampart / x.swan);
    await a.powerOff();
    await b.powerOff();

    // 2. the same VMs rebooted onto Rampart's userspace data path, the anchor beside it again
    [a, b] = await pair(outDir, dir, initrd, 'u', 'rampart.dataplane=userspace');
    vms.push(a, b);
    const path = await a.cli('show crypto engine configuration | include data path');
    if (!/userspace/.test(path)) throw new Error(`rampart.dataplane=userspace did not choose the userspace path: ${path}`);
    await tunnels(a, b, anchor);
    const u = await alternate(a, b, secs);
    ctx.report('esp-tcp-userspace-guest', u.rampart, 'Mbit/s');
    ctx.log(`appliance: ${anchor} beside the userspace run: ${u.swan.toFixed(2)} Mbit/s`);
    ctx.ratio('xfrm-vs-userspace-guest', (x.rampart / x.swan) / (u.rampart / u.swan));
  } finally {
    for (const vm of vms) await vm.powerOff().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}
