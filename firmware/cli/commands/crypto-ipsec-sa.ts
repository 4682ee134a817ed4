// `show crypto ipsec sa [peer A | map NAME | interface IF] [detail]`, `show crypto ipsec sa
// address`, `show crypto engine brief|configuration`, `clear crypto sa [peer A | map NAME |
// entry DST PROTO SPI]`. Runtime state comes from RuntimeView members the data-plane service
// installs (firmware/daemon/dataplane-service.ts); without them the tables are empty.
// Layout: IOS 15 (plaintext mtu, flow_id SW:N, sibling_flags, replay window size, PFS / DH
// group lines; detail's per-cause error block), spaces instead of tabs (docs/show-output.md).

import { CliError } from '../context.js';
import { defineCommand } from '../registry.js';
import { ifnameOf } from './interface.js';

export interface IpsecSaShowSa {
  protocol: 'esp' | 'ah' | 'pcp';
  spi: number;
  transform: string;
  mode: 'tunnel' | 'transport';
  connId: number;
  mapName: string;
  /** undefined: no limit (manual SAs) */
  remainingKb: number | undefined;
  remainingSec: number | undefined;
  /** 0: anti-replay off */
  replayWindow: number;
  ivBytes: number;
  status: string;
  udpEncap: boolean;
  manual: boolean;
  /** Rampart's SA flag word for `sibling_flags` (see docs/show-output.md). */
  siblingFlags: number;
}

/** Per-cause error counters of a flow (`show crypto ipsec sa detail`). */
export interface IpsecSaShowFlowErrors {
  noSaSend: number; invalidSaRecv: number;
  encapsFailedSend: number; decapsFailedRecv: number;
  invalidProtRecv: number; verifyFailed: number;
  invalidIdentityRecv: number; invalidLenRecv: number;
  replayRolloverSend: number; replayRolloverRecv: number;
  replayFailedRecv: number;
  internalErrSend: number; internalErrRecv: number;
}

export interface IpsecSaShowFlow {
  mapSeq: number;
  localIdent: { addr: string; mask: string; proto: number; port: number };
  remoteIdent: { addr: string; mask: string; proto: number; port: number };
  peer: string;
  /** The peer's port of this flow's SAs: 4500 when ESP runs in UDP, else 500. */
  peerPort: number;
  local: string;
  /** Inner VRF of the protected traffic (undefined: global). */
  protectedVrf?: string;
  /** PFS group the SAs' keys were made with (undefined: no PFS). */
  pfsGroup: number | undefined;
  /** Largest inner packet that fits the path MTU with this flow's encapsulation. */
  plaintextMtu: number;
  pathMtu: number;
  ipMtu: number;
  encaps: number; encrypt: number; digest: number;
  decaps: number; decrypt: number; verify: number;
  compressed: number; decompressed: number; notCompressed: number; notDecompressed: number; decompressFailed: number;
  sendErrors: number; recvErrors: number;
  /** detail: receive errors by cause */
  replayFailures: number; authFailures: number;
  errors: IpsecSaShowFlowErrors;
  inbound: IpsecSaShowSa[];
  outbound: IpsecSaShowSa[];
  currentOutboundSpi: number;
}

export interface IpsecSaShowInterface {
  name: string;
  mapName: string;
  localAddr: string;
  flows: IpsecSaShowFlow[];
}

export interface CryptoEngineShow {
  backend: 'xfrm' | 'userspace' | 'none';
  backendReason: string;
  kernelEsp: boolean | undefined;
  engines: { name: string; kind: string; state: string; activeSas: number; /** how the engine keeps its per-SA state */ method?: string }[];
  /** userspace data path: TUN offloads and how outer packets are sent/received */
  dataPathIo?: string;
  counters: Record<string, number>;
}

export type ClearCryptoSaFilter =
  | { kind: 'all' }
  | { kind: 'peer'; peer: string }
  /** `seq`: only that entry's SAs (configure replace of a changed entry). */
  | { kind: 'map'; map: string; seq?: number }
  | { kind: 'entry'; destination: string; protocol: 'esp' | 'ah' | 'comp'; spi: number };

