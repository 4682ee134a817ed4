// What both IKE services share below the connection manager (firmware/ike/): the table of
// installed Child SAs (clear selection, rekey's newest pair, SPI aliases, traffic watch),
// dynamic VTI sessions, the `show crypto session` builder and the IKE socket set. Fakes
// stand in for the data plane and the bind registry.
import t from 'tap';
import { ChildSaTable, VirtualAccessSessions, freshTraffic, type ChildSaRecord, type VirtualAccess } from '../../firmware/ike/child-sas.js';
import { SessionTable, secondsLeft } from '../../firmware/ike/session-view.js';
import { IkeBinds, type IkeEndpoint, type IkeSocket } from '../../firmware/ike/ike-binds.js';

function rec(id: number, o: Partial<ChildSaRecord> = {}): ChildSaRecord {
  return {
    id, peer: '192.0.2.1', peerPort: 500, mapName: 'VPN', mapSeq: 10, policyKey: 'VPN 10|a', iface: 'Gi0/0', spiIn: 0x1000 + id, spiOut: 0x2000 + id,
    inboundId: 2 * id, outboundId: 2 * id + 1, flowText: 'permit ip host 10.1.0.1 host 10.2.0.1', createdAt: id * 100, ...freshTraffic(0), ...o,
  };
}

/** SAD counters by SAD id, as the data plane reports them. */
function fakeSad(counts: Map<number, { encapsPkts: number; decapsPkts: number }>) {
  return { get: (id: number) => { const c = counts.get(id); return c ? { counters: c } : undefined; } };
}

t.test('child table: lookups, clear filters, rekey newest, aliases', async (t) => {
  const tab = new ChildSaTable<ChildSaRecord>();
  const a = rec(1);
  const b = rec(2, { peer: '192.0.2.2', mapSeq: 20, policyKey: 'VPN 20|b' });
  const c = rec(3, { vti: 'Tunnel0', mapName: 'Tunnel0', mapSeq: 0, policyKey: 'vti:Tunnel0' });
  tab.add(a);
  tab.add(b, [0x9999]);
  tab.add(c);
  t.equal(tab.size, 3);
  t.equal(tab.bySpiIn(0x1001), a, 'by inbound SPI');
  t.equal(tab.bySpiIn(0x9999), b, 'by an alias (the AH half of a bundle)');
  t.equal(tab.bySpiIn(0x2001), undefined, 'an outbound SPI is not an inbound one');
  t.same(tab.forPeer('192.0.2.2').map((r) => r.id), [2]);
  t.same(tab.forPolicy('VPN 10|a').map((r) => r.id), [1]);
  t.ok(tab.tunnelUp('Tunnel0'));
  t.notOk(tab.tunnelUp('Tunnel1'));
  t.same(tab.selectedBy({ kind: 'all' }).map((r) => r.id), [1, 2, 3]);
  t.same(tab.selectedBy({ kind: 'peer', peer: '192.0.2.1' }).map((r) => r.id), [1, 3]);
  t.same(tab.selectedBy({ kind: 'map', map: 'VPN', seq: 20 }).map((r) => r.id), [2]);
  t.same(tab.selectedBy({ kind: 'map', map: 'VPN' }).map((r) => r.id), [1, 2]);
  t.same(tab.selectedBy({ kind: 'entry', destination: '192.0.2.1', protocol: 'esp', spi: 0x2001 }).map((r) => r.id), [1], 'either SPI of the pair');
  t.same(tab.selectedBy({ kind: 'entry', destination: '192.0.2.1', protocol: 'ah', spi: 0x2001 }).map((r) => r.id), [], 'only ESP SPIs');
  const a2 = rec(4, { createdAt: 900 });
  tab.add(a2);
  t.equal(tab.newestFor('VPN 10|a'), 900, 'the newest pair of a policy key (a rekey is there)');
  t.equal(tab.newestFor('none'), Number.NEGATIVE_INFINITY);
  tab.remove(b);
  t.equal(tab.bySpiIn(0x9999), undefined, 'its aliases go with it');
  t.equal(tab.get(2), undefined);
  tab.remove(rec(1)); // another object with the same id: not the one in the table
  t.equal(tab.get(1), a, 'only the record itself is removed');
  t.equal(tab.size, 3);
});

