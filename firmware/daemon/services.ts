// The runtime services a box runs, in start order. One line per service.
import type { BoardProfile } from '../../board/profile.js';
import type { DaemonService } from './daemon.js';
import { DataplaneService } from './dataplane-service.js';
import { IkeV1Service } from './ikev1-service.js';
import { Ikev2Service } from './ikev2-service.js';
import { PortStatusService } from './port-status.js';

export function defaultServices(board: BoardProfile): DaemonService[] {
  void board;
  return [new PortStatusService(), new DataplaneService(), new IkeV1Service(), new Ikev2Service()];
}
