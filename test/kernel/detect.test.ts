// Backend detection, against the fake XFRM kernel (root-free) and fake /proc files.
import t from 'tap';
import { detectKernelIpsec, readProcHints } from '../../firmware/kernel/detect.js';
import { FakeXfrmKernel } from './fixtures/fake-xfrm-kernel.js';

const noFiles = () => undefined;

function run(k: FakeXfrmKernel, extra: Parameters<typeof detectKernelIpsec>[0] = {}) {
  return detectKernelIpsec({ openTransport: () => k, readFile: noFiles, random: () => 0.5, requestTimeoutMs: 0, ...extra });
}

t.test('kernel without ESP -> userspace, and the probe asked exactly once', async (t) => {
  const k = new FakeXfrmKernel();
  k.refuseProtocols.add(50);
  const d = await run(k);
  t.equal(d.backend, 'userspace');
  t.equal(d.esp, false);
  t.match(d.reason, /EPROTONOSUPPORT/);
  t.same(d.probes, [{ what: 'esp esp-aes esp-sha-hmac', result: 'EPROTONOSUPPORT' }]);
  t.ok(k.closed, 'probe socket closed');
  t.equal(k.states.size, 0);
});

t.test('kernel with ESP -> xfrm, throwaway SA deleted, capabilities probed', async (t) => {
  const k = new FakeXfrmKernel();
  k.refuseAlgorithms.add('rfc4543(gcm(aes))');
  k.refuseAlgorithms.add('lzs');
  const d = await run(k);
  t.equal(d.backend, 'xfrm');
  t.equal(d.esp, true);
  t.equal(k.states.size, 0, 'every probe SA was removed');
  const first = k.requests[0]!;
  t.ok(first.kind === 'sa' && first.info.saddr === '192.0.2.254' && first.info.id.daddr === '192.0.2.253', 'TEST-NET-1 addresses');
  t.ok(first.kind === 'sa' && first.attrs.mark && first.attrs.mark.mask === 0xffffffff && first.attrs.mark.value !== 0, 'private mark');
  t.ok(first.kind === 'sa' && first.info.lft.hardAddExpiresSec === 5n, 'expires on its own if we die');
  const c = d.capabilities!;
  t.same(c.encryption, ['esp-aes', 'esp-gcm', 'esp-3des', 'esp-des', 'esp-null']);
  t.equal(c.integrity.length, 10);
  t.same(c.compression, []);
  t.same(c.protocols, ['esp', 'ah']);
  t.ok(c.udpEncap && c.esn);
  t.match(d.reason, /kernel ESP available \(esp-aes esp-gcm/);
});

t.test('missing algorithms are skipped until one pair works', async (t) => {
  const k = new FakeXfrmKernel();
  k.refuseAlgorithms.add('hmac(sha1)');
  k.refuseAlgorithms.add('hmac(sha256)');
  const d = await run(k, { probeTransforms: false });
  t.equal(d.backend, 'xfrm');
  t.same(d.probes.map((p) => p.result), ['ENOSYS', 'ENOSYS', 'ok']);
  t.equal(d.probes[2]!.what, 'esp esp-gcm');
});

t.test('no permission, no socket, no algorithm -> userspace with a reason', async (t) => {
  const k = new FakeXfrmKernel();
  k.refuseAll = 'EPERM';
  const d = await run(k);
  t.equal(d.backend, 'userspace');
  t.match(d.reason, /CAP_NET_ADMIN/);
  t.equal(d.esp, undefined);

  const d2 = await detectKernelIpsec({ openTransport: () => { throw new Error('EPROTONOSUPPORT: no netlink'); }, readFile: noFiles });
  t.equal(d2.backend, 'userspace');
  t.match(d2.reason, /no NETLINK_XFRM socket/);

  const k3 = new FakeXfrmKernel();
  for (const a of ['cbc(aes)', 'rfc4106(gcm(aes))', 'ecb(cipher_null)', 'cbc(des3_ede)']) k3.refuseAlgorithms.add(a);
  const d3 = await run(k3);
  t.equal(d3.backend, 'userspace');
  t.match(d3.reason, /kernel took no ESP SA \(ENOSYS/);
});

t.test('/proc hints', async (t) => {
  const files: Record<string, string> = {
    '/proc/net/xfrm_stat': 'XfrmInError 0\n',
    '/proc/crypto': 'name         : cbc(aes)\ndriver       : cbc-aes-aesni\n\nname         : hmac(sha256)\n\nname         : cbc(aes)\n',
    '/proc/modules': 'xfrm_user 49152 0 - Live 0x0\nesp4 28672 0 - Live 0x0\n',
  };
  const h = readProcHints((p) => files[p]);
  t.same(h, { xfrmStat: true, espModule: 'loaded', cryptoAlgorithms: ['cbc(aes)', 'hmac(sha256)'] });
  const none = readProcHints((p) => (p === '/proc/modules' ? 'xfrm_user 1 0 - Live 0x0\n' : undefined));
  t.equal(none.espModule, 'unknown');
  t.equal(none.xfrmStat, false);
});
