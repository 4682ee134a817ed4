// Decides whether the kernel can carry IPsec itself (XFRM with ESP) or the userspace data
// plane must. The decisive test is to ask the kernel: install a throwaway ESP SA that no
// packet can ever match (TEST-NET-1 addresses, a random 32-bit mark, 5-second hard
// lifetime), then delete it. A kernel without ESP answers EPROTONOSUPPORT; a missing
// algorithm answers ENOSYS (so several algorithm pairs are tried); no CAP_NET_ADMIN answers
// EPERM. /proc and /sys are read too, but only as hints for the report.

import { readFileSync, existsSync } from 'node:fs';
import { release } from 'node:os';
import {
  COMPRESSION_TRANSFORMS, ENCRYPTION_TRANSFORMS, INTEGRITY_TRANSFORMS, KernelIpsecError,
  type CompressionTransform, type EncryptionTransform, type IntegrityTransform, type IpsecProtocol,
  type KernelIpsecCapabilities, type SaSpec,
} from './kernel-ipsec.js';
import {
  XFRM_DEFAULT_CAPABILITIES, XfrmNetlink, openXfrmTransport, saIdToXfrm, saSpecToXfrm,
  type NetlinkTransport,
} from './xfrm-backend.js';
import { encodeDelSa, encodeNewSa, IOS_TRANSFORM_XFRM } from '../proto/netlink-xfrm.js';

export interface KernelProcHints {
  /** /proc/net/xfrm_stat exists: the kernel has XFRM. */
  xfrmStat: boolean;
  /** esp4 module: loaded (/proc/modules or /sys/module), builtin, available on disk, absent, or unknown. */
  espModule: 'loaded' | 'builtin' | 'available' | 'absent' | 'unknown';
  /** Algorithm names registered in /proc/crypto. */
  cryptoAlgorithms: string[];
}

export interface ProbeRecord {
  what: string;
  /** 'ok' or an errno name. */
  result: string;
}

export interface KernelIpsecDetection {
  backend: 'xfrm' | 'userspace';
  /** One line for logs and `show crypto engine`. */
  reason: string;
  /** Whether the kernel took an ESP SA (undefined: could not ask). */
  esp: boolean | undefined;
  /** What the kernel was found to support (only for backend 'xfrm'). */
  capabilities?: KernelIpsecCapabilities;
  probes: ProbeRecord[];
  hints: KernelProcHints;
}

export interface DetectOptions {
  /** Opens a NETLINK_XFRM transport (default: a raw socket in this network namespace). */
  openTransport?: () => NetlinkTransport;
  /** Reads a text file, undefined if missing (default: node:fs). */
  readFile?: (path: string) => string | undefined;
  /** Probe every transform, AH, IPComp, NAT-T and ESN after ESP is found (default true). */
  probeTransforms?: boolean;
  /** Random source in [0, 1) for the probe SPI and mark (default Math.random). */
  random?: () => number;
  /** Per-request timeout in ms (default 2000). */
  requestTimeoutMs?: number;
}

function defaultReadFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Reads the /proc and /sys hints (no side effects). */
export function readProcHints(readFile: (p: string) => string | undefined = defaultReadFile): KernelProcHints {
  const xfrmStat = readFile('/proc/net/xfrm_stat') !== undefined;
  const crypto = readFile('/proc/crypto');
  const cryptoAlgorithms = crypto
    ? [...new Set([...crypto.matchAll(/^name\s*:\s*(\S+)/gm)].map((m) => m[1]!))]
    : [];
  let espModule: KernelProcHints['espModule'] = 'unknown';
  const modules = readFile('/proc/modules');
  const rel = release();
  const builtin = readFile(`/lib/modules/${rel}/modules.builtin`);
  const dep = readFile(`/lib/modules/${rel}/modules.dep`);
  if (modules !== undefined && /^esp4\s/m.test(modules)) espModule = 'loaded';
  else if (readFile === defaultReadFile && existsSync('/sys/module/esp4')) espModule = 'loaded';
  else if (builtin !== undefined && /\/esp4\.ko/.test(builtin)) espModule = 'builtin';
  else if (dep !== undefined && /\/esp4\.ko/.test(dep)) espModule = 'available';
  else if (modules !== undefined && (builtin !== undefined || dep !== undefined)) espModule = 'absent';
  return { xfrmStat, espModule, cryptoAlgorithms };
}

const PROBE_SRC = '192.0.2.254';
const PROBE_DST = '192.0.2.253';

