// Lab helpers for the IKEv1 integration tests: a Rampart daemon (sim board) as gateway A of
// the site-to-site topology (test/lib/site-to-site.ts: hostA 10.1.0.2, gwA 10.1.0.1 /
// 172.16.0.1, gwB 172.16.0.2 / 10.2.0.1, hostB 10.2.0.2; with nat, gwB sees gwA as
// 172.17.0.254), and strongSwan or a second Rampart (rampartPairLab) as gateway B.
import { Lab, type LabProcess } from '../lib/netns.js';
import type { ScriptedConsole } from '../lib/daemon-client.js';
import { isCliError, startBox } from '../lib/box.js';
import { buildSiteToSite, type SiteToSite } from '../lib/site-to-site.js';

export interface RampartGw {
  ns: string;
  proc: LabProcess;
  socket: string;
  con: ScriptedConsole;
  configure(lines: readonly string[]): Promise<string>;
  exec(line: string): Promise<string>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** `opts.env` / `opts.nodeFlags` go to the daemon (benches: `RAMPART_DEBUG: ''` turns its stderr trace off). */
export async function startRampart(lab: Lab, ns: string, ports: Record<string, string>,
  opts: { env?: NodeJS.ProcessEnv; nodeFlags?: string[] } = {}): Promise<RampartGw> {
  const box = await startBox({ lab, ns, ports, ...opts });
  return {
    ns, proc: box.proc!, socket: box.socket, con: box.con,
    // the output of the lines that failed (tests check it is empty), once applied
    async configure(lines) {
      let out = await box.con.run('configure terminal');
      for (const l of lines) {
        const o = await box.con.run(l);
        if (isCliError(o)) out += `[${l}] ${o}`;
      }
      out += await box.con.run('end');
      await box.waitApplied();
      return out;
    },
    exec: (line) => box.exec(line),
  };
}

/** The sim board's ports as the site-to-site topology names the gateway interfaces. */
export const GW_PORTS = { 'FastEthernet0/0': 'wan0', 'FastEthernet0/1': 'lan0' } as const;

/**
 * The site-to-site topology (test/lib/site-to-site.ts, optionally with its NAT) with a
 * Rampart daemon in gwA and in gwB; the lab and the consoles close at teardown.
 * `extend` adds namespaces or links before the daemons start.
 */
export async function rampartPairLab(t: { teardown(fn: () => unknown): void }, prefix: string,
  opts: { nat?: boolean; extend?: (lab: Lab) => void } = {}): Promise<{ lab: Lab; topo: SiteToSite; gwA: RampartGw; gwB: RampartGw }> {
  const lab = Lab.create(prefix);
  t.teardown(() => lab.destroy());
  const topo = buildSiteToSite(lab, { nat: opts.nat });
  opts.extend?.(lab);
  const gwA = await startRampart(lab, 'gwA', GW_PORTS);
  const gwB = await startRampart(lab, 'gwB', GW_PORTS);
  t.teardown(() => { gwA.con.close(); gwB.con.close(); });
  return { lab, topo, gwA, gwB };
}

export interface GwSide {
  hostname: string;
  wan: string;
  lan: string;
  lanNet: string;
  remoteLanNet: string;
  peers: string[];
  psk: string;
  policy: string[];
  transform: string;
  pfs?: string;
  lifetimeSec?: number;
  keepalive?: string;
  /** the peer address the key is for (default: peers) */
  keyAddress?: string;
  /** default route (NAT topologies) */
  gateway?: string;
  /** an ISAKMP profile with `initiate mode aggressive` on the map entry */
  aggressiveProfile?: boolean;
}

/** IOS config of one gateway (crypto map on FastEthernet0/0 = wan0, LAN on FastEthernet0/1). */
export function gatewayConfig(s: GwSide): string[] {
  const lines = [
    `hostname ${s.hostname}`,
    'crypto isakmp policy 10', ...s.policy.map((l) => ` ${l}`), ' authentication pre-share', 'exit',
    `crypto isakmp key ${s.psk} address ${s.keyAddress ?? s.peers[0]}`,
    ...(s.keyAddress ? [] : s.peers.slice(1).map((p) => `crypto isakmp key ${s.psk} address ${p}`)),
    ...(s.keepalive ? [`crypto isakmp keepalive ${s.keepalive}`] : []),
    `crypto ipsec transform-set ts ${s.transform}`, 'exit',
    `access-list 101 permit ip ${s.lanNet} 0.0.0.255 ${s.remoteLanNet} 0.0.0.255`,
    // Aggressive mode is chosen per ISAKMP profile on IOS (`initiate mode aggressive`).
    ...(s.aggressiveProfile ? [
      'crypto keyring agg-keys', ` pre-shared-key address ${s.peers[0]} key ${s.psk}`, 'exit',
      'crypto isakmp profile agg', ' keyring agg-keys', ` match identity address ${s.peers[0]} 255.255.255.255`, ' initiate mode aggressive', 'exit',
    ] : []),
    'crypto map mymap 10 ipsec-isakmp',
    ...(s.aggressiveProfile ? [' set isakmp-profile agg'] : []),
    ...s.peers.map((p) => ` set peer ${p}`),
    ' set transform-set ts',
    ' match address 101',
    ...(s.pfs ? [` set pfs ${s.pfs}`] : []),
    ...(s.lifetimeSec ? [` set security-association lifetime seconds ${s.lifetimeSec}`] : []),
    'exit',
    'interface FastEthernet0/1', ` ip address ${s.lan} 255.255.255.0`, ' no shutdown', 'exit',
    'interface FastEthernet0/0', ` ip address ${s.wan} 255.255.255.0`, ' crypto map mymap', ' no shutdown', 'exit',
    ...(s.gateway ? [`ip route 0.0.0.0 0.0.0.0 ${s.gateway}`] : []),
  ];
  return lines;
}

export async function waitForText(fn: () => Promise<string>, re: RegExp, ms: number): Promise<string> {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    last = await fn();
    if (re.test(last)) return last;
    await sleep(250);
  }
  return last;
}

