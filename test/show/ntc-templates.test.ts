// Show output of live boxes through the parsers automation uses: two Rampart daemons in
// namespaces (the site-to-site topology) with a tunnel up and traffic through it; every show
// command that has a `cisco_ios` template in the pinned ntc-templates copy
// (../shared/vendor/ntc-templates beside the repository) is parsed with Debian's
// python3-textfsm, the template chosen through the index as Netmiko's clitable does, and the
// parsed fields are checked against what the box knows (its configuration, the kernel's
// counters, the tunnel's addresses). Two tunnels: IKEv1 with PFS, IKEv2 with ESP in UDP 4500.
// Where a template is wrong for real IOS too, the check says so and expects what the template
// really extracts. Root only (namespaces), skipped with a message otherwise.
import t, { type Test } from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasCommand, isRoot, type Lab } from '../lib/netns.js';
import { projectRoot } from '../lib/netns.js';
import { rampartPairLab, gatewayConfig, type RampartGw } from '../ikev1-interop/lab.js';
import { ikev2PairConfig } from '../dataplane-e2e/ikev2-pair.js';
import type { SiteToSite } from '../lib/site-to-site.js';

// RAMPART_NTC_TEMPLATES points elsewhere (a git worktree has no shared/ beside it)
const VENDOR = join(process.env.RAMPART_NTC_TEMPLATES ?? join(projectRoot(), '..', 'shared', 'vendor', 'ntc-templates'), 'templates');
// Debian's python3 (python3-textfsm lives in its dist-packages), not a pyenv or venv first on PATH
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const haveTextfsm = (): boolean => spawnSync(PYTHON, ['-c', 'import textfsm.clitable'], { stdio: 'ignore' }).status === 0;
const skip = !isRoot() ? 'needs root: network namespaces'
  : !hasCommand('ip') || !hasCommand('ping') ? 'needs iproute2 and ping'
    : !existsSync(join(VENDOR, 'index')) ? `ntc-templates not found at ${VENDOR} (clone the shared/ folder beside the repository)`
      : !haveTextfsm() ? 'needs python3-textfsm (apt-get install python3-textfsm; scripts/ensure.mjs installs it as root)' : undefined;

type Row = Record<string, string | string[]>;
interface Parsed { command: string; template: string | null; rows: Row[]; error: string | null }

function parse(items: { command: string; text: string }[]): Parsed[] {
  const out = execFileSync(PYTHON, [join(import.meta.dirname, 'textfsm-parse.py')], {
    input: JSON.stringify({ templates: VENDOR, items }), encoding: 'utf8', timeout: 60_000,
  });
  return JSON.parse(out) as Parsed[];
}

const BAD = /^% (Invalid|Incomplete|Ambiguous|Unknown|Unrecognized)/m;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function pingUntilUp(lab: Lab, from: string, to: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if ((await lab.exec(from, ['ping', '-n', '-c', '1', '-W', '1', to], { timeoutMs: 5000 })).code === 0) return true;
    await sleep(300);
  }
  return false;
}

/** Linux's own view of an interface in a namespace: MAC and counters. */
function linkFacts(lab: Lab, ns: string, ifname: string): { mac: string; rxPackets: number; txPackets: number } {
  const j = JSON.parse(lab.execSync(ns, ['ip', '-j', '-s', 'link', 'show', 'dev', ifname]).stdout) as { address: string; stats64: { rx: { packets: number }; tx: { packets: number } } }[];
  const hex = j[0]!.address.replace(/:/g, '');
  return { mac: `${hex.slice(0, 4)}.${hex.slice(4, 8)}.${hex.slice(8, 12)}`, rxPackets: j[0]!.stats64.rx.packets, txPackets: j[0]!.stats64.tx.packets };
}

/** One command's check: the parsed rows against the box; returns problems (empty: passes). */
type Check = (rows: Row[]) => string[];

interface Case {
  command: string;
  check: Check;
  /** The template cannot parse this command's real IOS output either: why, and the line it stops at. */
  templateWrongForIos?: { why: string; stopsAt: RegExp };
}

