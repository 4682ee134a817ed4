// The guide's static VTI example ("Example: Static Virtual Tunnel Interface with IPsec", the
// 7206 / 1750 pair) adapted to the Rampart pair topology (test/dataplane-e2e/rampart-pair.ts):
//
//   hostA 10.1.0.2 -- [gwA] 172.16.0.1 ===== 172.16.0.2 [gwB] -- hostB 10.2.0.2
//                      Tunnel0 10.0.51.1/24  <-->  Tunnel0 10.0.51.2/24
//
// gwA names its tunnel source as an interface (`tunnel source FastEthernet0/0`), gwB as an
// address (the guide's form); `ip route <other LAN> Tunnel0` on both. IKEv2 through
// `set ikev2-profile` in the IPsec profile, or IKEv1 through ISAKMP policy + wildcard key.
import { ADDR } from '../dataplane-e2e/rampart-pair.js';

export const VTI_ADDR = { tunA: '10.0.51.1', tunB: '10.0.51.2' } as const;
export const VTI_PSK = 'rampart-vti-psk';

export interface VtiPairOptions {
  ike: 1 | 2;
  /** transform set (default esp-aes 256 esp-sha-hmac: both IKE versions can offer it) */
  transform?: string;
  /** extra interface lines for Tunnel0 */
  tunnelLines?: readonly string[];
}

/** Crypto lines (IKE + transform set + IPsec profile P1) for one side. */
export function vtiCryptoLines(side: 'A' | 'B', o: VtiPairOptions): string[] {
  const peer = side === 'A' ? ADDR.gwBWan : ADDR.gwAWan;
  const local = side === 'A' ? ADDR.gwAWan : ADDR.gwBWan;
  const ike = o.ike === 2
    ? [
      'crypto ikev2 proposal PROP1', ' encryption aes-cbc-256', ' integrity sha256', ' group 14', 'exit',
      'crypto ikev2 policy POL1', ' proposal PROP1', 'exit',
      'crypto ikev2 keyring KR1', ' peer PEER', `  address ${peer}`, `  pre-shared-key ${VTI_PSK}`, ' exit', 'exit',
      'crypto ikev2 profile IKEV2P',
      ` match identity remote address ${peer} 255.255.255.255`, ` identity local address ${local}`,
      ' authentication local pre-share', ' authentication remote pre-share', ' keyring local KR1', 'exit',
    ]
    : [
      'crypto isakmp policy 1', ' encr aes 256', ' hash sha', ' authentication pre-share', ' group 14', 'exit',
      `crypto isakmp key ${VTI_PSK} address 0.0.0.0 0.0.0.0`,
    ];
  return [
    ...ike,
    `crypto ipsec transform-set T1 ${o.transform ?? 'esp-aes 256 esp-sha-hmac'}`, 'exit',
    'crypto ipsec profile P1', ' set transform-set T1', ...(o.ike === 2 ? [' set ikev2-profile IKEV2P'] : []), 'exit',
  ];
}

/** The whole configuration of one gateway (config-mode lines). */
export function vtiPairConfig(side: 'A' | 'B', o: VtiPairOptions): string[] {
  const a = side === 'A';
  return [
    `hostname gw${side}`,
    ...vtiCryptoLines(side, o),
    'interface FastEthernet0/1', ` ip address ${a ? ADDR.gwALan : ADDR.gwBLan} 255.255.255.0`, ' no shutdown', 'exit',
    'interface FastEthernet0/0', ` ip address ${a ? ADDR.gwAWan : ADDR.gwBWan} 255.255.255.0`, ' no shutdown', 'exit',
    'interface Tunnel0',
    ` ip address ${a ? VTI_ADDR.tunA : VTI_ADDR.tunB} 255.255.255.0`,
    a ? ' tunnel source FastEthernet0/0' : ` tunnel source ${ADDR.gwBWan}`,
    ` tunnel destination ${a ? ADDR.gwBWan : ADDR.gwAWan}`,
    ' tunnel mode ipsec ipv4',
    ' tunnel protection ipsec profile P1',
    ...(o.tunnelLines ?? []),
    'exit',
    `ip route ${a ? '10.2.0.0' : '10.1.0.0'} 255.255.255.0 Tunnel0`,
  ];
}

/** `Tunnel0 is up, line protocol is up` -> { status, protocol }. */
export function tunnelState(show: string, name = 'Tunnel0'): { status: string; protocol: string } | undefined {
  const m = new RegExp(`${name} is ([a-z ]+), line protocol is (\\w+)`).exec(show);
  return m ? { status: m[1]!, protocol: m[2]! } : undefined;
}

/** Packet counters of `show interfaces`. */
export function interfaceCounters(show: string): { inPackets: number; outPackets: number; inBytes: number; outBytes: number } {
  const i = /(\d+) packets input, (\d+) bytes/.exec(show);
  const o = /(\d+) packets output, (\d+) bytes/.exec(show);
  return { inPackets: Number(i?.[1] ?? NaN), inBytes: Number(i?.[2] ?? NaN), outPackets: Number(o?.[1] ?? NaN), outBytes: Number(o?.[2] ?? NaN) };
}
