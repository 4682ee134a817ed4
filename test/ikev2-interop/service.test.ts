// Two Ikev2Services (the daemon's real service) in one process, no root: configured from IOS
// text, wired by an in-memory UDP network through the real BindRegistry, each with a fake data
// plane that records installs/deletes, and an injected clock. Covers the config mapping,
// acquire-triggered initiation, SA installation (keys and SPIs crossing), rekey ordering
// (new pair installed before the old inbound SA goes: no loss), clear (Delete reaches the
// peer), DPD on a silent peer, show output.
import t from 'tap';
import '../../firmware/cli/commands/index.js';
import { loadConfigText } from '../../firmware/cli/config-loader.js';
import { formatIkev2Sas } from '../../firmware/cli/commands/crypto-ikev2-sa.js';
import { createConfig, type Config } from '../../firmware/config/model.js';
import { BindRegistry } from '../../firmware/dataplane/bind-registry.js';
import type { PacketBind, PacketHandler } from '../../firmware/dataplane/packet-io.js';
import { emptyBindStats } from '../../firmware/dataplane/packet-io.js';
import type { DaemonService, ServiceContext } from '../../firmware/daemon/daemon.js';
import { busMembers, EventBus } from '../../firmware/lib/event-bus.js';
import { LoggingService } from '../../firmware/mgmt/logging-service.js';
import { mapIkev2Config, lookupPsk, childProposalFromSet, wordsForNegotiated } from '../../firmware/daemon/ikev2-config.js';
import { Ikev2Service, type Ikev2DataplaneApi } from '../../firmware/daemon/ikev2-service.js';
import type { BoardProfile } from '../../board/profile.js';
import { fakeSystem } from '../lib/fake-system.js';
import { rampartIkev2Config } from './harness.js';
import { RuntimeRegistry } from '../../firmware/daemon/runtime-view.js';

const PSK = 'in-process-psk';
const A = '10.9.0.1';
const B = '10.9.0.2';

class FakeNet {
  readonly handlers = new Map<string, PacketHandler>();
  down = new Set<string>();
  delivered = 0;
  opener = async (address: string, port: number, encap: boolean): Promise<PacketBind> => {
    const key = `${address}|${port}`;
    const net = this;
    const bind: PacketBind = {
      transport: encap ? 'udp-encap' : 'udp', local: { address, port }, kinds: encap ? ['ike', 'esp', 'keepalive'] : ['ike'],
      send(kind, data, remote) {
        if (net.down.has(address) || net.down.has(remote.address)) return 'ok';
        const h = net.handlers.get(`${remote.address}|${remote.port}`);
        const copy = Uint8Array.from(data);
        if (h) queueMicrotask(() => { net.delivered++; h(kind, copy, { address, port }, { address: remote.address, port: remote.port }); });
        return 'ok';
      },
      onPacket(h) { net.handlers.set(key, h); },
      stats: emptyBindStats(),
      async close() { net.handlers.delete(key); },
    };
    return bind;
  };
}

interface Op { op: 'install' | 'delete'; id: number; spiIn?: number; spiOut?: number; encrIn?: string; encrOut?: string; policyKey?: string; words?: string }

