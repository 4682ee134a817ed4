// What this build is: version, git commit, build date and default board. The build
// (scripts/build.mjs, scripts/sea.mjs) feeds them in through esbuild `define`; run from
// source (tests, tsx) they fall back to the package version and "unknown".
import { FIRMWARE_VERSION } from './version.js';

declare const __RAMPART_BUILD_COMMIT__: string | undefined;
declare const __RAMPART_BUILD_DATE__: string | undefined;
declare const __RAMPART_BUILD_BOARD__: string | undefined;

export interface BuildInfo {
  version: string;
  /** Short git commit, with `-dirty` when the tree had uncommitted changes. */
  commit: string;
  /** ISO 8601 UTC; from SOURCE_DATE_EPOCH (the commit time) so rebuilds are identical. */
  date: string;
  /** Board the build boots by default (`sim` on a host, `vm` in the appliance image). */
  board: string;
}

export function buildInfo(): BuildInfo {
  return {
    version: FIRMWARE_VERSION,
    commit: typeof __RAMPART_BUILD_COMMIT__ === 'string' ? __RAMPART_BUILD_COMMIT__ : 'unknown',
    date: typeof __RAMPART_BUILD_DATE__ === 'string' ? __RAMPART_BUILD_DATE__ : 'unknown',
    board: typeof __RAMPART_BUILD_BOARD__ === 'string' ? __RAMPART_BUILD_BOARD__ : 'sim',
  };
}
