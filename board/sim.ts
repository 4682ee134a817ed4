// The `sim` board: runs on any Linux host. Its ports come from a profile (sim-profiles.ts);
// a port is wired to a Linux interface of the daemon's network namespace with
// `--port NAME=ifname`. A port that is not wired, or whose Linux interface is missing, is
// shown down, and the console says why at boot.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalInterfaceName } from '../firmware/config/interface-names.js';
import { kernelBackendFromEnv, type BoardProfile, type PortRole } from './profile.js';
import { loadSimProfile } from './sim-profiles.js';
import { derivedSerial } from './serial.js';

export interface SimBoardOptions {
  stateDir?: string;
  portMap?: Record<string, string>;
  cwd?: string;
  /** `branch`, `guide` (the default: every port name of the guide) or a JSON file. */
  profile?: string;
  /** Whether a Linux interface exists in this namespace (tests replace it). */
  linkExists?: (ifname: string) => boolean;
}

const linuxInterfaceExists = (ifname: string): boolean => existsSync(join('/sys/class/net', ifname));

export function simBoard(opts: SimBoardOptions = {}): BoardProfile {
  const profile = loadSimProfile(opts.profile ?? 'guide');
  const ports = profile.ports.map((p) => p.name);
  const roles: Record<string, PortRole> = {};
  for (const p of profile.ports) if (p.role) roles[p.name] = p.role;
  const portMap: Record<string, string> = {};
  const notes: string[] = [];
  const exists = opts.linkExists ?? linuxInterfaceExists;
  for (const [given, ifname] of Object.entries(opts.portMap ?? {})) {
    const name = canonicalInterfaceName(given);
    if (!name || !ports.includes(name)) {
      throw new Error(`--port ${given}=${ifname}: this board has no port ${given} (ports: ${ports.join(', ')})`);
    }
    portMap[name] = ifname;
    if (!exists(ifname)) notes.push(`% ${name}: Linux interface ${ifname} does not exist in this network namespace; the port stays down`);
  }
  for (const name of ports) {
    const role = roles[name] ? ` (${roles[name]})` : '';
    if (portMap[name] !== undefined && exists(portMap[name]!)) notes.push(`${name}${role}: wired to Linux interface ${portMap[name]}`);
    else if (roles[name]) notes.push(`${name}${role}: not connected (wire it with --port ${name}=IFNAME)`);
  }
  const stateDir = opts.stateDir ?? join(opts.cwd ?? process.cwd(), 'state', 'sim');
  return {
    name: 'sim',
    model: profile.model,
    description: `Linux ${process.arch}`,
    ports,
    roles,
    portMap,
    stateDir: opts.stateDir ?? join(opts.cwd ?? process.cwd(), 'state', 'sim'),
    serial: derivedSerial('RSM', opts.stateDir ?? join(opts.cwd ?? process.cwd(), 'state', 'sim')),
    engines: ['software'],
    kernelBackend: kernelBackendFromEnv(),
    notes,
    // Slots are files; the daemon plays the bootloader (boot counting included).
    bootSlots: {
      devices: { A: join(stateDir, 'slots', 'A.img'), B: join(stateDir, 'slots', 'B.img') },
      env: join(stateDir, 'boot', 'grubenv'),
      slotBytes: 512 * 1024 * 1024,
      trustedKeys: process.env.RAMPART_TRUSTED_KEYS ?? '/etc/rampart/trusted-keys',
    },
  };
}