const str = (v: string | string[] | undefined): string => (Array.isArray(v) ? v.join(',') : v ?? '');
const want = (label: string, got: unknown, expected: unknown): string[] => (String(got) === String(expected) ? [] : [`${label}: parsed ${JSON.stringify(got)}, box knows ${JSON.stringify(expected)}`]);
const find = (rows: Row[], key: string, value: string): Row | undefined => rows.find((r) => str(r[key]) === value);

/** The checks shared by both tunnels; `side` facts come from the box's configuration and Linux. */
function commonCases(lab: Lab, gw: RampartGw, f: { host: string; wan: string; lan: string; peer: string; lanNet: string; remoteNet: string; serial: () => string }): Case[] {
  // Linux's counters before any command runs: the box's may only be higher
  const link = linkFacts(lab, gw.ns, 'wan0');
  return [
    {
      command: 'show version', check: (rows) => {
        const r = rows[0] ?? {};
        return [
          ...want('HOSTNAME', r.HOSTNAME, f.host),
          ...want('SOFTWARE_IMAGE', r.SOFTWARE_IMAGE, 'RAMPART-SIM'),
          ...want('VERSION', r.VERSION, JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')).version),
          ...want('RUNNING_IMAGE', r.RUNNING_IMAGE, `rampart-${JSON.parse(readFileSync(join(projectRoot(), 'package.json'), 'utf8')).version}.img`),
          ...want('SERIAL', str(r.SERIAL), f.serial()),
          ...want('CONFIG_REGISTER', r.CONFIG_REGISTER, '0x2102'),
          ...want('RELOAD_REASON', r.RELOAD_REASON, 'power-on'),
          // HARDWARE: the template only reads a processor line that starts with "Cisco";
          // Rampart's starts with its own name, so the field stays empty by design.
          ...want('HARDWARE (template wants "Cisco ...")', str(r.HARDWARE), ''),
        ];
      },
    },
    {
      command: 'show inventory', check: (rows) => [
        ...want('chassis SN', rows[0]?.SN, f.serial()),
        ...want('ports listed', rows.filter((r) => /Ethernet|Serial/.test(str(r.NAME))).length >= 2, true),
      ],
    },
    {
      command: 'show interfaces', check: (rows) => {
        const wan = find(rows, 'INTERFACE', 'FastEthernet0/0');
        const un = find(rows, 'INTERFACE', 'GigabitEthernet0/1');
        return [
          ...want('wan LINK_STATUS', wan?.LINK_STATUS, 'up'),
          ...want('wan PROTOCOL_STATUS', wan?.PROTOCOL_STATUS, 'up'),
          ...want('wan MAC_ADDRESS (Linux wan0)', wan?.MAC_ADDRESS, link.mac),
          ...want('wan IP_ADDRESS', wan?.IP_ADDRESS, f.wan),
          ...want('wan DESCRIPTION', wan?.DESCRIPTION, 'WAN to the peer'),
          // counters move with the traffic: at least what Linux counted before the command
          ...want('wan INPUT_PACKETS >= Linux rx before', Number(wan?.INPUT_PACKETS) >= link.rxPackets && link.rxPackets > 0, true),
          ...want('wan OUTPUT_PACKETS >= Linux tx before', Number(wan?.OUTPUT_PACKETS) >= link.txPackets && link.txPackets > 0, true),
          ...want('unmapped port (no Linux interface) LINK_STATUS', un?.LINK_STATUS, 'down'),
          ...want('unmapped port PROTOCOL_STATUS', un?.PROTOCOL_STATUS, 'down'),
        ];
      },
    },
    {
      command: 'show ip interface brief', check: (rows) => [
        ...want('Fa0/0 IP', find(rows, 'INTERFACE', 'FastEthernet0/0')?.IP_ADDRESS, f.wan),
        ...want('Fa0/0 STATUS', find(rows, 'INTERFACE', 'FastEthernet0/0')?.STATUS, 'up'),
        ...want('Fa0/1 IP', find(rows, 'INTERFACE', 'FastEthernet0/1')?.IP_ADDRESS, f.lan),
        ...want('Gi0/1 STATUS', find(rows, 'INTERFACE', 'GigabitEthernet0/1')?.STATUS, 'down'),
      ],
    },
    {
      command: 'show ip interface', check: (rows) => {
        const wan = find(rows, 'INTERFACE', 'FastEthernet0/0');
        const vrf = find(rows, 'INTERFACE', 'GigabitEthernet0/1');
        return [
          ...want('Fa0/0 IP_ADDRESS', str(wan?.IP_ADDRESS), f.wan),
          ...want('Fa0/0 PREFIX_LENGTH', str(wan?.PREFIX_LENGTH), '24'),
          ...want('Fa0/0 MTU', wan?.MTU, '1500'),
          ...want('Gi0/1 VRF', vrf?.VRF, 'blue'),
        ];
      },
    },
    {
      command: 'show interfaces description', check: (rows) => [
        ...want('Fa0/0 DESCRIPTION', find(rows, 'PORT', 'Fa0/0')?.DESCRIPTION, 'WAN to the peer'),
        ...want('Fa0/0 STATUS', find(rows, 'PORT', 'Fa0/0')?.STATUS, 'up'),
        ...want('Gi0/1 PROTOCOL', find(rows, 'PORT', 'Gi0/1')?.PROTOCOL, 'down'),
      ],
    },
    {
      command: 'show ip route', check: (rows) => {
        const net = (n: string, p: string, proto: string): Row | undefined => rows.find((r) => r.NETWORK === n && r.PREFIX_LENGTH === p && r.PROTOCOL === proto);
        return [
          ...want(`C ${f.lanNet}/24`, net(f.lanNet, '24', 'C')?.NEXTHOP_IF, 'FastEthernet0/1'),
          ...want(`L ${f.lan}/32`, net(f.lan, '32', 'L')?.NEXTHOP_IF, 'FastEthernet0/1'),
          ...want(`L ${f.wan}/32`, net(f.wan, '32', 'L')?.NEXTHOP_IF, 'FastEthernet0/0'),
        ];
      },
    },
    {
      command: 'show ip arp', check: (rows) => {
        const peer = find(rows, 'IP_ADDRESS', f.peer);
        const self = find(rows, 'IP_ADDRESS', f.wan);
        return [
          ...want('peer in the neighbour table (IKE talked to it)', peer?.INTERFACE, 'FastEthernet0/0'),
          ...want('own address AGE', self?.AGE, '-'),
          ...want('own MAC', self?.MAC_ADDRESS, link.mac),
        ];
      },
    },
    {
      command: 'show arp', check: (rows) => want('peer listed', find(rows, 'ADDRESS', f.peer)?.INTERFACE, 'FastEthernet0/0'),
    },
    {
      command: 'show processes cpu', check: (rows) => [
        ...want('processes listed', rows.length > 3, true),
        ...want('the daemon is one of them', rows.some((r) => /rampart daemon/.test(str(r.PROCESS_NAME))), true),
        ...want('CPU_USAGE_5_SEC is a percentage', /^\d+$/.test(str(rows[0]?.CPU_USAGE_5_SEC)), true),
      ],
    },
    {
      command: 'show processes memory sorted', check: (rows) => {
        const r = rows[0] ?? {};
        const total = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]) * 1024;
        return [
          ...want('MEMORY_TOTAL (MemTotal)', r.MEMORY_TOTAL, total),
          ...want('the daemon holds memory', (r.PROCESS as string[] | undefined)?.some((p) => /rampart daemon/.test(p)), true),
        ];
      },
    },
    {
      command: 'show hosts summary', check: (rows) => want('DEFAULT_DOMAIN', rows[0]?.DEFAULT_DOMAIN, 'example.com'),
    },
    {
      command: 'show clock', check: (rows) => want('YEAR', rows[0]?.YEAR, new Date().getUTCFullYear()),
    },
    {
      command: 'show vrf', check: (rows) => [
        ...want('NAME', rows[0]?.NAME, 'blue'),
        ...want('DEFAULT_RD', rows[0]?.DEFAULT_RD, '65000:1'),
        ...want('INTERFACES', str(rows[0]?.INTERFACES), 'Gi0/1'),
      ],
    },
    {
      command: 'show ip vrf interfaces', check: (rows) => [
        ...want('INTERFACE', rows[0]?.INTERFACE, 'Gi0/1'),
        ...want('IP_ADDRESS', rows[0]?.IP_ADDRESS, '192.168.50.1'),
        ...want('VRF', rows[0]?.VRF, 'blue'),
        ...want('PROTO_STATE', rows[0]?.PROTO_STATE, 'down'),
      ],
    },
    {
      command: 'show archive', check: (rows) => [
        ...want('FILENAMES', JSON.stringify(rows[0]?.FILENAMES), JSON.stringify([`flash:${f.host}-arch-1`, `flash:${f.host}-arch-2`])),
        ...want('CURRENT_INDEX', rows[0]?.CURRENT_INDEX, '2'),
        ...want('NEXT_FILENAME', rows[0]?.NEXT_FILENAME, `flash:${f.host}-arch-3`),
      ],
    },
    {
      command: 'show ip access-lists', check: (rows) => want('ACL 101 permit entry', rows.some((r) => str(r.ACL_NAME ?? r.NAME) === '101' && str(r.ACTION) === 'permit'), true),
    },
    {
      command: 'show access-lists', check: (rows) => want('ACL 101 permit entry', rows.some((r) => str(r.NAME) === '101' && str(r.ACTION) === 'permit'), true),
    },
    {
      command: 'show running-config interface FastEthernet0/0', check: (rows) => [
        ...want('INTERFACE', rows[0]?.INTERFACE, 'FastEthernet0/0'),
        ...want('IP_ADDRESS', rows[0]?.IP_ADDRESS, f.wan),
      ],
      // IOS ends this output with `end` and a crypto-map interface has ` crypto map NAME`:
      // the template has a rule for neither (it records on `!`, as in a full running-config)
      templateWrongForIos: { why: 'no rule for " crypto map NAME" nor the closing "end" of real IOS output', stopsAt: /^\s*crypto map |^end$/ },
    },
  ];
}

