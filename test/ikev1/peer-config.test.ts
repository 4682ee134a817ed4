import t from 'tap';
import { findPreSharedKey, frontDoorVrf, matchProfile, selfIdentity, type PeerConfigInput } from '../../firmware/ike/v1/peer-config.js';
import { formatIsakmpDebug, formatIosTimestamp } from '../../firmware/ike/v1/debug-format.js';
import type { IsakmpDebugEvent } from '../../firmware/ike/v1/debug.js';
import { formatId } from '../../firmware/proto/ikev1/index.js';
import { Net, T0, entry, ofType, pol, sel } from './harness.js';

const interfaces = [{ name: 'Serial2/0', address: '10.0.0.1' }, { name: 'Serial2/1', address: '10.0.0.2' }];

function sink(): { events: IsakmpDebugEvent[]; ctx: { now: () => number; sink: (e: IsakmpDebugEvent) => void } } {
  const events: IsakmpDebugEvent[] = [];
  return { events, ctx: { now: () => T0, sink: (e) => events.push(e) } };
}

t.test('timestamp and prefix format', async (t) => {
  t.equal(formatIosTimestamp(T0), '*Feb 11 15:01:29.595');
  t.equal(formatIosTimestamp(T0, { synced: true }), 'Feb 11 15:01:29.595');
  t.equal(formatIsakmpDebug({ subsystem: 'ISAKMP', timeMs: T0, connId: 0, text: 'x' }), '*Feb 11 15:01:29.595: ISAKMP:(0:0:N/A:0):x');
  t.equal(formatIsakmpDebug({ subsystem: 'ISAKMP', timeMs: T0, connId: 1, text: ': peer matches profile1 profile' }), '*Feb 11 15:01:29.595: ISAKMP:(0:1:SW:1):: peer matches profile1 profile');
});

t.test('guide: keyring bound to local termination addresses', async (t) => {
  const cfg: PeerConfigInput = {
    globalKeys: [],
    interfaces,
    profiles: [],
    keyrings: [
      { name: 'keyring1', localAddress: { interface: 'serial2/0' }, keys: [{ address: '10.0.0.3', key: 'somerandomkeystring' }] },
      { name: 'keyring2', localAddress: { interface: 'serial2/1' }, keys: [{ address: '10.0.0.3', key: 'someotherkeystring' }] },
    ],
  };
  const { events, ctx } = sink();
  const r = findPreSharedKey(cfg, { localAddress: '10.0.0.1', peerAddress: '10.0.0.3' }, ctx);
  t.equal(r?.keyring, 'keyring1');
  t.equal(r?.key, 'somerandomkeystring');
  const lines = events.map((e) => formatIsakmpDebug(e));
  t.same(lines, [
    '*Feb 11 15:01:29.595: ISAKMP:(0:0:N/A:0):Keyring keyring2 is bound to 10.0.0.2, skipping',
    '*Feb 11 15:01:29.595: ISAKMP:(0:0:N/A:0):Looking for a matching key for 10.0.0.3 in keyring1',
    '*Feb 11 15:01:29.595: ISAKMP:(0:0:N/A:0): : success',
    '*Feb 11 15:01:29.595: ISAKMP:(0:0:N/A:0):found peer pre-shared key matching 10.0.0.3',
    '*Feb 11 15:01:29.595: ISAKMP:(0:0:N/A:0): local preshared key found',
  ]);
  t.ok(events.every((e) => e.peer === '10.0.0.3' && e.subsystem === 'ISAKMP'), 'context carried');
  t.notMatch(lines.join('\n'), /somerandomkeystring|someotherkeystring/);
  // the same peer arriving on serial2/1 gets keyring2's key
  const r2 = findPreSharedKey(cfg, { localAddress: '10.0.0.2', peerAddress: '10.0.0.3' }, sink().ctx);
  t.equal(r2?.keyring, 'keyring2');
  // an interface without an address disables the keyring
  const r3 = findPreSharedKey({ ...cfg, interfaces: [{ name: 'Serial2/0' }] }, { localAddress: '10.0.0.1', peerAddress: '10.0.0.3' }, sink().ctx);
  t.equal(r3, undefined);
});

