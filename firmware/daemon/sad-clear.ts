// What `clear crypto sa [peer A | map M [seq] | spi A esp|ah|pcp N]` removes from the SAD
// (the IKE services send their Deletes first: runtime-view.ts orders the clearers).
import type { ClearCryptoSaFilter } from '../cli/commands/crypto-ipsec-sa.js';
import type { IpsecSa } from '../ipsec/ipsec-sa.js';
import type { Sad } from '../ipsec/sad.js';
import { formatIp, IPPROTO_AH, IPPROTO_ESP, IPPROTO_IPCOMP, parseIp, type IpAddr } from '../ipsec/selector.js';

/** Deletes the SAs the filter selects; how many went. */
export function clearSad(sad: Sad<IpsecSa>, filter: ClearCryptoSaFilter): number {
  if (filter.kind === 'all') return sad.clear('cleared');
  if (filter.kind === 'peer') return sad.deleteWhere((sa) => formatIp(sa.peer) === filter.peer);
  if (filter.kind === 'map') return sad.deleteWhere((sa) => sa.mapName === filter.map && (filter.seq === undefined || sa.mapSeq === filter.seq));
  const proto = filter.protocol === 'esp' ? IPPROTO_ESP : filter.protocol === 'ah' ? IPPROTO_AH : IPPROTO_IPCOMP;
  let dst: IpAddr;
  try { dst = parseIp(filter.destination); } catch { return 0; }
  const sa = sad.findEntry(dst, proto, filter.spi);
  return sa && sad.delete(sa, 'cleared') ? 1 : 0;
}