t.test('child table: the traffic watch sees what moved, per direction', async (t) => {
  const tab = new ChildSaTable<ChildSaRecord>();
  const a = rec(1);
  const b = rec(2);
  tab.add(a);
  tab.add(b);
  const counts = new Map([[2, { encapsPkts: 0, decapsPkts: 3 }], [3, { encapsPkts: 0, decapsPkts: 0 }], [4, { encapsPkts: 0, decapsPkts: 0 }], [5, { encapsPkts: 7, decapsPkts: 0 }]]);
  const seen: string[] = [];
  tab.watchTraffic(fakeSad(counts), 5000, (r, i, o) => seen.push(`${r.id}:${i ? 'in' : '-'}:${o ? 'out' : '-'}`));
  t.same(seen, ['1:in:-', '2:-:out'], 'every pair is visited with what moved');
  t.equal(a.lastInboundMs, 5000);
  t.equal(b.lastOutboundMs, 5000);
  t.equal(b.lastInboundMs, 0, 'nothing in for b: its time stays');
  seen.length = 0;
  tab.watchTraffic(fakeSad(counts), 6000, (r, i, o) => seen.push(`${r.id}:${i ? 'in' : '-'}:${o ? 'out' : '-'}`));
  t.same(seen, ['1:-:-', '2:-:-'], 'no change, nothing moved');
  t.equal(a.lastInboundMs, 5000);
  tab.watchTraffic(fakeSad(new Map()), 7000, () => {});
  t.equal(a.decaps, 3, 'SAs the data plane no longer reports keep their last counts');
});

t.test('virtual-access sessions: cloned once per session, released at its end, moved on rekey', async (t) => {
  const made: string[] = [];
  const released: string[] = [];
  let n = 0;
  const port = {
    createVirtualAccess: (tpl: number, local: string, peer: string, routes: readonly string[]): VirtualAccess | string => {
      if (peer === '198.51.100.9') return 'template has no IP address';
      made.push(`${tpl} ${local} ${peer} ${routes.join(',')}`);
      n++;
      return { name: `Virtual-Access${n}`, policyKey: `va:${n}`, mapName: `Virtual-Access${n}` };
    },
    releaseVirtualAccess: (name: string) => { released.push(name); },
  };
  const vas = new VirtualAccessSessions<number>(() => port);
  const v1 = vas.open(7, 1, '172.16.0.1', '198.51.100.1', ['10.9.1.0/24']);
  t.same(v1, { name: 'Virtual-Access1', policyKey: 'va:1', mapName: 'Virtual-Access1' });
  t.equal(vas.open(7, 1, '172.16.0.1', '198.51.100.1', []), v1, 'the second pair of the session uses the same interface');
  t.same(made, ['1 172.16.0.1 198.51.100.1 10.9.1.0/24']);
  t.equal(vas.open(8, 1, '172.16.0.1', '198.51.100.9', []), 'template has no IP address', 'the data plane says why not');
  t.equal(vas.get(8), undefined);
  vas.move(7, 70);
  t.equal(vas.get(7), undefined);
  t.equal(vas.get(70), v1, 'an IKE rekey keeps the interface');
  t.equal(vas.close(70), v1);
  t.same(released, ['Virtual-Access1']);
  t.equal(vas.close(70), undefined, 'closing twice releases once');
  t.same(released, ['Virtual-Access1']);
  const none = new VirtualAccessSessions<string>(() => undefined);
  t.equal(none.open('p', 1, 'a', 'b', []), 'the data plane has no Virtual-Access interfaces');
});

t.test('session table: sessions, IKE SAs and flows that add up', async (t) => {
  const tab = new SessionTable();
  const s = tab.session('192.0.2.1', () => ({ interface: '', peer: '192.0.2.1', peerPort: 500, ikeSas: [], flows: [] }));
  t.equal(tab.session('192.0.2.1', () => { throw new Error('made twice'); }, 'Gi0/0'), s, 'one session per key');
  t.equal(s.interface, 'Gi0/0', 'a later interface fills an empty one');
  tab.session('192.0.2.1', () => s, 'Gi0/1');
  t.equal(s.interface, 'Gi0/0', 'but does not replace it');
  tab.addIkeSa(s, { version: 'IKEv1', local: '192.0.2.9', localPort: 500, remote: '192.0.2.1', remotePort: 500, status: 'Active', connId: 1 });
  const old = rec(1);
  const fresh = rec(2);
  const counts = new Map([[2, { encapsPkts: 0, decapsPkts: 5 }], [3, { encapsPkts: 4, decapsPkts: 0 }], [4, { encapsPkts: 0, decapsPkts: 1 }]]);
  tab.addChild(s, 'k', old, fakeSad(counts));
  tab.addChild(s, 'k', fresh, fakeSad(counts));
  t.same(s.flows, [{ text: old.flowText, activeSas: 3, origin: 'crypto map', encryptedPackets: 4, decryptedPackets: 6 }], 'a rekey\'s pairs are one flow; SAs gone from the data plane do not count');
  tab.addChild(s, 'k2', rec(3, { flowText: 'permit ip any any' }), undefined);
  t.equal(s.flows[1]?.activeSas, 2, 'without a data plane a pair counts as two SAs');
  tab.addFlow(s, 'k2', 'ignored', 2, 1, 1);
  t.same(s.flows[1], { text: 'permit ip any any', activeSas: 4, origin: 'crypto map', encryptedPackets: 1, decryptedPackets: 1 });
  t.equal(tab.list().length, 1);
  t.equal(secondsLeft(undefined, 0), undefined);
  t.equal(secondsLeft(Number.POSITIVE_INFINITY, 0), undefined);
  t.equal(secondsLeft(10_400, 0), 10);
  t.equal(secondsLeft(0, 5_000), 0, 'never negative');
});

