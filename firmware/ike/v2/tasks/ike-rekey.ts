// IKE SA rekey with CREATE_CHILD_SA (RFC 7296 1.3.2, 2.18): new SPIs, nonces and a fresh DH;
// SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr). The rekey initiator becomes the original
// initiator of the new SA, moves the Child SAs over and deletes the old SA. Simultaneous
// rekeys are resolved by the lowest nonce (2.8.2).
import {
  ExchangeType, NotifyError, notifyName, PayloadType, ProtocolId, TransformType,
  type AnyPayload, type IkeHeader, type KePayload, type NoncePayload, type Proposal, type SaPayload,
} from '../../../proto/ikev2/index.js';
import { createDh, type DhKeyPair } from '../../crypto/index.js';
import { ikeProposalsFromConfig, ikeSuiteOf, transformName } from '../algorithms.js';
import { findErrorNotify, findPayload, notify } from '../child-sa.js';
import type { IkeSa } from '../ike-sa.js';
import { deriveIkeKeys, skeyseedRekey } from '../keys.js';
import { responseMatchesOffer, selectProposal } from '../proposal-select.js';
import type { Task, TaskStatus } from '../task.js';
import { oursIsRedundant } from './child-create.js';
import { IkeDeleteTask } from './informational.js';

const NONCE_LENGTH = 32;

function spiToBytes64(spi: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, spi));
  return b;
}
function spiFromBytes64(b: Uint8Array): bigint {
  return b.length === 8 ? new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0) : 0n;
}

function adopt(sa: IkeSa, newSa: IkeSa, suiteProposal: Proposal, gir: Uint8Array, ni: Uint8Array, nr: Uint8Array): void {
  const suite = ikeSuiteOf(suiteProposal);
  const seed = skeyseedRekey(sa.suite!.prfFn, sa.keys!.skD, gir, ni, nr);
  newSa.suite = suite;
  newSa.keys = deriveIkeKeys(suite, seed, ni, nr, newSa.spiI, newSa.spiR);
  newSa.ni = ni;
  newSa.nr = nr;
  if (sa.localId) newSa.localId = sa.localId;
  if (sa.remoteId) newSa.remoteId = sa.remoteId;
  newSa.natLocal = sa.natLocal;
  newSa.natRemote = sa.natRemote;
  newSa.responderFactory = sa.responderFactory;
  newSa.markEstablished();
  sa.ctx.emit({ type: 'ike-rekeyed', oldIkeSaId: sa.id, newIkeSaId: newSa.id });
  sa.log('info', `IKE SA rekeyed into ${newSa.id} (${transformName(suite.encr)})`);
}

export class IkeRekeyTask implements Task {
  readonly name = 'ike-rekey';
  readonly exchange = ExchangeType.CREATE_CHILD_SA;
  private newSpi = 0n;
  private ni: Uint8Array = new Uint8Array(0);
  private dh?: DhKeyPair;
  private group: number;
  private offered: Proposal[] = [];
  private retries = 0;
  /** The peer's IKE rekey we answered while ours was outstanding. */
  collision?: { newSa: IkeSa };

  constructor(private readonly sa: IkeSa) {
    this.group = sa.suite?.dhGroup ?? 14;
  }

  buildI(): AnyPayload[] {
    const sa = this.sa;
    if (this.newSpi === 0n) this.newSpi = sa.ctx.allocateIkeSpi();
    this.ni = sa.ctx.random(NONCE_LENGTH);
    if (!this.dh || this.dh.group !== this.group) this.dh = createDh(this.group);
    this.offered = ikeProposalsFromConfig(sa.connection!.ikeProposals, spiToBytes64(this.newSpi));
    return [
      { type: PayloadType.SA, proposals: this.offered },
      { type: PayloadType.NONCE, data: this.ni },
      { type: PayloadType.KE, dhGroup: this.group, data: this.dh.publicKey },
    ];
  }

  processI(payloads: AnyPayload[]): TaskStatus {
    const sa = this.sa;
    const err = findErrorNotify(payloads);
    if (err?.notifyType === NotifyError.INVALID_KE_PAYLOAD && err.data.length >= 2 && this.retries < 2) {
      const wanted = (err.data[0]! << 8) | err.data[1]!;
      if (wanted !== this.group) {
        this.retries++;
        this.group = wanted;
        return 'again';
      }
    }
    if (err) {
      sa.rekeyAtMs = sa.ctx.now() + 2000 + sa.ctx.random(1)[0]! * 20;
      sa.ctx.diagnose({
        atMs: sa.ctx.now(), ikeSaId: sa.id, connection: sa.connectionName, localAddress: sa.local.address, remoteAddress: sa.remote.address,
        exchange: 'CREATE_CHILD_SA', kind: 'NOTIFY_RECEIVED', role: 'initiator', notify: notifyName(err.notifyType), notifyType: err.notifyType, lastSent: sa.lastSent,
      });
      return 'done';
    }
    const saP = findPayload<SaPayload>(payloads, PayloadType.SA);
    const nonce = findPayload<NoncePayload>(payloads, PayloadType.NONCE);
    const ke = findPayload<KePayload>(payloads, PayloadType.KE);
    const chosen = saP?.proposals[0];
    if (!saP || !nonce || !ke || saP.proposals.length !== 1 || !chosen || !responseMatchesOffer(chosen, this.offered) || chosen.spi.length !== 8) {
      return this.invalid('bad IKE rekey response');
    }
    const group = chosen.transforms.find((t) => t.type === TransformType.DH)?.id;
    if (group !== this.group || ke.dhGroup !== this.group) return this.invalid('KE group mismatch');
    let gir: Uint8Array;
    try {
      gir = this.dh!.computeSecret(ke.data);
    } catch {
      return this.invalid('invalid KE data');
    }
    const newSa = sa.ctx.createIkeSa({
      initiator: true, spiI: this.newSpi, spiR: spiFromBytes64(chosen.spi), local: sa.local, remote: sa.remote,
      ...(sa.connection ? { connection: sa.connection } : {}),
    });
    adopt(sa, newSa, chosen, gir, this.ni, nonce.data);
    if (this.collision && oursIsRedundant({ ni: this.ni, nr: nonce.data }, { ni: this.collision.newSa.ni, nr: this.collision.newSa.nr })) {
      sa.log('info', 'IKE rekey collision: ours is redundant');
      sa.rekeyedInto = this.collision.newSa;
      newSa.queueTask(new IkeDeleteTask(newSa, 'redundant'));
      return 'done';
    }
    sa.rekeyedInto = newSa;
    sa.moveChildrenTo(newSa);
    sa.state = 'rekeyed';
    // Child work queued here meanwhile (a CHILD rekey due at the same time) runs on the new SA.
    sa.handOverTasks(newSa);
    sa.queueTask(new IkeDeleteTask(sa, 'rekeyed'));
    return 'done';
  }

