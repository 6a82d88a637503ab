import { timingSafeEqual } from 'node:crypto';
import type { AuthContext, Caller } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { DomainError, ForbiddenError, UnauthenticatedError } from '../../core/errors.js';
import type { AuditLog } from '../audit/log.js';
import type { Authenticator } from './authenticator.js';
import { newOpaqueSecret, sha256 } from './credentials.js';
import type { IdentityStore } from './store.js';
import { userView, type UserView } from './views.js';

export interface LoginResult {
  /** The cookie value; goes only into the Set-Cookie header. */
  cookie: string;
  csrfToken: string;
  maxAgeSeconds: number;
  user: UserView;
}

export interface LoginInput {
  username: string;
  password: string;
  /** The session cookie the browser already had, if any: it is ended (no session fixation). */
  previousCookie: string | null;
  userAgent: string | null;
}

/** Constant-time check of a CSRF token against the session's. */
export function csrfMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Browser sessions: log in with a password, read the current session, log out. */
export class SessionsService {
  constructor(
    private readonly store: IdentityStore,
    private readonly authenticator: Authenticator,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  /**
   * Checks the password (behind the login throttle) and starts a new session with a fresh random
   * id, whatever cookie the browser sent, so a planted session id is never promoted to a login.
   * Failures are audited.
   */
  async login(caller: Caller, input: LoginInput): Promise<LoginResult> {
    const target = { type: 'user', name: input.username.slice(0, 200) };
    let user;
    try {
      user = await this.authenticator.checkPassword(input.username, input.password, caller.ip);
    } catch (err) {
      if (err instanceof DomainError) this.audit.recordDenied(caller, 'session.login', target, err.message);
      throw err;
    }
    if (input.previousCookie) await this.end(input.previousCookie);
    const now = this.clock.now();
    const cookie = newOpaqueSecret();
    const csrfToken = newOpaqueSecret();
    const auth: AuthContext = {
      userId: user.id,
      username: user.username,
      isAdmin: user.is_admin === 1,
      tokenId: null,
      projectId: null,
      sessionId: sha256(cookie),
    };
    // The login is recorded as the user who logged in, not as the anonymous caller.
    await this.audit.change({ ...caller, auth }, async (tx, record) => {
      await this.store.with(tx).insertSession({
        id_hash: auth.sessionId!,
        user_id: user.id,
        csrf_token: csrfToken,
        created_at: now,
        expires_at: now + this.ttlMs,
        ip: caller.ip,
        user_agent: input.userAgent?.slice(0, 500) ?? null,
        revoked_at: null,
      });
      record('session.login', target);
    });
    return { cookie, csrfToken, maxAgeSeconds: Math.floor(this.ttlMs / 1000), user: userView(user, auth) };
  }
  /** The session behind `cookie` and its CSRF token (the portal reads it after a reload). */
  async current(cookie: string | null): Promise<{ user: UserView; csrfToken: string }> {
    const s = cookie ? await this.authenticator.session(cookie) : null;
    if (!s) throw new UnauthenticatedError('no session: log in first');
    const user = await this.store.userById(s.auth.userId);
    if (!user) throw new UnauthenticatedError('no session: log in first');
    return { user: userView(user, s.auth), csrfToken: s.csrf };
  }

  /** Ends the session at once (every process stops accepting it within the auth cache TTL). */
  async logout(caller: Caller, cookie: string | null): Promise<void> {
    if (!cookie) return;
    // A live session the edge did not accept for this request (no or wrong x-csrf-token, another
    // origin) is not ended; say so instead of answering as if it were.
    if (!caller.auth && (await this.authenticator.session(cookie)))
      throw new ForbiddenError('missing or wrong x-csrf-token header: the session was not ended');
    if (!caller.auth?.sessionId) return;
    await this.end(cookie);
    await this.audit.record(caller, 'session.logout', { type: 'user', name: caller.auth.username });
  }

  private async end(cookie: string): Promise<void> {
    const idHash = sha256(cookie);
    await this.store.revokeSession(idHash, this.clock.now());
    this.authenticator.forget({ sessionId: idHash });
  }
}
