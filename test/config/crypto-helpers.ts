// Helpers for the crypto config tests: run config lines through the real CLI engine.
import '../../firmware/cli/commands/index.js';
import { runTranscript } from '../../firmware/cli/transcript.js';
import { createConfig, renderConfigLines, type Config } from '../../firmware/config/model.js';
import { fakeSystem } from '../lib/fake-system.js';

/** Applies config lines (global configuration mode) to `cfg`; returns the terminal text. */
export async function configure(lines: string[], cfg: Config = createConfig()): Promise<{ cfg: Config; text: string }> {
  const { text } = await runTranscript(['configure terminal', ...lines, 'end'], { config: cfg, system: fakeSystem(), privileged: true });
  return { cfg, text };
}

/** Runs exec commands; returns the terminal text. */
export async function exec(cfg: Config, lines: string[]): Promise<string> {
  const { text } = await runTranscript(lines, { config: cfg, system: fakeSystem(), privileged: true });
  return text;
}

/** Error lines printed (`%` lines that are not warnings or notes). */
export function errorLines(text: string): string[] {
  return text.split('\n').filter((l) => l.startsWith('%') && !l.startsWith('% Warning') && !l.startsWith('% NOTE'));
}

/** The model without revision numbers (they count commands, not content). */
export function stripRevisions(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripRevisions);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([k]) => k !== 'revision').map(([k, x]) => [k, stripRevisions(x)]));
  }
  return v;
}

export function running(cfg: Config): string[] {
  return renderConfigLines(cfg);
}
