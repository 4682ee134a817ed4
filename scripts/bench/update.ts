// Firmware install throughput: a 100 MB signed image installed into a slot (verify the
// file, write the slot while checking it again, read back and verify) against `dd` of the
// same bytes onto the same disk plus `sha256sum` of what was written. Memory: the peak RSS
// of this process during the install (the verifier keeps only the header and hash states).
//   bench update-install: MB/s     bench update-dd-sha256: MB/s
//   ratio update-vs-dd: X (goal >= 0.5)    bench update-peak-rss: MB
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { buildSignedImage, generateSigningKey } from '../../firmware/mgmt/update/image-build.js';
import { SlotStore } from '../../firmware/mgmt/update/slot-store.js';
import { loadTrustedKeys } from '../../firmware/mgmt/update/trusted-keys.js';

export const meta: BenchModuleMeta = { description: 'firmware install of a 100 MB image vs dd + sha256sum' };

function randomFile(path: string, mb: number): void {
  const fd = openSync(path, 'w');
  const chunk = randomBytes(1 << 20);
  for (let i = 0; i < mb; i++) { chunk[0] = i; writeSync(fd, chunk); }
  closeSync(fd);
}

export async function run(ctx: BenchContext): Promise<void> {
  // The same disk as the repository's working files (not a tmpfs /tmp, if there is one).
  const dir = mkdtempSync(join(process.env.RAMPART_BENCH_DIR ?? tmpdir(), 'rampart-bench-update-'));
  try {
    const keysDir = join(dir, 'keys');
    mkdirSync(keysDir);
    const key = generateSigningKey(dir, 'bench');
    copyFileSync(key.publicPath, join(keysDir, 'bench.pub'));
    randomFile(join(dir, 'kernel'), 8);
    randomFile(join(dir, 'rootfs'), 92);
    const img = join(dir, 'image.img');
    buildSignedImage({ kernel: join(dir, 'kernel'), rootfs: join(dir, 'rootfs'), version: '99.0.0', buildId: 'bench', boards: ['sim'], keys: [key.privatePath], out: img });
    const bytes = statSync(img).size;
    const mb = bytes / 1e6;

    const slots = join(dir, 'slots');
    mkdirSync(slots);
    const layout = { devices: { A: join(slots, 'A.img'), B: join(slots, 'B.img') }, env: join(slots, 'grubenv'), booted: 'A' as const, slotBytes: 256 << 20 };
    const store = new SlotStore(layout, { keys: loadTrustedKeys(keysDir), board: 'sim', runningVersion: '1.0.0', log: () => {} });
    store.boot();
    global.gc?.();
    const base = process.memoryUsage().rss;
    let peak = base;
    const t0 = performance.now();
    await store.install(img, { progress: () => { peak = Math.max(peak, process.memoryUsage().rss); } });
    const installS = (performance.now() - t0) / 1000;

    const ddTarget = join(slots, 'dd.img');
    const t1 = performance.now();
    const dd = spawnSync('dd', [`if=${img}`, `of=${ddTarget}`, 'bs=1M', 'conv=fsync', 'status=none']);
    const sum = spawnSync('sha256sum', [ddTarget], { encoding: 'utf8' });
    const ddS = (performance.now() - t1) / 1000;
    if (dd.status !== 0 || sum.status !== 0) throw new Error(`dd/sha256sum failed: ${String(dd.stderr)}${sum.stderr}`);

    ctx.log(`update: ${mb.toFixed(0)} MB image, install ${installS.toFixed(2)} s, dd + sha256sum ${ddS.toFixed(2)} s`);
    ctx.report('update-install', mb / installS, 'MB/s');
    ctx.report('update-dd-sha256', mb / ddS, 'MB/s');
    ctx.ratio('update-vs-dd', ddS / installS);
    ctx.report('update-peak-rss', peak / 1e6, 'MB');
    ctx.report('update-rss-growth', (peak - base) / 1e6, 'MB');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