t.test('keyring bound to an IP address and a VRF; global keys; longest match', async (t) => {
  const cfg: PeerConfigInput = {
    globalKeys: [{ address: '0.0.0.0', mask: '0.0.0.0', key: 'wild' }, { address: '172.16.0.0', mask: '255.255.0.0', key: 'net16' }, { address: '172.16.1.1', key: 'host' }],
    interfaces,
    profiles: [],
    keyrings: [{ name: 'ring1', vrf: 'examplevrf1', localAddress: { address: '10.34.35.36', vrf: 'examplevrf1' }, keys: [{ address: '0.0.0.0', mask: '0.0.0.0', key: 'vrfkey' }] }],
  };
  t.equal(findPreSharedKey(cfg, { localAddress: '10.0.0.1', peerAddress: '172.16.1.1' }, sink().ctx)?.key, 'host');
  t.equal(findPreSharedKey(cfg, { localAddress: '10.0.0.1', peerAddress: '172.16.9.9' }, sink().ctx)?.matched, '172.16.0.0/255.255.0.0');
  t.equal(findPreSharedKey(cfg, { localAddress: '10.0.0.1', peerAddress: '8.8.8.8' }, sink().ctx)?.key, 'wild');
  t.equal(findPreSharedKey(cfg, { localAddress: '10.34.35.36', peerAddress: '8.8.8.8', fvrf: 'examplevrf1' }, sink().ctx)?.keyring, 'ring1');
  t.equal(findPreSharedKey(cfg, { localAddress: '10.34.35.99', peerAddress: '8.8.8.8', fvrf: 'examplevrf1' }, sink().ctx), undefined);
});

t.test('guide: ISAKMP profile bound to a local termination address', async (t) => {
  const cfg: PeerConfigInput = {
    globalKeys: [],
    interfaces,
    keyrings: [],
    hostname: 'Router',
    domainName: 'example.com',
    profiles: [
      { name: 'profile1', keyrings: ['keyring1'], match: [{ kind: 'address', address: '10.0.0.0', mask: '255.0.0.0' }], localAddress: { interface: 'serial2/0' } },
      { name: 'profile2', keyrings: ['keyring1', 'keyring2'], selfIdentity: 'fqdn', match: [{ kind: 'address', address: '10.0.0.1', mask: '255.255.255.255' }], localAddress: { interface: 'serial2/1' } },
    ],
  };
  const { events, ctx } = sink();
  const p = matchProfile(cfg, { localAddress: '10.0.0.1', peer: { kind: 'address', address: '10.0.0.1' }, peerAddress: '10.0.0.1' }, { ...ctx, connId: 1 });
  t.equal(p?.name, 'profile1');
  t.same(events.map((e) => formatIsakmpDebug(e)), [
    '*Feb 11 15:01:29.595: ISAKMP:(0:0:N/A:0):Profile profile2 bound to 10.0.0.2 skipped',
    '*Feb 11 15:01:29.595: ISAKMP:(0:1:SW:1):: peer matches profile1 profile',
  ]);
  // arriving on serial2/1 the peer matches profile2, whose self-identity is the FQDN
  const p2 = matchProfile(cfg, { localAddress: '10.0.0.2', peer: { kind: 'address', address: '10.0.0.1' }, peerAddress: '10.0.0.1' }, sink().ctx);
  t.equal(p2?.name, 'profile2');
  t.equal(formatId(selfIdentity(cfg, p2, '10.0.0.2')), 'Router.example.com');
  t.equal(formatId(selfIdentity(cfg, p, '10.0.0.1')), '10.0.0.1');
  t.equal(matchProfile(cfg, { localAddress: '10.0.0.9', peer: { kind: 'address', address: '10.0.0.1' }, peerAddress: '10.0.0.1' }, sink().ctx), undefined);
});

t.test('engine: same peer, different local address, different keyring (SafeNet)', async (t) => {
  const net = new Net();
  const peerConfig: PeerConfigInput = {
    globalKeys: [], interfaces, profiles: [],
    keyrings: [
      { name: 'keyring1', localAddress: { interface: 'Serial2/0' }, keys: [{ address: '10.0.0.3', key: 'customer-one' }] },
      { name: 'keyring2', localAddress: { interface: 'Serial2/1' }, keys: [{ address: '10.0.0.3', key: 'customer-two' }] },
    ],
  };
  const ts = { name: 's', esp: { cipher: 'esp-aes' as const, keyLenBits: 256, integrity: 'sha' as const }, mode: 'tunnel' as const };
  const r = net.add({ address: '10.0.0.1', policies: [pol(10, 'aes256', 'sha', 2)], keys: [], peerConfig, entries: [{ ...entry('10.0.0.3', '192.168.2.0/24', '192.168.1.0/24', [ts]) }] });
  net.peers.set('10.0.0.2', r);
  const c = net.add({ address: '10.0.0.3', policies: [pol(10, 'aes256', 'sha', 2)], keys: [{ address: '10.0.0.1', key: 'customer-one' }, { address: '10.0.0.2', key: 'customer-one' }], entries: [] });
  const qm = { localSel: sel('192.168.1.0/24'), remoteSel: sel('192.168.2.0/24'), transformSets: [ts], lifetimeSec: 3600, lifetimeKb: 4608000 };
  c.engine.initiate({ local: { address: '10.0.0.3', port: 500 }, remote: { address: '10.0.0.1', port: 500 }, quickMode: qm });
  net.pump();
  t.equal(ofType(c.events, 'ipsec-up').length, 1, 'customer one key works on serial2/0');
  t.ok(r.debug.some((e) => e.text === 'Keyring keyring2 is bound to 10.0.0.2, skipping'));
  c.engine.initiate({ local: { address: '10.0.0.3', port: 500 }, remote: { address: '10.0.0.2', port: 500 }, quickMode: qm });
  net.pump();
  net.advance(120_000, 2000);
  t.equal(ofType(c.events, 'phase1-up').length, 1, 'customer one key refused on serial2/1');
  t.ok(r.debug.some((e) => e.text === 'Keyring keyring1 is bound to 10.0.0.1, skipping'));
  t.notMatch(r.debug.map((e) => e.text).join('\n'), /customer-/);
});

