// Link state and counters of the board's ports for `show interfaces` and `show ip interface
// brief`: a port wired to a Linux interface reports that interface's operational state and
// kernel counters; a port wired to nothing is down (never a made-up "up"). Logical
// interfaces (Loopback, Tunnel, ...) are left to whoever reported them before.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InterfaceRuntimeStatus } from '../cli/commands/routing.js';
import { parentOf } from '../config/interface.js';
import type { Config } from '../config/model.js';
import type { DaemonService, ServiceContext } from './daemon.js';

const IFF_UP = 0x1;

function sysfs(ifname: string, file: string): string | undefined {
  try {
    return readFileSync(join('/sys/class/net', ifname, file), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The state of Linux interface `ifname` in this namespace; link false when it is missing. */
export function linuxLinkStatus(ifname: string): InterfaceRuntimeStatus {
  const oper = sysfs(ifname, 'operstate');
  if (oper === undefined) return { link: false };
  const flags = Number(sysfs(ifname, 'flags') ?? '0');
  // Devices without carrier reporting (TUN, some drivers) say "unknown": up when set up.
  const link = oper === 'up' || (oper === 'unknown' && (flags & IFF_UP) !== 0);
  const n = (f: string): number => Number(sysfs(ifname, join('statistics', f)) ?? '0');
  return {
    link,
    mac: sysfs(ifname, 'address'),
    counters: {
      inPackets: n('rx_packets'), inBytes: n('rx_bytes'), outPackets: n('tx_packets'), outBytes: n('tx_bytes'),
      inErrors: n('rx_errors'), outErrors: n('tx_errors'), inDrops: n('rx_dropped'), outDrops: n('tx_dropped'),
      inMulticast: n('multicast'),
    },
  };
}

export class PortStatusService implements DaemonService {
  readonly name = 'ports';

  async start(ctx: ServiceContext): Promise<void> {
    const ports = new Set(ctx.board.ports);
    // the board's ports and their subinterfaces; other names are someone else's
    ctx.runtime.interfaceStatus.add({
      name: this.name,
      status: (name: string) => {
        const port = ports.has(name) ? name : parentOf(name);
        if (port === undefined || !ports.has(port)) return undefined;
        const ifname = ctx.board.portMap[port];
        return ifname === undefined ? { link: false } : linuxLinkStatus(ifname);
      },
    });
  }

  apply(_config: Config): void { /* state is read when shown */ }

  async stop(): Promise<void> { /* nothing held */ }
}
