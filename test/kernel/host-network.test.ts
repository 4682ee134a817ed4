// The host-network port (firmware/kernel/host-network.ts) sends the rtnetlink requests iproute2
// sends for the same change: each case's bytes were captured from `ip` with strace
// (fixtures/capture-ip-route.sh) and are compared field by field here (header, fixed struct,
// attributes as a set: the order of attributes is the encoder's own). The command fallback
// runs exactly the captured `ip` command.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { RtNetlinkSocket, type NetlinkSocket } from 'netlink';
import { CommandHostNetwork, NetlinkHostNetwork, type HostNetwork } from '../../firmware/kernel/host-network.js';

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/ip-route-requests.json', import.meta.url), 'utf8')) as Record<string, { cmd: string; hex: string }>;

/** ifindex in the capture namespace */
const INDEX: Record<string, number> = { lo: 1, hn0: 3 };

/** Length of the fixed struct after nlmsghdr, by message type (<linux/rtnetlink.h>). */
function structLength(type: number): number {
  if (type >= 16 && type <= 19) return 16; // ifinfomsg
  if (type >= 20 && type <= 23) return 8; // ifaddrmsg
  return 12; // rtmsg, fib_rule_hdr
}

interface Request { type: number; flags: number; header: string; attrs: string[] }

function decode(msg: Buffer): Request {
  const type = msg.readUInt16LE(4);
  const flags = msg.readUInt16LE(6);
  const n = structLength(type);
  const attrs: string[] = [];
  for (let off = 16 + n; off + 4 <= msg.length;) {
    const len = msg.readUInt16LE(off);
    if (len < 4) break;
    attrs.push(`${msg.readUInt16LE(off + 2)}:${msg.subarray(off + 4, off + len).toString('hex')}`);
    off += (len + 3) & ~3;
  }
  return { type, flags, header: msg.subarray(16, 16 + n).toString('hex'), attrs: attrs.sort() };
}

/** An rtnetlink socket whose requests are recorded as the bytes the kernel would get. */
function recordingSocket(): { rt: RtNetlinkSocket; sent: Buffer[] } {
  const sent: Buffer[] = [];
  const socket = {
    on: () => socket,
    request: (type: number, data: Uint8Array | Uint8Array[], options?: { flags?: number }) => {
      const body = Buffer.concat((Array.isArray(data) ? data : [data]).map((d) => Buffer.from(d)));
      const head = Buffer.alloc(16);
      head.writeUInt32LE(16 + body.length, 0);
      head.writeUInt16LE(type, 4);
      head.writeUInt16LE((options?.flags ?? 0) | 0x1 | 0x4, 6); // the socket adds REQUEST | ACK
      if (type === 18) {
        // RTM_GETLINK by name: answered with the capture namespace's ifindex
        const name = /\x03\x00([a-z0-9]+)\0/.exec(body.subarray(16).toString('latin1'))?.[1] ?? '';
        const index = INDEX[name];
        if (index === undefined) return Promise.reject(new Error('ENODEV: No such device'));
        const reply = Buffer.alloc(16);
        reply.writeInt32LE(index, 4);
        return Promise.resolve([[{ type: 16, flags: 0, seq: 0, port: 0, data: reply }], {}]);
      }
      sent.push(Buffer.concat([head, body]));
      return Promise.resolve([[], {}]);
    },
  };
  return { rt: new RtNetlinkSocket(socket as unknown as NetlinkSocket), sent };
}

const main = { table: 254 };
const CASES: Record<string, (n: HostNetwork) => Promise<unknown>> = {
  'route-via-dev-proto-metric': (n) => n.replaceRoute({ dest: '10.2.0.0/24', via: '172.16.0.2', device: 'hn0', proto: 186, metric: 5 }),
  'route-connected-in-table': (n) => n.replaceRoute({ dest: '10.1.0.0/24', device: 'hn0', proto: 'kernel', scope: 'link', src: '172.16.0.1', table: 1001 }),
  'route-unreachable-default': (n) => n.replaceRoute({ type: 'unreachable', dest: 'default', metric: 4278198272, table: 1001 }),
  'route-dev-table': (n) => n.replaceRoute({ dest: '10.8.0.0/24', device: 'hn0', table: 1001 }),
  'route-default-dev-low-table': (n) => n.replaceRoute({ dest: 'default', device: 'hn0', table: 220 }),
  'route-via-metric': (n) => n.replaceRoute({ dest: '10.4.0.0/24', via: '172.16.0.2', metric: 1 }),
  'route-del-dev-table': (n) => n.deleteRoute({ dest: '10.7.0.0/24', device: 'hn0', table: 1001 }),
  'route-del-via-proto-metric': (n) => n.deleteRoute({ dest: '10.3.0.0/24', via: '172.16.0.2', proto: 186, metric: 1 }),
  'addr-add-noprefixroute': (n) => n.addAddress('hn0', '10.1.0.1/24', { noPrefixRoute: true }),
  'addr-add': (n) => n.addAddress('hn0', '10.1.0.1/24'),
  'addr-replace-host': (n) => n.addAddress('lo', '192.0.2.1/32', { replace: true }),
  'addr-del-host': (n) => n.deleteAddress('lo', '10.9.9.9/32'),
  'rule-iif-lookup': (n) => n.addRule({ priority: 9000, iif: 'hn0', action: { table: 1001 } }),
  'rule-selector-prohibit': (n) => n.addRule({ priority: 10004, from: '10.2.0.0/24', to: '10.1.0.0/24', ipproto: 6, sport: { lo: 1, hi: 2 }, dport: { lo: 443, hi: 443 }, action: 'prohibit' }),
  'rule-ipproto-main': (n) => n.addRule({ priority: 10001, ipproto: 50, action: main }),
  'rule-sport-main': (n) => n.addRule({ priority: 10002, ipproto: 17, sport: { lo: 500, hi: 500 }, action: main }),
  'rule-ted': (n) => n.addRule({ priority: 10003, iif: 'hn0', to: '10.2.0.0/24', ipproto: 17, dport: { lo: 500, hi: 500 }, action: { table: 220 } }),
  'rule-del-priority': (n) => n.deleteRule({ priority: 10000 }),
  'rule-del-iif-lookup': (n) => n.deleteRule({ priority: 9000, iif: 'hn0', action: { table: 1001 } }),
  'link-mtu-txqlen-up': (n) => n.setLink('hn0', { mtu: 1400, txqlen: 4000, up: true }),
  'link-down': (n) => n.setLink('hn0', { up: false }),
};

