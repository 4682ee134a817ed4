import t from 'tap';
import {
  AddressParseError, addrSetContains, addrSetEquals, addrSetIntersect, addrSetToPrefix, anyAddr, compileSelector,
  formatAddrSet, formatIdent, formatIp, hostAddr, makePacketKey, makeSelector, mirrorKey, mirrorSelector,
  packetKeyFromIp, parseIp, parsePrefix, prefixAddr, prefixLength, rangeAddr, rangeToPrefixes, selectorContains,
  selectorIntersect, selectorKey, selectorMatchesKey, wildcardAddr, ANY_PORTS,
  type AddrSet, type TrafficSelector,
} from '../../firmware/ipsec/selector.js';

t.test('IPv4 and IPv6 parse/format', async (t) => {
  t.equal(parseIp('10.1.2.3').value, 0x0a010203n);
  t.equal(formatIp(parseIp('255.255.255.255')), '255.255.255.255');
  t.equal(formatIp(parseIp('2001:DB8:0:0:1:0:0:1')), '2001:db8::1:0:0:1', 'RFC 5952: first longest run');
  t.equal(formatIp(parseIp('::')), '::');
  t.equal(formatIp(parseIp('::1')), '::1');
  t.equal(formatIp(parseIp('fe80::')), 'fe80::');
  t.equal(formatIp(parseIp('2001:db8::ffff:0:1')), '2001:db8::ffff:0:1');
  t.equal(parseIp('::ffff:192.0.2.1').value, 0xffffc0000201n, 'embedded IPv4');
  t.equal(parseIp('64:ff9b::10.0.0.1').value, (0x64ff9bn << 96n) | 0x0a000001n);
  t.equal(formatIp(parseIp('2001:db8:0:1:1:1:1:1')), '2001:db8:0:1:1:1:1:1', 'a single zero word is not compressed');
  for (const bad of ['1.2.3', '1.2.3.256', '1.2.3.4.5', 'a.b.c.d', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', ':::', '']) {
    t.throws(() => parseIp(bad), AddressParseError, bad);
  }
});

t.test('address sets: wildcard, prefix, range, any, host', async (t) => {
  t.equal(formatAddrSet(wildcardAddr('10.0.68.7', '0.0.0.255')), '10.0.68.0 0.0.0.255', 'normalised');
  t.equal(formatAddrSet(hostAddr('10.0.0.1')), 'host 10.0.0.1');
  t.equal(formatAddrSet(anyAddr(4)), 'any');
  t.equal(formatAddrSet(parsePrefix('2001:db8::/32')), '2001:db8::/32');
  t.equal(prefixLength(wildcardAddr('10.0.0.0', '0.0.255.255')), 16);
  t.equal(prefixLength(wildcardAddr('10.0.0.0', '0.0.254.255')), undefined);
  t.same(rangeToPrefixes(4, parseIp('10.0.0.1').value, parseIp('10.0.0.6').value).map(formatAddrSet),
    ['host 10.0.0.1', '10.0.0.2 0.0.0.1', '10.0.0.4 0.0.0.1', 'host 10.0.0.6']);
  t.equal(rangeToPrefixes(4, 0n, 0xffffffffn).length, 1);
  t.equal(rangeToPrefixes(6, 0n, (1n << 128n) - 1n).length, 1);
  t.ok(addrSetToPrefix(rangeAddr('10.0.0.0', '10.0.0.255')) && addrSetEquals(addrSetToPrefix(rangeAddr('10.0.0.0', '10.0.0.255'))!, prefixAddr('10.0.0.0', 24)));
});

t.test('containment (IKEv1 proxy identity inside a local permit)', async (t) => {
  const net = prefixAddr('10.0.0.0', 16);
  t.ok(addrSetContains(net, hostAddr('10.0.5.5')));
  t.ok(addrSetContains(net, prefixAddr('10.0.5.0', 24)));
  t.notOk(addrSetContains(prefixAddr('10.0.5.0', 24), net));
  t.ok(addrSetContains(net, rangeAddr('10.0.0.9', '10.0.200.1')));
  t.notOk(addrSetContains(net, rangeAddr('10.0.0.9', '10.1.0.0')));
  t.ok(addrSetContains(rangeAddr('10.0.0.0', '10.0.255.255'), net));
  const even = wildcardAddr('10.0.0.0', '0.0.254.255'); // even third octet
  t.ok(addrSetContains(even, prefixAddr('10.0.4.0', 24)));
  t.notOk(addrSetContains(even, prefixAddr('10.0.5.0', 24)));
  t.notOk(addrSetContains(even, rangeAddr('10.0.4.0', '10.0.5.0')), 'range crossing an odd octet');
  t.ok(addrSetContains(even, rangeAddr('10.0.4.0', '10.0.4.255')));
  t.notOk(addrSetContains(net, parsePrefix('2001:db8::/32')), 'families never contain each other');
});

t.test('intersection (IKEv2 narrowing)', async (t) => {
  const x = addrSetIntersect(prefixAddr('10.0.0.0', 16), rangeAddr('10.0.255.0', '10.1.0.5'));
  t.ok(x && addrSetEquals(x, rangeAddr('10.0.255.0', '10.0.255.255')));
  t.equal(addrSetIntersect(prefixAddr('10.0.0.0', 16), prefixAddr('10.1.0.0', 16)), undefined);
  const m = addrSetIntersect(wildcardAddr('10.0.0.0', '0.0.254.255'), wildcardAddr('10.0.0.0', '0.0.255.0'));
  t.ok(m && addrSetEquals(m, wildcardAddr('10.0.0.0', '0.0.254.0')));
  // brute force on a small space: mask ∩ mask is exact
  const sets: AddrSet[] = [wildcardAddr('0.0.0.0', '0.0.0.5'), wildcardAddr('0.0.0.2', '0.0.0.9'), prefixAddr('0.0.0.8', 29), rangeAddr('0.0.0.3', '0.0.0.12')];
  for (const a of sets) for (const b of sets) {
    const i = addrSetIntersect(a, b);
    for (let v = 0n; v < 32n; v++) {
      const inA = addrSetContains(a, hostAddr({ family: 4, value: v }));
      const inB = addrSetContains(b, hostAddr({ family: 4, value: v }));
      const inI = i !== undefined && addrSetContains(i, hostAddr({ family: 4, value: v }));
      if (inI && !(inA && inB)) t.fail(`intersection is too large at ${v}`);
      if (a.kind === 'mask' && b.kind === 'mask' && inA && inB && !inI) t.fail(`mask intersection misses ${v}`);
    }
  }
  const ts = selectorIntersect(
    makeSelector(prefixAddr('10.0.0.0', 8), anyAddr(4), 6),
    makeSelector(prefixAddr('10.1.0.0', 16), prefixAddr('192.168.0.0', 16), 0, ANY_PORTS, { lo: 80, hi: 443 }),
  );
  t.ok(ts && ts.proto === 6 && ts.dstPorts.lo === 80 && addrSetEquals(ts.src, prefixAddr('10.1.0.0', 16)));
  t.equal(selectorIntersect(makeSelector(anyAddr(4), anyAddr(4), 6), makeSelector(anyAddr(4), anyAddr(4), 17)), undefined);
});

t.test('selector containment, mirroring and keys', async (t) => {
  const outer = makeSelector(prefixAddr('10.0.0.0', 24), prefixAddr('10.9.0.0', 16));
  const inner = makeSelector(hostAddr('10.0.0.1'), hostAddr('10.9.9.9'), 6, ANY_PORTS, { lo: 23, hi: 23 });
  t.ok(selectorContains(outer, inner));
  t.notOk(selectorContains(inner, outer));
  t.notOk(selectorContains(mirrorSelector(outer), inner));
  t.ok(selectorContains(mirrorSelector(outer), mirrorSelector(inner)));
  t.notOk(selectorContains(makeSelector(anyAddr(4), anyAddr(4), 17), inner), 'protocol');
  t.equal(selectorKey(outer), selectorKey(makeSelector(prefixAddr('10.0.0.9', 24), prefixAddr('10.9.1.1', 16))));
  t.not(selectorKey(outer), selectorKey(inner));
  t.equal(formatIdent(outer.src, 0, ANY_PORTS), '(10.0.0.0/255.255.255.0/0/0)');
  t.equal(formatIdent(inner.dst, 6, inner.dstPorts), '(10.9.9.9/255.255.255.255/6/23)');
});

function ipv4Packet(src: number[], dst: number[], proto: number, sport: number, dport: number, fragOffset = 0): Uint8Array {
  const b = new Uint8Array(28);
  b[0] = 0x45;
  b[3] = 28;
  b[6] = (fragOffset >> 8) & 0x1f;
  b[7] = fragOffset & 0xff;
  b[8] = 64;
  b[9] = proto;
  b.set(src, 12);
  b.set(dst, 16);
  b[20] = sport >> 8; b[21] = sport & 255; b[22] = dport >> 8; b[23] = dport & 255;
  return b;
}

t.test('packet keys from IPv4 and IPv6 headers', async (t) => {
  const k = packetKeyFromIp(ipv4Packet([10, 0, 0, 1], [192, 168, 0, 2], 6, 40000, 23))!;
  t.same({ ...k, src: [...k.src], dst: [...k.dst] }, { family: 4, src: [0x0a000001], dst: [0xc0a80002], proto: 6, srcPort: 40000, dstPort: 23 });
  t.equal(packetKeyFromIp(ipv4Packet([10, 0, 0, 1], [192, 168, 0, 2], 6, 40000, 23, 100))!.dstPort, 0, 'non-first fragment has no ports');
  const icmp = packetKeyFromIp(ipv4Packet([10, 0, 0, 1], [192, 168, 0, 2], 1, 0x0800, 0))!;
  t.same([icmp.srcPort, icmp.dstPort], [0x0800, 0x0800], 'ICMP type/code in both port fields');
  t.equal(packetKeyFromIp(ipv4Packet([10, 0, 0, 1], [192, 168, 0, 2], 47, 0x0800, 5))!.srcPort, 0, 'GRE has no ports');
  t.equal(packetKeyFromIp(ipv4Packet([10, 0, 0, 1], [192, 168, 0, 2], 6, 1, 2).subarray(0, 19)), undefined, 'truncated');
  t.equal(packetKeyFromIp(new Uint8Array([0x45])), undefined);
  t.equal(packetKeyFromIp(new Uint8Array(40).fill(0x55)), undefined, 'version 5');
  const bad = ipv4Packet([1, 1, 1, 1], [2, 2, 2, 2], 6, 1, 2); bad[0] = 0x44;
  t.equal(packetKeyFromIp(bad), undefined, 'IHL below 5');
  // IPv6 with a hop-by-hop header then UDP
  const v6 = new Uint8Array(40 + 8 + 8);
  v6[0] = 0x60; v6[6] = 0; v6[7] = 64;
  v6.set([0x20, 0x01, 0x0d, 0xb8], 8); v6[23] = 1;
  v6.set([0x20, 0x01, 0x0d, 0xb8], 24); v6[39] = 2;
  v6[40] = 17; v6[41] = 0;
  v6[48] = 0x01; v6[49] = 0xf4; v6[50] = 0x11; v6[51] = 0x94;
  const k6 = packetKeyFromIp(v6)!;
  t.equal(k6.family, 6);
  t.equal(k6.proto, 17);
  t.equal(k6.srcPort, 500);
  t.equal(k6.dstPort, 4500);
  t.same([...k6.src], [0x20010db8, 0, 0, 1]);
  t.equal(packetKeyFromIp(v6.subarray(0, 44)), undefined, 'extension header cut short');
  // the reused key object switches family correctly
  const reused = packetKeyFromIp(ipv4Packet([1, 2, 3, 4], [5, 6, 7, 8], 17, 1, 2), k6)!;
  t.equal(reused.family, 4);
  t.equal(reused.src.length, 1);
  const m = mirrorKey(makePacketKey('1.1.1.1', '2.2.2.2', 6, 10, 20));
  t.same([m.src[0], m.dst[0], m.srcPort, m.dstPort], [0x02020202, 0x01010101, 20, 10]);
});

t.test('compiled selector matcher agrees with the bigint reference', async (t) => {
  let seed = 3;
  const r = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);
  const sets = (v6: boolean): AddrSet[] => v6
    ? [parsePrefix('2001:db8::/64'), hostAddr('2001:db8::5'), rangeAddr('2001:db8::3', '2001:db8::1:0'), anyAddr(6)]
    : [prefixAddr('10.0.0.0', 30), hostAddr('10.0.0.2'), rangeAddr('10.0.0.1', '10.0.0.6'), wildcardAddr('10.0.0.0', '0.0.0.5'), anyAddr(4)];
  let bad = 0;
  let hits = 0;
  for (let i = 0; i < 3000; i++) {
    const v6 = r() < 0.3;
    const pool = sets(v6);
    const sel: TrafficSelector = makeSelector(pool[Math.floor(r() * pool.length)]!, pool[Math.floor(r() * pool.length)]!,
      r() < 0.5 ? 0 : 6, r() < 0.5 ? ANY_PORTS : { lo: 1, hi: 2 }, ANY_PORTS);
    const a = v6 ? `2001:db8::${Math.floor(r() * 8)}` : `10.0.0.${Math.floor(r() * 8)}`;
    const b = v6 ? `2001:db8::${Math.floor(r() * 8)}` : `10.0.0.${Math.floor(r() * 8)}`;
    const k = makePacketKey(a, b, r() < 0.5 ? 6 : 17, Math.floor(r() * 3), Math.floor(r() * 3));
    const m = compileSelector(sel);
    const want = selectorMatchesKey(sel, k);
    if (want) hits++;
    if (m.matches(k) !== want) bad++;
    if (m.matchesReverse(mirrorKey(k)) !== want) bad++;
  }
  t.equal(bad, 0);
  t.ok(hits > 300, `hits ${hits}`);
});
