// IKEv2 runtime commands: `show crypto ikev2 sa [detail]`, `clear crypto ikev2 sa [remote A]`,
// `show crypto ikev2 diagnose [peer A]` (why the last negotiations failed: the attribute that
// differed, the selectors, the identity and keyring tried), `show crypto ikev2 debug`
// (the debug lines kept since `debug crypto ikev2`, which is in debug.ts).
// State comes from `runtime.ikev2`, installed by firmware/daemon/ikev2-service.ts; without
// it the tables are empty. Layout follows IOS 15 `show crypto ikev2 sa`.
import { defineCommand } from '../registry.js';

export interface Ikev2SaShow {
  tunnelId: number;
  local: string;
  localPort: number;
  remote: string;
  remotePort: number;
  fvrf: string;
  ivrf: string;
  /** READY, IN-NEG, DELETE */
  status: string;
  /** IOS names: AES-CBC, AES-GCM, 3DES, DES */
  encr: string;
  keySize: number;
  /** SHA256, SHA1, MD5 ... */
  prf: string;
  /** SHA256 ... or None (AEAD) */
  hash: string;
  dhGroup: number;
  authSign: string;
  authVerify: string;
  lifetimeSec: number;
  activeSec: number;
  /** detail */
  localSpi: string;
  remoteSpi: string;
  localId: string;
  remoteId: string;
  initiator: boolean;
  natLocal: boolean;
  natRemote: boolean;
  childSas: number;
  connection: string;
  profile?: string;
  dpd?: string;
}

export interface Ikev2DiagnosisShow {
  atMs: number;
  kind: string;
  role: string;
  peer: string;
  /** Text lines (first: the summary line). */
  lines: string[];
  /** The structured record (`| json`). */
  record: unknown;
}

export interface Ikev2RuntimeView {
  sas(): Ikev2SaShow[];
  diagnoses(peer?: string): Ikev2DiagnosisShow[];
  /** Sends Deletes; returns how many IKE SAs were cleared. */
  clearSas(peer?: string): number;
  setDebug(on: boolean): void;
  debugOn(): boolean;
  debugLines(): string[];
  counters(): Record<string, number>;
  /** Crypto map entries with `set ikev2-profile` that cannot be used, and why. */
  configProblems?(): string[];
}

declare module '../context.js' {
  interface RuntimeView {
    ikev2?: Ikev2RuntimeView;
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? `${s} ` : s.padEnd(n);
}

export function formatIkev2Sas(sas: Ikev2SaShow[], detail: boolean): string {
  const out: string[] = [' IPv4 Crypto IKEv2  SA ', ''];
  out.push('Tunnel-id Local                 Remote                fvrf/ivrf            Status ');
  if (sas.length === 0) out.push('');
  for (const s of sas) {
    out.push(`${pad(String(s.tunnelId), 10)}${pad(`${s.local}/${s.localPort}`, 22)}${pad(`${s.remote}/${s.remotePort}`, 22)}${pad(`${s.fvrf}/${s.ivrf}`, 21)}${s.status} `);
    out.push(`      Encr: ${s.encr}, keysize: ${s.keySize}, PRF: ${s.prf}, Hash: ${s.hash}, DH Grp:${s.dhGroup}, Auth sign: ${s.authSign}, Auth verify: ${s.authVerify}`);
    out.push(`      Life/Active Time: ${s.lifetimeSec}/${s.activeSec} sec`);
    if (detail) {
      out.push(`      CE id: ${1000 + s.tunnelId}, Session-id: ${s.tunnelId}`);
      out.push(`      Status Description: ${s.status === 'READY' ? 'Negotiation done' : s.status === 'IN-NEG' ? 'Negotiation in progress' : 'Deleting'}`);
      out.push(`      Local spi: ${s.localSpi}       Remote spi: ${s.remoteSpi}`);
      out.push(`      Local id: ${s.localId}`);
      out.push(`      Remote id: ${s.remoteId}`);
      out.push(`      Local req msg id:  -              Remote req msg id:  -         `);
      out.push(`      Child SAs: ${s.childSas}, connection: ${s.connection}${s.profile ? `, profile: ${s.profile}` : ''}`);
      out.push(`      ${s.initiator ? 'Initiator' : 'Responder'} of SA`);
      out.push(`      DPD configured for ${s.dpd ?? '0 seconds, retry 0'}`);
      out.push(s.natLocal || s.natRemote
        ? `      NAT-T is detected ${s.natLocal ? 'inside' : 'outside'}`
        : '      NAT-T is not detected  ');
    }
    out.push('');
  }
  out.push(' IPv6 Crypto IKEv2  SA ', '');
  return `${out.join('\n')}\n`;
}

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show crypto ikev2 sa [detail]',
  help: { ikev2: 'Shows ikev2 information', sa: 'Shows ikev2 SAs', detail: 'detail ikev2 SA information' },
  pipe: true,
  handler(ctx, a) {
    const sas = ctx.system.runtime.ikev2?.sas() ?? [];
    ctx.data({ sas });
    ctx.print(formatIkev2Sas(sas, a.has('detail')));
  },
});

defineCommand({
  modes: ['exec'],
  syntax: 'clear crypto ikev2 sa [remote A.B.C.D$peer]',
  help: { ikev2: 'Clear IKEv2 SAs', sa: 'Clear IKEv2 SAs', remote: 'Clear IKEv2 SAs of one remote address' },
  pipe: false,
  handler(ctx, a) {
    ctx.system.runtime.ikev2?.clearSas(a.get('peer'));
  },
});

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show crypto ikev2 diagnose [peer A.B.C.D$peer]',
  help: {
    diagnose: 'Why IKEv2 negotiations failed (offered vs local proposals, selectors, identities)',
    peer: 'Only failures with this peer',
  },
  pipe: true,
  handler(ctx, a) {
    const list = ctx.system.runtime.ikev2?.diagnoses(a.get('peer')) ?? [];
    const problems = a.get('peer') === undefined ? ctx.system.runtime.ikev2?.configProblems?.() ?? [] : [];
    ctx.data({ diagnoses: list.map((d) => d.record), configProblems: problems });
    const out: string[] = [];
    if (problems.length > 0) out.push('IKEv2 configuration not usable:', ...problems.map((p) => `  ${p}`), '');
    if (list.length === 0) {
      ctx.print(`${out.join('\n')}${out.length > 0 ? '\n' : ''}No IKEv2 negotiation failures recorded.\n`);
      return;
    }
    const now = ctx.system.now();
    for (const d of list) {
      out.push(`${Math.max(0, Math.round((now - d.atMs) / 1000))} sec ago: ${d.lines[0] ?? ''}`);
      out.push(...d.lines.slice(1), '');
    }
    ctx.print(`${out.join('\n')}`);
  },
});

defineCommand({
  modes: ['exec'],
  syntax: 'show crypto ikev2 debug',
  help: { debug: 'IKEv2 debug lines kept while debug crypto ikev2 is on' },
  pipe: true,
  handler(ctx) {
    const rt = ctx.system.runtime.ikev2;
    const lines = rt?.debugLines() ?? [];
    ctx.data({ on: rt?.debugOn() ?? false, lines, counters: rt?.counters() ?? {} });
    ctx.print(`${lines.length > 0 ? lines.join('\n') : 'No IKEv2 debug output.'}\n`);
  },
});
