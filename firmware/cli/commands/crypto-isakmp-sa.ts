// IKEv1 runtime commands: `show crypto isakmp sa [detail]`, `clear crypto isakmp [CONN-ID]`
// (`debug crypto isakmp` is in debug.ts). State comes from `runtime.ikev1` (firmware/daemon/ikev1-service.ts);
// without it the tables are empty. Layout follows IOS 12.4 `show crypto isakmp sa`.
import { CliError } from '../context.js';
import { defineCommand } from '../registry.js';
import type { IkeSessionSource } from '../../lib/session-info.js';

/** What `show crypto isakmp sa` prints per SA. */
export interface IsakmpSaShow {
  dst: string;
  src: string;
  state: string;
  connId: number;
  status: 'ACTIVE' | 'DELETED' | 'NEGOTIATING';
  role: string;
  mode: string;
  encryption?: string;
  hash?: string;
  auth?: string;
  group?: number;
  lifetimeLeftSec?: number;
  localPort: number;
  remotePort: number;
  natT: boolean;
  fvrf?: string;
  ivrf?: string;
}

export interface IkeV1RuntimeView {
  isakmpSas(): IsakmpSaShow[];
  /** `clear crypto isakmp [ID]`; returns how many were cleared. */
  clearIsakmp(connId?: number): number;
  /** Before the event bus, per-console debug listeners (no longer called: debug is box-wide). */
  addDebugListener?(id: string, write: (line: string) => void): void;
  removeDebugListener?(id: string): boolean;
  debugEnabled?(id: string): boolean;
  counters(): Record<string, number>;
  /** test hook: start phase 1 + quick mode for a crypto map entry's first permit */
  initiateEntry?(mapName: string, seq: number): string;
}

/** Tunnel endpoint discovery (both IKE versions; firmware/daemon/ted-service.ts). */
export interface TedRuntimeView {
  /** Probes, replies, drops by reason. */
  counters(): Record<string, number>;
}

declare module '../context.js' {
  interface RuntimeView {
    ikev1?: IkeV1RuntimeView;
    ted?: TedRuntimeView;
    ikeSessionSources?: IkeSessionSource[];
  }
}


function pad(s: string, n: number): string {
  return s.length >= n ? `${s} ` : s.padEnd(n);
}

function hms(sec: number): string {
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

const ENCR_SHORT: Record<string, string> = { des: 'des', '3des': '3des', aes128: 'aes', aes192: 'aes', aes256: 'aes' };

export function renderIsakmpSa(list: readonly IsakmpSaShow[]): string {
  const out = ['IPv4 Crypto ISAKMP SA', 'dst             src             state          conn-id status'];
  for (const s of list) {
    out.push(`${pad(s.dst, 16)}${pad(s.src, 16)}${pad(s.state, 15)}${String(s.connId).padStart(7)} ${s.status}`);
  }
  out.push('', 'IPv6 Crypto ISAKMP SA', '');
  return out.join('\n');
}

export function renderIsakmpSaDetail(list: readonly IsakmpSaShow[]): string {
  const out = [
    'Codes: C - IKE configuration mode, D - Dead Peer Detection',
    '       K - Keepalives, N - NAT-traversal',
    '       T - cTCP encapsulation, X - IKE Extended Authentication',
    '       psk - Preshared key, rsig - RSA signature',
    '       renc - RSA encryption',
    'IPv4 Crypto ISAKMP SA',
    '',
    'C-id  Local           Remote          I-VRF  Status Encr Hash   Auth DH Lifetime Cap.',
    '',
  ];
  for (const s of list) {
    const local = s.role === 'initiator' ? s.src : s.dst;
    const remote = s.role === 'initiator' ? s.dst : s.src;
    const auth = s.auth === 'pre-share' ? 'psk' : s.auth === 'rsa-sig' ? 'rsig' : s.auth === 'rsa-encr' ? 'renc' : '';
    const cap = `${s.natT ? 'N' : ''}`;
    out.push(`${pad(String(s.connId), 6)}${pad(local, 16)}${pad(remote, 16)}${pad(s.ivrf ?? '', 7)}${pad(s.status === 'NEGOTIATING' ? 'NEG' : s.status, 7)}${pad(s.encryption ? ENCR_SHORT[s.encryption] ?? s.encryption : '', 5)}${pad(s.hash ?? '', 7)}${pad(auth, 5)}${pad(s.group !== undefined ? String(s.group) : '', 3)}${pad(s.lifetimeLeftSec !== undefined ? hms(s.lifetimeLeftSec) : '', 9)}${cap}`);
    out.push(`       Engine-id:Conn-id =  SW:${s.connId}`);
    out.push('');
  }
  out.push('IPv6 Crypto ISAKMP SA', '');
  return out.join('\n');
}

defineCommand({
  modes: ['exec'],
  syntax: 'show crypto isakmp sa [detail]',
  help: { sa: 'ISAKMP SAs', detail: 'Detailed output' },
  pipe: true,
  handler(ctx, a) {
    const list = ctx.system.runtime.ikev1?.isakmpSas() ?? [];
    ctx.data(list);
    ctx.print(a.has('detail') ? renderIsakmpSaDetail(list) : renderIsakmpSa(list));
  },
});

const TED_LINES: [string, string][] = [
  ['probesSent', 'Probes sent'], ['probesReceived', 'Probes received'], ['repliesSent', 'Replies sent'],
  ['repliesReceived', 'Replies received'], ['outstanding', 'Probes outstanding'], ['probesSuppressed', 'Probes suppressed (table full)'],
  ['droppedMalformed', 'Dropped, malformed'], ['droppedUnsolicited', 'Dropped, reply to no outstanding probe'],
  ['droppedMismatch', 'Dropped, reply not fitting its probe'], ['droppedNotProtected', 'Dropped, probe for a host not protected here'],
];

// Not an IOS command: Rampart's view of tunnel endpoint discovery (docs/ted-wire-format.md).
defineCommand({
  modes: ['exec'],
  syntax: 'show crypto isakmp ted',
  help: { ted: 'Tunnel endpoint discovery counters' },
  pipe: true,
  handler(ctx) {
    const c = ctx.system.runtime.ted?.counters() ?? {};
    ctx.data(c);
    ctx.print(['Tunnel Endpoint Discovery:', ...TED_LINES.map(([k, label]) => `  ${label}: ${c[k] ?? 0}`)].join('\n'));
  },
});

defineCommand({
  modes: ['exec'],
  syntax: 'clear crypto isakmp [(1-65535)$connid]',
  help: { isakmp: 'Flush the ISAKMP database', connid: 'connection id of SA' },
  handler(ctx, a) {
    const rt = ctx.system.runtime.ikev1;
    const id = a.get('connid');
    if (!rt) return;
    const n = rt.clearIsakmp(id !== undefined ? Number(id) : undefined);
    if (id !== undefined && n === 0) throw new CliError(`% No ISAKMP SA with conn-id ${id}`);
  },
});
