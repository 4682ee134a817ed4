// The runtime services a box runs, in start order (a service starts after the ones it names
// in `after`, wherever it is listed). One line per service.
import { boardDrivers } from '../../board/drivers.js';
import type { BoardProfile } from '../../board/profile.js';
import type { DaemonService } from './daemon.js';
import { DataplaneService } from './dataplane-service.js';
import { HostStatusService } from './host-status.js';
import { IkeV1Service } from './ikev1-service.js';
import { Ikev2Service } from './ikev2-service.js';
import { PortStatusService } from './port-status.js';
import { IcmpProbeService } from './icmp-service.js';
import { TedService } from './ted-service.js';

/**
 * The board picks the data plane's drivers: crypto engines, kernel backend, host network
 * (board/drivers.ts). `dataplane`: a data plane of the caller's (tests: one whose packets
 * go to another box in the process).
 */
export function defaultServices(board: BoardProfile, opts: { dataplane?: DataplaneService } = {}): DaemonService[] {
  const dataplane = opts.dataplane ?? new DataplaneService({ drivers: boardDrivers(board) });
  return [new PortStatusService(), new HostStatusService(), new IcmpProbeService(), dataplane, new IkeV1Service(), new Ikev2Service(), new TedService()];
}
