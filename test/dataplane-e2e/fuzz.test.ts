// Bad input at a running daemon: thousands of mutated ESP, AH and UDP-4500 packets
// (truncated, bit-flipped, garbage with a live SPI, random SPIs, oversized/fragmented) are
// sent from gwB's namespace at gwA. Bounded in count (FUZZ_COUNT per kind) and time. gwA
// must keep running, count the drops, and the established manual SAs must keep working.
import t from 'tap';
import { join } from 'node:path';
import { hasCommand, isRoot } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { ADDR, manualConfig, settle, startPair } from './rampart-pair.js';

const PY = '/usr/bin/python3';
const COUNT = Number(process.env.FUZZ_COUNT ?? 1500);
const skip = !isRoot() ? 'needs root: network namespaces, TUN, raw sockets'
  : !hasCommand('tcpdump') ? 'needs tcpdump' : !hasCommand(PY) ? 'needs python3 (with python3-scapy for pcap reading)' : undefined;

// Plain sockets; scapy only reads the capture. Seeded, bounded in count and in time.
const FUZZER = `
import json, random, socket, sys, time
from scapy.all import rdpcap, IP
a = json.loads(sys.argv[1])
rnd = random.Random(a['seed'])
seeds = [bytes(p[IP].payload) for p in rdpcap(a['pcap']) if IP in p]
assert seeds, 'no seed packets'
dst = a['dst']
esp = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
ah = socket.socket(socket.AF_INET, socket.SOCK_RAW, 51)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
deadline = time.time() + a['maxSeconds']
sent = 0
def mutate(b):
    b = bytearray(b)
    k = rnd.randrange(7)
    if k == 0: return bytes(b[:rnd.randrange(len(b) + 1)])                 # truncated
    if k == 1:
        for _ in range(rnd.randrange(1, 8)): b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
        return bytes(b)                                                    # bit flips
    if k == 2: return bytes(b[:8]) + rnd.randbytes(rnd.randrange(0, 1500)) # live SPI, garbage body
    if k == 3: return rnd.randbytes(rnd.randrange(0, 64))                  # short garbage
    if k == 4: return bytes(b[:4]) + b'\\xff\\xff\\xff\\xff' + bytes(b[8:])   # huge sequence number
    if k == 5: return bytes(b) + rnd.randbytes(rnd.randrange(1, 20000))    # oversized (fragmented)
    return bytes(b[:4]) + rnd.randbytes(4) + bytes(b[8:])                 # random seq, same body
for i in range(a['count']):
    if time.time() > deadline: break
    s = rnd.choice(seeds)
    try:
        esp.sendto(mutate(s), (dst, 0))
        # AH: next header, length, reserved, then SPI (live ESP SPI reused) and garbage
        ah.sendto(bytes([4, rnd.randrange(256), 0, 0]) + s[:4] + rnd.randbytes(rnd.randrange(0, 200)), (dst, 0))
        u = rnd.randrange(4)
        payload = mutate(s) if u == 0 else b'\\xff' if u == 1 else b'\\x00\\x00\\x00\\x00' + rnd.randbytes(rnd.randrange(0, 100)) if u == 2 else rnd.randbytes(rnd.randrange(0, 300))
        udp.sendto(payload, (dst, 4500))
        sent += 3
    except OSError:
        pass
print(sent)
`;

function engineCounter(show: string, name: string): number {
  const m = new RegExp(`${name} +(\\d+)`).exec(show);
  return m ? Number(m[1]) : NaN;
}

t.test('mutated ESP/AH/UDP-encap packets at a running daemon', { skip, timeout: 300_000 }, async (t) => {
  const pair = await startPair('dpe-fuzz');
  t.teardown(() => pair.close());
  const { lab, gwA, gwB } = pair;
  await gwA.configure(manualConfig('A'));
  await gwB.configure(manualConfig('B'));
  t.ok(await ping(lab, 'hostA', ADDR.hostB, { count: 2 }), 'tunnel up before the fuzz');

  const pcap = join(lab.dir, 'seed.pcap');
  const dump = lab.spawn('gwB', ['tcpdump', '-i', 'wan0', '-U', '-c', '4', '-w', pcap, `ip proto 50 and src ${ADDR.gwBWan}`], { name: 'tcpdump' });
  await settle(800);
  await ping(lab, 'hostB', ADDR.hostA, { count: 4 });
  await Promise.race([dump.wait(), settle(3000)]);
  await dump.stop();

  const before = await gwA.exec('show crypto engine configuration');
  const r = await lab.exec('gwB', [PY, '-c', FUZZER, JSON.stringify({ pcap, dst: ADDR.gwAWan, count: COUNT, seed: 4, maxSeconds: 60 })], { timeoutMs: 120_000 });
  t.equal(r.code, 0, `fuzzer ran ${r.stderr.slice(-300)}`);
  t.comment(`fuzz packets sent: ${r.stdout.trim()}`);
  await settle(1000);
  t.ok(gwA.proc.running, 'gwA still running');
  const after = await gwA.exec('show crypto engine configuration');
  const dropped = ['inBadPacket', 'inNoSa', 'inUnprotectErrors', 'inInformational', 'inPolicyFail']
    .reduce((n, k) => n + engineCounter(after, k) - engineCounter(before, k), 0);
  t.ok(dropped >= COUNT, `mutated packets were counted as drops (${dropped})`);
  t.equal(engineCounter(after, 'inDelivered') - engineCounter(before, 'inDelivered'), 0, 'no mutated packet was accepted');
  // IOS 15: the plain form sums the receive errors, the detail form breaks them down
  t.match(await gwA.exec('show crypto ipsec sa'), /#recv errors [1-9]/, 'per-SA receive errors counted');
  t.match(await gwA.exec('show crypto ipsec sa detail'), /#pkts verify failed: [1-9]/, 'and broken down by cause in the detail form');
  t.ok(await ping(lab, 'hostA', ADDR.hostB, { count: 3 }), 'the established SAs still carry traffic');
  t.ok(await ping(lab, 'hostB', ADDR.hostA, { count: 3 }), 'both ways');
});
