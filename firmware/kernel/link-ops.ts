// What a tunnel device needs from the host's network stack (MTU, queue length, addresses,
// link up/down, routes into it, per-device sysctls), behind one small asynchronous interface
// with two implementations:
//   - netlinkLinkOps(): rtnetlink requests on one NETLINK_ROUTE socket and writes to
//     /proc/sys; nothing blocks the event loop, each request costs tens of microseconds;
//   - commandLinkOps(run): the same through `ip` and `sysctl` processes (tests with a fake
//     runner, hosts where the netlink socket cannot be opened).
// A spawned `ip` blocks the daemon for the whole fork+exec+wait: about 5 ms on an idle host,
// 50 ms at a load average of 20 (measured here). A dynamic VTI hub cloning a Virtual-Access per
// spoke ran six of them per session, so 200 spokes arriving at once waited in turn behind
// ~300 ms stalls during which no IKE message was read, ran out of retransmissions and retried
// (bench dvti-setup: 3.00 /s, 456 retries).
import { writeFile } from 'node:fs/promises';
import { createRtNetlink, type RtNetlinkSocket } from 'netlink';
import { parseIpv4Prefix } from '../lib/ip.js';
import type { CommandRunner } from './userspace-backend.js';

export interface LinkOps {
  /** `ip link set DEV [mtu N] [txqueuelen N] [up|down]`. */
  setLink(device: string, o: { mtu?: number; txqlen?: number; up?: boolean }): Promise<boolean>;
  /** `ip -4 addr flush dev DEV`. */
  flushAddresses(device: string): Promise<boolean>;
  /** `ip addr add A/len dev DEV [noprefixroute]`. */
  addAddress(device: string, cidr: string, noPrefixRoute: boolean): Promise<boolean>;
  /** `ip route replace DEST dev DEV [table T]`. */
  replaceRoute(dest: string, device: string, table?: number): Promise<boolean>;
  /** `sysctl -w net.ipv4.conf.DEV.rp_filter=0 net.ipv6.conf.DEV.disable_ipv6=1` and the like (dotted keys). */
  sysctl(settings: Readonly<Record<string, string>>): Promise<boolean>;
  close(): void;
}

/** Through `ip` and `sysctl` (blocking: each call forks). */
export function commandLinkOps(run: CommandRunner, log: (text: string) => void): LinkOps {
  const sh = (argv: string[]): boolean => {
    const r = run(argv);
    if (r.code !== 0) log(`${argv.join(' ')}: ${r.stderr.trim()}`);
    return r.code === 0;
  };
  return {
    setLink: async (dev, o) => sh(['ip', 'link', 'set', dev, ...(o.mtu !== undefined ? ['mtu', String(o.mtu)] : []),
      ...(o.txqlen !== undefined ? ['txqueuelen', String(o.txqlen)] : []), ...(o.up !== undefined ? [o.up ? 'up' : 'down'] : [])]),
    flushAddresses: async (dev) => sh(['ip', '-4', 'addr', 'flush', 'dev', dev]),
    addAddress: async (dev, cidr, npr) => sh(['ip', 'addr', 'add', cidr, 'dev', dev, ...(npr ? ['noprefixroute'] : [])]),
    replaceRoute: async (dest, dev, table) => sh(['ip', 'route', 'replace', dest, 'dev', dev, ...(table !== undefined ? ['table', String(table)] : [])]),
    sysctl: async (s) => sh(['sysctl', '-q', '-w', ...Object.entries(s).map(([k, v]) => `${k}=${v}`)]),
    close: () => {},
  };
}

const AF_INET = 2;
/** NLM_F_CREATE | NLM_F_REPLACE (<linux/netlink.h>) */
const CREATE_REPLACE = 0x400 | 0x100;
const CREATE_EXCL = 0x400 | 0x200;
/** A request the kernel never answers fails after this (the device queue must not stall). */
const TIMEOUT = { timeout: 5000 };

function ipv4Bytes(address: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(address >>> 0);
  return b;
}

/**
 * Over rtnetlink (needs CAP_NET_ADMIN in the daemon's namespace); undefined when the socket
 * cannot be opened. Errors of single requests are logged and answered false, never thrown.
 */
