// IKEv1's rows of `show crypto isakmp sa` and `show crypto session`, from the engine's list of
// ISAKMP SAs and the service's Child SA records (firmware/ike/session-view.ts builds the rows).
import type { IsakmpSaShow } from '../cli/commands/crypto-isakmp-sa.js';
import { effectiveIpv4 } from '../config/interface.js';
import type { Config } from '../config/model.js';
import type { ChildSaCounters, ChildSaRecord } from '../ike/child-sas.js';
import type { CryptoSessionInfo } from '../ike/session-info.js';
import { SessionTable, secondsLeft } from '../ike/session-view.js';
import type { IkeV1Engine } from '../ike/v1/engine.js';

type Phase1Row = ReturnType<IkeV1Engine['listPhase1']>[number];

/** `show crypto isakmp sa`: dst/src as IOS prints them (the initiator's view). */
export function isakmpSaRows(list: readonly Phase1Row[], now: number): IsakmpSaShow[] {
  return list.map((s) => ({
    dst: s.role === 'initiator' ? s.remote.address : s.local.address,
    src: s.role === 'initiator' ? s.local.address : s.remote.address,
    state: s.state, connId: s.connId, status: s.established ? 'ACTIVE' : 'NEGOTIATING', role: s.role, mode: s.state.startsWith('AG') ? 'aggressive' : 'main',
    ...(s.params ? { encryption: s.params.encryption, hash: s.params.hash, auth: s.params.authentication, group: s.params.group } : {}),
    ...(Number.isFinite(s.expiresAt) ? { lifetimeLeftSec: secondsLeft(s.expiresAt, now)! } : {}),
    localPort: s.local.port, remotePort: s.remote.port, natT: s.local.port === 4500,
    // `show crypto isakmp sa detail`: I-VRF (the ISAKMP profile's `vrf`)
    ...(s.fvrf !== undefined ? { fvrf: s.fvrf } : {}), ...(s.ivrf !== undefined ? { ivrf: s.ivrf } : {}),
  }));
}

/** `show crypto session`: one session per peer, its ISAKMP SAs and the flows of its SA pairs. */
export function ikev1Sessions(list: readonly Phase1Row[], children: readonly ChildSaRecord[], cfg: Config, sad: ChildSaCounters | undefined, now: number): CryptoSessionInfo[] {
  const table = new SessionTable();
  const get = (peer: string, port: number, iface: string): CryptoSessionInfo =>
    table.session(peer, () => ({ interface: iface, peer, peerPort: port, ikeSas: [], flows: [] }), iface);
  const ifaceOf = (local: string): string => Object.entries(cfg.interfaces?.items ?? {}).find(([n, i]) => i.cryptoMap && effectiveIpv4(cfg, n)?.address === local)?.[0] ?? '';
  for (const p of list) {
    const left = secondsLeft(p.expiresAt, now);
    const session = get(p.remote.address, p.remote.port, ifaceOf(p.local.address));
    // `show crypto session detail`: the front-door VRF (the local address's) and the inside
    // VRF (the matched ISAKMP profile's `vrf`)
    if (p.fvrf !== undefined) session.fvrf ??= p.fvrf;
    if (p.ivrf !== undefined) session.ivrf ??= p.ivrf;
    table.addIkeSa(session, {
      version: 'IKEv1', local: p.local.address, localPort: p.local.port, remote: p.remote.address, remotePort: p.remote.port,
      status: p.established ? 'Active' : p.state, connId: p.connId, ...(left !== undefined ? { lifetimeLeftSec: left } : {}),
      ...(p.params ? { capabilities: `${p.params.encryption} ${p.params.hash} group ${p.params.group}` } : {}),
      // D: DPD (`crypto isakmp keepalive`), N: NAT-T (IKE floated to 4500)
      capabilityCodes: `${cfg.isakmpGlobals?.keepalive ? 'D' : ''}${p.remote.port === 4500 || p.local.port === 4500 ? 'N' : ''}`,
    });
  }
  for (const c of children) table.addChild(get(c.peer, c.peerPort, c.iface), c.policyKey, c, sad);
  return table.list();
}
