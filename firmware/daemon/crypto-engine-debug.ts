// `debug crypto engine`: what the software crypto engine does with keys, as IOS's
// CryptoEngine lines say it. IPsec SAs created from keys, expired and deleted (with their
// conn id and SPI), ISAKMP SKEYIDs made and connections dropped, and with `debug crypto
// engine error` the packets an SA refused. Each line carries peer, SPIs and conn-ids, so
// conditional debug (`spi`, `connid`, `peer`, `unmatched engine`) filters it. Never keys.
import type { ScopedLogger } from '../lib/event-bus.js';

export interface EngineSa {
  direction: 'inbound' | 'outbound';
  spi: number;
  /** both SPIs of the flow (inbound, outbound) */
  flowSpis: readonly number[];
  peer: string;
  connId: number;
  transform: string;
}

const spiText = (spi: number) => `0x${spi.toString(16).toUpperCase()}(${spi})`;

export class CryptoEngineDebug {
  constructor(private readonly log: ScopedLogger) {}

  /** Cheap check before the caller describes an SA (`error`: `debug crypto engine error` suffices). */
  debugging(error = false): boolean {
    return this.log.debugOn('engine', error);
  }

  /** An inbound and outbound SA installed from negotiated (or manual) keys. */
  created(inb: EngineSa, outb: EngineSa): void {
    const context = { peer: inb.peer, spis: inb.flowSpis, connIds: [inb.connId, outb.connId] };
    for (const sa of [inb, outb]) {
      this.log.debug('engine', `CryptoEngine0: create IPsec SA (by keys): conn id ${sa.connId}, ${sa.direction} spi ${spiText(sa.spi)}, ${sa.transform}, peer ${sa.peer}`, { context });
    }
  }

  /** Soft/hard lifetime or a delete (rekey, clear, peer's delete). */
  ended(sa: EngineSa, what: string): void {
    this.log.debug('engine', () => `CryptoEngine0: ${what}: conn id ${sa.connId}, ${sa.direction} spi ${spiText(sa.spi)}, peer ${sa.peer}`,
      { context: { peer: sa.peer, spis: sa.flowSpis, connIds: [sa.connId] } });
  }

  /** An inbound packet the SA refused (`debug crypto engine error` shows these too). */
  refused(sa: EngineSa, code: string, seq: number | undefined): void {
    this.log.debug('engine', () => `CryptoEngine0: decrypt failed (${code}): conn id ${sa.connId}, spi ${spiText(sa.spi)}${seq !== undefined ? `, seqno ${seq}` : ''}, peer ${sa.peer}`,
      { error: true, context: { peer: sa.peer, spis: sa.flowSpis, connIds: [sa.connId] } });
  }

  /** ISAKMP/IKEv2 keys made for an IKE SA (after its DH exchange). */
  ikeKeys(connId: number, peer: string): void {
    this.log.debug('engine', () => `CryptoEngine0: create ISAKMP SKEYID for conn id ${connId}`, { context: { peer, connIds: [connId] } });
  }

  /** An IKE SA's keys dropped. */
  ikeDeleted(connId: number, peer: string): void {
    this.log.debug('engine', () => `CryptoEngine0: delete connection ${connId}`, { context: { peer, connIds: [connId] } });
  }
}
