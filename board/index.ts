// Board lookup by name (`rampart daemon --board sim`).
import type { BoardProfile } from './profile.js';
import { simBoard, type SimBoardOptions } from './sim.js';
import { vmBoard } from './vm.js';

export type { BoardProfile } from './profile.js';

export function loadBoard(name: string, opts: SimBoardOptions): BoardProfile {
  switch (name) {
    case 'sim': return simBoard(opts);
    case 'vm': return vmBoard(opts);
    default: throw new Error(`unknown board "${name}" (known: sim, vm)`);
  }
}
