// The runtime services a box runs, in start order. One line per service.
import type { BoardProfile } from '../../board/profile.js';
import type { DaemonService } from './daemon.js';

export function defaultServices(board: BoardProfile): DaemonService[] {
  void board;
  return [];
}
