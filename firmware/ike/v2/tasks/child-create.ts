// CREATE_CHILD_SA for a new Child SA or a Child SA rekey (RFC 7296 1.3.1, 1.3.3), with or
// without PFS, and simultaneous rekey resolution (2.8.1: the SA created with the lowest of
// the four nonces is redundant and is deleted by the side that initiated it).
import {
  ExchangeType, NotifyError, NotifyStatus, notifyName, PayloadType, ProtocolId, TransformType,
  type AnyPayload, type KePayload, type NoncePayload, type Proposal, type TrafficSelector,
} from '../../../proto/ikev2/index.js';
import { createDh, type DhKeyPair } from '../../crypto/index.js';
import { childProposalsFromConfig } from '../algorithms.js';
import {
  childResponsePayloads, findErrorNotify, findNotify, findPayload, initiatorSelectors, installChild, negotiateChildR, notify,
  spiFromBytes, spiToBytes, tsPayloads, type ChildNegotiation,
} from '../child-sa.js';
import type { Ikev2Connection } from '../config-types.js';
import type { ChildSa, IkeSa } from '../ike-sa.js';
import type { Task, TaskStatus } from '../task.js';
import { completeChildI, identityMatches } from './ike-auth.js';
import { ChildDeleteTask } from './informational.js';

const NONCE_LENGTH = 32;

