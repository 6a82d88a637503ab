import type { Kysely, Selectable, Updateable } from 'kysely';
import type { ApiTokensTable, DB, SessionsTable, TeamsTable, UsersTable } from '../../db/schema.js';

export type UserRow = Selectable<UsersTable>;
export type TokenRow = Selectable<ApiTokensTable>;
export type SessionRow = Selectable<SessionsTable>;

export interface FirstAdmin {
  user: UserRow;
  token: TokenRow | null;
  team: Selectable<TeamsTable>;
  project: { id: string; name: string; display_name: string; description: string; created_at: number };
}

/** SQL for users, API tokens and browser sessions. `with(tx)` binds it to a transaction. */
export class IdentityStore {
  constructor(private readonly db: Kysely<DB>) {}

  with(tx: Kysely<DB>): IdentityStore {
    return new IdentityStore(tx);
  }

  async countUsers() {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  userById(id: string) {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  userByUsername(username: string) {
    return this.db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
  }

  listUsers(opts: { query?: string; includeDisabled: boolean; afterUsername?: string; limit: number }) {
    let q = this.db.selectFrom('users').selectAll();
    if (!opts.includeDisabled) q = q.where('disabled', '=', 0);
    if (opts.query) {
      const like = `%${opts.query.toLowerCase().replace(/[%_\\]/g, '')}%`;
      q = q.where((eb) => eb.or([eb('username', 'like', like), eb(eb.fn('lower', ['display_name']), 'like', like)]));
    }
    if (opts.afterUsername) q = q.where('username', '>', opts.afterUsername);
    return q.orderBy('username').limit(opts.limit).execute();
  }

  async insertUser(user: UserRow) {
    await this.db.insertInto('users').values(user).execute();
  }

  async updateUser(id: string, patch: Updateable<UsersTable>) {
    await this.db.updateTable('users').set(patch).where('id', '=', id).execute();
  }

  /**
   * Inserts the first admin, its optional token, the default team (admin as lead) and the default
   * project atomically, unless a user with that name exists. Returns false when another process
   * got there first (servers starting together on one store).
   */
  insertFirstAdmin(first: FirstAdmin) {
    return this.db.transaction().execute(async (tx) => {
      const inserted = await tx
        .insertInto('users')
        .values(first.user)
        .onConflict((oc) => oc.column('username').doNothing())
        .returning('id')
        .executeTakeFirst();
      if (!inserted) return false;
      if (first.token) await tx.insertInto('api_tokens').values(first.token).execute();
      await tx.insertInto('teams').values(first.team).execute();
      await tx
        .insertInto('team_members')
        .values({ team_id: first.team.id, user_id: first.user.id, role: 'lead', added_at: first.user.created_at })
        .execute();
      await tx
        .insertInto('projects')
        .values({ ...first.project, team_id: first.team.id, updated_at: first.project.created_at })
        .execute();
      return true;
    });
  }

  tokenByHash(hash: string) {
    return this.db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  }

  tokenById(id: string) {
    return this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async insertToken(token: TokenRow) {
    await this.db.insertInto('api_tokens').values(token).execute();
  }

  /** A user's tokens, newest first, with the name of the project each is scoped to. */
  tokensOfUser(userId: string) {
    return this.db
      .selectFrom('api_tokens as t')
      .leftJoin('projects as p', 'p.id', 't.project_id')
      .selectAll('t')
      .select('p.name as project_name')
      .where('t.user_id', '=', userId)
      .orderBy('t.id', 'desc')
      .execute();
  }

  /**
   * Counts the active admins and, inside a transaction, locks their rows until it ends (a no-op
   * update, which locks on both engines), so concurrent demotions take turns and each sees the
   * other's outcome: two admins demoting each other at once cannot leave none.
   */
  async lockActiveAdmins(): Promise<number> {
    const r = await this.db
      .updateTable('users')
      .set((eb) => ({ updated_at: eb.ref('updated_at') }))
      .where('is_admin', '=', 1)
      .where('disabled', '=', 0)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async revokeSessionsOfUserExcept(userId: string, keep: string | null, at: number) {
    let q = this.db
      .updateTable('sessions')
      .set({ revoked_at: at })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null);
    if (keep) q = q.where('id_hash', '!=', keep);
    await q.execute();
  }

  /** Revoking twice is fine: the first revocation time is kept. */
  async revokeToken(id: string, at: number) {
    await this.db
      .updateTable('api_tokens')
      .set((eb) => ({ revoked_at: eb.fn.coalesce('revoked_at', eb.val(at)) }))
      .where('id', '=', id)
      .execute();
  }

  /** Records last use of many tokens at once (batched off the request path). */
  async touchTokens(uses: Map<string, number>) {
    if (uses.size === 0) return;
    await this.db.transaction().execute(async (tx) => {
      for (const [id, at] of uses)
        await tx.updateTable('api_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
    });
  }

  async insertSession(s: SessionRow) {
    await this.db.insertInto('sessions').values(s).execute();
  }

  sessionByHash(idHash: string) {
    return this.db.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
  }

  async revokeSession(idHash: string, at: number) {
    await this.db
      .updateTable('sessions')
      .set({ revoked_at: at })
      .where('id_hash', '=', idHash)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /** Forgets sessions that ended long ago (keeps the table small). */
  async deleteSessionsEndedBefore(at: number) {
    await this.db
      .deleteFrom('sessions')
      .where((eb) => eb.or([eb('expires_at', '<', at), eb('revoked_at', '<', at)]))
      .execute();
  }
}
