// Firmware versions are dotted numbers with an optional suffix (`0.2.0`, `1.4.10-rc1`):
// compared number by number; a suffixed version comes before the plain one.

export function compareVersions(a: string, b: string): number {
  const split = (v: string) => {
    const m = /^(\d+(?:\.\d+)*)(?:[-+](.*))?$/.exec(v);
    return { nums: (m?.[1] ?? '0').split('.').map(Number), suffix: m?.[2] };
  };
  const x = split(a), y = split(b);
  for (let i = 0; i < Math.max(x.nums.length, y.nums.length); i++) {
    const d = (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (x.suffix === y.suffix) return 0;
  if (x.suffix === undefined) return 1;
  if (y.suffix === undefined) return -1;
  return x.suffix < y.suffix ? -1 : 1;
}
