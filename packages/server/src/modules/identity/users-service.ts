import { randomBytes } from 'node:crypto';
import { requireAuth, type AuthContext, type Caller } from '../../core/auth.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError, InputError, NotFoundError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { rethrowUnique } from '../../db/dialect.js';
import { decodeCursor, encodeCursor, type Page } from '../../core/pagination.js';
import type { AuditLog } from '../audit/log.js';
import type { AccessService } from '../projects/access.js';
import type { TeamStore } from '../teams/store.js';
import type { Authenticator } from './authenticator.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { IdentityStore, UserRow } from './store.js';
import { userView, type UserView } from './views.js';

export const DEFAULT_TEAM = 'default';
export const DEFAULT_PROJECT = 'default';

export interface CreateUserInput {
  username: string;
  displayName?: string;
  email?: string | null;
  password?: string;
  isAdmin?: boolean;
}

export interface UpdateUserInput {
  displayName?: string;
  email?: string | null;
  isAdmin?: boolean;
  disabled?: boolean;
}

/** The answer of GET /api/v1/me: the user's view and the credential it came with. */
export type Me = UserView & { tokenId: string | null; projectId: string | null };

// The credential's fields first: on Node 20, V8 adds a property after a spread through a slow path
// (about 0.8 µs each), a third of what this most frequent request costs otherwise.
const meOf = (a: AuthContext, view: UserView): Me => ({ tokenId: a.tokenId, projectId: a.projectId, ...view });

/** People: the directory, profiles, passwords, and the admin's enable/disable switch. */
export class UsersService {
  /**
   * Profiles for whoami, the most frequent call of scripts and the portal, cached for the same
   * bounded time as credentials; changes made through this process clear the entry at once.
   */
  private readonly profiles = new Map<string, { view: UserView; until: number }>();

  constructor(
    private readonly store: IdentityStore,
    private readonly teams: TeamStore,
    private readonly authenticator: Authenticator,
    private readonly access: AccessService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly cacheTtlMs: number,
  ) {}

  /** Any signed-in user may browse the directory (to add colleagues to teams and projects). */
  async list(
    caller: Caller,
    q: { query?: string; includeDisabled?: boolean; limit?: number; cursor?: string },
  ): Promise<Page<UserView>> {
    const a = requireAuth(caller);
    const limit = q.limit ?? 100;
    const after = q.cursor ? String(decodeCursor(q.cursor, ['u']).u) : undefined;
    const rows = await this.store.listUsers({
      query: q.query,
      includeDisabled: q.includeDisabled ?? false,
      afterUsername: after,
      limit: limit + 1,
    });
    const items = rows.slice(0, limit).map((u) => userView(u, a));
    return { items, nextCursor: rows.length > limit ? encodeCursor({ u: items[items.length - 1]!.username }) : null };
  }

  async get(caller: Caller, username: string): Promise<UserView> {
    const a = requireAuth(caller);
    return userView(await this.byName(username), a);
  }

  /** Platform admins create accounts; without a password one is generated and returned once. */
  async create(caller: Caller, input: CreateUserInput): Promise<{ user: UserView; generatedPassword: string | null }> {
    const a = this.access.requireAdmin(caller, 'user.create', { type: 'user', name: input.username });
    const generated = input.password ? null : randomBytes(12).toString('base64url');
    const now = this.clock.now();
    const row: UserRow = {
      id: newId(now),
      username: input.username,
      display_name: input.displayName?.trim() || input.username,
      email: input.email ?? null,
      password_hash: await hashPassword(input.password ?? generated!),
      is_admin: input.isAdmin ? 1 : 0,
      disabled: 0,
      created_at: now,
      updated_at: now,
    };
    if (await this.store.userByUsername(row.username)) throw new ConflictError(`user "${row.username}" already exists`);
    await this.audit
      .change(caller, async (tx, record) => {
        await this.store.with(tx).insertUser(row);
        // New people can start at once: they join the default team, so they develop in the default project.
        const team = await this.teams.with(tx).byName(DEFAULT_TEAM);
        if (team) await this.teams.with(tx).setMember(team.id, row.id, 'member', now);
        record('user.create', { type: 'user', name: row.username }, { details: { isAdmin: row.is_admin === 1 } });
      })
      .catch(rethrowUnique(`user "${row.username}" already exists`));
    this.access.invalidate();
    return { user: userView(row, a), generatedPassword: generated };
  }

