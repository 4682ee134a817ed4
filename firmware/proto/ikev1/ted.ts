// Tunnel Endpoint Discovery (TED) messages, Rampart's own wire format (docs/ted-wire-format.md).
// Cisco's TED is proprietary and its payloads are not in the public dissectors we checked, so
// Rampart defines one on the ISAKMP framing: header version 1.0, exchange type TED_EXCHANGE
// (240-255 is ISAKMP's private-use range), message ID 0, no encryption, three ID payloads.
//
//   probe: I-cookie = probe id (random), R-cookie = 0;
//          ID_IPV4_ADDR source host, ID_IPV4_ADDR destination host, ID_IPV4_ADDR prober
//   reply: I-cookie = the probe's, R-cookie = random (non-zero);
//          ID_IPV4_ADDR_SUBNET the responder's half proxy (its protected network),
//          ID_IPV4_ADDR the probed destination host, ID_IPV4_ADDR the responder's IKE address
import { bytesToIpv4, idIpv4Addr, idIpv4Subnet, maskToPrefix } from './identity.js';
import { IdType, PayloadType } from './constants.js';
import { IsakmpDecodeError } from './errors.js';
import { decodeMessage, encodeMessage } from './message.js';
import { isKnown, type IdPayload } from './payloads.js';

export const TED_EXCHANGE = 242;

export interface TedProbe {
  kind: 'probe';
  /** 8 bytes */
  probeId: Uint8Array;
  srcHost: string;
  dstHost: string;
  prober: string;
}

export interface TedReply {
  kind: 'reply';
  probeId: Uint8Array;
  replyId: Uint8Array;
  /** The responder's half proxy: network and prefix length. */
  proxy: { addr: string; prefixLen: number };
  dstHost: string;
  responder: string;
}

export type TedMessage = TedProbe | TedReply;

export class TedDecodeError extends IsakmpDecodeError {}

const fields = (i: Uint8Array, r: Uint8Array) => ({ initiatorCookie: i, responderCookie: r, exchangeType: TED_EXCHANGE, flags: 0, messageId: 0 });

export function encodeTed(m: TedMessage): Uint8Array {
  if (m.probeId.length !== 8) throw new RangeError('TED probe id must be 8 bytes');
  if (m.kind === 'probe') {
    return encodeMessage(fields(m.probeId, new Uint8Array(8)), [idIpv4Addr(m.srcHost), idIpv4Addr(m.dstHost), idIpv4Addr(m.prober)]);
  }
  if (m.replyId.length !== 8 || m.replyId.every((b) => b === 0)) throw new RangeError('TED reply id must be 8 non-zero bytes');
  return encodeMessage(fields(m.probeId, m.replyId), [idIpv4Subnet(m.proxy.addr, m.proxy.prefixLen), idIpv4Addr(m.dstHost), idIpv4Addr(m.responder)]);
}

/** True when the datagram is an ISAKMP message of the TED exchange (cheap header check). */
export function isTedDatagram(d: Uint8Array): boolean {
  return d.length >= 28 && d[17] === 0x10 && d[18] === TED_EXCHANGE;
}

function addr(p: IdPayload, at: string): string {
  if (p.idType !== IdType.ID_IPV4_ADDR || p.data.length !== 4) throw new TedDecodeError(`${at}: not an ID_IPV4_ADDR`, 0);
  return bytesToIpv4(p.data);
}

/** Decodes a TED probe or reply; throws TedDecodeError (or another IsakmpDecodeError) on anything else. */
export function decodeTed(d: Uint8Array): TedMessage {
  const msg = decodeMessage(d);
  const h = msg.header;
  if (h.exchangeType !== TED_EXCHANGE || h.messageId !== 0 || h.flags !== 0) throw new TedDecodeError('not a TED message', 18);
  const ids = msg.payloads.filter((p): p is IdPayload & { body: Uint8Array; start: number; end: number } => isKnown(p) && p.type === PayloadType.ID);
  if (ids.length !== 3 || msg.payloads.length !== 3) throw new TedDecodeError(`TED needs exactly 3 ID payloads, got ${msg.payloads.length}`, 28);
  const probeId = h.initiatorCookie.slice();
  const r = h.responderCookie;
  if (r.every((b) => b === 0)) {
    return { kind: 'probe', probeId, srcHost: addr(ids[0]!, 'source host'), dstHost: addr(ids[1]!, 'destination host'), prober: addr(ids[2]!, 'prober') };
  }
  const sub = ids[0]!;
  if (sub.idType !== IdType.ID_IPV4_ADDR_SUBNET || sub.data.length !== 8) throw new TedDecodeError('reply proxy: not an ID_IPV4_ADDR_SUBNET', 28);
  const prefixLen = maskToPrefix(sub.data.subarray(4, 8));
  if (prefixLen < 0) throw new TedDecodeError('reply proxy: mask is not a prefix', 28);
  return {
    kind: 'reply', probeId, replyId: r.slice(), proxy: { addr: bytesToIpv4(sub.data), prefixLen },
    dstHost: addr(ids[1]!, 'destination host'), responder: addr(ids[2]!, 'responder'),
  };
}
