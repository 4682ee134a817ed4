// The board picks the drivers a box runs on: its crypto engines (by the names in its
// profile, preference order), the kernel IPsec backend, and the host-network port through
// which the runtime programs the box's Linux interfaces and routes. The daemon takes what
// this returns (services.ts) and never asks which board it is on.
import { createSoftwareEngine } from '../drivers/software/software-engine.js';
import type { CryptoEngine } from '../firmware/lib/crypto-engine.js';
import { LinuxHostNetwork, type CommandRunner, type HostNetwork } from '../firmware/kernel/host-network.js';

import type { BoardProfile, KernelBackendChoice } from './profile.js';

export interface BoardDrivers {
  /** Crypto engines in preference order; the first carries the SAs. Never empty. */
  engines: CryptoEngine[];
  /** `detect`: XFRM where the kernel takes ESP SAs, else userspace ESP; `userspace`: always userspace. */
  kernelBackend: KernelBackendChoice;
  network: HostNetwork;
  /** What the console shows at boot about engines the board names but cannot drive. */
  problems: string[];
}

/** Engine drivers by the name a board profile uses. */
const ENGINE_DRIVERS: Readonly<Record<string, () => CryptoEngine>> = {
  software: () => createSoftwareEngine(),
};

export function boardDrivers(board: BoardProfile, opts: { run?: CommandRunner } = {}): BoardDrivers {
  const engines: CryptoEngine[] = [];
  const problems: string[] = [];
  for (const name of board.engines) {
    const make = ENGINE_DRIVERS[name];
    if (make) engines.push(make());
    else problems.push(`% crypto engine ${name}: no driver for it on this firmware (known: ${Object.keys(ENGINE_DRIVERS).join(', ')})`);
  }
  // software is always there: the box still carries traffic when no accelerator is usable
  if (!engines.some((e) => e.kind === 'software')) engines.push(createSoftwareEngine());
  return {
    engines,
    kernelBackend: board.kernelBackend ?? 'detect',
    network: new LinuxHostNetwork({ portMap: board.portMap, ...(opts.run ? { run: opts.run } : {}) }),
    problems,
  };
}
