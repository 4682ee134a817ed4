// A Child SA's traffic selectors in the data plane's terms: the flow its pair serves, and the
// prefixes a dynamic VTI routes into its Virtual-Access interface.
import type { TrafficSelector as TsPayloadSelector } from '../../proto/ikev2/index.js';
import { rangeAddr, type TrafficSelector } from '../../ipsec/selector.js';
import { formatIp } from './selectors.js';

/** `A.B.C.D/len` when [start, end] is one prefix. */
export function selectorCidr(start: string, end: string): string | undefined {
  const v = (x: string): number => x.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(start)) return undefined;
  const lo = v(start), hi = v(end);
  const span = hi - lo + 1;
  if (span <= 0 || (span & (span - 1)) !== 0 && span !== 2 ** 32 || lo % span !== 0) return undefined;
  return `${start}/${32 - Math.log2(span)}`;
}

/** The flow (local -> remote) of the first selector pair. */
export function scopeFromPayload(local: TsPayloadSelector, remote: TsPayloadSelector): TrafficSelector {
  return {
    family: local.startAddress.length === 16 ? 6 : 4,
    src: rangeAddr(formatIp(local.startAddress), formatIp(local.endAddress)),
    dst: rangeAddr(formatIp(remote.startAddress), formatIp(remote.endAddress)),
    proto: local.ipProtocol || remote.ipProtocol,
    srcPorts: { lo: local.startPort, hi: local.endPort },
    dstPorts: { lo: remote.startPort, hi: remote.endPort },
  };
}

/** The remote selectors' prefixes a Virtual-Access routes (not `any`). */
export function remotePrefixes(tsRemote: readonly TsPayloadSelector[]): string[] {
  return tsRemote.flatMap((ts) => {
    const cidr = selectorCidr(formatIp(ts.startAddress), formatIp(ts.endAddress));
    return cidr && !cidr.endsWith('/0') ? [cidr] : [];
  });
}
