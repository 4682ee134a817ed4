// IOS system messages for replayed and forged packets and for IKE authentication failures,
// each behind IOS's rate limit: %CRYPTO-4-PKT_REPLAY_ERR (one a minute per SA),
// %CRYPTO-4-RECVD_PKT_MAC_ERR (one per 30 s per SA), %CRYPTO-4-IKMP_BAD_MESSAGE (a wrong
// pre-shared key, one per 30 s per peer). Two data planes back to back in one process for
// the packet messages; two Rampart daemons in namespaces with different keys for IKE.
import t from 'tap';
import { ikeAuthFailureMessages, MAC_ERR_INTERVAL_MS, REPLAY_ERR_INTERVAL_MS } from '../../firmware/daemon/system-messages.js';
import { EventBus, type MessageEvent } from '../../firmware/lib/event-bus.js';
import { dataplaneBox, icmp } from './dataplane-box.js';
import { isRoot, hasCommand } from '../lib/netns.js';
import { ping } from '../lib/site-to-site.js';
import { gatewayConfig, rampartPairLab, sleep, waitForText } from '../ikev1-interop/lab.js';

let now = 1_000_000;

t.test('replay and MAC failures: one message per SA per IOS interval', async (t) => {
  const a = await dataplaneBox('A', () => now);
  const b = await dataplaneBox('B', () => now);
  t.teardown(async () => { await a.svc.stop(); await b.svc.stop(); });
  await a.configure();
  await b.configure();
  a.svc.pipeline.outbound(icmp('10.1.0.2', '10.2.0.2'));
  const first = a.wire[0]!;
  b.svc.pipeline.inbound(Uint8Array.from(first));
  t.equal(b.delivered(), 1, 'the genuine packet passes');
  t.equal(b.messages.length, 0, 'and says nothing');

  for (let i = 0; i < 200; i++) b.svc.pipeline.inbound(Uint8Array.from(first));
  const replays = () => b.messages.filter((m) => m.mnemonic === 'PKT_REPLAY_ERR');
  t.equal(replays().length, 1, '200 replays, one message');
  const r = replays()[0]!;
  t.match(r.text, /^decrypt: replay check failed connection id=\d+, sequence number=1$/, 'IOS text with the packet\'s sequence number');
  t.equal(r.level, 4);
  const connId = Number(/connection id=(\d+)/.exec(r.text)![1]);
  t.match(await b.cli(['show crypto ipsec sa']), new RegExp(`conn id: ${connId},`), 'the conn id is the one show crypto ipsec sa prints');
  t.same(r.context.peer, '172.16.0.1', 'context: the peer');
  t.same(r.context.connIds, [connId], 'context: the conn id');
  t.equal(r.context.spis?.length, 1, 'context: the SPI');

  const forged = (seq: number) => {
    const p = Uint8Array.from(first);
    new DataView(p.buffer).setUint32(24, seq);
    return p;
  };
  for (let i = 0; i < 100; i++) b.svc.pipeline.inbound(forged(100 + i));
  const macs = () => b.messages.filter((m) => m.mnemonic === 'RECVD_PKT_MAC_ERR');
  t.equal(macs().length, 1, '100 forged packets, one message');
  t.match(macs()[0]!.text, new RegExp(`^decrypt: mac verify failed for connection id=${connId} local=172\\.16\\.0\\.2 remote=172\\.16\\.0\\.1 spi=[0-9A-F]{8} seqno=00000064$`), 'IOS 15 text');

  now += MAC_ERR_INTERVAL_MS;
  b.svc.pipeline.inbound(forged(300));
  b.svc.pipeline.inbound(Uint8Array.from(first));
  t.equal(macs().length, 2, 'the next MAC message after 30 s');
  t.equal(replays().length, 1, 'but no replay message before a minute');
  now += REPLAY_ERR_INTERVAL_MS - MAC_ERR_INTERVAL_MS;
  b.svc.pipeline.inbound(Uint8Array.from(first));
  t.equal(replays().length, 2, 'the next replay message after a minute');
  t.equal(b.delivered(), 1, 'nothing forged or replayed was delivered');
});