class FakeDataplane implements DaemonService, Ikev2DataplaneApi {
  readonly name = 'dataplane';
  ops: Op[] = [];
  live = new Set<number>();
  private nextId = 1;
  readonly counters = new Map<number, { encapsPkts: number; decapsPkts: number }>();
  readonly sad = {
    get: (id: number) => {
      if (!this.live.has(id)) return undefined;
      let c = this.counters.get(id);
      if (!c) this.counters.set(id, (c = { encapsPkts: 0, decapsPkts: 0 }));
      return { counters: c };
    },
  };
  /** Pretends packets went out (encaps) / came in (decaps) on every live SA. */
  traffic(out: boolean, inb: boolean): void {
    for (const op of this.ops) {
      if (op.op !== 'install') continue;
      if (inb && this.live.has(op.id)) this.sad.get(op.id)!.counters.decapsPkts++;
      if (out && this.live.has(op.id + 1)) this.sad.get(op.id + 1)!.counters.encapsPkts++;
    }
  }
  acquire: ((a: Parameters<Parameters<Ikev2DataplaneApi['onAcquire']>[0]>[0]) => void) | undefined;
  async start(): Promise<void> {}
  apply(): void {}
  async stop(): Promise<void> {}
  onAcquire(fn: NonNullable<FakeDataplane['acquire']>): () => void { this.acquire = fn; return () => {}; }
  onExpire(): () => void { return () => {}; }
  installChildSa(spec: Parameters<Ikev2DataplaneApi['installChildSa']>[0]): { inboundId: number; outboundId: number } {
    const inboundId = this.nextId++;
    const outboundId = this.nextId++;
    this.live.add(inboundId).add(outboundId);
    const hex = (b?: Uint8Array): string => Buffer.from(b ?? []).toString('hex');
    this.ops.push({
      op: 'install', id: inboundId, spiIn: spec.inbound.espSpi!, spiOut: spec.outbound.espSpi!, encrIn: hex(spec.inbound.espCipherKey),
      encrOut: hex(spec.outbound.espCipherKey), policyKey: spec.policyKey, words: spec.transformWords.join(' '),
    });
    return { inboundId, outboundId };
  }
  deleteSa(id: number): boolean {
    const had = this.live.delete(id);
    if (had) this.ops.push({ op: 'delete', id });
    return had;
  }
}

async function configFrom(lines: string[]): Promise<Config> {
  const cfg = createConfig();
  const errors = await loadConfigText(lines.join('\n'), cfg, fakeSystem());
  if (errors.length > 0) throw new Error(errors.map((e) => `${e.line}: ${e.message}`).join('\n'));
  return cfg;
}

const suite = (extra: Partial<Parameters<typeof rampartIkev2Config>[0]['suite']> = {}) => ({
  ikeProposal: ['encryption aes-cbc-256', 'integrity sha256', 'group 14'], transformSet: 'esp-gcm 256', psk: PSK, lifetimeSec: 120, pfsGroup: 14, ...extra,
});

async function box(net: FakeNet, clock: () => number, me: string, peer: string, local: string, remote: string, extra: Partial<ReturnType<typeof suite>> = {}, lines: string[] = []) {
  const cfg = await configFrom([...rampartIkev2Config({
    iface: 'FastEthernet0/0', address: me, mask: '255.255.255.0', peer, suite: { ...suite(extra), acl: [`permit ip ${local} 0.0.0.255 ${remote} 0.0.0.255`] },
  }), ...lines]);
  const dp = new FakeDataplane();
  const svc = new Ikev2Service({ clock, tickMs: 60_000 });
  const sys = fakeSystem();
  const bus = new EventBus(clock);
  const ctx: ServiceContext = {
    board: { name: 'sim', model: 'sim', description: '', ports: ['FastEthernet0/0'], portMap: {}, stateDir: '/nonexistent', engines: ['software'] } as BoardProfile,
    system: sys, config: () => cfg, runtime: new RuntimeRegistry(sys.runtime), log: () => {}, ...busMembers(bus), binds: new BindRegistry(net.opener),
    service: <T extends DaemonService>(name: string) => (name === 'dataplane' ? dp as unknown as T : undefined),
  };
  await svc.start(ctx);
  svc.apply(cfg);
  return { cfg, dp, svc, sys, bus };
}

async function pump(n = 50): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

function acquire(b: Awaited<ReturnType<typeof box>>): void {
  b.dp.acquire!({
    iface: 'FastEthernet0/0',
    decision: { action: 'protect', entry: { mapName: 'CM', seq: 10 }, aceIndex: 0 } as never,
    packet: {} as never,
  });
}

