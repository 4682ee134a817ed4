// The typed API IKE uses to put SAs into the data plane (docs/dataplane-api.md): what a child
// SA pair carries, its keys, and the lifetime events the data plane reports back. Types only,
// so IKE services can name them without pulling in the data-plane service.
import type { PairInstall, PairKeys } from '../ike/dataplane-port.js';
import type { SaProto } from '../ipsec/sad.js';

/** Keys of one direction (IKE's PairKeys: ESP cipher key, key || salt for GCM, auth key, AH key) and the IPComp CPI. */
export interface SaKeys extends PairKeys {
  cpi?: number;
}

/**
 * A child SA pair IKE asks to install (firmware/ike/dataplane-port.ts PairInstall: map entry
 * or VTI, SPD policy key, narrowed scope, transform set and mode of both directions), or the
 * pair of an ipsec-manual entry. Keys never logged.
 */
export interface ChildSaInstall extends Omit<PairInstall, 'inbound' | 'outbound'> {
  inbound: SaKeys;
  outbound: SaKeys;
  /** ipsec-manual SAs (shown without lifetimes, reinstalled by clear crypto sa). */
  manual?: boolean;
}

export interface DataplaneExpire {
  hard: boolean;
  cause: 'time' | 'bytes';
  direction: 'inbound' | 'outbound';
  spi: number;
  proto: SaProto;
  childId: number | undefined;
  mapName: string | undefined;
  mapSeq: number | undefined;
}
