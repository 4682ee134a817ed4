// Firmware update commands (docs/firmware-update.md): `verify flash:FILE` checks a signed
// image and prints its manifest; `upgrade flash:FILE [force]` writes it into the slot not
// running with progress; `upgrade rollback` boots the other slot next; `show boot` lists
// both slots. The image reaches flash: by scp/sftp or `copy`.
import { CliError, type CommandContext } from '../context.js';
import type { ImageReport, UpdateServices } from '../update-view.js';
import { defineCommand } from '../registry.js';

const PRIV = ['exec'];

function updates(ctx: CommandContext): UpdateServices {
  const u = ctx.system.updates;
  if (!u) throw new CliError('% Firmware update is not available: this box has no A/B boot slots (booted without its bootloader)');
  return u;
}

function imageFile(text: string): string {
  const m = /^(?:flash:)?\/?([A-Za-z0-9_][A-Za-z0-9._+-]{0,127})$/i.exec(text);
  if (!m || m[1]!.includes('..')) throw new CliError(`%Error opening ${text} (Invalid argument)`);
  return m[1]!;
}

/**
 * Progress as it happens, one line per phase (a console pages nothing and IOS's copy also
 * keeps to one line): `Writing the standby slot (43765760 bytes): 0% 10% ... 100% done`.
 */
function progressPrinter(ctx: CommandContext, title: (phase: string) => string): (phase: string, done: number, total: number | undefined) => void {
  let phase = '';
  let shown = -1;
  return (p, done, total) => {
    if (!total) return;
    if (p !== phase) {
      if (phase && shown < 100) tryWrite(ctx, '\n');
      phase = p;
      shown = -1;
      tryWrite(ctx, `${title(p)} (${total} bytes):`);
    }
    const step = Math.floor((done * 10) / total) * 10;
    if (step > shown) {
      shown = step;
      tryWrite(ctx, ` ${step}%${done >= total ? ` (${done} bytes) done\n` : ''}`);
    }
  };
}

function tryWrite(ctx: CommandContext, text: string): void {
  try { ctx.session.writeAsync(text); } catch { /* the session ended: the install goes on */ }
}

function manifestText(r: ImageReport): string {
  return [
    `Image format      : Rampart firmware image, format ${r.format} (${r.bytes} bytes)`,
    `Product           : ${r.product}`,
    `Boards            : ${r.boards.join(', ')}`,
    `Version           : ${r.version}${r.downgrade ? ' (older than the running version)' : ''}`,
    `Build             : ${r.buildId}`,
    `Created           : ${r.created}`,
    `Signed by key     : ${r.signedBy}`,
    ...r.payloads.map((p) => `Payload ${p.name.padEnd(10)}: ${p.size} bytes, SHA-256 ${p.sha256}`),
  ].join('\n');
}

defineCommand({
  modes: PRIV,
  syntax: 'verify WORD$file',
  help: { verify: 'Verify a file', file: 'Signed firmware image to verify (flash:NAME)' },
  async handler(ctx, a) {
    const name = imageFile(a.req('file'));
    tryWrite(ctx, `Verifying file integrity of flash:${name}`);
    let dots = 0;
    let r: ImageReport;
    try {
      r = await updates(ctx).verify(name, (done, total) => {
        const want = total ? Math.floor((done * 40) / total) : 0;
        if (want > dots) { tryWrite(ctx, '.'.repeat(want - dots)); dots = want; }
      });
    } catch (e) {
      throw new CliError(`\n%Error verifying flash:${name}: ${(e as Error).message}`);
    }
    ctx.data(r);
    ctx.print(`Done!\n${manifestText(r)}\nSignature Verified`);
  },
});

defineCommand({
  modes: PRIV,
  syntax: ['upgrade WORD$file [force]', 'upgrade rollback'],
  help: {
    upgrade: 'Install firmware into the standby boot slot',
    file: 'Signed firmware image (flash:NAME)',
    force: 'Install even if the image is older than the running firmware',
    rollback: 'Boot the other slot at the next reload',
  },
  async handler(ctx, a) {
    const u = updates(ctx);
    if (a.has('rollback')) {
      let r;
      try { r = u.rollback(); } catch (e) { throw new CliError(`%Error: ${(e as Error).message}`); }
      ctx.data(r);
      ctx.print(`Next boot: slot ${r.slot} (version ${r.version})${r.trial ? ', on trial' : ''}.\nUse "reload" to start it.`);
      return;
    }
    const name = imageFile(a.req('file'));
    const titles: Record<string, string> = { verify: `Verifying flash:${name}`, write: 'Writing the standby slot', 'read-back': 'Reading the slot back' };
    const progress = progressPrinter(ctx, (p) => titles[p] ?? p);
    let r;
    try {
      r = await u.install(name, a.has('force'), progress);
    } catch (e) {
      throw new CliError(`%Error installing flash:${name}: ${(e as Error).message}`);
    }
    ctx.data({ slot: r.slot, image: r.image });
    ctx.print(`[OK] Slot ${r.slot} holds version ${r.image.version}; it boots next, on trial (it must come up healthy, else the running slot boots again).\nUse "reload" to start it.`);
  },
});

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show boot',
  help: { boot: 'Boot slots and the firmware in them' },
  pipe: true,
  handler(ctx) {
    const slots = updates(ctx).slots();
    ctx.data(slots);
    const rows = slots.map((s) => {
      const status = s.content !== 'image' ? s.content : s.good ? 'good' : s.triesLeft > 0 ? 'trial' : 'failed';
      return `${s.name.padEnd(5)} ${(s.active ? 'yes' : 'no').padEnd(7)} ${(s.next ? 'yes' : 'no').padEnd(10)} ${status.padEnd(10)} ${String(s.good ? '-' : s.triesLeft).padEnd(11)} ${s.version ?? '-'}${s.buildId ? ` (${s.buildId})` : ''}`;
    });
    ctx.print(['Slot  Active  Next boot  Status     Tries left  Version', ...rows].join('\n'));
  },
});
