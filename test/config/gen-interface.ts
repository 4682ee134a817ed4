// Random valid interface lines for the round-trip property test, on the fake system's
// board (FastEthernet0/0, FastEthernet0/1, GigabitEthernet0/1, Serial2/0) plus logical
// interfaces. The VRFs it uses are defined here too (their names start with `gen-if`).
export function generate(rng: () => number): string[] {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng() * a.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
  const host = (): string => `${int(1, 223)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`;
  const masks = ['255.255.255.0', '255.255.0.0', '255.255.255.252', '255.0.0.0', '255.255.255.128'];
  const lines: string[] = [];
  const vrf = `gen-if-${int(1, 9)}`;
  const useVrf = rng() < 0.3;
  if (useVrf) lines.push(`ip vrf ${vrf}`, 'exit');
  const names = ['FastEthernet0/0', 'FastEthernet0/1', 'GigabitEthernet0/1', 'Serial2/0', `Loopback${int(0, 3)}`,
    `Tunnel${int(0, 3)}`, `Virtual-Template${int(1, 3)}`, `FastEthernet0/0.${int(1, 50)}`];
  for (let n = int(0, 5); n > 0; n--) {
    const name = pick(names);
    const vt = name.startsWith('Virtual-Template');
    lines.push(`interface ${name}${vt ? ' type tunnel' : ''}`);
    const sub = name.includes('.');
    if (sub) lines.push(` encapsulation dot1Q ${int(1, 4094)}${rng() < 0.2 ? ' native' : ''}`);
    if (rng() < 0.3) lines.push(` description ${pick(['uplink', 'to HQ', 'branch LAN 7'])}`);
    if (useVrf && rng() < 0.3) lines.push(` ip vrf forwarding ${vrf}`);
    const r = rng();
    if (r < 0.6) {
      lines.push(` ip address ${host().replace(/\.\d+$/, '.1')} ${pick(masks)}`);
      if (rng() < 0.2) lines.push(` ip address ${int(1, 223)}.${int(0, 255)}.${int(0, 255)}.5 255.255.255.0 secondary`);
    } else if (r < 0.75 && !name.startsWith('Loopback')) lines.push(` ip unnumbered ${name === 'FastEthernet0/1' ? 'Loopback0' : pick(['Loopback0', 'FastEthernet0/1'])}`);
    if (rng() < 0.2) lines.push(' shutdown');
    if (rng() < 0.2) lines.push(` crypto map ${pick(['vpnmap', 'branch'])}`);
    if (rng() < 0.1) lines.push(` ipv6 address 2001:DB8:${int(0, 65535).toString(16).toUpperCase()}::1/64`);
    if (rng() < 0.2) lines.push(` ip mtu ${int(576, 1500)}`);
    if (rng() < 0.1) lines.push(` ip tcp adjust-mss ${int(500, 1460)}`);
    if (rng() < 0.2) lines.push(` bandwidth ${int(64, 100000)}`);
    if (rng() < 0.2) lines.push(` load-interval ${30 * int(1, 20)}`);
    if (rng() < 0.2) lines.push(` ip access-group ${pick(['100', 'inbound'])} ${pick(['in', 'out'])}`);
    if (rng() < 0.2) lines.push(pick([' no ip route-cache', ' ip route-cache flow', ' no ip route-cache cef', ' no ip mroute-cache', ' ip virtual-reassembly']));
    if (/Ethernet/.test(name) && !sub && rng() < 0.3) lines.push(` duplex ${pick(['auto', 'full', 'half'])}`, ` speed ${pick(['10', '100', 'auto'])}`);
    if (name.startsWith('Tunnel') || vt) {
      if (!vt && rng() < 0.7) lines.push(` tunnel source ${pick(['FastEthernet0/0', 'Loopback0', host()])}`, ` tunnel destination ${host()}`);
      if (rng() < 0.8) lines.push(` tunnel mode ${pick(['ipsec ipv4', 'gre ip', 'ipsec ipv4'])}`);
      if (rng() < 0.6) lines.push(` tunnel protection ipsec profile ${pick(['P1', 'vti-prof'])}${rng() < 0.2 ? ' shared' : ''}`);
    }
    lines.push('exit');
  }
  return lines;
}
