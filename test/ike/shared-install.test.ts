// What both IKE services share since issue 19 item 3 (firmware/ike): installing a negotiated
// pair (child-install.ts), placing a dynamic map entry's pair under its temporary entry
// (temporary-entry.ts), session reports (session-report.ts), AH + ESP bundles (v1/bundles.ts),
// failover of every flow waiting on a failed peer and static tunnels due to start
// (connection-manager.ts). Recording fakes stand in for the data plane and the bus's sinks.
import t from 'tap';
import { installPair } from '../../firmware/ike/child-install.js';
import { ConnectionManager, TunnelKeeper, type ManagedConnection } from '../../firmware/ike/connection-manager.js';
import type { PairInstall } from '../../firmware/ike/dataplane-port.js';
import { IkeSessionReport } from '../../firmware/ike/session-report.js';
import { underTemporaryEntry, type TemporaryEntrySpec } from '../../firmware/ike/temporary-entry.js';
import { BundleMatcher } from '../../firmware/ike/v1/bundles.js';
import type { IpsecSaInfo } from '../../firmware/ike/v1/types.js';
import { createConfig } from '../../firmware/config/model.js';
import { EventBus, type BusEvent } from '../../firmware/lib/event-bus.js';
import { prefixAddr, ANY_PORTS, type TrafficSelector } from '../../firmware/ipsec/selector.js';

const scope = (src: string, dst: string): TrafficSelector => ({ family: 4, src: prefixAddr(src, 24), dst: prefixAddr(dst, 24), proto: 0, srcPorts: ANY_PORTS, dstPorts: ANY_PORTS });
const AT = { iface: 'FastEthernet0/0', mapName: 'CM', seq: 10, policyKey: 'CM/10|k', scope: scope('10.1.0.0', '10.2.0.0') };

function recordingBus(debug = true): { bus: EventBus; events: BusEvent[] } {
  const bus = new EventBus(() => 0);
  bus.setDebugGate(() => debug);
  const events: BusEvent[] = [];
  bus.subscribe((e) => events.push(e));
  return { bus, events };
}

t.test('installPair: the data plane gets the pair at its place, the record and create_sa line follow', async (t) => {
  const installed: PairInstall[] = [];
  const dp = { installChildSa: (p: PairInstall) => { installed.push(p); return { inboundId: 7, outboundId: 8 }; } };
  const { bus, events } = recordingBus();
  const rec = installPair(dp, { ...AT, vti: 'Tunnel0' }, {
    childId: 3, local: '172.16.0.1', peer: '172.16.0.2', peerPort: 4500, transformWords: ['esp-gcm', '256'], mode: 'tunnel',
    inbound: { espSpi: 0x1000 }, outbound: { espSpi: 0x2000 }, protocol: 'esp', spiIn: 0x1000, spiOut: 0x2000,
    flowText: 'permit ip any any', context: { connIds: [5], peerId: '172.16.0.2' },
  }, bus.logger('CHD'), 1234);
  t.equal(installed.length, 1, 'one pair installed');
  t.match(installed[0], { mapName: 'CM', mapSeq: 10, policyKey: 'CM/10|k', iface: 'Tunnel0', childId: 3, local: '172.16.0.1', peer: '172.16.0.2' }, 'at its place, on the tunnel');
  t.notOk('flowText' in installed[0]! || 'context' in installed[0]!, 'no record-only fields reach the data plane');
  t.match(rec, { id: 3, peer: '172.16.0.2', peerPort: 4500, inboundId: 7, outboundId: 8, vti: 'Tunnel0', iface: 'FastEthernet0/0', createdAt: 1234, lastInboundMs: 1234, decaps: 0 }, 'the shared record');
  const dbg = events.find((e) => e.kind === 'debug');
  t.match(dbg?.text, /^IPSEC\(create_sa\): sa created, \(sa\) sa_dest= 172\.16\.0\.2, sa_proto= 50, sa_spi= 0x1000\(4096\), outbound sa_spi= 0x2000\(8192\)$/, 'create_sa as IOS prints it');
  t.same(dbg?.context, { connIds: [5], peerId: '172.16.0.2', peer: '172.16.0.2', spis: [0x1000, 0x2000] }, 'with the SA\'s context');
  const refusing = { installChildSa: (): never => { throw new Error('SPI taken'); } };
  t.throws(() => installPair(refusing, AT, { childId: 4, local: 'a', peer: 'b', peerPort: 500, transformWords: [], mode: 'tunnel', inbound: {}, outbound: {}, protocol: 'ah', spiIn: 1, spiOut: 2, flowText: '', context: {} }, bus.logger('CHD'), 0), /SPI taken/, 'a refusal reaches the caller');
});

