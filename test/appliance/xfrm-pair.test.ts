// The kernel fast path for real: two appliance VMs joined by a QEMU socket network (their
// GigabitEthernet0/0), each with a LAN port (GigabitEthernet0/1). In the guests the XFRM
// backend is chosen by itself; IKEv2, then IKEv1, tunnels carry pings and a TCP transfer
// between the LAN addresses through kernel ESP (the kernel's SA counters prove it). The first
// ping has no SA: the kernel's trap policy (firmware/daemon/xfrm-traps.ts) acquires, and IKE
// starts from that. Commands inside the guests go through the test agent (virtio-serial).
//
//   10.1.0.1 Gi0/1 [A] Gi0/0 172.16.0.1 ==== QEMU socket ==== 172.16.0.2 Gi0/0 [B] Gi0/1 10.2.0.1
//
// Budget: ~3 minutes on 2 idle cores (one image build, two VMs booted side by side).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Appliance, firmwareModule, qemuModule } from '../lib/appliance.js';
import { isRoot } from '../lib/netns.js';
import { ikev2PairConfig } from '../dataplane-e2e/ikev2-pair.js';
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

t.test('two appliances, IKEv2 and IKEv1 through kernel ESP', { skip }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-xfrm-'));
  // Kept when a check failed: dir/{a,b}.console.log are what the serial consoles showed.
  t.teardown(() => { if (t.passing()) rmSync(dir, { recursive: true, force: true }); else t.comment(`console logs kept in ${dir}`); });
  const built = await (await firmwareModule()).buildImage({ outDir: join(dir, 'image'), log: () => {} });
  const port = await freePort();
  const a = new Appliance({ image: built.outDir, dir, name: 'a', agent: true, nics: [{ socket: { listen: `127.0.0.1:${port}` }, mac: '52:54:00:00:00:0a' }, { user: true }] });
  const b = new Appliance({ image: built.outDir, dir, name: 'b', agent: true, nics: [{ socket: { connect: `127.0.0.1:${port}` }, mac: '52:54:00:00:00:0b' }, { user: true }] });
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
    t.match(await a.shell('/sbin/ip xfrm policy'), /src 10\.1\.0\.0\/24 dst 10\.2\.0\.0\/24\s+dir out[\s\S]*?tmpl src 172\.16\.0\.1 dst 172\.16\.0\.2/,
      'before any SA: the kernel holds the trap policy of the crypto map\'s permit');
    const before = await kernelEspPackets(a);
    t.match(await pingThrough(a, 90000), / [1-3] packets received/, 'ping from LAN A to LAN B');
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
    t.match(await pingThrough(a, 90000), / [1-3] packets received/, 'ping from LAN A to LAN B');
    t.match(await a.cli('show crypto isakmp sa'), /QM_IDLE/, 'IKEv1 SA up');
    t.ok(await kernelEspPackets(a) > before, 'the kernel ESP SAs counted the packets');
  });
});
