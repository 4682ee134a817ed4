// Port layouts for the `sim` board. `branch` is what `npm start` boots: a small branch box
// with one WAN uplink and two LAN ports. `guide` carries every physical port name the IPsec
// guide's examples use, so each example can be pasted as written (tests and labs use it).
// A profile can also come from a JSON file of the same shape (`--profile FILE.json`).
import { readFileSync } from 'node:fs';
import { canonicalInterfaceName } from '../firmware/config/interface-names.js';
import type { PortRole } from './profile.js';

export interface SimProfile {
  model: string;
  ports: Array<{ name: string; role?: PortRole }>;
}

export const SIM_PROFILES: Record<string, SimProfile> = {
  branch: {
    model: 'Rampart SIM branch gateway',
    ports: [
      { name: 'GigabitEthernet0/0', role: 'WAN' },
      { name: 'GigabitEthernet0/1', role: 'LAN' },
      { name: 'GigabitEthernet0/2', role: 'LAN' },
    ],
  },
  guide: {
    model: 'Rampart SIM',
    ports: [
      'Ethernet0/0', 'Ethernet1/0', 'Ethernet2/0', 'Ethernet3/0', 'Ethernet3/3',
      'FastEthernet0/0', 'FastEthernet0/1',
      'GigabitEthernet0/0', 'GigabitEthernet0/1', 'GigabitEthernet0/2',
      'Serial0/0', 'Serial2/0', 'Serial2/1', 'Serial12/0',
    ].map((name) => ({ name })),
  },
};

/** A built-in profile by name, or a JSON file; port names are checked and made canonical. */
export function loadSimProfile(nameOrFile: string): SimProfile {
  const builtin = SIM_PROFILES[nameOrFile];
  if (builtin) return builtin;
  if (!nameOrFile.endsWith('.json')) throw new Error(`unknown sim profile "${nameOrFile}" (built in: ${Object.keys(SIM_PROFILES).join(', ')}; or a .json file)`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(nameOrFile, 'utf8'));
  } catch (err) {
    throw new Error(`board profile ${nameOrFile}: ${(err as Error).message}`);
  }
  const p = raw as Partial<SimProfile>;
  if (!Array.isArray(p.ports) || p.ports.length === 0) throw new Error(`board profile ${nameOrFile}: "ports" must list at least one port`);
  const ports = p.ports.map((port) => {
    const name = canonicalInterfaceName(String(port?.name ?? ''));
    if (!name) throw new Error(`board profile ${nameOrFile}: "${String(port?.name)}" is not an interface name`);
    if (port.role !== undefined && port.role !== 'WAN' && port.role !== 'LAN') throw new Error(`board profile ${nameOrFile}: role of ${name} must be "WAN" or "LAN"`);
    return { name, role: port.role };
  });
  return { model: typeof p.model === 'string' ? p.model : 'Rampart SIM', ports };
}