t.test('underTemporaryEntry: the pair moves under the entry for the peer and flow; no ACE form, no place', async (t) => {
  const specs: TemporaryEntrySpec[] = [];
  const dp = { addTemporaryEntry: (s: TemporaryEntrySpec) => { specs.push(s); return s.peer === 'bad' ? undefined : { policyKey: 'CM/10/t1|x', spdScope: scope('10.1.0.0', '10.9.1.0') }; } };
  const at = underTemporaryEntry(dp, AT, { dynamicMapName: 'DYN', dynamicSeq: 20, transformSets: ['TS2'], pfsGroup: 14, reverseRoute: { tag: 20 } }, '172.18.1.2', 'IKEv2');
  t.same(at, { ...AT, policyKey: 'CM/10/t1|x', scope: scope('10.1.0.0', '10.9.1.0') }, 'its policy key and SPD scope');
  t.same(specs[0], {
    iface: AT.iface, mapName: 'CM', seq: 10, dynamicMapName: 'DYN', dynamicSeq: 20, peer: '172.18.1.2', scope: AT.scope,
    transformSets: ['TS2'], ike: 'IKEv2', pfsGroup: 14, reverseRoute: { tag: 20 },
  }, 'the entry keeps the template\'s settings and the negotiated flow');
  t.equal(underTemporaryEntry(dp, AT, { dynamicMapName: 'DYN', dynamicSeq: 20, transformSets: [] }, 'bad', 'IKEv1'), undefined, 'a flow without an ACE form has no place');
  t.equal(underTemporaryEntry({}, AT, { dynamicMapName: 'DYN', dynamicSeq: 20, transformSets: [] }, 'p', 'IKEv1'), undefined, 'nor a data plane without temporary entries');
});

t.test('IkeSessionReport: SESSION_STATUS up and down, key lines, auth failures per version', async (t) => {
  const { bus, events } = recordingBus();
  const keys: string[] = [];
  const auth: string[] = [];
  const engineDebug = { ikeKeys: (id: number, p: string) => keys.push(`keys ${id} ${p}`), ikeDeleted: (id: number, p: string) => keys.push(`deleted ${id} ${p}`) };
  const authMessages = { ikev1: (p: string, id: number) => auth.push(`v1 ${p} ${id}`), ikev2: (p: string, id: number) => auth.push(`v2 ${p} ${id}`) };
  const v2 = new IkeSessionReport('IKEv2', bus.logger('IKE'), engineDebug, authMessages);
  v2.up(9, { address: '192.0.2.2', port: 4500 }, 'peer.example', { profile: 'P' });
  t.same(v2.context(9), { profile: 'P' }, 'the SA\'s debug context is kept');
  v2.down(9);
  v2.down(9);
  const msgs = events.filter((e) => e.kind === 'message').map((e) => e.text);
  t.same(msgs, ['Crypto tunnel is UP. Peer 192.0.2.2:4500  Id: peer.example', 'Crypto tunnel is DOWN. Peer 192.0.2.2:4500'], 'one UP, one DOWN (an unknown SA reports nothing)');
  t.equal(v2.context(9), undefined, 'forgotten once down');
  t.same(keys, ['keys 9 192.0.2.2', 'deleted 9 192.0.2.2'], 'engine key lines');
  const v1 = new IkeSessionReport('IKEv1', bus.logger('IKE'), engineDebug, authMessages);
  v1.down(3, { address: '192.0.2.3', port: 500 }, false);
  t.equal(events.filter((e) => e.kind === 'message').length, 2, 'a dead peer: no SESSION_STATUS');
  t.same(keys.at(-1), 'deleted 3 192.0.2.3', 'but its keys are dropped');
  v1.authFailed('192.0.2.3', 3);
  v2.authFailed('192.0.2.2', 9);
  t.same(auth, ['v1 192.0.2.3 3', 'v2 192.0.2.2 9'], 'each version\'s message');
});

