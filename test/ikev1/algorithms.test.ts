// Every phase-1 suite of the issue (encryption des/3des/aes128/192/256, hash md5/sha/sha256/384/512,
// DH groups 1 2 5 14 15 16 19 20 21 24) negotiates between two engines and yields matching keys.
import t from 'tap';
import { Net, entry, ofType, pol, sel } from './harness.js';
import type { TransformSet } from '../../firmware/ike/v1/policy.js';
import type { IkeEncryptionName, IkeHashName } from '../../firmware/ike/v1/algorithms.js';

const A = '10.0.0.1';
const B = '10.0.0.2';

function run(enc: IkeEncryptionName, hash: IkeHashName, group: number, ts: TransformSet, pfs?: number): { ok: boolean; net: Net } {
  const net = new Net();
  const a = net.add({ address: A, policies: [pol(10, enc, hash, group)], keys: [{ address: B, key: 'k' }], entries: [] });
  const b = net.add({ address: B, policies: [pol(10, enc, hash, group)], keys: [{ address: A, key: 'k' }], entries: [entry(A, '192.168.2.0/24', '192.168.1.0/24', [ts], pfs ? { pfsGroup: pfs } : {})] });
  a.engine.initiate({ local: { address: A, port: 500 }, remote: { address: B, port: 500 }, quickMode: { localSel: sel('192.168.1.0/24'), remoteSel: sel('192.168.2.0/24'), transformSets: [ts], ...(pfs ? { pfsGroup: pfs } : {}), lifetimeSec: 3600, lifetimeKb: 4608000 } });
  net.pump();
  const ua = ofType(a.events, 'ipsec-up')[0]?.sa;
  const ub = ofType(b.events, 'ipsec-up')[0]?.sa;
  const ok = !!ua && !!ub && Buffer.from(ua.outbound.encKey).equals(Buffer.from(ub.inbound.encKey)) && Buffer.from(ua.inbound.authKey).equals(Buffer.from(ub.outbound.authKey));
  return { ok, net };
}

const esp: TransformSet = { name: 's', esp: { cipher: 'esp-aes', keyLenBits: 128, integrity: 'sha' }, mode: 'tunnel' };

t.test('phase-1 encryption x hash', async (t) => {
  for (const enc of ['des', '3des', 'aes128', 'aes192', 'aes256'] as const) {
    for (const hash of ['md5', 'sha', 'sha256', 'sha384', 'sha512'] as const) {
      t.ok(run(enc, hash, 2, esp).ok, `${enc}/${hash}/group2`);
    }
  }
});

t.test('DH groups for phase 1 and PFS', async (t) => {
  for (const g of [1, 2, 5, 14, 15, 16, 19, 20, 21, 24]) {
    t.ok(run('aes128', 'sha', g, esp, g).ok, `group ${g} (phase 1 and PFS)`);
  }
});

t.test('transform sets: esp ciphers/integrity, AH+ESP, transport mode', async (t) => {
  const sets: TransformSet[] = [
    { name: 'des', esp: { cipher: 'esp-des', integrity: 'md5' }, mode: 'tunnel' },
    { name: 'a192', esp: { cipher: 'esp-aes', keyLenBits: 192, integrity: 'sha384' }, mode: 'tunnel' },
    { name: 'a256', esp: { cipher: 'esp-aes', keyLenBits: 256, integrity: 'sha512' }, mode: 'transport' },
    { name: 'null', esp: { cipher: 'esp-null', integrity: 'sha' }, mode: 'tunnel' },
    { name: 'noauth', esp: { cipher: 'esp-3des' }, mode: 'tunnel' },
    { name: 'ah', ah: { integrity: 'sha256' }, esp: { cipher: 'esp-aes', keyLenBits: 128, integrity: 'sha' }, mode: 'tunnel' },
    { name: 'ahonly', ah: { integrity: 'md5' }, mode: 'transport' },
  ];
  for (const ts of sets) {
    const r = run('aes128', 'sha', 2, ts);
    t.ok(r.ok || (ts.esp === undefined && ofType(r.net.peers.get(A)!.events, 'ipsec-up').length === 1), `transform set ${ts.name}`);
    const ups = ofType(r.net.peers.get(A)!.events, 'ipsec-up').map((e) => e.sa.protocol).sort();
    t.same(ups, [...(ts.ah ? ['ah'] : []), ...(ts.esp ? ['esp'] : [])].sort(), `${ts.name}: SAs per protocol`);
    const ah = ofType(r.net.peers.get(A)!.events, 'ipsec-up').find((e) => e.sa.protocol === 'ah')?.sa;
    const ahB = ofType(r.net.peers.get(B)!.events, 'ipsec-up').find((e) => e.sa.protocol === 'ah')?.sa;
    if (ah && ahB) t.same(ah.outbound.authKey, ahB.inbound.authKey, `${ts.name}: AH keys match`);
  }
});

t.test('phase-1 lifetime expiry removes the ISAKMP SA', async (t) => {
  const net = new Net();
  const a = net.add({ address: A, policies: [pol(10, 'aes128', 'sha', 2, 180)], keys: [{ address: B, key: 'k' }], entries: [] });
  const b = net.add({ address: B, policies: [pol(10, 'aes128', 'sha', 2, 180)], keys: [{ address: A, key: 'k' }], entries: [] });
  a.engine.initiate({ local: { address: A, port: 500 }, remote: { address: B, port: 500 } });
  net.pump();
  t.equal(ofType(a.events, 'phase1-up').length, 1);
  net.advance(179_000, 1000);
  t.equal(ofType(a.events, 'phase1-down').length, 0);
  net.advance(2000, 1000);
  t.match(ofType(a.events, 'phase1-down')[0], { reason: 'expired' });
  t.match(ofType(b.events, 'phase1-down')[0], { reason: 'expired' });
  t.equal(a.engine.nextTimerAt(), undefined, 'no timers left');
});