t.test('config mapping: proposals, transform sets, selectors, identities, keyring', async (t) => {
  const cfg = await configFrom([
    ...rampartIkev2Config({ iface: 'FastEthernet0/0', address: A, mask: '255.255.255.0', peer: B, suite: { ...suite(), acl: ['deny ip host 10.1.0.9 any', 'permit ip 10.1.0.0 0.0.0.255 10.2.0.0 0.0.0.255', 'permit tcp 10.1.1.0 0.0.0.255 host 10.2.1.1 eq 443'] } }),
    'crypto ipsec transform-set TS2 esp-3des esp-md5-hmac', 'exit',
    'crypto ipsec transform-set TSAH ah-sha-hmac', 'exit',
    'crypto map CM 10', ' set transform-set TS1 TS2 TSAH', 'exit',
  ]);
  const m = mapIkev2Config(cfg);
  t.same(m.listenAddresses, [A]);
  t.equal(m.config.connections.length, 2, 'one connection per permit entry');
  const c = m.config.connections[0]!;
  t.equal(c.name, 'CM/10/1', 'named map/seq/ACL index (the SPD aceIndex)');
  t.same(c.ikeProposals, [{ name: 'PROP1', encryption: ['aes-cbc-256'], integrity: ['sha256'], dhGroups: [14] }]);
  t.same(c.childProposals.map((p) => [p.encryption, p.integrity]), [[['aes-gcm-256'], undefined], [['3des'], ['md5']]], 'transform sets in order; AH-only skipped');
  t.match(m.problems.join('\n'), /TSAH cannot be negotiated with IKEv2/);
  t.notMatch(m.problems.join('\n'), /keyring/, 'keyring present: no complaint');
  const cfgNoKr = await configFrom([...rampartIkev2Config({ iface: 'FastEthernet0/0', address: A, mask: '255.255.255.0', peer: B, suite: suite() }), 'crypto ikev2 profile PROF1', ' no keyring local', 'exit']);
  t.match(mapIkev2Config(cfgNoKr).problems.join('\n'), /crypto map CM 10: ikev2 profile PROF1 has no keyring local/, 'a profile without keyring is reported');
  t.same(c.localSelectors, [{ startAddress: '10.1.0.0', endAddress: '10.1.0.255' }]);
  t.same(c.remoteSelectors, [{ startAddress: '10.2.0.0', endAddress: '10.2.0.255' }]);
  t.equal(c.pfsGroup, 14);
  t.equal(c.childLifetimeSec, 120);
  t.same(c.localId, { type: 'ipv4', value: A });
  t.equal(c.matchRemoteId?.({ type: 'ipv4', value: B }), true);
  t.equal(c.matchRemoteId?.({ type: 'ipv4', value: '10.9.0.3' }), false, 'match identity remote address with a /32 mask');
  const c2 = m.config.connections[1]!;
  t.same(c2.remoteSelectors, [{ startAddress: '10.2.1.1', endAddress: '10.2.1.1', protocol: 6, startPort: 443, endPort: 443 }], 'protocol and port from the ACE');
  t.equal(m.meta.get('CM/10/1')!.policyKey.startsWith('CM/10|'), true);
  const psk = lookupPsk(cfg, 'PROF1', B);
  t.equal(new TextDecoder().decode(psk!.local), PSK);
  t.equal(psk!.source, 'keyring KR1 peer SITE-B');
  t.equal(lookupPsk(cfg, 'PROF1', '10.9.0.7'), undefined, 'no key for another address');
  t.same(m.config.policies, [{ name: 'POL1', proposals: [{ name: 'PROP1', encryption: ['aes-cbc-256'], integrity: ['sha256'], dhGroups: [14] }] }]);
  // without a policy: IOS's default proposal
  const cfg2 = await configFrom(['crypto ikev2 proposal X', ' encryption aes-cbc-128', ' integrity sha1', ' group 5', 'exit']);
  t.same(mapIkev2Config(cfg2).config.policies![0]!.proposals, [{ name: 'default', encryption: ['aes-cbc-128', '3des'], integrity: ['sha1', 'md5'], dhGroups: [5, 2] }], 'default policy -> default proposal');
  t.same(wordsForNegotiated('ENCR_AES_CBC_128', 'AUTH_HMAC_SHA2_256_128'), ['esp-aes', '128', 'esp-sha256-hmac']);
  t.same(wordsForNegotiated('ENCR_AES_GCM_16_256', undefined), ['esp-gcm', '256']);
  t.equal(wordsForNegotiated('ENCR_CHACHA20_POLY1305', undefined), undefined);
  t.same(childProposalFromSet(cfg.transformSets['TS2']!), { name: 'TS2', encryption: ['3des'], integrity: ['md5'] });
});

