// A board profile: what the box is (model text, ports, console device, where flash lives).
// The daemon takes one; `sim` runs on any Linux host.

export interface BoardProfile {
  name: string;
  model: string;
  description: string;
  /** Physical ports, canonical IOS names, in the order `show` lists them. */
  ports: string[];
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
}
