// Every configuration example of the seed guide (test/corpus/guide/*.txt, extracted
// verbatim, page-break artefacts and `.` placeholders included) pasted into the CLI:
//   - no line is rejected except the ones listed below, each with the exact error it gets;
//   - every interface, ACL and routing line that was accepted appears in running-config
//     (in the block it belongs to, in IOS's canonical spelling).
// Exec commands pasted into configuration mode get IOS's invalid-input error, checked for
// every line that starts with EXEC_ONLY.

import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canonicalInterfaceName } from '../../firmware/config/interface-names.js';
import { caretWord, errorOf, GUIDE_PORTS, paste, type LineResult } from './guide-paste.js';

const DIR = join(dirname(fileURLToPath(import.meta.url)), 'guide');

/** Exec commands the guide shows at an exec prompt (line prefixes, after trimming). */
// (none left: the conditional-debug transcripts are typed at an exec prompt and accepted now)
export const EXEC_ONLY: string[] = [];

/** Why a line of the guide is rejected. */
const PLACEHOLDER = 'the guide\'s `.` placeholder for omitted lines';
const UNSUPPORTED = 'a feature outside this product (docs/unsupported-commands.md)';
const FRAGMENT = 'a sub-mode command the guide shows without its block command';
const INCOMPLETE = 'the guide\'s example is incomplete here (or follows such a line)';
const TYPO = 'a typo in the guide (or a line after one, in the wrong mode)';
const MODE = 'an exec command typed in a configuration mode without `do`, as the guide shows it';
const IOS_ERROR = 'IOS rejects it too (hostname is one word; a VRF the example never defines)';
const LEAD = 'system/management commands of the CLI engine owner, not implemented yet (version, service timestamps log, line, digit-leading hostname)';

interface Expected { line: number; text: string; error: string; at?: string; why: string }

