// The guide's use case for crypto conditional debug: a box with many tunnels, debugged one
// peer at a time. One Rampart hub and 20 strongSwan peers (one charon in a second
// namespace with 20 addresses; 15 IKEv1, 5 IKEv2), all initiated by strongSwan, with
// `debug crypto isakmp|ipsec|engine|ikev2` and `debug crypto condition peer ipv4` for one
// IKEv1 peer: every debug line in the buffer and on the console belongs to that peer. Then
// the condition moves to an IKEv2 peer and three tunnels are renegotiated: only the IKEv2
// peer's lines appear. `spi` with one flow's inbound SPI shows that flow's lines in both
// directions; `unmatched` adds context-free lines and nothing of other peers. No pre-shared
// key in the buffer, on the console or in the daemon's trace (RAMPART_DEBUG) output.
import t from 'tap';
import { Lab, isRoot, hasCommand } from '../lib/netns.js';
import { StrongswanPeer, haveStrongswan, type SwanConnection } from '../lib/strongswan.js';
import { sleep, startRampart } from '../ikev1-interop/lab.js';

const skip = !isRoot()
  ? 'needs root: network namespaces and strongSwan'
  : !haveStrongswan() ? 'needs strongSwan (strongswan-charon strongswan-swanctl libcharon-extra-plugins)'
    : !hasCommand('ip') ? 'needs iproute2' : undefined;

const N = 20;
const V2_FROM = 16;
const HUB = '172.16.0.1';
const peerAddr = (i: number) => `172.16.0.${10 + i}`;
const psk = (i: number) => `cond-dbg-psk-${i}-x7q`;
const ikev2 = (i: number) => i >= V2_FROM;

function hubConfig(): string[] {
  const v1 = Array.from({ length: N }, (_, k) => k + 1).filter((i) => !ikev2(i));
  const v2 = Array.from({ length: N }, (_, k) => k + 1).filter(ikev2);
  return [
    'hostname hub', 'logging buffered 2000000 debugging',
    'interface FastEthernet0/0', ` ip address ${HUB} 255.255.255.0`, ' no shutdown', 'exit',
    'crypto isakmp policy 10', ' encryption aes 256', ' hash sha256', ' group 14', ' authentication pre-share', 'exit',
    ...v1.map((i) => `crypto isakmp key ${psk(i)} address ${peerAddr(i)}`),
    'crypto ikev2 proposal PROP1', ' encryption aes-cbc-256', ' integrity sha256', ' group 14', 'exit',
    'crypto ikev2 policy POL1', ' proposal PROP1', 'exit',
    'crypto ikev2 keyring KR1', ...v2.flatMap((i) => [` peer P${i}`, `  address ${peerAddr(i)}`, `  pre-shared-key ${psk(i)}`, ' exit']), 'exit',
    'crypto ikev2 profile PROF1', ...v2.map((i) => ` match identity remote address ${peerAddr(i)} 255.255.255.255`), ` identity local address ${HUB}`,
    ' authentication local pre-share', ' authentication remote pre-share', ' keyring local KR1', 'exit',
    'crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac', 'exit',
    ...Array.from({ length: N }, (_, k) => k + 1).flatMap((i) => [
      `access-list ${100 + i} permit ip 10.1.0.0 0.0.0.255 10.100.${i}.0 0.0.0.255`,
      `crypto map HUB ${i * 10} ipsec-isakmp`, ` set peer ${peerAddr(i)}`, ' set transform-set TS', ` match address ${100 + i}`,
      ...(ikev2(i) ? [' set ikev2-profile PROF1'] : []), 'exit',
    ]),
    'interface FastEthernet0/0', ' crypto map HUB', 'exit',
  ];
}

function swanConns(): SwanConnection[] {
  return Array.from({ length: N }, (_, k) => k + 1).map((i) => ({
    name: `p${i}`, version: ikev2(i) ? 2 : 1, localAddr: peerAddr(i), remoteAddr: HUB, proposals: ['aes256-sha256-modp2048'], psk: psk(i), encap: true,
    children: [{ name: `c${i}`, localTs: [`10.100.${i}.0/24`], remoteTs: ['10.1.0.0/24'], espProposals: ['aes256-sha256'] }],
  }));
}

