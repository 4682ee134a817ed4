// Terminal lines: `line con 0`, `line aux 0`, `line vty 0 4`. The management issue builds
// login and AAA on these; today they hold what IOS configs carry under them.
import { defineSection, type Config } from './model.js';

export interface LineConfig {
  /** `con 0`, `aux 0`, `vty 0 4` */
  name: string;
  login?: 'password' | 'local';
  /** As typed (type 0) or obfuscated (type 7); never shown elsewhere. */
  password?: { type: 0 | 7; value: string };
  execTimeout?: { minutes: number; seconds: number };
  transportInput?: string[];
  loggingSynchronous: boolean;
  privilegeLevel?: number;
  /** `login authentication LIST` (aaa new-model): the method list for this line. */
  loginAuthentication?: string;
  /** `authorization exec LIST` */
  authorizationExec?: string;
  /** `access-class ACL in`: who may open a session on this line. */
  accessClassIn?: string;
  /** `session-limit N` */
  sessionLimit?: number;
}

declare module './model.js' {
  interface Config { lines: Record<string, LineConfig> }
}

export const DEFAULT_LINES = ['con 0', 'aux 0', 'vty 0 4'];

export function newLine(name: string): LineConfig {
  return { name, loggingSynchronous: false };
}

function lineOrder(name: string): number {
  const kind = ['con', 'aux', 'vty'].indexOf(name.split(' ')[0]!);
  return kind * 1000 + Number(name.split(' ')[1]);
}

defineSection({
  key: 'lines',
  order: 900,
  create: () => Object.fromEntries(DEFAULT_LINES.map((n) => [n, newLine(n)])),
  render: (cfg) => {
    const lines = Object.values(cfg.lines).sort((a, b) => lineOrder(a.name) - lineOrder(b.name));
    const out: string[] = [];
    for (const l of lines) {
      out.push(`line ${l.name}`);
      if (l.sessionLimit !== undefined) out.push(` session-limit ${l.sessionLimit}`);
      if (l.accessClassIn) out.push(` access-class ${l.accessClassIn} in`);
      if (l.execTimeout) out.push(` exec-timeout ${l.execTimeout.minutes} ${l.execTimeout.seconds}`);
      if (l.privilegeLevel !== undefined) out.push(` privilege level ${l.privilegeLevel}`);
      if (l.password) out.push(` password ${l.password.type === 7 ? '7 ' : ''}${l.password.value}`);
      if (l.authorizationExec) out.push(` authorization exec ${l.authorizationExec}`);
      if (l.loggingSynchronous) out.push(' logging synchronous');
      if (l.loginAuthentication) out.push(` login authentication ${l.loginAuthentication}`);
      if (l.login) out.push(l.login === 'local' ? ' login local' : ' login');
      if (l.transportInput) out.push(` transport input ${l.transportInput.join(' ')}`);
    }
    return [out];
  },
});

/** The line block that covers line `kind n` (`vty 0 4` covers vty 3), if configured. */
export function lineConfigFor(cfg: Config, kind: 'con' | 'aux' | 'vty', n: number): LineConfig | undefined {
  for (const l of Object.values(cfg.lines)) {
    const [k, first, last] = l.name.split(' ');
    if (k !== kind) continue;
    const lo = Number(first), hi = last === undefined ? lo : Number(last);
    if (n >= lo && n <= hi) return l;
  }
  return undefined;
}

/** Every vty number that some `line vty` block configures, ascending. */
export function configuredVtys(cfg: Config): number[] {
  const out = new Set<number>();
  for (const l of Object.values(cfg.lines)) {
    const [k, first, last] = l.name.split(' ');
    if (k !== 'vty') continue;
    for (let n = Number(first); n <= Number(last ?? first); n++) out.add(n);
  }
  return [...out].sort((a, b) => a - b);
}

/** IOS's default exec-timeout: 10 minutes. */
export const DEFAULT_EXEC_TIMEOUT_MS = 10 * 60_000;

/** Idle time after which a session on this line is closed (0: never). */
export function execTimeoutMs(l: LineConfig | undefined): number {
  if (!l?.execTimeout) return DEFAULT_EXEC_TIMEOUT_MS;
  return (l.execTimeout.minutes * 60 + l.execTimeout.seconds) * 1000;
}
