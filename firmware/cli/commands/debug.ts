// Debugging, box-wide as on IOS: `debug crypto isakmp|ipsec|engine|ikev2 [error]`, their
// `no`/`undebug` forms, `undebug all` / `no debug all`, `show debugging`, and crypto
// conditional debug (`debug crypto condition ...`, `show crypto debug-condition`, the
// guide's "Crypto Conditional Debug Support" chapter). Debug lines go to the logging
// destinations at level debugging (console; vty only with `terminal monitor`; the buffer
// with `logging buffered debugging`). State lives in runtime.logging (firmware/mgmt).
import type { DebugClass } from '../../lib/event-bus.js';
import { CliError, type CommandContext } from '../context.js';
import type { Condition, ConditionState, LoggingRuntimeView, UnmatchedClass } from '../logging-view.js';
import { defineCommand } from '../registry.js';

const NAMES: Record<DebugClass, { all: string; error: string }> = {
  isakmp: { all: 'Crypto ISAKMP debugging', error: 'Crypto ISAKMP Error debugging' },
  ipsec: { all: 'Crypto IPSEC debugging', error: 'Crypto IPSEC Error debugging' },
  engine: { all: 'Crypto Engine debugging', error: 'Crypto Engine Error debugging' },
  ikev2: { all: 'IKEv2 default debugging', error: 'IKEv2 error debugging' },
};

const HELP = {
  debug: 'Debugging functions (see also \'undebug\')',
  undebug: 'Disable debugging functions (see also \'debug\')',
  crypto: 'Cryptographic subsystem',
  isakmp: 'ISAKMP Key Management',
  ipsec: 'IPSEC processing',
  engine: 'Crypto Engine Debug Messages',
  ikev2: 'IKEv2 debugging',
  error: 'Crypto error debug messages',
  all: 'Enable all debugging',
};

function logging(ctx: CommandContext): LoggingRuntimeView | undefined {
  return ctx.system.runtime.logging;
}

defineCommand({
  modes: ['exec'],
  syntax: ['debug crypto <isakmp|ipsec|engine|ikev2> [error]', 'no debug crypto <isakmp|ipsec|engine|ikev2> [error]', 'undebug crypto <isakmp|ipsec|engine|ikev2> [error]'],
  help: HELP,
  handler(ctx, a) {
    const cls = (['isakmp', 'ipsec', 'engine', 'ikev2'] as const).find((c) => a.has(c))!;
    const off = a.no || a.has('undebug');
    const mode = a.has('error') ? 'error' : 'all';
    logging(ctx)?.setDebug(cls, off ? undefined : mode);
    // IKEv2 keeps its own ring of lines for `show crypto ikev2 debug`; off empties it
    if (cls === 'ikev2') ctx.system.runtime.ikev2?.setDebug(!off);
    ctx.print(`${NAMES[cls][mode]} is ${off ? 'off' : 'on'}\n`);
  },
});

defineCommand({
  modes: ['exec'],
  syntax: ['undebug all', 'no debug all'],
  help: HELP,
  handler(ctx) {
    logging(ctx)?.undebugAll();
    ctx.system.runtime.ikev2?.setDebug(false);
    ctx.print('All possible debugging has been turned off\n');
  },
});

defineCommand({
  modes: ['exec'],
  syntax: 'show debugging',
  help: { debugging: 'State of each debugging option' },
  pipe: true,
  handler(ctx) {
    const flags = logging(ctx)?.debugFlags() ?? [];
    const cond = logging(ctx)?.conditionState();
    ctx.data({ flags: Object.fromEntries(flags), conditional: cond?.active ?? false });
    if (flags.length === 0) return;
    const out = ['Cryptographic Subsystem:', ...flags.map(([c, m]) => `  ${NAMES[c][m]} is on`)];
    if (cond?.active) out.push('  Crypto conditional debug is on (show crypto debug-condition)');
    ctx.print(`${out.join('\n')}\n`);
  },
});

// ---------------------------------------------------------------- conditional debug

const CONDITION_SYNTAX = [
  'connid (1-32766)$connid engine-id (0-65535)$engine',
  'flowid (1-32766)$flowid engine-id (0-65535)$engine',
  'fvrf WORD$fvrf',
  'ivrf WORD$ivrf',
  'peer ipv4 A.B.C.D$ipv4',
  'peer subnet A.B.C.D$net A.B.C.D$mask',
  'peer hostname WORD$hostname',
  'peer username WORD$username',
  'peer group WORD$group',
  'isakmp profile WORD$profile',
  'spi (1-4294967295)$spi',
];

const CONDITION_HELP = {
  condition: 'define debug condition filters',
  connid: 'IKE/IPsec connection-id filter',
  flowid: 'IPsec flow-id filter',
  'engine-id': 'crypto engine id',
  fvrf: 'Front-door VRF filter',
  ivrf: 'Inside VRF filter',
  peer: 'IKE peer filter',
  ipv4: 'IKE peer IP address',
  subnet: 'IKE peer subnet',
  hostname: 'IKE peer FQDN identity',
  username: 'IKE peer user name (XAuth)',
  group: 'IKE peer Unity group name',
  isakmp: 'ISAKMP related filters',
  profile: 'ISAKMP profile name',
  spi: 'IPsec SPI filter',
  reset: 'Delete all debug filters and turn off conditional debug',
  unmatched: 'debug messages without context to match',
  net: 'Subnet address', mask: 'Subnet mask',
};

