// `debug crypto engine`: the software crypto engine's lines reach the log buffer through the
// real logging service: IPsec SAs created from keys and deleted (conn id, SPI, transform,
// peer), refused packets for `debug crypto engine error`, and conditional debug by SPI,
// peer and `unmatched engine`. No key material in any line.
import t, { type Test as Tap } from 'tap';
import { LoggingService } from '../../firmware/mgmt/logging-service.js';
import { KEYS } from '../dataplane-e2e/rampart-pair.js';
import { dataplaneBox, icmp } from './dataplane-box.js';

let now = Date.UTC(2026, 11, 7, 12, 0, 0);

async function boxWithLogging(t: Tap) {
  const b = await dataplaneBox('B', () => now);
  const logging = new LoggingService(b.bus, { bootMs: now });
  t.teardown(async () => { logging.close(); await b.svc.stop(); });
  const lines = () => logging.bufferLines().join('\n');
  return { b, logging, lines };
}

t.test('debug crypto engine: SA creation and deletion with conn id and SPI', async (t) => {
  const { b, logging, lines } = await boxWithLogging(t);
  logging.flags.set('engine', 'all');
  await b.configure();
  const out = lines();
  t.match(out, /CryptoEngine0: create IPsec SA \(by keys\): conn id (\d+), inbound spi 0x1001\(4097\), esp-aes 256 esp-sha-hmac, peer 172\.16\.0\.1/, 'inbound SA');
  t.match(out, /CryptoEngine0: create IPsec SA \(by keys\): conn id \d+, outbound spi 0x2002\(8194\), esp-aes 256 esp-sha-hmac, peer 172\.16\.0\.1/, 'outbound SA');
  t.match(out, /^\*\w{3} [ \d]\d \d\d:\d\d:\d\d\.\d{3}: CryptoEngine0:/m, 'debug timestamps');
  const connIn = Number(/conn id (\d+), inbound spi 0x1001/.exec(out)![1]);
  t.match(await b.cli(['show crypto ipsec sa']), new RegExp(`conn id: ${connIn},`), 'the conn id show crypto ipsec sa prints');
  await b.cli(['clear crypto sa']);
  t.match(lines(), /CryptoEngine0: delete IPsec SA \(cleared\): conn id \d+, inbound spi 0x1001\(4097\), peer 172\.16\.0\.1/, 'deletion');
  t.notMatch(lines(), new RegExp(`${KEYS.aes256.slice(0, 16)}|${KEYS.sha1.slice(0, 16)}`, 'i'), 'no key material');
});

t.test('debug crypto engine error: refused packets only', async (t) => {
  const { b, logging, lines } = await boxWithLogging(t);
  const a = await dataplaneBox('A', () => now);
  t.teardown(() => a.svc.stop());
  await a.configure();
  logging.flags.set('engine', 'error');
  await b.configure();
  t.notMatch(lines(), /create IPsec SA/, 'error mode: no creation lines');
  a.svc.pipeline.outbound(icmp('10.1.0.2', '10.2.0.2'));
  b.svc.pipeline.inbound(Uint8Array.from(a.wire[0]!));
  b.svc.pipeline.inbound(Uint8Array.from(a.wire[0]!));
  t.match(lines(), /CryptoEngine0: decrypt failed \(replay\): conn id \d+, spi 0x1001\(4097\), seqno 1, peer 172\.16\.0\.1/, 'the replayed packet');
  logging.flags.set('engine', undefined);
  b.svc.pipeline.inbound(Uint8Array.from(a.wire[0]!));
  t.equal(lines().match(/decrypt failed/g)?.length, 1, 'debug off: no more lines');
});

t.test('conditional debug on engine lines: spi (either direction), peer, unmatched engine', async (t) => {
  const { b, logging, lines } = await boxWithLogging(t);
  logging.flags.set('engine', 'all');
  logging.conditions.add({ type: 'spi', value: '8194' });
  await b.configure();
  t.match(lines(), /inbound spi 0x1001/, 'spi of the outbound SA: the flow\'s lines in both directions');
  logging.clearBuffer();
  logging.conditions.reset();
  logging.conditions.add({ type: 'spi', value: '4097' });
  await b.cli(['clear crypto sa']);
  t.match(lines(), /delete IPsec SA \(cleared\): conn id \d+, outbound spi 0x2002/, 'the inbound SPI selects the outbound SA\'s delete too');
  t.match(lines(), /delete IPsec SA \(cleared\): conn id \d+, inbound spi 0x1001/, 'and its own');
  logging.clearBuffer();
  logging.conditions.reset();
  logging.conditions.add({ type: 'spi', value: '12345' });
  await b.configure();
  await b.cli(['clear crypto sa']);
  t.equal(lines(), '', 'another SPI: nothing');
  logging.conditions.reset();
  logging.conditions.add({ type: 'peer-ipv4', value: '172.16.0.99' });
  b.bus.logger('ESP').debug('engine', 'CryptoEngine0: context-free line');
  t.equal(lines(), '', 'a line without context: hidden');
  logging.conditions.setUnmatched('engine', true);
  b.bus.logger('ESP').debug('engine', 'CryptoEngine0: context-free line');
  t.match(lines(), /context-free line/, 'shown with unmatched engine');
});
