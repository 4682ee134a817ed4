// XfrmBackend against an in-memory fake of the kernel's XFRM netlink side.
import t from 'tap';
import { ERRNO } from '../../firmware/proto/netlink-core.js';
import {
  AF_INET, XFRMNLGRP_ACQUIRE, XFRMNLGRP_EXPIRE, XFRM_MSG_DELSA, XFRM_MSG_NEWSA, XFRM_MSG_UPDSA, XFRM_POLICY_OUT,
  anySelector, emptyUsersaInfo, encodeAcquire, encodeExpire, infiniteLifetime,
} from '../../firmware/proto/netlink-xfrm.js';
import { KernelIpsecError, type AcquireEvent, type ExpireEvent, type KernelIpsec, type SaSpec } from '../../firmware/kernel/kernel-ipsec.js';
import { XfrmBackend, XfrmRequestError, saSpecToXfrm } from '../../firmware/kernel/xfrm-backend.js';
import { FakeXfrmKernel } from './fixtures/fake-xfrm-kernel.js';

const K = (n: number, start = 0) => new Uint8Array(Array.from({ length: n }, (_, i) => (i + start) & 0xff));

function esp(over: Partial<SaSpec> = {}): SaSpec {
  return {
    src: '192.0.2.1', dst: '198.51.100.2', spi: 0x1001, protocol: 'esp', mode: 'tunnel', reqid: 5, direction: 'out',
    encryption: { transform: 'esp-aes', key: K(32) }, integrity: { transform: 'esp-sha-hmac', key: K(20, 100) },
    replayWindow: 64, esn: false, lifetime: { softSec: 3300, hardSec: 3600, softBytes: 4_000_000_000n, hardBytes: 4_608_000_000n },
    ...over,
  };
}

function setup() {
  const k = new FakeXfrmKernel();
  const b = new XfrmBackend(k, { requestTimeoutMs: 0 });
  return { k, b };
}

t.test('implements KernelIpsec and joins the ACQUIRE and EXPIRE groups', async (t) => {
  const { k, b } = setup();
  const api: KernelIpsec = b;
  t.equal(api.name, 'xfrm');
  t.same(k.groups, [XFRMNLGRP_ACQUIRE, XFRMNLGRP_EXPIRE]);
  t.ok(api.capabilities.protocols.includes('esp'));
  t.notOk(api.capabilities.encryption.includes('esp-seal'));
  await api.close();
  t.ok(k.closed);
});

t.test('addSa / querySa / deleteSa', async (t) => {
  const { k, b } = setup();
  await b.addSa(esp());
  const st = [...k.states.values()][0]!;
  t.equal(st.info.id.spi, 0x1001);
  t.equal(st.attrs.algCrypt?.name, 'cbc(aes)');
  t.equal(st.attrs.algCrypt?.key.byteLength, 32);
  t.equal(st.attrs.algAuthTrunc?.name, 'hmac(sha1)');
  t.equal(st.attrs.algAuthTrunc?.truncBits, 96);
  t.equal(st.info.replayWindow, 0, 'legacy field holds at most 32');
  t.same([st.attrs.replayEsn?.replayWindow, st.attrs.replayEsn?.bmpLen], [64, 2], 'window 64 via XFRMA_REPLAY_ESN_VAL');
  t.equal(st.info.flags & 128, 0, 'without ESN');
  t.equal(st.info.lft.hardAddExpiresSec, 3600n);
  t.equal(st.info.lft.hardByteLimit, 4_608_000_000n);
  t.equal(k.requests.at(-1)!.header.type, XFRM_MSG_NEWSA);

  const c = await b.querySa({ dst: '198.51.100.2', spi: 0x1001, protocol: 'esp' });
  t.same(c, {
    bytes: 1500n, packets: 10n, addTimeSec: 1700000000, useTimeSec: 1700000005, replayErrors: 2, integrityFailures: 3,
    replayWindowDrops: 1, outboundSeq: 0n, inboundSeq: 0n,
  });
  const list = await b.listSas();
  t.equal(list.length, 1);
  t.equal(list[0]!.encryption, 'esp-aes');
  t.notOk(JSON.stringify(list, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)).includes('"key"'), 'listSas has no keys');

  const dup = await b.addSa(esp()).then(() => undefined, (e: unknown) => e);
  t.ok(dup instanceof XfrmRequestError && dup.code === 'EEXIST', 'duplicate SA -> EEXIST');
  await b.deleteSa({ dst: '198.51.100.2', spi: 0x1001, protocol: 'esp', src: '192.0.2.1' });
  t.equal(k.states.size, 0);
  const gone = await b.deleteSa({ dst: '198.51.100.2', spi: 0x1001, protocol: 'esp' }).then(() => undefined, (e: unknown) => e);
  t.ok(gone instanceof KernelIpsecError && gone.code === 'ESRCH');
  t.same(await b.listSas(), []);
});