t.test('engine: aggressive mode with an FQDN self-identity and a hostname key', async (t) => {
  const net = new Net();
  const ts = { name: 's', esp: { cipher: 'esp-aes' as const, keyLenBits: 128, integrity: 'sha' as const }, mode: 'tunnel' as const };
  const spoke = net.add({
    address: '10.0.0.3', policies: [pol(10, 'aes128', 'sha', 2)], keys: [], entries: [],
    peerConfig: {
      globalKeys: [], interfaces: [], hostname: 'spoke1', domainName: 'example.com',
      keyrings: [{ name: 'hub', keys: [{ address: '10.0.0.1', key: 'fqdn-secret' }] }],
      profiles: [{ name: 'tohub', keyrings: ['hub'], match: [{ kind: 'address', address: '10.0.0.1' }], selfIdentity: 'fqdn' }],
    },
  });
  const hub = net.add({
    address: '10.0.0.1', policies: [pol(10, 'aes128', 'sha', 2)], keys: [], entries: [entry('10.0.0.3', '192.168.2.0/24', '192.168.1.0/24', [ts])],
    peerConfig: {
      globalKeys: [{ hostname: 'spoke1.example.com', key: 'fqdn-secret' }], interfaces: [], keyrings: [],
      profiles: [{ name: 'spokes', keyrings: [], match: [{ kind: 'fqdn', fqdn: 'spoke1.example.com' }] }],
    },
  });
  spoke.engine.initiate({ local: { address: '10.0.0.3', port: 500 }, remote: { address: '10.0.0.1', port: 500 }, aggressive: true, profile: 'tohub',
    quickMode: { localSel: sel('192.168.1.0/24'), remoteSel: sel('192.168.2.0/24'), transformSets: [ts], lifetimeSec: 3600, lifetimeKb: 4608000 } });
  net.pump();
  const up = ofType(hub.events, 'phase1-up')[0];
  t.equal(up?.sa.peerId, 'spoke1.example.com');
  t.equal(up?.sa.profile, 'spokes');
  t.equal(ofType(hub.events, 'ipsec-up').length, 1);
  t.ok(hub.debug.some((e) => e.text === 'found peer pre-shared key matching spoke1.example.com'));
  t.ok(hub.debug.some((e) => e.text === ': peer matches spokes profile' && e.connId > 0));
});

t.test('front-door VRF: the VRF of the interface owning the local address picks the keyrings', async (t) => {
  const cfg: PeerConfigInput = {
    globalKeys: [{ address: '172.16.1.1', key: 'global-key' }],
    interfaces: [
      { name: 'GigabitEthernet0/0', address: '172.16.0.1', vrf: 'INET' },
      { name: 'GigabitEthernet0/1', address: '192.0.2.1' },
      // a template in an inside VRF borrowing the outside address does not make it its own
      { name: 'Virtual-Template1', address: '172.16.0.1', vrf: 'A', unnumbered: true },
    ],
    profiles: [],
    keyrings: [
      { name: 'K-GLOBAL', keys: [{ address: '172.16.2.1', key: 'global-ring-key' }] },
      { name: 'K-INET', vrf: 'INET', keys: [{ address: '172.16.1.1', key: 'inet-key' }] },
    ],
  };
  t.equal(frontDoorVrf(cfg, '172.16.0.1'), 'INET', 'the outside port\'s VRF, not the unnumbered template\'s');
  t.equal(frontDoorVrf(cfg, '192.0.2.1'), undefined, 'a global port');
  t.equal(frontDoorVrf(cfg, '198.51.100.1'), undefined, 'an address no interface has');
  const inInet = (peer: string) => findPreSharedKey(cfg, { localAddress: '172.16.0.1', peerAddress: peer, fvrf: 'INET' }, sink().ctx);
  t.equal(inInet('172.16.1.1')?.key, 'inet-key', 'a peer in INET gets the INET keyring\'s key, not the global one');
  t.equal(inInet('172.16.2.1'), undefined, 'a key only in a global keyring is not found for a peer in INET');
  const global = (peer: string) => findPreSharedKey(cfg, { localAddress: '192.0.2.1', peerAddress: peer }, sink().ctx);
  t.equal(global('172.16.2.1')?.key, 'global-ring-key', 'global peers: global keyrings');
  t.equal(global('172.16.1.1')?.key, 'global-key', 'global peers: crypto isakmp key, never the INET keyring');
});
