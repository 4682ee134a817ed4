// The shared view of IKE sessions (IKEv1 and IKEv2) that `show crypto session [detail]` and
// `clear crypto session` read. Each IKE service implements IkeSessionSource and pushes itself
// into `runtime.ikeSessionSources` when it starts. Plain data, no secrets.

/** One IPsec flow (a permit entry / proxy identity pair) of a session. */
export interface CryptoSessionFlow {
  /** IOS text of the flow, e.g. "permit ip 10.0.1.0/255.255.255.0 10.0.2.0/255.255.255.0" */
  text: string;
  /** Number of SAs up for this flow (inbound + outbound; IOS "Active SAs: 2") */
  activeSas: number;
  /** `Origin: crypto map` | `Origin: ipsec profile` ... */
  origin: 'crypto map' | 'ipsec profile' | 'dynamic crypto map';
  /** counters (packets) when the data plane reports them */
  encryptedPackets?: number;
  decryptedPackets?: number;
  droppedPackets?: number;
  /** remaining lifetime of the newest inbound / outbound SA (kilobytes, seconds) */
  inboundLife?: { kb?: number; sec?: number };
  outboundLife?: { kb?: number; sec?: number };
}

export interface CryptoSessionIkeSa {
  version: 'IKEv1' | 'IKEv2';
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
  /** 'Active' when established, else the negotiation state name */
  status: string;
  connId: number;
  /** seconds of lifetime left, if known */
  lifetimeLeftSec?: number;
  /** e.g. "aes256 sha group 2" (JSON output) */
  capabilities?: string;
  /** IOS capability codes of `show crypto session detail` (D, N, F, ...), '' = none */
  capabilityCodes?: string;
}

export interface CryptoSessionInfo {
  /** canonical interface name ("FastEthernet0/0") or '' when unknown */
  interface: string;
  peer: string;
  peerPort: number;
  /** front-door / inside VRF names when not global */
  fvrf?: string;
  ivrf?: string;
  /** profile name (ISAKMP / IKEv2 profile) if any */
  profile?: string;
  /** phase-1 identity of the peer */
  peerId?: string;
  ikeSas: CryptoSessionIkeSa[];
  flows: CryptoSessionFlow[];
}

export interface IkeSessionSource {
  /** 'ikev1' | 'ikev2' */
  readonly name: string;
  sessions(): CryptoSessionInfo[];
  /** `clear crypto session [remote A]`: send DELETEs and remove state (all peers when undefined). */
  clearSessions?(peer?: string): void;
}

/** IOS "UP-ACTIVE" / "UP-IDLE" / "UP-NO-IKE" / "DOWN-NEGOTIATING" / "DOWN". */
export function sessionStatus(s: CryptoSessionInfo): string {
  const ikeUp = s.ikeSas.some((i) => i.status === 'Active');
  const ipsecUp = s.flows.some((f) => f.activeSas > 0);
  if (ikeUp && ipsecUp) return 'UP-ACTIVE';
  if (ikeUp) return 'UP-IDLE';
  if (ipsecUp) return 'UP-NO-IKE';
  if (s.ikeSas.length > 0) return 'DOWN-NEGOTIATING';
  return 'DOWN';
}
