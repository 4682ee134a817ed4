// The ESP-in-UDP train paths between two Rampart daemons (root only), IKEv2 with `nat
// force-encap` on both sides, a bounded TCP stream (20 MB) from hostA to hostB whose
// SHA-256 must match on arrival:
//   - gwA seals each TCP super-packet read from its TUN in one engine call
//     (Pipeline.outboundTcpSuperPacket, native gcmSealTcp) and sends it as UDP GSO;
//   - gwB opens each UDP GRO train in one call (Pipeline.inboundUdpEspTrain, gcmOpenTrain).
// Both gateways' counters must show their path was taken.
import { createHash } from 'node:crypto';
import t from 'tap';
import { hasCommand, isRoot } from '../lib/netns.js';
import { buildSiteToSite } from '../lib/site-to-site.js';
import { rampartBundle, startGateway } from './rampart-pair.js';
import { ikev2PairConfig } from './ikev2-pair.js';
import { nativeCrypto } from '../../drivers/software/native-crypto.js';
import { udpGsoAddon } from '../../firmware/dataplane/udp-gso-bind.js';

const skip = !isRoot() ? 'needs root: network namespaces'
  : !hasCommand('ip') || !hasCommand('ping') ? 'needs iproute2 and ping'
    : !nativeCrypto()?.gcmOpenTrain || !udpGsoAddon() ? 'native addon unavailable: no GRO trains to open'
      : process.env.RAMPART_ESP_TRAIN === '0' ? 'RAMPART_ESP_TRAIN=0: trains off' : undefined;

const BAD = /^% (Invalid|Incomplete|Ambiguous|Unknown|Unrecognized)/m;
const BYTES = 20 * 1024 * 1024;
const PORT = 5601;

// Receives until the peer half-closes, answers with the SHA-256 of what arrived.
const SERVER = `
const net = require('node:net'); const { createHash } = require('node:crypto');
const srv = net.createServer((s) => { const h = createHash('sha256'); let n = 0;
  s.on('data', (d) => { h.update(d); n += d.length; });
  s.on('end', () => { s.end(n + ' ' + h.digest('hex')); srv.close(); }); });
srv.listen(${PORT}, process.argv[1], () => console.log('listening'));
setTimeout(() => process.exit(2), 180000).unref();`;

// Sends BYTES of a seeded stream, prints what the server answered.
const CLIENT = `
const net = require('node:net'); const { createHash } = require('node:crypto');
const total = ${BYTES}; let sent = 0; let block = Buffer.from('rampart esp train');
const s = net.connect(${PORT}, process.argv[1], () => {
  const pump = () => { while (sent < total) { block = createHash('sha512').update(block).digest();
      const chunk = Buffer.alloc(Math.min(65536, total - sent)); for (let o = 0; o < chunk.length; o += 64) block.copy(chunk, o);
      sent += chunk.length; if (!s.write(chunk)) { s.once('drain', pump); return; } }
    s.end(); };
  pump(); });
let answer = ''; s.on('data', (d) => { answer += d; }); s.on('end', () => { console.log(answer); process.exit(0); });
s.on('error', (e) => { console.error(e.message); process.exit(1); });
setTimeout(() => { console.error('timeout'); process.exit(3); }, 150000).unref();`;

/** The stream CLIENT sends, hashed here. */
function expectedDigest(): string {
  const h = createHash('sha256');
  let sent = 0;
  let block = Buffer.from('rampart esp train');
  while (sent < BYTES) {
    block = createHash('sha512').update(block).digest();
    const chunk = Buffer.alloc(Math.min(65536, BYTES - sent));
    for (let o = 0; o < chunk.length; o += 64) block.copy(chunk, o);
    sent += chunk.length;
    h.update(chunk);
  }
  return h.digest('hex');
}

function counter(show: string, name: string): number {
  const m = new RegExp(`^\\s+${name}\\s+(\\d+)$`, 'm').exec(show);
  return m ? Number(m[1]) : -1;
}

