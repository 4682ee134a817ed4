// `banner motd|login|exec DELIM text DELIM`: the text may span lines; everything up to the
// next delimiter character is the banner (`^C`, as running-config writes it, counts as one).
import type { BannerKind } from '../../config/banner.js';
import { defineMode } from '../modes.js';
import { defineCommand } from '../registry.js';

defineMode({ name: 'config-banner', prompt: '(config-banner)', parent: 'config' });

interface BannerData { kind: BannerKind; delim: string; text: string }

/** Adds `chunk` to the banner; true when the closing delimiter was in it. */
function collect(ctx: { config: { banners: Partial<Record<BannerKind, string>> } }, d: BannerData, chunk: string): boolean {
  const end = chunk.indexOf(d.delim);
  d.text += end >= 0 ? chunk.slice(0, end) : chunk;
  ctx.config.banners[d.kind] = d.text;
  return end >= 0;
}

defineCommand({
  modes: ['config'],
  syntax: ['banner <motd|login|exec> LINE$text', 'no banner <motd|login|exec>'],
  help: { banner: 'Define a login banner', motd: 'Set Message of the Day banner', login: 'Set login banner', exec: 'Set EXEC process creation banner', text: 'c  banner-text c, where \'c\' is a delimiting character' },
  handler(ctx, a) {
    const kind = (['motd', 'login', 'exec'] as const).find((k) => a.has(k))!;
    if (a.no) {
      delete ctx.config.banners[kind];
      return;
    }
    const text = a.req('text');
    const delim = text.startsWith('^C') ? '^C' : text[0]!;
    const d: BannerData = { kind, delim, text: '' };
    if (!collect(ctx, d, text.slice(delim.length))) {
      ctx.print(`Enter TEXT message.  End with the character '${delim}'.`);
      ctx.enter('config-banner', { ...d });
    }
  },
});

defineCommand({
  modes: ['config-banner'],
  syntax: 'LINE$text',
  help: { text: 'Banner text, up to the delimiting character' },
  handler(ctx, a) {
    const d = ctx.modeData as unknown as BannerData;
    if (collect(ctx, d, `\n${a.req('text')}`)) ctx.enter('config');
  },
});