t.test('BundleMatcher: a single SA, an AH + ESP bundle in two halves, no matching set', async (t) => {
  const cfg = createConfig();
  cfg.transformSets = {
    ESP: { name: 'ESP', revision: 1, mode: 'tunnel', transforms: [{ name: 'esp-aes', keyBits: 256 }, { name: 'esp-sha-hmac' }] },
    BOTH: { name: 'BOTH', revision: 1, mode: 'tunnel', transforms: [{ name: 'ah-sha-hmac' }, { name: 'esp-aes', keyBits: 256 }, { name: 'esp-sha-hmac' }] },
  };
  const sa = (protocol: 'esp' | 'ah', spi: number): IpsecSaInfo => ({
    connId: 1, role: 'initiator', local: { address: 'a', port: 500 }, remote: { address: 'b', port: 500 }, protocol, mode: 'tunnel', udpEncap: false,
    localSel: { addr: '10.1.0.0', prefixLen: 24, protocol: 0, port: 0 }, remoteSel: { addr: '10.2.0.0', prefixLen: 24, protocol: 0, port: 0 },
    ...(protocol === 'esp' ? { cipher: 'esp-aes', keyLenBits: 256, integrity: 'sha' } : { integrity: 'sha' }),
    lifetimeSec: 3600, lifetimeKb: 4608000, inbound: { spi, encKey: new Uint8Array(0), authKey: new Uint8Array(0) }, outbound: { spi: spi + 1, encKey: new Uint8Array(0), authKey: new Uint8Array(0) },
  } as IpsecSaInfo);
  const m = new BundleMatcher();
  const single = m.match(cfg, ['ESP'], 'f1', sa('esp', 100));
  t.match(single, { set: { name: 'ESP' }, primary: { inbound: { spi: 100 } } }, 'ESP alone matches the ESP set');
  t.equal(m.match(cfg, ['BOTH'], 'f2', sa('esp', 200)), 'wait', 'the ESP half of a bundle waits');
  const both = m.match(cfg, ['BOTH'], 'f2', sa('ah', 300));
  t.match(both, { set: { name: 'BOTH' }, esp: { inbound: { spi: 200 } }, ah: { inbound: { spi: 300 } }, primary: { protocol: 'esp' } }, 'the AH half completes it, ESP is primary');
  t.equal(m.match(cfg, ['ESP'], 'f3', sa('ah', 400)), 'none', 'AH alone matches no ESP set');
});

t.test('failedWith: every connection waiting on the failed peer starts again; phase 1 fails over', async (t) => {
  let now = 0;
  const started: string[] = [];
  const m = new ConnectionManager<ManagedConnection & { tunnel?: boolean }>({ version: 'IKEv1', initiate: (c, p) => { started.push(`${c.key}>${p}`); return true; } }, { now: () => now, holdOffMs: 30_000 });
  const a = { key: 'a', peers: ['P1', 'P2'] };
  const b = { key: 'b', peers: ['P1', 'P3'] };
  const vti = { key: 'Tunnel0', peers: ['P1'], tunnel: true };
  m.start(a, 'P1'); m.start(b, 'P1'); m.track(vti, 'P1');
  m.failedWith('P1', false);
  t.same(started, ['a>P1', 'b>P1'], 'a quick mode failure: nothing restarted');
  t.notOk(m.isPending('a') || m.isPending('b') || m.isPending('Tunnel0'), 'but nothing is held off either');
  m.start(a, 'P1'); m.start(b, 'P1'); m.track(vti, 'P1');
  m.failedWith('P1', true, (c) => !c.tunnel);
  t.same(started.slice(4), ['a>P2', 'b>P3'], 'phase 1 failure: each flow to its next peer, at once');
  t.equal(m.peerFor(a), 'P2', 'which stays in use');
  t.notOk(m.isPending('Tunnel0'), 'the tunnel is not moved, only released');
});

t.test('TunnelKeeper.dueNow: down for the retry delay, then again; unconfigured tunnels forgotten', async (t) => {
  const k = new TunnelKeeper();
  const list = (up: boolean) => [{ name: 'Tunnel0', up, delayMs: 1000 }, { name: 'Tunnel1', up: true, delayMs: 1000 }];
  t.same(k.dueNow(list(false), 0), [], 'first seen down');
  t.same(k.dueNow(list(false), 999), [], 'not yet');
  t.same(k.dueNow(list(false), 1000), ['Tunnel0'], 'down for its delay');
  t.same(k.dueNow([], 1500), [], 'unconfigured');
  t.same(k.dueNow(list(false), 2000), [], 'counted again from when seen down again');
});
