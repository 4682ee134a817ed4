// GRO on a real TUN: two namespaces joined only by two offload TUNs that this process
// relays between (super-packets cut into 1400-octet segments on read, segments merged
// again into GSO frames on write, as the ESP path does). Three TCP streams run at once
// from a to b, over IPv4 and over IPv6; the receiver checks every byte with SHA-256. A merged frame with a wrong
// header, checksum or payload would show as a stalled or corrupted stream.
import t from 'tap';
import { Lab, isRoot } from '../lib/netns.js';
import { TunDevice } from '../../firmware/dataplane/tun.js';
import { TunGro } from '../../firmware/dataplane/tun-gro.js';

const skip = isRoot() ? undefined : 'needs root: TUN devices and network namespaces';
const NODE = process.execPath;
const STREAMS = 3;
const BYTES = 6 * 1024 * 1024;

const SERVER = (addr: string): string => `
const net = require('net'), crypto = require('crypto');
let done = 0;
const srv = net.createServer((s) => {
  const h = crypto.createHash('sha256'); let n = 0;
  s.on('data', (d) => { h.update(d); n += d.length; });
  s.on('end', () => {
    console.log('got ' + n + ' ' + h.digest('hex'));
    s.end();
    if (++done === ${STREAMS}) { srv.close(); setTimeout(() => process.exit(0), 50); }
  });
});
srv.listen(7000, '${addr}', () => console.log('ready'));
setTimeout(() => { console.log('timeout'); process.exit(3); }, 40000);
`;

const CLIENT = (addr: string, local: string): string => `
const net = require('net'), crypto = require('crypto');
for (let i = 0; i < ${STREAMS}; i++) {
  const data = crypto.randomBytes(${BYTES});
  console.log('sent ' + data.length + ' ' + crypto.createHash('sha256').update(data).digest('hex'));
  const s = net.connect({ host: '${addr}', port: 7000, localAddress: '${local}' }, () => {
    let off = 0;
    // uneven writes: segments of every size, PSH in the middle of the stream
    const step = () => {
      while (off < data.length) {
        const n = Math.min(data.length - off, 1 + ((off * 7919) % 200000));
        const more = s.write(data.subarray(off, off + n));
        off += n;
        if (!more) { s.once('drain', step); return; }
      }
      s.end();
    };
    step();
  });
  s.resume();
}
setTimeout(() => { console.log('timeout'); process.exit(3); }, 40000);
`;