declare module '../context.js' {
  interface RuntimeView {
    /** Installed IPsec SAs per crypto-map interface (`show crypto ipsec sa`). */
    ipsecSas?(): IpsecSaShowInterface[];
    /** Brings the SA counters up to date first (the kernel's XFRM data path counts them). */
    refreshIpsecSas?(): Promise<void>;
    /** Backend and crypto engines in use (`show crypto engine`). */
    cryptoEngine?(): CryptoEngineShow;
    /** `clear crypto sa ...`; returns how many SAs were deleted (manual ones come back at once). */
    clearCryptoSa?(filter: ClearCryptoSaFilter): number;
    /** `clear crypto sa counters`: the packet and error counts `show crypto ipsec sa` prints start again at 0. */
    clearCryptoSaCounters?(): void;
  }
}

const hexSpi = (spi: number): string => `0x${spi.toString(16).toUpperCase()}(${spi})`;

/** The lines of one SA as IOS 15 prints them under `inbound esp sas:` (and in `address`). */
function saLines(s: IpsecSaShowSa): string[] {
  const out = [`      spi: ${hexSpi(s.spi)}`];
  out.push(`        transform: ${s.transform} ,`);
  out.push(`        in use settings ={${s.mode === 'tunnel' ? 'Tunnel' : 'Transport'}${s.udpEncap ? ' UDP-Encaps' : ''}, }`);
  out.push(`        conn id: ${s.connId}, flow_id: SW:${s.connId - 2000}, sibling_flags ${s.siblingFlags.toString(16).toUpperCase().padStart(8, '0')}, crypto map: ${s.mapName}`);
  if (s.manual) out.push('        no sa timing');
  else out.push(`        sa timing: remaining key lifetime (k/sec): (${s.remainingKb ?? 'unlimited'}/${s.remainingSec ?? 'unlimited'})`);
  if (s.protocol === 'esp') out.push(`        IV size: ${s.ivBytes} bytes`);
  out.push(`        replay detection support: ${s.replayWindow > 0 ? 'Y' : 'N'}  replay window size: ${s.replayWindow}`);
  out.push(`        Status: ${s.status}(${s.status})`);
  return out;
}

function saBlock(title: string, sas: readonly IpsecSaShowSa[], out: string[]): void {
  out.push(`     ${title}:`);
  for (const s of sas) out.push(...saLines(s));
  out.push('');
}

export function formatIpsecFlow(f: IpsecSaShowFlow, itf: IpsecSaShowInterface, detail: boolean, out: string[]): void {
  const id = (x: IpsecSaShowFlow['localIdent']): string => `(${x.addr}/${x.mask}/${x.proto}/${x.port})`;
  out.push(`   protected vrf: ${f.protectedVrf ?? '(none)'}`);
  out.push(`   local  ident (addr/mask/prot/port): ${id(f.localIdent)}`);
  out.push(`   remote ident (addr/mask/prot/port): ${id(f.remoteIdent)}`);
  out.push(`   current_peer ${f.peer} port ${f.peerPort}`);
  out.push('     PERMIT, flags={origin_is_acl,}');
  out.push(`    #pkts encaps: ${f.encaps}, #pkts encrypt: ${f.encrypt}, #pkts digest: ${f.digest}`);
  out.push(`    #pkts decaps: ${f.decaps}, #pkts decrypt: ${f.decrypt}, #pkts verify: ${f.verify}`);
  out.push(`    #pkts compressed: ${f.compressed}, #pkts decompressed: ${f.decompressed}`);
  out.push(`    #pkts not compressed: ${f.notCompressed}, #pkts compr. failed: 0`);
  out.push(`    #pkts not decompressed: ${f.notDecompressed}, #pkts decompress failed: ${f.decompressFailed}`);
  if (detail) {
    const e = f.errors;
    out.push(`    #pkts no sa (send) ${e.noSaSend}, #pkts invalid sa (rcv) ${e.invalidSaRecv}`);
    out.push(`    #pkts encaps failed (send) ${e.encapsFailedSend}, #pkts decaps failed (rcv) ${e.decapsFailedRecv}`);
    out.push(`    #pkts invalid prot (recv) ${e.invalidProtRecv}, #pkts verify failed: ${e.verifyFailed}`);
    out.push(`    #pkts invalid identity (recv) ${e.invalidIdentityRecv}, #pkts invalid len (rcv) ${e.invalidLenRecv}`);
    out.push(`    #pkts replay rollover (send): ${e.replayRolloverSend}, #pkts replay rollover (rcv) ${e.replayRolloverRecv}`);
    // IOS 15 prints this line with two '#' (and parsers expect it so)
    out.push(`    ##pkts replay failed (rcv): ${e.replayFailedRecv}`);
    out.push('    #pkts tagged (send): 0, #pkts untagged (rcv): 0');
    out.push('    #pkts not tagged (send): 0, #pkts not untagged (rcv): 0');
    out.push(`    #pkts internal err (send): ${e.internalErrSend}, #pkts internal err (recv) ${e.internalErrRecv}`);
  } else {
    out.push(`    #send errors ${f.sendErrors}, #recv errors ${f.recvErrors}`);
  }
  out.push('');
  out.push(`     local crypto endpt.: ${f.local}, remote crypto endpt.: ${f.peer}`);
  out.push(`     plaintext mtu ${f.plaintextMtu}, path mtu ${f.pathMtu}, ip mtu ${f.ipMtu}, ip mtu idb ${itf.name}`);
  out.push(`     current outbound spi: ${hexSpi(f.currentOutboundSpi)}`);
  out.push(`     PFS (Y/N): ${f.pfsGroup !== undefined ? 'Y' : 'N'}, DH group: ${f.pfsGroup !== undefined ? `group${f.pfsGroup}` : 'none'}`);
  out.push('');
  saBlock('inbound esp sas', f.inbound.filter((s) => s.protocol === 'esp'), out);
  saBlock('inbound ah sas', f.inbound.filter((s) => s.protocol === 'ah'), out);
  saBlock('inbound pcp sas', f.inbound.filter((s) => s.protocol === 'pcp'), out);
  saBlock('outbound esp sas', f.outbound.filter((s) => s.protocol === 'esp'), out);
  saBlock('outbound ah sas', f.outbound.filter((s) => s.protocol === 'ah'), out);
  saBlock('outbound pcp sas', f.outbound.filter((s) => s.protocol === 'pcp'), out);
}

