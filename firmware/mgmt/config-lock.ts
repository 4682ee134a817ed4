// The configuration lock: held by one session while `configuration mode exclusive` asks for
// it, and by `configure replace` while it applies (IOS locks the running configuration then
// too). While another session holds it, configuration commands are refused with IOS's text.

export interface LockOwner {
  session: number;
  user?: string;
  /** IOS absolute line number (con 0 = 0, vty N = 2 + N). */
  terminal: number;
}

export class ConfigLock {
  private owner: LockOwner | undefined;

  get holder(): LockOwner | undefined { return this.owner; }

  /** IOS's refusal for `session`, or undefined when it may configure. */
  refusal(session: number): string | undefined {
    const o = this.owner;
    if (!o || o.session === session) return undefined;
    return `Configuration mode is locked by process '${o.session}' user '${o.user ?? 'NULL'}' from terminal '${o.terminal}'. Please try later.`;
  }

  /** Takes the lock; returns the refusal when another session holds it. */
  take(owner: LockOwner): string | undefined {
    const refused = this.refusal(owner.session);
    if (refused) return refused;
    this.owner = owner;
    return undefined;
  }

  release(session: number): void {
    if (this.owner?.session === session) this.owner = undefined;
  }
}
