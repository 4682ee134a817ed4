// Real sockets in two namespaces joined by a veth: raw ESP and AH binds (raw-socket.ts)
// and the UDP 500 / 4500 binds (udp-encap-socket.ts). Each side is a child node process
// running fixtures/packet-io-peer.ts inside its namespace: A sends, B echoes back.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { Lab, isRoot, type LabProcess } from '../lib/netns.js';

const skip = isRoot() ? undefined : 'needs root: raw sockets and network namespaces';
const PEER = fileURLToPath(new URL('./fixtures/packet-io-peer.ts', import.meta.url));

interface SendReport {
  sent: string[];
  got: Array<{ kind: string; len: number; from: string; echoed: boolean; first: number[] }>;
  stats: { txPackets: number; rxPackets: number; rxDropped: number; sendErrors: number };
  local: { address: string; port: number };
  error?: string;
}

async function waitReady(p: LabProcess): Promise<void> {
  for (let i = 0; i < 200 && !p.output.includes('ready'); i++) {
    if (!p.running) throw new Error(`peer exited: ${p.output}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  if (!p.output.includes('ready')) throw new Error(`peer not ready: ${p.output}`);
}

async function runPair(lab: Lab, transport: string, bAddr: string, port: number, aAddr = '10.88.0.1'): Promise<{ report: SendReport; echo: LabProcess }> {
  const echo = await lab.spawnNode('b', PEER, ['echo', transport, bAddr, String(port)], { name: `echo-${transport}` });
  await waitReady(echo);
  const sender = await lab.spawnNode('a', PEER, ['send', transport, aAddr, bAddr, String(port), '5'], { name: `send-${transport}` });
  await sender.wait();
  const line = sender.output.trim().split('\n').filter((l) => l.startsWith('{')).pop() ?? '{}';
  const report = JSON.parse(line) as SendReport;
  await echo.stop();
  return { report, echo };
}

t.test('raw and UDP binds between two namespaces', { skip }, async (t) => {
  const lab = Lab.create('rt-rawsk');
  t.teardown(() => lab.destroy());
  lab.addNamespace('a');
  lab.addNamespace('b');
  lab.addVeth({ ns: 'a', ifname: 'veth-a', addr: '10.88.0.1/24' }, { ns: 'b', ifname: 'veth-b', addr: '10.88.0.2/24' });
  lab.addAddress('b', 'veth-b', '10.88.0.3/24');
  lab.addAddress('a', 'veth-a', '10.88.0.11/24');

  t.test('raw ESP (protocol 50)', async (t) => {
    const { report, echo } = await runPair(lab, 'raw-esp', '10.88.0.2', 0);
    t.same(report.sent.slice(0, 5), ['ok', 'ok', 'ok', 'ok', 'ok'], 'five ESP packets sent');
    t.equal(report.sent[5], 'unsupported', 'AH on an ESP bind is refused');
    t.equal(report.got.length, 5, 'five echoes received');
    t.ok(report.got.every((g) => g.kind === 'esp' && g.len === 48 && g.echoed && g.from === '10.88.0.2'), 'echoes are ESP from B, payload intact');
    t.same(report.got[0]?.first, [0, 0, 0x10, 0, 0, 0, 0, 1], 'SPI and sequence number start the ESP bytes (no IP header)');
    t.match(echo.output, /"from":\{"address":"10\.88\.0\.1","port":0\}/, 'B saw A\'s bound source address (IP_HDRINCL)');
  });

  t.test('raw ESP from a secondary source address', async (t) => {
    const { report, echo } = await runPair(lab, 'raw-esp', '10.88.0.2', 0, '10.88.0.11');
    t.equal(report.got.length, 5, 'echoes came back to the secondary address');
    t.match(echo.output, /"address":"10\.88\.0\.11"/, 'B saw the secondary address as source');
  });

  t.test('raw ESP: packets to another local address are not delivered', async (t) => {
    // B binds 10.88.0.3; A sends to 10.88.0.2 (also B's): B's bind must drop them
    const echo = await lab.spawnNode('b', PEER, ['echo', 'raw-esp', '10.88.0.3', '0'], { name: 'echo-filter' });
    await waitReady(echo);
    const sender = await lab.spawnNode('a', PEER, ['send', 'raw-esp', '10.88.0.1', '10.88.0.2', '0', '3'], { name: 'send-filter' });
    await sender.wait();
    await echo.stop();
    t.match(sender.output, /"sent":\["ok","ok","ok"/, 'the sender did send');
    t.notMatch(echo.output, /"kind":"esp"/, 'nothing delivered to the 10.88.0.3 bind');
  });

  t.test('raw ESP bound to a device (SO_BINDTODEVICE)', async (t) => {
    const onVeth = await lab.spawnNode('b', PEER, ['echo', 'raw-esp', '0.0.0.0', '0'], { name: 'echo-dev', env: { RAW_DEVICE: 'veth-b' } });
    const onLo = await lab.spawnNode('b', PEER, ['echo', 'raw-esp', '0.0.0.0', '0'], { name: 'echo-lo', env: { RAW_DEVICE: 'lo' } });
    await waitReady(onVeth);
    await waitReady(onLo);
    const sender = await lab.spawnNode('a', PEER, ['send', 'raw-esp', '10.88.0.1', '10.88.0.2', '0', '3'], { name: 'send-dev' });
    await sender.wait();
    await onVeth.stop();
    await onLo.stop();
    t.equal(onVeth.output.match(/"kind":"esp"/g)?.length, 3, 'the veth-bound socket got the three packets');
    t.match(onVeth.output, /"at":\{"address":"10\.88\.0\.2"/, 'a wildcard bind reports the real destination');
    t.notMatch(onLo.output, /"kind":"esp"/, 'the lo-bound socket got none');
  });

  t.test('raw ESP with the outer IPv4 header (withIpHeader)', async (t) => {
    const echo = await lab.spawnNode('b', PEER, ['echo', 'raw-esp', '10.88.0.2', '0'], { name: 'echo-iphdr', env: { RAW_WITH_IP: '1' } });
    await waitReady(echo);
    const sender = await lab.spawnNode('a', PEER, ['send', 'raw-esp', '10.88.0.1', '10.88.0.2', '0', '1'], { name: 'send-iphdr' });
    await sender.wait();
    await echo.stop();
    const line = echo.output.split('\n').find((l) => l.includes('"kind":"esp"')) ?? '{}';
    const seen = JSON.parse(line) as { len?: number; first?: number[] };
    t.equal(seen.len, 20 + 48, 'IPv4 header + ESP');
    t.same(seen.first?.slice(0, 4), [0x45, 0, 0, 68], 'starts with the IPv4 header (version/IHL, total length 68)');
  });

  t.test('raw AH (protocol 51)', async (t) => {
    const { report } = await runPair(lab, 'raw-ah', '10.88.0.2', 0);
    t.equal(report.got.length, 5, 'five AH echoes');
    t.ok(report.got.every((g) => g.kind === 'ah' && g.echoed), 'delivered as AH');
    t.equal(report.sent[5], 'unsupported', 'ESP on an AH bind is refused');
  });

  t.test('UDP 4500: IKE with non-ESP marker, ESP in UDP, keepalive', async (t) => {
    const { report, echo } = await runPair(lab, 'udp-encap', '10.88.0.2', 4500);
    t.equal(report.sent.filter((s) => s === 'ok').length, 11, 'IKE x5, ESP x5 and a keepalive sent');
    t.equal(report.got.filter((g) => g.kind === 'ike').length, 5, 'five IKE echoes');
    t.equal(report.got.filter((g) => g.kind === 'esp').length, 5, 'five ESP echoes');
    t.ok(report.got.filter((g) => g.kind === 'ike').every((g) => g.len === 40 && g.first[0] === 0x11), 'IKE delivered without the marker');
    t.match(echo.output, /"kind":"keepalive"/, 'B classified the keepalive');
  });

  t.test('UDP 500: IKE only', async (t) => {
    const { report } = await runPair(lab, 'udp', '10.88.0.2', 500);
    t.equal(report.got.length, 5, 'five IKE echoes');
    t.ok(report.got.every((g) => g.kind === 'ike' && g.len === 40), 'IKE as sent');
    t.equal(report.sent[5], 'unsupported', 'ESP on a port 500 bind is refused');
  });
});
