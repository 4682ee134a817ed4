// `archive`: where copies of the running configuration go (`path flash:NAME`, `maximum`,
// `write-memory`, `time-period`) and the configuration change log (`log config` with
// `logging enable`, `logging size`, `hidekeys`, `notify syslog`), as IOS 15 has them.
import { defineSection } from './model.js';

export interface ArchiveConfig {
  /** `path flash:NAME` as typed (may hold `$h` hostname and `$t` time); absent: archive off. */
  path?: string;
  /** `maximum N` (1-14); IOS keeps 10 without it. */
  maximum?: number;
  /** `write-memory`: `write memory` / `copy run start` also archive. */
  writeMemory: boolean;
  /** `time-period MIN`: archive every MIN minutes. */
  timePeriodMin?: number;
  log: {
    /** `log config` was entered (IOS keeps the empty sub-mode in running-config). */
    present: boolean;
    enabled: boolean;
    /** `logging size N` (1-1000); IOS keeps 100 entries without it. */
    size?: number;
    hidekeys: boolean;
    notifySyslog: boolean;
  };
}

declare module './model.js' {
  interface Config { archive: ArchiveConfig }
}

export const ARCHIVE_DEFAULT_MAXIMUM = 10;
export const ARCHIVE_LOG_DEFAULT_SIZE = 100;

export function newArchiveConfig(): ArchiveConfig {
  return { writeMemory: false, log: { present: false, enabled: false, hidekeys: false, notifySyslog: false } };
}

/** The archive block exists in running-config once `archive` was entered with anything under it. */
export function archiveLines(a: ArchiveConfig): string[] {
  const out: string[] = [];
  if (a.log.present || a.log.enabled || a.log.size !== undefined || a.log.hidekeys || a.log.notifySyslog) {
    out.push(' log config');
    if (a.log.enabled) out.push('  logging enable');
    if (a.log.size !== undefined) out.push(`  logging size ${a.log.size}`);
    if (a.log.notifySyslog) out.push('  notify syslog contenttype plaintext');
    if (a.log.hidekeys) out.push('  hidekeys');
  }
  if (a.path !== undefined) out.push(` path ${a.path}`);
  if (a.maximum !== undefined) out.push(` maximum ${a.maximum}`);
  if (a.writeMemory) out.push(' write-memory');
  if (a.timePeriodMin !== undefined) out.push(` time-period ${a.timePeriodMin}`);
  return out.length > 0 ? ['archive', ...out] : [];
}

defineSection({
  key: 'archive',
  // IOS 15 prints it after the logging lines and before the usernames.
  order: 18,
  create: newArchiveConfig,
  render: (cfg) => [archiveLines(cfg.archive)],
});
