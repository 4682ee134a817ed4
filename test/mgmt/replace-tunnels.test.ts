// `configure replace` keeps the tunnels whose configuration did not change: two Rampart
// boxes (site-to-site topology, IKEv1) with two crypto map entries to the same peer, one per
// source host of LAN A. The replacement file differs in a crypto map entry (20: another
// transform set), an ACL no entry uses and an interface. After the replace, entry 10's IPsec
// SAs keep their SPIs and the ISAKMP SA its connection id, traffic of entry 10 never stops,
// while entry 20's SAs are gone and come back, negotiated with the new transform set.
// Root only (namespaces).
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCommand, isRoot } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { rampartPairLab, sleep, type RampartGw } from '../ikev1-interop/lab.js';

const skip = !isRoot() ? 'needs root: network namespaces' : !hasCommand('ip') || !hasCommand('ping') ? 'needs iproute2 and ping' : undefined;
const HOST_A2 = '10.1.0.3';

function config(side: 'A' | 'B'): string[] {
  const a = side === 'A';
  const peer = a ? '172.16.0.2' : '172.16.0.1';
  const acl = (host: string) => (a ? `permit ip host ${host} 10.2.0.0 0.0.0.255` : `permit ip 10.2.0.0 0.0.0.255 host ${host}`);
  return [
    `hostname gw${side}`,
    'crypto isakmp policy 10', ' encryption aes 256', ' authentication pre-share', ' group 14', 'exit',
    `crypto isakmp key replace-test-key address ${peer}`,
    'crypto ipsec transform-set ts esp-aes 256 esp-sha-hmac', 'exit',
    'crypto ipsec transform-set ts2 esp-aes esp-sha256-hmac', 'exit',
    `access-list 110 ${acl('10.1.0.2')}`,
    `access-list 120 ${acl(HOST_A2)}`,
    'crypto map cm 10 ipsec-isakmp', ` set peer ${peer}`, ' set transform-set ts', ' match address 110', 'exit',
    // B accepts either set for entry 20; A proposes ts, then (after the replace) ts2
    'crypto map cm 20 ipsec-isakmp', ` set peer ${peer}`, ` set transform-set ${a ? 'ts' : 'ts ts2'}`, ' match address 120', 'exit',
    'interface FastEthernet0/0', ` ip address ${a ? '172.16.0.1' : '172.16.0.2'} 255.255.255.0`, ' crypto map cm', ' no shutdown', 'exit',
    'interface FastEthernet0/1', ` ip address ${a ? '10.1.0.1' : '10.2.0.1'} 255.255.255.0`, ' no shutdown', 'exit',
  ];
}

