// The host-network port: how the runtime changes the network of the box's Linux (addresses
// and admin state of the board's ports, routes). The board supplies it (board/drivers.ts);
// the data plane programs the configuration through it and never runs `ip` itself. The
// Linux implementation runs iproute2; tests give the data plane a runner that records.
import { runCommand, type CommandRunner } from './userspace-backend.js';

/** What a port's Linux interface carries (from its `interface` configuration). */
export interface PortSettings {
  /** `A.B.C.D/len`, primary first. */
  addrs: readonly string[];
  down: boolean;
  /** In a VRF: its connected routes go to the VRF's table only (no prefix route here). */
  vrf?: string;
}

export interface HostNetwork {
  /** The Linux interface wired to a board port (undefined: the port is not wired). */
  linuxName(port: string): string | undefined;
  /** Board ports wired to a Linux interface, with that interface. */
  wiredPorts(): ReadonlyArray<readonly [port: string, ifname: string]>;
  /** Sets a wired port's addresses and admin state; returns the errors (empty: done). */
  setPort(port: string, s: PortSettings): string[];
  /** `ip route replace ARGV`; an error text, or undefined when the kernel took it. */
  replaceRoute(argv: readonly string[]): string | undefined;
  /** `ip route del ARGV`, quietly (the kernel may have dropped it with its device). */
  deleteRoute(argv: readonly string[]): void;
  /** Removes every route of a routing protocol number (a previous daemon's leftovers). */
  flushRoutes(proto: string): void;
  /** Runs iproute2 and sysctl for the kernel backends (policy routing, VRF tables). */
  readonly run: CommandRunner;
}

export interface LinuxHostNetworkOptions {
  /** IOS port name -> Linux interface (the board's wiring). */
  portMap: Readonly<Record<string, string>>;
  run?: CommandRunner;
}

/** The host network of a Linux box, through iproute2. */
export class LinuxHostNetwork implements HostNetwork {
  readonly run: CommandRunner;
  private readonly portMap: Readonly<Record<string, string>>;

  constructor(opts: LinuxHostNetworkOptions) {
    this.portMap = opts.portMap;
    this.run = opts.run ?? runCommand;
  }

  linuxName(port: string): string | undefined {
    return this.portMap[port];
  }

  wiredPorts(): ReadonlyArray<readonly [string, string]> {
    return Object.entries(this.portMap);
  }

  setPort(port: string, s: PortSettings): string[] {
    const dev = this.portMap[port];
    if (dev === undefined) return [`${port} is not wired to a Linux interface`];
    const errors: string[] = [];
    this.sh(['ip', '-4', 'addr', 'flush', 'dev', dev], errors);
    for (const a of s.addrs) this.sh(['ip', 'addr', 'add', a, 'dev', dev, ...(s.vrf ? ['noprefixroute'] : [])], errors);
    this.sh(['ip', 'link', 'set', dev, s.down ? 'down' : 'up'], errors);
    return errors;
  }

  replaceRoute(argv: readonly string[]): string | undefined {
    const errors: string[] = [];
    return this.sh(['ip', 'route', 'replace', ...argv], errors) ? undefined : errors[0];
  }

  deleteRoute(argv: readonly string[]): void {
    this.run(['ip', 'route', 'del', ...argv]);
  }

  flushRoutes(proto: string): void {
    this.run(['ip', 'route', 'flush', 'proto', proto]);
  }

  private sh(argv: string[], errors: string[]): boolean {
    const r = this.run(argv);
    if (r.code !== 0) errors.push(`${argv.join(' ')}: ${r.stderr.trim()}`);
    return r.code === 0;
  }
}