t.test('GRO trains of ESP in UDP opened in one call: a 20 MB TCP stream arrives intact', { skip, timeout: 300_000 }, async (tt) => {
  const { Lab } = await import('../lib/netns.js');
  const lab = Lab.create('esptrain');
  tt.teardown(() => lab.destroy());
  const a = buildSiteToSite(lab).addr;
  const bin = await rampartBundle();
  const gwA = await startGateway(lab, 'gwA', bin);
  const gwB = await startGateway(lab, 'gwB', bin);
  tt.teardown(() => { gwA.con.close(); gwB.con.close(); });
  tt.notMatch(await gwA.configure(ikev2PairConfig('A', { forceEncap: true })), BAD, 'gwA configured (nat force-encap)');
  tt.notMatch(await gwB.configure(ikev2PairConfig('B', { forceEncap: true })), BAD, 'gwB configured (nat force-encap)');
  let up = false;
  for (let i = 0; i < 30 && !up; i++) up = (await lab.exec('hostA', ['ping', '-n', '-c', '1', '-W', '1', a.hostB], { timeoutMs: 5000 })).code === 0;
  tt.ok(up, 'the tunnel came up (traffic started IKE)');
  tt.match(await gwB.exec('show crypto ipsec sa'), /UDP-Encaps/, 'gwB: SAs UDP-encapsulated');
  const before = await gwB.exec('show crypto engine configuration');
  const beforeA = await gwA.exec('show crypto engine configuration');

  const server = lab.spawn('hostB', [process.execPath, '-e', SERVER, a.hostB], { name: 'train-server' });
  for (let i = 0; i < 100 && !server.output.includes('listening'); i++) await new Promise((r) => setTimeout(r, 50));
  tt.match(server.output, /listening/, 'server listening in hostB');
  const r = await lab.exec('hostA', [process.execPath, '-e', CLIENT, a.hostB], { timeoutMs: 170_000 });
  tt.equal(r.code, 0, `client finished (${r.stderr.trim()})`);
  const [n, digest] = r.stdout.trim().split(' ');
  tt.equal(Number(n), BYTES, 'all bytes arrived');
  tt.equal(digest, expectedDigest(), 'SHA-256 of what arrived matches what was sent');

  const after = await gwB.exec('show crypto engine configuration');
  tt.comment(after.split('\n').filter((l) => /inTrain|inPackets|inDelivered|inUnprotect|udpGro/.test(l)).join('\n'));
  const trains = counter(after, 'inTrains') - Math.max(0, counter(before, 'inTrains'));
  const segs = counter(after, 'inTrainSegments') - Math.max(0, counter(before, 'inTrainSegments'));
  const pkts = counter(after, 'inPackets') - counter(before, 'inPackets');
  tt.ok(trains > 0, `gwB opened GRO trains in one call each (${trains} trains)`);
  tt.ok(segs > trains, `trains carried several segments (${segs} segments)`);
  tt.ok(segs <= pkts, `train segments are counted as inbound packets too (${segs} of ${pkts})`);
  tt.equal(counter(after, 'inUnprotectErrors'), counter(before, 'inUnprotectErrors'), 'no unprotect errors');

  const afterA = await gwA.exec('show crypto engine configuration');
  tt.comment(afterA.split('\n').filter((l) => /outSuper|outPackets|outProtected|udpGso|tunRxSuper/.test(l)).join('\n'));
  const delta = (name: string): number => counter(afterA, name) - Math.max(0, counter(beforeA, name));
  tt.ok(delta('outSuperPackets') > 0, `gwA sealed TCP super-packets whole (${delta('outSuperPackets')})`);
  tt.ok(delta('outSuperSegments') > delta('outSuperPackets'), `several segments each (${delta('outSuperSegments')} segments)`);
  tt.equal(delta('tunRxSuperPackets'), delta('outSuperPackets'), 'every super-packet the TUN handed over whole was sealed whole');
  // a segment left over when a frame does not fit one GSO message (65,507 bytes) goes alone
  tt.ok(delta('udpGsoTrains') > 0 && delta('udpGsoSegments') >= 0.9 * delta('outSuperSegments'),
    `and left as UDP GSO trains (${delta('udpGsoTrains')} trains, ${delta('udpGsoSegments')} segments)`);
  tt.equal(delta('outProtectErrors'), 0, 'no protect errors');
  tt.equal(delta('outSendErrors'), 0, 'no send errors');
});