const EXPECTED_ERRORS: Record<string, Expected[]> = {
  '01-ikev2-default-proposal.txt': [
    { line: 1, text: "encryption aes-cbc-128 3des", error: "% Invalid input detected at '^' marker.", at: "encryption", why: FRAGMENT },
    { line: 2, text: "integrity sha md5", error: "% Invalid input detected at '^' marker.", at: "integrity", why: FRAGMENT },
    { line: 3, text: "group 5 2", error: "% Invalid input detected at '^' marker.", at: "group", why: FRAGMENT },
  ],
  '10-ikev2-selected-algorithms.txt': [
    { line: 1, text: "encryption 3des", error: "% Invalid input detected at '^' marker.", at: "encryption", why: FRAGMENT },
    { line: 2, text: "integrity sha", error: "% Invalid input detected at '^' marker.", at: "integrity", why: FRAGMENT },
    { line: 3, text: "group 2", error: "% Invalid input detected at '^' marker.", at: "group", why: FRAGMENT },
  ],
  '11-aes-static-crypto-map.txt': [
    { line: 19, text: "voice call carrier capacity active", error: "% Not supported on Rampart: voice (voice)", why: UNSUPPORTED },
    { line: 22, text: "mta receive maximum-recipients 0", error: "% Not supported on Rampart: voice mail (mta)", why: UNSUPPORTED },
    { line: 27, text: " ip nat outside", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
    { line: 40, text: " ip nat inside", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
    { line: 46, text: "ip nat inside source list 110 interface FastEthernet0/0 overload", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
    { line: 52, text: "ip http server", error: "% Not supported on Rampart: HTTP server (ip http)", why: UNSUPPORTED },
  ],
  '12-svti-7206.txt': [
    { line: 9, text: "controller ISA 6/1", error: "% Not supported on Rampart: hardware controllers (controller)", why: UNSUPPORTED },
    { line: 22, text: "  ip ospf mtu-ignore", error: "% Not supported on Rampart: OSPF (ip ospf)", why: UNSUPPORTED },
  ],
  '13-svti-1750.txt': [
    { line: 20, text: " ip ospf mtu-ignore", error: "% Not supported on Rampart: OSPF (ip ospf)", why: UNSUPPORTED },
  ],
  '14-vrf-aware-svti.txt': [
    { line: 2, text: "hostname cisco 7206", error: "% Invalid input detected at '^' marker.", at: "7206", why: IOS_ERROR },
    { line: 3, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 4, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 10, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 11, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 19, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 20, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
  ],
  '15-svti-qos.txt': [
    { line: 3, text: "hostname cisco 7206", error: "% Invalid input detected at '^' marker.", at: "7206", why: IOS_ERROR },
    { line: 4, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 5, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 6, text: "class-map match-all VTI", error: "% Not supported on Rampart: QoS (class-map)", why: UNSUPPORTED },
    { line: 7, text: "match any", error: "% Not supported on Rampart: QoS (class-map)", why: UNSUPPORTED },
    { line: 9, text: "policy-map VTI", error: "% Not supported on Rampart: QoS (policy-map)", why: UNSUPPORTED },
    { line: 10, text: "class VTI", error: "% Not supported on Rampart: QoS (policy-map)", why: UNSUPPORTED },
    { line: 11, text: "police cir 2000000", error: "% Not supported on Rampart: QoS (policy-map)", why: UNSUPPORTED },
    { line: 12, text: "conform-action transmit", error: "% Not supported on Rampart: QoS (policy-map)", why: UNSUPPORTED },
    { line: 13, text: "exceed-action drop", error: "% Not supported on Rampart: QoS (policy-map)", why: UNSUPPORTED },
    { line: 15, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 16, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 23, text: "service-policy output VTI", error: "% Not supported on Rampart: QoS (service-policy)", why: UNSUPPORTED },
    { line: 25, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 26, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
  ],
  '16-svti-virtual-firewall.txt': [
    { line: 2, text: "hostname cisco 7206", error: "% Invalid input detected at '^' marker.", at: "7206", why: IOS_ERROR },
    { line: 3, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 4, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 5, text: "ip inspect max-incomplete high 1000000", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 6, text: "ip inspect max-incomplete low 80000", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 9, text: "ip inspect one-minute high 1000000", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 10, text: "ip inspect one-minute low 800000", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 11, text: "ip inspect tcp synwait-time 60", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 12, text: "ip inspect tcp max-incomplete host 100000 block-time 2", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 13, text: "ip inspect name IOSFW1 tcp timeout 300", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 14, text: "ip inspect name IOSFW1 udp", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 16, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 17, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 22, text: "ip nat outside", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
    { line: 26, text: "ip nat inside", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
    { line: 27, text: "ip inspect IOSFW1 in", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 36, text: "ip nat translation timeout 120", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
    { line: 37, text: "ip nat translation finrst-timeout 2", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
    { line: 38, text: "ip nat translation max-entries 300000", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
    { line: 39, text: "ip nat pool test1 10.2.100.1 10.2.100.50 netmask 255.255.255.0", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
    { line: 40, text: "ip nat inside source list 110 pool test1 vrf test-vtil overload", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
  ],
  '17-dvti-ezvpn-server.txt': [
    { line: 23, text: "crypto isakmp client configuration group group1", error: "% Not supported on Rampart: Easy VPN server (crypto isakmp client configuration)", why: UNSUPPORTED },
    { line: 24, text: "  key cisco123", error: "% Not supported on Rampart: Easy VPN server (crypto isakmp client configuration)", why: UNSUPPORTED },
    { line: 25, text: "  pool group1pool", error: "% Not supported on Rampart: Easy VPN server (crypto isakmp client configuration)", why: UNSUPPORTED },
    { line: 26, text: "  save-password", error: "% Not supported on Rampart: Easy VPN server (crypto isakmp client configuration)", why: UNSUPPORTED },
    { line: 2, text: "hostname cisco 7206", error: "% Invalid input detected at '^' marker.", at: "7206", why: IOS_ERROR },
    { line: 14, text: "controller ISA 1/1", error: "% Not supported on Rampart: hardware controllers (controller)", why: UNSUPPORTED },
    { line: 30, text: "  client authentication list local_list", error: "% Not supported on Rampart: Easy VPN server (client configuration and ISAKMP authorization)", why: UNSUPPORTED },
    { line: 31, text: "  isakmp authorization list local_list", error: "% Not supported on Rampart: Easy VPN server (client configuration and ISAKMP authorization)", why: UNSUPPORTED },
    { line: 32, text: "  client configuration address respond", error: "% Not supported on Rampart: Easy VPN server (client configuration and ISAKMP authorization)", why: UNSUPPORTED },
    { line: 54, text: "ip local pool group1pool 192.168.1.1 192.168.1.4", error: "% Not supported on Rampart: local address pools (ip local pool)", why: UNSUPPORTED },
  ],
  '18-dvti-ezvpn-client.txt': [
    { line: 2, text: "hostname cisco 1841", error: "% Invalid input detected at '^' marker.", at: "1841", why: IOS_ERROR },
    { line: 10, text: "crypto ipsec client ezvpn CLIENT", error: "% Not supported on Rampart: Easy VPN client (crypto ipsec client ezvpn)", why: UNSUPPORTED },
    { line: 11, text: "connect manual", error: "% Not supported on Rampart: Easy VPN client (crypto ipsec client ezvpn)", why: UNSUPPORTED },
    { line: 12, text: "group group1 key cisco123", error: "% Not supported on Rampart: Easy VPN client (crypto ipsec client ezvpn)", why: UNSUPPORTED },
    { line: 13, text: "mode client", error: "% Not supported on Rampart: Easy VPN client (crypto ipsec client ezvpn)", why: UNSUPPORTED },
    { line: 14, text: "peer 172.18.143.246", error: "% Not supported on Rampart: Easy VPN client (crypto ipsec client ezvpn)", why: UNSUPPORTED },
    { line: 15, text: "virtual-interface 1", error: "% Not supported on Rampart: Easy VPN client (crypto ipsec client ezvpn)", why: UNSUPPORTED },
    { line: 16, text: "username cisco password cisco123", error: "% Not supported on Rampart: Easy VPN client (crypto ipsec client ezvpn)", why: UNSUPPORTED },
    { line: 17, text: "xauth userid mode local", error: "% Not supported on Rampart: Easy VPN client (crypto ipsec client ezvpn)", why: UNSUPPORTED },
    { line: 25, text: "crypto ipsec client ezvpn CLIENT", error: "% Not supported on Rampart: Easy VPN client (crypto ipsec client ezvpn)", why: UNSUPPORTED },
    { line: 29, text: "crypto ipsec client ezvpn CLIENT inside", error: "% Not supported on Rampart: Easy VPN client (crypto ipsec client ezvpn)", why: UNSUPPORTED },
  ],
  '19-vrf-aware-dvti.txt': [
    { line: 3, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 4, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 10, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 11, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 19, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 20, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
  ],
  '20-dvti-virtual-firewall.txt': [
    { line: 2, text: "hostname cisco 7206", error: "% Invalid input detected at '^' marker.", at: "7206", why: IOS_ERROR },
    { line: 3, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 4, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 5, text: "ip inspect max-incomplete high 1000000", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 6, text: "ip inspect max-incomplete low 800000", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 7, text: "ip inspect one-minute high 1000000", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 8, text: "ip inspect one-minute low 800000", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 9, text: "ip inspect tcp synwait-time 60", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 10, text: "ip inspect tcp max-incomplete host 100000 block-time 2", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 11, text: "ip inspect name IOSFW1 tcp timeout 300", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 12, text: "ip inspect name IOSFW1 udp", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 14, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 15, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 20, text: "ip nat outside", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
    { line: 28, text: "ip nat inside", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
    { line: 29, text: "ip inspect IOSFW1 in", error: "% Not supported on Rampart: inspection firewall (ip inspect)", why: UNSUPPORTED },
    { line: 36, text: "ip nat translation timeout 120", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
    { line: 37, text: "ip nat translation finrst-timeout 2", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
    { line: 38, text: "ip nat translation max-entries 300000", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
    { line: 39, text: "ip nat pool test1 10.2.100.1 10.2.100.50 netmask 255.255.255.0", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
    { line: 40, text: "ip nat inside source list 110 pool test1 vrf test-vtil overload", error: "% Not supported on Rampart: NAT (ip nat)", why: UNSUPPORTED },
  ],
  '21-dvti-qos.txt': [
    { line: 2, text: "hostname cisco 7206", error: "% Invalid input detected at '^' marker.", at: "7206", why: IOS_ERROR },
    { line: 3, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 6, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 7, text: "class-map match-all VTI", error: "% Not supported on Rampart: QoS (class-map)", why: UNSUPPORTED },
    { line: 8, text: " match any", error: "% Not supported on Rampart: QoS (class-map)", why: UNSUPPORTED },
    { line: 10, text: "policy-map VTI", error: "% Not supported on Rampart: QoS (policy-map)", why: UNSUPPORTED },
    { line: 11, text: " class VTI", error: "% Not supported on Rampart: QoS (policy-map)", why: UNSUPPORTED },
    { line: 12, text: "  police cir 2000000", error: "% Not supported on Rampart: QoS (policy-map)", why: UNSUPPORTED },
    { line: 13, text: "   conform-action transmit", error: "% Not supported on Rampart: QoS (policy-map)", why: UNSUPPORTED },
    { line: 14, text: "   exceed-action drop", error: "% Not supported on Rampart: QoS (policy-map)", why: UNSUPPORTED },
    { line: 16, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 17, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 19, text: " ip vrf forwarding test-vtil", error: "% VRF test-vtil not configured", why: IOS_ERROR },
    { line: 24, text: " service-policy output VTI", error: "% Not supported on Rampart: QoS (service-policy)", why: UNSUPPORTED },
    { line: 26, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
    { line: 27, text: ".", error: "% Invalid input detected at '^' marker.", at: ".", why: PLACEHOLDER },
  ],
  '25-safenet-keyring-bound-to-interface.txt': [
    { line: 1, text: "crypto keyring", error: "% Incomplete command.", why: INCOMPLETE },
    { line: 2, text: "  local-address serial2/0", error: "% Invalid input detected at '^' marker.", at: "local-address", why: INCOMPLETE },
    { line: 3, text: "pre-shared-key address 10.0.0.1", error: "% Invalid input detected at '^' marker.", at: "pre-shared-key", why: INCOMPLETE },
  ],
  '26-safenet-keyring-bound-to-address.txt': [
    { line: 3, text: "pre-shared-key address 10.0.0.2 key", error: "% Incomplete command.", why: INCOMPLETE },
  ],
  '52-task-ikev2-proposal.txt': [
    { line: 7, text: "show crypto ikev2 proposal", error: "% Invalid input detected at '^' marker.", at: "show", why: MODE },
  ],
  '53-task-crypto-map.txt': [
    { line: 5, text: "set-peer 192.168.101.1", error: "% Invalid input detected at '^' marker.", at: "set-peer", why: TYPO },
    { line: 7, text: "set security- association lifetime seconds 2700", error: "% Invalid input detected at '^' marker.", at: "association", why: TYPO },
  ],
  '54-task-dynamic-crypto-map.txt': [
    { line: 7, text: "set security- association lifetime seconds 7200", error: "% Invalid input detected at '^' marker.", at: "association", why: TYPO },
  ],
  '58-task-dynamic-vti.txt': [
    { line: 10, text: "crypto isakamp profile red", error: "% Invalid input detected at '^' marker.", at: "isakamp", why: TYPO },
    { line: 11, text: "match identity address 10.1.1.0 255.255.255.0", error: "% Invalid input detected at '^' marker.", at: "match", why: TYPO },
    { line: 12, text: "virtual-template 1", error: "% Invalid input detected at '^' marker.", at: "virtual-template", why: TYPO },
  ],
  '60-task-safenet-keyring.txt': [
    { line: 5, text: "pre-shared-key address 10.0.0.1", error: "% Incomplete command.", why: INCOMPLETE },
  ],
};

// ------------------------------------------------------------------ running-config check

/** Defaults IOS does not display: accepted, and absent from running-config by design. */
const NOT_DISPLAYED = new Set(['ip cef', 'ip classless', 'ip subnet-zero', 'ip route-cache', 'ip route-cache cef', 'no ip route-cache flow', 'no shutdown']);

function canonIf(words: string[]): string {
  return (words.length === 2 ? canonicalInterfaceName(words[0]!, words[1]!) : canonicalInterfaceName(words[0]!)) ?? words.join(' ');
}

/** The line as running-config shows it. */
export function rendered(text: string): string {
  const w = text.trim().split(/\s+/);
  const line = w.join(' ');
  let m: RegExpExecArray | null;
  if ((m = /^interface (.+?)( type tunnel)?$/i.exec(line))) return `interface ${canonIf(m[1]!.split(' '))}${m[2] ? ' type tunnel' : ''}`;
  if ((m = /^tunnel source ([A-Za-z].*)$/.exec(line))) return `tunnel source ${canonIf(m[1]!.split(' '))}`;
  if ((m = /^ip unnumbered (.+)$/.exec(line))) return `ip unnumbered ${canonIf(m[1]!.split(' '))}`;
  if (/^tunnel (mode|protection) /i.test(line)) return line.replace(/\bipsec\b/gi, 'ipsec');
  if (line === 'full-duplex') return 'duplex full';
  if (line === 'half-duplex') return 'duplex half';
  return line;
}

const GLOBAL_MINE = /^(interface |ip vrf \S+$|ip route |access-list |ip access-list |ip cef$|ip classless$|ip subnet-zero$)/i;
const IF_MINE = /^(ip address |no ip address$|ip unnumbered |ip vrf forwarding |shutdown$|no shutdown$|description |crypto map \S+$|ipv6 address |tunnel |ip mtu |bandwidth |load-interval |duplex |speed |full-duplex$|half-duplex$|ip route-cache|no ip route-cache|no ip mroute-cache$|ip virtual-reassembly$|ip access-group |encapsulation )/i;
const SUB_MINE = /^(rd |route-target |description |(\d+ )?(permit|deny|remark) )/i;
const MODE_OF = (prompt: string): string => /\(([^)]*)\)/.exec(prompt)?.[1] ?? 'exec';

/** Lines of running-config in the block that starts with `header`. */
function block(running: string[], header: string): string[] | undefined {
  const i = running.indexOf(header);
  if (i < 0) return undefined;
  const out: string[] = [];
  for (let j = i + 1; j < running.length && running[j]!.startsWith(' '); j++) out.push(running[j]!.trim());
  return out;
}

interface Check { lineNo: number; text: string; expect: string; header?: string }

/** The interface/ACL/routing lines that were accepted, with where they must appear. */
function checksFor(lines: LineResult[]): Check[] {
  const checks: Check[] = [];
  let header: string | undefined;
  for (const l of lines) {
    const text = l.text.trim().split(/\s+/).join(' ');
    if (!l.ok || text === '' || text.startsWith('!')) continue;
    const before = MODE_OF(l.prompt), after = MODE_OF(l.promptAfter);
    if (before !== 'config' && after === before && (IF_MINE.test(text) || SUB_MINE.test(text))) {
      // Ran inside the block the previous header opened.
      const expect = rendered(text);
      if (!NOT_DISPLAYED.has(expect)) checks.push({ lineNo: l.lineNo, text, expect, header });
      continue;
    }
    if (GLOBAL_MINE.test(text)) {
      const expect = rendered(text);
      header = /^(interface|ip vrf|ip access-list) /.test(expect) ? expect : undefined;
      if (!NOT_DISPLAYED.has(expect)) checks.push({ lineNo: l.lineNo, text, expect });
      continue;
    }
    header = undefined;
  }
  return checks;
}

// ------------------------------------------------------------------ the test

const files = readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort();
const pendingUsed = new Set<string>();

t.test('the corpus has every example', async (t) => {
  t.ok(files.length >= 45, `${files.length} example files`);
  for (const f of Object.keys(EXPECTED_ERRORS)) t.ok(files.includes(f), `expected-errors entry ${f} names a corpus file`);
});

for (const file of files) {
  t.test(file, async (t) => {
    const text = readFileSync(join(DIR, file), 'utf8');
    const result = await paste(text);
    const expected = new Map((EXPECTED_ERRORS[file] ?? []).map((e) => [e.line, e]));
    let checkedErrors = 0;
    for (const l of result.lines) {
      const exp = l.lineNo > 0 ? expected.get(l.lineNo) : undefined;
      if (l.ok) {
        if (exp) t.fail(`line ${l.lineNo} "${l.text}" is accepted now: remove it from EXPECTED_ERRORS (${exp.why})`);
        continue;
      }
      if (exp) {
        t.equal(l.text, exp.text, `line ${l.lineNo} text`);
        t.equal(errorOf(l), exp.error, `line ${l.lineNo} "${l.text}": ${exp.why}`);
        if (exp.at !== undefined) t.equal(caretWord(l), exp.at, `line ${l.lineNo}: caret under "${exp.at}"`);
        checkedErrors++;
        continue;
      }
      const execOnly = EXEC_ONLY.find((p) => l.text.trim().startsWith(p));
      if (execOnly) {
        pendingUsed.add(execOnly);
        t.equal(errorOf(l), '% Invalid input detected at \'^\' marker.', `line ${l.lineNo} "${l.text.trim()}": ${MODE}`);
        continue;
      }
      t.fail(`line ${l.lineNo} "${l.text}" rejected: ${errorOf(l)}`, { transcript: result.transcript });
    }
    t.equal(checkedErrors, expected.size, 'every expected error was seen');
    const running = result.runningConfig;
    for (const c of checksFor(result.lines)) {
      if (c.header) {
        const b = block(running, c.header);
        t.ok(b?.includes(c.expect), `line ${c.lineNo} "${c.text}" shown as " ${c.expect}" under "${c.header}"`, b ? {} : { running });
      } else {
        t.ok(running.includes(c.expect), `line ${c.lineNo} "${c.text}" shown as "${c.expect}"`);
      }
    }
  });
}

t.test('every EXEC_ONLY prefix matches a line of the guide', async (t) => {
  const stale = EXEC_ONLY.filter((p) => !pendingUsed.has(p));
  t.same(stale, [], 'prefixes that match no rejected line');
});

t.test('the guide\'s physical interfaces are the ones the sim board needs', async (t) => {
  const used = new Set<string>();
  for (const f of files) {
    for (const m of readFileSync(join(DIR, f), 'utf8').matchAll(/\b((?:fast|gigabit)?ethernet|serial) ?(\d+\/\d+)/gi)) {
      used.add(canonicalInterfaceName(m[1]!, m[2]!)!);
    }
  }
  t.same([...used].sort(), [...GUIDE_PORTS].sort());
});
