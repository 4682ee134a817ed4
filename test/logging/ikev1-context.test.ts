// IKEv1 debug lines carry the context crypto conditional debug matches on, as IKEv2's do:
// the peer's identity once its ID payload arrived (`peer hostname`), a Unity group sent as
// ID_KEY_ID (`peer group`), the ISAKMP profile (`isakmp profile`), both SPIs of a new flow
// (`spi`), conn-ids and VRFs. Two real IKEv1 engines negotiate (in memory); their debug
// events go through the same context mapping and condition filter the daemon uses.
import t from 'tap';
import { Net, entry, ofType, pol, sel } from '../ikev1/harness.js';
import { isakmpEventContext, phase1Identity, type IsakmpDebugEvent } from '../../firmware/ike/v1/debug.js';
import { IdType } from '../../firmware/proto/ikev1/index.js';
import { DebugConditions } from '../../firmware/mgmt/debug-conditions.js';
import type { DebugEvent } from '../../firmware/lib/event-bus.js';
import type { Condition } from '../../firmware/cli/logging-view.js';

const ts = { name: 's', esp: { cipher: 'esp-aes' as const, keyLenBits: 128, integrity: 'sha' as const }, mode: 'tunnel' as const };
const HUB = '10.0.0.1';
const SPOKE1 = '10.0.0.3';
const SPOKE2 = '10.0.0.4';

/** A hub with an FQDN spoke (aggressive mode, profile `spokes`) and an address spoke (main mode). */
function hubAndSpokes() {
  const net = new Net();
  const spoke1 = net.add({
    address: SPOKE1, policies: [pol(10, 'aes128', 'sha', 2)], keys: [], entries: [],
    peerConfig: {
      globalKeys: [], interfaces: [], hostname: 'spoke1', domainName: 'example.com',
      keyrings: [{ name: 'hub', keys: [{ address: HUB, key: 'fqdn-s3cret' }] }],
      profiles: [{ name: 'tohub', keyrings: ['hub'], match: [{ kind: 'address', address: HUB }], selfIdentity: 'fqdn' }],
    },
  });
  const spoke2 = net.add({ address: SPOKE2, policies: [pol(10, 'aes128', 'sha', 2)], keys: [{ address: HUB, key: 'addr-s3cret' }], entries: [] });
  const hub = net.add({
    address: HUB, policies: [pol(10, 'aes128', 'sha', 2)], keys: [],
    entries: [entry(SPOKE1, '192.168.2.0/24', '192.168.1.0/24', [ts]), entry(SPOKE2, '192.168.2.0/24', '192.168.3.0/24', [ts], { seq: 20 })],
    peerConfig: {
      globalKeys: [{ hostname: 'spoke1.example.com', key: 'fqdn-s3cret' }, { address: SPOKE2, key: 'addr-s3cret' }], interfaces: [], keyrings: [],
      profiles: [{ name: 'spokes', keyrings: [], match: [{ kind: 'fqdn', fqdn: 'spoke1.example.com' }] }],
    },
  });
  const qm = (remote: string) => ({ localSel: sel(remote), remoteSel: sel('192.168.2.0/24'), transformSets: [ts], lifetimeSec: 3600, lifetimeKb: 4608000 });
  spoke1.engine.initiate({ local: { address: SPOKE1, port: 500 }, remote: { address: HUB, port: 500 }, aggressive: true, profile: 'tohub', quickMode: qm('192.168.1.0/24') });
  spoke2.engine.initiate({ local: { address: SPOKE2, port: 500 }, remote: { address: HUB, port: 500 }, quickMode: qm('192.168.3.0/24') });
  net.pump();
  return { net, hub, spoke1, spoke2 };
}

const asBus = (e: IsakmpDebugEvent): DebugEvent => ({ kind: 'debug', debug: 'isakmp', error: e.error ?? false, subsystem: 'IKE', level: 7, timeMs: e.timeMs, text: e.text, context: isakmpEventContext(e) });

function filtered(events: IsakmpDebugEvent[], conds: Condition[], unmatched = false): DebugEvent[] {
  const dc = new DebugConditions();
  for (const c of conds) dc.add(c);
  if (unmatched) dc.setUnmatched(undefined, true);
  return events.map(asBus).filter((e) => dc.passes(e));
}

