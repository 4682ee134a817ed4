// packet-io.ts (RFC 3948 demux helpers) and the in-memory fake network.
import t from 'tap';
import {
  classifyUdpEncap, encodeUdpEncap, NON_ESP_MARKER_BYTES, TRANSPORT_KINDS, type PacketKind, type Endpoint,
} from '../../firmware/dataplane/packet-io.js';
import { FakeNetwork } from '../../firmware/dataplane/packet-io-fake.js';

const ike = (n = 28): Uint8Array => { const b = new Uint8Array(n); b[0] = 0x5a; return b; };
const esp = (spi = 0x01020304, n = 24): Uint8Array => { const b = new Uint8Array(n); new DataView(b.buffer).setUint32(0, spi); return b; };

t.test('classifyUdpEncap (RFC 3948 section 2)', async (t) => {
  t.equal(classifyUdpEncap(Uint8Array.of(0xff)), 'keepalive', 'single 0xFF octet');
  t.equal(classifyUdpEncap(Uint8Array.of(0xfe)), 'invalid', 'single other octet');
  t.equal(classifyUdpEncap(new Uint8Array(0)), 'invalid', 'empty');
  t.equal(classifyUdpEncap(esp(0x01020304, 8)), 'esp', 'SPI + sequence number is the ESP minimum');
  t.equal(classifyUdpEncap(esp(0x01020304, 7)), 'invalid', 'shorter than SPI + seq');
  const withMarker = new Uint8Array(NON_ESP_MARKER_BYTES + 28);
  t.equal(classifyUdpEncap(withMarker), 'ike', 'zero marker + IKE header');
  t.equal(classifyUdpEncap(withMarker.subarray(0, 31)), 'invalid', 'marker but truncated IKE header');
  t.equal(classifyUdpEncap(new Uint8Array(8)), 'invalid', 'zero SPI without room for IKE is not ESP');
});

t.test('encodeUdpEncap', async (t) => {
  const e = encodeUdpEncap('ike', ike(30))!;
  t.equal(e.length, 34, 'marker added');
  t.same(Array.from(e.subarray(0, 5)), [0, 0, 0, 0, 0x5a], 'four zero octets then the IKE message');
  const p = esp();
  t.equal(encodeUdpEncap('esp', p), p, 'ESP goes as is');
  t.same(Array.from(encodeUdpEncap('keepalive', new Uint8Array(5))!), [0xff], 'keepalive is one 0xFF');
  t.equal(encodeUdpEncap('ah', p), undefined, 'AH cannot be UDP-encapsulated');
});

t.test('fake network: UDP 4500 binds carry IKE, ESP and keepalives', async (t) => {
  const net = new FakeNetwork();
  const a = net.bind('udp-encap', { address: '192.0.2.1', port: 4500 });
  const b = net.bind('udp-encap', { address: '192.0.2.2', port: 4500 });
  const got: Array<{ kind: PacketKind; len: number; from: Endpoint; first: number }> = [];
  b.onPacket((kind, data, from) => got.push({ kind, len: data.length, from, first: data[0] ?? -1 }));
  t.equal(a.send('ike', ike(40), { address: '192.0.2.2', port: 4500 }), 'ok');
  t.equal(a.send('esp', esp(), { address: '192.0.2.2', port: 4500 }), 'ok');
  t.equal(a.send('keepalive', new Uint8Array(0), { address: '192.0.2.2', port: 4500 }), 'ok');
  t.equal(a.send('ah', esp(), { address: '192.0.2.2', port: 4500 }), 'unsupported', 'AH refused on UDP');
  t.equal(got.length, 0, 'nothing delivered synchronously');
  await Promise.resolve();
  t.same(got.map((g) => g.kind), ['ike', 'esp', 'keepalive'], 'classified in order');
  t.equal(got[0]!.len, 40, 'IKE delivered without its marker');
  t.equal(got[0]!.first, 0x5a, 'IKE bytes intact');
  t.same(got[0]!.from, { address: '192.0.2.1', port: 4500 }, 'source endpoint');
  t.equal(net.log[0]!.wire.length, 44, 'the wire carried the marker');
  t.equal(a.stats.txPackets, 3);
  t.equal(b.stats.rxPackets, 3);
});

