// Random valid crypto configuration, as lines typed in global configuration mode (sub-mode
// lines follow the line that enters their mode). For the round-trip property test: the
// lines, applied to a fresh config, render to a running-config that parses back to the same
// model (revisions aside). Interface names are canonical (IOS renders them so).

const pick = <T>(rng: () => number, list: readonly T[]): T => list[Math.floor(rng() * list.length) % list.length]!;
const int = (rng: () => number, lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
const maybe = (rng: () => number, p = 0.5): boolean => rng() < p;
const ip = (rng: () => number): string => `${int(rng, 1, 223)}.${int(rng, 0, 255)}.${int(rng, 0, 255)}.${int(rng, 1, 254)}`;
const word = (rng: () => number, prefix: string): string => `${prefix}${int(rng, 0, 999)}`;
const hex = (rng: () => number, bytes: number): string => Array.from({ length: bytes }, () => int(rng, 0, 255).toString(16).padStart(2, '0')).join('');
const MASKS = ['255.255.255.255', '255.255.255.0', '255.255.0.0', '255.0.0.0', '0.0.0.0'];
const GROUPS = [1, 2, 5, 14, 15, 16, 19, 20, 21, 24];
const IFNAMES = ['FastEthernet0/0', 'FastEthernet0/1', 'GigabitEthernet0/1', 'Serial2/0', 'Loopback0'];

function pickSome<T>(rng: () => number, list: readonly T[], max: number): T[] {
  const out: T[] = [];
  const n = int(rng, 1, max);
  for (let i = 0; i < n; i++) {
    const x = pick(rng, list);
    if (!out.includes(x)) out.push(x);
  }
  return out;
}

function transformSet(rng: () => number): string {
  const parts: string[] = [];
  const style = int(rng, 0, 3);
  if (style === 0 || maybe(rng, 0.2)) parts.push(pick(rng, ['ah-md5-hmac', 'ah-sha-hmac']));
  if (style !== 0 || parts.length === 0) {
    if (maybe(rng, 0.2)) parts.push(`${pick(rng, ['esp-gcm', 'esp-gmac'])}${pick(rng, ['', ' 128', ' 192', ' 256'])}`);
    else {
      parts.push(pick(rng, ['esp-des', 'esp-3des', 'esp-null', 'esp-seal', 'esp-aes', 'esp-aes 128', 'esp-aes 192', 'esp-aes 256']));
      if (maybe(rng, 0.8)) parts.push(pick(rng, ['esp-md5-hmac', 'esp-sha-hmac', 'esp-sha256-hmac', 'esp-sha384-hmac', 'esp-sha512-hmac']));
    }
  }
  if (maybe(rng, 0.15)) parts.push('comp-lzs');
  return parts.join(' ');
}

function policyEntryLines(rng: () => number, tsNames: string[], manual: boolean): string[] {
  const out: string[] = [];
  if (maybe(rng, 0.3)) out.push(` description ${word(rng, 'link ')} to site`);
  const peers = manual ? 1 : int(rng, 0, 3);
  for (let i = 0; i < peers; i++) out.push(` set peer ${ip(rng)}`);
  if (tsNames.length > 0) out.push(` set transform-set ${(manual ? [pick(rng, tsNames)] : pickSome(rng, tsNames, 6)).join(' ')}`);
  if (!manual) {
    if (maybe(rng)) out.push(` set pfs${maybe(rng, 0.3) ? '' : ` group${pick(rng, GROUPS)}`}`);
    if (maybe(rng, 0.4)) out.push(` set security-association lifetime seconds ${int(rng, 120, 86400)}`);
    if (maybe(rng, 0.3)) out.push(maybe(rng) ? ' set security-association lifetime kilobytes disable' : ` set security-association lifetime kilobytes ${int(rng, 2560, 99999999)}`);
    if (maybe(rng, 0.2)) out.push(' set security-association level per-host');
    if (maybe(rng, 0.1)) out.push(` set security-association replay window-size ${pick(rng, [64, 128, 256, 512, 1024])}`);
    if (maybe(rng, 0.05)) out.push(' set security-association replay disable');
    if (maybe(rng, 0.2)) out.push(` set isakmp-profile ${word(rng, 'isa')}`);
    if (maybe(rng, 0.1)) out.push(` set ikev2-profile ${word(rng, 'v2p')}`);
    if (maybe(rng, 0.2)) out.push(pick(rng, [' reverse-route', ' reverse-route static', ` reverse-route tag ${int(rng, 1, 4294967295)}`, ` reverse-route tag ${int(rng, 1, 99)} static`, ' reverse-route remote-peer']));
    if (maybe(rng, 0.1)) out.push(` set reverse-route tag ${int(rng, 1, 4294967295)}`);
    if (maybe(rng, 0.1)) out.push(` set reverse-route distance ${int(rng, 2, 255)}`);
  }
  if (maybe(rng, 0.9)) out.push(` match address ${maybe(rng) ? int(rng, 100, 199) : word(rng, 'acl-')}`);
  return out;
}

/** Random valid crypto configuration lines. */
export function generate(rng: () => number): string[] {
  const out: string[] = [];
  let uid = 0;
  /** Object names are unique within one generated config (no accidental redefinitions). */
  const uniq = (prefix: string): string => `${prefix}${++uid}`;
  // IPsec SA globals
  if (maybe(rng, 0.3)) out.push(`crypto ipsec security-association lifetime seconds ${int(rng, 120, 86400)}`);
  if (maybe(rng, 0.3)) out.push(`crypto ipsec security-association lifetime kilobytes ${int(rng, 2560, 4294967295)}`);
  if (maybe(rng, 0.2)) out.push('crypto ipsec security-association lifetime kilobytes disable');
  if (maybe(rng, 0.2)) out.push(`crypto ipsec security-association replay window-size ${pick(rng, [64, 128, 256, 512, 1024])}`);
  if (maybe(rng, 0.1)) out.push('crypto ipsec security-association replay disable');
  if (maybe(rng, 0.2)) out.push(`crypto ipsec df-bit ${pick(rng, ['clear', 'set', 'copy'])}`);
  if (maybe(rng, 0.1)) out.push('crypto ipsec fragmentation after-encryption');
  // Transform sets
  const tsNames: string[] = [];
  for (let i = int(rng, 0, 4); i > 0; i--) {
    const name = uniq('ts');
    tsNames.push(name);
    out.push(`crypto ipsec transform-set ${name} ${transformSet(rng)}`);
    if (maybe(rng, 0.3)) out.push(` mode ${pick(rng, ['tunnel', 'transport'])}`);
  }
  // ISAKMP policies, keys, globals
  for (let i = int(rng, 0, 3); i > 0; i--) {
    out.push(`crypto isakmp policy ${i * 100 + int(rng, 0, 99)}`);
    if (maybe(rng)) out.push(` encryption ${pick(rng, ['des', '3des', 'aes', 'aes 128', 'aes 192', 'aes 256'])}`);
    if (maybe(rng)) out.push(` hash ${pick(rng, ['md5', 'sha', 'sha256', 'sha384', 'sha512'])}`);
    if (maybe(rng)) out.push(` authentication ${pick(rng, ['pre-share', 'rsa-sig', 'rsa-encr'])}`);
    if (maybe(rng)) out.push(` group ${pick(rng, GROUPS)}`);
    if (maybe(rng)) out.push(` lifetime ${int(rng, 60, 86400)}`);
  }
  for (let i = int(rng, 0, 3); i > 0; i--) {
    const target = maybe(rng, 0.8) ? `address ${ip(rng)}${maybe(rng) ? ` ${pick(rng, MASKS)}` : ''}` : `hostname ${word(rng, 'peer')}.example.com`;
    out.push(`crypto isakmp key ${word(rng, 'Key')} ${target}${maybe(rng, 0.2) ? ' no-xauth' : ''}`);
  }
  if (maybe(rng, 0.3)) out.push(`crypto isakmp keepalive ${int(rng, 10, 3600)}${maybe(rng) ? ` ${int(rng, 2, 60)}` : ''}${maybe(rng) ? ' periodic' : ''}`);
  if (maybe(rng, 0.3)) out.push(`crypto isakmp nat keepalive ${int(rng, 5, 3600)}`);
  if (maybe(rng, 0.2)) out.push(`crypto isakmp identity ${pick(rng, ['hostname', 'dn', 'address'])}`);
  if (maybe(rng, 0.1)) out.push('no crypto isakmp default policy');
  // Keyrings and ISAKMP profiles
  const rings: string[] = [];
  for (let i = int(rng, 0, 2); i > 0; i--) {
    const name = uniq('ring');
    rings.push(name);
    out.push(`crypto keyring ${name}${maybe(rng, 0.2) ? ` vrf ${word(rng, 'vrf')}` : ''}`);
    if (maybe(rng, 0.3)) out.push(`  description ${word(rng, 'customer ')}`);
    if (maybe(rng, 0.4)) out.push(`  local-address ${maybe(rng) ? pick(rng, IFNAMES) : `${ip(rng)}${maybe(rng) ? ` ${word(rng, 'vrf')}` : ''}`}`);
    for (let k = int(rng, 0, 3); k > 0; k--) {
      out.push(maybe(rng, 0.8)
        ? `  pre-shared-key address ${ip(rng)}${maybe(rng) ? ` ${pick(rng, MASKS)}` : ''} key ${word(rng, 'psk')}`
        : `  pre-shared-key hostname ${word(rng, 'h')}.example.com key ${word(rng, 'psk')}`);
    }
  }
  for (let i = int(rng, 0, 2); i > 0; i--) {
    out.push(`crypto isakmp profile ${uniq('isaprof')}`);
    for (const r of rings) if (maybe(rng)) out.push(`   keyring ${r}`);
    for (let k = int(rng, 0, 3); k > 0; k--) {
      const kind = int(rng, 0, 3);
      if (kind === 0) out.push(`   match identity address ${ip(rng)}${maybe(rng) ? ` ${pick(rng, MASKS)}` : ''}${maybe(rng, 0.2) ? ` ${word(rng, 'vrf')}` : ''}`);
      else if (kind === 1) out.push(`   match identity host ${word(rng, 'h')}.example.com`);
      else if (kind === 2) out.push(`   match identity host domain ${word(rng, 'd')}.example.com`);
      else out.push(`   match identity group ${word(rng, 'g')}`);
    }
    if (maybe(rng, 0.3)) out.push(`   self-identity ${pick(rng, ['address', 'fqdn', 'user-fqdn user@example.com'])}`);
    if (maybe(rng, 0.3)) out.push(`   local-address ${pick(rng, IFNAMES)}`);
    if (maybe(rng, 0.2)) out.push(`   virtual-template ${int(rng, 1, 10)}`);
    if (maybe(rng, 0.2)) out.push(`   vrf ${word(rng, 'vrf')}`);
    if (maybe(rng, 0.2)) out.push(`   keepalive ${int(rng, 10, 3600)} retry ${int(rng, 2, 60)}`);
    if (maybe(rng, 0.2)) out.push('   initiate mode aggressive');
  }
  // IKEv2
  const complete: string[] = [];
  for (let i = int(rng, 0, 3); i > 0; i--) {
    const name = uniq('prop');
    out.push(`crypto ikev2 proposal ${name}`);
    const gcm = maybe(rng, 0.2);
    out.push(` encryption ${(gcm ? pickSome(rng, ['aes-gcm-128', 'aes-gcm-256'], 2) : pickSome(rng, ['des', '3des', 'aes-cbc-128', 'aes-cbc-192', 'aes-cbc-256'], 3)).join(' ')}`);
    const algs = ['md5', 'sha1', 'sha256', 'sha384', 'sha512'];
    if (gcm) out.push(` prf ${pickSome(rng, algs, 2).join(' ')}`);
    else out.push(` integrity ${pickSome(rng, [...algs, 'sha'], 3).join(' ')}`);
    out.push(` group ${pickSome(rng, [...GROUPS, 31], 3).join(' ')}`);
    complete.push(name);
  }
  if (complete.length > 0 && maybe(rng)) {
    out.push(`crypto ikev2 policy ${uniq('pol')}`);
    for (const p of pickSome(rng, complete, 3)) out.push(` proposal ${p}`);
    if (maybe(rng, 0.3)) out.push(` match address local ${ip(rng)}`);
    if (maybe(rng, 0.3)) out.push(` match fvrf ${maybe(rng) ? 'any' : word(rng, 'vrf')}`);
  }
  const v2rings: string[] = [];
  for (let i = int(rng, 0, 2); i > 0; i--) {
    const name = uniq('kr');
    v2rings.push(name);
    out.push(`crypto ikev2 keyring ${name}`);
    for (let k = int(rng, 1, 2); k > 0; k--) {
      out.push(` peer ${uniq('site')}`);
      out.push(`  address ${ip(rng)}${maybe(rng) ? ` ${pick(rng, MASKS)}` : ''}`);
      if (maybe(rng, 0.3)) out.push(`  identity fqdn ${word(rng, 'id')}.example.com`);
      if (maybe(rng)) out.push(`  pre-shared-key ${word(rng, 'psk')}`);
      else out.push(`  pre-shared-key local ${word(rng, 'loc')}`, `  pre-shared-key remote ${word(rng, 'rem')}`);
    }
  }
  for (let i = int(rng, 0, 2); i > 0; i--) {
    out.push(`crypto ikev2 profile ${uniq('v2prof')}`);
    out.push(` match identity remote address ${ip(rng)}${maybe(rng) ? ` ${pick(rng, MASKS)}` : ''}`);
    if (maybe(rng, 0.3)) out.push(` match identity remote fqdn ${maybe(rng) ? 'domain ' : ''}${word(rng, 'r')}.example.com`);
    if (maybe(rng)) out.push(` identity local address ${ip(rng)}`);
    out.push(' authentication local pre-share', ' authentication remote pre-share');
    if (v2rings.length > 0) out.push(` keyring local ${pick(rng, v2rings)}`);
    if (maybe(rng, 0.4)) out.push(` lifetime ${int(rng, 120, 86400)}`);
    if (maybe(rng, 0.4)) out.push(` dpd ${int(rng, 10, 3600)} ${int(rng, 2, 60)} ${pick(rng, ['on-demand', 'periodic'])}`);
    if (maybe(rng, 0.2)) out.push(` match fvrf ${maybe(rng) ? 'any' : word(rng, 'vrf')}`);
    if (maybe(rng, 0.3)) out.push(` nat keepalive ${int(rng, 5, 3600)}`);
    if (maybe(rng, 0.3)) out.push(' nat force-encap');
  }
  // IPsec profiles
  for (let i = int(rng, 0, 2); i > 0; i--) {
    out.push(`crypto ipsec profile ${uniq('prof')}`);
    if (tsNames.length > 0) out.push(` set transform-set ${pickSome(rng, tsNames, 3).join(' ')}`);
    if (maybe(rng)) out.push(` set pfs group${pick(rng, GROUPS)}`);
    if (maybe(rng, 0.3)) out.push(` set security-association lifetime seconds ${int(rng, 120, 86400)}`);
    if (maybe(rng, 0.3)) out.push(` set isakmp-profile ${word(rng, 'isa')}`);
  }
  // Dynamic maps
  const dmaps: string[] = [];
  for (let i = int(rng, 0, 2); i > 0; i--) {
    const name = uniq('dyn');
    dmaps.push(name);
    for (let k = int(rng, 1, 2); k > 0; k--) {
      out.push(`crypto dynamic-map ${name} ${k * 100 + int(rng, 0, 99)}`);
      out.push(...policyEntryLines(rng, tsNames, false));
    }
  }
  // Crypto maps
  for (let i = int(rng, 0, 2); i > 0; i--) {
    const name = uniq('map');
    if (maybe(rng, 0.3)) out.push(`crypto map ${name} local-address ${pick(rng, IFNAMES)}`);
    const seqs = [...new Set(Array.from({ length: int(rng, 1, 4) }, () => int(rng, 1, 60000)))];
    for (const seq of seqs) {
      const manual = maybe(rng, 0.2);
      out.push(`crypto map ${name} ${seq} ${manual ? 'ipsec-manual' : 'ipsec-isakmp'}`);
      out.push(...policyEntryLines(rng, tsNames, manual));
      if (manual) {
        out.push(` set session-key inbound esp ${int(rng, 256, 99999)} cipher ${hex(rng, 8)}${maybe(rng) ? ` authenticator ${hex(rng, 20)}` : ''}`);
        out.push(` set session-key outbound esp ${int(rng, 256, 99999)} cipher ${hex(rng, 8)}`);
        if (maybe(rng, 0.3)) out.push(` set session-key inbound ah ${int(rng, 256, 99999)} ${hex(rng, 16)}`);
      }
    }
    if (dmaps.length > 0 && maybe(rng)) out.push(`crypto map ${name} 65535 ipsec-isakmp dynamic ${pick(rng, dmaps)}${maybe(rng) ? ' discover' : ''}`);
  }
  if (maybe(rng, 0.2)) {
    out.push(`crypto map ipv6 ${uniq('v6map')} ${int(rng, 1, 100)} ipsec-isakmp`);
    out.push(` set peer 2001:db8::${int(rng, 1, 999)}`);
    if (tsNames.length > 0) out.push(` set transform-set ${pick(rng, tsNames)}`);
    out.push(` match address ${word(rng, 'v6acl')}`);
  }
  return out;
}