function conditionOf(a: { get(n: string): string | undefined }): Condition | undefined {
  const v = (n: string) => a.get(n);
  if (v('connid') !== undefined) return { type: 'connid', value: v('connid')!, extra: v('engine')! };
  if (v('flowid') !== undefined) return { type: 'flowid', value: v('flowid')!, extra: v('engine')! };
  if (v('fvrf') !== undefined) return { type: 'fvrf', value: v('fvrf')! };
  if (v('ivrf') !== undefined) return { type: 'ivrf', value: v('ivrf')! };
  if (v('ipv4') !== undefined) return { type: 'peer-ipv4', value: v('ipv4')! };
  if (v('net') !== undefined) return { type: 'peer-subnet', value: v('net')!, extra: v('mask')! };
  if (v('hostname') !== undefined) return { type: 'peer-hostname', value: v('hostname')! };
  if (v('username') !== undefined) return { type: 'peer-username', value: v('username')! };
  if (v('group') !== undefined) return { type: 'peer-group', value: v('group')! };
  if (v('profile') !== undefined) return { type: 'isakmp-profile', value: v('profile')! };
  if (v('spi') !== undefined) return { type: 'spi', value: v('spi')! };
  return undefined;
}

/** The guide: disable the global crypto debugs first, then the conditions. */
function refuseWhileDebugging(rt: LoggingRuntimeView): void {
  const on = rt.debugFlags().filter(([c]) => c !== 'ikev2');
  if (on.length > 0) throw new CliError('% Turn off the global crypto debugs (undebug crypto isakmp|ipsec|engine) before removing debug conditions');
}

defineCommand({
  modes: ['exec'],
  syntax: [
    ...CONDITION_SYNTAX.map((s) => `debug crypto condition ${s}`),
    ...CONDITION_SYNTAX.map((s) => `no debug crypto condition ${s}`),
    'debug crypto condition reset',
    'debug crypto condition unmatched [isakmp|ipsec|engine]',
    'no debug crypto condition unmatched [isakmp|ipsec|engine]',
  ],
  help: { ...HELP, ...CONDITION_HELP },
  handler(ctx, a) {
    const rt = logging(ctx);
    if (!rt) return;
    if (a.has('reset')) {
      refuseWhileDebugging(rt);
      rt.resetConditions();
      return;
    }
    if (a.has('unmatched')) {
      const cls = (['isakmp', 'ipsec', 'engine'] as const).find((c) => a.has(c));
      if (a.no) refuseWhileDebugging(rt);
      rt.setUnmatched(cls, !a.no);
      return;
    }
    const c = conditionOf(a);
    if (!c) throw new CliError('% Incomplete command.');
    if (a.no) {
      refuseWhileDebugging(rt);
      if (!rt.removeCondition(c)) throw new CliError('% No such debug condition');
      return;
    }
    rt.addCondition(c);
  },
});

/** `show crypto debug-condition`, in the guide's layout. */
export function renderDebugConditions(st: ConditionState, only?: string): string {
  const onOff = (b: boolean) => (b ? 'ON' : 'OFF');
  const out: string[] = [];
  const by = (t: Condition['type']) => st.conditions.filter((c) => c.type === t);
  const list = (title: string, items: Condition[], fmt: (c: Condition) => string, sep = ' ') => {
    if (items.length > 0) out.push(title, items.map(fmt).join(sep));
  };
  const unmatched: Array<[UnmatchedClass, string]> = [['isakmp', 'IKE'], ['ipsec', 'IPsec'], ['engine', 'Crypto Engine']];
  if (!only) out.push(`Crypto conditional debug currently is turned ${onOff(st.active)}`);
  if (!only || only === 'unmatched') for (const [c, n] of unmatched) out.push(`${n} debug context unmatched flag:${onOff(st.unmatched[c])}`);
  if (!only || only === 'peer') {
    list('IKE peer IP address filters:', by('peer-ipv4'), (c) => c.value);
    list('IKE peer subnet filters:', by('peer-subnet'), (c) => `${c.value}/${c.extra}`);
    list('IKE peer hostname filters:', by('peer-hostname'), (c) => c.value);
    list('IKE peer username filters:', by('peer-username'), (c) => c.value);
    list('IKE peer group filters:', by('peer-group'), (c) => c.value);
    list('ISAKMP profile filters:', by('isakmp-profile'), (c) => c.value);
  }
  if ((!only || only === 'connid') && by('connid').length > 0) out.push(`Connection-id filters:[connid:engine_id]${by('connid').map((c) => `${c.value}:${c.extra},`).join('')}`);
  if ((!only || only === 'connid') && by('flowid').length > 0) out.push(`Flow-id filters:[flowid:engine_id]${by('flowid').map((c) => `${c.value}:${c.extra},`).join('')}`);
  if (!only || only === 'spi') list('SPI filters:', by('spi'), (c) => c.value);
  if (!only || only === 'fvrf') list('Front-door VRF filters:', by('fvrf'), (c) => c.value);
  if (!only || only === 'ivrf') list('Inside VRF filters:', by('ivrf'), (c) => c.value);
  return `${out.join('\n')}\n`;
}

defineCommand({
  modes: ['exec'],
  syntax: 'show crypto debug-condition [peer|connid|spi|fvrf|ivrf|unmatched]',
  help: { 'debug-condition': 'Crypto Debug Condition Filters', peer: 'IKE peer filters', connid: 'Connection-id filters', spi: 'SPI filters', fvrf: 'Front-door VRF filters', ivrf: 'Inside VRF filters', unmatched: 'Unmatched flags' },
  pipe: true,
  handler(ctx, a) {
    const st = logging(ctx)?.conditionState() ?? { active: false, unmatched: { isakmp: false, ipsec: false, engine: false }, conditions: [] };
    const only = (['peer', 'connid', 'spi', 'fvrf', 'ivrf', 'unmatched'] as const).find((k) => a.has(k));
    ctx.data(st);
    ctx.print(renderDebugConditions(st, only));
  },
});
