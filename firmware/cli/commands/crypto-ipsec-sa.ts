// `show crypto ipsec sa [peer A | map NAME | address | detail]`, `show crypto engine
// brief|configuration`, `clear crypto sa [peer A | map NAME | entry DST PROTO SPI]`.
// Runtime state comes from RuntimeView members the data-plane service installs
// (firmware/daemon/dataplane-service.ts); without them the tables are empty.
// Layout follows IOS 12.4 (`show crypto ipsec sa`), spaces instead of tabs.

import { CliError } from '../context.js';
import { defineCommand } from '../registry.js';

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
}

export interface IpsecSaShowFlow {
  mapSeq: number;
  localIdent: { addr: string; mask: string; proto: number; port: number };
  remoteIdent: { addr: string; mask: string; proto: number; port: number };
  peer: string;
  local: string;
  encaps: number; encrypt: number; digest: number;
  decaps: number; decrypt: number; verify: number;
  compressed: number; decompressed: number; notCompressed: number; notDecompressed: number; decompressFailed: number;
  sendErrors: number; recvErrors: number;
  /** detail: receive errors by cause */
  replayFailures: number; authFailures: number;
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
  | { kind: 'map'; map: string }
  | { kind: 'entry'; destination: string; protocol: 'esp' | 'ah' | 'comp'; spi: number };

declare module '../context.js' {
  interface RuntimeView {
    /** Installed IPsec SAs per crypto-map interface (`show crypto ipsec sa`). */
    ipsecSas?(): IpsecSaShowInterface[];
    /** Backend and crypto engines in use (`show crypto engine`). */
    cryptoEngine?(): CryptoEngineShow;
    /** `clear crypto sa ...`; returns how many SAs were deleted (manual ones come back at once). */
    clearCryptoSa?(filter: ClearCryptoSaFilter): number;
  }
}

const hexSpi = (spi: number): string => `0x${spi.toString(16).toUpperCase()}(${spi})`;

function saBlock(title: string, sas: readonly IpsecSaShowSa[], out: string[]): void {
  out.push(`     ${title}:`);
  for (const s of sas) {
    out.push(`      spi: ${hexSpi(s.spi)}`);
    out.push(`        transform: ${s.transform} ,`);
    out.push(`        in use settings ={${s.mode === 'tunnel' ? 'Tunnel' : 'Transport'}, ${s.udpEncap ? 'UDP-Encaps, ' : ''}}`);
    out.push(`        conn id: ${s.connId}, flow_id: ${s.connId - 2000}, crypto map: ${s.mapName}`);
    if (s.manual) out.push('        no sa timing');
    else out.push(`        sa timing: remaining key lifetime (k/sec): (${s.remainingKb ?? 'unlimited'}/${s.remainingSec ?? 'unlimited'})`);
    if (s.protocol === 'esp') out.push(`        IV size: ${s.ivBytes} bytes`);
    out.push(`        replay detection support: ${s.replayWindow > 0 ? 'Y' : 'N'}`);
    out.push(`        Status: ${s.status}`);
  }
  out.push('');
}

function formatFlow(f: IpsecSaShowFlow, itf: IpsecSaShowInterface, detail: boolean, out: string[]): void {
  const id = (x: IpsecSaShowFlow['localIdent']): string => `(${x.addr}/${x.mask}/${x.proto}/${x.port})`;
  out.push('   protected vrf: (none)');
  out.push(`   local  ident (addr/mask/prot/port): ${id(f.localIdent)}`);
  out.push(`   remote ident (addr/mask/prot/port): ${id(f.remoteIdent)}`);
  out.push(`   current_peer ${f.peer} port 500`);
  out.push('     PERMIT, flags={origin_is_acl,}');
  out.push(`    #pkts encaps: ${f.encaps}, #pkts encrypt: ${f.encrypt}, #pkts digest: ${f.digest}`);
  out.push(`    #pkts decaps: ${f.decaps}, #pkts decrypt: ${f.decrypt}, #pkts verify: ${f.verify}`);
  out.push(`    #pkts compressed: ${f.compressed}, #pkts decompressed: ${f.decompressed}`);
  out.push(`    #pkts not compressed: ${f.notCompressed}, #pkts compr. failed: 0`);
  out.push(`    #pkts not decompressed: ${f.notDecompressed}, #pkts decompress failed: ${f.decompressFailed}`);
  out.push(`    #send errors ${f.sendErrors}, #recv errors ${f.recvErrors}`);
  if (detail) {
    out.push(`    #pkts replay failed: ${f.replayFailures}, #pkts auth failed: ${f.authFailures}`);
  }
  out.push('');
  out.push(`     local crypto endpt.: ${f.local}, remote crypto endpt.: ${f.peer}`);
  out.push(`     path mtu 1500, ip mtu 1500, ip mtu idb ${itf.name}`);
  out.push(`     current outbound spi: ${hexSpi(f.currentOutboundSpi)}`);
  out.push('');
  saBlock('inbound esp sas', f.inbound.filter((s) => s.protocol === 'esp'), out);
  saBlock('inbound ah sas', f.inbound.filter((s) => s.protocol === 'ah'), out);
  saBlock('inbound pcp sas', f.inbound.filter((s) => s.protocol === 'pcp'), out);
  saBlock('outbound esp sas', f.outbound.filter((s) => s.protocol === 'esp'), out);
  saBlock('outbound ah sas', f.outbound.filter((s) => s.protocol === 'ah'), out);
  saBlock('outbound pcp sas', f.outbound.filter((s) => s.protocol === 'pcp'), out);
}

defineCommand({
  modes: ['user', 'exec'],
  syntax: 'show crypto ipsec sa [peer A.B.C.D$peer|map WORD$map|address|detail]',
  help: {
    sa: 'IPSEC SA table',
    peer: 'Show SAs for a peer',
    map: 'Show SAs for a crypto map',
    address: 'Show SAs sorted by destination address',
    detail: 'Detailed error counters',
  },
  pipe: true,
  handler(ctx, a) {
    let itfs = ctx.system.runtime.ipsecSas?.() ?? [];
    const peer = a.get('peer');
    const map = a.get('map');
    if (map !== undefined) itfs = itfs.filter((i) => i.mapName === map);
    if (peer !== undefined) itfs = itfs.map((i) => ({ ...i, flows: i.flows.filter((f) => f.peer === peer) })).filter((i) => i.flows.length > 0);
    if (a.has('address')) {
      // IOS: per destination address, protocol, the SAs (no interface grouping)
      const rows: { dst: string; proto: string; sa: IpsecSaShowSa; dir: string }[] = [];
      for (const i of itfs) {
        for (const f of i.flows) {
          for (const s of f.inbound) rows.push({ dst: f.local, proto: s.protocol, sa: s, dir: 'inbound' });
          for (const s of f.outbound) rows.push({ dst: f.peer, proto: s.protocol, sa: s, dir: 'outbound' });
        }
      }
      rows.sort((x, y) => (x.dst < y.dst ? -1 : x.dst > y.dst ? 1 : x.proto < y.proto ? -1 : x.proto > y.proto ? 1 : x.sa.spi - y.sa.spi));
      ctx.data(rows.map((r) => ({ destination: r.dst, protocol: r.proto, direction: r.dir, spi: r.sa.spi, transform: r.sa.transform })));
      const out: string[] = [];
      let last = '';
      for (const r of rows) {
        const head = `dest address: ${r.dst}`;
        if (head !== last) { out.push(head); last = head; }
        out.push(`   protocol ${r.proto.toUpperCase()}`);
        out.push(`      spi: ${hexSpi(r.sa.spi)}`);
        out.push(`        transform: ${r.sa.transform} ,`);
        out.push(`        in use settings ={${r.sa.mode === 'tunnel' ? 'Tunnel' : 'Transport'}, }`);
        out.push(`        conn id: ${r.sa.connId}, crypto map: ${r.sa.mapName}`);
        out.push('');
      }
      if (out.length > 0) ctx.print(out.join('\n'));
      return;
    }
    ctx.data(itfs);
    const out: string[] = [];
    for (const i of itfs) {
      out.push('');
      out.push(`interface: ${i.name}`);
      out.push(`    Crypto map tag: ${i.mapName}, local addr ${i.localAddr}`);
      out.push('');
      for (const f of i.flows) formatFlow(f, i, a.has('detail'), out);
    }
    if (out.length > 0) ctx.print(out.join('\n'));
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
  syntax: 'clear crypto sa [peer A.B.C.D$peer|map WORD$map|entry A.B.C.D$dst <esp|ah|comp> WORD$spi]',
  help: {
    sa: 'IPSEC SA',
    peer: 'Clear all SAs for a given crypto peer',
    map: 'Clear all SAs for a given crypto map',
    entry: 'Clear SA by destination address, protocol and SPI',
    esp: 'Encapsulating Security Payload',
    ah: 'Authentication Header',
    comp: 'IP Compression',
    spi: 'SPI (decimal or 0x hex)',
  },
  handler(ctx, a) {
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
