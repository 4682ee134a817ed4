// `clear crypto sa` (peer, map, entry by SPI, all, counters) and `clear crypto session`
// reach every service whatever order the services start in (runtime-view.ts registries;
// before them, a service started after the data plane was never asked). Two whole boxes in
// this process over the fake packet I/O, IKEv1 and IKEv2, default start order and reversed:
// after each clear on box A, box B must have lost its SAs too, which only happens when A's
// IKE service sent its Deletes.
import t from 'tap';
import type { Test as Tap } from 'tap';
import { ikev2PskBlock, isCliError } from '../lib/ios-config.js';
import { PAIR_ADDR, startFakePair, type BoxPair } from '../lib/box-pair.js';
import { RuntimeRegistry, type SaClearer } from '../../firmware/daemon/runtime-view.js';
import type { ClearCryptoSaFilter } from '../../firmware/cli/commands/crypto-ipsec-sa.js';
import { startOrder, type DaemonService } from '../../firmware/daemon/daemon.js';

const PSK = 'clear-order-key';

function siteConfig(side: 'a' | 'b', ike: 1 | 2): string[] {
  const a = side === 'a';
  const me = a ? PAIR_ADDR.gwAWan : PAIR_ADDR.gwBWan;
  const peer = a ? PAIR_ADDR.gwBWan : PAIR_ADDR.gwAWan;
  const [lan, remote] = a ? ['10.1.0.0', '10.2.0.0'] : ['10.2.0.0', '10.1.0.0'];
  const ikeLines = ike === 2
    ? [...ikev2PskBlock({
      names: { proposal: 'P1', policy: 'POL1', keyring: 'KR1', keyringPeer: 'OTHER', profile: 'PROF1' },
      psk: PSK, keyringAddress: peer, matchRemote: `${peer} 255.255.255.255`, localAddress: me,
    }), 'exit']
    : ['crypto isakmp policy 10', ' encryption aes 256', ' hash sha256', ' authentication pre-share', ' group 14', 'exit', `crypto isakmp key ${PSK} address ${peer}`];
  return [
    'interface FastEthernet0/1', ` ip address ${a ? PAIR_ADDR.gwALan : PAIR_ADDR.gwBLan} 255.255.255.0`, ' no shutdown', 'exit',
    'interface FastEthernet0/0', ` ip address ${me} 255.255.255.0`, ' no shutdown', 'exit',
    ...ikeLines,
    'crypto ipsec transform-set TS esp-aes 256 esp-sha256-hmac', 'exit',
    `access-list 101 permit ip ${lan} 0.0.0.255 ${remote} 0.0.0.255`,
    'crypto map CM 10 ipsec-isakmp', ` set peer ${peer}`, ' set transform-set TS', ...(ike === 2 ? [' set ikev2-profile PROF1'] : []), ' match address 101', 'exit',
    'interface FastEthernet0/0', ' crypto map CM', 'exit',
  ];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The SPI lines of `show crypto ipsec sa` (empty: no SAs). */
async function spis(box: BoxPair['a']): Promise<string[]> {
  return (await box.exec('show crypto ipsec sa | include spi:')).split('\n').map((l) => l.trim()).filter((l) => l.startsWith('spi:'));
}

/** Polls (bounded) until the box shows no SAs. */
async function noSas(box: BoxPair['a'], timeoutMs = 10_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if ((await spis(box)).length === 0) return true;
    if (Date.now() > end) return false;
    await sleep(50);
  }
}