t.test('getSpi reserves a larval SA; addSa for it uses UPDSA', async (t) => {
  const { k, b } = setup();
  const spi = await b.getSpi({ src: '198.51.100.2', dst: '192.0.2.1', protocol: 'esp', reqid: 5 });
  t.equal(spi, 0xc0de0001);
  const req = k.requests.at(-1)!;
  t.ok(req.kind === 'allocspi' && req.spi.min === 0x100 && req.spi.max === 0xffffffff);
  await b.addSa(esp({ src: '198.51.100.2', dst: '192.0.2.1', spi, direction: 'in' }));
  t.equal(k.requests.at(-1)!.header.type, XFRM_MSG_UPDSA);
  t.equal(k.states.get(`50/192.0.2.1/${spi}`)?.larval, false);
  await b.addSa(esp({ spi: 0x2002 }));
  t.equal(k.requests.at(-1)!.header.type, XFRM_MSG_NEWSA, 'SPIs not reserved here use NEWSA');
  const cpi = await b.getSpi({ src: '198.51.100.2', dst: '192.0.2.1', protocol: 'comp', reqid: 5, min: 0x100, max: 0x200 });
  const r2 = k.requests.at(-1)!;
  t.ok(r2.kind === 'allocspi' && r2.spi.info.id.proto === 108 && r2.spi.max === 0x200);
  t.ok(cpi > 0);
  // a reserved SPI that is never used is removed by flushSas
  await b.flushSas();
  t.equal(k.states.size, 0);
});

t.test('SA spec checks', async (t) => {
  const bad: Array<[string, Partial<SaSpec>]> = [
    ['esp-seal', { encryption: { transform: 'esp-seal', key: K(20) } }],
    ['short key', { encryption: { transform: 'esp-aes', key: K(15) } }],
    ['ah transform on esp', { integrity: { transform: 'ah-sha-hmac', key: K(20) } }],
    ['AH with encryption', { protocol: 'ah', integrity: { transform: 'ah-sha-hmac', key: K(20) } }],
    ['comp without algorithm', { protocol: 'comp', spi: 0x100, encryption: undefined, integrity: undefined }],
    ['CPI > 16 bits', { protocol: 'comp', spi: 0x10000, encryption: undefined, integrity: undefined, compression: { transform: 'comp-lzs' } }],
    ['mixed families', { dst: '2001:db8::1' }],
    ['bad address', { dst: '10.0.0.300' }],
    ['gcm with integrity', { encryption: { transform: 'esp-gcm', key: K(36) } }],
    ['replay window too big', { replayWindow: 5000 }],
  ];
  for (const [what, over] of bad) {
    t.throws(() => saSpecToXfrm(esp(over)), KernelIpsecError, what);
  }
  const seal = t.throws(() => saSpecToXfrm(esp({ encryption: { transform: 'esp-seal', key: K(20) } }))) as unknown as KernelIpsecError;
  t.equal(seal.code, 'UNSUPPORTED');

  const nullEsp = saSpecToXfrm(esp({ encryption: undefined }));
  t.equal(nullEsp.attrs.algCrypt?.name, 'ecb(cipher_null)', 'integrity-only ESP gets the null cipher');
  const big = saSpecToXfrm(esp({ replayWindow: 1024 }));
  t.equal(big.info.replayWindow, 0);
  t.same([big.attrs.replayEsn?.replayWindow, big.attrs.replayEsn?.bmpLen, big.attrs.replayEsn?.bmp.length], [1024, 32, 32], 'IOS window 1024 -> ESN replay state');
  const small = saSpecToXfrm(esp({ replayWindow: 32 }));
  t.same([small.info.replayWindow, small.attrs.replayEsn], [32, undefined], 'window 32 fits the legacy field');
  const esn = saSpecToXfrm(esp({ esn: true, replayWindow: 0 }));
  t.equal(esn.info.flags & 128, 128);
  t.equal(esn.attrs.replayEsn?.replayWindow, 32, 'ESN needs a non-zero window in the kernel');
  const encap = saSpecToXfrm(esp({ udpEncap: { srcPort: 4500, dstPort: 4501, originalAddress: '10.9.9.9' } }));
  t.same(encap.attrs.encap, { type: 2, sport: 4500, dport: 4501, oa: '10.9.9.9' });
  const gcm = saSpecToXfrm(esp({ encryption: { transform: 'esp-gcm', key: K(20), icvBits: 96 }, integrity: undefined }));
  t.same([gcm.attrs.algAead?.name, gcm.attrs.algAead?.icvBits], ['rfc4106(gcm(aes))', 96]);
  const idle = saSpecToXfrm(esp({ lifetime: { hardIdleSec: 300 } }));
  t.equal(idle.info.lft.hardUseExpiresSec, 300n);
  t.equal(idle.info.lft.hardAddExpiresSec, 0n, 'no limit = 0 seconds');
  const tr = saSpecToXfrm(esp({ mode: 'transport', selector: { src: '192.0.2.1', dst: '198.51.100.2', proto: 17, srcPort: 500 } }));
  t.same([tr.info.sel.prefixlenS, tr.info.sel.proto, tr.info.sel.sport, tr.info.sel.sportMask, tr.info.sel.dportMask], [32, 17, 500, 0xffff, 0]);
});