/** Lexicographic comparison of nonces (RFC 7296 2.8.1: "lowest" nonce). */
export function compareNonces(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** True when the lowest of the four nonces belongs to exchange "ours". */
export function oursIsRedundant(ours: { ni: Uint8Array; nr: Uint8Array }, theirs: { ni: Uint8Array; nr: Uint8Array }): boolean {
  const minOurs = compareNonces(ours.ni, ours.nr) <= 0 ? ours.ni : ours.nr;
  const minTheirs = compareNonces(theirs.ni, theirs.nr) <= 0 ? theirs.ni : theirs.nr;
  return compareNonces(minOurs, minTheirs) < 0;
}

export class ChildCreateTask implements Task {
  readonly name: string;
  readonly exchange = ExchangeType.CREATE_CHILD_SA;
  private spiIn = 0;
  private ni: Uint8Array = new Uint8Array(0);
  private dh?: DhKeyPair;
  private group: number;
  private offered: Proposal[] = [];
  private tsi: TrafficSelector[] = [];
  private tsr: TrafficSelector[] = [];
  private retries = 0;
  /** Set when the peer rekeyed the same child while our request was outstanding. */
  collision?: { child: ChildSa };

  constructor(private readonly sa: IkeSa, private readonly conn: Ikev2Connection, readonly rekeyOf?: ChildSa) {
    this.name = rekeyOf ? 'child-rekey' : 'child-create';
    this.group = conn.pfsGroup ?? 0;
  }

  rebind(sa: IkeSa): Task {
    return new ChildCreateTask(sa, this.conn, this.rekeyOf);
  }

  buildI(): AnyPayload[] {
    const sa = this.sa;
    if (this.spiIn === 0) this.spiIn = sa.ctx.allocateChildSpi();
    this.ni = sa.ctx.random(NONCE_LENGTH);
    if (this.group !== 0 && (!this.dh || this.dh.group !== this.group)) this.dh = createDh(this.group);
    this.offered = childProposalsFromConfig(this.conn.childProposals, spiToBytes(this.spiIn), this.group || undefined);
    if (this.rekeyOf) {
      this.rekeyOf.state = 'rekeying';
      this.tsi = this.rekeyOf.tsLocal;
      this.tsr = this.rekeyOf.tsRemote;
    } else {
      ({ tsi: this.tsi, tsr: this.tsr } = initiatorSelectors(this.conn));
    }
    const out: AnyPayload[] = [];
    if (this.rekeyOf) out.push(notify(NotifyStatus.REKEY_SA, new Uint8Array(0), ProtocolId.ESP, spiToBytes(this.rekeyOf.spiIn)));
    if (this.conn.mode === 'transport') out.push(notify(NotifyStatus.USE_TRANSPORT_MODE));
    out.push({ type: PayloadType.SA, proposals: this.offered }, { type: PayloadType.NONCE, data: this.ni });
    if (this.dh) out.push({ type: PayloadType.KE, dhGroup: this.dh.group, data: this.dh.publicKey });
    out.push(...tsPayloads(this.tsi, this.tsr));
    return out;
  }

  processI(payloads: AnyPayload[]): TaskStatus {
    const sa = this.sa;
    const err = findErrorNotify(payloads);
    if (err?.notifyType === NotifyError.INVALID_KE_PAYLOAD && err.data.length >= 2 && this.retries < 2) {
      const wanted = (err.data[0]! << 8) | err.data[1]!;
      if (wanted !== 0 && wanted !== this.group) {
        this.retries++;
        this.group = wanted;
        return 'again';
      }
    }
    if (err) {
      if (this.rekeyOf && this.rekeyOf.state === 'rekeying') {
        this.rekeyOf.state = 'installed';
        // TEMPORARY_FAILURE (2.25) and others: try again a little later.
        this.rekeyOf.rekeyAtMs = sa.ctx.now() + 2000 + (sa.ctx.random(1)[0]! * 20);
      }
      sa.ctx.diagnose({
        atMs: sa.ctx.now(), ikeSaId: sa.id, connection: this.conn.name, localAddress: sa.local.address, remoteAddress: sa.remote.address,
        exchange: 'CREATE_CHILD_SA', kind: 'NOTIFY_RECEIVED', role: 'initiator', notify: notifyName(err.notifyType), notifyType: err.notifyType, lastSent: sa.lastSent,
      });
      return 'done';
    }
    const nonce = findPayload<NoncePayload>(payloads, PayloadType.NONCE);
    if (!nonce) return this.invalid('response lacks a Nonce');
    let gir: Uint8Array | undefined;
    if (this.dh) {
      const ke = findPayload<KePayload>(payloads, PayloadType.KE);
      if (!ke || ke.dhGroup !== this.group) return this.invalid('response lacks the KE payload of the PFS group');
      try {
        gir = this.dh.computeSecret(ke.data);
      } catch {
        return this.invalid('invalid KE data');
      }
    }
    const child = completeChildI(sa, this.conn, payloads, this.offered, this.tsi, this.tsr, this.spiIn, false, this.ni, nonce.data, gir, this.rekeyOf?.id, 'CREATE_CHILD_SA');
    if (!child) return this.invalid(undefined);
    const old = this.rekeyOf;
    if (old) {
      if (this.collision && oursIsRedundant({ ni: this.ni, nr: nonce.data }, { ni: this.collision.child.ni, nr: this.collision.child.nr })) {
        // Our new child lost: delete it; the peer deletes the old one.
        sa.log('info', `rekey collision on CHILD_SA ${old.id}: ours is redundant, deleting CHILD_SA ${child.id}`);
        old.state = 'rekeyed';
        sa.queueTask(new ChildDeleteTask(sa, child, 'redundant'));
      } else {
        old.state = 'rekeyed';
        sa.queueTask(new ChildDeleteTask(sa, old, 'rekeyed'));
      }
    }
    return 'done';
  }

  private invalid(detail: string | undefined): TaskStatus {
    if (this.rekeyOf && this.rekeyOf.state === 'rekeying') this.rekeyOf.state = 'installed';
    if (detail) {
      const sa = this.sa;
      sa.ctx.diagnose({
        atMs: sa.ctx.now(), ikeSaId: sa.id, connection: this.conn.name, localAddress: sa.local.address, remoteAddress: sa.remote.address,
        exchange: 'CREATE_CHILD_SA', kind: 'INVALID_RESPONSE', role: 'initiator', detail, lastSent: sa.lastSent,
      });
    }
    return 'done';
  }

  // ---- responder ----
  private error?: { type: number; data?: Uint8Array };
  private neg?: ChildNegotiation;
  private rdh?: DhKeyPair;
  private nr: Uint8Array = new Uint8Array(0);
  private rSpiIn = 0;

  processR(payloads: AnyPayload[]): void {
    const sa = this.sa;
    const rekey = findNotify(payloads, NotifyStatus.REKEY_SA);
    let old: ChildSa | undefined;
    if (rekey) {
      const spi = spiFromBytes(rekey.spi);
      old = [...sa.children.values()].find((c) => c.spiOut === spi);
      if (!old) {
        this.error = { type: NotifyError.CHILD_SA_NOT_FOUND };
        return;
      }
    }
    const nonce = findPayload<NoncePayload>(payloads, PayloadType.NONCE);
    if (!nonce) {
      this.error = { type: NotifyError.INVALID_SYNTAX };
      return;
    }
    const candidates = old
      ? [old.connection]
      : [sa.connection!, ...sa.ctx.connectionsFor(sa.local.address, sa.remote.address).filter((c) => c !== sa.connection && sa.remoteId !== undefined && identityMatches(c, sa.remoteId))];
    const neg = negotiateChildR(sa, candidates, payloads, 'CREATE_CHILD_SA', false);
    if (!neg.ok) {
      this.error = { type: neg.notify };
      if (neg.diagnosis) sa.ctx.diagnose(neg.diagnosis);
      return;
    }
    if (neg.proposal.spi.length !== 4) {
      this.error = { type: NotifyError.INVALID_SYNTAX };
      return;
    }
    const group = neg.proposal.transforms.find((t) => t.type === TransformType.DH)?.id ?? 0;
    let gir: Uint8Array | undefined;
    if (group !== 0) {
      const ke = findPayload<KePayload>(payloads, PayloadType.KE);
      if (!ke || ke.dhGroup !== group) {
        this.error = { type: NotifyError.INVALID_KE_PAYLOAD, data: Uint8Array.of((group >> 8) & 0xff, group & 0xff) };
        sa.ctx.diagnose({
          atMs: sa.ctx.now(), ikeSaId: sa.id, connection: neg.connection.name, localAddress: sa.local.address, remoteAddress: sa.remote.address,
          exchange: 'CREATE_CHILD_SA', kind: 'INVALID_KE_PAYLOAD', role: 'responder', receivedGroup: ke?.dhGroup ?? 0, selectedGroup: group,
        });
        return;
      }
      this.rdh = createDh(group);
      try {
        gir = this.rdh.computeSecret(ke.data);
      } catch {
        this.error = { type: NotifyError.INVALID_SYNTAX };
        return;
      }
    }
    this.neg = neg;
    this.nr = sa.ctx.random(NONCE_LENGTH);
    this.rSpiIn = sa.ctx.allocateChildSpi();
    const child = installChild(sa, {
      connection: neg.connection, proposal: neg.proposal, spiIn: this.rSpiIn, spiOut: spiFromBytes(neg.proposal.spi),
      weInitiated: false, ni: nonce.data, nr: this.nr, ...(gir ? { gir } : {}),
      tsLocal: neg.tsr, tsRemote: neg.tsi, transport: neg.transport, ...(old ? { rekeyOf: old.id } : {}),
    });
    if (old) {
      // Simultaneous rekey: our own rekey of the same child is in flight.
      const mine = sa.outstanding?.task;
      if (mine instanceof ChildCreateTask && mine.rekeyOf === old) mine.collision = { child };
      else if (old.state === 'installed') old.state = 'rekeyed'; // the peer will delete it
    }
  }

  buildR(): AnyPayload[] {
    if (this.error) return [notify(this.error.type, this.error.data)];
    const neg = this.neg as Extract<ChildNegotiation, { ok: true }>;
    const out: AnyPayload[] = [...childResponsePayloads(neg, this.rSpiIn), { type: PayloadType.NONCE, data: this.nr }];
    if (this.rdh) out.push({ type: PayloadType.KE, dhGroup: this.rdh.group, data: this.rdh.publicKey });
    out.push(...tsPayloads(neg.tsi, neg.tsr));
    return out;
  }
}
