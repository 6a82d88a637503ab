import type { Clock } from '../../core/clock.js';
import { TooManyRequestsError } from '../../core/errors.js';

interface Entry {
  failures: number;
  lockedUntil: number;
  lastFailure: number;
}

export interface ThrottleLimits {
  /** Failures for one username before it is locked. */
  perUser: number;
  /** Failures from one address (any usernames) before it is locked. */
  perIp: number;
  /** First lock; each further failure doubles it up to `maxLockMs`. */
  baseLockMs: number;
  maxLockMs: number;
  /** A key with no failure for this long starts afresh. */
  forgetAfterMs: number;
}

const DEFAULTS: ThrottleLimits = {
  perUser: 5,
  perIp: 30,
  baseLockMs: 30_000,
  maxLockMs: 15 * 60_000,
  forgetAfterMs: 60 * 60_000,
};

/**
 * Slows password guessing: after a few failed logins for a username (or many from one address)
 * further attempts are refused with 429 for a time that doubles with each failure, without even
 * checking the password, so a locked account costs an attacker time and the server no scrypt.
 * Success clears the username's count. State is per process; with N API processes an attacker gets
 * at most N times the budget, which keeps guessing impractical at these limits.
 */
export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly limits: ThrottleLimits;

  constructor(
    private readonly clock: Clock,
    limits: Partial<ThrottleLimits> = {},
  ) {
    this.limits = { ...DEFAULTS, ...limits };
  }

  /** Throws TooManyRequestsError while the username or the address is locked. */
  check(username: string, ip: string | null): void {
    const now = this.clock.now();
    for (const key of this.keys(username, ip)) {
      const e = this.entries.get(key);
      if (e && e.lockedUntil > now) {
        const seconds = Math.ceil((e.lockedUntil - now) / 1000);
        throw new TooManyRequestsError(`too many failed logins; try again in ${seconds} s`, seconds);
      }
    }
  }

  failed(username: string, ip: string | null): void {
    const now = this.clock.now();
    if (this.entries.size > 100_000) this.prune(now);
    for (const key of this.keys(username, ip)) {
      let e = this.entries.get(key);
      if (!e || now - e.lastFailure > this.limits.forgetAfterMs) e = { failures: 0, lockedUntil: 0, lastFailure: now };
      e.failures += 1;
      e.lastFailure = now;
      const limit = key.startsWith('u:') ? this.limits.perUser : this.limits.perIp;
      if (e.failures >= limit) {
        const lock = Math.min(this.limits.maxLockMs, this.limits.baseLockMs * 2 ** (e.failures - limit));
        e.lockedUntil = now + lock;
      }
      this.entries.set(key, e);
    }
  }

  succeeded(username: string): void {
    this.entries.delete(`u:${username}`);
  }

  private keys(username: string, ip: string | null): string[] {
    return ip ? [`u:${username}`, `ip:${ip}`] : [`u:${username}`];
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries)
      if (e.lockedUntil < now && now - e.lastFailure > this.limits.forgetAfterMs) this.entries.delete(k);
  }
}
