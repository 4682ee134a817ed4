// IKEv2's rows of `show crypto ikev2 sa` and `show crypto session`, from the engine's list of
// IKE SAs, the mapped configuration and the service's Child SA records.
import type { Ikev2SaShow } from '../cli/commands/crypto-ikev2-sa.js';
import type { ChildSaCounters, ChildSaRecord, ChildSaTable } from '../ike/child-sas.js';
import type { CryptoSessionInfo } from '../ike/session-info.js';
import { SessionTable } from '../ike/session-view.js';
import type { IkeSaInfo } from '../ike/v2/index.js';
import type { MappedIkev2Config } from './ikev2-config.js';

const ENCR_IOS: Record<string, [string, number]> = {
  ENCR_AES_CBC_128: ['AES-CBC', 128], ENCR_AES_CBC_192: ['AES-CBC', 192], ENCR_AES_CBC_256: ['AES-CBC', 256],
  ENCR_AES_GCM_16_128: ['AES-GCM', 128], ENCR_AES_GCM_16_192: ['AES-GCM', 192], ENCR_AES_GCM_16_256: ['AES-GCM', 256],
  ENCR_3DES: ['3DES', 0], ENCR_DES: ['DES', 0],
};

function hashName(rfc: string | undefined): string {
  if (!rfc) return 'None';
  const m = /(MD5|SHA1|SHA2_256|SHA2_384|SHA2_512|AES_XCBC)/.exec(rfc);
  return m ? m[1]!.replace('SHA2_', 'SHA') : rfc;
}

function spiHex(v: bigint): string {
  return v.toString(16).toUpperCase().padStart(16, '0');
}

/** `show crypto ikev2 sa [detailed]`. */
export function ikev2SaRows(list: readonly IkeSaInfo[], mapped: MappedIkev2Config, now: number): Ikev2SaShow[] {
  return list.map((s) => {
    const [encr, keySize] = ENCR_IOS[s.encryption ?? ''] ?? [s.encryption ?? 'unknown', 0];
    const dpd = mapped.config.connections.find((c) => c.name === s.connection)?.dpd;
    const meta = mapped.meta.get(s.connection);
    const row: Ikev2SaShow = {
      tunnelId: s.ikeSaId, local: s.localAddress, localPort: s.localPort, remote: s.remoteAddress, remotePort: s.remotePort,
      fvrf: meta?.showFvrf ?? 'none', ivrf: meta?.showIvrf ?? 'none', status: s.state === 'established' ? 'READY' : s.state === 'connecting' ? 'IN-NEG' : 'DELETE',
      encr, keySize, prf: hashName(s.prf), hash: hashName(s.integrity), dhGroup: s.dhGroup ?? 0,
      authSign: 'PSK', authVerify: 'PSK', lifetimeSec: s.lifetimeSec,
      activeSec: Math.max(0, Math.floor((now - (s.establishedAtMs ?? s.createdAtMs)) / 1000)),
      localSpi: spiHex(s.initiator ? s.spiI : s.spiR), remoteSpi: spiHex(s.initiator ? s.spiR : s.spiI),
      localId: s.localId ?? s.localAddress, remoteId: s.remoteId ?? s.remoteAddress, initiator: s.initiator,
      natLocal: s.natLocal, natRemote: s.natRemote, childSas: s.childIds.length, connection: s.connection,
    };
    const prof = mapped.meta.get(s.connection)?.profile;
    if (prof) row.profile = prof;
    if (dpd) row.dpd = `${dpd.intervalSec} seconds, retry ${dpd.retrySec} (${dpd.mode})`;
    return row;
  });
}

/**
 * `show crypto session`: one session per peer address and port, its IKE SAs and a flow per
 * Child SA (one the data plane has not got yet counts as its pair, with no packets).
 */
export function ikev2Sessions(list: readonly IkeSaInfo[], mapped: MappedIkev2Config, children: ChildSaTable<ChildSaRecord>,
  virtualAccessOf: (ikeSaId: number) => string | undefined, sad: ChildSaCounters | undefined, now: number): CryptoSessionInfo[] {
  const table = new SessionTable();
  for (const s of list) {
    const meta = mapped.meta.get(s.connection);
    const sess = table.session(`${s.remoteAddress}|${s.remotePort}`, () => ({
      interface: virtualAccessOf(s.ikeSaId) ?? meta?.iface ?? '', peer: s.remoteAddress, peerPort: s.remotePort, ikeSas: [], flows: [],
      ...(meta ? { profile: meta.profile } : {}), ...(s.remoteId ? { peerId: s.remoteId } : {}),
      ...(meta?.showFvrf !== undefined ? { fvrf: meta.showFvrf } : {}), ...(meta?.showIvrf !== undefined ? { ivrf: meta.showIvrf } : {}),
    }));
    const [encr, bits] = ENCR_IOS[s.encryption ?? ''] ?? [s.encryption ?? '', 0];
    const left = s.establishedAtMs !== undefined ? Math.max(0, Math.floor(s.lifetimeSec - (now - s.establishedAtMs) / 1000)) : undefined;
    table.addIkeSa(sess, {
      version: 'IKEv2', local: s.localAddress, localPort: s.localPort, remote: s.remoteAddress, remotePort: s.remotePort,
      status: s.state === 'established' ? 'Active' : s.state === 'connecting' ? 'IN-NEG' : 'DELETE', connId: s.ikeSaId,
      ...(left !== undefined ? { lifetimeLeftSec: left } : {}),
      capabilities: `${encr.toLowerCase()}${bits ? ` ${bits}` : ''} ${hashName(s.integrity ?? s.prf).toLowerCase()} group ${s.dhGroup ?? 0}`,
      // N: NAT-T (a NAT seen, or forced, on either side)
      capabilityCodes: s.natLocal || s.natRemote ? 'N' : '',
    });
    for (const id of s.childIds) {
      const rec = children.get(id);
      const text = rec?.flowText ?? meta?.aceText;
      if (text === undefined) continue;
      table.addFlow(sess, text, text, 2, rec ? sad?.get(rec.outboundId)?.counters.encapsPkts ?? 0 : 0, rec ? sad?.get(rec.inboundId)?.counters.decapsPkts ?? 0 : 0);
    }
  }
  return table.list();
}