export { sleep };

/**
 * TCP through the tunnel: a node echo server in `serverNs` on `addr:port`, a node client in
 * `clientNs` sending a line and reading it back. Bounded (60 s to listen, 30 s to echo).
 */
export async function tcpEcho(lab: Lab, serverNs: string, clientNs: string, addr: string, port: number): Promise<boolean> {
  // The server says when it listens (a fixed pause raced node's start-up on a loaded box);
  // the client retries a refused connect and both are bounded generously.
  const server = `const s=require('net').createServer(c=>c.pipe(c)).listen(${port},'${addr}',()=>console.log('listening'));setTimeout(()=>process.exit(0),90000).unref()`;
  const srv = lab.spawn(serverNs, [process.execPath, '-e', server], { name: `tcp-srv-${port}` });
  try {
    for (const end = Date.now() + 60_000; !srv.output.includes('listening'); await sleep(50)) {
      if (!srv.running || Date.now() > end) return false;
    }
    const client = `const go=()=>{const c=require('net').connect(${port},'${addr}',()=>c.write('ikev1-tcp-check\\n'));let b='';c.on('data',d=>{b+=d;if(b.includes('\\n')){console.log('echo:'+b.trim());process.exit(0)}});c.on('error',e=>{if(e.code==='ECONNREFUSED')return setTimeout(go,200);console.log('err:'+e.message);process.exit(1)})};go();setTimeout(()=>{console.log('timeout');process.exit(2)},30000)`;
    const r = await lab.exec(clientNs, [process.execPath, '-e', client], { timeoutMs: 45_000 });
    return r.code === 0 && r.stdout.includes('echo:ikev1-tcp-check');
  } finally {
    await srv.stop(500);
  }
}

/**
 * rampartPairLab with an IKEv1 tunnel gwA <-> gwB configured (aes 256 / sha / group 14) and a
 * namespace `f` behind gwB holding 64 flood source addresses (192.168.77.2-65) that have a key
 * on gwB: their first messages cost gwB what a real peer's would (issue 20 flood tests, bench).
 */
export async function rampartPairWithFlooder(t: { teardown(fn: () => unknown): void }, prefix: string, psk: string):
  Promise<{ lab: Lab; gwA: RampartGw; gwB: RampartGw; sources: string[] }> {
  const sources = Array.from({ length: 64 }, (_, i) => `192.168.77.${i + 2}`);
  const { lab, gwA, gwB } = await rampartPairLab(t, prefix, {
    extend: (l) => {
      l.addNamespace('f');
      l.addVeth({ ns: 'f', ifname: 'fr0', addr: `${sources[0]}/24` }, { ns: 'gwB', ifname: 'fr0', addr: '192.168.77.1/24' });
      for (const a of sources.slice(1)) l.addAddress('f', 'fr0', `${a}/24`);
      l.addRoute('f', '172.16.0.0/24', { gw: '192.168.77.1' });
    },
  });
  const common = { psk, policy: ['encryption aes 256', 'hash sha', 'group 14'], transform: 'esp-aes 256 esp-sha-hmac' };
  await gwA.configure(gatewayConfig({ ...common, hostname: 'gwA', wan: '172.16.0.1', lan: '10.1.0.1', lanNet: '10.1.0.0', remoteLanNet: '10.2.0.0', peers: ['172.16.0.2'] }));
  await gwB.configure([...gatewayConfig({ ...common, hostname: 'gwB', wan: '172.16.0.2', lan: '10.2.0.1', lanNet: '10.2.0.0', remoteLanNet: '10.1.0.0', peers: ['172.16.0.1'] }),
    `crypto isakmp key ${psk} address 192.168.77.0 255.255.255.0`]);
  return { lab, gwA, gwB, sources };
}
