// Random valid access-list lines (numbered and named, standard and extended) for the
// round-trip property test. Sequence numbers are left to the box (running-config does not
// show them, so explicit ones would not survive a reload, exactly as on IOS).
export function generate(rng: () => number): string[] {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng() * a.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
  const ip = (): string => `${int(1, 223)}.${int(0, 255)}.${int(0, 255)}.${int(0, 255)}`;
  const wild = (): string => pick(['0.0.0.255', '0.0.255.255', '0.255.255.255', '0.0.0.3', '0.0.15.255', '0.0.255.0']);
  const addr = (): string => pick([() => 'any', () => `host ${ip()}`, () => `${ip()} ${wild()}`])();
  const port = (proto: 'tcp' | 'udp'): string => String(pick(proto === 'tcp'
    ? ['www', 'telnet', 'smtp', 'ftp', 'bgp', '22', '443', String(int(1, 65535))]
    : ['isakmp', 'non500-isakmp', 'domain', 'ntp', 'snmp', 'tftp', 'bootps', String(int(1, 65535))]));
  const ports = (proto: 'tcp' | 'udp'): string => {
    const r = rng();
    if (r < 0.5) return '';
    if (r < 0.8) return ` ${pick(['eq', 'lt', 'gt', 'neq'])} ${port(proto)}`;
    const lo = int(1, 30000);
    return ` range ${lo} ${lo + int(0, 30000)}`;
  };
  const log = (): string => pick(['', '', '', ' log', ' log-input']);
  const extRule = (): string => {
    const action = pick(['permit', 'deny']);
    const proto = pick(['ip', 'tcp', 'udp', 'icmp', 'esp', 'ahp', 'gre', '50', '51', '47', '103', '250']);
    if (proto === 'tcp' || proto === 'udp') {
      const est = proto === 'tcp' && rng() < 0.2 ? ' established' : '';
      return `${action} ${proto} ${addr()}${ports(proto)} ${addr()}${ports(proto)}${est}${log()}`;
    }
    if (proto === 'icmp') {
      const msg = pick(['', ' echo', ' echo-reply', ' unreachable', ` ${int(0, 255)}`, ` ${int(0, 255)} ${int(0, 255)}`]);
      return `${action} icmp ${addr()} ${addr()}${msg}${log()}`;
    }
    return `${action} ${proto} ${addr()} ${addr()}${log()}`;
  };
  const stdRule = (): string => `${pick(['permit', 'deny'])} ${pick([() => 'any', () => ip(), () => `host ${ip()}`, () => `${ip()} ${wild()}`])()}${pick(['', ' log'])}`;
  const lines: string[] = [];
  const n = int(0, 4);
  for (let i = 0; i < n; i++) {
    const ext = rng() < 0.7;
    const num = ext ? pick([int(100, 199), int(2000, 2699)]) : pick([int(1, 99), int(1300, 1999)]);
    for (let j = int(1, 5); j > 0; j--) {
      if (rng() < 0.1) lines.push(`access-list ${num} remark ${pick(['to branch', 'crypto traffic', 'mgmt'])}`);
      lines.push(`access-list ${num} ${ext ? extRule() : stdRule()}`);
    }
  }
  const named = int(0, 3);
  for (let i = 0; i < named; i++) {
    const ext = rng() < 0.7;
    lines.push(`ip access-list ${ext ? 'extended' : 'standard'} ${ext ? 'gen-ext' : 'gen-std'}-${int(1, 9)}`);
    for (let j = int(0, 5); j > 0; j--) {
      if (rng() < 0.1) lines.push(` remark ${pick(['first', 'vpn', 'keep this'])}`);
      lines.push(` ${ext ? extRule() : stdRule()}`);
    }
    lines.push('exit');
  }
  return lines;
}
