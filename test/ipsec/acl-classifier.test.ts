import t from 'tap';
import {
  AclClassifier, AclCompileError, AclParseError, aclEntryMatches, formatAclEntry, naiveFirstMatch, parseAclEntry,
  type AclEntry, type PortOp,
} from '../../firmware/ipsec/acl-classifier.js';
import { makePacketKey, prefixAddr, type AddrMask, type Family, type PacketKey } from '../../firmware/ipsec/selector.js';

// small deterministic PRNG (mulberry32) so failures reproduce
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const BASE4 = [0x0a000000, 0x0a010000, 0xc0a80000, 0xac100000]; // 10/8, 10.1/16, 192.168/16, 172.16/16

function randomAddr4(r: () => number): bigint {
  // addresses concentrated in a few /20s so random entries and packets collide often
  return BigInt((BASE4[Math.floor(r() * 4)]! | Math.floor(r() * 4096)) >>> 0);
}

function randomMask(r: () => number, family: Family, value: bigint): AddrMask {
  const bits = family === 4 ? 32 : 128;
  const all = (1n << BigInt(bits)) - 1n;
  const c = r();
  let wildcard: bigint;
  if (c < 0.1) wildcard = all; // any
  else if (c < 0.3) wildcard = 0n; // host
  else if (c < 0.8) {
    const len = bits - [0, 4, 8, 12, 16, 24][Math.floor(r() * 6)]!;
    wildcard = (1n << BigInt(bits - len)) - 1n;
  } else {
    // non-contiguous: a few random don't-care bits in the low 16
    wildcard = 0n;
    for (let k = 0; k < 4; k++) wildcard |= 1n << BigInt(Math.floor(r() * 16));
  }
  return { kind: 'mask', family, addr: value & ~wildcard & all, wildcard };
}

function randomPortOp(r: () => number): PortOp | undefined {
  const c = r();
  const p = 20 + Math.floor(r() * 8);
  if (c < 0.4) return undefined;
  if (c < 0.6) return { op: 'eq', port: p };
  if (c < 0.7) return { op: 'neq', port: p };
  if (c < 0.8) return { op: 'lt', port: p };
  if (c < 0.9) return { op: 'gt', port: p };
  return { op: 'range', lo: p, hi: p + Math.floor(r() * 4) };
}

function v6Of(v4: bigint): bigint {
  return (0x20010db8n << 96n) | v4;
}

function randomEntry(r: () => number, family: Family): AclEntry {
  const conv = (v: bigint) => (family === 4 ? v : v6Of(v));
  const src = randomMask(r, family, conv(randomAddr4(r)));
  const dst = randomMask(r, family, conv(randomAddr4(r)));
  const c = r();
  const proto = c < 0.4 ? 0 : c < 0.7 ? 6 : c < 0.9 ? 17 : 1;
  const e: { -readonly [K in keyof AclEntry]: AclEntry[K] } = { action: r() < 0.7 ? 'permit' : 'deny', proto, src, dst };
  if (proto === 1 && r() < 0.5) e.icmp = r() < 0.5 ? { type: r() < 0.5 ? 0 : 8 } : { type: r() < 0.5 ? 0 : 8, code: r() < 0.5 ? 0 : 1 };
  if (proto === 6 || proto === 17) {
    const sp = randomPortOp(r);
    const dp = randomPortOp(r);
    if (sp) e.srcPort = sp;
    if (dp) e.dstPort = dp;
  }
  return e;
}

function randomPacket(r: () => number, family: Family): PacketKey {
  const src = randomAddr4(r);
  const dst = randomAddr4(r);
  const c = r();
  const proto = c < 0.5 ? 6 : c < 0.85 ? 17 : c < 0.95 ? 1 : 47;
  const ports = proto === 6 || proto === 17;
  const toText = (v: bigint) => {
    const n = Number(v);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  };
  const a = family === 4 ? toText(src) : `2001:db8::${(Number(src) >>> 16).toString(16)}:${(Number(src) & 0xffff).toString(16)}`;
  const b = family === 4 ? toText(dst) : `2001:db8::${(Number(dst) >>> 16).toString(16)}:${(Number(dst) & 0xffff).toString(16)}`;
  if (proto === 1) {
    const tc = ((r() < 0.5 ? 0 : 8) << 8) | (r() < 0.5 ? 0 : 1);
    return makePacketKey(a, b, proto, tc, tc);
  }
  return makePacketKey(a, b, proto, ports ? 18 + Math.floor(r() * 12) : 0, ports ? 18 + Math.floor(r() * 12) : 0);
}

