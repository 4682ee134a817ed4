// Random valid global settings for the round-trip property test.
export function generate(rng: () => number): string[] {
  const pick = <T>(a: T[]): T => a[Math.floor(rng() * a.length)]!;
  const lines = [`hostname ${pick(['R1', 'Branch-7', 'hq', 'edge01'])}`];
  if (rng() < 0.5) lines.push('no ip domain lookup');
  if (rng() < 0.3) lines.push('service password-encryption');
  if (rng() < 0.5) lines.push(`enable password ${pick(['cisco', 'Secr3t', 'x'])}`);
  if (rng() < 0.3) lines.push('no service timestamps debug');
  return lines;
}
