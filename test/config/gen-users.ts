// Random users, AAA, privilege levels, SSH settings and lines for the round-trip property
// test. Secrets typed in clear are hashed once; rendered hashes must parse back unchanged.
export function generate(rng: () => number): string[] {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng() * a.length)]!;
  const int = (lo: number, hi: number): number => lo + Math.floor(rng() * (hi - lo + 1));
  const lines: string[] = [];
  const HASHES = [
    'secret 9 $9$2MJBozw/9R3UsU$2lFhcKvpghcyw8deP25GOfyZaagyUOGBymkryvOdfo6',
    'secret 8 $8$TnGX/fE4KGHOVU$pEhnEvxrvaynpi8j4f.EMHr6M.FzU8xnZnBr/tJdFWk',
    'secret 5 $1$abcdefgh$gJuEE5kgk4GxZUtJo4ZFv1',
    'password 7 0822455D0A16',
    'password 0 plain-pw',
  ];
  for (let n = int(0, 3); n > 0; n--) {
    const priv = rng() < 0.5 ? ` privilege ${int(0, 15)}` : '';
    const cred = rng() < 0.1 ? 'secret 0 Typed-Secret' : pick(HASHES);
    lines.push(`username gen-user${n}${priv} ${cred}`);
  }
  if (rng() < 0.5) {
    lines.push('aaa new-model');
    if (rng() < 0.7) lines.push(`aaa authentication login ${pick(['default', 'VTY'])} ${pick(['local', 'local line', 'local-case enable', 'line none'])}`);
    if (rng() < 0.5) lines.push('aaa authorization exec default local');
    if (rng() < 0.3) lines.push('aaa authorization network RA local');
    if (rng() < 0.3) lines.push('aaa session-id common');
  }
  if (rng() < 0.3) lines.push(`privilege exec level ${int(0, 15)} show ${pick(['running-config', 'ip route', 'users'])}`);
  if (rng() < 0.4) lines.push(`ip ssh time-out ${int(1, 120)}`);
  if (rng() < 0.4) lines.push(`ip ssh authentication-retries ${int(0, 5)}`);
  if (rng() < 0.5) lines.push('ip ssh version 2');
  if (rng() < 0.4) lines.push('ip ssh pubkey-chain', ' username gen-user1', `  key-hash ssh-rsa ${'0123456789ABCDEF'.repeat(2)}`, '  exit', ' exit');
  if (rng() < 0.6) {
    const first = int(0, 10);
    lines.push(`line vty ${first} ${first + int(0, 20)}`);
    if (rng() < 0.5) lines.push(' login local');
    if (rng() < 0.5) lines.push(` exec-timeout ${int(0, 60)} ${int(0, 59)}`);
    if (rng() < 0.4) lines.push(` transport input ${pick(['ssh', 'none', 'all'])}`);
    if (rng() < 0.3) lines.push(` access-class ${int(1, 99)} in`);
    if (rng() < 0.3) lines.push(` session-limit ${int(1, 20)}`);
    if (rng() < 0.3) lines.push(` privilege level ${int(0, 15)}`);
    lines.push('exit');
  }
  return lines;
}