t.test('two services in one process: acquire, install, rekey without loss, clear, DPD', async (t) => {
  let now = 1_000;
  const clock = (): number => now;
  const net = new FakeNet();
  const a = await box(net, clock, A, B, '10.1.0.0', '10.2.0.0', { dpd: '10 2 periodic' });
  const b = await box(net, clock, B, A, '10.2.0.0', '10.1.0.0');
  t.teardown(async () => { await a.svc.stop(); await b.svc.stop(); });
  await pump();
  t.ok(net.handlers.has(`${A}|500`) && net.handlers.has(`${B}|4500`), 'both services bound 500 and 4500 through the registry');

  acquire(a);
  await pump(200);
  const ia = a.dp.ops.filter((o) => o.op === 'install');
  const ib = b.dp.ops.filter((o) => o.op === 'install');
  t.equal(ia.length, 1, 'initiator installed one SA pair');
  t.equal(ib.length, 1, 'responder installed one SA pair');
  t.equal(ia[0]!.spiOut, ib[0]!.spiIn, 'our outbound SPI is the peer inbound SPI');
  t.equal(ia[0]!.encrOut, ib[0]!.encrIn, 'and the keys agree');
  t.equal(ia[0]!.encrIn, ib[0]!.encrOut);
  t.equal(ia[0]!.words, 'esp-gcm 256');
  t.match(ia[0]!.policyKey!, /^CM\/10\|/, 'installed under the SPD policy key of the permit entry');
  const rows = a.sys.runtime.ikev2!.sas();
  t.equal(rows.length, 1);
  t.match(formatIkev2Sas(rows, true), /10\.9\.0\.1\/500 +10\.9\.0\.2\/500 +none\/none +READY[\s\S]*Encr: AES-CBC, keysize: 256, PRF: SHA256, Hash: SHA256, DH Grp:14, Auth sign: PSK, Auth verify: PSK[\s\S]*Life\/Active Time: 86400\/0 sec[\s\S]*Initiator of SA[\s\S]*DPD configured for 10 seconds, retry 2 \(periodic\)/);
  acquire(a);
  await pump(50);
  t.equal(a.dp.ops.filter((o) => o.op === 'install').length, 1, 'a second acquire for a covered flow starts nothing');

  // rekey before the 120 s lifetime (margin 10 %, jitter up to a third of it), with PFS
  for (let s = 0; s < 12; s++) {
    now += 10_000 - 1;
    a.svc.engine.tick();
    b.svc.engine.tick();
    await pump(60);
    if (a.dp.ops.filter((o) => o.op === 'install').length >= 2) break;
  }
  await pump(100);
  for (const [name, side] of [['initiator', a], ['responder', b]] as const) {
    const ops = side.dp.ops;
    const installs = ops.map((o, i) => [o, i] as const).filter(([o]) => o.op === 'install');
    t.ok(installs.length >= 2, `${name}: the child was rekeyed (${installs.length} installs)`);
    const firstInbound = installs[0]![0].id;
    const delIdx = ops.findIndex((o) => o.op === 'delete' && o.id === firstInbound);
    t.ok(delIdx > installs[1]![1], `${name}: the old inbound SA is deleted only after the new pair is installed`);
  }
  t.ok(now < 1_000 + 120_000, `rekeyed before the lifetime ended (at ${(now - 1_000) / 1000} s)`);

  // clear crypto sa (the data plane's command, wrapped): child Deletes reach the peer, the IKE SA stays
  const rt = a.sys.runtime as { clearCryptoSa?: (f: { kind: 'all' } | { kind: 'peer'; peer: string }) => number };
  t.type(rt.clearCryptoSa, 'function', 'the service wraps clearCryptoSa');
  rt.clearCryptoSa!({ kind: 'peer', peer: B });
  await pump(100);
  t.equal(b.dp.live.size, 0, 'clear crypto sa peer B: the peer removed its child SAs after our Delete');
  t.equal(a.dp.live.size, 0, 'and so did we');
  t.equal(a.svc.engine.listIkeSas().length, 1, 'the IKE SA stays (clear crypto sa clears IPsec SAs)');
  acquire(a);
  await pump(200);
  t.equal(a.dp.live.size, 2, 'traffic creates a new child on the existing IKE SA');
  t.equal(a.svc.engine.listIkeSas().length, 1, 'without a new IKE SA');

  // clear crypto ikev2 sa: the Delete reaches the peer, both remove their SAs
  t.equal(a.sys.runtime.ikev2!.clearSas(), 1);
  await pump(100);
  t.equal(a.dp.live.size, 0, 'initiator removed its SAs');
  t.equal(b.dp.live.size, 0, 'responder removed its SAs after the Delete');
  t.equal(b.svc.engine.listIkeSas().length, 0, 'responder has no IKE SA left');

  // DPD: the peer goes silent; periodic DPD (10 s, retries) removes the SAs
  acquire(a);
  await pump(200);
  t.equal(a.dp.live.size, 2, 'tunnel back up on traffic');
  net.down.add(B);
  for (let s = 0; s < 40 && a.svc.engine.listIkeSas().length > 0; s++) {
    now += 2_000;
    a.svc.engine.tick();
    await pump(10);
  }
  t.equal(a.svc.engine.listIkeSas().length, 0, 'DPD declared the peer dead');
  t.equal(a.dp.live.size, 0, 'and its SAs were removed from the data plane');
  t.match(a.svc.events.map((e) => e.type === 'ike-down' ? e.reason : '').join(','), /dpd-timeout|peer-timeout/);
  net.down.delete(B);
  // the peer still holds its stale SA; traffic re-initiates and the peer accepts the new SA
  now += 11_000;
  acquire(a);
  await pump(200);
  t.equal(a.svc.engine.listIkeSas().filter((s) => s.state === 'established').length, 1, 'traffic re-initiated the tunnel');
  const sess = a.svc.sessions();
  t.equal(sess[0]?.peer, B, 'show crypto session source: the peer');
  t.equal(sess[0]?.ikeSas[0]?.version, 'IKEv2');
  t.equal(sess[0]?.flows[0]?.text, 'permit ip 10.1.0.0/255.255.255.0 10.2.0.0/255.255.255.0', 'flow text as IOS prints it');
});

