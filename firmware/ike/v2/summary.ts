// Short, secret-free text summaries of payloads (for diagnosis "last sent" and debug logs).
import { notifyName, PayloadType, payloadName, type AnyPayload } from '../../proto/ikev2/index.js';
import { transformName } from './algorithms.js';
import { formatSelector } from './selectors.js';
import { identityToString } from './identity.js';

export function summarizePayloads(payloads: readonly AnyPayload[]): string[] {
  const out: string[] = [];
  for (const p of payloads) {
    if ('raw' in p) {
      out.push(`${payloadName(p.type)} (${p.raw.length} bytes)`);
      continue;
    }
    switch (p.type) {
      case PayloadType.SA:
        for (const pr of p.proposals) {
          out.push(`SA proposal #${pr.num} protocol ${pr.protocolId}: ${pr.transforms.map(transformName).join(' ')}`);
        }
        break;
      case PayloadType.KE: out.push(`KE group ${p.dhGroup}`); break;
      case PayloadType.IDi:
      case PayloadType.IDr: out.push(`${payloadName(p.type)} ${identityToString({ idType: p.idType, data: p.data })}`); break;
      case PayloadType.AUTH: out.push(`AUTH method ${p.method}`); break;
      case PayloadType.NONCE: out.push(`Nonce (${p.data.length} bytes)`); break;
      case PayloadType.NOTIFY: out.push(`N(${notifyName(p.notifyType)})`); break;
      case PayloadType.DELETE: out.push(`D protocol ${p.protocolId} (${p.spis.length} SPIs)`); break;
      case PayloadType.TSi:
      case PayloadType.TSr: out.push(`${payloadName(p.type)} ${p.selectors.map(formatSelector).join(', ')}`); break;
      default: out.push(payloadName(p.type));
    }
  }
  return out;
}
