// RFC 3947 NAT traversal: vendor IDs, NAT-D payloads, NAT detection and the float to port 4500
// (the socket layer adds the non-ESP marker). Also the DPD vendor ID (RFC 3706).
import { NAT_T_PORT, PayloadType, VENDOR_ID_DPD, VENDOR_ID_NAT_T_DRAFT_02N, VENDOR_ID_NAT_T_RFC3947, bytesEqual, ipv4ToBytes, type DecodedPayload, type Payload } from '../../proto/ikev1/index.js';
import { emitDebug } from './debug.js';
import { natdHash } from './keys.js';
import type { Datagram, Phase1 } from './types.js';
import type { V1Context } from './context.js';

const VENDOR_IDS_OUT = [VENDOR_ID_NAT_T_RFC3947, VENDOR_ID_NAT_T_DRAFT_02N, VENDOR_ID_DPD];

export function vids(ctx: V1Context): Payload[] {
  const out: Payload[] = [];
  for (const v of VENDOR_IDS_OUT) {
    if (v !== VENDOR_ID_DPD && ctx.settings.natTraversal === false) continue;
    out.push({ type: PayloadType.VID, data: v });
  }
  return out;
}

export function readVids(ctx: V1Context, sa: Phase1, msg: DecodedPayload[]): void {
  for (const p of msg) {
    if (p.type !== PayloadType.VID) continue;
    const data = (p as unknown as { data: Uint8Array }).data;
    if (bytesEqual(data, VENDOR_ID_NAT_T_RFC3947)) sa.peerRfc3947 = true;
    else if (bytesEqual(data, VENDOR_ID_NAT_T_DRAFT_02N)) sa.peerNatTDraft = true;
    else if (bytesEqual(data, VENDOR_ID_DPD)) sa.peerDpd = true;
  }
  if (ctx.settings.natTraversal === false) {
    sa.peerRfc3947 = false;
    sa.peerNatTDraft = false;
  }
}

export function natdPayloads(ctx: V1Context, sa: Phase1): Payload[] {
  if (!sa.peerRfc3947 && !sa.peerNatTDraft) return [];
  const type = sa.peerRfc3947 ? PayloadType.NAT_D : PayloadType.NAT_D_DRAFT;
  const ckyR = sa.ckyR;
  const remote = natdHash(sa.hash!, sa.ckyI, ckyR, ipv4ToBytes(sa.remote.address), sa.remote.port);
  let local = natdHash(sa.hash!, sa.ckyI, ckyR, ipv4ToBytes(sa.local.address), sa.local.port);
  if (ctx.settings.forceEncap) local = ctx.random(local.length);
  return [{ type, data: remote }, { type, data: local }];
}

export function checkNatd(ctx: V1Context, sa: Phase1, msg: DecodedPayload[], d: Datagram): void {
  const natd = msg.filter((p) => p.type === PayloadType.NAT_D || p.type === PayloadType.NAT_D_DRAFT) as unknown as { data: Uint8Array }[];
  if (natd.length < 2 || (!sa.peerRfc3947 && !sa.peerNatTDraft)) return;
  const h = sa.hash!;
  const mine = natdHash(h, sa.ckyI, sa.ckyR, ipv4ToBytes(d.local.address), d.local.port);
  const theirs = natdHash(h, sa.ckyI, sa.ckyR, ipv4ToBytes(d.remote.address), d.remote.port);
  sa.natLocal = !bytesEqual(natd[0]!.data, mine) || !!ctx.settings.forceEncap;
  sa.natRemote = !natd.slice(1).some((n) => bytesEqual(n.data, theirs));
  if (sa.natLocal || sa.natRemote) {
    emitDebug(ctx.debug(sa, sa.connId), `NAT found: ${sa.natLocal ? 'local side' : ''}${sa.natLocal && sa.natRemote ? ' and ' : ''}${sa.natRemote ? 'peer' : ''} behind NAT`);
  }
}

export function floatIfNeeded(ctx: V1Context, sa: Phase1): void {
  if ((sa.natLocal || sa.natRemote) && sa.local.port !== NAT_T_PORT) {
    sa.local = { ...sa.local, port: NAT_T_PORT };
    sa.remote = { ...sa.remote, port: NAT_T_PORT };
    emitDebug(ctx.debug(sa, sa.connId), `floating to port ${NAT_T_PORT}`);
  }
}