t.test('compiled classifier agrees with the naive linear matcher (IPv4, random ACLs incl. non-contiguous wildcards)', async (t) => {
  const r = rng(1234);
  let mismatches = 0;
  let matched = 0;
  let checks = 0;
  let prefiltered = 0;
  for (let acl = 0; acl < 40; acl++) {
    const n = 1 + Math.floor(r() * 300);
    const entries = Array.from({ length: n }, () => randomEntry(r, 4));
    const c = new AclClassifier(entries);
    if (c.stats().prefilter) prefiltered++;
    for (let p = 0; p < 300; p++) {
      const k = randomPacket(r, 4);
      const from = r() < 0.3 ? Math.floor(r() * n) : 0;
      const want = naiveFirstMatch(entries, k, from);
      const got = c.match(k, from);
      checks++;
      if (want >= 0) matched++;
      if (want !== got) mismatches++;
    }
  }
  t.equal(mismatches, 0, `${checks} lookups agree`);
  t.ok(prefiltered > 5 && prefiltered < 40, `both lookup paths exercised (${prefiltered}/40 ACLs with the mask pre-filter)`);
  // the test is only meaningful when a good share of packets match something
  t.ok(matched > checks * 0.2, `enough packets matched (${matched}/${checks})`);
});

t.test('compiled classifier agrees with the naive matcher (IPv6 and mixed families)', async (t) => {
  const r = rng(99);
  let mismatches = 0;
  let matched = 0;
  for (let acl = 0; acl < 20; acl++) {
    const entries = Array.from({ length: 1 + Math.floor(r() * 200) }, () => randomEntry(r, r() < 0.5 ? 6 : 4));
    const c = new AclClassifier(entries);
    for (let p = 0; p < 300; p++) {
      const k = randomPacket(r, r() < 0.5 ? 6 : 4);
      const want = naiveFirstMatch(entries, k);
      if (want >= 0) matched++;
      if (c.match(k) !== want) mismatches++;
    }
  }
  t.equal(mismatches, 0);
  t.ok(matched > 500, `enough matches (${matched})`);
});

t.test('first match in ACL order, not most specific', async (t) => {
  const entries = [
    parseAclEntry('deny ip 10.0.0.0 0.255.255.255 any'),
    parseAclEntry('permit ip host 10.1.1.1 host 172.16.1.1'),
    parseAclEntry('permit tcp any any eq 23'),
  ];
  const c = new AclClassifier(entries);
  t.equal(c.match(makePacketKey('10.1.1.1', '172.16.1.1', 6, 1000, 23)), 0);
  t.equal(c.match(makePacketKey('11.1.1.1', '172.16.1.1', 6, 1000, 23)), 2);
  t.equal(c.match(makePacketKey('11.1.1.1', '172.16.1.1', 6, 1000, 22)), -1);
  t.equal(c.match(makePacketKey('10.1.1.1', '172.16.1.1', 6, 1000, 23), 1), 1, 'fromIndex skips earlier entries');
});

t.test('non-contiguous wildcard masks', async (t) => {
  // even third octet only: 10.0.0.0 0.0.254.255
  const e = parseAclEntry('permit ip 10.0.0.0 0.0.254.255 any');
  const c = new AclClassifier([e]);
  t.equal(c.match(makePacketKey('10.0.2.9', '1.1.1.1')), 0);
  t.equal(c.match(makePacketKey('10.0.254.9', '1.1.1.1')), 0);
  t.equal(c.match(makePacketKey('10.0.3.9', '1.1.1.1')), -1, 'bit 0 of the third octet is compared');
  t.equal(c.match(makePacketKey('10.0.1.9', '1.1.1.1')), -1);
  t.equal(c.match(makePacketKey('10.1.2.9', '1.1.1.1')), -1, 'second octet is compared');
  const odd = new AclClassifier([parseAclEntry('permit ip 10.0.1.0 0.0.254.255 any')]);
  t.equal(odd.match(makePacketKey('10.0.2.9', '1.1.1.1')), -1, 'odd third octets only');
  t.equal(odd.match(makePacketKey('10.0.3.9', '1.1.1.1')), 0);
  t.equal(odd.match(makePacketKey('10.1.3.9', '1.1.1.1')), -1);
});

