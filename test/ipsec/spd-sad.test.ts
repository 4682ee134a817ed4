// SPD and SAD together, the way the data plane uses them (manual SAs of the guide's
// `crypto map mymap 10 ipsec-manual` example, then an IKE-style rekey).
import t from 'tap';
import { parseAclEntry } from '../../firmware/ipsec/acl-classifier.js';
import { Sad } from '../../firmware/ipsec/sad.js';
import { IPPROTO_ESP, makePacketKey, parseIp, valueToWords } from '../../firmware/ipsec/selector.js';
import { compileSpd } from '../../firmware/ipsec/spd.js';

t.test('outbound: SPD decision -> SAD bundle; inbound: SPI lookup -> scope check; clear traffic dropped', async (t) => {
  const local = parseIp('10.0.0.1');
  const peer = parseIp('10.0.0.5');
  const spd = compileSpd([{
    mapName: 'mymap', seq: 10, kind: 'manual', peers: [peer], transformSets: ['someset'], aclName: '102',
    acl: [parseAclEntry('permit ip 10.0.68.0 0.0.0.255 10.1.1.0 0.0.0.255')],
  }]);
  let now = 0;
  const sad = new Sad<{ key: string }>({ now: () => now });
  const d = spd.outbound(makePacketKey('10.0.68.10', '10.1.1.20', 6, 1025, 80));
  if (d.action !== 'protect') throw new Error('expected protect');
  t.equal(sad.outbound(d.policyKey), undefined, 'no SA yet: a manual entry drops (initiate=false)');
  t.equal(d.initiate, false);
  // `set session-key inbound esp 256 ...` / `outbound esp 256 ...`
  const inbound = sad.addInbound({ direction: 'inbound', proto: IPPROTO_ESP, spi: 256, local, peer, manual: true, scope: d.scope, policyKey: d.policyKey, mapName: 'mymap', mapSeq: 10, transform: { key: 'in' } });
  sad.setOutbound(d.policyKey, [{ direction: 'outbound', proto: IPPROTO_ESP, spi: 256, local, peer, manual: true, scope: d.scope, mapName: 'mymap', mapSeq: 10, transform: { key: 'out' } }]);

  // outbound packet path
  const again = spd.outbound(makePacketKey('10.0.68.99', '10.1.1.7', 17, 5, 53));
  if (again.action !== 'protect') throw new Error('expected protect');
  const bundle = sad.outbound(again.policyKey);
  t.equal(bundle?.sas[0]?.transform.key, 'out');
  t.ok(sad.recordEncaps(bundle!.sas[0]!, 100));

  // inbound packet path: ESP to 10.0.0.1 SPI 256, decrypted packet checked against the SA's scope
  const sa = sad.lookupInbound(256, IPPROTO_ESP, valueToWords(4, local.value));
  t.equal(sa, inbound);
  t.ok(spd.checkDecrypted(makePacketKey('10.1.1.20', '10.0.68.10', 6, 80, 1025), sa!.scope!), 'inner packet inside the SA');
  t.notOk(spd.checkDecrypted(makePacketKey('10.9.9.9', '10.0.68.10', 6, 80, 1025), sa!.scope!), 'spoofed inner source refused');
  sad.recordDecaps(sa!, 60);

  // the same flow arriving in the clear must be dropped
  t.equal(spd.inboundClear(makePacketKey('10.1.1.20', '10.0.68.10', 6, 80, 1025)).action, 'drop');
  t.equal(spd.inboundClear(makePacketKey('10.0.0.5', '10.0.0.1', 17, 500, 500)).action, 'allow', 'traffic between the routers themselves passes');

  // clear crypto sa map mymap: manual SAs are reinstalled at once by the caller
  t.equal(sad.deleteWhere((s) => s.mapName === 'mymap'), 2);
  now += 1;
  t.equal(sad.outbound(d.policyKey), undefined);
});
