// Issue 15: `crypto ipsec df-bit clear|set|copy` on tunnels, checked on the wire. Two Rampart
// boxes with the guide's static VTI (test/vti/vti-pair.ts, IKEv2); hostA pings hostB with the
// inner DF bit set (`ping -M do`) or clear (`-M dont`), and tcpdump on gwA's outside port reads
// the outer (ESP) header's DF flag:
//   - default (copy): the outer DF follows the inner one;
//   - `crypto ipsec df-bit clear` on Tunnel0: never DF; `set`: always DF;
//   - the global form applies to a tunnel without its own; the interface form overrides it.
// The setting applies to SAs installed after it (as on IOS), so each step clears the tunnel's
// SAs and waits for it to come back by itself.
import t from 'tap';
import { hasCommand, isRoot, type Lab } from '../lib/netns.js';
import { waitUntil } from '../ikev2-interop/harness.js';
import { ADDR, startPair, type Gateway } from '../dataplane-e2e/rampart-pair.js';
import { tunnelState, vtiPairConfig } from './vti-pair.js';

const skip = !isRoot() ? 'needs root: network namespaces, TUN, raw sockets'
  : !hasCommand('tcpdump') ? 'needs tcpdump' : !hasCommand('ping') ? 'needs ping' : undefined;

async function lineProtocol(gw: Gateway): Promise<string | undefined> {
  return tunnelState(await gw.exec('show interfaces Tunnel0'))?.protocol;
}

/**
 * The outer DF flags of the ESP packets gwA sends while hostA pings hostB 3 times with the
 * inner DF bit `innerDf`: one entry per captured packet, true = DF.
 */
async function outerDf(lab: Lab, innerDf: boolean): Promise<boolean[]> {
  const dump = lab.spawn('gwA', ['tcpdump', '-i', 'wan0', '-l', '-nn', '-v', '-c', '3', `ip proto 50 and src ${ADDR.gwAWan}`], { name: 'tcpdump-df' });
  try {
    if (!(await waitUntil(() => /listening on/.test(dump.output), 20_000, 100))) return [];
    await lab.exec('hostA', ['ping', '-n', '-q', '-c', '3', '-i', '0.3', '-W', '2', '-s', '200', '-M', innerDf ? 'do' : 'dont', ADDR.hostB], { timeoutMs: 30_000 });
    await waitUntil(() => !dump.running, 10_000, 100);
  } finally {
    await dump.stop();
  }
  return [...dump.output.matchAll(/flags \[([^\]]*)\], proto ESP/g)].map((m) => /DF/.test(m[1]!));
}

t.test('df-bit on a static VTI: the outer header\'s DF follows the setting (captured packets)', { skip, timeout: 400_000 }, async (t) => {
  const pair = await startPair('vtidf');
  t.teardown(() => pair.close());
  const { lab, gwA, gwB } = pair;
  await gwA.configure(vtiPairConfig('A', { ike: 2 }));
  await gwB.configure(vtiPairConfig('B', { ike: 2 }));
  const bothUp = async () => (await lineProtocol(gwA)) === 'up' && (await lineProtocol(gwB)) === 'up';
  t.ok(await waitUntil(bothUp, 45_000, 500), 'Tunnel0 up on both boxes');

  /** Applies `lines` on gwA, renews the tunnel's SAs, and waits until traffic passes again. */
  const step = async (lines: string[]) => {
    await gwA.configure(lines);
    await gwA.exec('clear crypto sa');
    // the tunnel comes back by itself; pings pass once both directions have new SAs
    return waitUntil(async () => (await bothUp()) && (await lab.exec('hostA', ['ping', '-n', '-q', '-c', '1', '-W', '1', ADDR.hostB], { timeoutMs: 10_000 })).code === 0, 60_000, 500);
  };
  const expectOuter = async (innerDf: boolean, want: boolean, what: string) => {
    const flags = await outerDf(lab, innerDf);
    t.ok(flags.length >= 3 && flags.every((f) => f === want), `${what}: inner ${innerDf ? 'DF' : 'no DF'} -> outer ${want ? 'DF' : 'no DF'} (captured: ${flags.map((f) => (f ? 'DF' : '-')).join(' ') || 'nothing'})`);
  };

  await expectOuter(true, true, 'default (copy)');
  await expectOuter(false, false, 'default (copy)');

  t.ok(await step(['interface Tunnel0', ' crypto ipsec df-bit clear', 'exit']), 'df-bit clear on Tunnel0: tunnel back up');
  t.match(await gwA.exec('show running-config interface Tunnel0'), / crypto ipsec df-bit clear/, 'show running-config interface Tunnel0: crypto ipsec df-bit clear');
  await expectOuter(true, false, 'interface df-bit clear');

  t.ok(await step(['interface Tunnel0', ' crypto ipsec df-bit set', 'exit']), 'df-bit set on Tunnel0: tunnel back up');
  await expectOuter(false, true, 'interface df-bit set');

  // the global form, for a tunnel without its own
  t.ok(await step(['interface Tunnel0', ' no crypto ipsec df-bit', 'exit', 'crypto ipsec df-bit clear']), 'global df-bit clear: tunnel back up');
  await expectOuter(true, false, 'global df-bit clear');

  // the interface form overrides the global one
  t.ok(await step(['interface Tunnel0', ' crypto ipsec df-bit copy', 'exit']), 'df-bit copy on Tunnel0 under global clear: tunnel back up');
  await expectOuter(true, true, 'interface df-bit copy over global clear');
  await expectOuter(false, false, 'interface df-bit copy over global clear');
});
