// The appliance image under QEMU (software emulation): how big it is and how long from
// QEMU start to the `Router>` prompt on its serial console.
//   bench image-size: N MB        kernel + compressed root, as shipped
//   bench boot-to-prompt: S s     QEMU start to `Router>` (fresh flash)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, BenchModuleMeta } from './lib/bench-context.js';
import { Appliance, firmwareModule, qemuModule } from '../../test/lib/appliance.js';

export const meta: BenchModuleMeta = { description: 'appliance image size and boot-to-prompt under QEMU', needsRoot: true };

export async function run(ctx: BenchContext): Promise<void> {
  const q = await qemuModule();
  const missing = q.qemuMissing();
  if (missing) { ctx.log(`appliance: skipped, ${missing}`); return; }
  const dir = mkdtempSync(join(tmpdir(), 'rampart-bench-appliance-'));
  try {
    const { outDir, manifest } = await (await firmwareModule()).buildImage({ outDir: join(dir, 'image'), log: () => {} });
    ctx.report('image-size', (manifest.bytes.vmlinuz! + manifest.bytes['rootfs.cpio.zst']!) / 1e6, 'MB');
    const flash = join(dir, 'flash.img');
    q.makeFlash(flash);
    const vm = new Appliance({ image: outDir, dir, flash, nics: [{ user: true }] });
    try {
      await vm.powerOn();
      await vm.console.expect(/Press RETURN to get started![\s\S]*\nRouter>$/, 600000);
      ctx.report('boot-to-prompt', (Date.now() - vm.startedAt) / 1000, 's');
    } finally {
      await vm.powerOff();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
