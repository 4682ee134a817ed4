// Random valid VRF and static-route lines for the round-trip property test. VRF names
// start with `gen-rt` (gen-interface.ts defines its own).
export function generate(rng: () => number): string[] {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng() * a.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
  const lines: string[] = [];
  const vrfs: string[] = [];
  for (let n = int(0, 2); n > 0; n--) {
    const name = `gen-rt-${vrfs.length + 1}`;
    vrfs.push(name);
    lines.push(`ip vrf ${name}`);
    if (rng() < 0.8) lines.push(` rd ${int(1, 65535)}:${vrfs.length}${int(0, 999)}`);
    for (let k = int(0, 2); k > 0; k--) lines.push(` route-target ${pick(['export', 'import', 'both'])} ${int(1, 65535)}:${int(0, 9999)}`);
    lines.push('exit');
  }
  if (rng() < 0.2) lines.push('no ip cef');
  if (rng() < 0.1) lines.push('no ip classless');
  if (rng() < 0.1) lines.push('no ip subnet-zero');
  const masks: Array<[string, number]> = [['0.0.0.0', 0], ['255.0.0.0', 8], ['255.255.0.0', 16], ['255.255.255.0', 24], ['255.255.255.255', 32], ['255.255.255.252', 30]];
  for (let n = int(0, 6); n > 0; n--) {
    const [mask, len] = pick(masks);
    const addr = [int(1, 223), int(0, 255), int(0, 255), int(0, 255)];
    const bits = (((addr[0]! << 24) | (addr[1]! << 16) | (addr[2]! << 8) | addr[3]!) >>> 0) & (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);
    const prefix = [bits >>> 24, (bits >>> 16) & 255, (bits >>> 8) & 255, bits & 255].join('.');
    const vrf = vrfs.length > 0 && rng() < 0.3 ? `vrf ${pick(vrfs)} ` : '';
    const gw = pick([
      () => `${int(1, 223)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`,
      () => pick(['FastEthernet0/0', 'Serial2/0', 'Tunnel0', 'Loopback1']),
      () => `FastEthernet0/1 10.${int(0, 255)}.${int(0, 255)}.1`,
    ])();
    const opts = [rng() < 0.3 ? ` ${int(2, 255)}` : '', rng() < 0.1 ? ` tag ${int(1, 1000)}` : '', rng() < 0.2 ? ` name ${pick(['hq', 'branch7'])}` : '', rng() < 0.1 ? ' permanent' : ''].join('');
    lines.push(`ip route ${vrf}${prefix} ${mask} ${gw}${opts}`);
  }
  return lines;
}
