// Shared by the IKEv2 integration tests and the bench: a Rampart daemon (the real entry,
// bundled once per process) inside a lab namespace, configured only through its CLI, and a
// strongSwan peer in another namespace.
//
//   [lan r: 192.168.21.1 on lo]  r (Rampart) r0 10.78.N.1 ---- s0 10.78.N.2 s (strongSwan)  [lan s: 192.168.22.1 on lo]
import type { Lab, LabProcess } from '../lib/netns.js';
import type { ScriptedConsole } from '../lib/daemon-client.js';
import { rampartBundle, startBox } from '../lib/box.js';

export { rampartBundle };

export interface RampartBox {
  proc: LabProcess;
  console: ScriptedConsole;
  /** Runs lines in order; returns the output of all of them. */
  run(...lines: string[]): Promise<string>;
  /** Enters config mode, runs lines, ends, waits until applied. Throws when a line errors. */
  configure(lines: string[]): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function startRampart(lab: Lab, ns: string, ports: Record<string, string>, opts: { env?: NodeJS.ProcessEnv } = {}): Promise<RampartBox> {
  const box = await startBox({ lab, ns, ports, stateName: `rampart-${ns}`, ...(opts.env ? { env: opts.env } : {}) });
  return {
    proc: box.proc!, console: box.con,
    run: (...lines) => box.run(...lines),
    async configure(lines) { await box.configure(lines); },
    stop: () => box.stop(),
  };
}

export interface SuiteConfig {
  /** IOS `crypto ikev2 proposal` lines after the name (encryption/integrity/group) */
  ikeProposal: string[];
  /** IOS transform-set transforms, e.g. 'esp-gcm 256' */
  transformSet: string;
  pfsGroup?: number;
  /** crypto ACL permit lines (after `access-list 101 `) */
  acl?: string[];
  lifetimeSec?: number;
  ikeLifetimeSec?: number;
  dpd?: string;
  /** keyring pre-shared-key for the peer */
  psk: string;
}

/** The IOS configuration of a Rampart gateway with one IKEv2 crypto map entry toward `peer`. */
export function rampartIkev2Config(o: { iface: string; address: string; mask: string; peer: string; suite: SuiteConfig; extra?: string[] }): string[] {
  const s = o.suite;
  const lines = [
    `interface ${o.iface}`, ` ip address ${o.address} ${o.mask}`, ' no shutdown', 'exit',
    'crypto ikev2 proposal PROP1', ...s.ikeProposal.map((l) => ` ${l}`), 'exit',
    'crypto ikev2 policy POL1', ' proposal PROP1', 'exit',
    'crypto ikev2 keyring KR1', ' peer SITE-B', `  address ${o.peer}`, `  pre-shared-key ${s.psk}`, ' exit', 'exit',
    'crypto ikev2 profile PROF1', ` match identity remote address ${o.peer} 255.255.255.255`, ` identity local address ${o.address}`,
    ' authentication local pre-share', ' authentication remote pre-share', ' keyring local KR1',
    ...(s.ikeLifetimeSec ? [` lifetime ${s.ikeLifetimeSec}`] : []),
    ...(s.dpd ? [` dpd ${s.dpd}`] : []), 'exit',
    `crypto ipsec transform-set TS1 ${s.transformSet}`, 'exit',
    ...(s.acl ?? ['permit ip 192.168.21.0 0.0.0.255 192.168.22.0 0.0.0.255']).map((l) => `access-list 101 ${l}`),
    'crypto map CM 10 ipsec-isakmp', ` set peer ${o.peer}`, ' set transform-set TS1', ' set ikev2-profile PROF1', ' match address 101',
    ...(s.pfsGroup ? [` set pfs group${s.pfsGroup}`] : []),
    ...(s.lifetimeSec ? [` set security-association lifetime seconds ${s.lifetimeSec}`] : []),
    'exit',
    ...(o.extra ?? []),
    `interface ${o.iface}`, ' crypto map CM', 'exit',
  ];
  return lines;
}

export { waitUntil } from '../lib/wait.js';

export { sleep };