t.test('rtnetlink requests: what ip sends, field by field', async (t) => {
  t.same(Object.keys(CASES).sort(), Object.keys(fixtures).sort(), 'a case for every captured command');
  for (const [name, call] of Object.entries(CASES)) {
    const { rt, sent } = recordingSocket();
    const net = new NetlinkHostNetwork({}, rt);
    const error = await call(net);
    t.equal(error, undefined, `${name}: answered without error`);
    t.equal(sent.length, 1, `${name}: one request`);
    t.same(decode(sent[0]!), decode(Buffer.from(fixtures[name]!.hex, 'hex')), `${name}: as \`${fixtures[name]!.cmd}\``);
  }
});

t.test('command fallback: the same ip commands', async (t) => {
  for (const [name, call] of Object.entries(CASES)) {
    const ran: string[] = [];
    const net = new CommandHostNetwork({}, (argv) => { ran.push(argv.join(' ')); return { code: 0, stderr: '' }; });
    await call(net);
    t.same(ran, [fixtures[name]!.cmd], name);
  }
});

t.test('errors are answers, calls stay in order, stale ifindexes are looked up again', async (t) => {
  const order: string[] = [];
  let fail = true;
  const lookups: string[] = [];
  const socket = {
    on: () => socket,
    request: async (type: number, data: Uint8Array[]) => {
      if (type === 18) {
        lookups.push('getlink');
        const reply = Buffer.alloc(16);
        reply.writeInt32LE(lookups.length === 1 ? 3 : 7, 4);
        return [[{ type: 16, flags: 0, seq: 0, port: 0, data: reply }], {}];
      }
      const body = Buffer.concat(data.map((d) => Buffer.from(d)));
      order.push(`${type}/${body.readInt32LE(4)}`);
      // the first request on index 3: the device was made again under the same name
      if (type === 16 && fail) { fail = false; await new Promise((r) => setTimeout(r, 20)); throw new Error('ENODEV: No such device'); }
      if (type === 24) throw new Error('EPERM: Operation not permitted');
      return [[], {}];
    },
  };
  const net = new NetlinkHostNetwork({ 'FastEthernet0/0': 'wan0' }, new RtNetlinkSocket(socket as unknown as NetlinkSocket));
  const a = net.setLink('wan0', { up: true });
  const b = net.replaceRoute({ dest: '10.2.0.0/24', via: '172.16.0.2' });
  t.equal(await a, undefined, 'a stale index: looked up again and the request repeated');
  t.same(lookups, ['getlink', 'getlink']);
  t.match(await b, /^ip route replace 10\.2\.0\.0\/24 via 172\.16\.0\.2: EPERM/, 'a refused request: the command and the kernel\'s answer');
  t.same(order.map((o) => o.split('/')[0]), ['16', '16', '24'], 'the route waited for the link change before it');
  t.equal(order[1], '16/7', 'repeated with the new index');
  t.same(await net.setPort('FastEthernet0/1', { addrs: [], down: false }), ['FastEthernet0/1 is not wired to a Linux interface']);
  await net.idle();
});

t.test('sysctls are written under /proc/sys, queued route errors are logged and bounded', async (t) => {
  const writes: string[] = [];
  const { rt } = recordingSocket();
  const net = new NetlinkHostNetwork({}, rt, async (p, v) => { writes.push(`${p}=${v}`); if (p.includes('bad')) throw new Error('EACCES'); });
  t.equal(await net.sysctl({ 'net.ipv4.conf.Tu0.rp_filter': '0' }), undefined);
  t.same(writes, ['/proc/sys/net/ipv4/conf/Tu0/rp_filter=0']);
  t.match(await net.sysctl({ 'net.bad': '1' }), /sysctl net\.bad=1: EACCES/);
  const logs: string[] = [];
  net.queueRoutes(Array.from({ length: 30 }, (_, i) => ({ op: 'replace' as const, route: { dest: `10.${i}.0.0/16`, device: 'nosuch' } })), (m) => logs.push(m));
  await net.idle();
  await new Promise((r) => setImmediate(r));
  t.equal(logs.length, 20, 'at most 20 refused routes logged');
  t.match(logs[0], /^RRI routes: ip route replace 10\.0\.0\.0\/16 dev nosuch: ENODEV/);
});
