// What the IKEv1 benches share: the Rampart responder's configuration (10.81.1.1 on r0, one
// crypto map entry for the initiator slots) and the load tool's setup-mode configuration.
import type { LoadToolConfig } from '../../../test/ikev1-interop/load-tool.js';

/** IOS lines of the responder; `extraKeys` are more `crypto isakmp key` address/mask pairs. */
export function ikev1ResponderConfig(psk: string, slots: number[], extraKeys: string[] = []): string[] {
  return [
    'hostname r',
    'crypto isakmp policy 10', ' encryption aes', ' hash sha256', ' group 14', ' authentication pre-share', 'exit',
    `crypto isakmp key ${psk} address 10.81.1.0 255.255.255.0`,
    ...extraKeys.map((k) => `crypto isakmp key ${psk} address ${k}`),
    'crypto ipsec transform-set ts esp-aes esp-sha-hmac', 'exit',
    'access-list 101 permit ip 192.168.42.0 0.0.0.255 192.168.41.0 0.0.0.255',
    'crypto map m 10 ipsec-isakmp', ...slots.map((k) => ` set peer 10.81.1.${k}`), ' set transform-set ts', ' match address 101', 'exit',
    'interface FastEthernet0/0', ' ip address 10.81.1.1 255.255.255.0', ' crypto map m', ' no shutdown', 'exit',
  ];
}

/** The load tool in setup mode with one slot per address (main mode aes128/sha256/group14 + quick mode). */
export function ikev1SetupLoad(psk: string, locals: string[], remote: string, durationMs: number): LoadToolConfig {
  return {
    mode: 'setup', psk, locals, remote,
    policy: { priority: 10, encryption: 'aes128', hash: 'sha256', authentication: 'pre-share', group: 14, lifetimeSec: 86400 },
    set: { name: 'ts', esp: { cipher: 'esp-aes', keyLenBits: 128, integrity: 'sha' }, mode: 'tunnel' },
    localSel: { addr: '192.168.41.0', prefixLen: 24, protocol: 0, port: 0 },
    localSels: locals.map((_, i) => ({ addr: `192.168.41.${i * 16}`, prefixLen: 28, protocol: 0, port: 0 })),
    remoteSel: { addr: '192.168.42.0', prefixLen: 24, protocol: 0, port: 0 },
    durationMs,
  };
}