t.test('IKE sockets: both ports per address, released when the address goes, failures reported', async (t) => {
  const opened: string[] = [];
  const releasedKeys: string[] = [];
  const sent: string[] = [];
  const handlers = new Map<string, (kind: string, data: Uint8Array, remote: IkeEndpoint, local: IkeEndpoint) => void>();
  const got: string[] = [];
  const failures: string[] = [];
  const binds = new IkeBinds({
    open: async (address, port, encap): Promise<IkeSocket> => {
      if (address === '203.0.113.1') throw new Error('EADDRNOTAVAIL');
      const key = `${address}:${port}${encap ? ' encap' : ''}`;
      opened.push(key);
      return {
        subscribe: (kinds, h) => { t.same(kinds, ['ike']); handlers.set(`${address}:${port}`, h); return () => {}; },
        send: (_k, data, remote) => { sent.push(`${address}:${port} -> ${remote.address}:${remote.port} ${data.length}`); },
        release: async () => { releasedKeys.push(key); },
      };
    },
    receive: (data, remote, local, port) => got.push(`${remote.address} -> ${local.address}:${local.port} on ${port} (${data.length})`),
    failed: (a, port, e) => failures.push(`${a}:${port} ${e.message}`),
  });
  await binds.reconcile(['192.0.2.9', '203.0.113.1']);
  t.same(opened, ['192.0.2.9:500', '192.0.2.9:4500 encap'], 'UDP 500 and 4500 (encapsulating) on each address');
  t.same(failures, ['203.0.113.1:500 EADDRNOTAVAIL', '203.0.113.1:4500 EADDRNOTAVAIL'], 'a socket that cannot open is reported');
  t.notOk(binds.has('203.0.113.1', 500), 'and tried again next time');
  handlers.get('192.0.2.9:4500')!('ike', new Uint8Array(40), { address: '198.51.100.1', port: 4500 }, { address: '', port: 0 });
  t.same(got, ['198.51.100.1 -> 192.0.2.9:4500 on 4500 (40)'], 'a datagram carries its socket\'s address when the bind does not say');
  t.ok(binds.send({ address: '192.0.2.9', port: 4500 }, new Uint8Array(3), { address: '198.51.100.1', port: 4500 }));
  t.ok(binds.send({ address: '192.0.2.9', port: 1234 }, new Uint8Array(2), { address: '198.51.100.1', port: 500 }), 'an unknown port falls back to 500');
  t.notOk(binds.send({ address: '192.0.2.77', port: 500 }, new Uint8Array(1), { address: '198.51.100.1', port: 500 }), 'no socket on that address');
  await new Promise((r) => setImmediate(r));
  t.same(sent, ['192.0.2.9:4500 -> 198.51.100.1:4500 3', '192.0.2.9:500 -> 198.51.100.1:500 2']);
  await binds.reconcile(['192.0.2.10']);
  t.same(releasedKeys, ['192.0.2.9:500', '192.0.2.9:4500 encap'], 'the old address\'s sockets are released');
  t.same(opened.slice(2), ['192.0.2.10:500', '192.0.2.10:4500 encap']);
  await binds.reconcile(['192.0.2.10']);
  t.equal(opened.length, 4, 'nothing reopened when nothing changed');
  await binds.close();
  t.same(releasedKeys.slice(2), ['192.0.2.10:500', '192.0.2.10:4500 encap']);
  await binds.reconcile(['192.0.2.11']);
  t.equal(opened.length, 4, 'nothing opens after close');
});
