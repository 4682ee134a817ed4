// The connection manager both IKE services use (firmware/ike/connection-manager.ts): acquire
// hold-off, peer choice and failover order, rekey scheduling, clear filters. A recording port
// stands in for an engine.
import t from 'tap';
import { ConnectionManager, TunnelKeeper, clearSelects, rekeyMarginMs, rekeySchedule, shouldRekey, type ManagedConnection } from '../../firmware/ike/connection-manager.js';

const P1 = '192.0.2.1';
const P2 = '192.0.2.2';
const P3 = '192.0.2.3';

function setup(opts: { refuse?: boolean } = {}) {
  let now = 1_000;
  const started: string[] = [];
  const m = new ConnectionManager<ManagedConnection>(
    { version: 'IKEv1', initiate: (_c, peer) => { started.push(peer); return !opts.refuse; } },
    { now: () => now, holdOffMs: 30_000 },
  );
  return { m, started, advance: (ms: number) => { now += ms; } };
}

const conn: ManagedConnection = { key: 'mymap 10|10.1.0.0/24>10.2.0.0/24', peers: [P1, P2, P3] };

t.test('failover goes through the peers in configuration order and wraps', async (t) => {
  const { m, started } = setup();
  t.equal(m.acquire(conn), 'started');
  t.same(started, [P1], 'first configured peer');
  t.equal(m.failed(conn, P1), P2, 'P1 failed: P2 next');
  t.equal(m.acquire(conn), 'started', 'a failure ends the hold-off');
  t.equal(m.failed(conn, P2), P3);
  t.equal(m.acquire(conn), 'started');
  t.equal(m.failed(conn, P3), P1, 'after the last the first again');
  t.equal(m.acquire(conn), 'started');
  t.same(started, [P1, P2, P3, P1]);
  t.equal(m.failed({ key: 'x', peers: [] }, P1), undefined, 'no peers, nothing to fail over to');
});

t.test('the peer last heard from stays in use; unconfigured peers only for dynamic entries', async (t) => {
  const { m } = setup();
  t.equal(m.peerFor(conn), P1);
  m.heardFrom(conn, P3);
  t.equal(m.peerFor(conn), P3, 'heard from P3');
  m.heardFrom(conn, '198.51.100.9');
  t.equal(m.peerFor(conn), P3, 'a peer the entry does not name is ignored');
  const dyn: ManagedConnection = { key: 'dyn', peers: [], dynamic: true };
  t.equal(m.peerFor(dyn), undefined);
  m.heardFrom(dyn, '198.51.100.9');
  t.equal(m.peerFor(dyn), '198.51.100.9', 'a dynamic entry takes whoever negotiated');
  t.equal(m.failed(conn, P3), P1, 'failing the heard-from peer moves on from it');
});

t.test('acquire: one negotiation per hold-off, none while up, none without a peer', async (t) => {
  const { m, started, advance } = setup();
  t.equal(m.acquire(conn), 'started');
  t.equal(m.acquire(conn), 'pending', 'second packet: held off');
  advance(29_999);
  t.equal(m.acquire(conn), 'pending');
  advance(1);
  t.equal(m.acquire(conn), 'started', 'hold-off over: a new packet retries');
  m.settled(conn.key);
  t.equal(m.acquire(conn, true), 'up', 'SAs up: nothing to do');
  t.equal(m.acquire({ key: 'none', peers: [] }), 'no-peer');
  t.equal(started.length, 2);
  const refusing = setup({ refuse: true });
  t.equal(refusing.m.acquire(conn), 'refused');
  t.notOk(refusing.m.isPending(conn.key), 'a start the engine refused holds nothing back');
});

t.test('negotiations in progress by peer; clear forgets them', async (t) => {
  const { m } = setup();
  const other: ManagedConnection = { key: 'other', peers: [P2] };
  m.acquire(conn);
  m.acquire(other);
  t.same(m.pendingWith(P1).map((p) => p.conn.key), [conn.key]);
  t.same(m.pendingWith(P2).map((p) => p.conn.key), ['other']);
  m.clearPending(P2);
  t.notOk(m.isPending('other'), 'cleared with its peer');
  t.ok(m.isPending(conn.key), 'the other peer\'s stays');
  m.clearPending();
  t.notOk(m.isPending(conn.key), 'clear all');
  m.track(conn, P2);
  t.same(m.pendingWith(P2).map((p) => p.peer), [P2], 'a negotiation the service started itself is tracked');
  m.forget(conn.key);
  t.notOk(m.isPending(conn.key));
});