t.test('port operators', async (t) => {
  const cases: [string, number, boolean][] = [
    ['permit tcp any any eq 23', 23, true], ['permit tcp any any eq 23', 24, false],
    ['permit tcp any any neq 23', 23, false], ['permit tcp any any neq 23', 80, true],
    ['permit tcp any any lt 1024', 1023, true], ['permit tcp any any lt 1024', 1024, false],
    ['permit tcp any any gt 1023', 1024, true], ['permit tcp any any gt 1023', 1023, false],
    ['permit tcp any any range 20 21', 20, true], ['permit tcp any any range 20 21', 22, false],
    ['permit tcp any any eq www', 80, true], ['permit udp any any eq isakmp', 500, true],
  ];
  for (const [text, port, want] of cases) {
    const e = parseAclEntry(text);
    const k = makePacketKey('1.1.1.1', '2.2.2.2', e.proto, 5555, port);
    t.equal(new AclClassifier([e]).match(k) === 0, want, `${text} vs ${port}`);
    t.equal(aclEntryMatches(e, k), want);
  }
  t.equal(new AclClassifier([parseAclEntry('permit tcp any eq 23 any')]).match(makePacketKey('1.1.1.1', '2.2.2.2', 6, 23, 9)), 0, 'source port');
  t.equal(new AclClassifier([parseAclEntry('permit tcp any any eq 23')]).match(makePacketKey('1.1.1.1', '2.2.2.2', 17, 5, 23)), -1, 'protocol must match');
});

t.test('ICMP message matches (type<<8|code in the port fields)', async (t) => {
  const echo = parseAclEntry('permit icmp any any echo');
  t.same(echo.icmp, { type: 8 });
  const c = new AclClassifier([echo, parseAclEntry('deny icmp any any 3 4'), parseAclEntry('permit icmp any any')]);
  t.equal(c.match(makePacketKey('1.1.1.1', '2.2.2.2', 1, 0x0800, 0x0800)), 0, 'echo');
  t.equal(c.match(makePacketKey('1.1.1.1', '2.2.2.2', 1, 0x0000, 0x0000)), 2, 'echo-reply falls through');
  t.equal(c.match(makePacketKey('1.1.1.1', '2.2.2.2', 1, 0x0304, 0x0304)), 1, 'type 3 code 4');
  t.equal(formatAclEntry(parseAclEntry('deny icmp any any 3 4')), 'deny icmp any any 3 4');
  t.throws(() => new AclClassifier([{ ...parseAclEntry('permit tcp any any'), icmp: { type: 8 } }]), AclCompileError);
});

t.test('per-entry match counters', async (t) => {
  const c = new AclClassifier([parseAclEntry('permit ip host 1.1.1.1 any'), parseAclEntry('permit ip any any')]);
  for (let i = 0; i < 3; i++) c.matchCounted(makePacketKey('1.1.1.1', '9.9.9.9'));
  c.matchCounted(makePacketKey('1.1.1.2', '9.9.9.9'));
  c.match(makePacketKey('1.1.1.2', '9.9.9.9'));
  t.same([...c.counters], [3, 1]);
  c.resetCounters();
  t.same([...c.counters], [0, 0]);
});

t.test('compile errors and parser errors are typed', async (t) => {
  t.throws(() => new AclClassifier([{ action: 'permit', src: parseAclEntry('permit ip any any').src, dst: parseAclEntry('permit ip any any').dst, dstPort: { op: 'eq', port: 23 } }]), AclCompileError);
  t.throws(() => new AclClassifier([{ ...parseAclEntry('permit tcp any any'), dstPort: { op: 'range', lo: 30, hi: 20 } }]), AclCompileError);
  t.throws(() => parseAclEntry('allow ip any any'), AclParseError);
  t.throws(() => parseAclEntry('permit ip 10.0.0.0'), AclParseError);
  t.throws(() => parseAclEntry('permit ip any any extra'), AclParseError);
  t.throws(() => parseAclEntry('permit ip host 1.2.3.4 host 2001:db8::1'), AclParseError);
});

t.test('parse and format round trip', async (t) => {
  for (const s of [
    'permit ip 10.0.68.0 0.0.0.255 10.1.1.0 0.0.0.255',
    'deny tcp host 10.0.0.1 any eq 23',
    'permit udp any range 1000 2000 host 192.168.0.2 neq 53',
    'permit ipv6 2001:db8:1::/48 2001:db8:2::/48',
    'permit ip 10.0.0.0 0.0.254.255 any',
  ]) t.equal(formatAclEntry(parseAclEntry(s)), s);
});