/** Runs every case on a box, parses, checks; returns the numbers for the summary. */
async function runCases(t: Test, gw: RampartGw, cases: Case[]): Promise<{ pass: number; total: number }> {
  const texts: { command: string; text: string }[] = [];
  for (const c of cases) {
    const raw = await gw.exec(c.command);
    const text = raw.replace(/\r/g, '');
    t.notMatch(text, BAD, `${c.command}: accepted`);
    texts.push({ command: c.command, text });
  }
  const parsed = parse(texts);
  let pass = 0;
  let wrong = 0;
  for (const [i, c] of cases.entries()) {
    const p = parsed[i]!;
    if (c.templateWrongForIos) {
      // our text is IOS's; the template stops where it would stop on IOS
      const stop = /Input Line: (.*)$/.exec(p.error ?? '')?.[1]?.trim() ?? '';
      t.ok(p.error !== null && c.templateWrongForIos.stopsAt.test(stop), `${c.command} (${p.template}): template wrong for real IOS too (${c.templateWrongForIos.why}); stops at "${stop}"`);
      wrong++;
      continue;
    }
    const problems = p.error ? [`template error: ${p.error}`] : p.template === null ? ['no template chosen by the index'] : p.rows.length === 0 ? ['template parsed no rows'] : c.check(p.rows);
    if (problems.length > 0) t.comment(`${c.command} output:\n${texts[i]!.text}\nparsed: ${JSON.stringify(p.rows).slice(0, 2000)}`);
    t.same(problems, [], `${c.command} (${p.template ?? 'no template'}): parsed fields match the box`);
    if (problems.length === 0) pass++;
  }
  return { pass, total: cases.length - wrong };
}