  private invalid(detail: string): TaskStatus {
    const sa = this.sa;
    sa.ctx.diagnose({
      atMs: sa.ctx.now(), ikeSaId: sa.id, connection: sa.connectionName, localAddress: sa.local.address, remoteAddress: sa.remote.address,
      exchange: 'CREATE_CHILD_SA', kind: 'INVALID_RESPONSE', role: 'initiator', detail, lastSent: sa.lastSent,
    });
    sa.rekeyAtMs = sa.ctx.now() + 10_000;
    return 'done';
  }

  // ---- responder ----
  private error?: { type: number; data?: Uint8Array };
  private chosen?: Proposal;
  private rdh?: DhKeyPair;
  private newSa?: IkeSa;

  processR(payloads: AnyPayload[], _header: IkeHeader): void {
    const sa = this.sa;
    const saP = findPayload<SaPayload>(payloads, PayloadType.SA);
    const nonce = findPayload<NoncePayload>(payloads, PayloadType.NONCE);
    const ke = findPayload<KePayload>(payloads, PayloadType.KE);
    if (!saP || !nonce || !ke) {
      this.error = { type: NotifyError.INVALID_SYNTAX };
      return;
    }
    const localCfg = sa.connection?.ikeProposals ?? sa.ctx.responderIkeProposals(sa.local.address, sa.remote.address);
    const sel = selectProposal(saP.proposals.filter((p) => p.protocolId === ProtocolId.IKE), ikeProposalsFromConfig(localCfg), localCfg.map((p) => p.name));
    if (!sel.ok || sel.proposal.spi.length !== 8) {
      this.error = { type: NotifyError.NO_PROPOSAL_CHOSEN };
      if (!sel.ok) {
        sa.ctx.diagnose({
          atMs: sa.ctx.now(), ikeSaId: sa.id, connection: sa.connectionName, localAddress: sa.local.address, remoteAddress: sa.remote.address,
          exchange: 'CREATE_CHILD_SA', kind: 'NO_PROPOSAL_CHOSEN', role: 'responder', protocol: 'IKE',
          offered: saP.proposals.map((p) => `#${p.num}: ${p.transforms.map(transformName).join(' ')}`), comparisons: sel.comparisons,
        });
      }
      return;
    }
    const group = sel.proposal.transforms.find((t) => t.type === TransformType.DH)!.id;
    if (ke.dhGroup !== group) {
      this.error = { type: NotifyError.INVALID_KE_PAYLOAD, data: Uint8Array.of((group >> 8) & 0xff, group & 0xff) };
      return;
    }
    this.rdh = createDh(group);
    let gir: Uint8Array;
    try {
      gir = this.rdh.computeSecret(ke.data);
    } catch {
      this.error = { type: NotifyError.INVALID_SYNTAX };
      return;
    }
    const nr = sa.ctx.random(NONCE_LENGTH);
    const newSa = sa.ctx.createIkeSa({
      initiator: false, spiI: spiFromBytes64(sel.proposal.spi), spiR: sa.ctx.allocateIkeSpi(), local: sa.local, remote: sa.remote,
      ...(sa.connection ? { connection: sa.connection } : {}),
    });
    this.chosen = { ...sel.proposal, spi: spiToBytes64(newSa.spiR) };
    adopt(sa, newSa, sel.proposal, gir, nonce.data, nr);
    this.newSa = newSa;
    const mine = sa.outstanding?.task;
    if (mine instanceof IkeRekeyTask) mine.collision = { newSa };
    else if (!sa.rekeyedInto) {
      // The children belong to the new SA from now on (RFC 7296 2.8), so the peer's next Child
      // exchanges on it (its rekey of a child, the delete of a rekeyed one) find them.
      sa.rekeyedInto = newSa;
      sa.moveChildrenTo(newSa);
      sa.handOverTasks(newSa);
    }
  }

  buildR(): AnyPayload[] {
    if (this.error) return [notify(this.error.type, this.error.data)];
    return [
      { type: PayloadType.SA, proposals: [this.chosen!] },
      { type: PayloadType.NONCE, data: this.newSa!.nr },
      { type: PayloadType.KE, dhGroup: this.rdh!.group, data: this.rdh!.publicKey },
    ];
  }
}