t.test('IKE authentication failures: one message per peer per 30 s', async (t) => {
  let clock = 0;
  const bus = new EventBus(() => clock);
  const seen: MessageEvent[] = [];
  bus.subscribe((e) => { if (e.kind === 'message') seen.push(e); });
  const m = ikeAuthFailureMessages(bus.logger('IKE'), () => clock);
  for (let i = 0; i < 50; i++) m.ikev1('192.0.2.7', 3);
  m.ikev1('192.0.2.8', 0);
  m.ikev2('192.0.2.7', 9);
  t.same(seen.map((e) => `%${e.facility}-${e.level}-${e.mnemonic}: ${e.text}`), [
    '%CRYPTO-4-IKMP_BAD_MESSAGE: IKE message from 192.0.2.7 failed its sanity check or is malformed',
    '%CRYPTO-4-IKMP_BAD_MESSAGE: IKE message from 192.0.2.8 failed its sanity check or is malformed',
    '%IKEV2-3-NEG_ABORT: Negotiation aborted due to ERROR: Failed to authenticate the IKE SA with peer 192.0.2.7',
  ]);
  t.same(seen[0]!.context, { peer: '192.0.2.7', connIds: [3] });
  clock += 30_000;
  m.ikev1('192.0.2.7', 4);
  t.equal(seen.length, 4, 'again after the interval');
});

const skip = !isRoot() ? 'needs root: network namespaces' : !hasCommand('ip') ? 'needs iproute2' : undefined;

t.test('a wrong pre-shared key: %CRYPTO-4-IKMP_BAD_MESSAGE on the responder, no key anywhere', { skip, timeout: 300_000 }, async (t) => {
  const { lab, gwA, gwB } = await rampartPairLab(t, 'lg-psk');
  const common = { policy: ['encryption aes 256', 'hash sha', 'group 14'], transform: 'esp-aes 256 esp-sha-hmac' };
  t.notMatch(await gwA.configure([...gatewayConfig({ ...common, psk: 'key-of-A-1234', hostname: 'gwA', wan: '172.16.0.1', lan: '10.1.0.1', lanNet: '10.1.0.0', remoteLanNet: '10.2.0.0', peers: ['172.16.0.2'] }), 'logging buffered 16384 debugging']), /\[.*\] %/);
  t.notMatch(await gwB.configure([...gatewayConfig({ ...common, psk: 'key-of-B-5678', hostname: 'gwB', wan: '172.16.0.2', lan: '10.2.0.1', lanNet: '10.2.0.0', remoteLanNet: '10.1.0.0', peers: ['172.16.0.1'] }), 'logging buffered 16384 debugging']), /\[.*\] %/);
  await gwB.exec('debug crypto isakmp');
  await gwA.con.waitApplied();
  await gwB.con.waitApplied();
  const end = Date.now() + 40_000;
  let log = '';
  while (Date.now() < end && !/IKMP_BAD_MESSAGE/.test(log)) {
    await ping(lab, 'hostA', '10.2.0.2', { count: 1, timeoutSec: 1 });
    log = await gwB.exec('show logging');
  }
  t.match(log, /%CRYPTO-4-IKMP_BAD_MESSAGE: IKE message from 172\.16\.0\.1 failed its sanity check or is malformed/, 'the responder reports the bad message');
  t.match(log, /%CRYPTO-6-IKMP_MODE_FAILURE: Processing of Main mode failed with peer at 172\.16\.0\.1/, 'and the failed main mode');
  await sleep(3000);
  await ping(lab, 'hostA', '10.2.0.2', { count: 1, timeoutSec: 1 });
  log = await waitForText(() => gwB.exec('show logging'), /IKMP_MODE_FAILURE[^]*IKMP_MODE_FAILURE/, 10_000);
  t.equal(log.match(/IKMP_BAD_MESSAGE/g)?.length, 1, 'a second failure within 30 s: no second line');
  const all = log + (await gwA.exec('show logging')) + gwA.proc.output + gwB.proc.output;
  t.notMatch(all, /key-of-A-1234|key-of-B-5678/, 'no key in the buffers or the daemons\' output');
});