/** `show crypto ipsec sa` by flow: the local host of each flow -> its SPIs and transforms. */
function flows(text: string): Map<string, { spis: string[]; transforms: string[] }> {
  const out = new Map<string, { spis: string[]; transforms: string[] }>();
  for (const block of text.split(/^\s*local\s+ident/m).slice(1)) {
    const host = /\((\d+\.\d+\.\d+\.\d+)\//.exec(block)?.[1] ?? '?';
    out.set(host, { spis: [...new Set([...block.matchAll(/spi: (0x[0-9A-F]+)/gi)].map((m) => m[1]!))].sort(), transforms: [...new Set([...block.matchAll(/transform: ([^,]+),/g)].map((m) => m[1]!.trim()))] });
  }
  return out;
}

async function pingFrom(gw: RampartGw, lab: Parameters<typeof ping>[0], src: string): Promise<boolean> {
  void gw;
  for (let i = 0; i < 3; i++) {
    const r = await lab.exec('hostA', ['ping', '-n', '-q', '-c', '3', '-i', '0.2', '-W', '2', '-I', src, '10.2.0.2'], { timeoutMs: 30_000 });
    if (r.code === 0) return true;
  }
  return false;
}

t.test('configure replace: unchanged tunnels keep their SAs, a changed entry is renegotiated', { skip, timeout: 300_000 }, async (t) => {
  const { lab, gwA, gwB } = await rampartPairLab(t, 'mgrp', { extend: (l) => l.addAddress('hostA', 'eth0', `${HOST_A2}/24`) });
  t.notMatch(await gwA.configure(config('A')), /\[.*\] %/, 'gwA configured');
  t.notMatch(await gwB.configure(config('B')), /\[.*\] %/, 'gwB configured');
  await sleep(500);
  t.ok(await pingFrom(gwA, lab, '10.1.0.2'), 'entry 10 up (10.1.0.2 -> 10.2.0.2)');
  t.ok(await pingFrom(gwA, lab, HOST_A2), `entry 20 up (${HOST_A2} -> 10.2.0.2)`);
  const isakmpBefore = (await gwA.exec('show crypto isakmp sa')).split('\n').filter((l) => /QM_IDLE/.test(l));
  const before = flows(await gwA.exec('show crypto ipsec sa'));
  t.equal(isakmpBefore.length, 1, 'one ISAKMP SA for both entries');
  t.equal(before.get('10.1.0.2')?.spis.length, 2, 'entry 10 has an inbound and an outbound SPI');
  t.equal(before.get(HOST_A2)?.spis.length, 2, 'entry 20 too');

  // the new file: entry 20 with another transform set, an unused ACL, a new interface
  await gwA.con.run('copy running-config flash:base.cfg', '');
  const flash = join(lab.dir, 'gwA', 'flash');
  const base = readFileSync(join(flash, 'base.cfg'), 'utf8');
  const next = base
    .replace(/(crypto map cm 20 ipsec-isakmp[\s\S]*?) set transform-set ts\n/, '$1 set transform-set ts2\n')
    .replace(/^access-list 120 .*$/m, (l) => `${l}\naccess-list 199 permit ip any host 192.0.2.1`)
    .replace(/^interface FastEthernet0\/0$/m, 'interface Loopback5\n ip address 192.0.2.5 255.255.255.255\n!\ninterface FastEthernet0/0');
  t.not(next, base, 'the file differs');
  writeFileSync(join(flash, 'next.cfg'), next);

  // entry 10's traffic runs through the replace
  const watch = lab.spawn('hostA', ['ping', '-n', '-i', '0.1', '-c', '40', '-W', '1', '-I', '10.1.0.2', '10.2.0.2'], { name: 'ping-entry10' });
  await sleep(800);
  const list = await gwA.con.run('configure replace flash:next.cfg list force');
  t.match(list, /!List of Commands:\n/, 'the commands are listed');
  const cmds = list.slice(list.indexOf('!List of Commands:\n') + 19, list.indexOf('\nend\n')).split('\n');
  t.strictSame(cmds.filter((l) => !/^\s/.test(l)).sort(), ['access-list 199 permit ip any host 192.0.2.1', 'crypto map cm 20 ipsec-isakmp', 'interface Loopback5'].sort(), `only the differences are applied: ${cmds.join(' | ')}`);
  t.ok(cmds.includes(' set transform-set ts2'), 'entry 20 gets the new transform set');
  t.match(list, /Rollback Done/);
  t.match(await gwA.exec('show archive config differences flash:next.cfg'), /!No changes were found/, 'the running configuration is the file');
  await gwA.con.waitApplied();
  await sleep(300);

  const mid = flows(await gwA.exec('show crypto ipsec sa'));
  t.strictSame(mid.get('10.1.0.2')?.spis, before.get('10.1.0.2')?.spis, 'entry 10 keeps its SPIs');
  t.notOk((mid.get(HOST_A2)?.spis ?? []).some((s) => before.get(HOST_A2)!.spis.includes(s)), 'entry 20\'s old SAs are gone');
  const end = Date.now() + 15_000;
  while (watch.running && Date.now() < end) await sleep(200);
  const m = /(\d+) packets transmitted, (\d+) received/.exec(watch.output);
  t.ok(m && Number(m[1]) - Number(m[2]) <= 1, `entry 10's traffic never stopped: ${m?.[0] ?? watch.output.slice(-200)}`);

  t.ok(await pingFrom(gwA, lab, HOST_A2), 'entry 20 comes back on traffic');
  t.ok(await pingFrom(gwA, lab, '10.1.0.2'), 'entry 10 still passes traffic');
  const after = flows(await gwA.exec('show crypto ipsec sa'));
  t.strictSame(after.get('10.1.0.2')?.spis, before.get('10.1.0.2')?.spis, 'entry 10: same SPIs after the replace');
  const e20 = after.get(HOST_A2);
  t.equal(e20?.spis.length, 2, 'entry 20 negotiated a new pair');
  t.notOk(e20?.spis.some((s) => before.get(HOST_A2)!.spis.includes(s)), `entry 20: new SPIs (${before.get(HOST_A2)!.spis.join(',')} -> ${e20?.spis.join(',')})`);
  t.match(e20?.transforms.join(' ') ?? '', /sha256/, `entry 20 runs the new transform set (${e20?.transforms.join(', ')})`);
  t.match(before.get('10.1.0.2')?.transforms.join(' ') ?? '', /sha-hmac/, 'entry 10 kept the old one');
  const isakmpAfter = (await gwA.exec('show crypto isakmp sa')).split('\n').filter((l) => /QM_IDLE/.test(l));
  t.strictSame(isakmpAfter, isakmpBefore, 'the ISAKMP SA is the same (same connection id)');
});