t.test('hub debug lines carry identity, profile and flow SPIs', async (t) => {
  const { hub } = hubAndSpokes();
  t.equal(ofType(hub.events, 'ipsec-up').length, 2, 'both spokes have their flow');
  const ctxs = hub.debug.map(isakmpEventContext);
  t.ok(ctxs.some((c) => c.peer === SPOKE1 && c.peerId === 'spoke1.example.com' && c.profile === 'spokes'), 'spoke1 lines: FQDN identity and profile');
  t.ok(ctxs.some((c) => c.peer === SPOKE2 && c.peerId === SPOKE2 && c.profile === undefined), 'spoke2 lines: address identity, no profile');
  const up = ofType(hub.events, 'ipsec-up').find((e) => e.sa.remote.address === SPOKE1)!.sa;
  const created = hub.debug.find((e) => e.peer === SPOKE1 && /IPsec SA created/.test(e.text));
  t.same(created && isakmpEventContext(created).spis, [up.inbound.spi, up.outbound.spi], 'the new flow line has both SPIs');
  const all = [...hub.debug].map((e) => e.text).join('\n');
  t.notMatch(all, /s3cret/, 'no key in any debug line');
});

t.test('conditions select one spoke\'s IKEv1 lines', async (t) => {
  const { hub } = hubAndSpokes();
  const peers = (evs: DebugEvent[]) => new Set(evs.map((e) => e.context.peer));
  const byHost = filtered(hub.debug, [{ type: 'peer-hostname', value: 'SPOKE1.example.com' }]);
  t.ok(byHost.some((e) => /IPsec SA created/.test(e.text)), `peer hostname: ${byHost.length} lines, the flow's among them`);
  t.same([...peers(byHost)], [SPOKE1], 'peer hostname: only spoke1 (case-insensitive)');
  t.ok(byHost.every((e) => e.context.peerId === 'spoke1.example.com'), 'only lines after the identity is known');
  const byProfile = filtered(hub.debug, [{ type: 'isakmp-profile', value: 'spokes' }]);
  t.ok(byProfile.some((e) => /IPsec SA created/.test(e.text)), `isakmp profile: ${byProfile.length} lines, the flow's among them`);
  t.same([...peers(byProfile)], [SPOKE1], 'isakmp profile: only spoke1');
  const byIp = filtered(hub.debug, [{ type: 'peer-ipv4', value: SPOKE2 }]);
  t.same([...peers(byIp)], [SPOKE2], 'peer ipv4: only spoke2');
  t.ok(byIp.some((e) => /IPsec SA created/.test(e.text)), 'including its flow');
  const up2 = ofType(hub.events, 'ipsec-up').find((e) => e.sa.remote.address === SPOKE2)!.sa;
  for (const spi of [up2.inbound.spi, up2.outbound.spi]) {
    const bySpi = filtered(hub.debug, [{ type: 'spi', value: String(spi) }]);
    t.same(bySpi.map((e) => e.text).filter((x) => /IPsec SA created/.test(x)).length, 1, `spi ${spi}: the flow's line (either direction)`);
    t.same([...peers(bySpi)], [SPOKE2], `spi ${spi}: only spoke2`);
  }
  const connId = ofType(hub.events, 'phase1-up').find((e) => e.sa.remote.address === SPOKE2)!.sa.connId;
  const byConn = filtered(hub.debug, [{ type: 'connid', value: String(connId), extra: '1' }]);
  t.same([...peers(byConn)], [SPOKE2], 'connid: only spoke2');
  const withUnmatched = filtered(hub.debug, [{ type: 'peer-hostname', value: 'spoke1.example.com' }], true);
  t.ok(withUnmatched.length > byHost.length, 'unmatched adds lines without an identity');
  t.ok(withUnmatched.every((e) => e.context.peerId === undefined || e.context.peerId === 'spoke1.example.com'), 'but never another identity');
});

t.test('phase1Identity: identity only once received, KEY_ID is a Unity group', async (t) => {
  // the engine records the ID type of what the peer sent (peerIdType), never its own
  t.same(phase1Identity({ peerId: '10.0.0.9' }), {}, 'responder before MM5: nothing');
  t.same(phase1Identity({ peerIdType: IdType.ID_KEY_ID, peerId: 'sales' }), { peerId: 'sales', group: 'sales' }, 'KEY_ID: identity and group');
  t.same(phase1Identity({ peerId: '10.0.0.9' }), {}, 'initiator before MM6: its own ID is not the peer\'s');
  t.same(phase1Identity({ peerIdType: IdType.ID_FQDN, peerId: 'hub.example.com', profile: { name: 'p', keyrings: [], match: [] } }),
    { peerId: 'hub.example.com', profile: 'p' }, 'initiator after MM6, with its profile');
});
