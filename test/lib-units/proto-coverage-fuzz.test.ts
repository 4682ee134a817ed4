// Coverage-guided fuzzing of what a hostile datagram reaches first (issue 20 item 5): the IKEv1
// and IKEv2 message decoders and the raw ESP framing, fed with mutations of real messages
// (captured from in-memory exchanges, or made by a real SA) and steered by V8 block coverage of
// firmware/proto (test/lib/coverage-fuzz.ts). Each target: no exception but its typed decode
// error, and the feedback must reach code the seeds did not. Bounded: COVERAGE_FUZZ_MS per target (default 3 s) and 30,000 executions.
import t, { type Test } from 'tap';
import * as v1 from '../../firmware/proto/ikev1/index.js';
import * as v2 from '../../firmware/proto/ikev2/index.js';
import { IpsecSa } from '../../firmware/ipsec/ipsec-sa.js';
import { DecodeError } from '../../firmware/lib/errors.js';
import { ESP_SPI_RESERVED_MAX, checkEspTrailer, decodeEspHeader } from '../../firmware/proto/esp.js';
import { decodeIpHeader } from '../../firmware/proto/ip-packet.js';
import { classifyUdpEncap, parseUdpHeader } from '../../firmware/proto/udp-encap.js';
import { espParams, parseTransformSet } from '../../firmware/ipsec/transform.js';
import { createSoftwareEngine } from '../../drivers/software/software-engine.js';
import { CoverageFuzzer, type FuzzTarget } from '../lib/coverage-fuzz.js';
import { Net, entry, pol, sel } from '../ikev1/harness.js';
import { simplePair } from '../ikev2/harness.js';
import { ipv4Udp } from '../transforms/helpers.js';

const MS = Number(process.env.COVERAGE_FUZZ_MS ?? 3000);
const EXECS = 30_000;

/** Every datagram of an IKEv1 Main Mode + Quick Mode between two in-memory engines. */
function v1Seeds(): Uint8Array[] {
  const ts = { name: 's', esp: { cipher: 'esp-aes' as const, keyLenBits: 256, integrity: 'sha' as const }, mode: 'tunnel' as const };
  const net = new Net();
  const a = net.add({ address: '10.0.0.1', policies: [pol(10, 'aes256', 'sha', 14)], keys: [{ address: '10.0.0.2', key: 'k' }], entries: [entry('10.0.0.2', '192.168.1.0/24', '192.168.2.0/24', [ts])] });
  net.add({ address: '10.0.0.2', policies: [pol(10, 'aes256', 'sha', 14)], keys: [{ address: '10.0.0.1', key: 'k' }], entries: [entry('10.0.0.1', '192.168.2.0/24', '192.168.1.0/24', [ts])] });
  a.engine.initiate({
    local: { address: '10.0.0.1', port: 500 }, remote: { address: '10.0.0.2', port: 500 },
    quickMode: { localSel: sel('192.168.1.0/24'), remoteSel: sel('192.168.2.0/24'), transformSets: [ts], lifetimeSec: 3600, lifetimeKb: 4608000 },
  });
  net.pump();
  return net.delivered.map((x) => x.d.data);
}

/** Every datagram of an IKEv2 IKE_SA_INIT + IKE_AUTH between two in-memory engines. */
function v2Seeds(): Uint8Array[] {
  const p = simplePair();
  p.a.engine.initiate('to-b');
  p.pump();
  return p.sent.map((w) => w.d.data);
}

/** Outer IPv4 packets carrying ESP (AES-CBC-256 + HMAC-SHA1) from a real outbound SA. */
function espSeeds(): Uint8Array[] {
  const ts = parseTransformSet(['esp-aes', '256', 'esp-sha-hmac']);
  const params = espParams(ts, new Uint8Array(32).fill(3), new Uint8Array(20).fill(4), false);
  const tx = new IpsecSa({ mode: 'tunnel', local: Uint8Array.of(172, 16, 0, 1), remote: Uint8Array.of(172, 16, 0, 2), esp: { spi: 0x1000, params } }, createSoftwareEngine());
  const seeds: Uint8Array[] = [];
  for (const n of [0, 1, 15, 16, 100, 1400]) {
    const r = tx.protect(ipv4Udp(new Uint8Array(n).fill(n & 0xff), [10, 1, 0, 2], [10, 2, 0, 2]));
    if (r.code === 'ok') seeds.push(r.packet);
  }
  return seeds;
}

/** What the packet path parses of a raw datagram before any crypto: IP header, ESP header or UDP encapsulation, trailer. */
function espFraming(x: Uint8Array): void {
  const h = decodeIpHeader(x);
  if (h.protocol === 17) {
    const u = parseUdpHeader(x, h.headerLength);
    if (u) classifyUdpEncap(x, h.headerLength + 8);
    return;
  }
  if (h.protocol !== 50) return;
  const e = decodeEspHeader(x, h.headerLength);
  if (e.spi <= ESP_SPI_RESERVED_MAX) return;
  // the trailer as the inbound path checks it after decryption (here on the bytes as they are)
  checkEspTrailer(x, h.headerLength + 8 + 16, Math.min(h.totalLength, x.length) - 12);
}

const fuzzer = new CoverageFuzzer(/firmware\/proto\//);
t.teardown(() => fuzzer.close());

function check(t: Test, target: FuzzTarget, seed: number): void {
  t.ok(target.seeds.length >= 4, `${target.name}: ${target.seeds.length} seed inputs`);
  const r = fuzzer.fuzz(target, { maxExecs: EXECS, maxMs: MS, seed, batch: 32 });
  t.comment(`${target.name}: ${r.execs} executions in ${r.ms.toFixed(0)} ms, blocks ${r.seedBlocks} -> ${r.blocks}, corpus ${target.seeds.length} -> ${r.corpus}`);
  t.equal(r.findings.length, 0, `${target.name}: no exception but the typed ones${r.findings[0] ? `: ${r.findings[0].error} (input ${Buffer.from(r.findings[0].input).toString('hex').slice(0, 200)})` : ''}`);
  t.ok(r.blocks > r.seedBlocks, `${target.name}: the coverage feedback reached blocks the seeds did not (${r.blocks - r.seedBlocks} more)`);
  t.ok(r.corpus > target.seeds.length, `${target.name}: inputs with new coverage joined the corpus`);
}

t.test('IKEv1 decodeMessage', async (t) => {
  check(t, {
    name: 'ikev1', seeds: v1Seeds(),
    run: (x) => {
      const m = v1.decodeMessage(x);
      if (m.payloads.length > v1.MAX_PAYLOADS) throw new Error(`unbounded: ${m.payloads.length} payloads`);
    },
    allowed: (e) => e instanceof v1.IsakmpDecodeError,
  }, 0x11);
});

t.test('IKEv2 decodeMessage', async (t) => {
  check(t, {
    name: 'ikev2', seeds: v2Seeds(),
    run: (x) => {
      const m = v2.decodeMessage(x);
      if (m.payloads.length > v2.MAX_PAYLOADS) throw new Error(`unbounded: ${m.payloads.length} payloads`);
    },
    allowed: (e) => e instanceof v2.Ikev2DecodeError,
  }, 0x22);
});

t.test('raw ESP datagram framing (IP header, ESP header, UDP encapsulation, trailer)', async (t) => {
  check(t, { name: 'esp', seeds: espSeeds(), run: espFraming, allowed: (e) => e instanceof DecodeError }, 0x33);
});