t.test('on-demand DPD (IOS default mode): quiet while ESP comes back, a liveness check when it stops', async (t) => {
  let now = 5_000;
  const clock = (): number => now;
  const net = new FakeNet();
  const a = await box(net, clock, A, B, '10.1.0.0', '10.2.0.0', { dpd: '10 2 on-demand' });
  const b = await box(net, clock, B, A, '10.2.0.0', '10.1.0.0');
  t.teardown(async () => { await a.svc.stop(); await b.svc.stop(); });
  await pump();
  acquire(a);
  await pump(200);
  t.equal(a.dp.live.size, 2, 'tunnel up');
  net.down.add(B); // the peer is gone, but we pretend its ESP still arrives
  for (let s = 0; s < 15; s++) {
    now += 2_000;
    a.dp.traffic(true, true);
    a.svc.watchTraffic();
    a.svc.engine.tick();
    await pump(10);
  }
  t.equal(a.svc.engine.listIkeSas().length, 1, 'no DPD while inbound ESP flows (30 s)');
  let s = 0;
  for (; s < 30 && a.svc.engine.listIkeSas().length > 0; s++) {
    now += 2_000;
    a.dp.traffic(true, false);
    a.svc.watchTraffic();
    a.svc.engine.tick();
    await pump(10);
  }
  t.equal(a.svc.engine.listIkeSas().length, 0, `outbound only: on-demand DPD found the peer dead after ${s * 2} s`);
  t.ok(s * 2 >= 10, 'not before the DPD interval');
  t.equal(a.dp.live.size, 0, 'SAs removed');
});

