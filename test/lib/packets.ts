// Inner IPv4 packets for tests that feed a data plane directly (no hosts, no sockets).

/** An IPv4 packet (header checksum filled in) around `payload`. */
export function ipv4Packet(src: string, dst: string, proto: number, payload: Uint8Array): Uint8Array {
  const p = new Uint8Array(20 + payload.length);
  p[0] = 0x45; p[2] = p.length >> 8; p[3] = p.length & 255; p[8] = 64; p[9] = proto;
  p.set(src.split('.').map(Number), 12); p.set(dst.split('.').map(Number), 16);
  let sum = 0;
  for (let i = 0; i < 20; i += 2) sum += (p[i]! << 8) | p[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const ck = ~sum & 0xffff;
  p[10] = ck >> 8; p[11] = ck & 255;
  p.set(payload, 20);
  return p;
}

/** An ICMP echo request with sequence number `seq`. */
export function icmpEcho(src: string, dst: string, seq = 1): Uint8Array {
  return ipv4Packet(src, dst, 1, Uint8Array.from([8, 0, 0, 0, 0, 1, seq >> 8, seq & 255, 1, 2, 3, 4]));
}
