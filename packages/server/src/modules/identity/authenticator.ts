import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { AuthContext } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { UnauthenticatedError } from '../../core/errors.js';
import { USERNAME_PATTERN } from '../../core/names.js';
import { sha256, TOKEN_PREFIX } from './credentials.js';
import type { LoginThrottle } from './login-throttle.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { IdentityStore, UserRow } from './store.js';

interface CacheEntry {
  auth: AuthContext;
  until: number;
  /** Browser sessions only: the token unsafe requests must echo in x-csrf-token. */
  csrf: string | null;
}

interface Resolved {
  auth: AuthContext;
  expiresAt: number | null;
}

export interface SessionAuth {
  auth: AuthContext;
  csrf: string;
}

function contextOf(user: UserRow, extra: Pick<AuthContext, 'tokenId' | 'projectId' | 'sessionId'>): AuthContext {
  return { userId: user.id, username: user.username, isAdmin: user.is_admin === 1, ...extra };
}

const MAX_CACHE = 10_000;
const USERNAME = new RegExp(USERNAME_PATTERN);

/**
 * Turns credentials (Authorization header or session cookie) into an {@link AuthContext}.
 *
 * Successes are cached for `ttlMs` keyed by the credential itself (hashing it would cost more than
 * the lookup; it sits in this process's memory during the request anyway), so the hot path does no
 * SQL, no scrypt and no hashing. The price: a revoked token, ended session or disabled user keeps
 * working for at most `ttlMs` on *other* processes; this process drops the entries at once.
 * Last-use times of tokens are flushed in batches by {@link flushTokenUses}.
 */