export function netlinkLinkOps(log: (text: string) => void): LinkOps | undefined {
  let rt: RtNetlinkSocket;
  try {
    rt = createRtNetlink({ ref: false, recvBufferSize: 1 << 20, sendBufferSize: 1 << 18 });
  } catch (e) {
    log(`rtnetlink: ${(e as Error).message}; using ip commands`);
    return undefined;
  }
  // ifindex by name; a device deleted and created again under the same name gets a new one
  const indexes = new Map<string, number>();
  const indexOf = async (dev: string, fresh = false): Promise<number> => {
    const known = indexes.get(dev);
    if (known !== undefined && !fresh) return known;
    const [m] = await rt.getLink({}, { ifname: dev }, TIMEOUT);
    const index = m?.data.index;
    if (index === undefined) throw new Error(`no device ${dev}`);
    indexes.set(dev, index);
    return index;
  };
  const attempt = async (what: string, dev: string, fn: (index: number) => Promise<unknown>): Promise<boolean> => {
    try {
      try {
        await fn(await indexOf(dev));
      } catch (e) {
        // ENODEV with a cached index: the device was made again
        if (!indexes.has(dev) || !/ENODEV|No such device/i.test(String((e as Error).message))) throw e;
        indexes.delete(dev);
        await fn(await indexOf(dev, true));
      }
      return true;
    } catch (e) {
      log(`${what} ${dev}: ${(e as Error).message}`);
      return false;
    }
  };
  return {
    setLink: (dev, o) => attempt('ip link set', dev, (index) => rt.setLink(
      { index, ...(o.up !== undefined ? { flags: o.up ? { up: true } : {}, change: { up: true } } : {}) },
      { ...(o.mtu !== undefined ? { mtu: o.mtu } : {}), ...(o.txqlen !== undefined ? { txqlen: o.txqlen } : {}) }, TIMEOUT)),
    flushAddresses: (dev) => attempt('ip addr flush', dev, async (index) => {
      for (const a of await rt.getAddresses({ family: AF_INET }, {}, TIMEOUT)) {
        if (a.data.index !== index) continue;
        await rt.delAddress({ family: AF_INET, prefixlen: a.data.prefixlen ?? 32, index }, { ...(a.attrs.local ? { local: a.attrs.local } : {}), ...(a.attrs.address ? { address: a.attrs.address } : {}) }, TIMEOUT);
      }
    }),
    addAddress: (dev, cidr, npr) => attempt(`ip addr add ${cidr}`, dev, async (index) => {
      const p = parseIpv4Prefix(cidr);
      if (!p) throw new Error('bad prefix');
      const a = ipv4Bytes(p.address);
      await rt.newAddress({ family: AF_INET, prefixlen: p.prefix, index, scope: 0 },
        { local: a, address: a, ...(npr ? { flags: { noprefixroute: true } } : {}) }, { ...TIMEOUT, flags: CREATE_EXCL });
    }),
    replaceRoute: (dest, dev, table) => attempt(`ip route replace ${dest}`, dev, async (index) => {
      const p = parseIpv4Prefix(dest.includes('/') ? dest : `${dest}/32`);
      if (!p) throw new Error('bad prefix');
      const t = table ?? 254;
      await rt.newRoute({ family: AF_INET, dstLen: p.prefix, table: t < 256 ? t : 252, protocol: 'BOOT', scope: 'LINK', type: 'UNICAST' },
        { ...(p.prefix > 0 ? { dst: ipv4Bytes(p.address) } : {}), oif: index, table: t }, { ...TIMEOUT, flags: CREATE_REPLACE });
    }),
    sysctl: async (s) => {
      let ok = true;
      for (const [k, v] of Object.entries(s)) {
        // /proc/sys/net is the writer's network namespace (what sysctl(8) writes too)
        try {
          await writeFile(`/proc/sys/${k.replace(/\./g, '/')}`, v);
        } catch (e) {
          ok = false;
          log(`sysctl ${k}=${v}: ${(e as Error).message}`);
        }
      }
      return ok;
    },
    close: () => rt.socket.close(),
  };
}