for (const v6 of [false, true]) {
t.test(`TCP${v6 ? 'v6' : 'v4'} streams through segment-on-read, GRO-on-write TUNs arrive intact`, { skip }, async (t) => {
  const lab = Lab.create(v6 ? 'rt-tungro6' : 'rt-tungro');
  const [na, nb] = v6 ? ['rtgro6a', 'rtgro6b'] : ['rtgro0', 'rtgro1'];
  const ta = TunDevice.open({ name: na, offload: true });
  const tb = TunDevice.open({ name: nb, offload: true });
  const [addrA, addrB] = v6 ? ['fd61::1', 'fd62::1'] : ['10.61.0.1', '10.62.0.1'];
  t.teardown(async () => { await ta.close(); await tb.close(); await lab.destroy(); });
  lab.addNamespace('a');
  lab.addNamespace('b');
  ta.moveToNetns(lab.nsName('a'));
  tb.moveToNetns(lab.nsName('b'));
  for (const [ns, dev, mine, other] of [['a', na, addrA, v6 ? 'fd62::/64' : '10.62.0.0/24'], ['b', nb, addrB, v6 ? 'fd61::/64' : '10.61.0.0/24']] as const) {
    lab.execSync(ns, ['ip', 'addr', 'add', `${mine}/${v6 ? 64 : 24}`, 'dev', dev, ...(v6 ? ['nodad'] : [])]);
    lab.execSync(ns, ['ip', 'link', 'set', dev, 'up', 'mtu', '1400']);
    lab.execSync(ns, ['ip', 'route', 'add', other, 'dev', dev]);
  }
  let biggest = 0;
  // the handlers see segments (views into the ring); write() copies them
  ta.onPacket((p) => { biggest = Math.max(biggest, p.length); tb.write(p); });
  tb.onPacket((p) => { ta.write(p); });
  const server = lab.spawn('b', [NODE, '-e', SERVER(addrB)], { name: 'sha-server' });
  for (let i = 0; i < 100 && !server.output.includes('ready'); i++) await new Promise((r) => setTimeout(r, 50));
  t.match(server.output, /ready/, 'server listening');
  const client = lab.spawn('a', [NODE, '-e', CLIENT(addrB, addrA)], { name: 'sha-client' });
  const code = await server.wait();
  await client.stop();
  t.equal(code, 0, `server got ${STREAMS} streams to the end\n${server.output}`);
  const sent = [...client.output.matchAll(/sent (\d+) ([0-9a-f]{64})/g)].map((m) => `${m[1]} ${m[2]}`).sort();
  const got = [...server.output.matchAll(/got (\d+) ([0-9a-f]{64})/g)].map((m) => `${m[1]} ${m[2]}`).sort();
  t.equal(sent.length, STREAMS, 'client sent every stream');
  t.same(got, sent, 'every byte arrived intact (length and SHA-256 per stream)');
  const sb = tb.stats;
  const g = tb.groStats!;
  t.comment(`b: ${sb.txPackets} packets written as ${sb.txPackets - sb.txGsoSegments + sb.txGsoFrames} frames ` +
    `(${sb.txGsoFrames} GSO frames of ${(sb.txGsoSegments / Math.max(sb.txGsoFrames, 1)).toFixed(1)} segments), ` +
    `pass-through ${g.passThrough}, early flushes ${g.earlyFlushes}, fallbacks ${sb.txGsoFallbacks}; a: ${ta.stats.txPackets} packets in ${ta.stats.txGsoFrames} GSO frames`);
  t.ok(sb.txGsoFrames > 0, 'segments were merged into GSO frames');
  // how many segments a frame gets depends on TCP's TSO sizing under the box's load: a bench number
  t.ok(sb.txGsoSegments >= 2 * sb.txGsoFrames, `at least two segments per frame (${(sb.txGsoSegments / sb.txGsoFrames).toFixed(1)} on average)`);
  t.equal(sb.txErrors, 0, 'no write errors');
  t.equal(sb.txGsoFallbacks, 0, 'the kernel took every frame');
  t.equal(g.badChecksum, 0, 'no segment had a bad checksum');
  t.ok(biggest <= 1400, `read side cut segments to the MTU (largest ${biggest})`);
});
}

t.test('GRO TUN: packets pass through, in order; flush() and the microtask write what waits', { skip }, async (t) => {
  const lab = Lab.create('rt-tungrop');
  const tun = TunDevice.open({ name: 'rtgro2', offload: true });
  t.teardown(async () => { await tun.close(); await lab.destroy(); });
  lab.addNamespace('a');
  tun.moveToNetns(lab.nsName('a'));
  lab.execSync('a', ['ip', 'addr', 'add', '10.78.0.1/24', 'dev', 'rtgro2']);
  lab.execSync('a', ['ip', 'link', 'set', 'rtgro2', 'up']);
  const script = `const s=require('dgram').createSocket('udp4');let n=0;s.on('message',(m)=>{n++;console.log('got '+m.toString());if(n===3)process.exit(0)});` +
    `s.bind(7777,'10.78.0.1',()=>console.log('ready'));setTimeout(()=>process.exit(3),8000);`;
  const rx = lab.spawn('a', [NODE, '-e', script], { name: 'udp-rx' });
  for (let i = 0; i < 100 && !rx.output.includes('ready'); i++) await new Promise((r) => setTimeout(r, 50));
  const udp = (text: string): Uint8Array => {
    const payload = new TextEncoder().encode(text);
    const p = new Uint8Array(28 + payload.length);
    const v = new DataView(p.buffer);
    p[0] = 0x45; v.setUint16(2, p.length); p[8] = 64; p[9] = 17;
    p.set([10, 78, 0, 2, 10, 78, 0, 1], 12);
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += v.getUint16(i);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    v.setUint16(10, ~sum & 0xffff);
    v.setUint16(20, 5555); v.setUint16(22, 7777); v.setUint16(24, 8 + payload.length);
    p.set(payload, 28);
    return p;
  };
  /** A TCP data segment (ACK, valid checksums) to a closed port: a GRO candidate. */
  const tcpSeg = (): Uint8Array => {
    const p = new Uint8Array(40 + 100);
    const v = new DataView(p.buffer);
    p[0] = 0x45; v.setUint16(2, p.length); p[6] = 0x40; p[8] = 64; p[9] = 6;
    p.set([10, 78, 0, 2, 10, 78, 0, 1], 12);
    const fold = (x: number): number => { while (x > 0xffff) x = (x & 0xffff) + (x >>> 16); return x; };
    let sum = 0;
    for (let i = 0; i < 20; i += 2) sum += v.getUint16(i);
    v.setUint16(10, ~fold(sum) & 0xffff);
    v.setUint16(20, 5555); v.setUint16(22, 9); v.setUint32(24, 1); v.setUint32(28, 1); p[32] = 0x50; p[33] = 0x10; v.setUint16(34, 1000);
    sum = 6 + 120;
    for (let i = 12; i < 20; i += 2) sum += v.getUint16(i);
    for (let i = 20; i < p.length; i += 2) sum += v.getUint16(i);
    v.setUint16(36, ~fold(sum) & 0xffff);
    return p;
  };
  const buf = udp('first');
  t.ok(tun.write(buf), 'accepted');
  t.equal(tun.stats.txPackets, 1, 'nothing buffered: a UDP packet is written at once');
  t.ok(tun.write(tcpSeg()), 'TCP segment accepted');
  t.equal(tun.stats.txPackets, 1, 'a TCP data segment waits for the end of the batch');
  const second = udp('second');
  t.ok(tun.write(second), 'accepted');
  second.fill(0); // the caller's buffer is free again at once
  t.equal(tun.stats.txPackets, 1, 'a packet behind it waits too (order)');
  tun.flush();
  t.equal(tun.stats.txPackets, 3, 'flush() wrote both');
  t.ok(tun.write(tcpSeg()), 'accepted');
  t.ok(tun.write(udp('third')), 'accepted');
  await Promise.resolve();
  t.equal(tun.stats.txPackets, 5, 'written by the end-of-batch microtask');
  t.equal(await rx.wait(), 0, 'receiver got all three');
  t.match(rx.output, /got first[\s\S]*got second[\s\S]*got third/, 'in order, intact');
  await tun.close();
  t.notOk(tun.write(udp('late')), 'write after close returns false');
});

