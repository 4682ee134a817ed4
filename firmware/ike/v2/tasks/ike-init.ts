// IKE_SA_INIT (RFC 7296 1.2): SA, KE, Nonce, NAT_DETECTION_*; COOKIE (2.6) and
// INVALID_KE_PAYLOAD (1.2) retries on the initiator side.
import {
  ExchangeType, NotifyError, NotifyStatus, NONCE_MAX_LENGTH, NONCE_MIN_LENGTH, notifyName, PayloadType, ProtocolId,
  TransformType, type AnyPayload, type IkeHeader, type KePayload, type NoncePayload, type Proposal, type SaPayload,
} from '../../../proto/ikev2/index.js';
import { createDh, DhInvalidPublicValueError, hashDigest, type DhKeyPair } from '../../crypto/index.js';
import { ikeProposalsFromConfig, ikeSuiteOf, transformName } from '../algorithms.js';
import { findErrorNotify, findNotify, findPayload, notify } from '../child-sa.js';
import type { IkeSa } from '../ike-sa.js';
import { deriveIkeKeys, skeyseedInitial } from '../keys.js';
import { responseMatchesOffer, selectProposal } from '../proposal-select.js';
import { parseIp } from '../selectors.js';
import type { Task, TaskStatus } from '../task.js';

const NONCE_LENGTH = 32;
const MAX_INIT_RETRIES = 3;
/** SHA-1 output, the length of NAT_DETECTION_*_IP data. */
const NAT_HASH_LENGTH = 20;