/** `show crypto ipsec sa [detail]` text for the interfaces given (already filtered). */
export function formatIpsecSa(itfs: readonly IpsecSaShowInterface[], detail: boolean): string {
  const out: string[] = [];
  for (const i of itfs) {
    out.push('');
    out.push(`interface: ${i.name}`);
    out.push(`    Crypto map tag: ${i.mapName}, local addr ${i.localAddr}`);
    out.push('');
    for (const f of i.flows) formatIpsecFlow(f, i, detail, out);
  }
  return out.join('\n');
}

/** `show crypto ipsec sa address`: per destination address and protocol, the SAs. */
function formatByAddress(itfs: readonly IpsecSaShowInterface[]): { text: string; rows: { dst: string; proto: string; sa: IpsecSaShowSa; dir: string }[] } {
  const rows: { dst: string; proto: string; sa: IpsecSaShowSa; dir: string }[] = [];
  for (const i of itfs) {
    for (const f of i.flows) {
      for (const s of f.inbound) rows.push({ dst: f.local, proto: s.protocol, sa: s, dir: 'inbound' });
      for (const s of f.outbound) rows.push({ dst: f.peer, proto: s.protocol, sa: s, dir: 'outbound' });
    }
  }
  rows.sort((x, y) => (x.dst < y.dst ? -1 : x.dst > y.dst ? 1 : x.proto < y.proto ? -1 : x.proto > y.proto ? 1 : x.sa.spi - y.sa.spi));
  const out: string[] = [];
  let lastDst = '', lastProto = '';
  for (const r of rows) {
    if (r.dst !== lastDst) { out.push(`dest address: ${r.dst}`); lastDst = r.dst; lastProto = ''; }
    if (r.proto !== lastProto) { out.push(`   protocol: ${r.proto.toUpperCase()}`); lastProto = r.proto; }
    out.push(...saLines(r.sa), '');
  }
  return { text: out.join('\n'), rows };
}

