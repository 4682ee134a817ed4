// IKEv2 (PSK) configuration of the two Rampart gateways of the site-to-site topology
// (test/lib/site-to-site.ts, test/dataplane-e2e/rampart-pair.ts):
//
//   hostA 10.1.0.2 -- lan0 [gwA] wan0 172.16.0.1 ===== 172.16.0.2 wan0 [gwB] lan0 -- hostB 10.2.0.2
//                     10.1.0.1 (FastEthernet0/1)  (FastEthernet0/0)        10.2.0.1
//
// One crypto map entry with `set ikev2-profile` per side, mirror images; traffic from a LAN
// starts the tunnel. `forceEncap` adds `nat force-encap` to the IKEv2 profile: ESP then runs
// in UDP 4500 between the gateways although there is no NAT (one side forcing is enough).
import { ADDR } from './rampart-pair.js';

export interface Ikev2PairOptions {
  /** `nat force-encap` in this side's IKEv2 profile. */
  forceEncap?: boolean;
  /** transform-set transforms (default `esp-gcm 256`). */
  transform?: string;
  /** IKEv2 proposal lines (default aes-cbc-256 / sha256 / group 14). */
  ikeProposal?: readonly string[];
  psk?: string;
  /** `set pfs groupN` on the map entry. */
  pfsGroup?: number;
  /** `set security-association lifetime seconds N` on the map entry. */
  lifetimeSec?: number;
}

export const IKEV2_PAIR_PSK = 'rampart-ikev2-pair-psk';

/** Config-mode lines (without `configure terminal` / `end`) for gateway A or B. */
export function ikev2PairConfig(side: 'A' | 'B', opts: Ikev2PairOptions = {}): string[] {
  const a = side === 'A';
  const wan = a ? ADDR.gwAWan : ADDR.gwBWan;
  const peer = a ? ADDR.gwBWan : ADDR.gwAWan;
  const lan = a ? ADDR.gwALan : ADDR.gwBLan;
  const lanNet = a ? '10.1.0.0' : '10.2.0.0';
  const remoteNet = a ? '10.2.0.0' : '10.1.0.0';
  const proposal = opts.ikeProposal ?? ['encryption aes-cbc-256', 'integrity sha256', 'group 14'];
  return [
    `hostname gw${side}`,
    'crypto ikev2 proposal PROP1', ...proposal.map((l) => ` ${l}`), 'exit',
    'crypto ikev2 policy POL1', ' proposal PROP1', 'exit',
    'crypto ikev2 keyring KR1', ` peer gw${a ? 'B' : 'A'}`, `  address ${peer}`, `  pre-shared-key ${opts.psk ?? IKEV2_PAIR_PSK}`, ' exit', 'exit',
    'crypto ikev2 profile PROF1',
    ` match identity remote address ${peer} 255.255.255.255`,
    ` identity local address ${wan}`,
    ' authentication local pre-share',
    ' authentication remote pre-share',
    ' keyring local KR1',
    ...(opts.forceEncap ? [' nat force-encap'] : []),
    'exit',
    `crypto ipsec transform-set TS1 ${opts.transform ?? 'esp-gcm 256'}`, 'exit',
    `access-list 101 permit ip ${lanNet} 0.0.0.255 ${remoteNet} 0.0.0.255`,
    'crypto map CM 10 ipsec-isakmp',
    ` set peer ${peer}`,
    ' set transform-set TS1',
    ' set ikev2-profile PROF1',
    ' match address 101',
    ...(opts.pfsGroup !== undefined ? [` set pfs group${opts.pfsGroup}`] : []),
    ...(opts.lifetimeSec !== undefined ? [` set security-association lifetime seconds ${opts.lifetimeSec}`] : []),
    'exit',
    'interface FastEthernet0/1', ` ip address ${lan} 255.255.255.0`, ' no shutdown', 'exit',
    'interface FastEthernet0/0', ` ip address ${wan} 255.255.255.0`, ' crypto map CM', ' no shutdown', 'exit',
  ];
}