/** Traffic through the tunnel (A -> B), then the cases every box answers, built with gwA's facts. */
async function tunnelUp(t: Test, lab: Lab, gwA: RampartGw, a: SiteToSite['addr'], why: string): Promise<Case[]> {
  t.ok(await pingUntilUp(lab, 'hostA', a.hostB, 40_000), `hostA pings hostB through the tunnel (${why})`);
  await lab.exec('hostA', ['ping', '-n', '-q', '-c', '5', '-i', '0.2', a.hostB], { timeoutMs: 20_000 });
  const serial = (await gwA.exec('show version | json')).match(/"serial": "([^"]+)"/)?.[1] ?? '?';
  // two archives of the running configuration for `show archive`
  await gwA.configure(['archive', ' path flash:$h-arch', ' maximum 4']);
  await gwA.exec('archive config');
  await gwA.exec('archive config');
  return commonCases(lab, gwA, { host: 'gwA', wan: a.gwAWan, lan: a.gwALan, peer: a.gwBWan, lanNet: '10.1.0.0', remoteNet: '10.2.0.0', serial: () => serial });
}

const EXTRA = (side: 'A' | 'B'): string[] => [
  'ip domain name example.com',
  'ip vrf blue', ' rd 65000:1', 'exit',
  'interface GigabitEthernet0/1', ' ip vrf forwarding blue', ` ip address 192.168.50.${side === 'A' ? 1 : 2} 255.255.255.0`, ' no shutdown', 'exit',
  'interface FastEthernet0/0', ' description WAN to the peer', 'exit',
];


