// UDP binds with GSO/GRO (firmware/dataplane/udp-gso-bind.ts on drivers/native/src/netio.c):
// wrong arguments to the addon, RFC 3948 classification, GSO trains to a plain receiver,
// GRO trains from another namespace, refused sends reported per datagram, and the
// PacketBind behaviour of the node:dgram bind (udp-encap-socket.ts) and of the GSO bind side
// by side. Socket work runs in child processes (fixtures/udp-gso-peer.ts) inside namespaces
// this test creates, so a crash in the addon is a failed test, not a dead test runner.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { writeFileSync as writeFileSync, rmSync } from 'node:fs';
import { Lab, bundleForNode, isRoot, type LabProcess } from '../lib/netns.js';
import {
  openBestUdpBind, openUdpGsoBind, resetUdpGsoForTests, udpGsoAddon, udpGsoStatus, ipv4ToU32, u32ToIpv4,
} from '../../firmware/dataplane/udp-gso-bind.js';
import { UdpBindError } from '../../firmware/dataplane/udp-encap-socket.js';

const PEER_TS = fileURLToPath(new URL('./fixtures/udp-gso-peer.ts', import.meta.url));
/** bundled once for the whole file (the namespaced tests set it) */
let PEER = PEER_TS;
type Switch = 'RAMPART_NATIVE' | 'RAMPART_UDP_GSO';

/** Runs fn with exactly these switches set (the others removed), then restores the environment. */
async function withSwitches<T>(set: Partial<Record<Switch, string>>, fn: () => T | Promise<T>): Promise<T> {
  const saved = { RAMPART_NATIVE: process.env.RAMPART_NATIVE, RAMPART_UDP_GSO: process.env.RAMPART_UDP_GSO };
  try {
    for (const k of ['RAMPART_NATIVE', 'RAMPART_UDP_GSO'] as const) {
      if (set[k] === undefined) delete process.env[k]; else process.env[k] = set[k];
    }
    resetUdpGsoForTests();
    return await fn();
  } finally {
    for (const k of ['RAMPART_NATIVE', 'RAMPART_UDP_GSO'] as const) {
      if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
    }
    resetUdpGsoForTests();
  }
}

const native = await withSwitches({}, () => ({ ok: udpGsoAddon() !== undefined, why: udpGsoStatus() }));
const skip = !isRoot() ? 'needs root: network namespaces' : !native.ok ? `native addon unavailable: ${native.why}` : undefined;

t.test('address helpers', async (t) => {
  t.equal(ipv4ToU32('172.16.0.2'), 0xac100002);
  t.equal(ipv4ToU32('255.255.255.255'), 0xffffffff);
  t.equal(ipv4ToU32('1.2.3'), undefined);
  t.equal(ipv4ToU32('1.2.3.256'), undefined);
  t.equal(ipv4ToU32('::1'), undefined);
  t.equal(ipv4ToU32('1.2.3.x'), undefined);
  t.equal(u32ToIpv4(0xac100002), '172.16.0.2');
  t.equal(u32ToIpv4(0xffffffff), '255.255.255.255');
});

t.test('switched off: the node:dgram bind, and callers are told why', async (t) => {
  for (const [name, reason] of [['RAMPART_NATIVE', /RAMPART_NATIVE=0/], ['RAMPART_UDP_GSO', /RAMPART_UDP_GSO=0/]] as const) {
    await withSwitches({ [name]: '0' }, async () => {
      t.equal(udpGsoAddon(), undefined, `${name}=0: no addon`);
      t.match(udpGsoStatus(), reason, 'the reason names the switch');
      await t.rejects(openUdpGsoBind({ address: '127.0.0.1', port: 0, encap: true }), { name: 'UdpBindError', code: 'ENOTSUP' });
      const b = await openBestUdpBind({ address: '127.0.0.1', port: 0, encap: true });
      t.equal(b.constructor.name, 'UdpBind', 'openBestUdpBind gives the node:dgram bind');
      await b.close();
    });
  }
});

