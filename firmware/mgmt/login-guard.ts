// `login block-for S attempts N within W`: after N failed logins within W seconds the box
// enters quiet mode for S seconds and refuses network logins (the console still works, as
// on IOS: it is the last way in). Failures and quiet mode are reported as %SEC_LOGIN
// messages when `login on-failure log` asks for them.
import type { Config } from '../config/model.js';
import type { ScopedLogger } from '../lib/event-bus.js';
import { formatClock } from '../cli/commands/exec.js';

export class LoginGuard {
  private failures: number[] = [];
  private quietUntil = 0;

  constructor(private readonly now: () => number, private readonly messages?: ScopedLogger) {}

  /** Milliseconds of quiet mode left (0: logins allowed). */
  quietLeftMs(): number {
    return Math.max(0, this.quietUntil - this.now());
  }

  failure(cfg: Config, who: { user: string; source: string; port: number }): void {
    const now = this.now();
    if (cfg.users.loginOnFailureLog) {
      this.messages?.message('SEC_LOGIN', 4, 'LOGIN_FAILED', `Login failed [user: ${who.user}] [Source: ${who.source}] [localport: ${who.port}] [Reason: Login Authentication Failed] at ${stamp(now)}`);
    }
    const block = cfg.users.loginBlock;
    if (!block) return;
    this.failures = this.failures.filter((t) => now - t < block.withinSec * 1000);
    this.failures.push(now);
    if (this.failures.length >= block.attempts && this.quietUntil <= now) {
      this.quietUntil = now + block.blockSec * 1000;
      this.failures = [];
      this.messages?.message('SEC_LOGIN', 1, 'QUIET_MODE_ON', `Still timeleft for watching failures is ${block.withinSec} secs, [user: ${who.user}] [Source: ${who.source}] [localport: ${who.port}] [Reason: Login Authentication Failed] [ACL: sl_def_acl] at ${stamp(now)}`);
    }
  }

  success(cfg: Config, who: { user: string; source: string; port: number }): void {
    if (cfg.users.loginOnSuccessLog) {
      this.messages?.message('SEC_LOGIN', 5, 'LOGIN_SUCCESS', `Login Success [user: ${who.user}] [Source: ${who.source}] [localport: ${who.port}] at ${stamp(this.now())}`);
    }
  }
}

/** `15:04:05 UTC Mon Dec 7 2026`, as IOS ends SEC_LOGIN messages. */
function stamp(ms: number): string {
  return formatClock(ms).replace(/\.\d{3} /, ' ');
}