/** Debug lines of a log text: no `%FAC-SEV-MNEMONIC` system messages, no prompts or commands. */
function debugLines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/^\*?\w{3} [ \d]\d [\d:.]+: /, '')).filter((l) => l !== '' && l !== text && /^(ISAKMP|IPSEC|CryptoEngine|IKEv2|info|warn|error|debug)/.test(l));
}

/** Addresses of the 20 peers that a set of lines mentions. */
function peersMentioned(lines: string[]): Set<number> {
  const out = new Set<number>();
  for (const l of lines) for (const m of l.matchAll(/172\.16\.0\.(\d+)(?!\d)/g)) { const n = Number(m[1]) - 10; if (n >= 1 && n <= N) out.add(n); }
  return out;
}

t.test('20 tunnels, a condition on one peer: only its debug lines', { skip, timeout: 300_000 }, async (t) => {
  const lab = Lab.create('lg-cd20');
  t.teardown(() => lab.destroy());
  lab.addNamespace('hub');
  lab.addNamespace('peers');
  lab.addVeth({ ns: 'hub', ifname: 'wan0' }, { ns: 'peers', ifname: 'wan0', addr: `${peerAddr(1)}/24` });
  for (let i = 2; i <= N; i++) lab.execSync('peers', ['ip', 'addr', 'add', `${peerAddr(i)}/24`, 'dev', 'wan0']);
  // charon routes each child's traffic from an address inside its local subnet: one per LAN
  lab.execSync('peers', ['ip', 'link', 'set', 'lo', 'up']);
  for (let i = 1; i <= N; i++) lab.execSync('peers', ['ip', 'addr', 'add', `10.100.${i}.1/24`, 'dev', 'lo']);
  const swan = new StrongswanPeer(lab, 'peers');
  await swan.start();
  t.teardown(() => swan.stop());
  await swan.load(swanConns());
  const hub = await startRampart(lab, 'hub', { 'FastEthernet0/0': 'wan0' });
  t.teardown(() => hub.con.close());
  t.notMatch(await hub.configure(hubConfig()), /\[.*\] %/, 'hub configuration accepted');
  await hub.con.waitApplied();

  const run = (l: string) => hub.exec(l);
  const WATCH = 7;
  for (const l of ['debug crypto isakmp', 'debug crypto ipsec', 'debug crypto engine', 'debug crypto ikev2', `debug crypto condition peer ipv4 ${peerAddr(WATCH)}`]) await run(l);
  t.match(await run('show crypto debug-condition'), new RegExp(`IKE peer IP address filters:\\n${peerAddr(WATCH).replace(/\./g, '\\.')}\\n`));
  const failed: number[] = [];
  for (let i = 1; i <= N; i++) {
    try { await swan.initiate(`c${i}`, 30_000); } catch { failed.push(i); }
  }
  t.same(failed, [], 'strongSwan brought all 20 tunnels up');
  await sleep(500);
  const v1Sas = (await run('show crypto isakmp sa')).match(/QM_IDLE/g)?.length ?? 0;
  const v2Sas = (await run('show crypto ikev2 sa')).match(/READY/g)?.length ?? 0;
  t.equal(v1Sas + v2Sas, N, `the hub has ${v1Sas} ISAKMP and ${v2Sas} IKEv2 SAs up`);
  // everything the console line printed so far (debug lines between commands included)
  const onConsole = hub.con.transcript;

  let buffer = await hub.exec('show logging');
  let lines = debugLines(buffer);
  t.ok(lines.length >= 10, `${lines.length} debug lines in the buffer`);
  t.ok(lines.some((l) => /^ISAKMP:\(0:\d+:SW:1\):/.test(l)), 'ISAKMP lines of the watched peer');
  t.ok(lines.some((l) => l.startsWith(`IPSEC(create_sa): sa created, (sa) sa_dest= ${peerAddr(WATCH)}`)), 'its IPsec SA');
  t.ok(lines.some((l) => l.startsWith('CryptoEngine0: create IPsec SA (by keys)') && l.endsWith(`peer ${peerAddr(WATCH)}`)), 'its engine lines');
  t.same([...peersMentioned(lines)], [WATCH], 'no other peer is mentioned in any debug line of the buffer');
  const connIds = new Set(lines.map((l) => /^ISAKMP:\(0:(\d+):SW:1\)/.exec(l)?.[1]).filter((x) => x !== undefined));
  t.equal(connIds.size, 1, `ISAKMP lines of one conn-id only (${[...connIds].join(',')})`);
  const conLines = debugLines(onConsole);
  t.ok(conLines.length >= 10, `${conLines.length} debug lines on the console`);
  t.same([...peersMentioned(conLines)], [WATCH], 'the console shows the same peer only');
  const messages = buffer.match(/%CRYPTO-5-SESSION_STATUS: Crypto tunnel is UP/g)?.length ?? 0;
  t.equal(messages, N, 'system messages are not filtered: 20 SESSION_STATUS UP');

  // the condition moves to an IKEv2 peer; three tunnels are renegotiated
  const V2 = 18;
  t.match(await hub.exec('no debug crypto condition peer ipv4 ' + peerAddr(WATCH)), /Turn off the global crypto debugs/, 'the guide\'s order: debugs off first');
  await hub.exec('undebug all');
  await hub.exec('debug crypto condition reset');
  await hub.con.run('clear logging', '');
  for (const l of ['debug crypto isakmp', 'debug crypto ipsec', 'debug crypto engine', 'debug crypto ikev2', `debug crypto condition peer ipv4 ${peerAddr(V2)}`]) await hub.exec(l);
  hub.con.pending();
  for (const i of [WATCH, V2, 19]) await swan.terminate(`p${i}`);
  await sleep(500);
  for (const i of [WATCH, V2, 19]) await swan.initiate(`c${i}`, 30_000);
  await sleep(500);
  buffer = await hub.exec('show logging');
  lines = debugLines(buffer);
  t.ok(lines.length >= 3, `${lines.length} debug lines for the IKEv2 peer`);
  t.same([...peersMentioned(lines)], [V2], 'only the IKEv2 peer is mentioned');
  t.ok(lines.some((l) => l.startsWith(`IPSEC(create_sa): sa created, (sa) sa_dest= ${peerAddr(V2)}`)), 'its new IPsec SA');
  t.notOk(lines.some((l) => /^ISAKMP:/.test(l)), 'no ISAKMP line: the IKEv1 peers do not match');
  await hub.exec('undebug all');

  // spi: the lines of one flow in both directions; then unmatched adds context-free lines
  const SPI_PEER = 12;
  const sa = await hub.exec(`show crypto ipsec sa peer ${peerAddr(SPI_PEER)}`);
  const inSpi = /inbound esp sas:\s+spi: 0x([0-9A-F]+)\((\d+)\)/.exec(sa);
  const outSpi = /outbound esp sas:\s+spi: 0x([0-9A-F]+)\((\d+)\)/.exec(sa);
  t.ok(inSpi && outSpi, `peer ${SPI_PEER}'s SPIs: in 0x${inSpi?.[1]}, out 0x${outSpi?.[1]}`);
  await hub.exec('debug crypto condition reset');
  await hub.con.run('clear logging', '');
  for (const l of ['debug crypto ipsec', 'debug crypto engine', 'debug crypto ikev2', `debug crypto condition spi ${inSpi?.[2]}`]) await hub.exec(l);
  await hub.exec(`clear crypto sa peer ${peerAddr(SPI_PEER)}`);
  await sleep(300);
  lines = debugLines(await hub.exec('show logging'));
  t.ok(lines.some((l) => l.includes(`inbound spi 0x${inSpi?.[1]}(`)), 'spi: the inbound SA\'s delete');
  t.ok(lines.some((l) => l.includes(`outbound spi 0x${outSpi?.[1]}(`)), 'and the outbound one of the same flow');
  t.same([...peersMentioned(lines)], [SPI_PEER], 'spi: only that peer');
  await hub.exec('debug crypto condition unmatched');
  await swan.terminate(`p${19}`);
  await sleep(500);
  lines = debugLines(await hub.exec('show logging'));
  t.ok(lines.some((l) => /^IKEv2: (IKE SA|child) \d+ down/.test(l)), 'unmatched: context-free IKEv2 lines appear');
  t.same([...peersMentioned(lines)], [SPI_PEER], 'but no line with another peer\'s context');
  await hub.exec('undebug all');

  const everything = buffer + onConsole + hub.con.pending() + hub.proc.output;
  const leaked = Array.from({ length: N }, (_, k) => k + 1).filter((i) => everything.includes(psk(i)));
  t.same(leaked, [], 'no pre-shared key in the buffer, on the console or in the daemon trace');
});