/** NAT_DETECTION_*_IP data: SHA-1(SPIi | SPIr | IP | Port) (RFC 7296 2.23). */
export function natHash(spiI: bigint, spiR: bigint, address: string, port: number): Uint8Array {
  const spis = new Uint8Array(16);
  const dv = new DataView(spis.buffer);
  dv.setBigUint64(0, BigInt.asUintN(64, spiI));
  dv.setBigUint64(8, BigInt.asUintN(64, spiR));
  const p = Uint8Array.of((port >> 8) & 0xff, port & 0xff);
  return hashDigest('sha1', [spis, parseIp(address), p]);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Evaluate received NAT_DETECTION notifies; returns [natLocal, natRemote]. */
function detectNat(payloads: readonly AnyPayload[], header: IkeHeader, local: { address: string; port: number }, remote: { address: string; port: number }): [boolean, boolean] {
  const src = payloads.filter((p) => p.type === PayloadType.NOTIFY && (p as { notifyType: number }).notifyType === NotifyStatus.NAT_DETECTION_SOURCE_IP) as { data: Uint8Array }[];
  const dst = findNotify(payloads, NotifyStatus.NAT_DETECTION_DESTINATION_IP);
  if (src.length === 0 || !dst) return [false, false];
  let natRemote = true;
  try {
    const expect = natHash(header.spiI, header.spiR, remote.address, remote.port);
    natRemote = !src.some((s) => equalBytes(s.data, expect));
  } catch { /* unparsable address: assume NAT */ }
  let natLocal = true;
  try {
    natLocal = !equalBytes(dst.data, natHash(header.spiI, header.spiR, local.address, local.port));
  } catch { /* idem */ }
  return [natLocal, natRemote];
}

/**
 * Our NAT_DETECTION_* notifies. `fakeSource` (forced UDP encapsulation, IOS `nat force-encap`)
 * replaces the source hash by bytes that cannot match, so the peer believes we are behind a
 * NAT and encapsulates (RFC 7296 2.23 allows this).
 */
function natPayloads(spiI: bigint, spiR: bigint, local: { address: string; port: number }, remote: { address: string; port: number }, fakeSource?: Uint8Array): AnyPayload[] {
  return [
    notify(NotifyStatus.NAT_DETECTION_SOURCE_IP, fakeSource ?? natHash(spiI, spiR, local.address, local.port)),
    notify(NotifyStatus.NAT_DETECTION_DESTINATION_IP, natHash(spiI, spiR, remote.address, remote.port)),
  ];
}

export class IkeInitTask implements Task {
  readonly name = 'ike-init';
  readonly exchange = ExchangeType.IKE_SA_INIT;
  private group: number;
  private dh?: DhKeyPair;
  private cookie?: Uint8Array;
  private retries = 0;
  private offered: Proposal[] = [];

  constructor(private readonly sa: IkeSa) {
    this.group = sa.connection?.ikeProposals[0]?.dhGroups[0] ?? 14;
  }

  buildI(): AnyPayload[] {
    const sa = this.sa;
    if (!this.dh || this.dh.group !== this.group) this.dh = createDh(this.group);
    if (sa.ni.length === 0) sa.ni = sa.ctx.random(NONCE_LENGTH);
    this.offered = ikeProposalsFromConfig(sa.connection!.ikeProposals);
    const out: AnyPayload[] = [];
    if (this.cookie) out.push(notify(NotifyStatus.COOKIE, this.cookie));
    out.push(
      { type: PayloadType.SA, proposals: this.offered },
      { type: PayloadType.KE, dhGroup: this.group, data: this.dh.publicKey },
      { type: PayloadType.NONCE, data: sa.ni },
      ...natPayloads(sa.spiI, 0n, sa.local, sa.remote, sa.connection!.forceEncap ? sa.ctx.random(NAT_HASH_LENGTH) : undefined),
    );
    return out;
  }

  processI(payloads: AnyPayload[], header: IkeHeader): TaskStatus {
    const sa = this.sa;
    const cookie = findNotify(payloads, NotifyStatus.COOKIE);
    if (cookie && this.retries < MAX_INIT_RETRIES) {
      this.retries++;
      this.cookie = cookie.data;
      sa.log('info', 'responder asked for a COOKIE, retrying IKE_SA_INIT');
      return 'again';
    }
    const err = findErrorNotify(payloads);
    if (err?.notifyType === NotifyError.INVALID_KE_PAYLOAD && err.data.length >= 2 && this.retries < MAX_INIT_RETRIES) {
      const wanted = (err.data[0]! << 8) | err.data[1]!;
      const offeredGroups = this.offered.flatMap((p) => p.transforms.filter((t) => t.type === TransformType.DH).map((t) => t.id));
      if (wanted !== this.group && offeredGroups.includes(wanted)) {
        this.retries++;
        sa.log('info', `INVALID_KE_PAYLOAD: responder wants DH group ${wanted}, retrying`);
        this.group = wanted;
        return 'again';
      }
    }
    if (err) return this.fail(`notify ${notifyName(err.notifyType)}`, err.notifyType);
    const saP = findPayload<SaPayload>(payloads, PayloadType.SA);
    const ke = findPayload<KePayload>(payloads, PayloadType.KE);
    const nonce = findPayload<NoncePayload>(payloads, PayloadType.NONCE);
    if (!saP || !ke || !nonce) return this.fail('response lacks SA, KE or Nonce');
    if (saP.proposals.length !== 1 || !responseMatchesOffer(saP.proposals[0]!, this.offered)) {
      return this.fail(`responder chose a proposal we did not offer: ${saP.proposals.map((p) => p.transforms.map(transformName).join(' ')).join(' | ')}`);
    }
    const chosen = saP.proposals[0]!;
    const group = chosen.transforms.find((t) => t.type === TransformType.DH)?.id;
    if (group !== this.group || ke.dhGroup !== this.group) return this.fail(`KE group ${ke.dhGroup} does not match the chosen group ${group}`);
    if (nonce.data.length < NONCE_MIN_LENGTH || nonce.data.length > NONCE_MAX_LENGTH) return this.fail('bad nonce length');
    if (header.spiR === 0n) return this.fail('responder SPI is zero');
    let gir: Uint8Array;
    try {
      gir = this.dh!.computeSecret(ke.data);
    } catch (e) {
      if (e instanceof DhInvalidPublicValueError) return this.fail(`invalid KE data: ${e.reason}`);
      throw e;
    }
    sa.spiR = header.spiR;
    sa.nr = nonce.data;
    const suite = ikeSuiteOf(chosen);
    sa.suite = suite;
    sa.keys = deriveIkeKeys(suite, skeyseedInitial(suite.prfFn, suite.prf.id, sa.ni, sa.nr, gir), sa.ni, sa.nr, sa.spiI, sa.spiR);
    [sa.natLocal, sa.natRemote] = detectNat(payloads, header, sa.local, sa.remote);
    // Forced encapsulation: we act as if behind a NAT (the peer saw our fake source hash).
    if (sa.connection!.forceEncap) sa.natLocal = true;
    if (sa.natLocal || sa.natRemote) {
      // Float to UDP 4500 (RFC 7296 2.23).
      sa.local = { ...sa.local, port: 4500 };
      sa.remote = { ...sa.remote, port: 4500 };
    }
    sa.log('info', `IKE_SA_INIT done: ${transformName(suite.encr)} ${transformName(suite.prf)}${suite.integ ? ' ' + transformName(suite.integ) : ''} group ${suite.dhGroup}${sa.natLocal || sa.natRemote ? ' (NAT)' : ''}`);
    return 'done';
  }

  private fail(detail: string, notifyType?: number): TaskStatus {
    const sa = this.sa;
    const base = {
      atMs: sa.ctx.now(), ikeSaId: sa.id, connection: sa.connectionName,
      localAddress: sa.local.address, remoteAddress: sa.remote.address, exchange: 'IKE_SA_INIT', role: 'initiator' as const,
      lastSent: sa.lastSent,
    };
    sa.ctx.diagnose(notifyType !== undefined
      ? { ...base, kind: 'NOTIFY_RECEIVED', notify: notifyName(notifyType), notifyType }
      : { ...base, kind: 'INVALID_RESPONSE', detail });
    sa.destroy('negotiation-failed');
    return 'failed';
  }

  timedOut(): void {
    const sa = this.sa;
    sa.ctx.diagnose({
      atMs: sa.ctx.now(), ikeSaId: sa.id, connection: sa.connectionName, localAddress: sa.local.address,
      remoteAddress: sa.remote.address, exchange: 'IKE_SA_INIT', kind: 'TIMEOUT', role: 'initiator',
      retransmissions: sa.ctx.config.retransmit?.maxRetries ?? 5, lastSent: sa.lastSent,
    });
    sa.destroy('peer-timeout');
  }

  // ---- responder ----
  private error?: { type: number; data: Uint8Array };
  private chosen?: Proposal;
  private rdh?: DhKeyPair;
  private fakeSource?: Uint8Array;

  processR(payloads: AnyPayload[], header: IkeHeader): void {
    const sa = this.sa;
    const saP = findPayload<SaPayload>(payloads, PayloadType.SA);
    const ke = findPayload<KePayload>(payloads, PayloadType.KE);
    const nonce = findPayload<NoncePayload>(payloads, PayloadType.NONCE);
    if (!saP || !ke || !nonce || nonce.data.length < NONCE_MIN_LENGTH || nonce.data.length > NONCE_MAX_LENGTH) {
      this.error = { type: NotifyError.INVALID_SYNTAX, data: new Uint8Array(0) };
      return;
    }
    const localCfg = sa.ctx.responderIkeProposals(sa.local.address, sa.remote.address);
    const local = ikeProposalsFromConfig(localCfg);
    const base = { atMs: sa.ctx.now(), ikeSaId: sa.id, localAddress: sa.local.address, remoteAddress: sa.remote.address, exchange: 'IKE_SA_INIT', role: 'responder' as const };
    const sel = selectProposal(saP.proposals.filter((p) => p.protocolId === ProtocolId.IKE), local, localCfg.map((p) => p.name));
    if (!sel.ok) {
      this.error = { type: NotifyError.NO_PROPOSAL_CHOSEN, data: new Uint8Array(0) };
      sa.ctx.diagnose({
        ...base, kind: 'NO_PROPOSAL_CHOSEN', protocol: 'IKE',
        offered: saP.proposals.map((p) => `#${p.num}: ${p.transforms.map(transformName).join(' ')}`),
        comparisons: sel.comparisons,
      });
      return;
    }
    const group = sel.proposal.transforms.find((t) => t.type === TransformType.DH)!.id;
    if (ke.dhGroup !== group) {
      this.error = { type: NotifyError.INVALID_KE_PAYLOAD, data: Uint8Array.of((group >> 8) & 0xff, group & 0xff) };
      sa.ctx.diagnose({ ...base, kind: 'INVALID_KE_PAYLOAD', receivedGroup: ke.dhGroup, selectedGroup: group });
      return;
    }
    this.rdh = createDh(group);
    let gir: Uint8Array;
    try {
      gir = this.rdh.computeSecret(ke.data);
    } catch {
      this.error = { type: NotifyError.INVALID_SYNTAX, data: new Uint8Array(0) };
      return;
    }
    this.chosen = { ...sel.proposal, spi: new Uint8Array(0) };
    sa.ni = nonce.data;
    sa.nr = sa.ctx.random(NONCE_LENGTH);
    const suite = ikeSuiteOf(this.chosen);
    sa.suite = suite;
    sa.keys = deriveIkeKeys(suite, skeyseedInitial(suite.prfFn, suite.prf.id, sa.ni, sa.nr, gir), sa.ni, sa.nr, sa.spiI, sa.spiR);
    [sa.natLocal, sa.natRemote] = detectNat(payloads, { ...header, spiR: 0n }, sa.local, sa.remote);
    // The connection (IKEv2 profile) is only chosen at IKE_AUTH; here the candidates for the
    // peer address decide: one with forced encapsulation forces it (harmless for the others,
    // which then only see a NAT). An initiator that forces needs nothing from us: we see its
    // fake source hash as a NAT.
    if (sa.ctx.connectionsFor(sa.local.address, sa.remote.address).some((c) => c.forceEncap)) {
      this.fakeSource = sa.ctx.random(NAT_HASH_LENGTH);
      sa.natLocal = true;
    }
  }

  buildR(): AnyPayload[] {
    const sa = this.sa;
    if (this.error) {
      sa.spiR = 0n; // error responses carry a zero responder SPI (RFC 7296 1.2, 2.6)
      return [notify(this.error.type, this.error.data)];
    }
    return [
      { type: PayloadType.SA, proposals: [this.chosen!] },
      { type: PayloadType.KE, dhGroup: this.rdh!.group, data: this.rdh!.publicKey },
      { type: PayloadType.NONCE, data: sa.nr },
      ...natPayloads(sa.spiI, sa.spiR, sa.local, sa.remote, this.fakeSource),
    ];
  }

  afterR(): void {
    if (this.error) this.sa.destroy('negotiation-failed');
  }
}
