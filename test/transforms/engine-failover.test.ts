// The CryptoEngine interface with an async, batch-only engine (a fake accelerator that
// delegates to node:crypto after a tick), and failover to the software engine without
// dropping the SA: sequence numbers and replay state carry over.
import t from 'tap';
import { createSoftwareEngine } from '../../drivers/software/software-engine.js';
import type { CryptoEngine, CryptoOp, EngineCapabilities, EngineStatus, EngineSupport, TransformContext, TransformParams } from '../../firmware/lib/crypto-engine.js';
import { IpsecSa } from '../../firmware/ipsec/ipsec-sa.js';
import { espParams, parseTransformSet } from '../../firmware/ipsec/transform.js';
import { ipv4Udp, prng } from './helpers.js';

class FakeAccelerator implements CryptoEngine {
  readonly name = 'accel0';
  readonly kind = 'serial';
  private readonly backing = createSoftwareEngine({ name: 'accel0-backing' });
  private readonly listeners = new Set<(s: EngineStatus) => void>();
  failed = false;
  batches = 0;
  capabilities(): EngineCapabilities { return { ...this.backing.capabilities(), inline: false, maxBatch: 64 }; }
  status(): EngineStatus { return { state: this.failed ? 'failed' : 'up', activeContexts: 0, opsOk: 0, opsFailed: 0 }; }
  supports(p: TransformParams): EngineSupport { return this.backing.supports(p); }
  createContext(p: TransformParams): TransformContext {
    const inner = this.backing.createContext(p);
    return {
      engineName: this.name,
      params: p,
      runBatch: async (ops: readonly CryptoOp[]) => {
        this.batches++;
        await new Promise((r) => setImmediate(r));
        for (const op of ops) {
          if (this.failed) op.status = 'engine-error';
          else inner.runSync!(op);
        }
      },
      destroy: () => inner.destroy(),
    };
  }
  onStateChange(l: (s: EngineStatus) => void): () => void { this.listeners.add(l); return () => this.listeners.delete(l); }
  fail(): void { this.failed = true; for (const l of this.listeners) l(this.status()); }
  async close(): Promise<void> {}
}

t.test('async engine: batches work, inline calls say engine-async, failover keeps the SA', async (t) => {
  const rnd = prng(9);
  const set = parseTransformSet(['esp-aes 256', 'esp-sha-hmac']);
  const params = espParams(set, rnd(32), rnd(20), true);
  const accel = new FakeAccelerator();
  const software = createSoftwareEngine();
  const local = Uint8Array.of(10, 0, 0, 1);
  const remote = Uint8Array.of(10, 0, 0, 2);
  const tx = new IpsecSa({ mode: 'tunnel', local, remote, esp: { spi: 0x5001, params } }, accel);
  const rx = new IpsecSa({ mode: 'tunnel', local: remote, remote: local, esp: { spi: 0x5001, params } }, accel);
  t.equal(tx.engine, 'accel0');
  t.equal(tx.protect(ipv4Udp(rnd(10))).code, 'engine-async', 'no inline path on this engine');

  const batch = await tx.protectBatch(Array.from({ length: 10 }, () => ipv4Udp(rnd(100))));
  t.same(batch.map((r) => r.code), Array(10).fill('ok'));
  const opened = await rx.unprotectBatch(batch.map((r) => (r.code === 'ok' ? r.packet : new Uint8Array(0))));
  t.same(opened.map((r) => r.code), Array(10).fill('ok'));
  t.ok(accel.batches >= 2, 'work went through runBatch');

  // The accelerator dies; the owner of the SAs moves them to software.
  const unsubscribe = accel.onStateChange((s) => {
    if (s.state === 'failed') {
      tx.rebindEngine(software);
      rx.rebindEngine(software);
    }
  });
  const lost = await tx.protectBatch([ipv4Udp(rnd(10))]);
  t.equal(lost[0]!.code, 'ok', 'still up before the failure');
  accel.fail();
  unsubscribe();
  t.equal(tx.engine, 'software');
  const after = tx.protect(ipv4Udp(rnd(10)));
  if (after.code !== 'ok') return t.fail(after.code);
  t.equal(tx.outboundSeq, 13n, 'sequence numbers continue (12 sent before, replay-safe)');
  t.equal(rx.unprotect(after.packet).code, 'ok', 'peer state intact: accepted after failover');
  if (lost[0]!.code === 'ok') t.equal(rx.unprotect(lost[0]!.packet).code, 'ok', 'a packet sealed before the failure still opens (out of order, inside the window)');
  if (batch[0]!.code === 'ok') t.equal(rx.unprotect(batch[0]!.packet).code, 'replay', 'replay window survived the failover');
});

t.test('an engine failing ops mid-batch yields engine-error codes, not exceptions', async (t) => {
  const rnd = prng(10);
  const params = espParams(parseTransformSet(['esp-gcm 128']), rnd(20), undefined, false);
  const accel = new FakeAccelerator();
  const tx = new IpsecSa({ mode: 'tunnel', local: Uint8Array.of(1, 1, 1, 1), remote: Uint8Array.of(2, 2, 2, 2), esp: { spi: 0x6001, params } }, accel);
  accel.failed = true;
  const res = await tx.protectBatch([ipv4Udp(rnd(10)), ipv4Udp(rnd(20))]);
  t.same(res.map((r) => r.code), ['engine-error', 'engine-error']);
  t.equal(tx.counters.protectDrops['engine-error'], 2);
  t.equal(tx.counters.sendErrors, 2);
});
