// INFORMATIONAL exchanges (RFC 7296 1.4, 1.5): deleting Child SAs and IKE SAs, and the
// empty request used as a liveness check (DPD).
import {
  ExchangeType, PayloadType, ProtocolId, type AnyPayload, type DeletePayload,
} from '../../../proto/ikev2/index.js';
import { spiFromBytes, spiToBytes } from '../child-sa.js';
import type { Ikev2DownReason } from '../events.js';
import type { ChildSa, IkeSa } from '../ike-sa.js';
import type { Task, TaskStatus } from '../task.js';

export class ChildDeleteTask implements Task {
  readonly name = 'child-delete';
  readonly exchange = ExchangeType.INFORMATIONAL;
  constructor(private readonly sa: IkeSa, private readonly child: ChildSa, private readonly reason: Ikev2DownReason = 'deleted') {}

  rebind(sa: IkeSa): Task {
    return new ChildDeleteTask(sa, this.child, this.reason);
  }

  buildI(): AnyPayload[] {
    this.child.state = 'deleting';
    return [{ type: PayloadType.DELETE, protocolId: ProtocolId.ESP, spiSize: 4, spis: [spiToBytes(this.child.spiIn)] }];
  }
  processI(): TaskStatus {
    this.sa.removeChild(this.child, this.reason);
    return 'done';
  }
  timedOut(): void {
    this.sa.removeChild(this.child, this.reason);
    this.sa.destroy('peer-timeout');
  }
  processR(): void { /* responder side is InformationalResponder */ }
  buildR(): AnyPayload[] {
    return [];
  }
}

export class IkeDeleteTask implements Task {
  readonly name = 'ike-delete';
  readonly exchange = ExchangeType.INFORMATIONAL;
  constructor(private readonly sa: IkeSa, private readonly reason: Ikev2DownReason = 'deleted') {}

  buildI(): AnyPayload[] {
    this.sa.state = 'deleting';
    return [{ type: PayloadType.DELETE, protocolId: ProtocolId.IKE, spiSize: 0, spis: [] }];
  }
  processI(): TaskStatus {
    this.sa.destroy(this.reason);
    return 'done';
  }
  timedOut(): void {
    this.sa.destroy(this.reason);
  }
  processR(): void { /* responder side is InformationalResponder */ }
  buildR(): AnyPayload[] {
    return [];
  }
}

/** Empty INFORMATIONAL request: the peer is alive if it answers (RFC 7296 2.4). */
export class DpdTask implements Task {
  readonly name = 'dpd';
  readonly exchange = ExchangeType.INFORMATIONAL;
  readonly retransmitMs?: number;
  constructor(private readonly sa: IkeSa, retrySec?: number) {
    if (retrySec !== undefined) this.retransmitMs = retrySec * 1000;
  }
  buildI(): AnyPayload[] {
    this.sa.dpdActive = true;
    return [];
  }
  processI(): TaskStatus {
    this.sa.dpdActive = false;
    return 'done';
  }
  timedOut(): void {
    this.sa.log('warn', 'peer did not answer liveness checks: dead');
    this.sa.destroy('dpd-timeout');
  }
  processR(): void { /* responder side is InformationalResponder */ }
  buildR(): AnyPayload[] {
    return [];
  }
}

/** Responder of any INFORMATIONAL request: deletes, and empty liveness checks. */
export class InformationalResponder implements Task {
  readonly name = 'informational';
  readonly exchange = ExchangeType.INFORMATIONAL;
  private deleteIke = false;
  private ourSpis: Uint8Array[] = [];
  constructor(private readonly sa: IkeSa) {}

  buildI(): AnyPayload[] {
    return [];
  }
  processI(): TaskStatus {
    return 'done';
  }

  processR(payloads: AnyPayload[]): void {
    const sa = this.sa;
    for (const p of payloads) {
      if (p.type !== PayloadType.DELETE) continue;
      const d = p as DeletePayload;
      if (d.protocolId === ProtocolId.IKE) {
        this.deleteIke = true;
      } else if (d.protocolId === ProtocolId.ESP || d.protocolId === ProtocolId.AH) {
        for (const s of d.spis) {
          const spi = spiFromBytes(s);
          const child = [...sa.children.values()].find((c) => c.spiOut === spi);
          if (!child) continue;
          // If we are deleting it ourselves too, it is enough to remove it (RFC 7296 1.4.1).
          if (child.state !== 'deleting') this.ourSpis.push(spiToBytes(child.spiIn));
          sa.removeChild(child, child.state === 'rekeyed' ? 'rekeyed' : 'deleted-by-peer');
        }
      }
    }
  }

  buildR(): AnyPayload[] {
    if (this.deleteIke || this.ourSpis.length === 0) return [];
    return [{ type: PayloadType.DELETE, protocolId: ProtocolId.ESP, spiSize: 4, spis: this.ourSpis }];
  }

  afterR(): void {
    if (this.deleteIke) this.sa.destroy(this.sa.rekeyedInto ? 'rekeyed' : 'deleted-by-peer');
  }
}