t.test('openBestUdpBind on loopback (this namespace)', { skip }, async (t) => {
  // the GSO bind is what this test is about, whatever RAMPART_NATIVE the run has
  const b = await withSwitches({}, () => openBestUdpBind({ address: '127.0.0.1', port: 0, encap: true }));
  t.equal(b.constructor.name, 'UdpGsoBind', 'the GSO bind when available');
  t.equal(b.transport, 'udp-encap');
  t.same(b.kinds, ['ike', 'esp', 'keepalive']);
  t.ok(b.local.port > 0, `bound port ${b.local.port}`);
  const err = await openBestUdpBind({ address: '127.0.0.1', port: b.local.port, encap: true }).catch((e: unknown) => e);
  t.ok(err instanceof UdpBindError, 'a second bind on the port fails (exclusive bind)');
  t.equal((err as UdpBindError).code, 'EADDRINUSE');
  t.match((err as Error).message, new RegExp(`^cannot bind UDP 127\\.0\\.0\\.1:${b.local.port}: `), 'same message format as the node:dgram bind');
  await b.close();
  await b.close();
  const v6 = await openBestUdpBind({ address: '::1', port: 0, encap: false }).catch(() => undefined);
  if (v6) { t.equal(v6.constructor.name, 'UdpBind', 'IPv6 goes to node:dgram'); await v6.close(); }
});

/** The child's last JSON line. */
function report<T>(p: LabProcess): T {
  const line = p.output.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}';
  return JSON.parse(line) as T;
}

function env(gso = true): NodeJS.ProcessEnv {
  return gso ? { RAMPART_NATIVE: '1', RAMPART_UDP_GSO: '1' } : { RAMPART_NATIVE: '1', RAMPART_UDP_GSO: '0' };
}

async function runChild<T>(lab: Lab, ns: string, args: string[], e = env()): Promise<{ r: T; code: number | null; out: string }> {
  const p = await lab.spawnNode(ns, PEER, args, { name: `${ns}-${args[0]}-${Math.random().toString(36).slice(2, 6)}`, env: e });
  const code = await p.wait();
  return { r: report<T>(p), code, out: p.output };
}

async function waitReady(p: LabProcess): Promise<void> {
  for (let i = 0; i < 400 && !/^ready/m.test(p.output); i++) await new Promise((r) => setTimeout(r, 25));
  if (!/^ready/m.test(p.output)) throw new Error(`peer not ready: ${p.output}`);
}

interface Stats {
  rxPackets: number; rxBytes: number; txPackets: number; txBytes: number; sendErrors: number; rxDropped: number; handlerErrors: number;
  groMessages: number; groSegments: number; gsoMessages: number; gsoSegments: number; sendBatches: number; rxBatches: number; rxTruncated: number;
}
interface Ep { address: string; port: number }

