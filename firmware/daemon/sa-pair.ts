// A child SA pair as the SAD keeps it, built from what IKE (or an ipsec-manual entry) hands
// over: one IpsecSa per direction keyed on the board's engine (ESP, AH, IPComp as the
// transform set says; UDP encapsulation; the outer DF bit of `crypto ipsec df-bit`), and the
// SAD entries that carry the selectors, map entry and lifetimes. Pure apart from the engine.
import { interfacesUsingCryptoMap } from '../config/interface.js';
import type { InterfaceConfig } from '../config/interface.js';
import type { Config } from '../config/model.js';
import { IpsecSa, type IpsecSaConfig } from '../ipsec/ipsec-sa.js';
import type { SaProto, SaSpec } from '../ipsec/sad.js';
import { IPPROTO_AH, IPPROTO_ESP, IPPROTO_IPCOMP, parseIp, type IpAddr } from '../ipsec/selector.js';
import { ahParams, espParams, parseTransformSet } from '../ipsec/transform.js';
import type { CryptoEngine } from '../lib/crypto-engine.js';
import type { ChildSaInstall, SaKeys } from './dataplane-api.js';

export type DfBit = 'clear' | 'set' | 'copy';

/**
 * The outer DF bit of an SA: `crypto ipsec df-bit` of its interface (the tunnel, the
 * Virtual-Access's template, or the interface carrying the crypto map), else the global one.
 */
export function dfBitFor(cfg: Config | undefined, iface: string | undefined, mapName: string,
  virtualAccess: (name: string) => InterfaceConfig | undefined): DfBit | undefined {
  if (!cfg) return undefined;
  const name = iface ?? interfacesUsingCryptoMap(cfg, mapName)[0];
  const itf = name === undefined ? undefined : cfg.interfaces?.items[name] ?? virtualAccess(name);
  return itf?.dfBit ?? cfg.ipsecSa?.dfBit;
}

function ipBytes(a: IpAddr): Uint8Array {
  const n = a.family === 4 ? 4 : 16;
  const out = new Uint8Array(n);
  let v = a.value;
  for (let i = n - 1; i >= 0; i--) { out[i] = Number(v & 0xffn); v >>= 8n; }
  return out;
}

function saSpec(sa: IpsecSa, direction: 'inbound' | 'outbound', common: Omit<SaSpec<IpsecSa>, 'direction' | 'proto' | 'spi' | 'transform'>): SaSpec<IpsecSa> {
  const keys: { proto: SaProto; spi: number }[] = [];
  if (sa.ahSpi !== undefined) keys.push({ proto: IPPROTO_AH, spi: sa.ahSpi });
  if (sa.espSpi !== undefined) keys.push({ proto: IPPROTO_ESP, spi: sa.espSpi });
  if (sa.cpi !== undefined) keys.push({ proto: IPPROTO_IPCOMP, spi: sa.cpi });
  const [first, ...rest] = keys;
  const spec: SaSpec<IpsecSa> = { ...common, direction, proto: first!.proto, spi: first!.spi, transform: sa };
  if (rest.length > 0) spec.extraSpis = rest;
  return spec;
}

/** The SAD specs of both directions. Throws on bad keys (nothing is left allocated then). */
export function saPairSpecs(spec: ChildSaInstall, engine: CryptoEngine, dfBit: DfBit | undefined): { inbound: SaSpec<IpsecSa>; outbound: SaSpec<IpsecSa> } {
  const ts = parseTransformSet(spec.transformWords);
  const local = parseIp(spec.local);
  const peer = parseIp(spec.peer);
  const mk = (k: SaKeys): IpsecSa => {
    const cfg: { -readonly [K in keyof IpsecSaConfig]: IpsecSaConfig[K] } = {
      mode: spec.mode, local: ipBytes(local), remote: ipBytes(peer),
      replayWindow: spec.replayWindow ?? 64,
    };
    if (ts.espCipher && k.espSpi !== undefined) cfg.esp = { spi: k.espSpi, params: espParams(ts, k.espCipherKey ?? new Uint8Array(0), ts.espIntegrity ? k.espAuthKey : undefined, spec.esn ?? false) };
    if (ts.ah && k.ahSpi !== undefined && k.ahKey) cfg.ah = { spi: k.ahSpi, params: ahParams(ts, k.ahKey, spec.esn ?? false) };
    if (ts.compression) cfg.ipcomp = k.cpi !== undefined ? { cpi: k.cpi } : {};
    if (spec.udpEncap) cfg.udpEncap = { localPort: spec.udpEncap.localPort, remotePort: spec.udpEncap.remotePort };
    // `crypto ipsec df-bit clear|set|copy`: the outer header's DF (crypto maps and tunnels alike)
    if (dfBit) cfg.dfBit = dfBit;
    return new IpsecSa(cfg, engine);
  };
  const inSa = mk(spec.inbound);
  let outSa: IpsecSa;
  try {
    outSa = mk(spec.outbound);
  } catch (e) {
    inSa.destroy();
    throw e;
  }
  const common = {
    local, peer, mode: spec.mode, scope: spec.scope, policyKey: spec.policyKey, mapName: spec.mapName, mapSeq: spec.mapSeq,
    transformName: ts.words.join(' '), childId: spec.childId,
    lifetime: spec.lifetime, manual: spec.manual ?? false, iface: spec.iface,
  };
  return { inbound: saSpec(inSa, 'inbound', common), outbound: saSpec(outSa, 'outbound', common) };
}
