// Two Rampart daemons (sim board) as the gateways of the site-to-site topology:
//
//   hostA 10.1.0.2 -- lan0 [gwA: rampart] wan0 ===== wan0 [gwB: rampart] lan0 -- hostB 10.2.0.2
//                     10.1.0.1       172.16.0.1         172.16.0.2       10.2.0.1
//
// The gateways' interfaces start unaddressed: each daemon configures them from its CLI
// (FastEthernet0/0 = wan0, FastEthernet0/1 = lan0). Used by the e2e tests and the bench.
import { Lab, type LabProcess } from '../lib/netns.js';
import type { ScriptedConsole } from '../lib/daemon-client.js';
import { rampartBundle, startBox } from '../lib/box.js';
import { buildSiteToSite, SITE_ADDR } from '../lib/site-to-site.js';

export interface Gateway {
  ns: 'gwA' | 'gwB';
  proc: LabProcess;
  socket: string;
  con: ScriptedConsole;
  /** Runs config lines (enters config mode, ends), returns the joined output. */
  configure(lines: readonly string[]): Promise<string>;
  /** Runs one exec-mode command. */
  exec(line: string): Promise<string>;
}

export interface RampartPair {
  lab: Lab;
  gwA: Gateway;
  gwB: Gateway;
  addr: typeof ADDR;
  close(): Promise<void>;
}

/** The site-to-site addresses (test/lib/site-to-site.ts). */
export const ADDR = {
  hostA: SITE_ADDR.hostA, gwALan: SITE_ADDR.gwALan, gwAWan: SITE_ADDR.gwAWan,
  gwBWan: SITE_ADDR.gwBWan, gwBLan: SITE_ADDR.gwBLan, hostB: SITE_ADDR.hostB,
} as const;

export { rampartBundle };

export async function startGateway(lab: Lab, ns: 'gwA' | 'gwB', bin: string): Promise<Gateway> {
  void bin; // startBox bundles once per process
  const nodeFlags = process.env.RAMPART_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.RAMPART_CPU_PROF}`] : [];
  const box = await startBox({ lab, ns, ports: { 'FastEthernet0/0': 'wan0', 'FastEthernet0/1': 'lan0' }, nodeFlags });
  // configure returns the output of every line (tests look at errors themselves) once applied
  return { ns, proc: box.proc!, socket: box.socket, con: box.con, configure: (lines) => box.configureLenient(lines), exec: (line) => box.exec(line) };
}

/** Builds the namespaces and starts both daemons (unconfigured). */
export async function startPair(prefix: string): Promise<RampartPair> {
  const lab = Lab.create(prefix);
  buildSiteToSite(lab, { boxes: ['gwA', 'gwB'] });
  const bin = await rampartBundle();
  const gwA = await startGateway(lab, 'gwA', bin);
  const gwB = await startGateway(lab, 'gwB', bin);
  return {
    lab, gwA, gwB, addr: ADDR,
    async close() {
      gwA.con.close();
      gwB.con.close();
      await lab.destroy();
    },
  };
}

export const KEYS = {
  aes256: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
  aes256b: 'fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210',
  sha1: '00112233445566778899aabbccddeeff00112233',
  sha1b: 'ffeeddccbbaa99887766554433221100ffeeddcc',
};

/** The guide's ipsec-manual configuration for one side (mirror image on the other). */
export function manualConfig(side: 'A' | 'B', opts: {
  transform?: string;
  inSpi?: number; outSpi?: number;
  /** session-key clauses after `esp SPI` (or `ah SPI`), per direction */
  inKey?: string; outKey?: string;
  proto?: 'esp' | 'ah';
} = {}): string[] {
  const a = side === 'A';
  const lanNet = a ? '10.1.0.0' : '10.2.0.0';
  const remoteNet = a ? '10.2.0.0' : '10.1.0.0';
  const spiAB = 0x1001;
  const spiBA = 0x2002;
  const inSpi = opts.inSpi ?? (a ? spiBA : spiAB);
  const outSpi = opts.outSpi ?? (a ? spiAB : spiBA);
  const proto = opts.proto ?? 'esp';
  const defKey = `cipher ${KEYS.aes256} authenticator ${KEYS.sha1}`;
  return [
    `hostname gw${side}`,
    `access-list 101 permit ip ${lanNet} 0.0.0.255 ${remoteNet} 0.0.0.255`,
    `crypto ipsec transform-set ts ${opts.transform ?? 'esp-aes 256 esp-sha-hmac'}`,
    'crypto map mymap 10 ipsec-manual',
    ` set peer ${a ? ADDR.gwBWan : ADDR.gwAWan}`,
    ' set transform-set ts',
    ' match address 101',
    ` set session-key inbound ${proto} ${inSpi} ${opts.inKey ?? defKey}`,
    ` set session-key outbound ${proto} ${outSpi} ${opts.outKey ?? defKey}`,
    'exit',
    'interface FastEthernet0/1',
    ` ip address ${a ? ADDR.gwALan : ADDR.gwBLan} 255.255.255.0`,
    ' no shutdown',
    'exit',
    'interface FastEthernet0/0',
    ` ip address ${a ? ADDR.gwAWan : ADDR.gwBWan} 255.255.255.0`,
    ' crypto map mymap',
    ' no shutdown',
    'exit',
  ];
}

/**
 * Gives a process the test started (tcpdump, iperf3 server) time to get ready. Not for
 * configuration: Gateway.configure returns once the daemon applied it.
 */
export async function settle(ms = 400): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}