async function scenario(t: Tap, pair: BoxPair, label: string): Promise<void> {
  const outboundSpi = async (): Promise<number | undefined> => {
    const text = await pair.a.exec('show crypto ipsec sa');
    const m = /current outbound spi: 0x([0-9A-F]+)/i.exec(text);
    return m ? parseInt(m[1]!, 16) : undefined;
  };
  const forms: Array<[string, () => Promise<string>]> = [
    ['peer', async () => `clear crypto sa peer ${PAIR_ADDR.gwBWan}`],
    ['map', async () => 'clear crypto sa map CM'],
    ['entry (SPI)', async () => `clear crypto sa entry ${PAIR_ADDR.gwBWan} esp ${await outboundSpi()}`],
    ['all', async () => 'clear crypto sa'],
    ['session', async () => 'clear crypto session'],
  ];
  for (const [form, command] of forms) {
    t.ok(await pair.trafficAtoB(), `${label}: traffic passes before clear (${form})`);
    t.ok((await spis(pair.b)).length > 0, `${label}: B has SAs before clear (${form})`);
    const line = await command();
    t.notOk(isCliError(await pair.a.exec(line)), `${label}: ${line} is accepted`);
    t.equal((await spis(pair.a)).length, 0, `${label}: ${form}: A's SAs are gone`);
    t.ok(await noSas(pair.b), `${label}: ${form}: B's SAs are gone too (A's IKE service sent the Deletes)`);
  }
  // counters: the SAs stay, their packet counts start again
  t.ok(await pair.trafficAtoB(), `${label}: traffic passes again`);
  t.match(await pair.a.exec('show crypto ipsec sa'), /#pkts encaps: [1-9]/, `${label}: A counted packets`);
  const before = await spis(pair.a);
  t.notOk(isCliError(await pair.a.exec('clear crypto sa counters')), `${label}: clear crypto sa counters is accepted`);
  const shown = await pair.a.exec('show crypto ipsec sa');
  t.match(shown, /#pkts encaps: 0, #pkts encrypt: 0, #pkts digest: 0/, `${label}: counters: A's encaps count is 0`);
  t.match(shown, /#pkts decaps: 0, #pkts decrypt: 0, #pkts verify: 0/, `${label}: counters: A's decaps count is 0`);
  t.same(await spis(pair.a), before, `${label}: counters: the SAs stay`);
}

const reversed = <T>(list: T[]): T[] => [...list].reverse();

for (const ike of [1, 2] as const) {
  for (const [order, arrange] of [['default order', undefined], ['reversed order', reversed]] as const) {
    t.test(`IKEv${ike}, services in ${order}`, { timeout: 120_000 }, async (t) => {
      const pair = await startFakePair(arrange ? { order: arrange } : {});
      t.teardown(() => pair.close());
      await pair.a.configure(siteConfig('a', ike));
      await pair.b.configure(siteConfig('b', ike));
      await scenario(t, pair, `IKEv${ike} ${order}`);
    });
  }
}

t.test('registry: IKE clearers run before SAD clearers, in any registration order', async (t) => {
  const filters: ClearCryptoSaFilter[] = [
    { kind: 'all' }, { kind: 'peer', peer: '192.0.2.1' }, { kind: 'map', map: 'CM' }, { kind: 'map', map: 'CM', seq: 10 },
    { kind: 'entry', destination: '192.0.2.1', protocol: 'esp', spi: 0x1234 },
  ];
  const orders = [['ikev1', 'ikev2', 'dataplane'], ['dataplane', 'ikev2', 'ikev1'], ['ikev2', 'dataplane', 'ikev1']];
  for (const order of orders) {
    const r = new RuntimeRegistry();
    const calls: string[] = [];
    const clearer = (name: string): SaClearer => (name === 'dataplane'
      ? { name, stage: 'sad', clear: (f) => { calls.push(`${name}:${f.kind}`); return 3; } }
      : { name, stage: 'ike', clear: (f) => { calls.push(`${name}:${f.kind}`); } });
    for (const name of order) r.saClearers.add(clearer(name));
    for (const f of filters) {
      calls.length = 0;
      t.equal(r.view.clearCryptoSa!(f), 3, `${order.join(',')}: ${f.kind}: the SAD clearer's count`);
      t.equal(calls.length, 3, `${order.join(',')}: ${f.kind}: every clearer was called`);
      t.equal(calls[2], `dataplane:${f.kind}`, `${order.join(',')}: ${f.kind}: the SAD clearer last`);
    }
  }
});

t.test('registry: providers, sessions, interface status', async (t) => {
  const r = new RuntimeRegistry();
  const drop = r.provide('nameServers', () => ['192.0.2.53'], 'host-status');
  t.same(r.view.nameServers!(), ['192.0.2.53'], 'a provided member is in the view');
  t.throws(() => r.provide('nameServers', () => [], 'other'), /already provided by host-status/, 'a second provider is refused');
  drop();
  t.equal(r.view.nameServers, undefined, 'withdrawn at stop');
  t.doesNotThrow(() => r.provide('nameServers', () => [], 'other'), 'and free for another');

  const cleared: string[] = [];
  const source = (name: string) => ({ name, sessions: () => [], clearSessions: (peer?: string) => { cleared.push(`${name}:${peer ?? 'all'}`); } });
  r.sessionSources.add(source('ikev2'));
  const dropV1 = r.sessionSources.add(source('ikev1'));
  t.same(r.view.ikeSessionSources!.map((s) => s.name), ['ikev2', 'ikev1'], 'session sources listed');
  dropV1();
  t.same(r.view.ikeSessionSources!.map((s) => s.name), ['ikev2'], 'a stopped source is gone');

  // decorators apply whichever provider answered, registered before or after it
  r.statusDecorators.add((_name, st) => ({ ...st, inBitsPerSec: 7 }));
  r.interfaceStatus.add({ name: 'tunnels', status: (n) => (n.startsWith('Tunnel') ? { link: true } : undefined) });
  r.interfaceStatus.add({ name: 'ports', status: (n) => (n.startsWith('Fast') ? { link: false } : undefined) });
  t.same(r.view.interfaceStatus!('Tunnel0'), { link: true, inBitsPerSec: 7 }, 'a tunnel: its provider, decorated');
  t.same(r.view.interfaceStatus!('FastEthernet0/0'), { link: false, inBitsPerSec: 7 }, 'a port: its provider, decorated');
  t.equal(r.view.interfaceStatus!('Serial0/0'), undefined, 'nobody\'s interface: unknown');
  t.same(r.providedStatus('Tunnel0'), { link: true }, 'providedStatus: without decorators');

  let counted = 0;
  r.saCounterClearers.add({ name: 'dataplane', clearCounters: () => { counted++; } });
  r.view.clearCryptoSaCounters!();
  t.equal(counted, 1, 'clear crypto sa counters reaches the counter clearers');
});

t.test('startOrder: a service starts after the services it uses, wherever the list puts it', async (t) => {
  const svc = (name: string, after?: string[]): DaemonService => ({
    name, ...(after ? { after } : {}), start: async () => {}, stop: async () => {}, apply: () => {},
  });
  const names = (list: DaemonService[]) => startOrder(list).map((s) => s.name);
  t.same(names([svc('ikev2', ['dataplane']), svc('ikev1', ['dataplane']), svc('dataplane'), svc('ports')]), ['dataplane', 'ikev2', 'ikev1', 'ports']);
  t.same(names([svc('dataplane'), svc('ikev1', ['dataplane'])]), ['dataplane', 'ikev1'], 'already in order: unchanged');
  t.same(names([svc('ikev1', ['dataplane']), svc('ports')]), ['ikev1', 'ports'], 'a missing dependency is skipped');
  t.same(names([svc('a', ['b']), svc('b', ['a'])]), ['b', 'a'], 'a cycle still starts every service once');
});
