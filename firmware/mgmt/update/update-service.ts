// The daemon's side of the update commands: flash: file names to paths, the slot store,
// the image reports the CLI prints, and the boot-time health mark.
import { join } from 'node:path';
import type { BootSlotView, ImageReport, UpdateServices } from '../../cli/update-view.js';
import { validFlashName } from '../flash-files.js';
import type { VerifiedImage } from './image-verify.js';
import { SlotStore, type SlotLayout } from './slot-store.js';
import { loadTrustedKeys } from './trusted-keys.js';

export interface UpdateOptions {
  layout: SlotLayout;
  trustedKeysDir: string;
  board: string;
  runningVersion: string;
  flashDir: string;
  log: (severity: number, mnemonic: string, text: string) => void;
}

export function imageReport(file: string, v: VerifiedImage): ImageReport {
  const m = v.manifest;
  return {
    file, bytes: v.totalBytes, format: m.format, product: m.product, boards: m.boards, version: m.version,
    buildId: m.buildId, created: m.created, signedBy: `${v.key.id} (${v.key.name})`,
    payloads: m.payloads.map((p) => ({ name: p.name, size: p.size, sha256: p.sha256 })), downgrade: v.downgrade,
  };
}

export class UpdateService implements UpdateServices {
  readonly store: SlotStore;

  constructor(private readonly opts: UpdateOptions) {
    this.store = new SlotStore(opts.layout, {
      keys: loadTrustedKeys(opts.trustedKeysDir), board: opts.board, runningVersion: opts.runningVersion, log: opts.log,
    });
  }

  private path(file: string): string {
    if (!validFlashName(file)) throw new Error(`flash:${file}: invalid name`);
    return join(this.opts.flashDir, file);
  }

  async verify(file: string, progress: (done: number, total: number | undefined) => void): Promise<ImageReport> {
    // `verify` reports a downgrade; only `upgrade` refuses one.
    return imageReport(file, await this.store.verify(this.path(file), true, progress));
  }

  async install(file: string, force: boolean, progress: (phase: 'verify' | 'write' | 'read-back', done: number, total: number) => void): Promise<{ slot: 'A' | 'B'; image: ImageReport }> {
    const r = await this.store.install(this.path(file), { force, progress });
    return { slot: r.slot, image: imageReport(file, r.image) };
  }

  rollback(): { slot: 'A' | 'B'; version: string; trial: boolean } {
    return this.store.rollback();
  }

  slots(): BootSlotView[] {
    // The sim board's factory slot A is its build, not an image: say so instead of "empty".
    const simFactory = this.opts.layout.booted === undefined;
    return this.store.status().map(({ envVersion, ...s }) => (simFactory && s.content === 'empty' && s.good
      ? { ...s, content: 'image' as const, version: envVersion ?? this.opts.runningVersion, buildId: 'the sim build' }
      : s));
  }

  versionLines(): string[] {
    const s = this.store;
    const lines = [`Running from boot slot ${s.booted}${s.trial ? ' (on trial: not yet marked good)' : ''}`];
    if (s.rolledBackFrom) lines.push(`Rolled back: the firmware in slot ${s.rolledBackFrom} did not come up healthy; slot ${s.booted} booted instead`);
    for (const slot of this.slots()) {
      lines.push(`  slot ${slot.name}: ${slot.content === 'image' ? `version ${slot.version}` : slot.content === 'incomplete' ? 'incomplete (an install into it did not finish)' : slot.content}${slot.active ? ', active' : ''}${slot.good ? ', good' : `, ${slot.triesLeft} tries left`}${slot.next ? ', next boot' : ''}`);
    }
    return lines;
  }
}
