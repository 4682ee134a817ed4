// `ip tcp adjust-mss N`: the MSS option of TCP SYNs crossing an interface is lowered to N,
// so hosts behind a tunnel pick segments that fit its MTU without fragmentation. Done in
// place on the IPv4 packet, the TCP checksum updated incrementally (RFC 1624).

/** Lowers the MSS option of an IPv4 TCP SYN to `mss`. Returns true when the packet changed. */
export function clampTcpMss(p: Uint8Array, mss: number): boolean {
  if (p.length < 40 || p[0]! >> 4 !== 4 || p[9] !== 6) return false;
  const ihl = (p[0]! & 0x0f) * 4;
  // fragments other than the first have no TCP header
  if (((p[6]! & 0x1f) | p[7]!) !== 0) return false;
  const t = ihl;
  if (p.length < t + 20 || (p[t + 13]! & 0x02) === 0) return false;
  const doff = (p[t + 12]! >> 4) * 4;
  if (doff < 20 || p.length < t + doff) return false;
  let i = t + 20;
  const end = t + doff;
  while (i < end) {
    const kind = p[i]!;
    if (kind === 0) return false;
    if (kind === 1) { i++; continue; }
    if (i + 1 >= end) return false;
    const len = p[i + 1]!;
    if (len < 2 || i + len > end) return false;
    if (kind === 2 && len === 4) {
      const old = (p[i + 2]! << 8) | p[i + 3]!;
      if (old <= mss) return false;
      p[i + 2] = mss >> 8;
      p[i + 3] = mss & 0xff;
      // HC' = ~(~HC + ~m + m') (RFC 1624, eqn. 3); a value at an odd offset of the segment
      // contributes its bytes swapped to the 16-bit sum
      const odd = ((i + 2 - t) & 1) === 1;
      const w = (v: number): number => (odd ? ((v & 0xff) << 8) | (v >> 8) : v);
      const at = t + 16;
      let sum = (~((p[at]! << 8) | p[at + 1]!) & 0xffff) + (~w(old) & 0xffff) + w(mss);
      sum = (sum & 0xffff) + (sum >>> 16);
      sum = (sum & 0xffff) + (sum >>> 16);
      const hc = ~sum & 0xffff;
      p[at] = hc >> 8;
      p[at + 1] = hc & 0xff;
      return true;
    }
    i += len;
  }
  return false;
}
