// A board profile: what the box is (model text, ports, console device, where flash lives).
// The daemon takes one; `sim` runs on any Linux host.

/** What a port is for on a branch box: the uplink to the internet, or the office side. */
export type PortRole = 'WAN' | 'LAN';

export interface BoardProfile {
  name: string;
  model: string;
  description: string;
  /** Physical ports, canonical IOS names, in the order `show` lists them. */
  ports: string[];
  /** Role of each port that has one (a branch box's WAN uplink and LAN ports). */
  roles?: Record<string, PortRole>;
  /** IOS port name -> Linux interface name, for ports that are wired to one. */
  portMap: Record<string, string>;
  /** Console device (`/dev/ttyS0`), or undefined when the console is the launching terminal. */
  consoleDevice?: string;
  /** Folder holding flash (nvram: startup-config, and later the A/B image slots). */
  stateDir: string;
  /** Serial number (`show version` Processor board ID, `show inventory`). */
  serial?: string;
  /** Crypto engines in preference order; `software` is always available. */
  engines: string[];
  /** What the console shows at boot about the ports (wiring, problems found). */
  notes?: string[];
}
