import { createHash, randomBytes } from 'node:crypto';
import { requireAuth, type AuthContext } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { InputError, NotFoundError, UnauthenticatedError } from '../../core/errors.js';
import { newId, newSecret } from '../../core/ids.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { IdentityStore, TokenRow, UserRow } from './store.js';

export const TOKEN_PREFIX = 'hgr_';

export interface TokenView {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface BootstrapResult {
  /** Present only when the password was generated now; print it once and never store it. */
  generatedPassword: string | null;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

function tokenView(t: TokenRow): TokenView {
  return {
    id: t.id,
    name: t.name,
    prefix: t.prefix,
    createdAt: iso(t.created_at)!,
    expiresAt: iso(t.expires_at),
    lastUsedAt: iso(t.last_used_at),
    revokedAt: iso(t.revoked_at),
  };
}

interface Profile {
  id: string;
  username: string;
  displayName: string;
  email: string | null;
  isAdmin: boolean;
}

function profileOf(user: UserRow): Profile {
  return {
    id: user.id,
    username: user.username,
    displayName: user.display_name,
    email: user.email,
    isAdmin: user.is_admin === 1,
  };
}

interface Resolved {
  auth: AuthContext;
  user: UserRow;
}

interface CacheEntry {
  auth: AuthContext;
  until: number;
}

/**
 * Authentication and API tokens. Successful authentications are cached for `cacheTtlMs`, keyed by
 * the header itself (hashing it would cost more than the lookup; the header is in this process's
 * memory during every request anyway), so the hot path does no SQL, no scrypt and no hashing; the price is that a revoked
 * token or disabled user keeps working for at most that long on other processes (this process drops
 * its cache entries on revoke). Last-use times are flushed in batches by {@link flushTokenUses}.
 */
export class IdentityService {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly pendingUses = new Map<string, number>();
  private readonly profiles = new Map<string, { profile: Profile; until: number }>();
  private dummy: Promise<string> | null = null;

  constructor(
    private readonly store: IdentityStore,
    private readonly clock: Clock,
    private readonly cacheTtlMs: number,
  ) {}

  /** Creates the first platform admin on an empty store (see README for the env variables). */
  async bootstrap(options: { adminPassword?: string; adminToken?: string }): Promise<BootstrapResult> {
    if ((await this.store.countUsers()) > 0) return { generatedPassword: null };
    const generated = options.adminPassword ? null : randomBytes(12).toString('base64url');
    const now = this.clock.now();
    const admin: UserRow = {
      id: newId(now),
      username: 'admin',
      display_name: 'Administrator',
      email: null,
      password_hash: await hashPassword(options.adminPassword ?? generated!),
      is_admin: 1,
      disabled: 0,
      created_at: now,
      updated_at: now,
    };
    const token = options.adminToken ? this.tokenRow(admin.id, 'bootstrap', options.adminToken, null) : null;
    const created = await this.store.insertFirstAdmin(admin, token);
    return { generatedPassword: created ? generated : null };
  }

  /**
   * Resolves an `Authorization` header to the caller. Returns null when there is no header; throws
   * {@link UnauthenticatedError} for a header that does not authenticate.
   */
  async authenticate(header: string | undefined): Promise<AuthContext | null> {
    if (!header) return null;
    const hit = this.cachedAuth(header);
    if (hit) return hit;
    const now = this.clock.now();
    const { auth, user } = await this.resolve(header, now);
    if (this.cacheTtlMs > 0) {
      if (this.cache.size > 10_000) {
        this.cache.clear();
        this.profiles.clear();
      }
      this.cache.set(header, { auth, until: now + this.cacheTtlMs });
      this.profiles.set(user.id, { profile: profileOf(user), until: now + this.cacheTtlMs });
    }
    if (auth.tokenId) this.pendingUses.set(auth.tokenId, now);
    return auth;
  }

  /**
   * The cached caller for this header, synchronously, or null on a miss (then call
   * {@link authenticate}). Lets the request hook skip a promise on the hot path.
   */
  cachedAuth(header: string): AuthContext | null {
    const hit = this.cache.get(header);
    const now = this.clock.now();
    if (!hit || hit.until <= now) return null;
    if (hit.auth.tokenId) this.pendingUses.set(hit.auth.tokenId, now);
    return hit.auth;
  }