t.test('IKEv1 tunnel with PFS: live show output through the ntc-templates parsers', { skip, timeout: 300_000 }, async (t) => {
  const { lab, topo, gwA, gwB } = await rampartPairLab(t, 'ntc-v1');
  const a = topo.addr;
  const side = (s: 'A' | 'B') => gatewayConfig({
    hostname: `gw${s}`, wan: s === 'A' ? a.gwAWan : a.gwBWan, lan: s === 'A' ? a.gwALan : a.gwBLan,
    lanNet: s === 'A' ? '10.1.0.0' : '10.2.0.0', remoteLanNet: s === 'A' ? '10.2.0.0' : '10.1.0.0',
    peers: [s === 'A' ? a.gwBWan : a.gwAWan], psk: 'ntc-ikev1-psk', policy: ['encryption aes 256', 'hash sha256', 'group 14'],
    transform: 'esp-aes 256 esp-sha256-hmac', pfs: 'group14',
  });
  // A host pair exempted from the tunnel by a deny line before the /24 permit, on both sides
  // (mirror images): the responder must still accept the /24 proxy (issue 11).
  const withDeny = (lines: string[], deny: string): string[] => lines.flatMap((l) => (l.startsWith('access-list 101 permit') ? [deny, l] : [l]));
  t.notMatch(await gwA.configure([...withDeny(side('A'), 'access-list 101 deny ip host 10.1.0.5 host 10.2.0.5'), ...EXTRA('A')]), BAD, 'gwA configured');
  t.notMatch(await gwB.configure([...withDeny(side('B'), 'access-list 101 deny ip host 10.2.0.5 host 10.1.0.5'), ...EXTRA('B')]), BAD, 'gwB configured');
  const common = await tunnelUp(t, lab, gwA, a, 'gwB accepted the /24 despite its deny line');
  const cases: Case[] = [
    ...common,
    {
      command: 'show crypto ipsec sa detail', check: (rows) => {
        const inb = rows.find((r) => r.SA_ORIENTATION === 'inbound' && r.SA_TYPE === 'esp');
        return [
          ...want('INTERFACE', inb?.INTERFACE, 'FastEthernet0/0'),
          ...want('LOCAL_IDENT', `${str(inb?.LOCAL_IDENT_ADDR)}/${str(inb?.LOCAL_IDENT_MASK)}`, '10.1.0.0/255.255.255.0'),
          ...want('REMOTE_IDENT', `${str(inb?.REMOTE_IDENT_ADDR)}/${str(inb?.REMOTE_IDENT_MASK)}`, '10.2.0.0/255.255.255.0'),
          ...want('CURRENT_PEER', inb?.CURRENT_PEER, a.gwBWan),
          ...want('PORT (raw ESP, IKE on 500)', inb?.PORT, '500'),
          ...want('PFS', inb?.PFS, 'Y'),
          ...want('DH_GROUP', inb?.DH_GROUP, 'group14'),
          ...want('PKTS_ENCAPS > 0', Number(inb?.PKTS_ENCAPS) > 0, true),
          ...want('PLAINTEXT_MTU', inb?.PLAINTEXT_MTU, '1438'),
          ...want('SA_REPLAY_WINDOW_SIZE', inb?.SA_REPLAY_WINDOW_SIZE, '64'),
          ...want('SA_FLOW_ID', /^SW:\d+$/.test(str(inb?.SA_FLOW_ID)), true),
          ...want('SA_STATUS', inb?.SA_STATUS, 'ACTIVE(ACTIVE)'),
        ];
      },
    },
    {
      command: 'show crypto session detail', check: (rows) => [
        ...want('INTERFACE', rows[0]?.INTERFACE, 'FastEthernet0/0'),
        ...want('SESSION_STATUS', rows[0]?.SESSION_STATUS, 'UP-ACTIVE'),
        ...want('PEER', rows[0]?.PEER, a.gwBWan),
        ...want('FVRF', rows[0]?.FVRF, '(none)'),
        ...want('LOCAL_IP', rows[0]?.LOCAL_IP, a.gwAWan),
        ...want('IKEV1_STATUS', rows[0]?.IKEV1_STATUS, 'Active'),
        ...want('SRC', `${str(rows[0]?.SRC_HOST)}/${str(rows[0]?.SRC_MASK)}`, '10.1.0.0/255.255.255.0'),
        ...want('ACTIVE_SA', rows[0]?.ACTIVE_SA, '2'),
      ],
    },
  ];
  const r = await runCases(t, gwA, cases);
  t.comment(`IKEv1 box: ${r.pass}/${r.total} templates parse to what the box knows`);
});