t.test('rekey schedule: lifetime minus a margin with jitter', async (t) => {
  // default margin: 10 % of the lifetime (at most 540 s) plus up to a third of it
  t.equal(rekeyMarginMs(undefined, 120_000, 0), 12_000);
  t.equal(rekeyMarginMs(undefined, 120_000, 255), 16_000);
  t.equal(rekeyMarginMs(undefined, 86_400_000, 0), 540_000, 'capped at 540 s');
  t.equal(rekeyMarginMs(undefined, 86_400_000, 255), 720_000);
  t.equal(rekeyMarginMs(30, 3_600_000, 0), 30_000, 'configured margin');
  t.equal(rekeyMarginMs(30, 3_600_000, 255), 40_000);
  for (let b = 0; b < 256; b++) {
    const s = rekeySchedule(5_000, 120, undefined, b);
    if (s.expireAtMs !== 125_000 || s.rekeyAtMs < 5_000 + 104_000 || s.rekeyAtMs > 5_000 + 108_000) {
      t.fail(`random byte ${b}: rekey at ${s.rekeyAtMs}, expiry at ${s.expireAtMs}`);
    }
  }
  const a = rekeySchedule(0, 120, undefined, 10).rekeyAtMs;
  const b = rekeySchedule(0, 120, undefined, 200).rekeyAtMs;
  t.ok(a > b, 'more jitter, earlier rekey (peers with equal lifetimes rarely rekey at once)');
});

t.test('who rekeys: the negotiating side, once, unless a newer pair exists', async (t) => {
  t.ok(shouldRekey({ initiator: true, rekeyed: false, createdAt: 10 }, 10));
  t.notOk(shouldRekey({ initiator: false, rekeyed: false, createdAt: 10 }, 10), 'responder waits for the initiator');
  t.notOk(shouldRekey({ initiator: true, rekeyed: true, createdAt: 10 }, 10), 'only once');
  t.notOk(shouldRekey({ initiator: true, rekeyed: false, createdAt: 10 }, 20), 'a newer pair replaced it');
});

t.test('clear filters: all, peer, map (and entry), SPI in either direction', async (t) => {
  const pair = { peer: P1, mapName: 'mymap', mapSeq: 10, espSpis: [0x1001, 0x2002] };
  t.ok(clearSelects({ kind: 'all' }, pair));
  t.ok(clearSelects({ kind: 'peer', peer: P1 }, pair));
  t.notOk(clearSelects({ kind: 'peer', peer: P2 }, pair));
  t.ok(clearSelects({ kind: 'map', map: 'mymap' }, pair));
  t.ok(clearSelects({ kind: 'map', map: 'mymap', seq: 10 }, pair));
  t.notOk(clearSelects({ kind: 'map', map: 'mymap', seq: 20 }, pair), 'another entry of the map');
  t.notOk(clearSelects({ kind: 'map', map: 'other' }, pair));
  t.ok(clearSelects({ kind: 'entry', destination: P1, protocol: 'esp', spi: 0x1001 }, pair), 'inbound SPI');
  t.ok(clearSelects({ kind: 'entry', destination: P1, protocol: 'esp', spi: 0x2002 }, pair), 'outbound SPI');
  t.notOk(clearSelects({ kind: 'entry', destination: P1, protocol: 'ah', spi: 0x1001 }, pair), 'AH entry: not an ESP pair');
  t.notOk(clearSelects({ kind: 'entry', destination: P1, protocol: 'esp', spi: 0x3003 }, pair));
});

t.test('static tunnels: started once down for the retry delay, the clock restarting when they come up', async (t) => {
  const k = new TunnelKeeper();
  t.notOk(k.due('Tunnel0', false, 5_000, 0), 'first seen down: not yet');
  t.notOk(k.due('Tunnel0', false, 5_000, 4_999));
  t.ok(k.due('Tunnel0', false, 5_000, 5_000), 'down for the delay: start it');
  t.ok(k.due('Tunnel0', false, 5_000, 9_000), 'still down: still due (the acquire hold-off spaces the attempts)');
  t.notOk(k.due('Tunnel0', true, 5_000, 10_000), 'up');
  t.notOk(k.due('Tunnel0', false, 5_000, 12_000), 'down again: the delay counts from now');
  t.ok(k.due('Tunnel0', false, 5_000, 17_000));
  k.due('Tunnel1', false, 5_000, 17_000);
  k.retain((name) => name === 'Tunnel0');
  t.notOk(k.due('Tunnel1', false, 5_000, 30_000), 'a tunnel no longer configured starts over');
});
