import t from 'tap';
import { createSoftwareEngine } from '../../drivers/software/software-engine.js';
import { IpsecSa } from '../../firmware/ipsec/ipsec-sa.js';
import { espParams, parseTransformSet } from '../../firmware/ipsec/transform.js';

t.test('smoke', async (t) => {
  const eng = createSoftwareEngine();
  const set = parseTransformSet(['esp-aes 256', 'esp-sha-hmac']);
  const p = espParams(set, new Uint8Array(32).fill(1), new Uint8Array(20).fill(2), false);
  const cfg = { mode: 'tunnel' as const, local: Uint8Array.of(10, 0, 0, 1), remote: Uint8Array.of(10, 0, 0, 2), esp: { spi: 0x1234, params: p } };
  const a = new IpsecSa(cfg, eng);
  const b = new IpsecSa({ ...cfg, local: cfg.remote, remote: cfg.local }, eng);
  const inner = new Uint8Array(100); inner[0] = 0x45; inner[3] = 100; inner[9] = 17;
  const r = a.protect(inner);
  t.equal(r.code, 'ok');
  if (r.code !== 'ok') return;
  const u = b.unprotect(r.packet.slice());
  t.equal(u.code, 'ok');
  if (u.code === 'ok') t.same(Array.from(u.packet), Array.from(inner));
});
