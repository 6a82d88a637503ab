import { requireAuth, isPlatformAdmin, type Caller } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { ForbiddenError, InputError, NotFoundError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { AuditLog } from '../audit/log.js';
import type { AccessService } from '../projects/access.js';
import type { Authenticator } from './authenticator.js';
import { newTokenSecret, sha256, TOKEN_PREFIX } from './credentials.js';
import type { IdentityStore, TokenRow } from './store.js';
import { tokenView, type TokenView } from './views.js';

export interface CreateTokenInput {
  name: string;
  /** Confine the token to this project. */
  project?: string;
  expiresInDays?: number;
}

/** Builds a token row for `secret`; only its sha256 and a short prefix (for recognition) are kept. */
export function tokenRow(
  userId: string,
  name: string,
  secret: string,
  opts: { now: number; expiresAt: number | null; projectId: string | null },
): TokenRow {
  return {
    id: newId(opts.now),
    user_id: userId,
    name,
    token_hash: sha256(secret),
    prefix: secret.slice(0, TOKEN_PREFIX.length + 4),
    created_at: opts.now,
    expires_at: opts.expiresAt,
    last_used_at: null,
    revoked_at: null,
    project_id: opts.projectId,
  };
}

/** API tokens: created by their owner (shown once), listed, revoked. */
export class TokensService {
  constructor(
    private readonly store: IdentityStore,
    private readonly authenticator: Authenticator,
    private readonly access: AccessService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /** The caller's tokens; platform admins may list anyone's. */
  async list(caller: Caller, username?: string): Promise<TokenView[]> {
    const a = requireAuth(caller);
    let userId = a.userId;
    if (username !== undefined && username !== a.username) {
      this.access.requireAdmin(caller, 'token.list', { type: 'user', name: username }, false);
      const u = await this.store.userByUsername(username);
      if (!u) throw new NotFoundError(`no user "${username}"`);
      userId = u.id;
    }
    const tokens = await this.store.tokensOfUser(userId);
    // A project-scoped token sees (and may revoke) only the tokens of its own project.
    return tokens
      .filter((t) => a.projectId === null || t.project_id === a.projectId)
      .map((t) => tokenView(t, t.project_name));
  }

  /**
   * Creates a token for the caller. A token scoped to a project needs a role there; a caller using
   * a project-scoped token may only create tokens for that same project (no way to widen a scope).
   */
  async create(caller: Caller, input: CreateTokenInput): Promise<TokenView & { token: string }> {
    const a = requireAuth(caller);
    const name = input.name.trim();
    if (!name) throw new InputError('name must not be blank', 'name');
    let projectId: string | null = null;
    if (input.project !== undefined) {
      projectId = (await this.access.requireProject(caller, input.project, 'viewer', 'token.create')).project.id;
    } else if (a.projectId !== null) {
      this.audit.recordDenied(caller, 'token.create', { type: 'token', name }, 'unscoped token from a scoped one');
      throw new ForbiddenError('a project-scoped token can only create tokens for its own project; pass project');
    }
    const now = this.clock.now();
    const secret = newTokenSecret();
    const expiresAt = input.expiresInDays ? now + input.expiresInDays * 86_400_000 : null;
    const row = tokenRow(a.userId, name, secret, { now, expiresAt, projectId });
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).insertToken(row);
      record('token.create', { type: 'token', name: row.id }, { projectId, details: { name, expiresAt } });
    });
    return { ...tokenView(row, input.project ?? null), token: secret };
  }

  /** Revokes one of the caller's tokens (admins: anyone's). Revoking twice is fine. */
  async revoke(caller: Caller, id: string): Promise<void> {
    const a = requireAuth(caller);
    const row = await this.store.tokenById(id);
    const mine =
      row !== undefined && row.user_id === a.userId && (a.projectId === null || row.project_id === a.projectId);
    if (!row || (!mine && !isPlatformAdmin(a))) throw new NotFoundError(`no token ${id}`);
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).revokeToken(id, this.clock.now());
      record('token.revoke', { type: 'token', name: id }, { projectId: row.project_id });
    });
    this.authenticator.forget({ tokenId: id });
  }
}