defineCommand({
  modes: ['user', 'exec'],
  syntax: [
    'show crypto ipsec sa [peer A.B.C.D$peer|map WORD$map|interface IFNAME] [detail]',
    'show crypto ipsec sa address',
  ],
  help: {
    sa: 'IPSEC SA table',
    peer: 'Show SAs for a peer',
    map: 'Show SAs for a crypto map',
    interface: 'Show SAs for an interface',
    address: 'Show SAs sorted by destination address',
    detail: 'Detailed error counters',
  },
  pipe: true,
  async handler(ctx, a) {
    await ctx.system.runtime.refreshIpsecSas?.().catch(() => { /* the last counters read */ });
    let itfs = ctx.system.runtime.ipsecSas?.() ?? [];
    const peer = a.get('peer');
    const map = a.get('map');
    const ifname = a.get('IFNAME');
    if (map !== undefined) itfs = itfs.filter((i) => i.mapName === map);
    if (ifname !== undefined) itfs = itfs.filter((i) => i.name.toLowerCase() === ifnameOf(ifname).toLowerCase());
    if (peer !== undefined) itfs = itfs.map((i) => ({ ...i, flows: i.flows.filter((f) => f.peer === peer) })).filter((i) => i.flows.length > 0);
    if (a.has('address')) {
      const { text, rows } = formatByAddress(itfs);
      ctx.data(rows.map((r) => ({ destination: r.dst, protocol: r.proto, direction: r.dir, spi: r.sa.spi, transform: r.sa.transform })));
      if (text) ctx.print(text);
      return;
    }
    ctx.data(itfs);
    const text = formatIpsecSa(itfs, a.has('detail'));
    if (text) ctx.print(text);
  },
});

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show crypto engine <brief|configuration>',
  help: {
    engine: 'Show crypto engine info',
    brief: 'Crypto engine brief status',
    configuration: 'Crypto engine configuration',
  },
  pipe: true,
  handler(ctx, a) {
    const e = ctx.system.runtime.cryptoEngine?.();
    ctx.data(e ?? null);
    if (!e) { ctx.print('crypto engine: no data plane running'); return; }
    const out: string[] = [];
    if (a.has('brief')) {
      for (const [i, eng] of e.engines.entries()) {
        out.push(`        crypto engine name:  ${eng.name}`);
        out.push(`        crypto engine type:  ${eng.kind}`);
        out.push(`                     State:  ${eng.state}`);
        out.push(`               Location:  onboard ${i}`);
        out.push(`            Active SAs:  ${eng.activeSas}`);
        out.push('');
      }
      out.push(`IPsec data path: ${e.backend}`);
      out.push(`  ${e.backendReason}`);
    } else {
      out.push(`IPsec data path:       ${e.backend}`);
      out.push(`Reason:                ${e.backendReason}`);
      out.push(`Kernel ESP:            ${e.kernelEsp === undefined ? 'unknown' : e.kernelEsp ? 'yes' : 'no'}`);
      if (e.dataPathIo) out.push(`Packet I/O:            ${e.dataPathIo}`);
      for (const eng of e.engines) {
        out.push(`Crypto engine:         ${eng.name} (${eng.kind}), ${eng.state}, ${eng.activeSas} SAs`);
        if (eng.method) out.push(`  Crypto contexts:     ${eng.method}`);
      }
      const keys = Object.keys(e.counters);
      if (keys.length > 0) {
        out.push('Data path counters:');
        for (const k of keys) out.push(`  ${k.padEnd(20)} ${e.counters[k]}`);
      }
    }
    ctx.print(out.join('\n'));
  },
});

defineCommand({
  modes: ['exec'],
  syntax: 'clear crypto sa [peer A.B.C.D$peer|map WORD$map|entry A.B.C.D$dst <esp|ah|comp> WORD$spi|counters]',
  help: {
    sa: 'IPSEC SA',
    counters: 'Reset the SA counters',
    peer: 'Clear all SAs for a given crypto peer',
    map: 'Clear all SAs for a given crypto map',
    entry: 'Clear SA by destination address, protocol and SPI',
    esp: 'Encapsulating Security Payload',
    ah: 'Authentication Header',
    comp: 'IP Compression',
    spi: 'SPI (decimal or 0x hex)',
  },
  handler(ctx, a) {
    if (a.has('counters')) {
      ctx.system.runtime.clearCryptoSaCounters?.();
      return;
    }
    const clear = ctx.system.runtime.clearCryptoSa;
    let filter: ClearCryptoSaFilter = { kind: 'all' };
    const peer = a.get('peer');
    const map = a.get('map');
    const dst = a.get('dst');
    if (peer !== undefined) filter = { kind: 'peer', peer };
    else if (map !== undefined) filter = { kind: 'map', map };
    else if (dst !== undefined) {
      const text = a.get('spi') ?? '';
      const spi = /^0x[0-9a-f]{1,8}$/i.test(text) ? parseInt(text.slice(2), 16) : /^\d{1,10}$/.test(text) ? Number(text) : NaN;
      if (!Number.isInteger(spi) || spi < 0 || spi > 0xffffffff) throw new CliError('% Invalid SPI');
      filter = { kind: 'entry', destination: dst, protocol: a.has('esp') ? 'esp' : a.has('ah') ? 'ah' : 'comp', spi };
    }
    clear?.(filter);
  },
});