t.test('several set peer: the next peer is tried when the first does not answer', async (t) => {
  let now = 5_000;
  const clock = (): number => now;
  const net = new FakeNet();
  const DEAD = '10.9.0.9';
  const a = await box(net, clock, A, B, '10.1.0.0', '10.2.0.0', {}, [
    'crypto map CM 10', ` no set peer ${B}`, ` set peer ${DEAD}`, ` set peer ${B}`, 'exit',
    'crypto ikev2 profile PROF1', ' no match identity remote address 10.9.0.2 255.255.255.255', ' match identity remote address 10.9.0.0 255.255.255.0', 'exit',
  ]);
  const b = await box(net, clock, B, A, '10.2.0.0', '10.1.0.0');
  t.teardown(async () => { await a.svc.stop(); await b.svc.stop(); });
  await pump();
  const conns = a.svc.engine.listIkeSas();
  t.equal(conns.length, 0);
  acquire(a);
  await pump(50);
  t.equal(a.svc.engine.listIkeSas()[0]?.remoteAddress, DEAD, 'first attempt goes to the first peer');
  for (let s = 0; s < 80 && !a.svc.events.some((e) => e.type === 'negotiation-failed'); s++) {
    now += 1_000;
    a.svc.engine.tick();
    await pump(5);
  }
  t.ok(a.svc.events.some((e) => e.type === 'negotiation-failed' && e.diagnosis.kind === 'TIMEOUT'), 'the first peer timed out');
  acquire(a);
  await pump(200);
  const up = a.svc.engine.listIkeSas().filter((x) => x.state === 'established');
  t.equal(up[0]?.remoteAddress, B, 'the next acquire went to the second peer');
  t.equal(a.dp.live.size, 2, 'and its SAs were installed');
  t.match(a.dp.ops[0]?.policyKey ?? '', /^CM\/10\|/, 'under the same policy key');
});

t.test('debug crypto ipsec: SA creation lines carry both SPIs; a condition for another peer hides them', async (t) => {
  const now = 1_000;
  const clock = (): number => now;
  const net = new FakeNet();
  const a = await box(net, clock, A, B, '10.1.0.0', '10.2.0.0');
  const b = await box(net, clock, B, A, '10.2.0.0', '10.1.0.0');
  t.teardown(async () => { await a.svc.stop(); await b.svc.stop(); });
  const logA = new LoggingService(a.bus, { bootMs: 0 });
  const logB = new LoggingService(b.bus, { bootMs: 0 });
  for (const l of [logA, logB]) l.flags.set('ipsec', 'all');
  logA.conditions.add({ type: 'spi', value: '1' });
  logA.conditions.setUnmatched('ipsec', false);
  logB.conditions.add({ type: 'peer-ipv4', value: '10.99.0.1' }); // no live peer matches
  const seenA: number[][] = [];
  a.bus.subscribe((e) => { if (e.kind === 'debug' && e.debug === 'ipsec') seenA.push([...(e.context.spis ?? [])]); });
  await pump();
  acquire(a);
  await pump(200);
  const ia = a.dp.ops.filter((o) => o.op === 'install')[0]!;
  t.ok(ia, 'the pair came up');
  t.same(seenA, [[ia.spiIn, ia.spiOut]], 'the line carries the inbound and the outbound SPI');
  t.equal(logA.bufferLines().filter((l) => l.includes('IPSEC')).length, 0, 'spi 1 matches neither');
  t.match(logA.bufferLines().join('\n'), /%CRYPTO-5-SESSION_STATUS: Crypto tunnel is UP. Peer 10\./, 'the session message is in the buffer');
  t.equal(logB.bufferLines().filter((l) => l.includes('IPSEC')).length, 0, 'a peer condition for another peer hides it');
  logA.conditions.reset();
  logA.conditions.add({ type: 'spi', value: String(ia.spiOut) });
  const ev = { kind: 'debug' as const, debug: 'ipsec' as const, error: false, subsystem: 'CHD' as const, level: 7 as const, text: 'x', timeMs: 0, context: { spis: seenA[0]! } };
  t.ok(logA.conditions.passes(ev), 'the outbound SPI matches the flow');
});
