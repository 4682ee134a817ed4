// `banner motd|login|exec`: text shown when a session starts (motd), before the login
// prompt (login; on SSH it is the pre-authentication banner) and after login (exec).
import { defineSection } from './model.js';

export type BannerKind = 'motd' | 'login' | 'exec';

declare module './model.js' {
  interface Config { banners: Partial<Record<BannerKind, string>> }
}

defineSection({
  key: 'banners',
  order: 880,
  create: () => ({}),
  // IOS writes the delimiter as the two characters ^C, whatever was typed.
  render: (cfg) => [(['exec', 'login', 'motd'] as const).filter((k) => cfg.banners[k] !== undefined).map((k) => `banner ${k} ^C${cfg.banners[k]}^C`)],
});
