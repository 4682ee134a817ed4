// Terminal lines: `line con 0`, `line aux 0`, `line vty 0 4`. The management issue builds
// login and AAA on these; today they hold what IOS configs carry under them.
import { defineSection } from './model.js';

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
      if (l.execTimeout) out.push(` exec-timeout ${l.execTimeout.minutes} ${l.execTimeout.seconds}`);
      if (l.privilegeLevel !== undefined) out.push(` privilege level ${l.privilegeLevel}`);
      if (l.password) out.push(` password ${l.password.type === 7 ? '7 ' : ''}${l.password.value}`);
      if (l.loggingSynchronous) out.push(' logging synchronous');
      if (l.login) out.push(l.login === 'local' ? ' login local' : ' login');
      if (l.transportInput) out.push(` transport input ${l.transportInput.join(' ')}`);
    }
    return [out];
  },
});
