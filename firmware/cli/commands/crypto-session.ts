// `show crypto session [detail]` and `clear crypto session [remote A]`, over every IKE
// service's sessions (runtime.ikeSessionSources: IKEv1 and IKEv2 push themselves there).
// Layout: IOS 15 (docs/show-output.md):
//   Crypto session current status
//
//   Interface: FastEthernet0/0
//   Profile: PROF1
//   Session status: UP-ACTIVE
//   Peer: 172.16.0.2 port 500 fvrf: (none) ivrf: (none)          (VRFs in detail only)
//         Phase1_id: 172.16.0.2                                   (detail)
//         Desc: (none)                                            (detail)
//     IKEv2 SA: local 172.16.0.1/500 remote 172.16.0.2/500 Active
//             Capabilities:N connid:1 lifetime:23:59:10           (detail)
//     IPSEC FLOW: permit ip 10.1.0.0/255.255.255.0 10.2.0.0/255.255.255.0
//           Active SAs: 2, origin: crypto map
//           Inbound:  #pkts dec'ed 4 drop 0 life (KB/Sec) KB Vector/3587   (detail)
import { defineCommand } from '../registry.js';
import { sessionStatus, type CryptoSessionInfo } from '../../lib/session-info.js';

function hms(sec: number): string {
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

const CODES = [
  'Code: C - IKE Configuration mode, D - Dead Peer Detection',
  'K - Keepalives, N - NAT-traversal, T - cTCP encapsulation',
  'X - IKE Extended Authentication, F - IKE Fragmentation',
  'R - IKE Auto Reconnect, U - IKE Dynamic Route Update',
];

export function renderCryptoSession(list: readonly CryptoSessionInfo[], detail: boolean): string {
  const out = ['Crypto session current status', ''];
  if (detail) out.push(...CODES, '');
  for (const s of list) {
    out.push(`Interface: ${s.interface || 'unknown'}`);
    if (s.profile) out.push(`Profile: ${s.profile}`);
    out.push(`Session status: ${sessionStatus(s)}`);
    out.push(`Peer: ${s.peer} port ${s.peerPort}${detail ? ` fvrf: ${s.fvrf ?? '(none)'} ivrf: ${s.ivrf ?? '(none)'}` : ''}`);
    if (detail) {
      out.push(`      Phase1_id: ${s.peerId ?? s.peer}`);
      out.push('      Desc: (none)');
    }
    for (const i of s.ikeSas) {
      out.push(`  ${i.version} SA: local ${i.local}/${i.localPort} remote ${i.remote}/${i.remotePort} ${i.status}`);
      if (detail) {
        out.push(`          Capabilities:${i.capabilityCodes || '(none)'} connid:${i.connId} lifetime:${i.lifetimeLeftSec !== undefined ? hms(i.lifetimeLeftSec) : '00:00:00'}`);
      }
    }
    for (const f of s.flows) {
      out.push(`  IPSEC FLOW: ${f.text}`);
      out.push(`        Active SAs: ${f.activeSas}, origin: ${f.origin}`);
      if (detail) {
        out.push(`        Inbound:  #pkts dec'ed ${f.decryptedPackets ?? 0} drop ${f.droppedPackets ?? 0} life (KB/Sec) ${lifeText(f.inboundLife)}`);
        out.push(`        Outbound: #pkts enc'ed ${f.encryptedPackets ?? 0} drop 0 life (KB/Sec) ${lifeText(f.outboundLife)}`);
      }
    }
    out.push('');
  }
  return out.join('\n');
}

/** IOS prints `KB Vector` in place of a kilobyte count the data plane does not enforce. */
function lifeText(life: { kb?: number; sec?: number } | undefined): string {
  if (!life) return '0/0';
  return `${life.kb ?? 'KB Vector'}/${life.sec ?? 0}`;
}

defineCommand({
  modes: ['exec'],
  syntax: 'show crypto session [detail]',
  help: { session: 'Crypto session', detail: 'Detailed output' },
  pipe: true,
  handler(ctx, a) {
    const list = (ctx.system.runtime.ikeSessionSources ?? []).flatMap((s) => s.sessions());
    ctx.data(list.map((s) => ({ ...s, status: sessionStatus(s) })));
    ctx.print(renderCryptoSession(list, a.has('detail')));
  },
});

defineCommand({
  modes: ['exec'],
  syntax: 'clear crypto session [remote A.B.C.D$peer]',
  help: { session: 'Crypto session', remote: 'Remote IKE peer address' },
  handler(ctx, a) {
    const peer = a.get('peer');
    for (const s of ctx.system.runtime.ikeSessionSources ?? []) s.clearSessions?.(peer);
  },
});
