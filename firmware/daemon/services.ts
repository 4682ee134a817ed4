// The runtime services a box runs, in start order. One line per service.
import type { BoardProfile } from '../../board/profile.js';
import type { DaemonService } from './daemon.js';
import { DataplaneService } from './dataplane-service.js';
import { HostStatusService } from './host-status.js';
import { IkeV1Service } from './ikev1-service.js';
import { Ikev2Service } from './ikev2-service.js';
import { PortStatusService } from './port-status.js';
import { IcmpProbeService } from './icmp-service.js';

/** `dataplane`: a data plane of the caller's (tests: one whose packets go to another box in the process). */
export function defaultServices(board: BoardProfile, opts: { dataplane?: DataplaneService } = {}): DaemonService[] {
  void board;
  // host-status adds load rates to what port-status reports, so it starts after it
  return [new PortStatusService(), new HostStatusService(), new IcmpProbeService(), opts.dataplane ?? new DataplaneService(), new IkeV1Service(), new Ikev2Service()];
}
