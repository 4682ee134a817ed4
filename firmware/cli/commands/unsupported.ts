// Commands of features this product does not have (voice, QoS, NAT, inspection firewall,
// Easy VPN client, ...), and of features that come later (AAA, local users). They are
// declared so that a pasted router configuration gets one clear line per such command,
// naming the feature, instead of a caret error, and the paste goes on. The list is in
// docs/unsupported-commands.md.
//
// Block commands (`class-map`, `policy-map`, `crypto ipsec client ezvpn`) enter a sub-mode
// of their own, so the lines under them are answered the same way; any other line leaves
// the sub-mode as usual.

import { CliError } from '../context.js';
import { defineMode } from '../modes.js';
import { defineCommand } from '../registry.js';

export function notSupported(feature: string): CliError {
  return new CliError(`% Not supported on Rampart: ${feature}`);
}

/** Where the feature goes in a later issue rather than never. */
export function notYetSupported(feature: string): CliError {
  return new CliError(`% Not supported on Rampart yet: ${feature}`);
}

interface Unsupported {
  modes: string[];
  /** Leading keywords (the rest of the line is taken as is). */
  words: string;
  feature: string;
  later?: boolean;
  /** Sub-mode the command opens, so its body lines are answered too. */
  enters?: string;
  /** Also declare the `no` form. */
  no?: boolean;
  /** What follows the keywords (default `[LINE]`), when the command must not swallow lines
   *  that belong to the enclosing mode (`ip nat inside source ...` typed under an interface). */
  rest?: string;
}

const QOS_CMAP = 'unsupported-cmap';
const QOS_PMAP = 'unsupported-pmap';
const QOS_PMAP_C = 'unsupported-pmap-c';
const QOS_POLICE = 'unsupported-pmap-c-police';
const EZVPN = 'unsupported-ezvpn';
defineMode({ name: QOS_CMAP, prompt: '(config-cmap)', parent: 'config' });
defineMode({ name: QOS_PMAP, prompt: '(config-pmap)', parent: 'config' });
defineMode({ name: QOS_PMAP_C, prompt: '(config-pmap-c)', parent: QOS_PMAP });
defineMode({ name: QOS_POLICE, prompt: '(config-pmap-c-police)', parent: QOS_PMAP_C });
defineMode({ name: EZVPN, prompt: '(config-crypto-ezvpn)', parent: 'config' });

const IF = ['config-if', 'config-subif'];
const QOS_CLASS = 'QoS (class-map)';
const QOS_POLICY = 'QoS (policy-map)';
const EZVPN_CLIENT = 'Easy VPN client (crypto ipsec client ezvpn)';

export const UNSUPPORTED: Unsupported[] = [
  // Global configuration
  { modes: ['config'], words: 'voice', feature: 'voice (voice)', no: true },
  { modes: ['config'], words: 'dial-peer', feature: 'voice (dial-peer)', no: true },
  { modes: ['config'], words: 'telephony-service', feature: 'voice (telephony-service)', no: true },
  { modes: ['config'], words: 'mta', feature: 'voice mail (mta)', no: true },
  { modes: ['config'], words: 'controller', feature: 'hardware controllers (controller)' },
  { modes: ['config'], words: 'class-map', feature: QOS_CLASS, enters: QOS_CMAP, no: true },
  { modes: ['config'], words: 'policy-map', feature: QOS_POLICY, enters: QOS_PMAP, no: true },
  { modes: ['config'], words: 'ip nat', feature: 'NAT (ip nat)', no: true },
  { modes: ['config'], words: 'ip inspect', feature: 'inspection firewall (ip inspect)', no: true },
  { modes: ['config'], words: 'zone', feature: 'zone-based firewall (zone)', no: true },
  { modes: ['config'], words: 'zone-pair', feature: 'zone-based firewall (zone-pair)', no: true },
  { modes: ['config'], words: 'ip http', feature: 'HTTP server (ip http)', no: true },
  { modes: ['config'], words: 'ip local pool', feature: 'local address pools (ip local pool)', no: true },
  { modes: ['config'], words: 'router', feature: 'dynamic routing protocols (router)', no: true },
  { modes: ['config'], words: 'route-map', feature: 'route maps (route-map)', no: true },
  { modes: ['config'], words: 'snmp-server', feature: 'SNMP (snmp-server)', no: true },
  { modes: ['config'], words: 'crypto ipsec client ezvpn', feature: EZVPN_CLIENT, enters: EZVPN, no: true },
  // Interface configuration
  { modes: IF, words: 'ip nat', rest: '<inside|outside|enable>', feature: 'NAT (ip nat)', no: true },
  { modes: IF, words: 'ip inspect', rest: 'WORD <in|out>', feature: 'inspection firewall (ip inspect)', no: true },
  { modes: IF, words: 'ip ospf', feature: 'OSPF (ip ospf)', no: true },
  { modes: IF, words: 'ip policy', rest: 'route-map WORD', feature: 'policy routing (ip policy)', no: true },
  { modes: IF, words: 'service-policy', rest: '<input|output> WORD', feature: 'QoS (service-policy)', no: true },
  { modes: IF, words: 'zone-member', rest: 'security WORD', feature: 'zone-based firewall (zone-member)', no: true },
  { modes: IF, words: 'crypto ipsec client ezvpn', rest: 'WORD [inside|outside]', feature: EZVPN_CLIENT, no: true },
  // Bodies of the block commands above
  { modes: [QOS_CMAP], words: 'match', feature: QOS_CLASS, no: true },
  { modes: [QOS_CMAP], words: 'description', feature: QOS_CLASS },
  { modes: [QOS_PMAP], words: 'class', feature: QOS_POLICY, enters: QOS_PMAP_C, no: true },
  { modes: [QOS_PMAP], words: 'description', feature: QOS_POLICY },
  ...['police', 'bandwidth', 'priority', 'shape', 'set', 'queue-limit', 'random-detect', 'fair-queue', 'service-policy']
    .map((w): Unsupported => ({ modes: [QOS_PMAP_C], words: w, feature: QOS_POLICY, no: true, enters: w === 'police' ? QOS_POLICE : undefined })),
  ...['conform-action', 'exceed-action', 'violate-action']
    .map((w): Unsupported => ({ modes: [QOS_POLICE], words: w, feature: QOS_POLICY, no: true })),
  ...['connect', 'group', 'mode', 'peer', 'virtual-interface', 'username', 'xauth', 'acl', 'local-address', 'nem-lite', 'backup']
    .map((w): Unsupported => ({ modes: [EZVPN], words: w, feature: EZVPN_CLIENT, no: true })),
];

for (const u of UNSUPPORTED) {
  const help: Record<string, string> = {};
  // Every keyword of the command gets a help text, those of `rest` too (`ip nat ?`).
  for (const w of `${u.words} ${u.rest ?? ''}`.split(/[\s<>|[\]]+/)) if (/^[a-z][a-z-]*$/.test(w)) help[w] = 'Not supported on Rampart';
  const syntax = [`${u.words} ${u.rest ?? '[LINE]'}`];
  if (u.no) syntax.push(`no ${u.words} ${u.rest ?? '[LINE]'}`);
  defineCommand({
    modes: u.modes,
    syntax,
    help,
    handler(ctx, a) {
      // Enter the block first so its body lines get this message too, not a caret.
      if (u.enters && !a.no) ctx.enter(u.enters, {});
      throw u.later ? notYetSupported(u.feature) : notSupported(u.feature);
    },
  });
}
