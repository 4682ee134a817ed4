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
  /** Crypto engines in preference order; `software` is always available (drivers.ts). */
  engines: string[];
  /**
   * The kernel IPsec backend: `detect` (XFRM where the kernel takes ESP SAs, else the
   * userspace ESP path) or `userspace` (always). Default `detect`.
   */
  kernelBackend?: KernelBackendChoice;
  /** What the console shows at boot about the ports (wiring, problems found). */
  notes?: string[];
  /**
   * The box owns the kernel's IPsec state (XFRM SAs and policies) of its namespace: a
   * daemon restarted after a crash clears what the dead one left, so its tunnels are
   * negotiated again instead of running on SAs nobody knows (the appliance; never a host).
   */
  ownsKernelIpsec?: boolean;
  /** A/B firmware slots and the bootloader's environment (docs/firmware-update.md). */
  bootSlots?: BootSlots;
}

export type KernelBackendChoice = 'detect' | 'userspace';

/**
 * RAMPART_DATAPLANE=userspace: the userspace data path even where the kernel has ESP (the
 * appliance's init sets it from `rampart.dataplane=userspace`; bench anchors).
 */
export function kernelBackendFromEnv(env: NodeJS.ProcessEnv = process.env): KernelBackendChoice {
  return env.RAMPART_DATAPLANE === 'userspace' ? 'userspace' : 'detect';
}

export interface BootSlots {
  /** device (or file, on the sim board) of each slot */
  devices: { A: string; B: string };
  /** the GRUB environment block */
  env: string;
  /** mount point of the partition holding `env`: read-only except while it is changed */
  envMount?: string;
  /** the slot the bootloader started; undefined: the daemon chooses it (sim board) */
  booted?: 'A' | 'B';
  slotBytes: number;
  /** folder of the public keys images must be signed with */
  trustedKeys: string;
}
