// Board lookup by name (`rampart daemon --board sim`).
import type { BoardProfile } from './profile.js';
import { simBoard } from './sim.js';

export type { BoardProfile } from './profile.js';

export function loadBoard(name: string, opts: { stateDir?: string; portMap?: Record<string, string> }): BoardProfile {
  switch (name) {
    case 'sim': return simBoard(opts);
    default: throw new Error(`unknown board "${name}" (known: sim)`);
  }
}