t.test('updateSa moves an SA keeping keys and counters', async (t) => {
  const { k, b } = setup();
  await b.addSa(esp());
  await b.updateSa({ id: { dst: '198.51.100.2', spi: 0x1001, protocol: 'esp' }, newSrc: '192.0.2.77', udpEncap: { srcPort: 4500, dstPort: 4500 } });
  t.same(k.requests.slice(-2).map((r) => r.header.type), [XFRM_MSG_DELSA, XFRM_MSG_NEWSA], 'same destination: delete and re-add');
  const st = k.states.get('50/198.51.100.2/4097')!;
  t.equal(st.info.saddr, '192.0.2.77');
  t.same(st.attrs.algCrypt?.key, K(32));
  t.notOk(st.attrs.algAuth, 'legacy AUTH dropped, AUTH_TRUNC kept');
  t.equal(st.attrs.algAuthTrunc?.truncBits, 96);
  t.equal(st.attrs.ltime?.bytes, 1500n, 'counters carried over');
  t.equal(st.attrs.encap?.dport, 4500);

  await b.updateSa({ id: { dst: '198.51.100.2', spi: 0x1001, protocol: 'esp' }, newDst: '198.51.100.9', udpEncap: null });
  t.notOk(k.states.has('50/198.51.100.2/4097'), 'old SA deleted');
  const moved = k.states.get('50/198.51.100.9/4097')!;
  t.ok(moved);
  t.notOk(moved.attrs.encap, 'encapsulation removed');
  const list = await b.listSas();
  t.same(list.map((s) => [s.src, s.dst, s.udpEncap]), [['192.0.2.77', '198.51.100.9', undefined]]);
});

t.test('policies: add (index read back), duplicate, replace, delete, flush only ours', async (t) => {
  const { k, b } = setup();
  const spec = {
    selector: { src: '10.1.0.0/24', dst: '10.2.0.0/24' }, direction: 'out' as const, action: 'protect' as const, priority: 10,
    templates: [{ protocol: 'esp' as const, mode: 'tunnel' as const, reqid: 5, src: '192.0.2.1', dst: '198.51.100.2' }],
  };
  const idx = await b.addPolicy(spec);
  t.equal(idx, 16 + XFRM_POLICY_OUT);
  const dup = await b.addPolicy(spec).then(() => undefined, (e: unknown) => e);
  t.ok(dup instanceof KernelIpsecError && dup.code === 'EEXIST');
  t.equal(await b.addPolicy({ ...spec, replace: true, priority: 20 }), idx, 'replace keeps the index');
  t.equal([...k.policies.values()][0]!.info.priority, 20);
  await b.addPolicy({ ...spec, direction: 'in', selector: { src: '10.2.0.0/24', dst: '10.1.0.0/24' } });
  t.equal((await b.listPolicies()).length, 2);
  t.equal((await b.dumpPolicies()).length, 2);

  // someone else's policy (installed behind our back) survives flushPolicies
  k.policies.set('foreign', { info: { sel: anySelector(AF_INET), lft: infiniteLifetime(), curlft: { bytes: 0n, packets: 0n, addTime: 0n, useTime: 0n }, priority: 0, index: 99, dir: 1, action: 0, flags: 0, share: 0 }, attrs: {} });
  await b.deletePolicy({ selector: spec.selector, direction: 'out' });
  t.equal(k.policies.size, 2);
  await b.flushPolicies();
  t.same([...k.policies.keys()], ['foreign']);
  t.same(await b.listPolicies(), []);
  const missing = await b.deletePolicy({ selector: spec.selector, direction: 'out' }).then(() => undefined, (e: unknown) => e);
  t.ok(missing instanceof KernelIpsecError && missing.code === 'ENOENT');
  await t.rejects(b.addPolicy({ ...spec, templates: [] }), KernelIpsecError, 'protect needs templates');
  await t.rejects(b.addPolicy({ ...spec, selector: { src: '10.1.0.0/33', dst: '10.2.0.0/24' } }), KernelIpsecError);
});

