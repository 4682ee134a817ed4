// UdpGsoBind.onEspTrain: a GRO train whose segments mix SPIs and an IKE message (non-ESP
// marker) is handed out in order - runs of ESP to the train handler (which takes the
// leading segments it wants), the rest one datagram at a time to onPacket - and every
// datagram exactly once. Real sockets on loopback (127.0.0.1).
import t from 'tap';
import { openUdpGsoBind, udpGsoAddon, udpGsoStatus, type UdpGsoBind } from '../../firmware/dataplane/udp-gso-bind.js';
import type { PacketKind } from '../../firmware/dataplane/packet-io.js';

const skip = !udpGsoAddon() ? `native addon unavailable: ${udpGsoStatus()}` : undefined;

function datagram(spi: number, tag: number, len: number): Uint8Array {
  const p = new Uint8Array(len);
  new DataView(p.buffer).setUint32(0, spi);
  new DataView(p.buffer).setUint32(4, tag);
  return p;
}

// In this process (loopback of the runner's namespace): the kernel keeps a GSO skb whole
// on loopback for a UDP_GRO socket, so the receiver sees one train.
t.test('GRO train with mixed segments: ESP runs to the train handler, the rest one by one, in order', { skip }, async (tt) => {
  const rx: UdpGsoBind = await openUdpGsoBind({ address: '127.0.0.1', port: 0, encap: true });
  const tx: UdpGsoBind = await openUdpGsoBind({ address: '127.0.0.1', port: 0, encap: true });
  tt.teardown(async () => { await rx.close(); await tx.close(); });
  const A = 0x1111;
  const B = 0x2222;
  const LEN = 300;
  // 3 x A, IKE (zero marker), 2 x A, 2 x B, A shorter last
  const plan: Array<[number, number]> = [[A, LEN], [A, LEN], [A, LEN], [0, LEN], [A, LEN], [A, LEN], [B, LEN], [B, LEN], [A, 120]];
  const events: string[] = [];
  const trains: number[] = [];
  rx.onPacket((kind: PacketKind, data: Uint8Array) => {
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    events.push(kind === 'ike' ? `ike:${data.length}` : `${kind}:${v.getUint32(0).toString(16)}:${v.getUint32(4)}`);
  });
  rx.onEspTrain((buf, off, segSize, count, lastLen) => {
    const v = new DataView(buf.buffer, buf.byteOffset);
    let k = 0;
    while (k < count && v.getUint32(off + k * segSize) === A) k++;
    for (let i = 0; i < k; i++) events.push(`train:${v.getUint32(off + i * segSize).toString(16)}:${v.getUint32(off + i * segSize + 4)}`);
    if (k > 0) trains.push(k);
    tt.ok(lastLen >= 1 && lastLen <= segSize, 'lastLen within a segment');
    return k;
  });
  const port = rx.local.port;
  plan.forEach(([spi, len], i) => tx.sendEsp(datagram(spi, i, len), 0x7f000001, port));
  tx.flush();
  for (let i = 0; i < 100 && events.length < plan.length; i++) await new Promise((r) => setTimeout(r, 20));
  tt.comment(events.join(' '));
  const st = rx.stats;
  tt.equal(st.rxPackets, plan.length, 'every datagram counted once');
  if (st.groMessages === 0) {
    tt.comment('the kernel split the train on loopback: per-datagram delivery only');
    tt.equal(events.filter((e) => e.startsWith('esp:')).length, 8);
    return;
  }
  tt.same(events, [
    'train:1111:0', 'train:1111:1', 'train:1111:2', 'ike:296', 'train:1111:4', 'train:1111:5',
    'esp:2222:6', 'esp:2222:7', 'esp:1111:8',
  ], 'in order; after a refused run the rest of the message goes one by one');
  tt.same(trains, [3, 2], 'two runs taken by the train handler');
  tt.equal(st.groSegments, plan.length, 'all datagrams seen as GRO segments');
});
