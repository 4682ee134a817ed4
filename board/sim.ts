// The `sim` board: runs on any Linux host. Its ports carry every physical interface name the
// seed guide's examples use, so each example can be tried as written; a port is wired to a
// Linux interface of the daemon's network namespace with `--port NAME=ifname`.
import { join } from 'node:path';
import type { BoardProfile } from './profile.js';
import { derivedSerial } from './serial.js';

export const SIM_PORTS = [
  'Ethernet0/0', 'Ethernet1/0', 'Ethernet2/0', 'Ethernet3/0', 'Ethernet3/3',
  'FastEthernet0/0', 'FastEthernet0/1',
  'GigabitEthernet0/0', 'GigabitEthernet0/1', 'GigabitEthernet0/2',
  'Serial0/0', 'Serial2/0', 'Serial2/1', 'Serial12/0',
];

export function simBoard(opts: { stateDir?: string; portMap?: Record<string, string>; cwd?: string } = {}): BoardProfile {
  return {
    name: 'sim',
    model: 'Rampart SIM',
    description: `Linux ${process.arch}`,
    ports: [...SIM_PORTS],
    portMap: opts.portMap ?? {},
    stateDir: opts.stateDir ?? join(opts.cwd ?? process.cwd(), 'state', 'sim'),
    serial: derivedSerial('RSM', opts.stateDir ?? join(opts.cwd ?? process.cwd(), 'state', 'sim')),
    engines: ['software'],
  };
}
