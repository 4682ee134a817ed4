// What a build is: git commit (with -dirty), date and default board, for
// firmware/lib/build-info.ts through esbuild `define` (scripts/build.mjs, scripts/sea.mjs).
import { execFileSync } from 'node:child_process';
import { root } from './ensure.mjs';

function git(...args) {
  try { return execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return ''; }
}

/**
 * Build identity for firmware/lib/build-info.ts. The date is SOURCE_DATE_EPOCH, else the
 * commit time, never "now": the same tree builds the same bytes.
 */
export function buildIdentity(board = 'sim') {
  const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
  const commit = (git('rev-parse', '--short=12', 'HEAD') || 'unknown') + (dirty ? '-dirty' : '');
  const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? (git('log', '-1', '--format=%ct') || 0));
  return { commit, epoch, date: new Date(epoch * 1000).toISOString().replace(/\.000Z$/, 'Z'), board };
}

export function buildDefines(id) {
  return {
    __RAMPART_BUILD_COMMIT__: JSON.stringify(id.commit),
    __RAMPART_BUILD_DATE__: JSON.stringify(id.date),
    __RAMPART_BUILD_BOARD__: JSON.stringify(id.board),
  };
}