/** Runs the detection. Never throws: every failure ends in backend 'userspace' with a reason. */
export async function detectKernelIpsec(opts: DetectOptions = {}): Promise<KernelIpsecDetection> {
  const hints = readProcHints(opts.readFile ?? defaultReadFile);
  const probes: ProbeRecord[] = [];
  const random = opts.random ?? Math.random;
  const userspace = (reason: string, esp: boolean | undefined): KernelIpsecDetection =>
    ({ backend: 'userspace', reason, esp, probes, hints });

  let nl: XfrmNetlink;
  try {
    const transport = (opts.openTransport ?? (() => openXfrmTransport({ recvBufferSize: 1 << 16, sendBufferSize: 1 << 16 })))();
    nl = new XfrmNetlink(transport, { requestTimeoutMs: opts.requestTimeoutMs ?? 2000 });
  } catch (e) {
    return userspace(`no NETLINK_XFRM socket (${(e as Error).message})`, undefined);
  }

  let spiCounter = 0x0f00_0000 + Math.floor(random() * 0x00f0_0000);
  const mark = { value: (Math.floor(random() * 0xffff_fff0) + 1) >>> 0, mask: 0xffff_ffff };

  /** Installs and removes one throwaway SA; returns 'ok' or the errno name. */
  const probe = async (what: string, spec: Partial<SaSpec> & { protocol: IpsecProtocol }): Promise<string> => {
    const full: SaSpec = {
      src: PROBE_SRC, dst: PROBE_DST, spi: spec.protocol === 'comp' ? 0x100 + (spiCounter++ & 0xfeff) : spiCounter++,
      reqid: 0, direction: 'in', mode: 'transport', replayWindow: 0, esn: false, lifetime: { hardSec: 5 }, mark, ...spec,
    };
    let result: string;
    try {
      const { info, attrs } = saSpecToXfrm(full);
      await nl.request(`probe ${what}`, 'ack', (h) => encodeNewSa(h, info, attrs));
      result = 'ok';
      const id = saIdToXfrm({ dst: full.dst, spi: full.spi, protocol: full.protocol, src: full.src, mark });
      await nl.request(`probe cleanup ${what}`, 'ack', (h) => encodeDelSa(h, id.id, id.attrs)).catch(() => undefined);
    } catch (e) {
      result = e instanceof KernelIpsecError ? e.code : (e as Error).message;
    }
    probes.push({ what, result });
    return result;
  };

  const key = (t: string): Uint8Array => new Uint8Array(IOS_TRANSFORM_XFRM[t]!.keyBytes.at(-1)!).fill(0x5a);
  const enc = (t: EncryptionTransform) => ({ transform: t, key: key(t) });
  const integ = (t: IntegrityTransform) => ({ transform: t, key: key(t) });

  try {
    // 1. Is there ESP at all? Try common pairs until one is not "algorithm missing".
    const bases: Array<[EncryptionTransform, IntegrityTransform | undefined]> = [
      ['esp-aes', 'esp-sha-hmac'], ['esp-aes', 'esp-sha256-hmac'], ['esp-gcm', undefined],
      ['esp-null', 'esp-sha-hmac'], ['esp-3des', 'esp-sha-hmac'], ['esp-null', 'esp-md5-hmac'],
    ];
    let base: [EncryptionTransform, IntegrityTransform | undefined] | undefined;
    for (const [e, i] of bases) {
      const r = await probe(`esp ${e}${i ? ` ${i}` : ''}`, {
        protocol: 'esp', encryption: enc(e), ...(i ? { integrity: integ(i) } : {}),
      });
      if (r === 'ok') { base = [e, i]; break; }
      if (r === 'EPROTONOSUPPORT') return userspace('kernel has XFRM but no ESP (EPROTONOSUPPORT)', false);
      if (r === 'EPERM' || r === 'EACCES') return userspace(`not permitted to install SAs (${r}; needs CAP_NET_ADMIN)`, undefined);
      if (r === 'ETIMEDOUT') return userspace('kernel did not answer XFRM requests', undefined);
    }
    if (!base) return userspace(`kernel took no ESP SA (${probes.map((p) => p.result).join(', ')})`, undefined);

    // 2. What exactly can it do?
    const capabilities: KernelIpsecCapabilities = { ...XFRM_DEFAULT_CAPABILITIES };
    if (opts.probeTransforms ?? true) {
      const [baseEnc, baseInteg] = base;
      const pairEnc: EncryptionTransform = IOS_TRANSFORM_XFRM[baseEnc]!.slot === 'aead' ? 'esp-null' : baseEnc;
      const encryption: EncryptionTransform[] = [];
      for (const e of ENCRYPTION_TRANSFORMS) {
        if (!IOS_TRANSFORM_XFRM[e]) continue;
        const aead = IOS_TRANSFORM_XFRM[e]!.slot === 'aead';
        const i = aead ? undefined : baseInteg ?? 'esp-sha-hmac';
        if ((await probe(`esp ${e}`, { protocol: 'esp', encryption: enc(e), ...(i ? { integrity: integ(i) } : {}) })) === 'ok') encryption.push(e);
      }
      const integrity: IntegrityTransform[] = [];
      for (const i of INTEGRITY_TRANSFORMS) {
        const ah = i.startsWith('ah-');
        const r = ah
          ? await probe(`ah ${i}`, { protocol: 'ah', integrity: integ(i) })
          : await probe(`esp ${pairEnc} ${i}`, { protocol: 'esp', encryption: enc(pairEnc), integrity: integ(i) });
        if (r === 'ok') integrity.push(i);
      }
      const compression: CompressionTransform[] = [];
      for (const c of COMPRESSION_TRANSFORMS) {
        if ((await probe(`comp ${c}`, { protocol: 'comp', compression: { transform: c } })) === 'ok') compression.push(c);
      }
      const baseSpec = { protocol: 'esp' as const, encryption: enc(baseEnc), ...(baseInteg ? { integrity: integ(baseInteg) } : {}) };
      const udpEncap = (await probe('esp udp-encap', { ...baseSpec, udpEncap: { srcPort: 4500, dstPort: 4500 } })) === 'ok';
      const esn = (await probe('esp esn', { ...baseSpec, esn: true, replayWindow: 64 })) === 'ok';
      const protocols: IpsecProtocol[] = ['esp'];
      if (integrity.some((i) => i.startsWith('ah-'))) protocols.push('ah');
      if (compression.length > 0) protocols.push('comp');
      Object.assign(capabilities, { protocols, encryption, integrity, compression, udpEncap, esn });
    }
    const list = [...capabilities.encryption, ...capabilities.integrity, ...capabilities.compression].join(' ');
    return { backend: 'xfrm', reason: `kernel ESP available (${list})`, esp: true, capabilities, probes, hints };
  } finally {
    nl.close();
  }
}