t.test('ACQUIRE and EXPIRE notifications become events', async (t) => {
  const { k, b } = setup();
  const acquires: AcquireEvent[] = [];
  const expires: ExpireEvent[] = [];
  b.on('acquire', (e) => acquires.push(e));
  b.on('expire', (e) => expires.push(e));
  await b.addSa(esp());
  const policySel = { ...anySelector(AF_INET), saddr: '10.1.0.0', daddr: '10.2.0.0', prefixlenS: 24, prefixlenD: 24 };
  const pktSel = { ...anySelector(AF_INET), saddr: '10.1.0.7', daddr: '10.2.0.9', prefixlenS: 32, prefixlenD: 32, proto: 6, dport: 443, dportMask: 0xffff };
  k.inject(encodeAcquire({ seq: 0 }, {
    id: { daddr: '198.51.100.2', spi: 0, proto: 50 }, saddr: '192.0.2.1', sel: pktSel,
    policy: { sel: policySel, lft: infiniteLifetime(), curlft: { bytes: 0n, packets: 0n, addTime: 0n, useTime: 0n }, priority: 10, index: 0x19, dir: 1, action: 0, flags: 0, share: 0 },
    aalgos: 0, ealgos: 0, calgos: 0, seq: 77,
  }, { tmpls: [{ id: { daddr: '198.51.100.2', spi: 0, proto: 50 }, family: AF_INET, saddr: '192.0.2.1', reqid: 5, mode: 1, share: 0, optional: 0, aalgos: ~0 >>> 0, ealgos: ~0 >>> 0, calgos: ~0 >>> 0 }] }));
  t.same(acquires, [{
    policyIndex: 0x19, direction: 'out', policySelector: { src: '10.1.0.0/24', dst: '10.2.0.0/24' },
    packetSelector: { src: '10.1.0.7/32', dst: '10.2.0.9/32', proto: 6, dstPort: 443 },
    src: '192.0.2.1', dst: '198.51.100.2', protocol: 'esp', reqid: 5, seq: 77,
  }]);

  const state = emptyUsersaInfo(AF_INET);
  state.id = { daddr: '198.51.100.2', spi: 0x1001, proto: 50 };
  state.saddr = '192.0.2.1';
  state.reqid = 5;
  state.curlft = { bytes: 123n, packets: 4n, addTime: 0n, useTime: 0n };
  k.inject(encodeExpire({ seq: 0 }, { state, hard: false }));
  k.inject(encodeExpire({ seq: 0 }, { state, hard: true }));
  t.same(expires.map((e) => [e.hard, e.id.spi, e.id.dst, e.id.src, e.reqid, e.bytes, e.packets]), [
    [false, 0x1001, '198.51.100.2', '192.0.2.1', 5, 123n, 4n],
    [true, 0x1001, '198.51.100.2', '192.0.2.1', 5, 123n, 4n],
  ]);
  t.same(await b.listSas(), [], 'hard expire forgets the SA');

  const errors: Error[] = [];
  b.on('error', (e) => errors.push(e));
  k.inject(Uint8Array.of(1, 2, 3));
  t.equal(errors.length, 1, 'garbage from the socket is reported, not thrown');
});

t.test('kernel errors carry the errno name; close rejects pending requests', async (t) => {
  const { k, b } = setup();
  k.refuseProtocols.add(50);
  const e = await b.addSa(esp()).then(() => undefined, (x: unknown) => x);
  t.ok(e instanceof XfrmRequestError);
  if (e instanceof XfrmRequestError) {
    t.equal(e.code, 'EPROTONOSUPPORT');
    t.equal(e.errno, ERRNO.EPROTONOSUPPORT);
    t.match(e.message, /^addSa esp spi 0x1001 192\.0\.2\.1->198\.51\.100\.2: EPROTONOSUPPORT/);
    t.notMatch(e.message, /0001020304/, 'no key bytes in the error');
  }
  t.same(await b.listSas(), [], 'failed SA not tracked');
  k.silent = true;
  const pending = b.addSa(esp({ protocol: 'ah', encryption: undefined, integrity: { transform: 'ah-sha-hmac', key: K(20) } }));
  await b.close();
  await t.rejects(pending, { code: 'ECLOSED' });
  await t.rejects(b.deleteSa({ dst: '198.51.100.2', spi: 1, protocol: 'esp' }), { code: 'ECLOSED' });
});
