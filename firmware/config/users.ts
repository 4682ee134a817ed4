// Local user accounts, AAA method lists and command privilege levels: `username`,
// `aaa new-model`, `aaa authentication login`, `aaa authorization exec`, `privilege exec
// level`. Secrets are kept only as hashes (type 5, 8, 9); `password` forms as typed
// (type 0) or obfuscated (type 7), as IOS keeps them.
import { defineSection } from './model.js';

export interface UserAccount {
  name: string;
  /** 0-15; absent means IOS's default (1), not rendered. */
  privilege?: number;
  secret?: { type: 5 | 8 | 9; hash: string };
  password?: { type: 0 | 7; value: string };
}

/** Authentication / authorization methods IOS offers that mean something on this box. */
export type AaaMethod = 'local' | 'local-case' | 'line' | 'enable' | 'none';

export interface AaaConfig {
  newModel: boolean;
  /** `aaa authentication login NAME|default METHOD...` */
  authenticationLogin: Record<string, AaaMethod[]>;
  /** `aaa authorization exec NAME|default METHOD...` */
  authorizationExec: Record<string, AaaMethod[]>;
  /** `aaa authorization network NAME|default local` (remote-access configs carry it). */
  authorizationNetwork: Record<string, AaaMethod[]>;
  sessionIdCommon: boolean;
}

export interface UsersConfig {
  accounts: Record<string, UserAccount>;
  aaa: AaaConfig;
  /** `privilege exec level N COMMAND`: command words (lower case) -> level. */
  execLevels: Record<string, number>;
  /** `login block-for S attempts N within W`: quiet mode after N failures within W seconds. */
  loginBlock?: { blockSec: number; attempts: number; withinSec: number };
  /** `login on-failure log` / `login on-success log`: %SEC_LOGIN messages. */
  loginOnFailureLog: boolean;
  loginOnSuccessLog: boolean;
}

declare module './model.js' {
  interface Config { users: UsersConfig }
}

function renderAccount(u: UserAccount): string {
  const priv = u.privilege !== undefined ? ` privilege ${u.privilege}` : '';
  if (u.secret) return `username ${u.name}${priv} secret ${u.secret.type} ${u.secret.hash}`;
  if (u.password) return `username ${u.name}${priv} password ${u.password.type} ${u.password.value}`;
  return `username ${u.name}${priv}`;
}

function renderLists(kind: string, lists: Record<string, AaaMethod[]>): string[] {
  const names = Object.keys(lists).sort((a, b) => (a === 'default' ? -1 : b === 'default' ? 1 : a.localeCompare(b)));
  return names.map((n) => `aaa ${kind} ${n} ${lists[n]!.join(' ')}`);
}

defineSection({
  key: 'users',
  order: 20,
  create: () => ({
    accounts: {},
    aaa: { newModel: false, authenticationLogin: {}, authorizationExec: {}, authorizationNetwork: {}, sessionIdCommon: false },
    execLevels: {},
    loginOnFailureLog: false,
    loginOnSuccessLog: false,
  }),
  render: (cfg) => {
    const { aaa, accounts, execLevels, loginBlock } = cfg.users;
    // IOS prints `no aaa new-model` when off; left out so configs without AAA keep their shape.
    const aaaBlock = aaa.newModel ? ['aaa new-model'] : [];
    const lists = aaa.newModel
      ? [
          ...renderLists('authentication login', aaa.authenticationLogin),
          ...renderLists('authorization exec', aaa.authorizationExec),
          ...renderLists('authorization network', aaa.authorizationNetwork),
        ]
      : [];
    const session = aaa.newModel && aaa.sessionIdCommon ? ['aaa session-id common'] : [];
    const users = Object.values(accounts).sort((a, b) => a.name.localeCompare(b.name)).map(renderAccount);
    const levels = Object.entries(execLevels).sort(([a], [b]) => a.localeCompare(b)).map(([c, l]) => `privilege exec level ${l} ${c}`);
    const login = [
      ...(loginBlock ? [`login block-for ${loginBlock.blockSec} attempts ${loginBlock.attempts} within ${loginBlock.withinSec}`] : []),
      ...(cfg.users.loginOnFailureLog ? ['login on-failure log'] : []),
      ...(cfg.users.loginOnSuccessLog ? ['login on-success log'] : []),
    ];
    return [aaaBlock, lists, session, users, login, levels];
  },
});

/** A user's privilege level (IOS's default is 1). */
export function userPrivilege(u: UserAccount | undefined): number {
  return u?.privilege ?? 1;
}