t.test('a GSO frame the kernel refuses is written again segment by segment', { skip }, async (t) => {
  const lab = Lab.create('rt-tungrof');
  const tun = TunDevice.open({ name: 'rtgro3', offload: true });
  t.teardown(async () => { await tun.close(); await lab.destroy(); });
  lab.addNamespace('a');
  tun.moveToNetns(lab.nsName('a'));
  lab.execSync('a', ['ip', 'addr', 'add', '10.79.0.1/24', 'dev', 'rtgro3']);
  lab.execSync('a', ['ip', 'link', 'set', 'rtgro3', 'up']);
  const frames: Uint8Array[] = [];
  const gro = new TunGro((f) => frames.push(Uint8Array.from(f)));
  const fold = (x: number): number => { while (x > 0xffff) x = (x & 0xffff) + (x >>> 16); return x; };
  for (let i = 0; i < 3; i++) {
    const p = new Uint8Array(40 + 500);
    const v = new DataView(p.buffer);
    p[0] = 0x45; v.setUint16(2, p.length); p[6] = 0x40; p[8] = 64; p[9] = 6;
    p.set([10, 79, 0, 2, 10, 79, 0, 1], 12);
    let sum = 0;
    for (let k = 0; k < 20; k += 2) sum += v.getUint16(k);
    v.setUint16(10, ~fold(sum) & 0xffff);
    v.setUint16(20, 5555); v.setUint16(22, 9); v.setUint32(24, 1 + i * 500); v.setUint32(28, 1); p[32] = 0x50; p[33] = 0x10; v.setUint16(34, 1000);
    sum = 6 + 520;
    for (let k = 12; k < 20; k += 2) sum += v.getUint16(k);
    for (let k = 20; k < p.length; k += 2) sum += v.getUint16(k);
    v.setUint16(36, ~fold(sum) & 0xffff);
    gro.add(p);
  }
  gro.flush();
  t.equal(frames.length, 1, 'one GSO frame of 3 segments');
  const bad = frames[0]!;
  bad[8] = 6; // csum_offset 6: the kernel refuses a TCP GSO frame with it (EINVAL)
  // writeOut is the GRO sink inside TunDevice; called directly to hand it this frame
  (tun as unknown as { writeOut(f: Uint8Array, q: number, n: number): void }).writeOut(bad, 0, 3);
  const st = tun.stats;
  t.equal(st.txGsoFallbacks, 1, 'the refused frame was cut back');
  t.equal(st.txPackets, 3, 'and its 3 segments written');
  t.equal(st.txErrors, 0, 'without errors');
});