t.test('shape count stays small for a large realistic ACL; lookups stay exact', async (t) => {
  const r = rng(7);
  const entries: AclEntry[] = [];
  for (let i = 0; i < 10000; i++) {
    const a = `10.${Math.floor(i / 256) % 256}.${i % 256}.0`;
    const b = `172.16.${i % 256}.0`;
    entries.push(parseAclEntry(r() < 0.5 ? `permit ip ${a} 0.0.0.255 ${b} 0.0.0.255` : `deny tcp host ${a.replace(/0$/, '1')} ${b} 0.0.0.255 eq 443`));
  }
  const c = new AclClassifier(entries);
  const s = c.stats();
  t.equal(s.entries, 10000);
  t.ok(s.tuples <= 4, `few shapes (${s.tuples})`);
  for (let i = 0; i < 500; i++) {
    const j = Math.floor(r() * 10000);
    const k = makePacketKey(`10.${Math.floor(j / 256) % 256}.${j % 256}.1`, `172.16.${j % 256}.7`, 6, 1234, 443);
    t.equal(c.match(k), naiveFirstMatch(entries, k));
  }
});

t.test('entries from the configuration model (config/acl.ts aclEntrySelector)', async (t) => {
  const { aclEntrySelector } = await import('../../firmware/config/acl.js');
  const { aclEntryFromConfig } = await import('../../firmware/ipsec/acl-classifier.js');
  const cases: [Parameters<typeof aclEntrySelector>[0], string][] = [
    [{ kind: 'rule', seq: 10, action: 'permit', protocol: 'ip', source: { address: '10.0.68.0', wildcard: '0.0.0.255' }, destination: { address: '10.1.1.0', wildcard: '0.0.0.255' } },
      'permit ip 10.0.68.0 0.0.0.255 10.1.1.0 0.0.0.255'],
    [{ kind: 'rule', seq: 20, action: 'deny', protocol: 'tcp', source: { address: '192.168.255.1', wildcard: '0.0.0.0' }, destination: { address: '0.0.0.0', wildcard: '255.255.255.255' }, destinationPort: { op: 'range', lo: 20, hi: 21 } },
      'deny tcp host 192.168.255.1 any range 20 21'],
    [{ kind: 'rule', seq: 30, action: 'permit', protocol: 'icmp', source: { address: '0.0.0.0', wildcard: '255.255.255.255' }, destination: { address: '0.0.0.0', wildcard: '255.255.255.255' }, icmp: { name: 'echo' } },
      'permit icmp any any echo'],
  ];
  for (const [rule, text] of cases) {
    const got = aclEntryFromConfig(aclEntrySelector(rule));
    t.same(got, parseAclEntry(text), text);
  }
});

t.test('many shapes (every prefix length on both sides): pre-filter on, still exact', async (t) => {
  const r = rng(2024);
  const octet = () => Math.floor(r() * 4);
  const entries: AclEntry[] = [];
  for (let i = 0; i < 2000; i++) {
    const a = `${10 + octet()}.${octet()}.${octet()}.${octet()}`;
    const b = `${10 + octet()}.${octet()}.${octet()}.${octet()}`;
    entries.push({ action: r() < 0.8 ? 'permit' : 'deny', proto: r() < 0.8 ? 0 : 6, src: prefixAddr(a, 6 + Math.floor(r() * 27)), dst: prefixAddr(b, 6 + Math.floor(r() * 27)) });
  }
  const c = new AclClassifier(entries);
  const st = c.stats();
  t.ok(st.tuples > 300, `${st.tuples} shapes`);
  t.ok(st.prefilter);
  let bad = 0;
  let hits = 0;
  for (let i = 0; i < 3000; i++) {
    const k = makePacketKey(`${10 + octet()}.${octet()}.${octet()}.${octet()}`, `${10 + octet()}.${octet()}.${octet()}.${octet()}`, r() < 0.5 ? 6 : 17, 1, 2);
    const from = r() < 0.2 ? Math.floor(r() * 2000) : 0;
    const want = naiveFirstMatch(entries, k, from);
    if (want >= 0) hits++;
    if (c.match(k, from) !== want) bad++;
  }
  t.equal(bad, 0);
  t.ok(hits > 1000, `hits ${hits}`);
});