  /**
   * Users edit their own display name and email; platform admins also grant or take the admin flag
   * and disable or enable accounts. The last active admin can be neither demoted nor disabled.
   */
  async update(caller: Caller, username: string, input: UpdateUserInput): Promise<UserView> {
    const a = requireAuth(caller);
    const target = await this.byName(username);
    const privileged = input.isAdmin !== undefined || input.disabled !== undefined;
    if (privileged || target.id !== a.userId) {
      this.access.requireAdmin(caller, 'user.update', { type: 'user', name: username });
    }
    const losesAdmin =
      target.is_admin === 1 && target.disabled === 0 && (input.isAdmin === false || input.disabled === true);
    const patch = {
      ...(input.displayName !== undefined ? { display_name: input.displayName.trim() } : {}),
      ...(input.email !== undefined ? { email: input.email } : {}),
      ...(input.isAdmin !== undefined ? { is_admin: input.isAdmin ? 1 : 0 } : {}),
      ...(input.disabled !== undefined ? { disabled: input.disabled ? 1 : 0 } : {}),
      updated_at: this.clock.now(),
    };
    if (patch.display_name === '') throw new InputError('displayName must not be blank', 'displayName');
    await this.audit.change(caller, async (tx, record) => {
      if (losesAdmin && (await this.store.with(tx).lockActiveAdmins()) <= 1) {
        throw new ConflictError('this is the last active platform admin; make someone else admin first');
      }
      await this.store.with(tx).updateUser(target.id, patch);
      if (input.disabled === true)
        await this.store.with(tx).revokeSessionsOfUserExcept(target.id, null, patch.updated_at);
      const changed = Object.keys(input).filter((k) => input[k as keyof UpdateUserInput] !== undefined);
      const action =
        input.disabled === true ? 'user.disable' : input.disabled === false ? 'user.enable' : 'user.update';
      record(action, { type: 'user', name: username }, { details: { changed } });
    });
    this.profiles.delete(target.id);
    if (privileged) this.authenticator.forget({ userId: target.id });
    return userView({ ...target, ...patch }, a);
  }

  /**
   * Changes a password. Users must give their current one; admins resetting someone else's need
   * not. Every other session of that user ends.
   */
  async setPassword(
    caller: Caller,
    username: string,
    input: { currentPassword?: string; newPassword: string },
  ): Promise<void> {
    const a = requireAuth(caller);
    const target = await this.byName(username);
    if (target.id !== a.userId) {
      this.access.requireAdmin(caller, 'user.password', { type: 'user', name: username });
    } else {
      if (input.currentPassword === undefined) throw new InputError('give your current password', 'currentPassword');
      const ok = target.password_hash !== null && (await verifyPassword(input.currentPassword, target.password_hash));
      if (!ok) {
        this.audit.recordDenied(caller, 'user.password', { type: 'user', name: username }, 'wrong current password');
        // 400, not 401: the caller is signed in; clients must not mistake this for an ended session.
        throw new InputError('the current password is wrong', 'currentPassword');
      }
    }
    const hash = await hashPassword(input.newPassword);
    const now = this.clock.now();
    await this.audit.change(caller, async (tx, record) => {
      await this.store.with(tx).updateUser(target.id, { password_hash: hash, updated_at: now });
      await this.store.with(tx).revokeSessionsOfUserExcept(target.id, a.sessionId, now);
      record('user.password', { type: 'user', name: username });
    });
    this.authenticator.forget({ userId: target.id });
  }

  /**
   * The caller's own profile and the credential in use. Answered synchronously from the cache when
   * it is fresh: this is the most frequent authenticated request, and a promise (with the microtask
   * turns it takes in the route) costs as much as the rest of building the answer.
   */
  whoami(caller: Caller): Me | Promise<Me> {
    const a = requireAuth(caller);
    const cached = this.profiles.get(a.userId);
    if (cached && cached.until > this.clock.now()) return meOf(a, cached.view);
    return this.loadProfile(a).then((view) => meOf(a, view));
  }

  private async loadProfile(a: AuthContext): Promise<UserView> {
    const row = await this.store.userById(a.userId);
    if (!row) throw new NotFoundError('user no longer exists');
    // The view of oneself does not depend on the credential, so it is built once per fetch.
    const view = userView(row, a);
    if (this.cacheTtlMs > 0) {
      if (this.profiles.size >= 10_000) this.profiles.clear();
      this.profiles.set(a.userId, { view, until: this.clock.now() + this.cacheTtlMs });
    }
    return view;
  }

  private async byName(username: string): Promise<UserRow> {
    const u = await this.store.userByUsername(username);
    if (!u) throw new NotFoundError(`no user "${username}"`);
    return u;
  }
}
