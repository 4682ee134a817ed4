// Golden bytes for the netlink/XFRM codec. Three sources of truth:
//  1. byte layouts written out by hand from <linux/xfrm.h> (offsets checked with gcc's
//     offsetof on x86-64: usersa_info 224, userpolicy_info 168, user_acquire 280, ...)
//  2. requests captured from iproute2's `ip xfrm` with strace (fixtures/ip-xfrm-requests.json)
//  3. messages the kernel sent here (fixtures/kernel-xfrm-notifications.json)
import t from 'tap';
import { readFileSync } from 'node:fs';
import {
  HOST_LE, NLMSG_ERROR, NLM_F_ACK, NLM_F_REQUEST, NetlinkBadLengthError, NetlinkDecodeError,
  NetlinkTruncatedError, decodeAttributes, decodeNetlinkError, decodeNetlinkMessages, encodeAttribute,
  encodeNetlinkError, encodeNetlinkMessage, errnoName, type NetlinkHeader,
} from '../../firmware/proto/netlink-core.js';
import {
  AF_INET, AF_INET6, IOS_TRANSFORM_XFRM, XFRM_INF, XFRM_MODE_TUNNEL, XFRM_MSG_DELSA, XFRM_MSG_GETSA,
  XFRM_MSG_NEWSA, XFRM_MSG_UPDPOLICY, XFRM_MSG_UPDSA, XFRM_POLICY_OUT, XFRMA_ALG_AUTH_TRUNC,
  XFRMA_ALG_CRYPT, XfrmAddressError, XfrmAlgorithmError, algorithmAttributes, decodeXfrmMessage,
  emptyUsersaInfo, encodeAcquire, encodeAllocSpi, encodeDelPolicy, encodeDelSa, encodeDumpPolicy,
  encodeExpire, encodeFlushPolicy, encodeFlushSa, encodeGetPolicy, encodeGetSa, encodeNewPolicy,
  encodeNewSa, formatIpAddress, parseIpAddress, xfrmAlgorithmFor, type XfrmMessage,
} from '../../firmware/proto/netlink-xfrm.js';
import {
  COMPRESSION_TRANSFORMS, ENCRYPTION_TRANSFORMS, INTEGRITY_TRANSFORMS, type SaSpec,
} from '../../firmware/kernel/kernel-ipsec.js';
import {
  policyIdToXfrm, policySpecToXfrm, saIdToXfrm, saSpecToXfrm,
} from '../../firmware/kernel/xfrm-backend.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
/** The message without the trailing alignment padding (ip sends a 17-byte FLUSHSA unpadded). */
const hexMsg = (b: Uint8Array) => hex(b.subarray(0, new DataView(b.buffer, b.byteOffset).getUint32(0, true)));
const unhex = (s: string) => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const fx = (name: string): string => {
  const j = JSON.parse(readFileSync(new URL('./fixtures/ip-xfrm-requests.json', import.meta.url), 'utf8')) as Record<string, { hex: string }>;
  const e = j[name];
  if (!e) throw new Error(`no fixture ${name}`);
  return e.hex;
};
const kfx = (name: string): string => {
  const j = JSON.parse(readFileSync(new URL('./fixtures/kernel-xfrm-notifications.json', import.meta.url), 'utf8')) as Record<string, { hex: string }>;
  const e = j[name];
  if (!e) throw new Error(`no fixture ${name}`);
  return e.hex;
};
const decodeOne = (h: string): XfrmMessage => {
  const msgs = decodeNetlinkMessages(unhex(h));
  if (msgs.length !== 1) throw new Error(`expected one message, got ${msgs.length}`);
  return decodeXfrmMessage(msgs[0]!);
};
const seqOf = (h: string) => decodeNetlinkMessages(unhex(h))[0]!.header.seq;
const K = (n: number) => new Uint8Array(Array.from({ length: n }, (_, i) => i));

t.ok(HOST_LE, 'these golden bytes are little-endian host order (x86-64 / arm64)');