t.test('IKEv2 tunnel, ESP in UDP 4500: live show output through the ntc-templates parsers', { skip, timeout: 300_000 }, async (t) => {
  const { lab, topo, gwA, gwB } = await rampartPairLab(t, 'ntc-v2');
  const a = topo.addr;
  t.notMatch(await gwA.configure([...ikev2PairConfig('A', { forceEncap: true }), ...EXTRA('A')]), BAD, 'gwA configured');
  t.notMatch(await gwB.configure([...ikev2PairConfig('B'), ...EXTRA('B')]), BAD, 'gwB configured');
  const common = await tunnelUp(t, lab, gwA, a, 'initiated by traffic');
  const cases: Case[] = [
    ...common,
    {
      command: 'show crypto ipsec sa detail', check: (rows) => {
        const inb = rows.find((r) => r.SA_ORIENTATION === 'inbound' && r.SA_TYPE === 'esp');
        return [
          // the IKEv2 selectors are ranges on the wire: shown as the /24 they are, not /32
          ...want('LOCAL_IDENT', `${str(inb?.LOCAL_IDENT_ADDR)}/${str(inb?.LOCAL_IDENT_MASK)}`, '10.1.0.0/255.255.255.0'),
          ...want('REMOTE_IDENT', `${str(inb?.REMOTE_IDENT_ADDR)}/${str(inb?.REMOTE_IDENT_MASK)}`, '10.2.0.0/255.255.255.0'),
          ...want('PORT (ESP in UDP 4500)', inb?.PORT, '4500'),
          ...want('SA_IN_USE_SETTINGS', inb?.SA_IN_USE_SETTINGS, 'Tunnel UDP-Encaps'),
          ...want('PFS (IKE_AUTH child: none)', inb?.PFS, 'N'),
          ...want('DH_GROUP', inb?.DH_GROUP, 'none'),
          ...want('PKTS_DECAPS > 0', Number(inb?.PKTS_DECAPS) > 0, true),
        ];
      },
    },
    {
      command: 'show crypto session detail', check: (rows) => [
        ...want('PEER', rows[0]?.PEER, a.gwBWan),
        ...want('PORT', rows[0]?.PORT, '4500'),
        ...want('PROFILE', rows[0]?.PROFILE, 'PROF1'),
        ...want('LOCAL_PORT', rows[0]?.LOCAL_PORT, '4500'),
        ...want('CAPABILITIES (NAT-T forced)', rows[0]?.CAPABILITIES, 'N'),
        ...want('ACTIVE_SA', rows[0]?.ACTIVE_SA, '2'),
      ],
    },
  ];
  const r = await runCases(t, gwA, cases);
  t.comment(`IKEv2 box: ${r.pass}/${r.total} templates parse to what the box knows`);
});
