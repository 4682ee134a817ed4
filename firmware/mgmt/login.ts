// Who may log in on a line, and at which privilege level: IOS's rules for `login`,
// `login local`, `aaa new-model` with `aaa authentication login` method lists and
// `aaa authorization exec`. Used by the SSH server and by the console's login prompt.
import { decodeType7, verifySecret } from '../lib/password.js';
import type { LineConfig } from '../config/line.js';
import type { Config } from '../config/model.js';
import { userPrivilege, type AaaMethod } from '../config/users.js';

export type LoginCheck =
  | { ok: true; user?: string; privilege: number }
  | { ok: false; reason: string };

/** What a line asks for before a session starts. */
export type LoginNeed = 'none' | 'password' | 'username-password' | 'refuse';

function methodsFor(cfg: Config, line: LineConfig | undefined): AaaMethod[] {
  const list = line?.loginAuthentication ?? 'default';
  // With aaa new-model and no list, IOS authenticates against the local database.
  return cfg.users.aaa.authenticationLogin[list] ?? (list === 'default' ? ['local'] : []);
}

/** What logging in on this line takes (`vty` lines without any login are refused). */
export function loginNeed(cfg: Config, line: LineConfig | undefined, kind: 'con' | 'vty'): LoginNeed {
  if (cfg.users.aaa.newModel) {
    const m = methodsFor(cfg, line);
    if (m[0] === 'none') return 'none';
    return m.some((x) => x === 'local' || x === 'local-case') ? 'username-password' : 'password';
  }
  if (line?.login === 'local') return 'username-password';
  if (line?.login === 'password') return line.password ? 'password' : 'refuse';
  return kind === 'vty' ? 'refuse' : 'none';
}

/** The privilege a session starts at after `user` logged in on `line`. */
export function loginPrivilege(cfg: Config, line: LineConfig | undefined, user: string | undefined): number {
  const account = user !== undefined ? cfg.users.accounts[user] : undefined;
  const lineLevel = line?.privilegeLevel ?? 1;
  if (!account) return lineLevel;
  // Under aaa new-model the user's level applies only with exec authorization (an IOS gotcha
  // kept on purpose: automation written for IOS expects it); `login local` always applies it.
  if (cfg.users.aaa.newModel) {
    const authz = cfg.users.aaa.authorizationExec[line?.authorizationExec ?? 'default'];
    return authz?.some((m) => m === 'local' || m === 'local-case') ? userPrivilege(account) : lineLevel;
  }
  return line?.login === 'local' ? userPrivilege(account) : lineLevel;
}

function storedPasswordMatches(given: string, stored: { type: 0 | 7; value: string }): boolean {
  const plain = stored.type === 7 ? decodeType7(stored.value) : stored.value;
  return plain !== undefined && plain === given;
}

/** Checks `user`'s password against the local database. */
export function checkLocalUser(cfg: Config, user: string, password: string, caseSensitive = true): boolean {
  const account = cfg.users.accounts[user]
    ?? (caseSensitive ? undefined : Object.values(cfg.users.accounts).find((a) => a.name.toLowerCase() === user.toLowerCase()));
  if (!account) return false;
  if (account.secret) return verifySecret(password, account.secret.hash);
  if (account.password) return storedPasswordMatches(password, account.password);
  return false;
}

function checkEnable(cfg: Config, password: string): boolean {
  const sys = cfg.system;
  if (sys.enableSecret) return verifySecret(password, sys.enableSecret);
  if (sys.enablePassword) return storedPasswordMatches(password, sys.enablePassword);
  return false;
}

/** Authenticates a username/password on a line. */
export function checkLogin(cfg: Config, line: LineConfig | undefined, kind: 'con' | 'vty', user: string | undefined, password: string): LoginCheck {
  const accept = (u: string | undefined): LoginCheck => ({ ok: true, user: u, privilege: loginPrivilege(cfg, line, u) });
  const need = loginNeed(cfg, line, kind);
  if (need === 'refuse') return { ok: false, reason: 'Password required, but none set' };
  if (need === 'none') return accept(user);
  if (!cfg.users.aaa.newModel) {
    if (line?.login === 'local') return user !== undefined && checkLocalUser(cfg, user, password) ? accept(user) : { ok: false, reason: 'Login invalid' };
    return line?.password && storedPasswordMatches(password, line.password) ? accept(user) : { ok: false, reason: 'Password invalid' };
  }
  for (const m of methodsFor(cfg, line)) {
    switch (m) {
      case 'local': case 'local-case':
        if (user === undefined) continue;
        // An unknown user falls through to the next method, as IOS's local method does.
        if (!cfg.users.accounts[user] && !(m === 'local' && Object.values(cfg.users.accounts).some((a) => a.name.toLowerCase() === user.toLowerCase()))) continue;
        return checkLocalUser(cfg, user, password, m === 'local-case') ? accept(user) : { ok: false, reason: 'Authentication failed' };
      case 'line':
        if (!line?.password) continue;
        return storedPasswordMatches(password, line.password) ? accept(user) : { ok: false, reason: 'Authentication failed' };
      case 'enable':
        return checkEnable(cfg, password) ? accept(user) : { ok: false, reason: 'Authentication failed' };
      case 'none':
        return accept(user);
    }
  }
  return { ok: false, reason: 'Authentication failed' };
}

/** The prompts of a terminal login (the session's ask/write before the session exists). */
export interface LoginIo {
  write(text: string): void;
  ask(prompt: string, echo: boolean): Promise<string>;
}

/**
 * The login dialogue of a terminal line (the console): `Username:`/`Password:` as the
 * line's login rules want, three tries. A line without login starts at its privilege level.
 */
export async function lineLogin(cfg: Config, line: LineConfig | undefined, kind: 'con' | 'vty', io: LoginIo): Promise<LoginCheck> {
  const need = loginNeed(cfg, line, kind);
  if (need === 'none') return { ok: true, privilege: loginPrivilege(cfg, line, undefined) };
  if (need === 'refuse') {
    io.write('\nPassword required, but none set\n');
    return { ok: false, reason: 'Password required, but none set' };
  }
  if (cfg.banners.login) io.write(`${cfg.banners.login.replace(/^\n/, '')}\n`);
  io.write('\nUser Access Verification\n\n');
  for (let attempt = 0; attempt < 3; attempt++) {
    const user = need === 'username-password' ? (await io.ask('Username: ', true)).trim() : undefined;
    const password = await io.ask('Password: ', false);
    const r = checkLogin(cfg, line, kind, user, password);
    if (r.ok) return r;
    io.write(need === 'username-password' ? '% Login invalid\n\n' : '');
  }
  if (need === 'password') io.write('% Bad passwords\n');
  return { ok: false, reason: 'Login failed' };
}