t.test('UDP GSO/GRO binds in test namespaces', { skip }, async (t) => {
  const lab = Lab.create('rt-udpgso');
  t.teardown(() => lab.destroy());
  PEER = await bundleForNode(PEER_TS);
  t.teardown(() => rmSync(PEER, { force: true }));
  lab.addNamespace('a');
  lab.addNamespace('b');
  lab.addVeth({ ns: 'a', ifname: 'veth-a', addr: '10.79.0.1/24' }, { ns: 'b', ifname: 'veth-b', addr: '10.79.0.2/24' });
  lab.addAddress('b', 'veth-b', '10.79.0.3/24');
  lab.execSync('a', ['ip', 'route', 'add', 'prohibit', '10.99.0.0/24']);

  t.test('wrong arguments throw or return an error, never crash', async (t) => {
    const { r: { results: r, maxSegments }, code, out } = await runChild<{ results: Record<string, string>; maxSegments: number }>(lab, 'a', ['badargs']);
    t.equal(code, 0, 'child survived every call', { output: out.slice(-2000) });
    t.equal(maxSegments, 128, "the addon checks the kernel's UDP_MAX_SEGMENTS (128 since Linux 6.6)");
    const m = (k: string, re: RegExp): void => { t.match(r[k], re, k); };
    m('open: no arguments', /^threw netOpenUdp\(/);
    for (const k of ['open: address not IPv4', 'open: address garbage', 'open: address number']) m(k, /^threw address must be a dotted IPv4/);
    m('open: port 65536', /^threw port must be an integer/);
    m('open: port -1', /^threw port must be an integer/);
    m('open: gro not boolean', /^threw gro must be a boolean/);
    m('open: rcvbuf negative', /^threw rcvbufBytes/);
    m('open: port in use', /^threw bind 127\.0\.0\.1:\d+: Address already in use \[EADDRINUSE\]$/);
    m('open: address not local', /\[EADDRNOTAVAIL\]$/);
    m('send: not a handle', /^threw expected a socket handle/);
    m('send: raw handle', /^threw expected a UDP socket handle/);
    m('recv: raw handle', /^threw expected a UDP socket handle/);
    m('send: buffer not bytes', /^threw expected a Uint8Array/);
    m('send: desc wrong type', /^threw expected a Uint32Array/);
    m('send: count beyond desc', /^threw count exceeds the descriptors/);
    m('send: count NaN', /^threw count must be an integer/);
    m('send: count 1e9', /^threw count must be an integer/);
    m('send: errs too short', /^threw errs is shorter/);
    for (const k of ['send: offset past the end', 'send: offset+len wraps', 'send: length 0', 'send: length 65508', 'send: port 0',
      'send: port 70000', 'send: segSize > length', 'send: 129 segments']) m(k, /^returned \[0,22\]$/);
    m('send: 128 segments', /^returned \[1,0\]$/);
    m('send: segSize == length', /^returned \[1,0\]$/);
    m('send: bad one in a batch', /^returned \[2,\[0,22,0\]\]$/);
    m('recv: slot 0', /^threw slotBytes/);
    m('recv: slot 65537', /^threw slotBytes/);
    m('recv: slots beyond buffer', /^threw maxCount \* slotBytes exceeds/);
    m('recv: maxCount beyond meta', /^threw maxCount exceeds meta/);
    m('recv: meta wrong type', /^threw expected a Uint32Array/);
    m('recv: drains', /^returned [1-9]\d*$/);
    m('recv: nothing waiting', /^returned 0$/);
    m('info', /"protocol":17.*"address":"127\.0\.0\.1","port":\d+/);
    m('poll: twice', /^threw already polling/);
    m('poll stop', /^returned undefined$/);
    m('close: twice', /^returned undefined$/);
    m('send: closed', /^returned -9$/);
    m('recv: closed', /^returned -9$/);
    m('poll: closed', /\[EBADF\]$/);
    m('info: closed', /"fd":-1/);
  });

  t.test('classification: encap bind and port-500 bind', async (t) => {
    const { r, code, out } = await runChild<{
      got: Array<{ bind: string; kind: string; len: number; first: number; remote: Ep; local: Ep }>;
      encapStats: Stats; ikeStats: Stats; encapLocal: Ep; txPort: number; sameRemoteObject: boolean; localObjects: string[];
      sendResults: string[]; afterClose: unknown[];
    }>(lab, 'b', ['classify', '10.79.0.2']);
    t.equal(code, 0, 'child exited cleanly', { output: out.slice(-2000) });
    const enc = r.got.filter((g) => g.bind === 'encap');
    t.same(enc.map((g) => [g.kind, g.len, g.first]), [['ike', 40, 0x5a], ['keepalive', 1, 0xff], ['esp', 60, 0], ['esp', 60, 0]],
      'IKE (marker stripped), keepalive, ESP; garbage dropped');
    t.match(r.encapStats, { rxPackets: 7, rxDropped: 3, handlerErrors: 0 }, 'three garbage datagrams counted as dropped');
    t.equal(r.encapLocal.address, '0.0.0.0', 'wildcard bind');
    t.same(enc.map((g) => g.local.address), ['10.79.0.2', '10.79.0.2', '10.79.0.2', '127.0.0.1'], 'local = the real destination (IP_PKTINFO)');
    t.ok(enc.every((g) => g.local.port === r.encapLocal.port), 'local port = the bound port');
    t.ok(enc.slice(0, 3).every((g) => g.remote.address === '10.79.0.2' && g.remote.port === r.txPort), 'remote = the sender');
    t.ok(r.sameRemoteObject, 'the same remote Endpoint object while the peer is unchanged');
    const ike = r.got.filter((g) => g.bind === 'ike');
    t.same(ike.map((g) => [g.kind, g.len]), [['ike', 40], ['ike', 60]], 'port 500: IKE only, whatever it looks like');
    t.match(r.ikeStats, { rxPackets: 3, rxDropped: 1 }, 'shorter than an IKE header: dropped');
    t.same(r.sendResults, ['unsupported', 'too-big', 'unsupported', 'error'], 'AH, > 65507 bytes, ESP on port 500, bad address');
    t.same(r.afterClose, ['closed', false], 'after close: send() says closed, sendEsp() false');
  });

  t.test('GSO send: one message of 41 datagrams to a plain receiver; mixed sizes split', async (t) => {
    const rx = await lab.spawnNode('b', PEER, ['dgram-recv', '4500', String(41 + 12 + 1 + 130 + 3)], { name: 'b-dgram', env: env() });
    await waitReady(rx);
    const { r, code, out } = await runChild<{ ok: boolean[]; pendingBefore: number; first: Stats; second: Stats; third: Stats; fourth: Stats; late: unknown[]; ikeRes: string; sendAfterClose: boolean }>(
      lab, 'a', ['gso-send', '10.79.0.2', '4500']);
    t.equal(code, 0, 'sender exited cleanly', { output: out.slice(-2000) });
    await rx.wait();
    const got = report<{ got: Array<{ len: number; i: number }> }>(rx).got;
    t.ok(r.ok.every(Boolean) && r.ok.length === 41, 'all 41 queued');
    t.equal(r.pendingBefore, 41, 'nothing sent during the synchronous run');
    t.match(r.first, { gsoMessages: 1, gsoSegments: 41, sendBatches: 1, txPackets: 41, sendErrors: 0 }, 'one GSO message of 41 datagrams, one netSendUdp');
    t.same(got.slice(0, 41).map((g) => g.i), Array.from({ length: 41 }, (_, i) => i), '41 datagrams in order, byte-identical');
    t.equal(got[40]!.len, 700, 'the shorter last one as sent');
    // [1000 x3, 500] [1000 x2] | [1000 to another port] | [1200 x2] [100 x2, 50] [100, IKE 40]
    t.match(r.second, { gsoMessages: 1 + 5, gsoSegments: 41 + 4 + 2 + 2 + 3 + 2, sendBatches: 2, sendErrors: 0 }, 'mixed sizes and destinations: the right messages');
    t.equal(r.ikeRes, 'ok', 'IKE through send() went in the same flush');
    t.same(got.slice(41, 53).map((g) => [g.i, g.len]), [
      [100, 1000], [101, 1000], [102, 1000], [103, 500], [104, 1000], [105, 1000],
      [107, 1200], [108, 1200], [109, 100], [110, 100], [111, 50], [112, 100],
    ], 'every datagram to this port, in order (106 went to another port)');
    t.match(r.third, { gsoMessages: 8, gsoSegments: 41 + 13 + 130, sendBatches: 3 }, '130 equal datagrams: two messages (at most 128 segments)');
    t.same(got.slice(54, 54 + 130).map((g) => g.i), Array.from({ length: 130 }, (_, i) => 200 + i), 'and all arrived in order');
    t.match(r.fourth, { gsoMessages: 9, gsoSegments: 41 + 13 + 130 + 3, sendErrors: 0 }, 'a GSO message of datagrams over the MTU counts as sent');
    t.same(r.late, [], 'and is not reported refused');
    t.same(got.slice(54 + 130).map((g) => [g.i, g.len]), [[400, 2000], [401, 2000], [402, 2000]], 'its datagrams went one by one (IP fragments) and arrived whole');
    t.equal(got.length, 41 + 12 + 1 + 130 + 3, 'nothing else arrived');
    t.equal(r.sendAfterClose, false, 'sendEsp after close is refused');
  });

  t.test('outer TOS: each message carries its TOS (IP_TOS), different TOS never share a message', async (t) => {
    lab.execSync('b', ['nft', 'add table ip tos; add chain ip tos in { type filter hook input priority 0; }; '
      + 'add rule ip tos in udp dport 4502 ip dscp ef counter; add rule ip tos in udp dport 4502 ip dscp cs1 counter; '
      + 'add rule ip tos in udp dport 4502 ip dscp cs0 counter'].join(' ').split(' '));
    const rx = await lab.spawnNode('b', PEER, ['dgram-recv', '4502', '18'], { name: 'b-tos', env: env() });
    await waitReady(rx);
    const { r, code, out } = await runChild<{ gsoMessages: number; gsoSegments: number; sendErrors: number }>(lab, 'a', ['tos-send', '10.79.0.2', '4502']);
    t.equal(code, 0, 'sender exited cleanly', { output: out.slice(-2000) });
    await rx.wait();
    t.equal(report<{ got: unknown[] }>(rx).got.length, 18, 'all 18 datagrams arrived');
    t.match(r, { gsoMessages: 3, gsoSegments: 18, sendErrors: 0 }, 'three GSO messages: one per TOS');
    const rules = lab.execSync('b', ['nft', 'list', 'chain', 'ip', 'tos', 'in']).stdout;
    // UDP payload bytes per DSCP (a GSO message may be counted as one packet, so bytes
    // minus one IP+UDP header per counted packet)
    const counts = [...rules.matchAll(/dscp (\w+) counter packets (\d+) bytes (\d+)/g)].map((m) => `${m[1]}=${Number(m[3]) - 28 * Number(m[2])}`);
    t.same(counts, ['ef=10000', 'cs1=5000', 'cs0=3000'], 'on the wire: 10 x 1000 bytes EF, 5 CS1, 3 default');
  });

  t.test('sendEspTrain: sealed in the lent queue space (no copy) or copied; bad trains refused', async (t) => {
    const rx = await lab.spawnNode('b', PEER, ['dgram-recv', '4503', '36'], { name: 'b-train', env: env() });
    await waitReady(rx);
    const { r, code, out } = await runChild<{ inPlace: boolean; copied: boolean; bad: boolean[]; afterClose: boolean; lentAfterClose: boolean; gsoMessages: number; gsoSegments: number; sendErrors: number }>(
      lab, 'a', ['train-send', '10.79.0.2', '4503']);
    t.equal(code, 0, 'sender exited cleanly', { output: out.slice(-2000) });
    await rx.wait();
    const got = report<{ got: Array<{ len: number; i: number }> }>(rx).got;
    t.ok(r.inPlace && r.copied, 'both trains queued');
    t.same(r.bad, [false, false, false, false], 'count 0, a train past its buffer, port 0, an oversized segment: refused');
    t.equal(r.afterClose, false, 'refused after close');
    t.ok(r.lentAfterClose, 'nothing lent after close');
    t.match(r, { gsoMessages: 2, gsoSegments: 36 }, 'two GSO messages: 31 and 5 datagrams');
    t.same(got.map((g) => [g.i, g.len]), [
      ...Array.from({ length: 31 }, (_, i) => [i, i < 30 ? 1000 : 500]),
      ...Array.from({ length: 5 }, (_, i) => [100 + i, 800]),
    ], 'every datagram arrived whole and in order');
  });

  t.test('GRO receive: a train from the other namespace arrives as one message', async (t) => {
    const go = join(lab.dir, 'gro-go');
    const rx = await lab.spawnNode('b', PEER, ['gro-recv', '4500', '45'], { name: 'b-gro', env: { ...env(), GO_FILE: go } });
    await waitReady(rx);
    const { r: sent, code } = await runChild<{ stats: Stats; local: Ep }>(lab, 'a', ['train', '10.79.0.3', '4500', '45', '1300']);
    t.equal(code, 0, 'sender exited cleanly');
    t.match(sent.stats, { gsoMessages: 1, gsoSegments: 45 }, 'sent as one GSO message');
    writeFileSync(go, '');
    await rx.wait();
    const r = report<{ got: Array<{ i: number; len: number }>; stats: Stats; remote: Ep; local: Ep; remoteObjects: number; localObjects: number; bound: Ep }>(rx);
    t.same(r.got.map((g) => g.i), Array.from({ length: 45 }, (_, i) => i), 'every segment once, in order, with the right bytes');
    t.equal(r.got[44]!.len, 1299, 'the shorter last segment');
    t.ok(r.stats.groMessages >= 1, `GRO messages: ${r.stats.groMessages}`);
    t.equal(r.stats.groSegments, 45, 'every datagram came in a GRO message');
    t.equal(r.remote.address, '10.79.0.1', 'remote address');
    t.equal(r.local.address, '10.79.0.3', 'local = the address the train was sent to (IP_PKTINFO on a 0.0.0.0 bind)');
    t.equal(r.local.port, 4500, 'local port');
    t.equal(r.bound.address, '0.0.0.0');
    t.equal(r.remoteObjects, 1, 'one remote Endpoint object for the whole train');
    t.equal(r.localObjects, 1, 'one local Endpoint object');
  });

  t.test('refused sends: onSendError once per datagram, with its tag', async (t) => {
    const rx = await lab.spawnNode('b', PEER, ['dgram-recv', '4500', '6'], { name: 'b-dgram2', env: env() });
    await waitReady(rx);
    const { r, code, out } = await runChild<{ late: Array<[unknown, number]>; stats: Stats; ike: string }>(lab, 'a', ['refused', '10.79.0.2', '10.99.0.5', '4500']);
    t.equal(code, 0, 'child exited cleanly', { output: out.slice(-2000) });
    await rx.wait();
    const got = report<{ got: Array<{ i: number }> }>(rx).got;
    t.same(r.late.map((l) => l[0]), ['bad0', 'bad1', 'bad2', 'bad3', 'bad4', 'single'], 'each refused datagram reported with its own tag (not the IKE one from send())');
    t.ok(r.late.every((l) => l[1] === 13), 'EACCES from the prohibit route');
    t.equal(r.ike, 'ok', 'send() queued the IKE message (refused later, counted)');
    t.match(r.stats, { sendErrors: 7, gsoMessages: 2, gsoSegments: 5 }, 'sendErrors per datagram; only the delivered GSO messages counted');
    t.same(got.map((g) => g.i), [0, 1, 2, 30, 31, 40], 'the good messages around the refused ones went, then the one queued from the callback');
  });

  // The PacketBind behaviour checked for node:dgram binds in raw-socket.test.ts, here for
  // both implementations and for the registry's default opener.
  const impls: Array<[string, string, NodeJS.ProcessEnv, string]> = [
    ['GSO bind', 'gso', env(), 'gso'],
    ['node:dgram bind', 'dgram', env(), 'dgram'],
    ['best, RAMPART_UDP_GSO=0', 'best', env(false), 'dgram'],
    ['registry default opener', 'registry', env(), 'gso'],
    ['registry default opener, RAMPART_UDP_GSO=0', 'registry', env(false), 'dgram'],
  ];
  for (const [name, impl, e, expect] of impls) {
    t.test(`PacketBind: ${name}`, async (t) => {
      for (const [transport, port] of [['udp-encap', 4500], ['udp', 500]] as const) {
        const echo = await lab.spawnNode('b', PEER, ['echo', impl, transport, '10.79.0.2', String(port)], { name: `echo-${impl}-${port}`, env: e });
        await waitReady(echo);
        t.match(echo.output, new RegExp(`^ready ${expect}`, 'm'), `echo side is the ${expect} bind`);
        const { r, code } = await runChild<{
          impl: string; sent: string[]; got: Array<{ kind: string; len: number; from: string; echoed: boolean; first: number[] }>; stats: Stats; local: Ep;
        }>(lab, 'a', ['send', impl, transport, '0.0.0.0', '10.79.0.2', String(port), '5'], e);
        await echo.stop();
        t.equal(code, 0, 'sender exited cleanly');
        t.equal(r.impl, expect, `sender is the ${expect} bind`);
        const lines = echo.output.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { kind: string; at: Ep; from: Ep });
        if (transport === 'udp-encap') {
          t.same(r.sent, [...Array<string>(11).fill('ok'), 'unsupported', 'too-big', 'closed'], 'IKE x5, ESP x5, keepalive; AH unsupported; too big; closed');
          t.equal(r.got.filter((g) => g.kind === 'ike').length, 5, 'five IKE echoes');
          t.equal(r.got.filter((g) => g.kind === 'esp').length, 5, 'five ESP echoes');
          t.ok(r.got.filter((g) => g.kind === 'ike').every((g) => g.len === 40 && g.first[0] === 0x11 && g.echoed), 'IKE delivered without the marker');
          t.ok(r.got.filter((g) => g.kind === 'esp').every((g) => g.len === 48 && g.echoed), 'ESP as sent');
          t.ok(lines.some((l) => l.kind === 'keepalive'), 'B classified the keepalive');
        } else {
          t.same(r.sent, ['ok', 'ok', 'ok', 'ok', 'ok', 'unsupported', 'too-big', 'closed'], 'IKE x5; ESP unsupported on port 500; too big; closed');
          t.equal(r.got.length, 5, 'five IKE echoes');
          t.ok(r.got.every((g) => g.kind === 'ike' && g.len === 40), 'IKE as sent');
        }
        t.ok(r.got.every((g) => g.from === '10.79.0.2'), 'echoes from B');
        t.ok(lines.length > 0 && lines.every((l) => l.at.port === port && l.from.address === '10.79.0.1'), 'handler endpoints: bound port, sender address');
        t.match(r.stats, { sendErrors: 0, handlerErrors: 0 }, 'no errors');
      }
    });
  }

  t.test('micro-measurement: sendEsp -> veth -> receive (1400-byte payloads)', async (t) => {
    const n = 100_000;
    const results: Record<string, string> = {};
    for (const impl of ['gso', 'dgram']) {
      const rx = await lab.spawnNode('b', PEER, ['bench-recv', impl, '4600', String(n)], { name: `bench-rx-${impl}`, env: env() });
      await waitReady(rx);
      const { r: tx, code } = await runChild<{ ms: number; stats: Stats }>(lab, 'a', ['bench-send', impl, '10.79.0.2', '4600', String(n)]);
      t.equal(code, 0, `${impl} sender exited cleanly`);
      await rx.wait();
      const r = report<{ got: number; ms: number; stats: Stats }>(rx);
      t.ok(r.got > 0, `${impl}: received ${r.got}`);
      results[impl] = `${impl}: sent ${n} in ${tx.ms.toFixed(0)} ms (${Math.round(n / tx.ms * 1000)}/s), received ${r.got} (${Math.round(r.got / r.ms * 1000)}/s over ${r.ms.toFixed(0)} ms), gso msgs ${tx.stats.gsoMessages ?? '-'}, gro msgs ${r.stats.groMessages ?? '-'}`;
      t.comment(results[impl]!);
    }
  });
});