t.test('netlink header and attribute framing, by hand', async (t) => {
  const m = encodeNetlinkMessage(0x10, NLM_F_REQUEST | NLM_F_ACK, 0x01020304, 0, Uint8Array.of(0xaa));
  // len=17 (16 + 1) little-endian, type 0x0010, flags 0x0005, seq, pid 0, payload, 3 pad bytes
  t.equal(hex(m), '11000000' + '1000' + '0500' + '04030201' + '00000000' + 'aa000000');
  const a = encodeAttribute(21, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
  t.equal(hex(a), '0c00' + '1500' + '0102030405060708');
  const odd = encodeAttribute(3, Uint8Array.of(9));
  t.equal(hex(odd), '0500' + '0300' + '09000000', 'nla_len excludes padding');
  const parsed = decodeAttributes(new Uint8Array([...a, ...odd]));
  t.same(parsed.map((x) => [x.type, hex(x.data), x.offset]), [[21, '0102030405060708', 0], [3, '09', 12]]);
});

t.test('framing errors are typed and carry offsets', async (t) => {
  t.throws(() => decodeNetlinkMessages(unhex('1000000010')), NetlinkTruncatedError);
  const short = unhex('0c000000' + '10000500' + '01000000' + '00000000');
  const e1 = t.throws(() => decodeNetlinkMessages(short), NetlinkBadLengthError) as unknown as NetlinkDecodeError;
  t.equal(e1.offset, 0);
  const overrun = unhex('40000000' + '10000500' + '01000000' + '00000000');
  t.throws(() => decodeNetlinkMessages(overrun), NetlinkBadLengthError);
  const two = new Uint8Array([...encodeNetlinkMessage(3, 0, 1, 0, new Uint8Array(4)), ...unhex('ff000000')]);
  t.throws(() => decodeNetlinkMessages(two), NetlinkTruncatedError, 'trailing garbage after a message');
  const badAttr = unhex('0200' + '0100');
  const e2 = t.throws(() => decodeAttributes(badAttr, 40), NetlinkBadLengthError) as unknown as NetlinkDecodeError;
  t.equal(e2.offset, 40);
  t.throws(() => decodeAttributes(unhex('0900' + '0100' + '0000')), NetlinkBadLengthError, 'nla_len past the container');
  // A NEWSA cut short inside xfrm_usersa_info
  const sa = unhex(fx('sa-cbc-sha256'));
  const cut = sa.slice(0, 16 + 100);
  new DataView(cut.buffer).setUint32(0, cut.byteLength, true);
  t.throws(() => decodeXfrmMessage(decodeNetlinkMessages(cut)[0]!), NetlinkTruncatedError);
  // The offset is counted from the start of the datagram: a 20-byte message comes first.
  const dgram = new Uint8Array([...encodeNetlinkMessage(3, 0, 1, 0, new Uint8Array(4)), ...cut]);
  const second = decodeNetlinkMessages(dgram)[1]!;
  const e3 = t.throws(() => decodeXfrmMessage(second), NetlinkTruncatedError) as unknown as NetlinkDecodeError;
  t.equal(e3.offset, 20 + 16, 'xfrm_usersa_info starts right after the second header');
  // An XFRMA_ALG_CRYPT whose key length runs past the attribute
  const sa2 = unhex(fx('sa-cbc-sha256'));
  new DataView(sa2.buffer).setUint32(16 + 224 + 4 + 64, 4096, true);
  const e4 = t.throws(() => decodeXfrmMessage(decodeNetlinkMessages(sa2)[0]!), NetlinkTruncatedError) as unknown as NetlinkDecodeError;
  t.equal(e4.offset, 16 + 224 + 4 + 68, 'points at the key');
});

t.test('addresses', async (t) => {
  t.same(parseIpAddress('192.0.2.1'), { family: AF_INET, bytes: unhex('c0000201' + '00'.repeat(12)) });
  t.equal(hex(parseIpAddress('2001:db8::1').bytes), '20010db8000000000000000000000001');
  t.equal(hex(parseIpAddress('::ffff:10.0.0.1').bytes), '00000000000000000000ffff0a000001');
  t.equal(formatIpAddress(AF_INET6, parseIpAddress('2001:0db8:0:0:1:0:0:1').bytes), '2001:db8::1:0:0:1');
  t.equal(formatIpAddress(AF_INET6, new Uint8Array(16)), '::');
  t.equal(formatIpAddress(AF_INET6, parseIpAddress('fe80:0:0:0:1:2:3:4').bytes), 'fe80::1:2:3:4');
  t.equal(formatIpAddress(AF_INET6, parseIpAddress('1:2:3:4:5:6:7:8').bytes), '1:2:3:4:5:6:7:8');
  for (const bad of ['10.0.0', '10.0.0.256', '1::2::3', 'hello', '1:2:3:4:5:6:7:8:9', '']) {
    t.throws(() => parseIpAddress(bad), XfrmAddressError, bad);
  }
});

t.test('DELSA laid out by hand', async (t) => {
  const m = encodeDelSa({ seq: 7 }, { daddr: '10.0.0.2', spi: 0xc0ffee01, family: AF_INET, proto: 50 }, { srcaddr: '10.0.0.1' });
  const expected =
    '3c000000' + '1100' + '0500' + '07000000' + '00000000' + // nlmsghdr: len 60, DELSA, REQUEST|ACK
    '0a000002' + '00'.repeat(12) + // xfrm_usersa_id.daddr
    'c0ffee01' + // spi, big-endian
    '0200' + '32' + '00' + // family AF_INET, proto ESP, pad
    '1400' + '0d00' + '0a000001' + '00'.repeat(12); // XFRMA_SRCADDR (13), 20 bytes
  t.equal(hex(m), expected);
});

t.test('NEWSA laid out by hand (offsets of xfrm_usersa_info)', async (t) => {
  const info = emptyUsersaInfo(AF_INET);
  info.id = { daddr: '10.0.0.2', spi: 0x100, proto: 50 };
  info.saddr = '10.0.0.1';
  info.reqid = 1;
  info.mode = XFRM_MODE_TUNNEL;
  info.lft.softAddExpiresSec = 0x0102n;
  const m = encodeNewSa({ seq: 1 }, info, { algCrypt: { name: 'cbc(aes)', key: K(16) } });
  const p = m.subarray(16);
  t.equal(m.byteLength, 16 + 224 + 4 + 68 + 16);
  t.equal(hex(p.subarray(0, 56)), '00'.repeat(56), 'selector: any');
  t.equal(hex(p.subarray(56, 80)), '0a000002' + '00'.repeat(12) + '00000100' + '32000000', 'xfrm_id at 56');
  t.equal(hex(p.subarray(80, 96)), '0a000001' + '00'.repeat(12), 'saddr at 96-16');
  t.equal(hex(p.subarray(96, 128)), 'ff'.repeat(32), 'byte and packet limits = XFRM_INF');
  t.equal(hex(p.subarray(128, 136)), '0201000000000000', 'soft_add_expires_seconds u64 host order');
  t.equal(hex(p.subarray(208, 217)), '01000000' + '0200' + '01' + '00' + '00', 'reqid, family, mode, replay_window, flags');
  t.equal(hex(p.subarray(224, 232)), '5800' + '0200' + hex(new TextEncoder().encode('cbc(')), 'XFRMA_ALG_CRYPT len 88');
  t.equal(hex(p.subarray(224 + 4 + 64, 224 + 4 + 68)), '80000000', 'alg_key_len in bits');
});

t.test('ACQUIRE laid out by hand and decoded', async (t) => {
  const sel = '0a020005' + '00'.repeat(12) + '0a010001' + '00'.repeat(12) + // daddr, saddr
    '0050' + 'ffff' + '0000' + '0000' + '0200' + '20' + '20' + '06' + '000000' + '00000000' + '00000000';
  const policy = '0a020000' + '00'.repeat(12) + '0a010000' + '00'.repeat(12) + '0000000000000000' + '0200' + '18' + '18' + '00' + '000000' + '00000000' + '00000000' +
    'ff'.repeat(32) + '00'.repeat(32) + '00'.repeat(32) + // lft, curlft
    '64000000' + '49000000' + '01' + '00' + '00' + '00' + '00000000'; // priority 100, index 0x49, dir out, pad to 168
  const body = 'c6336402' + '00'.repeat(12) + '00000000' + '32' + '000000' + // id: daddr 198.51.100.2, spi 0, ESP
    'c0000201' + '00'.repeat(12) + sel + policy +
    '00000000' + 'ffffffff' + '00000000' + '2a000000'; // aalgos, ealgos, calgos, seq 42
  t.equal(body.length / 2, 280);
  const tmpl = 'c6336402' + '00'.repeat(12) + '00000000' + '32000000' + '0200' + '0000' + 'c0000201' + '00'.repeat(12) +
    '07000000' + '01' + '00' + '00' + '00' + 'ffffffff'.repeat(3);
  const attr = '4400' + '0500' + tmpl;
  const msg = unhex('6c010000' + '1700' + '0000' + '00000000' + '00000000' + body + attr);
  const d = decodeOne(hex(msg));
  t.equal(d.kind, 'acquire');
  if (d.kind !== 'acquire') return;
  t.equal(d.acquire.id.daddr, '198.51.100.2');
  t.equal(d.acquire.saddr, '192.0.2.1');
  t.same([d.acquire.sel.saddr, d.acquire.sel.daddr, d.acquire.sel.proto, d.acquire.sel.dport], ['10.1.0.1', '10.2.0.5', 6, 80]);
  t.same([d.acquire.policy.index, d.acquire.policy.dir, d.acquire.policy.priority], [0x49, XFRM_POLICY_OUT, 100]);
  t.equal(d.acquire.seq, 42);
  t.equal(d.attrs.tmpls?.[0]?.reqid, 7);
  // and the encoder writes the same bytes back
  t.equal(hex(encodeAcquire({ seq: 0 }, d.acquire, d.attrs)), hex(msg));
});

t.test('every request ip xfrm sent here decodes and re-encodes to the same bytes', async (t) => {
  const all = JSON.parse(readFileSync(new URL('./fixtures/ip-xfrm-requests.json', import.meta.url), 'utf8')) as Record<string, { cmd: string; hex: string }>;
  t.ok(Object.keys(all).length >= 19);
  for (const [name, { cmd, hex: h }] of Object.entries(all)) {
    const d = decodeOne(h);
    const hd = { seq: d.header.seq, pid: d.header.pid };
    let again: Uint8Array;
    switch (d.kind) {
      case 'sa': again = encodeNewSa(hd, d.info, d.attrs, d.header.type === XFRM_MSG_UPDSA); break;
      case 'sa-id': again = d.header.type === XFRM_MSG_DELSA ? encodeDelSa(hd, d.id, d.attrs) : encodeGetSa(hd, d.id, d.attrs); break;
      case 'allocspi': again = encodeAllocSpi(hd, d.spi); break;
      case 'policy': again = encodeNewPolicy(hd, d.info, d.attrs, d.header.type === XFRM_MSG_UPDPOLICY); break;
      case 'policy-id': again = d.header.type === 0x14 ? encodeDelPolicy(hd, d.id, d.attrs) : encodeGetPolicy(hd, d.id, d.attrs); break;
      case 'flushsa': again = encodeFlushSa(hd, d.proto); break;
      case 'flushpolicy': again = encodeFlushPolicy(hd); break;
      default: t.fail(`${name}: unexpected kind ${d.kind}`); continue;
    }
    t.equal(hexMsg(again), h, `${name}: ${cmd}`);
  }
});

/** What the backend builds for the same SA as `ip xfrm state add ...` must be the same bytes. */
t.test('KernelIpsec specs -> the same bytes as ip xfrm', async (t) => {
  const base: Omit<SaSpec, 'spi' | 'protocol' | 'mode' | 'reqid'> = {
    src: '10.0.0.1', dst: '10.0.0.2', direction: 'in', replayWindow: 0, esn: false, lifetime: {},
  };
  const cases: Array<[string, SaSpec, boolean?]> = [
    ['sa-cbc-sha256', {
      ...base, spi: 0x100, protocol: 'esp', mode: 'tunnel', reqid: 1,
      encryption: { transform: 'esp-aes', key: K(16) }, integrity: { transform: 'esp-sha256-hmac', key: K(32) },
    }],
    ['sa-update', {
      ...base, spi: 0x100, protocol: 'esp', mode: 'tunnel', reqid: 1,
      encryption: { transform: 'esp-aes', key: K(16) }, integrity: { transform: 'esp-sha256-hmac', key: K(32) },
    }, true],
    ['sa-ah-transport', {
      ...base, spi: 0x200, protocol: 'ah', mode: 'transport', reqid: 2,
      integrity: { transform: 'ah-sha-hmac', key: K(20) },
      selector: { src: '10.0.0.1', dst: '10.0.0.2', proto: 6, dstPort: 80 },
    }],
    ['sa-comp', { ...base, spi: 0x4000, protocol: 'comp', mode: 'tunnel', reqid: 3, compression: { transform: 'comp-lzs' } }],
    ['sa-v6-mark', {
      ...base, src: '2001:db8::1', dst: '2001:db8::2', spi: 0x300, protocol: 'esp', mode: 'transport', reqid: 4,
      encryption: { transform: 'esp-3des', key: K(24) }, integrity: { transform: 'esp-md5-hmac', key: K(16) },
      mark: { value: 5, mask: 0xff }, ifId: 9,
    }],
  ];
  for (const [name, spec, update] of cases) {
    const h = fx(name);
    const { info, attrs } = saSpecToXfrm(spec);
    t.equal(hex(encodeNewSa({ seq: seqOf(h) }, info, attrs, update ?? false)), h, name);
  }

  // GCM + NAT-T + ESN + lifetimes: ip sends the ESN replay state without its bitmap
  // (the kernel takes both); we send the full bitmap. Everything else is identical.
  const h = fx('sa-gcm-encap-esn');
  const spec: SaSpec = {
    src: '192.0.2.1', dst: '198.51.100.2', spi: 0xc0ffee01, protocol: 'esp', mode: 'tunnel', reqid: 7, direction: 'in',
    encryption: { transform: 'esp-gcm', key: K(20) }, udpEncap: { srcPort: 4500, dstPort: 4500 },
    replayWindow: 128, esn: true,
    lifetime: { softSec: 3000, hardSec: 3600, softBytes: 1000000n, hardBytes: 2000000n },
  };
  const { info, attrs } = saSpecToXfrm(spec);
  const ours = encodeNewSa({ seq: seqOf(h) }, info, attrs);
  const theirs = unhex(h);
  t.equal(ours.byteLength, theirs.byteLength + 16, 'four bitmap words more');
  const len = theirs.byteLength;
  t.equal(hex(ours.subarray(4, len - 28)), hex(theirs.subarray(4, len - 28)), 'same up to the replay attribute');
  const mine = decodeOne(hex(ours));
  const ip = decodeOne(h);
  if (mine.kind === 'sa' && ip.kind === 'sa') {
    t.same(mine.attrs.replayEsn, { ...ip.attrs.replayEsn, bmp: [0, 0, 0, 0] });
    t.equal(mine.info.flags, 128, 'XFRM_STATE_ESN');
    t.same(mine.attrs.encap, { type: 2, sport: 4500, dport: 4500, oa: '0.0.0.0' });
    t.equal(mine.info.lft.hardAddExpiresSec, 3600n);
    t.equal(mine.info.lft.softPacketLimit, XFRM_INF);
  } else t.fail('not SA messages');

  // DELSA / GETSA with source address
  const del = saIdToXfrm({ dst: '10.0.0.2', spi: 0x100, protocol: 'esp', src: '10.0.0.1' });
  t.equal(hex(encodeDelSa({ seq: seqOf(fx('sa-delete')) }, del.id, del.attrs)), fx('sa-delete'));
  t.equal(hex(encodeGetSa({ seq: seqOf(fx('sa-get')) }, del.id, del.attrs)), fx('sa-get'));
});

t.test('policies from KernelIpsec specs -> the same bytes as ip xfrm', async (t) => {
  const out = policySpecToXfrm({
    selector: { src: '10.1.0.0/24', dst: '10.2.0.0/24' }, direction: 'out', action: 'protect', priority: 100,
    templates: [{ protocol: 'esp', mode: 'tunnel', reqid: 7, src: '192.0.2.1', dst: '198.51.100.2' }],
  });
  t.equal(hex(encodeNewPolicy({ seq: seqOf(fx('policy-out')) }, out.info, out.attrs)), fx('policy-out'));
  t.equal(hex(encodeNewPolicy({ seq: seqOf(fx('policy-update')) }, out.info, out.attrs, true)), fx('policy-update'));

  const bundle = policySpecToXfrm({
    selector: { src: '10.2.0.0/24', dst: '10.1.0.0/24', proto: 6, srcPort: 443 }, direction: 'in', action: 'protect', priority: 200,
    templates: [
      { protocol: 'comp', mode: 'tunnel', reqid: 7, src: '198.51.100.2', dst: '192.0.2.1', optional: true },
      { protocol: 'esp', mode: 'transport', reqid: 7 },
    ],
  });
  t.equal(hex(encodeNewPolicy({ seq: seqOf(fx('policy-in-bundle')) }, bundle.info, bundle.attrs)), fx('policy-in-bundle'));

  const block = policySpecToXfrm({ selector: { src: '10.9.0.0/16', dst: '0.0.0.0/0' }, direction: 'fwd', action: 'drop', priority: 0, templates: [] });
  t.equal(hex(encodeNewPolicy({ seq: seqOf(fx('policy-block')) }, block.info, block.attrs)), fx('policy-block'));

  const v6 = policySpecToXfrm({
    selector: { src: '2001:db8:1::/48', dst: '2001:db8:2::/48' }, direction: 'out', action: 'protect', priority: 0,
    templates: [{ protocol: 'esp', mode: 'tunnel', reqid: 9, src: '2001:db8::1', dst: '2001:db8::2' }],
    mark: { value: 7, mask: 0xffff }, ifId: 3,
  });
  t.equal(hex(encodeNewPolicy({ seq: seqOf(fx('policy-v6-mark')) }, v6.info, v6.attrs)), fx('policy-v6-mark'));

  const id = policyIdToXfrm({ selector: { src: '10.1.0.0/24', dst: '10.2.0.0/24' }, direction: 'out' });
  t.equal(hex(encodeDelPolicy({ seq: seqOf(fx('policy-delete')) }, id.id, id.attrs)), fx('policy-delete'));
  t.equal(hex(encodeGetPolicy({ seq: seqOf(fx('policy-get')) }, id.id, id.attrs)), fx('policy-get'));
  t.equal(hex(encodeFlushPolicy({ seq: seqOf(fx('policy-flush')) })), fx('policy-flush'));
  t.equal(hexMsg(encodeFlushSa({ seq: seqOf(fx('flush-sa-esp')) }, 50)), fx('flush-sa-esp'));
  t.equal(hexMsg(encodeFlushSa({ seq: seqOf(fx('flush-sa')) }, 0)), fx('flush-sa'));

  const info = emptyUsersaInfo(AF_INET);
  info.lft = { ...info.lft, softByteLimit: 0n, hardByteLimit: 0n, softPacketLimit: 0n, hardPacketLimit: 0n };
  info.id = { daddr: '10.0.0.2', spi: 0, proto: 50 };
  info.saddr = '10.0.0.1';
  info.reqid = 5;
  info.mode = XFRM_MODE_TUNNEL;
  t.equal(hex(encodeAllocSpi({ seq: seqOf(fx('allocspi')) }, { info, min: 0x1000, max: 0x2000 })), fx('allocspi'));

  const dump = encodeDumpPolicy({ seq: 3 });
  t.equal(hex(dump), '10000000' + '1500' + '0103' + '03000000' + '00000000', 'GETPOLICY dump: REQUEST|ROOT|MATCH');
});

t.test('kernel messages captured here', async (t) => {
  const a = decodeOne(kfx('acquire-ping'));
  t.equal(a.kind, 'acquire');
  if (a.kind === 'acquire') {
    t.equal(a.acquire.id.daddr, '198.51.100.2');
    t.equal(a.acquire.id.proto, 50);
    t.equal(a.acquire.saddr, '192.0.2.1');
    t.equal(a.acquire.sel.daddr, '10.2.0.5');
    t.equal(a.acquire.sel.prefixlenD, 32);
    t.equal(a.acquire.policy.sel.saddr, '10.1.0.0');
    t.equal(a.acquire.policy.sel.prefixlenS, 24);
    t.equal(a.acquire.policy.dir, XFRM_POLICY_OUT);
    t.equal(a.attrs.tmpls?.length, 1);
    t.equal(a.attrs.tmpls?.[0]?.reqid, 7);
    t.equal(a.attrs.tmpls?.[0]?.mode, XFRM_MODE_TUNNEL);
    t.ok(a.acquire.seq > 0, 'acquire carries a sequence number');
    t.equal(hex(encodeAcquire({ seq: a.header.seq, pid: a.header.pid }, a.acquire, a.attrs)), kfx('acquire-ping'), 're-encodes identically');
  }
  const e = decodeOne(kfx('error-newsa-eprotonosupport'));
  t.equal(e.kind, 'error');
  if (e.kind === 'error') {
    t.equal(errnoName(e.error.errno), 'EPROTONOSUPPORT');
    t.equal(e.error.request.type, XFRM_MSG_NEWSA);
    t.equal(e.error.extAckMessage, 'Requested type not found');
  }
  const n = decodeOne(kfx('error-delpolicy-enoent'));
  t.ok(n.kind === 'error' && errnoName(n.error.errno) === 'ENOENT');
});

t.test('NLMSG_ERROR round trip (ack and error)', async (t) => {
  const req: NetlinkHeader = { length: 60, type: XFRM_MSG_GETSA, flags: 1, seq: 9, pid: 0 };
  const m = decodeNetlinkMessages(encodeNetlinkError(3, req))[0]!;
  t.equal(m.header.type, NLMSG_ERROR);
  t.same(decodeNetlinkError(m), { errno: 3, request: req });
  const ack = decodeNetlinkMessages(encodeNetlinkError(0, req))[0]!;
  t.equal(decodeNetlinkError(ack).errno, 0);
});

t.test('EXPIRE round trip', async (t) => {
  const state = emptyUsersaInfo(AF_INET6);
  state.id = { daddr: '2001:db8::2', spi: 0xdeadbeef, proto: 50 };
  state.saddr = '2001:db8::1';
  state.reqid = 12;
  state.curlft = { bytes: 1n << 40n, packets: 5n, addTime: 1700000000n, useTime: 0n };
  const bytes = encodeExpire({ seq: 0 }, { state, hard: true }, { mark: { value: 1, mask: 2 } });
  t.equal(bytes.byteLength, 16 + 232 + 12);
  const d = decodeOne(hex(bytes));
  t.equal(d.kind, 'expire');
  if (d.kind === 'expire') {
    t.equal(d.expire.hard, true);
    t.equal(d.expire.state.id.spi, 0xdeadbeef);
    t.equal(d.expire.state.id.daddr, '2001:db8::2');
    t.equal(d.expire.state.curlft.bytes, 1n << 40n);
    t.same(d.attrs.mark, { value: 1, mask: 2 });
  }
});

t.test('IOS transform names -> kernel algorithms', async (t) => {
  const expected: Record<string, [string, number?]> = {
    'esp-aes': ['cbc(aes)'], 'esp-gcm': ['rfc4106(gcm(aes))', 128], 'esp-gmac': ['rfc4543(gcm(aes))', 128],
    'esp-3des': ['cbc(des3_ede)'], 'esp-des': ['cbc(des)'], 'esp-null': ['ecb(cipher_null)'],
    'esp-md5-hmac': ['hmac(md5)', 96], 'esp-sha-hmac': ['hmac(sha1)', 96], 'esp-sha256-hmac': ['hmac(sha256)', 128],
    'esp-sha384-hmac': ['hmac(sha384)', 192], 'esp-sha512-hmac': ['hmac(sha512)', 256],
    'ah-md5-hmac': ['hmac(md5)', 96], 'ah-sha-hmac': ['hmac(sha1)', 96], 'comp-lzs': ['lzs'],
  };
  for (const [ios, [name, bits]] of Object.entries(expected)) {
    const m = xfrmAlgorithmFor(ios);
    t.equal(m.kernelName, name, ios);
    if (bits !== undefined) t.equal(m.truncBits ?? m.icvBits, bits, `${ios} ICV bits`);
  }
  for (const tr of [...ENCRYPTION_TRANSFORMS, ...INTEGRITY_TRANSFORMS, ...COMPRESSION_TRANSFORMS]) {
    if (tr === 'esp-seal') t.throws(() => xfrmAlgorithmFor(tr), XfrmAlgorithmError);
    else t.ok(IOS_TRANSFORM_XFRM[tr], `${tr} has a kernel mapping`);
  }
  t.same(algorithmAttributes('esp-sha-hmac', K(20)).algAuthTrunc?.truncBits, 96);
  const e = t.throws(() => algorithmAttributes('esp-aes', K(17)), XfrmAlgorithmError) as unknown as Error;
  t.match(e.message, /17 bytes, expected 16\/24\/32/);
  t.notMatch(e.message, /000102/, 'no key material in the message');
  // AES-256-GCM key = 32 key bytes + 4 salt bytes = 288 bits on the wire
  const gcm = encodeNewSa({ seq: 1 }, emptyUsersaInfo(AF_INET), algorithmAttributes('esp-gcm', K(36)));
  const dv = new DataView(gcm.buffer, gcm.byteOffset);
  t.equal(dv.getUint16(16 + 224 + 2, true), 18, 'XFRMA_ALG_AEAD');
  t.equal(dv.getUint32(16 + 224 + 4 + 64, true), 288, 'alg_key_len');
  t.equal(dv.getUint32(16 + 224 + 4 + 68, true), 128, 'alg_icv_len');
  void XFRMA_ALG_CRYPT; void XFRMA_ALG_AUTH_TRUNC;
});