  private async resolve(header: string, now: number): Promise<Resolved> {
    const space = header.indexOf(' ');
    const scheme = header.slice(0, space).toLowerCase();
    const value = header.slice(space + 1).trim();
    if (scheme === 'bearer') return this.byToken(value, now);
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) throw new UnauthenticatedError('malformed Basic credentials');
      const username = decoded.slice(0, colon);
      const secret = decoded.slice(colon + 1);
      // MLflow clients send username + token as Basic; accept a token in the password slot.
      if (secret.startsWith(TOKEN_PREFIX)) {
        const resolved = await this.byToken(secret, now);
        if (resolved.user.username !== username) throw new UnauthenticatedError('token does not belong to that user');
        return resolved;
      }
      const user = await this.store.userByUsername(username);
      // Unknown users cost the same scrypt as known ones, so timing does not reveal who exists.
      const ok = await verifyPassword(secret, user?.password_hash ?? (await this.dummyHash()));
      if (!user?.password_hash || !ok) throw new UnauthenticatedError('wrong username or password');
      if (user.disabled) throw new UnauthenticatedError('this user is disabled');
      return { auth: { userId: user.id, username: user.username, isAdmin: user.is_admin === 1, tokenId: null }, user };
    }
    throw new UnauthenticatedError('unsupported Authorization scheme; use Bearer or Basic');
  }

  private async byToken(token: string, now: number): Promise<Resolved> {
    const row = await this.store.tokenByHash(sha256(token));
    if (!row || row.revoked_at !== null) throw new UnauthenticatedError('invalid or revoked token');
    if (row.expires_at !== null && row.expires_at <= now) throw new UnauthenticatedError('token expired');
    const user = await this.store.userById(row.user_id);
    if (!user || user.disabled) throw new UnauthenticatedError('the token owner is disabled');
    return { auth: { userId: user.id, username: user.username, isAdmin: user.is_admin === 1, tokenId: row.id }, user };
  }

  /** The caller's profile; served from the authentication cache when fresh (same staleness bound). */
  async whoami(auth: AuthContext | null) {
    const a = requireAuth(auth);
    const cached = this.profiles.get(a.userId);
    if (cached && cached.until > this.clock.now()) return { ...cached.profile, tokenId: a.tokenId };
    const user = await this.store.userById(a.userId);
    if (!user) throw new NotFoundError('user no longer exists');
    return { ...profileOf(user), tokenId: a.tokenId };
  }

  /** Creates an API token for the caller; the secret is returned once and only its hash is stored. */
  async createToken(auth: AuthContext | null, input: { name: string; expiresInDays?: number }) {
    const a = requireAuth(auth);
    const name = input.name.trim();
    if (!name) throw new InputError('name must not be blank', 'name');
    const expiresAt = input.expiresInDays ? this.clock.now() + input.expiresInDays * 86_400_000 : null;
    const secret = `${TOKEN_PREFIX}${newSecret()}`;
    const row = this.tokenRow(a.userId, name, secret, expiresAt);
    await this.store.insertToken(row);
    return { ...tokenView(row), token: secret };
  }

  async listTokens(auth: AuthContext | null): Promise<TokenView[]> {
    const a = requireAuth(auth);
    return (await this.store.tokensOfUser(a.userId)).map(tokenView);
  }

  async revokeToken(auth: AuthContext | null, id: string): Promise<void> {
    const a = requireAuth(auth);
    const ok = await this.store.revokeToken(id, a.isAdmin ? null : a.userId, this.clock.now());
    if (!ok) throw new NotFoundError(`no token ${id}`);
    for (const [key, entry] of this.cache) if (entry.auth.tokenId === id) this.cache.delete(key);
  }

  /** Writes the batched last-use times; called on an interval and at shutdown. */
  async flushTokenUses(): Promise<void> {
    if (this.pendingUses.size === 0) return;
    const uses = new Map(this.pendingUses);
    this.pendingUses.clear();
    await this.store.touchTokens(uses);
  }

  private dummyHash(): Promise<string> {
    this.dummy ??= hashPassword(randomBytes(16).toString('hex'));
    return this.dummy;
  }

  private tokenRow(userId: string, name: string, secret: string, expiresAt: number | null): TokenRow {
    const now = this.clock.now();
    return {
      id: newId(now),
      user_id: userId,
      name,
      token_hash: sha256(secret),
      prefix: secret.slice(0, TOKEN_PREFIX.length + 4),
      created_at: now,
      expires_at: expiresAt,
      last_used_at: null,
      revoked_at: null,
    };
  }
}