export class Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly pendingUses = new Map<string, number>();
  private dummy: Promise<string> | null = null;

  constructor(
    private readonly store: IdentityStore,
    private readonly throttle: LoginThrottle,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {}

  /** The cached caller for this Authorization header, synchronously, or null (then {@link authenticate}). */
  cachedAuth(header: string): AuthContext | null {
    const hit = this.cache.get(header);
    if (!hit || hit.csrf !== null) return null;
    const now = this.clock.now();
    if (hit.until <= now) return null;
    if (hit.auth.tokenId) this.pendingUses.set(hit.auth.tokenId, now);
    return hit.auth;
  }

  /** Resolves an Authorization header; throws UnauthenticatedError (or TooManyRequests) when it does not authenticate. */
  async authenticate(header: string, ip: string | null): Promise<AuthContext> {
    const hit = this.cachedAuth(header);
    if (hit) return hit;
    const now = this.clock.now();
    const { auth, expiresAt } = await this.resolve(header, ip, now);
    // Never cache past the token's own expiry.
    this.remember(header, { auth, until: Math.min(now + this.ttlMs, expiresAt ?? Infinity), csrf: null });
    if (auth.tokenId) this.pendingUses.set(auth.tokenId, now);
    return auth;
  }

  cachedSession(cookie: string): SessionAuth | null {
    const hit = this.cache.get(cookie);
    if (!hit || hit.csrf === null || hit.until <= this.clock.now()) return null;
    return { auth: hit.auth, csrf: hit.csrf };
  }

  /** Resolves a session cookie; null when it is unknown, ended, expired or its user disabled. */
  async session(cookie: string): Promise<SessionAuth | null> {
    const hit = this.cachedSession(cookie);
    if (hit) return hit;
    const now = this.clock.now();
    const row = await this.store.sessionByHash(sha256(cookie));
    if (!row || row.revoked_at !== null || row.expires_at <= now) return null;
    const user = await this.store.userById(row.user_id);
    if (!user || user.disabled) return null;
    const auth = contextOf(user, { tokenId: null, projectId: null, sessionId: row.id_hash });
    // Never cache past the session's own end.
    this.remember(cookie, { auth, until: Math.min(now + this.ttlMs, row.expires_at), csrf: row.csrf_token });
    return { auth, csrf: row.csrf_token };
  }

  /**
   * Checks a username and password, behind the login throttle. Unknown users cost the same scrypt
   * as known ones, so timing does not reveal who exists.
   */
  async checkPassword(username: string, password: string, ip: string | null): Promise<UserRow> {
    this.throttle.check(username, ip);
    // Only names that could exist are looked up: anything else (a NUL byte, which PostgreSQL
    // refuses in text, or any other stray character of a Basic header) is an unknown user.
    const user = USERNAME.test(username) ? await this.store.userByUsername(username) : undefined;
    const ok = await verifyPassword(password, user?.password_hash ?? (await this.dummyHash()));
    if (!user?.password_hash || !ok) {
      this.throttle.failed(username, ip);
      throw new UnauthenticatedError('wrong username or password');
    }
    if (user.disabled) throw new UnauthenticatedError('this user is disabled');
    this.throttle.succeeded(username);
    return user;
  }

  /** Drops cached credentials of a token, a user (all their credentials) or a session. */
  forget(match: { tokenId?: string; userId?: string; sessionId?: string }): void {
    for (const [key, e] of this.cache) {
      if (
        (match.tokenId && e.auth.tokenId === match.tokenId) ||
        (match.userId && e.auth.userId === match.userId) ||
        (match.sessionId && e.auth.sessionId === match.sessionId)
      )
        this.cache.delete(key);
    }
  }

  /** Writes the batched last-use times; called on an interval and at shutdown. */
  async flushTokenUses(): Promise<void> {
    if (this.pendingUses.size === 0) return;
    const uses = new Map(this.pendingUses);
    this.pendingUses.clear();
    await this.store.touchTokens(uses);
  }

  private remember(key: string, entry: CacheEntry): void {
    if (this.ttlMs <= 0) return;
    if (this.cache.size >= MAX_CACHE) this.cache.clear();
    this.cache.set(key, entry);
  }

  private async resolve(header: string, ip: string | null, now: number): Promise<Resolved> {
    const space = header.indexOf(' ');
    const scheme = space > 0 ? header.slice(0, space).toLowerCase() : header.toLowerCase();
    const value = space > 0 ? header.slice(space + 1).trim() : '';
    if (scheme === 'bearer') return this.byToken(value, now);
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0)
        throw new UnauthenticatedError('malformed Basic credentials: expected base64 of username:password');
      const username = decoded.slice(0, colon);
      const secret = decoded.slice(colon + 1);
      // MLflow clients send username + token as Basic; accept a token in the password slot.
      if (secret.startsWith(TOKEN_PREFIX)) {
        const resolved = await this.byToken(secret, now);
        if (!safeEqual(resolved.auth.username, username))
          throw new UnauthenticatedError('token does not belong to that user');
        return resolved;
      }
      const user = await this.checkPassword(username, secret, ip);
      return { auth: contextOf(user, { tokenId: null, projectId: null, sessionId: null }), expiresAt: null };
    }
    throw new UnauthenticatedError('unsupported Authorization scheme; use Bearer or Basic');
  }

  private async byToken(token: string, now: number): Promise<Resolved> {
    if (!token.startsWith(TOKEN_PREFIX))
      throw new UnauthenticatedError('not a Hangar API token (they start with hgr_)');
    const row = await this.store.tokenByHash(sha256(token));
    if (!row) throw new UnauthenticatedError('invalid token');
    if (row.revoked_at !== null) throw new UnauthenticatedError('this token was revoked');
    if (row.expires_at !== null && row.expires_at <= now) throw new UnauthenticatedError('this token has expired');
    const user = await this.store.userById(row.user_id);
    if (!user || user.disabled) throw new UnauthenticatedError('the token owner is disabled');
    return {
      auth: contextOf(user, { tokenId: row.id, projectId: row.project_id, sessionId: null }),
      expiresAt: row.expires_at,
    };
  }

  private dummyHash(): Promise<string> {
    this.dummy ??= hashPassword(randomBytes(16).toString('hex'));
    return this.dummy;
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
