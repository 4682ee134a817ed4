// Configuration checks the CLI/appliers can run before handing a config to the engine.
// Returns human-readable problems (empty = fine); never throws.
import { isSupportedDhGroup } from '../crypto/index.js';
import type { ChildProposalConfig, IkeProposalConfig, Ikev2Config, Ikev2Connection } from './config-types.js';
import { cidrRange, selectorFromConfig } from './selectors.js';

function checkIke(where: string, p: IkeProposalConfig): string[] {
  const out: string[] = [];
  if (p.encryption.length === 0) out.push(`${where}: no encryption`);
  const aead = p.encryption.filter((e) => e.startsWith('aes-gcm'));
  if (aead.length > 0 && aead.length !== p.encryption.length) out.push(`${where}: AES-GCM cannot be mixed with non-AEAD encryption in one proposal`);
  if (aead.length > 0 && (p.integrity?.length ?? 0) > 0) out.push(`${where}: AES-GCM proposals take no integrity`);
  if (aead.length === 0 && (p.integrity?.length ?? 0) === 0) out.push(`${where}: integrity required with ${p.encryption.join(',')}`);
  if (p.dhGroups.length === 0) out.push(`${where}: no DH group`);
  for (const g of p.dhGroups) if (!isSupportedDhGroup(g)) out.push(`${where}: unsupported DH group ${g}`);
  return out;
}

function checkChild(where: string, p: ChildProposalConfig): string[] {
  const out: string[] = [];
  if (p.encryption.length === 0) out.push(`${where}: no encryption`);
  const aead = p.encryption.filter((e) => e.startsWith('aes-gcm'));
  if (aead.length > 0 && aead.length !== p.encryption.length) out.push(`${where}: AES-GCM cannot be mixed with non-AEAD encryption in one proposal`);
  if (aead.length > 0 && (p.integrity?.length ?? 0) > 0) out.push(`${where}: AES-GCM proposals take no integrity`);
  if (aead.length === 0 && (p.integrity?.length ?? 0) === 0) out.push(`${where}: integrity required with ${p.encryption.join(',')}`);
  return out;
}

export function validateConnection(c: Ikev2Connection): string[] {
  const out: string[] = [];
  const w = `connection ${c.name}`;
  try {
    cidrRange(c.remoteAddress);
  } catch {
    out.push(`${w}: bad remote address ${c.remoteAddress}`);
  }
  if (c.ikeProposals.length === 0) out.push(`${w}: no IKE proposal`);
  c.ikeProposals.forEach((p, i) => out.push(...checkIke(`${w} IKE proposal ${p.name ?? i + 1}`, p)));
  if (c.childProposals.length === 0) out.push(`${w}: no ESP proposal`);
  c.childProposals.forEach((p, i) => out.push(...checkChild(`${w} ESP proposal ${p.name ?? i + 1}`, p)));
  if (c.pfsGroup !== undefined && c.pfsGroup !== 0 && !isSupportedDhGroup(c.pfsGroup)) out.push(`${w}: unsupported PFS group ${c.pfsGroup}`);
  for (const [side, list] of [['local', c.localSelectors], ['remote', c.remoteSelectors]] as const) {
    if (list.length === 0) out.push(`${w}: no ${side} selectors`);
    for (const s of list) {
      try {
        selectorFromConfig(s);
      } catch {
        out.push(`${w}: bad ${side} selector ${JSON.stringify(s)}`);
      }
    }
  }
  if (c.dpd && (c.dpd.intervalSec <= 0 || c.dpd.retrySec <= 0)) out.push(`${w}: DPD interval and retry must be positive`);
  if (c.childLifetimeSec !== undefined && c.childLifetimeSec < 10) out.push(`${w}: child lifetime too short`);
  return out;
}

export function validateIkev2Config(cfg: Ikev2Config): string[] {
  const out: string[] = [];
  const names = new Set<string>();
  for (const c of cfg.connections) {
    if (names.has(c.name)) out.push(`duplicate connection name ${c.name}`);
    names.add(c.name);
    out.push(...validateConnection(c));
  }
  for (const p of cfg.policies ?? []) p.proposals.forEach((x, i) => out.push(...checkIke(`policy ${p.name} proposal ${x.name ?? i + 1}`, x)));
  return out;
}