t.test('fake network: raw ESP/AH, manual delivery, filters, errors', async (t) => {
  const net = new FakeNetwork({ delivery: 'manual' });
  const a = net.bind('raw-esp', { address: '198.51.100.1', port: 0 });
  const b = net.bind('raw-esp', { address: '0.0.0.0', port: 0 });
  const ah = net.bind('raw-ah', { address: '198.51.100.2', port: 0 });
  t.same(a.kinds, TRANSPORT_KINDS['raw-esp']);
  const seen: string[] = [];
  b.onPacket((kind, data, from, at) => seen.push(`${kind}:${data.length}:${from.address}>${at.address}`));
  const ahSeen: number[] = [];
  ah.onPacket((_k, data) => ahSeen.push(data.length));

  const buf = esp();
  a.send('esp', buf, { address: '198.51.100.2', port: 1234 });
  buf.fill(0); // the fake copied it, like a socket
  t.equal(net.pending, 1, 'queued until flush');
  t.equal(net.flush(), 1);
  t.same(seen, ['esp:24:198.51.100.1>198.51.100.2'], 'wildcard bind got it, with the real destination');

  net.filter = (tr) => (tr.wire.length === 9 ? 'drop' : tr.wire.length === 10 ? Uint8Array.from(tr.wire.subarray(0, 7)) : 'pass');
  a.send('esp', esp(1, 9), { address: '198.51.100.2', port: 0 });
  a.send('esp', esp(1, 10), { address: '198.51.100.2', port: 0 });
  net.flush();
  t.equal(seen.length, 1, 'dropped one, truncated the other (7 bytes: counted as rxDropped)');
  t.equal(b.stats.rxDropped, 1, 'truncated ESP counted');
  net.filter = undefined;

  b.onPacket(() => { throw new Error('handler bug'); });
  a.send('esp', esp(), { address: '198.51.100.9', port: 0 });
  net.flush();
  t.equal(b.stats.handlerErrors, 1, 'a throwing handler is counted, not propagated');

  const x = net.bind('raw-ah', { address: '198.51.100.1', port: 0 });
  x.send('ah', new Uint8Array(16), { address: '198.51.100.2', port: 0 });
  x.send('ah', new Uint8Array(11), { address: '198.51.100.2', port: 0 });
  net.flush();
  t.same(ahSeen, [16], 'AH delivered to the AH bind only, short one dropped');

  await a.close();
  t.equal(a.send('esp', esp(), { address: '198.51.100.2', port: 0 }), 'closed');
  const c = net.bind('raw-esp', { address: '198.51.100.1', port: 0 });
  t.ok(c, 'address free again after close');
  t.throws(() => net.bind('raw-esp', { address: '198.51.100.1', port: 0 }), /already bound/);
  c.send('esp', esp(), { address: '203.0.113.1', port: 0 });
  b.onPacket(() => {});
  const before = net.undeliverable;
  await c.close();
  await b.close();
  net.flush();
  t.equal(net.undeliverable, before + 1, 'nobody at the destination: counted');
});

t.test('fake network: UDP 500 and port 0', async (t) => {
  const net = new FakeNetwork();
  const a = net.bind('udp', { address: '192.0.2.1', port: 0 });
  const b = net.bind('udp', { address: '192.0.2.2', port: 500 });
  t.ok(a.local.port >= 40000, `port 0 picked ${a.local.port}`);
  t.throws(() => net.bind('udp-encap', { address: '192.0.2.2', port: 500 }), /already bound/, 'UDP ports are shared between udp and udp-encap');
  const got: Array<[PacketKind, number, number]> = [];
  b.onPacket((k, d, from) => got.push([k, d.length, from.port]));
  t.equal(a.send('esp', esp(), { address: '192.0.2.2', port: 500 }), 'unsupported', 'no ESP on port 500');
  a.send('ike', ike(28), { address: '192.0.2.2', port: 500 });
  a.send('ike', ike(27), { address: '192.0.2.2', port: 500 });
  await new Promise((r) => setImmediate(r));
  t.same(got, [['ike', 28, a.local.port]], 'IKE delivered, a short one dropped');
  t.equal(b.stats.rxDropped, 1);
});

t.test('raw binds without root say what is missing', { skip: process.getuid?.() === 0 ? 'runs only without root' : undefined }, async (t) => {
  const { openRawBind } = await import('../../firmware/dataplane/raw-socket.js');
  t.throws(() => openRawBind({ protocol: 'esp', localAddress: '127.0.0.1' }), { name: 'RawBindError' });
});
