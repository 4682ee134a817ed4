// What the data plane says about its SAs as they come and go: `debug crypto engine` lines (SA
// created from keys, expired, deleted, a packet refused), each with both SPIs of its flow and
// its conn id so conditional debug can filter them, and the system messages of refused
// packets (%CRYPTO-4-RECVD_PKT_INV_SPI and the like, rate-limited in system-messages.ts).
import type { Pipeline } from '../dataplane/pipeline.js';
import type { IpsecSa } from '../ipsec/ipsec-sa.js';
import type { SadEvent, SecurityAssociation } from '../ipsec/sad.js';
import { formatIp } from '../ipsec/selector.js';
import type { ScopedLogger } from '../lib/event-bus.js';
import { CryptoEngineDebug, type EngineSa } from './crypto-engine-debug.js';
import { packetErrorMessages } from './system-messages.js';

export class SaReports {
  /** Both SPIs of each negotiated flow, so `debug crypto condition spi` matches either direction's lines. */
  private readonly flowSpis = new WeakMap<object, readonly number[]>();
  private readonly debug: CryptoEngineDebug;

  constructor(private readonly logger: ScopedLogger, private readonly now: () => number, private readonly connId: (sa: object) => number) {
    this.debug = new CryptoEngineDebug(logger);
  }

  /** Refused packets: system messages, and `debug crypto engine error` lines. */
  attach(pipeline: Pipeline): void {
    const messages = packetErrorMessages(this.logger, this.now);
    pipeline.onInvalidSpi = messages.invalidSpi;
    pipeline.onUnprotectError = (sa, code, seq) => {
      messages.unprotectError({ code, connId: this.connId(sa), spi: sa.spi, local: formatIp(sa.local), peer: formatIp(sa.peer), ...(seq !== undefined ? { seq } : {}) });
      if (this.debug.debugging(true)) this.debug.refused(this.engineSa(sa), code, seq);
    };
  }

  /** A pair was installed. */
  created(inbound: SecurityAssociation<IpsecSa>, outbound: SecurityAssociation<IpsecSa>): void {
    const flow = [inbound.spi, outbound.spi];
    this.flowSpis.set(inbound, flow);
    this.flowSpis.set(outbound, flow);
    if (this.debug.debugging()) this.debug.created(this.engineSa(inbound), this.engineSa(outbound));
  }

  /** An SA expired or was deleted. */
  sadEvent(e: SadEvent<IpsecSa>): void {
    if (this.debug.debugging()) this.debug.ended(this.engineSa(e.sa), e.type === 'deleted' ? `delete IPsec SA (${e.reason})` : `IPsec SA ${e.type} lifetime expired (${e.cause})`);
  }

  /** An SA as `debug crypto engine` names it. */
  private engineSa(sa: SecurityAssociation<IpsecSa>): EngineSa {
    return { direction: sa.direction, spi: sa.spi, flowSpis: this.flowSpis.get(sa) ?? [sa.spi], peer: formatIp(sa.peer), connId: this.connId(sa), transform: sa.transformName ?? '' };
  }
}
